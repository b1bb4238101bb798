import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { MNIST, mnistDataFolder } from '../src/vision/mnist.js';
import { FashionMNIST } from '../src/vision/fashion-mnist.js';
import { parseIdx } from '../src/vision/idx.js';
import { Normalize } from '../src/vision/transforms/normalize.js';
import { RandomAffine } from '../src/vision/transforms/affine.js';
import { DataLoader } from '../src/data/dataloader.js';

const counts = (targets: Int32Array): number[] => {
  const c = new Array<number>(10).fill(0);
  for (const y of targets) c[y]++;
  return c;
};

test('MNIST: 60,000/10,000 images of 1×28×28 in [0, 1], labels as the real set', () => {
  const train = new MNIST({ train: true });
  const testSet = new MNIST({ train: false });
  assert.equal(train.length, 60000);
  assert.equal(testSet.length, 10000);
  // the published per-digit counts of MNIST
  assert.deepEqual(counts(train.targets), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.deepEqual(counts(testSet.targets), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  const [x, y] = train.get(0);
  assert.deepEqual(x.shape, [1, 28, 28]);
  assert.equal(x.dtype, 'float32');
  assert.equal(y, 5); // the famous first training digit
  assert.ok(x.data.every((v) => v >= 0 && v <= 1));
  assert.equal(Math.max(...x.data), 1);
  assert.equal(testSet.get(-1)[1], testSet.targets[9999]);
  assert.throws(
    () => train.get(60000),
    /MNIST.get: index 60000 is out of range for a dataset of length 60000/,
  );
});

test('MNIST: Normalize(0.1307, 0.3081) gives mean ≈ 0 and std ≈ 1 over the training set', async () => {
  const train = new MNIST({ transform: new Normalize(0.1307, 0.3081) });
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  for await (const [x] of new DataLoader(train, { batchSize: 2000 })) {
    for (const v of x.data) {
      sum += v;
      sumSq += v * v;
    }
    n += x.numel();
  }
  assert.equal(n, 60000 * 784);
  const mean = sum / n;
  const std = Math.sqrt(sumSq / n - mean * mean);
  assert.ok(Math.abs(mean) < 1e-3, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 1e-3, `std ${std}`);
});

test('MNIST: the fast batch path gives exactly what get() + collate gives, and augmentation is seeded', async () => {
  const plain = new MNIST();
  const fast = new DataLoader(plain, { batchSize: 32, shuffle: true, seed: 3 });
  const slow = new DataLoader(plain, { batchSize: 32, shuffle: true, seed: 3, collate: (s) => s });
  const a = await fast[Symbol.asyncIterator]().next();
  const b = await slow[Symbol.asyncIterator]().next();
  const [xa, ya] = a.value!;
  const samples = b.value! as unknown as [{ data: Float32Array }, number][];
  assert.deepEqual(xa.shape, [32, 1, 28, 28]);
  assert.equal(ya.dtype, 'int32');
  samples.forEach(([x, y], k) => {
    assert.equal(ya.data[k], y);
    assert.deepEqual(Array.from(xa.data.subarray(k * 784, (k + 1) * 784)), Array.from(x.data));
  });
  const aug = new MNIST({
    transform: new RandomAffine(15, { translate: [0.1, 0.1], scale: [0.8, 1.2], shear: 0.1 }),
  });
  const first = async (seed: number) =>
    (await new DataLoader(aug, { batchSize: 8, seed })[Symbol.asyncIterator]().next()).value![0];
  const [p, q, r] = [await first(1), await first(1), await first(2)];
  assert.deepEqual(Array.from(p.data), Array.from(q.data));
  assert.notDeepEqual(Array.from(p.data), Array.from(r.data));
});

test('IDX: a truncated file or a wrong magic number gives a clear error naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stride-idx-'));
  try {
    const labels = readFileSync(join(mnistDataFolder(), 't10k-labels-idx1-ubyte'));
    const images = readFileSync(join(mnistDataFolder(), 't10k-images-idx3-ubyte'));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), labels);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), images.subarray(0, 5000));
    assert.throws(
      () => new MNIST({ train: false, root: dir }),
      /t10k-images-idx3-ubyte: truncated IDX file: dims \[10000, 28, 28\] need 7840016 bytes but the file has 5000/,
    );
    const wrong = Uint8Array.from(images.subarray(0, 1000));
    wrong[3] = 1; // claims 1 dim
    assert.throws(
      () => parseIdx(wrong, 'images.idx', 3),
      /images.idx: wrong magic number 0x00000801; expected 0x00000803/,
    );
    assert.throws(
      () => parseIdx(Uint8Array.from([0x1f, 0x8b, 8, 0]), 'x.gz'),
      /x.gz: wrong magic number 0x1f8b0800.*gzipped/,
    );
    assert.throws(() => parseIdx(new Uint8Array(2), 'tiny'), /tiny: truncated IDX file: 2 bytes/);
    const ok = parseIdx(labels, 'labels', 1);
    assert.deepEqual(ok.dims, [10000]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FashionMNIST: 60,000/10,000, 6,000/1,000 per class, interleaved labels, class names', () => {
  const t0 = performance.now();
  const train = new FashionMNIST();
  const testSet = new FashionMNIST({ train: false });
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(train.length, 60000);
  assert.equal(testSet.length, 10000);
  assert.deepEqual(counts(train.targets), new Array(10).fill(6000));
  assert.deepEqual(counts(testSet.targets), new Array(10).fill(1000));
  assert.equal(train.targets[123], 3);
  assert.equal(train.classes[0], 'T-shirt/top');
  assert.equal(train.classes[9], 'Ankle boot');
  const [x] = testSet.get(5);
  assert.deepEqual(x.shape, [1, 28, 28]);
  assert.ok(x.data.some((v) => v > 0.5) && x.data.every((v) => v >= 0 && v <= 1));
  // train and test hold different images: no test image of class 0 appears among the training ones
  const seen = new Set<string>();
  for (let i = 0; i < train.length; i += 10) seen.add(train.data.subarray(i * 784, i * 784 + 784).join());
  for (let i = 0; i < testSet.length; i += 10)
    assert.ok(!seen.has(testSet.data.subarray(i * 784, i * 784 + 784).join()));
  console.log(`FashionMNIST loaded in ${seconds.toFixed(2)} s`);
});
