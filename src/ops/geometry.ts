/**
 * Output-size arithmetic and argument normalisation shared by convolution and pooling.
 * The formulas are PyTorch's; the error messages show them with the caller's numbers filled in,
 * because "output size would be 0" alone does not tell a student which layer ate the image.
 */
import { formatShape } from '../tensor/shape.js';

export type IntOrTuple = number | readonly number[];

/** Names of the spatial dims, for messages: conv1d → length, conv2d → height/width, ... */
export function spatialNames(nd: number): string[] {
  return nd === 1 ? ['length'] : nd === 2 ? ['height', 'width'] : ['depth', 'height', 'width'];
}

export function spatialLetters(nd: number): string[] {
  return nd === 1 ? ['L'] : nd === 2 ? ['H', 'W'] : ['D', 'H', 'W'];
}

/**
 * An int or an nd-tuple → an nd-array of integers ≥ min. `op` and `arg` name the place in errors.
 */
export function tupleArg(value: IntOrTuple, nd: number, op: string, arg: string, min: number): number[] {
  const arr = typeof value === 'number' ? new Array<number>(nd).fill(value) : [...value];
  if (arr.length !== nd) {
    throw new Error(
      `${op}: ${arg} must be an int or a tuple of ${nd} ints, got ${JSON.stringify(value)} (${arr.length} values)`,
    );
  }
  for (const v of arr) {
    if (!Number.isInteger(v) || v < min) {
      throw new Error(
        `${op}: ${arg} must be ${min === 0 ? 'non-negative' : 'positive'} integers, got ${JSON.stringify(value)}`,
      );
    }
  }
  return arr;
}

/** Checks that `t` has one of the allowed ranks; the message lists the expected layouts. */
export function checkRank(
  shape: readonly number[],
  ranks: readonly number[],
  op: string,
  layout: string,
): void {
  if (!ranks.includes(shape.length)) {
    throw new Error(
      `${op}: expected a ${ranks.join('-D or ')}-D input (${layout}), got ${shape.length}-D input of shape ${formatShape(shape)}`,
    );
  }
}

export interface ConvSizeOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
}

/** H_out = ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1, PyTorch's Conv output size along one dim. */
export function convOutputSize(inSize: number, kernel: number, options: ConvSizeOptions = {}): number {
  const s = options.stride ?? 1;
  const p = options.padding ?? 0;
  const d = options.dilation ?? 1;
  return Math.floor((inSize + 2 * p - d * (kernel - 1) - 1) / s) + 1;
}

export interface PoolSizeOptions extends ConvSizeOptions {
  ceilMode?: boolean;
}

/**
 * Pooling output size along one dim. With ceilMode the division rounds up, but (as in PyTorch)
 * a last window that would start inside the right padding is dropped.
 */
export function poolOutputSize(inSize: number, kernel: number, options: PoolSizeOptions = {}): number {
  const s = options.stride ?? kernel;
  const p = options.padding ?? 0;
  const d = options.dilation ?? 1;
  const span = inSize + 2 * p - d * (kernel - 1) - 1;
  if (!options.ceilMode) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  if ((out - 1) * s >= inSize + p) out--;
  return out;
}

/**
 * The error for an output size ≤ 0, with the formula and the numbers: the most common CNN bug is a
 * stack of convs/pools that shrinks the image to nothing.
 */
export function tooSmallError(
  op: string,
  dimName: string,
  letter: string,
  input: number,
  k: number,
  s: number,
  p: number,
  d: number,
  out: number,
  ceil = false,
  padDesc?: string,
): Error {
  const fl = ceil ? ['⌈', '⌉'] : ['⌊', '⌋'];
  const pad = padDesc ?? `${2 * p}`;
  return new Error(
    `${op}: output ${dimName} would be ${fl[0]}(${letter} + 2p − d(k−1) − 1)/s${fl[1]} + 1 = ` +
      `${fl[0]}(${input} + ${pad} − ${d * (k - 1)} − 1)/${s}${fl[1]} + 1 = ${out}; ` +
      `the input (${dimName} ${input}) is too small for kernel ${k}` +
      (d > 1 ? ` with dilation ${d}` : '') +
      (p > 0 ? ` and padding ${p}` : ''),
  );
}
