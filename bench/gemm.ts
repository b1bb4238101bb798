/**
 * GEMM throughput: C = A·B for square sizes, in GFLOP/s (2·n³ flops per product).
 * Used by `npm run bench` (bench/bench.ts); run on its own with
 *   node --import tsx bench/gemm.ts [sizes...]        (STRIDE_BACKEND=js for the reference)
 *
 *   node --import tsx bench/gemm.ts --shapes m1 [--repeats R]
 * instead times the GEMMs of one training step of the benchmark model M1 (SimpleCNN, batch 128):
 * its Linear(14400→128) forward and backward, and conv2's products, 1 thread (GFLOP/s in CPU time,
 * steady on a shared machine) and with the whole pool (wall time). The addon exposes only sgemm:
 * conv2's sgemm_seg / sgemm_nt_sum calls are timed as the nearest plain sgemm (same packed path,
 * unsegmented), and as called, by the conv kernels themselves (im2col / col2im included).
 * native/bench/gemm_shapes.cc times the exact calls in C++.
 */
import type { Backend, ConvGeometry } from '../src/backend/backend.js';

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

/** One timed workload of a model's step: `run` does `flops` floating-point operations. */
export interface ShapeCase {
  name: string;
  flops: number;
  run: () => void;
}

/** M1's conv2: Conv2d(32, 64, k2, p1) on 29×29 maps (30×30 out), for a batch of `n`. */
function m1Conv2(n: number): ConvGeometry {
  return {
    n,
    cIn: 32,
    cOut: 64,
    groups: 1,
    inSize: [1, 29, 29],
    outSize: [1, 30, 30],
    kernel: [1, 2, 2],
    stride: [1, 1, 1],
    padBefore: [0, 1, 1],
    dilation: [1, 1, 1],
  };
}

/**
 * The GEMM workloads of one M1 training step (batch 128): `gemm` cases are single sgemm calls
 * (conv2's as the nearest plain sgemm of one pool task: nb = 2 samples, 1800 columns), `conv`
 * cases the conv2 kernels over the whole batch (their GEMMs, as the convolution calls them).
 */
export function m1Shapes(backend: Backend): { gemm: ShapeCase[]; conv: ShapeCase[] } {
  const B = 128,
    IN = 14400,
    OUT = 128;
  const X = fill(B * IN, 1),
    W = fill(OUT * IN, 2),
    dY = fill(B * OUT, 3);
  const Y = new Float32Array(B * OUT),
    dW = new Float32Array(OUT * IN),
    dX = new Float32Array(B * IN);
  const lin = 2 * B * IN * OUT;
  // conv2 per task: K = 32·2·2 = 128 (+1: the bias row), 64 output channels, nb·P = 2·900 columns.
  const cols = 1800,
    K = 128,
    CO = 64;
  const colB = fill((K + 1) * cols, 4),
    wB = fill(CO * (K + 1), 6),
    w = fill(CO * K, 7),
    dy = fill(CO * cols, 8),
    y = new Float32Array(CO * cols),
    dcol = new Float32Array(K * cols),
    dw = new Float32Array(CO * K);
  const dyT = fill(CO * cols, 9); // dY·colᵀ: both k-contiguous
  const colT = fill(K * cols, 10);
  const gemm: ShapeCase[] = [
    {
      name: '1 linear fwd  gemm(N,T,128,128,14400)',
      flops: lin,
      run: () => backend.gemm(false, true, B, OUT, IN, 1, X, IN, W, IN, 0, Y, OUT),
    },
    {
      name: '2 linear dW   gemm(T,N,128,14400,128)',
      flops: lin,
      run: () => backend.gemm(true, false, OUT, IN, B, 1, dY, OUT, X, IN, 0, dW, IN),
    },
    {
      name: '3 linear dX   gemm(N,N,128,14400,128)',
      flops: lin,
      run: () => backend.gemm(false, false, B, IN, OUT, 1, dY, OUT, W, IN, 0, dX, IN),
    },
    {
      name: '4 conv2 fwd   gemm(N,N,64,1800,129)',
      flops: 2 * CO * cols * (K + 1),
      run: () => backend.gemm(false, false, CO, cols, K + 1, 1, wB, K + 1, colB, cols, 0, y, cols),
    },
    {
      name: '5 conv2 dIn   gemm(T,N,128,1800,64)',
      flops: 2 * K * cols * CO,
      run: () => backend.gemm(true, false, K, cols, CO, 1, w, K, dy, cols, 0, dcol, cols),
    },
    {
      name: '6 conv2 dW    gemm(N,T,64,128,1800)',
      flops: 2 * CO * K * cols,
      run: () => backend.gemm(false, true, CO, K, cols, 1, dyT, cols, colT, cols, 0, dw, K),
    },
  ];
  const g = m1Conv2(B);
  const inLen = B * 32 * 29 * 29,
    outLen = B * 64 * 900;
  const x = fill(inLen, 11),
    wc = fill(64 * 32 * 4, 12),
    bias = fill(64, 13),
    yc = new Float32Array(outLen),
    dyc = fill(outLen, 14),
    dx = new Float32Array(inLen),
    dwc = new Float32Array(64 * 32 * 4),
    db = new Float32Array(64);
  const convFlops = 2 * B * 900 * 64 * 128;
  const conv: ShapeCase[] = [
    {
      name: '4 conv2 convForward (+bias)',
      flops: 2 * B * 900 * 64 * 129,
      run: () => backend.convForward(g, x, wc, bias, yc),
    },
    {
      name: '5 conv2 convBackwardInput',
      flops: convFlops,
      run: () => backend.convBackwardInput(g, dyc, wc, dx),
    },
    {
      name: '6 conv2 convBackwardWeight',
      flops: convFlops,
      run: () => backend.convBackwardWeight(g, x, dyc, dwc, db),
    },
  ];
  return { gemm, conv };
}

/**
 * Best seconds per call over `repeats` windows of ~0.2 s, by wall clock and by process CPU time
 * (the CPU figure is the steadier one on a machine shared with other work; with one thread it is
 * the kernel's own time).
 */
export function timeCase(run: () => void, repeats: number): { wall: number; cpu: number } {
  run();
  let t = performance.now();
  run();
  const once = Math.max((performance.now() - t) / 1000, 1e-6);
  const perWindow = Math.max(1, Math.ceil(0.2 / once));
  let wall = Infinity,
    cpu = Infinity;
  for (let r = 0; r < Math.max(1, repeats); r++) {
    const c0 = process.cpuUsage();
    t = performance.now();
    for (let i = 0; i < perWindow; i++) run();
    wall = Math.min(wall, (performance.now() - t) / 1000 / perWindow);
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6 / perWindow);
  }
  return { wall, cpu };
}

const invokedDirectly = process.argv[1]?.replace(/\\/g, '/').endsWith('bench/gemm.ts') ?? false;
if (invokedDirectly) {
  const { jsBackend } = await import('../src/backend/js/index.js');
  const { createNativeBackend, setNativeThreads } = await import('../src/backend/native/index.js');
  const argv = process.argv.slice(2);
  const backend = process.env.STRIDE_BACKEND === 'js' ? jsBackend : (createNativeBackend() ?? jsBackend);
  const info = backend.info();
  const shapesAt = argv.indexOf('--shapes');
  if (shapesAt >= 0) {
    const model = argv[shapesAt + 1] ?? 'm1';
    if (model !== 'm1') throw new Error(`--shapes: unknown model '${model}' (known: m1)`);
    const repAt = argv.indexOf('--repeats');
    const repeats = repAt >= 0 ? Math.max(1, Number(argv[repAt + 1]) || 1) : 5;
    const full = info.threads;
    const { gemm, conv } = m1Shapes(backend);
    const gf = (flops: number, s: number) => (flops / s / 1e9).toFixed(1).padStart(9);
    console.log(`${info.backend} (${info.simd}), M1 step GEMMs; GFLOP/s, best of ${repeats} windows`);
    console.log(`${'shape'.padEnd(40)} ${'1 thr CPU'.padStart(9)} ${`${full} thr wall`.padStart(10)}`);
    for (const c of [...gemm, ...conv]) {
      setNativeThreads(1);
      const one = timeCase(c.run, repeats);
      setNativeThreads(full);
      const all = timeCase(c.run, repeats);
      console.log(`${c.name.padEnd(40)} ${gf(c.flops, one.cpu)} ${gf(c.flops, all.wall)}`);
    }
  } else {
    const sizes = argv.map(Number).filter((x) => x > 0);
    const res = benchGemm(backend, sizes.length ? sizes : [1024, 2048]);
    for (const [n, g] of Object.entries(res))
      console.log(
        `${info.backend} (${info.simd}, ${info.threads} threads) sgemm ${n}³: ${g.toFixed(1)} GFLOP/s`,
      );
  }
}
