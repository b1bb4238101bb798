/**
 * Every course notebook's example, run as a user would (`node --import tsx examples/NAME.ts
 * --quick`) in a child process: it must exit 0 and print its own checks, each with ✓. The checks
 * asserted here are the ones that mean something on a few hundred samples: exact numbers, shapes,
 * the doctor's warnings and losses going down.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  out: string;
}

function runExample(name: string, extra: string[] = []): Promise<Run> {
  const out = mkdtempSync(join(tmpdir(), `stride-${name}-`));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join('examples', `${name}.ts`), '--quick', '--out', out, ...extra],
      { cwd: root, maxBuffer: 16 << 20, timeout: 300_000, env: { ...process.env, STRIDE_DOCTOR: '1' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr, out });
      },
    );
  });
}

/** Asserts a clean run whose output has a passed check line containing each of `checks`. */
function assertChecks(r: Run, checks: string[]): void {
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('check: '));
  const failed = lines.filter((l) => l.includes('✗'));
  assert.deepEqual(failed, [], `failed checks:\n${failed.join('\n')}\n--- stderr:\n${r.stderr.slice(-3000)}`);
  assert.equal(
    r.code,
    0,
    `exit code ${r.code}\n--- stdout:\n${r.stdout.slice(-3000)}\n--- stderr:\n${r.stderr.slice(-3000)}`,
  );
  for (const c of checks) {
    assert.ok(
      lines.some((l) => l.includes(c) && l.includes('✓')),
      `no passed check containing '${c}' in:\n${lines.join('\n')}`,
    );
  }
}

function cleanup(r: Run): void {
  rmSync(r.out, { recursive: true, force: true });
}

test('convolution-by-hand: the worked example gives exactly 18, three convolutions agree', async () => {
  const r = await runExample('convolution-by-hand');
  assertChecks(r, [
    'worked example feature map',
    'worked example max pool',
    'worked example pool indices',
    'worked example fc = 18',
    'four nested loops = F.conv2d',
    'im2col + matmul = F.conv2d',
    'output-size helper',
    'Conv1d shapes',
    'Conv3d shapes',
  ]);
  // The lecture's numbers come from PyTorch's oracle too: the printed map must be the oracle's.
  const oracle = JSON.parse(
    readFileSync(new URL('../../shared/oracle/seed.json', import.meta.url), 'utf8'),
  ) as { cases: { conv: { data: number[] }; fc: { data: number[] } }[] };
  const printedMap = /feature map \[1, 2, 4, 4\]:\ntensor\((.*), shape=/.exec(r.stdout);
  assert.ok(printedMap, 'the example prints its feature map');
  assert.deepEqual((JSON.parse(printedMap[1]) as number[][][][]).flat(3), oracle.cases[0].conv.data);
  assert.match(r.stdout, /fc output: 18\n/);
  assert.equal(oracle.cases[0].fc.data[0], 18);
  for (const f of ['rgb.png', 'rgb-red.png', 'rgb-green.png', 'rgb-blue.png']) {
    assert.ok(existsSync(join(r.out, f)), `${f} written`);
  }
  cleanup(r);
});

test('course-report: regression, DataLoader, the zero_grad bug caught, autoencoders, colourisation', async () => {
  const r = await runExample('course-report');
  assertChecks(r, [
    'tensor basics',
    'autograd',
    'regression loss went down',
    'regression predicts',
    'DataLoader gives 5 batches',
    'shuffled epoch visits every sample exactly once',
    'MLP training loss went down',
    "doctor warns 'zero-grad-before-step'",
    "the report's loop leaves the weights unchanged",
    'CNN training loss went down',
    'autoencoder loss went down',
    'VAE loss went down',
    'VAE generates [64, 1, 28, 28]',
    'colorization loss went down',
  ]);
  assert.match(r.stderr + r.stdout, /zeroGrad\(\) called between loss\.backward\(\) and/);
  for (const f of ['autoencoder-reconstructions.png', 'vae-samples.png', 'colorize.png']) {
    assert.ok(existsSync(join(r.out, f)), `${f} written`);
  }
  cleanup(r);
});

test('mnist-simplecnn: 1,853,034 parameters, loss down, loss curves PNG', async () => {
  const r = await runExample('mnist-simplecnn');
  assertChecks(r, [
    'SimpleCNN has 1,853,034 parameters',
    'training loss went down',
    'loss curves PNG written',
  ]);
  assert.ok(existsSync(join(r.out, 'loss-curves.png')), 'loss-curves.png written');
  cleanup(r);
});

test("mnist-smallcnn: the notebook's softmax is caught by the doctor, the corrected model learns", async () => {
  const r = await runExample('mnist-smallcnn');
  assertChecks(r, [
    "doctor warns 'softmax-before-cross-entropy'",
    'corrected model: training loss went down',
    'corrected model learns faster',
  ]);
  assert.match(r.stderr + r.stdout, /CrossEntropyLoss applies log-softmax itself/);
  cleanup(r);
});

test('cats-vs-dogs: generated JPEG folder, Keras model summary, fit with both callbacks', async () => {
  const r = await runExample('cats-vs-dogs');
  assertChecks(r, [
    'trainable parameters',
    'three SGD steps on a fixed batch lower its loss',
    'history has val_loss',
  ]);
  assert.match(r.stdout, /80 images in .*classes cat, dog/);
  assert.match(r.stdout, /Total params: 358,402/);
  assert.ok(existsSync(join(r.out, 'data', 'cat.0.jpg')) && existsSync(join(r.out, 'data', 'dog.39.jpg')));
  assert.ok(existsSync(join(r.out, 'augmented-batch.png')) && existsSync(join(r.out, 'curves.png')));
  cleanup(r);
});

test('course-report: an unknown --part is an error that lists the parts', async () => {
  const r = await runExample('course-report', ['--part', 'nope']);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /unknown --part 'nope'; the parts are basics, dataset, mlp, cnn, autoencoder, colorize/,
  );
  cleanup(r);
});
