/** Argument checks and printing helpers shared by the layers (messages name the layer and argument). */
import type { IntOrTuple } from '../ops/geometry.js';

/** A positive (min 1) or non-negative (min 0) integer, else an error naming the argument. */
export function checkInt(where: string, arg: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(
      `${where}: ${arg} must be ${min === 1 ? 'a positive' : min === 0 ? 'a non-negative' : `an >= ${min}`} integer, got ${show(v)}`,
    );
  }
  return v;
}

/** An int or an nd-tuple of ints >= min → an nd-array. */
export function tuple(where: string, arg: string, v: unknown, nd: number, min = 1): number[] {
  const arr =
    typeof v === 'number' ? new Array<number>(nd).fill(v) : Array.isArray(v) ? [...(v as number[])] : null;
  if (arr === null || arr.length !== nd) {
    throw new RangeError(`${where}: ${arg} must be an int or a tuple of ${nd} ints, got ${show(v)}`);
  }
  for (const x of arr) {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min) {
      throw new RangeError(
        `${where}: ${arg} must be ${min === 1 ? 'positive' : min === 0 ? 'non-negative' : `>= ${min}`} integers, got ${show(v)}`,
      );
    }
  }
  return arr;
}

export function checkBool(where: string, arg: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${where}: ${arg} must be a boolean, got ${show(v)}`);
  return v;
}

export function checkNumber(where: string, arg: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max) {
    const range =
      min > -Infinity && max < Infinity
        ? ` in [${min}, ${max}]`
        : min > -Infinity
          ? ` >= ${min}`
          : max < Infinity
            ? ` <= ${max}`
            : '';
    throw new RangeError(`${where}: ${arg} must be a number${range}, got ${show(v)}`);
  }
  return v;
}

/** Python's tuple notation, as PyTorch prints layer settings: (3, 3), (3,). */
export function pyTuple(a: readonly number[]): string {
  return a.length === 1 ? `(${a[0]},)` : `(${a.join(', ')})`;
}

/** An int or tuple as given (MaxPool2d(kernelSize=2) prints 2, (2, 3) prints (2, 3)). */
export function showIntOrTuple(v: IntOrTuple): string {
  return typeof v === 'number' ? String(v) : pyTuple(v);
}

export function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'object') return `a ${(v.constructor as { name?: string }).name ?? 'object'}`;
  return String(v);
}

/** Options objects only: a misspelt option name is an error, not a silently ignored key. */
export function checkKeys(where: string, options: object, allowed: readonly string[]): void {
  for (const k of Object.keys(options)) {
    if (!allowed.includes(k)) {
      throw new TypeError(`${where}: unknown option '${k}' (expected one of: ${allowed.join(', ')})`);
    }
  }
}
