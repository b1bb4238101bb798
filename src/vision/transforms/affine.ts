/**
 * Affine warps: rotate, affine, RandomRotation and RandomAffine, with torchvision's conventions.
 * Each output pixel is mapped back into the input through the inverse matrix (torchvision's
 * `_get_inverse_affine_matrix`, about the image centre), sampled with nearest (torchvision's
 * default; exact for 90° turns and whole-pixel shifts) or bilinear interpolation, and filled with
 * `fill` (0) where it falls outside, or with the nearest edge pixel for `fill: 'edge'` (Keras's
 * fill_mode='nearest', grid_sample's padding_mode='border'). Angles are degrees; `rotate` turns
 * counter-clockwise, `affine` clockwise, as in torchvision (RandomAffine draws symmetric angles,
 * so this only matters for tests).
 *
 * From Keras's ImageDataGenerator (the course notebooks): rotation_range=15 → `degrees: 15`;
 * width/height_shift_range=0.1 → `translate: [0.1, 0.1]`; zoom_range=0.2 → `scale: [0.8, 1.2]`
 * (Keras draws x and y zoom separately and its zoom > 1 shrinks content; we scale isotropically);
 * shear_range=0.1 → `shear: 0.1`: Keras ≥ 2.2 reads shear_range in degrees (older Keras in radians,
 * which would be `shear: 5.73`). A ±10 px horizontal shift → `translatePx: [10, 0]`. Keras fills
 * with the nearest edge pixel by default: `fill: 'edge'` (torchvision's default is 0).
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Generator } from '../../tensor/random.js';
import type { Transform } from '../../data/transform.js';
import type { Interpolation } from './resize.js';
import { imageTensor, pickGenerator, symmetricRange, uniform } from './util.js';

/**
 * torchvision's inverse affine matrix (rows [a, b, c], [d, e, f]) mapping output coordinates,
 * relative to the centre, to input coordinates. angle and shear in degrees, translate in pixels.
 */
export function inverseAffineMatrix(
  angle: number,
  translate: readonly [number, number],
  scale: number,
  shear: readonly [number, number],
): number[] {
  const rot = (angle * Math.PI) / 180;
  const sx = (shear[0] * Math.PI) / 180;
  const sy = (shear[1] * Math.PI) / 180;
  const [tx, ty] = translate;
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = (-Math.cos(rot - sy) * Math.tan(sx)) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = (-Math.sin(rot - sy) * Math.tan(sx)) / Math.cos(sy) + Math.cos(rot);
  const m = [d, -b, 0, -c, a, 0].map((v) => v / scale);
  m[2] += m[0] * -tx + m[1] * -ty;
  m[5] += m[3] * -tx + m[4] * -ty;
  return m;
}

/** Samples x (…, H, W) at inverse-mapped positions: out(i, j) = x(M · (j − cx, i − cy, 1) + (cx, cy)). */
export function warpAffine(
  x: Tensor,
  m: readonly number[],
  interpolation: Interpolation = 'nearest',
  fill: Fill = 0,
): Tensor {
  const { planes, height: H, width: W } = imageTensor(x, 'warpAffine');
  if (fill !== 'edge' && typeof fill !== 'number') {
    throw new Error(`warpAffine: fill must be a number or 'edge', got ${JSON.stringify(fill)}`);
  }
  const edge = fill === 'edge';
  const value = edge ? 0 : fill;
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') {
    throw new Error(
      `warpAffine: interpolation must be 'nearest' or 'bilinear', got ${JSON.stringify(interpolation)}`,
    );
  }
  const out = new Float32Array(x.data.length);
  const src = x.data;
  const hw = H * W;
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  const [a, b, c, d, e, f] = m;
  for (let i = 0; i < H; i++) {
    const yo = i - cy;
    // input position of output pixel (i, j) = row start + j · (a, d)
    const rowX = b * yo + c + cx - a * cx;
    const rowY = e * yo + f + cy - d * cx;
    for (let j = 0; j < W; j++) {
      let xi = rowX + a * j;
      let yi = rowY + d * j;
      if (edge) {
        xi = xi < 0 ? 0 : xi > W - 1 ? W - 1 : xi;
        yi = yi < 0 ? 0 : yi > H - 1 ? H - 1 : yi;
      }
      const o = i * W + j;
      if (interpolation === 'nearest') {
        // round half to even, as grid_sample's nearest (Math.round sends halves up)
        let jj = Math.round(xi);
        if (jj - xi === 0.5 && (jj & 1) !== 0) jj -= 1;
        let ii = Math.round(yi);
        if (ii - yi === 0.5 && (ii & 1) !== 0) ii -= 1;
        if (jj < 0 || jj >= W || ii < 0 || ii >= H) {
          for (let p = 0; p < planes; p++) out[p * hw + o] = value;
        } else {
          const s = ii * W + jj;
          for (let p = 0; p < planes; p++) out[p * hw + o] = src[p * hw + s];
        }
      } else {
        const x0 = Math.floor(xi);
        const y0 = Math.floor(yi);
        const lx = xi - x0;
        const ly = yi - y0;
        const w00 = (1 - lx) * (1 - ly);
        const w01 = lx * (1 - ly);
        const w10 = (1 - lx) * ly;
        const w11 = lx * ly;
        const in00 = x0 >= 0 && x0 < W && y0 >= 0 && y0 < H;
        const in01 = x0 + 1 >= 0 && x0 + 1 < W && y0 >= 0 && y0 < H;
        const in10 = x0 >= 0 && x0 < W && y0 + 1 >= 0 && y0 + 1 < H;
        const in11 = x0 + 1 >= 0 && x0 + 1 < W && y0 + 1 >= 0 && y0 + 1 < H;
        const s = y0 * W + x0;
        for (let p = 0; p < planes; p++) {
          const base = p * hw + s;
          out[p * hw + o] =
            (in00 ? src[base] : value) * w00 +
            (in01 ? src[base + 1] : value) * w01 +
            (in10 ? src[base + W] : value) * w10 +
            (in11 ? src[base + W + 1] : value) * w11;
        }
      }
    }
  }
  return new Tensor(out, x.shape);
}

/** Outside the image: a constant, or 'edge' to repeat the nearest border pixel. */
export type Fill = number | 'edge';

export interface AffineOptions {
  /** Degrees, clockwise (torchvision's F.affine). */
  angle?: number;
  /** [tx, ty] in pixels: content moves right by tx and down by ty. */
  translate?: readonly [number, number];
  scale?: number;
  /** Degrees: x shear, or [x, y]. */
  shear?: number | readonly [number, number];
  interpolation?: Interpolation;
  fill?: Fill;
}

/** torchvision's F.affine about the image centre. */
export function affine(x: Tensor, options: AffineOptions = {}): Tensor {
  const {
    angle = 0,
    translate = [0, 0],
    scale = 1,
    shear = 0,
    interpolation = 'nearest',
    fill = 0,
  } = options;
  if (!(scale > 0)) throw new Error(`affine: scale must be positive, got ${scale}`);
  const sh: [number, number] = typeof shear === 'number' ? [shear, 0] : [shear[0], shear[1]];
  return warpAffine(
    x,
    inverseAffineMatrix(angle, [translate[0], translate[1]], scale, sh),
    interpolation,
    fill,
  );
}

/** Rotates counter-clockwise by `angle` degrees about the centre (torchvision's F.rotate, expand=false). */
export function rotate(
  x: Tensor,
  angle: number,
  options: { interpolation?: Interpolation; fill?: Fill } = {},
): Tensor {
  return warpAffine(
    x,
    inverseAffineMatrix(-angle, [0, 0], 1, [0, 0]),
    options.interpolation ?? 'nearest',
    options.fill ?? 0,
  );
}

export interface RandomRotationOptions {
  interpolation?: Interpolation;
  fill?: Fill;
  generator?: Generator;
}

export class RandomRotation implements Transform<Tensor, Tensor> {
  readonly degrees: [number, number];
  readonly interpolation: Interpolation;
  readonly fill: Fill;
  readonly generator?: Generator;

  /** `degrees`: d → uniform in [−d, d], or [min, max]; counter-clockwise as torchvision. */
  constructor(degrees: number | readonly [number, number], options: RandomRotationOptions = {}) {
    this.degrees = symmetricRange(degrees, 'RandomRotation', 'degrees');
    this.interpolation = options.interpolation ?? 'nearest';
    this.fill = options.fill ?? 0;
    this.generator = options.generator;
  }

  apply(x: Tensor, generator?: Generator): Tensor {
    imageTensor(x, 'RandomRotation');
    const angle = uniform(pickGenerator(this.generator, generator), this.degrees[0], this.degrees[1]);
    return rotate(x, angle, { interpolation: this.interpolation, fill: this.fill });
  }

  toString(): string {
    return `RandomRotation(degrees=[${this.degrees.join(', ')}])`;
  }
}

export interface RandomAffineOptions {
  /** Maximum shift as a fraction of width and height: [fx, fy]; shifts are whole pixels. */
  translate?: readonly [number, number];
  /** Maximum shift in pixels [px, py] (instead of `translate`), e.g. [10, 0] for ±10 px horizontally. */
  translatePx?: readonly [number, number];
  /** Scale range [min, max]. */
  scale?: readonly [number, number];
  /** Shear in degrees: s → x shear in [−s, s]; [min, max] for x; [xmin, xmax, ymin, ymax]. */
  shear?: number | readonly number[];
  interpolation?: Interpolation;
  fill?: Fill;
  generator?: Generator;
}

export interface AffineParams {
  angle: number;
  translate: [number, number];
  scale: number;
  shear: [number, number];
}

export class RandomAffine implements Transform<Tensor, Tensor> {
  readonly degrees: [number, number];
  readonly translate: [number, number] | null;
  readonly translatePx: [number, number] | null;
  readonly scale: [number, number] | null;
  readonly shear: number[] | null;
  readonly interpolation: Interpolation;
  readonly fill: Fill;
  readonly generator?: Generator;

  constructor(degrees: number | readonly [number, number], options: RandomAffineOptions = {}) {
    const where = 'RandomAffine';
    this.degrees = symmetricRange(degrees, where, 'degrees');
    const t = options.translate;
    if (t !== undefined && (!Array.isArray(t) || t.length !== 2 || t.some((v) => !(v >= 0 && v <= 1)))) {
      throw new Error(
        `${where}: translate must be [fx, fy] with fractions in [0, 1], got ${JSON.stringify(t)}`,
      );
    }
    const tp = options.translatePx;
    if (tp !== undefined && (!Array.isArray(tp) || tp.length !== 2 || tp.some((v) => !(v >= 0)))) {
      throw new Error(
        `${where}: translatePx must be [px, py] with non-negative pixel counts, got ${JSON.stringify(tp)}`,
      );
    }
    if (t !== undefined && tp !== undefined)
      throw new Error(`${where}: give translate or translatePx, not both`);
    const s = options.scale;
    if (s !== undefined && (!Array.isArray(s) || s.length !== 2 || !(s[0] > 0 && s[0] <= s[1]))) {
      throw new Error(`${where}: scale must be [min, max] with 0 < min <= max, got ${JSON.stringify(s)}`);
    }
    let shear: number[] | null = null;
    if (options.shear !== undefined) {
      const sh = options.shear;
      if (typeof sh === 'number') shear = symmetricRange(sh, where, 'shear');
      else if (Array.isArray(sh) && (sh.length === 2 || sh.length === 4) && sh.every(Number.isFinite))
        shear = [...sh];
      else
        throw new Error(
          `${where}: shear must be a number, [min, max] or [xmin, xmax, ymin, ymax], got ${JSON.stringify(sh)}`,
        );
    }
    this.translate = t ? [t[0], t[1]] : null;
    this.translatePx = tp ? [tp[0], tp[1]] : null;
    this.scale = s ? [s[0], s[1]] : null;
    this.shear = shear;
    this.interpolation = options.interpolation ?? 'nearest';
    this.fill = options.fill ?? 0;
    this.generator = options.generator;
  }

  /** Draws the parameters in torchvision's order (angle, translate, scale, shear). */
  getParams(height: number, width: number, g: Generator): AffineParams {
    const angle = uniform(g, this.degrees[0], this.degrees[1]);
    let translate: [number, number] = [0, 0];
    const maxShift = this.translate
      ? [this.translate[0] * width, this.translate[1] * height]
      : this.translatePx;
    if (maxShift) {
      translate = [
        Math.round(uniform(g, -maxShift[0], maxShift[0])),
        Math.round(uniform(g, -maxShift[1], maxShift[1])),
      ];
    }
    const scale = this.scale ? uniform(g, this.scale[0], this.scale[1]) : 1;
    const shear: [number, number] = [0, 0];
    if (this.shear) {
      shear[0] = uniform(g, this.shear[0], this.shear[1]);
      if (this.shear.length === 4) shear[1] = uniform(g, this.shear[2], this.shear[3]);
    }
    return { angle, translate, scale, shear };
  }

  apply(x: Tensor, generator?: Generator): Tensor {
    const { height, width } = imageTensor(x, 'RandomAffine');
    const p = this.getParams(height, width, pickGenerator(this.generator, generator));
    return warpAffine(
      x,
      inverseAffineMatrix(p.angle, p.translate, p.scale, p.shear),
      this.interpolation,
      this.fill,
    );
  }

  toString(): string {
    const parts = [`degrees=[${this.degrees.join(', ')}]`];
    if (this.translate) parts.push(`translate=[${this.translate.join(', ')}]`);
    if (this.translatePx) parts.push(`translatePx=[${this.translatePx.join(', ')}]`);
    if (this.scale) parts.push(`scale=[${this.scale.join(', ')}]`);
    if (this.shear) parts.push(`shear=[${this.shear.join(', ')}]`);
    return `RandomAffine(${parts.join(', ')})`;
  }
}
