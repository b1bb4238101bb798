/**
 * RMSprop, as torch.optim.RMSprop (note PyTorch adds eps outside the square root, unlike Keras):
 *   g ← g + wd·p;  s ← α·s + (1 − α)·g²;  centered: a ← α·a + (1 − α)·g, denom = √(s − a²) + eps
 *   otherwise denom = √s + eps;  momentum: buf ← μ·buf + g/denom, p ← p − lr·buf;  else p ← p − lr·g/denom
 */
import {
  buffer,
  checkNonNegative,
  Optimizer,
  type ParamGroup,
  type ParamsInput,
  type ParamState,
} from './optimizer.js';

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsInput<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super('RMSprop', params, {
      lr: options.lr ?? 1e-2,
      alpha: options.alpha ?? 0.99,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
      momentum: options.momentum ?? 0,
      centered: options.centered ?? false,
      maximize: options.maximize ?? false,
    });
  }

  protected override validateGroup(g: ParamGroup<RMSpropOptions>): void {
    super.validateGroup(g);
    checkNonNegative('RMSprop', 'alpha', g.alpha);
    checkNonNegative('RMSprop', 'eps', g.eps);
    checkNonNegative('RMSprop', 'weightDecay', g.weightDecay);
    checkNonNegative('RMSprop', 'momentum', g.momentum);
  }

  protected update(
    p: Float32Array,
    grad: Float32Array,
    state: ParamState,
    g: ParamGroup<RMSpropOptions>,
  ): void {
    const { lr, alpha, eps, weightDecay: wd, momentum, centered, maximize } = g;
    state.step = ((state.step as number | undefined) ?? 0) + 1;
    const sq = buffer(state, 'squareAvg', p.length);
    const avg = centered ? buffer(state, 'gradAvg', p.length) : null;
    const buf = momentum > 0 ? buffer(state, 'momentumBuffer', p.length) : null;
    const sign = maximize ? -1 : 1;
    for (let i = 0; i < p.length; i++) {
      const gi = Math.fround(sign * grad[i] + wd * p[i]);
      const s = (sq[i] = alpha * sq[i] + (1 - alpha) * gi * gi);
      let denom: number;
      if (avg) {
        const a = (avg[i] = alpha * avg[i] + (1 - alpha) * gi);
        denom = Math.sqrt(Math.max(s - a * a, 0)) + eps;
      } else denom = Math.sqrt(s) + eps;
      if (buf) p[i] = p[i] - lr * (buf[i] = momentum * buf[i] + gi / denom);
      else p[i] = p[i] - (lr * gi) / denom;
    }
  }
}
