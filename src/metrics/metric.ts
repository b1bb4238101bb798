/**
 * Metric: the stateful interface of torchmetrics. `update(preds, target)` accumulates a batch,
 * `compute()` gives the value over everything since the last `reset()`. fit() calls update after each
 * batch and reports compute() as the running value, so epoch figures are exact, not means of means.
 */
import type { Tensor } from '../tensor/tensor.js';

export abstract class Metric<R = number> {
  /** The key under which fit() records it ('accuracy', and 'val_accuracy' on validation data). */
  name: string;

  protected constructor(name: string) {
    this.name = name;
  }

  abstract update(preds: Tensor, target: Tensor): void;
  abstract compute(): R;
  abstract reset(): void;

  /** A fresh metric with the same settings (fit() keeps one for training and one for validation). */
  abstract clone(): Metric<R>;

  /** Updates with one batch and returns the value on that batch alone (torchmetrics' forward). */
  forward(preds: Tensor, target: Tensor): R {
    const alone = this.clone();
    alone.update(preds, target);
    this.update(preds, target);
    return alone.compute();
  }
}

/** 0 where the denominator is 0, as torchmetrics' _safe_divide. */
export function safeDivide(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}
