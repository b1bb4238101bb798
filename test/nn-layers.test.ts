/** Layers: PyTorch's parameter counts and defaults, forward = the op, mode-dependent behaviour. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nn from '../src/nn/index.js';
import { Tensor } from '../src/tensor/tensor.js';
import { rand, randn, tensor, ones } from '../src/tensor/creation.js';
import { doctor } from '../src/doctor.js';
import { manualSeed, Generator } from '../src/tensor/random.js';
import { conv2d } from '../src/ops/conv.js';
import { linear } from '../src/ops/linear.js';

function simpleCNN(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 32, { kernelSize: 2, padding: 1 }),
    new nn.ReLU(),
    new nn.Conv2d(32, 64, { kernelSize: 2, padding: 1 }),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(14400, 128),
    new nn.ReLU(),
    new nn.Linear(128, 10),
  );
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
}

test("seed 000's SimpleCNN has exactly PyTorch's 1,853,034 parameters", () => {
  const m = simpleCNN();
  assert.equal(m.numParameters(), 1_853_034);
  // by hand: 32·1·2·2+32 = 160; 64·32·2·2+64 = 8,256; 14400·128+128 = 1,843,328; 128·10+10 = 1,290
  assert.deepEqual(
    m.parameters().map((p) => p.numel()),
    [128, 32, 8192, 64, 1843200, 128, 1280, 10],
  );
});

test('the student SmallCNN has 9,098 parameters (80 + 1,168 + 7,850) and maps 28×28 to 10', () => {
  const m = new nn.Sequential(
    new nn.Conv2d(1, 8, { kernelSize: 3, padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, { kernelSize: 3, padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(784, 10),
  );
  assert.equal(m.numParameters(), 8 * 9 + 8 + (16 * 8 * 9 + 16) + (784 * 10 + 10));
  assert.equal(m.numParameters(), 9098);
  assert.deepEqual(m.forward(randn([2, 1, 28, 28])).shape, [2, 10]);
});

test('weight shapes follow PyTorch for every conv variant', () => {
  assert.deepEqual(new nn.Conv1d(4, 6, 5).weight.shape, [6, 4, 5]);
  assert.deepEqual(new nn.Conv2d(4, 6, [3, 5], { groups: 2 }).weight.shape, [6, 2, 3, 5]);
  assert.deepEqual(new nn.Conv3d(2, 3, 3).weight.shape, [3, 2, 3, 3, 3]);
  assert.deepEqual(new nn.ConvTranspose2d(4, 6, 3, { groups: 2 }).weight.shape, [4, 3, 3, 3]);
  assert.deepEqual(new nn.ConvTranspose2d(4, 6, 3).bias!.shape, [6]);
  assert.equal(new nn.Conv2d(4, 6, 3, { bias: false }).bias, null);
});

test('default init is U(±1/√fanIn) for weights and biases, seeded and reproducible', () => {
  manualSeed(3);
  const a = new nn.Conv2d(16, 32, 3);
  const bound = 1 / Math.sqrt(16 * 9);
  let maxW = 0;
  for (const v of a.weight.data) maxW = Math.max(maxW, Math.abs(v));
  assert.ok(maxW <= bound && maxW > 0.95 * bound, `max |w| ${maxW} vs bound ${bound}`);
  for (const v of a.bias!.data) assert.ok(Math.abs(v) <= bound);
  // U(-b, b) has variance b²/3
  let s2 = 0;
  for (const v of a.weight.data) s2 += v * v;
  assert.ok(Math.abs(s2 / a.weight.numel() / ((bound * bound) / 3) - 1) < 0.05);
  manualSeed(3);
  assert.deepEqual(Array.from(new nn.Conv2d(16, 32, 3).weight.data), Array.from(a.weight.data));
  const g1 = new nn.Linear(5, 5, { generator: new Generator(9) });
  const g2 = new nn.Linear(5, 5, { generator: new Generator(9) });
  assert.deepEqual(Array.from(g1.weight.data), Array.from(g2.weight.data));
});

test('forward is the op: Conv2d and Linear match F with their parameters', () => {
  const conv = new nn.Conv2d(2, 3, { kernelSize: 3, stride: 2, padding: 1, dilation: 1 });
  const x = randn([2, 2, 7, 7]);
  close(conv.forward(x).data, conv2d(x, conv.weight, conv.bias, { stride: 2, padding: 1 }).data);
  const lin = new nn.Linear(4, 3);
  const y = randn([5, 4]);
  close(lin.forward(y).data, linear(y, lin.weight, lin.bias).data);
  // gradients reach the parameters
  lin.forward(y).sum().backward();
  assert.deepEqual(lin.weight.grad!.shape, [3, 4]);
  assert.deepEqual(Array.from(lin.bias!.grad!.data), [5, 5, 5]);
});

test('padding "same" keeps the size; ConvTranspose2d and Upsample grow it', () => {
  assert.deepEqual(
    new nn.Conv2d(1, 2, { kernelSize: 4, padding: 'same' }).forward(randn([1, 1, 9, 9])).shape,
    [1, 2, 9, 9],
  );
  assert.deepEqual(
    new nn.Conv2d(1, 2, { kernelSize: 3, padding: 'valid' }).forward(randn([1, 1, 9, 9])).shape,
    [1, 2, 7, 7],
  );
  assert.deepEqual(
    new nn.ConvTranspose2d(4, 2, { kernelSize: 3, stride: 2, padding: 1, outputPadding: 1 }).forward(
      randn([1, 4, 5, 5]),
    ).shape,
    [1, 2, 10, 10],
  );
  assert.deepEqual(new nn.Upsample({ scaleFactor: 2 }).forward(randn([1, 3, 4, 5])).shape, [1, 3, 8, 10]);
  assert.deepEqual(
    new nn.Upsample({ size: [7, 3], mode: 'bilinear' }).forward(randn([1, 3, 4, 5])).shape,
    [1, 3, 7, 3],
  );
  assert.deepEqual(new nn.Conv1d(2, 4, 3).forward(randn([3, 2, 10])).shape, [3, 4, 8]);
  assert.deepEqual(new nn.Conv3d(2, 4, 3).forward(randn([1, 2, 5, 5, 5])).shape, [1, 4, 3, 3, 3]);
});

test('pooling layers', () => {
  const x = tensor([
    [
      [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 10, 11, 12],
        [13, 14, 15, 16],
      ],
    ],
  ]);
  assert.deepEqual(Array.from(new nn.MaxPool2d(2).forward(x).data), [6, 8, 14, 16]);
  assert.deepEqual(Array.from(new nn.AvgPool2d(2).forward(x).data), [3.5, 5.5, 11.5, 13.5]);
  assert.deepEqual(
    Array.from(new nn.MaxPool2d({ kernelSize: 3, stride: 1 }).forward(x).data),
    [11, 12, 15, 16],
  );
  assert.deepEqual(Array.from(new nn.AdaptiveAvgPool2d(1).forward(x).data), [8.5]);
  assert.deepEqual(Array.from(new nn.AdaptiveMaxPool2d([1, 2]).forward(x).data), [14, 16]);
  assert.deepEqual(new nn.MaxPool1d(2).forward(randn([2, 3, 8])).shape, [2, 3, 4]);
  assert.deepEqual(new nn.MaxPool3d(2).forward(randn([1, 1, 4, 4, 4])).shape, [1, 1, 2, 2, 2]);
});

test('Dropout zeroes and rescales in training, is the identity in eval', () => {
  const d = new nn.Dropout(0.5);
  const x = ones([1000]);
  const y = d.forward(x);
  let zerosCount = 0;
  for (const v of y.data) {
    if (v === 0) zerosCount++;
    else assert.equal(v, 2);
  }
  assert.ok(zerosCount > 400 && zerosCount < 600, `${zerosCount} zeros`);
  d.eval();
  assert.deepEqual(Array.from(d.forward(x).data), Array.from(x.data));
  assert.deepEqual(Array.from(new nn.Dropout(0).forward(x).data), Array.from(x.data));
});

test('BatchNorm2d: running statistics move only in training; eval uses them', () => {
  const bn = new nn.BatchNorm2d(2);
  const x = randn([4, 2, 3, 3]).mul(3).add(5);
  const y = bn.forward(x);
  // batch statistics: each channel of the output has mean ≈ 0
  for (let c = 0; c < 2; c++) {
    let s = 0;
    for (let n = 0; n < 4; n++) for (let q = 0; q < 9; q++) s += y.data[(n * 2 + c) * 9 + q];
    assert.ok(Math.abs(s / 36) < 1e-5);
  }
  const rm = bn.runningMean!;
  const mean0 = Array.from({ length: 2 }, (_, c) => {
    let s = 0;
    for (let n = 0; n < 4; n++) for (let q = 0; q < 9; q++) s += x.data[(n * 2 + c) * 9 + q];
    return s / 36;
  });
  close(
    rm.data,
    mean0.map((m) => 0.1 * m),
    1e-5,
  );
  assert.equal(bn.numBatchesTracked!.data[0], 1);
  assert.equal(bn.numBatchesTracked!.dtype, 'int32');

  bn.eval();
  const before = Array.from(rm.data);
  const ye = bn.forward(x);
  assert.deepEqual(Array.from(rm.data), before, 'eval does not touch running stats');
  assert.equal(bn.numBatchesTracked!.data[0], 1);
  // eval output = (x − running_mean)/√(running_var + eps)
  const rv = bn.runningVar!.data;
  close([ye.data[0]], [(x.data[0] - rm.data[0]) / Math.sqrt(rv[0] + 1e-5)], 1e-4);
});

test('BatchNorm options: momentum null averages cumulatively; no running stats uses batch stats in eval', () => {
  const bn = new nn.BatchNorm1d(1, { momentum: null });
  bn.forward(tensor([[1], [3]]));
  bn.forward(tensor([[5], [7]]));
  close(bn.runningMean!.data, [4], 1e-6);
  const free = new nn.BatchNorm1d(2, { trackRunningStats: false, affine: false });
  assert.deepEqual(Object.keys(free.stateDict()), []);
  free.eval();
  const out = free.forward(
    tensor([
      [1, 10],
      [3, 30],
    ]),
  );
  close(out.data, [-1, -1, 1, 1], 1e-3);
  assert.deepEqual(new nn.BatchNorm1d(3).forward(randn([4, 3, 5])).shape, [4, 3, 5]);
});

test('Flatten/Unflatten, Identity and activations', () => {
  const x = randn([2, 3, 4, 5]);
  assert.deepEqual(new nn.Flatten().forward(x).shape, [2, 60]);
  assert.deepEqual(new nn.Flatten(0, 1).forward(x).shape, [6, 4, 5]);
  assert.deepEqual(new nn.Unflatten(1, [3, 20]).forward(new nn.Flatten().forward(x)).shape, [2, 3, 20]);
  assert.equal(new nn.Identity().forward(x), x);
  const v = tensor([-2, 0, 3]);
  assert.deepEqual(Array.from(new nn.ReLU().forward(v).data), [0, 0, 3]);
  close(new nn.LeakyReLU(0.1).forward(v).data, [-0.2, 0, 3]);
  close(new nn.Sigmoid().forward(tensor([0])).data, [0.5]);
  close(new nn.Tanh().forward(tensor([0])).data, [0]);
  close(new nn.ELU().forward(tensor([-1])).data, [Math.exp(-1) - 1]);
  close(new nn.GELU().forward(tensor([1])).data, [0.8413447], 1e-5);
  const s = new nn.Softmax(1).forward(tensor([[1, 2, 3]]));
  close([s.data[0] + s.data[1] + s.data[2]], [1], 1e-6);
  close(new nn.LogSoftmax(1).forward(tensor([[0, 0]])).data, [Math.log(0.5), Math.log(0.5)], 1e-6);
});

test('loss modules pass their options to the op', () => {
  const logits = tensor([
    [2, 0, 0],
    [0, 2, 0],
  ]);
  const target = new Tensor(new Int32Array([0, 2]), [2]);
  const mean = new nn.CrossEntropyLoss().forward(logits, target).item();
  const sum = new nn.CrossEntropyLoss({ reduction: 'sum' }).forward(logits, target).item();
  close([sum], [2 * mean], 1e-5);
  assert.deepEqual(new nn.CrossEntropyLoss({ reduction: 'none' }).forward(logits, target).shape, [2]);
  const weighted = new nn.CrossEntropyLoss({ weight: tensor([1, 1, 0]) });
  assert.deepEqual(Object.keys(weighted.stateDict()), ['weight']);
  close([weighted.forward(logits, target).item()], [Math.log(1 + 2 * Math.exp(-2))], 1e-5);
  close([new nn.MSELoss().forward(tensor([1, 3]), tensor([0, 0])).item()], [5]);
  close([new nn.L1Loss().forward(tensor([1, -3]), tensor([0, 0])).item()], [2]);
  close([new nn.BCELoss().forward(tensor([0.5]), tensor([1])).item()], [Math.log(2)], 1e-6);
  close([new nn.BCEWithLogitsLoss().forward(tensor([0]), tensor([1])).item()], [Math.log(2)], 1e-6);
  const pw = new nn.BCEWithLogitsLoss({ posWeight: tensor([3]) });
  assert.deepEqual(Object.keys(pw.stateDict()), ['pos_weight']);
  close([pw.forward(tensor([0]), tensor([1])).item()], [3 * Math.log(2)], 1e-5);
  const logp = new nn.LogSoftmax(1).forward(logits);
  close([new nn.NLLLoss().forward(logp, target).item()], [mean], 1e-6);
});

test('a whole model trains: loss falls on a tiny problem', () => {
  manualSeed(5);
  const model = new nn.Sequential(new nn.Linear(2, 8), new nn.Tanh(), new nn.Linear(8, 2));
  const x = tensor([
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ]);
  const y = new Tensor(new Int32Array([0, 1, 1, 0]), [4]);
  const lossFn = new nn.CrossEntropyLoss();
  const first = lossFn.forward(model.forward(x), y).item();
  for (let i = 0; i < 300; i++) {
    model.zeroGrad();
    const loss = lossFn.forward(model.forward(x), y);
    loss.backward();
    for (const p of model.parameters()) {
      const g = p.grad!.data;
      for (let k = 0; k < p.data.length; k++) p.data[k] -= 0.5 * g[k];
    }
  }
  const last = lossFn.forward(model.forward(x), y).item();
  assert.ok(last < first / 4, `${first} → ${last}`);
});

test('the doctor notices raw 0..255 pixels at the first Conv2d in training, not deeper or in eval', () => {
  const prev = doctor.enabled;
  doctor.enabled = true;
  doctor.reset();
  const off = doctor.onWarning(() => {});
  try {
    const model = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU(), new nn.Conv2d(2, 2, 3));
    const pixels = rand([2, 1, 8, 8]).mul(255);
    model.eval().forward(pixels);
    assert.equal(doctor.warnings.length, 0, 'eval: no check');
    // Deeper convs see op outputs (ReLU of big activations), which must not count as pixels.
    nn.init.constant((model[0] as nn.Conv2d).weight, 10); // conv 2 sees values up to ~90, all ≥ 0
    model.train().forward(rand([2, 1, 8, 8]));
    assert.equal(doctor.warnings.length, 0);
    model.forward(pixels);
    assert.deepEqual(
      doctor.warnings.map((w) => w.code),
      ['unnormalised-input'],
    );
  } finally {
    off();
    doctor.reset();
    doctor.enabled = prev;
  }
});
