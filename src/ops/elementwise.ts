/**
 * Elementwise arithmetic with broadcasting, and the unary math functions, with their gradients.
 * Hot cases (same shape, a scalar operand, a trailing-dims operand such as a bias) get plain
 * loops; everything else goes through one strided broadcast loop.
 */
import { record } from '../autograd/graph.js';
import { Tensor, type TensorLike } from '../tensor/tensor.js';
import { emptyFloat32 } from '../tensor/storage.js';
import { broadcastShapes, numelOf, shapesEqual, stridesOf } from '../tensor/shape.js';
import { sumToShape } from './reduce.js';

type BinaryFn = (x: number, y: number) => number;

export function scalarTensor(value: number): Tensor {
  return new Tensor(new Float32Array([value]), []);
}

function asTensor(x: TensorLike): Tensor {
  return typeof x === 'number' ? scalarTensor(x) : x;
}

/** out[i] = f(a[ia], b[ib]) over the broadcast shape. */
export function broadcastBinary(a: Tensor, b: Tensor, f: BinaryFn, op: string): Tensor {
  const ad = a.data;
  const bd = b.data;
  if (shapesEqual(a.shape, b.shape)) {
    const out = emptyFloat32(ad.length);
    for (let i = 0; i < out.length; i++) out[i] = f(ad[i], bd[i]);
    return new Tensor(out, a.shape);
  }
  const shape = broadcastShapes(a.shape, b.shape, op);
  const n = numelOf(shape);
  const out = emptyFloat32(n);
  if (bd.length === 1 && n === ad.length) {
    const y = bd[0];
    for (let i = 0; i < n; i++) out[i] = f(ad[i], y);
    return new Tensor(out, shape);
  }
  if (ad.length === 1 && n === bd.length) {
    const x = ad[0];
    for (let i = 0; i < n; i++) out[i] = f(x, bd[i]);
    return new Tensor(out, shape);
  }
  if (n === ad.length && isTrailing(b.shape, shape)) {
    const m = bd.length;
    for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = f(ad[i + j], bd[j]);
    return new Tensor(out, shape);
  }
  if (n === bd.length && isTrailing(a.shape, shape)) {
    const m = ad.length;
    for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[i + j] = f(ad[j], bd[i + j]);
    return new Tensor(out, shape);
  }
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const nd = shape.length;
  const inner = shape[nd - 1];
  const ia = sa[nd - 1];
  const ib = sb[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let oa = 0;
  let ob = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = f(ad[oa + j * ia], bd[ob + j * ib]);
    // advance the odometer over all dims but the last
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      oa += sa[d];
      ob += sb[d];
      if (idx[d] < shape[d]) break;
      oa -= sa[d] * shape[d];
      ob -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
  return new Tensor(out, shape);
}

type Arith = 'add' | 'sub' | 'mul' | 'div';

/**
 * add/sub/mul/div when both operands have the same shape or b is a single value: one plain loop
 * per op. Through broadcastBinary every element would be a call to a closure that V8 cannot
 * inline (the call site sees every op), ~5× slower. Null for other shapes. Results are the same:
 * both compute in float64 and round once to float32.
 */
function arith(a: Tensor, b: Tensor, op: Arith): Tensor | null {
  const ad = a.data;
  const bd = b.data;
  const n = ad.length;
  if (bd.length === 1 && b.shape.length <= a.shape.length) {
    const y = bd[0];
    const out = emptyFloat32(n);
    if (op === 'add') for (let i = 0; i < n; i++) out[i] = ad[i] + y;
    else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = ad[i] - y;
    else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = ad[i] * y;
    else for (let i = 0; i < n; i++) out[i] = ad[i] / y;
    // b has one element, so all its dims are 1 and no more of them than a has: the shape is a's.
    return new Tensor(out, a.shape);
  }
  if (!shapesEqual(a.shape, b.shape)) return null;
  const out = emptyFloat32(n);
  if (op === 'add') for (let i = 0; i < n; i++) out[i] = ad[i] + bd[i];
  else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = ad[i] - bd[i];
  else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = ad[i] * bd[i];
  else for (let i = 0; i < n; i++) out[i] = ad[i] / bd[i];
  return new Tensor(out, a.shape);
}

/** Whether `small` (padded with leading 1s) equals the trailing dims of `big` with only 1s before. */
function isTrailing(small: readonly number[], big: readonly number[]): boolean {
  const off = big.length - small.length;
  let i = 0;
  while (i < small.length && small[i] === 1) i++;
  for (let j = i; j < small.length; j++) if (small[j] !== big[off + j]) return false;
  return true;
}

/** Strides of `shape` aligned to `target`, 0 along broadcast dims. */
function broadcastStrides(shape: readonly number[], target: readonly number[]): number[] {
  const s = stridesOf(shape);
  const off = target.length - shape.length;
  return target.map((_, d) => (d < off || shape[d - off] === 1 ? 0 : s[d - off]));
}

function unary(x: Tensor, f: (v: number) => number): Tensor {
  const xd = x.data;
  const out = emptyFloat32(xd.length);
  for (let i = 0; i < out.length; i++) out[i] = f(xd[i]);
  return new Tensor(out, x.shape);
}

// ---- arithmetic -------------------------------------------------------------------------------

export function add(a: TensorLike, b: TensorLike): Tensor {
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = arith(ta, tb, 'add') ?? broadcastBinary(ta, tb, (x, y) => x + y, 'add');
  return record(out, 'add', [ta, tb], (g) => [
    ta.requiresGrad ? sumToShape(g, ta.shape) : null,
    tb.requiresGrad ? sumToShape(g, tb.shape) : null,
  ]);
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = arith(ta, tb, 'sub') ?? broadcastBinary(ta, tb, (x, y) => x - y, 'sub');
  return record(out, 'sub', [ta, tb], (g) => [
    ta.requiresGrad ? sumToShape(g, ta.shape) : null,
    tb.requiresGrad ? sumToShape(neg(g), tb.shape) : null,
  ]);
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = arith(ta, tb, 'mul') ?? broadcastBinary(ta, tb, (x, y) => x * y, 'mul');
  return record(out, 'mul', [ta, tb], (g) => [
    ta.requiresGrad ? sumToShape(mul(g, tb), ta.shape) : null,
    tb.requiresGrad ? sumToShape(mul(g, ta), tb.shape) : null,
  ]);
}

export function div(a: TensorLike, b: TensorLike): Tensor {
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = arith(ta, tb, 'div') ?? broadcastBinary(ta, tb, (x, y) => x / y, 'div');
  return record(out, 'div', [ta, tb], (g) => [
    ta.requiresGrad ? sumToShape(div(g, tb), ta.shape) : null,
    // d(a/b)/db = -a/b² = -out/b
    tb.requiresGrad ? sumToShape(neg(div(mul(g, out), tb)), tb.shape) : null,
  ]);
}

export function pow(a: TensorLike, exponent: TensorLike): Tensor {
  const ta = asTensor(a);
  const te = asTensor(exponent);
  if (typeof exponent === 'number') {
    const e = exponent;
    const out = unary(ta, e === 2 ? (x) => x * x : (x) => Math.pow(x, e));
    return record(out, 'pow', [ta], (g) => [mul(g, e === 2 ? mul(ta, 2) : mul(pow(ta, e - 1), e))]);
  }
  const out = broadcastBinary(ta, te, Math.pow, 'pow');
  return record(out, 'pow', [ta, te], (g) => [
    ta.requiresGrad ? sumToShape(mul(g, mul(te, pow(ta, sub(te, 1)))), ta.shape) : null,
    te.requiresGrad ? sumToShape(mul(g, mul(out, log(ta))), te.shape) : null,
  ]);
}

export function maximum(a: TensorLike, b: TensorLike): Tensor {
  const ta = asTensor(a);
  const tb = asTensor(b);
  const out = broadcastBinary(ta, tb, (x, y) => (x >= y || Number.isNaN(x) ? x : y), 'maximum');
  // Ties split the gradient evenly, as PyTorch does.
  return record(out, 'maximum', [ta, tb], (g) => {
    const wa = broadcastBinary(ta, tb, (x, y) => (x > y ? 1 : x === y ? 0.5 : 0), 'maximum');
    return [
      ta.requiresGrad ? sumToShape(mul(g, wa), ta.shape) : null,
      tb.requiresGrad ? sumToShape(mul(g, sub(1, wa)), tb.shape) : null,
    ];
  });
}

export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return neg(maximum(neg(asTensor(a)), neg(asTensor(b))));
}

// ---- unary ------------------------------------------------------------------------------------

export function neg(x: Tensor): Tensor {
  return record(
    unary(x, (v) => -v),
    'neg',
    [x],
    (g) => [neg(g)],
  );
}

export function abs(x: Tensor): Tensor {
  return record(unary(x, Math.abs), 'abs', [x], (g) => [mul(g, sign(x))]);
}

export function sign(x: Tensor): Tensor {
  return unary(x, (v) => (v > 0 ? 1 : v < 0 ? -1 : 0));
}

export function exp(x: Tensor): Tensor {
  const out = unary(x, Math.exp);
  return record(out, 'exp', [x], (g) => [mul(g, out)]);
}

export function log(x: Tensor): Tensor {
  return record(unary(x, Math.log), 'log', [x], (g) => [div(g, x)]);
}

export function sqrt(x: Tensor): Tensor {
  const out = unary(x, Math.sqrt);
  return record(out, 'sqrt', [x], (g) => [div(g, mul(out, 2))]);
}

/** Clamps to [min, max]; the gradient passes where the input lies inside (bounds included). */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  const out = unary(x, (v) => (v < lo ? lo : v > hi ? hi : v));
  return record(out, 'clamp', [x], (g) => [
    mul(
      g,
      unary(x, (v) => (v >= lo && v <= hi ? 1 : 0)),
    ),
  ]);
}

// ---- comparisons (no gradient; 0/1 float32 masks) ---------------------------------------------

function compare(a: TensorLike, b: TensorLike, f: BinaryFn, op: string): Tensor {
  return broadcastBinary(asTensor(a), asTensor(b), f, op);
}
export const eq = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, (x, y) => +(x === y), 'eq');
export const ne = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, (x, y) => +(x !== y), 'ne');
export const gt = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, (x, y) => +(x > y), 'gt');
export const ge = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, (x, y) => +(x >= y), 'ge');
export const lt = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, (x, y) => +(x < y), 'lt');
export const le = (a: TensorLike, b: TensorLike): Tensor => compare(a, b, (x, y) => +(x <= y), 'le');

/** where(cond, a, b): a where cond is non-zero, else b (broadcast over all three). */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const ta = asTensor(a);
  const tb = asTensor(b);
  const shape = broadcastShapes(broadcastShapes(cond.shape, ta.shape, 'where'), tb.shape, 'where');
  const c = expandData(cond, shape);
  const x = expandData(ta, shape);
  const y = expandData(tb, shape);
  const out = new Float32Array(c.length);
  for (let i = 0; i < out.length; i++) out[i] = c[i] !== 0 ? x[i] : y[i];
  const mask = new Tensor(
    Float32Array.from(c, (v) => (v !== 0 ? 1 : 0)),
    shape,
  );
  return record(new Tensor(out, shape), 'where', [ta, tb], (g) => [
    ta.requiresGrad ? sumToShape(mul(g, mask), ta.shape) : null,
    tb.requiresGrad ? sumToShape(mul(g, sub(1, mask)), tb.shape) : null,
  ]);
}

/** The storage of `t` broadcast to `shape` (materialised). */
export function expandData(t: Tensor, shape: readonly number[]): Float32Array | Int32Array {
  if (shapesEqual(t.shape, shape)) return t.data;
  const zero = new Tensor(new Float32Array(numelOf(shape)), shape);
  return broadcastBinary(zero, t.float(), (_x, y) => y, 'expand').data;
}
