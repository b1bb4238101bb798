/**
 * `npm run bench [-- --quick] [-- --json]`: GEMM GFLOP/s, training and inference images/s of the
 * two course models, DataLoader throughput and peak RSS, on the backend in use and on js beside
 * it, with ratios to the reference figures measured with PyTorch on the same kind of machine.
 */
import * as st from '../src/node.js';
import { benchModel, simpleCNN, smallCNN, type Throughput } from './models.js';
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
  };
  const m1: Throughput = benchModel(simpleCNN, 128, opts);
  log(`  m1 train ${m1.trainImgS.toFixed(0)} img/s, infer ${m1.inferImgS.toFixed(0)} img/s`);
  const m2: Throughput = benchModel(smallCNN, 64, { ...opts, stepsPerWindow: opts.stepsPerWindow * 4 });
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

function ratio(x: number, ref: number): string {
  return Number.isFinite(x) ? `${(x / ref).toFixed(2)}×` : 'n/a';
}

async function main(): Promise<void> {
  const inUse = st.backendInfo().backend;
  const primary = measure(inUse);
  const data = await benchDataLoader({ quick });
  log(
    `\nDataLoader (MNIST, batch 128): ${data.plainImgS.toFixed(0)} img/s plain, ${data.augmentedImgS.toFixed(0)} img/s with augmentation`,
  );
  const js = inUse === 'js' ? primary : measure('js');
  st.setBackend(inUse);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;

  if (json) {
    console.log(
      JSON.stringify({
        ...primary,
        peak_rss_mb: Math.round(peakRssMb),
        data_plain_img_s: data.plainImgS,
        data_augmented_img_s: data.augmentedImgS,
        js: inUse === 'js' ? undefined : js,
      }),
    );
    return;
  }
  const rows: [string, number, number, string][] = [
    ['GEMM 1024³ GFLOP/s', primary.gemm1024_gflops, js.gemm1024_gflops, ''],
    [
      'GEMM 2048³ GFLOP/s',
      primary.gemm2048_gflops,
      js.gemm2048_gflops,
      `${ratio(primary.gemm2048_gflops, REFERENCE.openblasGemm2048)} OpenBLAS`,
    ],
    [
      'M1 train img/s',
      primary.m1_train_img_s,
      js.m1_train_img_s,
      `${ratio(primary.m1_train_img_s, REFERENCE.torchM1Train)} PyTorch`,
    ],
    [
      'M1 infer img/s',
      primary.m1_infer_img_s,
      js.m1_infer_img_s,
      `${ratio(primary.m1_infer_img_s, REFERENCE.torchM1Infer)} PyTorch, ${ratio(primary.m1_infer_img_s, REFERENCE.onnxM1Infer)} ONNX RT`,
    ],
    [
      'M2 train img/s',
      primary.m2_train_img_s,
      js.m2_train_img_s,
      `${ratio(primary.m2_train_img_s, REFERENCE.torchM2Train)} PyTorch`,
    ],
    [
      'M2 infer img/s',
      primary.m2_infer_img_s,
      js.m2_infer_img_s,
      `${ratio(primary.m2_infer_img_s, REFERENCE.torchM2Infer)} PyTorch, ${ratio(primary.m2_infer_img_s, REFERENCE.onnxM2Infer)} ONNX RT`,
    ],
  ];
  console.log(`\n| | ${primary.backend} | js | vs reference |\n|---|---|---|---|`);
  for (const [name, a, b, r] of rows) console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${r} |`);
  console.log(
    `\npeak RSS ${peakRssMb.toFixed(0)} MB; DataLoader ${data.plainImgS.toFixed(0)} img/s plain, ${data.augmentedImgS.toFixed(0)} augmented`,
  );
}

await main();
