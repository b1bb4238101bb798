// The stride command's contract for mistakes: exit 2 for bad usage, 1 for runtime failures, one
// clear line on stderr and no stack trace (unless --debug), --help on every subcommand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { runCli } from '../src/cli/program.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

function stride(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, STRIDE_BACKEND: 'js' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, in this process (no start-up cost), with the command's output captured. */
async function strideHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'stride', ...args], {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
  });
  return { code, stdout, stderr };
}

/** stderr has exactly one line (the error) and no stack frames. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /);
  assert.match(lines[0], /^stride: /);
  return lines[0];
}

test('--help works on the command and every subcommand (exit 0)', async () => {
  const real = stride(['--help']);
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stdout, /Usage: stride/);
  for (const sub of [[], ['train'], ['eval'], ['predict'], ['summary'], ['inspect']]) {
    const r = await strideHere([...sub, '--help']);
    assert.equal(r.code, 0, `${sub.join(' ')} --help: ${r.stderr}`);
    assert.match(r.stdout, /Usage: stride/);
  }
  const r = await strideHere(['train', '--help']);
  for (const opt of [
    '--dataset',
    '--model',
    '--epochs',
    '--batch-size',
    '--lr',
    '--optimizer',
    '--val-split',
    '--augment',
    '--limit',
    '--seed',
    '--out',
    '--resume',
  ]) {
    assert.ok(r.stdout.includes(opt), `train --help lists ${opt}`);
  }
});

test('bad usage exits 2 with one line naming the problem', async () => {
  // Through a real process once: the exit status itself.
  const real = stride(['train', '--epochs', 'abc']);
  assert.equal(real.code, 2);
  assert.match(oneLine(real.stderr), /'--epochs <n>' argument 'abc' is invalid/);

  const cases: [string[], RegExp][] = [
    [
      ['train', '--model', 'resnet9000'],
      /unknown model 'resnet9000' \(choose one of: simple-cnn, small-cnn, fmnist-cnn, mlp, catsdogs-cnn, lenet5\)/,
    ],
    [['train', '--epochs', 'abc'], /'--epochs <n>' argument 'abc' is invalid\. expected a positive integer/],
    [['train', '--epochs', '0'], /expected a positive integer/],
    [['train', '--lr', '-1'], /'--lr <x>' argument '-1' is invalid\. expected a positive number/],
    [['train', '--val-split', '1.5'], /expected a fraction in \[0, 1\)/],
    [['train', '--optimizer', 'rmsprop'], /'rmsprop' is invalid\. Allowed choices are adam, sgd/],
    [['train', '--dataset', 'cifar'], /unknown dataset 'cifar'/],
    [['train', '--dataset', 'folder:/no/such/dir'], /dataset folder not found: \/no\/such\/dir/],
    [['train', '--bogus'], /unknown option '--bogus'/],
    [['trian'], /unknown command 'trian'/],
    [['predict', 'missing.safetensors', 'x.png'], /model file not found: missing\.safetensors/],
    [['eval', '/no/such/run'], /model file not found: \/no\/such\/run/],
    [['summary'], /give either a model file or --model NAME/],
    [['summary', '--model', 'nope'], /unknown model 'nope'/],
    [['inspect', 'm.safetensors', 'x.png'], /required option '--out <dir>' not specified/],
    [['train', '--resume', '/no/such/checkpoint.safetensors'], /checkpoint file not found/],
  ];
  for (const [args, message] of cases) {
    const r = await strideHere(args);
    assert.equal(r.code, 2, `${args.join(' ')} → exit ${r.code}: ${r.stderr}`);
    assert.match(oneLine(r.stderr), message, args.join(' '));
  }
  // No subcommand at all: the help, on stderr, and exit 2.
  const r = await strideHere([]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Usage: stride/);
});

test('a runtime failure exits 1 with one line; --debug adds the stack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stride-cli-'));
  try {
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, 'this is not a safetensors file');
    const r = stride(['summary', bad]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(oneLine(r.stderr), new RegExp(`^stride: error: .*bad\\.safetensors`));
    const d = stride(['summary', bad, '--debug']);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /\n\s+at /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
