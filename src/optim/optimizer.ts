/**
 * Optimizer: the base of SGD, Adam, AdamW and RMSprop, with PyTorch's shape (torch.optim.Optimizer):
 * parameter groups that each carry their own hyperparameters, per-parameter state, `zeroGrad()`,
 * `step()`, and `stateDict()` / `loadStateDict()` that capture everything needed to resume exactly.
 *
 *   const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 *   const opt = new Adam([{ params: backbone, lr: 1e-4 }, { params: head }], { lr: 1e-3 });
 *
 * Parameters are updated in place (their `data` arrays), so the model sees the new values.
 * State is kept as Float32Arrays inside (the hot loops want flat arrays) and handed out as Tensors.
 */
import { backwardCount } from '../autograd/graph.js';
import { doctor } from '../doctor.js';
import { Tensor } from '../tensor/tensor.js';

/** Per-parameter optimizer state: step counts as numbers, buffers shaped like the parameter. */
export type ParamState = Record<string, number | Float32Array>;

/** A parameter group as given by the user: the parameters and any hyperparameters to override. */
export type ParamGroupSpec<O> = { params: Iterable<Tensor> } & Partial<O>;

/** A parameter group as the optimizer keeps it: every hyperparameter resolved. Schedulers edit `lr`. */
export type ParamGroup<O> = O & { params: Tensor[]; lr: number; [extra: string]: unknown };

export type ParamsInput<O> = Iterable<Tensor> | Iterable<ParamGroupSpec<O>>;

export interface OptimizerStateDict {
  /** Per-parameter state, keyed by the parameter's position across all groups (as in PyTorch). */
  state: Record<string, Record<string, number | Tensor>>;
  /** Hyperparameters of each group; `params` lists the positions of its parameters. */
  paramGroups: Record<string, unknown>[];
}

export abstract class Optimizer<O extends { lr: number } = { lr: number }> {
  readonly defaults: O;
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state; created lazily on a parameter's first step. */
  readonly state = new Map<Tensor, ParamState>();
  /** How many times step() ran (the doctor and schedulers read it). */
  stepCount = 0;
  private lastBackward = backwardCount();

  protected constructor(
    protected readonly name: string,
    params: ParamsInput<O>,
    defaults: O,
  ) {
    this.defaults = defaults;
    const list = [...(params as Iterable<Tensor | ParamGroupSpec<O>>)];
    if (list.length === 0) throw new Error(`${name}: got an empty parameter list`);
    if (list.every((p) => p instanceof Tensor)) {
      this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupSpec<O>);
    } else if (
      list.every((p) => !(p instanceof Tensor) && typeof p === 'object' && p !== null && 'params' in p)
    ) {
      for (const g of list as ParamGroupSpec<O>[]) this.addParamGroup(g);
    } else {
      throw new Error(
        `${name}: params must be an iterable of Tensors or of parameter groups ({ params, ...options }), not a mix`,
      );
    }
  }

  /** Adds a group (e.g. when unfreezing layers during fine-tuning); missing options take the defaults. */
  addParamGroup(spec: ParamGroupSpec<O>): void {
    if (spec === null || typeof spec !== 'object' || !('params' in spec)) {
      throw new Error(`${this.name}.addParamGroup: expected { params, ...options }, got ${String(spec)}`);
    }
    const params = spec.params instanceof Tensor ? [spec.params] : [...spec.params];
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) for (const p of g.params) seen.add(p);
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) {
        throw new Error(`${this.name}: parameter ${i} of group ${this.paramGroups.length} is not a Tensor`);
      }
      if (p.dtype !== 'float32') {
        throw new Error(`${this.name}: can only optimize float32 tensors, parameter ${i} is ${p.dtype}`);
      }
      if (!p.isLeaf) {
        throw new Error(
          `${this.name}: can't optimize a non-leaf Tensor (parameter ${i} of group ${this.paramGroups.length}); ` +
            'pass the parameters themselves, not results of ops on them',
        );
      }
      if (seen.has(p)) {
        throw new Error(`${this.name}: some parameters appear in more than one parameter group`);
      }
      seen.add(p);
    });
    const group = { ...this.defaults, ...spec, params } as ParamGroup<O>;
    this.validateGroup(group);
    this.paramGroups.push(group);
  }

  /** Checks a group's hyperparameters; subclasses add their own checks. */
  protected validateGroup(group: ParamGroup<O>): void {
    checkNonNegative(this.name, 'lr', group.lr);
  }

  /**
   * Clears every parameter's gradient. With `setToNone` (the default, as in PyTorch 2) grads become
   * null; otherwise they become zero tensors.
   */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const setToNone = options.setToNone ?? true;
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (setToNone) p.grad = null;
        else if (p.grad !== null) p.grad = new Tensor(new Float32Array(p.numel()), p.shape);
      }
    }
  }

  /**
   * One update of every parameter that has a gradient. With a closure (needed by nothing here, but
   * PyTorch accepts one), it is called first and its loss returned.
   */
  step(closure?: () => Tensor | number): Tensor | number | undefined {
    const loss = closure?.();
    this.checkGradients();
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        let st = this.state.get(p);
        if (st === undefined) {
          st = {};
          this.state.set(p, st);
        }
        const grad = p.grad.data as Float32Array;
        if (grad.length !== p.numel()) {
          throw new Error(
            `${this.name}.step: a gradient has ${grad.length} elements but its parameter [${p.shape}] has ${p.numel()}`,
          );
        }
        this.update(p.data as Float32Array, grad, st, group);
      }
    }
    this.stepCount++;
    return loss;
  }

  /** Updates one parameter in place from its gradient, reading and writing its state. */
  protected abstract update(
    p: Float32Array,
    grad: Float32Array,
    state: ParamState,
    group: ParamGroup<O>,
  ): void;

  /**
   * The doctor's manual-loop checks, one pass over the gradients: a backward ran since the last step
   * but every gradient is missing or zero (zeroGrad() between backward() and step()), or some
   * gradient is NaN/infinite (the loss blew up).
   */
  private checkGradients(): void {
    const backwards = backwardCount();
    const ranBackward = backwards !== this.lastBackward;
    this.lastBackward = backwards;
    if (!doctor.enabled) return;
    let anyNonZero = false;
    let nonFinite = false;
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.grad === null) continue;
        const d = p.grad.data as Float32Array;
        // This runs over every gradient each step, so: the first non-zero value settles
        // anyNonZero (usually at index 0), and a float64 sum, which cannot overflow for float32
        // inputs, is finite exactly when every value summed is. It sums a strided sample of at
        // most ~4k values per gradient (the whole of it cost 4% of SimpleCNN's step): a loss that
        // became NaN or infinite makes every gradient so, and fit() checks the loss itself.
        if (!anyNonZero) {
          for (let i = 0; i < d.length; i++) {
            if (d[i] !== 0) {
              anyNonZero = true;
              break;
            }
          }
        }
        if (!Number.isFinite(sampledSum(d))) nonFinite = true;
        if (nonFinite) break;
      }
      if (nonFinite) break;
    }
    if (ranBackward && !anyNonZero) {
      doctor.warn(
        'zero-grad-before-step',
        `${this.name}.step(): backward() ran since the last step, but every parameter's gradient is ` +
          'zero or missing, so nothing is learned. Is zeroGrad() called between loss.backward() and ' +
          'optimizer.step()? The order is: optimizer.zeroGrad(); loss.backward(); optimizer.step().',
      );
    }
    if (nonFinite) {
      doctor.warn(
        'non-finite-loss',
        `${this.name}.step() #${this.stepCount + 1}: some gradients are NaN or infinite, so the loss ` +
          'probably became NaN/infinite and this step ruins the weights. Lower the learning rate, check ' +
          'the inputs for NaN, and compute the loss from logits (CrossEntropyLoss, BCEWithLogitsLoss) ' +
          'rather than log(softmax) or log(sigmoid).',
      );
    }
  }

  /** Everything needed to resume: hyperparameters per group and per-parameter state (copied). */
  stateDict(): Record<string, unknown> & OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') out[k] = Array.isArray(v) ? [...v] : v;
      out.params = g.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return out;
    });
    const state: OptimizerStateDict['state'] = {};
    for (const [p, st] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const entry: Record<string, number | Tensor> = {};
      for (const [k, v] of Object.entries(st)) {
        entry[k] = typeof v === 'number' ? v : new Tensor(Float32Array.from(v), p.shape);
      }
      state[String(i)] = entry;
    }
    return { state, paramGroups, stepCount: this.stepCount };
  }

  /** Restores a stateDict() taken from an optimizer of the same kind over the same parameter shapes. */
  loadStateDict(stateDict: Record<string, unknown>): void {
    const where = `${this.name}.loadStateDict`;
    const groups = stateDict.paramGroups;
    const state = stateDict.state;
    if (!Array.isArray(groups) || typeof state !== 'object' || state === null) {
      throw new Error(`${where}: expected { state, paramGroups }, got keys [${Object.keys(stateDict)}]`);
    }
    if (groups.length !== this.paramGroups.length) {
      throw new Error(
        `${where}: the state dict has ${groups.length} parameter groups, this optimizer has ${this.paramGroups.length}`,
      );
    }
    const byIndex: Tensor[] = [];
    groups.forEach((saved: Record<string, unknown>, gi) => {
      const ids = saved.params;
      const mine = this.paramGroups[gi].params;
      if (!Array.isArray(ids) || ids.length !== mine.length) {
        throw new Error(
          `${where}: group ${gi} has ${Array.isArray(ids) ? ids.length : '?'} parameters in the state dict, ` +
            `${mine.length} here`,
        );
      }
      ids.forEach((id: number, k: number) => (byIndex[id] = mine[k]));
    });
    const newState = new Map<Tensor, ParamState>();
    for (const [key, entry] of Object.entries(state as Record<string, Record<string, unknown>>)) {
      const p = byIndex[Number(key)];
      if (p === undefined) throw new Error(`${where}: state for parameter ${key}, which no group lists`);
      const st: ParamState = {};
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v === 'number') st[k] = v;
        else {
          // A Tensor, a typed array, or a Tensor that lost its class (structuredClone, a worker).
          const data = ArrayBuffer.isView(v)
            ? (v as Float32Array)
            : typeof v === 'object' && v !== null && ArrayBuffer.isView((v as Tensor).data)
              ? (v as Tensor).data
              : null;
          if (data === null || data.length !== p.numel()) {
            throw new Error(
              `${where}: state '${k}' of parameter ${key} should have ${p.numel()} elements (shape [${p.shape}]), ` +
                `got ${data === null ? typeof v : data.length}`,
            );
          }
          st[k] = Float32Array.from(data);
        }
      }
      newState.set(p, st);
    }
    // Only now mutate, so a bad state dict leaves the optimizer as it was.
    groups.forEach((saved: Record<string, unknown>, gi) => {
      const g = this.paramGroups[gi] as Record<string, unknown>;
      for (const [k, v] of Object.entries(saved)) if (k !== 'params') g[k] = Array.isArray(v) ? [...v] : v;
    });
    this.state.clear();
    for (const [p, st] of newState) this.state.set(p, st);
    if (typeof stateDict.stepCount === 'number') this.stepCount = stateDict.stepCount;
  }

  toString(): string {
    const lines = [`${this.name} (`];
    this.paramGroups.forEach((g, i) => {
      lines.push(`Parameter Group ${i}`);
      for (const [k, v] of Object.entries(g)) {
        if (k !== 'params') lines.push(`    ${k}: ${Array.isArray(v) ? `[${v.join(', ')}]` : String(v)}`);
      }
    });
    lines.push(')');
    return lines.join('\n');
  }
}

export function checkNonNegative(where: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
    throw new Error(`${where}: invalid ${name} ${String(v)} (expected a finite number >= 0)`);
  }
}

export function checkBeta(where: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) {
    throw new Error(`${where}: invalid ${name} ${String(v)} (expected 0 <= ${name} < 1)`);
  }
}

/** Σ d in float64, with four accumulators so the additions do not wait on each other. */
/** Sum of every k-th value of d, k chosen for at most ~4096 terms. */
function sampledSum(d: Float32Array): number {
  const step = Math.max(1, Math.floor(d.length / 4096));
  let s = 0;
  for (let i = 0; i < d.length; i += step) s += d[i];
  return s;
}

/** The state buffer `key`, created as zeros the first time. */
export function buffer(state: ParamState, key: string, n: number): Float32Array {
  let b = state[key];
  if (!(b instanceof Float32Array)) {
    b = new Float32Array(n);
    state[key] = b;
  }
  return b;
}
