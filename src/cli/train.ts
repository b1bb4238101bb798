/**
 * `stride train`: trains a built-in model on a dataset, the lecture's recipe by default (seed 000's
 * SimpleCNN on MNIST, 1 epoch, Adam 1e-3, batch 128, 10% validation, pixels in [0, 1]), and writes
 * the run folder: model.safetensors (architecture included), checkpoint.safetensors, history.csv,
 * curves.png/.svg, confusion.png/.svg and report.json.
 *
 * Ctrl-C stops between two batches, saves a checkpoint that remembers how far into the epoch it
 * got, and exits with 130; `--resume` replays that epoch's order and continues from the next batch,
 * so an interrupted run ends with the same weights as an uninterrupted one.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';

import { manualSeed, defaultGenerator } from '../tensor/random.js';
import type { Module } from '../nn/module.js';
import { Adam } from '../optim/adam.js';
import { SGD } from '../optim/sgd.js';
import type { Optimizer } from '../optim/optimizer.js';
import { randomSplit } from '../data/random-split.js';
import type { DatasetLike } from '../data/dataset.js';
import type { TransformLike } from '../data/transform.js';
import { backendInfo } from '../backend/index.js';
import { Compose } from '../vision/transforms/compose.js';
import { RandomAffine } from '../vision/transforms/affine.js';
import { RandomHorizontalFlip } from '../vision/transforms/flip.js';
import { loadCheckpoint, saveCheckpoint } from '../io/index.js';
import { saveModel } from '../io/architecture.js';
import { plotCurves } from '../viz/curves.js';
import { plotConfusionMatrix } from '../viz/confusion.js';
import { textCurve, textSeries } from '../viz/terminal.js';
import { MODEL_NAMES, modelSpec } from './models.js';
import {
  DATASET_HELP,
  checkDatasetName,
  fraction,
  limit,
  nonNegativeInt,
  openDataset,
  parameterCount,
  positiveInt,
  positiveNumber,
  type Sample,
} from './common.js';
import { epochLoader, evaluate, progressBar, trainEpoch, type EpochState } from './loop.js';
import { Interrupted, UsageError } from './errors.js';

/** Everything that defines a run; stored in the checkpoint so --resume continues the same run. */
export interface RunConfig {
  dataset: string;
  model: string;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'adam' | 'sgd';
  valSplit: number;
  augment: boolean;
  limit: number | null;
  seed: number;
}

/** The run settings that --resume takes from the checkpoint, with their flags. */
const CONFIG_FLAGS: [keyof RunConfig, string][] = [
  ['dataset', '--dataset'],
  ['model', '--model'],
  ['batchSize', '--batch-size'],
  ['lr', '--lr'],
  ['optimizer', '--optimizer'],
  ['valSplit', '--val-split'],
  ['augment', '--augment'],
  ['limit', '--limit'],
  ['seed', '--seed'],
];

/** The parsed flags of `stride train`: the run's settings and how to report them. */
interface TrainOptions extends Omit<RunConfig, 'limit'> {
  limit?: number;
  out?: string;
  resume?: string;
  progress: boolean;
  plots: boolean;
}

export type HistoryRow = {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number | null;
  valAccuracy: number | null;
  seconds: number;
  imagesPerSecond: number;
};

interface Partial {
  batchesDone: number;
  lossSum: number;
  correct: number;
  seen: number;
  seconds: number;
  images: number;
}

interface RunExtra {
  config: RunConfig;
  /** Set when the checkpoint was taken in the middle of epoch `epoch` (0-based count of done epochs). */
  partial: Partial | null;
}

export function trainCommand(): Command {
  return new Command('train')
    .description(
      'train a built-in model and write model, checkpoint, history, plots and report to a run folder',
    )
    .addOption(new Option('--dataset <name>', DATASET_HELP).default('mnist'))
    .addOption(
      new Option('--model <name>', `built-in model: ${MODEL_NAMES.join(', ')}`).default('simple-cnn'),
    )
    .option('--epochs <n>', 'number of epochs (in all, when resuming)', positiveInt, 1)
    .option('--batch-size <n>', 'samples per batch', positiveInt, 128)
    .option('--lr <x>', 'learning rate', positiveNumber, 1e-3)
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['adam', 'sgd']).default('adam'))
    .option('--val-split <f>', 'fraction of the training set held out for validation', fraction, 0.1)
    .option('--augment', 'random rotations/shifts (and flips for RGB) while training', false)
    .option('--limit <n>', 'use only the first N training and N test images', positiveInt)
    .option('--seed <n>', 'seed for initialisation, split, shuffling and augmentation', nonNegativeInt, 0)
    .option('--out <dir>', 'run folder (default runs/<model>-<dataset>-<seed>)')
    .option('--resume <checkpoint>', 'continue the run saved in this checkpoint')
    .option('--no-progress', 'no progress bar')
    .option('--no-plots', 'skip the PNG/SVG plots')
    .action(async (opts: TrainOptions, cmd: Command) => {
      const explicit = new Set(
        Object.keys(opts).filter(
          (k) => cmd.getOptionValueSource(k) === 'cli' || cmd.getOptionValueSource(k) === 'env',
        ),
      );
      await runTrain(opts, explicit);
    });
}

function configFrom(opts: TrainOptions): RunConfig {
  checkDatasetName(opts.dataset);
  modelSpec(opts.model);
  return {
    dataset: opts.dataset,
    model: opts.model,
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    lr: opts.lr,
    optimizer: opts.optimizer,
    valSplit: opts.valSplit,
    augment: opts.augment,
    limit: opts.limit ?? null,
    seed: opts.seed,
  };
}

function makeOptimizer(model: Module, config: RunConfig): Optimizer {
  return config.optimizer === 'sgd'
    ? (new SGD(model.parameters(), { lr: config.lr }) as unknown as Optimizer)
    : (new Adam(model.parameters(), { lr: config.lr }) as unknown as Optimizer);
}

function augmentation(channels: number): TransformLike {
  const affine = new RandomAffine(10, { translate: [0.1, 0.1] });
  return channels === 3 ? new Compose([new RandomHorizontalFlip(), affine]) : affine;
}

function writeHistoryCsv(file: string, rows: HistoryRow[]): void {
  const cols: (keyof HistoryRow)[] = [
    'epoch',
    'loss',
    'accuracy',
    'valLoss',
    'valAccuracy',
    'seconds',
    'imagesPerSecond',
  ];
  const lines = [cols.join(',')];
  for (const r of rows) lines.push(cols.map((c) => (r[c] === null ? '' : String(r[c]))).join(','));
  writeFileSync(file, lines.join('\n') + '\n');
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

async function runTrain(opts: TrainOptions, explicit: ReadonlySet<string> = new Set()): Promise<void> {
  let config = configFrom(opts);
  let resumeFrom: Awaited<ReturnType<typeof loadCheckpoint>> | null = null;
  if (opts.resume !== undefined) {
    if (!existsSync(opts.resume)) throw new UsageError(`checkpoint file not found: ${opts.resume}`);
    resumeFrom = await loadCheckpoint(opts.resume);
    const extra = resumeFrom.extra as RunExtra | undefined;
    if (!extra?.config)
      throw new Error(`${opts.resume} is not a checkpoint written by stride train (no run config)`);
    // The run goes on as it was set up; asking for a different one alongside --resume is a mistake.
    for (const [key, flag] of CONFIG_FLAGS) {
      const given = (opts as unknown as Record<string, unknown>)[key] ?? null;
      if (explicit.has(key) && given !== extra.config[key]) {
        throw new UsageError(
          `${flag} ${String(given)} differs from the checkpoint's run (${String(extra.config[key])}); ` +
            '--resume continues that run as it was set up (only --epochs and --out may change)',
        );
      }
    }
    config = { ...extra.config, epochs: opts.epochs };
  }
  const spec = modelSpec(config.model);
  const source = openDataset(config.dataset, spec.inputShape, config.seed);
  const shape = source.inputShape.join('×');
  if (shape !== spec.inputShape.join('×')) {
    throw new UsageError(
      `model ${config.model} reads ${spec.inputShape.join('×')} images but ${config.dataset} has ${shape}`,
    );
  }
  if (source.classes.length !== spec.numClasses) {
    throw new UsageError(
      `model ${config.model} has ${spec.numClasses} outputs but ${config.dataset} has ${source.classes.length} classes`,
    );
  }
  const out = resolve(
    opts.out ??
      (opts.resume !== undefined
        ? dirname(opts.resume)
        : join('runs', `${config.model}-${source.slug}-${config.seed}`)),
  );
  mkdirSync(out, { recursive: true });

  manualSeed(config.seed);
  const model = spec.build();
  const optimizer = makeOptimizer(model, config);
  const all = limit(source.train, config.limit ?? undefined);
  const test = limit(source.test, config.limit ?? undefined);
  const nVal = Math.round(all.length * config.valSplit);
  if (all.length - nVal < 1) throw new UsageError(`--val-split ${config.valSplit} leaves no training images`);
  const [train, val] = randomSplit(all, [all.length - nVal, nVal], {
    seed: config.seed,
  }) as DatasetLike<Sample>[];
  const trainBatches = Math.ceil(train.length / config.batchSize);
  const transform = config.augment ? augmentation(spec.inputShape[0]) : undefined;

  let history: HistoryRow[] = [];
  let startEpoch = 0;
  let partial: Partial | null = null;
  if (resumeFrom) {
    model.loadStateDict(resumeFrom.model);
    if (resumeFrom.optimizer)
      (optimizer as unknown as { loadStateDict(s: unknown): void }).loadStateDict(resumeFrom.optimizer);
    if (resumeFrom.rng !== undefined) defaultGenerator.setState(resumeFrom.rng as never);
    history = (resumeFrom.history as HistoryRow[] | undefined) ?? [];
    startEpoch = resumeFrom.epoch;
    partial = (resumeFrom.extra as unknown as RunExtra).partial;
    if (startEpoch >= config.epochs) {
      throw new UsageError(
        `the checkpoint has already done ${startEpoch} epochs; ask for more with --epochs`,
      );
    }
  }

  const log = (s: string): void => void process.stdout.write(s + '\n');
  const info = backendInfo();
  log(
    `${resumeFrom ? 'resuming' : 'training'} ${config.model} (${parameterCount(model).toLocaleString('en-US')} parameters) on ${config.dataset}: ` +
      `${train.length} train / ${val.length} validation / ${test.length} test images, ` +
      `${config.optimizer} lr ${config.lr}, batch ${config.batchSize}, ${config.epochs} epoch${config.epochs === 1 ? '' : 's'}, seed ${config.seed}, ` +
      `${info.backend} backend (${info.simd}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`,
  );

  // Ctrl-C: finish the current batch, save, exit 130. A second Ctrl-C exits at once.
  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
    // (A terminal's progress bar holds the line: start a new one.)
    process.stderr.write(
      `${process.stderr.isTTY ? '\n' : ''}stride: interrupted, saving a checkpoint (Ctrl-C again to quit at once)\n`,
    );
  };
  process.on('SIGINT', onSigint);
  const interruptAfter = Number(process.env.STRIDE_TEST_INTERRUPT_AFTER ?? NaN); // for the tests: a real SIGINT after N batches
  let batchesThisRun = 0;
  const shouldStop = (): boolean => {
    if (Number.isInteger(interruptAfter) && batchesThisRun++ === interruptAfter)
      process.kill(process.pid, 'SIGINT');
    return stop;
  };

  const checkpointFile = join(out, 'checkpoint.safetensors');
  const save = (epochsDone: number, p: Partial | null): Promise<void> =>
    saveCheckpoint(checkpointFile, {
      model,
      optimizer: optimizer as never,
      epoch: epochsDone,
      history,
      rng: defaultGenerator,
      extra: { config, partial: p } as unknown as Record<string, unknown>,
    });

  const progress = progressBar(opts.progress && Boolean(process.stderr.isTTY));
  const batchLosses: number[] = [];
  let trainImages = 0;
  let trainSeconds = 0;
  try {
    for (let epoch = startEpoch; epoch < config.epochs; epoch++) {
      const state: EpochState = partial ?? { batchesDone: 0, lossSum: 0, correct: 0, seen: 0 };
      const loader = epochLoader(train, config.batchSize, config.seed, epoch, transform);
      const label = `epoch ${epoch + 1}/${config.epochs}`;
      const r = await trainEpoch(model, optimizer, loader, state, shouldStop, progress, label);
      const seconds = r.seconds + (partial?.seconds ?? 0);
      const images = r.images + (partial?.images ?? 0);
      trainImages += r.images;
      batchLosses.push(...r.batchLosses);
      trainSeconds += r.seconds;
      partial = null;
      if (r.interrupted) {
        await save(epoch, {
          batchesDone: r.batchesDone,
          lossSum: r.lossSum,
          correct: r.correct,
          seen: r.seen,
          seconds,
          images,
        });
        writeHistoryCsv(join(out, 'history.csv'), history);
        throw new Interrupted(
          `interrupted in epoch ${epoch + 1} after ${r.batchesDone}/${loader.length} batches; checkpoint saved to ${checkpointFile} ` +
            `(continue with: stride train --resume ${checkpointFile} --epochs ${config.epochs})`,
        );
      }
      const v = val.length > 0 ? await evaluate(model, val, spec.numClasses, 512) : null;
      const row: HistoryRow = {
        epoch: epoch + 1,
        loss: r.lossSum / r.seen,
        accuracy: r.correct / r.seen,
        valLoss: v ? v.loss : null,
        valAccuracy: v ? v.accuracy : null,
        seconds: Number(seconds.toFixed(3)),
        imagesPerSecond: Math.round(images / Math.max(seconds, 1e-9)),
      };
      history.push(row);
      log(
        `epoch ${row.epoch}/${config.epochs}: loss ${row.loss.toFixed(4)}, accuracy ${pct(row.accuracy)}` +
          (v ? `, val loss ${v.loss.toFixed(4)}, val accuracy ${pct(v.accuracy)}` : '') +
          ` (${row.seconds.toFixed(1)} s, ${row.imagesPerSecond} img/s)`,
      );
      await save(epoch + 1, null);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }

  const t = await evaluate(model, test, spec.numClasses, 512);
  log(
    `test (${t.samples} images): accuracy ${pct(t.accuracy)}, precision ${pct(t.precision)}, recall ${pct(t.recall)}, ` +
      `F1 ${pct(t.f1)} (macro averages), loss ${t.loss.toFixed(4)}`,
  );

  const files: Record<string, string> = {
    model: join(out, 'model.safetensors'),
    checkpoint: checkpointFile,
    history: join(out, 'history.csv'),
    report: join(out, 'report.json'),
  };
  await saveModel(model, files.model, {
    inputShape: spec.inputShape,
    classNames: source.classes,
    metadata: {
      'stride.model': config.model,
      'stride.dataset': config.dataset,
      'stride.seed': String(config.seed),
    },
  });
  writeHistoryCsv(files.history, history);
  if (opts.plots) {
    files.curves = join(out, 'curves.png');
    files.curvesSvg = join(out, 'curves.svg');
    files.confusion = join(out, 'confusion.png');
    files.confusionSvg = join(out, 'confusion.svg');
    await plotCurves(history, [files.curves, files.curvesSvg], {
      title: `${config.model} on ${config.dataset}`,
      metrics: ['loss', 'accuracy'],
      // This run's batches only: a resumed run would start mid-way, so it shows the epochs alone.
      ...(resumeFrom === null ? { batchLoss: { values: batchLosses, perEpoch: trainBatches } } : {}),
    });
    await plotConfusionMatrix(t.confusion, [files.confusion, files.confusionSvg], {
      classNames: source.classes,
      title: `${config.model} on ${config.dataset} test set: accuracy ${pct(t.accuracy)}`,
    });
  }
  const report = {
    model: config.model,
    dataset: config.dataset,
    config,
    parameters: parameterCount(model),
    samples: { train: train.length, validation: val.length, test: test.length },
    test: {
      accuracy: t.accuracy,
      precision: t.precision,
      recall: t.recall,
      f1: t.f1,
      loss: t.loss,
      average: 'macro',
    },
    history,
    imagesPerSecond: trainSeconds > 0 ? Math.round(trainImages / trainSeconds) : null,
    trainSeconds: Number(trainSeconds.toFixed(3)),
    backend: info,
    seed: config.seed,
    versions: {
      stride: packageVersion(),
      node: process.versions.node,
      v8: process.versions.v8,
      platform: `${process.platform}-${process.arch}`,
    },
    files,
    date: new Date().toISOString(),
  };
  writeFileSync(files.report, JSON.stringify(report, null, 2) + '\n');
  if (process.stdout.isTTY) {
    // A short run's per-epoch curve is a point or two: show the per-batch loss instead.
    const chart =
      history.length >= 3
        ? textCurve(history)
        : textSeries(batchLosses, { label: `training loss over ${batchLosses.length} batches (this run)` });
    if (chart) log(`\n${chart}\n`);
  }
  log(
    `wrote ${Object.values(files)
      .map((f) => f.slice(out.length + 1))
      .join(', ')} to ${out}`,
  );
}
