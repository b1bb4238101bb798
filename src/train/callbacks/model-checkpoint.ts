/**
 * ModelCheckpoint (Node): saves the model every epoch, or only when `monitor` improves
 * (`saveBestOnly`), atomically (a crash mid-write never leaves a torn file). The path may hold
 * Keras-style fields: 'ckpt/epoch{epoch:02d}-{val_loss:.3f}.safetensors'.
 * With `saveWeightsOnly` (default) the file is a PyTorch-loadable safetensors state dict; otherwise a
 * full checkpoint (model, optimizer, epoch, history) that `loadCheckpoint` resumes from.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

import { save, saveCheckpoint } from '../../io/index.js';
import type { Stateful } from '../../io/state.js';
import { inferMode, type Logs } from '../history.js';
import { Callback, monitored } from './callback.js';

export interface ModelCheckpointOptions {
  /** Default 'val_loss'. */
  monitor?: string;
  mode?: 'auto' | 'min' | 'max';
  /** Only write when the monitored value improves on the best so far. */
  saveBestOnly?: boolean;
  /** true (default): the model's state dict; false: model + optimizer + epoch + history. */
  saveWeightsOnly?: boolean;
  verbose?: boolean;
}

export class ModelCheckpoint extends Callback {
  readonly filepath: string;
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly saveBestOnly: boolean;
  readonly saveWeightsOnly: boolean;
  readonly verbose: boolean;
  best = NaN;
  /** Paths written so far, in order. */
  readonly saved: string[] = [];
  private warned = new Set<string>();

  constructor(filepath: string, options: ModelCheckpointOptions = {}) {
    super();
    if (typeof filepath !== 'string' || filepath === '') {
      throw new Error(`ModelCheckpoint: filepath must be a non-empty string, got ${String(filepath)}`);
    }
    this.filepath = filepath;
    this.monitor = options.monitor ?? 'val_loss';
    const mode = options.mode ?? 'auto';
    if (!['auto', 'min', 'max'].includes(mode)) {
      throw new Error(`ModelCheckpoint: mode must be 'auto', 'min' or 'max', got '${String(mode)}'`);
    }
    this.mode = mode === 'auto' ? inferMode(this.monitor) : mode;
    this.saveBestOnly = options.saveBestOnly ?? false;
    this.saveWeightsOnly = options.saveWeightsOnly ?? true;
    this.verbose = options.verbose ?? false;
  }

  override onTrainBegin(): void {
    this.best = NaN;
  }

  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    if (this.saveBestOnly) {
      const current = monitored('ModelCheckpoint', this.monitor, logs, this.warned);
      if (current === undefined || Number.isNaN(current)) return;
      const better =
        Number.isNaN(this.best) || (this.mode === 'min' ? current < this.best : current > this.best);
      if (!better) return;
      if (this.verbose) {
        this.context.log(
          `Epoch ${epoch + 1}: ${this.monitor} improved from ${this.best} to ${current}, saving the model`,
        );
      }
      this.best = current;
    }
    const file = formatPath(this.filepath, epoch, logs);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const { model, optimizer, history } = this.context;
    if (this.saveWeightsOnly) await save(model.stateDict(), file);
    else {
      await saveCheckpoint(file, {
        model: model as unknown as Stateful,
        optimizer: optimizer as unknown as Stateful,
        epoch,
        history: history.history,
      });
    }
    this.saved.push(file);
  }
}

/** Fills '{epoch}', '{epoch:02d}', '{val_loss:.4f}' (epoch 1-based, as Keras names files). */
export function formatPath(template: string, epoch: number, logs: Logs): string {
  return template.replace(/\{(\w+)(?::([^}]*))?\}/g, (whole, key: string, spec: string | undefined) => {
    const value = key === 'epoch' ? epoch + 1 : logs[key];
    if (value === undefined) {
      throw new Error(
        `ModelCheckpoint: the path '${template}' uses '${key}', which is not in the logs (${Object.keys(logs).join(', ')})`,
      );
    }
    if (spec === undefined) return String(value);
    const fixed = /^\.(\d+)f$/.exec(spec);
    if (fixed) return value.toFixed(Number(fixed[1]));
    const padded = /^0(\d+)d$/.exec(spec);
    if (padded) return String(Math.trunc(value)).padStart(Number(padded[1]), '0');
    throw new Error(`ModelCheckpoint: unsupported format '${whole}' (use {key}, {key:.Nf} or {key:0Nd})`);
  });
}
