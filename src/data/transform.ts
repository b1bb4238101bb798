/**
 * The transform contract shared by datasets, the DataLoader and `vision.transforms`: a function or an
 * object with `apply(input, generator?)`. Random transforms draw from `generator` (unless built with
 * their own), which the DataLoader derives per sample from its seed, so a seeded run augments
 * identically whatever order samples are prepared in.
 */
import type { Generator } from '../tensor/random.js';

export interface Transform<I = unknown, O = unknown> {
  apply(input: I, generator?: Generator): O;
}

export type TransformFn<I = unknown, O = unknown> = (input: I, generator?: Generator) => O;

export type TransformLike<I = unknown, O = unknown> = Transform<I, O> | TransformFn<I, O>;

export function applyTransform<I, O>(t: TransformLike<I, O>, input: I, generator?: Generator): O {
  return typeof t === 'function' ? t(input, generator) : t.apply(input, generator);
}

export function isTransformLike(t: unknown): t is TransformLike {
  return (
    typeof t === 'function' ||
    (t !== null && typeof t === 'object' && typeof (t as Transform).apply === 'function')
  );
}
