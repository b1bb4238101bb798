/** Linear (y = x·Wᵀ + b over the last dim) and Identity, as in torch/nn/modules/linear.py. */
import type { Tensor } from '../tensor/tensor.js';
import type { Generator } from '../tensor/random.js';
import { linear } from '../ops/linear.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { ShapeError, formatShape } from './errors.js';
import { resetLinearOrConv } from './init.js';
import { empty } from './tensors.js';
import { checkBool, checkInt, checkKeys } from './util.js';

export interface LinearOptions {
  bias?: boolean;
  /** The generator for the initial weights (default: the global one). */
  generator?: Generator;
}

export class Linear extends Module {
  static override readonly tensorInputs = true;
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    checkKeys('Linear', options, ['bias', 'generator']);
    this.inFeatures = checkInt('Linear', 'inFeatures', inFeatures);
    this.outFeatures = checkInt('Linear', 'outFeatures', outFeatures);
    const useBias = checkBool('Linear', 'bias', options.bias ?? true);
    this.weight = this.registerParameter('weight', new Parameter(empty([outFeatures, inFeatures])));
    this.bias = this.registerParameter('bias', useBias ? new Parameter(empty([outFeatures])) : null);
    this.resetParameters(options.generator);
  }

  /** PyTorch's default: kaimingUniform(a=√5) weight = U(±1/√inFeatures), bias the same bound. */
  resetParameters(generator?: Generator): void {
    resetLinearOrConv(this.weight, this.bias, generator);
  }

  override forward(input: Tensor): Tensor {
    const got = input.ndim === 0 ? 0 : input.shape[input.ndim - 1];
    if (input.ndim === 0 || got !== this.inFeatures) {
      throw new ShapeError(
        `expected ${this.inFeatures} input features, got ${got} (input shape ${formatShape(input.shape)})`,
      );
    }
    return linear(input, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}${this.bias === null ? ', bias=false' : ''}`;
  }
}

/** Returns its input: a placeholder (e.g. to remove a layer from a pretrained model). */
export class Identity extends Module {
  override forward(input: Tensor): Tensor {
    return input;
  }
}
