/** ConcatDataset: datasets one after another, like torch.utils.data.ConcatDataset. */
import type { Generator } from '../tensor/random.js';
import { checkDataset, checkIndex, Dataset, type DatasetLike, type MaybeSample } from './dataset.js';

export class ConcatDataset<T> extends Dataset<T> {
  readonly datasets: DatasetLike<T>[];
  /** cumulativeSizes[k] = total length of datasets 0..k, as in PyTorch. */
  readonly cumulativeSizes: number[];

  constructor(datasets: readonly DatasetLike<T>[]) {
    super();
    if (!Array.isArray(datasets) || datasets.length === 0) {
      throw new Error('ConcatDataset: expected a non-empty array of datasets');
    }
    datasets.forEach((d, k) => checkDataset(d, `ConcatDataset: datasets[${k}]`));
    this.datasets = [...datasets];
    let total = 0;
    this.cumulativeSizes = this.datasets.map((d) => (total += d.length));
  }

  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1];
  }

  get(index: number, generator?: Generator): MaybeSample<T> {
    const i = checkIndex(index, this.length, 'ConcatDataset.get');
    // binary search for the first cumulative size above i
    let lo = 0;
    let hi = this.cumulativeSizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulativeSizes[mid] > i) hi = mid;
      else lo = mid + 1;
    }
    const offset = lo === 0 ? 0 : this.cumulativeSizes[lo - 1];
    return this.datasets[lo].get(i - offset, generator);
  }
}
