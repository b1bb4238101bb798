/**
 * Batch normalization layers (BatchNorm1d over [N, C] or [N, C, L], BatchNorm2d over
 * [N, C, H, W]) over a shared _BatchNorm base, as in torch/nn/modules/batchnorm.py.
 * Buffers carry PyTorch's names (`running_mean`, `running_var`, `num_batches_tracked` as int32)
 * so state dicts move both ways; the op updates the running statistics in place, in training only.
 */
import { Tensor } from '../tensor/tensor.js';
import { batchNorm } from '../ops/norm.js';
import { Module, typeName } from './module.js';
import { Parameter } from './parameter.js';
import { ShapeError, formatShape } from './errors.js';
import { checkBool, checkInt, checkKeys, checkNumber } from './util.js';

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch in the running statistics; null = cumulative average. Default 0.1. */
  momentum?: number | null;
  /** Learnable per-channel weight (ones) and bias (zeros). Default true. */
  affine?: boolean;
  /** Keep running statistics for eval mode; without them eval also uses batch statistics. Default true. */
  trackRunningStats?: boolean;
}

function filled(n: number, v: number): Tensor {
  return new Tensor(new Float32Array(n).fill(v), [n]);
}

export abstract class _BatchNorm extends Module {
  static override readonly tensorInputs = true;
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  /** int32 scalar, PyTorch's int64 `num_batches_tracked`. */
  numBatchesTracked: Tensor | null;

  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super();
    const where = typeName(this);
    checkKeys(where, options, ['eps', 'momentum', 'affine', 'trackRunningStats']);
    this.numFeatures = checkInt(where, 'numFeatures', numFeatures);
    this.eps = checkNumber(where, 'eps', options.eps ?? 1e-5, 0);
    this.momentum =
      options.momentum === null ? null : checkNumber(where, 'momentum', options.momentum ?? 0.1, 0, 1);
    this.affine = checkBool(where, 'affine', options.affine ?? true);
    this.trackRunningStats = checkBool(where, 'trackRunningStats', options.trackRunningStats ?? true);
    this.weight = this.registerParameter(
      'weight',
      this.affine ? new Parameter(filled(numFeatures, 1)) : null,
    );
    this.bias = this.registerParameter('bias', this.affine ? new Parameter(filled(numFeatures, 0)) : null);
    const track = this.trackRunningStats;
    this.runningMean = this.registerBuffer('running_mean', track ? filled(numFeatures, 0) : null);
    this.runningVar = this.registerBuffer('running_var', track ? filled(numFeatures, 1) : null);
    this.numBatchesTracked = this.registerBuffer(
      'num_batches_tracked',
      track ? new Tensor(new Int32Array(1), []) : null,
    );
  }

  /** Running statistics back to mean 0, variance 1, count 0. */
  resetRunningStats(): void {
    this.runningMean?.data.fill(0);
    this.runningVar?.data.fill(1);
    this.numBatchesTracked?.data.fill(0);
  }

  resetParameters(): void {
    this.resetRunningStats();
    this.weight?.data.fill(1);
    this.bias?.data.fill(0);
  }

  /** The ranks this layer accepts and how to describe them. */
  protected abstract checkRank(input: Tensor): void;

  override forward(input: Tensor): Tensor {
    this.checkRank(input);
    if (input.shape[1] !== this.numFeatures) {
      throw new ShapeError(
        `expected input with ${this.numFeatures} channels, got ${input.shape[1]} (input shape ${formatShape(input.shape)})`,
      );
    }
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.numBatchesTracked !== null) {
      this.numBatchesTracked.data[0] += 1;
      if (this.momentum === null) factor = 1 / this.numBatchesTracked.data[0];
    }
    // Batch statistics in training, or always when there are no running statistics.
    const useBatchStats = this.training || this.runningMean === null;
    const updateStats = this.training && this.trackRunningStats;
    return batchNorm(
      input,
      updateStats || !this.training ? this.runningMean : null,
      updateStats || !this.training ? this.runningVar : null,
      this.weight,
      this.bias,
      { training: useBatchStats, momentum: factor, eps: this.eps },
    );
  }

  override extraRepr(): string {
    let s = `${this.numFeatures}`;
    if (this.eps !== 1e-5) s += `, eps=${this.eps}`;
    if (this.momentum !== 0.1) s += `, momentum=${this.momentum}`;
    if (!this.affine) s += ', affine=false';
    if (!this.trackRunningStats) s += ', trackRunningStats=false';
    return s;
  }
}

/** Batch norm over [N, C] (features) or [N, C, L] (sequences). */
export class BatchNorm1d extends _BatchNorm {
  protected override checkRank(input: Tensor): void {
    if (input.ndim !== 2 && input.ndim !== 3) {
      throw new ShapeError(
        `expected a 2-D [N, C] or 3-D [N, C, L] input, got ${input.ndim}-D input of shape ${formatShape(input.shape)}`,
      );
    }
  }
}

/** Batch norm over [N, C, H, W], one mean/variance per channel. */
export class BatchNorm2d extends _BatchNorm {
  protected override checkRank(input: Tensor): void {
    if (input.ndim !== 4) {
      throw new ShapeError(
        `expected a 4-D input [N, C, H, W], got ${input.ndim}-D input of shape ${formatShape(input.shape)}`,
      );
    }
  }
}
