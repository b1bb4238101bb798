/**
 * What every example shares: its command line (--quick, --out, --data, --epochs, --part), greppable
 * checks (`check: <what> ✓`) and an exit code that says whether they all held. The test suite runs
 * each example with --quick and reads these lines, so the wording of a check is part of its contract.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface ExampleArgs {
  /** A few hundred samples, seconds of work: what the test suite runs. */
  quick: boolean;
  /** Where PNGs and other outputs go (created). Default runs/examples/<name>/. */
  out: string;
  /** A data folder given by the user (cats-vs-dogs, colourisation). */
  data?: string;
  /** Overrides the example's epoch count. */
  epochs?: number;
  /** Selected parts (course-report); empty = all. */
  parts: string[];
  seed: number;
}

const USAGE = `options:
  --quick          a few hundred samples, a few seconds (what the tests run)
  --out DIR        where images go (default runs/examples/<name>)
  --data DIR       a real image folder instead of the generated one
  --epochs N       override the number of epochs
  --part NAME      run only this part (repeatable; course-report)
  --seed N         random seed (default 42)`;

export function exampleArgs(name: string, argv = process.argv.slice(2)): ExampleArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        out: { type: 'string' },
        data: { type: 'string' },
        epochs: { type: 'string' },
        part: { type: 'string', multiple: true },
        seed: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    console.error(`${name}: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(`usage: npx tsx examples/${name}.ts [options]\n${USAGE}`);
    process.exit(0);
  }
  const out = resolve(values.out ?? join('runs', 'examples', name));
  mkdirSync(out, { recursive: true });
  const int = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) {
      console.error(`${name}: --${flag} must be a non-negative integer, got '${v}'`);
      process.exit(2);
    }
    return n;
  };
  return {
    quick: values.quick,
    out,
    data: values.data,
    epochs: int('epochs', values.epochs),
    parts: values.part ?? [],
    seed: int('seed', values.seed) ?? 42,
  };
}

let failures = 0;

/** Prints `check: <what> ✓` or `check: <what> ✗ (<detail>)` and remembers failures for finish(). */
export function check(what: string, ok: boolean, detail = ''): boolean {
  if (ok) console.log(`check: ${what} ✓${detail ? ` (${detail})` : ''}`);
  else {
    failures++;
    console.log(`check: ${what} ✗${detail ? ` (${detail})` : ''}`);
  }
  return ok;
}

/** A measured figure (the README's examples table): `result: <key> = <value>`. */
export function result(key: string, value: string | number): void {
  console.log(`result: ${key} = ${value}`);
}

/** Ends the example: exit code 1 when any check failed. */
export function finish(name: string): void {
  if (failures > 0) {
    console.log(`${name}: ${failures} check(s) failed`);
    process.exitCode = 1;
  } else console.log(`${name}: all checks passed`);
}

export function section(title: string): void {
  console.log(`\n## ${title}`);
}

/** Seconds since `t0` (performance.now()), to one decimal. */
export function secondsSince(t0: number): number {
  return Math.round((performance.now() - t0) / 100) / 10;
}

/** Whether every value is finite and each later value is below the first (training is moving). */
export function wentDown(values: readonly number[]): boolean {
  return values.length >= 2 && values.every(Number.isFinite) && values[values.length - 1] < values[0];
}
