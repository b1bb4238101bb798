/**
 * ReduceLROnPlateau as a callback (Keras's form: `monitor: 'val_accuracy'`, `minDelta`), built on
 * optim.ReduceLROnPlateau so both forms follow the same rule: after more than `patience` epochs
 * without an improvement larger than `minDelta` (absolute), multiply the rate by `factor`.
 * (PyTorch's rule, which reduces one epoch later than Keras's for the same patience.)
 */
import { ReduceLROnPlateau as PlateauScheduler } from '../../optim/plateau.js';
import type { Optimizer } from '../../optim/optimizer.js';
import { inferMode, type Logs } from '../history.js';
import { Callback, monitored } from './callback.js';

export interface ReduceLROnPlateauCallbackOptions {
  /** Default 'val_loss'. */
  monitor?: string;
  mode?: 'auto' | 'min' | 'max';
  factor?: number;
  patience?: number;
  /** Smallest change that counts as an improvement (absolute, default 1e-4). */
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
  verbose?: boolean;
}

export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  private readonly options: ReduceLROnPlateauCallbackOptions;
  private readonly mode: 'min' | 'max';
  /** The scheduler doing the work, created when training begins (it needs the optimizer). */
  scheduler: PlateauScheduler | null = null;
  private warned = new Set<string>();

  constructor(options: ReduceLROnPlateauCallbackOptions = {}) {
    super();
    this.options = options;
    this.monitor = options.monitor ?? 'val_loss';
    const mode = options.mode ?? 'auto';
    if (!['auto', 'min', 'max'].includes(mode)) {
      throw new Error(`ReduceLROnPlateau: mode must be 'auto', 'min' or 'max', got '${String(mode)}'`);
    }
    this.mode = mode === 'auto' ? inferMode(this.monitor) : mode;
    // Validate now rather than when training starts.
    this.make({ paramGroups: [{ lr: 1 }] });
  }

  private make(optimizer: { paramGroups: { lr: number }[] }): PlateauScheduler {
    const o = this.options;
    return new PlateauScheduler(optimizer as unknown as Optimizer, {
      mode: this.mode,
      factor: o.factor ?? 0.1,
      patience: o.patience ?? 10,
      threshold: o.minDelta ?? 1e-4,
      thresholdMode: 'abs',
      cooldown: o.cooldown ?? 0,
      minLr: o.minLr ?? 0,
    });
  }

  override onTrainBegin(): void {
    this.scheduler = this.make(this.context.optimizer);
  }

  override onEpochEnd(epoch: number, logs: Logs): void {
    const current = monitored('ReduceLROnPlateau', this.monitor, logs, this.warned);
    if (current === undefined || this.scheduler === null) return;
    const before = this.context.optimizer.paramGroups[0].lr;
    if (this.scheduler.step(current) && this.options.verbose) {
      const after = this.context.optimizer.paramGroups[0].lr;
      this.context.log(
        `Epoch ${epoch + 1}: ReduceLROnPlateau reducing learning rate from ${before} to ${after}`,
      );
    }
  }
}
