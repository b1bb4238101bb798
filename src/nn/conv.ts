/**
 * Convolution layers: Conv1d, Conv2d, Conv3d, ConvTranspose2d over a shared _ConvNd base, as in
 * torch/nn/modules/conv.py. The constructor validates every argument and creates the weight
 * ([out, in/groups, *k], or [in, out/groups, *k] transposed) with PyTorch's default init; forward
 * checks the channel count (so the error names the layer's own numbers) and is one call into ops.
 */
import type { Tensor } from '../tensor/tensor.js';
import { empty } from './tensors.js';
import { conv1d, conv2d, conv3d, convTranspose2d, type ConvOptions as OpConvOptions } from '../ops/conv.js';
import { planConvBlock, type ConvBlockOptions, type ConvBlockPlan } from '../ops/conv-block.js';
import type { IntOrTuple } from '../ops/geometry.js';
import type { Generator } from '../tensor/random.js';
import { checkConvInput } from '../doctor-checks.js';
import { Module, typeName } from './module.js';
import { Parameter } from './parameter.js';
import { ShapeError, formatShape } from './errors.js';
import { resetLinearOrConv } from './init.js';
import { checkBool, checkInt, checkKeys, pyTuple, show, tuple } from './util.js';

export type PaddingMode = 'zeros';

export interface ConvOptions {
  stride?: IntOrTuple;
  /** Zeros on both sides of each spatial dim, or 'same' (stride 1 only) or 'valid' (= 0). */
  padding?: IntOrTuple | 'same' | 'valid';
  dilation?: IntOrTuple;
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
  /** The generator for the initial weights (default: the global one). */
  generator?: Generator;
}

export interface ConvTransposeOptions {
  stride?: IntOrTuple;
  padding?: IntOrTuple;
  outputPadding?: IntOrTuple;
  groups?: number;
  dilation?: IntOrTuple;
  bias?: boolean;
  paddingMode?: PaddingMode;
  generator?: Generator;
}

type AnyConvOptions = Omit<ConvOptions, 'padding'> &
  Omit<ConvTransposeOptions, 'padding'> & { padding?: ConvOptions['padding'] };
const CONV_KEYS = [
  'kernelSize',
  'stride',
  'padding',
  'dilation',
  'groups',
  'bias',
  'paddingMode',
  'generator',
];
const TRANSPOSE_KEYS = [...CONV_KEYS, 'outputPadding'];

/** Splits `(in, out, kernelSize, options?)` and `(in, out, { kernelSize, ...options })`. */
function splitArgs(
  where: string,
  kernelOrOptions: IntOrTuple | { kernelSize: IntOrTuple },
  options: ConvOptions | ConvTransposeOptions | undefined,
  allowed: string[],
): [IntOrTuple, AnyConvOptions] {
  if (typeof kernelOrOptions === 'number' || Array.isArray(kernelOrOptions)) {
    const opts = (options ?? {}) as AnyConvOptions;
    checkKeys(where, opts, allowed.slice(1));
    return [kernelOrOptions as IntOrTuple, opts];
  }
  if (typeof kernelOrOptions !== 'object' || kernelOrOptions === null) {
    throw new TypeError(
      `${where}: kernelSize must be an int, a tuple or an options object, got ${show(kernelOrOptions)}`,
    );
  }
  const opts = kernelOrOptions as AnyConvOptions & { kernelSize: IntOrTuple };
  if (opts.kernelSize === undefined) throw new TypeError(`${where}: the options need a kernelSize`);
  if (options !== undefined) throw new TypeError(`${where}: pass the options in one object, not two`);
  checkKeys(where, opts, allowed);
  return [opts.kernelSize, opts];
}

export abstract class _ConvNd extends Module {
  static override readonly tensorInputs = true;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly outputPadding: number[];
  readonly groups: number;
  readonly transposed: boolean;
  readonly paddingMode: PaddingMode;
  weight: Parameter;
  bias: Parameter | null;

  protected constructor(
    readonly nd: number,
    transposed: boolean,
    inChannels: number,
    outChannels: number,
    kernelSize: IntOrTuple,
    options: AnyConvOptions,
  ) {
    super();
    const where = typeName(this);
    this.inChannels = checkInt(where, 'inChannels', inChannels);
    this.outChannels = checkInt(where, 'outChannels', outChannels);
    this.kernelSize = tuple(where, 'kernelSize', kernelSize, nd, 1);
    this.stride = tuple(where, 'stride', options.stride ?? 1, nd, 1);
    this.dilation = tuple(where, 'dilation', options.dilation ?? 1, nd, 1);
    this.groups = checkInt(where, 'groups', options.groups ?? 1);
    this.transposed = transposed;
    if (inChannels % this.groups !== 0) {
      throw new RangeError(`${where}: groups (${this.groups}) must divide inChannels (${inChannels})`);
    }
    if (outChannels % this.groups !== 0) {
      throw new RangeError(`${where}: groups (${this.groups}) must divide outChannels (${outChannels})`);
    }
    const padding = options.padding ?? 0;
    if (padding === 'same' || padding === 'valid') {
      if (transposed) throw new RangeError(`${where}: padding must be an int or a tuple, got '${padding}'`);
      if (padding === 'same' && this.stride.some((s) => s !== 1)) {
        throw new RangeError(
          `${where}: padding='same' is not supported for strided convolutions (stride ${pyTuple(this.stride)}); ` +
            'give the padding as a number',
        );
      }
      this.padding = padding;
    } else if (typeof padding === 'string') {
      throw new RangeError(`${where}: padding must be an int, a tuple, 'same' or 'valid', got '${padding}'`);
    } else {
      this.padding = tuple(where, 'padding', padding, nd, 0);
    }
    this.outputPadding = tuple(where, 'outputPadding', options.outputPadding ?? 0, nd, 0);
    this.outputPadding.forEach((op, i) => {
      if (op >= this.stride[i] && op >= this.dilation[i]) {
        throw new RangeError(
          `${where}: outputPadding must be smaller than either stride or dilation, got outputPadding ${pyTuple(this.outputPadding)}, ` +
            `stride ${pyTuple(this.stride)}, dilation ${pyTuple(this.dilation)}`,
        );
      }
    });
    this.paddingMode = options.paddingMode ?? 'zeros';
    if (this.paddingMode !== 'zeros') {
      throw new RangeError(
        `${where}: paddingMode '${String(this.paddingMode)}' is not supported (only 'zeros')`,
      );
    }
    const useBias = checkBool(where, 'bias', options.bias ?? true);
    const wShape = transposed
      ? [inChannels, outChannels / this.groups, ...this.kernelSize]
      : [outChannels, inChannels / this.groups, ...this.kernelSize];
    this.weight = this.registerParameter('weight', new Parameter(empty(wShape)));
    this.bias = this.registerParameter('bias', useBias ? new Parameter(empty([outChannels])) : null);
    this.resetParameters(options.generator);
  }

  /** PyTorch's default: kaimingUniform(a=√5) weight, U(±1/√fanIn) bias. */
  resetParameters(generator?: Generator): void {
    resetLinearOrConv(this.weight, this.bias, generator);
  }

  /** Checks rank and channels, so the message speaks of this layer's numbers. */
  protected checkInput(input: Tensor): void {
    const nd = this.nd;
    const letters = nd === 1 ? ['L'] : nd === 2 ? ['H', 'W'] : ['D', 'H', 'W'];
    if (input.ndim !== nd + 2 && input.ndim !== nd + 1) {
      throw new ShapeError(
        `expected a ${nd + 2}-D input [N, C, ${letters.join(', ')}] (or ${nd + 1}-D unbatched), got ${input.ndim}-D input of shape ${formatShape(input.shape)}`,
      );
    }
    const c = input.shape[input.ndim - nd - 1];
    if (c !== this.inChannels) {
      throw new ShapeError(
        `expected input with ${this.inChannels} channels, got ${c} (input shape ${formatShape(input.shape)})`,
      );
    }
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernelSize=${pyTuple(this.kernelSize)}`;
    if (this.stride.some((v) => v !== 1)) s += `, stride=${pyTuple(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding='${this.padding}'`;
    else if (this.padding.some((v) => v !== 0)) s += `, padding=${pyTuple(this.padding)}`;
    if (this.dilation.some((v) => v !== 1)) s += `, dilation=${pyTuple(this.dilation)}`;
    if (this.outputPadding.some((v) => v !== 0)) s += `, outputPadding=${pyTuple(this.outputPadding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=false';
    return s;
  }
}

type KernelArg = IntOrTuple | (ConvOptions & { kernelSize: IntOrTuple });
type TransposeKernelArg = IntOrTuple | (ConvTransposeOptions & { kernelSize: IntOrTuple });

export abstract class _ConvForward extends _ConvNd {
  protected abstract op: typeof conv2d;
  override forward(input: Tensor): Tensor {
    this.checkInput(input);
    // The doctor's raw-pixels check; it only looks at tensors no op produced (the network's input).
    if (this.training && this.nd === 2) checkConvInput(input, typeName(this));
    return this.op(input, this.weight, this.bias, this.convOptions());
  }

  /**
   * @internal This layer's forward followed by relu and/or max pooling, checked and ready to run
   * as one op (see nn/fusion.ts); null for an unbatched input. Throws what forward would.
   */
  planBlock(input: Tensor, block: ConvBlockOptions): ConvBlockPlan | null {
    this.checkInput(input);
    const plan = planConvBlock(this.nd, input, this.weight, this.bias, this.convOptions(), block);
    if (plan && this.training && this.nd === 2) checkConvInput(input, typeName(this));
    return plan;
  }

  private convOptions(): OpConvOptions {
    return { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
  }
}

/** 1-D convolution over [N, C, L]: `new Conv1d(16, 32, 3)` or `new Conv1d(16, 32, { kernelSize: 3, padding: 1 })`. */
export class Conv1d extends _ConvForward {
  protected op = conv1d;
  constructor(inChannels: number, outChannels: number, kernelSize: KernelArg, options?: ConvOptions) {
    super(1, false, inChannels, outChannels, ...splitArgs('Conv1d', kernelSize, options, CONV_KEYS));
  }
}

/** 2-D convolution over [N, C, H, W]: `new Conv2d(1, 32, 3)` or `new Conv2d(1, 32, { kernelSize: 3, padding: 1 })`. */
export class Conv2d extends _ConvForward {
  protected op = conv2d;
  constructor(inChannels: number, outChannels: number, kernelSize: KernelArg, options?: ConvOptions) {
    super(2, false, inChannels, outChannels, ...splitArgs('Conv2d', kernelSize, options, CONV_KEYS));
  }
}

/** 3-D convolution over [N, C, D, H, W]. */
export class Conv3d extends _ConvForward {
  protected op = conv3d;
  constructor(inChannels: number, outChannels: number, kernelSize: KernelArg, options?: ConvOptions) {
    super(3, false, inChannels, outChannels, ...splitArgs('Conv3d', kernelSize, options, CONV_KEYS));
  }
}

/**
 * Transposed 2-D convolution (the adjoint of Conv2d, used to upsample):
 * H_out = (H − 1)·s − 2p + d(k − 1) + outputPadding + 1.
 */
export class ConvTranspose2d extends _ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: TransposeKernelArg,
    options?: ConvTransposeOptions,
  ) {
    super(
      2,
      true,
      inChannels,
      outChannels,
      ...splitArgs('ConvTranspose2d', kernelSize, options, TRANSPOSE_KEYS),
    );
  }

  override forward(input: Tensor): Tensor {
    this.checkInput(input);
    return convTranspose2d(input, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding as number[],
      outputPadding: this.outputPadding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}
