/**
 * The conv block kernels (convolution, then relu, then max pooling, in one pass): on each backend
 * equal to the separate kernels in a row, and native equal to js, forward and backward, over
 * random geometries in 1, 2 and 3 dims, including several tasks per thread and a ragged last task.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend, ConvGeometry, PoolGeometry } from '../src/backend/backend.js';
import { jsBackend as J } from '../src/backend/js/index.js';
import { assertPaths, bothThreadCounts, native, skipMsg } from './helpers/native.js';
import {
  assertClose,
  conv2dGeometry,
  poolOutSize,
  prod,
  randArray,
  randInt,
  randomConvGeometry,
  rng,
  type ConvLimits,
} from './helpers/random-kernels.js';

const N = native;

const LIMITS: ConvLimits = { n: 9, cInPerGroup: 3, cOutPerGroup: 4, inSize: 12, inSize3d: 7, kernel: 3 };

/** A random max pooling over the conv's output planes (padding ≤ k/2, ceilMode sometimes). */
function randomPoolOver(r: () => number, g: ConvGeometry, nd: number): PoolGeometry | null {
  const p: PoolGeometry = {
    planes: g.n * g.cOut,
    inSize: [...g.outSize],
    outSize: [1, 1, 1],
    kernel: [1, 1, 1],
    stride: [1, 1, 1],
    padding: [0, 0, 0],
    dilation: [1, 1, 1],
  };
  const ceil = r() < 0.3;
  for (let i = 3 - nd; i < 3; i++) {
    const inS = g.outSize[i];
    const k = randInt(r, 1, Math.min(3, inS));
    const s = randInt(r, 1, 2);
    const d = k > 1 && inS > 2 * k ? randInt(r, 1, 2) : 1;
    const pad = randInt(r, 0, Math.floor(k / 2));
    const o = poolOutSize(inS, k, s, pad, d, ceil);
    if (o < 1) return null;
    p.kernel[i] = k;
    p.stride[i] = s;
    p.dilation[i] = d;
    p.padding[i] = pad;
    p.outSize[i] = o;
  }
  return p;
}

/** A 2-D max pool (k×k, stride, padding) over the output planes of the 2-D convolution g. */
function maxPool2dOver(g: ConvGeometry, k: number, stride: number, pad = 0, ceil = false): PoolGeometry {
  const [, oH, oW] = g.outSize;
  return {
    planes: g.n * g.cOut,
    inSize: [1, oH, oW],
    outSize: [1, poolOutSize(oH, k, stride, pad, 1, ceil), poolOutSize(oW, k, stride, pad, 1, ceil)],
    kernel: [1, k, k],
    stride: [1, stride, stride],
    padding: [0, pad, pad],
    dilation: [1, 1, 1],
  };
}

interface Case {
  g: ConvGeometry;
  pool: PoolGeometry | null;
  relu: boolean;
  x: Float32Array;
  w: Float32Array;
  bias: Float32Array | null;
  dy: Float32Array;
  what: string;
}

function randomCases(seed: number, count: number): Case[] {
  const r = rng(seed);
  const cases: Case[] = [];
  while (cases.length < count) {
    const nd = (1 + (cases.length % 3)) as 1 | 2 | 3;
    const g = randomConvGeometry(r, nd, LIMITS);
    const kind = cases.length % 3; // relu only, pool only, both
    const pool = kind === 0 ? null : randomPoolOver(r, g, nd);
    if (kind !== 0 && pool === null) continue;
    const relu = kind !== 1;
    const outLen = pool ? pool.planes * prod(pool.outSize) : g.n * g.cOut * prod(g.outSize);
    cases.push({
      g,
      pool,
      relu,
      x: randArray(r, g.n * g.cIn * prod(g.inSize)),
      w: randArray(r, g.cOut * (g.cIn / g.groups) * prod(g.kernel)),
      bias: r() < 0.7 ? randArray(r, g.cOut) : null,
      dy: randArray(r, outLen),
      what: `${nd}-D n=${g.n} ${g.cIn}→${g.cOut} groups=${g.groups} relu=${relu} pool=${pool ? 'k' + pool.kernel.join('×') + ' s' + pool.stride.join('×') : 'none'}`,
    });
  }
  return cases;
}

function outLength(c: Case): number {
  return c.pool ? c.pool.planes * prod(c.pool.outSize) : c.g.n * c.g.cOut * prod(c.g.outSize);
}

/** The block by the separate kernels of backend B: conv, relu (on the bit patterns), pool. */
function separateForward(B: Backend, c: Case): { y: Float32Array; idx: Int32Array | null } {
  const z = new Float32Array(c.g.n * c.g.cOut * prod(c.g.outSize));
  B.convForward(c.g, c.x, c.w, c.bias, z);
  if (c.relu) {
    const zi = new Int32Array(z.buffer);
    for (let i = 0; i < zi.length; i++) if (zi[i] < 0) zi[i] = 0;
  }
  if (!c.pool) return { y: z, idx: null };
  const y = new Float32Array(outLength(c));
  const idx = new Int32Array(y.length);
  B.maxPoolForward(c.pool, z, y, idx);
  return { y, idx };
}

function blockForward(B: Backend, c: Case): { y: Float32Array; idx: Int32Array | null } {
  const n = outLength(c);
  const y = new Float32Array(n).fill(NaN);
  const idx = c.pool ? new Int32Array(n).fill(-7) : null;
  B.convBlockForward(c.g, c.pool, c.relu, c.x, c.w, c.bias, y, idx);
  return { y, idx };
}

function blockBackward(
  B: Backend,
  c: Case,
  y: Float32Array,
  idx: Int32Array | null,
  want = [true, true, true],
) {
  const dx = want[0] ? new Float32Array(c.x.length).fill(NaN) : null;
  const dw = want[1] ? new Float32Array(c.w.length).fill(NaN) : null;
  const db = want[2] && c.bias ? new Float32Array(c.g.cOut).fill(NaN) : null;
  B.convBlockBackward(c.g, c.pool, c.relu, c.x, c.w, y, idx, c.dy, dx, dw, db);
  return { dx, dw, db };
}

/** The backward by separate kernels: pool backward, relu backward, both conv gradients. */
function separateBackward(B: Backend, c: Case) {
  const z = new Float32Array(c.g.n * c.g.cOut * prod(c.g.outSize));
  B.convForward(c.g, c.x, c.w, c.bias, z);
  const zi = new Int32Array(z.buffer);
  if (c.relu) for (let i = 0; i < zi.length; i++) if (zi[i] < 0) zi[i] = 0;
  let dz = c.dy;
  if (c.pool) {
    const y = new Float32Array(outLength(c));
    const idx = new Int32Array(y.length);
    B.maxPoolForward(c.pool, z, y, idx);
    dz = new Float32Array(z.length);
    B.maxPoolBackward(c.pool, c.dy, idx, dz);
  }
  if (c.relu) dz = dz.map((v, i) => (zi[i] > 0 ? v : 0));
  const dx = new Float32Array(c.x.length);
  const dw = new Float32Array(c.w.length);
  const db = c.bias ? new Float32Array(c.g.cOut) : null;
  B.convBackwardInput(c.g, dz, c.w, dx);
  B.convBackwardWeight(c.g, c.x, dz, dw, db);
  return { dx, dw, db };
}

/**
 * Native's block backward against js's, both from js's forward result (so that both scatter through
 * the same argmax): dx, dw, and db where the case has a bias.
 */
function assertBackwardMatchesJs(c: Case, js: { y: Float32Array; idx: Int32Array | null }, what: string) {
  const want = blockBackward(J, c, js.y, js.idx);
  const got = blockBackward(N!, c, js.y, js.idx);
  assertClose(got.dx!, want.dx!, `${what}: dx`, 2e-4);
  assertClose(got.dw!, want.dw!, `${what}: dw`, 2e-4);
  if (c.bias) assertClose(got.db!, want.db!, `${what}: db`, 2e-4);
  return got;
}

test('js conv block = conv, relu and max pool kernels in a row, bit for bit, forward and backward', () => {
  for (const c of randomCases(1, 36)) {
    const want = separateForward(J, c);
    const got = blockForward(J, c);
    assert.deepEqual(got.y, want.y, `${c.what}: y`);
    assert.deepEqual(got.idx, want.idx, `${c.what}: idx`);
    const gb = blockBackward(J, c, got.y, got.idx);
    const sb = separateBackward(J, c);
    assert.deepEqual(gb.dx, sb.dx, `${c.what}: dx`);
    assert.deepEqual(gb.dw, sb.dw, `${c.what}: dw`);
    assert.deepEqual(gb.db, sb.db, `${c.what}: db`);
  }
});

test('native conv block forward = native conv, relu, max pool in a row (bit for bit) and = js', (t) => {
  if (!N) return t.skip(skipMsg());
  const cases = randomCases(2, 36);
  bothThreadCounts((threads) => {
    for (const c of cases) {
      const got = blockForward(N, c);
      const sep = separateForward(N, c);
      assert.deepEqual(got.y, sep.y, `${c.what} (${threads}): y = native kernels in a row`);
      assert.deepEqual(got.idx, sep.idx, `${c.what} (${threads}): idx = native kernels in a row`);
      const js = blockForward(J, c);
      assertClose(got.y, js.y, `${c.what} (${threads}): y = js`);
    }
  });
});

test('native conv block backward = js: dx, dw, db, and each of them alone', (t) => {
  if (!N) return t.skip(skipMsg());
  const cases = randomCases(3, 36);
  bothThreadCounts((threads) => {
    cases.forEach((c, i) => {
      // Both backends from the same forward result, so the argmax they scatter through is the same.
      const { y, idx } = blockForward(J, c);
      const want = blockBackward(J, c, y, idx);
      const only = [
        [true, true, true],
        [false, true, true],
        [true, false, false],
        [false, false, true],
      ][i % 4];
      const got = blockBackward(N, c, y, idx, only);
      const what = `${c.what} (${threads})`;
      if (only[0]) assertClose(got.dx!, want.dx!, `${what}: dx`, 2e-4);
      else assert.equal(got.dx, null);
      if (only[1]) assertClose(got.dw!, want.dw!, `${what}: dw`, 2e-4);
      if (only[2] && c.bias) assertClose(got.db!, want.db!, `${what}: db`, 2e-4);
    });
  });
});

test('native conv block on an M1-sized layer (32→64, 2×2, pool 2) split over many tasks, ragged last one', (t) => {
  if (!N) return t.skip(skipMsg());
  const r = rng(4);
  const n = 19;
  const g = conv2dGeometry(n, 32, 64, 1, [13, 13], 2, { pad: 1 });
  const pool = maxPool2dOver(g, 2, 2);
  for (const relu of [false, true]) {
    const c: Case = {
      g,
      pool,
      relu,
      x: randArray(r, n * 32 * 169),
      w: randArray(r, 64 * 32 * 4),
      bias: randArray(r, 64),
      dy: randArray(r, n * 64 * 49),
      what: `M1 conv2 block relu=${relu}`,
    };
    assertPaths(g, pool, { forward: 'channels+pool', weightGrad: 'argmax', inputGrad: 'adjoint' }, c.what);
    bothThreadCounts((threads) => {
      const got = blockForward(N, c);
      const js = blockForward(J, c);
      assertClose(got.y, js.y, `${c.what} (${threads}): y`);
      assert.deepEqual(got.idx, js.idx, `${c.what} (${threads}): idx`);
      assertBackwardMatchesJs(c, js, `${c.what} (${threads})`);
    });
  }
});

test('native conv block: a pool geometry that does not fit the convolution is refused', (t) => {
  if (!N) return t.skip(skipMsg());
  const [c] = randomCases(5, 2).filter((k) => k.pool);
  const bad = {
    ...c.pool!,
    inSize: [c.pool!.inSize[0], c.pool!.inSize[1], c.pool!.inSize[2] + 1] as [number, number, number],
  };
  const y = new Float32Array(outLength(c));
  assert.throws(
    () => N.convBlockForward(c.g, bad, c.relu, c.x, c.w, c.bias, y, new Int32Array(y.length)),
    /pool geometry does not match the convolution's output/,
  );
  assert.throws(() => N.convBlockForward(c.g, c.pool, c.relu, c.x, c.w, c.bias, y, new Int32Array(1)), /idx/);
});

test('conv block without idx (inference): the same output, on both backends', (t) => {
  if (!N) return t.skip(skipMsg());
  for (const c of randomCases(8, 12).filter((k) => k.pool)) {
    for (const B of [J, N]) {
      const y = new Float32Array(outLength(c));
      B.convBlockForward(c.g, c.pool, c.relu, c.x, c.w, c.bias, y, null);
      assert.deepEqual(y, blockForward(B, c).y, `${c.what} (${B.name})`);
    }
  }
});

test("native conv = js on 'same' 2-D convolutions (whole-plane shifted im2col/col2im): k 1-5, even k, dilation", (t) => {
  if (!N) return t.skip(skipMsg());
  const r = rng(6);
  // [k, dilation, padBefore] with padAfter = d(k-1) - padBefore, so the output keeps the width.
  for (const [k, d, pb] of [
    [3, 1, 1],
    [1, 1, 0],
    [5, 1, 2],
    [4, 1, 1],
    [3, 2, 2],
    [2, 1, 0],
  ]) {
    for (const [h, w] of [
      [14, 14],
      [5, 9],
      [1, 7],
    ]) {
      const n = 5;
      const g: ConvGeometry = {
        n,
        cIn: 3,
        cOut: 4,
        groups: 1,
        inSize: [1, h, w],
        outSize: [1, h, w],
        kernel: [1, k, k],
        stride: [1, 1, 1],
        padBefore: [0, pb, pb],
        dilation: [1, d, d],
      };
      const x = randArray(r, n * 3 * h * w);
      const wt = randArray(r, 4 * 3 * k * k);
      const bias = randArray(r, 4);
      const dy = randArray(r, n * 4 * h * w);
      const what = `k=${k} d=${d} pad ${pb} on ${h}×${w}`;
      bothThreadCounts((threads) => {
        const [yj, yn] = [new Float32Array(dy.length), new Float32Array(dy.length).fill(NaN)];
        J.convForward(g, x, wt, bias, yj);
        N.convForward(g, x, wt, bias, yn);
        assertClose(yn, yj, `${what} (${threads}) forward`);
        const [dxj, dxn] = [new Float32Array(x.length), new Float32Array(x.length).fill(NaN)];
        J.convBackwardInput(g, dy, wt, dxj);
        N.convBackwardInput(g, dy, wt, dxn);
        assertClose(dxn, dxj, `${what} (${threads}) backward-input`);
        const [dwj, dwn] = [new Float32Array(wt.length), new Float32Array(wt.length).fill(NaN)];
        J.convBackwardWeight(g, x, dy, dwj, null);
        N.convBackwardWeight(g, x, dy, dwn, null);
        assertClose(dwn, dwj, `${what} (${threads}) backward-weight`, 2e-4);
        const c: Case = { g, pool: null, relu: true, x, w: wt, bias, dy, what };
        const jb = blockForward(J, c);
        assertClose(blockForward(N, c).y, jb.y, `${what} (${threads}) block forward`);
        const want = blockBackward(J, c, jb.y, null);
        const got = blockBackward(N, c, jb.y, null);
        assertClose(got.dx!, want.dx!, `${what} (${threads}) block dx`, 2e-4);
        assertClose(got.dw!, want.dw!, `${what} (${threads}) block dw`, 2e-4);
      });
    }
  }
});

test('native conv at stride 1 with few output channels or few taps (the direct forward kernel) = js, forward and backward', (t) => {
  if (!N) return t.skip(skipMsg());
  const r = rng(7);
  // [cIn, cOut, groups, H, W, k, strideH, pad, dilation]: 1..16 channels per group (4, 8, 12 and
  // 16 accumulators), rows wider than one 16-lane step, a strided H, dilation, grouped.
  for (const [cIn, cOut, groups, h, w, k, sH, pad, dil] of [
    [1, 5, 1, 28, 28, 3, 1, 1, 1],
    [3, 8, 1, 9, 37, 3, 2, 0, 1],
    [2, 11, 1, 6, 17, 2, 1, 1, 2],
    [8, 16, 1, 14, 14, 3, 1, 1, 1],
    [4, 6, 2, 7, 20, 3, 1, 2, 1],
    [12, 3, 1, 5, 18, 3, 1, 1, 1],
    [16, 4, 1, 6, 9, 2, 1, 0, 1],
    [5, 20, 1, 6, 9, 3, 1, 1, 1],
    // wider than 16 channels with few taps: blocks of 16 output channels (16 + 4, 16 + 16 + 8)
    [2, 20, 1, 6, 9, 3, 1, 1, 1],
    [1, 40, 1, 9, 33, 2, 1, 1, 1],
    // 32+ output channels, under 64 taps (the channel-vector kernel's lower bound)
    [6, 32, 1, 8, 21, 3, 1, 1, 1],
  ]) {
    const n = 3;
    const g = conv2dGeometry(n, cIn, cOut, groups, [h, w], k, { pad, stride: [sH, 1], dilation: [dil, dil] });
    for (const relu of [false, true]) {
      const c: Case = {
        g,
        pool: null,
        relu,
        x: randArray(r, n * cIn * h * w),
        w: randArray(r, cOut * (cIn / groups) * k * k),
        bias: relu ? randArray(r, cOut) : null,
        dy: randArray(r, n * cOut * prod(g.outSize)),
        what: `direct ${cIn}→${cOut} groups=${groups} ${h}×${w} k=${k} sH=${sH} relu=${relu}`,
      };
      assertPaths(g, null, { forward: 'rows' }, c.what);
      bothThreadCounts((threads) => {
        const js = blockForward(J, c);
        assertClose(blockForward(N, c).y, js.y, `${c.what} (${threads})`);
        assertBackwardMatchesJs(c, js, `${c.what} (${threads})`);
      });
    }
  }
});

test('native channel-vector direct kernel (32-128 output channels, 64+ taps) = js; its fused 2×2 pool = native kernels in a row, bit for bit', (t) => {
  if (!N) return t.skip(skipMsg());
  const r = rng(9);
  // [cIn, cOut, groups, H, W, k, strideH, pad, dilationH]: 4 vectors with 5-wide tiles (M1-like),
  // 3 vectors, 4 + 1 vectors with a strided H, 33 channels (one real lane in the last vector) with
  // dilation along H, groups, 2 blocks of 4 vectors, a 1×1 kernel; odd output sizes, so the 2×2
  // pool drops a row and a column.
  for (const [cIn, cOut, groups, h, w, k, sH, pad, dH] of [
    [32, 64, 1, 13, 13, 2, 1, 1, 1],
    [16, 48, 1, 7, 7, 3, 1, 1, 1],
    [8, 80, 1, 6, 40, 3, 2, 0, 1],
    [20, 33, 1, 9, 9, 2, 1, 0, 2],
    [16, 64, 2, 10, 10, 3, 1, 1, 1],
    [8, 128, 1, 6, 11, 3, 1, 2, 1],
    [64, 32, 1, 5, 5, 1, 1, 0, 1],
  ]) {
    const n = 5;
    const g = conv2dGeometry(n, cIn, cOut, groups, [h, w], k, { pad, stride: [sH, 1], dilation: [dH, 1] });
    // The fused 2×2 pool, a 3×3 one (pooled separately), relu alone, the bare convolution.
    const variants: [PoolGeometry | null, boolean][] = [
      [maxPool2dOver(g, 2, 2), true],
      [maxPool2dOver(g, 2, 2), false],
      [maxPool2dOver(g, 3, 2), true],
      [null, true],
      [null, false],
    ];
    for (const [pool, relu] of variants) {
      if (pool && pool.outSize.some((o) => o < 1)) continue;
      const c: Case = {
        g,
        pool,
        relu,
        x: randArray(r, n * cIn * h * w),
        w: randArray(r, cOut * (cIn / groups) * k * k),
        bias: relu ? randArray(r, cOut) : null,
        dy: randArray(r, pool ? pool.planes * prod(pool.outSize) : n * cOut * prod(g.outSize)),
        what: `channels ${cIn}→${cOut} groups=${groups} ${h}×${w} k=${k} sH=${sH} dH=${dH} relu=${relu} pool=${pool ? pool.kernel[1] : 'none'}`,
      };
      const fused = pool !== null && pool.kernel[1] === 2;
      assertPaths(g, pool, { forward: fused ? 'channels+pool' : 'channels' }, c.what);
      bothThreadCounts((threads) => {
        const what = `${c.what} (${threads})`;
        const got = blockForward(N, c);
        const sep = separateForward(N, c);
        assert.deepEqual(got.y, sep.y, `${what}: y = native kernels in a row`);
        assert.deepEqual(got.idx, sep.idx, `${what}: idx = native kernels in a row`);
        const js = blockForward(J, c);
        assertClose(got.y, js.y, `${what}: y = js`);
        assert.deepEqual(got.idx, js.idx, `${what}: idx = js`);
        if (pool) {
          const y = new Float32Array(got.y.length);
          N.convBlockForward(c.g, c.pool, c.relu, c.x, c.w, c.bias, y, null);
          assert.deepEqual(y, got.y, `${what}: y without idx (inference)`);
        }
        assertBackwardMatchesJs(c, js, what);
      });
    }
  }
});

test('native conv block weight and bias gradients from the pool argmax (8-32 input channels, 2×2 and 3×3 kernels) = js', (t) => {
  if (!N) return t.skip(skipMsg());
  const r = rng(10);
  // [cIn, cOut, groups, H, W, k, stride, pad, dilation] and pools [k, stride, pad, ceilMode]:
  // non-overlapping, overlapping (several pooled outputs picking one position), padded with ceil
  // mode; strided and dilated convolutions; one or two vectors of input channels.
  const convs = [
    [32, 16, 1, 11, 11, 2, 1, 1, 1],
    [8, 12, 1, 12, 9, 3, 1, 1, 1],
    [20, 8, 1, 13, 12, 2, 2, 0, 2],
    [24, 6, 2, 10, 10, 3, 1, 2, 2],
  ];
  const pools = [
    [2, 2, 0, false],
    [3, 1, 0, false],
    [3, 2, 1, true],
  ] as const;
  for (const [cIn, cOut, groups, h, w, k, s, pad, dil] of convs) {
    const n = 5;
    const g = conv2dGeometry(n, cIn, cOut, groups, [h, w], k, { pad, stride: [s, s], dilation: [dil, dil] });
    for (const [pk, ps, pp, ceil] of pools) {
      const pool = maxPool2dOver(g, pk, ps, pp, ceil);
      for (const relu of [true, false]) {
        const c: Case = {
          g,
          pool,
          relu,
          x: randArray(r, n * cIn * h * w),
          w: randArray(r, cOut * (cIn / groups) * k * k),
          bias: randArray(r, cOut),
          dy: randArray(r, pool.planes * prod(pool.outSize)),
          what: `argmax dW ${cIn}→${cOut} groups=${groups} k=${k} s=${s} d=${dil} pool k${pk} s${ps} p${pp}${ceil ? ' ceil' : ''} relu=${relu}`,
        };
        assertPaths(g, pool, { weightGrad: 'argmax' }, c.what);
        const js = blockForward(J, c);
        bothThreadCounts((threads) => {
          const got = assertBackwardMatchesJs(c, js, `${c.what} (${threads})`);
          const alone = blockBackward(N, c, js.y, js.idx, [false, true, true]);
          assert.deepEqual(alone.dw, got.dw, `${c.what} (${threads}): dw without dx`);
        });
      }
    }
  }
});
