import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

import { Tensor } from '../src/tensor/tensor.js';
import * as viz from '../src/viz/index.js';

const history = {
  loss: [0.9, 0.5, 0.3],
  valLoss: [1.0, 0.6, 0.45],
  accuracy: [0.7, 0.85, 0.9],
  valAccuracy: [0.65, 0.8, 0.86],
};

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'stride-viz-'));
}

test('history: validation series pair with their train metric whatever the spelling', () => {
  const pts = viz.curvePoints({ loss: [1, 2], val_loss: [3, 4], valAccuracy: [0.5, null], lr: [0.1, 0.1] });
  assert.deepEqual(
    pts.map((p) => `${p.metric}/${p.split}/${p.epoch}=${p.value}`),
    [
      'loss/train/1=1',
      'loss/train/2=2',
      'loss/validation/1=3',
      'loss/validation/2=4',
      'accuracy/validation/1=0.5',
    ],
  );
  const rows = viz.curvePoints([
    { epoch: 3, loss: 1, valLoss: 2 },
    { epoch: 4, loss: 0.5 },
  ]);
  assert.deepEqual(
    rows.map((p) => [p.epoch, p.split, p.value]),
    [
      [3, 'train', 1],
      [4, 'train', 0.5],
      [3, 'validation', 2],
    ],
  );
});

test('curves: PNG and SVG files with both splits and both metrics', async () => {
  const dir = tmp();
  try {
    const png = join(dir, 'curves.png');
    const svg = join(dir, 'curves.svg');
    await viz.plotCurves({ history }, [png, svg]);
    const meta = await sharp(png).metadata();
    assert.equal(meta.format, 'png');
    assert.ok(meta.width! > 400 && meta.height! > 200, `size ${meta.width}×${meta.height}`);
    const text = readFileSync(svg, 'utf8');
    assert.match(text, /^<svg/);
    for (const label of ['train', 'validation', 'loss', 'accuracy', 'epoch'])
      assert.ok(text.includes(label), label);
    // 3 epochs × 4 series: one point symbol each.
    assert.equal((text.match(/role-mark[^"]*layer_1|mark-symbol/g) ?? []).length > 0, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('curves: per-batch losses become a third series at fractional epochs, averaged to ~100 points', () => {
  const values = Array.from({ length: 300 }, (_, i) => 2 - i / 300);
  const spec = viz.curvesSpec({ loss: [1.5], valLoss: [1.2] }, { batchLoss: { values, perEpoch: 300 } }) as {
    data: { values: { split: string; epoch: number; value: number }[] };
  };
  const steps = spec.data.values.filter((p) => p.split === 'train (per batch)');
  assert.equal(steps.length, 100);
  assert.equal(steps[0].epoch, 3 / 300);
  assert.equal(steps[99].epoch, 1);
  assert.ok(Math.abs(steps[0].value - (2 + (2 - 1 / 300) + (2 - 2 / 300)) / 3) < 1e-12);
  assert.throws(() => viz.curvesSpec({ loss: [1] }, { batchLoss: { values, perEpoch: 0 } }), /perEpoch/);
});

test('curves: an empty history and a bad file name are clear errors', async () => {
  assert.throws(() => viz.curvesSpec({ lr: [0.1] }), /no values to plot/);
  await assert.rejects(viz.plotCurves(history, '/tmp/curves.jpg'), /\.png or \.svg/);
});

test('confusion matrix: class names on the axes, counts in the cells', async () => {
  const cm = new Tensor(new Float32Array([50, 2, 0, 3, 40, 7, 1, 0, 60]), [3, 3]);
  const svg = await viz.renderSvg(viz.confusionMatrixSpec(cm, { classNames: ['cat', 'dog', 'bird'] }));
  for (const s of ['cat', 'dog', 'bird', '>50<', '>40<', '>60<', '>7<', 'predicted', 'true'])
    assert.ok(svg.includes(s), s);
  assert.throws(
    () => viz.confusionMatrixSpec(cm, { classNames: ['a', 'b'] }),
    /2 class names for a 3×3 matrix/,
  );
  assert.throws(
    () => viz.confusionMatrixSpec(new Tensor(new Float32Array(6), [2, 3])),
    /square \[C, C\] matrix, got shape \[2, 3\]/,
  );
});

test('filters and feature maps: one image tile per filter/channel, PNG decodes', async () => {
  const w = new Tensor(
    Float32Array.from({ length: 6 * 1 * 3 * 3 }, (_, i) => Math.sin(i)),
    [6, 1, 3, 3],
  );
  const spec = (await viz.filtersSpec(w)) as { data: { values: { label: string; url: string }[] } };
  assert.deepEqual(
    spec.data.values.map((v) => v.label),
    ['0', '1', '2', '3', '4', '5'],
  );
  // Each tile is a real PNG, upscaled with nearest neighbour so a 3×3 kernel keeps 3×3 blocks.
  const tile = Buffer.from(spec.data.values[0].url.split(',')[1], 'base64');
  const { data, info } = await sharp(tile).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, 48);
  assert.equal(info.width % 3, 0);
  assert.equal(data[0], data[info.channels * 15]); // same block
  assert.notEqual(data[0], data[info.channels * 16]); // next block (sin differs)

  const dir = tmp();
  try {
    const maps = new Tensor(
      Float32Array.from({ length: 1 * 4 * 5 * 5 }, (_, i) => i % 7),
      [1, 4, 5, 5],
    );
    await viz.plotFeatureMaps(maps, join(dir, 'maps.png'));
    assert.equal((await sharp(join(dir, 'maps.png')).metadata()).format, 'png');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(viz.featureMapsSpec(new Tensor(new Float32Array(8), [2, 1, 2, 2])), /one input/);
  await assert.rejects(viz.filtersSpec(new Tensor(new Float32Array(4), [4])), /rank 4/);
});

test('text curve: plain text without colour, one chart per split', () => {
  const text = viz.textCurve(history, { colour: false, height: 5 });
  assert.match(text, /train loss/);
  assert.match(text, /validation loss/);
  assert.match(text, /0\.9000/);
  assert.match(text, /epochs 1\.\.3/);
  assert.equal(viz.textCurve({ accuracy: [1] }), '');
});

test('convActivations: every Conv2d output for one input, mode restored', async () => {
  const { Sequential, Conv2d, ReLU, MaxPool2d } = await import('../src/nn/index.js');
  const model = new Sequential(new Conv2d(1, 3, 3), new ReLU(), new MaxPool2d(2), new Conv2d(3, 5, 3));
  model.train();
  const x = new Tensor(
    Float32Array.from({ length: 100 }, (_, i) => (i % 10) / 10),
    [1, 1, 10, 10],
  );
  const acts = viz.convActivations(model, x);
  assert.deepEqual(
    acts.map((a) => [a.name, a.output.shape]),
    [
      ['0', [1, 3, 8, 8]],
      ['3', [1, 5, 2, 2]],
    ],
  );
  assert.equal(model.training, true);
  assert.equal(acts[0].layer.weight.shape[0], 3);
  assert.throws(() => viz.convActivations(new Sequential(new ReLU()), x), /has no Conv2d layers/);
  // A whole model's filters are its first conv layer's.
  const spec = (await viz.filtersSpec(model)) as { title: string; data: { values: unknown[] } };
  assert.equal(spec.data.values.length, 3);
  assert.match(spec.title, /filters 3×1×3×3/);
});
