/**
 * Sequential's conv-block fusion: on every backend a fused model gives the values and gradients of
 * the same model run layer by layer, fuses only where nothing can observe it, and reports errors
 * exactly as the unfused layers do.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { availableBackends, setBackend } from '../src/backend/index.js';
import { registerNative } from '../scripts/oracle/run.js';
import { noGrad } from '../src/autograd/graph.js';
import * as nn from '../src/nn/index.js';
import { Generator } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import * as F from '../src/ops/functional.js';

await registerNative();
const backends = availableBackends();

function randn(shape: number[], seed: number): Tensor {
  const gen = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = gen.normal();
  return new Tensor(d, shape);
}

/** M1's and M2's patterns, small: conv+relu, conv+pool, conv+relu+pool, with groups and a bias-free conv. */
function model(seed: number): nn.Sequential {
  const generator = new Generator(seed);
  return new nn.Sequential(
    new nn.Conv2d(2, 4, 3, { padding: 1, generator }),
    new nn.ReLU(),
    new nn.Conv2d(4, 6, 2, { padding: 1, groups: 2, generator }),
    new nn.MaxPool2d(2),
    new nn.Conv2d(6, 8, 3, { padding: 'same', bias: false, generator }),
    new nn.ReLU(),
    new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
    new nn.Flatten(),
    new nn.Linear(8 * 4 * 4, 5, { generator }),
  );
}

/** Output, loss gradients of every parameter and of the input, with fusion on or off. */
function run(m: nn.Sequential, x: Tensor, fused: boolean) {
  nn.setFusion(fused);
  try {
    const xi = new Tensor(Float32Array.from(x.data as Float32Array), x.shape, true);
    for (const p of m.parameters()) p.grad = null;
    const out = m.forward(xi);
    F.crossEntropy(out, new Tensor(Int32Array.from([0, 3, 4, 1, 2]), [5])).backward();
    return {
      out: out.data as Float32Array,
      grads: [...m.parameters()].map((p) => p.grad!.data as Float32Array),
      dx: xi.grad!.data as Float32Array,
    };
  } finally {
    nn.setFusion(true);
  }
}

function close(a: Float32Array, b: Float32Array, what: string, tol: number) {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i]))))
      assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

for (const b of backends) {
  test(`[${b}] a fused Sequential gives the unfused values and gradients`, () => {
    setBackend(b);
    try {
      const m = model(1);
      const x = randn([5, 2, 11, 11], 2);
      const fused = run(m, x, true);
      const plain = run(m, x, false);
      // The forward is the same arithmetic in the same order on both backends; the native
      // backward sums the weight gradient over samples in other groupings.
      assert.deepEqual(fused.out, plain.out, 'output');
      // Without grad the pool's argmax is never stored; the values are the same.
      assert.deepEqual(noGrad(() => m.forward(x)).data, plain.out, 'output without grad');
      const tol = b === 'js' ? 0 : 1e-5;
      fused.grads.forEach((g, i) => close(g, plain.grads[i], `parameter ${i} grad`, tol));
      close(fused.dx, plain.dx, 'input grad', tol);
    } finally {
      setBackend('js');
    }
  });
}

test('the graph shows the fused blocks, and setFusion(false) restores one node per layer', () => {
  const m = model(3);
  const x = randn([2, 2, 11, 11], 4);
  x.requiresGrad = true;
  const names = (t: Tensor): string[] => {
    const out: string[] = [];
    let fn = t.gradFn;
    while (fn) {
      out.push(fn.name);
      fn = fn.inputs.find((i) => i.gradFn)?.gradFn ?? null;
    }
    return out.reverse();
  };
  assert.deepEqual(names(m.forward(x)).slice(0, 3), [
    'conv2d+relu',
    'conv2d+maxPool2d',
    'conv2d+relu+maxPool2d',
  ]);
  nn.setFusion(false);
  try {
    assert.deepEqual(names(m.forward(x)).slice(0, 3), ['conv2d', 'relu', 'conv2d']);
  } finally {
    nn.setFusion(true);
  }
  assert.equal(nn.fusionEnabled(), true);
  assert.throws(() => nn.setFusion('no' as unknown as boolean), /setFusion: expected a boolean/);
});

test('no fusion where it could be observed: hooks, overridden or replaced forward, unbatched input', () => {
  const x = randn([1, 1, 6, 6], 5);
  x.requiresGrad = true;
  const first = (m: nn.Module, input = x) => m.forward(input).gradFn!.inputs[0].gradFn?.name ?? 'leaf';
  const top = (m: nn.Module, input = x) => m.forward(input).gradFn!.name;

  const plain = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU());
  assert.equal(top(plain), 'conv2d+relu');

  const hooked = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU());
  const seen: string[] = [];
  hooked[1].registerForwardHook((mod) => void seen.push(mod.constructor.name));
  assert.equal(top(hooked), 'relu');
  assert.deepEqual(seen, ['ReLU']);

  class LoggingConv extends nn.Conv2d {
    override forward(input: Tensor): Tensor {
      seen.push('LoggingConv');
      return super.forward(input);
    }
  }
  assert.equal(top(new nn.Sequential(new LoggingConv(1, 2, 3), new nn.ReLU())), 'relu');
  assert.equal(seen.at(-1), 'LoggingConv');

  const replaced = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.MaxPool2d(2));
  const conv = replaced[0];
  const inner = conv.forward.bind(conv);
  conv.forward = (input: Tensor) => F.mul(inner(input), 2);
  assert.equal(first(replaced), 'mul');

  // Unbatched [C, H, W]: the layers run one by one (and still agree with the batched result).
  const single = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU(), new nn.MaxPool2d(2));
  const y3 = single.forward(x.reshape([1, 6, 6]));
  assert.equal(y3.gradFn!.name, 'maxPool2d');
  const y4 = single.forward(x);
  assert.equal(y4.gradFn!.name, 'conv2d+relu+maxPool2d');
  assert.deepEqual(y3.data, y4.data);
});

test('a layer that rejects its input is named as without fusion (the pool, the conv)', () => {
  const message = (m: nn.Module, x: Tensor): string => {
    try {
      m.forward(x);
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail('expected an error');
  };
  const small = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU(), new nn.MaxPool2d(5));
  const x = randn([1, 1, 5, 5], 6);
  const fusedMsg = message(small, x);
  assert.match(fusedMsg, /^2 \(MaxPool2d\)/);
  nn.setFusion(false);
  const plainMsg = message(small, x);
  const wrongChannels = message(small, randn([1, 3, 5, 5], 7));
  nn.setFusion(true);
  assert.equal(fusedMsg, plainMsg);
  assert.equal(message(small, randn([1, 3, 5, 5], 7)), wrongChannels);
  assert.match(wrongChannels, /^0 \(Conv2d\): expected input with 1 channels, got 3/);
});
