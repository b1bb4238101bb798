/**
 * What the native test suites share: the native backend (null when the addon is not built), the
 * reason to give when skipping, and a runner that compares both of its threading paths.
 */
import assert from 'node:assert/strict';
import type { Backend, ConvGeometry, PoolGeometry } from '../../src/backend/backend.js';
import {
  createNativeBackend,
  nativeConvBlockPaths,
  nativeLoadError,
  setNativeThreads,
  type ConvBlockPaths,
} from '../../src/backend/native/index.js';

/** Test files bind it to a local `const N = native` (TypeScript narrows a local const after `if (!N)`). */
export const native: Backend | null = createNativeBackend();

export const skipMsg = (): string =>
  `native addon not available (${nativeLoadError() ?? 'unknown reason'}): run npm install`;

/** Runs the body with 1 thread and then with the full pool, so both code paths are compared. */
export function bothThreadCounts(body: (threads: string) => void): void {
  const full = native!.info().threads;
  try {
    setNativeThreads(1);
    body('1 thread');
  } finally {
    setNativeThreads(full);
  }
  body(`${full} threads`);
}

/**
 * Asserts that the native conv block runs g (and pool) on the kernels a test means to reach, so
 * that a test named for a kernel fails when its geometry stops reaching it.
 */
export function assertPaths(
  g: ConvGeometry,
  pool: PoolGeometry | null,
  want: Partial<ConvBlockPaths>,
  what: string,
): void {
  const got = nativeConvBlockPaths(g, pool)!;
  for (const [key, value] of Object.entries(want))
    assert.equal(got[key as keyof ConvBlockPaths], value, `${what}: ${key} path`);
}
