/**
 * `metrics`: stateful metrics as torchmetrics (`update(preds, target)`, `compute()`, `reset()`).
 *
 *   const acc = new metrics.Accuracy({ task: 'multiclass', numClasses: 10 });
 *   for (const [x, y] of batches) acc.update(model.forward(x), y);
 *   acc.compute();   // 0.93
 */
export { Metric } from './metric.js';
export { Accuracy, Precision, Recall, F1Score, ConfusionMatrix } from './classification.js';
export type { Average, ClassificationOptions, Task } from './classification.js';
export { MeanSquaredError, MeanAbsoluteError } from './regression.js';
