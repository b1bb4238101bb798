/**
 * fit(), evaluate(), predict(): Keras's training loop, built only from the public pieces a manual
 * PyTorch-style loop uses (DataLoader, model.forward, the loss, optimizer.zeroGrad/backward/step,
 * metrics' update/compute, schedulers), so the two give the same numbers for the same seed:
 *
 *   const history = await fit(model, {
 *     trainData: [x, y], validationSplit: 0.2, loss: new nn.CrossEntropyLoss(),
 *     optimizer: new optim.Adam(model.parameters()), epochs: 10, batchSize: 32,
 *     metrics: ['accuracy'], callbacks: [new EarlyStopping({ patience: 3 })], seed: 0,
 *   });
 *
 * Browser-safe: progress goes through a callback; the Node entry registers the terminal bar.
 */
import { setGradEnabled } from '../autograd/graph.js';
import { Accuracy, F1Score, Precision, Recall } from '../metrics/classification.js';
import type { Metric } from '../metrics/metric.js';
import { MeanAbsoluteError, MeanSquaredError } from '../metrics/regression.js';
import { cat } from '../ops/shape.js';
import { OneCycleLR } from '../optim/one_cycle.js';
import { ReduceLROnPlateau as PlateauScheduler } from '../optim/plateau.js';
import { manualSeed } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  Callback,
  type OptimizerLike,
  type TrainableModel,
  type TrainingContext,
} from './callbacks/callback.js';
import { loaderFor, resolveData, splitBatch, splitLast, type BatchSource, type DataInput } from './data.js';
import {
  checkInputRange,
  checkLossFinite,
  checkSoftmaxBeforeLoss,
  checkSplitSizes,
} from '../doctor-checks.js';
import { History, type Logs } from './history.js';
import { LineProgress, now, ProgressCallback } from './progress-base.js';

/** A loss module (forward(input, target)) or function (input, target) => scalar Tensor. */
export type LossLike =
  ((input: Tensor, target: Tensor) => Tensor) | { forward(input: Tensor, target: Tensor): Tensor };

/** A metric instance, or a name: 'accuracy', 'precision', 'recall', 'f1', 'mse', 'mae'. */
export type MetricLike = Metric<unknown> | 'accuracy' | 'acc' | 'precision' | 'recall' | 'f1' | 'mse' | 'mae';

/** A scheduler: stepped each epoch (each batch for OneCycleLR); ReduceLROnPlateau gets the monitored value. */
export interface SchedulerLike {
  step(metric: number): unknown;
}

export interface FitOptions {
  /** [inputs, targets] tensors, a Dataset of [input, target] samples, or a DataLoader. */
  trainData: DataInput;
  validationData?: DataInput;
  /** Holds out the last fraction of trainData (Keras: the last samples, before shuffling). */
  validationSplit?: number;
  loss: LossLike;
  optimizer: OptimizerLike;
  /** Default 1. */
  epochs?: number;
  /** Ignored when the data is a DataLoader. Default 32. */
  batchSize?: number;
  /** Reshuffle the training data each epoch (default true; ignored for a DataLoader). */
  shuffle?: boolean;
  metrics?: MetricLike[];
  callbacks?: Callback[];
  scheduler?: SchedulerLike;
  /** 'epoch' (default) or 'batch' (default for OneCycleLR). */
  schedulerInterval?: 'epoch' | 'batch';
  /** What a ReduceLROnPlateau scheduler watches: default 'val_loss' with validation data, else 'loss'. */
  schedulerMonitor?: string;
  /** Seeds the global generator (dropout, augmentation) and the shuffling: same seed, same run. */
  seed?: number;
  /** 0 silent, 1 progress bar (plain lines off a terminal), 2 one line per epoch. Default 1. */
  verbose?: 0 | 1 | 2;
  /** Replaces the default progress display. */
  progress?: ProgressCallback;
  /** Starts counting epochs here (resuming). */
  initialEpoch?: number;
}

type ProgressFactory = (verbose: number) => ProgressCallback;
let defaultProgress: ProgressFactory = (verbose) => new LineProgress({ verbose });

/** The Node entry sets the terminal progress bar here; the core prints plain lines. */
export function setDefaultProgress(factory: ProgressFactory): void {
  defaultProgress = factory;
}

function resolveMetric(m: MetricLike, i: number): Metric<unknown> {
  if (
    typeof m === 'object' &&
    m !== null &&
    typeof m.update === 'function' &&
    typeof m.compute === 'function'
  )
    return m;
  switch (m) {
    case 'accuracy':
    case 'acc':
      return new Accuracy();
    case 'precision':
      return new Precision();
    case 'recall':
      return new Recall();
    case 'f1':
      return new F1Score();
    case 'mse':
      return new MeanSquaredError();
    case 'mae':
      return new MeanAbsoluteError();
  }
  throw new Error(
    `fit: metrics[${i}] must be a Metric or one of 'accuracy', 'precision', 'recall', 'f1', 'mse', 'mae', got ${String(m)}`,
  );
}

function callLoss(loss: LossLike, out: Tensor, y: Tensor): Tensor {
  return typeof loss === 'function' ? loss(out, y) : loss.forward(out, y);
}

function lossName(loss: LossLike): string {
  return typeof loss === 'function' ? loss.name : (loss.constructor?.name ?? 'loss');
}

function checkLoss(where: string, loss: unknown): asserts loss is LossLike {
  const ok =
    typeof loss === 'function' ||
    (typeof loss === 'object' &&
      loss !== null &&
      typeof (loss as { forward?: unknown }).forward === 'function');
  if (!ok) {
    throw new Error(
      `${where}: loss must be a loss module (e.g. new nn.CrossEntropyLoss()) or a function (input, target) => Tensor`,
    );
  }
}

function scalar(where: string, t: Tensor): number {
  if (t.numel() !== 1) {
    throw new Error(
      `${where}: the loss must be a scalar, got shape [${t.shape}] (use reduction 'mean' or 'sum')`,
    );
  }
  return t.data[0];
}

/** Adds numeric metric values to logs under prefix + name. Per-class results are left out. */
function metricLogs(logs: Logs, metrics: Metric<unknown>[], prefix: string, values?: unknown[]): void {
  metrics.forEach((m, i) => {
    const v = values ? values[i] : m.compute();
    if (typeof v === 'number') logs[prefix + m.name] = v;
  });
}

/** The loss (sample-weighted mean over batches) and metrics of a model on data, without gradients. */
async function runEvaluation(
  where: string,
  model: TrainableModel,
  loader: BatchSource,
  loss: LossLike | undefined,
  metrics: Metric<unknown>[],
  prefix: string,
): Promise<Logs> {
  const wasTraining = model.training;
  model.eval();
  const prev = setGradEnabled(false);
  let total = 0;
  let count = 0;
  for (const m of metrics) m.reset();
  try {
    for await (const batch of loader) {
      const [x, y] = splitBatch(where, batch, loss !== undefined || metrics.length > 0);
      const out = model.forward(x);
      const n = x.shape[0];
      if (loss) {
        total += scalar(where, callLoss(loss, out, y!)) * n;
        count += n;
      }
      for (const m of metrics) m.update(out, y!);
    }
  } finally {
    setGradEnabled(prev);
    model.train(wasTraining);
  }
  const logs: Logs = {};
  if (loss) logs[prefix + 'loss'] = count === 0 ? NaN : total / count;
  metricLogs(logs, metrics, prefix);
  return logs;
}

function lastLayerName(model: TrainableModel): string | undefined {
  const mods = typeof model.modules === 'function' ? model.modules() : [];
  const last = mods[mods.length - 1] as object | undefined;
  return last?.constructor?.name;
}

/** Trains `model`; resolves to the History when training ends (all epochs, or stopped by a callback). */
export async function fit(model: TrainableModel, options: FitOptions): Promise<History> {
  const where = 'fit';
  if (typeof model?.forward !== 'function' || typeof model.parameters !== 'function') {
    throw new Error(
      `${where}: expected a model (a Module with forward and parameters) as the first argument`,
    );
  }
  if (options === null || typeof options !== 'object')
    throw new Error(`${where}: expected an options object`);
  const o = options;
  checkLoss(where, o.loss);
  const optimizer = o.optimizer;
  if (!optimizer || !Array.isArray(optimizer.paramGroups) || typeof optimizer.step !== 'function') {
    throw new Error(`${where}: optimizer must be an Optimizer (e.g. new optim.Adam(model.parameters()))`);
  }
  const epochs = o.epochs ?? 1;
  const initialEpoch = o.initialEpoch ?? 0;
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new Error(`${where}: epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs) {
    throw new Error(`${where}: initialEpoch must be an integer in [0, epochs), got ${initialEpoch}`);
  }
  const batchSize = o.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`${where}: batchSize must be a positive integer, got ${batchSize}`);
  }
  const verbose = o.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2)
    throw new Error(`${where}: verbose must be 0, 1 or 2, got ${verbose}`);
  if (o.trainData === undefined) throw new Error(`${where}: trainData is required`);
  if (o.validationData !== undefined && o.validationSplit !== undefined) {
    throw new Error(`${where}: give validationData or validationSplit, not both`);
  }
  const callbacks = [...(o.callbacks ?? [])];
  callbacks.forEach((c, i) => {
    if (!(c instanceof Callback)) throw new Error(`${where}: callbacks[${i}] is not a Callback`);
  });
  if (o.seed !== undefined) {
    if (!Number.isFinite(o.seed)) throw new Error(`${where}: seed must be a finite number, got ${o.seed}`);
    manualSeed(o.seed);
  }

  // ---- data ----
  let train = resolveData(where, 'trainData', o.trainData);
  let validation =
    o.validationData !== undefined ? resolveData(where, 'validationData', o.validationData) : null;
  if (o.validationSplit !== undefined) {
    if (train.kind !== 'dataset') {
      throw new Error(
        `${where}: validationSplit needs tensors or a Dataset, not a DataLoader; pass validationData instead`,
      );
    }
    const [t, v] = splitLast(where, train.dataset, o.validationSplit);
    train = { kind: 'dataset', dataset: t };
    validation = { kind: 'dataset', dataset: v };
  }
  const trainLoader = loaderFor(train, { batchSize, shuffle: o.shuffle ?? true, seed: o.seed });
  const valLoader = validation ? loaderFor(validation, { batchSize, shuffle: false }) : null;
  const stepsPerEpoch = trainLoader.loader.length;
  if (stepsPerEpoch === 0) throw new Error(`${where}: the training data gives no batches (is it empty?)`);

  // ---- metrics, scheduler ----
  const metrics = (o.metrics ?? []).map(resolveMetric);
  const valMetrics = metrics.map((m) => m.clone());
  const scheduler = o.scheduler;
  if (scheduler !== undefined && typeof scheduler?.step !== 'function') {
    throw new Error(`${where}: scheduler must have a step() method (an optim LR scheduler)`);
  }
  const perBatch = (o.schedulerInterval ?? (scheduler instanceof OneCycleLR ? 'batch' : 'epoch')) === 'batch';
  const schedulerMonitor = o.schedulerMonitor ?? (valLoader ? 'val_loss' : 'loss');

  // ---- the doctor, before any work ----
  checkSoftmaxBeforeLoss(lastLayerName(model), lossName(o.loss));
  if (trainLoader.samples !== undefined && valLoader?.samples !== undefined) {
    checkSplitSizes(trainLoader.samples, valLoader.samples);
  }

  // ---- callbacks ----
  const history = new History();
  history.params = { epochs, steps: stepsPerEpoch, batchSize, verbose };
  if (trainLoader.samples !== undefined) history.params.samples = trainLoader.samples;
  if (valLoader?.samples !== undefined) history.params.validationSamples = valLoader.samples;
  const progress = verbose === 0 ? null : (o.progress ?? defaultProgress(verbose));
  // First, so that an epoch's summary line comes before what other callbacks print about it.
  if (progress) callbacks.unshift(progress);
  const ctx: TrainingContext = {
    model,
    optimizer,
    history,
    stopTraining: false,
    stopReason: null,
    epochs,
    stepsPerEpoch,
    log: (message) => (progress ? progress.log(message) : console.log(message)),
  };
  for (const c of callbacks) c.setContext(ctx);
  const each = async (fn: (c: Callback) => void | Promise<void>) => {
    for (const c of callbacks) await fn(c);
  };

  const lr = () => optimizer.paramGroups[0].lr;
  let checkedInput = false;
  try {
    await each((c) => c.onTrainBegin({}));
    for (let epoch = initialEpoch; epoch < epochs && !ctx.stopTraining; epoch++) {
      const epochStart = now();
      const epochLr = lr();
      model.train();
      for (const m of metrics) m.reset();
      await each((c) => c.onEpochBegin(epoch, { lr: epochLr }));
      let lossSum = 0;
      let seen = 0;
      let batch = 0;
      for await (const item of trainLoader.loader) {
        const [x, y] = splitBatch(where, item, true);
        await each((c) => c.onBatchBegin(batch, { size: x.shape[0] }));
        if (!checkedInput) {
          checkInputRange(x, 'fit');
          checkedInput = true;
        }
        const batchLr = lr();
        const out = model.forward(x);
        const lossT = callLoss(o.loss, out, y!);
        const lossV = scalar(where, lossT);
        checkLossFinite(lossV, epoch, batch);
        optimizer.zeroGrad();
        lossT.backward();
        optimizer.step();
        if (perBatch) (scheduler as unknown as { step(): unknown }).step();

        const n = x.shape[0];
        lossSum += lossV * n;
        seen += n;
        const detached = out.detach();
        const batchValues = metrics.map((m) => m.forward(detached, y!));
        const batchLogs: Logs = { loss: lossV };
        metricLogs(batchLogs, metrics, '', batchValues);
        history.addBatch({ epoch, batch, size: n, logs: batchLogs, lr: batchLr });
        const running: Logs = { loss: lossSum / seen };
        metricLogs(running, metrics, '');
        running.batchLoss = lossV;
        await each((c) => c.onBatchEnd(batch, running));
        batch++;
        if (ctx.stopTraining) break;
      }

      const logs: Logs = { loss: seen === 0 ? NaN : lossSum / seen };
      metricLogs(logs, metrics, '');
      if (valLoader)
        Object.assign(logs, await runEvaluation(where, model, valLoader.loader, o.loss, valMetrics, 'val_'));
      const time = (now() - epochStart) / 1000;
      history.addEpoch({ epoch, logs: { ...logs }, lr: epochLr, time });
      logs.lr = epochLr;
      await each((c) => c.onEpochEnd(epoch, logs));
      if (scheduler && !perBatch) {
        if (scheduler instanceof PlateauScheduler) {
          const v = logs[schedulerMonitor];
          if (v === undefined) {
            throw new Error(
              `${where}: the ReduceLROnPlateau scheduler monitors '${schedulerMonitor}', which is not in the logs ` +
                `(${Object.keys(logs).join(', ')}); set schedulerMonitor`,
            );
          }
          scheduler.step(v);
        } else (scheduler as unknown as { step(): unknown }).step();
      }
    }
    history.stopReason = ctx.stopReason;
    const last = history.epochs[history.epochs.length - 1];
    await each((c) => c.onTrainEnd(last ? { ...last.logs } : {}));
  } finally {
    progress?.close();
  }
  return history;
}

export interface EvaluateOptions {
  loss?: LossLike;
  metrics?: MetricLike[];
  /** Ignored when the data is a DataLoader. Default 32. */
  batchSize?: number;
}

/** Loss and metrics of `model` on data, in eval mode and without gradients: { loss, accuracy, ... }. */
export async function evaluate(
  model: TrainableModel,
  data: DataInput,
  options: EvaluateOptions = {},
): Promise<Logs> {
  const where = 'evaluate';
  if (options.loss !== undefined) checkLoss(where, options.loss);
  const metrics = (options.metrics ?? []).map(resolveMetric);
  const { loader } = loaderFor(resolveData(where, 'data', data), {
    batchSize: options.batchSize ?? 32,
    shuffle: false,
  });
  return runEvaluation(where, model, loader, options.loss, metrics, '');
}

/**
 * The model's outputs for every sample, concatenated along dim 0, in eval mode without gradients.
 * Data: input tensor, [inputs, targets], a Dataset or a DataLoader (targets are ignored).
 */
export async function predict(
  model: TrainableModel,
  data: DataInput,
  options: { batchSize?: number } = {},
): Promise<Tensor> {
  const where = 'predict';
  const { loader } = loaderFor(resolveData(where, 'data', data), {
    batchSize: options.batchSize ?? 32,
    shuffle: false,
  });
  const wasTraining = model.training;
  model.eval();
  const prev = setGradEnabled(false);
  const outs: Tensor[] = [];
  try {
    for await (const batch of loader) outs.push(model.forward(splitBatch(where, batch, false)[0]));
  } finally {
    setGradEnabled(prev);
    model.train(wasTraining);
  }
  if (outs.length === 0) throw new Error(`${where}: the data gives no batches (is it empty?)`);
  return cat(outs, 0);
}
