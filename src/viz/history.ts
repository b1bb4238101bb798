/**
 * Reading a training history in the shapes it comes in: Keras-like columns
 * (`{ loss: [...], valLoss: [...] }`, or an object holding them under `history`), or one row per
 * epoch (`[{ epoch: 1, loss, valLoss }, ...]`, as history.csv has). Validation series are spotted by
 * their prefix (`val`, `val_`, `valid`, `validation`), so `valAccuracy` pairs with `accuracy`.
 */
export type HistoryColumns = Record<string, readonly (number | null)[]>;
export type HistoryRow = Record<string, number | null | undefined>;
export type HistoryLike = HistoryColumns | { history: HistoryColumns } | readonly HistoryRow[];

export interface CurvePoint {
  epoch: number;
  metric: string;
  /** 'train (per batch)' for the per-batch losses drawn by curvesSpec. */
  split: 'train' | 'validation' | 'train (per batch)';
  value: number;
}

/** Columns that are bookkeeping, not curves. */
const NOT_CURVES = new Set([
  'epoch',
  'epochs',
  'step',
  'time',
  'seconds',
  'lr',
  'learningRate',
  'learning_rate',
]);

const VAL_PREFIX = /^(val|valid|validation)(_|(?=[A-Z]))/;

/** `valLoss` → { metric: 'loss', split: 'validation' }; `accuracy` → train. */
export function splitName(name: string): { metric: string; split: 'train' | 'validation' } {
  const m = VAL_PREFIX.exec(name);
  if (!m)
    return {
      metric: name.replace(/^train(_|(?=[A-Z]))/, '').replace(/^./, (c) => c.toLowerCase()),
      split: 'train',
    };
  const rest = name.slice(m[0].length);
  return { metric: rest.replace(/^./, (c) => c.toLowerCase()), split: 'validation' };
}

/** The history as columns, validating that it is one of the accepted shapes. */
export function historyColumns(history: HistoryLike, where = 'viz'): HistoryColumns {
  if (Array.isArray(history)) {
    const cols: Record<string, (number | null)[]> = {};
    history.forEach((row, i) => {
      if (typeof row !== 'object' || row === null) {
        throw new TypeError(`${where}: history row ${i} must be an object of numbers, got ${String(row)}`);
      }
      for (const [k, v] of Object.entries(row)) {
        (cols[k] ??= new Array<number | null>(i).fill(null)).push(typeof v === 'number' ? v : null);
      }
      for (const c of Object.values(cols)) if (c.length < i + 1) c.push(null);
    });
    return cols;
  }
  if (typeof history !== 'object' || history === null) {
    throw new TypeError(
      `${where}: expected a history (columns of numbers per epoch, or rows), got ${String(history)}`,
    );
  }
  const h = history as { history?: unknown };
  const cols = (
    typeof h.history === 'object' && h.history !== null && !Array.isArray(h.history) ? h.history : history
  ) as Record<string, unknown>;
  const out: HistoryColumns = {};
  for (const [k, v] of Object.entries(cols)) {
    if (Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null)) out[k] = v as number[];
  }
  return out;
}

/** Every finite value of every curve as a long-form row (epochs count from 1). */
export function curvePoints(history: HistoryLike, where = 'viz'): CurvePoint[] {
  const cols = historyColumns(history, where);
  const epochs = cols.epoch;
  const points: CurvePoint[] = [];
  for (const [name, values] of Object.entries(cols)) {
    if (NOT_CURVES.has(name)) continue;
    const { metric, split } = splitName(name);
    values.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return;
      const e = epochs?.[i];
      points.push({ epoch: typeof e === 'number' ? e : i + 1, metric, split, value: v });
    });
  }
  return points;
}
