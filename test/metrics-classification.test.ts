/** Metrics against values worked out by hand on small cases. */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { tensor } from '../src/tensor/creation.js';
import type { Tensor } from '../src/tensor/tensor.js';
import * as metrics from '../src/metrics/index.js';

const near = (a: number, b: number, what = '') =>
  assert.ok(Math.abs(a - b) < 1e-6, `${what}: got ${a}, expected ${b}`);
const arr = (t: number | Tensor) => Array.from((t as Tensor).data);

// Three classes. target: 0 0 1 1 2 2; predicted: 0 1 1 1 0 2.
// Confusion matrix (rows true): [[1,1,0],[0,2,0],[1,0,1]]
// class 0: tp 1 fp 1 fn 1; class 1: tp 2 fp 1 fn 0; class 2: tp 1 fp 0 fn 1.
const target = tensor(new Int32Array([0, 0, 1, 1, 2, 2]));
const predLabels = tensor(new Int32Array([0, 1, 1, 1, 0, 2]));
// The same predictions as scores (argmax gives predLabels); second-best classes chosen for top-2.
const scores = tensor([
  [0.7, 0.2, 0.1], // pred 0, target 0
  [0.3, 0.6, 0.1], // pred 1, target 0 (top-2 hit)
  [0.1, 0.8, 0.1], // pred 1, target 1
  [0.2, 0.5, 0.3], // pred 1, target 1
  [0.5, 0.1, 0.4], // pred 0, target 2 (top-2 hit)
  [0.1, 0.1, 0.8], // pred 2, target 2
]);

test('multiclass accuracy: micro, macro, per class, top-k', () => {
  const micro = new metrics.Accuracy({ task: 'multiclass', numClasses: 3 });
  micro.update(predLabels, target);
  near(micro.compute() as number, 4 / 6, 'micro');
  const macro = new metrics.Accuracy({ numClasses: 3, average: 'macro' });
  macro.update(scores, target);
  near(macro.compute() as number, (0.5 + 1 + 0.5) / 3, 'macro');
  const none = new metrics.Accuracy({ numClasses: 3, average: 'none' });
  none.update(scores, target);
  assert.deepEqual(arr(none.compute()), [0.5, 1, 0.5]);
  const top2 = new metrics.Accuracy({ numClasses: 3, topK: 2 });
  top2.update(scores, target);
  near(top2.compute() as number, 1, 'top2');
  assert.equal(top2.name, 'top2_accuracy');
});

test('multiclass precision, recall, F1: micro, macro, weighted, none', () => {
  const p = new metrics.Precision({ numClasses: 3, average: 'none' });
  p.update(scores, target);
  near(arr(p.compute())[0], 0.5);
  near(arr(p.compute())[1], 2 / 3);
  near(arr(p.compute())[2], 1);
  const pm = new metrics.Precision({ numClasses: 3, average: 'macro' });
  pm.update(scores, target);
  near(pm.compute() as number, (0.5 + 2 / 3 + 1) / 3, 'precision macro');
  const r = new metrics.Recall({ numClasses: 3, average: 'weighted' });
  r.update(scores, target);
  near(r.compute() as number, (2 * 0.5 + 2 * 1 + 2 * 0.5) / 6, 'recall weighted');
  const f = new metrics.F1Score({ numClasses: 3, average: 'none' });
  f.update(scores, target);
  const f1 = arr(f.compute());
  near(f1[0], 0.5); // 2·1 / (2 + 1 + 1)
  near(f1[1], 0.8); // 4 / (4 + 1 + 0)
  near(f1[2], 2 / 3); // 2 / (2 + 0 + 1)
  const fMicro = new metrics.F1Score({ numClasses: 3 });
  fMicro.update(scores, target);
  near(fMicro.compute() as number, 4 / 6, 'F1 micro equals accuracy for single-label');
});

test('macro averages skip classes absent from both predictions and targets', () => {
  const p = new metrics.Precision({ numClasses: 4, average: 'macro' });
  p.update(predLabels, target);
  near(p.compute() as number, (0.5 + 2 / 3 + 1) / 3);
});

test('accumulates across updates; reset starts over; forward gives the batch value', () => {
  const acc = new metrics.Accuracy({ numClasses: 3 });
  acc.update(predLabels.slice(0, 0, 3), target.slice(0, 0, 3)); // 2 of 3 right
  acc.update(predLabels.slice(0, 3, 6), target.slice(0, 3, 6)); // 2 of 3 right
  near(acc.compute() as number, 4 / 6);
  near(acc.forward(tensor(new Int32Array([2])), tensor(new Int32Array([2]))) as number, 1);
  near(acc.compute() as number, 5 / 7);
  acc.reset();
  acc.update(tensor(new Int32Array([1])), tensor(new Int32Array([2])));
  near(acc.compute() as number, 0);
});

test('confusion matrix: counts and normalisations', () => {
  const cm = new metrics.ConfusionMatrix({ numClasses: 3 });
  cm.update(scores, target);
  const m = cm.compute();
  assert.equal(m.dtype, 'int32');
  assert.deepEqual(m.toArray(), [
    [1, 1, 0],
    [0, 2, 0],
    [1, 0, 1],
  ]);
  const byTrue = new metrics.ConfusionMatrix({ numClasses: 3, normalize: 'true' });
  byTrue.update(scores, target);
  assert.deepEqual(arr(byTrue.compute()), [0.5, 0.5, 0, 0, 1, 0, 0.5, 0, 0.5]);
  const byPred = new metrics.ConfusionMatrix({ numClasses: 3, normalize: 'pred' });
  byPred.update(scores, target);
  near(arr(byPred.compute())[0], 0.5);
  near(arr(byPred.compute())[1], 1 / 3);
});

// Binary: probabilities, threshold 0.5 (strictly above is positive).
// target 1 1 1 0 0 0 0 1; probs → pred 1 0 1 1 0 0 0 1: tp 3, fn 1, fp 1, tn 3.
const bTarget = tensor([1, 1, 1, 0, 0, 0, 0, 1]);
const bProbs = tensor([0.9, 0.2, 0.6, 0.7, 0.5, 0.1, 0.3, 0.8]);

test('binary: accuracy, precision, recall, F1 from probabilities, logits and labels', () => {
  const acc = new metrics.Accuracy({ task: 'binary' });
  acc.update(bProbs, bTarget);
  near(acc.compute() as number, 6 / 8);
  const p = new metrics.Precision({ task: 'binary' });
  p.update(bProbs, bTarget);
  near(p.compute() as number, 3 / 4);
  const r = new metrics.Recall({ task: 'binary' });
  r.update(bProbs.reshape(8, 1), bTarget);
  near(r.compute() as number, 3 / 4);
  const f = new metrics.F1Score({ task: 'binary' });
  // Logits (values outside [0, 1]) go through a sigmoid first: sign decides.
  f.update(tensor([3, -1, 0.5, 2, -0.1, -3, -2, 1.5]), bTarget);
  near(f.compute() as number, 6 / (6 + 1 + 1));
  const cm = new metrics.ConfusionMatrix({ task: 'binary' });
  cm.update(tensor(new Int32Array([1, 0, 1, 1, 0, 0, 0, 1])), bTarget);
  assert.deepEqual(cm.compute().toArray(), [
    [3, 1],
    [1, 3],
  ]);
});

test('threshold and task inference', () => {
  const p = new metrics.Precision({ task: 'binary', threshold: 0.75 });
  p.update(bProbs, bTarget); // positives: 0.9, 0.8 → both right
  near(p.compute() as number, 1);
  const inferred = new metrics.Accuracy();
  inferred.update(scores, target);
  near(inferred.compute() as number, 4 / 6);
});

test('bad inputs name the metric and say what was expected', () => {
  const acc = new metrics.Accuracy({ numClasses: 3 });
  assert.throws(
    () => acc.update(scores, tensor(new Int32Array([0, 1]))),
    /Accuracy\.update: .*different numbers of samples/,
  );
  assert.throws(
    () => acc.update(scores, tensor(new Int32Array([0, 1, 2, 3, 0, 1]))),
    /target 3 is 3, expected a class label in 0\.\.2/,
  );
  assert.throws(() => new metrics.F1Score({ average: 'mean' as 'micro' }), /F1Score: average must be/);
  assert.throws(
    () => new metrics.Recall().update(tensor(new Int32Array([0, 5])), tensor(new Int32Array([0, 1]))),
    /Recall\.update: prediction 1 is 5/,
  );
  assert.throws(
    () => new metrics.Accuracy({ task: 'binary' }).update(bProbs, tensor([0, 1, 2, 0, 0, 0, 0, 1])),
    /task: 'multiclass'/,
  );
});

test('regression: MSE, RMSE, MAE', () => {
  const preds = tensor([2.5, 0, 2, 8]);
  const target = tensor([3, -0.5, 2, 7]);
  const mse = new metrics.MeanSquaredError();
  mse.update(preds, target);
  near(mse.compute(), 0.375);
  const rmse = new metrics.MeanSquaredError({ squared: false });
  rmse.update(preds, target);
  near(rmse.compute(), Math.sqrt(0.375));
  const mae = new metrics.MeanAbsoluteError();
  mae.update(preds.slice(0, 0, 2), target.slice(0, 0, 2));
  mae.update(preds.slice(0, 2, 4), target.slice(0, 2, 4));
  near(mae.compute(), 0.5);
  assert.throws(() => mae.update(preds, tensor([1])), /MeanAbsoluteError\.update/);
});
