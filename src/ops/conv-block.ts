/**
 * The conv block: a convolution, then relu and/or max pooling, as one op with one gradient
 * function. nn.Sequential runs it for consecutive Conv, ReLU and MaxPool layers (nn/fusion.ts).
 *
 * Values and gradients are those of the separate ops in a row (the backend's convBlock kernels are
 * defined that way, and the tests hold them to it); what changes is memory traffic. The
 * convolution's output is a CNN's largest activation (SimpleCNN's second conv: 29 MB per batch of
 * 128), and separately it is written, read by relu, written again, read by the pool, and in the
 * backward pass scattered, masked and read twice more. The native kernel keeps it in a cache-sized
 * scratch per chunk of samples instead, and saves only the pooled output and its argmax.
 */
import { gradBuffer, isGradEnabled, record } from '../autograd/graph.js';
import type { ConvGeometry, PoolGeometry } from '../backend/backend.js';
import { getBackend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { emptyFloat32, emptyInt32 } from '../tensor/storage.js';
import { numelOf } from '../tensor/shape.js';
import { planConv, type ConvOptions } from './conv.js';
import { poolPlan, type MaxPoolOptions } from './pool.js';

export interface ConvBlockOptions {
  /** Apply relu to the convolution's output. */
  relu: boolean;
  /** Then max-pool it with these options (returnIndices is not available here). */
  pool: Omit<MaxPoolOptions, 'returnIndices'> | null;
}

/** A checked conv block, ready to run. */
export interface ConvBlockPlan {
  nd: number;
  input: Tensor;
  weight: Tensor;
  bias: Tensor | null;
  g: ConvGeometry;
  pool: PoolGeometry | null;
  relu: boolean;
  /** The shape the convolution's output (and relu's) has, though it is never stored. */
  convShape: number[];
  outShape: number[];
}

const CONV_OPS = ['', 'conv1d', 'conv2d', 'conv3d'];
const POOL_OPS = ['', 'maxPool1d', 'maxPool2d', 'maxPool3d'];

/**
 * Checks conv{nd}d(input, weight, bias, conv), then relu, then maxPool{nd}d(pool) for a batched
 * input, raising the errors the separate ops would raise; null for an unbatched input (the caller
 * runs the ops one by one).
 */
export function planConvBlock(
  nd: number,
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  conv: ConvOptions,
  block: ConvBlockOptions,
): ConvBlockPlan | null {
  const plan = planConv(nd, CONV_OPS[nd], input, weight, bias, conv);
  if (plan === null) return null;
  const convShape = plan.outShape;
  const pooled = block.pool
    ? poolPlan(
        nd,
        POOL_OPS[nd],
        { dtype: 'float32', shape: convShape, ndim: convShape.length },
        block.pool,
        block.pool.dilation ?? 1,
      )
    : null;
  return {
    nd,
    input,
    weight,
    bias: bias ?? null,
    g: plan.g,
    pool: pooled?.g ?? null,
    relu: block.relu,
    convShape,
    outShape: pooled?.outShape ?? convShape,
  };
}

/** Runs a planned conv block: the block's output, with one gradient function for all of it. */
export function convBlock(p: ConvBlockPlan): Tensor {
  const { nd, input, weight, bias, g, pool, relu, outShape } = p;
  const size = numelOf(outShape);
  const y = emptyFloat32(size);
  // The argmax only matters to a backward pass (in inference it would be a second output as
  // large as y, written and thrown away).
  const differentiable =
    isGradEnabled() && (input.requiresGrad || weight.requiresGrad || !!bias?.requiresGrad);
  const idx = pool && differentiable ? emptyInt32(size) : null;
  const x = input.data as Float32Array;
  const w = weight.data as Float32Array;
  getBackend().convBlockForward(g, pool, relu, x, w, bias ? (bias.data as Float32Array) : null, y, idx);
  const name = [CONV_OPS[nd], relu ? 'relu' : '', pool ? POOL_OPS[nd] : ''].filter((s) => s).join('+');
  const inputs = bias ? [input, weight, bias] : [input, weight];
  return record(new Tensor(y, outShape), name, inputs, (gy) => {
    const dx = input.requiresGrad ? gradBuffer(input.numel()) : null;
    const dw = weight.requiresGrad ? emptyFloat32(weight.numel()) : null;
    const db = bias?.requiresGrad ? new Float32Array(g.cOut) : null;
    if (dx || dw || db) {
      getBackend().convBlockBackward(g, pool, relu, x, w, y, idx, gy.data as Float32Array, dx, dw, db);
    }
    return [
      dx && new Tensor(dx, input.shape),
      dw && new Tensor(dw, weight.shape),
      db && new Tensor(db, [g.cOut]),
    ];
  });
}
