/**
 * interpolate for 4-D [N, C, H, W] inputs: 'nearest' and 'bilinear', with PyTorch's source-index
 * rules. Both are separable, so each axis gets a table (source indices and weights) computed once;
 * forward gathers through the tables and backward scatters through the same tables.
 */
import { record } from '../autograd/graph.js';
import { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';

export interface InterpolateOptions {
  size?: number | readonly number[];
  scaleFactor?: number | readonly number[];
  mode?: 'nearest' | 'bilinear';
  /** bilinear only: map corner pixel centres onto each other (default false). */
  alignCorners?: boolean;
}

interface AxisTable {
  i0: Int32Array;
  i1: Int32Array;
  /** Weight of i1 (the weight of i0 is 1 − l1). */
  l1: Float32Array;
}

function axisTable(
  mode: 'nearest' | 'bilinear',
  inSize: number,
  outSize: number,
  scaleFactor: number | undefined,
  alignCorners: boolean,
): AxisTable {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l1 = new Float32Array(outSize);
  // PyTorch uses 1/scaleFactor when the caller gave one, else in/out.
  const scale = scaleFactor !== undefined ? 1 / scaleFactor : inSize / outSize;
  const fscale = Math.fround(scale);
  for (let o = 0; o < outSize; o++) {
    if (mode === 'nearest') {
      // PyTorch multiplies in float32; rounding there decides which pixel is picked (e.g. 10 · 0.7f < 7).
      i0[o] = i1[o] = Math.min(Math.floor(Math.fround(o * fscale)), inSize - 1);
      continue;
    }
    let src: number;
    if (alignCorners) src = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
    else src = Math.max((o + 0.5) * scale - 0.5, 0);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[o] = lo;
    i1[o] = Math.min(lo + 1, inSize - 1);
    l1[o] = src - lo;
  }
  return { i0, i1, l1 };
}

export function interpolate(input: Tensor, options: InterpolateOptions = {}): Tensor {
  const op = 'interpolate';
  const mode = options.mode ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'bilinear') {
    throw new Error(`interpolate: mode must be 'nearest' or 'bilinear', got '${String(mode)}'`);
  }
  if (input.ndim !== 4) {
    throw new Error(`interpolate: expected a 4-D input [N, C, H, W], got shape ${formatShape(input.shape)}`);
  }
  if (input.dtype !== 'float32') throw new Error(`interpolate: input must be float32, got ${input.dtype}`);
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new Error('interpolate: give exactly one of size and scaleFactor');
  }
  if (options.alignCorners !== undefined && mode === 'nearest') {
    throw new Error("interpolate: alignCorners only applies to mode 'bilinear'");
  }
  const alignCorners = options.alignCorners ?? false;
  const [n, c, h, w] = input.shape;
  let outH: number;
  let outW: number;
  let sf: [number | undefined, number | undefined] = [undefined, undefined];
  if (options.size !== undefined) {
    const s = typeof options.size === 'number' ? [options.size, options.size] : [...options.size];
    if (s.length !== 2)
      throw new Error(`interpolate: size must be an int or [H, W], got ${JSON.stringify(options.size)}`);
    [outH, outW] = s;
  } else {
    const f =
      typeof options.scaleFactor === 'number'
        ? [options.scaleFactor, options.scaleFactor]
        : [...options.scaleFactor!];
    if (f.length !== 2 || f.some((v) => !(v > 0))) {
      throw new Error(
        `interpolate: scaleFactor must be a positive number or a pair, got ${JSON.stringify(options.scaleFactor)}`,
      );
    }
    sf = [f[0], f[1]];
    outH = Math.floor(h * f[0]);
    outW = Math.floor(w * f[1]);
  }
  if (!Number.isInteger(outH) || !Number.isInteger(outW) || outH <= 0 || outW <= 0) {
    throw new Error(`${op}: output size must be positive integers, got [${outH}, ${outW}]`);
  }
  const rows = axisTable(mode, h, outH, sf[0], alignCorners);
  const cols = axisTable(mode, w, outW, sf[1], alignCorners);
  const planes = n * c;
  const x = input.data;
  const y = new Float32Array(planes * outH * outW);
  let q = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * h * w;
    for (let i = 0; i < outH; i++) {
      const r0 = base + rows.i0[i] * w;
      const r1 = base + rows.i1[i] * w;
      const ly = rows.l1[i];
      for (let j = 0; j < outW; j++, q++) {
        const a = cols.i0[j];
        const b = cols.i1[j];
        const lx = cols.l1[j];
        const top = x[r0 + a] * (1 - lx) + x[r0 + b] * lx;
        const bottom = x[r1 + a] * (1 - lx) + x[r1 + b] * lx;
        y[q] = top * (1 - ly) + bottom * ly;
      }
    }
  }
  return record(new Tensor(y, [n, c, outH, outW]), op, [input], (g) => {
    const gd = g.data;
    const dx = new Float32Array(input.numel());
    let k = 0;
    for (let p = 0; p < planes; p++) {
      const base = p * h * w;
      for (let i = 0; i < outH; i++) {
        const r0 = base + rows.i0[i] * w;
        const r1 = base + rows.i1[i] * w;
        const ly = rows.l1[i];
        for (let j = 0; j < outW; j++, k++) {
          const a = cols.i0[j];
          const b = cols.i1[j];
          const lx = cols.l1[j];
          const v = gd[k];
          dx[r0 + a] += v * (1 - ly) * (1 - lx);
          dx[r0 + b] += v * (1 - ly) * lx;
          dx[r1 + a] += v * ly * (1 - lx);
          dx[r1 + b] += v * ly * lx;
        }
      }
    }
    return [new Tensor(dx, input.shape)];
  });
}
