/** Upsample: resizes [N, C, H, W] to a size or by a scale factor (nearest or bilinear). */
import type { Tensor } from '../tensor/tensor.js';
import { interpolate } from '../ops/interpolate.js';
import { Module } from './module.js';
import { checkBool, checkKeys, show } from './util.js';

export interface UpsampleOptions {
  size?: number | readonly number[];
  scaleFactor?: number | readonly number[];
  mode?: 'nearest' | 'bilinear';
  alignCorners?: boolean;
}

function positive(where: string, arg: string, v: number | readonly number[], integer: boolean): void {
  const arr = typeof v === 'number' ? [v] : Array.isArray(v) ? v : null;
  if (arr === null || arr.length === 0 || arr.length > 2) {
    throw new RangeError(`${where}: ${arg} must be a number or a pair, got ${show(v)}`);
  }
  for (const x of arr) {
    if (typeof x !== 'number' || !(x > 0) || !Number.isFinite(x) || (integer && !Number.isInteger(x))) {
      throw new RangeError(
        `${where}: ${arg} must be ${integer ? 'positive integers' : 'positive numbers'}, got ${show(v)}`,
      );
    }
  }
}

export class Upsample extends Module {
  static override readonly tensorInputs = true;
  readonly size: number | readonly number[] | undefined;
  readonly scaleFactor: number | readonly number[] | undefined;
  readonly mode: 'nearest' | 'bilinear';
  readonly alignCorners: boolean | undefined;

  constructor(options: UpsampleOptions) {
    super();
    const where = 'Upsample';
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(
        `${where}: expected an options object { size } or { scaleFactor }, got ${show(options)}`,
      );
    }
    checkKeys(where, options, ['size', 'scaleFactor', 'mode', 'alignCorners']);
    if ((options.size === undefined) === (options.scaleFactor === undefined)) {
      throw new TypeError(`${where}: give exactly one of size and scaleFactor`);
    }
    if (options.size !== undefined) positive(where, 'size', options.size, true);
    if (options.scaleFactor !== undefined) positive(where, 'scaleFactor', options.scaleFactor, false);
    const mode = options.mode ?? 'nearest';
    if (mode !== 'nearest' && mode !== 'bilinear') {
      throw new RangeError(`${where}: mode must be 'nearest' or 'bilinear', got ${show(mode)}`);
    }
    if (options.alignCorners !== undefined) {
      checkBool(where, 'alignCorners', options.alignCorners);
      if (mode === 'nearest') throw new RangeError(`${where}: alignCorners only applies to mode 'bilinear'`);
    }
    this.size = options.size;
    this.scaleFactor = options.scaleFactor;
    this.mode = mode;
    this.alignCorners = options.alignCorners;
  }

  override forward(input: Tensor): Tensor {
    return interpolate(input, {
      size: this.size,
      scaleFactor: this.scaleFactor,
      mode: this.mode,
      alignCorners: this.alignCorners,
    });
  }

  override extraRepr(): string {
    const fmt = (v: number | readonly number[]): string =>
      typeof v === 'number' ? String(v) : `(${v.join(', ')})`;
    let s = this.size !== undefined ? `size=${fmt(this.size)}` : `scaleFactor=${fmt(this.scaleFactor!)}`;
    s += `, mode='${this.mode}'`;
    if (this.alignCorners) s += ', alignCorners=true';
    return s;
  }
}
