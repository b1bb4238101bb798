/**
 * TensorDataset: samples are rows of tensors that share their first dimension, like
 * torch.utils.data.TensorDataset. `get(i)` gives `[x[i], y[i], ...]`; batches are gathered row by
 * row straight into one buffer per tensor (the DataLoader's fast path).
 */
import { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';
import { checkIndex, Dataset, type BatchGetter } from './dataset.js';

export class TensorDataset extends Dataset<Tensor[]> implements BatchGetter<Tensor[]> {
  readonly tensors: Tensor[];
  readonly length: number;

  constructor(...tensors: Tensor[]) {
    super();
    if (tensors.length === 0) throw new Error('TensorDataset: expected at least one tensor');
    tensors.forEach((t, k) => {
      if (!(t instanceof Tensor)) throw new Error(`TensorDataset: argument ${k} is not a Tensor`);
      if (t.ndim === 0)
        throw new Error(`TensorDataset: tensor ${k} is 0-d; it needs a first (sample) dimension`);
      if (t.shape[0] !== tensors[0].shape[0]) {
        throw new Error(
          `TensorDataset: size mismatch between tensors: tensor 0 has ${tensors[0].shape[0]} samples ` +
            `(shape ${formatShape(tensors[0].shape)}) but tensor ${k} has ${t.shape[0]} (shape ${formatShape(t.shape)})`,
        );
      }
    });
    this.tensors = tensors;
    this.length = tensors[0].shape[0];
  }

  get(index: number): Tensor[] {
    const i = checkIndex(index, this.length, 'TensorDataset.get');
    return this.tensors.map((t) => {
      const row = t.data.length / t.shape[0];
      return new Tensor(t.data.slice(i * row, (i + 1) * row), t.shape.slice(1));
    });
  }

  getBatch(indices: ArrayLike<number>): Tensor[] {
    const n = indices.length;
    return this.tensors.map((t) => {
      const row = t.data.length / t.shape[0];
      const out = t.dtype === 'int32' ? new Int32Array(n * row) : new Float32Array(n * row);
      for (let k = 0; k < n; k++) {
        const i = checkIndex(indices[k], this.length, 'TensorDataset.getBatch');
        out.set(t.data.subarray(i * row, (i + 1) * row), k * row);
      }
      return new Tensor(out, [n, ...t.shape.slice(1)]);
    });
  }
}
