/** Uninitialized-by-contract storage for parameters that an init function fills right after. */
import { Tensor } from '../tensor/tensor.js';

export function empty(shape: readonly number[]): Tensor {
  let n = 1;
  for (const s of shape) n *= s;
  return new Tensor(new Float32Array(n), shape);
}
