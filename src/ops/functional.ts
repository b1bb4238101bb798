/**
 * `F`: the functional ops, like torch.nn.functional. Each family lives in its own file; this
 * module only gathers them under one namespace.
 */
export {
  add,
  sub,
  mul,
  div,
  pow,
  neg,
  abs,
  exp,
  log,
  sqrt,
  clamp,
  maximum,
  minimum,
  where,
} from './elementwise.js';
export { sum, mean, max, min, variance as var, argmax, argmin } from './reduce.js';
export {
  reshape,
  flatten,
  unflatten,
  squeeze,
  unsqueeze,
  permute,
  transpose,
  expand,
  slice,
  indexSelect,
  select,
  cat,
  stack,
  pad,
} from './shape.js';
export { matmul } from './linalg.js';
export { conv1d, conv2d, conv3d, convTranspose2d } from './conv.js';
export type { ConvOptions, ConvTransposeOptions } from './conv.js';
export {
  maxPool1d,
  maxPool2d,
  maxPool3d,
  avgPool1d,
  avgPool2d,
  avgPool3d,
  adaptiveAvgPool2d,
  adaptiveMaxPool2d,
} from './pool.js';
export type { MaxPoolOptions, AvgPoolOptions } from './pool.js';
export { convOutputSize, poolOutputSize } from './geometry.js';
export { batchNorm } from './norm.js';
export type { BatchNormOptions } from './norm.js';
export { relu, leakyRelu, sigmoid, tanh, gelu, elu, softmax, logSoftmax } from './activation.js';
export { crossEntropy, nllLoss, mseLoss, l1Loss, bceLoss, bceWithLogitsLoss } from './loss.js';
export type { Reduction, CrossEntropyOptions, NllLossOptions } from './loss.js';
export { dropout } from './dropout.js';
export type { DropoutOptions } from './dropout.js';
export { linear } from './linear.js';
export { interpolate } from './interpolate.js';
export type { InterpolateOptions } from './interpolate.js';
