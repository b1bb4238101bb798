/**
 * DataLoader: batches from a dataset as an async iterable, like torch.utils.data.DataLoader:
 *
 *   for await (const [x, y] of new DataLoader(trainSet, { batchSize: 64, shuffle: true, seed: 0 })) ...
 *
 * Batches are prepared `prefetch` ahead: batch k+1 (and k+2...) is started before batch k is handed
 * over, so asynchronous work (image decoding in sharp's threads, a worker pool) overlaps training.
 * In-memory datasets with `getBatch` (MNIST, TensorDataset) take a fast path: the whole batch in one
 * loop over the raw bytes, no per-sample tensors.
 *
 * Randomness: `seed` fixes the shuffle (a new permutation each epoch, drawn from (seed, epoch), so
 * the same seed gives the same sequence of epochs) and the augmentation: each sample's transform
 * gets its own generator derived from (seed, epoch, position), so results do not depend on timing,
 * prefetch depth or workers. Without a seed, one is drawn from the global generator at
 * construction (so `manualSeed` controls it).
 */
import { Generator, defaultGenerator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { checkDataset, hasBatchGetter, type DatasetLike } from './dataset.js';
import { defaultCollate } from './collate.js';
import { applyTransform, isTransformLike, type TransformLike } from './transform.js';

/** The batch type defaultCollate makes from a sample type: tensors and numbers become Tensors. */
export type Collated<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean
    ? Tensor
    : T extends string
      ? string[]
      : T extends readonly unknown[]
        ? { -readonly [K in keyof T]: Collated<T[K]> }
        : T extends object
          ? { [K in keyof T]: Collated<T[K]> }
          : never;

/**
 * Something that prepares whole batches elsewhere (e.g. the Node worker pool): given the dataset
 * indices of one batch and a seed for each sample's augmentation, it resolves to the collated batch.
 */
export interface BatchWorkers<B> {
  prepare(indices: Int32Array, seeds: Uint32Array): Promise<B | null>;
  /** Batches it can prepare at once (the loader prefetches at least this many). */
  readonly concurrency?: number;
  close?(): void | Promise<void>;
}

export interface DataLoaderOptions<T, B> {
  /** Samples per batch (default 1, as in PyTorch). */
  batchSize?: number;
  /** Reshuffle every epoch (default false). */
  shuffle?: boolean;
  /** Seeds the shuffle and the per-sample augmentation generators. */
  seed?: number;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Builds a batch from a list of samples (default: defaultCollate). */
  collate?: (samples: T[]) => B;
  /** Applied to each sample's input (the sample itself if it is a Tensor, else its element 0). */
  transform?: TransformLike;
  /** Batches prepared ahead of the one being consumed (default 2, or the workers' concurrency if more). */
  prefetch?: number;
  /** Prepares batches off the main thread (see `vision.createWorkerPool` in the Node entry). */
  workers?: BatchWorkers<B>;
}

export class DataLoader<T, B = Collated<T>> implements AsyncIterable<B> {
  readonly dataset: DatasetLike<T>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly prefetch: number;
  readonly seed: number;
  /**
   * Epochs started so far; the next iteration uses this epoch number. Each epoch's shuffle and
   * augmentation depend only on (seed, epoch), so setting it resumes a run exactly (like
   * DistributedSampler.set_epoch).
   */
  epoch = 0;
  private readonly collate: ((samples: T[]) => B) | null;
  private readonly transform: TransformLike | null;
  private readonly workers: BatchWorkers<B> | null;

  constructor(dataset: DatasetLike<T>, options: DataLoaderOptions<T, B> = {}) {
    checkDataset(dataset, 'DataLoader');
    const { batchSize = 1, shuffle = false, dropLast = false } = options;
    const prefetch = options.prefetch ?? Math.max(2, options.workers?.concurrency ?? 0);
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (!Number.isInteger(prefetch) || prefetch < 1) {
      throw new Error(`DataLoader: prefetch must be a positive integer, got ${prefetch}`);
    }
    if (options.seed !== undefined && !Number.isFinite(options.seed)) {
      throw new Error(`DataLoader: seed must be a finite number, got ${options.seed}`);
    }
    if (options.collate !== undefined && typeof options.collate !== 'function') {
      throw new Error('DataLoader: collate must be a function (samples) => batch');
    }
    if (options.transform !== undefined && !isTransformLike(options.transform)) {
      throw new Error('DataLoader: transform must be a function or an object with apply(input, generator)');
    }
    if (options.workers !== undefined && (options.transform !== undefined || options.collate !== undefined)) {
      throw new Error(
        'DataLoader: with workers, put the transform in the dataset the worker module builds; ' +
          'transform and collate functions cannot be sent to other threads',
      );
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.prefetch = prefetch;
    this.seed = options.seed ?? defaultGenerator.nextUint32();
    this.collate = options.collate ?? null;
    this.transform = options.transform ?? null;
    this.workers = options.workers ?? null;
  }

  /** Number of batches per epoch, like len(loader). */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The dataset indices of one epoch, in order. */
  private epochOrder(epoch: number): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return new Generator(mix32(this.seed >>> 0, 0x7fff0000 + epoch)).permutation(n);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return order;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<B, void, undefined> {
    const epoch = this.epoch++;
    if (!Number.isInteger(epoch) || epoch < 0) {
      throw new Error(`DataLoader: epoch must be a non-negative integer, got ${epoch}`);
    }
    const order = this.epochOrder(epoch);
    const numBatches = this.length;
    const pending: Promise<B | null>[] = [];
    let next = 0;
    const launch = (): void => {
      while (pending.length < this.prefetch && next < numBatches) {
        const start = next * this.batchSize;
        const indices = order.subarray(start, Math.min(start + this.batchSize, order.length));
        const p = this.makeBatch(indices, epoch, start);
        p.catch(() => undefined); // rejections surface when awaited below, not as unhandled
        pending.push(p);
        next++;
      }
    };
    launch();
    while (pending.length > 0) {
      const batch = await pending.shift()!;
      launch();
      if (batch !== null) yield batch;
    }
  }

  /** Seed for the sample at `position` of epoch `epoch`'s order. */
  sampleSeed(epoch: number, position: number): number {
    return mix32(mix32(this.seed >>> 0, epoch), position);
  }

  private async makeBatch(indices: Int32Array, epoch: number, start: number): Promise<B | null> {
    if (this.workers !== null) {
      const seeds = new Uint32Array(indices.length);
      for (let k = 0; k < indices.length; k++) seeds[k] = this.sampleSeed(epoch, start + k);
      return this.workers.prepare(indices.slice(), seeds);
    }
    if (this.transform === null && this.collate === null && hasBatchGetter(this.dataset)) {
      const fast = this.dataset.getBatch(indices);
      if (fast !== null) return fast as B;
    }
    const results: (T | null | Promise<T | null>)[] = new Array(indices.length);
    let anyAsync = false;
    for (let k = 0; k < indices.length; k++) {
      const g = new Generator(this.sampleSeed(epoch, start + k));
      const r = this.dataset.get(indices[k], g);
      if (r instanceof Promise) {
        anyAsync = true;
        results[k] = this.transform === null ? r : r.then((s) => this.transformSample(s, g));
      } else {
        results[k] = this.transformSample(r, g);
      }
    }
    const samples = (anyAsync ? await Promise.all(results) : (results as (T | null)[])).filter(
      (s): s is T => s !== null && s !== undefined,
    );
    if (samples.length === 0) return null;
    return this.collate !== null ? this.collate(samples) : (defaultCollate(samples) as B);
  }

  private transformSample(sample: T | null, g: Generator): T | null {
    if (this.transform === null || sample === null || sample === undefined) return sample;
    if (sample instanceof Tensor) return applyTransform(this.transform, sample, g) as T;
    if (Array.isArray(sample)) {
      const out = [...sample];
      out[0] = applyTransform(this.transform, sample[0], g);
      return out as T;
    }
    return applyTransform(this.transform, sample, g) as T;
  }

  /** Releases the worker pool, if any. */
  async close(): Promise<void> {
    await this.workers?.close?.();
  }
}

/** A 32-bit mixing hash of (a, b) (murmur3's finaliser over a combined word). */
export function mix32(a: number, b: number): number {
  let h = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(b + 0x632be5ab, 0xc2b2ae35)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
