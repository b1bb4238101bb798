/** Shared checks for the image transforms: every transform names itself and what it got. */
import { Tensor } from '../../tensor/tensor.js';
import { formatShape } from '../../tensor/shape.js';
import { defaultGenerator, type Generator } from '../../tensor/random.js';

/** Image geometry: planes of H×W (all leading dims flattened: C, or N·C). */
export interface Planes {
  planes: number;
  height: number;
  width: number;
  lead: number[];
}

export function imageTensor(x: unknown, where: string, minDims = 2): Planes {
  if (!(x instanceof Tensor)) {
    throw new Error(
      `${where}: expected a CHW image Tensor${isRaw(x) ? ' (this is a raw HWC image: put ToTensor() first)' : ''}, got ${describe(x)}`,
    );
  }
  if (x.ndim < minDims) {
    throw new Error(
      `${where}: expected an image tensor with at least ${minDims} dims (${minDims === 3 ? '[C, H, W]' : '[..., H, W]'}), got shape ${formatShape(x.shape)}`,
    );
  }
  if (x.dtype !== 'float32') throw new Error(`${where}: expected a float32 image tensor, got ${x.dtype}`);
  const height = x.shape[x.ndim - 2];
  const width = x.shape[x.ndim - 1];
  const lead = x.shape.slice(0, -2);
  return { planes: height * width === 0 ? 0 : x.data.length / (height * width), height, width, lead };
}

function isRaw(x: unknown): boolean {
  return x !== null && typeof x === 'object' && 'data' in x && 'width' in x && 'height' in x;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return `a ${(x as object).constructor?.name ?? 'object'}`;
  return typeof x;
}

/** The generator a random transform draws from: its own, else the loader's, else the global one. */
export function pickGenerator(own: Generator | undefined, given: Generator | undefined): Generator {
  return own ?? given ?? defaultGenerator;
}

export function uniform(g: Generator, lo: number, hi: number): number {
  return lo + (hi - lo) * g.random();
}

/** Python's round(): halves go to the even neighbour (torchvision uses it for crop offsets). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A size given as n (square) or [h, w]. */
export function sizePair(size: number | readonly number[], where: string, arg = 'size'): [number, number] {
  const pair = typeof size === 'number' ? [size, size] : size;
  if (!Array.isArray(pair) || pair.length !== 2 || pair.some((s) => !Number.isInteger(s) || s <= 0)) {
    throw new Error(
      `${where}: ${arg} must be a positive integer or [height, width], got ${JSON.stringify(size)}`,
    );
  }
  return [pair[0], pair[1]];
}

/** A symmetric range: v → [-v, v] (v ≥ 0), or [lo, hi] as given. */
export function symmetricRange(v: number | readonly number[], where: string, arg: string): [number, number] {
  if (typeof v === 'number') {
    if (!(v >= 0)) throw new Error(`${where}: ${arg} must be non-negative when a single number, got ${v}`);
    return [-v, v];
  }
  if (!Array.isArray(v) || v.length !== 2 || !(v[0] <= v[1])) {
    throw new Error(
      `${where}: ${arg} must be a number or [min, max] with min <= max, got ${JSON.stringify(v)}`,
    );
  }
  return [v[0], v[1]];
}

export function probability(p: number, where: string): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`${where}: p must be a probability in [0, 1], got ${p}`);
  return p;
}
