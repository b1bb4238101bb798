/** Dropout: zeroes elements with probability p in training (scaling the rest by 1/(1−p)); identity in eval. */
import type { Tensor } from '../tensor/tensor.js';
import type { Generator } from '../tensor/random.js';
import { dropout } from '../ops/dropout.js';
import { Module } from './module.js';
import { checkBool, show } from './util.js';

export class Dropout extends Module {
  static override readonly tensorInputs = true;
  readonly p: number;
  /** Accepted for PyTorch compatibility (and printed); stride never overwrites the input. */
  readonly inplace: boolean;
  /** Generator for the masks (default: the global one). */
  generator: Generator | undefined;

  constructor(p = 0.5, options: { inplace?: boolean; generator?: Generator } = {}) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      throw new RangeError(`Dropout: dropout probability p has to be between 0 and 1, got ${show(p)}`);
    }
    this.p = p;
    this.inplace = checkBool('Dropout', 'inplace', options.inplace ?? false);
    this.generator = options.generator;
  }

  override forward(input: Tensor): Tensor {
    return dropout(input, { p: this.p, training: this.training, generator: this.generator });
  }

  override extraRepr(): string {
    return `p=${this.p}${this.inplace ? ', inplace=true' : ''}`;
  }
}
