/**
 * Convolutions (conv1d/2d/3d, convTranspose2d) with their gradients. All of them describe their
 * work as one 3-D ConvGeometry and hand it to the backend's im2col + GEMM kernels, so a faster
 * backend speeds up every variant at once. The transposed convolution is the adjoint of a
 * convolution: its forward pass is the convolution's input gradient and vice versa.
 */
import { gradBuffer, record } from '../autograd/graph.js';
import type { ConvGeometry } from '../backend/backend.js';
import { getBackend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { emptyFloat32 } from '../tensor/storage.js';
import { formatShape, numelOf } from '../tensor/shape.js';
import {
  checkRank,
  convOutputSize,
  spatialLetters,
  spatialNames,
  tooSmallError,
  tupleArg,
  type IntOrTuple,
} from './geometry.js';

export interface ConvOptions {
  stride?: IntOrTuple;
  /** Zeros added on both sides of each spatial dim, or 'same' (output size = input size) or 'valid' (0). */
  padding?: IntOrTuple | 'same' | 'valid';
  dilation?: IntOrTuple;
  groups?: number;
}

export interface ConvTransposeOptions {
  stride?: IntOrTuple;
  padding?: IntOrTuple;
  outputPadding?: IntOrTuple;
  groups?: number;
  dilation?: IntOrTuple;
}

/** Pads an nd-array to the 3-D geometry form with a leading `fill` (conv1d/2d use size-1 dims). */
function to3(a: readonly number[], fill: number): [number, number, number] {
  const out: number[] = [fill, fill, fill];
  for (let i = 0; i < a.length; i++) out[3 - a.length + i] = a[i];
  return out as [number, number, number];
}

function checkGroups(op: string, groups: number, cIn: number, cOut: number, what: string): void {
  if (!Number.isInteger(groups) || groups < 1) {
    throw new Error(`${op}: groups must be a positive integer, got ${groups}`);
  }
  if (cIn % groups !== 0) {
    throw new Error(`${op}: groups (${groups}) must divide the input channels (${cIn})`);
  }
  if (cOut % groups !== 0) {
    throw new Error(`${op}: groups (${groups}) must divide the ${what} (${cOut})`);
  }
}

function checkBias(op: string, bias: Tensor | null | undefined, channels: number): void {
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== channels)) {
    throw new Error(`${op}: expected bias of shape [${channels}], got ${formatShape(bias.shape)}`);
  }
}

function checkFloat(op: string, t: Tensor, arg: string): void {
  if (t.dtype !== 'float32') throw new Error(`${op}: ${arg} must be float32, got ${t.dtype}`);
}

/** Sums dy over everything but the channel dim: the bias gradient of a conv-like op. */
function channelSums(dy: Float32Array, n: number, c: number, plane: number): Float32Array {
  const db = new Float32Array(c);
  for (let s = 0; s < n; s++) {
    for (let ch = 0; ch < c; ch++) {
      let acc = 0;
      const off = (s * c + ch) * plane;
      for (let q = off; q < off + plane; q++) acc += dy[q];
      db[ch] += acc;
    }
  }
  return db;
}

/** A checked convolution of a batched input: its kernel geometry and output shape. */
export interface ConvPlan {
  g: ConvGeometry;
  outShape: number[];
}

/**
 * Checks a convolution's arguments (input batched or not) and, for a batched input, works out its
 * geometry; null for an unbatched one, which the caller runs as a batch of one.
 */
export function planConv(
  nd: number,
  op: string,
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  options: ConvOptions,
): ConvPlan | null {
  checkFloat(op, input, 'input');
  checkFloat(op, weight, 'weight');
  const letters = spatialLetters(nd);
  checkRank(input.shape, [nd + 1, nd + 2], op, `[N, C, ${letters.join(', ')}] or unbatched`);
  if (weight.ndim !== nd + 2) {
    throw new Error(
      `${op}: expected a ${nd + 2}-D weight [C_out, C_in / groups, ${letters.map((l) => 'k' + l).join(', ')}], got shape ${formatShape(weight.shape)}`,
    );
  }
  if (input.ndim === nd + 1) return null;
  const groups = options.groups ?? 1;
  const n = input.shape[0];
  const cIn = input.shape[1];
  const cOut = weight.shape[0];
  checkGroups(op, groups, cIn, cOut, 'output channels');
  if (weight.shape[1] * groups !== cIn) {
    throw new Error(
      `${op}: expected input with ${weight.shape[1] * groups} channels (weight ${formatShape(weight.shape)}, groups ${groups}), got ${cIn} channels (input ${formatShape(input.shape)})`,
    );
  }
  checkBias(op, bias, cOut);
  const kernel = weight.shape.slice(2);
  const inSize = input.shape.slice(2);
  const stride = tupleArg(options.stride ?? 1, nd, op, 'stride', 1);
  const dilation = tupleArg(options.dilation ?? 1, nd, op, 'dilation', 1);
  const padOpt = options.padding ?? 0;
  let padBefore: number[];
  let outSize: number[];
  if (padOpt === 'same') {
    if (stride.some((s) => s !== 1)) {
      throw new Error(
        `${op}: padding='same' is not supported for strided convolutions (stride ${formatShape(stride)})`,
      );
    }
    // PyTorch splits the total d(k−1) with the smaller half before; the extra zero after needs no
    // storage, since taps past the end read as 0 in the kernels.
    padBefore = kernel.map((k, i) => Math.floor((dilation[i] * (k - 1)) / 2));
    outSize = [...inSize];
  } else {
    if (typeof padOpt === 'string' && padOpt !== 'valid') {
      throw new Error(`${op}: padding must be an int, a tuple, 'same' or 'valid', got '${String(padOpt)}'`);
    }
    const pad = padOpt === 'valid' ? new Array<number>(nd).fill(0) : tupleArg(padOpt, nd, op, 'padding', 0);
    padBefore = pad;
    outSize = inSize.map((h, i) =>
      convOutputSize(h, kernel[i], { stride: stride[i], padding: pad[i], dilation: dilation[i] }),
    );
    const names = spatialNames(nd);
    for (let i = 0; i < nd; i++) {
      if (outSize[i] <= 0) {
        throw tooSmallError(
          op,
          names[i],
          letters[i],
          inSize[i],
          kernel[i],
          stride[i],
          pad[i],
          dilation[i],
          outSize[i],
        );
      }
    }
  }
  const g: ConvGeometry = {
    n,
    cIn,
    cOut,
    groups,
    inSize: to3(inSize, 1),
    outSize: to3(outSize, 1),
    kernel: to3(kernel, 1),
    stride: to3(stride, 1),
    padBefore: to3(padBefore, 0),
    dilation: to3(dilation, 1),
  };
  return { g, outShape: [n, cOut, ...outSize] };
}

function convNd(
  nd: number,
  op: string,
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  options: ConvOptions,
): Tensor {
  const plan = planConv(nd, op, input, weight, bias, options);
  // Unbatched input: run as a batch of one and drop the batch dim again.
  if (plan === null) {
    const out = convNd(nd, op, input.reshape([1, ...input.shape]), weight, bias, options);
    return out.reshape(out.shape.slice(1));
  }
  const { g, outShape } = plan;
  const { n, cOut } = g;
  const y = emptyFloat32(numelOf(outShape));
  getBackend().convForward(
    g,
    input.data as Float32Array,
    weight.data as Float32Array,
    bias ? (bias.data as Float32Array) : null,
    y,
  );
  const out = new Tensor(y, outShape);
  const inputs = bias ? [input, weight, bias] : [input, weight];
  return record(out, op, inputs, (gy) => {
    const be = getBackend();
    const dy = gy.data as Float32Array;
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (input.requiresGrad) {
      const d = gradBuffer(input.numel());
      be.convBackwardInput(g, dy, weight.data as Float32Array, d);
      dx = new Tensor(d, input.shape);
    }
    if (weight.requiresGrad || bias?.requiresGrad) {
      const dwData = emptyFloat32(weight.numel());
      const dbData = bias?.requiresGrad ? new Float32Array(cOut) : null;
      if (weight.requiresGrad) {
        be.convBackwardWeight(g, input.data as Float32Array, dy, dwData, dbData);
        dw = new Tensor(dwData, weight.shape);
        if (dbData) db = new Tensor(dbData, [cOut]);
      } else {
        db = new Tensor(channelSums(dy, n, cOut, numelOf(outShape.slice(2))), [cOut]);
      }
    }
    return [dx, dw, db];
  });
}

/** 1-D convolution over [N, C, L] (or unbatched [C, L]); weight [C_out, C_in / groups, k]. */
export function conv1d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: ConvOptions = {},
): Tensor {
  return convNd(1, 'conv1d', input, weight, bias, options);
}

/** 2-D convolution over [N, C, H, W] (or unbatched [C, H, W]); weight [C_out, C_in / groups, kH, kW]. */
export function conv2d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: ConvOptions = {},
): Tensor {
  return convNd(2, 'conv2d', input, weight, bias, options);
}

/** 3-D convolution over [N, C, D, H, W]; weight [C_out, C_in / groups, kD, kH, kW]. */
export function conv3d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: ConvOptions = {},
): Tensor {
  return convNd(3, 'conv3d', input, weight, bias, options);
}

/**
 * Transposed 2-D convolution ("deconvolution") over [N, C_in, H, W]; weight [C_in, C_out / groups, kH, kW].
 * H_out = (H − 1)·s − 2p + d(k − 1) + outputPadding + 1.
 */
export function convTranspose2d(
  input: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: ConvTransposeOptions = {},
): Tensor {
  const op = 'convTranspose2d';
  checkFloat(op, input, 'input');
  checkFloat(op, weight, 'weight');
  checkRank(input.shape, [3, 4], op, '[N, C, H, W] or unbatched');
  if (weight.ndim !== 4) {
    throw new Error(
      `${op}: expected a 4-D weight [C_in, C_out / groups, kH, kW], got shape ${formatShape(weight.shape)}`,
    );
  }
  if (input.ndim === 3) {
    const out = convTranspose2d(input.reshape([1, ...input.shape]), weight, bias, options);
    return out.reshape(out.shape.slice(1));
  }
  const groups = options.groups ?? 1;
  const [n, cIn, h, w] = input.shape;
  if (weight.shape[0] !== cIn) {
    throw new Error(
      `${op}: expected input with ${weight.shape[0]} channels (weight ${formatShape(weight.shape)}), got ${cIn} channels (input ${formatShape(input.shape)})`,
    );
  }
  const cOut = weight.shape[1] * groups;
  checkGroups(op, groups, cIn, cOut, 'output channels');
  checkBias(op, bias, cOut);
  const kernel = weight.shape.slice(2);
  const stride = tupleArg(options.stride ?? 1, 2, op, 'stride', 1);
  const padding = tupleArg(options.padding ?? 0, 2, op, 'padding', 0);
  const dilation = tupleArg(options.dilation ?? 1, 2, op, 'dilation', 1);
  const outputPadding = tupleArg(options.outputPadding ?? 0, 2, op, 'outputPadding', 0);
  for (let i = 0; i < 2; i++) {
    if (outputPadding[i] >= stride[i] && outputPadding[i] >= dilation[i]) {
      throw new Error(
        `${op}: outputPadding must be smaller than either stride or dilation, got outputPadding ${formatShape(outputPadding)}, stride ${formatShape(stride)}, dilation ${formatShape(dilation)}`,
      );
    }
  }
  const inSize = [h, w];
  const outSize = inSize.map(
    (x, i) => (x - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + outputPadding[i] + 1,
  );
  const names = spatialNames(2);
  for (let i = 0; i < 2; i++) {
    if (outSize[i] <= 0) {
      throw new Error(
        `${op}: output ${names[i]} would be (${inSize[i]} − 1)·${stride[i]} − 2·${padding[i]} + ${dilation[i]}·(${kernel[i]} − 1) + ${outputPadding[i]} + 1 = ${outSize[i]}; the padding is too large for this input`,
      );
    }
  }
  // The convolution this op is the adjoint of: from the transposed output (as its input, cOut
  // channels) to the transposed input (as its output, cIn channels), with the same weight tensor.
  const g: ConvGeometry = {
    n,
    cIn: cOut,
    cOut: cIn,
    groups,
    inSize: to3(outSize, 1),
    outSize: to3(inSize, 1),
    kernel: to3(kernel, 1),
    stride: to3(stride, 1),
    padBefore: to3(padding, 0),
    dilation: to3(dilation, 1),
  };
  const outShape = [n, cOut, ...outSize];
  const plane = outSize[0] * outSize[1];
  const y = emptyFloat32(numelOf(outShape));
  getBackend().convBackwardInput(g, input.data as Float32Array, weight.data as Float32Array, y);
  if (bias) {
    const bd = bias.data;
    for (let s = 0; s < n; s++) {
      for (let c = 0; c < cOut; c++) {
        const bv = bd[c];
        const off = (s * cOut + c) * plane;
        for (let q = off; q < off + plane; q++) y[q] += bv;
      }
    }
  }
  const out = new Tensor(y, outShape);
  const inputs = bias ? [input, weight, bias] : [input, weight];
  return record(out, op, inputs, (gy) => {
    const be = getBackend();
    const dy = gy.data as Float32Array;
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (input.requiresGrad) {
      const d = gradBuffer(input.numel());
      be.convForward(g, dy, weight.data as Float32Array, null, d);
      dx = new Tensor(d, input.shape);
    }
    if (weight.requiresGrad) {
      const d = emptyFloat32(weight.numel());
      be.convBackwardWeight(g, dy, input.data as Float32Array, d, null);
      dw = new Tensor(d, weight.shape);
    }
    if (bias?.requiresGrad) db = new Tensor(channelSums(dy, n, cOut, plane), [cOut]);
    return [dx, dw, db];
  });
}
