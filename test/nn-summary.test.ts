/** summary(): one row per leaf, shapes from a trial forward, PyTorch parameter totals, modes restored. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nn from '../src/nn/index.js';
import { summary as topLevelSummary } from '../src/index.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { ones } from '../src/tensor/creation.js';

class CatsDogs extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(3, 4, 3),
    new nn.ReLU(),
    new nn.BatchNorm2d(4),
    new nn.MaxPool2d(2),
    new nn.Dropout(0.5),
  );
  classifier = new nn.Sequential(new nn.Flatten(), new nn.Linear(4 * 7 * 7, 8), new nn.Linear(8, 2));
  override forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x));
  }
}

test('summaryRows: leaves in run order with output shapes and own parameter counts', () => {
  const m = new CatsDogs();
  const d = nn.summaryRows(m, [3, 16, 16]);
  assert.deepEqual(
    d.rows.map((r) => [r.name, r.type, r.outputShape, r.numParams]),
    [
      ['features.0', 'Conv2d', [1, 4, 14, 14], 112],
      ['features.1', 'ReLU', [1, 4, 14, 14], 0],
      ['features.2', 'BatchNorm2d', [1, 4, 14, 14], 8],
      ['features.3', 'MaxPool2d', [1, 4, 7, 7], 0],
      ['features.4', 'Dropout', [1, 4, 7, 7], 0],
      ['classifier.0', 'Flatten', [1, 196], 0],
      ['classifier.1', 'Linear', [1, 8], 1576],
      ['classifier.2', 'Linear', [1, 2], 18],
    ],
  );
  assert.equal(d.totalParams, 112 + 8 + 1576 + 18);
  assert.equal(d.totalParams, m.numParameters());
  assert.equal(d.nonTrainableParams, 0);
  assert.equal(d.paramBytes, d.totalParams * 4);
  assert.equal(d.activationBytes, (784 * 3 + 196 * 3 + 8 + 2) * 4);
  assert.deepEqual(nn.summaryRows(m, [3, 16, 16], { batchSize: 5 }).rows[0].outputShape, [5, 4, 14, 14]);
});

test('summary: runs in eval mode without touching BatchNorm statistics, then restores every mode', () => {
  const m = new CatsDogs();
  m.features[4].eval(); // a deliberately mixed model
  const bn = m.features[2] as nn.BatchNorm2d;
  const text = nn.summary(m, [3, 16, 16]);
  assert.equal(bn.numBatchesTracked!.data[0], 0, 'no training-mode BatchNorm update');
  assert.deepEqual(Array.from(bn.runningMean!.data), [0, 0, 0, 0]);
  assert.equal(m.training, true);
  assert.equal(m.features[0].training, true);
  assert.equal(m.features[4].training, false);
  // no graph was recorded: parameters have no grads and the trial output was not kept
  assert.ok(m.parameters().every((p) => p.grad === null));
  assert.match(text, /Layer \(type\)\s+Output Shape\s+Param #/);
  assert.match(text, /classifier\.1 \(Linear\)\s+\[1, 8\]\s+1,576/);
  assert.match(text, /Total params: 1,714/);
  assert.match(text, /Trainable params: 1,714/);
  assert.match(text, /Non-trainable params: 0/);
  assert.match(text, /Params size \(MB\): 0\.01/);
  assert.match(text, /Forward activations \(MB\): 0\.01/);
  assert.equal(topLevelSummary, nn.summary);
});

test('summary counts frozen parameters as non-trainable and reports shape errors with the path', () => {
  const m = new CatsDogs();
  m.features.setRequiresGrad(false);
  const d = nn.summaryRows(m, [3, 16, 16]);
  assert.equal(d.nonTrainableParams, 120);
  assert.equal(d.trainableParams, 1594);
  assert.match(nn.summary(m, [3, 16, 16]), /Non-trainable params: 120/);
  assert.throws(
    () => nn.summary(m, [1, 16, 16]),
    /features\.0 \(Conv2d\): expected input with 3 channels, got 1/,
  );
  assert.equal(m.training, true, 'modes restored after an error too');
  assert.throws(() => nn.summary(m, []), /summary: inputShape must be the shape of one sample/);
  assert.throws(
    () => nn.summary(m, [3, 0, 16]),
    /summary: inputShape\[1\] must be a positive integer, got 0/,
  );
});

test('summary of a single layer and of a model that is called twice per forward', () => {
  const d = nn.summaryRows(new nn.Linear(10, 3), [10]);
  assert.deepEqual(
    d.rows.map((r) => [r.name, r.outputShape]),
    [['Linear', [1, 3]]],
  );
  class Twice extends nn.Module {
    lin = new nn.Linear(4, 4);
    override forward(x: Tensor): Tensor {
      return this.lin.forward(this.lin.forward(x));
    }
  }
  const t = nn.summaryRows(new Twice(), [4]);
  assert.equal(t.rows.length, 2);
  assert.equal(t.totalParams, 20);
});

test('a container with parameters of its own gets a row, so rows add up to the total', () => {
  class Scaled extends nn.Module {
    body = new nn.Linear(3, 3);
    scale = new nn.Parameter(ones([3]));
    override forward(x: Tensor): Tensor {
      return this.body.forward(x).mul(this.scale);
    }
  }
  const d = nn.summaryRows(new Scaled(), [3]);
  assert.deepEqual(
    d.rows.map((r) => [r.name, r.numParams]),
    [
      ['body', 12],
      ['Scaled', 3],
    ],
  );
  assert.equal(
    d.rows.reduce((a, r) => a + r.numParams, 0),
    d.totalParams,
  );
});
