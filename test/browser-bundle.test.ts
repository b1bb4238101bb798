// The core (tensor, autograd, ops, nn, optim, metrics, data, train, the js backend) must bundle for
// a browser unchanged: esbuild with platform 'browser' fails on any Node built-in it meets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

test('the core entry point bundles for the browser with no Node built-ins', async () => {
  const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    metafile: true,
  });
  assert.equal(result.errors.length, 0);
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(
    inputs.some((p) => p.endsWith('src/nn/conv.ts')),
    'nn is part of the browser bundle',
  );
  assert.ok(
    inputs.some((p) => p.endsWith('src/backend/js/gemm.ts')),
    'the js backend is part of it',
  );
  for (const p of inputs) {
    assert.ok(
      !/src\/(io\/(atomic|files|index)|vision\/(mnist|image-io)|cli|backend\/native)\b/.test(p),
      `${p} is Node-only`,
    );
  }
  const code = new TextDecoder().decode(result.outputFiles[0].contents);
  assert.doesNotMatch(code, /from ["']node:/);
});
