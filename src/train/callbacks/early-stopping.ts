/**
 * EarlyStopping, as Keras's: stop when `monitor` has not improved by more than `minDelta` for
 * `patience` epochs. With `restoreBestWeights`, the model gets back the weights of its best epoch
 * when training stops (early, or at the last epoch if that was not the best).
 */
import { inferMode, type Logs } from '../history.js';
import { Callback, monitored } from './callback.js';
import { Tensor } from '../../tensor/tensor.js';

export interface EarlyStoppingOptions {
  /** Default 'val_loss'. */
  monitor?: string;
  /** 'auto' (default): 'max' for accuracy-like names, else 'min'. */
  mode?: 'auto' | 'min' | 'max';
  /** Smallest change that counts as an improvement (absolute). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** Training stops unless the monitored value beats this. */
  baseline?: number;
  restoreBestWeights?: boolean;
  /** Epochs to wait before starting to monitor (warm-up). */
  startFromEpoch?: number;
  verbose?: boolean;
}

export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  readonly patience: number;
  readonly baseline: number | undefined;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  readonly verbose: boolean;
  wait = 0;
  best = NaN;
  bestEpoch = -1;
  /** The epoch after which training was stopped, or −1. */
  stoppedEpoch = -1;
  private bestWeights: Record<string, Float32Array | Int32Array> | null = null;
  private lastEpoch = -1;
  private warned = new Set<string>();

  constructor(options: EarlyStoppingOptions = {}) {
    super();
    this.monitor = options.monitor ?? 'val_loss';
    const mode = options.mode ?? 'auto';
    if (!['auto', 'min', 'max'].includes(mode)) {
      throw new Error(`EarlyStopping: mode must be 'auto', 'min' or 'max', got '${String(mode)}'`);
    }
    this.mode = mode === 'auto' ? inferMode(this.monitor) : mode;
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.patience = options.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) {
      throw new Error(`EarlyStopping: patience must be an integer >= 0, got ${options.patience}`);
    }
    this.baseline = options.baseline;
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    this.startFromEpoch = options.startFromEpoch ?? 0;
    this.verbose = options.verbose ?? false;
  }

  private improves(value: number, reference: number): boolean {
    if (Number.isNaN(reference)) return true;
    return this.mode === 'max' ? value - this.minDelta > reference : value + this.minDelta < reference;
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.best = NaN;
    this.bestEpoch = -1;
    this.stoppedEpoch = -1;
    this.bestWeights = null;
  }

  override onEpochEnd(epoch: number, logs: Logs): void {
    this.lastEpoch = epoch;
    const current = monitored('EarlyStopping', this.monitor, logs, this.warned);
    if (current === undefined || epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && this.bestWeights === null) this.bestWeights = this.snapshot();
    this.wait++;
    if (this.improves(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = this.snapshot();
      if (this.baseline === undefined || this.improves(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      const ctx = this.context;
      ctx.stopTraining = true;
      ctx.stopReason =
        `EarlyStopping: ${this.monitor} did not improve for ${this.wait} epochs ` +
        `(best ${this.best.toPrecision(4)} at epoch ${this.bestEpoch + 1})`;
      this.restore();
    }
  }

  override onTrainEnd(): void {
    if (this.stoppedEpoch < 0 && this.bestEpoch >= 0 && this.bestEpoch !== this.lastEpoch) this.restore();
    if (this.verbose && this.stoppedEpoch >= 0)
      this.context.log(`Epoch ${this.stoppedEpoch + 1}: early stopping`);
  }

  private restore(): void {
    if (!this.restoreBestWeights || this.bestWeights === null) return;
    const shapes = this.context.model.stateDict();
    const best: Record<string, Tensor> = {};
    for (const [k, data] of Object.entries(this.bestWeights))
      best[k] = new Tensor(data.slice(), shapes[k].shape);
    this.context.model.loadStateDict(best);
    if (this.verbose)
      this.context.log(`Restoring model weights from the end of the best epoch: ${this.bestEpoch + 1}`);
  }

  private snapshot(): Record<string, Float32Array | Int32Array> {
    const out: Record<string, Float32Array | Int32Array> = {};
    for (const [k, t] of Object.entries(this.context.model.stateDict()) as [string, Tensor][])
      out[k] = t.data.slice();
    return out;
  }
}
