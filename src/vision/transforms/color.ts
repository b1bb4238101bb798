/**
 * Colour: grayscale conversion (ITU-R 601 weights, as torchvision) and ColorJitter's brightness
 * and contrast, which blend the image with black (brightness) or with its mean grey level
 * (contrast) and clamp to [0, 1], exactly torchvision's adjust_brightness / adjust_contrast.
 */
import { Tensor } from '../../tensor/tensor.js';
import { formatShape } from '../../tensor/shape.js';
import type { Generator } from '../../tensor/random.js';
import type { Transform } from '../../data/transform.js';
import { imageTensor, pickGenerator, uniform } from './util.js';

function channelsOf(x: Tensor, where: string): { c: number; hw: number; images: number } {
  const { height, width } = imageTensor(x, where, 3);
  const c = x.shape[x.ndim - 3];
  if (c !== 1 && c !== 3) {
    throw new Error(`${where}: expected 1 or 3 channels at dim -3, got ${c} (shape ${formatShape(x.shape)})`);
  }
  const hw = height * width;
  return { c, hw, images: hw === 0 ? 0 : x.data.length / (c * hw) };
}

/** 0.2989 R + 0.587 G + 0.114 B, keeping `numOutputChannels` (1 or 3) copies; 1-channel input is copied. */
export function rgbToGrayscale(x: Tensor, numOutputChannels: 1 | 3 = 1): Tensor {
  const { c, hw, images } = channelsOf(x, 'rgbToGrayscale');
  if (numOutputChannels !== 1 && numOutputChannels !== 3) {
    throw new Error(`rgbToGrayscale: numOutputChannels must be 1 or 3, got ${numOutputChannels}`);
  }
  const src = x.data;
  const out = new Float32Array(images * numOutputChannels * hw);
  for (let n = 0; n < images; n++) {
    const s = n * c * hw;
    const o = n * numOutputChannels * hw;
    for (let p = 0; p < hw; p++) {
      const v =
        c === 1 ? src[s + p] : 0.2989 * src[s + p] + 0.587 * src[s + hw + p] + 0.114 * src[s + 2 * hw + p];
      for (let k = 0; k < numOutputChannels; k++) out[o + k * hw + p] = v;
    }
  }
  return new Tensor(out, [...x.shape.slice(0, -3), numOutputChannels, ...x.shape.slice(-2)]);
}

function blend(x: Tensor, factor: number, other: (image: number) => number, perImage: number): Tensor {
  const src = x.data;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = factor * src[i] + (1 - factor) * other(Math.floor(i / perImage));
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return new Tensor(out, x.shape);
}

/** Multiplies by `factor` (0 gives black, 1 the original), clamped to [0, 1]. */
export function adjustBrightness(x: Tensor, factor: number): Tensor {
  const { c, hw } = channelsOf(x, 'adjustBrightness');
  if (!(factor >= 0)) throw new Error(`adjustBrightness: factor must be non-negative, got ${factor}`);
  return blend(x, factor, () => 0, c * hw);
}

/** Blends with the image's mean grey level (0 gives flat grey, 1 the original), clamped to [0, 1]. */
export function adjustContrast(x: Tensor, factor: number): Tensor {
  const { c, hw, images } = channelsOf(x, 'adjustContrast');
  if (!(factor >= 0)) throw new Error(`adjustContrast: factor must be non-negative, got ${factor}`);
  const gray = c === 3 ? rgbToGrayscale(x, 1).data : x.data;
  const means = new Float64Array(images);
  for (let n = 0; n < images; n++) {
    let s = 0;
    for (let p = 0; p < hw; p++) s += gray[n * hw + p];
    means[n] = s / hw;
  }
  return blend(x, factor, (n) => means[n], c * hw);
}

export class Grayscale implements Transform<Tensor, Tensor> {
  readonly numOutputChannels: 1 | 3;

  constructor(numOutputChannels: 1 | 3 = 1) {
    if (numOutputChannels !== 1 && numOutputChannels !== 3) {
      throw new Error(`Grayscale: numOutputChannels must be 1 or 3, got ${numOutputChannels}`);
    }
    this.numOutputChannels = numOutputChannels;
  }

  apply(x: Tensor): Tensor {
    return rgbToGrayscale(x, this.numOutputChannels);
  }

  toString(): string {
    return `Grayscale(numOutputChannels=${this.numOutputChannels})`;
  }
}

export interface ColorJitterOptions {
  /** b → factor uniform in [max(0, 1 − b), 1 + b], or [min, max]. */
  brightness?: number | readonly [number, number];
  /** c → factor uniform in [max(0, 1 − c), 1 + c], or [min, max]. */
  contrast?: number | readonly [number, number];
  generator?: Generator;
}

function factorRange(
  v: number | readonly [number, number] | undefined,
  arg: string,
): [number, number] | null {
  if (v === undefined) return null;
  if (typeof v === 'number') {
    if (!(v >= 0)) throw new Error(`ColorJitter: ${arg} must be non-negative, got ${v}`);
    return v === 0 ? null : [Math.max(0, 1 - v), 1 + v];
  }
  if (!Array.isArray(v) || v.length !== 2 || !(v[0] >= 0 && v[0] <= v[1])) {
    throw new Error(
      `ColorJitter: ${arg} must be a number or [min, max] with 0 <= min <= max, got ${JSON.stringify(v)}`,
    );
  }
  return [v[0], v[1]];
}

export class ColorJitter implements Transform<Tensor, Tensor> {
  readonly brightness: [number, number] | null;
  readonly contrast: [number, number] | null;
  readonly generator?: Generator;

  constructor(options: ColorJitterOptions = {}) {
    this.brightness = factorRange(options.brightness, 'brightness');
    this.contrast = factorRange(options.contrast, 'contrast');
    this.generator = options.generator;
  }

  /** Random order (as torchvision) and factors drawn from the ranges. */
  apply(x: Tensor, generator?: Generator): Tensor {
    channelsOf(x, 'ColorJitter');
    const g = pickGenerator(this.generator, generator);
    const brightnessFirst = g.random() < 0.5;
    const b = this.brightness ? uniform(g, this.brightness[0], this.brightness[1]) : null;
    const c = this.contrast ? uniform(g, this.contrast[0], this.contrast[1]) : null;
    let y = x;
    for (const step of brightnessFirst ? ['b', 'c'] : ['c', 'b']) {
      if (step === 'b' && b !== null) y = adjustBrightness(y, b);
      if (step === 'c' && c !== null) y = adjustContrast(y, c);
    }
    return y;
  }

  toString(): string {
    const parts: string[] = [];
    if (this.brightness) parts.push(`brightness=[${this.brightness.join(', ')}]`);
    if (this.contrast) parts.push(`contrast=[${this.contrast.join(', ')}]`);
    return `ColorJitter(${parts.join(', ')})`;
  }
}
