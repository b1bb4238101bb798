/**
 * Progress reporting for fit(), as a callback (like Keras's ProgbarLogger). This file is browser-safe:
 * `LineProgress` writes whole lines through a function (console.log by default). The terminal bar
 * (cli-progress, Node only) lives in progress.ts, which the Node entry registers as the default.
 */
import type { Logs } from './history.js';
import { Callback } from './callbacks/callback.js';

export abstract class ProgressCallback extends Callback {
  /** Prints a message without breaking the display (doctor warnings, callback messages). */
  abstract log(message: string): void;
  /** Called by fit() when training ends, also after an error: release the display. */
  close(): void {}
}

/** Formats a number as Keras does in its progress lines. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(3) : v.toFixed(4);
}

/** 'loss: 0.1234 - accuracy: 0.9500 - val_loss: ...', in the order given. */
export function formatLogs(logs: Logs, skip: readonly string[] = []): string {
  return Object.entries(logs)
    .filter(([k]) => !skip.includes(k))
    .map(([k, v]) => `${k}: ${formatValue(v)}`)
    .join(' - ');
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60
    ? `${m}m${String(s).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * One summary line per epoch; with `verbose: 1` and long epochs also a line at each quarter, so CI
 * logs show that training is alive without a line per batch.
 */
export class LineProgress extends ProgressCallback {
  private epoch = 0;
  private start = 0;
  private nextMark = 0;

  constructor(private readonly options: { verbose?: number; write?: (line: string) => void } = {}) {
    super();
  }

  log(message: string): void {
    (this.options.write ?? console.log)(message);
  }

  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
    this.start = now();
    this.nextMark = 0.25;
  }

  override onBatchEnd(batch: number, logs: Logs): void {
    if ((this.options.verbose ?? 1) !== 1) return;
    const total = this.context.stepsPerEpoch;
    if (total < 100 || (batch + 1) / total < this.nextMark) return;
    this.nextMark += 0.25;
    const secs = (now() - this.start) / 1000;
    const rate = (batch + 1) / secs;
    this.log(
      `Epoch ${this.epoch + 1}/${this.context.epochs} ${batch + 1}/${total} ` +
        `[${formatDuration(secs)}<${formatDuration((total - batch - 1) / rate)}, ${rate.toFixed(1)} it/s] ` +
        formatLogs(logs, ['batchLoss']),
    );
  }

  override onEpochEnd(epoch: number, logs: Logs): void {
    const secs = (now() - this.start) / 1000;
    this.log(
      `Epoch ${epoch + 1}/${this.context.epochs} - ${formatDuration(secs)} - ${formatLogs(logs, ['time'])}`,
    );
  }

  override onTrainEnd(): void {
    const why = this.context.stopReason;
    if (why) this.log(why);
  }
}

export function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
