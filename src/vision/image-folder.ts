/**
 * File-backed image datasets: ImageFolder (one sub-folder per class, torchvision's layout) and
 * ImageFiles (one folder, the label in the file name, as Kaggle's dogs-vs-cats: `dog.10013.jpg`).
 * Images are decoded by sharp when asked for (`get` is async, so the DataLoader decodes a whole
 * batch concurrently while the previous one trains). A file that cannot be decoded is skipped:
 * one console warning naming it, and `get` returns null from then on, which the DataLoader drops
 * from its batch. `onError: 'raise'` makes it an error instead.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { extname, join } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import type { Generator } from '../tensor/random.js';
import { checkIndex, Dataset } from '../data/dataset.js';
import { applyTransform, isTransformLike, type TransformLike } from '../data/transform.js';
import { decodeImage, type DecodeOptions } from './image-io.js';
import { rawToTensor } from './image.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif'];

export interface FileImageDatasetOptions extends DecodeOptions {
  /** Applied to each image, a CHW float tensor in [0, 1] (after `size`/`channels` at decode). */
  transform?: TransformLike;
  targetTransform?: TransformLike;
  /** 'skip' (default): warn once per unreadable file and skip it; 'raise': throw. */
  onError?: 'skip' | 'raise';
  /** File extensions to include (lower case, with the dot). */
  extensions?: readonly string[];
}

export abstract class FileImageDataset extends Dataset<[Tensor, number]> {
  /** [path, label] for every file, in a fixed (sorted) order. */
  readonly samples: [string, number][];
  readonly classes: string[];
  readonly classToIdx: Record<string, number>;
  transform: TransformLike | null;
  targetTransform: TransformLike | null;
  readonly onError: 'skip' | 'raise';
  /** Indices of files that failed to decode (skipped from then on). */
  readonly failed = new Set<number>();
  protected readonly decode: DecodeOptions;
  protected readonly name: string;

  protected constructor(
    name: string,
    samples: [string, number][],
    classes: string[],
    options: FileImageDatasetOptions,
  ) {
    super();
    this.name = name;
    for (const key of ['transform', 'targetTransform'] as const) {
      if (options[key] !== undefined && !isTransformLike(options[key])) {
        throw new Error(`${name}: ${key} must be a function or an object with apply(input, generator)`);
      }
    }
    const onError = options.onError ?? 'skip';
    if (onError !== 'skip' && onError !== 'raise') {
      throw new Error(`${name}: onError must be 'skip' or 'raise', got ${JSON.stringify(onError)}`);
    }
    this.samples = samples;
    this.classes = classes;
    this.classToIdx = Object.fromEntries(classes.map((c, i) => [c, i]));
    this.transform = options.transform ?? null;
    this.targetTransform = options.targetTransform ?? null;
    this.onError = onError;
    this.decode = { channels: options.channels, size: options.size };
  }

  get length(): number {
    return this.samples.length;
  }

  /** The labels of every sample (no decoding), like torchvision's `targets`. */
  get targets(): Int32Array {
    return Int32Array.from(this.samples, (s) => s[1]);
  }

  async get(index: number, generator?: Generator): Promise<[Tensor, number] | null> {
    const i = checkIndex(index, this.length, `${this.name}.get`);
    if (this.failed.has(i)) return null;
    const [path, label] = this.samples[i];
    let x: Tensor;
    try {
      x = rawToTensor(await decodeImage(path, this.decode), this.name);
    } catch (e) {
      const message = `${this.name}: cannot decode ${path}: ${(e as Error).message}`;
      if (this.onError === 'raise') throw new Error(message);
      this.failed.add(i);
      console.warn(`${message} (skipped; pass onError: 'raise' to stop instead)`);
      return null;
    }
    return [
      this.transform === null ? x : (applyTransform(this.transform, x, generator) as Tensor),
      this.targetTransform === null
        ? label
        : (applyTransform(this.targetTransform, label, generator) as number),
    ];
  }
}

/** Visible entries of a folder that are files (or folders), following symlinks; sorted by name. */
function entriesOf(folder: string, kind: 'file' | 'dir', where: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch (e) {
    throw new Error(`${where}: cannot read folder ${folder}: ${(e as Error).message}`);
  }
  // the entry type comes with the listing: no stat per file (25,000 files in dogs-vs-cats),
  // except for symlinks, which are followed
  const is = (d: Dirent): boolean => {
    if (d.isSymbolicLink()) {
      const st = statSync(join(folder, d.name), { throwIfNoEntry: false });
      return st !== undefined && (kind === 'file' ? st.isFile() : st.isDirectory());
    }
    return kind === 'file' ? d.isFile() : d.isDirectory();
  };
  return entries
    .filter((d) => !d.name.startsWith('.') && is(d))
    .map((d) => d.name)
    .sort();
}

function listImages(folder: string, extensions: readonly string[], where: string): string[] {
  return entriesOf(folder, 'file', where).filter((n) => extensions.includes(extname(n).toLowerCase()));
}

/** torchvision's ImageFolder: root/<class>/<image>; classes are the sub-folder names, sorted. */
export class ImageFolder extends FileImageDataset {
  readonly root: string;

  constructor(root: string, options: FileImageDatasetOptions = {}) {
    const extensions = options.extensions ?? IMAGE_EXTENSIONS;
    const classes = entriesOf(root, 'dir', 'ImageFolder');
    if (classes.length === 0) {
      throw new Error(
        `ImageFolder: ${root} has no sub-folders; expected one folder per class (root/<class>/<image>)`,
      );
    }
    const samples: [string, number][] = [];
    classes.forEach((c, k) => {
      for (const f of listImages(join(root, c), extensions, 'ImageFolder'))
        samples.push([join(root, c, f), k]);
    });
    if (samples.length === 0) {
      throw new Error(
        `ImageFolder: no images with extensions ${extensions.join(', ')} under ${root}/<class>/`,
      );
    }
    super('ImageFolder', samples, classes, options);
    this.root = root;
  }
}

export interface ImageFilesOptions extends FileImageDatasetOptions {
  /**
   * The label of a file from its name: a class name (string) or index (number). Default: the part
   * before the first dot (`dog.10013.jpg` → 'dog').
   */
  labelFromName?: (fileName: string) => string | number;
  /** Class names in label order (default: the distinct string labels, sorted). */
  classes?: readonly string[];
}

/** A flat folder of images whose label is in the file name (Kaggle's dogs-vs-cats layout). */
export class ImageFiles extends FileImageDataset {
  readonly root: string;

  constructor(root: string, options: ImageFilesOptions = {}) {
    const extensions = options.extensions ?? IMAGE_EXTENSIONS;
    const labelFromName = options.labelFromName ?? ((name: string) => name.split('.')[0]);
    if (typeof labelFromName !== 'function')
      throw new Error('ImageFiles: labelFromName must be a function (fileName) => label');
    const files = listImages(root, extensions, 'ImageFiles');
    if (files.length === 0)
      throw new Error(`ImageFiles: no images with extensions ${extensions.join(', ')} in ${root}`);
    const labels = files.map((f) => {
      const l = labelFromName(f);
      if (typeof l === 'number' ? !(Number.isInteger(l) && l >= 0) : typeof l !== 'string' || l === '') {
        throw new Error(
          `ImageFiles: labelFromName('${f}') returned ${JSON.stringify(l)}; expected a class name or a non-negative integer`,
        );
      }
      return l;
    });
    let classes: string[];
    if (options.classes) classes = [...options.classes];
    else {
      const names = labels.filter((l): l is string => typeof l === 'string');
      const maxIdx = Math.max(-1, ...labels.filter((l): l is number => typeof l === 'number'));
      classes =
        names.length > 0
          ? [...new Set(names)].sort()
          : Array.from({ length: maxIdx + 1 }, (_, i) => String(i));
    }
    const idx = new Map(classes.map((c, i) => [c, i]));
    const samples: [string, number][] = files.map((f, k) => {
      const l = labels[k];
      const label = typeof l === 'number' ? l : idx.get(l);
      if (label === undefined || label >= classes.length) {
        throw new Error(
          `ImageFiles: ${f} has label ${JSON.stringify(l)}, which is not one of the classes [${classes.join(', ')}]`,
        );
      }
      return [join(root, f), label];
    });
    super('ImageFiles', samples, classes, options);
    this.root = root;
  }
}
