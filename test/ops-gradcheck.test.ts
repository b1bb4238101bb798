/**
 * Every op with a gradient against central differences (float32 tolerances), on small random
 * inputs with awkward geometry: stride, padding, dilation, groups, ceilMode, odd sizes.
 * Non-smooth ops (max pooling, relu, l1) get inputs kept away from their kinks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { availableBackends, setBackend } from '../src/backend/index.js';
import { registerNative } from '../scripts/oracle/run.js';
import { gradcheck } from '../src/autograd/gradcheck.js';
import * as F from '../src/ops/functional.js';
import { Generator } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

const gen = new Generator(42);

await registerNative();
const backends = availableBackends();

/** The same check on every backend that can run here (gradients go through each one's kernels). */
function testAll(name: string, fn: () => void): void {
  for (const b of backends) {
    test(`[${b}] ${name}`, () => {
      setBackend(b);
      try {
        fn();
      } finally {
        setBackend('js');
      }
    });
  }
}

function randn(shape: number[], requiresGrad = true, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = gen.normal() * scale;
  return new Tensor(d, shape, requiresGrad);
}

/** Distinct values at least 0.1 apart (in random order), so max/relu never sit near a tie or a kink. */
function distinct(shape: number[], requiresGrad = true): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = gen.permutation(n);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = (p[i] - Math.floor(n / 2)) * 0.1 + 0.05;
  return new Tensor(d, shape, requiresGrad);
}

function uniform(shape: number[], lo: number, hi: number, requiresGrad = true): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = lo + (hi - lo) * gen.random();
  return new Tensor(d, shape, requiresGrad);
}

function ints(shape: number[], high: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(
    Int32Array.from({ length: n }, () => gen.randint(0, high)),
    shape,
  );
}

function check(fn: (...t: Tensor[]) => Tensor, inputs: Tensor[], atol = 2e-2, rtol = 2e-2): void {
  assert.equal(gradcheck(fn, inputs, { eps: 1e-2, atol, rtol }), true);
}

testAll('gradcheck conv2d: plain, stride+padding, dilation, groups, same (even kernel), rectangular', () => {
  check((x, w, b) => F.conv2d(x, w, b), [randn([2, 3, 5, 5]), randn([4, 3, 3, 3]), randn([4])]);
  check(
    (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }),
    [randn([1, 2, 6, 7]), randn([3, 2, 3, 3]), randn([3])],
  );
  check(
    (x, w) => F.conv2d(x, w, null, { dilation: 2, padding: 2 }),
    [randn([1, 2, 7, 7]), randn([2, 2, 3, 3])],
  );
  check(
    (x, w, b) => F.conv2d(x, w, b, { groups: 2, padding: 1 }),
    [randn([2, 4, 4, 4]), randn([6, 2, 3, 3]), randn([6])],
  );
  check((x, w) => F.conv2d(x, w, null, { padding: 'same' }), [randn([1, 2, 5, 6]), randn([2, 2, 4, 4])]);
  check(
    (x, w) => F.conv2d(x, w, null, { stride: [2, 1], padding: [1, 0] }),
    [randn([1, 2, 7, 6]), randn([2, 2, 3, 2])],
  );
});

testAll('gradcheck conv1d and conv3d', () => {
  check(
    (x, w, b) => F.conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2 }),
    [randn([2, 2, 11]), randn([3, 2, 3]), randn([3])],
  );
  check(
    (x, w, b) => F.conv3d(x, w, b, { stride: [1, 2, 2], padding: 1 }),
    [randn([1, 2, 3, 4, 4]), randn([2, 2, 2, 3, 3]), randn([2])],
  );
});

testAll('gradcheck convTranspose2d: stride + outputPadding, groups, dilation', () => {
  check(
    (x, w, b) => F.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }),
    [randn([2, 3, 3, 3]), randn([3, 2, 3, 3]), randn([2])],
  );
  check(
    (x, w) => F.convTranspose2d(x, w, null, { groups: 2, dilation: 2 }),
    [randn([1, 4, 3, 3]), randn([4, 1, 2, 2])],
  );
});

testAll('gradcheck max pooling (1-D, 2-D with padding/ceilMode/dilation, 3-D) and adaptive max', () => {
  check((x) => F.maxPool1d(x, { kernelSize: 3, stride: 2, padding: 1 }), [distinct([2, 2, 9])]);
  check(
    (x) => F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }),
    [distinct([1, 2, 6, 7])],
  );
  check((x) => F.maxPool2d(x, { kernelSize: 2, stride: 1, dilation: 2 }), [distinct([1, 1, 6, 6])]);
  check((x) => F.maxPool3d(x, { kernelSize: 2 }), [distinct([1, 2, 4, 4, 4])]);
  check((x) => F.adaptiveMaxPool2d(x, [3, 2]), [distinct([1, 2, 7, 5])]);
});

testAll(
  'gradcheck average pooling (countIncludePad both ways, ceilMode, divisorOverride) and adaptive average',
  () => {
    check((x) => F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), [randn([1, 2, 7, 6])]);
    check(
      (x) => F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false, ceilMode: true }),
      [randn([1, 2, 6, 6])],
    );
    check((x) => F.avgPool2d(x, { kernelSize: 2, padding: 1, divisorOverride: 3 }), [randn([1, 1, 5, 5])]);
    check((x) => F.adaptiveAvgPool2d(x, 3), [randn([2, 2, 7, 5])]);
  },
);

testAll('gradcheck batchNorm: training over (N,C), (N,C,L), (N,C,H,W); eval', () => {
  const stats = (c: number) => [
    new Tensor(new Float32Array(c), [c]),
    new Tensor(new Float32Array(c).fill(1), [c]),
  ];
  for (const shape of [
    [6, 3],
    [3, 2, 5],
    [2, 3, 3, 3],
  ]) {
    const c = shape[1];
    check(
      (x, w, b) => {
        const [rm, rv] = stats(c);
        return F.batchNorm(x, rm, rv, w, b, { training: true });
      },
      [randn(shape), randn([c]), randn([c])],
      3e-2,
      3e-2,
    );
  }
  const rm = randn([3], false);
  const rv = uniform([3], 0.5, 2, false);
  check(
    (x, w, b) => F.batchNorm(x, rm, rv, w, b, { training: false }),
    [randn([2, 3, 4]), randn([3]), randn([3])],
  );
});

testAll('gradcheck linear (2-D and 3-D input)', () => {
  check((x, w, b) => F.linear(x, w, b), [randn([4, 5]), randn([3, 5]), randn([3])]);
  check((x, w) => F.linear(x, w), [randn([2, 3, 5]), randn([4, 5])]);
});

testAll('gradcheck activations and (log-)softmax', () => {
  check((x) => F.relu(x), [distinct([3, 7])]);
  check((x) => F.leakyRelu(x, 0.2), [distinct([3, 7])]);
  check((x) => F.elu(x, 1.5), [distinct([3, 7])]);
  check((x) => F.sigmoid(x), [randn([3, 7])]);
  check((x) => F.tanh(x), [randn([3, 7])]);
  check((x) => F.gelu(x), [randn([3, 7])]);
  check((x) => F.gelu(x, { approximate: 'tanh' }), [randn([3, 7])]);
  check((x) => F.softmax(x, 1), [randn([3, 4, 5])]);
  check((x) => F.logSoftmax(x, -1), [randn([3, 4, 5])]);
  check((x) => F.logSoftmax(x, 0), [randn([4, 3])]);
});

testAll(
  'gradcheck losses: crossEntropy (weights, ignoreIndex, smoothing, spatial, probabilities), nll, mse, l1, bce',
  () => {
    const target = new Tensor(Int32Array.from([0, 3, -100, 2, 1]), [5]);
    const weight = uniform([4], 0.5, 2, false);
    check((x) => F.crossEntropy(x, target), [randn([5, 4])]);
    check((x) => F.crossEntropy(x, target, { weight, labelSmoothing: 0.2 }), [randn([5, 4])]);
    check((x) => F.crossEntropy(x, target, { labelSmoothing: 0.1, reduction: 'sum' }), [randn([5, 4])]);
    const spatialTarget = ints([2, 3], 4);
    check((x) => F.crossEntropy(x, spatialTarget, { reduction: 'none' }), [randn([2, 4, 3])]);
    const probs = F.softmax(randn([5, 4], false), 1);
    check((x) => F.crossEntropy(x, probs, { weight, labelSmoothing: 0.1 }), [randn([5, 4])]);
    check((x) => F.nllLoss(x, target, { weight }), [randn([5, 4])]);
    check((x, t) => F.mseLoss(x, t), [randn([3, 4]), randn([3, 4])]);
    check(
      (x, t) => F.l1Loss(x, t, { reduction: 'sum' }),
      [distinct([3, 4]), new Tensor(new Float32Array(12).fill(0.05), [3, 4], true)],
    );
    const bceTarget = uniform([3, 4], 0, 1, false);
    check((x) => F.bceLoss(x, bceTarget), [uniform([3, 4], 0.1, 0.9)]);
    const posWeight = uniform([4], 0.5, 3, false);
    check((x, t) => F.bceWithLogitsLoss(x, t, { posWeight }), [randn([3, 4]), uniform([3, 4], 0, 1)]);
  },
);

testAll('gradcheck interpolate: nearest, bilinear with and without alignCorners, fractional scale', () => {
  check((x) => F.interpolate(x, { scaleFactor: 2 }), [randn([1, 2, 3, 4])]);
  check((x) => F.interpolate(x, { size: [5, 7], mode: 'bilinear' }), [randn([1, 2, 3, 4])]);
  check(
    (x) => F.interpolate(x, { size: [2, 6], mode: 'bilinear', alignCorners: true }),
    [randn([2, 1, 4, 3])],
  );
  check((x) => F.interpolate(x, { scaleFactor: 1.5, mode: 'bilinear' }), [randn([1, 1, 4, 4])]);
});

testAll('gradcheck dropout (same mask on every evaluation)', () => {
  check((x) => F.dropout(x, { p: 0.3, generator: new Generator(7) }), [randn([4, 6])]);
});
