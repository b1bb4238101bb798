/**
 * Tensor: a shape over contiguous row-major storage (float32, or int32 where PyTorch uses int64:
 * class targets, pool indices, argmax), plus what autograd needs. Views (reshape/view/flatten/
 * squeeze/unsqueeze) share storage; every other op allocates its result, so no strides to track.
 * Memory is the garbage collector's business: there is no dispose().
 */
import { runBackward, type GradFn } from '../autograd/graph.js';
import * as E from '../ops/elementwise.js';
import * as R from '../ops/reduce.js';
import * as S from '../ops/shape.js';
import { matmul } from '../ops/linalg.js';
import { formatShape, numelOf, normalizeDim } from './shape.js';

export type DType = 'float32' | 'int32';
export type Storage = Float32Array | Int32Array;
export type Scalar = number;
export type TensorLike = Tensor | number;
export type NestedArray = number | boolean | NestedArray[];

export class Tensor {
  /** Flat row-major storage; shared between a tensor and its views. */
  data: Storage;
  readonly shape: number[];
  readonly dtype: DType;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  /** Set by ops when recorded on the tape; null for leaves. */
  gradFn: GradFn | null = null;
  /** Interior tensors keep their gradient only after `retainGrad()`, as in PyTorch. */
  retainsGrad = false;

  constructor(data: Storage, shape: readonly number[], requiresGrad = false) {
    const n = numelOf(shape);
    if (data.length !== n) {
      throw new Error(
        `Tensor: storage has ${data.length} elements but shape ${formatShape(shape)} needs ${n}`,
      );
    }
    this.data = data;
    this.shape = [...shape];
    this.dtype = data instanceof Int32Array ? 'int32' : 'float32';
    if (requiresGrad && this.dtype !== 'float32') {
      throw new Error('Tensor: only float32 tensors can require gradients');
    }
    this.requiresGrad = requiresGrad;
  }

  get ndim(): number {
    return this.shape.length;
  }

  dim(): number {
    return this.shape.length;
  }

  numel(): number {
    return this.data.length;
  }

  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    if (dim === undefined) return [...this.shape];
    return this.shape[normalizeDim(dim, this.ndim, 'size')];
  }

  /** Whether this tensor was created by the user (not by a recorded op). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  item(): number {
    if (this.data.length !== 1) {
      throw new Error(`item: expected a tensor with one element, got shape ${formatShape(this.shape)}`);
    }
    return this.data[0];
  }

  /** Nested JS arrays (a number for a 0-d tensor). */
  toArray(): NestedArray {
    const data = this.data;
    const shape = this.shape;
    if (shape.length === 0) return data[0];
    let offset = 0;
    const build = (d: number): NestedArray[] => {
      const out: NestedArray[] = new Array(shape[d]);
      for (let i = 0; i < shape[d]; i++) {
        if (d === shape.length - 1) out[i] = data[offset++];
        else out[i] = build(d + 1);
      }
      return out;
    };
    return build(0);
  }

  /** A float32 copy (or this tensor if already float32), detached. */
  float(): Tensor {
    return this.dtype === 'float32' ? this : new Tensor(Float32Array.from(this.data), this.shape);
  }

  /** An int32 copy (truncating toward zero, like `.long()`), detached. */
  int(): Tensor {
    return this.dtype === 'int32' ? this : new Tensor(Int32Array.from(this.data, Math.trunc), this.shape);
  }

  // ---- autograd -------------------------------------------------------------------------------

  setRequiresGrad(requiresGrad = true): this {
    if (!this.isLeaf) throw new Error('requiresGrad can only be changed on leaf tensors');
    if (requiresGrad && this.dtype !== 'float32')
      throw new Error('only float32 tensors can require gradients');
    this.requiresGrad = requiresGrad;
    return this;
  }

  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /**
   * Computes gradients of this tensor with respect to every leaf that requires grad, accumulating
   * into their `.grad`. A non-scalar tensor needs `gradient` (the vector in the vector-Jacobian product).
   */
  backward(gradient?: Tensor, options: { retainGraph?: boolean } = {}): void {
    if (!this.requiresGrad) {
      throw new Error('backward: this tensor does not require grad and has no grad function');
    }
    let g = gradient;
    if (g === undefined) {
      if (this.numel() !== 1) {
        throw new Error(
          `backward: gradient can be implicitly created only for scalar outputs; this tensor has shape ${formatShape(this.shape)}`,
        );
      }
      g = new Tensor(new Float32Array([1]), this.shape);
    } else if (g.numel() !== this.numel()) {
      throw new Error(
        `backward: gradient has shape ${formatShape(g.shape)} but the tensor has ${formatShape(this.shape)}`,
      );
    }
    runBackward(this, g, options.retainGraph ?? false);
  }

  /** @internal: adds g into `.grad` (a fresh tensor, so earlier grads are never mutated). */
  accumulateGrad(g: Tensor): void {
    const gg = g.shape.length === this.shape.length ? g : g.reshape(this.shape);
    this.grad = this.grad === null ? gg.detach() : E.add(this.grad, gg).detach();
  }

  /** The same storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A copy of the storage (the copy stays on the graph, like torch.clone). */
  clone(): Tensor {
    return S.clone(this);
  }

  // ---- elementwise ----------------------------------------------------------------------------
  add(other: TensorLike): Tensor {
    return E.add(this, other);
  }
  sub(other: TensorLike): Tensor {
    return E.sub(this, other);
  }
  mul(other: TensorLike): Tensor {
    return E.mul(this, other);
  }
  div(other: TensorLike): Tensor {
    return E.div(this, other);
  }
  pow(exponent: TensorLike): Tensor {
    return E.pow(this, exponent);
  }
  neg(): Tensor {
    return E.neg(this);
  }
  abs(): Tensor {
    return E.abs(this);
  }
  exp(): Tensor {
    return E.exp(this);
  }
  log(): Tensor {
    return E.log(this);
  }
  sqrt(): Tensor {
    return E.sqrt(this);
  }
  square(): Tensor {
    return E.mul(this, this);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return E.clamp(this, min, max);
  }
  maximum(other: TensorLike): Tensor {
    return E.maximum(this, other);
  }
  minimum(other: TensorLike): Tensor {
    return E.minimum(this, other);
  }
  eq(other: TensorLike): Tensor {
    return E.eq(this, other);
  }
  ne(other: TensorLike): Tensor {
    return E.ne(this, other);
  }
  gt(other: TensorLike): Tensor {
    return E.gt(this, other);
  }
  ge(other: TensorLike): Tensor {
    return E.ge(this, other);
  }
  lt(other: TensorLike): Tensor {
    return E.lt(this, other);
  }
  le(other: TensorLike): Tensor {
    return E.le(this, other);
  }

  // ---- reductions -----------------------------------------------------------------------------
  sum(dim?: number | number[], keepdim = false): Tensor {
    return R.sum(this, dim, keepdim);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return R.mean(this, dim, keepdim);
  }
  max(dim?: number, keepdim = false): Tensor {
    return R.max(this, dim, keepdim);
  }
  min(dim?: number, keepdim = false): Tensor {
    return R.min(this, dim, keepdim);
  }
  var(dim?: number | number[], options: { keepdim?: boolean; unbiased?: boolean } = {}): Tensor {
    return R.variance(this, dim, options);
  }
  std(dim?: number | number[], options: { keepdim?: boolean; unbiased?: boolean } = {}): Tensor {
    return E.sqrt(R.variance(this, dim, options));
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return R.argmax(this, dim, keepdim);
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return R.argmin(this, dim, keepdim);
  }

  // ---- shape ----------------------------------------------------------------------------------
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    return S.reshape(this, flatArgs(shape));
  }
  view(...shape: number[] | [readonly number[]]): Tensor {
    return S.reshape(this, flatArgs(shape));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return S.flatten(this, startDim, endDim);
  }
  squeeze(dim?: number): Tensor {
    return S.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return S.unsqueeze(this, dim);
  }
  permute(...dims: number[] | [readonly number[]]): Tensor {
    return S.permute(this, flatArgs(dims));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return S.transpose(this, dim0, dim1);
  }
  /** 2-D transpose, like `.t()` / `.T`. */
  t(): Tensor {
    if (this.ndim > 2) throw new Error(`t: expects a tensor with <= 2 dims, got ${this.ndim}`);
    return this.ndim < 2 ? this : S.transpose(this, 0, 1);
  }
  expand(...shape: number[] | [readonly number[]]): Tensor {
    return S.expand(this, flatArgs(shape));
  }
  /** Elements start..end-1 (step) along dim, like `x[:, start:end:step]`. */
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return S.slice(this, dim, start, end, step);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return S.slice(this, dim, start, start + length);
  }
  /** Selects one index along dim, removing that dim (like `x[i]` for dim 0). */
  select(dim: number, index: number): Tensor {
    return S.select(this, dim, index);
  }
  indexSelect(dim: number, index: Tensor | readonly number[]): Tensor {
    return S.indexSelect(this, dim, index);
  }
  matmul(other: Tensor): Tensor {
    return matmul(this, other);
  }

  toString(): string {
    const body = this.numel() <= 64 ? JSON.stringify(this.toArray()) : `(${this.numel()} elements)`;
    const grad = this.gradFn
      ? `, gradFn=${this.gradFn.name}`
      : this.requiresGrad
        ? ', requiresGrad=true'
        : '';
    return `tensor(${body}, shape=${formatShape(this.shape)}${this.dtype === 'int32' ? ', dtype=int32' : ''}${grad})`;
  }
}

function flatArgs(args: number[] | [readonly number[]]): number[] {
  return args.length === 1 && Array.isArray(args[0])
    ? [...(args[0] as readonly number[])]
    : (args as number[]);
}
