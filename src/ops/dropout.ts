/**
 * Inverted dropout: in training, zero each element with probability p and scale the survivors by
 * 1/(1 − p), so evaluation needs no rescaling. The mask comes from a seedable Generator, so runs
 * are reproducible within stride (not bit-identical to PyTorch's stream).
 */
import { gradBufferFrom, record } from '../autograd/graph.js';
import { Tensor } from '../tensor/tensor.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';

export interface DropoutOptions {
  /** Probability of zeroing an element (default 0.5). */
  p?: number;
  /** Identity when false (default true, like F.dropout). */
  training?: boolean;
  generator?: Generator;
}

export function dropout(input: Tensor, options: DropoutOptions = {}): Tensor {
  const p = options.p ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: probability p has to be between 0 and 1, got ${p}`);
  if (input.dtype !== 'float32') throw new Error(`dropout: input must be float32, got ${input.dtype}`);
  if (!(options.training ?? true) || p === 0) return input;
  const gen = options.generator ?? defaultGenerator;
  const x = input.data;
  const n = x.length;
  const mask = new Float32Array(n);
  const y = new Float32Array(n);
  if (p < 1) {
    const scale = 1 / (1 - p);
    for (let i = 0; i < n; i++) {
      if (gen.random() >= p) {
        mask[i] = scale;
        y[i] = x[i] * scale;
      }
    }
  }
  return record(new Tensor(y, input.shape), 'dropout', [input], (g) => {
    const gd = g.data;
    const dx = gradBufferFrom(g);
    for (let i = 0; i < n; i++) dx[i] = gd[i] * mask[i];
    return [new Tensor(dx, input.shape)];
  });
}
