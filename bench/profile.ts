/**
 * Where a training step's time goes: `node --import tsx bench/profile.ts [--model m1|m2|both]
 * [--steps N] [--threads T] [--backend js|native] [--repeats R] [--fusion off] [--layers]`.
 *
 * Runs N Adam training steps of the benchmark models and prints, per phase (forward, loss,
 * backward, step, zeroGrad), wall and CPU time per step, split into time inside backend kernels
 * (each kernel wrapped with a timer) and the TypeScript around them; then backward time per grad
 * function, and per kernel. `--layers` adds forward time per layer, which means running the
 * layers unfused (`--fusion off` does that without the table). The machine is shared, so compare shares
 * within one run rather than absolute figures across runs; CPU time is the steadier of the two
 * when other processes compete for the cores (use --threads 1 to make it comparable to wall time).
 *
 * `--cpuprof FILE.cpuprofile` instead summarises a V8 profile (from `node --cpu-prof`) by self time.
 */
import { readFileSync } from 'node:fs';
import * as st from '../src/node.js';
import type { Backend } from '../src/backend/backend.js';
import type { GradFn } from '../src/autograd/graph.js';
import { simpleCNN, smallCNN } from './models.js';

interface Bucket {
  ms: number;
  calls: number;
}

const argv = process.argv.slice(2);
function arg(name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

// ---- .cpuprofile summary ----------------------------------------------------------------------

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

function summariseCpuProfile(file: string, top: number): void {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: CpuNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const n = byId.get(prof.samples[i]);
    const dt = prof.timeDeltas[i] ?? 0;
    if (!n) continue;
    const f = n.callFrame;
    const where = f.url
      ? `${f.url.replace(/^.*\/(src|bench|node_modules)\//, '$1/')}:${f.lineNumber + 1}:${f.columnNumber + 1}`
      : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  console.log(`self time, ${(total / 1000).toFixed(0)} ms sampled:`);
  for (const [k, us] of rows) {
    console.log(
      `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`,
    );
  }
}

// ---- instrumented training ----------------------------------------------------------------------

/** Wraps each kernel of `be` in place with a wall-clock timer; returns the buckets and an undo. */
function instrumentBackend(be: Backend): {
  kernels: Map<string, Bucket>;
  total: () => number;
  undo: () => void;
} {
  const kernels = new Map<string, Bucket>();
  const originals = new Map<string, unknown>();
  const obj = be as unknown as Record<string, (...a: unknown[]) => unknown>;
  let total = 0;
  // Every kernel the backend has (all its functions but info), so new kernels are timed too.
  for (const name of Object.keys(obj)) {
    const fn = obj[name];
    if (typeof fn !== 'function' || name === 'info') continue;
    originals.set(name, fn);
    const b: Bucket = { ms: 0, calls: 0 };
    kernels.set(name, b);
    obj[name] = (...a: unknown[]) => {
      const t0 = performance.now();
      const r = fn.apply(be, a);
      const dt = performance.now() - t0;
      b.ms += dt;
      b.calls++;
      total += dt;
      return r;
    };
  }
  return {
    kernels,
    total: () => total,
    undo: () => {
      for (const [name, fn] of originals) obj[name] = fn as (...a: unknown[]) => unknown;
    },
  };
}

function bucket(map: Map<string, Bucket>, key: string): Bucket {
  let b = map.get(key);
  if (!b) map.set(key, (b = { ms: 0, calls: 0 }));
  return b;
}

/** Wraps every grad function reachable from `root` with a timer keyed by its name. */
function instrumentGraph(root: st.Tensor, into: Map<string, Bucket>): void {
  const seen = new Set<st.Tensor>();
  const stack = [root];
  while (stack.length > 0) {
    const t = stack.pop() as st.Tensor;
    if (seen.has(t)) continue;
    seen.add(t);
    const fn = t.gradFn;
    if (fn === null) continue;
    const b = bucket(into, fn.name);
    const wrapped: GradFn = {
      name: fn.name,
      inputs: fn.inputs,
      backward(g) {
        const t0 = performance.now();
        const r = fn.backward(g);
        b.ms += performance.now() - t0;
        b.calls++;
        return r;
      },
    };
    t.gradFn = wrapped;
    for (const i of fn.inputs) stack.push(i);
  }
}

interface PhaseTimes {
  wall: number;
  cpu: number;
  kernel: number;
}

function profileModel(
  label: string,
  build: () => st.nn.Sequential,
  batch: number,
  steps: number,
  perLayer: boolean,
): void {
  st.manualSeed(0);
  const model = build();
  const optimizer = new st.optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = st.rand([batch, 1, 28, 28]);
  const y = st.randint(0, 10, [batch]);
  const plainStep = (): void => {
    optimizer.zeroGrad();
    st.F.crossEntropy(model.forward(x), y).backward();
    optimizer.step();
  };
  model.train();
  for (let i = 0; i < 3; i++) plainStep();

  // Uninstrumented throughput first: the timers below cost a little per call.
  const c0 = process.cpuUsage();
  const r0 = process.resourceUsage();
  const w0 = performance.now();
  for (let i = 0; i < steps; i++) plainStep();
  const wallPlain = performance.now() - w0;
  const cpuPlain = cpuMs(process.cpuUsage(c0));
  const r1 = process.resourceUsage();
  const faults = (r1.minorPageFault - r0.minorPageFault) / steps;

  const inst = instrumentBackend(st.getBackend());
  const layers = new Map<string, Bucket>();
  const grads = new Map<string, Bucket>();
  // Wrapping a layer's forward makes Sequential run it on its own (see nn/fusion.ts), so the
  // per-layer table is opt-in: it profiles the unfused model.
  for (const [name, m] of perLayer ? model.namedChildren() : []) {
    const inner = m.forward.bind(m);
    const b = bucket(layers, `${name} ${m.constructor.name}`);
    m.forward = (...a: st.Tensor[]) => {
      const t0 = performance.now();
      const r = inner(...a);
      b.ms += performance.now() - t0;
      b.calls++;
      return r;
    };
  }
  const phases = new Map<string, PhaseTimes>();
  const timed = <T>(phase: string, fn: () => T): T => {
    const p = phases.get(phase) ?? { wall: 0, cpu: 0, kernel: 0 };
    phases.set(phase, p);
    const k0 = inst.total();
    const c = process.cpuUsage();
    const t0 = performance.now();
    const r = fn();
    p.wall += performance.now() - t0;
    p.cpu += cpuMs(process.cpuUsage(c));
    p.kernel += inst.total() - k0;
    return r;
  };
  for (let i = 0; i < steps; i++) {
    timed('zeroGrad', () => optimizer.zeroGrad());
    const out = timed('forward', () => model.forward(x));
    const loss = timed('loss', () => st.F.crossEntropy(out, y));
    instrumentGraph(loss, grads);
    timed('backward', () => loss.backward());
    timed('step', () => optimizer.step());
  }
  inst.undo();

  const per = (ms: number): string => (ms / steps).toFixed(2).padStart(8);
  const sumWall = [...phases.values()].reduce((s, p) => s + p.wall, 0);
  console.log(
    `\n== ${label} (batch ${batch}, ${steps} steps, ${st.backendInfo().backend}, ${st.backendInfo().threads} thread(s))`,
  );
  console.log(
    `uninstrumented: ${((steps * batch) / (wallPlain / 1000)).toFixed(0)} img/s wall, ` +
      `${((steps * batch) / (cpuPlain / 1000)).toFixed(0)} img/s per CPU-second ` +
      `(${(wallPlain / steps).toFixed(2)} ms wall, ${(cpuPlain / steps).toFixed(2)} ms CPU, ` +
      `${faults.toFixed(0)} page faults per step)`,
  );
  console.log('phase        wall ms/step  CPU ms/step  kernels ms/step  TS ms/step  share of wall');
  for (const [name, p] of phases) {
    console.log(
      `  ${name.padEnd(10)} ${per(p.wall)}     ${per(p.cpu)}    ${per(p.kernel)}        ${per(p.wall - p.kernel)}   ${((100 * p.wall) / sumWall).toFixed(1).padStart(5)}%`,
    );
  }
  const kTotal = inst.total();
  console.log(
    `  total      ${per(sumWall)}                  ${per(kTotal)}        ${per(sumWall - kTotal)}   (TS ${((100 * (sumWall - kTotal)) / sumWall).toFixed(1)}%)`,
  );
  const table = (title: string, m: Map<string, Bucket>): void => {
    console.log(title);
    for (const [k, b] of [...m].filter(([, b]) => b.calls > 0).sort((a, b) => b[1].ms - a[1].ms)) {
      console.log(
        `  ${k.padEnd(24)} ${per(b.ms)} ms/step  ${(b.calls / steps).toFixed(0).padStart(3)} calls/step  ${((100 * b.ms) / sumWall).toFixed(1).padStart(5)}%`,
      );
    }
  };
  if (perLayer) table('forward by layer (kernels included; layers unfused):', layers);
  table('backward by grad function (kernels included):', grads);
  table('kernels:', inst.kernels);
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

function main(): void {
  const cpuprof = arg('cpuprof', '');
  if (cpuprof) {
    summariseCpuProfile(cpuprof, Number(arg('top', '30')));
    return;
  }
  const backend = arg('backend', st.backendInfo().backend);
  st.setBackend(backend as 'js' | 'native');
  const threads = arg('threads', '');
  if (threads) st.setNativeThreads(Number(threads));
  const model = arg('model', 'both');
  const steps = Number(arg('steps', backend === 'js' ? '3' : '20'));
  const repeats = Number(arg('repeats', '1'));
  const perLayer = argv.includes('--layers');
  if (arg('fusion', 'on') === 'off') st.nn.setFusion(false);
  for (let r = 0; r < repeats; r++) {
    if (model === 'm1' || model === 'both') profileModel('m1 SimpleCNN', simpleCNN, 128, steps, perLayer);
    if (model === 'm2' || model === 'both') profileModel('m2 SmallCNN', smallCNN, 64, steps * 4, perLayer);
  }
}

main();
