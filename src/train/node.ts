/**
 * The Node side of training: the terminal progress bar (made fit()'s default here), and the
 * callbacks that write files. The Node entry point imports this module:
 *   export { callbacks, TerminalProgress } from './train/node.js';
 */
import { setDefaultProgress } from './fit.js';
import { TerminalProgress } from './progress.js';

setDefaultProgress((verbose) => new TerminalProgress({ verbose }));

export { TerminalProgress } from './progress.js';
export * as callbacks from './callbacks/node.js';
export { ModelCheckpoint } from './callbacks/model-checkpoint.js';
export { CSVLogger } from './callbacks/csv-logger.js';
