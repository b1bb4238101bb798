/** Callbacks, History and progress output. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';

import * as nn from '../src/nn/index.js';
import * as optim from '../src/optim/index.js';
import { doctor } from '../src/doctor.js';
import { load, loadCheckpoint } from '../src/io/index.js';
import { fit, History, LineProgress } from '../src/train/index.js';
import { callbacks, TerminalProgress } from '../src/train/node.js';
import { formatPath } from '../src/train/callbacks/model-checkpoint.js';
import type { TrainingContext } from '../src/train/callbacks/callback.js';
import { tinyData as data, tinyModel as model } from './helpers/tiny-task.js';

doctor.onWarning(() => {});

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'stride-cb-'));
}

/** A context for driving a callback by hand. */
function context(m: nn.Module, opt: optim.Optimizer): TrainingContext {
  return {
    model: m,
    optimizer: opt,
    history: new History(),
    stopTraining: false,
    stopReason: null,
    epochs: 10,
    stepsPerEpoch: 1,
    log: () => {},
  };
}

test('EarlyStopping: patience, minDelta, mode from the name, restoreBestWeights', () => {
  const m = model();
  const ctx = context(m, new optim.SGD(m.parameters(), { lr: 0.1 }));
  const es = new callbacks.EarlyStopping({
    monitor: 'val_accuracy',
    patience: 2,
    minDelta: 0.01,
    restoreBestWeights: true,
  });
  assert.equal(es.mode, 'max');
  es.setContext(ctx);
  es.onTrainBegin();
  const w = m.parameters()[0];
  const accs = [0.5, 0.7, 0.705, 0.69];
  const weightsAt: number[] = [];
  for (let e = 0; e < accs.length && !ctx.stopTraining; e++) {
    w.data[0] = e; // a marker for "the weights of epoch e"
    weightsAt.push(e);
    es.onEpochEnd(e, { val_accuracy: accs[e] });
  }
  // 0.705 is not 0.01 better than 0.7: epochs 2 and 3 are bad, so it stops after epoch 3 (index 3).
  assert.equal(es.stoppedEpoch, 3);
  assert.equal(es.bestEpoch, 1);
  assert.equal(ctx.stopTraining, true);
  assert.equal(w.data[0], 1, 'weights restored from the best epoch');
  assert.throws(
    () => new callbacks.EarlyStopping({ patience: -1 }),
    /EarlyStopping: patience must be an integer >= 0/,
  );
});

test('ReduceLROnPlateau callback: Keras-style monitor, PyTorch rule, minLr', () => {
  const m = model();
  const opt = new optim.SGD(m.parameters(), { lr: 1 });
  const cb = new callbacks.ReduceLROnPlateau({ monitor: 'val_loss', patience: 0, factor: 0.5, minLr: 0.3 });
  cb.setContext(context(m, opt));
  cb.onTrainBegin();
  const lrs = [1, 2, 3, 0.5, 0.6].map((v, e) => (cb.onEpochEnd(e, { val_loss: v }), opt.paramGroups[0].lr));
  assert.deepEqual(lrs, [1, 0.5, 0.3, 0.3, 0.3]);
  assert.throws(() => new callbacks.ReduceLROnPlateau({ factor: 2 }), /factor must be in \[0, 1\)/);
});

test('ModelCheckpoint: every epoch with a templated name, or the best only; files load back', async () => {
  const dir = tmpdir();
  const m = model();
  const every = new callbacks.ModelCheckpoint(path.join(dir, 'e{epoch:02d}-{val_loss:.3f}.safetensors'));
  const best = new callbacks.ModelCheckpoint(path.join(dir, 'best.safetensors'), {
    saveBestOnly: true,
    monitor: 'val_loss',
  });
  const full = new callbacks.ModelCheckpoint(path.join(dir, 'full.safetensors'), { saveWeightsOnly: false });
  const opt = new optim.Adam(m.parameters(), { lr: 0.01 });
  const h = await fit(m, {
    trainData: data(16),
    validationData: data(8, { seed: 9 }),
    loss: new nn.CrossEntropyLoss(),
    optimizer: opt,
    epochs: 3,
    batchSize: 8,
    callbacks: [every, best, full],
    verbose: 0,
  });
  assert.equal(every.saved.length, 3);
  assert.match(path.basename(every.saved[0]), /^e01-\d\.\d{3}\.safetensors$/);
  const valLoss = h.get('val_loss');
  const improvements = valLoss.filter((v, i) => valLoss.slice(0, i).every((u) => v < u)).length;
  assert.equal(best.saved.length, improvements);
  const last = await load(every.saved[2]);
  const sd = m.stateDict();
  for (const k of Object.keys(sd)) assert.deepEqual(Array.from(last[k].data), Array.from(sd[k].data), k);
  const ckpt = await loadCheckpoint(path.join(dir, 'full.safetensors'));
  assert.equal(ckpt.epoch, 2);
  assert.ok(ckpt.optimizer !== undefined);
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => !f.endsWith('.safetensors')),
    [],
    'no temporary files left behind',
  );
  assert.throws(
    () => formatPath('x{nope}.st', 0, { loss: 1 }),
    /uses 'nope', which is not in the logs \(loss\)/,
  );
});

test('CSVLogger writes a header and one row per epoch; LambdaCallback sees every hook in order and can stop', async () => {
  const dir = tmpdir();
  const file = path.join(dir, 'log.csv');
  const events: string[] = [];
  const lambda = new callbacks.LambdaCallback({
    onTrainBegin: () => void events.push('trainBegin'),
    onEpochBegin: (e) => void events.push(`epochBegin ${e}`),
    onBatchBegin: (b) => void events.push(`batchBegin ${b}`),
    onBatchEnd: (b, logs) => void events.push(`batchEnd ${b} ${Number.isFinite(logs.loss)}`),
    onEpochEnd: (e, logs, ctx) => {
      events.push(`epochEnd ${e} ${Object.keys(logs).sort().join(',')}`);
      if (e === 1) ctx.stopTraining = true;
    },
    onTrainEnd: () => void events.push('trainEnd'),
  });
  const m = model();
  await fit(m, {
    trainData: data(8),
    validationSplit: 0.5,
    loss: new nn.CrossEntropyLoss(),
    optimizer: new optim.SGD(m.parameters(), { lr: 0.1 }),
    epochs: 5,
    batchSize: 2,
    metrics: ['accuracy'],
    callbacks: [new callbacks.CSVLogger(file), lambda],
    verbose: 0,
  });
  const keys = 'accuracy,loss,lr,val_accuracy,val_loss';
  assert.deepEqual(events, [
    'trainBegin',
    'epochBegin 0',
    ...[0, 1].flatMap((b) => [`batchBegin ${b}`, `batchEnd ${b} true`]),
    `epochEnd 0 ${keys}`,
    'epochBegin 1',
    ...[0, 1].flatMap((b) => [`batchBegin ${b}`, `batchEnd ${b} true`]),
    `epochEnd 1 ${keys}`,
    'trainEnd',
  ]);
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  assert.equal(lines[0], `epoch,${keys}`);
  assert.equal(lines.length, 3);
  assert.match(lines[2], /^1,[\d.]+,[\d.]+,0\.1,[\d.]+,[\d.]+$/);
  assert.throws(
    () => new callbacks.LambdaCallback({ onEpochStart: () => {} } as never),
    /unknown hook 'onEpochStart'/,
  );
});

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  // What cli-progress needs of a terminal.
  columns = 120;
  cursorTo(x: number): boolean {
    void x;
    return true;
  }
  clearLine(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
}

async function runWithProgress(progress: LineProgress | TerminalProgress, verbose: 1 | 2 = 1) {
  const m = model();
  return fit(m, {
    trainData: data(8),
    loss: new nn.CrossEntropyLoss(),
    optimizer: new optim.SGD(m.parameters(), { lr: 0.1 }),
    epochs: 2,
    batchSize: 4,
    metrics: ['accuracy'],
    progress,
    verbose,
  });
}

test('progress: a bar on a terminal, plain lines elsewhere, one summary line per epoch', async () => {
  const tty = new Capture(true);
  await runWithProgress(new TerminalProgress({ stream: tty as unknown as NodeJS.WriteStream }));
  assert.match(tty.text, /Epoch 1\/2 \|.*\| 2\/2 \[.*it\/s\] loss: \d\.\d{4} - accuracy: /);
  assert.match(
    tty.text,
    /Epoch 2\/2 - 2\/2 - .* it\/s\) - loss: \d\.\d{4} - accuracy: [\d.]+ - lr: 0\.1000\n/,
  );

  const pipe = new Capture(false);
  await runWithProgress(new TerminalProgress({ stream: pipe as unknown as NodeJS.WriteStream }));
  const lines = pipe.text.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^Epoch 1\/2 - [\d.]+s - loss: \d\.\d{4} - accuracy: [\d.]+ - lr: 0\.1000$/);
  assert.ok(!pipe.text.includes('\u001b['), 'no terminal escapes in logs');

  const seen: string[] = [];
  await runWithProgress(new LineProgress({ write: (l) => seen.push(l), verbose: 2 }), 2);
  assert.equal(seen.length, 2);
  assert.match(seen[1], /^Epoch 2\/2 - /);
});

test('History: Keras-style keys, best epoch, a clear error for a missing key', () => {
  const h = new History();
  h.addEpoch({ epoch: 0, logs: { loss: 1, val_accuracy: 0.5 }, lr: 0.1, time: 1 });
  h.addEpoch({ epoch: 1, logs: { loss: 0.5, val_accuracy: 0.9 }, lr: 0.1, time: 1 });
  h.addEpoch({ epoch: 2, logs: { loss: 0.7, val_accuracy: 0.8, extra: 3 }, lr: 0.05, time: 1 });
  assert.deepEqual(h.history.lr, [0.1, 0.1, 0.05]);
  assert.deepEqual(h.history.extra, [NaN, NaN, 3]);
  assert.deepEqual(h.best('val_accuracy'), { epoch: 1, value: 0.9 });
  assert.deepEqual(h.best('loss'), { epoch: 1, value: 0.5 });
  assert.throws(
    () => h.get('accuracy'),
    /History\.get: no 'accuracy' recorded; there is loss, val_accuracy, lr, time, extra/,
  );
});

test('fit rejects bad options with errors that name the argument', async () => {
  const m = model();
  const base = {
    trainData: data(4),
    loss: new nn.CrossEntropyLoss(),
    optimizer: new optim.SGD(m.parameters(), { lr: 0.1 }),
    verbose: 0 as const,
  };
  await assert.rejects(fit(m, { ...base, epochs: 0 }), /fit: epochs must be a positive integer, got 0/);
  await assert.rejects(fit(m, { ...base, loss: 3 as never }), /fit: loss must be a loss module/);
  await assert.rejects(
    fit(m, { ...base, trainData: [data(4)[0], data(3)[1]] }),
    /fit: trainData inputs have 4 samples .* targets have 3/,
  );
  await assert.rejects(
    fit(m, { ...base, validationSplit: 1.5 }),
    /validationSplit must be a fraction between 0 and 1/,
  );
  await assert.rejects(
    fit(m, { ...base, metrics: ['auc' as never] }),
    /fit: metrics\[0\] must be a Metric or one of/,
  );
  await assert.rejects(
    fit(m, { ...base, validationData: data(4), validationSplit: 0.5 }),
    /give validationData or validationSplit, not both/,
  );
});
