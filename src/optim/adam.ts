/**
 * Adam and AdamW, as torch.optim.Adam / AdamW (bias-corrected moments, optional AMSGrad). The
 * per-element loop is the backend's `adamStep` kernel, so the native backend runs it.
 * The difference: Adam adds weight decay to the gradient (L2), AdamW decays the weights directly.
 */
import { getBackend } from '../backend/index.js';
import {
  buffer,
  checkBeta,
  checkNonNegative,
  Optimizer,
  type ParamGroup,
  type ParamsInput,
  type ParamState,
} from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it. */
  maximize: boolean;
}

abstract class AdamBase extends Optimizer<AdamOptions> {
  private negGrad: Float32Array | null = null;

  protected constructor(
    label: string,
    private readonly decoupled: boolean,
    params: ParamsInput<AdamOptions>,
    options: Partial<AdamOptions>,
    defaultDecay: number,
  ) {
    super(label, params, {
      lr: options.lr ?? 1e-3,
      betas: options.betas ? [options.betas[0], options.betas[1]] : [0.9, 0.999],
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? defaultDecay,
      amsgrad: options.amsgrad ?? false,
      maximize: options.maximize ?? false,
    });
  }

  protected override validateGroup(g: ParamGroup<AdamOptions>): void {
    super.validateGroup(g);
    if (!Array.isArray(g.betas) || g.betas.length !== 2) {
      throw new Error(`${this.name}: betas must be a pair [beta1, beta2], got ${JSON.stringify(g.betas)}`);
    }
    checkBeta(this.name, 'betas[0]', g.betas[0]);
    checkBeta(this.name, 'betas[1]', g.betas[1]);
    checkNonNegative(this.name, 'eps', g.eps);
    checkNonNegative(this.name, 'weightDecay', g.weightDecay);
  }

  protected update(p: Float32Array, grad: Float32Array, state: ParamState, g: ParamGroup<AdamOptions>): void {
    const step = ((state.step as number | undefined) ?? 0) + 1;
    state.step = step;
    const m = buffer(state, 'expAvg', p.length);
    const v = buffer(state, 'expAvgSq', p.length);
    const vMax = g.amsgrad ? buffer(state, 'maxExpAvgSq', p.length) : null;
    let gr = grad;
    if (g.maximize) {
      if (this.negGrad === null || this.negGrad.length < grad.length)
        this.negGrad = new Float32Array(grad.length);
      gr = this.negGrad.subarray(0, grad.length);
      for (let i = 0; i < grad.length; i++) gr[i] = -grad[i];
    }
    getBackend().adamStep(p, gr, m, v, vMax, {
      lr: g.lr,
      beta1: g.betas[0],
      beta2: g.betas[1],
      eps: g.eps,
      weightDecay: g.weightDecay,
      decoupled: this.decoupled,
      step,
    });
  }
}

/** Adam (Kingma & Ba); weightDecay is an L2 term added to the gradient. Defaults: lr 1e-3, betas [0.9, 0.999]. */
export class Adam extends AdamBase {
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('Adam', false, params, options, 0);
  }
}

/** AdamW (Loshchilov & Hutter): decoupled weight decay p ← p·(1 − lr·wd). Default weightDecay 1e-2. */
export class AdamW extends AdamBase {
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('AdamW', true, params, options, 1e-2);
  }
}
