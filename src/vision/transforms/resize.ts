/**
 * Resize: bilinear (default) or nearest resampling of the last two dims, with PyTorch's
 * F.interpolate coordinates (alignCorners false: src = (dst + ½)·in/out − ½). No antialiasing:
 * downscaling by large factors aliases, as torchvision's tensor path did before `antialias`.
 * Decode-time resizing of large photos is better done by sharp (`readImage(path, { size })`).
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Transform } from '../../data/transform.js';
import { imageTensor } from './util.js';

export type Interpolation = 'nearest' | 'bilinear';

/** Resamples x (…, H, W) to (…, height, width). */
export function resize(
  x: Tensor,
  height: number,
  width: number,
  interpolation: Interpolation = 'bilinear',
): Tensor {
  const { planes, height: H, width: W, lead } = imageTensor(x, 'resize');
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new Error(`resize: output size must be positive integers, got ${height}×${width}`);
  }
  const out = new Float32Array(planes * height * width);
  const src = x.data;
  const sy = H / height;
  const sx = W / width;
  if (interpolation === 'nearest') {
    const xs = new Int32Array(width);
    for (let j = 0; j < width; j++) xs[j] = Math.min(Math.floor(j * sx), W - 1);
    for (let p = 0; p < planes; p++) {
      for (let i = 0; i < height; i++) {
        const row = p * H * W + Math.min(Math.floor(i * sy), H - 1) * W;
        const o = (p * height + i) * width;
        for (let j = 0; j < width; j++) out[o + j] = src[row + xs[j]];
      }
    }
  } else if (interpolation === 'bilinear') {
    const x0 = new Int32Array(width);
    const x1 = new Int32Array(width);
    const lx = new Float32Array(width);
    for (let j = 0; j < width; j++) {
      const s = Math.max((j + 0.5) * sx - 0.5, 0);
      x0[j] = Math.min(Math.floor(s), W - 1);
      x1[j] = Math.min(x0[j] + 1, W - 1);
      lx[j] = s - x0[j];
    }
    for (let i = 0; i < height; i++) {
      const s = Math.max((i + 0.5) * sy - 0.5, 0);
      const y0 = Math.min(Math.floor(s), H - 1);
      const y1 = Math.min(y0 + 1, H - 1);
      const ly = s - y0;
      for (let p = 0; p < planes; p++) {
        const r0 = p * H * W + y0 * W;
        const r1 = p * H * W + y1 * W;
        const o = (p * height + i) * width;
        for (let j = 0; j < width; j++) {
          const top = src[r0 + x0[j]] * (1 - lx[j]) + src[r0 + x1[j]] * lx[j];
          const bottom = src[r1 + x0[j]] * (1 - lx[j]) + src[r1 + x1[j]] * lx[j];
          out[o + j] = top * (1 - ly) + bottom * ly;
        }
      }
    }
  } else {
    throw new Error(
      `resize: interpolation must be 'nearest' or 'bilinear', got ${JSON.stringify(interpolation)}`,
    );
  }
  return new Tensor(out, [...lead, height, width]);
}

export interface ResizeOptions {
  interpolation?: Interpolation;
}

export class Resize implements Transform<Tensor, Tensor> {
  readonly size: number | [number, number];
  readonly interpolation: Interpolation;

  /**
   * `size` [h, w] resizes to exactly that; a number n resizes the smaller edge to n and keeps the
   * aspect ratio (the longer edge becomes ⌊n·long/short⌋), as torchvision does.
   */
  constructor(size: number | readonly number[], options: ResizeOptions = {}) {
    if (typeof size === 'number') {
      if (!Number.isInteger(size) || size <= 0)
        throw new Error(`Resize: size must be a positive integer, got ${size}`);
      this.size = size;
    } else {
      if (!Array.isArray(size) || size.length !== 2 || size.some((s) => !Number.isInteger(s) || s <= 0)) {
        throw new Error(
          `Resize: size must be a positive integer or [height, width], got ${JSON.stringify(size)}`,
        );
      }
      this.size = [size[0], size[1]];
    }
    this.interpolation = options.interpolation ?? 'bilinear';
    if (this.interpolation !== 'nearest' && this.interpolation !== 'bilinear') {
      throw new Error(
        `Resize: interpolation must be 'nearest' or 'bilinear', got ${JSON.stringify(options.interpolation)}`,
      );
    }
  }

  /** The output [height, width] for an input of H×W. */
  outputSize(H: number, W: number): [number, number] {
    if (typeof this.size !== 'number') return this.size;
    const n = this.size;
    return H <= W ? [n, Math.floor((n * W) / H)] : [Math.floor((n * H) / W), n];
  }

  apply(x: Tensor): Tensor {
    const { height, width } = imageTensor(x, 'Resize');
    const [h, w] = this.outputSize(height, width);
    if (h === height && w === width) return x;
    return resize(x, h, w, this.interpolation);
  }

  toString(): string {
    return `Resize(size=${JSON.stringify(this.size)}, interpolation=${this.interpolation})`;
  }
}
