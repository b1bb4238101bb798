/** Every callback, the file-writing ones included (Node). */
export * from './index.js';
export { ModelCheckpoint, formatPath, type ModelCheckpointOptions } from './model-checkpoint.js';
export { CSVLogger } from './csv-logger.js';
