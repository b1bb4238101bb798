/**
 * fit() end to end: a small CNN learns a tiny synthetic image task (a bright horizontal vs vertical
 * bar on 8×8 noise) to ≥ 95% with EarlyStopping and ReduceLROnPlateau active, and the same run
 * written as a PyTorch-style manual loop gives the same history, number for number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as nn from '../src/nn/index.js';
import * as optim from '../src/optim/index.js';
import { Accuracy } from '../src/metrics/index.js';
import { DataLoader, TensorDataset } from '../src/data/index.js';
import { Generator, manualSeed } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { setGradEnabled } from '../src/autograd/graph.js';
import { fit, evaluate, predict, callbacks } from '../src/train/index.js';

/** n images [n, 1, 8, 8]: class 0 a horizontal bar, class 1 a vertical one, at random places. */
function bars(n: number, seed: number): [Tensor, Tensor] {
  const g = new Generator(seed);
  const x = new Float32Array(n * 64);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    y[i] = cls;
    for (let k = 0; k < 64; k++) x[i * 64 + k] = 0.3 * g.random();
    const line = g.randint(0, 8);
    const start = g.randint(0, 3);
    for (let k = start; k < start + 5; k++) {
      const [r, c] = cls === 0 ? [line, k] : [k, line];
      x[i * 64 + r * 8 + c] = 0.7 + 0.3 * g.random();
    }
  }
  return [new Tensor(x, [n, 1, 8, 8]), new Tensor(y, [n])];
}

function makeModel(): nn.Module {
  manualSeed(0);
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(64, 2),
  );
}

const [xTrain, yTrain] = bars(96, 1);
const [xVal, yVal] = bars(48, 2);
const EPOCHS = 15;
const BATCH = 16;
const SEED = 7;

test('fit trains a small CNN to >= 95% with EarlyStopping and ReduceLROnPlateau; a manual loop gives the same history', async () => {
  const model = makeModel();
  const early = new callbacks.EarlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 0.01 });
  const plateau = new callbacks.ReduceLROnPlateau({ monitor: 'val_accuracy', patience: 1, factor: 0.5 });
  const history = await fit(model, {
    trainData: [xTrain, yTrain],
    validationData: [xVal, yVal],
    loss: new nn.CrossEntropyLoss(),
    optimizer: new optim.Adam(model.parameters(), { lr: 0.02 }),
    epochs: EPOCHS,
    batchSize: BATCH,
    metrics: ['accuracy'],
    callbacks: [early, plateau],
    seed: SEED,
    verbose: 0,
  });
  const valAcc = history.get('val_accuracy');
  const lrs = history.get('lr');
  assert.ok(lrs[lrs.length - 1] < lrs[0], `ReduceLROnPlateau lowered the rate: ${lrs}`);
  assert.ok(early.stoppedEpoch > 0 && history.epochs.length < EPOCHS, 'EarlyStopping ended the run');
  assert.match(history.stopReason ?? '', /EarlyStopping: val_loss did not improve for 2 epochs/);
  assert.ok(valAcc[valAcc.length - 1] >= 0.95, `validation accuracy ${valAcc}`);
  assert.equal(history.batches.length, history.epochs.length * (96 / BATCH));
  assert.deepEqual(Object.keys(history.history).sort(), [
    'accuracy',
    'loss',
    'lr',
    'time',
    'val_accuracy',
    'val_loss',
  ]);
  assert.ok(history.get('loss')[0] > history.get('loss')[history.epochs.length - 1], 'the loss went down');

  // The same run, by hand: the public pieces in PyTorch's order.
  const m2 = makeModel();
  manualSeed(SEED);
  const loader = new DataLoader(new TensorDataset(xTrain, yTrain), {
    batchSize: BATCH,
    shuffle: true,
    seed: SEED,
  });
  const valLoader = new DataLoader(new TensorDataset(xVal, yVal), { batchSize: BATCH, seed: 0 });
  const lossFn = new nn.CrossEntropyLoss();
  const opt = new optim.Adam(m2.parameters(), { lr: 0.02 });
  const sched = new optim.ReduceLROnPlateau(opt, {
    mode: 'max',
    patience: 1,
    factor: 0.5,
    threshold: 1e-4,
    thresholdMode: 'abs',
  });
  const manual: Record<string, number[]> = { loss: [], accuracy: [], val_loss: [], val_accuracy: [], lr: [] };
  let best = Infinity;
  let wait = 0;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    manual.lr.push(opt.paramGroups[0].lr);
    m2.train();
    const acc = new Accuracy();
    let sum = 0;
    let n = 0;
    for await (const [x, y] of loader) {
      const out = m2.forward(x);
      const loss = lossFn.forward(out, y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      sum += loss.item() * x.shape[0];
      n += x.shape[0];
      acc.update(out.detach(), y);
    }
    manual.loss.push(sum / n);
    manual.accuracy.push(acc.compute() as number);
    m2.eval();
    const prev = setGradEnabled(false);
    const vacc = new Accuracy();
    let vsum = 0;
    let vn = 0;
    for await (const [x, y] of valLoader) {
      const out = m2.forward(x);
      vsum += lossFn.forward(out, y).item() * x.shape[0];
      vn += x.shape[0];
      vacc.update(out, y);
    }
    setGradEnabled(prev);
    const valAccuracy = vacc.compute() as number;
    manual.val_loss.push(vsum / vn);
    manual.val_accuracy.push(valAccuracy);
    const valLoss = vsum / vn;
    sched.step(valAccuracy);
    // EarlyStopping by hand (Keras's rule).
    wait++;
    if (valLoss + 0.01 < best) {
      best = valLoss;
      wait = 0;
    } else if (wait >= 2 && epoch > 0) break;
  }
  for (const key of Object.keys(manual)) assert.deepEqual(history.get(key), manual[key], key);
  assert.deepEqual(
    m2.parameters().map((p) => Array.from(p.data)),
    model.parameters().map((p) => Array.from(p.data)),
    'the same final weights',
  );

  // evaluate() and predict() agree with the last validation figures.
  const ev = await evaluate(model, [xVal, yVal], {
    loss: new nn.CrossEntropyLoss(),
    metrics: ['accuracy'],
    batchSize: BATCH,
  });
  assert.equal(ev.accuracy, valAcc[valAcc.length - 1]);
  const logits = await predict(model, xVal, { batchSize: 10 });
  assert.deepEqual(logits.shape, [48, 2]);
  const acc = new Accuracy();
  acc.update(logits, yVal);
  assert.equal(acc.compute(), ev.accuracy);
});

test('the same seed gives the same history and weights; validationSplit holds out the last samples', async () => {
  const run = async () => {
    const model = makeModel();
    const h = await fit(model, {
      trainData: [xTrain, yTrain],
      validationSplit: 0.25,
      loss: new nn.CrossEntropyLoss(),
      optimizer: new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }),
      epochs: 2,
      batchSize: 8,
      metrics: ['accuracy'],
      seed: 3,
      verbose: 0,
    });
    return { h, weights: model.parameters().map((p) => Array.from(p.data)) };
  };
  const a = await run();
  const b = await run();
  assert.deepEqual(a.weights, b.weights);
  assert.deepEqual(
    a.h.batches.map((r) => r.logs),
    b.h.batches.map((r) => r.logs),
  );
  assert.deepEqual(a.h.get('val_loss'), b.h.get('val_loss'));
  assert.equal(a.h.params.samples, 72);
  assert.equal(a.h.params.validationSamples, 24);
  assert.equal(a.h.batches.length, 2 * 9);
});
