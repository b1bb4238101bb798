/**
 * The native backend: every kernel of the contract runs in the C++ addon (native/src). Geometries
 * are packed into one reused Int32Array per call to keep the per-call overhead small; tensors stay
 * JS-owned Float32Arrays that the addon reads and writes in place.
 */
import type { AdamStepOptions, Backend, ConvGeometry, PoolGeometry } from '../backend.js';
import { loadAddon, type ConvBlockPaths, type NativeAddon } from './addon.js';

export { nativeLoadError } from './addon.js';
export type { ConvBlockPaths } from './addon.js';

const convGeom = new Int32Array(22);
const poolGeom = new Int32Array(19);

function packConv(g: ConvGeometry): Int32Array {
  const a = convGeom;
  a[0] = g.n;
  a[1] = g.cIn;
  a[2] = g.cOut;
  a[3] = g.groups;
  for (let i = 0; i < 3; i++) {
    a[4 + i] = g.inSize[i];
    a[7 + i] = g.outSize[i];
    a[10 + i] = g.kernel[i];
    a[13 + i] = g.stride[i];
    a[16 + i] = g.padBefore[i];
    a[19 + i] = g.dilation[i];
  }
  return a;
}

function packPool(g: PoolGeometry): Int32Array {
  const a = poolGeom;
  a[0] = g.planes;
  for (let i = 0; i < 3; i++) {
    a[1 + i] = g.inSize[i];
    a[4 + i] = g.outSize[i];
    a[7 + i] = g.kernel[i];
    a[10 + i] = g.stride[i];
    a[13 + i] = g.padding[i];
    a[16 + i] = g.dilation[i];
  }
  return a;
}

/**
 * The kernels the native conv block picks for a geometry (with its pool, or null), or null without
 * the addon: for tests that mean to reach a particular kernel, and for profiling.
 */
export function nativeConvBlockPaths(g: ConvGeometry, pool: PoolGeometry | null): ConvBlockPaths | null {
  const addon = loadAddon();
  return addon ? addon.convBlockPaths(packConv(g), pool ? packPool(pool) : null) : null;
}

/** Limits the threads the native kernels use (benchmarks); returns the value in effect, or null without the addon. */
export function setNativeThreads(n: number): number | null {
  const addon = loadAddon();
  return addon ? addon.setNumThreads(n) : null;
}

/** The native backend, or null when the addon is not available. */
export function createNativeBackend(): Backend | null {
  const addon: NativeAddon | null = loadAddon();
  if (!addon) return null;
  const A = addon;
  return {
    name: 'native',
    info() {
      const i = A.info();
      return { backend: 'native', simd: i.simd, threads: i.threads };
    },
    gemm: (transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) =>
      A.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc),
    convForward: (g, x, w, bias, y) => A.convForward(packConv(g), x, w, bias, y),
    convBackwardInput: (g, dy, w, dx) => A.convBackwardInput(packConv(g), dy, w, dx),
    convBackwardWeight: (g, x, dy, dw, db) => A.convBackwardWeight(packConv(g), x, dy, dw, db),
    convBlockForward: (g, pool, relu, x, w, bias, y, idx) =>
      A.convBlockForward(packConv(g), pool ? packPool(pool) : null, relu, x, w, bias, y, idx),
    convBlockBackward: (g, pool, relu, x, w, y, idx, dy, dx, dw, db) =>
      A.convBlockBackward(packConv(g), pool ? packPool(pool) : null, relu, x, w, y, idx, dy, dx, dw, db),
    maxPoolForward: (g, x, y, idx) => A.maxPoolForward(packPool(g), x, y, idx),
    maxPoolBackward: (g, dy, idx, dx) => A.maxPoolBackward(packPool(g), dy, idx, dx),
    avgPoolForward: (g, x, y, cip) => A.avgPoolForward(packPool(g), x, y, cip),
    avgPoolBackward: (g, dy, dx, cip) => A.avgPoolBackward(packPool(g), dy, dx, cip),
    adamStep: (p, grad, m, v, vMax, o: AdamStepOptions) =>
      A.adamStep(p, grad, m, v, vMax, o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, o.decoupled, o.step),
    relu: (x, y) => A.relu(x, y),
    reluBackward: (y, dy, dx) => A.reluBackward(y, dy, dx),
  };
}
