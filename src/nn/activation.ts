/** Activation layers: each wraps one op (torch/nn/modules/activation.py). */
import type { Tensor } from '../tensor/tensor.js';
import { elu, gelu, leakyRelu, logSoftmax, relu, sigmoid, softmax, tanh } from '../ops/activation.js';
import { Module } from './module.js';
import { ShapeError, formatShape } from './errors.js';
import { checkNumber, show } from './util.js';

export class ReLU extends Module {
  static override readonly tensorInputs = true;
  override forward(input: Tensor): Tensor {
    return relu(input);
  }
}

export class LeakyReLU extends Module {
  static override readonly tensorInputs = true;
  readonly negativeSlope: number;
  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = checkNumber('LeakyReLU', 'negativeSlope', negativeSlope);
  }
  override forward(input: Tensor): Tensor {
    return leakyRelu(input, this.negativeSlope);
  }
  override extraRepr(): string {
    return this.negativeSlope === 0.01 ? '' : `negativeSlope=${this.negativeSlope}`;
  }
}

export class Sigmoid extends Module {
  static override readonly tensorInputs = true;
  override forward(input: Tensor): Tensor {
    return sigmoid(input);
  }
}

export class Tanh extends Module {
  static override readonly tensorInputs = true;
  override forward(input: Tensor): Tensor {
    return tanh(input);
  }
}

/** GELU, exact (erf) by default; `{ approximate: 'tanh' }` for the tanh approximation. */
export class GELU extends Module {
  static override readonly tensorInputs = true;
  readonly approximate: 'none' | 'tanh';
  constructor(options: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    const a = options.approximate ?? 'none';
    if (a !== 'none' && a !== 'tanh') {
      throw new RangeError(`GELU: approximate must be 'none' or 'tanh', got ${show(a)}`);
    }
    this.approximate = a;
  }
  override forward(input: Tensor): Tensor {
    return gelu(input, { approximate: this.approximate });
  }
  override extraRepr(): string {
    return this.approximate === 'none' ? '' : `approximate='${this.approximate}'`;
  }
}

export class ELU extends Module {
  static override readonly tensorInputs = true;
  readonly alpha: number;
  constructor(alpha = 1) {
    super();
    this.alpha = checkNumber('ELU', 'alpha', alpha);
  }
  override forward(input: Tensor): Tensor {
    return elu(input, this.alpha);
  }
  override extraRepr(): string {
    return this.alpha === 1 ? '' : `alpha=${this.alpha}`;
  }
}

function checkSoftmaxDim(where: string, dim: unknown): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim)) {
    throw new TypeError(
      `${where}: dim is required and must be an integer (e.g. new nn.${where}(1) for [N, C] scores), got ${show(dim)}`,
    );
  }
  return dim;
}

function checkDimFits(dim: number, input: Tensor): void {
  if (dim >= input.ndim || dim < -input.ndim) {
    throw new ShapeError(
      `dim ${dim} is out of range for a ${input.ndim}-D input (input shape ${formatShape(input.shape)})`,
    );
  }
}

/** Softmax along dim: outputs in (0, 1) summing to 1. Don't put it before CrossEntropyLoss. */
export class Softmax extends Module {
  static override readonly tensorInputs = true;
  readonly dim: number;
  constructor(dim: number) {
    super();
    this.dim = checkSoftmaxDim('Softmax', dim);
  }
  override forward(input: Tensor): Tensor {
    checkDimFits(this.dim, input);
    return softmax(input, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

export class LogSoftmax extends Module {
  static override readonly tensorInputs = true;
  readonly dim: number;
  constructor(dim: number) {
    super();
    this.dim = checkSoftmaxDim('LogSoftmax', dim);
  }
  override forward(input: Tensor): Tensor {
    checkDimFits(this.dim, input);
    return logSoftmax(input, this.dim);
  }
  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
