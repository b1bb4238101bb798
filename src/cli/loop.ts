/**
 * The command's training and evaluation loops: plain PyTorch-style loops (zeroGrad, forward,
 * crossEntropy, backward, step) over a DataLoader, with what the command needs around them: a
 * progress bar, images/s, a stop flag checked between batches (Ctrl-C), and resuming in the middle
 * of an epoch. Each epoch gets its own loader seeded by (seed, epoch), so epoch e shuffles the same
 * way whether or not the run was interrupted before it.
 */
import cliProgress from 'cli-progress';

import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/graph.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import { crossEntropy } from '../ops/loss.js';
import { DataLoader } from '../data/dataloader.js';
import type { DatasetLike } from '../data/dataset.js';
import type { TransformLike } from '../data/transform.js';
import { Accuracy, ConfusionMatrix, F1Score, Precision, Recall } from '../metrics/classification.js';
import type { Sample } from './common.js';

type Batch = [Tensor, Tensor];

/** The loader of epoch `epoch` (0-based): its shuffle depends on (seed, epoch) only. */
export function epochLoader(
  ds: DatasetLike<Sample>,
  batchSize: number,
  seed: number,
  epoch: number,
  transform?: TransformLike,
): DataLoader<Sample, Batch> {
  return new DataLoader<Sample, Batch>(ds, {
    batchSize,
    shuffle: true,
    seed: (Math.imul(seed >>> 0, 0x9e3779b1) + epoch * 0x85ebca6b) >>> 0,
    ...(transform ? { transform } : {}),
  });
}

export interface Progress {
  start(total: number, label: string): void;
  update(done: number, info: Record<string, string>): void;
  stop(): void;
}

/** A cli-progress bar on stderr when it is a terminal; silent otherwise (logs, CI, tests). */
export function progressBar(enabled = Boolean(process.stderr.isTTY)): Progress {
  if (!enabled) return { start() {}, update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format:
        '{label} {bar} {value}/{total} batches | loss {loss} | acc {acc} | {rate} img/s | ETA {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total, label) => bar.start(total, 0, { label, loss: '-', acc: '-', rate: '-' }),
    update: (done, info) => bar.update(done, info),
    stop: () => bar.stop(),
  };
}

export interface EpochState {
  /** Batches of this epoch already done (when resuming mid-epoch). */
  batchesDone: number;
  lossSum: number;
  correct: number;
  seen: number;
}

export interface EpochResult extends EpochState {
  /** True when stopped by the flag before the epoch's end. */
  interrupted: boolean;
  /** Each batch's loss, in order (for the text chart at the end). */
  batchLosses: number[];
  images: number;
  seconds: number;
}

/**
 * One training epoch, starting after `state.batchesDone` batches (their order is the same as in an
 * uninterrupted run: the loader is the epoch's own). Stops between batches when `shouldStop()`.
 */
export async function trainEpoch(
  model: Module,
  optimizer: Optimizer,
  loader: DataLoader<Sample, Batch>,
  state: EpochState,
  shouldStop: () => boolean,
  progress: Progress,
  label: string,
): Promise<EpochResult> {
  const s = { ...state };
  model.train();
  progress.start(loader.length, label);
  const t0 = performance.now();
  let images = 0;
  let i = 0;
  let interrupted = false;
  const batchLosses: number[] = [];
  for await (const [x, y] of loader) {
    if (i++ < state.batchesDone) continue; // replayed order, already trained on
    // Let the event loop run: a signal handler (Ctrl-C) only runs between macrotasks, and batches
    // that are ready at once would otherwise keep this loop on microtasks for the whole epoch.
    await new Promise<void>((resume) => setImmediate(resume));
    if (shouldStop()) {
      interrupted = true;
      break;
    }
    optimizer.zeroGrad();
    const logits = model.forward(x);
    const loss = crossEntropy(logits, y);
    loss.backward();
    optimizer.step();
    const n = y.shape[0];
    const l = loss.item();
    batchLosses.push(l);
    s.lossSum += l * n;
    s.correct += countCorrect(logits, y);
    s.seen += n;
    s.batchesDone++;
    images += n;
    const secs = (performance.now() - t0) / 1000;
    progress.update(s.batchesDone, {
      loss: (s.lossSum / s.seen).toFixed(4),
      acc: ((100 * s.correct) / s.seen).toFixed(2) + '%',
      rate: secs > 0 ? Math.round(images / secs).toString() : '-',
    });
  }
  progress.stop();
  return { ...s, interrupted, images, batchLosses, seconds: (performance.now() - t0) / 1000 };
}

function countCorrect(logits: Tensor, y: Tensor): number {
  const pred = noGrad(() => logits.argmax(1));
  let c = 0;
  for (let k = 0; k < y.shape[0]; k++) if (pred.data[k] === y.data[k]) c++;
  return c;
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** [C, C] counts: rows true class, columns predicted. */
  confusion: Tensor;
  samples: number;
  seconds: number;
}

/** Loss and macro-averaged metrics of the model (in eval mode) on a dataset. */
export async function evaluate(
  model: Module,
  ds: DatasetLike<Sample>,
  numClasses: number,
  batchSize = 512,
  progress?: Progress,
): Promise<EvalResult> {
  const opts = { task: 'multiclass' as const, numClasses, average: 'macro' as const };
  const acc = new Accuracy({ task: 'multiclass', numClasses });
  const prec = new Precision(opts);
  const rec = new Recall(opts);
  const f1 = new F1Score(opts);
  const cm = new ConfusionMatrix({ task: 'multiclass', numClasses });
  const loader = new DataLoader<Sample, Batch>(ds, { batchSize, shuffle: false });
  const wasTraining = model.training;
  model.eval();
  const t0 = performance.now();
  let lossSum = 0;
  let seen = 0;
  progress?.start(loader.length, 'test ');
  try {
    let b = 0;
    for await (const [x, y] of loader) {
      const logits = noGrad(() => model.forward(x));
      lossSum += noGrad(() => crossEntropy(logits, y, { reduction: 'sum' })).item();
      seen += y.shape[0];
      for (const m of [acc, prec, rec, f1, cm]) m.update(logits, y);
      progress?.update(++b, { loss: (lossSum / seen).toFixed(4), acc: '-', rate: '-' });
    }
  } finally {
    progress?.stop();
    model.train(wasTraining);
  }
  if (seen === 0) throw new Error('evaluate: the dataset is empty');
  return {
    loss: lossSum / seen,
    accuracy: acc.compute() as number,
    precision: prec.compute() as number,
    recall: rec.compute() as number,
    f1: f1.compute() as number,
    confusion: cm.compute(),
    samples: seen,
    seconds: (performance.now() - t0) / 1000,
  };
}
