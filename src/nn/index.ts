/**
 * `nn`: modules and layers, like torch.nn. `nn.init` holds the initializers;
 * the functional forms of every layer are in `F`.
 */
export { Module, typeName } from './module.js';
export type {
  ForwardHook,
  RemovableHandle,
  LoadStateDictOptions,
  LoadStateDictResult,
  StateDict,
} from './module.js';
export { Parameter } from './parameter.js';
export { ShapeError } from './errors.js';
export { Sequential, ModuleList, ModuleDict } from './container.js';
export { setFusion, fusionEnabled } from './fusion.js';
export { _ConvNd, Conv1d, Conv2d, Conv3d, ConvTranspose2d } from './conv.js';
export type { ConvOptions, ConvTransposeOptions, PaddingMode } from './conv.js';
export {
  MaxPool1d,
  MaxPool2d,
  MaxPool3d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  AdaptiveMaxPool2d,
} from './pooling.js';
export type { MaxPoolOptions, AvgPoolOptions, AdaptiveSize } from './pooling.js';
export { _BatchNorm, BatchNorm1d, BatchNorm2d } from './normalization.js';
export type { BatchNormOptions } from './normalization.js';
export { Dropout } from './dropout.js';
export { Linear, Identity } from './linear.js';
export type { LinearOptions } from './linear.js';
export { Flatten, Unflatten } from './flatten.js';
export { ReLU, LeakyReLU, Sigmoid, Tanh, GELU, ELU, Softmax, LogSoftmax } from './activation.js';
export { Upsample } from './upsample.js';
export type { UpsampleOptions } from './upsample.js';
export { CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, BCELoss, BCEWithLogitsLoss } from './loss.js';
export type { CrossEntropyLossOptions, NLLLossOptions } from './loss.js';
export * as init from './init.js';
export { summary, summaryRows } from './summary.js';
export type { SummaryRow, SummaryData, SummaryOptions } from './summary.js';
