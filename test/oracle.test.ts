/**
 * PyTorch's reference cases, one subtest per case and backend, so a failure shows by name.
 * Also checks the runner itself: a wrong value, an unknown op and a stub handler all fail.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { availableBackends, setBackend } from '../src/backend/index.js';
import { notImplemented, registerHandler } from '../scripts/oracle/registry.js';
import { formatFailure, loadOracleDir, registerNative, runCase, runOracle } from '../scripts/oracle/run.js';

const dir = fileURLToPath(new URL('../../shared/oracle/', import.meta.url));

await registerNative();
const backends = availableBackends();

for (const { file, cases } of loadOracleDir(dir)) {
  const base = file.split('/').pop()!;
  test(`oracle ${base}`, async (t) => {
    for (const c of cases) {
      for (const b of backends) {
        await t.test(`[${b}] ${c.name}`, async () => {
          setBackend(b);
          try {
            const r = await runCase(c, file, b);
            assert.ok(r.passed, formatFailure(r).join('\n'));
          } finally {
            setBackend('js');
          }
        });
      }
    }
  });
}

function tempOracle(cases: unknown[]): string {
  const d = mkdtempSync(join(tmpdir(), 'stride-oracle-'));
  writeFileSync(join(d, 'x.json'), JSON.stringify({ cases }));
  return d;
}

const reluCase = {
  name: 'relu/wrong',
  op: 'relu',
  inputs: { input: { shape: [3], data: [-1, 2, 3] } },
  output: { shape: [3], data: [0, 2, 3] },
  gradOutput: { shape: [3], data: [1, 1, 1] },
  grads: { input: { shape: [3], data: [0, 1, 1] } },
};

test('runner: a correct case passes and a wrong value fails with its index', async () => {
  const good = await runOracle(tempOracle([reluCase]), { backends: ['js'] });
  assert.equal(good.length, 1);
  assert.ok(good[0].passed, formatFailure(good[0]).join('\n'));

  const wrong = { ...reluCase, output: { shape: [3], data: [0, 2, 3.5] } };
  const [r] = await runOracle(tempOracle([wrong]), { backends: ['js'] });
  assert.equal(r.passed, false);
  assert.equal(r.mismatches[0].tensor, 'output');
  assert.equal(r.mismatches[0].index, 2);
  assert.match(formatFailure(r)[0], /\[js\] x\.json\/relu\/wrong: output: max abs error 5\.00e-1/);
});

test('runner: wrong gradients and wrong shapes fail', async () => {
  const badGrad = { ...reluCase, grads: { input: { shape: [3], data: [1, 1, 1] } } };
  const [r] = await runOracle(tempOracle([badGrad]), { backends: ['js'] });
  assert.equal(r.passed, false);
  assert.equal(r.mismatches[0].tensor, 'grad input');
  assert.equal(r.mismatches[0].index, 0);

  const badShape = { ...reluCase, output: { shape: [1, 3], data: [0, 2, 3] } };
  const [s] = await runOracle(tempOracle([badShape]), { backends: ['js'] });
  assert.equal(s.passed, false);
  assert.match(s.mismatches[0].message, /shape \[3\] but expected \[1,3\]/);
});

test('runner: unknown ops and stub handlers are failures, never skips', async () => {
  registerHandler('oracleTestStub', notImplemented('oracleTestStub'));
  const results = await runOracle(
    tempOracle([
      { name: 'mystery', op: 'frobnicate', inputs: {} },
      { name: 'later', op: 'oracleTestStub', args: {} },
    ]),
    { backends: ['js'] },
  );
  assert.equal(results.length, 2);
  assert.ok(results.every((r) => !r.passed));
  assert.match(results[0].mismatches[0].message, /unknown op 'frobnicate'/);
  assert.match(results[1].mismatches[0].message, /not implemented yet/);
});

test('runner: filter selects cases by name or op', async () => {
  const results = await runOracle(dir, { backends: ['js'], filter: 'conv2d/same' });
  assert.deepEqual(
    results.map((r) => r.name),
    ['conv2d/same', 'conv2d/same_even_kernel'],
  );
  assert.ok(results.every((r) => r.passed));
});
