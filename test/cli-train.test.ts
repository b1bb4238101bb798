// `stride train` end to end on small slices of MNIST: the run folder's files, resuming after
// Ctrl-C (mid-epoch) or after an epoch equals the uninterrupted run, and predict / eval / summary /
// inspect on the saved model, including predict on PNGs written from MNIST test images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

import { load } from '../src/io/index.js';
import { loadModelWithInfo } from '../src/io/architecture.js';
import { noGrad } from '../src/autograd/graph.js';
import { softmax } from '../src/ops/activation.js';
import { MNIST } from '../src/vision/mnist.js';
import { writeImage } from '../src/vision/image-io.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'stride-cli-train-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The backend of the first run, for all later ones: weights are compared bit for bit across runs. */
const pinned: Record<string, string> = {};

function stride(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: repo,
      env: { ...process.env, ...pinned, ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', fail);
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const small = ['--model', 'small-cnn', '--limit', '512', '--batch-size', '64', '--no-progress'];

async function weights(file: string): Promise<Record<string, Float32Array>> {
  const sd = await load(file);
  return Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, t.data as Float32Array]));
}

test('train writes the run folder: model, checkpoint, history, plots, report', async () => {
  const out = join(dir, 'a');
  const r = await stride(['train', ...small, '--epochs', '2', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /test \(512 images\): accuracy [\d.]+%, precision [\d.]+%, recall [\d.]+%, F1 [\d.]+%/,
  );
  for (const f of [
    'model.safetensors',
    'checkpoint.safetensors',
    'history.csv',
    'curves.png',
    'curves.svg',
    'confusion.png',
    'report.json',
  ]) {
    assert.ok(existsSync(join(out, f)), f);
  }
  const csv = readFileSync(join(out, 'history.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'epoch,loss,accuracy,valLoss,valAccuracy,seconds,imagesPerSecond');
  assert.equal(csv.length, 3);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  assert.equal(report.model, 'small-cnn');
  assert.equal(report.seed, 0);
  assert.deepEqual(report.samples, { train: 461, validation: 51, test: 512 });
  assert.ok(report.test.accuracy > 0.2 && report.test.accuracy <= 1, `accuracy ${report.test.accuracy}`);
  for (const k of ['precision', 'recall', 'f1']) assert.equal(typeof report.test[k], 'number');
  assert.ok(report.imagesPerSecond > 0);
  assert.ok(['js', 'native'].includes(report.backend.backend));
  pinned.STRIDE_BACKEND = report.backend.backend;
  assert.equal(typeof report.versions.stride, 'string');
  // The saved model rebuilds from the file alone.
  const loaded = await loadModelWithInfo(join(out, 'model.safetensors'));
  assert.deepEqual(loaded.inputShape, [1, 28, 28]);
  assert.equal(loaded.classNames?.length, 10);
});

// Windows has no SIGINT to send to oneself (process.kill would terminate the process).
test(
  'Ctrl-C mid-epoch saves a checkpoint (exit 130); resuming ends with the uninterrupted weights',
  { skip: process.platform === 'win32' },
  async () => {
    const full = join(dir, 'a', 'model.safetensors'); // from the test above: 2 epochs uninterrupted
    const out = join(dir, 'b');
    const r = await stride(['train', ...small, '--epochs', '2', '--out', out], {
      STRIDE_TEST_INTERRUPT_AFTER: '3',
    });
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /interrupted in epoch 1 after \d\/8 batches; checkpoint saved/);
    assert.ok(!existsSync(join(out, 'model.safetensors')));
    const resumed = await stride([
      'train',
      '--resume',
      join(out, 'checkpoint.safetensors'),
      '--epochs',
      '2',
      '--no-progress',
    ]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /^resuming small-cnn/);
    const a = await weights(full);
    const b = await weights(join(out, 'model.safetensors'));
    assert.deepEqual(Object.keys(b), Object.keys(a));
    for (const k of Object.keys(a)) assert.deepEqual(b[k], a[k], `${k} differs after resuming`);
  },
);

test('resuming after a finished epoch with more --epochs equals training them in one go', async () => {
  const out = join(dir, 'c');
  const first = await stride(['train', ...small, '--epochs', '1', '--out', out, '--no-plots']);
  assert.equal(first.code, 0, first.stderr);
  const more = await stride([
    'train',
    '--resume',
    join(out, 'checkpoint.safetensors'),
    '--epochs',
    '2',
    '--no-plots',
  ]);
  assert.equal(more.code, 0, more.stderr);
  const a = await weights(join(dir, 'a', 'model.safetensors'));
  const c = await weights(join(out, 'model.safetensors'));
  for (const k of Object.keys(a)) assert.deepEqual(c[k], a[k], k);
  const other = await stride([
    'train',
    '--resume',
    join(out, 'checkpoint.safetensors'),
    '--epochs',
    '3',
    '--model',
    'mlp',
  ]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--model mlp differs from the checkpoint's run \(small-cnn\)/);
  const again = await stride(['train', '--resume', join(out, 'checkpoint.safetensors'), '--epochs', '2']);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already done 2 epochs/);
});

test('predict on PNGs written from MNIST test images gives their labels; eval, summary, inspect', async () => {
  const out = join(dir, 'mlp');
  const r = await stride([
    'train',
    '--model',
    'mlp',
    '--limit',
    '6000',
    '--out',
    out,
    '--no-plots',
    '--no-progress',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const mnist = new MNIST({ train: false });
  const files: string[] = [];
  const labels: number[] = [];
  for (let i = 0; i < 10; i++) {
    const f = join(dir, `digit${i}.png`);
    await writeImage(mnist.image(i), f);
    files.push(f);
    labels.push(mnist.targets[i]);
  }
  const p = await stride(['predict', out, ...files, '--json']);
  assert.equal(p.code, 0, p.stderr);
  const preds = JSON.parse(p.stdout) as {
    image: string;
    class: string;
    index: number;
    top: { probability: number }[];
  }[];
  assert.equal(preds.length, 10);
  const right = preds.filter((q, i) => q.index === labels[i]).length;
  assert.ok(right >= 9, `predicted ${preds.map((q) => q.index)} for labels ${labels}`);
  for (const q of preds) {
    assert.equal(q.top.length, 3);
    assert.ok(q.top[0].probability >= q.top[1].probability && q.top[1].probability >= q.top[2].probability);
  }
  // The PNG round trip is exact, so the CLI's probabilities are the model's on the dataset tensor.
  const { model } = await loadModelWithInfo(join(out, 'model.safetensors'));
  model.eval();
  const probs = noGrad(() => softmax(model.forward(mnist.image(0).reshape([1, 1, 28, 28])), 1));
  assert.ok(Math.abs(probs.data[preds[0].index] - preds[0].top[0].probability) < 1e-6);

  // Any size and colour: an RGB JPEG at 3× the size is converted to the 1×28×28 input.
  const jpeg = join(dir, 'digit0-big.jpg');
  await sharp(files[0]).resize(84, 84).toColourspace('srgb').jpeg({ quality: 95 }).toFile(jpeg);
  const big = await stride(['predict', out, jpeg, '--json']);
  assert.equal(big.code, 0, big.stderr);
  assert.equal(JSON.parse(big.stdout)[0].index, labels[0]);

  // A run's checkpoint names its built-in model, so it works wherever a model file does.
  const fromCkpt = await stride(['predict', join(out, 'checkpoint.safetensors'), files[0], '--json']);
  assert.equal(fromCkpt.code, 0, fromCkpt.stderr);
  assert.equal(JSON.parse(fromCkpt.stdout)[0].top[0].probability, preds[0].top[0].probability);

  const text = await stride(['predict', out, files[0]]);
  assert.match(text.stdout, new RegExp(`digit0\\.png: ${preds[0].class} \\(${preds[0].class} [\\d.]+%, `));

  const e = await stride(['eval', out, '--limit', '300', '--json']);
  assert.equal(e.code, 0, e.stderr);
  const m = JSON.parse(e.stdout);
  assert.equal(m.samples, 300);
  assert.equal(
    m.confusion.reduce((a: number, b: number) => a + b, 0),
    300,
  );
  assert.ok(m.accuracy > 0.8, `eval accuracy ${m.accuracy}`);

  const s = await stride(['summary', join(out, 'model.safetensors')]);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /Total params: 795,010/);

  const cnn = join(dir, 'a');
  const ins = await stride(['inspect', cnn, files[0], '--out', join(dir, 'inspect')]);
  assert.equal(ins.code, 0, ins.stderr);
  for (const f of ['input.png', 'filters-0.png', 'features-0.png', 'filters-3.png', 'features-3.png']) {
    assert.ok(existsSync(join(dir, 'inspect', f)), f);
  }
});
