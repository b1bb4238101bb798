/** Normalize: (x − mean[c]) / std[c] per channel (dim −3), as torchvision's Normalize. */
import { Tensor } from '../../tensor/tensor.js';
import { formatShape } from '../../tensor/shape.js';
import type { Transform } from '../../data/transform.js';
import { imageTensor } from './util.js';

export class Normalize implements Transform<Tensor, Tensor> {
  readonly mean: number[];
  readonly std: number[];

  /** `mean`/`std`: one number for every channel, or one per channel. */
  constructor(mean: number | readonly number[], std: number | readonly number[]) {
    this.mean = typeof mean === 'number' ? [mean] : [...mean];
    this.std = typeof std === 'number' ? [std] : [...std];
    if (this.mean.length === 0 || this.mean.some((m) => !Number.isFinite(m))) {
      throw new Error(
        `Normalize: mean must be a finite number or a non-empty array of them, got ${JSON.stringify(mean)}`,
      );
    }
    if (this.std.some((s) => !Number.isFinite(s) || s === 0)) {
      throw new Error(`Normalize: std must be finite and non-zero (it divides), got ${JSON.stringify(std)}`);
    }
    if (this.mean.length !== this.std.length && this.mean.length !== 1 && this.std.length !== 1) {
      throw new Error(`Normalize: mean has ${this.mean.length} values but std has ${this.std.length}`);
    }
  }

  apply(x: Tensor): Tensor {
    const { height, width } = imageTensor(x, 'Normalize', 3);
    const c = x.shape[x.ndim - 3];
    const n = Math.max(this.mean.length, this.std.length);
    if (n !== 1 && n !== c) {
      throw new Error(
        `Normalize: got ${n} means/stds for an image with ${c} channels (shape ${formatShape(x.shape)})`,
      );
    }
    const hw = height * width;
    const out = new Float32Array(x.data.length);
    const src = x.data;
    for (let p = 0, plane = 0; p < src.length; p += hw, plane++) {
      const ch = plane % c;
      const m = this.mean[this.mean.length === 1 ? 0 : ch];
      const s = this.std[this.std.length === 1 ? 0 : ch];
      for (let i = p; i < p + hw; i++) out[i] = (src[i] - m) / s;
    }
    return new Tensor(out, x.shape);
  }

  toString(): string {
    return `Normalize(mean=[${this.mean.join(', ')}], std=[${this.std.join(', ')}])`;
  }
}
