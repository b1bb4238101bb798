/**
 * The in-memory image datasets' shared core (MNIST, FashionMNIST): N images of C×H×W bytes in one
 * Uint8Array and an Int32Array of labels, like torchvision's `.data` and `.targets`. `get(i)` makes
 * one CHW float tensor in [0, 1] and applies the transform; `getBatch` is the DataLoader's fast
 * path: one loop from bytes to the batch's float buffer, no per-sample tensors.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Generator } from '../tensor/random.js';
import { checkIndex, Dataset, type BatchGetter } from '../data/dataset.js';
import { applyTransform, isTransformLike, type TransformLike } from '../data/transform.js';

export interface ImageDatasetOptions {
  /** Applied to each image (a 1×28×28 float tensor in [0, 1]) in `get`. */
  transform?: TransformLike;
  /** Applied to each label in `get`. */
  targetTransform?: TransformLike;
}

export class InMemoryImageDataset extends Dataset<[Tensor, number]> implements BatchGetter<[Tensor, Tensor]> {
  /** All images, N·C·H·W bytes (0..255). */
  readonly data: Uint8Array;
  /** All labels. */
  readonly targets: Int32Array;
  readonly imageShape: [number, number, number];
  readonly classes: string[];
  transform: TransformLike | null;
  targetTransform: TransformLike | null;
  private readonly name: string;

  constructor(
    name: string,
    data: Uint8Array,
    targets: Int32Array,
    imageShape: [number, number, number],
    classes: string[],
    options: ImageDatasetOptions,
  ) {
    super();
    const size = imageShape[0] * imageShape[1] * imageShape[2];
    if (data.length !== targets.length * size) {
      throw new Error(`${name}: ${targets.length} labels but ${data.length / size} images`);
    }
    for (const key of ['transform', 'targetTransform'] as const) {
      if (options[key] !== undefined && !isTransformLike(options[key])) {
        throw new Error(`${name}: ${key} must be a function or an object with apply(input, generator)`);
      }
    }
    this.name = name;
    this.data = data;
    this.targets = targets;
    this.imageShape = imageShape;
    this.classes = classes;
    this.transform = options.transform ?? null;
    this.targetTransform = options.targetTransform ?? null;
  }

  get length(): number {
    return this.targets.length;
  }

  /** The image as a CHW float tensor in [0, 1], before the transform. */
  image(index: number): Tensor {
    const i = checkIndex(index, this.length, `${this.name}.get`);
    const size = this.data.length / this.targets.length;
    const out = new Float32Array(size);
    const src = this.data;
    const off = i * size;
    for (let k = 0; k < size; k++) out[k] = src[off + k] / 255;
    return new Tensor(out, this.imageShape);
  }

  get(index: number, generator?: Generator): [Tensor, number] {
    const x = this.image(index);
    const i = index < 0 ? index + this.length : index;
    const y = this.targets[i];
    return [
      this.transform === null ? x : (applyTransform(this.transform, x, generator) as Tensor),
      this.targetTransform === null ? y : (applyTransform(this.targetTransform, y, generator) as number),
    ];
  }

  getBatch(indices: ArrayLike<number>): [Tensor, Tensor] | null {
    if (this.transform !== null || this.targetTransform !== null) return null;
    const n = indices.length;
    const size = this.data.length / this.targets.length;
    const x = new Float32Array(n * size);
    const y = new Int32Array(n);
    const src = this.data;
    const len = this.length;
    for (let k = 0; k < n; k++) {
      let i = indices[k];
      if (!(i >= 0 && i < len)) i = checkIndex(i, len, `${this.name}.getBatch`);
      const off = i * size;
      const o = k * size;
      for (let p = 0; p < size; p++) x[o + p] = src[off + p] / 255;
      y[k] = this.targets[i];
    }
    return [new Tensor(x, [n, ...this.imageShape]), new Tensor(y, [n])];
  }
}
