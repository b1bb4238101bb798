/** LambdaCallback: a callback from plain functions, for one-off hooks (Keras's). */
import type { Logs } from '../history.js';
import { Callback, type TrainingContext } from './callback.js';

type Hook<A extends unknown[]> = (...args: [...A, TrainingContext]) => void | Promise<void>;

export interface LambdaCallbackHooks {
  onTrainBegin?: Hook<[logs: Logs]>;
  onTrainEnd?: Hook<[logs: Logs]>;
  onEpochBegin?: Hook<[epoch: number, logs: Logs]>;
  onEpochEnd?: Hook<[epoch: number, logs: Logs]>;
  onBatchBegin?: Hook<[batch: number, logs: Logs]>;
  onBatchEnd?: Hook<[batch: number, logs: Logs]>;
}

export class LambdaCallback extends Callback {
  constructor(private readonly hooks: LambdaCallbackHooks) {
    super();
    const known = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'];
    for (const [k, v] of Object.entries(hooks ?? {})) {
      if (!known.includes(k))
        throw new Error(`LambdaCallback: unknown hook '${k}' (expected one of ${known.join(', ')})`);
      if (typeof v !== 'function') throw new Error(`LambdaCallback: ${k} must be a function`);
    }
  }
  override onTrainBegin(logs: Logs) {
    return this.hooks.onTrainBegin?.(logs, this.context);
  }
  override onTrainEnd(logs: Logs) {
    return this.hooks.onTrainEnd?.(logs, this.context);
  }
  override onEpochBegin(epoch: number, logs: Logs) {
    return this.hooks.onEpochBegin?.(epoch, logs, this.context);
  }
  override onEpochEnd(epoch: number, logs: Logs) {
    return this.hooks.onEpochEnd?.(epoch, logs, this.context);
  }
  override onBatchBegin(batch: number, logs: Logs) {
    return this.hooks.onBatchBegin?.(batch, logs, this.context);
  }
  override onBatchEnd(batch: number, logs: Logs) {
    return this.hooks.onBatchEnd?.(batch, logs, this.context);
  }
}
