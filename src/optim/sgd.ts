/**
 * SGD with momentum, dampening, Nesterov momentum and weight decay, as torch.optim.SGD:
 *   g ← g + wd·p;  buf ← g (first step) or μ·buf + (1 − dampening)·g;
 *   g ← g + μ·buf (nesterov) or buf;  p ← p − lr·g
 */
import {
  buffer,
  checkNonNegative,
  Optimizer,
  type ParamGroup,
  type ParamsInput,
  type ParamState,
} from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    if (options === undefined || options.lr === undefined) {
      throw new Error('SGD: lr is required (e.g. new SGD(model.parameters(), { lr: 0.01 }))');
    }
    super('SGD', params, {
      lr: options.lr,
      momentum: options.momentum ?? 0,
      dampening: options.dampening ?? 0,
      weightDecay: options.weightDecay ?? 0,
      nesterov: options.nesterov ?? false,
      maximize: options.maximize ?? false,
    });
  }

  protected override validateGroup(g: ParamGroup<SGDOptions>): void {
    super.validateGroup(g);
    checkNonNegative('SGD', 'momentum', g.momentum);
    checkNonNegative('SGD', 'weightDecay', g.weightDecay);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new Error(
        `SGD: nesterov momentum requires momentum > 0 and dampening = 0 (got momentum ${g.momentum}, dampening ${g.dampening})`,
      );
    }
  }

  protected update(p: Float32Array, grad: Float32Array, state: ParamState, g: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, weightDecay: wd, nesterov, maximize } = g;
    const sign = maximize ? -1 : 1;
    if (momentum === 0) {
      for (let i = 0; i < p.length; i++) p[i] = p[i] - lr * (sign * grad[i] + wd * p[i]);
      return;
    }
    const first = !(state.momentumBuffer instanceof Float32Array);
    const buf = buffer(state, 'momentumBuffer', p.length);
    for (let i = 0; i < p.length; i++) {
      const d = Math.fround(sign * grad[i] + wd * p[i]);
      const b = (buf[i] = first ? d : momentum * buf[i] + (1 - dampening) * d);
      p[i] = p[i] - lr * (nesterov ? d + momentum * b : b);
    }
  }
}
