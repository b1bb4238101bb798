import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor } from '../src/tensor/tensor.js';
import { Generator } from '../src/tensor/random.js';
import * as T from '../src/vision/transforms/index.js';

/** A C×H×W tensor with values 0, 1, 2, ... (every pixel distinct and nonzero after +1). */
function ramp(c: number, h: number, w: number, offset = 1): Tensor {
  return new Tensor(
    Float32Array.from({ length: c * h * w }, (_, i) => i + offset),
    [c, h, w],
  );
}

function plane(t: Tensor, c = 0): number[][] {
  const [, h, w] = t.shape;
  return Array.from({ length: h }, (_, i) =>
    Array.from(t.data.subarray(c * h * w + i * w, c * h * w + (i + 1) * w)),
  );
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol + 1e-4 * Math.abs(expected[i]),
      `at ${i}: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

test('ToTensor: HWC uint8 → CHW float in [0, 1]', () => {
  const raw = { data: Uint8Array.from([0, 255, 51, 102, 153, 204]), width: 2, height: 1, channels: 3 };
  const t = new T.ToTensor().apply(raw);
  assert.deepEqual(t.shape, [3, 1, 2]);
  close(t.data, [0, 102 / 255, 1, 153 / 255, 51 / 255, 204 / 255]);
  assert.throws(
    () => new T.ToTensor().apply({ data: new Uint8Array(5), width: 2, height: 1, channels: 3 }),
    /ToTensor.*5 bytes/,
  );
});

test('Normalize: per-channel (x - mean) / std, errors name the mismatch', () => {
  const x = new Tensor(Float32Array.from([1, 2, 3, 4]), [2, 1, 2]);
  const y = new T.Normalize([1, 2], [2, 4]).apply(x);
  close(y.data, [0, 0.5, 0.25, 0.5]);
  assert.throws(
    () => new T.Normalize([0, 0, 0], [1, 1, 1]).apply(x),
    /Normalize: got 3 means\/stds for an image with 2 channels/,
  );
  assert.throws(() => new T.Normalize(0, 0), /std must be finite and non-zero/);
});

test('hflip mirrors left-right; vflip top-bottom; RandomHorizontalFlip(p=1) flips, p=0 does not', () => {
  const x = ramp(1, 2, 3);
  assert.deepEqual(plane(T.hflip(x)), [
    [3, 2, 1],
    [6, 5, 4],
  ]);
  assert.deepEqual(plane(T.vflip(x)), [
    [4, 5, 6],
    [1, 2, 3],
  ]);
  assert.deepEqual(plane(new T.RandomHorizontalFlip(1).apply(x)), [
    [3, 2, 1],
    [6, 5, 4],
  ]);
  assert.equal(new T.RandomHorizontalFlip(0).apply(x), x);
  // p = 0.5 flips about half the time
  const g = new Generator(1);
  let flips = 0;
  for (let i = 0; i < 1000; i++) if (new T.RandomHorizontalFlip().apply(x, g) !== x) flips++;
  assert.ok(flips > 430 && flips < 570, `flipped ${flips} of 1000`);
});

test('rotate by 90° is exact (counter-clockwise, = torch.rot90), 180° reverses, 360° is identity', () => {
  const x = ramp(2, 3, 3);
  // rot90 CCW of [[1,2,3],[4,5,6],[7,8,9]]
  assert.deepEqual(plane(T.rotate(x, 90)), [
    [3, 6, 9],
    [2, 5, 8],
    [1, 4, 7],
  ]);
  assert.deepEqual(plane(T.rotate(x, 90), 1), [
    [12, 15, 18],
    [11, 14, 17],
    [10, 13, 16],
  ]);
  assert.deepEqual(plane(T.rotate(x, -90)), [
    [7, 4, 1],
    [8, 5, 2],
    [9, 6, 3],
  ]);
  assert.deepEqual(plane(T.rotate(x, 180)), [
    [9, 8, 7],
    [6, 5, 4],
    [3, 2, 1],
  ]);
  assert.deepEqual(plane(T.rotate(x, 360)), plane(x));
  // even sizes rotate about the centre between pixels, still exact
  assert.deepEqual(plane(T.rotate(ramp(1, 2, 2), 90)), [
    [2, 4],
    [1, 3],
  ]);
  // F.affine's angle is clockwise, as in torchvision
  assert.deepEqual(plane(T.affine(x, { angle: -90 })), plane(T.rotate(x, 90)));
});

test('translate moves pixels by whole pixels and fills with zero', () => {
  const x = ramp(1, 3, 4);
  const y = T.affine(x, { translate: [2, 1] });
  assert.deepEqual(plane(y), [
    [0, 0, 0, 0],
    [0, 0, 1, 2],
    [0, 0, 5, 6],
  ]);
  // fill 'edge' repeats the border pixel (Keras's fill_mode='nearest')
  assert.deepEqual(plane(T.affine(x, { translate: [2, 1], fill: 'edge' })), [
    [1, 1, 1, 2],
    [1, 1, 1, 2],
    [5, 5, 5, 6],
  ]);
  const b = T.affine(x, { translate: [-1, 0], interpolation: 'bilinear' });
  assert.deepEqual(plane(b), [
    [2, 3, 4, 0],
    [6, 7, 8, 0],
    [10, 11, 12, 0],
  ]);
});

test('scale 2 zooms about the centre; x shear shifts rows by tan(shear)·(distance from the centre)', () => {
  const x = new Tensor(new Float32Array(25), [1, 5, 5]);
  x.data[1 * 5 + 3] = 1; // (row 1, col 3): one up and one right of the centre
  // zoom ×2: the pixel moves to (0, 4); its neighbours sample at x.5, which rounds to even (the
  // centre, 0), like grid_sample's nearest mode
  assert.deepEqual(plane(T.affine(x, { scale: 2 })), [
    [0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
  ]);
  const s = new Tensor(new Float32Array(25), [1, 5, 5]);
  s.data[0 * 5 + 2] = 1; // top centre
  s.data[2 * 5 + 2] = 3; // centre
  s.data[4 * 5 + 2] = 2; // bottom centre
  // torchvision's x shear: x_out = x − tan(45°)·y (y down from the centre): top row right by 2, bottom left by 2
  assert.deepEqual(plane(T.affine(s, { shear: 45 })), [
    [0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0],
    [0, 0, 3, 0, 0],
    [0, 0, 0, 0, 0],
    [2, 0, 0, 0, 0],
  ]);
});

test('RandomAffine and RandomRotation are reproducible for a seed and keep shape', () => {
  const x = ramp(1, 28, 28);
  const aug = new T.RandomAffine(15, { translate: [0.1, 0.1], scale: [0.8, 1.2], shear: 0.1 });
  const a = aug.apply(x, new Generator(7));
  const b = aug.apply(x, new Generator(7));
  const c = aug.apply(x, new Generator(8));
  assert.deepEqual(a.shape, [1, 28, 28]);
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
  assert.notDeepEqual(Array.from(a.data), Array.from(c.data));
  // translatePx [10, 0]: horizontal shift only, whole pixels, within ±10
  const shift = new T.RandomAffine(0, { translatePx: [10, 0] });
  for (let k = 0; k < 20; k++) {
    const p = shift.getParams(28, 28, new Generator(k));
    assert.equal(p.translate[1], 0);
    assert.ok(Number.isInteger(p.translate[0]) && Math.abs(p.translate[0]) <= 10);
  }
  const r1 = new T.RandomRotation(30, { generator: new Generator(3) }).apply(x);
  const r2 = new T.RandomRotation(30, { generator: new Generator(3) }).apply(x);
  assert.deepEqual(Array.from(r1.data), Array.from(r2.data));
  assert.throws(() => new T.RandomAffine(10, { translate: [2, 0] }), /RandomAffine: translate must be/);
  assert.throws(() => new T.RandomAffine(10, { scale: [0, 1] }), /RandomAffine: scale/);
});

test('Resize (bilinear) matches PyTorch F.interpolate from the oracle', () => {
  const oracle = JSON.parse(
    readFileSync(new URL('../../shared/oracle/tensor.json', import.meta.url), 'utf8'),
  ) as {
    cases: {
      name: string;
      args: { size?: number[] };
      inputs: { input: { shape: number[]; data: number[] } };
      output: { shape: number[]; data: number[] };
    }[];
  };
  const c = oracle.cases.find((k) => k.name === 'interpolate_bilinear')!;
  const x = new Tensor(Float32Array.from(c.inputs.input.data), c.inputs.input.shape);
  const y = new T.Resize(c.args.size!).apply(x);
  assert.deepEqual(y.shape, c.output.shape);
  close(y.data, c.output.data);
  const n = oracle.cases.find((k) => k.name === 'interpolate_nearest2')!;
  const xn = new Tensor(Float32Array.from(n.inputs.input.data), n.inputs.input.shape);
  const yn = T.resize(xn, n.output.shape[2], n.output.shape[3], 'nearest');
  close(yn.data, n.output.data);
  // a number resizes the smaller edge and keeps the aspect ratio
  assert.deepEqual(new T.Resize(14).apply(ramp(3, 28, 56)).shape, [3, 14, 28]);
});

test('CenterCrop and RandomCrop take the right window; crops larger than the image pad with zeros', () => {
  const x = ramp(1, 4, 4);
  assert.deepEqual(plane(new T.CenterCrop(2).apply(x)), [
    [6, 7],
    [10, 11],
  ]);
  assert.deepEqual(plane(new T.CenterCrop([2, 3]).apply(ramp(1, 2, 2))), [
    [1, 2, 0],
    [3, 4, 0],
  ]);
  assert.deepEqual(plane(new T.CenterCrop(4).apply(ramp(1, 2, 2))), [
    [0, 0, 0, 0],
    [0, 1, 2, 0],
    [0, 3, 4, 0],
    [0, 0, 0, 0],
  ]);
  const rc = new T.RandomCrop(2, { padding: 1 });
  const seen = new Set<string>();
  const g = new Generator(5);
  for (let k = 0; k < 200; k++) {
    const y = rc.apply(x, g);
    assert.deepEqual(y.shape, [1, 2, 2]);
    seen.add(plane(y).flat().join(','));
  }
  assert.equal(seen.size, 25); // every (top, left) in the padded 6×6 image: 5 × 5 windows
  assert.ok(seen.has('0,0,0,1') && seen.has('16,0,0,0'));
  assert.throws(() => new T.RandomCrop(5).apply(x), /RandomCrop: crop size 5×5 is larger/);
});

test('RandomResizedCrop: output size, seeded, full-image crop equals Resize, fallback is a centred crop', () => {
  const x = ramp(3, 20, 30);
  const rrc = new T.RandomResizedCrop(8);
  const a = rrc.apply(x, new Generator(4));
  assert.deepEqual(a.shape, [3, 8, 8]);
  assert.deepEqual(Array.from(a.data), Array.from(rrc.apply(x, new Generator(4)).data));
  for (let k = 0; k < 50; k++) {
    const [top, left, h, w] = rrc.getParams(20, 30, new Generator(k));
    assert.ok(top >= 0 && left >= 0 && top + h <= 20 && left + w <= 30 && h > 0 && w > 0);
    assert.ok(h * w >= 0.08 * 600 * 0.8 && h * w <= 600);
  }
  // scale 1 and the image's own ratio: the whole image, resized
  const whole = new T.RandomResizedCrop([10, 15], { scale: [1, 1], ratio: [1.5, 1.5] }).apply(
    x,
    new Generator(0),
  );
  assert.deepEqual(Array.from(whole.data), Array.from(T.resize(x, 10, 15).data));
  // an impossible ratio falls back to the centred crop of the clamped ratio
  const p = new T.RandomResizedCrop(4, { scale: [1, 1], ratio: [3, 3] }).getParams(20, 30, new Generator(0));
  assert.deepEqual(p, [5, 0, 10, 30]);
});

test('Grayscale uses torchvision weights; ColorJitter brightness/contrast blend and clamp', () => {
  const rgb = new Tensor(Float32Array.from([1, 0, 0, 1, 0, 0]), [3, 1, 2]);
  close(new T.Grayscale().apply(rgb).data, [0.2989, 0.587]);
  assert.deepEqual(new T.Grayscale(3).apply(rgb).shape, [3, 1, 2]);
  const g = new Tensor(Float32Array.from([0.2, 0.6]), [1, 1, 2]);
  close(T.adjustBrightness(g, 2).data, [0.4, 1]);
  close(T.adjustContrast(g, 0).data, [0.4, 0.4]);
  close(T.adjustContrast(g, 2).data, [0, 0.8]);
  const cj = new T.ColorJitter({ brightness: 0.5, contrast: 0.5 });
  const a = cj.apply(g, new Generator(1));
  const b = cj.apply(g, new Generator(1));
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
  assert.throws(() => new T.ColorJitter({ brightness: -1 }), /ColorJitter: brightness/);
});

test('Compose chains transforms with one generator; bad inputs are named', () => {
  const x = ramp(1, 2, 3);
  const pipeline = new T.Compose([new T.ToTensor(), new T.RandomHorizontalFlip(1), new T.Normalize(1, 2)]);
  assert.deepEqual(plane(pipeline.apply(x) as Tensor), [
    [1, 0.5, 0],
    [2.5, 2, 1.5],
  ]);
  assert.throws(() => new T.Compose([42 as never]), /Compose: transforms\[0\] is not a transform/);
  assert.throws(
    () => T.hflip({ data: new Uint8Array(3), width: 1, height: 1 } as never),
    /put ToTensor\(\) first/,
  );
});
