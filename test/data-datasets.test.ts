import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor } from '../src/tensor/tensor.js';
import { tensor, arange } from '../src/tensor/creation.js';
import { TensorDataset } from '../src/data/tensor-dataset.js';
import { Subset } from '../src/data/subset.js';
import { ConcatDataset } from '../src/data/concat.js';
import { randomSplit } from '../src/data/random-split.js';
import { defaultCollate } from '../src/data/collate.js';
import type { DatasetLike } from '../src/data/dataset.js';

const range = (n: number): DatasetLike<number> => ({ length: n, get: (i: number) => i });

test('TensorDataset: rows of tensors sharing the first dim; getBatch gathers rows', () => {
  const x = arange(12).reshape([4, 3]);
  const y = tensor(Int32Array.from([0, 1, 2, 3]));
  const ds = new TensorDataset(x, y);
  assert.equal(ds.length, 4);
  const [xi, yi] = ds.get(2);
  assert.deepEqual(xi.toArray(), [6, 7, 8]);
  assert.equal(yi.dtype, 'int32');
  assert.deepEqual(yi.shape, []);
  assert.equal(yi.item(), 2);
  const [bx, by] = ds.getBatch([3, 0]);
  assert.deepEqual(bx.toArray(), [
    [9, 10, 11],
    [0, 1, 2],
  ]);
  assert.deepEqual(Array.from(by.data), [3, 0]);
  assert.equal(ds.get(-1)[1].item(), 3);
  assert.throws(
    () => new TensorDataset(x, tensor([1, 2])),
    /TensorDataset: size mismatch between tensors: tensor 0 has 4 samples .* tensor 1 has 2/,
  );
  assert.throws(() => ds.get(4), /TensorDataset.get: index 4 is out of range for a dataset of length 4/);
});

test('Subset and ConcatDataset index through to their datasets', () => {
  const sub = new Subset(range(10), [7, 2, 5]);
  assert.equal(sub.length, 3);
  assert.deepEqual(
    [0, 1, 2].map((i) => sub.get(i)),
    [7, 2, 5],
  );
  assert.throws(() => new Subset(range(3), [0, 3]), /Subset: indices\[1\]: index 3 is out of range/);
  const cat = new ConcatDataset([range(3), range(2), range(4)]);
  assert.equal(cat.length, 9);
  assert.deepEqual(cat.cumulativeSizes, [3, 5, 9]);
  assert.deepEqual(
    Array.from({ length: 9 }, (_, i) => cat.get(i)),
    [0, 1, 2, 0, 1, 0, 1, 2, 3],
  );
  assert.throws(
    () => new ConcatDataset([range(2), {} as DatasetLike<number>]),
    /ConcatDataset: datasets\[1\]: expected a dataset/,
  );
});

test('randomSplit: disjoint, covering, deterministic for a seed; fractions as PyTorch', () => {
  const ds = range(103);
  const [a, b, c] = randomSplit(ds, [0.7, 0.2, 0.1], { seed: 42 });
  // PyTorch: floor(103·f) = 72, 20, 10, and the 1 left over goes to the first part
  assert.deepEqual([a.length, b.length, c.length], [73, 20, 10]);
  const all = [...a.indices, ...b.indices, ...c.indices].sort((p, q) => p - q);
  assert.deepEqual(
    all,
    Array.from({ length: 103 }, (_, i) => i),
  );
  const [a2] = randomSplit(ds, [0.7, 0.2, 0.1], { seed: 42 });
  assert.deepEqual(Array.from(a2.indices), Array.from(a.indices));
  const [a3] = randomSplit(ds, [0.7, 0.2, 0.1], { seed: 43 });
  assert.notDeepEqual(Array.from(a3.indices), Array.from(a.indices));
  const [p, q] = randomSplit(ds, [100, 3], { seed: 1 });
  assert.deepEqual([p.length, q.length], [100, 3]);
  assert.ok(q.indices.every((i) => !p.indices.includes(i)));
  // PyTorch's remainder rule, round-robin: 10 × [0.33, 0.33, 0.34] → 3, 3, 3 + 1 to the first
  assert.deepEqual(
    randomSplit(range(10), [0.33, 0.33, 0.34], { seed: 0 }).map((s) => s.length),
    [4, 3, 3],
  );
  assert.throws(
    () => randomSplit(ds, [50, 50], { seed: 0 }),
    /randomSplit: sum of input lengths \(100\) does not equal the length of the input dataset \(103\)/,
  );
  assert.throws(() => randomSplit(ds, [0.5, 0.4]), /neither integer counts nor fractions summing to 1/);
});

test('defaultCollate stacks tensors, turns labels into int32 and floats into float32, recurses into tuples and objects', () => {
  const s = (v: number): [Tensor, number, { t: Tensor; w: number }] => [
    tensor([[v, v + 1]]),
    v,
    { t: tensor([v]), w: v + 0.5 },
  ];
  const [x, y, o] = defaultCollate([s(1), s(2), s(3)]) as [Tensor, Tensor, { t: Tensor; w: Tensor }];
  assert.deepEqual(x.shape, [3, 1, 2]);
  assert.deepEqual(x.toArray(), [[[1, 2]], [[2, 3]], [[3, 4]]]);
  assert.equal(y.dtype, 'int32');
  assert.deepEqual(Array.from(y.data), [1, 2, 3]);
  assert.deepEqual(o.t.shape, [3, 1]);
  assert.equal(o.w.dtype, 'float32');
  assert.deepEqual(Array.from(o.w.data), [1.5, 2.5, 3.5]);
  assert.throws(
    () => defaultCollate([tensor([1, 2]), tensor([1, 2, 3])]),
    /collate: sample 1 has shape \[3\] but sample 0 has \[2\]/,
  );
  assert.throws(
    () =>
      defaultCollate([
        [tensor([1]), 1],
        [tensor([1]), 'a'],
      ]),
    /collate\[1\]: sample 1 is a string but sample 0 is a number/,
  );
});
