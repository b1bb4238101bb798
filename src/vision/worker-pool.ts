/**
 * A worker_threads pool that prepares whole DataLoader batches off the main thread (Node only).
 * Functions cannot cross threads, so each worker builds its own copy of the dataset (with its
 * transform) by importing a module you name and calling one of its exports:
 *
 *   // data.ts
 *   export function trainSet() { return new vision.MNIST({ transform: new RandomAffine(15, ...) }); }
 *   // train.ts
 *   const workers = await createWorkerPool({ module: new URL('./data.ts', import.meta.url), export: 'trainSet' });
 *   const loader = new DataLoader(trainSet(), { batchSize: 64, shuffle: true, seed: 0, workers });
 *   ...
 *   await workers.close();
 *
 * The loader sends each batch's indices with one seed per sample, the same seeds it would use in
 * process, so batches are identical with or without workers. Batches come back as transferred
 * buffers (no copy). Idle workers do not keep the process alive.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { Tensor } from '../tensor/tensor.js';
import type { BatchWorkers } from '../data/dataloader.js';

export interface WorkerPoolOptions {
  /** The module that builds the dataset (a path or file URL), imported inside each worker. */
  module: string | URL;
  /** The export to call (default 'default'); it may return the dataset or a promise of it. */
  export?: string;
  /** Arguments for that function (structured-cloneable). */
  args?: unknown[];
  /** Number of workers (default: CPU cores − 1, at least 1). */
  workers?: number;
}

/** A batch crossing threads: tensors become { $tensor: [data, shape] }. */
export type Encoded = unknown;

export function encodeBatch(value: unknown, transfer: ArrayBuffer[]): Encoded {
  if (value instanceof Tensor) {
    transfer.push(value.data.buffer as ArrayBuffer);
    return { $tensor: [value.data, value.shape] };
  }
  if (Array.isArray(value)) return value.map((v) => encodeBatch(v, transfer));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeBatch(v, transfer)]));
  }
  return value;
}

export function decodeBatch(value: Encoded): unknown {
  if (Array.isArray(value)) return value.map(decodeBatch);
  if (value !== null && typeof value === 'object') {
    const t = (value as { $tensor?: [Float32Array | Int32Array, number[]] }).$tensor;
    if (t) return new Tensor(t[0], t[1]);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeBatch(v)]));
  }
  return value;
}

interface Job {
  id: number;
  indices: Int32Array;
  seeds: Uint32Array;
  resolve: (b: unknown) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export class WorkerPool<B = unknown> implements BatchWorkers<B> {
  readonly concurrency: number;
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;
  private failure: Error | null = null;
  private hold: ReturnType<typeof setInterval> | null = null;

  private constructor(slots: Slot[]) {
    this.slots = slots;
    this.concurrency = slots.length;
    for (const slot of slots) {
      slot.worker.on('message', (msg: { id: number; batch?: Encoded; error?: string }) => {
        const job = slot.job;
        slot.job = null;
        if (job && job.id === msg.id) {
          if (msg.error !== undefined) job.reject(new Error(`DataLoader worker: ${msg.error}`));
          else job.resolve(decodeBatch(msg.batch));
        }
        this.pump();
      });
      slot.worker.on('error', (e) => this.fail(new Error(`DataLoader worker crashed: ${e.message}`)));
      slot.worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`DataLoader worker exited unexpectedly (code ${code})`));
      });
    }
  }

  /** Starts the workers and waits until each has built its dataset (errors there are reported here). */
  static async create<B = unknown>(options: WorkerPoolOptions): Promise<WorkerPool<B>> {
    const module = options.module instanceof URL ? options.module.href : options.module;
    if (typeof module !== 'string' || module === '') {
      throw new Error(
        'createWorkerPool: module must be a path or file URL of the module that builds the dataset',
      );
    }
    const n = options.workers ?? Math.max(1, availableParallelism() - 1);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`createWorkerPool: workers must be a positive integer, got ${n}`);
    const workerData = { module, exportName: options.export ?? 'default', args: options.args ?? [] };
    const spawn = workerSpawner();
    const slots = await Promise.all(
      Array.from({ length: n }, async () => {
        const worker = spawn(workerData);
        await new Promise<void>((resolve, reject) => {
          const onMessage = (msg: { ready?: boolean; error?: string }) => {
            worker.off('error', onError);
            if (msg.ready) resolve();
            else reject(new Error(`createWorkerPool: ${msg.error}`));
          };
          worker.once('exit', (code) =>
            reject(new Error(`createWorkerPool: worker exited (code ${code}) before building the dataset`)),
          );
          const onError = (e: Error) =>
            reject(new Error(`createWorkerPool: worker failed to start: ${e.message}`));
          worker.once('message', onMessage);
          worker.once('error', onError);
        }).catch(async (e) => {
          await worker.terminate();
          throw e;
        });
        worker.unref();
        return { worker, job: null } as Slot;
      }),
    );
    return new WorkerPool<B>(slots);
  }

  prepare(indices: Int32Array, seeds: Uint32Array): Promise<B> {
    if (this.closed) return Promise.reject(new Error('DataLoader workers: the pool is closed'));
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<B>((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        indices,
        seeds,
        resolve: resolve as (b: unknown) => void,
        reject,
      });
      this.pump();
    });
  }

  private pump(): void {
    this.holdWhileBusy();
    for (const slot of this.slots) {
      if (this.queue.length === 0) break;
      if (slot.job !== null) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.postMessage({ id: job.id, indices: job.indices, seeds: job.seeds }, [
        job.indices.buffer as ArrayBuffer,
        job.seeds.buffer as ArrayBuffer,
      ]);
    }
    this.holdWhileBusy();
  }

  /**
   * Workers stay unref'd (an idle pool must not keep the process alive); while batches are in
   * flight a timer holds the event loop instead, since worker.ref()/unref() toggling proved racy.
   */
  private holdWhileBusy(): void {
    const busy = this.queue.length > 0 || this.slots.some((s) => s.job !== null);
    if (busy && this.hold === null) this.hold = setInterval(() => undefined, 1000);
    else if (!busy && this.hold !== null) {
      clearInterval(this.hold);
      this.hold = null;
    }
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const job of [...this.slots.map((s) => s.job), ...this.queue.splice(0)]) job?.reject(e);
    for (const s of this.slots) s.job = null;
    this.holdWhileBusy();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error('DataLoader workers: the pool was closed'));
    // idle workers are unref'd, and the exit of an unref'd worker does not hold the event loop
    // (ref() just before terminate() is not enough on Node 20), so a timer holds it until they are gone
    const hold = setInterval(() => undefined, 1000);
    try {
      await Promise.all(this.slots.map((s) => s.worker.terminate()));
    } finally {
      clearInterval(hold);
    }
  }
}

/**
 * How to start a worker: the entry sits next to this file, .js once built; run from TypeScript
 * sources (tsx), Node 20 does not apply the parent's `--import tsx` hooks to a worker's entry, so a
 * tiny bootstrap registers tsx in the worker first.
 */
function workerSpawner(): (workerData: unknown) => Worker {
  if (!import.meta.url.endsWith('.ts')) {
    const entry = new URL('./worker-entry.js', import.meta.url);
    return (workerData) => new Worker(entry, { workerData });
  }
  const entry = new URL('./worker-entry.ts', import.meta.url).href;
  let api: string;
  try {
    api = import.meta.resolve('tsx/esm/api');
  } catch {
    throw new Error('createWorkerPool: running from .ts sources needs tsx installed to load the workers');
  }
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return (workerData) => new Worker(code, { eval: true, workerData });
}

export function createWorkerPool<B = unknown>(options: WorkerPoolOptions): Promise<WorkerPool<B>> {
  return WorkerPool.create<B>(options);
}
