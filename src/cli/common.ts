/**
 * What the subcommands share: argument parsers with clear messages, the datasets by name, loading
 * a saved model (a file or a run folder), and images prepared as a model's input needs them.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';

import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import type { DatasetLike } from '../data/dataset.js';
import { Subset } from '../data/subset.js';
import { randomSplit } from '../data/random-split.js';
import { MNIST } from '../vision/mnist.js';
import { FashionMNIST } from '../vision/fashion-mnist.js';
import { ImageFolder } from '../vision/image-folder.js';
import { readImage } from '../vision/image-io.js';
import { ARCHITECTURE_KEY, loadModelWithInfo, type LoadedModel } from '../io/architecture.js';
import { loadCheckpoint, loadWithMetadata } from '../io/index.js';
import { modelSpec } from './models.js';
import { UsageError } from './errors.js';

// ---- option parsers (commander calls them; InvalidArgumentError becomes a one-line usage error) ----

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a positive integer.');
  }
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('expected a non-negative integer.');
  }
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected a positive number.');
  return n;
}

export function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) {
    throw new InvalidArgumentError('expected a fraction in [0, 1).');
  }
  return n;
}

// ---- datasets ----------------------------------------------------------------------------------

export type Sample = [Tensor, number];

export interface DataSource {
  /** 'mnist', 'fashion-mnist' or 'folder:PATH' as given. */
  name: string;
  /** A short name for run folders ('mnist', 'folder-cats'). */
  slug: string;
  train: DatasetLike<Sample>;
  test: DatasetLike<Sample>;
  classes: string[];
  inputShape: [number, number, number];
}

const SHORT_CLASSES: Record<string, string[]> = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
};

export const DATASET_HELP =
  'mnist, fashion-mnist or folder:PATH (PATH/train and PATH/test, or PATH/<class>/<image>)';

/** Checks a --dataset value early (before anything slow happens). */
export function checkDatasetName(name: string): void {
  if (name === 'mnist' || name === 'fashion-mnist') return;
  if (name.startsWith('folder:') && name.length > 'folder:'.length) return;
  throw new UsageError(`unknown dataset '${name}' (use ${DATASET_HELP})`);
}

/**
 * Opens a dataset. Images of a folder are decoded to `inputShape` (channels and size) so that any
 * model can read them; MNIST and Fashion-MNIST are 1×28×28.
 */
export function openDataset(name: string, inputShape: readonly number[] = [1, 28, 28], seed = 0): DataSource {
  checkDatasetName(name);
  if (name === 'mnist') {
    return {
      name,
      slug: 'mnist',
      train: new MNIST({ train: true }),
      test: new MNIST({ train: false }),
      classes: SHORT_CLASSES.mnist,
      inputShape: [1, 28, 28],
    };
  }
  if (name === 'fashion-mnist') {
    const train = new FashionMNIST({ train: true });
    return {
      name,
      slug: 'fashion-mnist',
      train,
      test: new FashionMNIST({ train: false }),
      classes: [...train.classes],
      inputShape: [1, 28, 28],
    };
  }
  const root = name.slice('folder:'.length);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new UsageError(`dataset folder not found: ${root}`);
  }
  const [c, h, w] = inputShape;
  if (c !== 1 && c !== 3)
    throw new UsageError(`folder datasets need a model with 1 or 3 input channels, not ${c}`);
  const decode = { channels: c as 1 | 3, size: [h, w] as [number, number], onError: 'raise' as const };
  const slug = `folder-${
    root
      .replace(/[/\\]+$/, '')
      .split(/[/\\]/)
      .pop() || 'data'
  }`;
  const trainDir = join(root, 'train');
  const testDir = ['test', 'val', 'valid', 'validation'].map((d) => join(root, d)).find((d) => existsSync(d));
  if (existsSync(trainDir) && testDir) {
    const train = new ImageFolder(trainDir, decode);
    const test = new ImageFolder(testDir, decode);
    if (test.classes.join('\n') !== train.classes.join('\n')) {
      throw new Error(
        `dataset ${root}: train has classes [${train.classes}] but ${testDir} has [${test.classes}]`,
      );
    }
    return {
      name,
      slug,
      train: train as DatasetLike<Sample>,
      test: test as DatasetLike<Sample>,
      classes: train.classes,
      inputShape: [c, h, w],
    };
  }
  // One folder of classes: hold out 20% as the test set, the same 20% for the same seed.
  const all = new ImageFolder(root, decode);
  const nTest = Math.max(1, Math.round(all.length * 0.2));
  const [train, test] = randomSplit(all as DatasetLike<Sample>, [all.length - nTest, nTest], {
    seed: seed + 1,
  });
  return { name, slug, train, test, classes: all.classes, inputShape: [c, h, w] };
}

/** The first n samples (all when n is undefined or larger). */
export function limit<T>(ds: DatasetLike<T>, n: number | undefined): DatasetLike<T> {
  if (n === undefined || n >= ds.length) return ds;
  return new Subset(
    ds,
    Int32Array.from({ length: n }, (_, i) => i),
  );
}

// ---- models ------------------------------------------------------------------------------------

/** A model file saved by `stride train` (or saveModel), or a run folder holding model.safetensors. */
export async function openModel(path: string): Promise<LoadedModel & { file: string }> {
  let file = path;
  if (existsSync(path) && statSync(path).isDirectory()) file = join(path, 'model.safetensors');
  if (!existsSync(file)) {
    throw new UsageError(
      path === file
        ? `model file not found: ${path}`
        : `no model.safetensors in ${path} (is it a run folder?)`,
    );
  }
  const { metadata } = await loadWithMetadata(file);
  if (metadata[ARCHITECTURE_KEY] === undefined && metadata['stride.checkpoint'] !== undefined) {
    return { ...(await modelFromCheckpoint(file)), file };
  }
  const loaded = await loadModelWithInfo(file);
  loaded.model.eval();
  return { ...loaded, file };
}

/** A checkpoint written by `stride train` names its built-in model: rebuild it and load the weights. */
async function modelFromCheckpoint(file: string): Promise<LoadedModel> {
  const ckpt = await loadCheckpoint(file);
  const config = (ckpt.extra as { config?: { model?: string; dataset?: string; seed?: number } } | undefined)
    ?.config;
  if (typeof config?.model !== 'string') {
    throw new Error(
      `${file} is a checkpoint without a stride train run config; give a model.safetensors instead`,
    );
  }
  const spec = modelSpec(config.model);
  const model = spec.build();
  model.loadStateDict(ckpt.model);
  model.eval();
  return {
    model,
    inputShape: [...spec.inputShape],
    classNames: null,
    metadata: {
      'stride.model': config.model,
      'stride.dataset': String(config.dataset),
      'stride.seed': String(config.seed ?? 0),
    },
  };
}

export function inputShapeOf(loaded: {
  inputShape: number[] | null;
  file: string;
}): [number, number, number] {
  const s = loaded.inputShape;
  if (s === null || s.length !== 3) {
    throw new Error(
      `${loaded.file} does not record the model's input shape ([C, H, W]); it was not saved by stride train`,
    );
  }
  return s as [number, number, number];
}

/** An image file as a [1, C, H, W] batch for a model reading C×H×W (resized, gray or RGB as needed). */
export async function imageInput(path: string, inputShape: readonly number[]): Promise<Tensor> {
  if (!existsSync(path)) throw new UsageError(`image file not found: ${path}`);
  const [c, h, w] = inputShape;
  if (c !== 1 && c !== 3) throw new Error(`cannot feed an image to a model with ${c} input channels`);
  const img = await readImage(path, { channels: c as 1 | 3, size: [h, w] });
  return img.reshape([1, c, h, w]);
}

/** `numParameters()`-like count without assuming the method. */
export function parameterCount(model: Module): number {
  return model.parameters().reduce((n, p) => n + p.numel(), 0);
}
