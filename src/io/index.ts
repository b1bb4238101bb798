/**
 * Saving and loading (Node): state dicts as PyTorch-compatible safetensors files, and whole training
 * checkpoints. Writes are atomic; every error names the file.
 *
 *   await save(model.stateDict(), 'model.safetensors');   // or save(model, ...)
 *   model.loadStateDict(await load('model.safetensors'));
 *   await saveCheckpoint('ckpt.safetensors', { model, optimizer, scheduler, epoch, history, rng });
 *   const ckpt = await loadCheckpoint('ckpt.safetensors', { model, optimizer, scheduler, rng });
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import type { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';
import { SafetensorsError } from './safetensors.js';
import {
  decodeCheckpoint,
  decodeStateDict,
  encodeCheckpoint,
  encodeStateDict,
  restoreCheckpoint,
  type Checkpoint,
  type CheckpointState,
  type RestoreTargets,
} from './state.js';

export * from './safetensors.js';
export * from './state.js';
export { AtomicWriteError, writeFileAtomic, writeFileAtomicSync } from './atomic.js';
export {
  readSafetensorsFile,
  readSafetensorsFileSync,
  writeSafetensorsFile,
  writeSafetensorsFileSync,
} from './files.js';

export interface SaveOptions {
  /** Extra `__metadata__` strings (`format: 'pt'` is added unless given). */
  metadata?: Record<string, string>;
}

type StateDictSource = Record<string, Tensor> | { stateDict(): Record<string, unknown> };

function toPath(file: string | URL): string {
  return typeof file === 'string' ? file : fileURLToPath(file);
}

/** Errors from decoding or encoding, with the file's path in front. */
function named<T>(p: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SafetensorsError) throw new SafetensorsError(`${p}: ${err.message}`);
    throw err;
  }
}

async function readBytes(p: string): Promise<Uint8Array> {
  try {
    return await fsp.readFile(p);
  } catch (err) {
    throw new Error(`cannot read ${p}: ${(err as Error).message}`, { cause: err });
  }
}

function readBytesSync(p: string): Uint8Array {
  try {
    return fs.readFileSync(p);
  } catch (err) {
    throw new Error(`cannot read ${p}: ${(err as Error).message}`, { cause: err });
  }
}

/** Save a state dict (or a Module's) as a safetensors file PyTorch can load. */
export async function save(
  stateDict: StateDictSource,
  file: string | URL,
  options: SaveOptions = {},
): Promise<void> {
  const p = toPath(file);
  await writeFileAtomic(
    p,
    named(p, () => encodeStateDict(stateDict, options.metadata)),
  );
}

export function saveSync(stateDict: StateDictSource, file: string | URL, options: SaveOptions = {}): void {
  const p = toPath(file);
  writeFileAtomicSync(
    p,
    named(p, () => encodeStateDict(stateDict, options.metadata)),
  );
}

/** Load a safetensors state dict: floating tensors as float32, integer ones (int64 too) as int32. */
export async function load(file: string | URL): Promise<Record<string, Tensor>> {
  const p = toPath(file);
  const bytes = await readBytes(p);
  return named(p, () => decodeStateDict(bytes).stateDict);
}

export function loadSync(file: string | URL): Record<string, Tensor> {
  const p = toPath(file);
  const bytes = readBytesSync(p);
  return named(p, () => decodeStateDict(bytes).stateDict);
}

/** load(), with the file's `__metadata__` too. */
export async function loadWithMetadata(
  file: string | URL,
): Promise<{ stateDict: Record<string, Tensor>; metadata: Record<string, string> }> {
  const p = toPath(file);
  const bytes = await readBytes(p);
  return named(p, () => decodeStateDict(bytes));
}

/** Save model, optimizer, scheduler, epoch, history and random state in one safetensors file, atomically. */
export async function saveCheckpoint(file: string | URL, state: CheckpointState): Promise<void> {
  const p = toPath(file);
  await writeFileAtomic(
    p,
    named(p, () => encodeCheckpoint(state)),
  );
}

export function saveCheckpointSync(file: string | URL, state: CheckpointState): void {
  const p = toPath(file);
  writeFileAtomicSync(
    p,
    named(p, () => encodeCheckpoint(state)),
  );
}

/**
 * Load a checkpoint. With `into`, also restore the state into the given model, optimizer, scheduler
 * and generator (each through its loadStateDict/setState). Returns the decoded checkpoint, whose
 * `epoch` is the last one completed.
 */
export async function loadCheckpoint(file: string | URL, into?: RestoreTargets): Promise<Checkpoint> {
  const p = toPath(file);
  const bytes = await readBytes(p);
  return named(p, () => {
    const ckpt = decodeCheckpoint(bytes);
    if (into) restoreCheckpoint(ckpt, into);
    return ckpt;
  });
}

export function loadCheckpointSync(file: string | URL, into?: RestoreTargets): Checkpoint {
  const p = toPath(file);
  const bytes = readBytesSync(p);
  return named(p, () => {
    const ckpt = decodeCheckpoint(bytes);
    if (into) restoreCheckpoint(ckpt, into);
    return ckpt;
  });
}
export * from './architecture.js';
