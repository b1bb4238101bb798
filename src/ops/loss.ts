/**
 * Losses with PyTorch's exact formulas: cross-entropy (class or probability targets, class
 * weights, ignoreIndex, label smoothing, (N, C, d1, ...) inputs), NLL, MSE, L1, BCE and BCE with
 * logits. nllLoss and the elementwise losses have hand-written gradients; crossEntropy composes
 * logSoftmax with them, as PyTorch does.
 */
import { record } from '../autograd/graph.js';
import { Tensor } from '../tensor/tensor.js';
import { formatShape, shapesEqual } from '../tensor/shape.js';
import { expandData, mul, neg, div } from './elementwise.js';
import { sum, mean } from './reduce.js';
import { reshape } from './shape.js';
import { logSoftmax } from './activation.js';
import { checkCrossEntropyInput } from '../doctor-checks.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface NllLossOptions {
  /** One weight per class. */
  weight?: Tensor | null;
  /** Targets equal to this contribute nothing (default -100). */
  ignoreIndex?: number;
  reduction?: Reduction;
}

export interface CrossEntropyOptions extends NllLossOptions {
  /** ε: the target becomes (1 − ε)·onehot + ε/C (default 0). */
  labelSmoothing?: number;
}

function checkReduction(op: string, r: string): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') {
    throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${r}'`);
  }
  return r;
}

interface ClassLayout {
  n: number;
  c: number;
  /** Product of the trailing dims d1, d2, ... (1 for (N, C)). */
  inner: number;
  /** Target / per-element loss shape: input shape without the class dim. */
  targetShape: number[];
}

function classLayout(op: string, input: Tensor): ClassLayout {
  if (input.ndim === 0)
    throw new Error(`${op}: expected input of shape (N, C) or (N, C, d1, ...), got a scalar`);
  if (input.ndim === 1) return { n: 1, c: input.shape[0], inner: 1, targetShape: [] };
  const [n, c] = input.shape;
  let inner = 1;
  for (let d = 2; d < input.ndim; d++) inner *= input.shape[d];
  return { n, c, inner, targetShape: [n, ...input.shape.slice(2)] };
}

/** Checks class targets: int32, the right shape, each in [0, C) or equal to ignoreIndex. */
function checkClassTargets(
  op: string,
  input: Tensor,
  target: Tensor,
  L: ClassLayout,
  ignoreIndex: number,
): void {
  if (!shapesEqual(target.shape, L.targetShape)) {
    throw new Error(
      `${op}: expected target of shape ${formatShape(L.targetShape)} for input ${formatShape(input.shape)}, got ${formatShape(target.shape)}`,
    );
  }
  const t = target.data;
  for (let i = 0; i < t.length; i++) {
    const v = t[i];
    if (v !== ignoreIndex && (v < 0 || v >= L.c || !Number.isInteger(v))) {
      throw new Error(
        `${op}: target ${v} (at index ${i}) is out of bounds for ${L.c} classes (expected 0..${L.c - 1}` +
          (ignoreIndex < 0 || ignoreIndex >= L.c ? ` or ignoreIndex ${ignoreIndex})` : ')'),
      );
    }
  }
}

function checkWeight(op: string, weight: Tensor | null | undefined, c: number): void {
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== c)) {
    throw new Error(
      `${op}: expected weight of shape [${c}] (one per class), got ${formatShape(weight.shape)}`,
    );
  }
}

/**
 * Negative log-likelihood of log-probabilities `input` (N, C, ...) at class targets (int32).
 * 'mean' divides by the summed weights of the non-ignored targets, as PyTorch does.
 */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  return nll('nllLoss', input, target, options);
}

function nll(op: string, input: Tensor, target: Tensor, options: NllLossOptions): Tensor {
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  const ignoreIndex = options.ignoreIndex ?? -100;
  const weight = options.weight ?? null;
  if (target.dtype !== 'int32') {
    throw new Error(`${op}: expected class targets as an int32 tensor, got ${target.dtype}`);
  }
  const L = classLayout(op, input);
  checkWeight(op, weight, L.c);
  checkClassTargets(op, input, target, L, ignoreIndex);
  const { n, c, inner } = L;
  const x = input.data;
  const t = target.data;
  const wd = weight ? weight.data : null;
  const m = n * inner;
  // Per target element: its weight (0 when ignored) and the position of its log-probability.
  const w = new Float32Array(m);
  const pos = new Int32Array(m);
  const per = new Float32Array(m);
  let wsum = 0;
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < inner; i++) {
      const j = s * inner + i;
      const cls = t[j];
      if (cls === ignoreIndex) continue;
      const wj = wd ? wd[cls] : 1;
      w[j] = wj;
      pos[j] = (s * c + cls) * inner + i;
      per[j] = -wj * x[pos[j]];
      wsum += wj;
    }
  }
  let out: Tensor;
  if (reduction === 'none') out = new Tensor(per, L.targetShape);
  else {
    let total = 0;
    for (let j = 0; j < m; j++) total += per[j];
    out = new Tensor(new Float32Array([reduction === 'sum' ? total : total / wsum]), []);
  }
  return record(out, op, [input], (g) => {
    const gd = g.data;
    const dx = new Float32Array(input.numel());
    const scale = reduction === 'mean' ? 1 / wsum : 1;
    for (let j = 0; j < m; j++) {
      if (w[j] === 0) continue;
      dx[pos[j]] = -w[j] * (reduction === 'none' ? gd[j] : gd[0] * scale);
    }
    return [new Tensor(dx, input.shape)];
  });
}

/** `t` (one value per class) reshaped to broadcast along the class dim of an (N, C, ...) tensor. */
function alongClassDim(t: Tensor, ndim: number): Tensor {
  if (ndim <= 1) return t;
  const shape = new Array<number>(ndim).fill(1);
  shape[1] = t.shape[0];
  return reshape(t, shape);
}

/**
 * Cross-entropy between logits `input` (N, C) or (N, C, d1, ...) and either class targets (int32,
 * shape (N, d1, ...)) or class probabilities (float32, the input's shape). Same formulas as
 * torch.nn.functional.cross_entropy, including how weights and label smoothing enter the mean.
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new Error(`${op}: labelSmoothing must be between 0 and 1, got ${eps}`);
  const weight = options.weight ?? null;
  const ignoreIndex = options.ignoreIndex ?? -100;
  const L = classLayout(op, input);
  checkWeight(op, weight, L.c);
  const classDim = input.ndim === 1 ? 0 : 1;
  // The doctor: probabilities in place of logits mean softmax was applied twice.
  checkCrossEntropyInput(input);
  const logp = logSoftmax(input, classDim);

  if (target.dtype === 'float32') {
    // Probability targets: −Σ_c w_c·t_c·log p_c per element; 'mean' divides by N·d1·…
    if (!shapesEqual(target.shape, input.shape)) {
      throw new Error(
        `${op}: probability targets must have the input's shape ${formatShape(input.shape)}, got ${formatShape(target.shape)} (class-index targets must be int32)`,
      );
    }
    let t: Tensor = target;
    if (eps > 0) t = mul(target, 1 - eps).add(eps / L.c);
    let prod = mul(logp, t);
    if (weight) prod = mul(prod, alongClassDim(weight, input.ndim));
    const per = neg(sum(prod, classDim));
    if (reduction === 'none') return per;
    if (reduction === 'sum') return sum(per);
    return div(sum(per), input.numel() / L.c);
  }

  const nllOut = nll(op, logp, target, { weight, ignoreIndex, reduction });
  if (eps === 0) return nllOut;
  // Label smoothing adds ε/C · (−Σ_c w_c·log p_c), zero at ignored targets; PyTorch's 'mean'
  // divides that by the summed target weights when weighted, else by the number of elements.
  let prod = logp;
  if (weight) prod = mul(prod, alongClassDim(weight, input.ndim));
  const keep = new Float32Array(target.numel());
  const td = target.data;
  let wsum = 0;
  for (let i = 0; i < keep.length; i++) {
    if (td[i] !== ignoreIndex) {
      keep[i] = 1;
      wsum += weight ? weight.data[td[i]] : 1;
    }
  }
  const smooth = mul(neg(sum(prod, classDim)), new Tensor(keep, L.targetShape));
  let smoothRed: Tensor;
  if (reduction === 'none') smoothRed = smooth;
  else if (reduction === 'sum') smoothRed = sum(smooth);
  else smoothRed = weight ? div(sum(smooth), wsum) : mean(smooth);
  return mul(nllOut, 1 - eps).add(mul(smoothRed, eps / L.c));
}

function checkPair(op: string, input: Tensor, target: Tensor): void {
  if (input.dtype !== 'float32' || target.dtype !== 'float32') {
    throw new Error(`${op}: input and target must be float32, got ${input.dtype} and ${target.dtype}`);
  }
  if (!shapesEqual(input.shape, target.shape)) {
    throw new Error(
      `${op}: target shape ${formatShape(target.shape)} must match input shape ${formatShape(input.shape)}`,
    );
  }
}

/**
 * A loss that is a sum of per-element terms f(x, t): computes them and their derivatives in one
 * pass, then applies the reduction. `terms` fills loss[i], dx[i] (and dt[i] when asked).
 */
function elementwiseLoss(
  op: string,
  input: Tensor,
  target: Tensor,
  reduction: Reduction,
  terms: (loss: Float32Array, dx: Float32Array, dt: Float32Array | null) => void,
): Tensor {
  const n = input.numel();
  const loss = new Float32Array(n);
  const dx = new Float32Array(n);
  const dt = target.requiresGrad ? new Float32Array(n) : null;
  terms(loss, dx, dt);
  let out: Tensor;
  if (reduction === 'none') out = new Tensor(loss, input.shape);
  else {
    let s = 0;
    for (let i = 0; i < n; i++) s += loss[i];
    out = new Tensor(new Float32Array([reduction === 'sum' ? s : s / n]), []);
  }
  return record(out, op, [input, target], (g) => {
    const gd = g.data;
    const scale = reduction === 'mean' ? 1 / n : 1;
    const scaled = (d: Float32Array): Tensor => {
      const r = new Float32Array(n);
      if (reduction === 'none') for (let i = 0; i < n; i++) r[i] = d[i] * gd[i];
      else {
        const k = gd[0] * scale;
        for (let i = 0; i < n; i++) r[i] = d[i] * k;
      }
      return new Tensor(r, input.shape);
    };
    return [input.requiresGrad ? scaled(dx) : null, dt ? scaled(dt) : null];
  });
}

/** Mean squared error (x − t)². */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkPair('mseLoss', input, target);
  const reduction = checkReduction('mseLoss', options.reduction ?? 'mean');
  const x = input.data;
  const t = target.data;
  return elementwiseLoss('mseLoss', input, target, reduction, (loss, dx, dt) => {
    for (let i = 0; i < loss.length; i++) {
      const d = x[i] - t[i];
      loss[i] = d * d;
      dx[i] = 2 * d;
      if (dt) dt[i] = -2 * d;
    }
  });
}

/** Mean absolute error |x − t| (gradient 0 where x = t, as in PyTorch). */
export function l1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkPair('l1Loss', input, target);
  const reduction = checkReduction('l1Loss', options.reduction ?? 'mean');
  const x = input.data;
  const t = target.data;
  return elementwiseLoss('l1Loss', input, target, reduction, (loss, dx, dt) => {
    for (let i = 0; i < loss.length; i++) {
      const d = x[i] - t[i];
      loss[i] = Math.abs(d);
      dx[i] = d > 0 ? 1 : d < 0 ? -1 : 0;
      if (dt) dt[i] = -dx[i];
    }
  });
}

/** `w` broadcast to `shape` as a flat array, or null. */
function broadcastWeight(op: string, arg: string, w: Tensor | null | undefined, shape: number[]) {
  if (!w) return null;
  try {
    return expandData(w, shape);
  } catch {
    throw new Error(
      `${op}: ${arg} of shape ${formatShape(w.shape)} cannot broadcast to the input's ${formatShape(shape)}`,
    );
  }
}

/**
 * Binary cross-entropy of probabilities x ∈ [0, 1]: −w·(t·log x + (1 − t)·log(1 − x)), with each
 * log clamped to ≥ −100 as PyTorch does, so x = 0 or 1 gives a finite loss.
 */
export function bceLoss(
  input: Tensor,
  target: Tensor,
  options: { weight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  const op = 'bceLoss';
  checkPair(op, input, target);
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  const w = broadcastWeight(op, 'weight', options.weight, input.shape);
  const x = input.data;
  const t = target.data;
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] >= 0 && x[i] <= 1)) {
      throw new Error(
        `${op}: all input elements must be between 0 and 1 (probabilities; use bceWithLogitsLoss for raw scores), got ${x[i]} at index ${i}`,
      );
    }
  }
  return elementwiseLoss(op, input, target, reduction, (loss, dx, dt) => {
    for (let i = 0; i < loss.length; i++) {
      const wi = w ? w[i] : 1;
      const lx = Math.max(Math.log(x[i]), -100);
      const l1x = Math.max(Math.log(1 - x[i]), -100);
      loss[i] = -wi * (t[i] * lx + (1 - t[i]) * l1x);
      // PyTorch's gradient: w·(x − t) / max(x·(1 − x), 1e-12)
      dx[i] = (wi * (x[i] - t[i])) / Math.max(x[i] * (1 - x[i]), 1e-12);
      if (dt) dt[i] = -wi * (lx - l1x);
    }
  });
}

/**
 * Sigmoid + binary cross-entropy in one numerically stable formula:
 * (1 − t)·x + lw·(log(1 + e^(−|x|)) + max(−x, 0)), lw = 1 + (posWeight − 1)·t.
 */
export function bceWithLogitsLoss(
  input: Tensor,
  target: Tensor,
  options: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  const op = 'bceWithLogitsLoss';
  checkPair(op, input, target);
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  const w = broadcastWeight(op, 'weight', options.weight, input.shape);
  const pw = broadcastWeight(op, 'posWeight', options.posWeight, input.shape);
  const x = input.data;
  const t = target.data;
  return elementwiseLoss(op, input, target, reduction, (loss, dx, dt) => {
    for (let i = 0; i < loss.length; i++) {
      const wi = w ? w[i] : 1;
      const v = x[i];
      const lw = pw ? 1 + (pw[i] - 1) * t[i] : 1;
      // softplus(−x) = log(1 + e^(−x)), computed without overflow
      const sp = Math.log1p(Math.exp(-Math.abs(v))) + Math.max(-v, 0);
      loss[i] = wi * ((1 - t[i]) * v + lw * sp);
      const sigNeg = 1 / (1 + Math.exp(v)); // σ(−x) = −d softplus(−x)/dx
      dx[i] = wi * (1 - t[i] - lw * sigNeg);
      if (dt) dt[i] = wi * (-v + (pw ? pw[i] - 1 : 0) * sp);
    }
  });
}
