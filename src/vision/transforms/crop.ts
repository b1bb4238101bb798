/**
 * Crops: crop (zero-filled outside the image, which is how padding happens), CenterCrop, RandomCrop
 * and RandomResizedCrop.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Generator } from '../../tensor/random.js';
import type { Transform } from '../../data/transform.js';
import { imageTensor, pickGenerator, roundHalfEven, sizePair } from './util.js';
import { resize, type Interpolation } from './resize.js';

/** The h×w window of x (…, H, W) whose top-left corner is (top, left); outside pixels are `fill`. */
export function crop(x: Tensor, top: number, left: number, height: number, width: number, fill = 0): Tensor {
  const { planes, height: H, width: W, lead } = imageTensor(x, 'crop');
  if (![top, left, height, width].every(Number.isInteger) || height <= 0 || width <= 0) {
    throw new Error(
      `crop: top, left must be integers and height, width positive integers, got ${top}, ${left}, ${height}, ${width}`,
    );
  }
  const out = new Float32Array(planes * height * width);
  if (fill !== 0) out.fill(fill);
  const src = x.data;
  const i0 = Math.max(0, -top);
  const i1 = Math.min(height, H - top);
  const j0 = Math.max(0, -left);
  const j1 = Math.min(width, W - left);
  if (i0 < i1 && j0 < j1) {
    for (let p = 0; p < planes; p++) {
      for (let i = i0; i < i1; i++) {
        const s = p * H * W + (top + i) * W + left;
        out.set(src.subarray(s + j0, s + j1), (p * height + i) * width + j0);
      }
    }
  }
  return new Tensor(out, [...lead, height, width]);
}

/** torchvision's center_crop offsets (Python round, and centred zero padding when the crop is larger). */
export function centerCrop(x: Tensor, size: number | readonly number[]): Tensor {
  const { height: H, width: W } = imageTensor(x, 'centerCrop');
  const [h, w] = sizePair(size, 'centerCrop');
  const top = h > H ? -Math.floor((h - H) / 2) : roundHalfEven((H - h) / 2);
  const left = w > W ? -Math.floor((w - W) / 2) : roundHalfEven((W - w) / 2);
  return crop(x, top, left, h, w);
}

export class CenterCrop implements Transform<Tensor, Tensor> {
  readonly size: [number, number];

  constructor(size: number | readonly number[]) {
    this.size = sizePair(size, 'CenterCrop');
  }

  apply(x: Tensor): Tensor {
    return centerCrop(x, this.size);
  }

  toString(): string {
    return `CenterCrop(size=[${this.size.join(', ')}])`;
  }
}

export interface RandomCropOptions {
  /** Zero padding added first: n (all sides), [leftRight, topBottom] or [left, top, right, bottom]. */
  padding?: number | readonly number[];
  /** Pad the image when it is smaller than the crop (default false, which then errors). */
  padIfNeeded?: boolean;
  /** Value of the padding (default 0). */
  fill?: number;
  generator?: Generator;
}

export class RandomCrop implements Transform<Tensor, Tensor> {
  readonly size: [number, number];
  readonly padding: [number, number, number, number];
  readonly padIfNeeded: boolean;
  readonly fill: number;
  readonly generator?: Generator;

  constructor(size: number | readonly number[], options: RandomCropOptions = {}) {
    this.size = sizePair(size, 'RandomCrop');
    const p = options.padding ?? 0;
    const pads = typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[1], p[0], p[1]] : [...p];
    if (pads.length !== 4 || pads.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new Error(
        `RandomCrop: padding must be a non-negative integer, [lr, tb] or [l, t, r, b], got ${JSON.stringify(p)}`,
      );
    }
    this.padding = pads as [number, number, number, number];
    this.padIfNeeded = options.padIfNeeded ?? false;
    this.fill = options.fill ?? 0;
    this.generator = options.generator;
  }

  apply(x: Tensor, generator?: Generator): Tensor {
    const { height: H0, width: W0 } = imageTensor(x, 'RandomCrop');
    const [pl, pt, pr, pb] = this.padding;
    const [h, w] = this.size;
    let H = H0 + pt + pb;
    let W = W0 + pl + pr;
    let offTop = pt;
    let offLeft = pl;
    if (this.padIfNeeded) {
      // torchvision pads both sides by the missing amount
      if (H < h) {
        offTop += h - H;
        H += 2 * (h - H);
      }
      if (W < w) {
        offLeft += w - W;
        W += 2 * (w - W);
      }
    }
    if (H < h || W < w) {
      throw new Error(
        `RandomCrop: crop size ${h}×${w} is larger than the (padded) image ${H}×${W}; use padIfNeeded`,
      );
    }
    const g = pickGenerator(this.generator, generator);
    const top = g.randint(0, H - h + 1);
    const left = g.randint(0, W - w + 1);
    return crop(x, top - offTop, left - offLeft, h, w, this.fill);
  }

  toString(): string {
    return `RandomCrop(size=[${this.size.join(', ')}], padding=[${this.padding.join(', ')}])`;
  }
}

export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image's (default [0.08, 1]). */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio w/h (default [3/4, 4/3]), drawn log-uniformly. */
  ratio?: readonly [number, number];
  interpolation?: Interpolation;
  generator?: Generator;
}

/**
 * torchvision's RandomResizedCrop: a random area and aspect ratio (10 tries, then a centred crop
 * of the clamped ratio), resized to `size`. The usual augmentation for ImageFolder training.
 */
export class RandomResizedCrop implements Transform<Tensor, Tensor> {
  readonly size: [number, number];
  readonly scale: [number, number];
  readonly ratio: [number, number];
  readonly interpolation: Interpolation;
  readonly generator?: Generator;

  constructor(size: number | readonly number[], options: RandomResizedCropOptions = {}) {
    this.size = sizePair(size, 'RandomResizedCrop');
    const scale = options.scale ?? [0.08, 1];
    const ratio = options.ratio ?? [3 / 4, 4 / 3];
    if (!Array.isArray(scale) || scale.length !== 2 || !(scale[0] > 0 && scale[0] <= scale[1])) {
      throw new Error(
        `RandomResizedCrop: scale must be [min, max] with 0 < min <= max, got ${JSON.stringify(scale)}`,
      );
    }
    if (!Array.isArray(ratio) || ratio.length !== 2 || !(ratio[0] > 0 && ratio[0] <= ratio[1])) {
      throw new Error(
        `RandomResizedCrop: ratio must be [min, max] with 0 < min <= max, got ${JSON.stringify(ratio)}`,
      );
    }
    this.scale = [scale[0], scale[1]];
    this.ratio = [ratio[0], ratio[1]];
    this.interpolation = options.interpolation ?? 'bilinear';
    this.generator = options.generator;
  }

  /** [top, left, height, width] of the crop, drawn as torchvision does. */
  getParams(H: number, W: number, g: Generator): [number, number, number, number] {
    const area = H * W;
    const logLo = Math.log(this.ratio[0]);
    const logHi = Math.log(this.ratio[1]);
    for (let attempt = 0; attempt < 10; attempt++) {
      const target = area * (this.scale[0] + (this.scale[1] - this.scale[0]) * g.random());
      const aspect = Math.exp(logLo + (logHi - logLo) * g.random());
      const w = Math.round(Math.sqrt(target * aspect));
      const h = Math.round(Math.sqrt(target / aspect));
      if (w > 0 && w <= W && h > 0 && h <= H) return [g.randint(0, H - h + 1), g.randint(0, W - w + 1), h, w];
    }
    const inRatio = W / H;
    let w = W;
    let h = H;
    if (inRatio < this.ratio[0]) h = Math.round(W / this.ratio[0]);
    else if (inRatio > this.ratio[1]) w = Math.round(H * this.ratio[1]);
    return [Math.floor((H - h) / 2), Math.floor((W - w) / 2), h, w];
  }

  apply(x: Tensor, generator?: Generator): Tensor {
    const { height, width } = imageTensor(x, 'RandomResizedCrop');
    const [top, left, h, w] = this.getParams(height, width, pickGenerator(this.generator, generator));
    return resize(crop(x, top, left, h, w), this.size[0], this.size[1], this.interpolation);
  }

  toString(): string {
    return `RandomResizedCrop(size=[${this.size.join(', ')}], scale=[${this.scale.join(', ')}], ratio=[${this.ratio.join(', ')}])`;
  }
}
