// The built-in models and the architecture metadata: each model has the course's layout, its
// description rebuilds an identical model, saveModel → loadModel round-trips weights and outputs,
// and PyTorch's safetensors file of the shrunk SimpleCNN loads to PyTorch's logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Tensor } from '../src/tensor/tensor.js';
import { manualSeed, randn } from '../src/index.js';
import { noGrad } from '../src/autograd/graph.js';
import * as nn from '../src/nn/index.js';
import { load, save } from '../src/io/index.js';
import {
  buildModel,
  describeModel,
  loadModel,
  loadModelWithInfo,
  saveModel,
} from '../src/io/architecture.js';
import { MODELS } from '../src/cli/models.js';

const oracle = (name: string): URL => new URL(`../../shared/oracle/${name}`, import.meta.url);

function close(a: Tensor, b: ArrayLike<number>, what: string): void {
  assert.equal(a.data.length, b.length, what);
  for (let i = 0; i < b.length; i++) {
    assert.ok(
      Math.abs(a.data[i] - b[i]) <= 1e-5 + 1e-4 * Math.abs(b[i]),
      `${what}[${i}]: ${a.data[i]} vs ${b[i]}`,
    );
  }
}

test('built-in models: parameter counts of the course architectures and output shapes', () => {
  const expected: Record<string, number> = {
    'simple-cnn': 1_853_034,
    'small-cnn': 9_098,
    'fmnist-cnn': 896_522,
    mlp: 795_010,
    lenet5: 61_706,
  };
  for (const [name, spec] of Object.entries(MODELS)) {
    manualSeed(0);
    const m = spec.build().eval();
    const n = m.parameters().reduce((a, p) => a + p.numel(), 0);
    if (expected[name] !== undefined) assert.equal(n, expected[name], name);
    const y = noGrad(() => m.forward(randn([2, ...spec.inputShape])));
    assert.deepEqual(y.shape, [2, spec.numClasses], name);
  }
});

test('describeModel → buildModel gives the same layers, keys and outputs (nested and named too)', () => {
  manualSeed(1);
  const model = new nn.Sequential({
    features: new nn.Sequential(
      new nn.Conv2d(3, 4, 3, { padding: 1, bias: false }),
      new nn.BatchNorm2d(4, { momentum: 0.2 }),
      new nn.LeakyReLU(0.1),
      new nn.MaxPool2d(2, { stride: 2 }),
      new nn.Dropout(0.3),
    ),
    head: new nn.Sequential(new nn.Flatten(), new nn.Linear(4 * 4 * 4, 5), new nn.Softmax(1)),
  });
  const desc = describeModel(model);
  const json = JSON.parse(JSON.stringify(desc));
  const rebuilt = buildModel(json);
  assert.deepEqual(describeModel(rebuilt), desc);
  assert.deepEqual(Object.keys(rebuilt.stateDict()), Object.keys(model.stateDict()));
  rebuilt.loadStateDict(model.stateDict());
  model.eval();
  rebuilt.eval();
  const x = randn([2, 3, 8, 8]);
  close(
    noGrad(() => rebuilt.forward(x)),
    noGrad(() => model.forward(x)).data,
    'output',
  );
  assert.equal(String(rebuilt), String(model));
});

test('custom modules and unknown types are errors that name the place', () => {
  class Block extends nn.Module {
    conv = new nn.Conv2d(1, 1, 1);
    override forward(x: Tensor): Tensor {
      return this.conv.forward(x);
    }
  }
  const m = new nn.Sequential(new nn.ReLU(), new nn.Sequential(new nn.ReLU(), new Block()));
  assert.throws(() => describeModel(m), /describeModel: 1\.1 \(Block\) is not a built-in layer/);
  assert.throws(
    () => buildModel({ type: 'Sequential', children: [['0', { type: 'Evil', args: [] }]] }),
    /buildModel: 0: unknown layer type 'Evil'/,
  );
  assert.throws(
    () => buildModel({ type: 'Sequential', children: [['0', { type: 'Linear', args: [-1, 2] }]] }),
    /buildModel: 0 \(Linear\): .*inFeatures/,
  );
  assert.throws(() => buildModel({ type: 'Sequential' }), /needs a "children" list/);
});

test('saveModel → loadModel: architecture, input shape and class names from the file alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stride-arch-'));
  try {
    manualSeed(2);
    const spec = MODELS['small-cnn'];
    const model = spec.build().eval();
    const file = join(dir, 'm.safetensors');
    await saveModel(model, file, {
      inputShape: spec.inputShape,
      classNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'],
    });
    const info = await loadModelWithInfo(file);
    assert.deepEqual(info.inputShape, [1, 28, 28]);
    assert.equal(info.classNames?.[9], 'j');
    const x = randn([3, 1, 28, 28]);
    info.model.eval();
    close(
      noGrad(() => info.model.forward(x)),
      noGrad(() => model.forward(x)).data,
      'logits',
    );
    // A plain state-dict file has no architecture: the error says what to do instead.
    const plain = join(dir, 'plain.safetensors');
    await save(model, plain);
    await assert.rejects(loadModel(plain), /has no 'stride\.architecture' metadata.*loadStateDict/);
    await assert.rejects(loadModel(join(dir, 'missing.safetensors')), /cannot read .*missing\.safetensors/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("PyTorch's miniSimpleCNN.safetensors loads to PyTorch's logits", async () => {
  const companion = JSON.parse(readFileSync(oracle('miniSimpleCNN.safetensors.json'), 'utf8')) as {
    input: { shape: number[]; data: number[] };
    logits: { shape: number[]; data: number[] };
  };
  const model = new nn.Sequential({
    sequential: new nn.Sequential(
      new nn.Conv2d(1, 4, 2, { padding: 1 }),
      new nn.ReLU(),
      new nn.Conv2d(4, 8, 2, { padding: 1 }),
      new nn.MaxPool2d(2),
      new nn.Flatten(),
      new nn.Linear(288, 16),
      new nn.ReLU(),
      new nn.Linear(16, 10),
    ),
  });
  model.loadStateDict(await load(oracle('miniSimpleCNN.safetensors')));
  model.eval();
  const x = new Tensor(Float32Array.from(companion.input.data), companion.input.shape);
  const y = noGrad(() => model.forward(x));
  assert.deepEqual(y.shape, companion.logits.shape);
  close(y, companion.logits.data, 'logits');
});
