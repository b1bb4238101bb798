/**
 * Loss and metric curves per epoch, train against validation, one panel per metric (loss first),
 * like the lecture's plot of `history.history['loss']` and `['val_loss']`.
 */
import type { ChartSpec } from './render.js';
import { writeChart, type RenderOptions } from './render.js';
import { curvePoints, type CurvePoint, type HistoryLike } from './history.js';

export interface CurvesOptions {
  title?: string;
  /** Only these metrics (as named without the validation prefix: 'loss', 'accuracy'). */
  metrics?: readonly string[];
  /**
   * Per-batch training losses (in order, `perEpoch` batches to an epoch, starting at epoch 0):
   * drawn under the epoch points in the loss panel, averaged into about 100 steps, so that a run
   * of one or two epochs still shows how the loss fell.
   */
  batchLoss?: { values: readonly number[]; perEpoch: number };
  /** Panel size in SVG units (default 320 × 220). */
  width?: number;
  height?: number;
}

/** The Vega-Lite spec of the curves. */
export function curvesSpec(history: HistoryLike, options: CurvesOptions = {}): ChartSpec {
  let points = curvePoints(history, 'viz.curves');
  if (options.metrics) {
    const wanted = new Set(options.metrics);
    points = points.filter((p) => wanted.has(p.metric));
  }
  if (points.length === 0) {
    throw new Error(
      'viz.curves: the history has no values to plot' +
        (options.metrics ? ` for metrics ${options.metrics.join(', ')}` : '') +
        " (expected columns such as 'loss' and 'valLoss' with one number per epoch)",
    );
  }
  const metrics = [...new Set(points.map((p) => p.metric))].sort((a, b) =>
    a === 'loss' ? -1 : b === 'loss' ? 1 : a.localeCompare(b),
  );
  const steps = batchSteps(options.batchLoss);
  const maxEpoch = Math.max(...points.map((p) => p.epoch));
  const minEpoch = steps.length > 0 ? 0 : Math.min(1, ...points.map((p) => p.epoch));
  const x = {
    field: 'epoch',
    type: 'quantitative',
    title: 'epoch',
    scale: { domain: [minEpoch, Math.max(maxEpoch, minEpoch + 1)] },
    axis: { tickMinStep: 1, format: 'd' },
  };
  const y = { field: 'value', type: 'quantitative', title: null, scale: { zero: false } };
  const color = {
    field: 'split',
    type: 'nominal',
    title: null,
    scale: {
      domain: ['train', 'validation', ...(steps.length > 0 ? ['train (per batch)'] : [])],
      range: ['#1f77b4', '#ff7f0e', '#9ecae1'],
    },
  };
  const tooltip = [
    { field: 'metric' },
    { field: 'split' },
    { field: 'epoch' },
    { field: 'value', format: '.4f' },
  ];
  const epochLayer = {
    transform: [{ filter: "datum.split !== 'train (per batch)'" }],
    mark: { type: 'line', point: true },
    encoding: { x, y, color, tooltip },
  };
  const stepLayer = {
    transform: [{ filter: "datum.split === 'train (per batch)'" }],
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: { x, y, color },
  };
  return {
    title: options.title,
    data: { values: [...steps, ...points] },
    facet: { column: { field: 'metric', type: 'nominal', sort: metrics, title: null } },
    spec: {
      width: options.width ?? 320,
      height: options.height ?? 220,
      layer: steps.length > 0 ? [stepLayer, epochLayer] : [epochLayer],
    },
    resolve: { scale: { y: 'independent' } },
  } as ChartSpec;
}

/** Per-batch losses averaged into about 100 points at fractional epochs (the end of each group). */
function batchSteps(b: CurvesOptions['batchLoss']): CurvePoint[] {
  if (b === undefined || b.values.length === 0) return [];
  if (!(Number.isInteger(b.perEpoch) && b.perEpoch > 0)) {
    throw new Error(`viz.curves: batchLoss.perEpoch must be a positive integer, got ${String(b.perEpoch)}`);
  }
  const group = Math.max(1, Math.ceil(b.values.length / 100));
  const out: CurvePoint[] = [];
  for (let i = 0; i < b.values.length; i += group) {
    const part = b.values.slice(i, i + group).filter((v) => Number.isFinite(v));
    if (part.length === 0) continue;
    const end = Math.min(i + group, b.values.length);
    out.push({
      epoch: end / b.perEpoch,
      metric: 'loss',
      split: 'train (per batch)' as CurvePoint['split'],
      value: part.reduce((a, c) => a + c, 0) / part.length,
    });
  }
  return out;
}

/** Writes the curves to each file (`curves.png`, `curves.svg`). */
export async function plotCurves(
  history: HistoryLike,
  files: string | readonly string[],
  options: CurvesOptions & RenderOptions = {},
): Promise<void> {
  await writeChart(curvesSpec(history, options), files, options);
}
