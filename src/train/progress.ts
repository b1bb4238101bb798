/**
 * The terminal progress bar (Node): in a TTY, a cli-progress bar per epoch like tqdm/Keras
 * (batches done/total, it/s, ETA, running loss and metrics) that leaves one summary line per epoch;
 * when stdout is not a terminal (CI logs), plain lines instead. The only file in train/ that touches
 * process.stdout.
 */
import cliProgress from 'cli-progress';

import { doctor } from '../doctor.js';
import type { Logs } from './history.js';
import { formatDuration, formatLogs, LineProgress, now, ProgressCallback } from './progress-base.js';

export class TerminalProgress extends ProgressCallback {
  private bar: cliProgress.SingleBar | null = null;
  private start = 0;
  private done = 0;
  private lines: LineProgress | null = null;
  private unlisten: (() => void) | null = null;

  constructor(private readonly options: { verbose?: number; stream?: NodeJS.WriteStream } = {}) {
    super();
  }

  private get stream(): NodeJS.WriteStream {
    return this.options.stream ?? process.stdout;
  }

  /** A bar only with verbose 1 on a terminal; otherwise plain lines. */
  private get useBar(): boolean {
    return (this.options.verbose ?? 1) === 1 && this.stream.isTTY === true;
  }

  log(message: string): void {
    if (this.bar) {
      this.stream.write('\r\x1b[K' + message + '\n');
      this.bar.update(this.done);
    } else this.stream.write(message + '\n');
  }

  override onTrainBegin(): void {
    if (!this.useBar) {
      this.lines = new LineProgress({
        verbose: this.options.verbose,
        write: (l) => this.stream.write(l + '\n'),
      });
      this.lines.setContext(this.context);
    }
    // Doctor warnings go above the bar instead of through it.
    this.unlisten = doctor.onWarning((w) => this.log(`stride doctor: ${w.message}`));
  }

  override onEpochBegin(epoch: number, logs: Logs): void {
    if (this.lines) return this.lines.onEpochBegin(epoch);
    void logs;
    const { epochs, stepsPerEpoch } = this.context;
    this.start = now();
    this.done = 0;
    this.bar = new cliProgress.SingleBar(
      {
        format: `Epoch ${epoch + 1}/${epochs} |{bar}| {value}/{total} [{elapsedT}<{etaT}, {rate} it/s] {metrics}`,
        stream: this.stream,
        barsize: 25,
        hideCursor: true,
        clearOnComplete: true,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(stepsPerEpoch, 0, { elapsedT: '0.0s', etaT: '?', rate: '0.0', metrics: '' });
  }

  override onBatchEnd(batch: number, logs: Logs): void {
    if (this.lines) return this.lines.onBatchEnd(batch, logs);
    this.done = batch + 1;
    const secs = (now() - this.start) / 1000;
    const rate = this.done / Math.max(secs, 1e-9);
    this.bar?.update(this.done, {
      elapsedT: formatDuration(secs),
      etaT: formatDuration((this.context.stepsPerEpoch - this.done) / rate),
      rate: rate.toFixed(1),
      metrics: formatLogs(logs, ['batchLoss']),
    });
  }

  override onEpochEnd(epoch: number, logs: Logs): void {
    if (this.lines) return this.lines.onEpochEnd(epoch, logs);
    const secs = (now() - this.start) / 1000;
    this.bar?.stop();
    this.bar = null;
    const total = this.context.stepsPerEpoch;
    this.stream.write(
      `Epoch ${epoch + 1}/${this.context.epochs} - ${this.done}/${total} - ${formatDuration(secs)} ` +
        `(${(this.done / Math.max(secs, 1e-9)).toFixed(1)} it/s) - ${formatLogs(logs, ['time'])}\n`,
    );
  }

  override close(): void {
    this.bar?.stop();
    this.bar = null;
    this.unlisten?.();
    this.unlisten = null;
  }

  override onTrainEnd(): void {
    this.close();
    if (this.lines) this.lines.onTrainEnd();
    else if (this.context.stopReason) this.stream.write(this.context.stopReason + '\n');
  }
}
