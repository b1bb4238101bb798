/**
 * Shape ops. reshape/view/flatten/squeeze/unsqueeze share storage (the result is a view);
 * permute/transpose/expand/slice/cat/stack/pad copy into a fresh contiguous tensor.
 */
import { record } from '../autograd/graph.js';
import { Tensor } from '../tensor/tensor.js';
import { formatShape, normalizeDim, numelOf, stridesOf } from '../tensor/shape.js';
import { sumToShape } from './reduce.js';

function like(x: Tensor, n: number): Float32Array | Int32Array {
  return x.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
}

/** A view with a new shape; one dim may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const n = x.numel();
  const out = [...shape];
  const infer = out.indexOf(-1);
  if (infer !== out.lastIndexOf(-1))
    throw new Error(`reshape: only one dim can be -1, got ${formatShape(shape)}`);
  if (infer >= 0) {
    const known = numelOf(out.filter((_, i) => i !== infer));
    if (known === 0 || n % known !== 0) {
      throw new Error(
        `reshape: cannot reshape a tensor of shape ${formatShape(x.shape)} (${n} elements) into ${formatShape(shape)}`,
      );
    }
    out[infer] = n / known;
  }
  if (out.some((s) => !Number.isInteger(s) || s < 0) || numelOf(out) !== n) {
    throw new Error(
      `reshape: cannot reshape a tensor of shape ${formatShape(x.shape)} (${n} elements) into ${formatShape(shape)}`,
    );
  }
  const result = new Tensor(x.data, out);
  return record(result, 'reshape', [x], (g) => [new Tensor(g.data, x.shape)]);
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim(startDim, x.ndim, 'flatten');
  const e = normalizeDim(endDim, x.ndim, 'flatten');
  if (s > e) throw new Error(`flatten: startDim (${startDim}) must not come after endDim (${endDim})`);
  const shape = [...x.shape.slice(0, s), numelOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Splits dim into `sizes` (the inverse of flatten). */
export function unflatten(x: Tensor, dim: number, sizes: readonly number[]): Tensor {
  const d = normalizeDim(dim, x.ndim, 'unflatten');
  return reshape(x, [...x.shape.slice(0, d), ...sizes, ...x.shape.slice(d + 1)]);
}

export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined)
    return reshape(
      x,
      x.shape.filter((s) => s !== 1),
    );
  const d = normalizeDim(dim, x.ndim, 'squeeze');
  if (x.shape[d] !== 1) return x;
  return reshape(
    x,
    x.shape.filter((_, i) => i !== d),
  );
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeDim(dim, x.ndim + 1, 'unsqueeze');
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}

export function clone(x: Tensor): Tensor {
  const out = new Tensor(x.data.slice(), x.shape);
  return record(out, 'clone', [x], (g) => [g]);
}

/** Copies `x` with its dims reordered: out dim i is input dim dims[i]. */
function permuteData(x: Tensor, dims: readonly number[]): Float32Array | Int32Array {
  const nd = x.ndim;
  const inStrides = stridesOf(x.shape);
  const outShape = dims.map((d) => x.shape[d]);
  const srcStrides = dims.map((d) => inStrides[d]);
  const n = x.numel();
  const out = like(x, n);
  const xd = x.data;
  if (nd === 0) {
    out[0] = xd[0];
    return out;
  }
  const idx = new Array<number>(nd).fill(0);
  const inner = outShape[nd - 1];
  const is = srcStrides[nd - 1];
  let src = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = xd[src + j * is];
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      src += srcStrides[d];
      if (idx[d] < outShape[d]) break;
      src -= srcStrides[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return out;
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new Error(
      `permute: expected ${x.ndim} dims for a tensor of shape ${formatShape(x.shape)}, got [${dims}]`,
    );
  }
  const nd = dims.map((d) => normalizeDim(d, x.ndim, 'permute'));
  if (new Set(nd).size !== nd.length) throw new Error(`permute: repeated dim in [${dims}]`);
  const out = new Tensor(
    permuteData(x, nd),
    nd.map((d) => x.shape[d]),
  );
  const inverse = new Array<number>(nd.length);
  nd.forEach((d, i) => (inverse[d] = i));
  return record(out, 'permute', [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normalizeDim(dim0, x.ndim, 'transpose');
  const b = normalizeDim(dim1, x.ndim, 'transpose');
  const dims = Array.from({ length: x.ndim }, (_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Broadcasts to `shape` (materialised); -1 keeps a dim. Backward sums over the expanded dims. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  if (lead < 0)
    throw new Error(`expand: cannot expand ${formatShape(x.shape)} to fewer dims ${formatShape(shape)}`);
  const target = shape.map((s, d) => (s === -1 ? x.shape[d - lead] : s));
  for (let d = 0; d < x.ndim; d++) {
    const have = x.shape[d];
    const want = target[d + lead];
    if (have !== want && have !== 1) {
      throw new Error(
        `expand: the size of dim ${d} (${have}) must match ${want} or be 1 (${formatShape(x.shape)} → ${formatShape(shape)})`,
      );
    }
  }
  const n = numelOf(target);
  const out = like(x, n);
  const xd = x.data;
  if (xd.length === 1) out.fill(xd[0]);
  else {
    const strides = stridesOf(x.shape);
    const src = target.map((s, d) => (d < lead || x.shape[d - lead] === 1 ? 0 : strides[d - lead]));
    const nd = target.length;
    const idx = new Array<number>(nd).fill(0);
    const inner = target[nd - 1];
    const is = src[nd - 1];
    let off = 0;
    for (let o = 0; o < n; o += inner) {
      for (let j = 0; j < inner; j++) out[o + j] = xd[off + j * is];
      for (let d = nd - 2; d >= 0; d--) {
        idx[d]++;
        off += src[d];
        if (idx[d] < target[d]) break;
        off -= src[d] * target[d];
        idx[d] = 0;
      }
    }
  }
  return record(new Tensor(out, target), 'expand', [x], (g) => [sumToShape(g, x.shape)]);
}

/** Elements start..end-1 with `step` along dim (Python slice semantics, negatives allowed). */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  const d = normalizeDim(dim, x.ndim, 'slice');
  const size = x.shape[d];
  if (!(step >= 1) || !Number.isInteger(step))
    throw new Error(`slice: step must be a positive integer, got ${step}`);
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
  const s = clampIdx(start);
  const e = clampIdx(end ?? size);
  const len = Math.max(0, Math.ceil((e - s) / step));
  const index = Array.from({ length: len }, (_, i) => s + i * step);
  return indexSelect(x, d, index);
}

/** Picks entries `index` along dim (index may repeat). */
export function indexSelect(x: Tensor, dim: number, index: Tensor | readonly number[]): Tensor {
  const d = normalizeDim(dim, x.ndim, 'indexSelect');
  const idx = index instanceof Tensor ? Array.from(index.data) : index;
  const size = x.shape[d];
  for (const i of idx) {
    if (!Number.isInteger(i) || i < 0 || i >= size) {
      throw new Error(`indexSelect: index ${i} is out of range for dim ${d} of size ${size}`);
    }
  }
  const inner = stridesOf(x.shape)[d];
  const outer = x.numel() / (size * inner || 1);
  const shape = [...x.shape];
  shape[d] = idx.length;
  const out = like(x, numelOf(shape));
  const xd = x.data;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < idx.length; k++) {
      const src = (o * size + idx[k]) * inner;
      out.set(xd.subarray(src, src + inner), (o * idx.length + k) * inner);
    }
  }
  return record(new Tensor(out, shape), 'indexSelect', [x], (g) => {
    const gx = new Float32Array(x.numel());
    const gd = g.data;
    for (let o = 0; o < outer; o++) {
      for (let k = 0; k < idx.length; k++) {
        const dst = (o * size + idx[k]) * inner;
        const src = (o * idx.length + k) * inner;
        for (let j = 0; j < inner; j++) gx[dst + j] += gd[src + j];
      }
    }
    return [new Tensor(gx, x.shape)];
  });
}

/** x[index] along dim, dropping that dim. */
export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normalizeDim(dim, x.ndim, 'select');
  const i = index < 0 ? index + x.shape[d] : index;
  return squeeze(indexSelect(x, d, [i]), d);
}

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('cat: expected a non-empty list of tensors');
  const first = tensors[0];
  const d = normalizeDim(dim, first.ndim, 'cat');
  for (const [k, t] of tensors.entries()) {
    if (t.ndim !== first.ndim || t.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new Error(
        `cat: tensor ${k} has shape ${formatShape(t.shape)}, which does not match ${formatShape(first.shape)} outside dim ${d}`,
      );
    }
  }
  const inner = stridesOf(first.shape)[d];
  const outer = numelOf(first.shape.slice(0, d));
  const total = tensors.reduce((s, t) => s + t.shape[d], 0);
  const shape = [...first.shape];
  shape[d] = total;
  const out = like(first, numelOf(shape));
  let offset = 0;
  for (const t of tensors) {
    const chunk = t.shape[d] * inner;
    for (let o = 0; o < outer; o++)
      out.set(t.data.subarray(o * chunk, (o + 1) * chunk), o * total * inner + offset);
    offset += chunk;
  }
  return record(new Tensor(out, shape), 'cat', tensors, (g) => {
    let start = 0;
    return tensors.map((t) => {
      const piece = slice(g, d, start, start + t.shape[d]);
      start += t.shape[d];
      return piece;
    });
  });
}

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack: expected a non-empty list of tensors');
  const d = normalizeDim(dim, tensors[0].ndim + 1, 'stack');
  for (const [k, t] of tensors.entries()) {
    if (t.shape.length !== tensors[0].shape.length || t.shape.some((s, i) => s !== tensors[0].shape[i])) {
      throw new Error(
        `stack: tensor ${k} has shape ${formatShape(t.shape)}, expected ${formatShape(tensors[0].shape)}`,
      );
    }
  }
  return cat(
    tensors.map((t) => unsqueeze(t, d)),
    d,
  );
}

/**
 * Constant padding, PyTorch's F.pad: `pad` lists (before, after) pairs starting from the LAST dim.
 * Negative pads crop.
 */
export function pad(x: Tensor, padding: readonly number[], value = 0): Tensor {
  if (padding.length % 2 !== 0 || padding.length / 2 > x.ndim) {
    throw new Error(`pad: padding must have an even length of at most ${2 * x.ndim}, got [${padding}]`);
  }
  const nd = x.ndim;
  const before = new Array<number>(nd).fill(0);
  const after = new Array<number>(nd).fill(0);
  for (let i = 0; i < padding.length / 2; i++) {
    before[nd - 1 - i] = padding[2 * i];
    after[nd - 1 - i] = padding[2 * i + 1];
  }
  const shape = x.shape.map((s, d) => s + before[d] + after[d]);
  if (shape.some((s) => s < 0))
    throw new Error(`pad: padding [${padding}] makes a negative size for ${formatShape(x.shape)}`);
  const out = like(x, numelOf(shape));
  if (value !== 0) out.fill(value);
  const inStrides = stridesOf(x.shape);
  const outStrides = stridesOf(shape);
  // Copy each input element that survives cropping to its padded position.
  const n = x.numel();
  const xd = x.data;
  const positions = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let o = 0;
    let inside = true;
    for (let d = 0; d < nd; d++) {
      const c = Math.floor(rem / inStrides[d]);
      rem -= c * inStrides[d];
      const p = c + before[d];
      if (p < 0 || p >= shape[d]) {
        inside = false;
        break;
      }
      o += p * outStrides[d];
    }
    if (inside) {
      out[o] = xd[i];
      positions[i] = o;
    }
  }
  return record(new Tensor(out, shape), 'pad', [x], (g) => {
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) if (positions[i] >= 0) gx[i] = g.data[positions[i]];
    return [new Tensor(gx, x.shape)];
  });
}
