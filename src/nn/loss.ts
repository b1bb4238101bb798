/**
 * Loss modules (torch/nn/modules/loss.py): each holds its options and calls one op as
 * `loss.forward(input, target)`. Class weights are buffers named as PyTorch names them (`weight`,
 * `pos_weight`), so they appear in stateDict like PyTorch's.
 */
import { Tensor } from '../tensor/tensor.js';
import {
  bceLoss,
  bceWithLogitsLoss,
  crossEntropy,
  l1Loss,
  mseLoss,
  nllLoss,
  type Reduction,
} from '../ops/loss.js';
import { Module, typeName } from './module.js';
import { checkKeys, checkNumber, show } from './util.js';

function checkReduction(where: string, r: unknown): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') {
    throw new RangeError(`${where}: reduction must be 'mean', 'sum' or 'none', got ${show(r)}`);
  }
  return r;
}

function checkWeight(where: string, arg: string, w: unknown): Tensor | null {
  if (w === undefined || w === null) return null;
  if (!(w instanceof Tensor) || w.dtype !== 'float32') {
    throw new TypeError(`${where}: ${arg} must be a float32 Tensor, got ${show(w)}`);
  }
  return w;
}

abstract class _Loss extends Module {
  static override readonly tensorInputs = true;
  readonly reduction: Reduction;
  constructor(reduction: unknown) {
    super();
    this.reduction = checkReduction(typeName(this), reduction ?? 'mean');
  }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
  override extraRepr(): string {
    return this.reduction === 'mean' ? '' : `reduction='${this.reduction}'`;
  }
}

export interface CrossEntropyLossOptions {
  /** One weight per class. */
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
  labelSmoothing?: number;
}

/**
 * Log-softmax + negative log-likelihood: takes raw scores (logits) [N, C] (or [N, C, d...]) and
 * class indices [N] (int32) or class probabilities [N, C].
 */
export class CrossEntropyLoss extends _Loss {
  readonly weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  constructor(options: CrossEntropyLossOptions = {}) {
    super(options.reduction);
    checkKeys('CrossEntropyLoss', options, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
    this.weight = this.registerBuffer('weight', checkWeight('CrossEntropyLoss', 'weight', options.weight));
    this.ignoreIndex = checkNumber('CrossEntropyLoss', 'ignoreIndex', options.ignoreIndex ?? -100);
    this.labelSmoothing = checkNumber(
      'CrossEntropyLoss',
      'labelSmoothing',
      options.labelSmoothing ?? 0,
      0,
      1,
    );
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
  override extraRepr(): string {
    const parts = [super.extraRepr()];
    if (this.ignoreIndex !== -100) parts.push(`ignoreIndex=${this.ignoreIndex}`);
    if (this.labelSmoothing !== 0) parts.push(`labelSmoothing=${this.labelSmoothing}`);
    return parts.filter(Boolean).join(', ');
  }
}

export interface NLLLossOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Negative log-likelihood of log-probabilities (e.g. after LogSoftmax) and class indices. */
export class NLLLoss extends _Loss {
  readonly weight: Tensor | null;
  readonly ignoreIndex: number;
  constructor(options: NLLLossOptions = {}) {
    super(options.reduction);
    checkKeys('NLLLoss', options, ['weight', 'ignoreIndex', 'reduction']);
    this.weight = this.registerBuffer('weight', checkWeight('NLLLoss', 'weight', options.weight));
    this.ignoreIndex = checkNumber('NLLLoss', 'ignoreIndex', options.ignoreIndex ?? -100);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
    });
  }
  override extraRepr(): string {
    const parts = [super.extraRepr()];
    if (this.ignoreIndex !== -100) parts.push(`ignoreIndex=${this.ignoreIndex}`);
    return parts.filter(Boolean).join(', ');
  }
}

/** Mean squared error. */
export class MSELoss extends _Loss {
  constructor(options: { reduction?: Reduction } = {}) {
    super(options.reduction);
    checkKeys('MSELoss', options, ['reduction']);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute error. */
export class L1Loss extends _Loss {
  constructor(options: { reduction?: Reduction } = {}) {
    super(options.reduction);
    checkKeys('L1Loss', options, ['reduction']);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

/** Binary cross-entropy of probabilities (after Sigmoid); prefer BCEWithLogitsLoss on raw scores. */
export class BCELoss extends _Loss {
  readonly weight: Tensor | null;
  constructor(options: { weight?: Tensor | null; reduction?: Reduction } = {}) {
    super(options.reduction);
    checkKeys('BCELoss', options, ['weight', 'reduction']);
    this.weight = this.registerBuffer('weight', checkWeight('BCELoss', 'weight', options.weight));
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return bceLoss(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

/** Sigmoid + binary cross-entropy, numerically stable; posWeight weighs the positive class. */
export class BCEWithLogitsLoss extends _Loss {
  readonly weight: Tensor | null;
  readonly posWeight: Tensor | null;
  constructor(options: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {}) {
    super(options.reduction);
    checkKeys('BCEWithLogitsLoss', options, ['weight', 'posWeight', 'reduction']);
    this.weight = this.registerBuffer('weight', checkWeight('BCEWithLogitsLoss', 'weight', options.weight));
    this.posWeight = this.registerBuffer(
      'pos_weight',
      checkWeight('BCEWithLogitsLoss', 'posWeight', options.posWeight),
    );
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return bceWithLogitsLoss(input, target, {
      weight: this.weight,
      posWeight: this.posWeight,
      reduction: this.reduction,
    });
  }
}
