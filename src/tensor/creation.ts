/** Tensor creation: from data, constant fills, ranges, and seeded random numbers. */
import { Tensor, type DType, type NestedArray, type Storage } from './tensor.js';
import { defaultGenerator, type Generator } from './random.js';
import { formatShape, numelOf } from './shape.js';

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

function alloc(n: number, dtype: DType = 'float32'): Storage {
  return dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

/**
 * A tensor from nested arrays, a flat typed array (with `shape`, default 1-D), or a number.
 * Int32Array data gives an int32 tensor; everything else float32 unless `dtype` says otherwise.
 */
export function tensor(
  data: NestedArray | ArrayLike<number>,
  shape?: readonly number[] | CreateOptions,
  options: CreateOptions = {},
): Tensor {
  let sh: readonly number[] | undefined;
  let opts = options;
  if (shape !== undefined && !Array.isArray(shape)) opts = shape as CreateOptions;
  else sh = shape as readonly number[] | undefined;
  const dtype = opts.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32');
  let storage: Storage;
  let inferred: number[];
  if (typeof data === 'number' || typeof data === 'boolean') {
    storage = alloc(1, dtype);
    storage[0] = +data;
    inferred = [];
  } else if (Array.isArray(data)) {
    inferred = inferShape(data as NestedArray);
    storage = alloc(numelOf(inferred), dtype);
    let i = 0;
    const fill = (x: NestedArray, depth: number): void => {
      if (Array.isArray(x)) {
        if (x.length !== inferred[depth]) {
          throw new Error(
            `tensor: ragged nested array (expected ${inferred[depth]} elements at depth ${depth}, got ${x.length})`,
          );
        }
        for (const v of x) fill(v, depth + 1);
      } else {
        if (depth !== inferred.length) throw new Error('tensor: ragged nested array (mixed depths)');
        storage[i++] = +x;
      }
    };
    fill(data as NestedArray, 0);
  } else {
    const arr = data as ArrayLike<number>;
    if (
      (dtype === 'float32' && arr instanceof Float32Array) ||
      (dtype === 'int32' && arr instanceof Int32Array)
    ) {
      storage = arr;
    } else {
      storage = alloc(arr.length, dtype);
      for (let i = 0; i < arr.length; i++) storage[i] = arr[i];
    }
    inferred = [arr.length];
  }
  const finalShape = sh ?? inferred;
  if (numelOf(finalShape) !== storage.length) {
    throw new Error(`tensor: ${storage.length} values cannot have shape ${formatShape(finalShape)}`);
  }
  return new Tensor(storage, finalShape, opts.requiresGrad ?? false);
}

function checkShape(shape: readonly number[], op: string): void {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0)
      throw new Error(`${op}: sizes must be non-negative integers, got ${formatShape(shape)}`);
  }
}

export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  checkShape(shape, 'full');
  const data = alloc(numelOf(shape), options.dtype);
  if (value !== 0) data.fill(value);
  return new Tensor(data, shape, options.requiresGrad ?? false);
}

export function zeros(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 0, options);
}

export function ones(shape: readonly number[], options: CreateOptions = {}): Tensor {
  return full(shape, 1, options);
}

export function zerosLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, ...options });
}

export function onesLike(t: Tensor, options: CreateOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, ...options });
}

export function fullLike(t: Tensor, value: number, options: CreateOptions = {}): Tensor {
  return full(t.shape, value, { dtype: t.dtype, ...options });
}

/** arange(end) or arange(start, end, step), like torch.arange. */
export function arange(start: number, end?: number, step = 1, options: CreateOptions = {}): Tensor {
  const [s, e] = end === undefined ? [0, start] : [start, end];
  if (step === 0) throw new Error('arange: step must be non-zero');
  const n = Math.max(0, Math.ceil((e - s) / step));
  const data = alloc(n, options.dtype ?? 'float32');
  for (let i = 0; i < n; i++) data[i] = s + i * step;
  return new Tensor(data, [n], options.requiresGrad ?? false);
}

export function linspace(start: number, end: number, steps: number, options: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0)
    throw new Error(`linspace: steps must be a non-negative integer, got ${steps}`);
  const data = alloc(steps, options.dtype);
  const delta = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) data[i] = i === steps - 1 && steps > 1 ? end : start + i * delta;
  return new Tensor(data, [steps], options.requiresGrad ?? false);
}

export function eye(n: number, m = n, options: CreateOptions = {}): Tensor {
  const t = zeros([n, m], options);
  for (let i = 0; i < Math.min(n, m); i++) t.data[i * m + i] = 1;
  return t;
}

/** Uniform in [0, 1). */
export function rand(shape: readonly number[], options: RandomOptions = {}): Tensor {
  checkShape(shape, 'rand');
  const g = options.generator ?? defaultGenerator;
  const data = new Float32Array(numelOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = g.random();
  return new Tensor(data, shape, options.requiresGrad ?? false);
}

/** Standard normal. */
export function randn(shape: readonly number[], options: RandomOptions = {}): Tensor {
  checkShape(shape, 'randn');
  const g = options.generator ?? defaultGenerator;
  const data = new Float32Array(numelOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = g.normal();
  return new Tensor(data, shape, options.requiresGrad ?? false);
}

/** Integers uniform in [low, high), int32 by default (torch gives int64). */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  options: RandomOptions = {},
): Tensor {
  checkShape(shape, 'randint');
  const g = options.generator ?? defaultGenerator;
  const data = alloc(numelOf(shape), options.dtype ?? 'int32');
  for (let i = 0; i < data.length; i++) data[i] = g.randint(low, high);
  return new Tensor(data, shape);
}

/** A random permutation of 0..n-1 (int32). */
export function randperm(n: number, options: RandomOptions = {}): Tensor {
  const g = options.generator ?? defaultGenerator;
  return new Tensor(g.permutation(n), [n]);
}
