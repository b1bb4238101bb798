/** Module mechanics: registration, names, stateDict/loadStateDict, modes, gradients, printing, hooks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import * as nn from '../src/nn/index.js';
import { Tensor } from '../src/tensor/tensor.js';
import { ones, randn, tensor, zeros } from '../src/tensor/creation.js';
import { manualSeed } from '../src/tensor/random.js';
import { doctor } from '../src/doctor.js';

class Net extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(3, 4, 3),
    new nn.ReLU(),
    new nn.BatchNorm2d(4),
    new nn.MaxPool2d(2),
    new nn.Dropout(0.25),
  );
  classifier = new nn.Sequential(
    new nn.Flatten(),
    new nn.Linear(4 * 3 * 3, 8),
    new nn.ReLU(),
    new nn.Linear(8, 2),
  );
  override forward(x: Tensor): Tensor {
    return this.classifier.forward(this.features.forward(x));
  }
}

test('Parameter is a Tensor that requires grad and shares the given storage', () => {
  const t = zeros([2, 3]);
  const p = new nn.Parameter(t);
  assert.ok(p instanceof Tensor);
  assert.equal(p.requiresGrad, true);
  assert.equal(p.data, t.data);
  assert.deepEqual(p.shape, [2, 3]);
  assert.equal(new nn.Parameter(t, false).requiresGrad, false);
  assert.throws(() => new nn.Parameter(new Tensor(new Int32Array(2), [2])), /float32/);
});

test('stateDict keys are PyTorch names, in PyTorch order, for nested Sequentials', () => {
  const keys = Object.keys(new Net().stateDict());
  assert.deepEqual(keys, [
    'features.0.weight',
    'features.0.bias',
    'features.2.weight',
    'features.2.bias',
    'features.2.running_mean',
    'features.2.running_var',
    'features.2.num_batches_tracked',
    'classifier.1.weight',
    'classifier.1.bias',
    'classifier.3.weight',
    'classifier.3.bias',
  ]);
  const sd = new Net().stateDict();
  assert.equal(sd['features.2.num_batches_tracked'].dtype, 'int32');
  assert.deepEqual(sd['features.2.num_batches_tracked'].shape, []);
  assert.deepEqual(Array.from(sd['features.2.running_var'].data), [1, 1, 1, 1]);
});

test('namedParameters/parameters/buffers/children/modules walk the tree', () => {
  const net = new Net();
  const names = net.namedParameters().map(([n]) => n);
  assert.deepEqual(names, [
    'features.0.weight',
    'features.0.bias',
    'features.2.weight',
    'features.2.bias',
    'classifier.1.weight',
    'classifier.1.bias',
    'classifier.3.weight',
    'classifier.3.bias',
  ]);
  assert.equal(net.parameters().length, 8);
  assert.ok(net.parameters().every((p) => p instanceof nn.Parameter));
  assert.deepEqual(
    net.namedBuffers().map(([n]) => n),
    ['features.2.running_mean', 'features.2.running_var', 'features.2.num_batches_tracked'],
  );
  assert.deepEqual(
    net.namedChildren().map(([n]) => n),
    ['features', 'classifier'],
  );
  assert.equal(net.modules().length, 1 + 1 + 5 + 1 + 4);
  assert.equal(net.namedModules()[0][0], '');
  assert.ok(net.getSubmodule('features.2') instanceof nn.BatchNorm2d);
  assert.throws(() => net.getSubmodule('features.9'), /features has no submodule '9'/);
  // Sequential children are also indexable, like PyTorch's model.features[2].
  assert.ok(net.features[2] instanceof nn.BatchNorm2d);
  assert.ok(net.features.at(-1) instanceof nn.Dropout);
  assert.equal(net.features.length, 5);
});

test('explicit registration, reassignment and null parameters', () => {
  class M extends nn.Module {
    scale: nn.Parameter;
    stats: Tensor;
    constructor() {
      super();
      this.scale = this.registerParameter('scale_param', new nn.Parameter(ones([3])));
      this.stats = this.registerBuffer('my_stats', zeros([3]));
      this.registerBuffer('scratch', zeros([2]), { persistent: false });
    }
  }
  const m = new M();
  assert.deepEqual(Object.keys(m.stateDict()), ['scale_param', 'my_stats']);
  assert.deepEqual(
    m.namedBuffers().map(([n]) => n),
    ['my_stats', 'scratch'],
  );
  assert.throws(
    () => m.registerBuffer('scale_param', zeros([1])),
    /'scale_param' is already registered as a parameter/,
  );
  assert.throws(() => m.registerParameter('a.b', new nn.Parameter(zeros([1]))), /must not contain '.'/);
  assert.throws(() => m.registerParameter('x', zeros([1]) as nn.Parameter), /expected a Parameter/);

  const lin = new nn.Linear(3, 2, { bias: false });
  assert.deepEqual(Object.keys(lin.stateDict()), ['weight']);
  const lin2 = new nn.Linear(3, 2);
  const fresh = new nn.Parameter(zeros([2, 3]));
  lin2.weight = fresh;
  assert.equal(lin2.parameters()[0], fresh, 'a reassigned property is followed');
  lin2.bias = null;
  assert.deepEqual(Object.keys(lin2.stateDict()), ['weight']);
});

test('a shared module: parameters listed once, stateDict under every name (as PyTorch)', () => {
  const a = new nn.Linear(4, 4);
  const seq = new nn.Sequential(a, new nn.ReLU(), a);
  assert.equal(seq.parameters().length, 2);
  assert.equal(seq.numParameters(), 20);
  assert.deepEqual(Object.keys(seq.stateDict()), ['0.weight', '0.bias', '2.weight', '2.bias']);
  seq.loadStateDict(seq.stateDict());
});

test('a plain array of modules draws a doctor warning', () => {
  class Bad extends nn.Module {
    layers = [new nn.Linear(2, 2)];
  }
  const before = doctor.warnings.length;
  const prev = doctor.enabled;
  doctor.enabled = true;
  const off = doctor.onWarning(() => {});
  try {
    assert.equal(new Bad().parameters().length, 0);
  } finally {
    off();
    doctor.enabled = prev;
  }
  assert.ok(doctor.warnings.slice(before).some((w) => w.code === 'module-array-not-registered'));
});

test('loadStateDict copies into the existing storage and round-trips', () => {
  manualSeed(1);
  const a = new Net();
  const b = new Net();
  const wBefore = b.features[0].parameters()[0];
  const dataBefore = wBefore.data;
  a.getSubmodule('features.2').buffers()[2].data[0] = 7;
  const res = b.loadStateDict(a.stateDict());
  assert.deepEqual(res, { missingKeys: [], unexpectedKeys: [] });
  assert.equal(b.features[0].parameters()[0], wBefore, 'same Parameter object');
  assert.equal(wBefore.data, dataBefore, 'same storage');
  for (const [k, v] of Object.entries(a.stateDict())) {
    assert.deepEqual(Array.from(b.stateDict()[k].data), Array.from(v.data), k);
  }
  assert.equal(b.stateDict()['features.2.num_batches_tracked'].data[0], 7);
});

test('loadStateDict strict errors name missing and unexpected keys and both shapes', () => {
  const net = new Net();
  const sd = net.stateDict();
  const missing = { ...sd };
  delete missing['classifier.3.bias'];
  assert.throws(() => net.loadStateDict(missing), /missing keys: 'classifier\.3\.bias'/);
  assert.throws(
    () => net.loadStateDict({ ...sd, 'classifier.9.weight': zeros([1]) }),
    /unexpected keys: 'classifier\.9\.weight'/,
  );
  const wrong = { ...sd, 'features.0.weight': zeros([4, 1, 3, 3]) };
  assert.throws(
    () => net.loadStateDict(wrong),
    (e: Error) =>
      e.message.includes("'features.0.weight'") &&
      e.message.includes('[4, 1, 3, 3]') &&
      e.message.includes('[4, 3, 3, 3]'),
  );
  // Nothing is copied when anything is wrong.
  const before = Array.from(net.stateDict()['classifier.1.bias'].data);
  const changed = { ...sd, 'classifier.1.bias': ones([8]), 'features.0.weight': zeros([1]) };
  assert.throws(() => net.loadStateDict(changed));
  assert.deepEqual(Array.from(net.stateDict()['classifier.1.bias'].data), before);
  // Non-strict: loads the matching keys and reports the rest; shape mismatches still fail.
  const res = net.loadStateDict({ 'classifier.1.bias': ones([8]), extra: zeros([1]) }, { strict: false });
  assert.deepEqual(res.unexpectedKeys, ['extra']);
  assert.equal(res.missingKeys.length, 10);
  assert.deepEqual(Array.from(net.stateDict()['classifier.1.bias'].data), new Array(8).fill(1));
  assert.throws(
    () => net.loadStateDict({ 'classifier.1.bias': ones([9]) }, { strict: false }),
    /size mismatch/,
  );
});

test('train()/eval() propagate to every descendant and return the module', () => {
  const net = new Net();
  assert.equal(net.eval(), net);
  assert.ok(net.modules().every((m) => m.training === false));
  net.train();
  assert.ok(net.modules().every((m) => m.training === true));
  net.features.train(false);
  assert.equal(net.training, true);
  assert.equal(net.features[2].training, false);
  assert.equal(net.classifier[1].training, true);
});

test('zeroGrad clears gradients; setRequiresGrad freezes; numParameters counts trainable', () => {
  const lin = new nn.Linear(3, 2);
  lin
    .forward(randn([4, 3]))
    .sum()
    .backward();
  assert.ok(lin.weight.grad !== null);
  lin.zeroGrad({ setToNone: false });
  assert.deepEqual(Array.from(lin.weight.grad!.data), [0, 0, 0, 0, 0, 0]);
  lin.zeroGrad();
  assert.equal(lin.weight.grad, null);
  assert.equal(lin.bias!.grad, null);
  const net = new Net();
  net.features.setRequiresGrad(false);
  assert.equal(net.numParameters({ trainableOnly: true }), 36 * 8 + 8 + 8 * 2 + 2);
  assert.equal(net.numParameters(), 36 * 8 + 8 + 8 * 2 + 2 + (4 * 27 + 4) + 8);
});

test('apply visits children first, then the module', () => {
  const seq = new nn.Sequential(new nn.Linear(2, 2), new nn.Sequential(new nn.ReLU()));
  const seen: string[] = [];
  seq.apply((m) => void seen.push(nn.typeName(m)));
  assert.deepEqual(seen, ['Linear', 'ReLU', 'Sequential', 'Sequential']);
  seq.apply((m) => {
    if (m instanceof nn.Linear) nn.init.zeros(m.weight);
  });
  assert.deepEqual(Array.from((seq[0] as nn.Linear).weight.data), [0, 0, 0, 0]);
});

test("toString prints PyTorch's format with only non-default settings", () => {
  const net = new Net();
  assert.equal(
    net.toString(),
    [
      'Net(',
      '  (features): Sequential(',
      '    (0): Conv2d(3, 4, kernelSize=(3, 3))',
      '    (1): ReLU()',
      '    (2): BatchNorm2d(4)',
      '    (3): MaxPool2d(kernelSize=2)',
      '    (4): Dropout(p=0.25)',
      '  )',
      '  (classifier): Sequential(',
      '    (0): Flatten()',
      '    (1): Linear(inFeatures=36, outFeatures=8)',
      '    (2): ReLU()',
      '    (3): Linear(inFeatures=8, outFeatures=2)',
      '  )',
      ')',
    ].join('\n'),
  );
  assert.equal(
    new nn.Conv2d(4, 8, {
      kernelSize: [3, 5],
      stride: 2,
      padding: 1,
      dilation: 2,
      groups: 2,
      bias: false,
    }).toString(),
    'Conv2d(4, 8, kernelSize=(3, 5), stride=(2, 2), padding=(1, 1), dilation=(2, 2), groups=2, bias=false)',
  );
  assert.equal(
    new nn.Conv2d(1, 2, 3, { padding: 'same' }).toString(),
    "Conv2d(1, 2, kernelSize=(3, 3), padding='same')",
  );
  assert.equal(
    new nn.Linear(3, 2, { bias: false }).toString(),
    'Linear(inFeatures=3, outFeatures=2, bias=false)',
  );
  assert.equal(
    new nn.MaxPool2d(3, { stride: 2, padding: 1 }).toString(),
    'MaxPool2d(kernelSize=3, stride=2, padding=1)',
  );
  assert.equal(
    new nn.BatchNorm1d(8, { momentum: 0.01, affine: false }).toString(),
    'BatchNorm1d(8, momentum=0.01, affine=false)',
  );
  assert.equal(new nn.Softmax(1).toString(), 'Softmax(dim=1)');
  assert.equal(new nn.LeakyReLU(0.2).toString(), 'LeakyReLU(negativeSlope=0.2)');
  assert.equal(
    new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }).toString(),
    'CrossEntropyLoss(labelSmoothing=0.1)',
  );
  assert.equal(new nn.Sequential().toString(), 'Sequential()');
  assert.equal(inspect(new nn.Sequential(new nn.ReLU())), 'Sequential(\n  (0): ReLU()\n)');
});

test('forward hooks see inputs and outputs and can be removed', () => {
  const lin = new nn.Linear(3, 2);
  const shapes: number[][] = [];
  const h = lin.registerForwardHook(
    (_m, inputs, out) => void shapes.push((inputs[0] as Tensor).shape, (out as Tensor).shape),
  );
  lin.forward(zeros([5, 3]));
  h.remove();
  lin.forward(zeros([5, 3]));
  assert.deepEqual(shapes, [
    [5, 3],
    [5, 2],
  ]);
  const replace = lin.registerForwardHook(() => tensor([42]));
  assert.deepEqual(Array.from(lin.forward(zeros([1, 3])).data), [42]);
  replace.remove();
});

test('Sequential accepts named children and rejects non-modules', () => {
  const seq = new nn.Sequential({ conv: new nn.Conv2d(1, 2, 3), act: new nn.ReLU() });
  assert.deepEqual(Object.keys(seq.stateDict()), ['conv.weight', 'conv.bias']);
  assert.throws(
    () => new nn.Sequential(new nn.ReLU(), 3 as unknown as nn.Module),
    /Sequential: argument 1 must be a Module, got number/,
  );
  const list = new nn.ModuleList([new nn.Linear(2, 2), new nn.Linear(2, 2)]);
  assert.deepEqual(Object.keys(list.stateDict()), ['0.weight', '0.bias', '1.weight', '1.bias']);
  assert.throws(() => list.forward(), /ModuleList has no forward/);
  assert.throws(() => list.at(5), /index 5 is out of range for 2 modules/);
  const dict = new nn.ModuleDict({ encoder: new nn.Linear(2, 3), head: new nn.Linear(3, 1) });
  assert.deepEqual(Object.keys(dict.stateDict()), [
    'encoder.weight',
    'encoder.bias',
    'head.weight',
    'head.bias',
  ]);
  assert.ok(dict.get('head') instanceof nn.Linear);
  assert.throws(() => dict.get('tail'), /ModuleDict: no module 'tail' \(it has: encoder, head\)/);
  dict.set('encoder', new nn.Linear(2, 3, { bias: false }));
  assert.deepEqual(dict.keys(), ['encoder', 'head']);
  assert.equal(dict.numParameters(), 6 + 4);
});

test('a module without forward says so (as a TypeError, not a shape error)', () => {
  class Empty extends nn.Module {}
  assert.throws(
    () => new Empty().forward(zeros([1])),
    (e: Error) => e instanceof TypeError && /Empty: forward\(\) is not implemented/.test(e.message),
  );
});
