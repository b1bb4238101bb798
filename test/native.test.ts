/**
 * The native backend against the js reference, kernel by kernel, on random geometries.
 * When the addon is not built the tests skip (a failed build must not turn CI red); when it is
 * there, any disagreement fails.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConvGeometry, PoolGeometry } from '../src/backend/backend.js';
import { jsBackend as J } from '../src/backend/js/index.js';
import { assertPaths, bothThreadCounts, native, skipMsg } from './helpers/native.js';
import * as F from '../src/ops/functional.js';
import { Tensor } from '../src/tensor/tensor.js';
import {
  assertClose,
  conv2dGeometry,
  prod,
  randArray,
  randInt,
  randomConvGeometry,
  randomPoolGeometry,
  rng,
  type ConvLimits,
} from './helpers/random-kernels.js';

const N = native;

/** Larger shapes than the js suite: enough work to split over threads and im2col chunks. */
const NATIVE_CONV: ConvLimits = { n: 3, cInPerGroup: 3, cOutPerGroup: 3, inSize: 11, inSize3d: 7, kernel: 5 };
const BIG_CONV: ConvLimits = { n: 9, cInPerGroup: 6, cOutPerGroup: 20, inSize: 30, inSize3d: 7, kernel: 5 };

test('native: info reports the backend, SIMD level and threads', (t) => {
  if (!N) return t.skip(skipMsg());
  const info = N.info();
  assert.equal(info.backend, 'native');
  assert.ok(['avx512', 'avx2', 'sse2', 'scalar'].includes(info.simd), info.simd);
  assert.ok(info.threads >= 1);
});

test('native gemm = js gemm: transposes, alpha/beta, leading dims, edge tiles, large and skinny shapes', (t) => {
  if (!N) return t.skip(skipMsg());
  const r = rng(11);
  const shapes = [
    [1, 1, 1],
    [5, 7, 3],
    [13, 33, 17],
    [12, 32, 384],
    [100, 70, 300],
    [257, 129, 520],
    [30, 1000, 40],
    [500, 20, 700],
    [8, 9, 5000],
    [3, 2, 0],
  ];
  bothThreadCounts((threads) => {
    for (const [m, n, k] of shapes)
      for (const tA of [false, true])
        for (const tB of [false, true])
          for (const [alpha, beta] of [
            [1, 0],
            [0.5, 1],
            [-2, 0.3],
          ]) {
            const lda = (tA ? m : k) + randInt(r, 0, 2) || 1;
            const ldb = (tB ? k : n) + randInt(r, 0, 2) || 1;
            const ldc = n + randInt(r, 0, 2);
            const a = randArray(r, (tA ? k : m) * lda);
            const b = randArray(r, (tB ? n : k) * ldb);
            const c = randArray(r, m * ldc);
            const cn = c.slice();
            J.gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            N.gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cn, ldc);
            assertClose(cn, c, `gemm ${m}×${n}×${k} tA=${tA} tB=${tB} α=${alpha} β=${beta} (${threads})`);
          }
  });
});

test('native gemm = js gemm when k is long next to m and n (the packed path split along k)', (t) => {
  if (!N) return t.skip(skipMsg());
  const r = rng(23);
  // k >= 16·max(m, n) and >= 1024 picks the k split; 64+ rows and columns keep A·Bᵀ off the
  // dot-product path. Edge tiles in m and n, ragged leading dims, NaN in C with beta = 0.
  const shapes = [
    [65, 66, 1100],
    [128, 128, 2100],
  ];
  bothThreadCounts((threads) => {
    for (const [m, n, k] of shapes)
      for (const tA of [false, true])
        for (const tB of [false, true])
          for (const [alpha, beta] of [
            [1, 0],
            [-0.5, 0.3],
          ]) {
            const lda = (tA ? m : k) + randInt(r, 0, 2);
            const ldb = (tB ? k : n) + randInt(r, 0, 2);
            const ldc = n + randInt(r, 0, 2);
            const a = randArray(r, (tA ? k : m) * lda);
            const b = randArray(r, (tB ? n : k) * ldb);
            const c = randArray(r, m * ldc);
            if (beta === 0) c.fill(NaN);
            const cn = c.slice();
            J.gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            N.gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cn, ldc);
            assertClose(cn, c, `gemm ${m}×${n}×${k} tA=${tA} tB=${tB} α=${alpha} β=${beta} (${threads})`);
          }
  });
});

test('native gemm: beta = 0 ignores NaN in C, works on subarray views, rejects short buffers', (t) => {
  if (!N) return t.skip(skipMsg());
  const buf = new Float32Array(64).fill(NaN);
  const a = buf.subarray(3, 3 + 6).fill(1); // 2×3 at a byte offset
  const b = Float32Array.from([1, 2, 3, 4, 5, 6]); // 3×2
  const c = buf.subarray(20, 24); // NaN-filled output view
  N.gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2);
  assert.deepEqual([...c], [9, 12, 9, 12]);
  assert.ok(Number.isNaN(buf[19]) && Number.isNaN(buf[24]), 'wrote outside the view');
  assert.throws(
    () => N.gemm(false, false, 4, 4, 4, 1, new Float32Array(15), 4, b, 4, 0, c, 4),
    /stride native/,
  );
});

for (const nd of [1, 2, 3] as const) {
  test(`native conv${nd}d = js conv${nd}d: forward, backward-input, backward-weight`, (t) => {
    if (!N) return t.skip(skipMsg());
    const r = rng(40 + nd);
    bothThreadCounts((threads) => {
      for (let trial = 0; trial < 30; trial++) {
        const g = randomConvGeometry(r, nd, trial % 3 === 0 ? BIG_CONV : NATIVE_CONV);
        const nx = g.n * g.cIn * prod(g.inSize);
        const nw = g.cOut * (g.cIn / g.groups) * prod(g.kernel);
        const ny = g.n * g.cOut * prod(g.outSize);
        const x = randArray(r, nx);
        const w = randArray(r, nw);
        const bias = trial % 2 ? randArray(r, g.cOut) : null;
        const dy = randArray(r, ny);
        const what = `conv${nd}d ${JSON.stringify(g)} (${threads})`;
        const [yj, yn] = [new Float32Array(ny), new Float32Array(ny).fill(NaN)];
        J.convForward(g, x, w, bias, yj);
        N.convForward(g, x, w, bias, yn);
        assertClose(yn, yj, `${what} forward`);
        const [dxj, dxn] = [new Float32Array(nx), new Float32Array(nx).fill(NaN)];
        J.convBackwardInput(g, dy, w, dxj);
        N.convBackwardInput(g, dy, w, dxn);
        assertClose(dxn, dxj, `${what} backward-input`);
        const [dwj, dwn] = [new Float32Array(nw), new Float32Array(nw).fill(NaN)];
        const [dbj, dbn] = [new Float32Array(g.cOut), new Float32Array(g.cOut).fill(NaN)];
        J.convBackwardWeight(g, x, dy, dwj, dbj);
        N.convBackwardWeight(g, x, dy, dwn, trial % 2 ? dbn : null);
        assertClose(dwn, dwj, `${what} backward-weight`);
        if (trial % 2) assertClose(dbn, dbj, `${what} backward-bias`);
      }
    });
  });
}

/**
 * Native convForward, convBackwardInput and convBackwardWeight (with bias) against js on one
 * geometry, from random data, with 1 thread (the shared chunked path) and the full pool (sample
 * tasks); outputs start as NaN so that an element the kernel skips shows.
 */
function compareConvKernels(g: ConvGeometry, seed: number, what: string, tol = 2e-4) {
  const r = rng(seed);
  const cInG = g.cIn / g.groups;
  const x = randArray(r, g.n * g.cIn * prod(g.inSize));
  const w = randArray(r, g.cOut * cInG * prod(g.kernel));
  const bias = randArray(r, g.cOut);
  const dy = randArray(r, g.n * g.cOut * prod(g.outSize));
  const [yj, dxj, dwj, dbj] = [dy.length, x.length, w.length, g.cOut].map((n) => new Float32Array(n));
  J.convForward(g, x, w, bias, yj);
  J.convBackwardInput(g, dy, w, dxj);
  J.convBackwardWeight(g, x, dy, dwj, dbj);
  bothThreadCounts((threads) => {
    const [yn, dxn, dwn, dbn] = [dy.length, x.length, w.length, g.cOut].map((n) =>
      new Float32Array(n).fill(NaN),
    );
    N!.convForward(g, x, w, bias, yn);
    N!.convBackwardInput(g, dy, w, dxn);
    N!.convBackwardWeight(g, x, dy, dwn, dbn);
    assertClose(yn, yj, `${what} (${threads}) forward`);
    assertClose(dxn, dxj, `${what} (${threads}) backward-input`);
    assertClose(dwn, dwj, `${what} (${threads}) backward-weight`, tol);
    assertClose(dbn, dbj, `${what} (${threads}) backward-bias`, tol);
  });
}

// The next two keep the forward pass on im2col + GEMM: more than 128 taps and 17 to 31 output
// channels per group (elsewhere a direct kernel runs it; test/conv-block.test.ts covers those).
test('native conv2d = js on a LeNet/MNIST-sized layer (batched im2col path)', (t) => {
  if (!N) return t.skip(skipMsg());
  const g = conv2dGeometry(16, 16, 24, 1, [28, 28], 3, { pad: 1 });
  assertPaths(g, null, { forward: 'gemm', weightGrad: 'gemm' }, 'LeNet-sized');
  compareConvKernels(g, 5, 'LeNet-sized');
});

test('native conv = js when the batch is unfolded in several chunks (large column matrix)', (t) => {
  if (!N) return t.skip(skipMsg());
  // K·P = 144·1024 floats per sample and group: with 1 thread the native column buffer (512 Ki
  // floats) holds 3 samples, so a batch of 13 takes 5 chunks, the last one partial.
  const g = conv2dGeometry(13, 32, 34, 2, [32, 32], 3, { pad: 1 });
  assertPaths(g, null, { forward: 'gemm' }, 'chunked');
  compareConvKernels(g, 8, 'chunked', 3e-4);
});

for (const nd of [1, 2, 3] as const) {
  test(`native pool${nd}d = js pool${nd}d: max (values, indices, backward), avg (both countIncludePad), ceilMode`, (t) => {
    if (!N) return t.skip(skipMsg());
    const r = rng(70 + nd);
    bothThreadCounts((threads) => {
      for (let trial = 0; trial < 40; trial++) {
        const ceil = trial % 2 === 1;
        const g = randomPoolGeometry(r, nd, ceil, trial % 4 < 2, { planes: 40, inSize: 14 });
        const nx = g.planes * prod(g.inSize);
        const ny = g.planes * prod(g.outSize);
        const x = randArray(r, nx);
        if (trial % 5 === 0) x[randInt(r, 0, nx - 1)] = NaN;
        const dy = randArray(r, ny);
        const what = `pool ${JSON.stringify(g)} (${threads})`;
        const [yj, yn] = [new Float32Array(ny), new Float32Array(ny)];
        const [ij, inn] = [new Int32Array(ny), new Int32Array(ny)];
        J.maxPoolForward(g, x, yj, ij);
        N.maxPoolForward(g, x, yn, inn);
        assertClose(yn, yj, `${what} max forward`);
        assert.deepEqual(inn, ij, `${what} max indices`);
        const [dxj, dxn] = [new Float32Array(nx), new Float32Array(nx).fill(NaN)];
        J.maxPoolBackward(g, dy, ij, dxj);
        N.maxPoolBackward(g, dy, ij, dxn);
        assertClose(dxn, dxj, `${what} max backward`);
        const xa = x.map((v) => (Number.isNaN(v) ? 0.5 : v));
        for (const cip of [false, true]) {
          J.avgPoolForward(g, xa, yj, cip);
          N.avgPoolForward(g, xa, yn, cip);
          assertClose(yn, yj, `${what} avg forward cip=${cip}`);
          dxn.fill(NaN);
          J.avgPoolBackward(g, dy, dxj, cip);
          N.avgPoolBackward(g, dy, dxn, cip);
          assertClose(dxn, dxj, `${what} avg backward cip=${cip}`);
        }
      }
    });
  });
}

test('native adamStep = js adamStep: Adam, AdamW, amsgrad, several steps, large and small tensors', (t) => {
  if (!N) return t.skip(skipMsg());
  const r = rng(99);
  for (const n of [7, 100_003])
    for (const decoupled of [false, true])
      for (const amsgrad of [false, true]) {
        const p = randArray(r, n);
        const state = () => ({
          p: p.slice(),
          m: new Float32Array(n),
          v: new Float32Array(n),
          vMax: amsgrad ? new Float32Array(n) : null,
        });
        const sj = state();
        const sn = state();
        for (let step = 1; step <= 4; step++) {
          const grad = randArray(r, n);
          const o = { lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.05, decoupled, step };
          J.adamStep(sj.p, grad, sj.m, sj.v, sj.vMax, o);
          N.adamStep(sn.p, grad, sn.m, sn.v, sn.vMax, o);
        }
        const what = `adam n=${n} decoupled=${decoupled} amsgrad=${amsgrad}`;
        assertClose(sn.p, sj.p, `${what} p`);
        assertClose(sn.m, sj.m, `${what} m`);
        assertClose(sn.v, sj.v, `${what} v`);
        if (sn.vMax) assertClose(sn.vMax, sj.vMax!, `${what} vMax`);
      }
});

/** x with the IEEE special values spliced in at random places: ±0, ±inf, ±NaN, subnormals. */
function withSpecials(r: () => number, n: number): Float32Array {
  const x = randArray(r, n);
  const bits = new Int32Array(x.buffer);
  const specials = [0, -0, Infinity, -Infinity, NaN, 1e-40, -1e-40];
  for (let k = 0; k < Math.min(n, 64); k++) x[randInt(r, 0, n - 1)] = specials[k % specials.length];
  if (n > 0) bits[randInt(r, 0, n - 1)] = 0xffc00000 | 0; // -NaN
  if (n > 1) bits[randInt(r, 0, n - 1)] = 0x7fc00001; // +NaN with a payload
  return x;
}
const bitsOf = (a: Float32Array) => new Int32Array(a.buffer, a.byteOffset, a.length);

test('native relu / reluBackward = the js op, bit for bit: NaN, ±0, ±inf, odd lengths, offsets, in place', (t) => {
  if (!N) return t.skip(skipMsg());
  const r = rng(123);
  bothThreadCounts((threads) => {
    for (const n of [0, 1, 7, 33, 16_384, 100_003, 300_001]) {
      const what = `relu n=${n} (${threads})`;
      const x = withSpecials(r, n);
      // The js reference: the op on the js backend (its own loops) and its gradient through autograd.
      const xt = new Tensor(x.slice(), [n]);
      xt.requiresGrad = true;
      const yt = F.relu(xt);
      const dy = withSpecials(r, n);
      yt.backward(new Tensor(dy.slice(), [n]));
      const yn = new Float32Array(n).fill(7);
      N.relu!(x, yn);
      assert.deepEqual(bitsOf(yn), bitsOf(yt.data as Float32Array), `${what} forward`);
      const dxn = new Float32Array(n).fill(7);
      N.reluBackward!(yn, dy, dxn);
      assert.deepEqual(bitsOf(dxn), bitsOf(xt.grad!.data as Float32Array), `${what} backward`);
      // dx may be dy itself.
      const dyInPlace = dy.slice();
      N.reluBackward!(yn, dyInPlace, dyInPlace);
      assert.deepEqual(bitsOf(dyInPlace), bitsOf(dxn), `${what} backward in place`);
    }
  });
  // PyTorch's values on the specials: relu(NaN) = NaN, relu(-0) = +0, relu(-inf) = 0, relu(inf) = inf.
  const x = Float32Array.of(NaN, -0, -Infinity, Infinity, -2, 3, 0);
  const y = new Float32Array(x.length);
  N.relu!(x, y);
  assert.ok(Number.isNaN(y[0]), 'relu(NaN) is NaN');
  assert.ok(Object.is(y[1], 0), 'relu(-0) is +0');
  assert.deepEqual([...y.slice(2)], [0, Infinity, 0, 3, 0]);
  const dx = new Float32Array(x.length);
  N.reluBackward!(y, Float32Array.of(1, 1, 1, 1, 1, 1, 1), dx);
  assert.deepEqual([...dx], [1, 0, 0, 1, 0, 1, 0], 'gradient passes where y > 0 or NaN');
  // Views at an offset: only the view's elements are read and written.
  const buf = new Float32Array(40).fill(-1);
  const src = new Float32Array(buf.buffer, 8 * 4, 20);
  const dst = new Float32Array(buf.buffer, 4 * 4, 3);
  N.relu!(src.subarray(0, 3), dst);
  assert.deepEqual([...buf.slice(0, 10)], [-1, -1, -1, -1, 0, 0, 0, -1, -1, -1]);
});

test('native relu / reluBackward: wrong arguments throw naming the kernel and the argument', (t) => {
  if (!N) return t.skip(skipMsg());
  assert.throws(() => N.relu!(new Float32Array(5), new Float32Array(4)), /relu: y has 4 elements, needs 5/);
  assert.throws(
    () => N.reluBackward!(new Float32Array(5), new Float32Array(5), new Float32Array(2)),
    /reluBackward: dx has 2 elements, needs 5/,
  );
  assert.throws(
    () => N.relu!(new Float64Array(3) as unknown as Float32Array, new Float32Array(3)),
    /relu: x must be a Float32Array/,
  );
});

test('native maxPool 2×2 stride 2 (the specialised path) = js: values bit for bit, indices, ties, NaN, -inf', (t) => {
  if (!N) return t.skip(skipMsg());
  const r = rng(222);
  // [planes, D, H, W, oH, oW]: even and odd sizes (odd ones drop the last row/column), 1-wide
  // outputs, a 3-D plane with kD = 1, and a ceilMode-like output that needs the general path.
  const cases = [
    [3, 1, 4, 4, 2, 2],
    [5, 1, 29, 29, 14, 14],
    [2, 1, 7, 10, 3, 5],
    [4, 1, 2, 2, 1, 1],
    [1, 1, 3, 33, 1, 16],
    [2, 3, 6, 5, 3, 2],
    [3, 1, 5, 5, 3, 3],
    [200, 1, 12, 12, 6, 6],
    // wider than one 16-output vector step: full steps and a masked tail
    [2, 1, 4, 50, 2, 25],
    [1, 1, 3, 70, 1, 35],
  ];
  bothThreadCounts((threads) => {
    for (const [planes, D, H, W, oH, oW] of cases) {
      const g: PoolGeometry = {
        planes,
        inSize: [D, H, W],
        outSize: [D, oH, oW],
        kernel: [1, 2, 2],
        stride: [1, 2, 2],
        padding: [0, 0, 0],
        dilation: [1, 1, 1],
      };
      const nx = planes * D * H * W;
      const ny = planes * D * oH * oW;
      // Few distinct values so windows tie often; then NaNs, -inf windows and ±0 ties.
      const x = Float32Array.from({ length: nx }, () => randInt(r, -3, 3));
      for (let k = 0; k < nx / 7; k++) x[randInt(r, 0, nx - 1)] = [NaN, -Infinity, -0, 0][k % 4];
      if (nx >= 4) x.fill(-Infinity, 0, 2);
      if (W >= 2 && H >= 2) x[W] = x[W + 1] = -Infinity;
      const what = `maxPool2x2 ${JSON.stringify(g)} (${threads})`;
      const [yj, yn] = [new Float32Array(ny), new Float32Array(ny).fill(7)];
      const [ij, inn] = [new Int32Array(ny), new Int32Array(ny).fill(-7)];
      J.maxPoolForward(g, x, yj, ij);
      N.maxPoolForward(g, x, yn, inn);
      assert.deepEqual(bitsOf(yn), bitsOf(yj), `${what} values`);
      assert.deepEqual(inn, ij, `${what} indices`);
    }
  });
});

test('native conv = js on M1 conv2-like layers split by samples over threads (ragged last task)', (t) => {
  if (!N) return t.skip(skipMsg());
  // With 2+ threads and n >= 2 per thread, each pool task runs its own few samples
  // (native/src/conv.cc by_sample_tasks); 11 samples leave a short last task.
  for (const [n, groups, hw] of [
    [11, 1, 9],
    [7, 2, 13],
  ]) {
    compareConvKernels(
      conv2dGeometry(n, 32, 64, groups, [hw, hw], 2, { pad: 1 }),
      31 + n,
      `conv n=${n} groups=${groups} ${hw}×${hw}`,
    );
  }
});
