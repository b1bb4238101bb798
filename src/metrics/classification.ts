/**
 * Classification metrics for binary and multiclass tasks, as torchmetrics: Accuracy (top-k),
 * Precision, Recall, F1Score, ConfusionMatrix. All keep one confusion matrix (rows: true class,
 * columns: predicted) and derive their value from it, so `update` is O(batch) and `compute` O(C²).
 *
 * Predictions may be class scores [N, C] (logits or probabilities: the argmax is the prediction),
 * class labels [N], or for binary tasks probabilities/logits [N] or [N, 1] (logits, detected as values
 * outside [0, 1], go through a sigmoid; then `> threshold` is positive). Targets are labels [N].
 *
 * Averages: 'micro' pools every sample (the default, as torchmetrics' Accuracy(task=...)); 'macro' is
 * the mean over classes, skipping classes that appear in neither predictions nor targets;
 * 'weighted' weighs classes by their support; 'none' returns one value per class.
 */
import { Tensor } from '../tensor/tensor.js';
import { Metric, safeDivide } from './metric.js';

export type Task = 'binary' | 'multiclass';
export type Average = 'micro' | 'macro' | 'weighted' | 'none';

export interface ClassificationOptions {
  /** Inferred on the first update when left out: [N, C>1] scores or numClasses > 2 mean multiclass. */
  task?: Task;
  /** Inferred from [N, C] scores when left out. */
  numClasses?: number;
  average?: Average;
  /** Binary tasks: probabilities above it are positive (default 0.5). */
  threshold?: number;
  /** Targets with this value are skipped (e.g. padding). */
  ignoreIndex?: number;
  /** Overrides the name fit() records it under. */
  name?: string;
}

abstract class ClassificationMetric<R = number> extends Metric<R> {
  protected task: Task | undefined;
  protected numClasses: number | undefined;
  readonly average: Average;
  readonly threshold: number;
  readonly ignoreIndex: number | undefined;
  /** counts[t * C + p]: samples of true class t predicted as p. */
  protected counts: Float64Array | null = null;

  protected constructor(
    private readonly kind: string,
    protected readonly options: ClassificationOptions,
    defaultName: string,
  ) {
    super(options.name ?? defaultName);
    const o = options;
    if (o.task !== undefined && o.task !== 'binary' && o.task !== 'multiclass') {
      throw new Error(`${kind}: task must be 'binary' or 'multiclass', got '${String(o.task)}'`);
    }
    if (o.numClasses !== undefined && (!Number.isInteger(o.numClasses) || o.numClasses < 2)) {
      throw new Error(`${kind}: numClasses must be an integer >= 2, got ${o.numClasses}`);
    }
    const avg = o.average ?? 'micro';
    if (!['micro', 'macro', 'weighted', 'none'].includes(avg)) {
      throw new Error(
        `${kind}: average must be 'micro', 'macro', 'weighted' or 'none', got '${String(avg)}'`,
      );
    }
    this.task = o.task;
    this.numClasses = o.task === 'binary' ? 2 : o.numClasses;
    this.average = avg;
    this.threshold = o.threshold ?? 0.5;
    this.ignoreIndex = o.ignoreIndex;
  }

  reset(): void {
    this.counts = null;
  }

  /** Turns a batch into predicted and true labels (validating shapes and ranges), then counts them. */
  update(preds: Tensor, target: Tensor): void {
    const { predLabels, trueLabels } = this.labels(preds, target);
    const C = this.numClasses!;
    if (this.counts === null) this.counts = new Float64Array(C * C);
    for (let i = 0; i < trueLabels.length; i++) {
      const t = trueLabels[i];
      if (t === this.ignoreIndex) continue;
      this.counts[t * C + predLabels[i]]++;
    }
    this.afterUpdate(preds, trueLabels);
  }

  /** Hook for metrics that need more than the confusion matrix (top-k accuracy). */
  protected afterUpdate(_preds: Tensor, _target: Int32Array): void {}

  protected labels(preds: Tensor, target: Tensor): { predLabels: Int32Array; trueLabels: Int32Array } {
    const k = this.kind;
    if (!(preds instanceof Tensor) || !(target instanceof Tensor)) {
      throw new Error(`${k}.update: expected (preds: Tensor, target: Tensor)`);
    }
    const n = target.numel();
    if (target.ndim > 1 && !(target.ndim === 2 && target.shape[1] === 1)) {
      throw new Error(`${k}.update: target should be class labels of shape [N], got [${target.shape}]`);
    }
    const scores = preds.ndim === 2 && preds.shape[1] > 1;
    if (this.task === undefined) {
      this.task = scores || (this.numClasses ?? 2) > 2 ? 'multiclass' : 'binary';
      if (this.task === 'binary') this.numClasses = 2;
    }
    if (this.numClasses === undefined) {
      if (!scores) {
        throw new Error(
          `${k}.update: can't tell the number of classes from label predictions [${preds.shape}]; ` +
            'pass { numClasses } or give class scores [N, C]',
        );
      }
      this.numClasses = preds.shape[1];
    }
    const C = this.numClasses;
    const rows = scores ? preds.shape[0] : preds.numel();
    if (rows !== n) {
      throw new Error(
        `${k}.update: preds [${preds.shape}] and target [${target.shape}] have different numbers of samples`,
      );
    }
    const trueLabels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const t = target.data[i];
      if (t === this.ignoreIndex) {
        trueLabels[i] = t;
        continue;
      }
      if (!Number.isInteger(t) || t < 0 || t >= C) {
        throw new Error(
          `${k}.update: target ${i} is ${t}, expected a class label in 0..${C - 1}` +
            (this.task === 'binary' && Number.isInteger(t) && t > 1
              ? " (for more than two classes pass { task: 'multiclass', numClasses })"
              : ''),
        );
      }
      trueLabels[i] = t;
    }
    const predLabels = new Int32Array(n);
    const d = preds.data;
    if (scores) {
      if (preds.shape[1] !== C) {
        throw new Error(`${k}.update: preds have ${preds.shape[1]} class scores, expected numClasses = ${C}`);
      }
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (d[i * C + c] > d[i * C + best]) best = c;
        predLabels[i] = best;
      }
    } else if (this.task === 'binary' && preds.dtype === 'float32' && !isIntegral(d)) {
      let outside = false;
      for (let i = 0; i < n; i++) if (d[i] < 0 || d[i] > 1) outside = true;
      for (let i = 0; i < n; i++) {
        const p = outside ? 1 / (1 + Math.exp(-d[i])) : d[i];
        predLabels[i] = p > this.threshold ? 1 : 0;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const p = d[i];
        if (!Number.isInteger(p) || p < 0 || p >= C) {
          throw new Error(`${k}.update: prediction ${i} is ${p}, expected a class label in 0..${C - 1}`);
        }
        predLabels[i] = p;
      }
    }
    return { predLabels, trueLabels };
  }

  /** tp, fp, fn per class (for binary: only the positive class). */
  protected stats(): { tp: number[]; fp: number[]; fn: number[]; total: number } {
    const C = this.numClasses ?? 2;
    const cm = this.counts ?? new Float64Array(C * C);
    const tp: number[] = [];
    const fp: number[] = [];
    const fn: number[] = [];
    let total = 0;
    for (let c = 0; c < C; c++) {
      let row = 0;
      let col = 0;
      for (let j = 0; j < C; j++) {
        row += cm[c * C + j];
        col += cm[j * C + c];
      }
      total += row;
      tp.push(cm[c * C + c]);
      fp.push(col - cm[c * C + c]);
      fn.push(row - cm[c * C + c]);
    }
    if (this.task === 'binary') return { tp: [tp[1]], fp: [fp[1]], fn: [fn[1]], total };
    return { tp, fp, fn, total };
  }

  /**
   * Reduces per-class scores num/den by `average`; micro divides the summed numerators and
   * denominators instead. Binary tasks have a single (positive) class, so averages coincide.
   */
  protected reduce(num: number[], den: number[], ignore: boolean[], support: number[]): number | Tensor {
    if (this.average === 'micro') return safeDivide(sum(num), sum(den));
    const scores = num.map((x, i) => safeDivide(x, den[i]));
    if (this.average === 'none') return new Tensor(Float32Array.from(scores), [scores.length]);
    const w = this.average === 'weighted' ? support : ignore.map((ig) => (ig ? 0 : 1));
    return safeDivide(
      scores.reduce((s, x, i) => s + x * w[i], 0),
      sum(w),
    );
  }

  protected abstract fresh(): ClassificationMetric<R>;

  clone(): ClassificationMetric<R> {
    const m = this.fresh();
    m.name = this.name;
    return m;
  }
}

function sum(a: number[]): number {
  return a.reduce((s, x) => s + x, 0);
}

function isIntegral(d: ArrayLike<number>): boolean {
  for (let i = 0; i < d.length; i++) if (!Number.isInteger(d[i])) return false;
  return true;
}

/** Accuracy; with topK > 1 a sample counts as right when its class is among the k highest scores. */
export class Accuracy extends ClassificationMetric<number | Tensor> {
  readonly topK: number;
  private topkCorrect: Float64Array | null = null;

  constructor(options: ClassificationOptions & { topK?: number } = {}) {
    super('Accuracy', options, options.topK && options.topK > 1 ? `top${options.topK}_accuracy` : 'accuracy');
    this.topK = options.topK ?? 1;
    if (!Number.isInteger(this.topK) || this.topK < 1) {
      throw new Error(`Accuracy: topK must be a positive integer, got ${options.topK}`);
    }
    if (this.topK > 1 && this.task === 'binary')
      throw new Error('Accuracy: topK > 1 needs a multiclass task');
  }

  protected fresh(): Accuracy {
    return new Accuracy(this.options as ClassificationOptions & { topK?: number });
  }

  override reset(): void {
    super.reset();
    this.topkCorrect = null;
  }

  protected override afterUpdate(preds: Tensor, target: Int32Array): void {
    if (this.topK === 1) return;
    const C = this.numClasses!;
    if (!(preds.ndim === 2 && preds.shape[1] === C)) {
      throw new Error(
        `Accuracy.update: topK = ${this.topK} needs class scores [N, ${C}], got [${preds.shape}]`,
      );
    }
    if (this.topK > C) throw new Error(`Accuracy: topK = ${this.topK} is more than the ${C} classes`);
    if (this.topkCorrect === null) this.topkCorrect = new Float64Array(C);
    const d = preds.data;
    for (let i = 0; i < target.length; i++) {
      const t = target[i];
      if (t === this.ignoreIndex) continue;
      const s = d[i * C + t];
      let above = 0;
      for (let c = 0; c < C; c++) if (d[i * C + c] > s || (d[i * C + c] === s && c < t)) above++;
      if (above < this.topK) this.topkCorrect[t]++;
    }
  }

  compute(): number | Tensor {
    const { tp, fp, fn, total } = this.stats();
    if (this.task === 'binary') {
      const C = 2;
      const cm = this.counts ?? new Float64Array(4);
      return safeDivide(cm[0] + cm[C + 1], total);
    }
    const correct = this.topK > 1 ? [...(this.topkCorrect ?? new Float64Array(tp.length))] : tp;
    const support = tp.map((t, i) => t + fn[i]);
    const ignore = this.topK > 1 ? support.map((s) => s === 0) : tp.map((t, i) => t + fp[i] + fn[i] === 0);
    return this.reduce(correct, support, ignore, support);
  }
}

/** Precision tp / (tp + fp): of the samples predicted as a class, how many are of it. */
export class Precision extends ClassificationMetric<number | Tensor> {
  constructor(options: ClassificationOptions = {}) {
    super('Precision', options, 'precision');
  }
  protected fresh(): Precision {
    return new Precision(this.options);
  }
  compute(): number | Tensor {
    const { tp, fp, fn } = this.stats();
    return this.reduce(
      tp,
      tp.map((t, i) => t + fp[i]),
      tp.map((t, i) => t + fp[i] + fn[i] === 0),
      tp.map((t, i) => t + fn[i]),
    );
  }
}

/** Recall tp / (tp + fn): of the samples of a class, how many were found. */
export class Recall extends ClassificationMetric<number | Tensor> {
  constructor(options: ClassificationOptions = {}) {
    super('Recall', options, 'recall');
  }
  protected fresh(): Recall {
    return new Recall(this.options);
  }
  compute(): number | Tensor {
    const { tp, fp, fn } = this.stats();
    const support = tp.map((t, i) => t + fn[i]);
    return this.reduce(
      tp,
      support,
      tp.map((t, i) => t + fp[i] + fn[i] === 0),
      support,
    );
  }
}

/** F1 = 2tp / (2tp + fp + fn), the harmonic mean of precision and recall. */
export class F1Score extends ClassificationMetric<number | Tensor> {
  constructor(options: ClassificationOptions = {}) {
    super('F1Score', options, 'f1');
  }
  protected fresh(): F1Score {
    return new F1Score(this.options);
  }
  compute(): number | Tensor {
    const { tp, fp, fn } = this.stats();
    return this.reduce(
      tp.map((t) => 2 * t),
      tp.map((t, i) => 2 * t + fp[i] + fn[i]),
      tp.map((t, i) => t + fp[i] + fn[i] === 0),
      tp.map((t, i) => t + fn[i]),
    );
  }
}

/**
 * The confusion matrix [C, C] (rows: true class, columns: predicted; binary: C = 2), as counts or
 * normalised over true classes (rows), predictions (columns) or everything.
 */
export class ConfusionMatrix extends ClassificationMetric<Tensor> {
  readonly normalize: 'none' | 'true' | 'pred' | 'all';
  constructor(options: ClassificationOptions & { normalize?: 'none' | 'true' | 'pred' | 'all' } = {}) {
    super('ConfusionMatrix', options, 'confusion_matrix');
    this.normalize = options.normalize ?? 'none';
    if (!['none', 'true', 'pred', 'all'].includes(this.normalize)) {
      throw new Error(
        `ConfusionMatrix: normalize must be 'none', 'true', 'pred' or 'all', got '${String(this.normalize)}'`,
      );
    }
  }
  protected fresh(): ConfusionMatrix {
    return new ConfusionMatrix(this.options);
  }
  compute(): Tensor {
    const C = this.numClasses;
    if (C === undefined) throw new Error('ConfusionMatrix.compute: no update yet and numClasses not given');
    const cm = this.counts ?? new Float64Array(C * C);
    if (this.normalize === 'none') return new Tensor(Int32Array.from(cm), [C, C]);
    const rowSums = new Float64Array(C);
    const colSums = new Float64Array(C);
    let all = 0;
    for (let t = 0; t < C; t++) {
      for (let p = 0; p < C; p++) {
        rowSums[t] += cm[t * C + p];
        colSums[p] += cm[t * C + p];
        all += cm[t * C + p];
      }
    }
    const out = new Float32Array(C * C);
    for (let t = 0; t < C; t++) {
      for (let p = 0; p < C; p++) {
        const den = this.normalize === 'true' ? rowSums[t] : this.normalize === 'pred' ? colSums[p] : all;
        out[t * C + p] = safeDivide(cm[t * C + p], den);
      }
    }
    return new Tensor(out, [C, C]);
  }
}
