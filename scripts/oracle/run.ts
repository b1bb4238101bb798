/**
 * runOracle: every case of every *.json file in a directory, on every backend, through the
 * registered handlers. A `X.safetensors.json` file is a companion, not a case list: it becomes one
 * case of op 'safetensors' (its fields plus `safetensorsFile`), handled by the io handler.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Tensor } from '../../src/tensor/tensor.js';
import { availableBackends, getBackend, setBackend, type BackendName } from '../../src/backend/index.js';
import {
  DEFAULT_TOLERANCE,
  getHandler,
  isOracleTensor,
  type CaseResult,
  type Mismatch,
  type OracleCase,
  type OracleContext,
  type OracleTensor,
  type Tolerance,
} from './registry.js';
import './handlers.js';

export interface RunOptions {
  /** Backends to run on (default: every available one). */
  backends?: BackendName[];
  /** Only cases whose "file/name" or op contains this string (or matches this RegExp). */
  filter?: string | RegExp;
  /** Only these files (base names, e.g. 'conv.json'). */
  files?: string[];
}

export interface OracleFile {
  file: string;
  cases: OracleCase[];
}

/** Tries to make the native backend available (the Node entry registers it when it exists). */
export async function registerNative(): Promise<void> {
  try {
    await import('../../src/node.js' as string);
    return;
  } catch {
    // no Node entry yet
  }
  try {
    const idx = await import('../../src/backend/index.js');
    const nat = (await import('../../src/backend/native/index.js' as string)) as {
      createNativeBackend?: () => ReturnType<typeof getBackend> | null;
    };
    if (nat.createNativeBackend) idx.registerBackend('native', nat.createNativeBackend);
  } catch {
    // no native backend in this checkout
  }
}

/** Reads the case lists (and companions) of a directory, sorted by file name. */
export function loadOracleDir(dir: string, files?: string[]): OracleFile[] {
  const out: OracleFile[] = [];
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .filter((f) => !files || files.includes(f))
    .sort();
  for (const f of names) {
    const path = resolve(dir, f);
    const json = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (f.endsWith('.safetensors.json')) {
      const companion = json as Record<string, unknown>;
      out.push({
        file: path,
        cases: [
          {
            ...companion,
            name: basename(f, '.json'),
            op: 'safetensors',
            safetensorsFile: join(dir, basename(f, '.json')),
          },
        ],
      });
      continue;
    }
    const cases = Array.isArray(json) ? json : (json as { cases?: unknown }).cases;
    if (!Array.isArray(cases)) throw new Error(`oracle: ${path} has no "cases" list`);
    out.push({ file: path, cases: cases as OracleCase[] });
  }
  return out;
}

function dataOf(v: Tensor | ArrayLike<number> | number): ArrayLike<number> {
  if (typeof v === 'number') return [v];
  if (v instanceof Tensor) return v.data;
  return v;
}

function expectedData(e: OracleTensor | number): number[] {
  if (typeof e === 'number') return [e];
  return e.data.map((v) => (typeof v === 'number' ? v : v === null ? NaN : Number(v)));
}

function shapeCheck(what: string, actual: unknown, expected: OracleTensor | number): Mismatch | null {
  const eShape = typeof expected === 'number' ? null : expected.shape;
  if (eShape && actual instanceof Tensor && actual.shape.join() !== eShape.join()) {
    return { tensor: what, message: `shape [${actual.shape}] but expected [${eShape}]` };
  }
  const n = typeof expected === 'number' ? 1 : expected.data.length;
  const m = dataOf(actual as Tensor).length;
  if (m !== n) return { tensor: what, message: `${m} elements but expected ${n}` };
  return null;
}

/** Max abs/rel error and the first index outside atol + rtol·|expected| (NaN matches NaN). */
export function compareData(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Required<Tolerance>,
): Mismatch | null {
  let maxAbs = 0;
  let maxRel = 0;
  let first = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    const abs = Math.abs(a - e);
    const rel = abs / Math.max(Math.abs(e), 1e-30);
    if (!(abs <= maxAbs)) maxAbs = abs;
    if (!(rel <= maxRel)) maxRel = rel;
    if (first < 0 && !(abs <= tol.atol + tol.rtol * Math.abs(e))) first = i;
  }
  if (first < 0) return null;
  return {
    tensor: what,
    maxAbs,
    maxRel,
    index: first,
    message: `max abs error ${maxAbs.toExponential(2)}, max rel error ${maxRel.toExponential(2)}, first mismatch at [${first}]: ${actual[first]} vs ${expected[first]}`,
  };
}

function makeContext(backend: BackendName, file: string, mismatches: Mismatch[]): OracleContext {
  // Missing, wrong shape, or values outside tol (reported with `prefix` before the message).
  type Args = Parameters<OracleContext['expectExact']>;
  const check = (
    what: string,
    actual: Args[1],
    expected: Args[2],
    tol: Required<Tolerance>,
    prefix = '',
  ): void => {
    if (actual === null || actual === undefined) {
      mismatches.push({ tensor: what, message: 'missing (null)' });
      return;
    }
    const bad = shapeCheck(what, actual, expected);
    if (bad) {
      mismatches.push(bad);
      return;
    }
    const m = compareData(what, dataOf(actual), expectedData(expected), tol);
    if (m) mismatches.push({ ...m, message: prefix + m.message });
  };
  return {
    backend,
    file,
    expectClose(what, actual, expected, tol = {}) {
      check(what, actual, expected, { ...DEFAULT_TOLERANCE, ...tol });
    },
    expectExact(what, actual, expected) {
      check(what, actual, expected, { rtol: 0, atol: 0 }, 'not exact: ');
    },
    fail(what, message) {
      mismatches.push({ tensor: what, message });
    },
  };
}

function matches(filter: string | RegExp | undefined, file: string, c: OracleCase): boolean {
  if (filter === undefined) return true;
  const key = `${basename(file)}/${c.name}`;
  if (typeof filter === 'string') return key.includes(filter) || c.op === filter;
  return filter.test(key) || filter.test(c.op);
}

/** Runs one case on the current backend. */
export async function runCase(c: OracleCase, file: string, backend: BackendName): Promise<CaseResult> {
  const mismatches: Mismatch[] = [];
  const handler = getHandler(c.op);
  if (!handler) {
    mismatches.push({ tensor: c.op, message: `unknown op '${c.op}' (no handler registered)` });
  } else {
    try {
      await handler(c, makeContext(backend, file, mismatches));
    } catch (err) {
      mismatches.push({ tensor: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  }
  return {
    file: basename(file),
    name: c.name,
    op: c.op,
    backend,
    passed: mismatches.length === 0,
    mismatches,
  };
}

/** Runs every matching case on every requested backend; results in file, case, backend order. */
export async function runOracle(dir: string, options: RunOptions = {}): Promise<CaseResult[]> {
  await registerNative();
  const backends = options.backends ?? availableBackends();
  const previous = getBackend().name;
  const results: CaseResult[] = [];
  try {
    for (const { file, cases } of loadOracleDir(dir, options.files)) {
      for (const c of cases) {
        if (!matches(options.filter, file, c)) continue;
        for (const b of backends) {
          setBackend(b);
          results.push(await runCase(c, file, b));
        }
      }
    }
  } finally {
    setBackend(previous);
  }
  return results;
}

/** One line per failed tensor: backend, case, tensor, errors, first mismatching index. */
export function formatFailure(r: CaseResult): string[] {
  return r.mismatches.map((m) => `FAIL [${r.backend}] ${r.file}/${r.name}: ${m.tensor}: ${m.message}`);
}

export { isOracleTensor };
