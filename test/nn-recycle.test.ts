/**
 * Activation recycling in Sequential (nn/recycle.ts): under noGrad, activations that only the
 * library's layers saw are handed back to the allocator once consumed, and nothing anyone can
 * reach (the input, the output, a hooked layer's output, a view) is ever handed back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noGrad } from '../src/autograd/graph.js';
import * as nn from '../src/nn/index.js';
import { Generator } from '../src/tensor/random.js';
import {
  cachedStorageBytes,
  emptyFloat32,
  emptyStorageCache,
  releaseFloat32,
} from '../src/tensor/storage.js';
import { Tensor } from '../src/tensor/tensor.js';

function randn(shape: number[], seed: number): Tensor {
  const gen = new Generator(seed);
  const d = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < d.length; i++) d[i] = gen.normal();
  return new Tensor(d, shape);
}

/** Activations of 512 × 1024 floats (2 MiB, above the cache's lower bound). */
function mlp(seed: number, ...extra: nn.Module[]): nn.Sequential {
  const generator = new Generator(seed);
  return new nn.Sequential(
    new nn.Linear(64, 1024, { generator }),
    new nn.ReLU(),
    new nn.Linear(1024, 1024, { generator }),
    new nn.Tanh(),
    ...extra,
  );
}

const copy = (t: Tensor) => Float32Array.from(t.data as Float32Array);

test('releaseFloat32 hands whole large buffers back to emptyFloat32 (once), and ignores views and small ones', () => {
  const a = emptyFloat32(1 << 19);
  releaseFloat32(a);
  releaseFloat32(a); // twice: still one entry
  assert.equal(emptyFloat32(1 << 19), a);
  assert.notEqual(emptyFloat32(1 << 19), a);
  const big = new Float32Array(1 << 20);
  const before = cachedStorageBytes();
  releaseFloat32(big.subarray(0, 1 << 19)); // a view into a larger buffer
  releaseFloat32(new Float32Array(1000)); // small
  assert.equal(cachedStorageBytes(), before);
});

test('Sequential under noGrad recycles its inner activations: the same values, and the output, input and earlier results untouched', () => {
  const model = mlp(1);
  const x1 = randn([512, 64], 2);
  const x2 = randn([512, 64], 3);
  const want1 = copy(model.forward(x1)); // with gradients on: nothing is recycled
  const want2 = copy(model.forward(x2));
  const x1Before = copy(x1);
  const before = cachedStorageBytes();
  const y1 = noGrad(() => model.forward(x1));
  assert.ok(cachedStorageBytes() > before, 'the inner activations were released');
  const y2 = noGrad(() => model.forward(x2));
  const y3 = noGrad(() => model.forward(x1));
  assert.deepEqual(copy(y1), want1);
  assert.deepEqual(copy(y2), want2);
  assert.deepEqual(copy(y3), want1);
  assert.deepEqual(copy(x1), x1Before);
  assert.notEqual(y1.data, y2.data);
});

test('Sequential with gradients on recycles nothing', () => {
  const model = mlp(4);
  emptyStorageCache();
  model.forward(randn([512, 64], 5));
  assert.equal(cachedStorageBytes(), 0);
  noGrad(() => model.forward(randn([512, 64], 5)));
  // Under noGrad each inner activation is released once consumed and the next one of its size
  // takes it: at the end, one is left over.
  assert.equal(cachedStorageBytes(), 512 * 1024 * 4, 'under noGrad: one inner activation left over');
});

test('recycling never reaches a hooked layer’s output, a view of the output, or an input passed through', () => {
  // A forward hook keeps layer 2's output: it must survive later passes.
  const hooked = mlp(6);
  let seen: Tensor | null = null;
  hooked.at(2).registerForwardHook((_m, _args, out) => {
    seen = out as Tensor;
  });
  const x = randn([512, 64], 7);
  noGrad(() => hooked.forward(x));
  const kept = copy(seen!);
  const keptData = seen!.data;
  for (let s = 8; s < 11; s++) noGrad(() => hooked.forward(randn([512, 64], s)));
  assert.deepEqual(Float32Array.from(keptData as Float32Array), kept);

  // The output is a view (Flatten) of the last computed activation, or that activation itself
  // passed on by Identity and Dropout in eval mode.
  for (const tail of [[new nn.Flatten()], [new nn.Identity(), new nn.Dropout(0.5)]]) {
    const model = mlp(12, ...tail);
    model.eval();
    const y1 = noGrad(() => model.forward(randn([512, 64], 13)));
    const first = copy(y1);
    noGrad(() => model.forward(randn([512, 64], 14)));
    assert.deepEqual(copy(y1), first, `${tail.map((m) => m.constructor.name).join(', ')} at the end`);
  }

  // The input passed through Identity, then replaced: still the caller's.
  const generator = new Generator(15);
  const model = new nn.Sequential(new nn.Identity(), new nn.ReLU(), new nn.Linear(1024, 4, { generator }));
  const input = randn([512, 1024], 16);
  const inputBefore = copy(input);
  noGrad(() => model.forward(input));
  noGrad(() => model.forward(randn([512, 1024], 17)));
  assert.deepEqual(copy(input), inputBefore);
});

test('a custom layer between library layers sees activations that are never recycled', () => {
  class Keep extends nn.Module {
    kept: Tensor[] = [];
    override forward(x: Tensor): Tensor {
      this.kept.push(x);
      return x.mul(2);
    }
  }
  const keep = new Keep();
  const generator = new Generator(18);
  const model = new nn.Sequential(new nn.Linear(64, 1024, { generator }), keep, new nn.ReLU(), new nn.Tanh());
  noGrad(() => model.forward(randn([512, 64], 19)));
  const first = copy(keep.kept[0]);
  for (let s = 20; s < 23; s++) noGrad(() => model.forward(randn([512, 64], s)));
  assert.deepEqual(copy(keep.kept[0]), first);
});

test('st.emptyCache() drops the buffers kept for reuse', async () => {
  const st = await import('../src/index.js');
  releaseFloat32(new Float32Array(1 << 19));
  assert.ok(cachedStorageBytes() > 0);
  st.emptyCache();
  assert.equal(cachedStorageBytes(), 0);
});
