/** Flatten (dims startDim..endDim into one; default keeps the batch dim) and Unflatten (its inverse). */
import type { Tensor } from '../tensor/tensor.js';
import { flatten, unflatten } from '../ops/shape.js';
import { Module } from './module.js';
import { ShapeError, formatShape } from './errors.js';
import { show } from './util.js';

function checkDim(where: string, arg: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new TypeError(`${where}: ${arg} must be an integer, got ${show(v)}`);
  return v;
}

function resolve(dim: number, ndim: number): number {
  return dim < 0 ? dim + ndim : dim;
}

export class Flatten extends Module {
  static override readonly tensorInputs = true;
  readonly startDim: number;
  readonly endDim: number;

  constructor(startDim = 1, endDim = -1) {
    super();
    this.startDim = checkDim('Flatten', 'startDim', startDim);
    this.endDim = checkDim('Flatten', 'endDim', endDim);
  }

  override forward(input: Tensor): Tensor {
    const s = resolve(this.startDim, input.ndim);
    const e = resolve(this.endDim, input.ndim);
    if (input.ndim > 0 && (s < 0 || s >= input.ndim || e < 0 || e >= input.ndim || s > e)) {
      throw new ShapeError(
        `cannot flatten dims ${this.startDim}..${this.endDim} of a ${input.ndim}-D input (input shape ${formatShape(input.shape)})`,
      );
    }
    return flatten(input, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return this.startDim === 1 && this.endDim === -1
      ? ''
      : `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}

export class Unflatten extends Module {
  static override readonly tensorInputs = true;
  readonly dim: number;
  readonly sizes: readonly number[];

  constructor(dim: number, sizes: readonly number[]) {
    super();
    this.dim = checkDim('Unflatten', 'dim', dim);
    if (!Array.isArray(sizes) || sizes.length === 0) {
      throw new TypeError(`Unflatten: sizes must be a non-empty array of ints, got ${show(sizes)}`);
    }
    let unknown = 0;
    for (const s of sizes) {
      if (s === -1) unknown++;
      else if (!Number.isInteger(s) || s < 1) {
        throw new RangeError(`Unflatten: sizes must be positive integers (or one -1), got ${show(sizes)}`);
      }
    }
    if (unknown > 1) throw new RangeError(`Unflatten: only one size can be -1, got ${show(sizes)}`);
    this.sizes = [...sizes];
  }

  override forward(input: Tensor): Tensor {
    const d = resolve(this.dim, input.ndim);
    if (d < 0 || d >= input.ndim) {
      throw new ShapeError(`dim ${this.dim} is out of range for input shape ${formatShape(input.shape)}`);
    }
    const known = this.sizes.reduce((a, s) => (s === -1 ? a : a * s), 1);
    const n = input.shape[d];
    if (this.sizes.includes(-1) ? n % known !== 0 : n !== known) {
      throw new ShapeError(
        `cannot unflatten dim ${this.dim} of size ${n} into ${show(this.sizes)} (input shape ${formatShape(input.shape)})`,
      );
    }
    return unflatten(input, this.dim, this.sizes);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, sizes=(${this.sizes.join(', ')})`;
  }
}
