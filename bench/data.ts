/**
 * Data pipeline throughput: how many MNIST images per second the DataLoader delivers, plain (the
 * in-memory fast path) and with the course notebooks' augmentation (RandomAffine: rotation 15°,
 * shifts 0.1, zoom 0.2, shear 0.1, then Normalize), to compare with training throughput: data
 * must never be the bottleneck.
 *
 * Run alone (`node --import tsx bench/data.ts`) it also measures what a training loop waits for
 * data (a simulated step of fixed CPU time per batch) in process and with a worker pool, and the
 * decode rate of a folder of JPEGs through ImageFolder (sharp).
 */
import { pathToFileURL } from 'node:url';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import sharp from 'sharp';
import { DataLoader } from '../src/data/dataloader.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { MNIST } from '../src/vision/mnist.js';
import { ImageFolder } from '../src/vision/image-folder.js';
import { createWorkerPool } from '../src/vision/worker-pool.js';
import { RandomAffine } from '../src/vision/transforms/affine.js';
import { RandomHorizontalFlip } from '../src/vision/transforms/flip.js';
import { Compose } from '../src/vision/transforms/compose.js';
import { Normalize } from '../src/vision/transforms/normalize.js';

export interface DataBenchResult {
  plainImgS: number;
  augmentedImgS: number;
}

export interface DataBenchOptions {
  /** Fewer images (for CI smoke runs). */
  quick?: boolean;
  batchSize?: number;
}

type Batches = AsyncIterable<[Tensor, Tensor]>;

/** Images per second over `limit` images (a warm-up batch first, not timed). */
async function throughput(loader: Batches, limit: number): Promise<number> {
  let n = 0;
  let t0 = 0;
  let checksum = 0;
  for await (const [x] of loader) {
    if (t0 === 0) {
      t0 = performance.now();
      continue;
    }
    n += x.shape[0];
    checksum += x.data[0];
    if (n >= limit) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (!Number.isFinite(checksum)) throw new Error('benchDataLoader: non-finite data');
  return n / seconds;
}

/** CPU time (µs, the whole process) per image: unlike wall time, robust to a busy machine. */
async function cpuPerImage(loader: Batches, limit: number): Promise<number> {
  const c0 = process.cpuUsage();
  let n = 0;
  for await (const [x] of loader) {
    n += x.shape[0];
    if (n >= limit) break;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

/** MNIST with the notebooks' augmentation; also the module a worker pool builds its dataset from. */
export function augmentedMnist(): MNIST {
  return new MNIST({
    train: true,
    transform: new Compose([
      new RandomAffine(15, { translate: [0.1, 0.1], scale: [0.8, 1.2], shear: 0.1 }),
      new Normalize(0.1307, 0.3081),
    ]),
  });
}

export async function benchDataLoader(options: DataBenchOptions = {}): Promise<DataBenchResult> {
  const batchSize = options.batchSize ?? 128;
  const plain = new MNIST({ train: true });
  const plainImgS = await throughput(
    new DataLoader(plain, { batchSize, shuffle: true, seed: 0 }),
    options.quick ? 20000 : 60000,
  );
  const augmentedImgS = await throughput(
    new DataLoader(augmentedMnist(), { batchSize, shuffle: true, seed: 0 }),
    options.quick ? 5000 : 20000,
  );
  return { plainImgS, augmentedImgS };
}

/** Busy CPU work standing in for a training step (training is synchronous on the main thread). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // burn
  }
}

/**
 * A training loop at `trainImgS` images/s: returns the mean time per batch spent waiting for data
 * (wall time minus the simulated step), in milliseconds.
 */
export async function dataWaitPerBatch(loader: Batches, batches: number, stepMs: number): Promise<number> {
  let k = -1;
  let t0 = 0;
  for await (const [x] of loader) {
    if (k === -1) t0 = performance.now(); // the first batch (pool warm-up) is not counted
    if (++k === batches) break;
    if (x.shape[0] === 0) throw new Error('empty batch');
    spin(stepMs);
  }
  return (performance.now() - t0 - batches * stepMs) / batches;
}

async function jpegFolder(count: number, size: number): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'stride-bench-jpeg-'));
  for (const c of ['cat', 'dog']) mkdirSync(join(root, c));
  const noise = Buffer.alloc(size * size * 3);
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < noise.length; p++) noise[p] = (p * 7 + i * 13 + ((p / 3) | 0)) & 255;
    await sharp(noise, { raw: { width: size, height: size, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(join(root, i % 2 ? 'dog' : 'cat', `${i}.jpg`));
  }
  return root;
}

async function main(): Promise<void> {
  const fmt = (v: number) => Math.round(v).toLocaleString('en');
  const r = await benchDataLoader();
  console.log(`MNIST, batch 128, shuffled, plain:              ${fmt(r.plainImgS)} img/s`);
  console.log(`MNIST + RandomAffine + Normalize, in process:   ${fmt(r.augmentedImgS)} img/s`);

  const plainCpu = await cpuPerImage(
    new DataLoader(new MNIST(), { batchSize: 128, shuffle: true, seed: 1 }),
    60000,
  );
  const augCpu = await cpuPerImage(
    new DataLoader(augmentedMnist(), { batchSize: 128, shuffle: true, seed: 1 }),
    20000,
  );
  console.log(
    `CPU per image: plain ${plainCpu.toFixed(1)} µs, augmented ${augCpu.toFixed(1)} µs ` +
      `(at 2,000 img/s of training: ${((plainCpu * 2000) / 1e4).toFixed(1)}% and ${((augCpu * 2000) / 1e4).toFixed(1)}% of one core)`,
  );

  const workers = await createWorkerPool<[Tensor, Tensor]>({
    module: new URL(import.meta.url),
    export: 'augmentedMnist',
    workers: 1,
  });
  const viaWorkers = () =>
    new DataLoader(augmentedMnist(), { batchSize: 128, shuffle: true, seed: 0, workers });
  console.log(
    `MNIST + RandomAffine + Normalize, 1 worker:     ${fmt(await throughput(viaWorkers(), 20000))} img/s`,
  );

  // a training step of 128 images at 2,000 img/s takes 64 ms
  const stepMs = 64;
  const n = 20;
  const plainWait = await dataWaitPerBatch(
    new DataLoader(new MNIST(), { batchSize: 128, shuffle: true, seed: 0 }),
    n,
    stepMs,
  );
  const augWait = await dataWaitPerBatch(
    new DataLoader(augmentedMnist(), { batchSize: 128, shuffle: true, seed: 0 }),
    n,
    stepMs,
  );
  const workerWait = await dataWaitPerBatch(viaWorkers(), n, stepMs);
  await workers.close();
  console.log(`training at 2,000 img/s (64 ms per batch of 128) waits for data, per batch:`);
  console.log(
    `  plain ${plainWait.toFixed(2)} ms, augmented in process ${augWait.toFixed(2)} ms, augmented with 1 worker ${workerWait.toFixed(2)} ms`,
  );

  const root = await jpegFolder(256, 256);
  try {
    const folder = new ImageFolder(root, { size: [128, 128], transform: new RandomHorizontalFlip() });
    const jpegImgS = await throughput(
      new DataLoader(folder, { batchSize: 32, shuffle: true, seed: 0, prefetch: 4 }),
      224,
    );
    console.log(`ImageFolder, 256×256 JPEG → 128×128 + flip (sharp): ${fmt(jpegImgS)} img/s`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
