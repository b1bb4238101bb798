import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../src/tensor/tensor.js';
import { arange, tensor } from '../src/tensor/creation.js';
import { Generator, manualSeed } from '../src/tensor/random.js';
import { TensorDataset } from '../src/data/tensor-dataset.js';
import { DataLoader } from '../src/data/dataloader.js';
import type { DatasetLike } from '../src/data/dataset.js';

/** Image-like samples: [C×H×W tensor filled with i, label i mod 3]. */
const images = (n: number): DatasetLike<[Tensor, number]> => ({
  length: n,
  get: (i: number) => [new Tensor(new Float32Array(2 * 3 * 4).fill(i), [2, 3, 4]), i % 3],
});

async function collect<B>(loader: AsyncIterable<B>): Promise<B[]> {
  const out: B[] = [];
  for await (const b of loader) out.push(b);
  return out;
}

const firstIds = (x: Tensor): number[] =>
  Array.from({ length: x.shape[0] }, (_, k) => x.data[(k * x.numel()) / x.shape[0]]);

test('DataLoader yields [x (N,C,H,W) float32, y (N) int32]; length counts batches; dropLast drops the tail', async () => {
  const loader = new DataLoader(images(10), { batchSize: 4 });
  assert.equal(loader.length, 3);
  const batches = await collect(loader);
  assert.equal(batches.length, 3);
  const [x, y] = batches[0];
  assert.deepEqual(x.shape, [4, 2, 3, 4]);
  assert.equal(x.dtype, 'float32');
  assert.deepEqual(y.shape, [4]);
  assert.equal(y.dtype, 'int32');
  assert.deepEqual(firstIds(x), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(y.data), [0, 1, 2, 0]);
  assert.deepEqual(batches[2][0].shape, [2, 2, 3, 4]);
  const dropped = new DataLoader(images(10), { batchSize: 4, dropLast: true });
  assert.equal(dropped.length, 2);
  assert.equal((await collect(dropped)).length, 2);
});

test('shuffle: a new permutation each epoch, the same sequence of epochs for the same seed', async () => {
  const order = async (loader: DataLoader<[Tensor, number]>) =>
    (await collect(loader)).flatMap(([x]) => firstIds(x));
  const a = new DataLoader(images(20), { batchSize: 6, shuffle: true, seed: 11 });
  const b = new DataLoader(images(20), { batchSize: 6, shuffle: true, seed: 11 });
  const a1 = await order(a);
  const a2 = await order(a);
  assert.deepEqual(
    [...a1].sort((p, q) => p - q),
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.notDeepEqual(
    a1,
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.notDeepEqual(a1, a2);
  assert.deepEqual(await order(b), a1);
  assert.deepEqual(await order(b), a2);
  assert.notDeepEqual(await order(new DataLoader(images(20), { batchSize: 6, shuffle: true, seed: 12 })), a1);
  // an epoch depends only on (seed, epoch): setting epoch resumes a run exactly
  const resumed = new DataLoader(images(20), { batchSize: 6, shuffle: true, seed: 11 });
  resumed.epoch = 1;
  assert.deepEqual(await order(resumed), a2);
  // without a seed, the global generator decides: manualSeed makes it reproducible
  manualSeed(5);
  const c1 = await order(new DataLoader(images(20), { batchSize: 6, shuffle: true }));
  manualSeed(5);
  assert.deepEqual(await order(new DataLoader(images(20), { batchSize: 6, shuffle: true })), c1);
});

test('transform: each sample gets its own generator from (seed, epoch, position), independent of prefetch', async () => {
  const noisy = (x: Tensor, g?: Generator) =>
    new Tensor(
      x.data.map((v) => v + g!.random()),
      x.shape,
    );
  const run = async (prefetch: number, seed: number) =>
    (
      await collect(
        new DataLoader(images(9), { batchSize: 4, shuffle: true, seed, transform: noisy, prefetch }),
      )
    ).map(([x]) => Array.from(x.data));
  const p1 = await run(1, 3);
  assert.deepEqual(await run(4, 3), p1);
  assert.notDeepEqual(await run(1, 4), p1);
  // the transform touches only the input; labels pass through
  const [[, y]] = await collect(new DataLoader(images(3), { batchSize: 3, transform: noisy }));
  assert.deepEqual(Array.from(y.data), [0, 1, 2]);
});

test('prefetch: batches k+1..k+prefetch are requested before batch k is handed over (async dataset)', async () => {
  let maxRequested = -1;
  const slow: DatasetLike<[Tensor, number]> = {
    length: 12,
    get: async (i: number) => {
      maxRequested = Math.max(maxRequested, i);
      await new Promise((r) => setTimeout(r, 1));
      return [tensor([i]), i];
    },
  };
  const seenAtHandover: number[] = [];
  for await (const [x] of new DataLoader(slow, { batchSize: 3, prefetch: 2 })) {
    const batch = x.data[0] / 3;
    seenAtHandover.push(maxRequested);
    assert.equal(maxRequested, Math.min((batch + 3) * 3 - 1, 11), `batch ${batch}`);
  }
  assert.deepEqual(seenAtHandover, [8, 11, 11, 11]);
});

test('null samples (unreadable files) are dropped from their batch; errors inside get() reach the loop', async () => {
  const holes: DatasetLike<[Tensor, number]> = {
    length: 5,
    get: (i: number) => (i % 2 === 1 ? null : [tensor([i]), i]),
  };
  const batches = await collect(new DataLoader(holes, { batchSize: 2 }));
  assert.deepEqual(
    batches.map(([, y]) => Array.from(y.data)),
    [[0], [2], [4]],
  );
  const broken: DatasetLike<number> = {
    length: 4,
    get: (i: number) => {
      if (i === 2) throw new Error('disk on fire');
      return i;
    },
  };
  await assert.rejects(collect(new DataLoader(broken, { batchSize: 2 })), /disk on fire/);
});

test('custom collate for pairs of tensors (regression); TensorDataset takes the fast path', async () => {
  const x = arange(10).reshape([5, 2]);
  const t = arange(5).mul(0.5).reshape([5, 1]);
  const ds = new TensorDataset(x, t);
  const batches = await collect(new DataLoader(ds, { batchSize: 2 }));
  assert.deepEqual(batches[0][0].toArray(), [
    [0, 1],
    [2, 3],
  ]);
  assert.deepEqual(batches[0][1].toArray(), [[0], [0.5]]);
  assert.deepEqual(batches[2][0].shape, [1, 2]);
  const sums = await collect(
    new DataLoader(ds, { batchSize: 5, collate: (samples) => samples.reduce((s, [a]) => s + a.data[0], 0) }),
  );
  assert.deepEqual(sums, [0 + 2 + 4 + 6 + 8]);
});

test('bad options are rejected with the argument named', () => {
  assert.throws(
    () => new DataLoader(images(3), { batchSize: 0 }),
    /DataLoader: batchSize must be a positive integer, got 0/,
  );
  assert.throws(
    () => new DataLoader(images(3), { prefetch: 0 }),
    /DataLoader: prefetch must be a positive integer/,
  );
  assert.throws(() => new DataLoader([1, 2, 3] as never), /DataLoader: expected a dataset/);
  assert.throws(() => new DataLoader(images(3), { transform: 5 as never }), /DataLoader: transform must be/);
});
