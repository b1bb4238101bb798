/**
 * Collation: turning a list of samples into one batch, like torch's default_collate. Tensors are
 * stacked along a new first dimension (one copy into one buffer, off the autograd tape: data needs
 * no gradient), numbers become a 1-D tensor, and tuples and plain objects are collated position
 * by position, so `[image, label]` samples give `[x (N,C,H,W), y (N)]`.
 */
import { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';

export type Collate<T, B> = (samples: T[]) => B;

/**
 * Stacks same-shaped tensors into a new leading dimension. Integer labels stay int32 and floats
 * float32, as they came.
 */
export function stackTensors(tensors: readonly Tensor[], where = 'collate'): Tensor {
  if (tensors.length === 0) throw new Error(`${where}: cannot stack an empty list of samples`);
  const first = tensors[0];
  const n = first.data.length;
  const out =
    first.dtype === 'int32' ? new Int32Array(n * tensors.length) : new Float32Array(n * tensors.length);
  for (let k = 0; k < tensors.length; k++) {
    const t = tensors[k];
    if (
      t.data.length !== n ||
      t.shape.length !== first.shape.length ||
      t.shape.some((s, i) => s !== first.shape[i])
    ) {
      throw new Error(
        `${where}: sample ${k} has shape ${formatShape(t.shape)} but sample 0 has ${formatShape(first.shape)}; ` +
          'samples in a batch must have the same shape (resize them in the transform, or pass a custom collate)',
      );
    }
    if (t.dtype !== first.dtype) {
      throw new Error(`${where}: sample ${k} is ${t.dtype} but sample 0 is ${first.dtype}`);
    }
    out.set(t.data, k * n);
  }
  return new Tensor(out, [tensors.length, ...first.shape]);
}

/**
 * Numbers become int32 when every one is an integer (class labels; torch gives int64) and float32
 * otherwise (regression targets). JavaScript cannot tell 1 from 1.0: a regression dataset whose
 * targets all happen to be whole numbers gets int32, so convert with `.float()` or return tensors.
 */
export function collateNumbers(values: readonly number[]): Tensor {
  const allInt = values.every((v) => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647);
  return new Tensor(allInt ? Int32Array.from(values) : Float32Array.from(values), [values.length]);
}

/** The default collate function: see the module comment. */
export function defaultCollate<T>(samples: T[]): unknown {
  return collateAt(samples as unknown[], 'collate');
}

function collateAt(samples: unknown[], where: string): unknown {
  if (samples.length === 0) throw new Error(`${where}: cannot collate an empty batch`);
  const first = samples[0];
  if (first instanceof Tensor) {
    samples.forEach((s, k) => {
      if (!(s instanceof Tensor))
        throw new Error(`${where}: sample ${k} is ${kind(s)} but sample 0 is a Tensor`);
    });
    return stackTensors(samples as Tensor[], where);
  }
  if (typeof first === 'number' || typeof first === 'boolean') {
    samples.forEach((s, k) => {
      if (typeof s !== 'number' && typeof s !== 'boolean')
        throw new Error(`${where}: sample ${k} is ${kind(s)} but sample 0 is a number`);
    });
    return collateNumbers(samples.map(Number));
  }
  if (typeof first === 'string') return samples;
  if (Array.isArray(first)) {
    const len = first.length;
    samples.forEach((s, k) => {
      if (!Array.isArray(s) || s.length !== len)
        throw new Error(`${where}: sample ${k} is ${kind(s)} but sample 0 is an array of length ${len}`);
    });
    return first.map((_, j) =>
      collateAt(
        samples.map((s) => (s as unknown[])[j]),
        `${where}[${j}]`,
      ),
    );
  }
  if (first !== null && typeof first === 'object' && Object.getPrototypeOf(first) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(first)) {
      out[key] = collateAt(
        samples.map((s) => (s as Record<string, unknown>)[key]),
        `${where}.${key}`,
      );
    }
    return out;
  }
  throw new Error(
    `${where}: cannot collate ${kind(first)}; samples must be Tensors, numbers, strings, arrays or plain objects ` +
      '(pass a custom collate for anything else)',
  );
}

function kind(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (x instanceof Tensor) return `a Tensor of shape ${formatShape(x.shape)}`;
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (typeof x === 'object') return `a ${(x as object).constructor?.name ?? 'object'}`;
  return `a ${typeof x}`;
}
