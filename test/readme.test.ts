// The README's "API at a glance" code must keep working: extract it, point it at the sources and a
// 256-image subset of MNIST (so it runs in seconds), and run it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('the README API example runs as written (on a subset of MNIST)', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README has a ts code block');
  const dir = mkdtempSync(join(tmpdir(), 'stride-readme-'));
  try {
    const mnist = 'new st.vision.MNIST({ train: true, transform: new st.vision.transforms.ToTensor() })';
    assert.ok(block[1].includes(mnist), 'the example loads MNIST as expected by this test');
    const code = block[1]
      .replace("from 'stride'", `from ${JSON.stringify(join(root, 'src/node.ts'))}`)
      .replace(mnist, `new st.data.Subset(${mnist}, Array.from({ length: 256 }, (_, i) => i))`)
      .replace("'model.safetensors'", JSON.stringify(join(dir, 'model.safetensors')));
    const file = join(dir, 'readme-example.mts');
    writeFileSync(file, code);
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, STRIDE_DOCTOR: '0' },
    });
    assert.match(out, /Total params: 1,853,034/);
    assert.match(out, /Epoch 2\/2/);
    assert.ok(existsSync(join(dir, 'model.safetensors')), 'the model was saved');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
