/**
 * The confusion matrix as a heat map with class names: rows are the true class, columns the
 * predicted one (torchmetrics' and scikit-learn's convention), each cell labelled with its count.
 * The colour is the row's share (the class's recall) so that rare classes' errors stay visible.
 */
import { Tensor } from '../tensor/tensor.js';
import type { ChartSpec } from './render.js';
import { writeChart, type RenderOptions } from './render.js';

export interface ConfusionOptions {
  /** Names of the classes in index order (default '0', '1', ...). */
  classNames?: readonly string[];
  title?: string;
  /** Colour by the row's share ('true', default) or by the raw count ('none'). */
  normalize?: 'true' | 'none';
  /** Cell size in SVG units (default: 36, or smaller for many classes). */
  cellSize?: number;
}

type MatrixLike = Tensor | readonly (readonly number[])[];

function toRows(matrix: MatrixLike): number[][] {
  if (matrix instanceof Tensor) {
    if (matrix.ndim !== 2 || matrix.shape[0] !== matrix.shape[1]) {
      throw new Error(
        `viz.confusionMatrix: expected a square [C, C] matrix, got shape [${matrix.shape.join(', ')}]`,
      );
    }
    const c = matrix.shape[0];
    const d = matrix.data;
    return Array.from({ length: c }, (_, i) => Array.from(d.subarray(i * c, (i + 1) * c)));
  }
  if (!Array.isArray(matrix) || matrix.some((r) => !Array.isArray(r) || r.length !== matrix.length)) {
    throw new Error(
      'viz.confusionMatrix: expected a square matrix (a [C, C] Tensor or C arrays of C numbers)',
    );
  }
  return matrix.map((r) => [...r]);
}

export function confusionMatrixSpec(matrix: MatrixLike, options: ConfusionOptions = {}): ChartSpec {
  const rows = toRows(matrix);
  const c = rows.length;
  if (c === 0) throw new Error('viz.confusionMatrix: the matrix is empty');
  const names = options.classNames ? [...options.classNames] : rows.map((_, i) => String(i));
  if (names.length !== c) {
    throw new Error(`viz.confusionMatrix: got ${names.length} class names for a ${c}×${c} matrix`);
  }
  if (new Set(names).size !== c) throw new Error('viz.confusionMatrix: class names must be distinct');
  const normalize = options.normalize ?? 'true';
  if (normalize !== 'true' && normalize !== 'none') {
    throw new Error(`viz.confusionMatrix: normalize must be 'true' or 'none', got ${String(normalize)}`);
  }
  const values: { actual: string; predicted: string; count: number; share: number }[] = [];
  for (let i = 0; i < c; i++) {
    const total = rows[i].reduce((a, b) => a + b, 0);
    for (let j = 0; j < c; j++) {
      values.push({
        actual: names[i],
        predicted: names[j],
        count: rows[i][j],
        share: total > 0 ? rows[i][j] / total : 0,
      });
    }
  }
  const cell = options.cellSize ?? (c <= 12 ? 36 : Math.max(12, Math.floor(480 / c)));
  const colourField = normalize === 'true' ? 'share' : 'count';
  // Text turns white on the darker half of the colour scale.
  const dark = normalize === 'true' ? 0.5 : Math.max(...values.map((v) => v.count)) / 2;
  return {
    title: options.title ?? 'confusion matrix',
    data: { values },
    width: cell * c,
    height: cell * c,
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: names, title: 'predicted', axis: { labelAngle: -45 } },
      y: { field: 'actual', type: 'nominal', sort: names, title: 'true' },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: colourField,
            type: 'quantitative',
            scale: { scheme: 'blues', ...(normalize === 'true' ? { domain: [0, 1] } : {}) },
            title: normalize === 'true' ? 'share of row' : 'count',
          },
          tooltip: [
            { field: 'actual' },
            { field: 'predicted' },
            { field: 'count' },
            { field: 'share', format: '.1%' },
          ],
        },
      },
      ...(cell >= 20
        ? [
            {
              mark: { type: 'text' as const, fontSize: Math.min(12, cell / 3) },
              encoding: {
                text: { field: 'count', type: 'quantitative' as const },
                color: {
                  condition: { test: `datum.${colourField} > ${dark}`, value: 'white' },
                  value: 'black',
                },
              },
            },
          ]
        : []),
    ],
  } as ChartSpec;
}

/** Writes the heat map to each file (`confusion.png`, `confusion.svg`). */
export async function plotConfusionMatrix(
  matrix: MatrixLike,
  files: string | readonly string[],
  options: ConfusionOptions & RenderOptions = {},
): Promise<void> {
  await writeChart(confusionMatrixSpec(matrix, options), files, options);
}
