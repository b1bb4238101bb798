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
