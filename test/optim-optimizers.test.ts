/** Optimizer mechanics: parameter groups, zeroGrad, exact resume from stateDict, schedulers, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { tensor } from '../src/tensor/creation.js';
import type { Tensor } from '../src/tensor/tensor.js';
import * as optim from '../src/optim/index.js';

const near = (a: number, b: number, what = '') =>
  assert.ok(Math.abs(a - b) <= 1e-12 + 1e-9 * Math.abs(b), `${what}: got ${a}, expected ${b}`);

function param(values: number[]): Tensor {
  return tensor(values, [values.length], { requiresGrad: true });
}

test('parameter groups carry their own hyperparameters; missing ones take the defaults', () => {
  const a = param([1, 1]);
  const b = param([1, 1]);
  const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.5 }], { lr: 0.1 });
  assert.equal(opt.paramGroups[0].lr, 0.1);
  assert.equal(opt.paramGroups[1].lr, 0.5);
  assert.equal(opt.paramGroups[1].momentum, 0);
  a.grad = tensor([1, 2]);
  b.grad = tensor([1, 2]);
  opt.step();
  assert.deepEqual(Array.from(a.data), [Math.fround(0.9), Math.fround(0.8)]);
  assert.deepEqual(Array.from(b.data), [0.5, 0]);
  const c = param([0]);
  opt.addParamGroup({ params: [c], lr: 2 });
  c.grad = tensor([1]);
  opt.step();
  assert.equal(c.data[0], -2);
  assert.throws(() => opt.addParamGroup({ params: [a] }), /more than one parameter group/);
});

test('zeroGrad sets grads to null, or to zeros with setToNone: false; parameters without grads are skipped', () => {
  const a = param([1, 2]);
  const b = param([3]);
  const opt = new optim.Adam([a, b], { lr: 0.1 });
  a.grad = tensor([1, 1]);
  opt.zeroGrad({ setToNone: false });
  assert.deepEqual(Array.from(a.grad!.data), [0, 0]);
  assert.equal(b.grad, null);
  opt.zeroGrad();
  assert.equal(a.grad, null);
  a.grad = tensor([1, -1]);
  opt.step();
  assert.deepEqual(Array.from(b.data), [3]);
  assert.ok(a.data[0] < 1 && a.data[1] > 2);
  assert.equal(opt.state.has(b), false);
});

for (const make of [
  (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.01, amsgrad: true, weightDecay: 0.1 }),
  (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.01 }),
  (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true }),
  (ps: Tensor[]) => new optim.RMSprop(ps, { lr: 0.01, momentum: 0.5, centered: true }),
]) {
  const name = make([param([0])]).constructor.name;
  test(`${name}: resuming from stateDict() continues bit for bit`, () => {
    const grads = [
      [0.5, -1, 2],
      [1, 1, -1],
      [-0.3, 0.2, 0.9],
      [2, -2, 0.1],
      [0.7, 0.4, -0.6],
    ];
    const p = param([1, -2, 3]);
    const opt = make([p]);
    grads.slice(0, 3).forEach((g) => {
      p.grad = tensor(g);
      opt.step();
    });
    const saved = opt.stateDict();
    const savedP = Float32Array.from(p.data);
    grads.slice(3).forEach((g) => {
      p.grad = tensor(g);
      opt.step();
    });
    const q = tensor(Float32Array.from(savedP), [3], { requiresGrad: true });
    const opt2 = make([q]);
    opt2.loadStateDict(structuredClone(saved));
    grads.slice(3).forEach((g) => {
      q.grad = tensor(g);
      opt2.step();
    });
    assert.deepEqual(Array.from(q.data), Array.from(p.data));
  });
}

test('loadStateDict rejects a state dict for other parameters, and leaves the optimizer unchanged', () => {
  const opt = new optim.Adam([param([1, 2])], { lr: 0.1 });
  const other = new optim.Adam([param([1, 2, 3])], { lr: 0.5 });
  other.paramGroups[0].params[0].grad = tensor([1, 1, 1]);
  other.step();
  assert.throws(
    () => opt.loadStateDict(other.stateDict()),
    /Adam\.loadStateDict: state 'expAvg' of parameter 0 should have 2 elements/,
  );
  assert.equal(opt.paramGroups[0].lr, 0.1);
  assert.throws(
    () => opt.loadStateDict(new optim.Adam([param([1]), param([2])]).stateDict()),
    /group 0 has 2 parameters in the state dict, 1 here/,
  );
});

test('bad arguments name the optimizer and the argument', () => {
  assert.throws(() => new optim.SGD([param([1])], {} as { lr: number }), /SGD: lr is required/);
  assert.throws(() => new optim.SGD([param([1])], { lr: -1 }), /SGD: invalid lr -1/);
  assert.throws(
    () => new optim.SGD([param([1])], { lr: 0.1, nesterov: true }),
    /nesterov momentum requires momentum > 0/,
  );
  assert.throws(() => new optim.Adam([param([1])], { betas: [0.9, 1.5] }), /Adam: invalid betas\[1\] 1\.5/);
  assert.throws(() => new optim.Adam([]), /Adam: got an empty parameter list/);
  const p = param([1]);
  assert.throws(() => new optim.RMSprop([p.mul(2)]), /can't optimize a non-leaf Tensor/);
});

function trace(make: (o: optim.Optimizer) => { step(): void }, epochs: number, lr = 0.05): number[] {
  const opt = new optim.SGD([param([0])], { lr });
  const s = make(opt);
  const lrs = [opt.paramGroups[0].lr];
  for (let e = 1; e < epochs; e++) {
    s.step();
    lrs.push(opt.paramGroups[0].lr);
  }
  return lrs;
}

test('MultiStepLR, ExponentialLR, LinearLR follow PyTorch (documented examples)', () => {
  const ms = trace((o) => new optim.MultiStepLR(o, { milestones: [3, 5], gamma: 0.1 }), 7);
  [0.05, 0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005].forEach((v, i) => near(ms[i], v, `MultiStepLR ${i}`));
  const ex = trace((o) => new optim.ExponentialLR(o, { gamma: 0.5 }), 4, 1);
  assert.deepEqual(ex, [1, 0.5, 0.25, 0.125]);
  // PyTorch's docstring: lr 0.05, startFactor 0.5, totalIters 4.
  const lin = trace((o) => new optim.LinearLR(o, { startFactor: 0.5, totalIters: 4 }), 7);
  [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05, 0.05].forEach((v, i) => near(lin[i], v, `LinearLR ${i}`));
});

test('OneCycleLR warms up to maxLr, anneals to maxLr/(div·finalDiv), cycles momentum (or beta1)', () => {
  const opt = new optim.SGD([param([0])], { lr: 0.1, momentum: 0.9 });
  const s = new optim.OneCycleLR(opt, { maxLr: 1, totalSteps: 10 });
  const lrs = [opt.paramGroups[0].lr];
  const mom = [opt.paramGroups[0].momentum];
  for (let k = 1; k < 10; k++) {
    s.step();
    lrs.push(opt.paramGroups[0].lr);
    mom.push(opt.paramGroups[0].momentum);
  }
  near(lrs[0], 0.04, 'start = maxLr / 25');
  near(lrs[1], 1 + ((0.04 - 1) / 2) * (Math.cos(Math.PI / 2) + 1), 'halfway up');
  near(lrs[2], 1, 'peak at pctStart · total − 1');
  near(lrs[9], 0.04 / 1e4, 'end');
  near(mom[0], 0.95);
  near(mom[2], 0.85);
  assert.throws(() => {
    s.step();
    s.step();
  }, /OneCycleLR: stepped 11 times but totalSteps is 10/);
  const adam = new optim.Adam([param([0])]);
  new optim.OneCycleLR(adam, { maxLr: 0.01, epochs: 2, stepsPerEpoch: 5 });
  assert.deepEqual(adam.paramGroups[0].betas, [0.95, 0.999]);
  assert.throws(
    () => new optim.OneCycleLR(new optim.RMSprop([param([0])]), { maxLr: 1 }),
    /OneCycleLR: give totalSteps, or epochs and stepsPerEpoch/,
  );
});

test('ReduceLROnPlateau: threshold, cooldown and minLr; scheduler state round-trips', () => {
  const opt = new optim.SGD([param([0])], { lr: 1 });
  const s = new optim.ReduceLROnPlateau(opt, {
    patience: 1,
    factor: 0.5,
    cooldown: 1,
    minLr: 0.2,
    threshold: 0.1,
  });
  // 1 best; 0.95 not 10% better (bad 1); 0.94 bad 2 > patience → 0.5, cooldown;
  // 0.93 cooldown; 0.92 bad 1; 0.91 bad 2 → 0.25; ... floor 0.2 (nothing beats 1 by 10%).
  const lrs = [1, 0.95, 0.94, 0.93, 0.92, 0.91, 0.905, 0.904, 0.903].map(
    (m) => (s.step(m), opt.paramGroups[0].lr),
  );
  assert.deepEqual(lrs, [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2]);
  const copy = new optim.ReduceLROnPlateau(opt);
  copy.loadStateDict(s.stateDict());
  assert.equal(copy.best, 1);
  assert.equal(copy.patience, 1);
  const step = new optim.StepLR(new optim.SGD([param([0])], { lr: 1 }), { stepSize: 2 });
  step.step();
  const st = step.stateDict();
  assert.equal(st.lastEpoch, 1);
  assert.throws(
    () => new optim.StepLR(opt, { stepSize: 0 }),
    /StepLR: stepSize must be a positive integer, got 0/,
  );
});
