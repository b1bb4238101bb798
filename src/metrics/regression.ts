/** Regression metrics: mean squared error (or its root) and mean absolute error, over every element. */
import { Tensor } from '../tensor/tensor.js';
import { Metric } from './metric.js';

abstract class ElementwiseError extends Metric<number> {
  protected total = 0;
  protected count = 0;

  protected constructor(
    private readonly kind: string,
    name: string,
  ) {
    super(name);
  }

  protected abstract err(d: number): number;

  update(preds: Tensor, target: Tensor): void {
    if (!(preds instanceof Tensor) || !(target instanceof Tensor)) {
      throw new Error(`${this.kind}.update: expected (preds: Tensor, target: Tensor)`);
    }
    if (preds.numel() !== target.numel()) {
      throw new Error(
        `${this.kind}.update: preds [${preds.shape}] and target [${target.shape}] have different numbers of elements`,
      );
    }
    const p = preds.data;
    const t = target.data;
    let s = 0;
    for (let i = 0; i < p.length; i++) s += this.err(p[i] - t[i]);
    this.total += s;
    this.count += p.length;
  }

  reset(): void {
    this.total = 0;
    this.count = 0;
  }
}

export class MeanSquaredError extends ElementwiseError {
  /** false gives the root mean squared error. */
  readonly squared: boolean;
  constructor(options: { squared?: boolean; name?: string } = {}) {
    super('MeanSquaredError', options.name ?? (options.squared === false ? 'rmse' : 'mse'));
    this.squared = options.squared ?? true;
  }
  protected err(d: number): number {
    return d * d;
  }
  compute(): number {
    const mse = this.count === 0 ? 0 : this.total / this.count;
    return this.squared ? mse : Math.sqrt(mse);
  }
  clone(): MeanSquaredError {
    return new MeanSquaredError({ squared: this.squared, name: this.name });
  }
}

export class MeanAbsoluteError extends ElementwiseError {
  constructor(options: { name?: string } = {}) {
    super('MeanAbsoluteError', options.name ?? 'mae');
  }
  protected err(d: number): number {
    return Math.abs(d);
  }
  compute(): number {
    return this.count === 0 ? 0 : this.total / this.count;
  }
  clone(): MeanAbsoluteError {
    return new MeanAbsoluteError({ name: this.name });
  }
}
