/** fit() with the other kinds of data (Dataset, DataLoader) and with LR schedulers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as nn from '../src/nn/index.js';
import * as optim from '../src/optim/index.js';
import { DataLoader, TensorDataset } from '../src/data/index.js';
import { doctor } from '../src/doctor.js';
import { fit, evaluate, predict } from '../src/train/index.js';
import { tinyData as data, tinyModel as model } from './helpers/tiny-task.js';

doctor.onWarning(() => {});

async function train(trainData: unknown, extra: Record<string, unknown> = {}) {
  const m = model();
  const h = await fit(m, {
    trainData: trainData as never,
    loss: new nn.CrossEntropyLoss(),
    optimizer: new optim.SGD(m.parameters(), { lr: 0.1 }),
    epochs: 2,
    batchSize: 4,
    shuffle: false,
    verbose: 0,
    ...extra,
  });
  return { m, h };
}

test('tensors, a Dataset and an equivalent DataLoader train identically', async () => {
  const [x, y] = data(12);
  const a = await train([x, y]);
  const plain = { length: 12, get: (i: number) => [x.select(0, i), y.select(0, i)] };
  const b = await train(plain);
  const c = await train(new DataLoader(new TensorDataset(x, y), { batchSize: 4 }), { batchSize: 99 });
  for (const other of [b, c]) {
    assert.deepEqual(other.h.get('loss'), a.h.get('loss'));
    assert.equal(other.h.batches.length, 6);
  }
  const ev = await evaluate(a.m, new DataLoader(new TensorDataset(x, y), { batchSize: 5 }), {
    loss: new nn.CrossEntropyLoss(),
  });
  assert.ok(Number.isFinite(ev.loss));
  const out = await predict(a.m, [x, y]);
  assert.deepEqual(out.shape, [12, 2]);
  assert.equal(a.m.training, true, 'predict restores training mode');
  await assert.rejects(train('x'), /fit: trainData must be \[inputs, targets\] tensors, a Dataset/);
});

test('schedulers: StepLR per epoch, OneCycleLR per batch, ReduceLROnPlateau on the monitored loss', async () => {
  const [x, y] = data(8);
  const m = model();
  const opt = new optim.SGD(m.parameters(), { lr: 1, momentum: 0.9 });
  const h = await fit(m, {
    trainData: [x, y],
    loss: new nn.CrossEntropyLoss(),
    optimizer: opt,
    epochs: 3,
    batchSize: 4,
    scheduler: new optim.StepLR(opt, { stepSize: 1, gamma: 0.5 }),
    verbose: 0,
  });
  assert.deepEqual(h.get('lr'), [1, 0.5, 0.25]);

  const m2 = model();
  const opt2 = new optim.SGD(m2.parameters(), { lr: 0.1, momentum: 0.9 });
  const oneCycle = new optim.OneCycleLR(opt2, { maxLr: 0.5, epochs: 2, stepsPerEpoch: 2 });
  const h2 = await fit(m2, {
    trainData: [x, y],
    loss: new nn.CrossEntropyLoss(),
    optimizer: opt2,
    epochs: 2,
    batchSize: 4,
    scheduler: oneCycle,
    verbose: 0,
  });
  const batchLrs = h2.batches.map((b) => b.lr);
  assert.equal(batchLrs.length, 4);
  assert.ok(Math.abs(batchLrs[0] - 0.5 / 25) < 1e-12, 'starts at maxLr / divFactor');
  assert.ok(batchLrs[1] > batchLrs[0] && batchLrs[2] < batchLrs[1], `up, then down: ${batchLrs}`);
  assert.ok(Math.abs(batchLrs[3] - 0.5 / 25 / 1e4) < 1e-12, 'ends at maxLr / divFactor / finalDivFactor');

  const m3 = model();
  const opt3 = new optim.SGD(m3.parameters(), { lr: 1 });
  const plateau = new optim.ReduceLROnPlateau(opt3, { patience: 0, factor: 0.5 });
  await fit(m3, {
    trainData: [x, y],
    validationData: data(4, { seed: 9 }),
    loss: new nn.CrossEntropyLoss(),
    optimizer: opt3,
    epochs: 2,
    batchSize: 4,
    scheduler: plateau,
    verbose: 0,
  });
  assert.equal(plateau.lastEpoch, 2);
  assert.ok(Number.isFinite(plateau.best), 'it was fed val_loss');
});
