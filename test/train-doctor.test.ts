/**
 * The training doctor: each test reproduces one mistake from the course notebooks, in fit() and in
 * the manual loop, and checks that the warning (with its fix) is given once, and not given when
 * the code is right.
 */
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import * as nn from '../src/nn/index.js';
import * as optim from '../src/optim/index.js';
import { doctor } from '../src/doctor.js';
import * as F from '../src/ops/functional.js';
import { Tensor } from '../src/tensor/tensor.js';
import { fit, callbacks } from '../src/train/index.js';
import { DOCTOR_CODES } from '../src/doctor-checks.js';
import { tinyData as data, tinyModel as model } from './helpers/tiny-task.js';

doctor.onWarning(() => {}); // keep test output clean; warnings are still recorded
beforeEach(() => {
  doctor.reset();
  doctor.enabled = true;
});

const codes = () => doctor.warnings.map((w) => w.code);
const messages = () => doctor.warnings.map((w) => w.message);

async function quickFit(m: nn.Module, trainData: [Tensor, Tensor], extra: Record<string, unknown> = {}) {
  return fit(m, {
    trainData,
    loss: new nn.CrossEntropyLoss(),
    optimizer: new optim.SGD(m.parameters(), { lr: 0.1 }),
    batchSize: 4,
    verbose: 0,
    ...extra,
  });
}

test('a correct run gives no warning', async () => {
  const m = model();
  await quickFit(m, data(16), { validationData: data(8) });
  const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
  const [x, y] = data(4);
  const loss = new nn.CrossEntropyLoss().forward(m.forward(x), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  assert.deepEqual(doctor.warnings, []);
});

test('Softmax before CrossEntropyLoss: fit warns from the model, the manual loop from the loss input', async () => {
  await quickFit(model(new nn.Softmax(1)), data(8));
  assert.deepEqual(codes(), [DOCTOR_CODES.softmaxBeforeCrossEntropy]);
  assert.match(doctor.warnings[0].message, /ends in Softmax.*CrossEntropyLoss.*Remove the final Softmax/s);

  doctor.reset();
  const m = model(new nn.Softmax(1));
  const [x, y] = data(4);
  new nn.CrossEntropyLoss().forward(m.forward(x), y);
  assert.deepEqual(codes(), [DOCTOR_CODES.softmaxBeforeCrossEntropy]);
  assert.match(doctor.warnings[0].message, /input rows are probabilities/);
});

test('zeroGrad() between backward() and step(): step warns; warned once; silent when disabled', () => {
  const m = model();
  const opt = new optim.Adam(m.parameters());
  const [x, y] = data(4);
  for (let i = 0; i < 2; i++) {
    const loss = new nn.CrossEntropyLoss().forward(m.forward(x), y);
    loss.backward();
    opt.zeroGrad();
    opt.step();
  }
  assert.deepEqual(codes(), [DOCTOR_CODES.zeroGradBeforeStep]);
  assert.match(
    doctor.warnings[0].message,
    /optimizer\.zeroGrad\(\); loss\.backward\(\); optimizer\.step\(\)/,
  );

  doctor.reset();
  doctor.enabled = false;
  const loss = new nn.CrossEntropyLoss().forward(m.forward(x), y);
  loss.backward();
  opt.zeroGrad();
  opt.step();
  assert.deepEqual(doctor.warnings, []);
});

test('a NaN loss: fit says at which epoch and batch, and TerminateOnNaN stops there; step() warns in a manual loop', async () => {
  const [x, y] = data(12);
  let calls = 0;
  // A loss that blows up at the second batch (as a too-high learning rate would, later on).
  const blowUp = (out: Tensor, target: Tensor) => {
    const l = F.crossEntropy(out, target);
    return calls++ === 1 ? l.mul(NaN) : l;
  };
  const stop = new callbacks.TerminateOnNaN();
  const h = await quickFit(model(), [x, y], { loss: blowUp, epochs: 3, callbacks: [stop] });
  assert.deepEqual(codes(), [DOCTOR_CODES.nonFiniteLoss]);
  assert.match(doctor.warnings[0].message, /loss became NaN at epoch 1, batch 2/);
  assert.deepEqual(stop.stoppedAt, { epoch: 0, batch: 1 });
  assert.equal(h.batches.length, 2);
  assert.equal(h.epochs.length, 1);
  assert.match(h.stopReason ?? '', /TerminateOnNaN/);

  doctor.reset();
  const m = model();
  const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
  const loss = new nn.CrossEntropyLoss().forward(m.forward(x), y).mul(NaN);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  assert.deepEqual(codes(), [DOCTOR_CODES.nonFiniteLoss]);
  assert.match(doctor.warnings[0].message, /NaN or infinite/);
});

test('a training split smaller than the validation split (swapped randomSplit) warns in fit', async () => {
  await quickFit(model(), data(8), { validationData: data(32) });
  assert.deepEqual(codes(), [DOCTOR_CODES.smallTrainSplit]);
  assert.match(doctor.warnings[0].message, /8 samples but the validation data has 32/);
});

test('pixel values in 0..255: fit warns at the first batch; Conv2d warns in a manual loop (training mode only)', async () => {
  await quickFit(model(), data(8, { scale: 255 }));
  assert.deepEqual(codes(), [DOCTOR_CODES.unnormalisedInput]);
  assert.match(doctor.warnings[0].message, /divide by 255/);

  doctor.reset();
  const m = model();
  const [x] = data(4, { scale: 255 });
  m.eval();
  m.forward(x);
  assert.deepEqual(doctor.warnings, [], 'not in eval mode');
  m.train();
  m.forward(x);
  assert.deepEqual(codes(), [DOCTOR_CODES.unnormalisedInput]);
  doctor.reset();
  m.forward(x.mul(1 / 255));
  m.forward(x.sub(128));
  assert.deepEqual(doctor.warnings, [], 'normalised or standardised inputs are fine');
});

test('pixel check on a large batch: a sampled scan, confirmed in full before warning', () => {
  const m = model();
  // 64 images of 32×32 (65,536 values, sampled every 64th): 0..255 except one negative value off
  // the sample, which makes the batch not raw pixels after all.
  const [x] = data(64 * 64, { scale: 255 });
  const d = x.data as Float32Array;
  d[12345] = -1;
  m.forward(x);
  assert.deepEqual(doctor.warnings, [], 'a negative value anywhere means not raw pixels');
  d[12345] = 3;
  m.forward(x);
  assert.deepEqual(codes(), [DOCTOR_CODES.unnormalisedInput]);
  assert.match(messages()[0], /range from 0 to 2\d\d\.\d+/);
});
