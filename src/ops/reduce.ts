/** Reductions over dims (sum, mean, max, min, var, argmax, argmin) and the broadcast undo. */
import { record } from '../autograd/graph.js';
import { Tensor } from '../tensor/tensor.js';
import {
  formatShape,
  normalizeDim,
  normalizeDims,
  numelOf,
  shapesEqual,
  stridesOf,
} from '../tensor/shape.js';
import { div, mul, sub, eq } from './elementwise.js';
import { reshape, expand } from './shape.js';

interface ReducePlan {
  /** Output shape with reduced dims kept as 1. */
  keptShape: number[];
  /** Output shape as requested (reduced dims dropped unless keepdim). */
  outShape: number[];
  /** For each input dim, the output stride (0 where reduced). */
  outStrides: number[];
  count: number;
}

function plan(shape: readonly number[], dims: number[], keepdim: boolean): ReducePlan {
  const keptShape = shape.map((s, d) => (dims.includes(d) ? 1 : s));
  const ks = stridesOf(keptShape);
  const outStrides = shape.map((_, d) => (dims.includes(d) ? 0 : ks[d]));
  const outShape = keepdim ? keptShape : shape.filter((_, d) => !dims.includes(d));
  let count = 1;
  for (const d of dims) count *= shape[d];
  return { keptShape, outShape, outStrides, count };
}

/** Sums `x` over `dims` into a Float32Array laid out as plan.keptShape. */
function sumKernel(x: Tensor, dims: number[], p: ReducePlan): Float32Array {
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(numelOf(p.keptShape));
  const nd = x.ndim;
  if (nd === 0) {
    out[0] = xd[0];
    return out;
  }
  // Fast paths: trailing dims reduced (row sums) or leading dims reduced (column sums).
  const contiguousTail = dims.every((d, i) => d === nd - dims.length + i);
  const contiguousHead = dims.every((d, i) => d === i);
  if (contiguousTail) {
    const m = p.count;
    for (let o = 0, i = 0; o < out.length; o++) {
      let s = 0;
      for (const end = i + m; i < end; i++) s += xd[i];
      out[o] = s;
    }
    return out;
  }
  if (contiguousHead) {
    const m = out.length;
    for (let i = 0; i < n; i += m) for (let j = 0; j < m; j++) out[j] += xd[i + j];
    return out;
  }
  const shape = x.shape;
  const os = p.outStrides;
  const idx = new Array<number>(nd).fill(0);
  let o = 0;
  const inner = shape[nd - 1];
  const io = os[nd - 1];
  for (let i = 0; i < n; i += inner) {
    for (let j = 0; j < inner; j++) out[o + j * io] += xd[i + j];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      o += os[d];
      if (idx[d] < shape[d]) break;
      o -= os[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

export function sum(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const dims = normalizeDims(dim, x.ndim, 'sum');
  const p = plan(x.shape, dims, keepdim);
  const out = new Tensor(sumKernel(x, dims, p), p.outShape);
  return record(out, 'sum', [x], (g) => [expand(reshape(g, p.keptShape), x.shape)]);
}

export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const dims = normalizeDims(dim, x.ndim, 'mean');
  const p = plan(x.shape, dims, keepdim);
  return div(sum(x, dims, keepdim), p.count);
}

/** Variance over dims; unbiased (Bessel's correction) by default, like torch.var. */
export function variance(
  x: Tensor,
  dim?: number | readonly number[],
  options: { keepdim?: boolean; unbiased?: boolean; correction?: number } = {},
): Tensor {
  const dims = normalizeDims(dim, x.ndim, 'var');
  const p = plan(x.shape, dims, true);
  const correction = options.correction ?? (options.unbiased === false ? 0 : 1);
  const centered = sub(x, mean(x, dims, true));
  return div(sum(mul(centered, centered), dims, options.keepdim ?? false), Math.max(p.count - correction, 0));
}

/** Index of the extreme value along dim (first occurrence), and the value itself. */
function extremeAlong(x: Tensor, dim: number, keepdim: boolean, better: (a: number, b: number) => boolean) {
  const shape = x.shape;
  const n = shape[dim];
  if (n === 0) throw new Error(`cannot reduce over dim ${dim} of size 0 (shape ${formatShape(shape)})`);
  const inner = stridesOf(shape)[dim];
  const outer = x.numel() / (n * inner);
  const values = new Float32Array(outer * inner);
  const indices = new Int32Array(outer * inner);
  const xd = x.data;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let best = xd[base];
      let bi = 0;
      for (let k = 1; k < n; k++) {
        const v = xd[base + k * inner];
        // NaN propagates, as in PyTorch.
        if (!Number.isNaN(best) && (better(v, best) || Number.isNaN(v))) {
          best = v;
          bi = k;
        }
      }
      values[o * inner + i] = best;
      indices[o * inner + i] = bi;
    }
  }
  const outShape = keepdim ? shape.map((s, d) => (d === dim ? 1 : s)) : shape.filter((_, d) => d !== dim);
  return { values, indices, outShape, inner, n };
}

function extreme(
  x: Tensor,
  dim: number | undefined,
  keepdim: boolean,
  name: string,
  better: (a: number, b: number) => boolean,
): Tensor {
  if (dim === undefined) {
    const flat = reshape(x, [x.numel()]);
    const r = extremeAlong(flat, 0, false, better);
    const value = r.values[0];
    const out = new Tensor(new Float32Array([value]), []);
    // Ties share the gradient evenly (PyTorch's amax/amin rule for full reductions).
    return record(out, name, [x], (g) => {
      const mask = eq(x, value);
      return [mul(mask, div(g, sum(mask)))];
    });
  }
  const d = normalizeDim(dim, x.ndim, name);
  const r = extremeAlong(x, d, keepdim, better);
  const out = new Tensor(r.values, r.outShape);
  return record(out, name, [x], (g) => {
    const gx = new Float32Array(x.numel());
    const gd = g.data;
    for (let j = 0; j < r.indices.length; j++) {
      const o = Math.floor(j / r.inner);
      const i = j % r.inner;
      gx[(o * r.n + r.indices[j]) * r.inner + i] += gd[j];
    }
    return [new Tensor(gx, x.shape)];
  });
}

export function max(x: Tensor, dim?: number, keepdim = false): Tensor {
  return extreme(x, dim, keepdim, 'max', (a, b) => a > b);
}

export function min(x: Tensor, dim?: number, keepdim = false): Tensor {
  return extreme(x, dim, keepdim, 'min', (a, b) => a < b);
}

function argExtreme(
  x: Tensor,
  dim: number | undefined,
  keepdim: boolean,
  name: string,
  better: (a: number, b: number) => boolean,
): Tensor {
  if (dim === undefined) {
    const r = extremeAlong(reshape(x, [x.numel()]), 0, false, better);
    return new Tensor(r.indices, []);
  }
  const r = extremeAlong(x, normalizeDim(dim, x.ndim, name), keepdim, better);
  return new Tensor(r.indices, r.outShape);
}

/** Index (int32) of the first maximum along dim, or of the flattened tensor without dim. */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argExtreme(x, dim, keepdim, 'argmax', (a, b) => a > b);
}

export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argExtreme(x, dim, keepdim, 'argmin', (a, b) => a < b);
}

/**
 * Undoes broadcasting: sums `g` down to `shape` (the one helper every broadcasting op's backward
 * uses). Leading extra dims are summed away; dims where `shape` has 1 are summed with keepdim.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let d = 0; d < g.ndim; d++) {
    if (d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1)) dims.push(d);
  }
  const p = plan(g.shape, dims, true);
  return new Tensor(sumKernel(g, dims, p), shape);
}
