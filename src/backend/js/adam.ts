/**
 * One Adam/AdamW step on one parameter, in place, with PyTorch's formulas (torch.optim.Adam/AdamW):
 *   Adam:  g ← g + wd·p                   AdamW:  p ← p·(1 − lr·wd)
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   vMax ← max(vMax, v)                    (amsgrad only; vMax replaces v below)
 *   denom = √v / √(1 − β2^step) + eps
 *   p ← p − lr / (1 − β1^step) · m / denom
 */
import type { AdamStepOptions } from '../backend.js';

export function adamStep(
  p: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vMax: Float32Array | null,
  o: AdamStepOptions,
): void {
  const { lr, beta1, beta2, eps, weightDecay: wd, decoupled, step } = o;
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  const stepSize = lr / bc1;
  const decay = decoupled ? 1 - lr * wd : 1;
  const l2 = decoupled ? 0 : wd;
  for (let i = 0; i < p.length; i++) {
    let pi = p[i];
    let g = grad[i];
    if (l2 !== 0) g += l2 * pi;
    if (decay !== 1) pi *= decay;
    const mi = (m[i] = beta1 * m[i] + (1 - beta1) * g);
    let vi = (v[i] = beta2 * v[i] + (1 - beta2) * g * g);
    if (vMax) vi = vMax[i] = Math.max(vMax[i], vi);
    const denom = Math.sqrt(vi) / bc2Sqrt + eps;
    p[i] = pi - (stepSize * mi) / denom;
  }
}
