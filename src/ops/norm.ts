/**
 * Batch normalisation over (N, C), (N, C, L) or (N, C, H, W), with a hand-written backward: the
 * composed version would allocate a dozen full-size intermediates per call and dominate a
 * conv/bn model's step time.
 *
 * Training: normalise with the batch mean and the biased variance; update the running stats in
 * place with the unbiased variance (as PyTorch does). Eval: normalise with the running stats.
 */
import { record } from '../autograd/graph.js';
import { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';

export interface BatchNormOptions {
  training?: boolean;
  /** Running stats update: running = (1 − momentum)·running + momentum·batch (default 0.1). */
  momentum?: number;
  eps?: number;
}

function checkVec(name: string, t: Tensor | null | undefined, c: number): void {
  if (!t) return;
  if (t.ndim !== 1 || t.shape[0] !== c) {
    throw new Error(
      `batchNorm: expected ${name} of shape [${c}] (one per channel), got ${formatShape(t.shape)}`,
    );
  }
  if (t.dtype !== 'float32') throw new Error(`batchNorm: ${name} must be float32, got ${t.dtype}`);
}

export function batchNorm(
  input: Tensor,
  runningMean: Tensor | null | undefined,
  runningVar: Tensor | null | undefined,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  const training = options.training ?? false;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  if (input.ndim < 2) {
    throw new Error(
      `batchNorm: expected input of shape (N, C), (N, C, L) or (N, C, H, W), got ${formatShape(input.shape)}`,
    );
  }
  if (input.dtype !== 'float32') throw new Error(`batchNorm: input must be float32, got ${input.dtype}`);
  const n = input.shape[0];
  const c = input.shape[1];
  const plane = input.numel() / (n * c);
  const count = n * plane;
  checkVec('runningMean', runningMean, c);
  checkVec('runningVar', runningVar, c);
  checkVec('weight', weight, c);
  checkVec('bias', bias, c);
  if (!training && (!runningMean || !runningVar)) {
    throw new Error('batchNorm: runningMean and runningVar are required when training is false');
  }
  if (training && count <= 1) {
    throw new Error(
      `batchNorm: expected more than 1 value per channel when training, got input of shape ${formatShape(input.shape)}`,
    );
  }
  const x = input.data as Float32Array;
  const mean = new Float64Array(c);
  const invStd = new Float64Array(c);
  if (training) {
    for (let s = 0; s < n; s++) {
      for (let ch = 0; ch < c; ch++) {
        const off = (s * c + ch) * plane;
        let acc = 0;
        for (let q = off; q < off + plane; q++) acc += x[q];
        mean[ch] += acc;
      }
    }
    for (let ch = 0; ch < c; ch++) mean[ch] /= count;
    const sq = new Float64Array(c);
    for (let s = 0; s < n; s++) {
      for (let ch = 0; ch < c; ch++) {
        const off = (s * c + ch) * plane;
        const m = mean[ch];
        let acc = 0;
        for (let q = off; q < off + plane; q++) acc += (x[q] - m) * (x[q] - m);
        sq[ch] += acc;
      }
    }
    for (let ch = 0; ch < c; ch++) {
      invStd[ch] = 1 / Math.sqrt(sq[ch] / count + eps);
      // In place, like PyTorch's buffers: the module sees the update without reassigning.
      if (runningMean) runningMean.data[ch] = (1 - momentum) * runningMean.data[ch] + momentum * mean[ch];
      if (runningVar) {
        runningVar.data[ch] = (1 - momentum) * runningVar.data[ch] + (momentum * sq[ch]) / (count - 1);
      }
    }
  } else {
    for (let ch = 0; ch < c; ch++) {
      mean[ch] = runningMean!.data[ch];
      invStd[ch] = 1 / Math.sqrt(runningVar!.data[ch] + eps);
    }
  }
  const wd = weight ? weight.data : null;
  const bd = bias ? bias.data : null;
  const y = new Float32Array(x.length);
  for (let s = 0; s < n; s++) {
    for (let ch = 0; ch < c; ch++) {
      const off = (s * c + ch) * plane;
      const scale = invStd[ch] * (wd ? wd[ch] : 1);
      const shift = (bd ? bd[ch] : 0) - mean[ch] * scale;
      for (let q = off; q < off + plane; q++) y[q] = x[q] * scale + shift;
    }
  }
  const inputs = [input];
  if (weight) inputs.push(weight);
  if (bias) inputs.push(bias);
  return record(new Tensor(y, input.shape), 'batchNorm', inputs, (g) => {
    const gd = g.data;
    // Per channel: Σ dy and Σ dy·x̂, which give the weight/bias gradients and the batch terms.
    const sumDy = new Float64Array(c);
    const sumDyXhat = new Float64Array(c);
    for (let s = 0; s < n; s++) {
      for (let ch = 0; ch < c; ch++) {
        const off = (s * c + ch) * plane;
        const m = mean[ch];
        let a = 0;
        let b = 0;
        for (let q = off; q < off + plane; q++) {
          a += gd[q];
          b += gd[q] * (x[q] - m);
        }
        sumDy[ch] += a;
        sumDyXhat[ch] += b * invStd[ch];
      }
    }
    let dx: Tensor | null = null;
    if (input.requiresGrad) {
      const d = new Float32Array(x.length);
      for (let s = 0; s < n; s++) {
        for (let ch = 0; ch < c; ch++) {
          const off = (s * c + ch) * plane;
          const k = invStd[ch] * (wd ? wd[ch] : 1);
          const m = mean[ch];
          if (training) {
            // dx = γ·σ⁻¹·(dy − mean(dy) − x̂·mean(dy·x̂))
            const md = sumDy[ch] / count;
            const mdx = sumDyXhat[ch] / count;
            const is = invStd[ch];
            for (let q = off; q < off + plane; q++) d[q] = k * (gd[q] - md - (x[q] - m) * is * mdx);
          } else {
            for (let q = off; q < off + plane; q++) d[q] = k * gd[q];
          }
        }
      }
      dx = new Tensor(d, input.shape);
    }
    const grads: (Tensor | null)[] = [dx];
    if (weight) grads.push(weight.requiresGrad ? new Tensor(Float32Array.from(sumDyXhat), [c]) : null);
    if (bias) grads.push(bias.requiresGrad ? new Tensor(Float32Array.from(sumDy), [c]) : null);
    return grads;
  });
}
