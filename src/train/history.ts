/**
 * History: what fit() returns. Keras's `history.history.val_accuracy` (one value per epoch) plus
 * the per-epoch and per-batch records behind it, with learning rates and timings, ready to plot or
 * save as JSON.
 */

/** Values recorded for one epoch or batch: 'loss', metric names, 'val_' + those, 'lr', ... */
export type Logs = Record<string, number>;

export interface EpochRecord {
  /** 0-based. */
  epoch: number;
  /** Training loss and metrics over the epoch, validation ones as 'val_loss', 'val_accuracy', ... */
  logs: Logs;
  /** The learning rate (of the first parameter group) used during the epoch. */
  lr: number;
  /** Wall-clock seconds for the epoch, validation included. */
  time: number;
}

export interface BatchRecord {
  epoch: number;
  /** 0-based within the epoch. */
  batch: number;
  /** Samples in the batch. */
  size: number;
  /** The batch's own loss and metrics (not running averages). */
  logs: Logs;
  lr: number;
}

export class History {
  readonly epochs: EpochRecord[] = [];
  readonly batches: BatchRecord[] = [];
  /** Keras's form: key → one value per epoch ('loss', 'val_loss', 'accuracy', 'lr', 'time', ...). */
  readonly history: Record<string, number[]> = {};
  /** What fit() was asked to do (epochs, steps per epoch, batch size, samples). */
  params: Record<string, number | string | boolean> = {};
  /** Set when training ended early (EarlyStopping, TerminateOnNaN), with the reason. */
  stopReason: string | null = null;

  addEpoch(record: EpochRecord): void {
    this.epochs.push(record);
    const row: Logs = { ...record.logs, lr: record.lr, time: record.time };
    for (const [k, v] of Object.entries(row)) {
      // A key that first appears late (e.g. a callback's) is padded so indices stay epochs.
      (this.history[k] ??= new Array<number>(this.epochs.length - 1).fill(NaN)).push(v);
    }
  }

  addBatch(record: BatchRecord): void {
    this.batches.push(record);
  }

  /** One key's values per epoch (throws naming the keys there are when it is missing). */
  get(key: string): number[] {
    const v = this.history[key];
    if (v === undefined) {
      throw new Error(
        `History.get: no '${key}' recorded; there is ${Object.keys(this.history).join(', ') || 'nothing yet'}`,
      );
    }
    return v;
  }

  /** The best epoch by `key` ('min' for losses and errors, 'max' otherwise unless given). */
  best(key: string, mode?: 'min' | 'max'): { epoch: number; value: number } {
    const values = this.get(key);
    const m = mode ?? inferMode(key);
    let bestI = -1;
    values.forEach((v, i) => {
      if (Number.isNaN(v)) return;
      if (bestI < 0 || (m === 'min' ? v < values[bestI] : v > values[bestI])) bestI = i;
    });
    return { epoch: this.epochs[bestI]?.epoch ?? bestI, value: bestI < 0 ? NaN : values[bestI] };
  }

  toJSON(): {
    params: Record<string, unknown>;
    epochs: EpochRecord[];
    batches: BatchRecord[];
    stopReason: string | null;
  } {
    return { params: this.params, epochs: this.epochs, batches: this.batches, stopReason: this.stopReason };
  }
}

/** 'max' for names that grow when better (accuracy, precision, recall, f1, auc), else 'min'. */
export function inferMode(key: string): 'min' | 'max' {
  return /acc|precision|recall|f1|auc|iou|dice|r2/i.test(key) ? 'max' : 'min';
}
