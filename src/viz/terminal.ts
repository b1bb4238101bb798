/**
 * The loss curve drawn in text (asciichart), for the end of a run in a terminal: train and
 * validation loss over epochs, with a legend line. One epoch gives a flat line, which is honest.
 */
import asciichart from 'asciichart';

import { curvePoints, type HistoryLike } from './history.js';

export interface TextChartOptions {
  /** Which metric (default 'loss'). */
  metric?: string;
  /** Rows of the plot (default 10). */
  height?: number;
  /** Columns of the plot when there are fewer epochs (default 40). */
  width?: number;
  /** Use ANSI colours (default: when stdout is a TTY). */
  colour?: boolean;
}

/** The metric's train (and validation) curve as text, or '' when the history has no such values. */
export function textCurve(history: HistoryLike, options: TextChartOptions = {}): string {
  const metric = options.metric ?? 'loss';
  const points = curvePoints(history, 'viz.textCurve').filter((p) => p.metric === metric);
  if (points.length === 0) return '';
  const series = (['train', 'validation'] as const)
    .map((split) => points.filter((p) => p.split === split).sort((a, b) => a.epoch - b.epoch))
    .filter((s) => s.length > 0);
  const colour = options.colour ?? Boolean(process.stdout.isTTY);
  const palette = [asciichart.blue, asciichart.yellow];
  const height = options.height ?? 10;
  // asciichart puts one value per column: stretch short runs to about 40 columns by linear
  // interpolation so that a few epochs still read as a slope (one epoch is a flat line).
  const lines = series.map((s) =>
    stretch(
      s.map((p) => p.value),
      options.width ?? 40,
    ),
  );
  const format = (x: number): string => x.toFixed(4).padStart(9);
  const epochs = Math.max(...points.map((p) => p.epoch));
  const axis = `${' '.repeat(11)}epochs 1..${epochs}`;
  if (colour) {
    const chart = asciichart.plot(lines, { height, format, colors: palette.slice(0, lines.length) });
    const legend = series
      .map((s, i) => `${palette[i]}━━ ${s[0].split} ${metric}${asciichart.reset}`)
      .join('   ');
    return `${chart}\n${axis}   ${legend}`;
  }
  // Without colour two lines in one chart cannot be told apart: one small chart per series.
  return series
    .map((s, i) => `${s[0].split} ${metric}\n${asciichart.plot(lines[i], { height, format })}`)
    .join('\n')
    .concat(`\n${axis}`);
}

/**
 * Any series as a text chart (e.g. the per-batch training loss of a short run), averaged down to
 * `width` columns so that noise does not hide the trend.
 */
export function textSeries(
  values: readonly number[],
  options: { label?: string; height?: number; width?: number; colour?: boolean } = {},
): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const width = options.width ?? 60;
  const cols: number[] = [];
  const per = finite.length / Math.min(width, finite.length);
  for (let c = 0; c < Math.min(width, finite.length); c++) {
    const part = finite.slice(
      Math.floor(c * per),
      Math.max(Math.floor((c + 1) * per), Math.floor(c * per) + 1),
    );
    cols.push(part.reduce((a, b) => a + b, 0) / part.length);
  }
  const colour = options.colour ?? Boolean(process.stdout.isTTY);
  const chart = asciichart.plot(stretch(cols, Math.min(width, 40)), {
    height: options.height ?? 10,
    format: (x: number) => x.toFixed(4).padStart(9),
    ...(colour ? { colors: [asciichart.blue] } : {}),
  });
  return options.label ? `${options.label}\n${chart}` : chart;
}

function stretch(values: number[], width: number): number[] {
  if (values.length === 1) return new Array<number>(Math.max(2, width)).fill(values[0]);
  if (values.length >= width) return values;
  const out: number[] = [];
  const step = (values.length - 1) / (width - 1);
  for (let i = 0; i < width; i++) {
    const x = i * step;
    const j = Math.min(values.length - 2, Math.floor(x));
    out.push(values[j] + (values[j + 1] - values[j]) * (x - j));
  }
  return out;
}
