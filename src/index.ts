/**
 * stride: convolutional neural networks in TypeScript. This is the browser-safe core; the Node
 * entry point (`node.ts`) re-exports it and adds the native backend, files, datasets and the CLI.
 */
export { Tensor } from './tensor/tensor.js';
export type { DType, NestedArray, Storage, TensorLike } from './tensor/tensor.js';
export {
  tensor,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  fullLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  randperm,
} from './tensor/creation.js';
export type { CreateOptions, RandomOptions } from './tensor/creation.js';
export { Generator, manualSeed, defaultGenerator } from './tensor/random.js';
export { noGrad, isGradEnabled, setGradEnabled, backwardCount } from './autograd/graph.js';
export { emptyStorageCache as emptyCache } from './tensor/storage.js';
export { doctor } from './doctor.js';
export type { DoctorWarning } from './doctor.js';
export { gradcheck } from './autograd/gradcheck.js';
export type { GradcheckOptions } from './autograd/gradcheck.js';
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
} from './ops/elementwise.js';
export { eq, ne, gt, ge, lt, le } from './ops/elementwise.js';
export { sum, mean, max, min, argmax, argmin } from './ops/reduce.js';
export { cat, stack, pad, reshape, flatten, permute, transpose } from './ops/shape.js';
export { matmul } from './ops/linalg.js';
export * as F from './ops/functional.js';
export { convOutputSize, poolOutputSize } from './ops/geometry.js';
export * as nn from './nn/index.js';
export { summary } from './nn/summary.js';
export * as optim from './optim/index.js';
export * as metrics from './metrics/index.js';
export { fit, evaluate, predict, History, callbacks } from './train/index.js';
export type { FitOptions, EvaluateOptions, Logs } from './train/index.js';
export * as data from './data/index.js';
export { getBackend, setBackend, backendInfo, availableBackends, registerBackend } from './backend/index.js';
export type { Backend, BackendInfo, BackendName } from './backend/index.js';
