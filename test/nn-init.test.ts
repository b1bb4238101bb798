/** nn.init: the distributions' statistics over big tensors, gains, fans, seeding and errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nn from '../src/nn/index.js';
import { Tensor } from '../src/tensor/tensor.js';
import { zeros } from '../src/tensor/creation.js';
import { Generator } from '../src/tensor/random.js';

const { init } = nn;

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let s2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of t.data) {
    s += v;
    s2 += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const n = t.numel();
  const mean = s / n;
  return { mean, std: Math.sqrt(s2 / n - mean * mean), min, max };
}

function near(actual: number, expected: number, relTol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= relTol * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}

const g = (): Generator => new Generator(1234);

test('calculateGain follows PyTorch', () => {
  assert.equal(init.calculateGain('linear'), 1);
  assert.equal(init.calculateGain('conv2d'), 1);
  assert.equal(init.calculateGain('sigmoid'), 1);
  assert.equal(init.calculateGain('tanh'), 5 / 3);
  assert.equal(init.calculateGain('relu'), Math.SQRT2);
  assert.equal(init.calculateGain('leakyRelu'), Math.sqrt(2 / (1 + 0.01 ** 2)));
  assert.equal(init.calculateGain('leaky_relu' as 'leakyRelu', 0.2), Math.sqrt(2 / 1.04));
  assert.equal(init.calculateGain('selu'), 0.75);
  assert.throws(
    () => init.calculateGain('swish' as 'relu'),
    /calculateGain: unsupported nonlinearity 'swish'/,
  );
});

test('fans: dim 1 × receptive field in, dim 0 × receptive field out', () => {
  assert.deepEqual(init.calculateFanInAndFanOut(zeros([64, 32, 3, 3])), { fanIn: 288, fanOut: 576 });
  assert.deepEqual(init.calculateFanInAndFanOut(zeros([10, 784])), { fanIn: 784, fanOut: 10 });
  assert.throws(() => init.kaimingUniform(zeros([5])), /fewer than 2 dimensions \(shape \[5\]\)/);
});

test('uniform and normal have the requested moments', () => {
  const u = stats(init.uniform(zeros([200, 500]), -2, 4, { generator: g() }));
  near(u.mean, 1, 0.01, 'uniform mean');
  near(u.std, 6 / Math.sqrt(12), 0.01, 'uniform std');
  assert.ok(u.min >= -2 && u.max < 4);
  const n = stats(init.normal(zeros([200, 500]), 3, 0.5, { generator: g() }));
  near(n.mean, 3, 0.01, 'normal mean');
  near(n.std, 0.5, 0.01, 'normal std');
  assert.throws(
    () => init.normal(zeros([2]), 0, -1),
    /init.normal: std must be a finite number >= 0, got -1/,
  );
  assert.throws(() => init.uniform(zeros([2]), 1, 0), /init.uniform: high \(0\) must be >= low \(1\)/);
});

test('kaiming: std = gain/√fan, uniform bound = gain·√(3/fan), fanOut mode', () => {
  const w = zeros([256, 128, 3, 3]); // fanIn 1152, fanOut 2304
  const ku = stats(init.kaimingUniform(w, { nonlinearity: 'relu', generator: g() }));
  const bound = Math.SQRT2 * Math.sqrt(3 / 1152);
  assert.ok(ku.max <= bound && ku.max > 0.99 * bound && ku.min >= -bound);
  near(ku.std, Math.SQRT2 / Math.sqrt(1152), 0.01, 'kaimingUniform std');
  near(ku.mean + 1, 1, 0.001, 'kaimingUniform mean');
  const kn = stats(init.kaimingNormal(w, { nonlinearity: 'relu', mode: 'fanOut', generator: g() }));
  near(kn.std, Math.SQRT2 / Math.sqrt(2304), 0.01, 'kaimingNormal fanOut std');
  // a = √5 (PyTorch's layer default) gives the bound 1/√fanIn
  const d = stats(init.kaimingUniform(zeros([64, 400]), { a: Math.sqrt(5), generator: g() }));
  assert.ok(d.max <= 1 / 20 && d.max > 0.99 / 20);
  assert.throws(
    () => init.kaimingNormal(zeros([3, 3]), { mode: 'fanAvg' as 'fanIn' }),
    /mode must be 'fanIn' or 'fanOut'/,
  );
});

test('xavier: std = gain·√(2/(fanIn+fanOut))', () => {
  const w = zeros([300, 500]);
  const xu = stats(init.xavierUniform(w, { generator: g() }));
  const bound = Math.sqrt(6 / 800);
  assert.ok(xu.max <= bound && xu.max > 0.99 * bound);
  near(xu.std, Math.sqrt(2 / 800), 0.01, 'xavierUniform std');
  const xn = stats(init.xavierNormal(w, { gain: init.calculateGain('tanh'), generator: g() }));
  near(xn.std, (5 / 3) * Math.sqrt(2 / 800), 0.01, 'xavierNormal std');
});

test('constant/zeros/ones fill in place and return the tensor; a generator makes it reproducible', () => {
  const t = zeros([2, 2]);
  assert.equal(init.constant(t, 0.5), t);
  assert.deepEqual(Array.from(t.data), [0.5, 0.5, 0.5, 0.5]);
  assert.deepEqual(Array.from(init.ones(t).data), [1, 1, 1, 1]);
  assert.deepEqual(Array.from(init.zeros(t).data), [0, 0, 0, 0]);
  const a = init.kaimingNormal(zeros([8, 8]), { generator: new Generator(7) });
  const b = init.kaimingNormal(zeros([8, 8]), { generator: new Generator(7) });
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
  // Parameters are initialized in place (the optimizer's references stay valid).
  const lin = new nn.Linear(3, 3);
  const p = lin.weight;
  init.xavierUniform(lin.weight);
  assert.equal(lin.weight, p);
  assert.throws(
    () => init.uniform(new Tensor(new Int32Array(2), [2])),
    /expected a float32 tensor, got int32/,
  );
});
