/**
 * Convolución a mano — the Spanish lecture on how a CNN computes, step by step.
 *
 * The lecture works one example on paper: a 6×6 image, two 3×3 filters with bias 1, a 2×2 max
 * pool and a fully connected layer whose weights are all ones, which outputs 18. Here the same
 * numbers go through stride, then the convolution is written three ways (four nested loops,
 * im2col + matrix multiply, F.conv2d) to show they are one computation; then the output-size
 * formula, an RGB image split into its channels, and Conv1d / Conv3d on a time series and a video.
 *
 *   npx tsx examples/convolution-by-hand.ts [--quick] [--out DIR]
 */
import { join } from 'node:path';
import * as st from 'stride';
import { check, exampleArgs, finish, section } from './_shared/cli.js';
import { savePng } from './_shared/images.js';

const NAME = 'convolution-by-hand';
const args = exampleArgs(NAME);
st.manualSeed(args.seed);
const { F, nn } = st;

// ---------------------------------------------------------------------------------------------
section('1. El ejemplo de la clase: imagen 6×6, dos filtros 3×3, sesgo 1');

// The image and the filters exactly as the slides print them.
const image = st
  .tensor([
    [7, 6, 8, 5, 1, 3],
    [8, 6, 5, 3, 5, 5],
    [9, 1, 1, 5, 3, 5],
    [4, 5, 5, 9, 2, 6],
    [9, 5, 3, 1, 2, 2],
    [4, 4, 8, 8, 9, 8],
  ])
  .reshape([1, 1, 6, 6]); // [N, C, H, W]: one grey image

const filters = st
  .tensor([
    [
      [1, 1, 0],
      [-1, 1, -1],
      [0, -1, -1],
    ],
    [
      [1, 1, 0],
      [-1, 1, -1],
      [-1, 0, -1],
    ],
  ])
  .reshape([2, 1, 3, 3]); // [C_out, C_in, kH, kW]
const bias = st.tensor([1, 1]);

const featureMap = F.conv2d(image, filters, bias);
console.log('feature map [1, 2, 4, 4]:\n' + featureMap.toString());

const expectedMap = [
  [5, 5, -1, -4, -4, -7, -1, -6, -1, -10, 6, -8, -9, -8, -6, -6],
  [-3, 5, 3, -6, -3, -7, 3, -13, -5, -12, 4, -7, -9, -4, -6, -5],
].flat();
check(
  'worked example feature map is the lecture’s 2×4×4 map',
  sameShape(featureMap, [1, 2, 4, 4]) && exactlyEqual(featureMap.data, expectedMap),
);

// Max pooling 2×2: each 2×2 window keeps its largest value; the indices say where it was (a flat
// position within the 4×4 plane), which is what the backward pass routes the gradient through.
const [pooled, indices] = F.maxPool2d(featureMap, { kernelSize: 2, returnIndices: true });
console.log('pooled [1, 2, 2, 2]:\n' + pooled.toString());
console.log('indices (flat positions in each 4×4 plane):\n' + indices.toString());
check(
  'worked example max pool is [5, -1, -1, 6 | 5, 3, -4, 4]',
  exactlyEqual(pooled.data, [5, -1, -1, 6, 5, 3, -4, 4]),
);
check(
  'worked example pool indices are [0, 2, 8, 10 | 1, 2, 13, 10]',
  exactlyEqual(indices.data, [0, 2, 8, 10, 1, 2, 13, 10]),
);

// Flatten and a fully connected layer with all weights (and the bias) equal to 1: the sum of the
// pooled values plus one.
const fc = new nn.Linear(8, 1);
st.noGrad(() => {
  fc.weight.data.fill(1);
  fc.bias!.data.fill(1);
});
const out = fc.forward(pooled.flatten(1));
console.log(`fc output: ${out.item()}`);
check('worked example fc = 18', out.item() === 18, `got ${out.item()}`);

// ---------------------------------------------------------------------------------------------
section('2. La misma convolución de tres maneras');

/** Four nested loops: for each output channel, row, column, sum filter × window + bias. */
function convLoops(x: st.Tensor, w: st.Tensor, b: st.Tensor): st.Tensor {
  const [, , H, W] = x.shape;
  const [cOut, cIn, kH, kW] = w.shape;
  const hOut = H - kH + 1;
  const wOut = W - kW + 1;
  const y = new Float32Array(cOut * hOut * wOut);
  for (let o = 0; o < cOut; o++) {
    for (let i = 0; i < hOut; i++) {
      for (let j = 0; j < wOut; j++) {
        let acc = b.data[o];
        for (let c = 0; c < cIn; c++) {
          for (let u = 0; u < kH; u++) {
            for (let v = 0; v < kW; v++) {
              acc += x.data[(c * H + i + u) * W + j + v] * w.data[((o * cIn + c) * kH + u) * kW + v];
            }
          }
        }
        y[(o * hOut + i) * wOut + j] = acc;
      }
    }
  }
  return st.tensor(y, [1, cOut, hOut, wOut]);
}

/**
 * im2col: every 3×3 window becomes one column of a [C·kH·kW, H_out·W_out] matrix, so the whole
 * convolution is one matrix product weights[C_out, C·kH·kW] × columns — how fast libraries do it.
 */
function convIm2col(x: st.Tensor, w: st.Tensor, b: st.Tensor): st.Tensor {
  const [, cIn, H, W] = x.shape;
  const [cOut, , kH, kW] = w.shape;
  const hOut = H - kH + 1;
  const wOut = W - kW + 1;
  const rows = cIn * kH * kW;
  const cols = new Float32Array(rows * hOut * wOut);
  for (let c = 0; c < cIn; c++) {
    for (let u = 0; u < kH; u++) {
      for (let v = 0; v < kW; v++) {
        const r = (c * kH + u) * kW + v;
        for (let i = 0; i < hOut; i++) {
          for (let j = 0; j < wOut; j++)
            cols[r * hOut * wOut + i * wOut + j] = x.data[(c * H + i + u) * W + j + v];
        }
      }
    }
  }
  const columns = st.tensor(cols, [rows, hOut * wOut]);
  const product = w
    .reshape([cOut, rows])
    .matmul(columns)
    .add(b.reshape([cOut, 1]));
  return product.reshape([1, cOut, hOut, wOut]);
}

const byLoops = convLoops(image, filters, bias);
const byIm2col = convIm2col(image, filters, bias);
const byF = F.conv2d(image, filters, bias);
check('four nested loops = F.conv2d', exactlyEqual(byLoops.data, byF.data));
check('im2col + matmul = F.conv2d', exactlyEqual(byIm2col.data, byF.data));

// On random data the three agree up to float rounding (the summation order differs).
const xr = st.randn([1, 3, 9, 11]);
const wr = st.randn([4, 3, 3, 3]);
const br = st.randn([4]);
const ref = F.conv2d(xr, wr, br);
const diffLoops = maxAbsDiff(convLoops(xr, wr, br), ref);
const diffIm2col = maxAbsDiff(convIm2col(xr, wr, br), ref);
check(
  'on random 3-channel input the three agree within 1e-4',
  diffLoops < 1e-4 && diffIm2col < 1e-4 && sameShape(ref, [1, 4, 7, 9]),
  `max |loops − F| = ${diffLoops.toExponential(1)}, max |im2col − F| = ${diffIm2col.toExponential(1)}`,
);

// ---------------------------------------------------------------------------------------------
section('3. Tamaño de salida: ⌊(W − K + 2P)/S⌋ + 1');

const cases: [string, number, number, number, number, number][] = [
  // what, input, kernel, stride, padding, expected
  ['6×6 image, 3×3 filter', 6, 3, 1, 0, 4],
  ['28×28, 3×3, padding 1 (same)', 28, 3, 1, 1, 28],
  ['32×32, 5×5, stride 2, padding 2', 32, 5, 2, 2, 16],
  ['SimpleCNN conv1: 28, kernel 2, padding 1', 28, 2, 1, 1, 29],
  ['SimpleCNN conv2: 29, kernel 2, padding 1', 29, 2, 1, 1, 30],
];
let sizesOk = true;
for (const [what, size, k, s, p, expected] of cases) {
  const got = F.convOutputSize(size, k, { stride: s, padding: p });
  console.log(`conv ${what}: ⌊(${size} − ${k} + 2·${p})/${s}⌋ + 1 = ${got}`);
  sizesOk &&= got === expected;
}
const poolCases: [string, number, number, number][] = [
  ['the 4×4 map, 2×2 pool', 4, 2, 2],
  ['SimpleCNN: 30, 2×2 pool', 30, 2, 15],
  ['odd size 7, 2×2 pool (floor)', 7, 2, 3],
];
for (const [what, size, k, expected] of poolCases) {
  const got = F.poolOutputSize(size, k);
  console.log(`pool ${what}: ⌊(${size} − ${k})/${k}⌋ + 1 = ${got}`);
  sizesOk &&= got === expected;
}
check('output-size helper matches the formula on every case', sizesOk);
console.log(`so SimpleCNN's Linear sees 64 · 15 · 15 = ${64 * 15 * 15} features`);

// ---------------------------------------------------------------------------------------------
section('4. Una imagen RGB son tres matrices');

const rgb = drawRgbScene(96, 128);
const [red, green, blue] = [0, 1, 2].map((c) => rgb.select(0, c));
console.log(`rgb ${shapeOf(rgb)} → red ${shapeOf(red)}, green ${shapeOf(green)}, blue ${shapeOf(blue)}`);
await savePng(rgb, join(args.out, 'rgb.png'));
// Each channel shown in its own colour (the other two zeroed), as the lecture's figure does.
for (const [i, name] of ['red', 'green', 'blue'].entries()) {
  const mask = st.tensor([0, 1, 2].map((c) => (c === i ? 1 : 0))).reshape([3, 1, 1]);
  await savePng(rgb.mul(mask), join(args.out, `rgb-${name}.png`));
}
check(
  'RGB image splits into three H×W channel views (PNGs written)',
  sameShape(red, [96, 128]) && sameShape(green, [96, 128]) && sameShape(blue, [96, 128]),
  args.out,
);

// ---------------------------------------------------------------------------------------------
section('5. Conv1d sobre una serie temporal, Conv3d sobre un vídeo');

// A noisy sine wave, [N=1, C=1, L=200]. A moving-average filter (weights 1/5) smooths it; a learnt
// Conv1d with 4 filters gives 4 feature channels of length L − k + 1.
const L = 200;
const tAxis = st.arange(0, L).mul((2 * Math.PI) / 50);
const series = sinOf(tAxis)
  .add(st.randn([L]).mul(0.3))
  .reshape([1, 1, L]);
const smooth = F.conv1d(series, st.full([1, 1, 5], 1 / 5));
const roughness = (x: st.Tensor): number => {
  const d = x.slice(2, 1).sub(x.slice(2, 0, x.shape[2] - 1));
  return d.abs().mean().item();
};
console.log(
  `moving average: series ${shapeOf(series)} → ${shapeOf(smooth)}, mean |step| ${roughness(series).toFixed(3)} → ${roughness(smooth).toFixed(3)}`,
);
const conv1 = new nn.Conv1d(1, 4, 5);
const feats1 = conv1.forward(series);
console.log(`Conv1d(1, 4, 5): ${shapeOf(series)} → ${shapeOf(feats1)}`);
check(
  'Conv1d shapes: [1, 1, 200] → [1, 4, 196]; moving average smooths',
  sameShape(feats1, [1, 4, 196]) && sameShape(smooth, [1, 1, 196]) && roughness(smooth) < roughness(series),
);

// A video clip: [N=2, C=3 (RGB), D=8 frames, H=32, W=32]. Conv3d slides a 3×3×3 kernel over time too.
const video = st.rand([2, 3, 8, 32, 32]);
const conv3 = new nn.Conv3d(3, 8, 3);
const feats3 = conv3.forward(video);
console.log(`Conv3d(3, 8, 3): ${shapeOf(video)} → ${shapeOf(feats3)}`);
const conv3s = new nn.Conv3d(3, 8, { kernelSize: [3, 3, 3], stride: [1, 2, 2], padding: 1 });
const feats3s = conv3s.forward(video);
console.log(`Conv3d(3, 8, 3, stride (1,2,2), padding 1): ${shapeOf(video)} → ${shapeOf(feats3s)}`);
check(
  'Conv3d shapes: [2, 3, 8, 32, 32] → [2, 8, 6, 30, 30] and → [2, 8, 8, 16, 16] with stride (1, 2, 2)',
  sameShape(feats3, [2, 8, 6, 30, 30]) && sameShape(feats3s, [2, 8, 8, 16, 16]),
);

finish(NAME);

// ---------------------------------------------------------------------------------------------
// Small helpers

function sameShape(t: st.Tensor, shape: number[]): boolean {
  return t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
}

function exactlyEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function maxAbsDiff(a: st.Tensor, b: st.Tensor): number {
  return a.sub(b).abs().max().item();
}

function shapeOf(t: st.Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

function sinOf(t: st.Tensor): st.Tensor {
  return st.tensor(Float32Array.from(t.data, Math.sin), t.shape);
}

/** A small synthetic photo: sky gradient, a sun, grass and a red house, as [3, H, W] in [0, 1]. */
function drawRgbScene(H: number, W: number): st.Tensor {
  const px = new Float32Array(3 * H * W);
  const set = (y: number, x: number, r: number, g: number, b: number): void => {
    px[y * W + x] = r;
    px[H * W + y * W + x] = g;
    px[2 * H * W + y * W + x] = b;
  };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (y > H * 0.7) set(y, x, 0.2, 0.6 + 0.1 * Math.sin(x / 3), 0.15);
      else set(y, x, 0.4 + 0.3 * (y / H), 0.6 + 0.3 * (y / H), 1);
      if ((x - W * 0.8) ** 2 + (y - H * 0.2) ** 2 < (H * 0.1) ** 2) set(y, x, 1, 0.85, 0.1);
      const inHouse = x > W * 0.25 && x < W * 0.5 && y > H * 0.45 && y <= H * 0.75;
      const inRoof = y > H * 0.25 && y <= H * 0.45 && Math.abs(x - W * 0.375) < (y - H * 0.25) * 0.9;
      if (inHouse) set(y, x, 0.8, 0.15, 0.1);
      if (inRoof) set(y, x, 0.35, 0.2, 0.1);
    }
  }
  return st.tensor(px, [3, H, W]);
}
