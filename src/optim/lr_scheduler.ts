/**
 * Learning-rate schedulers with torch.optim.lr_scheduler's semantics: constructing one records each
 * group's `initialLr` and applies epoch 0; each `step()` advances one epoch (or one batch, for
 * OneCycleLR) and writes the new rate into the optimizer's groups. The chainable (recursive) formulas
 * are PyTorch's own, so traces agree with PyTorch to the last bits and schedulers can be stacked.
 *
 *   const sched = new StepLR(opt, { stepSize: 10, gamma: 0.1 });
 *   for (epoch...) { train(); sched.step(); }
 */
import type { Optimizer } from './optimizer.js';

/** What schedulers need of an optimizer: its groups, whose `lr` they read and write. */
type AnyOptimizer = Pick<Optimizer, 'paramGroups'> & { paramGroups: Record<string, unknown>[] };

export abstract class LRScheduler {
  readonly optimizer: AnyOptimizer;
  readonly baseLrs: number[];
  /** The index of the current epoch (−1 before the first step, 0 after construction). */
  lastEpoch: number;
  protected stepCount = 0;
  private lastLr: number[] = [];

  protected constructor(
    protected readonly name: string,
    optimizer: Optimizer | AnyOptimizer,
    lastEpoch = -1,
  ) {
    if (optimizer === null || typeof optimizer !== 'object' || !Array.isArray(optimizer.paramGroups)) {
      throw new Error(`${name}: expected an optimizer (with paramGroups), got ${String(optimizer)}`);
    }
    this.optimizer = optimizer as AnyOptimizer;
    const groups = this.optimizer.paramGroups;
    if (lastEpoch === -1) {
      for (const g of groups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      groups.forEach((g, i) => {
        if (g.initialLr === undefined) {
          throw new Error(
            `${name}: param group ${i} has no initialLr, required when resuming with lastEpoch`,
          );
        }
      });
    }
    this.baseLrs = groups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** Subclass constructors call this last (PyTorch's _initial_step): applies epoch lastEpoch + 1. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The rates for `this.lastEpoch`, from the groups' current rates (chainable form). */
  protected abstract getLr(): number[];

  /** Advances one epoch and sets the new learning rates. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const lrs = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]));
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr as number);
  }

  /** The learning rates set by the last step, one per group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr as number);
  }

  /** Everything but the optimizer (as in PyTorch). */
  stateDict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this)) {
      if (k === 'optimizer' || k === 'name' || typeof v === 'function') continue;
      out[k] = Array.isArray(v) ? structuredClone(v) : v;
    }
    return out;
  }

  loadStateDict(stateDict: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(stateDict)) {
      if (!(k in this)) throw new Error(`${this.name}.loadStateDict: unknown key '${k}'`);
      (this as Record<string, unknown>)[k] = Array.isArray(v) ? structuredClone(v) : v;
    }
  }
}

function checkPositiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new Error(`${where}: ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

function checkNumber(
  where: string,
  name: string,
  v: unknown,
  test: (x: number) => boolean,
  want: string,
): number {
  if (typeof v !== 'number' || !test(v))
    throw new Error(`${where}: ${name} must be ${want}, got ${String(v)}`);
  return v;
}

/** Multiplies the rate by gamma every stepSize epochs. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: Optimizer, options: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    super('StepLR', optimizer, options?.lastEpoch);
    this.stepSize = checkPositiveInt('StepLR', 'stepSize', options?.stepSize);
    this.gamma = checkNumber('StepLR', 'gamma', options.gamma ?? 0.1, (x) => x > 0, 'a number > 0');
    this.initialStep();
  }
  protected getLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }
}

/** Multiplies the rate by gamma at each milestone epoch. */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];
  readonly gamma: number;
  constructor(optimizer: Optimizer, options: { milestones: number[]; gamma?: number; lastEpoch?: number }) {
    super('MultiStepLR', optimizer, options?.lastEpoch);
    if (!Array.isArray(options?.milestones) || options.milestones.some((m) => !Number.isInteger(m))) {
      throw new Error(
        `MultiStepLR: milestones must be an array of integers, got ${String(options?.milestones)}`,
      );
    }
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = checkNumber('MultiStepLR', 'gamma', options.gamma ?? 0.1, (x) => x > 0, 'a number > 0');
    this.initialStep();
  }
  protected getLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    return this.groupLrs().map((lr) => lr * Math.pow(this.gamma, hits));
  }
}

/** Multiplies the rate by gamma every epoch. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: Optimizer, options: { gamma: number; lastEpoch?: number }) {
    super('ExponentialLR', optimizer, options?.lastEpoch);
    this.gamma = checkNumber('ExponentialLR', 'gamma', options?.gamma, (x) => x > 0, 'a number > 0');
    this.initialStep();
  }
  protected getLr(): number[] {
    const lrs = this.groupLrs();
    return this.lastEpoch === 0 ? lrs : lrs.map((lr) => lr * this.gamma);
  }
}

/**
 * Cosine annealing from the initial rate to etaMin over tMax epochs (SGDR without restarts); past
 * tMax it climbs back up, as PyTorch's does.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: Optimizer, options: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    super('CosineAnnealingLR', optimizer, options?.lastEpoch);
    this.tMax = checkPositiveInt('CosineAnnealingLR', 'tMax', options?.tMax);
    this.etaMin = checkNumber(
      'CosineAnnealingLR',
      'etaMin',
      options.etaMin ?? 0,
      (x) => x >= 0,
      'a number >= 0',
    );
    this.initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    const lrs = this.groupLrs();
    if (e === 0) return lrs;
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if ((e - 1 - T) % (2 * T) === 0) {
      return lrs.map((lr, i) => lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return lrs.map(
      (lr) =>
        ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - etaMin) +
        etaMin,
    );
  }
}

/** Scales the rate linearly from startFactor to endFactor over totalIters epochs (warm-up). */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;
  constructor(
    optimizer: Optimizer,
    options: { startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number } = {},
  ) {
    super('LinearLR', optimizer, options.lastEpoch);
    const inUnit = (x: number) => x > 0 && x <= 1;
    this.startFactor = checkNumber(
      'LinearLR',
      'startFactor',
      options.startFactor ?? 1 / 3,
      inUnit,
      'in (0, 1]',
    );
    this.endFactor = checkNumber(
      'LinearLR',
      'endFactor',
      options.endFactor ?? 1,
      (x) => x >= 0 && x <= 1,
      'in [0, 1]',
    );
    this.totalIters = checkPositiveInt('LinearLR', 'totalIters', options.totalIters ?? 5);
    this.initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: n } = this;
    const lrs = this.groupLrs();
    if (e === 0) return lrs.map((lr) => lr * s);
    if (e > n) return lrs;
    return lrs.map((lr) => lr * (1 + (f - s) / (n * s + (e - 1) * (f - s))));
  }
}
