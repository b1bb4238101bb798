import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import sharp from 'sharp';
import { Tensor } from '../src/tensor/tensor.js';
import { ImageFolder, ImageFiles } from '../src/vision/image-folder.js';
import { readImage, writeImage } from '../src/vision/image-io.js';
import { imageGrid, toChannels } from '../src/vision/grid.js';
import { DataLoader } from '../src/data/dataloader.js';
import { RandomHorizontalFlip } from '../src/vision/transforms/flip.js';

let dir = '';
const RED = [220, 20, 30];
const BLUE = [10, 40, 230];

async function solid(path: string, rgb: number[], format: 'png' | 'jpeg' | 'webp', size = 12): Promise<void> {
  const img = sharp({
    create: { width: size, height: size + 4, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
  });
  await (
    format === 'png'
      ? img.png()
      : format === 'jpeg'
        ? img.jpeg({ quality: 95 })
        : img.webp({ lossless: true })
  ).toFile(path);
}

/** Captures console.warn while fn runs. */
async function warnings(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const orig = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args.join(' '));
  try {
    await fn();
  } finally {
    console.warn = orig;
  }
  return seen;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stride-images-'));
  const folder = join(dir, 'folder');
  mkdirSync(join(folder, 'cat'), { recursive: true });
  mkdirSync(join(folder, 'dog'), { recursive: true });
  for (let i = 0; i < 3; i++) await solid(join(folder, 'cat', `c${i}.png`), RED, 'png');
  for (let i = 0; i < 2; i++) await solid(join(folder, 'dog', `d${i}.jpg`), BLUE, 'jpeg');
  await solid(join(folder, 'dog', 'd2.webp'), BLUE, 'webp');
  writeFileSync(join(folder, 'dog', 'notes.txt'), 'not an image');
  const flat = join(dir, 'flat');
  mkdirSync(flat);
  await solid(join(flat, 'dog.10013.jpg'), BLUE, 'jpeg', 20);
  await solid(join(flat, 'cat.7.png'), RED, 'png', 8);
  await solid(join(flat, 'dog.2.png'), BLUE, 'png', 8);
  writeFileSync(join(flat, 'cat.99.jpg'), Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5])); // a broken JPEG
});

after(() => rmSync(dir, { recursive: true, force: true }));

function meanRgb(x: Tensor): number[] {
  const hw = x.shape[1] * x.shape[2];
  return [0, 1, 2].map((c) => {
    let s = 0;
    for (let p = c * hw; p < (c + 1) * hw; p++) s += x.data[p];
    return (s / hw) * 255;
  });
}

test('ImageFolder reads PNG, JPEG and WebP files with labels from the sub-folder names', async () => {
  const ds = new ImageFolder(join(dir, 'folder'));
  assert.deepEqual(ds.classes, ['cat', 'dog']);
  assert.equal(ds.length, 6); // notes.txt ignored
  assert.deepEqual(Array.from(ds.targets), [0, 0, 0, 1, 1, 1]);
  for (let i = 0; i < ds.length; i++) {
    const s = await ds.get(i);
    assert.ok(s !== null);
    const [x, y] = s;
    assert.deepEqual(x.shape, [3, 16, 12]);
    const expected = y === 0 ? RED : BLUE;
    meanRgb(x).forEach((v, c) =>
      assert.ok(Math.abs(v - expected[c]) < 3, `sample ${i} channel ${c}: ${v} vs ${expected[c]}`),
    );
  }
  // through the DataLoader: NCHW batches, int32 labels, decode-time resize and grayscale
  const small = new ImageFolder(join(dir, 'folder'), { size: [8, 6], channels: 1 });
  const batches = [];
  for await (const [x, y] of new DataLoader(small, { batchSize: 4 }))
    batches.push([x.shape, Array.from(y.data)]);
  assert.deepEqual(batches, [
    [
      [4, 1, 8, 6],
      [0, 0, 0, 1],
    ],
    [
      [2, 1, 8, 6],
      [1, 1],
    ],
  ]);
  assert.throws(() => new ImageFolder(join(dir, 'flat')), /ImageFolder: .*flat has no sub-folders/);
});

test('ImageFiles takes the label from the file name; a corrupt file is skipped with one warning naming it', async () => {
  const ds = new ImageFiles(join(dir, 'flat'), { size: [10, 10], transform: new RandomHorizontalFlip() });
  assert.deepEqual(ds.classes, ['cat', 'dog']);
  assert.deepEqual(
    ds.samples.map(([p, l]) => [p.split('/').pop(), l]),
    [
      ['cat.7.png', 0],
      ['cat.99.jpg', 0],
      ['dog.10013.jpg', 1],
      ['dog.2.png', 1],
    ],
  );
  let labels: number[][] = [];
  const seen = await warnings(async () => {
    for (let epoch = 0; epoch < 2; epoch++) {
      labels = [];
      for await (const [x, y] of new DataLoader(ds, { batchSize: 4, seed: 1 })) {
        assert.deepEqual(x.shape, [3, 3, 10, 10]);
        labels.push(Array.from(y.data));
      }
    }
  });
  assert.deepEqual(labels, [[0, 1, 1]]);
  assert.equal(seen.length, 1, `warnings: ${seen.join(' | ')}`);
  assert.match(seen[0], /ImageFiles: cannot decode .*cat\.99\.jpg/);
  assert.deepEqual([...ds.failed], [1]);
  // onError: 'raise' stops instead
  const strict = new ImageFiles(join(dir, 'flat'), { onError: 'raise' });
  await assert.rejects(strict.get(1), /ImageFiles: cannot decode .*cat\.99\.jpg/);
  // custom labelFromName and classes
  const byNumber = new ImageFiles(join(dir, 'flat'), {
    labelFromName: (f) => (f.startsWith('dog') ? 1 : 0),
    classes: ['cat', 'dog'],
  });
  assert.deepEqual(Array.from(byNumber.targets), [0, 0, 1, 1]);
  assert.throws(
    () => new ImageFiles(join(dir, 'flat'), { classes: ['dog'] }),
    /ImageFiles: cat.7.png has label "cat", which is not one of the classes \[dog\]/,
  );
});

test('readImage / writeImage round-trip PNG exactly and JPEG closely; bad extensions are named', async () => {
  const x = new Tensor(new Float32Array(3 * 4 * 5), [3, 4, 5]);
  for (let i = 0; i < x.data.length; i++) x.data[i] = ((i * 37) % 256) / 255;
  const png = join(dir, 'out.png');
  await writeImage(x, png);
  const back = await readImage(png);
  assert.deepEqual(back.shape, [3, 4, 5]);
  back.data.forEach((v, i) => assert.ok(Math.abs(v - x.data[i]) < 1e-6));
  const gray = await readImage(png, { channels: 1 });
  assert.deepEqual(gray.shape, [1, 4, 5]);
  const flat = new Tensor(new Float32Array(64 * 64).fill(0.5), [1, 64, 64]);
  await writeImage(flat, join(dir, 'out.jpg'));
  const j = await readImage(join(dir, 'out.jpg'), { channels: 1 });
  assert.ok(j.data.every((v) => Math.abs(v - 0.5) < 0.02));
  await assert.rejects(
    writeImage(x, join(dir, 'out.bmp')),
    /writeImage: cannot tell the format of .*out.bmp/,
  );
  await assert.rejects(readImage(join(dir, 'missing.png')), /readImage: cannot read .*missing.png/);
});

test('imageGrid lays images out like make_grid; toChannels renders each channel in its colour', () => {
  const batch = new Tensor(new Float32Array(5 * 1 * 2 * 3), [5, 1, 2, 3]);
  for (let n = 0; n < 5; n++) batch.data.fill(n + 1, n * 6, n * 6 + 6);
  const g = imageGrid(batch, { nrow: 3, padding: 1 });
  // make_grid: 3 columns × 2 rows of (2+1)×(3+1) cells plus the outer padding
  assert.deepEqual(g.shape, [3, 2 * 3 + 1, 3 * 4 + 1]);
  const W = 13;
  assert.equal(g.data[1 * W + 1], 1); // image 0 at (1, 1)
  assert.equal(g.data[1 * W + 5], 2); // image 1 at (1, 5)
  assert.equal(g.data[4 * W + 5], 5); // image 4 at (4, 5)
  assert.equal(g.data[4 * W + 9], 0); // empty cell
  assert.equal(g.data[0], 0); // padding
  assert.equal(g.data[2 * 7 * W + 1 * W + 1], 1); // gray repeated into 3 channels
  const n = imageGrid(batch, { nrow: 3, padding: 1, normalize: true });
  assert.equal(n.data[1 * W + 1], 0);
  assert.ok(Math.abs(n.data[4 * W + 5] - 1) < 1e-4);
  const rgb = new Tensor(Float32Array.from([0.2, 0.4, 0.6]), [3, 1, 1]);
  const [r, gr, b] = toChannels(rgb);
  assert.deepEqual(
    Array.from(r.data).map((v) => +v.toFixed(3)),
    [0.2, 0, 0],
  );
  assert.deepEqual(
    Array.from(gr.data).map((v) => +v.toFixed(3)),
    [0, 0.4, 0],
  );
  assert.deepEqual(
    Array.from(b.data).map((v) => +v.toFixed(3)),
    [0, 0, 0.6],
  );
  const [mr] = toChannels(rgb, { colormap: 'matplotlib' });
  assert.ok(mr.data[0] > mr.data[1] && mr.data[0] > mr.data[2]); // reddish
  assert.throws(() => toChannels(rgb, { colormap: 'nope' }), /toChannels: unknown colormap 'nope'/);
  assert.throws(() => imageGrid([]), /imageGrid: expected a tensor or a non-empty array/);
  // one image: returned as it is, as 3 channels, without padding (as make_grid)
  assert.deepEqual(imageGrid(batch.select(0, 1), { padding: 5 }).shape, [3, 2, 3]);
});
