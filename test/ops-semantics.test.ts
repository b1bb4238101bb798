/**
 * Behaviour the oracle files do not pin down, checked against formulas written out here:
 * weighted/ignored/smoothed cross-entropy, running-stat updates, dropout's statistics and
 * reproducibility, erf accuracy, the output-size helpers, unbatched inputs, numerical stability.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as F from '../src/ops/functional.js';
import { erf } from '../src/ops/activation.js';
import { ones, tensor, zeros } from '../src/tensor/creation.js';
import { Generator } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

function close(actual: number, expected: number, tol = 1e-5, what = ''): void {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected}`,
  );
}

function randn(shape: number[], gen: Generator): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Float32Array.from({ length: n }, () => gen.normal()),
    shape,
  );
}

test('crossEntropy with class weights, ignoreIndex and label smoothing follows PyTorch formula', () => {
  const gen = new Generator(3);
  const x = randn([4, 3], gen);
  const target = tensor([2, -100, 0, 1], { dtype: 'int32' });
  const w = [0.5, 2, 1.5];
  const eps = 0.2;
  const loss = F.crossEntropy(x, target, { weight: tensor(w), labelSmoothing: eps }).item();
  // PyTorch: (1-ε)·Σ -w_y logp_y / Σ w_y  +  ε/C · Σ_i Σ_c -w_c logp_ic / Σ w_y  (ignored rows drop out)
  let nll = 0;
  let smooth = 0;
  let wsum = 0;
  for (let i = 0; i < 4; i++) {
    const t = target.data[i];
    if (t === -100) continue;
    const row = [0, 1, 2].map((c) => x.data[i * 3 + c]);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    const logp = row.map((v) => v - lse);
    nll += -w[t] * logp[t];
    smooth += -logp.reduce((s, lp, c) => s + w[c] * lp, 0);
    wsum += w[t];
  }
  close(loss, (1 - eps) * (nll / wsum) + (eps / 3) * (smooth / wsum), 1e-5, 'weighted smoothed CE');
  // Without weights, the smoothing term's mean is over all N elements (ignored ones count as 0).
  const plain = F.crossEntropy(x, target, { labelSmoothing: eps }).item();
  let n2 = 0;
  let s2 = 0;
  let cnt = 0;
  for (let i = 0; i < 4; i++) {
    const t = target.data[i];
    if (t === -100) continue;
    const row = [0, 1, 2].map((c) => x.data[i * 3 + c]);
    const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    n2 += -(row[t] - lse);
    s2 += -row.reduce((s, v) => s + (v - lse), 0);
    cnt++;
  }
  close(plain, (1 - eps) * (n2 / cnt) + (eps / 3) * (s2 / 4), 1e-5, 'smoothed CE');
});

test('nllLoss: ignored targets get no gradient; mean divides by the kept weights', () => {
  const x = new Tensor(Float32Array.from([-1, -2, -3, -4, -5, -6]), [2, 3], true);
  const loss = F.nllLoss(x, tensor([2, -100], { dtype: 'int32' }), { weight: tensor([1, 1, 4]) });
  close(loss.item(), 3, 1e-6, 'loss'); // −4·(−3) / 4
  loss.backward();
  assert.deepEqual(Array.from(x.grad!.data), [0, 0, -1, 0, 0, 0]);
  const sum = F.nllLoss(x, tensor([0, 1], { dtype: 'int32' }), { reduction: 'sum' });
  close(sum.item(), 6, 1e-6, 'sum');
});

test('batchNorm training updates running stats in place with the unbiased variance', () => {
  const x = tensor([
    [1, 10],
    [2, 20],
    [4, 30],
    [5, 40],
  ]);
  const rm = zeros([2]);
  const rv = ones([2]);
  const rmData = rm.data;
  const y = F.batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.25, eps: 0 });
  assert.equal(rm.data, rmData, 'the same storage is updated');
  close(rm.data[0], 0.25 * 3, 1e-6, 'running mean 0');
  close(rm.data[1], 0.25 * 25, 1e-6, 'running mean 1');
  close(rv.data[0], 0.75 + 0.25 * (10 / 3), 1e-6, 'running var 0'); // unbiased var of 1,2,4,5 = 10/3
  close(rv.data[1], 0.75 + 0.25 * (500 / 3), 1e-5, 'running var 1');
  // Normalised with the biased variance (2.5): (1 − 3)/√2.5
  close(y.data[0], -2 / Math.sqrt(2.5), 1e-6, 'normalised');
  const yEval = F.batchNorm(x, rm, rv, tensor([2, 2]), tensor([1, 1]), { training: false, eps: 0 });
  close(yEval.data[0], ((1 - rm.data[0]) / Math.sqrt(rv.data[0])) * 2 + 1, 1e-6, 'eval');
});

test('dropout: identity in eval and for p = 0, zeros for p = 1, inverted scaling, reproducible by seed', () => {
  const x = ones([100, 100]);
  assert.equal(F.dropout(x, { p: 0.5, training: false }), x);
  assert.equal(F.dropout(x, { p: 0 }), x);
  assert.ok(F.dropout(x, { p: 1 }).data.every((v) => v === 0));
  const y = F.dropout(x, { p: 0.3, generator: new Generator(1) });
  let zerosCount = 0;
  for (const v of y.data) {
    if (v === 0) zerosCount++;
    else close(v, 1 / 0.7, 1e-6, 'survivor scale');
  }
  assert.ok(Math.abs(zerosCount / 10000 - 0.3) < 0.02, `dropped fraction ${zerosCount / 10000}`);
  const again = F.dropout(x, { p: 0.3, generator: new Generator(1) });
  assert.deepEqual(again.data, y.data);
  const other = F.dropout(x, { p: 0.3, generator: new Generator(2) });
  assert.notDeepEqual(other.data, y.data);
});

test('erf and exact GELU are accurate to float32, including the far negative tail', () => {
  const known: [number, number][] = [
    [0, 0],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [2, 0.9953222650189527],
    [-0.3, -0.3286267594591112],
    [3.5, 0.9999992569016276],
  ];
  for (const [x, e] of known) close(erf(x), e, 2e-7, `erf(${x})`);
  // gelu(−5) = −5·Φ(−5), Φ(−5) = 2.866515718791939e-7: relative accuracy, not just absolute
  const g = F.gelu(tensor([-5, 0, 1])).data;
  assert.ok(Math.abs(g[0] / (-5 * 2.866515718791939e-7) - 1) < 1e-5, `gelu(-5) = ${g[0]}`);
  close(g[2], 0.8413447460685429, 1e-6, 'gelu(1)');
});

test('convOutputSize and poolOutputSize use PyTorch formulas (ceilMode drops a window starting in padding)', () => {
  assert.equal(F.convOutputSize(28, 3, { padding: 1 }), 28);
  assert.equal(F.convOutputSize(28, 5), 24);
  assert.equal(F.convOutputSize(8, 3, { stride: 2, padding: 1 }), 4);
  assert.equal(F.convOutputSize(9, 3, { dilation: 2, padding: 2 }), 9);
  assert.equal(F.poolOutputSize(28, 2), 14);
  assert.equal(F.poolOutputSize(7, 2, { stride: 2 }), 3);
  assert.equal(F.poolOutputSize(7, 2, { stride: 2, ceilMode: true }), 4);
  assert.equal(F.poolOutputSize(5, 2, { stride: 2, padding: 1, ceilMode: true }), 3);
});

test('unbatched conv2d/maxPool2d inputs match the batched result', () => {
  const gen = new Generator(9);
  const x = randn([2, 5, 5], gen);
  const w = randn([3, 2, 3, 3], gen);
  const un = F.conv2d(x, w, null, { padding: 1 });
  const ba = F.conv2d(x.reshape([1, 2, 5, 5]), w, null, { padding: 1 });
  assert.deepEqual(un.shape, [3, 5, 5]);
  assert.deepEqual(un.data, ba.data);
  assert.deepEqual(F.maxPool2d(un, { kernelSize: 2 }).shape, [3, 2, 2]);
  assert.deepEqual(F.conv2d(x, w, null, { padding: 'valid' }).data, F.conv2d(x, w).data);
});

test('pooling extras: maxPool1d indices, divisorOverride, adaptive windows overlap like PyTorch', () => {
  const [v, idx] = F.maxPool1d(tensor([[[1, 5, 2, 2, 9, 0]]]), { kernelSize: 2, returnIndices: true });
  assert.deepEqual(Array.from(v.data), [5, 2, 9]);
  assert.equal(idx.dtype, 'int32');
  assert.deepEqual(Array.from(idx.data), [1, 2, 4]);
  const avg = F.avgPool2d(ones([1, 1, 2, 2]), { kernelSize: 2, divisorOverride: 3 });
  close(avg.data[0], 4 / 3, 1e-6, 'divisorOverride');
  // 5 → 3: windows [0,2), [1,4), [3,5)
  const a = F.adaptiveAvgPool2d(tensor([[[[0, 1, 2, 3, 4]]]]), [1, 3]);
  assert.deepEqual(Array.from(a.data), [0.5, 2, 3.5]);
});

test('interpolate: nearest repeats, bilinear with alignCorners keeps the corners', () => {
  const x = tensor([
    [
      [
        [1, 2],
        [3, 4],
      ],
    ],
  ]);
  assert.deepEqual(
    Array.from(F.interpolate(x, { scaleFactor: 2 }).data),
    [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4],
  );
  const b = F.interpolate(x, { size: [3, 3], mode: 'bilinear', alignCorners: true });
  assert.deepEqual(Array.from(b.data), [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
});

test('numerical stability: softmax/logSoftmax of huge logits, BCE at 0/1, BCE-with-logits at ±100', () => {
  const s = F.softmax(tensor([[1000, 1001]]), 1).data;
  close(s[1], 1 / (1 + Math.exp(-1)), 1e-6, 'softmax');
  const ls = F.logSoftmax(tensor([[-1000, 0]]), 1).data;
  close(ls[0], -1000, 1e-6, 'logSoftmax');
  close(F.bceLoss(tensor([0]), tensor([1])).item(), 100, 1e-6, 'log clamped at -100');
  close(
    F.bceWithLogitsLoss(tensor([-100, 100]), tensor([1, 0]), { reduction: 'sum' }).item(),
    200,
    1e-5,
    'bce logits',
  );
  const ce = F.crossEntropy(tensor([[1e4, -1e4]]), tensor([1], { dtype: 'int32' })).item();
  close(ce, 2e4, 1e-5, 'crossEntropy with huge logits');
});

test('linear accepts a 1-D input and any number of leading dims', () => {
  const w = tensor([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  assert.deepEqual(Array.from(F.linear(tensor([1, 1]), w, tensor([0, 0, 1])).data), [3, 7, 12]);
  assert.deepEqual(F.linear(ones([2, 3, 4, 2]), w).shape, [2, 3, 4, 3]);
});
