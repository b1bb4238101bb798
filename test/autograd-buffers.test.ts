/**
 * backward() recycles interior gradient buffers (graph.ts, gradBuffer). These tests check that a
 * recycled buffer never changes a gradient someone can still see: leaf grads, retained grads and
 * gradients handed to two inputs, across several backward passes that reuse the pool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';

const { F } = st;

function leaf(values: number[], shape: number[]): st.Tensor {
  return st.tensor(values).reshape(shape).detach().setRequiresGrad(true);
}

function arr(t: st.Tensor | null): number[] {
  assert.ok(t !== null, 'expected a gradient');
  return Array.from(t.data);
}

test('leaf gradients are not overwritten by later backward passes that reuse buffers', () => {
  const w = leaf([1, -2, 3, -4, 5, -6], [2, 3]);
  F.relu(w)
    .mul(
      st.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    )
    .sum()
    .backward();
  const first = w.grad;
  assert.deepEqual(arr(first), [1, 0, 3, 0, 5, 0]);
  // Same shapes again: the pool now holds buffers of these lengths.
  for (let i = 0; i < 3; i++) {
    const v = leaf([-1, 2, -3, 4, -5, 6], [2, 3]);
    F.relu(F.relu(v)).mul(7).sum().backward();
    assert.deepEqual(arr(v.grad), [0, 7, 0, 7, 0, 7]);
  }
  assert.deepEqual(arr(first), [1, 0, 3, 0, 5, 0], 'an earlier .grad changed');
});

test('retained interior gradients survive later passes', () => {
  const x = leaf([1, 2, -3, 4], [4]);
  const h = F.relu(x);
  h.retainGrad();
  const y = F.relu(h);
  y.mul(st.tensor([1, 2, 3, 4]))
    .sum()
    .backward();
  const kept = arr(h.grad);
  assert.deepEqual(kept, [1, 2, 0, 4]);
  for (let i = 0; i < 3; i++) {
    const z = leaf([5, -6, 7, -8], [4]);
    F.relu(F.relu(F.relu(z)))
      .mul(9)
      .sum()
      .backward();
  }
  assert.deepEqual(arr(h.grad), kept);
});

test('a gradient passed to two inputs (add) is not recycled while the other still needs it', () => {
  for (let i = 0; i < 3; i++) {
    const x1 = leaf([1, -1, 2, -2], [4]);
    const x2 = leaf([3, 4, -5, 6], [4]);
    const c = st.tensor([1, 2, 3, 4]);
    // relu(s)'s gradient is a recycled buffer; add hands that same buffer to both branches, and
    // whichever branch runs first asks for new buffers before the other branch has read it.
    const s = F.relu(F.relu(F.relu(x1))).add(F.relu(F.relu(F.relu(x2))));
    F.relu(s).mul(c).sum().backward();
    assert.deepEqual(arr(x1.grad), [1, 0, 3, 0]);
    assert.deepEqual(arr(x2.grad), [1, 2, 0, 4]);
  }
});

test('x + x and fan-out sum their gradients', () => {
  for (let i = 0; i < 3; i++) {
    const x = leaf([1, -1, 2, -2], [4]);
    const r = F.relu(x);
    const c = st.tensor([1, 2, 3, 4]);
    // d/dx of relu(r + r)·c + relu(r)·c = 3c where x > 0
    F.relu(r.add(r)).mul(c).add(F.relu(r).mul(c)).sum().backward();
    assert.deepEqual(arr(x.grad), [3, 0, 9, 0]);
  }
});

test('gradients accumulate across backward calls without a zeroGrad, as in PyTorch', () => {
  const x = leaf([1, -1, 2], [3]);
  for (let i = 0; i < 3; i++) F.relu(F.relu(x)).mul(2).sum().backward();
  assert.deepEqual(arr(x.grad), [6, 0, 6]);
});

test('a model trains to the same weights on repeated identical steps (no stale buffer contents)', () => {
  const run = (): number[] => {
    st.manualSeed(3);
    const model = new st.nn.Sequential(
      new st.nn.Conv2d(1, 4, { kernelSize: 3, padding: 1 }),
      new st.nn.ReLU(),
      new st.nn.MaxPool2d(2),
      new st.nn.Flatten(),
      new st.nn.Linear(4 * 4 * 4, 3),
    );
    const opt = new st.optim.SGD(model.parameters(), { lr: 0.1 });
    const x = st.randn([5, 1, 8, 8]);
    const y = st.tensor([0, 1, 2, 1, 0]).int();
    for (let i = 0; i < 4; i++) {
      opt.zeroGrad();
      F.crossEntropy(model.forward(x), y).backward();
      opt.step();
    }
    return model.parameters().flatMap((p) => Array.from(p.data));
  };
  // The first run fills the pool; the second draws from it and must match exactly.
  assert.deepEqual(run(), run());
});
