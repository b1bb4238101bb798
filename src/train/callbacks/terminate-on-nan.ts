/** TerminateOnNaN: stops training at the first batch whose loss is NaN or infinite (Keras's). */
import type { Logs } from '../history.js';
import { Callback } from './callback.js';

export class TerminateOnNaN extends Callback {
  /** Epoch and batch (0-based) where the loss went bad, or null. */
  stoppedAt: { epoch: number; batch: number } | null = null;
  private epoch = 0;

  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  override onBatchEnd(batch: number, logs: Logs): void {
    const loss = logs.batchLoss ?? logs.loss;
    if (loss !== undefined && !Number.isFinite(loss)) {
      this.stoppedAt = { epoch: this.epoch, batch };
      const ctx = this.context;
      ctx.stopTraining = true;
      ctx.stopReason = `TerminateOnNaN: invalid loss (${loss}) at epoch ${this.epoch + 1}, batch ${batch + 1}`;
      ctx.log(ctx.stopReason);
    }
  }
}
