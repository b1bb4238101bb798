/**
 * Loss and metric curves per epoch, train against validation, one panel per metric (loss first),
 * like the lecture's plot of `history.history['loss']` and `['val_loss']`.
 */
import type { ChartSpec } from './render.js';
import { writeChart, type RenderOptions } from './render.js';
import { curvePoints, type HistoryLike } from './history.js';

export interface CurvesOptions {
  title?: string;
  /** Only these metrics (as named without the validation prefix: 'loss', 'accuracy'). */
  metrics?: readonly string[];
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
  const maxEpoch = Math.max(...points.map((p) => p.epoch));
  return {
    title: options.title,
    data: { values: points },
    facet: { column: { field: 'metric', type: 'nominal', sort: metrics, title: null } },
    spec: {
      width: options.width ?? 320,
      height: options.height ?? 220,
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'epoch',
          type: 'quantitative',
          title: 'epoch',
          scale: { domain: [Math.min(1, ...points.map((p) => p.epoch)), Math.max(maxEpoch, 2)] },
          axis: { tickMinStep: 1, format: 'd' },
        },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: {
          field: 'split',
          type: 'nominal',
          title: null,
          scale: { domain: ['train', 'validation'], range: ['#1f77b4', '#ff7f0e'] },
        },
        tooltip: [
          { field: 'metric' },
          { field: 'split' },
          { field: 'epoch' },
          { field: 'value', format: '.4f' },
        ],
      },
    },
    resolve: { scale: { y: 'independent' } },
  } as ChartSpec;
}

/** Writes the curves to each file (`curves.png`, `curves.svg`). */
export async function plotCurves(
  history: HistoryLike,
  files: string | readonly string[],
  options: CurvesOptions & RenderOptions = {},
): Promise<void> {
  await writeChart(curvesSpec(history, options), files, options);
}
