/**
 * The conv block (convolution, then relu, then max pooling) in the reference backend: literally the
 * three kernels in a row, with the convolution's output stored in between. This is the definition
 * the native backend's single-pass kernel is checked against.
 *
 * relu works on the float32 bit patterns, as src/ops/activation.ts does: a set sign bit (negative,
 * -0, -NaN) gives +0, and its gradient passes where the output's bits are > 0 as an integer.
 */
import type { ConvGeometry, PoolGeometry } from '../backend.js';
import { convBackwardBias, convBackwardInput, convBackwardWeight, convForward } from './conv.js';
import { maxPoolBackward, maxPoolForward } from './pool.js';

function convOutputLength(g: ConvGeometry): number {
  return g.n * g.cOut * g.outSize[0] * g.outSize[1] * g.outSize[2];
}

function bits(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

export function convBlockForward(
  g: ConvGeometry,
  pool: PoolGeometry | null,
  relu: boolean,
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  y: Float32Array,
  idx: Int32Array | null,
): void {
  const z = pool ? new Float32Array(convOutputLength(g)) : y;
  convForward(g, x, w, bias, z);
  if (relu) {
    const zi = bits(z);
    for (let i = 0, n = convOutputLength(g); i < n; i++) if (zi[i] < 0) zi[i] = 0;
  }
  if (pool) maxPoolForward(pool, z, y, idx ?? new Int32Array(y.length));
}

export function convBlockBackward(
  g: ConvGeometry,
  pool: PoolGeometry | null,
  relu: boolean,
  x: Float32Array,
  w: Float32Array,
  y: Float32Array,
  idx: Int32Array | null,
  dy: Float32Array,
  dx: Float32Array | null,
  dw: Float32Array | null,
  db: Float32Array | null,
): void {
  // The gradient with respect to the block's relu'd (pre-pool) output, then the convolution's.
  let dz = dy;
  if (relu) {
    // Through the pool, the relu output at each picked position is the pooled y itself.
    const n = y.length;
    dz = new Float32Array(n);
    const yi = bits(y);
    for (let i = 0; i < n; i++) if (yi[i] > 0) dz[i] = dy[i];
  }
  if (pool) {
    if (!idx) throw new Error('convBlockBackward: idx is required with pooling');
    const scattered = new Float32Array(convOutputLength(g));
    maxPoolBackward(pool, dz, idx, scattered);
    dz = scattered;
  }
  if (dx) convBackwardInput(g, dz, w, dx);
  if (dw) convBackwardWeight(g, x, dz, dw, db);
  else if (db) convBackwardBias(g, dz, db);
}
