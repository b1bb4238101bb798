/**
 * stride's batch-1000 inference on the benchmark models with the same protocol as onnx_bench.mjs
 * (warm-up, then the median of `repeats` windows of at least `window` seconds), so the two can be
 * run interleaved and compared line for line. `npm run bench -- --quick` times only 2 batches per
 * window, which is too short to tell a 10% difference apart on a shared machine.
 *
 * usage: node --import tsx bench/anchors/stride_infer.ts [--models m1,m2] [--threads 2,1]
 *          [--repeats 3] [--window 1]
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
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { models: ['m1', 'm2'], threads: [2, 1], repeats: 3, window: 1 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
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
  }
  const info = st.backendInfo();
  return {
    peer: 'stride',
    model: name,
    infer_batch: 1000,
    infer_img_s: median(rates),
    infer_img_s_all: rates,
    cpu_per_wall: median(cpuFrac),
    threads: inEffect ?? info.threads,
    backend: info.backend,
    simd: info.simd,
    commit: gitHead(),
    timestamp: new Date().toISOString(),
  };
}

const opts = parseArgs(process.argv.slice(2));
for (const threads of opts.threads) {
  for (const name of opts.models) console.log(JSON.stringify(benchOne(name, threads, opts)));
}
