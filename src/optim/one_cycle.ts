/**
 * OneCycleLR (Smith & Topin's 1cycle policy), as torch.optim.lr_scheduler.OneCycleLR: the rate rises
 * from maxLr/divFactor to maxLr over pctStart of the steps, then anneals to
 * maxLr/(divFactor·finalDivFactor); momentum (or Adam's beta1) moves the opposite way.
 * It is stepped after every batch, not every epoch: totalSteps = epochs · stepsPerEpoch.
 */
import { LRScheduler } from './lr_scheduler.js';
import type { Optimizer } from './optimizer.js';

export interface OneCycleLROptions {
  /** Peak rate: one number, or one per parameter group. */
  maxLr: number | number[];
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
  lastEpoch?: number;
}

interface Phase {
  endStep: number;
  startLr: string;
  endLr: string;
  startMomentum: string;
  endMomentum: string;
}

export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly cycleMomentum: boolean;
  readonly annealStrategy: 'cos' | 'linear';
  private readonly phases: Phase[];
  private readonly useBeta1: boolean;

  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    const where = 'OneCycleLR';
    const o = options ?? ({} as OneCycleLROptions);
    const groups = (optimizer as unknown as { paramGroups: Record<string, unknown>[] })?.paramGroups ?? [];
    let total: number;
    if (o.totalSteps !== undefined) {
      if (!Number.isInteger(o.totalSteps) || o.totalSteps <= 0) {
        throw new Error(`${where}: totalSteps must be a positive integer, got ${o.totalSteps}`);
      }
      total = o.totalSteps;
    } else if (o.epochs !== undefined && o.stepsPerEpoch !== undefined) {
      if (
        !Number.isInteger(o.epochs) ||
        o.epochs <= 0 ||
        !Number.isInteger(o.stepsPerEpoch) ||
        o.stepsPerEpoch <= 0
      ) {
        throw new Error(
          `${where}: epochs and stepsPerEpoch must be positive integers, got ${o.epochs} and ${o.stepsPerEpoch}`,
        );
      }
      total = o.epochs * o.stepsPerEpoch;
    } else {
      throw new Error(`${where}: give totalSteps, or epochs and stepsPerEpoch`);
    }
    const pct = o.pctStart ?? 0.3;
    if (!(pct >= 0 && pct <= 1)) throw new Error(`${where}: pctStart must be in [0, 1], got ${pct}`);
    const anneal = o.annealStrategy ?? 'cos';
    if (anneal !== 'cos' && anneal !== 'linear') {
      throw new Error(`${where}: annealStrategy must be 'cos' or 'linear', got '${String(anneal)}'`);
    }
    const maxLrs = Array.isArray(o.maxLr) ? o.maxLr : groups.map(() => o.maxLr as number);
    if (maxLrs.length !== groups.length || maxLrs.some((x) => typeof x !== 'number' || !(x > 0))) {
      throw new Error(
        `${where}: maxLr must be a positive number or one per parameter group (${groups.length}), got ${String(o.maxLr)}`,
      );
    }
    const divFactor = o.divFactor ?? 25;
    const finalDivFactor = o.finalDivFactor ?? 1e4;
    const cycle = o.cycleMomentum ?? true;
    const useBeta1 = groups.length > 0 && Array.isArray(groups[0].betas);
    if (cycle && !useBeta1 && groups.some((g) => g.momentum === undefined)) {
      throw new Error(`${where}: the optimizer has no momentum or betas to cycle; pass cycleMomentum: false`);
    }
    if (o.lastEpoch === undefined || o.lastEpoch === -1) {
      groups.forEach((g, i) => {
        const initial = maxLrs[i] / divFactor;
        g.initialLr = initial;
        g.lr = initial;
        g.maxLr = maxLrs[i];
        g.minLr = initial / finalDivFactor;
        if (cycle) {
          const maxM = o.maxMomentum ?? 0.95;
          if (useBeta1) g.betas = [maxM, ...(g.betas as number[]).slice(1)];
          else g.momentum = maxM;
          g.maxMomentum = maxM;
          g.baseMomentum = o.baseMomentum ?? 0.85;
        }
      });
    }
    super(where, optimizer, o.lastEpoch);
    this.totalSteps = total;
    this.cycleMomentum = cycle;
    this.useBeta1 = useBeta1;
    this.annealStrategy = anneal;
    this.phases = o.threePhase
      ? [
          {
            endStep: pct * total - 1,
            startLr: 'initialLr',
            endLr: 'maxLr',
            startMomentum: 'maxMomentum',
            endMomentum: 'baseMomentum',
          },
          {
            endStep: 2 * pct * total - 2,
            startLr: 'maxLr',
            endLr: 'initialLr',
            startMomentum: 'baseMomentum',
            endMomentum: 'maxMomentum',
          },
          {
            endStep: total - 1,
            startLr: 'initialLr',
            endLr: 'minLr',
            startMomentum: 'maxMomentum',
            endMomentum: 'maxMomentum',
          },
        ]
      : [
          {
            endStep: pct * total - 1,
            startLr: 'initialLr',
            endLr: 'maxLr',
            startMomentum: 'maxMomentum',
            endMomentum: 'baseMomentum',
          },
          {
            endStep: total - 1,
            startLr: 'maxLr',
            endLr: 'minLr',
            startMomentum: 'baseMomentum',
            endMomentum: 'maxMomentum',
          },
        ];
    this.initialStep();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new Error(
        `OneCycleLR: stepped ${stepNum} times but totalSteps is ${this.totalSteps}; ` +
          'step it once per batch and make totalSteps (or epochs · stepsPerEpoch) cover the whole run',
      );
    }
    return this.optimizer.paramGroups.map((g) => {
      let start = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const ph = this.phases[i];
        if (stepNum <= ph.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - start) / (ph.endStep - start);
          const lr = this.anneal(g[ph.startLr] as number, g[ph.endLr] as number, pct);
          if (this.cycleMomentum) {
            const m = this.anneal(g[ph.startMomentum] as number, g[ph.endMomentum] as number, pct);
            if (this.useBeta1) g.betas = [m, ...(g.betas as number[]).slice(1)];
            else g.momentum = m;
          }
          return lr;
        }
        start = ph.endStep;
      }
      return g.lr as number;
    });
  }
}
