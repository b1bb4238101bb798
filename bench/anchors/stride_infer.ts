/**
 * stride's batch-1000 inference on the benchmark models with the same protocol as onnx_bench.mjs
 * (warm-up, then the median of `repeats` windows of at least `window` seconds), so the two can be
 * run interleaved and compared line for line. `npm run bench -- --quick` times only 2 batches per
 * window, which is too short to tell a 10% difference apart on a shared machine.
 *
 * usage: node --import tsx bench/anchors/stride_infer.ts [--models m1,m2] [--threads 2,1]
 *          [--repeats 3] [--window 1] [--kernels]
 *
 * --kernels: instead, time every backend kernel call of one forward pass, in call order, so the
 * list reads like ONNX Runtime's per-node profile (see README.md) and the two can be set side by side.
 */
import { execSync } from 'node:child_process';
import { cpuUsage } from 'node:process';
import * as st from '../../src/node.js';
import { simpleCNN, smallCNN } from '../models.js';

interface Options {
  models: string[];
  threads: number[];
  repeats: number;
  window: number;
  kernels: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { models: ['m1', 'm2'], threads: [2, 1], repeats: 3, window: 1, kernels: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--kernels') {
      opts.kernels = true;
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    i++;
    if (arg === '--models') opts.models = value.split(',');
    else if (arg === '--threads') opts.threads = value.split(',').map(Number);
    else if (arg === '--repeats') opts.repeats = Number(value);
    else if (arg === '--window') opts.window = Number(value);
    else throw new Error(`unknown argument ${arg}`);
  }
  return opts;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function gitHead(): string | undefined {
  try {
    return execSync('git rev-parse --short HEAD', {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

const BUILD: Record<string, () => st.nn.Sequential> = { m1: simpleCNN, m2: smallCNN };

function benchOne(name: string, threads: number, opts: Options): Record<string, unknown> {
  const build = BUILD[name];
  if (!build) throw new Error(`unknown model ${name}`);
  const inEffect = st.setNativeThreads(threads);
  st.manualSeed(0);
  const model = build();
  model.eval();
  const x = st.rand([1000, 1, 28, 28]);
  const run = (): void => {
    st.noGrad(() => model.forward(x));
  };
  const tw = performance.now();
  for (let i = 0; i < 3 || performance.now() - tw < 300; i++) run();
  const rates: number[] = [];
  const cpuFrac: number[] = [];
  const perCpu: number[] = [];
  for (let r = 0; r < opts.repeats; r++) {
    let n = 0;
    let dt = 0;
    const c0 = cpuUsage();
    const t0 = performance.now();
    while (dt < opts.window * 1000) {
      run();
      n++;
      dt = performance.now() - t0;
    }
    const c = cpuUsage(c0);
    rates.push((n * 1000) / (dt / 1000));
    cpuFrac.push((c.user + c.system) / 1000 / dt);
    perCpu.push((n * 1000) / ((c.user + c.system) / 1e6));
  }
  const info = st.backendInfo();
  return {
    peer: 'stride',
    model: name,
    infer_batch: 1000,
    infer_img_s: median(rates),
    infer_img_s_all: rates,
    cpu_per_wall: median(cpuFrac),
    // Images per CPU second of the whole process: with 1 thread, close to the uncontended rate even
    // when other processes take turns on the core (the wall-clock rate then drops, this does not).
    infer_img_per_cpu_s: median(perCpu),
    threads: inEffect ?? info.threads,
    backend: info.backend,
    simd: info.simd,
    commit: gitHead(),
    timestamp: new Date().toISOString(),
  };
}

/**
 * Best time (the one least disturbed by other processes) of each kernel call of a forward pass
 * over 5 × repeats passes, keyed by its position in the pass, from wrapping every function of the
 * backend object with a timer (the wrapping costs well under a microsecond per call, against
 * kernels of 0.1-100 ms here).
 */
function kernelsOne(name: string, threads: number, opts: Options): Record<string, unknown> {
  const build = BUILD[name];
  if (!build) throw new Error(`unknown model ${name}`);
  st.setNativeThreads(threads);
  st.manualSeed(0);
  const model = build();
  model.eval();
  const x = st.rand([1000, 1, 28, 28]);
  const be = st.getBackend() as unknown as Record<string, unknown>;
  const calls: { kernel: string; ms: number }[] = [];
  const originals: [string, unknown][] = [];
  for (const key of Object.keys(be)) {
    const fn = be[key];
    if (key === 'info' || typeof fn !== 'function') continue;
    originals.push([key, fn]);
    be[key] = (...a: unknown[]): unknown => {
      const t0 = performance.now();
      const r = (fn as (...b: unknown[]) => unknown).apply(be, a);
      calls.push({ kernel: key, ms: performance.now() - t0 });
      return r;
    };
  }
  const perPass: { kernel: string; ms: number }[][] = [];
  const walls: number[] = [];
  try {
    for (let r = 0; r < 3 + opts.repeats * 5; r++) {
      calls.length = 0;
      const t0 = performance.now();
      st.noGrad(() => model.forward(x));
      const wall = performance.now() - t0;
      if (r >= 3) {
        perPass.push([...calls]);
        walls.push(wall);
      }
    }
  } finally {
    for (const [key, fn] of originals) be[key] = fn;
  }
  const kernels = perPass[0].map((c, i) => ({
    kernel: c.kernel,
    ms: Math.min(...perPass.map((p) => p[i]?.ms ?? NaN)),
  }));
  const inKernels = kernels.reduce((a, k) => a + k.ms, 0);
  return {
    peer: 'stride',
    model: name,
    threads,
    forward_ms: median(walls),
    in_kernels_ms: inKernels,
    kernels,
  };
}

const opts = parseArgs(process.argv.slice(2));
for (const threads of opts.threads) {
  for (const name of opts.models)
    console.log(
      JSON.stringify(opts.kernels ? kernelsOne(name, threads, opts) : benchOne(name, threads, opts)),
    );
}
