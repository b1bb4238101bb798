import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataLoader } from '../src/data/dataloader.js';
import { createWorkerPool } from '../src/vision/worker-pool.js';
import { augmentedMnist } from '../bench/data.js';
import type { Tensor } from '../src/tensor/tensor.js';

const benchModule = new URL('../bench/data.ts', import.meta.url);

async function firstBatches(
  loader: AsyncIterable<[Tensor, Tensor]>,
  count: number,
): Promise<[number[], number[]][]> {
  const out: [number[], number[]][] = [];
  for await (const [x, y] of loader) {
    out.push([Array.from(x.data), Array.from(y.data)]);
    if (out.length === count) break;
  }
  return out;
}

test('worker pool: augmented batches are identical to in-process ones for the same seed', async () => {
  const workers = await createWorkerPool<[Tensor, Tensor]>({
    module: benchModule,
    export: 'augmentedMnist',
    workers: 2,
  });
  try {
    assert.equal(workers.concurrency, 2);
    const viaWorkers = new DataLoader(augmentedMnist(), { batchSize: 16, shuffle: true, seed: 9, workers });
    assert.equal(viaWorkers.prefetch, 2);
    const a = await firstBatches(viaWorkers, 5);
    const b = await firstBatches(
      new DataLoader(augmentedMnist(), { batchSize: 16, shuffle: true, seed: 9 }),
      5,
    );
    assert.equal(a.length, 5);
    assert.equal(a[0][0].length, 16 * 784);
    assert.deepEqual(a, b);
    assert.throws(
      () => new DataLoader(augmentedMnist(), { workers, transform: (x: unknown) => x }),
      /DataLoader: with workers, put the transform in the dataset/,
    );
  } finally {
    await workers.close();
  }
});

test('worker pool: a module without the export is reported when the pool starts', async () => {
  await assert.rejects(
    createWorkerPool({ module: benchModule, export: 'noSuchFactory', workers: 1 }),
    /createWorkerPool: building the dataset failed: .*has no exported function 'noSuchFactory'/,
  );
});
