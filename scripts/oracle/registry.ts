/**
 * The oracle runner's registry: op name → handler. A handler runs one PyTorch reference case on
 * the current backend and reports mismatches through the context; it never decides pass/fail
 * itself, so every handler reports the same way. Engineers add handlers in their own files
 * (ops.ts, optim.ts, model.ts, io.ts), all imported by handlers.ts.
 */
import { Tensor } from '../../src/tensor/tensor.js';
import type { BackendName } from '../../src/backend/index.js';

/** A tensor as the oracle files store it. */
export interface OracleTensor {
  shape: number[];
  data: (number | string | null)[];
  dtype?: 'int';
}

export interface OracleCase {
  name: string;
  op: string;
  args?: Record<string, unknown> | null;
  inputs?: Record<string, OracleTensor | null>;
  output?: OracleTensor;
  outputs?: Record<string, OracleTensor>;
  gradOutput?: OracleTensor;
  grads?: Record<string, OracleTensor>;
  [key: string]: unknown;
}

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

export const DEFAULT_TOLERANCE: Required<Tolerance> = { rtol: 1e-4, atol: 1e-5 };

/** One mismatching tensor (or a failure that is not about a tensor: then only `message`). */
export interface Mismatch {
  tensor: string;
  message: string;
  maxAbs?: number;
  maxRel?: number;
  index?: number;
}

export interface CaseResult {
  file: string;
  name: string;
  op: string;
  backend: BackendName;
  passed: boolean;
  mismatches: Mismatch[];
}

export interface OracleContext {
  backend: BackendName;
  /** Absolute path of the case's file (handlers of companion files find their data next to it). */
  file: string;
  /** Compares a float tensor (or plain numbers) with the oracle's, within tolerance. */
  expectClose(
    what: string,
    actual: Tensor | ArrayLike<number> | number | null | undefined,
    expected: OracleTensor | number,
    tol?: Tolerance,
  ): void;
  /** Integer outputs (indices, argmax) and the worked example: exact equality. */
  expectExact(
    what: string,
    actual: Tensor | ArrayLike<number> | number | null | undefined,
    expected: OracleTensor | number,
  ): void;
  /** Records a failure that is not a numeric mismatch. */
  fail(what: string, message: string): void;
}

export type Handler = (c: OracleCase, ctx: OracleContext) => void | Promise<void>;

const handlers = new Map<string, Handler>();

export function registerHandler(op: string, handler: Handler): void {
  handlers.set(op, handler);
}

export function getHandler(op: string): Handler | undefined {
  return handlers.get(op);
}

export function registeredOps(): string[] {
  return [...handlers.keys()].sort();
}

/** A handler for ops that are planned but not written yet: always a failure, never a skip. */
export function notImplemented(op: string): Handler {
  return (_c, ctx) => ctx.fail(op, 'not implemented yet');
}

// ---- oracle tensors --------------------------------------------------------------------------

function num(v: number | string | null): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN' || v === 'nan' || v === null) return NaN;
  if (v === 'Infinity' || v === 'inf') return Infinity;
  if (v === '-Infinity' || v === '-inf') return -Infinity;
  return Number(v);
}

/** An oracle tensor as a library Tensor: int32 for integer data, float32 otherwise. */
export function toTensor(t: OracleTensor, requiresGrad = false): Tensor {
  if (t.dtype === 'int') return new Tensor(Int32Array.from(t.data, num), t.shape);
  return new Tensor(Float32Array.from(t.data, num), t.shape, requiresGrad);
}

export function isOracleTensor(v: unknown): v is OracleTensor {
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray((v as OracleTensor).shape) &&
    Array.isArray((v as OracleTensor).data)
  );
}
