/**
 * The usual shape of an op case — build inputs, run forward, compare the output(s), backward
 * with gradOutput, compare every listed gradient — as one helper any handler file can use.
 */
import type { Tensor } from '../../src/tensor/tensor.js';
import { toTensor, type OracleCase, type OracleContext, type Tolerance } from './registry.js';

export type Inputs = Record<string, Tensor | null>;
export type ForwardResult = Tensor | Record<string, Tensor>;

export interface StandardTolerance {
  output?: Tolerance;
  grads?: Tolerance;
}

/** The case's inputs as Tensors: int data → int32; float → float32, requiring grad when the case lists its gradient. */
export function buildInputs(c: OracleCase): Inputs {
  const out: Inputs = {};
  for (const [key, t] of Object.entries(c.inputs ?? {})) {
    out[key] = t === null ? null : toTensor(t, t.dtype !== 'int' && c.grads !== undefined && key in c.grads);
  }
  return out;
}

function isTensorLike(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'shape' in v && 'data' in v && 'dtype' in v;
}

function compareOne(
  ctx: OracleContext,
  what: string,
  actual: Tensor | undefined,
  c: OracleCase,
  key: 'output' | string,
  tol?: Tolerance,
): void {
  const expected = key === 'output' && c.output ? c.output : c.outputs?.[key];
  if (!expected) return;
  if (!actual) {
    ctx.fail(what, 'the op returned no such output');
    return;
  }
  if (expected.dtype === 'int') {
    if (actual.dtype !== 'int32') ctx.fail(what, `expected an int32 tensor, got ${actual.dtype}`);
    ctx.expectExact(what, actual, expected);
  } else ctx.expectClose(what, actual, expected, tol);
}

/** Runs a standard forward/backward case through `forward`; returns the inputs (for extra checks). */
export function runStandard(
  c: OracleCase,
  ctx: OracleContext,
  forward: (inputs: Inputs, args: Record<string, unknown>) => ForwardResult,
  tol: StandardTolerance = {},
): Inputs {
  const inputs = buildInputs(c);
  const result = forward(inputs, c.args ?? {});
  let main: Tensor | undefined;
  if (isTensorLike(result)) {
    main = result;
    compareOne(ctx, 'output', result, c, 'output', tol.output);
  } else {
    main = result.output;
    if (c.output) compareOne(ctx, 'output', result.output, c, 'output', tol.output);
    for (const key of Object.keys(c.outputs ?? {})) compareOne(ctx, key, result[key], c, key, tol.output);
  }
  if (c.gradOutput && c.grads && Object.keys(c.grads).length > 0) {
    if (!main || !main.requiresGrad) {
      ctx.fail('backward', 'the output does not require grad (no gradient recorded)');
      return inputs;
    }
    main.backward(toTensor(c.gradOutput));
    for (const [key, expected] of Object.entries(c.grads)) {
      const t = inputs[key];
      if (!t) {
        ctx.fail(`grad ${key}`, 'no such input');
        continue;
      }
      ctx.expectClose(`grad ${key}`, t.grad ?? new Float32Array(t.numel()), expected, tol.grads);
    }
  }
  return inputs;
}
