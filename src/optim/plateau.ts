/**
 * ReduceLROnPlateau, as torch.optim.lr_scheduler.ReduceLROnPlateau: `step(metric)` once per epoch
 * with the monitored value; after `patience` epochs without improvement (beyond `threshold`) the rate
 * is multiplied by `factor`, not below `minLr`, then `cooldown` epochs pass before counting again.
 * (fit() also offers Keras's form as a callback, monitoring e.g. 'val_accuracy'.)
 */
import type { Optimizer } from './optimizer.js';

export interface ReduceLROnPlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  /** A floor for the rate: one number, or one per parameter group. */
  minLr?: number | number[];
  /** Changes smaller than eps are ignored. */
  eps?: number;
}

type Groups = { paramGroups: Record<string, unknown>[] };

export class ReduceLROnPlateau {
  readonly optimizer: Groups;
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  minLrs: number[];
  eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    const where = 'ReduceLROnPlateau';
    this.optimizer = optimizer as unknown as Groups;
    if (!Array.isArray(this.optimizer?.paramGroups)) {
      throw new Error(`${where}: expected an optimizer (with paramGroups), got ${String(optimizer)}`);
    }
    const groups = this.optimizer.paramGroups;
    this.mode = options.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max') {
      throw new Error(`${where}: mode must be 'min' or 'max', got '${String(this.mode)}'`);
    }
    this.factor = options.factor ?? 0.1;
    if (!(this.factor < 1 && this.factor >= 0)) {
      throw new Error(`${where}: factor must be in [0, 1) (it multiplies the rate), got ${this.factor}`);
    }
    this.patience = options.patience ?? 10;
    if (!Number.isInteger(this.patience) || this.patience < 0) {
      throw new Error(`${where}: patience must be an integer >= 0, got ${this.patience}`);
    }
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs') {
      throw new Error(`${where}: thresholdMode must be 'rel' or 'abs', got '${String(this.thresholdMode)}'`);
    }
    this.cooldown = options.cooldown ?? 0;
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr)) {
      if (minLr.length !== groups.length) {
        throw new Error(`${where}: minLr has ${minLr.length} values for ${groups.length} parameter groups`);
      }
      this.minLrs = [...minLr];
    } else this.minLrs = groups.map(() => minLr);
    this.eps = options.eps ?? 1e-8;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.lastLr = groups.map((g) => g.lr as number);
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Whether `a` improves on `best` by more than the threshold. */
  isBetter(a: number, best: number): boolean {
    const t = this.threshold;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - t) : a < best - t;
    return this.thresholdMode === 'rel' ? a > best * (t + 1) : a > best + t;
  }

  /** Records one epoch's value of the monitored metric; returns whether the rate was reduced. */
  step(metric: number | { item(): number }): boolean {
    const current = typeof metric === 'number' ? metric : metric.item();
    if (typeof current !== 'number') {
      throw new Error(
        `ReduceLROnPlateau.step: expected the monitored metric as a number, got ${String(metric)}`,
      );
    }
    this.lastEpoch++;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else this.numBadEpochs++;
    if (this.inCooldown) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    let reduced = false;
    if (this.numBadEpochs > this.patience) {
      reduced = this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr as number);
    return reduced;
  }

  private reduceLr(): boolean {
    let any = false;
    this.optimizer.paramGroups.forEach((g, i) => {
      const old = g.lr as number;
      const next = Math.max(old * this.factor, this.minLrs[i]);
      if (old - next > this.eps) {
        g.lr = next;
        any = true;
      }
    });
    return any;
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): Record<string, unknown> {
    const { optimizer: _o, ...rest } = this;
    return structuredClone(rest) as Record<string, unknown>;
  }

  loadStateDict(stateDict: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(stateDict)) {
      if (!(k in this) || k === 'optimizer') {
        throw new Error(`ReduceLROnPlateau.loadStateDict: unknown key '${k}'`);
      }
      (this as Record<string, unknown>)[k] = structuredClone(v);
    }
  }
}
