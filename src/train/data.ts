/**
 * The data fit(), evaluate() and predict() accept, turned into batch iterables: a pair of tensors
 * `[x, y]`, a Dataset (anything with `length` and `get(i)`), or a DataLoader (used as given).
 */
import { DataLoader } from '../data/dataloader.js';
import { Subset } from '../data/subset.js';
import { TensorDataset } from '../data/tensor-dataset.js';
import type { DatasetLike } from '../data/dataset.js';
import { Tensor } from '../tensor/tensor.js';

/** A batch iterable with a known number of batches (a DataLoader, or anything shaped like one). */
export interface BatchSource {
  readonly length: number;
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
}

export type DataInput = readonly [Tensor, Tensor] | Tensor | DatasetLike<unknown> | BatchSource;

export type Resolved =
  | { kind: 'dataset'; dataset: DatasetLike<unknown> }
  | { kind: 'loader'; loader: BatchSource; samples: number | undefined };

export function resolveData(where: string, arg: string, data: unknown): Resolved {
  if (data instanceof Tensor) return { kind: 'dataset', dataset: new TensorDataset(data) };
  if (Array.isArray(data)) {
    if (data.length >= 2 && data.every((t) => t instanceof Tensor)) {
      const [x, y] = data as Tensor[];
      if (x.shape[0] !== y.shape[0]) {
        throw new Error(
          `${where}: ${arg} inputs have ${x.shape[0]} samples (shape [${x.shape}]) but targets have ${y.shape[0]} (shape [${y.shape}])`,
        );
      }
      return { kind: 'dataset', dataset: new TensorDataset(...(data as Tensor[])) };
    }
    throw new Error(
      `${where}: ${arg} as an array must be [inputs, targets] tensors, got an array of ${data.length}`,
    );
  }
  if (typeof data === 'object' && data !== null) {
    const d = data as Record<string | symbol, unknown>;
    if (typeof d[Symbol.asyncIterator] === 'function' && typeof d.length === 'number') {
      const inner = (d as { dataset?: { length?: unknown } }).dataset;
      const samples = typeof inner?.length === 'number' ? inner.length : undefined;
      return { kind: 'loader', loader: data as BatchSource, samples };
    }
    if (typeof d.get === 'function' && Number.isInteger(d.length)) {
      return { kind: 'dataset', dataset: data as DatasetLike<unknown> };
    }
  }
  throw new Error(
    `${where}: ${arg} must be [inputs, targets] tensors, a Dataset (length + get) or a DataLoader, got ${describe(data)}`,
  );
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return x.constructor?.name ?? 'an object';
}

/**
 * Splits off the last `fraction` of a dataset for validation (Keras's validationSplit: the last
 * samples, before any shuffling; so shuffle the data first if it is ordered by class).
 */
export function splitLast(
  where: string,
  dataset: DatasetLike<unknown>,
  fraction: number,
): [DatasetLike<unknown>, DatasetLike<unknown>] {
  if (!(fraction > 0 && fraction < 1)) {
    throw new Error(
      `${where}: validationSplit must be a fraction between 0 and 1 (exclusive), got ${fraction}`,
    );
  }
  const n = dataset.length;
  const nVal = Math.floor(n * fraction);
  if (nVal === 0 || nVal === n) {
    throw new Error(
      `${where}: validationSplit ${fraction} of ${n} samples leaves an empty training or validation set`,
    );
  }
  const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);
  return [new Subset(dataset, range(0, n - nVal)), new Subset(dataset, range(n - nVal, n))];
}

export function loaderFor(
  resolved: Resolved,
  options: { batchSize: number; shuffle: boolean; seed?: number },
): { loader: BatchSource; samples: number | undefined } {
  if (resolved.kind === 'loader') return { loader: resolved.loader, samples: resolved.samples };
  // An unshuffled loader gets a fixed seed so that it does not draw from the global generator: fit()
  // then consumes random numbers exactly as the equivalent manual loop does.
  const loader = new DataLoader(resolved.dataset, {
    batchSize: options.batchSize,
    shuffle: options.shuffle,
    seed: options.seed ?? (options.shuffle ? undefined : 0),
  }) as unknown as BatchSource;
  return { loader, samples: resolved.dataset.length };
}

/** A batch as [input, target?]: validates what the loader gave. */
export function splitBatch(where: string, batch: unknown, needTarget: boolean): [Tensor, Tensor | null] {
  if (batch instanceof Tensor) {
    if (needTarget) throw new Error(`${where}: batches must be [inputs, targets], got a single tensor`);
    return [batch, null];
  }
  if (Array.isArray(batch) && batch[0] instanceof Tensor) {
    const y = batch[1];
    if (needTarget && !(y instanceof Tensor)) {
      throw new Error(`${where}: batches must be [inputs, targets] tensors, got an array of ${batch.length}`);
    }
    return [batch[0], y instanceof Tensor ? y : null];
  }
  throw new Error(`${where}: batches must be [inputs, targets] tensors, got ${describe(batch)}`);
}
