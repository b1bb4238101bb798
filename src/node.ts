/**
 * The Node entry point (`import * as st from 'stride'` under Node): the browser-safe core plus the
 * native backend, files (safetensors, checkpoints), datasets read from disk and image I/O.
 *
 * Backend choice: STRIDE_BACKEND=js|native when set (an unavailable 'native' is an error);
 * otherwise native when the addon loads, else js — saying so once.
 */
import { registerBackend, setBackend, tryBackend } from './backend/index.js';
import { createNativeBackend, nativeLoadError } from './backend/native/index.js';

registerBackend('native', createNativeBackend);

const requested = process.env.STRIDE_BACKEND;
if (requested === 'js' || requested === 'native') {
  setBackend(requested);
} else if (requested !== undefined && requested !== '') {
  throw new Error(`STRIDE_BACKEND must be 'js' or 'native', got '${requested}'`);
} else if (tryBackend('native')) {
  setBackend('native');
} else {
  const why = nativeLoadError();
  process.emitWarning(
    `stride: the native addon is not available${why ? ` (${why})` : ''}; running on the js backend (slower). ` +
      'Rebuild it with `npm rebuild stride` where a C++ compiler is installed.',
  );
}

export * from './index.js';
// Training's Node side: the terminal progress bar as fit()'s default; file-writing callbacks.
export { callbacks, TerminalProgress } from './train/node.js';
export { setNativeThreads } from './backend/native/index.js';
export * as io from './io/index.js';
export * as viz from './viz/index.js';
export * as vision from './vision/index.js';
export { save, load, saveCheckpoint, loadCheckpoint } from './io/index.js';
export { saveSync, loadSync, saveCheckpointSync, loadCheckpointSync, writeFileAtomic } from './io/index.js';
export { saveModel, loadModel, loadModelWithInfo } from './io/architecture.js';
