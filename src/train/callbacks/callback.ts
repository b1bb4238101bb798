/**
 * Callback: hooks into fit(), as Keras's. Every hook may be async (fit awaits it). A callback sees
 * the run through `this.context`: the model, the optimizer, the history so far, and `stopTraining`,
 * which it sets to end training after the current batch or epoch.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { History, Logs } from '../history.js';

/** What fit() needs of a model: the Module interface, structurally (so any Module works). */
export interface TrainableModel {
  forward(...inputs: Tensor[]): Tensor;
  parameters(): Tensor[];
  train(mode?: boolean): unknown;
  eval(): unknown;
  training: boolean;
  stateDict(): Record<string, Tensor>;
  loadStateDict(stateDict: Record<string, unknown>, options?: { strict?: boolean }): unknown;
  modules?(): unknown[];
}

/** The optimizer as callbacks see it: its groups' learning rates are theirs to change. */
export interface OptimizerLike {
  paramGroups: { lr: number; [k: string]: unknown }[];
  zeroGrad(): void;
  step(): unknown;
  stateDict(): Record<string, unknown>;
  loadStateDict(stateDict: Record<string, unknown>): void;
}

export interface TrainingContext {
  model: TrainableModel;
  optimizer: OptimizerLike;
  history: History;
  /** Set to true to end training (after the current batch). */
  stopTraining: boolean;
  /** Why it stopped, for the history and the progress line. */
  stopReason: string | null;
  epochs: number;
  stepsPerEpoch: number;
  /** Prints a line without breaking the progress bar (or to the console when silent). */
  log(message: string): void;
}

export abstract class Callback {
  private ctx: TrainingContext | null = null;

  /** Set by fit() before onTrainBegin. */
  setContext(context: TrainingContext): void {
    this.ctx = context;
  }

  get context(): TrainingContext {
    if (this.ctx === null) {
      throw new Error(
        `${this.constructor.name}: not attached to a training run (pass it to fit({ callbacks }))`,
      );
    }
    return this.ctx;
  }

  onTrainBegin(_logs: Logs): void | Promise<void> {}
  onTrainEnd(_logs: Logs): void | Promise<void> {}
  onEpochBegin(_epoch: number, _logs: Logs): void | Promise<void> {}
  /** Logs hold the epoch's 'loss', metrics, 'val_*' values and 'lr'. */
  onEpochEnd(_epoch: number, _logs: Logs): void | Promise<void> {}
  onBatchBegin(_batch: number, _logs: Logs): void | Promise<void> {}
  /** Logs hold running averages over the epoch so far (as Keras), plus 'batchLoss'. */
  onBatchEnd(_batch: number, _logs: Logs): void | Promise<void> {}
}

/** The value of `monitor` in `logs`, or undefined with a warning naming the keys there are. */
export function monitored(
  where: string,
  monitor: string,
  logs: Logs,
  warned: Set<string>,
): number | undefined {
  const v = logs[monitor];
  if (v === undefined && !warned.has(monitor)) {
    warned.add(monitor);
    const hint = monitor.startsWith('val_') ? ' (is there validation data?)' : '';
    console.warn(
      `${where}: '${monitor}' is not in the logs${hint}; available: ${Object.keys(logs).join(', ')}`,
    );
  }
  return v;
}
