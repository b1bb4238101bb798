/** Subset: a view of a dataset at given indices, like torch.utils.data.Subset (randomSplit's parts). */
import type { Generator } from '../tensor/random.js';
import {
  checkDataset,
  checkIndex,
  Dataset,
  hasBatchGetter,
  type BatchGetter,
  type DatasetLike,
  type MaybeSample,
} from './dataset.js';

export class Subset<T> extends Dataset<T> implements BatchGetter {
  readonly dataset: DatasetLike<T>;
  readonly indices: Int32Array;

  constructor(dataset: DatasetLike<T>, indices: ArrayLike<number>) {
    super();
    checkDataset(dataset, 'Subset');
    for (let k = 0; k < indices.length; k++) checkIndex(indices[k], dataset.length, `Subset: indices[${k}]`);
    this.dataset = dataset;
    this.indices = Int32Array.from(indices, (i) => (i < 0 ? i + dataset.length : i));
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number, generator?: Generator): MaybeSample<T> {
    return this.dataset.get(this.indices[checkIndex(index, this.length, 'Subset.get')], generator);
  }

  /** Forwards the fast path when the underlying dataset has one. */
  getBatch(indices: ArrayLike<number>): unknown {
    if (!hasBatchGetter(this.dataset)) return null;
    const mapped = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++)
      mapped[k] = this.indices[checkIndex(indices[k], this.length, 'Subset.getBatch')];
    return this.dataset.getBatch(mapped);
  }
}
