/**
 * `npm run bench [-- --quick] [-- --json]`: GEMM GFLOP/s, training and inference images/s of the
 * two course models, DataLoader throughput and peak RSS, on the backend in use and on js beside
 * it, with ratios to the reference figures measured with PyTorch on the same kind of machine, and
 * with --torch, to PyTorch run here in the same sitting (needs Debian's python3-torch, see
 * ../shared/anchors/README.md). --memory: RSS over 5 epochs of M1 training instead.
 *
 * Each model is measured in a fresh process of its own (this script with --child), as the PyTorch
 * anchor runs one process per model. In one process a figure depended on what ran before it: while
 * batch-1000 inference allocates next to nothing (its activations are recycled, see
 * src/nn/recycle.ts), V8 shrinks its young generation, and M2's training after it then promoted
 * enough short-lived objects for a mark-compact every ~40 ms, ~15% slower (M1's, with 50× the
 * work per step, did not move; `--min-semi-space-size=8` removes the effect).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as st from '../src/node.js';
import { benchModel, rssPerEpoch, simpleCNN, smallCNN, type Throughput } from './models.js';
import { benchGemm } from './gemm.js';
import { benchDataLoader } from './data.js';

/** Reference figures from the issue (2-core AMD EPYC Zen3, float32), see ../shared/anchors. */
const REFERENCE = {
  openblasGemm2048: 180,
  torchM1Train: 871,
  torchM1Infer: 1555,
  torchM2Train: 4944,
  torchM2Infer: 17640,
  onnxM1Infer: 8214,
  onnxM2Infer: 146873,
};

interface BackendFigures {
  backend: string;
  threads: number;
  gemm1024_gflops: number;
  gemm2048_gflops: number;
  m1_train_img_s: number;
  m1_infer_img_s: number;
  m2_train_img_s: number;
  m2_infer_img_s: number;
}

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const json = args.has('--json');
const withTorch = args.has('--torch');
const memory = args.has('--memory');
const log = (s: string): void => {
  if (!json) console.log(s);
};

function measure(name: 'js' | 'native'): BackendFigures {
  st.setBackend(name);
  const info = st.backendInfo();
  const slow = name === 'js';
  log(`\n[${name}] ${info.simd}, ${info.threads} thread(s)`);
  const gemm = benchGemm(st.getBackend(), slow ? [512, 1024] : [1024, 2048], quick ? 2 : 3);
  const g1024 = gemm[1024] ?? NaN;
  const g2048 = gemm[2048] ?? NaN;
  const opts = {
    repeats: quick || slow ? 2 : 5,
    stepsPerWindow: slow ? 1 : quick ? 5 : 20,
    inferBatches: slow ? 1 : quick ? 2 : 5,
    // (js steps take seconds: one warm-up call is plenty)
    warmupMs: slow ? 0 : quick ? 150 : 500,
  };
  const m1 = inChild(name, 'm1', opts);
  log(`  m1 train ${m1.trainImgS.toFixed(0)} img/s, infer ${m1.inferImgS.toFixed(0)} img/s`);
  const m2 = inChild(name, 'm2', { ...opts, stepsPerWindow: opts.stepsPerWindow * 4 });
  log(`  m2 train ${m2.trainImgS.toFixed(0)} img/s, infer ${m2.inferImgS.toFixed(0)} img/s`);
  return {
    backend: name,
    threads: info.threads,
    gemm1024_gflops: g1024,
    gemm2048_gflops: g2048,
    m1_train_img_s: m1.trainImgS,
    m1_infer_img_s: m1.inferImgS,
    m2_train_img_s: m2.trainImgS,
    m2_infer_img_s: m2.inferImgS,
  };
}

type ModelOptions = Parameters<typeof benchModel>[2];
const MODELS = { m1: { build: simpleCNN, batch: 128 }, m2: { build: smallCNN, batch: 64 } };
/** The largest peak RSS of the child processes (MB). */
let childPeakRssMb = 0;

/** benchModel for one backend and model, in a fresh process (see the note at the top). */
function inChild(backend: 'js' | 'native', model: 'm1' | 'm2', opts: ModelOptions): Throughput {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, self, '--child', JSON.stringify({ backend, model, opts })],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !line) throw new Error(`bench: the ${backend} ${model} process failed (${r.status})`);
  const out = JSON.parse(line) as Throughput & { peakRssMb: number };
  childPeakRssMb = Math.max(childPeakRssMb, out.peakRssMb);
  return out;
}

/** The child's side: one model's figures and its peak RSS, as one JSON line. */
function childMain(spec: string): void {
  const { backend, model, opts } = JSON.parse(spec) as {
    backend: 'js' | 'native';
    model: 'm1' | 'm2';
    opts: ModelOptions;
  };
  st.setBackend(backend);
  const { build, batch } = MODELS[model];
  const t = benchModel(build, batch, opts);
  console.log(JSON.stringify({ ...t, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

function ratio(x: number, ref: number | undefined): string {
  return ref !== undefined && Number.isFinite(x) && Number.isFinite(ref) ? `${(x / ref).toFixed(2)}×` : 'n/a';
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(1) : 'n/a';
}

interface TorchFigures {
  train_img_s: number;
  infer_img_s: number;
}

/**
 * With --torch: runs ../shared/anchors/bench_torch.py (Debian's python3-torch, 2 threads) for both
 * models right here, so the ratios compare the two in one sitting on this machine.
 */
function measureTorch(model: 'm1' | 'm2'): TorchFigures | undefined {
  const script = fileURLToPath(new URL('../../shared/anchors/bench_torch.py', import.meta.url));
  if (!existsSync(script)) return undefined;
  const r = spawnSync('/usr/bin/python3', [script, '--model', model], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '2', OMP_NUM_THREADS: '2' },
  });
  const line = r.stdout?.trim().split('\n').pop();
  if (r.status !== 0 || !line) {
    log(`  (PyTorch ${model} did not run: ${r.stderr?.trim().split('\n').pop() ?? r.error?.message})`);
    return undefined;
  }
  return JSON.parse(line) as TorchFigures;
}

async function main(): Promise<void> {
  const child = process.argv.indexOf('--child');
  if (child >= 0) return childMain(process.argv[child + 1]);
  const inUse = st.backendInfo().backend;
  if (memory) {
    // 5 epochs of M1 training (batch 128; 100 steps per epoch, 5 with --quick): RSS after each.
    const rss = rssPerEpoch(simpleCNN, 128, 5, quick ? 5 : 100);
    const growth = rss[rss.length - 1] - rss[0];
    if (json)
      console.log(
        JSON.stringify({ backend: inUse, m1_rss_mb_per_epoch: rss, growth_after_first_mb: growth }),
      );
    else
      console.log(
        `M1 training RSS per epoch (MB): ${rss.map((r) => r.toFixed(0)).join(', ')}; growth after the first: ${growth.toFixed(0)} MB`,
      );
    return;
  }
  const primary = measure(inUse);
  let torchM1: TorchFigures | undefined;
  let torchM2: TorchFigures | undefined;
  if (withTorch) {
    log('\n[pytorch] ../shared/anchors/bench_torch.py, 2 threads');
    torchM1 = measureTorch('m1');
    torchM2 = measureTorch('m2');
    if (torchM1)
      log(
        `  m1 train ${torchM1.train_img_s.toFixed(0)} img/s, infer ${torchM1.infer_img_s.toFixed(0)} img/s`,
      );
    if (torchM2)
      log(
        `  m2 train ${torchM2.train_img_s.toFixed(0)} img/s, infer ${torchM2.infer_img_s.toFixed(0)} img/s`,
      );
  }
  const data = await benchDataLoader({ quick });
  log(
    `\nDataLoader (MNIST, batch 128): ${data.plainImgS.toFixed(0)} img/s plain, ${data.augmentedImgS.toFixed(0)} img/s with augmentation`,
  );
  const js = inUse === 'js' ? primary : measure('js');
  st.setBackend(inUse);
  const peakRssMb = Math.max(process.resourceUsage().maxRSS / 1024, childPeakRssMb);

  if (json) {
    console.log(
      JSON.stringify({
        ...primary,
        peak_rss_mb: Math.round(peakRssMb),
        data_plain_img_s: data.plainImgS,
        data_augmented_img_s: data.augmentedImgS,
        js: inUse === 'js' ? undefined : js,
        pytorch: withTorch ? { m1: torchM1, m2: torchM2 } : undefined,
      }),
    );
    return;
  }
  const rows: [string, number, number, number | undefined, string][] = [
    ['GEMM 1024³ GFLOP/s', primary.gemm1024_gflops, js.gemm1024_gflops, undefined, ''],
    [
      'GEMM 2048³ GFLOP/s',
      primary.gemm2048_gflops,
      js.gemm2048_gflops,
      undefined,
      `${ratio(primary.gemm2048_gflops, REFERENCE.openblasGemm2048)} OpenBLAS`,
    ],
    [
      'M1 train img/s',
      primary.m1_train_img_s,
      js.m1_train_img_s,
      torchM1?.train_img_s,
      `${ratio(primary.m1_train_img_s, REFERENCE.torchM1Train)} PyTorch`,
    ],
    [
      'M1 infer img/s',
      primary.m1_infer_img_s,
      js.m1_infer_img_s,
      torchM1?.infer_img_s,
      `${ratio(primary.m1_infer_img_s, REFERENCE.torchM1Infer)} PyTorch, ${ratio(primary.m1_infer_img_s, REFERENCE.onnxM1Infer)} ONNX RT`,
    ],
    [
      'M2 train img/s',
      primary.m2_train_img_s,
      js.m2_train_img_s,
      torchM2?.train_img_s,
      `${ratio(primary.m2_train_img_s, REFERENCE.torchM2Train)} PyTorch`,
    ],
    [
      'M2 infer img/s',
      primary.m2_infer_img_s,
      js.m2_infer_img_s,
      torchM2?.infer_img_s,
      `${ratio(primary.m2_infer_img_s, REFERENCE.torchM2Infer)} PyTorch, ${ratio(primary.m2_infer_img_s, REFERENCE.onnxM2Infer)} ONNX RT`,
    ],
  ];
  const torchCols = withTorch ? ' PyTorch here | ratio |' : '';
  console.log(
    `\n| | ${primary.backend} | js |${torchCols} vs reference figures |\n|---|---|---|${withTorch ? '---|---|' : ''}---|`,
  );
  for (const [name, a, b, t, r] of rows) {
    const here = withTorch
      ? ` ${t === undefined ? '' : fmt(t)} | ${t === undefined ? '' : ratio(a, t)} |`
      : '';
    console.log(`| ${name} | ${fmt(a)} | ${fmt(b)} |${here} ${r} |`);
  }
  console.log(
    `\npeak RSS ${peakRssMb.toFixed(0)} MB; DataLoader ${data.plainImgS.toFixed(0)} img/s plain, ${data.augmentedImgS.toFixed(0)} augmented`,
  );
}

await main();
