/**
 * The native GEMM on the shapes the benchmark model M1 (SimpleCNN, batch 128) runs, and their odd
 * neighbours, against the js reference: its Linear(14400→128) forward and backward as plain gemm
 * calls, and conv2's segmented products (sgemm_seg, sgemm_nt_sum) through the conv kernels, which
 * are the only way the addon reaches them. Each with 1 thread and with the full pool, and each
 * native result computed twice to check it does not depend on which thread ran what.
 * Skips when the addon is not built (as test/native.test.ts does).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConvGeometry } from '../src/backend/backend.js';
import { jsBackend as J } from '../src/backend/js/index.js';
import { bothThreadCounts, native, skipMsg } from './helpers/native.js';
import { assertClose, prod, randArray, rng } from './helpers/random-kernels.js';

const N = native;

/** Bit-for-bit equality (a second run at the same thread count must reproduce the first). */
function assertSameBits(a: Float32Array, b: Float32Array, what: string) {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++)
    if (ua[i] !== ub[i]) assert.fail(`${what}: not reproducible at [${i}]: ${a[i]} then ${b[i]}`);
}

/**
 * The js reference sums k float32 products in order, so its own error grows with k (M1's linear
 * forward, k = 14400: up to ~5e-4 from a float64 sum on outputs of magnitude ~40, ten times the
 * native one): the tolerance grows as √k from k = 100. A missing or repeated block of k would
 * still be off by orders of magnitude more.
 */
const tolerance = (k: number) => 1e-4 * Math.max(1, Math.sqrt(k / 100));

type GemmCase = [tA: boolean, tB: boolean, m: number, n: number, k: number, alpha: number, beta: number];

/** native gemm = js gemm for each case, leading dims padded by `pad`, C starting as NaN when beta = 0. */
function checkGemms(cases: GemmCase[], seed: number, pad: number) {
  const r = rng(seed);
  for (const [tA, tB, m, n, k, alpha, beta] of cases) {
    const lda = (tA ? m : k) + pad || 1;
    const ldb = (tB ? k : n) + pad || 1;
    const ldc = n + pad;
    const a = randArray(r, (tA ? k : m) * lda);
    const b = randArray(r, (tB ? n : k) * ldb);
    const c0 = beta === 0 ? new Float32Array(m * ldc).fill(NaN) : randArray(r, m * ldc);
    const cj = c0.slice();
    J.gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cj, ldc);
    bothThreadCounts((threads) => {
      const what = `gemm ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} ${m}×${n}×${k} α=${alpha} β=${beta} (${threads})`;
      const cn = c0.slice();
      N!.gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cn, ldc);
      assertClose(cn, cj, what, tolerance(k));
      const again = c0.slice();
      N!.gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, again, ldc);
      assertSameBits(again, cn, what);
    });
  }
}

test('native gemm = js gemm on M1 Linear(14400→128): forward X·Wᵀ, dW = dYᵀ·X, dX = dY·W', (t) => {
  if (!N) return t.skip(skipMsg());
  checkGemms(
    [
      [false, true, 128, 128, 14400, 1, 0],
      [true, false, 128, 14400, 128, 1, 0],
      [false, false, 128, 14400, 128, 1, 0],
    ],
    101,
    0,
  );
});

test('native gemm = js gemm next to the M1 shapes: 63/65 rows, ragged columns, k = 1, alpha and beta', (t) => {
  if (!N) return t.skip(skipMsg());
  checkGemms(
    [
      // the linear forward's packed path split along k, with edge tiles both ways
      [false, true, 63, 65, 3000, 1, 0],
      [false, true, 65, 127, 4100, -0.5, 0.25],
      // conv2's shapes as plain products: 64 / 128 rows, 1800 columns and ragged neighbours
      [false, false, 64, 1800, 129, 1, 0],
      [false, false, 65, 1799, 129, 1, 1],
      [false, false, 63, 1801, 129, 2, 0],
      [true, false, 128, 1800, 64, 1, 0],
      [true, false, 127, 1830, 65, 0.5, -1],
      [false, true, 64, 128, 1800, 1, 0],
      [false, true, 65, 130, 1799, 1, 1],
      // the linear backward with ragged widths
      [true, false, 128, 14399, 128, 1, 0],
      [false, false, 127, 1000, 129, 1, 0.5],
      // k = 1: one packed row, nothing to transpose in register blocks
      [false, false, 128, 1800, 1, 1, 0],
      [true, false, 64, 100, 1, -1, 1],
      [false, true, 65, 66, 1, 1, 0],
      [true, true, 63, 33, 1, 1, 0],
      // k not a multiple of 8 (the transposes' tail) and a transposed A
      [false, true, 64, 128, 907, 1, 0],
      [true, true, 70, 90, 333, 1, 0],
    ],
    102,
    3,
  );
});

/** A conv2d geometry with kernel 2, padding 1 (M1's conv2 when cIn 32, cOut 64, 29×29 in). */
function convK2(n: number, cIn: number, cOut: number, h: number, w: number): ConvGeometry {
  return {
    n,
    cIn,
    cOut,
    groups: 1,
    inSize: [1, h, w],
    outSize: [1, h + 1, w + 1],
    kernel: [1, 2, 2],
    stride: [1, 1, 1],
    padBefore: [0, 1, 1],
    dilation: [1, 1, 1],
  };
}

// The conv kernels run their GEMMs as sgemm_seg (forward: W·col into y's NCHW places; backward-
// input: Wᵀ·dy read from its NCHW places) and sgemm_nt_sum (backward-weight: Σ_s dY_s·col_sᵀ), on
// a few samples per pool task with the full pool and on bigger chunks with 1 thread. M1's conv2
// with 8 samples gives the exact per-task calls (64 × 1800 × 129, 128 × 1800 × 64, 64 × 128 over
// 2 × 900); the neighbours have 63/64/65 output channels (the backward-weight product below and
// from 64 rows and columns on the packed path), K = 4·cIn of 68 and 132, and maps whose sample
// boundaries fall inside a 32-column panel.
for (const [name, g] of [
  ['M1 conv2 (8 samples)', convK2(8, 32, 64, 29, 29)],
  ['63 out, 17 in, 13×17 maps', convK2(6, 17, 63, 13, 17)],
  ['65 out, 17 in, 11×14 maps', convK2(7, 17, 65, 11, 14)],
  ['64 out, 33 in, 12×9 maps', convK2(5, 33, 64, 12, 9)],
] as const) {
  test(`native conv2d = js conv2d, segmented GEMMs: ${name}`, (t) => {
    if (!N) return t.skip(skipMsg());
    const r = rng(200 + g.cOut);
    const nx = g.n * g.cIn * prod(g.inSize);
    const nw = g.cOut * g.cIn * prod(g.kernel);
    const ny = g.n * g.cOut * prod(g.outSize);
    const x = randArray(r, nx);
    const w = randArray(r, nw);
    const bias = randArray(r, g.cOut);
    const dy = randArray(r, ny);
    const yj = new Float32Array(ny);
    const dxj = new Float32Array(nx);
    const dwj = new Float32Array(nw);
    const dbj = new Float32Array(g.cOut);
    J.convForward(g, x, w, bias, yj);
    J.convBackwardInput(g, dy, w, dxj);
    J.convBackwardWeight(g, x, dy, dwj, dbj);
    bothThreadCounts((threads) => {
      const what = `${name} (${threads})`;
      const runs = [0, 1].map(() => {
        const y = new Float32Array(ny).fill(NaN);
        const dx = new Float32Array(nx).fill(NaN);
        const dw = new Float32Array(nw).fill(NaN);
        const db = new Float32Array(g.cOut).fill(NaN);
        N!.convForward(g, x, w, bias, y);
        N!.convBackwardInput(g, dy, w, dx);
        N!.convBackwardWeight(g, x, dy, dw, db);
        return { y, dx, dw };
      });
      assertClose(runs[0].y, yj, `${what} forward`);
      assertClose(runs[0].dx, dxj, `${what} backward-input`);
      assertClose(runs[0].dw, dwj, `${what} backward-weight`, 2e-4);
      assertSameBits(runs[1].y, runs[0].y, `${what} forward`);
      assertSameBits(runs[1].dx, runs[0].dx, `${what} backward-input`);
      assertSameBits(runs[1].dw, runs[0].dw, `${what} backward-weight`);
    });
  });
}
