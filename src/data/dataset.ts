/**
 * Dataset: PyTorch's map-style dataset, spelled for TypeScript. `length` plus `get(index)`; `get`
 * may be async (file-backed datasets decode images off the main thread) and may return null for a
 * sample that cannot be read (a corrupt image), which the DataLoader skips.
 */
import type { Generator } from '../tensor/random.js';

/** What `get` may return: the sample, a promise of it, or null for a sample to skip. */
export type MaybeSample<T> = T | null | Promise<T | null>;

/**
 * Anything with `length` and `get(index)` is a dataset (structural typing: a plain object works).
 * `generator` is the random stream a dataset's transform should draw from; the DataLoader passes
 * one derived from its seed, so a seeded run augments identically whatever the prefetch order.
 */
export interface DatasetLike<T> {
  readonly length: number;
  get(index: number, generator?: Generator): MaybeSample<T>;
}

/**
 * A fast path for in-memory datasets: the whole batch in one tight loop, with no per-sample Tensor
 * objects. Returns the collated batch (the same value defaultCollate would build from the samples),
 * or null when the dataset cannot take the fast path (e.g. it has a transform).
 */
export interface BatchGetter<B = unknown> {
  getBatch(indices: ArrayLike<number>): B | null;
}

export function hasBatchGetter(ds: unknown): ds is BatchGetter {
  return typeof (ds as Partial<BatchGetter>).getBatch === 'function';
}

/** Base class for datasets, like torch.utils.data.Dataset; extend it and implement both members. */
export abstract class Dataset<T> implements DatasetLike<T> {
  abstract readonly length: number;
  abstract get(index: number, generator?: Generator): MaybeSample<T>;
}

/** Validates an index against a dataset's length, naming the dataset in the error. */
export function checkIndex(index: number, length: number, where: string): number {
  if (!Number.isInteger(index)) throw new Error(`${where}: index must be an integer, got ${index}`);
  const i = index < 0 ? index + length : index;
  if (i < 0 || i >= length) {
    throw new Error(`${where}: index ${index} is out of range for a dataset of length ${length}`);
  }
  return i;
}

/** Checks that `ds` looks like a dataset (length + get), naming the caller in the error. */
export function checkDataset(ds: unknown, where: string): void {
  const d = ds as Partial<DatasetLike<unknown>> | null;
  if (d === null || typeof d !== 'object' || typeof d.get !== 'function' || !Number.isInteger(d.length)) {
    throw new Error(
      `${where}: expected a dataset (an object with an integer length and get(index)), got ${describe(ds)}`,
    );
  }
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (typeof x === 'object')
    return `an object without ${'get' in (x as object) ? 'an integer length' : 'get()'}`;
  return typeof x;
}
