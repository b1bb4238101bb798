/**
 * The oracle's two whole models, built by hand with nn layers: PyTorch's state-dict keys and
 * parameter counts, train-mode logits and running statistics, eval-mode logits.
 * (The oracle runner checks gradients and the Adam step; this checks the layers as a user writes them.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as nn from '../src/nn/index.js';
import { Tensor } from '../src/tensor/tensor.js';
import { noGrad } from '../src/autograd/graph.js';
import { MiniSimpleCNN } from './helpers/mini-simple-cnn.js';

interface T {
  shape: number[];
  data: number[];
  dtype?: 'int';
}
interface ModelCase {
  name: string;
  stateDict: Record<string, T>;
  stateDictAfterAdamStep: Record<string, T>;
  input: T;
  trainLogits: T;
  evalLogitsAfterStep: T;
  numParameters: number;
}

const oracle = JSON.parse(
  readFileSync(new URL('../../shared/oracle/model.json', import.meta.url), 'utf8'),
) as {
  cases: ModelCase[];
};

function toTensor(t: T): Tensor {
  return t.dtype === 'int'
    ? new Tensor(Int32Array.from(t.data), t.shape)
    : new Tensor(Float32Array.from(t.data), t.shape);
}

function load(sd: Record<string, T>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, toTensor(v)]));
}

function close(actual: Tensor, expected: T, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, what);
  for (let i = 0; i < expected.data.length; i++) {
    const e = expected.data[i];
    assert.ok(
      Math.abs(actual.data[i] - e) <= 1e-5 + 1e-4 * Math.abs(e),
      `${what}[${i}]: ${actual.data[i]} vs ${e}`,
    );
  }
}

class MiniCatsDogs extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(3, 4, 3),
    new nn.ReLU(),
    new nn.BatchNorm2d(4),
    new nn.MaxPool2d(2),
    new nn.Dropout(0),
    new nn.Conv2d(4, 6, 3),
    new nn.ReLU(),
    new nn.BatchNorm2d(6),
    new nn.MaxPool2d(2),
  );
  classifier = new nn.Sequential(
    new nn.Flatten(),
    new nn.Linear(24, 8),
    new nn.ReLU(),
    new nn.BatchNorm1d(8),
    new nn.Linear(8, 2),
  );
  override forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x));
  }
}

const builders: Record<string, () => nn.Module> = {
  miniSimpleCNN: () => new MiniSimpleCNN(),
  miniCatsDogs: () => new MiniCatsDogs(),
};

for (const c of oracle.cases) {
  test(`${c.name}: PyTorch's keys and counts, train logits, running stats, eval logits`, () => {
    const model = builders[c.name]();
    assert.deepEqual(Object.keys(model.stateDict()), Object.keys(c.stateDict));
    assert.equal(model.numParameters(), c.numParameters);
    model.loadStateDict(load(c.stateDict));
    const input = toTensor(c.input);
    close(model.forward(input), c.trainLogits, 'trainLogits');
    // The train-mode forward moved the running statistics exactly as PyTorch's did (the Adam step
    // does not touch buffers, so the reference is the state dict after the step).
    for (const [k, v] of Object.entries(c.stateDictAfterAdamStep)) {
      if (!/running_|num_batches/.test(k)) continue;
      const mine = model.stateDict()[k];
      if (v.dtype === 'int') assert.deepEqual(Array.from(mine.data), v.data, k);
      else close(mine, v, k);
    }
    model.loadStateDict(load(c.stateDictAfterAdamStep));
    model.eval();
    close(
      noGrad(() => model.forward(input)),
      c.evalLogitsAfterStep,
      'evalLogitsAfterStep',
    );
  });
}
