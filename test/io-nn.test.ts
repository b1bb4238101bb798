/** save/load and checkpoints with the real Module, optimizers and schedulers. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { load, loadCheckpoint, readSafetensorsFileSync, save, saveCheckpoint } from '../src/io/index.js';
import * as nn from '../src/nn/index.js';
import { crossEntropy } from '../src/ops/functional.js';
import * as optim from '../src/optim/index.js';
import { randn } from '../src/tensor/creation.js';
import { Generator, manualSeed } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { MiniSimpleCNN } from './helpers/mini-simple-cnn.js';

const ORACLE = new URL('../../shared/oracle/', import.meta.url);

class BnNet extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(1, 3, 3),
    new nn.BatchNorm2d(3),
    new nn.ReLU(),
    new nn.Flatten(),
  );
  head = new nn.Linear(12, 2);
  override forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x));
  }
}

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'stride-io-nn-'));
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 + 1e-4 * Math.abs(b[i]!), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

describe('io with nn and optim', () => {
  it("loads PyTorch's miniSimpleCNN file into the same architecture and reproduces its logits", async () => {
    const model = new MiniSimpleCNN();
    model.loadStateDict(await load(new URL('miniSimpleCNN.safetensors', ORACLE)));
    const json = JSON.parse(
      fs.readFileSync(new URL('miniSimpleCNN.safetensors.json', ORACLE), 'utf8'),
    ) as Record<string, { shape: number[]; data: number[] }>;
    const out = model.forward(new Tensor(Float32Array.from(json.input!.data), json.input!.shape));
    assert.deepEqual(out.shape, json.logits!.shape);
    close(out.data, json.logits!.data, 'logits');
  });

  it('saves a model PyTorch can load: its keys, F32 weights and I64 num_batches_tracked', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'bn.safetensors');
    manualSeed(1);
    const model = new BnNet();
    model.forward(randn([2, 1, 4, 4])); // train mode: running stats and num_batches_tracked move
    await save(model, file);
    const { tensors, metadata } = readSafetensorsFileSync(file);
    assert.equal(metadata.format, 'pt');
    assert.deepEqual(Object.keys(tensors).sort(), Object.keys(model.stateDict()).sort());
    assert.equal(tensors['features.1.num_batches_tracked']!.dtype, 'I64');
    assert.deepEqual(tensors['features.1.num_batches_tracked']!.data, Int32Array.from([1]));
    assert.equal(tensors['features.1.running_var']!.dtype, 'F32');

    const fresh = new BnNet();
    fresh.loadStateDict(await load(file));
    for (const [k, t] of Object.entries(model.stateDict())) {
      assert.deepEqual(fresh.stateDict()[k]!.data, t.data, k);
    }
    model.eval();
    fresh.eval();
    const x = randn([3, 1, 4, 4]);
    assert.deepEqual(fresh.forward(x).data, model.forward(x).data);
    fs.rmSync(dir, { recursive: true });
  });

  it('resumes training exactly from a checkpoint: Adam state, StepLR, ReduceLROnPlateau, rng', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'ckpt.safetensors');
    const x = randn([4, 1, 4, 4], { generator: new Generator(3) });
    const y = new Tensor(Int32Array.from([0, 1, 1, 0]), [4]);

    const make = (seed: number) => {
      manualSeed(seed);
      const model = new BnNet();
      const optimizer = new optim.Adam(model.parameters(), { lr: 0.01, weightDecay: 1e-3 });
      const scheduler = new optim.StepLR(optimizer, { stepSize: 2, gamma: 0.5 });
      const plateau = new optim.ReduceLROnPlateau(optimizer, { patience: 0 });
      return { model, optimizer, scheduler, plateau };
    };
    const epoch = (s: ReturnType<typeof make>): number => {
      s.optimizer.zeroGrad();
      const loss = crossEntropy(s.model.forward(x), y);
      loss.backward();
      s.optimizer.step();
      s.scheduler.step();
      s.plateau.step(loss.item());
      return loss.item();
    };

    const a = make(10);
    const rng = new Generator(99);
    const history = { loss: [epoch(a), epoch(a), epoch(a)] };
    await saveCheckpoint(file, {
      model: a.model,
      optimizer: a.optimizer,
      scheduler: a.scheduler,
      epoch: 3,
      history,
      rng,
      extra: { plateau: a.plateau.stateDict() },
    });
    const lossesA = [epoch(a), epoch(a)];
    const drawsA = [rng.random(), rng.normal()];

    const b = make(20); // different initial weights: everything must come from the file
    const rng2 = new Generator(1);
    const ckpt = await loadCheckpoint(file, {
      model: b.model,
      optimizer: b.optimizer,
      scheduler: b.scheduler,
      rng: rng2,
    });
    b.plateau.loadStateDict(ckpt.extra!.plateau as Record<string, unknown>);
    assert.equal(ckpt.epoch, 3);
    assert.deepEqual(ckpt.history, history);
    assert.deepEqual([epoch(b), epoch(b)], lossesA);
    assert.deepEqual([rng2.random(), rng2.normal()], drawsA);
    assert.deepEqual(b.optimizer.paramGroups[0]!.lr, a.optimizer.paramGroups[0]!.lr);
    for (const [k, t] of Object.entries(a.model.stateDict()))
      assert.deepEqual(b.model.stateDict()[k]!.data, t.data, k);

    // the model part is a plain PyTorch state dict under 'model.'
    const { tensors } = readSafetensorsFileSync(file);
    assert.ok(tensors['model.head.weight']);
    assert.equal(tensors['model.features.1.num_batches_tracked']!.dtype, 'I64');
    assert.ok(Object.keys(tensors).some((k) => k.startsWith('optimizer.state.')));
    fs.rmSync(dir, { recursive: true });
  });
});
