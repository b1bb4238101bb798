/** Errors name the place: module path and type, expected vs got, and where a number came from. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as nn from '../src/nn/index.js';
import { Tensor } from '../src/tensor/tensor.js';
import { randn } from '../src/tensor/creation.js';
import { relu } from '../src/ops/activation.js';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('expected an error');
}

class Model extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(1, 16, { kernelSize: 3, padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(32, 64, 3),
  );
  override forward(x: Tensor): Tensor {
    return this.features.forward(x);
  }
}

test('a channel mismatch deep in a model names the path, the type and both numbers', () => {
  const err = (() => {
    try {
      new Model().forward(randn([8, 1, 28, 28]));
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof nn.ShapeError);
  assert.equal(
    err.message,
    'features.3 (Conv2d): expected input with 32 channels, got 16 (input shape [8, 16, 14, 14])',
  );
  assert.deepEqual(err.path, ['features', '3']);
  assert.equal(err.moduleType, 'Conv2d');
  assert.ok(
    err.stack!.startsWith('ShapeError: features.3 (Conv2d): expected'),
    'the stack shows the full message',
  );
});

test('Linear after Flatten: the message explains where the feature count came from', () => {
  // seed 000's SimpleCNN fed 26×26 images instead of 28×28
  const model = new nn.Sequential(
    new nn.Conv2d(1, 32, { kernelSize: 2, padding: 1 }),
    new nn.ReLU(),
    new nn.Conv2d(32, 64, { kernelSize: 2, padding: 1 }),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(14400, 128),
    new nn.ReLU(),
    new nn.Linear(128, 10),
  );
  assert.equal(
    messageOf(() => model.forward(randn([2, 1, 26, 26]))),
    '5 (Linear): expected 14400 input features, got 12544 (input shape [2, 12544]); ' +
      "the previous layer 4 (Flatten) gives [2, 12544] from 3 (MaxPool2d)'s output 64×14×14",
  );
});

test('the note keeps full paths when the Sequential is nested, and looks past shape-keeping layers', () => {
  class Net extends nn.Module {
    body = new nn.Sequential(
      new nn.Sequential(new nn.Conv2d(3, 4, 3)),
      new nn.Sequential(new nn.Flatten(), new nn.Dropout(0.5), new nn.Linear(100, 10)),
    );
    override forward(x: Tensor): Tensor {
      return this.body.forward(x);
    }
  }
  assert.equal(
    messageOf(() => new Net().forward(randn([2, 3, 8, 8]))),
    'body.1.2 (Linear): expected 100 input features, got 144 (input shape [2, 144]); ' +
      "the previous layer body.1.0 (Flatten) gives [2, 144] from body.0 (Sequential)'s output 4×6×6",
  );
});

test('too small inputs: the op gives the size arithmetic, the module adds its path', () => {
  const model = new nn.Sequential(new nn.Conv2d(1, 4, 5), new nn.MaxPool2d(2), new nn.Conv2d(4, 8, 5));
  const msg = messageOf(() => model.forward(randn([1, 1, 12, 12])));
  assert.match(msg, /^2 \(Conv2d\): /);
  assert.match(msg, /4 \+ 0 − 4 − 1/, msg); // (H + 2p − d(k−1) − 1) with H = 4, k = 5
  const pool = new nn.Sequential(
    new nn.Conv2d(1, 1, 3),
    new nn.MaxPool2d(2),
    new nn.MaxPool2d(2),
    new nn.MaxPool2d(2),
  );
  const pmsg = messageOf(() => pool.forward(randn([1, 1, 9, 9])));
  assert.match(pmsg, /^3 \(MaxPool2d\): .*1 \+ 0 − 1 − 1/, pmsg);
});

test('errors inside custom modules get the property names, also through F calls', () => {
  class Block extends nn.Module {
    conv = new nn.Conv2d(8, 8, 3, { padding: 1 });
    override forward(x: Tensor): Tensor {
      return relu(this.conv.forward(x));
    }
  }
  class Net extends nn.Module {
    stem = new nn.Conv2d(3, 4, 3);
    block = new Block();
    override forward(x: Tensor): Tensor {
      return this.block.forward(this.stem.forward(x));
    }
  }
  assert.equal(
    messageOf(() => new Net().forward(randn([1, 3, 10, 10]))),
    'block.conv (Conv2d): expected input with 8 channels, got 4 (input shape [1, 4, 8, 8])',
  );
});

test('rank and feature errors of other layers', () => {
  assert.match(
    messageOf(() => new nn.Conv2d(1, 2, 3).forward(randn([28, 28]))),
    /^Conv2d: expected a 4-D input \[N, C, H, W\] \(or 3-D unbatched\), got 2-D input of shape \[28, 28\]/,
  );
  assert.equal(
    messageOf(() => new nn.BatchNorm2d(4).forward(randn([2, 3, 5, 5]))),
    'BatchNorm2d: expected input with 4 channels, got 3 (input shape [2, 3, 5, 5])',
  );
  assert.match(
    messageOf(() => new nn.BatchNorm1d(4).forward(randn([2, 4, 5, 5]))),
    /BatchNorm1d: expected a 2-D \[N, C\]/,
  );
  assert.match(
    messageOf(() => new nn.Softmax(2).forward(randn([2, 4]))),
    /Softmax: dim 2 is out of range/,
  );
  assert.match(
    messageOf(() => new nn.Unflatten(1, [2, 3]).forward(randn([2, 5]))),
    /Unflatten: cannot unflatten dim 1 of size 5 into \[2,3\]/,
  );
  // Losses: errors from the op carry the module type.
  const ce = new nn.CrossEntropyLoss();
  assert.match(
    messageOf(() => ce.forward(randn([4, 3]), randn([5]))),
    /^CrossEntropyLoss: /,
  );
});

test('bugs (TypeErrors) are not disguised as shape errors', () => {
  class Buggy extends nn.Module {
    override forward(): Tensor {
      throw new TypeError('x is not a function');
    }
  }
  assert.throws(
    () => new nn.Sequential(new Buggy()).forward(randn([1])),
    (e: Error) => e instanceof TypeError && !(e instanceof nn.ShapeError),
  );
});

test('constructors validate arguments with the argument name', () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => new nn.Conv2d(32, 64, { kernelSize: 3, groups: 3 }),
      /Conv2d: groups \(3\) must divide inChannels \(32\)/,
    ],
    [
      () => new nn.Conv2d(6, 64, { kernelSize: 3, groups: 3 }),
      /Conv2d: groups \(3\) must divide outChannels \(64\)/,
    ],
    [
      () => new nn.Conv2d(1, 8, { kernelSize: 3, padding: 'same', stride: 2 }),
      /Conv2d: padding='same' is not supported for strided/,
    ],
    [() => new nn.Conv2d(0, 8, 3), /Conv2d: inChannels must be a positive integer, got 0/],
    [() => new nn.Conv2d(1, 8, 0), /Conv2d: kernelSize must be positive integers, got 0/],
    [() => new nn.Conv2d(1, 8, [3, 3, 3]), /Conv2d: kernelSize must be an int or a tuple of 2 ints/],
    [
      () => new nn.Conv2d(1, 8, { kernelSize: 3, padding: -1 }),
      /Conv2d: padding must be non-negative integers/,
    ],
    [
      () => new nn.Conv2d(1, 8, { kernelSize: 3, padding: 'full' as 'same' }),
      /Conv2d: padding must be an int, a tuple, 'same' or 'valid'/,
    ],
    [
      () => new nn.Conv2d(1, 8, { kernelSize: 3, paddng: 1 } as { kernelSize: number }),
      /Conv2d: unknown option 'paddng'/,
    ],
    [
      () => new nn.ConvTranspose2d(1, 8, { kernelSize: 3, stride: 2, outputPadding: 2 }),
      /ConvTranspose2d: outputPadding must be smaller/,
    ],
    [() => new nn.Linear(0, 3), /Linear: inFeatures must be a positive integer, got 0/],
    [() => new nn.Linear(3, -2), /Linear: outFeatures must be a positive integer, got -2/],
    [() => new nn.Dropout(1.5), /Dropout: dropout probability p has to be between 0 and 1, got 1.5/],
    [() => new nn.Dropout(-0.1), /Dropout: .* got -0.1/],
    [
      () => new nn.MaxPool2d(2, { padding: 2 }),
      /MaxPool2d: padding should be at most half of the kernel size/,
    ],
    [() => new nn.MaxPool2d(0), /MaxPool2d: kernelSize must be positive integers, got 0/],
    [() => new nn.BatchNorm2d(0), /BatchNorm2d: numFeatures must be a positive integer, got 0/],
    [
      () => new nn.BatchNorm2d(4, { momentum: 2 }),
      /BatchNorm2d: momentum must be a number in \[0, 1\], got 2/,
    ],
    [() => new nn.Softmax(undefined as unknown as number), /Softmax: dim is required/],
    [() => new nn.Upsample({}), /Upsample: give exactly one of size and scaleFactor/],
    [
      () => new nn.Upsample({ scaleFactor: 2, mode: 'bicubic' as 'nearest' }),
      /Upsample: mode must be 'nearest' or 'bilinear'/,
    ],
    [
      () => new nn.CrossEntropyLoss({ reduction: 'avg' as 'mean' }),
      /CrossEntropyLoss: reduction must be 'mean', 'sum' or 'none', got 'avg'/,
    ],
    [() => new nn.Unflatten(1, [2, -1, -1]), /Unflatten: only one size can be -1/],
    [() => new nn.AdaptiveAvgPool2d([1, 2, 3]), /AdaptiveAvgPool2d: outputSize must be an int or a pair/],
  ];
  for (const [fn, re] of cases) assert.throws(fn, re);
});

test('a layer created inside forward (not registered) shows as ? in the path', () => {
  class Net extends nn.Module {
    fc = new nn.Linear(4, 4);
    override forward(x: Tensor): Tensor {
      return new nn.Linear(3, 2).forward(this.fc.forward(x));
    }
  }
  assert.equal(
    messageOf(() => new nn.Sequential(new Net()).forward(randn([1, 4]))),
    '0.? (Linear): expected 3 input features, got 4 (input shape [1, 4])',
  );
});

test('across containers: a Flatten at the start of the classifier points at its input', () => {
  class Net extends nn.Module {
    features = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.MaxPool2d(2));
    classifier = new nn.Sequential(new nn.Flatten(), new nn.Linear(100, 10));
    override forward(x: Tensor): Tensor {
      return this.classifier.forward(this.features.forward(x));
    }
  }
  assert.equal(
    messageOf(() => new Net().forward(randn([2, 1, 14, 14]))),
    'classifier.1 (Linear): expected 100 input features, got 144 (input shape [2, 144]); ' +
      "the previous layer classifier.0 (Flatten) gives [2, 144] from classifier's input 4×6×6",
  );
  const top = new nn.Sequential(new nn.Flatten(), new nn.Linear(5, 2));
  assert.match(
    messageOf(() => top.forward(randn([3, 2, 2]))),
    /gives \[3, 4\] from the input 2×2$/,
  );
});

test('a non-tensor argument to a layer is a ShapeError naming the layer', () => {
  const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(4, 2));
  assert.equal(
    messageOf(() => model.forward([1, 2, 3, 4] as unknown as Tensor)),
    '0 (Flatten): expected a Tensor as input, got an array',
  );
  assert.equal(
    messageOf(() => new nn.MSELoss().forward(randn([2]), undefined as unknown as Tensor)),
    'MSELoss: expected a Tensor as target, got undefined',
  );
  // Custom modules may take anything.
  class Pair extends nn.Module {
    override forward(...xs: Tensor[]): Tensor {
      return xs[0];
    }
  }
  assert.equal(new Pair().forward(3 as unknown as Tensor), 3);
});
