/**
 * Random inputs and geometries for the kernel tests (js against direct loops, native against js):
 * one definition, so both suites explore the same space of shapes.
 */
import assert from 'node:assert/strict';
import type { ConvGeometry, PoolGeometry } from '../../src/backend/backend.js';

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform in [-1, 1). */
export function randArray(r: () => number, len: number): Float32Array {
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = r() * 2 - 1;
  return a;
}

/** Uniform integer in [lo, hi] (both included). */
export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Relative `tol` (absolute near 0); NaN matches NaN. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  tol = 1e-4,
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) assert.fail(`${what}: [${i}] got ${a}, expected ${e}`);
  }
}

export function convOutSize(inS: number, k: number, s: number, pb: number, pa: number, d: number): number {
  return Math.floor((inS + pb + pa - d * (k - 1) - 1) / s) + 1;
}

/** A 2-D convolution geometry (3-D with unit depth): `pad` on both sides, stride and dilation as [H, W]. */
export function conv2dGeometry(
  n: number,
  cIn: number,
  cOut: number,
  groups: number,
  [h, w]: [number, number],
  k: number,
  {
    pad = 0,
    stride = [1, 1],
    dilation = [1, 1],
  }: { pad?: number; stride?: number[]; dilation?: number[] } = {},
): ConvGeometry {
  return {
    n,
    cIn,
    cOut,
    groups,
    inSize: [1, h, w],
    outSize: [
      1,
      convOutSize(h, k, stride[0], pad, pad, dilation[0]),
      convOutSize(w, k, stride[1], pad, pad, dilation[1]),
    ],
    kernel: [1, k, k],
    stride: [1, stride[0], stride[1]],
    padBefore: [0, pad, pad],
    dilation: [1, dilation[0], dilation[1]],
  };
}

/** Upper bounds of a random conv geometry (lower bounds are 1). */
export interface ConvLimits {
  n: number;
  cInPerGroup: number;
  cOutPerGroup: number;
  inSize: number;
  inSize3d: number;
  kernel: number;
}

export const SMALL_CONV: ConvLimits = {
  n: 3,
  cInPerGroup: 3,
  cOutPerGroup: 3,
  inSize: 9,
  inSize3d: 6,
  kernel: 4,
};

/** Random conv geometry in `nd` spatial dims (the leading 3 - nd dims are trivial), asymmetric padding. */
export function randomConvGeometry(
  r: () => number,
  nd: 1 | 2 | 3,
  limits: ConvLimits = SMALL_CONV,
): ConvGeometry {
  const groups = randInt(r, 1, 3);
  const g: ConvGeometry = {
    n: randInt(r, 1, limits.n),
    cIn: groups * randInt(r, 1, limits.cInPerGroup),
    cOut: groups * randInt(r, 1, limits.cOutPerGroup),
    groups,
    inSize: [1, 1, 1],
    outSize: [1, 1, 1],
    kernel: [1, 1, 1],
    stride: [1, 1, 1],
    padBefore: [0, 0, 0],
    dilation: [1, 1, 1],
  };
  for (let i = 3 - nd; i < 3; i++) {
    for (;;) {
      const inS = randInt(r, 1, nd === 3 ? limits.inSize3d : limits.inSize);
      const k = randInt(r, 1, limits.kernel);
      const s = randInt(r, 1, 3);
      const d = randInt(r, 1, 2);
      const pb = randInt(r, 0, 2);
      const pa = randInt(r, 0, 2); // the after-padding is only implied by outSize
      const o = convOutSize(inS, k, s, pb, pa, d);
      if (o < 1) continue;
      g.inSize[i] = inS;
      g.kernel[i] = k;
      g.stride[i] = s;
      g.dilation[i] = d;
      g.padBefore[i] = pb;
      g.outSize[i] = o;
      break;
    }
  }
  return g;
}

/** PyTorch's pooling output size, with ceilMode's rule that a window must start inside input + left pad. */
export function poolOutSize(inS: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = inS + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= inS + p) o--;
  return o;
}

export function randomPoolGeometry(
  r: () => number,
  nd: 1 | 2 | 3,
  ceil: boolean,
  dilated: boolean,
  limits: { planes: number; inSize: number } = { planes: 4, inSize: 10 },
): PoolGeometry {
  const g: PoolGeometry = {
    planes: randInt(r, 1, limits.planes),
    inSize: [1, 1, 1],
    outSize: [1, 1, 1],
    kernel: [1, 1, 1],
    stride: [1, 1, 1],
    padding: [0, 0, 0],
    dilation: [1, 1, 1],
  };
  for (let i = 3 - nd; i < 3; i++) {
    for (;;) {
      const inS = randInt(r, 1, nd === 3 ? 7 : limits.inSize);
      const k = randInt(r, 1, 4);
      const s = randInt(r, 1, 3);
      const d = dilated ? randInt(r, 1, 2) : 1;
      const p = randInt(r, 0, Math.floor(k / 2)); // PyTorch: pad ≤ k/2
      const o = poolOutSize(inS, k, s, p, d, ceil);
      if (o < 1) continue;
      g.inSize[i] = inS;
      g.kernel[i] = k;
      g.stride[i] = s;
      g.dilation[i] = d;
      g.padding[i] = p;
      g.outSize[i] = o;
      break;
    }
  }
  return g;
}
