/**
 * Loads the compiled addon (build/Release/stride_native.node) if it is there.
 * The path is resolved from the package root, found by walking up from this file to the nearest
 * package.json, so it works both from src/ under tsx and from dist/ after a build.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The kernels a conv block runs on (native/src/kernels.h BlockPaths). */
export interface ConvBlockPaths {
  /** Direct kernels (channel-vector, with or without its own 2×2 pool; row-vector) or im2col + GEMM. */
  forward: 'channels+pool' | 'channels' | 'rows' | 'gemm';
  /** From the pool's argmax, or im2col + GEMM. */
  weightGrad: 'argmax' | 'gemm';
  /** The row-vector kernel on the adjoint convolution, or GEMM + col2im. */
  inputGrad: 'adjoint' | 'gemm';
}

/** The raw N-API surface (see native/src/addon.cc for argument layouts). */
export interface NativeAddon {
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /** geom: [n, cIn, cOut, groups, in×3, out×3, kernel×3, stride×3, padBefore×3, dilation×3] */
  convForward(geom: Int32Array, x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array): void;
  convBackwardInput(geom: Int32Array, dy: Float32Array, w: Float32Array, dx: Float32Array): void;
  /** poolGeom: null or a pool geometry over the conv's output planes (see native/src/addon.cc). */
  convBlockForward(
    geom: Int32Array,
    poolGeom: Int32Array | null,
    relu: boolean,
    x: Float32Array,
    w: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    idx: Int32Array | null,
  ): void;
  /** Which kernels the conv block picks for this geometry (see native/src/kernels.h). */
  convBlockPaths(geom: Int32Array, poolGeom: Int32Array | null): ConvBlockPaths;
  convBlockBackward(
    geom: Int32Array,
    poolGeom: Int32Array | null,
    relu: boolean,
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    idx: Int32Array | null,
    dy: Float32Array,
    dx: Float32Array | null,
    dw: Float32Array | null,
    db: Float32Array | null,
  ): void;
  convBackwardWeight(
    geom: Int32Array,
    x: Float32Array,
    dy: Float32Array,
    dw: Float32Array,
    db: Float32Array | null,
  ): void;
  /** geom: [planes, in×3, out×3, kernel×3, stride×3, padding×3, dilation×3] */
  maxPoolForward(geom: Int32Array, x: Float32Array, y: Float32Array, idx: Int32Array): void;
  maxPoolBackward(geom: Int32Array, dy: Float32Array, idx: Int32Array, dx: Float32Array): void;
  avgPoolForward(geom: Int32Array, x: Float32Array, y: Float32Array, countIncludePad: boolean): void;
  avgPoolBackward(geom: Int32Array, dy: Float32Array, dx: Float32Array, countIncludePad: boolean): void;
  adamStep(
    p: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    vMax: Float32Array | null,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    step: number,
  ): void;
  /** y = relu(x) over x.length, on the bit patterns (see Backend.relu). */
  relu(x: Float32Array, y: Float32Array): void;
  /** dx = bits(y) > 0 ? dy : +0 over y.length; dx may be dy. */
  reluBackward(y: Float32Array, dy: Float32Array, dx: Float32Array): void;
  info(): { simd: string; threads: number; poolSize: number };
  /** Limits the threads kernels use (1..pool size); returns the value in effect. */
  setNumThreads(n: number): number;
}

function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

let cached: NativeAddon | null | undefined;
let loadError: string | null = null;

/** The addon, or null when it was not built (or fails to load: see `nativeLoadError()`). */
export function loadAddon(): NativeAddon | null {
  if (cached !== undefined) return cached;
  cached = null;
  const root = packageRoot();
  if (!root) {
    loadError = 'package root not found';
    return null;
  }
  const file = join(root, 'build', 'Release', 'stride_native.node');
  if (!existsSync(file)) {
    loadError = `${file} not built`;
    return null;
  }
  try {
    cached = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (e) {
    loadError = `${file} failed to load: ${(e as Error).message}`;
  }
  return cached;
}

/** Why the addon is unavailable (null when it loaded or was never asked for). */
export function nativeLoadError(): string | null {
  return loadError;
}
