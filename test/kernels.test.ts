/**
 * The js backend's kernels against naive direct loops (and a few hand-computed values).
 * Everything above the backend trusts these, so the geometries are deliberately awkward:
 * stride, asymmetric padding, dilation, groups, 1-D and 3-D, ceilMode, countIncludePad.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ConvGeometry, PoolGeometry } from '../src/backend/backend.js';
import { jsBackend as B } from '../src/backend/js/index.js';
import {
  assertClose,
  prod,
  randArray,
  randInt,
  randomConvGeometry,
  randomPoolGeometry,
  rng,
} from './helpers/random-kernels.js';

// ---------- helpers ----------

// ---------- gemm ----------

function naiveGemm(
  tA: boolean,
  tB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) {
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++)
        s += (tA ? a[p * lda + i] : a[i * lda + p]) * (tB ? b[j * ldb + p] : b[p * ldb + j]);
      c[i * ldc + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * ldc + j]);
    }
}

test('gemm: hand-computed 2×3 · 3×2', () => {
  const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const b = Float32Array.from([7, 8, 9, 10, 11, 12]);
  const c = new Float32Array(4);
  B.gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2);
  assert.deepEqual([...c], [58, 64, 139, 154]);
  // Aᵀ (3×2 stored) times Bᵀ: (AᵀᵀBᵀᵀ) with the same numbers reinterpreted.
  B.gemm(
    true,
    true,
    2,
    2,
    3,
    2,
    Float32Array.from([1, 4, 2, 5, 3, 6]),
    2,
    Float32Array.from([7, 9, 11, 8, 10, 12]),
    3,
    1,
    c,
    2,
  );
  assert.deepEqual([...c], [58 * 3, 64 * 3, 139 * 3, 154 * 3]);
});

test('gemm: all transpose combos, alpha/beta, leading dims, odd sizes', () => {
  const r = rng(1);
  const shapes = [
    [1, 1, 1],
    [3, 5, 7],
    [17, 33, 9],
    [64, 70, 130],
    [5, 600, 140],
    [130, 3, 300],
  ];
  for (const [m, n, k] of shapes)
    for (const tA of [false, true])
      for (const tB of [false, true])
        for (const [alpha, beta] of [
          [1, 0],
          [0.5, 1],
          [-2, 0.25],
        ]) {
          const lda = (tA ? m : k) + randInt(r, 0, 3);
          const ldb = (tB ? k : n) + randInt(r, 0, 3);
          const ldc = n + randInt(r, 0, 3);
          const a = randArray(r, (tA ? k : m) * lda);
          const b = randArray(r, (tB ? n : k) * ldb);
          const c0 = randArray(r, m * ldc);
          const c = c0.slice();
          const ref = c0.slice();
          B.gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
          naiveGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, ref, ldc);
          assertClose(c, ref, `gemm ${m}x${n}x${k} tA=${tA} tB=${tB} α=${alpha} β=${beta}`);
        }
});

test('gemm: beta = 0 ignores NaN in C; k = 0 only scales', () => {
  const a = Float32Array.from([1, 2]);
  const b = Float32Array.from([3, 4]);
  const c = Float32Array.from([NaN]);
  B.gemm(false, false, 1, 1, 2, 1, a, 2, b, 1, 0, c, 1);
  assert.equal(c[0], 11);
  const c2 = Float32Array.from([3]);
  B.gemm(false, false, 1, 1, 0, 1, a, 2, b, 1, 2, c2, 1);
  assert.equal(c2[0], 6);
});

test('gemm: NaN in B propagates even where A is 0', () => {
  const c = new Float32Array(1);
  B.gemm(false, false, 1, 1, 1, 1, Float32Array.from([0]), 1, Float32Array.from([NaN]), 1, 0, c, 1);
  assert.ok(Number.isNaN(c[0]));
});

// ---------- convolution ----------

interface ConvRef {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  db: Float32Array;
}

/** Direct convolution and its gradients by brute-force loops over every (output, tap) pair. */
function naiveConv(
  g: ConvGeometry,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array,
  dy: Float32Array,
): ConvRef {
  const [D, H, W] = g.inSize;
  const [oD, oH, oW] = g.outSize;
  const [kD, kH, kW] = g.kernel;
  const cInG = g.cIn / g.groups;
  const cOutG = g.cOut / g.groups;
  const y = new Float32Array(g.n * g.cOut * oD * oH * oW);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  const db = new Float32Array(g.cOut);
  for (let s = 0; s < g.n; s++)
    for (let oc = 0; oc < g.cOut; oc++) {
      const grp = Math.floor(oc / cOutG);
      for (let od = 0; od < oD; od++)
        for (let oh = 0; oh < oH; oh++)
          for (let ow = 0; ow < oW; ow++) {
            const yi = (((s * g.cOut + oc) * oD + od) * oH + oh) * oW + ow;
            let acc = bias[oc];
            db[oc] += dy[yi];
            for (let ic = 0; ic < cInG; ic++)
              for (let kd = 0; kd < kD; kd++)
                for (let kh = 0; kh < kH; kh++)
                  for (let kw = 0; kw < kW; kw++) {
                    const id = od * g.stride[0] - g.padBefore[0] + kd * g.dilation[0];
                    const ih = oh * g.stride[1] - g.padBefore[1] + kh * g.dilation[1];
                    const iw = ow * g.stride[2] - g.padBefore[2] + kw * g.dilation[2];
                    if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                    const xi = (((s * g.cIn + grp * cInG + ic) * D + id) * H + ih) * W + iw;
                    const wi = (((oc * cInG + ic) * kD + kd) * kH + kh) * kW + kw;
                    acc += x[xi] * w[wi];
                    dx[xi] += w[wi] * dy[yi];
                    dw[wi] += x[xi] * dy[yi];
                  }
            y[yi] = acc;
          }
    }
  return { y, dx, dw, db };
}

export function convSizes(g: ConvGeometry) {
  return {
    x: g.n * g.cIn * prod(g.inSize),
    w: g.cOut * (g.cIn / g.groups) * prod(g.kernel),
    y: g.n * g.cOut * prod(g.outSize),
  };
}

test('conv: hand-computed 3×3 box filter with padding 1', () => {
  const g: ConvGeometry = {
    n: 1,
    cIn: 1,
    cOut: 1,
    groups: 1,
    inSize: [1, 3, 3],
    outSize: [1, 3, 3],
    kernel: [1, 3, 3],
    stride: [1, 1, 1],
    padBefore: [0, 1, 1],
    dilation: [1, 1, 1],
  };
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const w = new Float32Array(9).fill(1);
  const y = new Float32Array(9);
  B.convForward(g, x, w, Float32Array.from([10]), y);
  assert.deepEqual([...y], [22, 31, 26, 37, 55, 43, 34, 49, 38]);
  // Every input is read by as many outputs as its 3×3 neighbourhood has in-bounds cells.
  const dx = new Float32Array(9);
  B.convBackwardInput(g, new Float32Array(9).fill(1), w, dx);
  assert.deepEqual([...dx], [4, 6, 4, 6, 9, 6, 4, 6, 4]);
  const dw = new Float32Array(9);
  const db = new Float32Array(1);
  B.convBackwardWeight(g, x, new Float32Array(9).fill(1), dw, db);
  assert.deepEqual([...dw], [12, 21, 16, 27, 45, 33, 24, 39, 28]);
  assert.equal(db[0], 9);
});

for (const nd of [1, 2, 3] as const) {
  test(`conv${nd}d: forward, backward-input, backward-weight vs direct loops (random geometries)`, () => {
    const r = rng(100 + nd);
    for (let trial = 0; trial < 40; trial++) {
      const g = randomConvGeometry(r, nd);
      const sz = convSizes(g);
      const x = randArray(r, sz.x);
      const w = randArray(r, sz.w);
      const bias = randArray(r, g.cOut);
      const dy = randArray(r, sz.y);
      const ref = naiveConv(g, x, w, bias, dy);
      const what = `conv${nd}d ${JSON.stringify(g)}`;

      const y = new Float32Array(sz.y).fill(NaN);
      B.convForward(g, x, w, bias, y);
      assertClose(y, ref.y, `${what} forward`);
      B.convForward(g, x, w, null, y);
      const yNoBias = ref.y.map((v, i) => v - bias[Math.floor(i / prod(g.outSize)) % g.cOut]);
      assertClose(y, yNoBias, `${what} forward without bias`);

      const dx = new Float32Array(sz.x).fill(NaN);
      B.convBackwardInput(g, dy, w, dx);
      assertClose(dx, ref.dx, `${what} backward-input`);

      const dw = new Float32Array(sz.w).fill(NaN);
      const db = new Float32Array(g.cOut).fill(NaN);
      B.convBackwardWeight(g, x, dy, dw, db);
      assertClose(dw, ref.dw, `${what} backward-weight`);
      assertClose(db, ref.db, `${what} backward-bias`);
      B.convBackwardWeight(g, x, dy, dw, null);
      assertClose(dw, ref.dw, `${what} backward-weight without db`);
    }
  });
}

// ---------- pooling ----------

/** Walks every window tap of every output in the most direct way; `visit` gets (q, flat index or -1 for padding). */
function forEachTap(
  g: PoolGeometry,
  visit: (plane: number, q: number, pos: number, padded: boolean) => void,
) {
  const [D, H, W] = g.inSize;
  const [oD, oH, oW] = g.outSize;
  let q = 0;
  for (let pl = 0; pl < g.planes; pl++)
    for (let od = 0; od < oD; od++)
      for (let oh = 0; oh < oH; oh++)
        for (let ow = 0; ow < oW; ow++, q++)
          for (let kd = 0; kd < g.kernel[0]; kd++)
            for (let kh = 0; kh < g.kernel[1]; kh++)
              for (let kw = 0; kw < g.kernel[2]; kw++) {
                const id = od * g.stride[0] - g.padding[0] + kd * g.dilation[0];
                const ih = oh * g.stride[1] - g.padding[1] + kh * g.dilation[1];
                const iw = ow * g.stride[2] - g.padding[2] + kw * g.dilation[2];
                // A tap beyond the padded input (ceilMode overhang) is not part of the window at all.
                if (id >= D + g.padding[0] || ih >= H + g.padding[1] || iw >= W + g.padding[2]) continue;
                const inside = id >= 0 && id < D && ih >= 0 && ih < H && iw >= 0 && iw < W;
                visit(pl, q, inside ? (id * H + ih) * W + iw : -1, !inside);
              }
}

function naiveMaxPool(g: PoolGeometry, x: Float32Array, dy: Float32Array) {
  const inPlane = prod(g.inSize);
  const nOut = g.planes * prod(g.outSize);
  const y = new Float32Array(nOut).fill(-Infinity);
  const idx = new Int32Array(nOut).fill(-1);
  forEachTap(g, (pl, q, pos) => {
    if (pos < 0) return; // padding is -inf: never the maximum
    const v = x[pl * inPlane + pos];
    if (idx[q] < 0 || v > y[q]) {
      y[q] = v;
      idx[q] = pos;
    }
  });
  const dx = new Float32Array(g.planes * inPlane);
  for (let q = 0; q < nOut; q++)
    if (idx[q] >= 0) dx[Math.floor(q / prod(g.outSize)) * inPlane + idx[q]] += dy[q];
  return { y, idx, dx };
}

function naiveAvgPool(g: PoolGeometry, x: Float32Array, dy: Float32Array, countIncludePad: boolean) {
  const inPlane = prod(g.inSize);
  const nOut = g.planes * prod(g.outSize);
  const sum = new Float64Array(nOut);
  const real = new Int32Array(nOut);
  const all = new Int32Array(nOut);
  forEachTap(g, (pl, q, pos) => {
    all[q]++;
    if (pos < 0) return;
    real[q]++;
    sum[q] += x[pl * inPlane + pos];
  });
  const div = (q: number) => (countIncludePad ? all[q] : real[q]);
  const y = new Float32Array(nOut);
  for (let q = 0; q < nOut; q++) y[q] = real[q] ? sum[q] / div(q) : 0;
  const dx = new Float32Array(g.planes * inPlane);
  forEachTap(g, (pl, q, pos) => {
    if (pos >= 0) dx[pl * inPlane + pos] += dy[q] / div(q);
  });
  return { y, dx };
}

test('pool: hand-computed max and avg (2×2 windows, padding 1)', () => {
  const g: PoolGeometry = {
    planes: 1,
    inSize: [1, 2, 3],
    outSize: [1, 2, 2],
    kernel: [1, 2, 2],
    stride: [1, 2, 2],
    padding: [0, 1, 1],
    dilation: [1, 1, 1],
  };
  const x = Float32Array.from([1, -2, 3, -4, 5, -6]);
  const y = new Float32Array(4);
  const idx = new Int32Array(4);
  B.maxPoolForward(g, x, y, idx);
  assert.deepEqual([...y], [1, 3, -4, 5]);
  assert.deepEqual([...idx], [0, 2, 3, 4]);
  const dx = new Float32Array(6).fill(7);
  B.maxPoolBackward(g, Float32Array.from([1, 2, 3, 4]), idx, dx);
  assert.deepEqual([...dx], [1, 0, 2, 3, 4, 0]);
  B.avgPoolForward(g, x, y, true);
  assert.deepEqual([...y], [1 / 4, (-2 + 3) / 4, -4 / 4, (5 - 6) / 4]);
  B.avgPoolForward(g, x, y, false);
  assert.deepEqual([...y], [1, (-2 + 3) / 2, -4, (5 - 6) / 2]);
});

test('pool: max propagates NaN like PyTorch, first maximum wins on ties', () => {
  const g: PoolGeometry = {
    planes: 1,
    inSize: [1, 1, 4],
    outSize: [1, 1, 1],
    kernel: [1, 1, 4],
    stride: [1, 1, 4],
    padding: [0, 0, 0],
    dilation: [1, 1, 1],
  };
  const y = new Float32Array(1);
  const idx = new Int32Array(1);
  B.maxPoolForward(g, Float32Array.from([1, 5, 5, 2]), y, idx);
  assert.equal(y[0], 5);
  assert.equal(idx[0], 1);
  B.maxPoolForward(g, Float32Array.from([1, NaN, 9, 2]), y, idx);
  assert.ok(Number.isNaN(y[0]));
  assert.equal(idx[0], 1);
});

for (const nd of [1, 2, 3] as const)
  for (const ceil of [false, true]) {
    test(`maxPool${nd}d${ceil ? ' ceilMode' : ''}: forward, indices, backward vs direct loops`, () => {
      const r = rng(200 + nd * 2 + (ceil ? 1 : 0));
      for (let trial = 0; trial < 40; trial++) {
        const g = randomPoolGeometry(r, nd, ceil, true);
        const x = randArray(r, g.planes * prod(g.inSize));
        const dy = randArray(r, g.planes * prod(g.outSize));
        const ref = naiveMaxPool(g, x, dy);
        const what = `maxPool ${JSON.stringify(g)}`;
        const y = new Float32Array(ref.y.length).fill(NaN);
        const idx = new Int32Array(ref.y.length).fill(-7);
        B.maxPoolForward(g, x, y, idx);
        assertClose(y, ref.y, `${what} forward`);
        assert.deepEqual([...idx], [...ref.idx], `${what} indices`);
        const dx = new Float32Array(x.length).fill(NaN);
        B.maxPoolBackward(g, dy, idx, dx);
        assertClose(dx, ref.dx, `${what} backward`);
      }
    });

    for (const countIncludePad of [false, true])
      test(`avgPool${nd}d${ceil ? ' ceilMode' : ''} countIncludePad=${countIncludePad}: forward, backward vs direct loops`, () => {
        const r = rng(300 + nd * 4 + (ceil ? 2 : 0) + (countIncludePad ? 1 : 0));
        for (let trial = 0; trial < 40; trial++) {
          const g = randomPoolGeometry(r, nd, ceil, false);
          const x = randArray(r, g.planes * prod(g.inSize));
          const dy = randArray(r, g.planes * prod(g.outSize));
          const ref = naiveAvgPool(g, x, dy, countIncludePad);
          const what = `avgPool ${JSON.stringify(g)}`;
          const y = new Float32Array(ref.y.length).fill(NaN);
          B.avgPoolForward(g, x, y, countIncludePad);
          assertClose(y, ref.y, `${what} forward`);
          const dx = new Float32Array(x.length).fill(NaN);
          B.avgPoolBackward(g, dy, dx, countIncludePad);
          assertClose(dx, ref.dx, `${what} backward`);
        }
      });
  }

// ---------- adam ----------

test('adamStep: hand-computed first step (bias correction makes it ±lr)', () => {
  const p = Float32Array.from([1, -1]);
  const m = new Float32Array(2);
  const v = new Float32Array(2);
  B.adamStep(p, Float32Array.from([0.5, -2]), m, v, null, {
    lr: 0.1,
    beta1: 0.9,
    beta2: 0.999,
    eps: 0,
    weightDecay: 0,
    decoupled: false,
    step: 1,
  });
  assertClose(p, [0.9, -0.9], 'p');
  assertClose(m, [0.05, -0.2], 'm');
  assertClose(v, [0.00025, 0.004], 'v');
});

function naiveAdam(
  p: number[],
  g: number[],
  m: number[],
  v: number[],
  vMax: number[] | null,
  lr: number,
  b1: number,
  b2: number,
  eps: number,
  wd: number,
  decoupled: boolean,
  step: number,
) {
  for (let i = 0; i < p.length; i++) {
    let gi = g[i];
    if (decoupled) p[i] = p[i] * (1 - lr * wd);
    else gi = gi + wd * p[i];
    m[i] = m[i] * b1 + gi * (1 - b1);
    v[i] = v[i] * b2 + gi * gi * (1 - b2);
    let vv = v[i];
    if (vMax) vv = vMax[i] = Math.max(vMax[i], v[i]);
    const denom = Math.sqrt(vv) / Math.sqrt(1 - b2 ** step) + eps;
    p[i] = p[i] - (lr / (1 - b1 ** step)) * (m[i] / denom);
  }
}

test('adamStep: Adam, AdamW, amsgrad over several steps vs the textbook formulas', () => {
  const r = rng(7);
  for (const decoupled of [false, true])
    for (const amsgrad of [false, true]) {
      const n = 37;
      const p = randArray(r, n);
      const m = new Float32Array(n);
      const v = new Float32Array(n);
      const vMax = amsgrad ? new Float32Array(n) : null;
      const rp = [...p];
      const rm = new Array<number>(n).fill(0);
      const rv = new Array<number>(n).fill(0);
      const rvMax = amsgrad ? new Array<number>(n).fill(0) : null;
      for (let step = 1; step <= 5; step++) {
        const grad = randArray(r, n);
        const o = { lr: 0.01, beta1: 0.8, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, decoupled, step };
        B.adamStep(p, grad, m, v, vMax, o);
        naiveAdam(
          rp,
          [...grad],
          rm,
          rv,
          rvMax,
          o.lr,
          o.beta1,
          o.beta2,
          o.eps,
          o.weightDecay,
          decoupled,
          step,
        );
      }
      const what = `adam decoupled=${decoupled} amsgrad=${amsgrad}`;
      assertClose(p, rp, `${what} p`);
      assertClose(m, rm, `${what} m`);
      assertClose(v, rv, `${what} v`);
      if (vMax) assertClose(vMax, rvMax!, `${what} vMax`);
    }
});

// ---------- PyTorch's oracle (../shared/oracle), kernel level ----------

interface T {
  shape: number[];
  data: number[];
}
interface OracleCase {
  name: string;
  op: string;
  args: Record<string, unknown>;
  inputs: Record<string, T | null>;
  output?: T;
  outputs?: Record<string, T>;
  gradOutput: T;
  grads: Record<string, T>;
}

function loadOracle(file: string): OracleCase[] | null {
  const url = new URL(`../../shared/oracle/${file}`, import.meta.url);
  try {
    return (JSON.parse(readFileSync(url, 'utf8')) as { cases: OracleCase[] }).cases;
  } catch {
    return null;
  }
}

const triple = (v: unknown, nd: number, fill: number): [number, number, number] => {
  const a = Array.isArray(v) ? (v as number[]) : new Array<number>(nd).fill(v as number);
  return [...new Array<number>(3 - nd).fill(fill), ...a] as [number, number, number];
};

test('oracle: conv1d/2d/3d forward and gradients at kernel level', (t) => {
  const cases = loadOracle('conv.json');
  if (!cases) return t.skip('../shared/oracle/conv.json not found');
  let checked = 0;
  for (const c of cases) {
    const m = /^conv([123])d$/.exec(c.op);
    if (!m) continue;
    const nd = Number(m[1]);
    const x = c.inputs.input!;
    const w = c.inputs.weight!;
    const bias = c.inputs.bias;
    const out = c.output!;
    const kernel = triple(w.shape.slice(2), nd, 1);
    const dilation = triple(c.args.dilation, nd, 1);
    let padBefore: [number, number, number];
    if (c.args.padding === 'same')
      padBefore = kernel.map((k, i) => Math.floor((dilation[i] * (k - 1)) / 2)) as never;
    else if (c.args.padding === 'valid') padBefore = [0, 0, 0];
    else padBefore = triple(c.args.padding, nd, 0);
    const g: ConvGeometry = {
      n: x.shape[0],
      cIn: x.shape[1],
      cOut: w.shape[0],
      groups: c.args.groups as number,
      inSize: triple(x.shape.slice(2), nd, 1),
      outSize: triple(out.shape.slice(2), nd, 1),
      kernel,
      stride: triple(c.args.stride, nd, 1),
      padBefore,
      dilation,
    };
    const y = new Float32Array(out.data.length);
    B.convForward(
      g,
      Float32Array.from(x.data),
      Float32Array.from(w.data),
      bias ? Float32Array.from(bias.data) : null,
      y,
    );
    assertClose(y, out.data, `${c.name} output`);
    const dy = Float32Array.from(c.gradOutput.data);
    const dx = new Float32Array(x.data.length);
    B.convBackwardInput(g, dy, Float32Array.from(w.data), dx);
    assertClose(dx, c.grads.input.data, `${c.name} grad input`);
    const dw = new Float32Array(w.data.length);
    const db = bias ? new Float32Array(bias.data.length) : null;
    B.convBackwardWeight(g, Float32Array.from(x.data), dy, dw, db);
    assertClose(dw, c.grads.weight.data, `${c.name} grad weight`);
    if (db) assertClose(db, c.grads.bias.data, `${c.name} grad bias`);
    checked++;
  }
  assert.ok(checked >= 10, `only ${checked} conv cases found`);
});

test('oracle: maxPool1d/2d/3d (with indices) and avgPool2d at kernel level', (t) => {
  const cases = loadOracle('pool.json');
  if (!cases) return t.skip('../shared/oracle/pool.json not found');
  let checked = 0;
  for (const c of cases) {
    const m = /^(max|avg)Pool([123])d$/.exec(c.op);
    if (!m) continue;
    const nd = Number(m[2]);
    const x = c.inputs.input!;
    const out = c.output ?? c.outputs!.output;
    const kernel = triple(c.args.kernelSize, nd, 1);
    const g: PoolGeometry = {
      planes: x.shape[0] * x.shape[1],
      inSize: triple(x.shape.slice(2), nd, 1),
      outSize: triple(out.shape.slice(2), nd, 1),
      kernel,
      stride: c.args.stride === null ? kernel : triple(c.args.stride, nd, 1),
      padding: triple(c.args.padding, nd, 0),
      dilation: triple(c.args.dilation ?? 1, nd, 1),
    };
    const xs = Float32Array.from(x.data);
    const y = new Float32Array(out.data.length);
    const dy = Float32Array.from(c.gradOutput.data);
    const dx = new Float32Array(x.data.length);
    if (m[1] === 'max') {
      const idx = new Int32Array(out.data.length);
      B.maxPoolForward(g, xs, y, idx);
      if (c.outputs?.indices) assert.deepEqual([...idx], c.outputs.indices.data, `${c.name} indices`);
      B.maxPoolBackward(g, dy, idx, dx);
    } else {
      const cip = c.args.countIncludePad as boolean;
      B.avgPoolForward(g, xs, y, cip);
      B.avgPoolBackward(g, dy, dx, cip);
    }
    assertClose(y, out.data, `${c.name} output`);
    assertClose(dx, c.grads.input.data, `${c.name} grad input`);
    checked++;
  }
  assert.ok(checked >= 8, `only ${checked} pool cases found`);
});
