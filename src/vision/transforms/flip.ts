/** Flips: hflip/vflip and their random versions (p = 0.5 by default, as torchvision). */
import { Tensor } from '../../tensor/tensor.js';
import type { Generator } from '../../tensor/random.js';
import type { Transform } from '../../data/transform.js';
import { imageTensor, pickGenerator, probability } from './util.js';

/** Mirrors the last dim (left ↔ right). */
export function hflip(x: Tensor): Tensor {
  const { planes, height: H, width: W } = imageTensor(x, 'hflip');
  const out = new Float32Array(x.data.length);
  const src = x.data;
  for (let r = 0; r < planes * H; r++) {
    const o = r * W;
    for (let j = 0; j < W; j++) out[o + j] = src[o + W - 1 - j];
  }
  return new Tensor(out, x.shape);
}

/** Mirrors the second-to-last dim (top ↔ bottom). */
export function vflip(x: Tensor): Tensor {
  const { planes, height: H, width: W } = imageTensor(x, 'vflip');
  const out = new Float32Array(x.data.length);
  const src = x.data;
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < H; i++)
      out.set(src.subarray((p * H + H - 1 - i) * W, (p * H + H - i) * W), (p * H + i) * W);
  }
  return new Tensor(out, x.shape);
}

export interface RandomFlipOptions {
  generator?: Generator;
}

export class RandomHorizontalFlip implements Transform<Tensor, Tensor> {
  readonly p: number;
  readonly generator?: Generator;

  constructor(p = 0.5, options: RandomFlipOptions = {}) {
    this.p = probability(p, 'RandomHorizontalFlip');
    this.generator = options.generator;
  }

  apply(x: Tensor, generator?: Generator): Tensor {
    imageTensor(x, 'RandomHorizontalFlip');
    return pickGenerator(this.generator, generator).random() < this.p ? hflip(x) : x;
  }

  toString(): string {
    return `RandomHorizontalFlip(p=${this.p})`;
  }
}

export class RandomVerticalFlip implements Transform<Tensor, Tensor> {
  readonly p: number;
  readonly generator?: Generator;

  constructor(p = 0.5, options: RandomFlipOptions = {}) {
    this.p = probability(p, 'RandomVerticalFlip');
    this.generator = options.generator;
  }

  apply(x: Tensor, generator?: Generator): Tensor {
    imageTensor(x, 'RandomVerticalFlip');
    return pickGenerator(this.generator, generator).random() < this.p ? vflip(x) : x;
  }

  toString(): string {
    return `RandomVerticalFlip(p=${this.p})`;
  }
}
