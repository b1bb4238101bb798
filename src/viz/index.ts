/**
 * st.viz: training curves, confusion matrices, filter and feature-map grids as PNG and SVG (Vega-Lite
 * specs rendered by vega and sharp), and the loss curve as text for terminals. Node only.
 *
 *   await viz.plotCurves(history, ['curves.png', 'curves.svg']);
 *   await viz.plotConfusionMatrix(cm.compute(), 'confusion.png', { classNames });
 *   await viz.plotFilters(model.at(0), 'filters.png');
 *   console.log(viz.textCurve(history));
 */
export { renderSvg, renderPng, svgToPng, writeChart } from './render.js';
export type { ChartSpec, RenderOptions } from './render.js';
export { curvesSpec, plotCurves } from './curves.js';
export type { CurvesOptions } from './curves.js';
export { curvePoints, historyColumns } from './history.js';
export type { CurvePoint, HistoryLike, HistoryColumns, HistoryRow } from './history.js';
export { confusionMatrixSpec, plotConfusionMatrix } from './confusion.js';
export type { ConfusionOptions } from './confusion.js';
export { filtersSpec, featureMapsSpec, plotFilters, plotFeatureMaps } from './grid.js';
export type { GridOptions } from './grid.js';
export { convActivations } from './features.js';
export type { ConvActivation } from './features.js';
export { textCurve, textSeries } from './terminal.js';
export type { TextChartOptions } from './terminal.js';
