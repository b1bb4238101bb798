/**
 * Pooling with gradients: max pooling (1-D/2-D/3-D, saving each window's argmax for backward),
 * average pooling, and adaptive average/max pooling. Fixed-window pools run in the backend's
 * kernels through a 3-D PoolGeometry; adaptive windows vary in size, so they are plain loops here.
 */
import { gradBuffer, record } from '../autograd/graph.js';
import type { PoolGeometry } from '../backend/backend.js';
import { getBackend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { emptyFloat32, emptyInt32 } from '../tensor/storage.js';
import { formatShape, numelOf } from '../tensor/shape.js';
import {
  checkRank,
  poolOutputSize,
  spatialLetters,
  spatialNames,
  tooSmallError,
  tupleArg,
  type IntOrTuple,
} from './geometry.js';

export interface MaxPoolOptions {
  kernelSize: IntOrTuple;
  /** Default (null/undefined): equal to kernelSize. */
  stride?: IntOrTuple | null;
  padding?: IntOrTuple;
  dilation?: IntOrTuple;
  ceilMode?: boolean;
  returnIndices?: boolean;
}

export interface AvgPoolOptions {
  kernelSize: IntOrTuple;
  stride?: IntOrTuple | null;
  padding?: IntOrTuple;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead of its size. */
  divisorOverride?: number | null;
}

function to3(a: readonly number[], fill: number): [number, number, number] {
  const out: number[] = [fill, fill, fill];
  for (let i = 0; i < a.length; i++) out[3 - a.length + i] = a[i];
  return out as [number, number, number];
}

export interface PoolPlan {
  g: PoolGeometry;
  /** Output shape in the input's layout (batched or not). */
  outShape: number[];
}

/** Checks a pooling's arguments against an input (a tensor, or the shape one will have). */
export function poolPlan(
  nd: number,
  op: string,
  input: Pick<Tensor, 'dtype' | 'shape' | 'ndim'>,
  options: { kernelSize: IntOrTuple; stride?: IntOrTuple | null; padding?: IntOrTuple; ceilMode?: boolean },
  dilationOpt: IntOrTuple,
): PoolPlan {
  if (input.dtype !== 'float32') throw new Error(`${op}: input must be float32, got ${input.dtype}`);
  const letters = spatialLetters(nd);
  checkRank(
    input.shape,
    [nd + 1, nd + 2],
    op,
    `[N, C, ${letters.join(', ')}] or unbatched [C, ${letters.join(', ')}]`,
  );
  if (options === undefined || options.kernelSize === undefined) {
    throw new Error(`${op}: kernelSize is required (e.g. { kernelSize: 2 })`);
  }
  const kernel = tupleArg(options.kernelSize, nd, op, 'kernelSize', 1);
  const stride =
    options.stride === null || options.stride === undefined
      ? kernel
      : tupleArg(options.stride, nd, op, 'stride', 1);
  const padding = tupleArg(options.padding ?? 0, nd, op, 'padding', 0);
  const dilation = tupleArg(dilationOpt, nd, op, 'dilation', 1);
  const ceilMode = options.ceilMode ?? false;
  for (let i = 0; i < nd; i++) {
    if (padding[i] * 2 > kernel[i]) {
      throw new Error(
        `${op}: padding should be at most half of the kernel size, got padding ${formatShape(padding)} for kernelSize ${formatShape(kernel)}`,
      );
    }
  }
  const lead = input.shape.slice(0, input.ndim - nd);
  const inSize = input.shape.slice(input.ndim - nd);
  const names = spatialNames(nd);
  const outSize = inSize.map((h, i) => {
    const o = poolOutputSize(h, kernel[i], {
      stride: stride[i],
      padding: padding[i],
      dilation: dilation[i],
      ceilMode,
    });
    if (o <= 0) {
      throw tooSmallError(
        op,
        names[i],
        letters[i],
        h,
        kernel[i],
        stride[i],
        padding[i],
        dilation[i],
        o,
        ceilMode,
      );
    }
    return o;
  });
  const g: PoolGeometry = {
    planes: numelOf(lead),
    inSize: to3(inSize, 1),
    outSize: to3(outSize, 1),
    kernel: to3(kernel, 1),
    stride: to3(stride, 1),
    padding: to3(padding, 0),
    dilation: to3(dilation, 1),
  };
  return { g, outShape: [...lead, ...outSize] };
}

function maxPoolNd(
  nd: number,
  op: string,
  input: Tensor,
  options: MaxPoolOptions,
): Tensor | [Tensor, Tensor] {
  const { g, outShape } = poolPlan(nd, op, input, options, options.dilation ?? 1);
  const n = numelOf(outShape);
  const y = emptyFloat32(n);
  const idx = emptyInt32(n);
  getBackend().maxPoolForward(g, input.data as Float32Array, y, idx);
  const out = record(new Tensor(y, outShape), op, [input], (gy) => {
    const dx = gradBuffer(input.numel());
    getBackend().maxPoolBackward(g, gy.data as Float32Array, idx, dx);
    return [new Tensor(dx, input.shape)];
  });
  return options.returnIndices ? [out, new Tensor(idx, outShape)] : out;
}

/** Max pooling over [N, C, L]; with returnIndices, also each maximum's position within its row. */
export function maxPool1d(input: Tensor, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool1d(input: Tensor, options: MaxPoolOptions): Tensor;
export function maxPool1d(input: Tensor, options: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  return maxPoolNd(1, 'maxPool1d', input, options);
}

/** Max pooling over [N, C, H, W]; with returnIndices, also each maximum's flat position in its H×W plane. */
export function maxPool2d(input: Tensor, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool2d(input: Tensor, options: MaxPoolOptions): Tensor;
export function maxPool2d(input: Tensor, options: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  return maxPoolNd(2, 'maxPool2d', input, options);
}

export function maxPool3d(input: Tensor, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool3d(input: Tensor, options: MaxPoolOptions): Tensor;
export function maxPool3d(input: Tensor, options: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  return maxPoolNd(3, 'maxPool3d', input, options);
}

/** Real (non-padding) taps per output position along one dim, as the kernels count them. */
function realCounts(inSize: number, outSize: number, k: number, s: number, p: number): Int32Array {
  const c = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const start = o * s - p;
    c[o] = Math.max(0, Math.min(start + k, inSize) - Math.max(start, 0));
  }
  return c;
}

/** Multiplies each output of an average pool by count/divisor (turns mean-over-real-taps into sum/divisor). */
function rescale(g: PoolGeometry, data: Float32Array, divisor: number): void {
  const [cD, cH, cW] = [0, 1, 2].map((i) =>
    realCounts(g.inSize[i], g.outSize[i], g.kernel[i], g.stride[i], g.padding[i]),
  );
  const [oD, oH, oW] = g.outSize;
  let q = 0;
  for (let pl = 0; pl < g.planes; pl++)
    for (let a = 0; a < oD; a++)
      for (let b = 0; b < oH; b++) {
        const f = (cD[a] * cH[b]) / divisor;
        for (let c = 0; c < oW; c++, q++) data[q] *= f * cW[c];
      }
}

function avgPoolNd(nd: number, op: string, input: Tensor, options: AvgPoolOptions): Tensor {
  const { g, outShape } = poolPlan(nd, op, input, options, 1);
  const override = options.divisorOverride ?? null;
  if (override !== null && !(Number.isFinite(override) && override !== 0)) {
    throw new Error(`${op}: divisorOverride must be a non-zero number, got ${override}`);
  }
  // With divisorOverride, pool as a mean over the real taps and rescale to sum / override.
  const includePad = override === null ? (options.countIncludePad ?? true) : false;
  const y = emptyFloat32(numelOf(outShape));
  getBackend().avgPoolForward(g, input.data as Float32Array, y, includePad);
  if (override !== null) rescale(g, y, override);
  return record(new Tensor(y, outShape), op, [input], (gy) => {
    let dy = gy.data as Float32Array;
    if (override !== null) {
      dy = Float32Array.from(dy);
      rescale(g, dy, override);
    }
    const dx = gradBuffer(input.numel());
    getBackend().avgPoolBackward(g, dy, dx, includePad);
    return [new Tensor(dx, input.shape)];
  });
}

export function avgPool1d(input: Tensor, options: AvgPoolOptions): Tensor {
  return avgPoolNd(1, 'avgPool1d', input, options);
}

/** Average pooling over [N, C, H, W]; countIncludePad (default true) counts padding zeros in the divisor. */
export function avgPool2d(input: Tensor, options: AvgPoolOptions): Tensor {
  return avgPoolNd(2, 'avgPool2d', input, options);
}

export function avgPool3d(input: Tensor, options: AvgPoolOptions): Tensor {
  return avgPoolNd(3, 'avgPool3d', input, options);
}

// ---- adaptive pooling -----------------------------------------------------------------------

/** PyTorch's adaptive windows: output i covers [⌊i·in/out⌋, ⌈(i+1)·in/out⌉). */
function adaptiveWindows(inSize: number, outSize: number): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(outSize);
  const end = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    start[i] = Math.floor((i * inSize) / outSize);
    end[i] = Math.ceil(((i + 1) * inSize) / outSize);
  }
  return { start, end };
}

function adaptivePlan(op: string, input: Tensor, outputSize: number | readonly (number | null)[]) {
  if (input.dtype !== 'float32') throw new Error(`${op}: input must be float32, got ${input.dtype}`);
  checkRank(input.shape, [3, 4], op, '[N, C, H, W] or unbatched [C, H, W]');
  const [h, w] = input.shape.slice(-2);
  const req = typeof outputSize === 'number' ? [outputSize, outputSize] : [...outputSize];
  if (req.length !== 2) {
    throw new Error(`${op}: outputSize must be an int or a pair, got ${JSON.stringify(outputSize)}`);
  }
  const out = [req[0] ?? h, req[1] ?? w];
  for (const o of out) {
    if (!Number.isInteger(o) || o <= 0) {
      throw new Error(`${op}: outputSize must be positive integers, got ${JSON.stringify(outputSize)}`);
    }
  }
  const planes = numelOf(input.shape.slice(0, -2));
  return {
    h,
    w,
    oh: out[0],
    ow: out[1],
    planes,
    rows: adaptiveWindows(h, out[0]),
    cols: adaptiveWindows(w, out[1]),
    outShape: [...input.shape.slice(0, -2), out[0], out[1]],
  };
}

/** Average over PyTorch's adaptive windows, so any input size gives outputSize (e.g. 1 = global average). */
export function adaptiveAvgPool2d(input: Tensor, outputSize: number | readonly (number | null)[]): Tensor {
  const p = adaptivePlan('adaptiveAvgPool2d', input, outputSize);
  const { h, w, oh, ow, planes, rows, cols } = p;
  const x = input.data;
  const y = new Float32Array(planes * oh * ow);
  let q = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * h * w;
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++, q++) {
        let s = 0;
        for (let r = rows.start[i]; r < rows.end[i]; r++)
          for (let c = cols.start[j]; c < cols.end[j]; c++) s += x[base + r * w + c];
        y[q] = s / ((rows.end[i] - rows.start[i]) * (cols.end[j] - cols.start[j]));
      }
    }
  }
  return record(new Tensor(y, p.outShape), 'adaptiveAvgPool2d', [input], (gy) => {
    const dy = gy.data;
    const dx = new Float32Array(input.numel());
    let k = 0;
    for (let pl = 0; pl < planes; pl++) {
      const base = pl * h * w;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++, k++) {
          const v = dy[k] / ((rows.end[i] - rows.start[i]) * (cols.end[j] - cols.start[j]));
          for (let r = rows.start[i]; r < rows.end[i]; r++)
            for (let c = cols.start[j]; c < cols.end[j]; c++) dx[base + r * w + c] += v;
        }
      }
    }
    return [new Tensor(dx, input.shape)];
  });
}

/** Max over PyTorch's adaptive windows; with returnIndices also the flat position in each H×W plane. */
export function adaptiveMaxPool2d(
  input: Tensor,
  outputSize: number | readonly (number | null)[],
  options: { returnIndices: true },
): [Tensor, Tensor];
export function adaptiveMaxPool2d(
  input: Tensor,
  outputSize: number | readonly (number | null)[],
  options?: { returnIndices?: boolean },
): Tensor;
export function adaptiveMaxPool2d(
  input: Tensor,
  outputSize: number | readonly (number | null)[],
  options: { returnIndices?: boolean } = {},
): Tensor | [Tensor, Tensor] {
  const p = adaptivePlan('adaptiveMaxPool2d', input, outputSize);
  const { h, w, oh, ow, planes, rows, cols } = p;
  const x = input.data;
  const y = new Float32Array(planes * oh * ow);
  const idx = new Int32Array(planes * oh * ow);
  let q = 0;
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * h * w;
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++, q++) {
        let best = -Infinity;
        let bi = rows.start[i] * w + cols.start[j];
        for (let r = rows.start[i]; r < rows.end[i]; r++) {
          for (let c = cols.start[j]; c < cols.end[j]; c++) {
            const v = x[base + r * w + c];
            if (v > best || Number.isNaN(v)) {
              best = v;
              bi = r * w + c;
            }
          }
        }
        y[q] = best;
        idx[q] = bi;
      }
    }
  }
  const plane = oh * ow;
  const out = record(new Tensor(y, p.outShape), 'adaptiveMaxPool2d', [input], (gy) => {
    const dy = gy.data;
    const dx = new Float32Array(input.numel());
    for (let k = 0; k < dy.length; k++) dx[Math.floor(k / plane) * h * w + idx[k]] += dy[k];
    return [new Tensor(dx, input.shape)];
  });
  return options.returnIndices ? [out, new Tensor(idx, p.outShape)] : out;
}
