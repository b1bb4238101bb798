/**
 * Activations and (log-)softmax with hand-written gradients. Each is one pass over the data and
 * one over the gradient, in plain loops: activations run after every layer, so a per-element
 * closure or a chain of composed ops would dominate a small model's step time.
 */
import { gradBuffer, gradBufferFrom, record } from '../autograd/graph.js';
import { getBackend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { emptyFloat32 } from '../tensor/storage.js';
import { normalizeDim, stridesOf } from '../tensor/shape.js';

function floatData(op: string, x: Tensor): Float32Array {
  if (x.dtype !== 'float32') throw new Error(`${op}: input must be float32, got ${x.dtype}`);
  return x.data as Float32Array;
}

/**
 * Elementwise kernels a backend may add (the contract in backend.ts does not list them yet): the
 * activations are memory-bound loops that run after every layer, where the TypeScript loop manages
 * ~1 element per ns and an AVX2 loop over two threads ~10. Until a backend has them, the loops
 * below run.
 *   relu(x, y):               y[i] = bits(x[i]) < 0 ? +0 : x[i]   (so +NaN passes, -0 → +0)
 *   reluBackward(y, dy, dx):  dx[i] = bits(y[i]) > 0 ? dy[i] : 0  (dx may be dy itself)
 */
interface ActivationKernels {
  relu?(x: Float32Array, y: Float32Array): void;
  reluBackward?(y: Float32Array, dy: Float32Array, dx: Float32Array): void;
}

/** Below this many elements a kernel call costs more than the loop. */
const KERNEL_MIN = 16384;

/**
 * relu on the float32 bit patterns: a float with its sign bit set (negative, -0, -NaN) becomes +0,
 * anything else passes unchanged. Branch-free integer masking runs ~5× faster than
 * `x > 0 ? x : 0`, whose branch mispredicts on every other element of real activations; and a
 * positive NaN passes through, as in PyTorch.
 */
export function relu(input: Tensor): Tensor {
  const x = floatData('relu', input);
  const n = x.length;
  const y = emptyFloat32(n);
  const be = getBackend() as ActivationKernels;
  const yi = new Int32Array(y.buffer, y.byteOffset, n);
  if (be.relu && n >= KERNEL_MIN) be.relu(x, y);
  else reluBits(new Int32Array(x.buffer, x.byteOffset, n), yi, n);
  return record(new Tensor(y, input.shape), 'relu', [input], (g) => {
    const gd = g.data as Float32Array;
    const dx = gradBufferFrom(g);
    const bb = getBackend() as ActivationKernels;
    if (bb.reluBackward && n >= KERNEL_MIN) {
      bb.reluBackward(y, gd, dx);
      return [new Tensor(dx, input.shape)];
    }
    reluBackwardBits(
      yi,
      new Int32Array(gd.buffer, gd.byteOffset, n),
      new Int32Array(dx.buffer, dx.byteOffset, n),
      n,
    );
    return [new Tensor(dx, input.shape)];
  });
}

// Both loops are unrolled by 8: V8 does not unroll or vectorise, and the per-iteration overhead
// (bounds checks, the loop branch) costs ~35% of a memory-bound loop like these.

/** y = x with every sign-bit-set value replaced by +0, on the float32 bit patterns. */
function reluBits(x: Int32Array, y: Int32Array, n: number): void {
  const n8 = n - (n & 7);
  let i = 0;
  for (; i < n8; i += 8) {
    y[i] = x[i] & ~(x[i] >> 31);
    y[i + 1] = x[i + 1] & ~(x[i + 1] >> 31);
    y[i + 2] = x[i + 2] & ~(x[i + 2] >> 31);
    y[i + 3] = x[i + 3] & ~(x[i + 3] >> 31);
    y[i + 4] = x[i + 4] & ~(x[i + 4] >> 31);
    y[i + 5] = x[i + 5] & ~(x[i + 5] >> 31);
    y[i + 6] = x[i + 6] & ~(x[i + 6] >> 31);
    y[i + 7] = x[i + 7] & ~(x[i + 7] >> 31);
  }
  for (; i < n; i++) y[i] = x[i] & ~(x[i] >> 31);
}

/**
 * dx = dy where y > 0, else +0. y's bit patterns are never negative (relu wrote +0 for every
 * signed input), so (-y) >> 31 is all ones exactly where y > 0 and 0 where y = +0. dx may be dy.
 */
function reluBackwardBits(y: Int32Array, dy: Int32Array, dx: Int32Array, n: number): void {
  const n8 = n - (n & 7);
  let i = 0;
  for (; i < n8; i += 8) {
    dx[i] = dy[i] & (-y[i] >> 31);
    dx[i + 1] = dy[i + 1] & (-y[i + 1] >> 31);
    dx[i + 2] = dy[i + 2] & (-y[i + 2] >> 31);
    dx[i + 3] = dy[i + 3] & (-y[i + 3] >> 31);
    dx[i + 4] = dy[i + 4] & (-y[i + 4] >> 31);
    dx[i + 5] = dy[i + 5] & (-y[i + 5] >> 31);
    dx[i + 6] = dy[i + 6] & (-y[i + 6] >> 31);
    dx[i + 7] = dy[i + 7] & (-y[i + 7] >> 31);
  }
  for (; i < n; i++) dx[i] = dy[i] & (-y[i] >> 31);
}

export function leakyRelu(input: Tensor, negativeSlope = 0.01): Tensor {
  const x = floatData('leakyRelu', input);
  const a = negativeSlope;
  const y = emptyFloat32(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : x[i] * a;
  return record(new Tensor(y, input.shape), 'leakyRelu', [input], (g) => {
    const gd = g.data;
    const dx = gradBuffer(x.length);
    for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? gd[i] : gd[i] * a;
    return [new Tensor(dx, input.shape)];
  });
}

export function sigmoid(input: Tensor): Tensor {
  const x = floatData('sigmoid', input);
  const y = emptyFloat32(x.length);
  for (let i = 0; i < x.length; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
  return record(new Tensor(y, input.shape), 'sigmoid', [input], (g) => {
    const gd = g.data;
    const dx = gradBuffer(x.length);
    for (let i = 0; i < x.length; i++) dx[i] = gd[i] * y[i] * (1 - y[i]);
    return [new Tensor(dx, input.shape)];
  });
}

export function tanh(input: Tensor): Tensor {
  const x = floatData('tanh', input);
  const y = emptyFloat32(x.length);
  for (let i = 0; i < x.length; i++) y[i] = Math.tanh(x[i]);
  return record(new Tensor(y, input.shape), 'tanh', [input], (g) => {
    const gd = g.data;
    const dx = gradBuffer(x.length);
    for (let i = 0; i < x.length; i++) dx[i] = gd[i] * (1 - y[i] * y[i]);
    return [new Tensor(dx, input.shape)];
  });
}

export function elu(input: Tensor, alpha = 1): Tensor {
  const x = floatData('elu', input);
  const y = emptyFloat32(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : alpha * Math.expm1(x[i]);
  return record(new Tensor(y, input.shape), 'elu', [input], (g) => {
    const gd = g.data;
    const dx = gradBuffer(x.length);
    for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? gd[i] : gd[i] * alpha * Math.exp(x[i]);
    return [new Tensor(dx, input.shape)];
  });
}

/**
 * erfc(x) with relative error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev fit), in
 * double precision: more than float32 needs, and, unlike 1 − erf, accurate in the far tail.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  let poly = 0.17087277;
  poly = -0.82215223 + t * poly;
  poly = 1.48851587 + t * poly;
  poly = -1.13520398 + t * poly;
  poly = 0.27886807 + t * poly;
  poly = -0.18628806 + t * poly;
  poly = 0.09678418 + t * poly;
  poly = 0.37409196 + t * poly;
  poly = 1.00002368 + t * poly;
  poly = -1.26551223 + t * poly;
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

export function erf(x: number): number {
  // Near 0, 1 − erfc(x) cancels; the Taylor series is exact to double precision there.
  if (Math.abs(x) < 0.5) {
    const x2 = x * x;
    return (
      1.1283791670955126 *
      x *
      (1 -
        x2 / 3 +
        (x2 * x2) / 10 -
        (x2 * x2 * x2) / 42 +
        (x2 * x2 * x2 * x2) / 216 -
        (x2 * x2 * x2 * x2 * x2) / 1320)
    );
  }
  return 1 - erfc(x);
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327;
const SQRT_2_OVER_PI = 0.7978845608028654;

/** GELU: x·Φ(x) (approximate 'none', the exact erf form) or PyTorch's tanh approximation. */
export function gelu(input: Tensor, options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  const x = floatData('gelu', input);
  const approximate = options.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new Error(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
  }
  const y = emptyFloat32(x.length);
  if (approximate === 'none') {
    // Φ(x) = erfc(−x/√2)/2 keeps full relative accuracy for very negative x.
    for (let i = 0; i < x.length; i++) y[i] = 0.5 * x[i] * erfc(-x[i] * SQRT1_2);
  } else {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      y[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
    }
  }
  return record(new Tensor(y, input.shape), 'gelu', [input], (g) => {
    const gd = g.data;
    const dx = gradBuffer(x.length);
    if (approximate === 'none') {
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        dx[i] = gd[i] * (0.5 * erfc(-v * SQRT1_2) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
      }
    } else {
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        const inner = SQRT_2_OVER_PI * (v + 0.044715 * v * v * v);
        const th = Math.tanh(inner);
        const dInner = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v);
        dx[i] = gd[i] * (0.5 * (1 + th) + 0.5 * v * (1 - th * th) * dInner);
      }
    }
    return [new Tensor(dx, input.shape)];
  });
}

/** outer × n × inner decomposition of a tensor around `dim`. */
function around(shape: readonly number[], dim: number) {
  const inner = stridesOf(shape)[dim];
  const n = shape[dim];
  let outer = 1;
  for (let d = 0; d < dim; d++) outer *= shape[d];
  return { outer, n, inner };
}

/** Numerically stable softmax along dim (the maximum is subtracted before exp). */
export function softmax(input: Tensor, dim: number): Tensor {
  const x = floatData('softmax', input);
  if (dim === undefined) throw new Error('softmax: dim is required (e.g. softmax(x, 1) for class scores)');
  const d = normalizeDim(dim, input.ndim, 'softmax');
  const { outer, n, inner } = input.ndim === 0 ? { outer: 1, n: 1, inner: 1 } : around(input.shape, d);
  const y = emptyFloat32(x.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Math.max(m, x[base + k * inner]);
      let s = 0;
      for (let k = 0; k < n; k++) {
        const e = Math.exp(x[base + k * inner] - m);
        y[base + k * inner] = e;
        s += e;
      }
      const inv = 1 / s;
      for (let k = 0; k < n; k++) y[base + k * inner] *= inv;
    }
  }
  return record(new Tensor(y, input.shape), 'softmax', [input], (g) => {
    // dx = y ⊙ (g − Σ g·y)
    const gd = g.data;
    const dx = gradBuffer(x.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let dot = 0;
        for (let k = 0; k < n; k++) dot += gd[base + k * inner] * y[base + k * inner];
        for (let k = 0; k < n; k++) {
          const j = base + k * inner;
          dx[j] = y[j] * (gd[j] - dot);
        }
      }
    }
    return [new Tensor(dx, input.shape)];
  });
}

/** log(softmax(x)) computed as x − max − log Σ exp(x − max), so it never takes log(0). */
export function logSoftmax(input: Tensor, dim: number): Tensor {
  const x = floatData('logSoftmax', input);
  if (dim === undefined)
    throw new Error('logSoftmax: dim is required (e.g. logSoftmax(x, 1) for class scores)');
  const d = normalizeDim(dim, input.ndim, 'logSoftmax');
  const { outer, n, inner } = input.ndim === 0 ? { outer: 1, n: 1, inner: 1 } : around(input.shape, d);
  const y = emptyFloat32(x.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let m = -Infinity;
      for (let k = 0; k < n; k++) m = Math.max(m, x[base + k * inner]);
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(x[base + k * inner] - m);
      const lse = m + Math.log(s);
      for (let k = 0; k < n; k++) y[base + k * inner] = x[base + k * inner] - lse;
    }
  }
  return record(new Tensor(y, input.shape), 'logSoftmax', [input], (g) => {
    // dx = g − softmax · Σ g
    const gd = g.data;
    const dx = gradBuffer(x.length);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let s = 0;
        for (let k = 0; k < n; k++) s += gd[base + k * inner];
        for (let k = 0; k < n; k++) {
          const j = base + k * inner;
          dx[j] = gd[j] - Math.exp(y[j]) * s;
        }
      }
    }
    return [new Tensor(dx, input.shape)];
  });
}
