/**
 * The small task the training tests share: n single-channel 4×4 images with uniform pixels and
 * alternating labels, and a conv + linear model for it.
 */
import * as nn from '../../src/nn/index.js';
import { Generator, manualSeed } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** n images [n, 1, 4, 4] with pixels uniform in [0, scale), labels 0, 1, 0, 1, … */
export function tinyData(
  n: number,
  { seed = 5, scale = 1 }: { seed?: number; scale?: number } = {},
): [Tensor, Tensor] {
  const g = new Generator(seed);
  const x = Float32Array.from({ length: n * 16 }, () => scale * g.random());
  return [
    new Tensor(x, [n, 1, 4, 4]),
    new Tensor(
      Int32Array.from({ length: n }, (_, i) => i % 2),
      [n],
    ),
  ];
}

/** Conv2d(1, 2, 3) → ReLU → Flatten → Linear(8, 2), then `tail`, from seed 0. */
export function tinyModel(...tail: nn.Module[]): nn.Module {
  manualSeed(0);
  return new nn.Sequential(
    new nn.Conv2d(1, 2, 3),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(8, 2),
    ...tail,
  );
}
