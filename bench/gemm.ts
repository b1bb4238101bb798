/**
 * GEMM throughput: C = A·B for square sizes, in GFLOP/s (2·n³ flops per product).
 * Used by `npm run bench` (bench/bench.ts); run on its own with
 *   node --import tsx bench/gemm.ts [sizes...]        (STRIDE_BACKEND=js for the reference)
 */
import type { Backend } from '../src/backend/backend.js';

function fill(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 4294967296 - 0.5;
  }
  return a;
}

/**
 * GFLOP/s of square sgemm for each size, keyed by size: one warm-up product (pages in the buffers,
 * grows the packing scratch), then the best of `repeats` timed windows, each at least ~0.2 s long
 * (a machine shared with other work only ever makes a window slower).
 */
export function benchGemm(
  backend: Backend,
  sizes: number[] = [1024, 2048],
  repeats = 3,
): Record<number, number> {
  const out: Record<number, number> = {};
  for (const n of sizes) {
    const a = fill(n * n, 1);
    const b = fill(n * n, 2);
    const c = new Float32Array(n * n);
    const run = () => backend.gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n);
    let t = performance.now();
    run();
    const once = Math.max((performance.now() - t) / 1000, 1e-6);
    const perWindow = Math.max(1, Math.ceil(0.2 / once));
    let best = Infinity;
    for (let r = 0; r < Math.max(1, repeats); r++) {
      t = performance.now();
      for (let i = 0; i < perWindow; i++) run();
      best = Math.min(best, (performance.now() - t) / 1000 / perWindow);
    }
    out[n] = (2 * n * n * n) / best / 1e9;
  }
  return out;
}

const invokedDirectly = process.argv[1]?.replace(/\\/g, '/').endsWith('bench/gemm.ts') ?? false;
if (invokedDirectly) {
  const { jsBackend } = await import('../src/backend/js/index.js');
  const { createNativeBackend } = await import('../src/backend/native/index.js');
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((x) => x > 0);
  const backend = process.env.STRIDE_BACKEND === 'js' ? jsBackend : (createNativeBackend() ?? jsBackend);
  const info = backend.info();
  const res = benchGemm(backend, sizes.length ? sizes : [1024, 2048]);
  for (const [n, g] of Object.entries(res))
    console.log(
      `${info.backend} (${info.simd}, ${info.threads} threads) sgemm ${n}³: ${g.toFixed(1)} GFLOP/s`,
    );
}
