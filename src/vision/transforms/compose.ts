/** Compose: transforms applied in order, all drawing from the same generator (torchvision's Compose). */
import type { Generator } from '../../tensor/random.js';
import { applyTransform, isTransformLike, type Transform, type TransformLike } from '../../data/transform.js';

export class Compose implements Transform<unknown, unknown> {
  readonly transforms: TransformLike[];

  constructor(transforms: readonly TransformLike[]) {
    if (!Array.isArray(transforms)) throw new Error('Compose: expected an array of transforms');
    transforms.forEach((t, k) => {
      if (!isTransformLike(t)) {
        throw new Error(
          `Compose: transforms[${k}] is not a transform (a function or an object with apply())`,
        );
      }
    });
    this.transforms = [...transforms];
  }

  apply(input: unknown, generator?: Generator): unknown {
    let x = input;
    for (const t of this.transforms) x = applyTransform(t, x, generator);
    return x;
  }

  toString(): string {
    return `Compose(\n${this.transforms.map((t) => `  ${typeof t === 'function' ? t.name || 'function' : String(t)}`).join('\n')}\n)`;
  }
}
