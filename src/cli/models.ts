/**
 * The built-in architectures `stride train --model NAME` knows: the course notebooks' models and
 * LeNet-5. Each is a plain Sequential of built-in layers, so its architecture goes into the saved
 * file and `stride predict` can rebuild it without code.
 */
import * as nn from '../nn/index.js';
import { UsageError } from './errors.js';

export interface ModelSpec {
  /** One input's shape, [C, H, W]. */
  inputShape: [number, number, number];
  numClasses: number;
  /** Where it comes from, for `--help` and `stride summary`. */
  description: string;
  build(): nn.Sequential;
}

export const MODELS: Record<string, ModelSpec> = {
  'simple-cnn': {
    inputShape: [1, 28, 28],
    numClasses: 10,
    description: "seed 000's SimpleCNN: two 2×2 convs, max-pool, two linear layers (MNIST)",
    build: () =>
      new nn.Sequential(
        new nn.Conv2d(1, 32, 2, { padding: 1 }),
        new nn.ReLU(),
        new nn.Conv2d(32, 64, 2, { padding: 1 }),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(14400, 128),
        new nn.ReLU(),
        new nn.Linear(128, 10),
      ),
  },
  'small-cnn': {
    inputShape: [1, 28, 28],
    numClasses: 10,
    description: 'a small CNN: 8 and 16 3×3 filters, each followed by max-pool, one linear layer',
    build: () =>
      new nn.Sequential(
        new nn.Conv2d(1, 8, 3, { padding: 1 }),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Conv2d(8, 16, 3, { padding: 1 }),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(784, 10),
      ),
  },
  'fmnist-cnn': {
    inputShape: [1, 28, 28],
    numClasses: 10,
    description: "the Fashion-MNIST notebook's CNN: 64 and 128 3×3 filters, 256 hidden units",
    build: () =>
      new nn.Sequential(
        new nn.Conv2d(1, 64, 3),
        new nn.MaxPool2d(2),
        new nn.Conv2d(64, 128, 3),
        new nn.MaxPool2d(2),
        new nn.ReLU(),
        new nn.Flatten(),
        new nn.Linear(3200, 256),
        new nn.ReLU(),
        new nn.Linear(256, 10),
      ),
  },
  mlp: {
    inputShape: [1, 28, 28],
    numClasses: 10,
    description: 'a multilayer perceptron: 784 → 1000 → 10',
    build: () =>
      new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 1000), new nn.ReLU(), new nn.Linear(1000, 10)),
  },
  'catsdogs-cnn': {
    inputShape: [3, 64, 64],
    numClasses: 2,
    description:
      "the cats-vs-dogs notebook's CNN: three conv/batch-norm/pool/dropout blocks, 512 hidden units",
    build: () => {
      const blocks: nn.Module[] = [];
      let c = 3;
      for (const f of [32, 64, 128]) {
        blocks.push(
          new nn.Conv2d(c, f, 3, { padding: 1 }),
          new nn.ReLU(),
          new nn.BatchNorm2d(f),
          new nn.MaxPool2d(2),
          new nn.Dropout(0.25),
        );
        c = f;
      }
      return new nn.Sequential(
        ...blocks,
        new nn.Flatten(),
        new nn.Linear(128 * 8 * 8, 512),
        new nn.ReLU(),
        new nn.BatchNorm1d(512),
        new nn.Dropout(0.5),
        new nn.Linear(512, 2),
      );
    },
  },
  lenet5: {
    inputShape: [1, 28, 28],
    numClasses: 10,
    description: 'LeNet-5 (LeCun 1998) for 28×28 inputs: padding 2, tanh, average pooling',
    build: () =>
      new nn.Sequential(
        new nn.Conv2d(1, 6, 5, { padding: 2 }),
        new nn.Tanh(),
        new nn.AvgPool2d(2),
        new nn.Conv2d(6, 16, 5),
        new nn.Tanh(),
        new nn.AvgPool2d(2),
        new nn.Flatten(),
        new nn.Linear(400, 120),
        new nn.Tanh(),
        new nn.Linear(120, 84),
        new nn.Tanh(),
        new nn.Linear(84, 10),
      ),
  },
};

export const MODEL_NAMES = Object.keys(MODELS);

/** The named model's spec, or an error listing the known names. */
export function modelSpec(name: string): ModelSpec {
  const spec = Object.prototype.hasOwnProperty.call(MODELS, name) ? MODELS[name] : undefined;
  if (spec === undefined) {
    throw new UsageError(`unknown model '${name}' (choose one of: ${MODEL_NAMES.join(', ')})`);
  }
  return spec;
}
