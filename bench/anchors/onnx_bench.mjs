// ONNX Runtime (Node) inference anchor for the benchmark models, measured on this machine.
//
// usage: node bench/anchors/onnx_bench.mjs --ort /tmp/ort/node_modules/onnxruntime-node --dir /tmp/onnx
//          [--models m1,m2] [--threads 2,1] [--repeats 3] [--window 1] [--batch 1000]
//          [--no-spin] [--dump-optimized] [--profile]
//
// onnxruntime-node is deliberately not a dependency of the project (its install fetches native
// binaries, and the lead owns package.json), so it is loaded from wherever it was installed, by path.
// The models come from bench/anchors/export_onnx.py. Prints one JSON line per model and thread count,
// shaped like /work/shared/anchors/bench_torch.py's: infer_img_s is the median of `repeats` windows
// of at least `window` seconds each of batch-`batch` inference, after a warm-up.
// --dump-optimized writes the graph ORT runs (after its fusions and layout changes) to
// DIR/<model>.opt.t<threads>.onnx. --profile instead prints the median time of each node of that
// graph from ORT's own profiler, to set beside `stride_infer.ts --kernels`.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

function parseArgs(argv) {
  const opts = {
    ort: '',
    dir: '',
    models: ['m1', 'm2'],
    threads: [2, 1],
    repeats: 3,
    window: 1,
    batch: 1000,
    spin: true,
    dumpOptimized: false,
    profile: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--ort') opts.ort = next();
    else if (arg === '--dir') opts.dir = next();
    else if (arg === '--models') opts.models = next().split(',');
    else if (arg === '--threads') opts.threads = next().split(',').map(Number);
    else if (arg === '--repeats') opts.repeats = Number(next());
    else if (arg === '--window') opts.window = Number(next());
    else if (arg === '--batch') opts.batch = Number(next());
    else if (arg === '--no-spin') opts.spin = false;
    else if (arg === '--dump-optimized') opts.dumpOptimized = true;
    else if (arg === '--profile') opts.profile = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!opts.ort || !opts.dir)
    throw new Error('usage: onnx_bench.mjs --ort PATH_TO_onnxruntime-node --dir DIR');
  return opts;
}

/** Import onnxruntime-node from a folder: resolve its package entry point, then import that file. */
async function loadOrt(path) {
  const require = createRequire(import.meta.url);
  const dir = resolve(path);
  const entry = require.resolve(dir);
  const mod = await import(pathToFileURL(entry).href);
  const ort = mod.default ?? mod;
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return { ort, version: pkg.version };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function readF32(path) {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

/**
 * ORT's output for the exporter's fixed input against PyTorch's logits for it, so a wrong export or
 * a broken session cannot produce a fast but meaningless figure. Returns the largest absolute error.
 */
async function checkAgainstTorch(ort, session, dir, name) {
  const inPath = join(dir, `${name}.check_in.f32`);
  const outPath = join(dir, `${name}.check_out.f32`);
  if (!existsSync(inPath) || !existsSync(outPath)) return null;
  const x = readF32(inPath);
  const want = readF32(outPath);
  const n = x.length / (28 * 28);
  const res = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [n, 1, 28, 28]) });
  const got = res[session.outputNames[0]].data;
  if (got.length !== want.length)
    throw new Error(`${name}: ${got.length} outputs, PyTorch gave ${want.length}`);
  let maxErr = 0;
  for (let i = 0; i < got.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
  // float32 sums over at most 14,400 terms of O(1) values: anything near 1e-3 means a real mismatch.
  if (!(maxErr < 1e-3)) throw new Error(`${name}: ORT differs from PyTorch by ${maxErr}`);
  return maxErr;
}

function sessionOptionsFor(opts, name, threads) {
  const sessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
  // ORT's pool threads busy-wait between ops by default; on a shared 2-core machine that spinning
  // takes CPU time from whatever else runs, so --no-spin measures the polite configuration too.
  if (!opts.spin) sessionOptions.extra = { session: { intra_op: { allow_spinning: '0' } } };
  if (opts.dumpOptimized)
    sessionOptions.optimizedModelFilePath = join(opts.dir, `${name}.opt.t${threads}.onnx`);
  return sessionOptions;
}

function randomFeeds(ort, session, batch) {
  const x = new Float32Array(batch * 28 * 28);
  for (let i = 0; i < x.length; i++) x[i] = Math.random();
  return { [session.inputNames[0]]: new ort.Tensor('float32', x, [batch, 1, 28, 28]) };
}

/** Best time (least disturbed by other processes) of each node over 5 × repeats runs (after 3 warm-up runs), from ORT's profiler. */
async function profileOne(ort, version, opts, name, threads) {
  const profDir = mkdtempSync(join(tmpdir(), 'ort-prof-'));
  const sessionOptions = {
    ...sessionOptionsFor(opts, name, threads),
    enableProfiling: true,
    profileFilePrefix: join(profDir, name),
  };
  const session = await ort.InferenceSession.create(join(opts.dir, `${name}.onnx`), sessionOptions);
  const feeds = randomFeeds(ort, session, opts.batch);
  const warmup = 3;
  for (let i = 0; i < warmup + opts.repeats * 5; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const file = readdirSync(profDir).find((f) => f.endsWith('.json'));
  if (!file) throw new Error(`ORT wrote no profile under ${profDir}`);
  const events = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
  rmSync(profDir, { recursive: true, force: true });
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.dur);
  const nodes = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const key = e.name.slice(0, -'_kernel_time'.length);
    if (!nodes.has(key)) nodes.set(key, { node: key, op: e.args?.op_name, us: [] });
    nodes.get(key).us.push(e.dur);
  }
  const kernels = [...nodes.values()].map((n) => ({
    node: n.node,
    op: n.op,
    ms: Math.min(...n.us.slice(warmup)) / 1000,
  }));
  return {
    peer: 'onnxruntime',
    model: name,
    threads,
    run_ms: median(runs.slice(warmup)) / 1000,
    in_kernels_ms: kernels.reduce((a, k) => a + k.ms, 0),
    kernels,
    ort: version,
  };
}

async function benchOne(ort, version, opts, name, threads) {
  const sessionOptions = sessionOptionsFor(opts, name, threads);
  const session = await ort.InferenceSession.create(join(opts.dir, `${name}.onnx`), sessionOptions);
  const maxErr = await checkAgainstTorch(ort, session, opts.dir, name);

  const feeds = randomFeeds(ort, session, opts.batch);
  // Warm-up: first runs allocate the arena, pre-pack weights and start the pool.
  const tw = performance.now();
  for (let i = 0; i < 3 || performance.now() - tw < 300; i++) await session.run(feeds);

  const rates = [];
  const cpuFrac = [];
  const perCpu = [];
  for (let r = 0; r < opts.repeats; r++) {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let dt = 0;
    while (dt < opts.window * 1000) {
      await session.run(feeds);
      n++;
      dt = performance.now() - t0;
    }
    const c = process.cpuUsage(c0);
    rates.push((n * opts.batch) / (dt / 1000));
    cpuFrac.push((c.user + c.system) / 1000 / dt);
    perCpu.push((n * opts.batch) / ((c.user + c.system) / 1e6));
  }
  await session.release();
  return {
    peer: 'onnxruntime',
    model: name,
    infer_batch: opts.batch,
    infer_img_s: median(rates),
    infer_img_s_all: rates,
    // Process CPU seconds per wall second during the windows: about `threads` when ORT spins.
    cpu_per_wall: median(cpuFrac),
    // Images per CPU second of the whole process: with 1 thread, close to the uncontended rate even
    // when other processes take turns on the core (the wall-clock rate then drops, this does not).
    infer_img_per_cpu_s: median(perCpu),
    threads,
    spin: opts.spin,
    max_abs_err_vs_torch: maxErr,
    ort: version,
    cpu: cpus()[0]?.model,
    timestamp: new Date().toISOString(),
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { ort, version } = await loadOrt(opts.ort);
  for (const threads of opts.threads) {
    for (const name of opts.models) {
      const one = opts.profile ? profileOne : benchOne;
      console.log(JSON.stringify(await one(ort, version, opts, name, threads)));
    }
  }
}

await main();
