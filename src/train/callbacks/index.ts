/** The browser-safe callbacks (ModelCheckpoint and CSVLogger write files: see train/node.ts). */
export { Callback, type TrainingContext, type TrainableModel, type OptimizerLike } from './callback.js';
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauCallbackOptions } from './reduce-lr-on-plateau.js';
export { TerminateOnNaN } from './terminate-on-nan.js';
export { LambdaCallback, type LambdaCallbackHooks } from './lambda.js';
