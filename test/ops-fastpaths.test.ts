/**
 * The hot-path rewrites keep PyTorch's results: relu's bit-mask loops (values, -0, NaN, gradient
 * at 0), the optional backend relu kernels that ops use when a backend offers them, and unzeroed
 * output storage (every element of a large output is written).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as st from '../src/index.js';
import { getBackend } from '../src/backend/index.js';

const { F } = st;

test('relu: negatives and -0 become +0, +NaN and +Inf pass, gradient is 0 at x <= 0', () => {
  const x = st.tensor([-2, -0, 0, 0.5, Infinity, -Infinity, NaN, 3]).setRequiresGrad(true);
  const y = F.relu(x);
  const out = Array.from(y.data);
  assert.deepEqual(out.slice(0, 6), [0, 0, 0, 0.5, Infinity, 0]);
  assert.ok(Object.is(out[1], 0), '-0 maps to +0');
  assert.ok(Number.isNaN(out[6]), 'relu(NaN) is NaN, as in PyTorch');
  assert.equal(out[7], 3);
  y.backward(st.tensor([1, 2, 3, 4, 5, 6, 7, 8]));
  const g = Array.from((x.grad as st.Tensor).data);
  assert.deepEqual([g[0], g[1], g[2], g[3], g[4], g[5], g[7]], [0, 0, 0, 4, 5, 0, 8]);
});

test('relu on a large tensor matches the reference formula (every element written)', () => {
  st.manualSeed(1);
  const x = st.randn([64, 8, 28, 28]).setRequiresGrad(true);
  const y = F.relu(x);
  const xd = x.data;
  const yd = y.data;
  for (let i = 0; i < xd.length; i++) {
    if (yd[i] !== (xd[i] > 0 ? xd[i] : 0)) assert.fail(`relu element ${i}: ${yd[i]} for x = ${xd[i]}`);
  }
  const g = st.randn(x.shape);
  y.backward(g);
  const gx = (x.grad as st.Tensor).data;
  for (let i = 0; i < xd.length; i++) {
    if (gx[i] !== (xd[i] > 0 ? g.data[i] : 0)) assert.fail(`relu gradient element ${i}`);
  }
});

test('relu uses a backend relu/reluBackward kernel when the backend has one', () => {
  const be = getBackend() as unknown as Record<string, unknown>;
  const calls: string[] = [];
  be.relu = (x: Float32Array, y: Float32Array) => {
    calls.push('relu');
    for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0;
  };
  be.reluBackward = (y: Float32Array, dy: Float32Array, dx: Float32Array) => {
    calls.push('reluBackward');
    for (let i = 0; i < y.length; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
  };
  try {
    const x = st.randn([4, 8, 32, 32]).setRequiresGrad(true);
    F.relu(x).sum().backward();
    assert.deepEqual(calls, ['relu', 'reluBackward']);
    const gx = (x.grad as st.Tensor).data;
    for (let i = 0; i < gx.length; i++) assert.equal(gx[i], x.data[i] > 0 ? 1 : 0);
    calls.length = 0;
    F.relu(st.randn([3, 4])); // small: the loop, not a kernel call
    assert.deepEqual(calls, []);
  } finally {
    delete be.relu;
    delete be.reluBackward;
  }
});

test('large unzeroed outputs are fully written: conv, pool and linear agree with a second run', () => {
  st.manualSeed(2);
  const x = st.randn([8, 3, 40, 40]);
  const w = st.randn([16, 3, 3, 3]);
  const b = st.randn([16]);
  const run = (): number[] => {
    const c = F.conv2d(x, w, b, { padding: 1 });
    const p = F.maxPool2d(F.relu(c), { kernelSize: 2 });
    const l = F.linear(p.flatten(1), st.randn([10, 16 * 20 * 20], { generator: new st.Generator(5) }));
    return [...Array.from(c.data), ...Array.from(p.data), ...Array.from(l.data)];
  };
  const a = run();
  // Churn the allocator so the second run's storage comes from recycled memory.
  for (let i = 0; i < 5; i++) F.relu(st.full([8, 16, 40, 40], Number.NaN));
  assert.deepEqual(run(), a);
  assert.ok(
    a.every((v) => Number.isFinite(v)),
    'a NaN from recycled memory leaked into an output',
  );
});

test('add/sub/mul/div plain loops give the broadcast results: values, shapes, int32 operands', () => {
  const a = st.tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const b = st.tensor([
    [6, 5, 4],
    [3, 2, 0],
  ]);
  assert.deepEqual(a.add(b).toArray(), [
    [7, 7, 7],
    [7, 7, 6],
  ]);
  assert.deepEqual(a.sub(b).toArray(), [
    [-5, -3, -1],
    [1, 3, 6],
  ]);
  assert.deepEqual(a.mul(b).toArray(), [
    [6, 10, 12],
    [12, 10, 0],
  ]);
  assert.deepEqual(Array.from(a.div(b).data), [1 / 6, 2 / 5, 3 / 4, 4 / 3, 5 / 2, Infinity].map(Math.fround));
  // A one-element operand keeps the other's shape only when it has no more dims.
  assert.deepEqual(a.mul(st.tensor([[2]])).shape, [2, 3]);
  assert.deepEqual(st.tensor(3).add(st.tensor([[[1]]])).shape, [1, 1, 1]);
  assert.deepEqual(
    st
      .tensor([[5]])
      .sub(st.tensor([1, 2]))
      .toArray(),
    [[4, 3]],
  );
  const i = st.tensor([7, -7]).int();
  assert.deepEqual(Array.from(i.div(i.mul(2)).data), [0.5, 0.5]);
  assert.equal(i.add(1).dtype, 'float32');
  // Gradients through the fast paths.
  const x = st.tensor([1, 2, 3]).setRequiresGrad(true);
  const w = st.tensor([4, 5, 6]).setRequiresGrad(true);
  x.mul(w).div(2).sub(x).add(1).sum().backward();
  assert.deepEqual(Array.from((x.grad as st.Tensor).data), [1, 1.5, 2]);
  assert.deepEqual(Array.from((w.grad as st.Tensor).data), [0.5, 1, 1.5]);
});
