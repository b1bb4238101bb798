/**
 * Pooling layers: MaxPool1d/2d/3d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, as in
 * torch/nn/modules/pooling.py. Arguments are validated at construction (so a bad padding fails
 * where the model is built); a too-small input fails in forward with the size arithmetic from the
 * op, prefixed with the layer's path.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { IntOrTuple } from '../ops/geometry.js';
import {
  adaptiveAvgPool2d,
  adaptiveMaxPool2d,
  avgPool2d,
  maxPool1d,
  maxPool2d,
  maxPool3d,
} from '../ops/pool.js';
import { Module, typeName } from './module.js';
import { checkBool, checkInt, checkKeys, show, showIntOrTuple, tuple } from './util.js';

export interface MaxPoolOptions {
  /** Default: kernelSize. */
  stride?: IntOrTuple | null;
  padding?: IntOrTuple;
  dilation?: IntOrTuple;
  ceilMode?: boolean;
}

export interface AvgPoolOptions {
  stride?: IntOrTuple | null;
  padding?: IntOrTuple;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

function split<O extends object>(
  where: string,
  kernelOrOptions: IntOrTuple | (O & { kernelSize: IntOrTuple }),
  options: O | undefined,
  keys: string[],
): [IntOrTuple, O] {
  if (typeof kernelOrOptions === 'number' || Array.isArray(kernelOrOptions)) {
    const o = options ?? ({} as O);
    checkKeys(where, o, keys);
    return [kernelOrOptions as IntOrTuple, o];
  }
  if (typeof kernelOrOptions !== 'object' || kernelOrOptions === null || !('kernelSize' in kernelOrOptions)) {
    throw new TypeError(
      `${where}: expected a kernelSize (int or tuple) or an options object with kernelSize, got ${show(kernelOrOptions)}`,
    );
  }
  if (options !== undefined) throw new TypeError(`${where}: pass the options in one object, not two`);
  checkKeys(where, kernelOrOptions, ['kernelSize', ...keys]);
  return [(kernelOrOptions as { kernelSize: IntOrTuple }).kernelSize, kernelOrOptions];
}

/** Checks padding ≤ kernel/2 (PyTorch's rule) at construction. */
function checkPadding(where: string, kernel: number[], padding: number[]): void {
  for (let i = 0; i < kernel.length; i++) {
    if (padding[i] * 2 > kernel[i]) {
      throw new RangeError(
        `${where}: padding should be at most half of the kernel size, got padding ${show(padding)} for kernelSize ${show(kernel)}`,
      );
    }
  }
}

const MAX_KEYS = ['stride', 'padding', 'dilation', 'ceilMode'];

export abstract class _MaxPoolNd extends Module {
  static override readonly tensorInputs = true;
  readonly kernelSize: IntOrTuple;
  readonly stride: IntOrTuple;
  readonly padding: IntOrTuple;
  readonly dilation: IntOrTuple;
  readonly ceilMode: boolean;

  protected constructor(
    nd: number,
    kernelSize: IntOrTuple | (MaxPoolOptions & { kernelSize: IntOrTuple }),
    options: MaxPoolOptions | undefined,
  ) {
    super();
    const where = typeName(this);
    const [k, o] = split(where, kernelSize, options, MAX_KEYS);
    const kernel = tuple(where, 'kernelSize', k, nd, 1);
    if (o.stride !== undefined && o.stride !== null) tuple(where, 'stride', o.stride, nd, 1);
    const padding = tuple(where, 'padding', o.padding ?? 0, nd, 0);
    tuple(where, 'dilation', o.dilation ?? 1, nd, 1);
    checkPadding(where, kernel, padding);
    this.kernelSize = k;
    this.stride = o.stride ?? k;
    this.padding = o.padding ?? 0;
    this.dilation = o.dilation ?? 1;
    this.ceilMode = checkBool(where, 'ceilMode', o.ceilMode ?? false);
  }

  /** @internal The options of the maxPool op (also read by nn/fusion.ts). */
  get options() {
    return {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
    };
  }

  override extraRepr(): string {
    let s = `kernelSize=${showIntOrTuple(this.kernelSize)}`;
    if (showIntOrTuple(this.stride) !== showIntOrTuple(this.kernelSize))
      s += `, stride=${showIntOrTuple(this.stride)}`;
    if (showIntOrTuple(this.padding) !== '0') s += `, padding=${showIntOrTuple(this.padding)}`;
    if (showIntOrTuple(this.dilation) !== '1') s += `, dilation=${showIntOrTuple(this.dilation)}`;
    if (this.ceilMode) s += ', ceilMode=true';
    return s;
  }
}

/** Max over windows of [N, C, L]. */
export class MaxPool1d extends _MaxPoolNd {
  constructor(
    kernelSize: IntOrTuple | (MaxPoolOptions & { kernelSize: IntOrTuple }),
    options?: MaxPoolOptions,
  ) {
    super(1, kernelSize, options);
  }
  override forward(input: Tensor): Tensor {
    return maxPool1d(input, this.options);
  }
}

/** Max over windows of [N, C, H, W]: `new MaxPool2d(2)` halves H and W. */
export class MaxPool2d extends _MaxPoolNd {
  constructor(
    kernelSize: IntOrTuple | (MaxPoolOptions & { kernelSize: IntOrTuple }),
    options?: MaxPoolOptions,
  ) {
    super(2, kernelSize, options);
  }
  override forward(input: Tensor): Tensor {
    return maxPool2d(input, this.options);
  }
}

/** Max over windows of [N, C, D, H, W]. */
export class MaxPool3d extends _MaxPoolNd {
  constructor(
    kernelSize: IntOrTuple | (MaxPoolOptions & { kernelSize: IntOrTuple }),
    options?: MaxPoolOptions,
  ) {
    super(3, kernelSize, options);
  }
  override forward(input: Tensor): Tensor {
    return maxPool3d(input, this.options);
  }
}

/** Average over windows of [N, C, H, W]. */
export class AvgPool2d extends Module {
  static override readonly tensorInputs = true;
  readonly kernelSize: IntOrTuple;
  readonly stride: IntOrTuple;
  readonly padding: IntOrTuple;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(
    kernelSize: IntOrTuple | (AvgPoolOptions & { kernelSize: IntOrTuple }),
    options?: AvgPoolOptions,
  ) {
    super();
    const where = 'AvgPool2d';
    const [k, o] = split(where, kernelSize, options, [
      'stride',
      'padding',
      'ceilMode',
      'countIncludePad',
      'divisorOverride',
    ]);
    const kernel = tuple(where, 'kernelSize', k, 2, 1);
    if (o.stride !== undefined && o.stride !== null) tuple(where, 'stride', o.stride, 2, 1);
    checkPadding(where, kernel, tuple(where, 'padding', o.padding ?? 0, 2, 0));
    this.kernelSize = k;
    this.stride = o.stride ?? k;
    this.padding = o.padding ?? 0;
    this.ceilMode = checkBool(where, 'ceilMode', o.ceilMode ?? false);
    this.countIncludePad = checkBool(where, 'countIncludePad', o.countIncludePad ?? true);
    this.divisorOverride =
      o.divisorOverride === undefined || o.divisorOverride === null
        ? null
        : checkInt(where, 'divisorOverride', o.divisorOverride);
  }

  override forward(input: Tensor): Tensor {
    return avgPool2d(input, {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  override extraRepr(): string {
    let s = `kernelSize=${showIntOrTuple(this.kernelSize)}`;
    if (showIntOrTuple(this.stride) !== showIntOrTuple(this.kernelSize))
      s += `, stride=${showIntOrTuple(this.stride)}`;
    if (showIntOrTuple(this.padding) !== '0') s += `, padding=${showIntOrTuple(this.padding)}`;
    if (this.ceilMode) s += ', ceilMode=true';
    if (!this.countIncludePad) s += ', countIncludePad=false';
    if (this.divisorOverride !== null) s += `, divisorOverride=${this.divisorOverride}`;
    return s;
  }
}

export type AdaptiveSize = number | readonly (number | null)[];

function checkOutputSize(where: string, outputSize: AdaptiveSize): AdaptiveSize {
  const arr = typeof outputSize === 'number' ? [outputSize] : Array.isArray(outputSize) ? outputSize : null;
  if (arr === null || (typeof outputSize !== 'number' && arr.length !== 2)) {
    throw new RangeError(
      `${where}: outputSize must be an int or a pair (null keeps that dim), got ${show(outputSize)}`,
    );
  }
  for (const v of arr) if (v !== null) checkInt(where, 'outputSize', v);
  return outputSize;
}

function showAdaptive(s: AdaptiveSize): string {
  return typeof s === 'number'
    ? String(s)
    : `(${s.map((v) => (v === null ? 'null' : String(v))).join(', ')})`;
}

/** Average over adaptive windows: any input size gives outputSize (1 = global average pooling). */
export class AdaptiveAvgPool2d extends Module {
  static override readonly tensorInputs = true;
  readonly outputSize: AdaptiveSize;
  constructor(outputSize: AdaptiveSize) {
    super();
    this.outputSize = checkOutputSize('AdaptiveAvgPool2d', outputSize);
  }
  override forward(input: Tensor): Tensor {
    return adaptiveAvgPool2d(input, this.outputSize);
  }
  override extraRepr(): string {
    return `outputSize=${showAdaptive(this.outputSize)}`;
  }
}

/** Max over adaptive windows: any input size gives outputSize. */
export class AdaptiveMaxPool2d extends Module {
  static override readonly tensorInputs = true;
  readonly outputSize: AdaptiveSize;
  constructor(outputSize: AdaptiveSize) {
    super();
    this.outputSize = checkOutputSize('AdaptiveMaxPool2d', outputSize);
  }
  override forward(input: Tensor): Tensor {
    return adaptiveMaxPool2d(input, this.outputSize);
  }
  override extraRepr(): string {
    return `outputSize=${showAdaptive(this.outputSize)}`;
  }
}
