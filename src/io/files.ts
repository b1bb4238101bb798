/**
 * safetensors files on disk (Node). Writes are atomic; every error names the file.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  SafetensorsError,
  type DecodedSafetensors,
  type DecodeOptions,
  type RawTensor,
} from './safetensors.js';

function withPath(file: string, err: unknown): Error {
  if (err instanceof SafetensorsError) {
    return new SafetensorsError(`${file}: ${err.message}`);
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.message === 'string' && e.message.includes(file)) return e;
  return new Error(`cannot read ${file}: ${e?.message ?? String(err)}`, { cause: err });
}

function toPath(file: string | URL): string {
  return typeof file === 'string' ? file : fileURLToPath(file);
}

/** Read and decode a safetensors file. */
export async function readSafetensorsFile(
  file: string | URL,
  opts: DecodeOptions = {},
): Promise<DecodedSafetensors> {
  const p = toPath(file);
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(p);
  } catch (err) {
    throw withPath(p, err);
  }
  try {
    return decodeSafetensors(bytes, opts);
  } catch (err) {
    throw withPath(p, err);
  }
}

/** Synchronous readSafetensorsFile. */
export function readSafetensorsFileSync(file: string | URL, opts: DecodeOptions = {}): DecodedSafetensors {
  const p = toPath(file);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(p);
  } catch (err) {
    throw withPath(p, err);
  }
  try {
    return decodeSafetensors(bytes, opts);
  } catch (err) {
    throw withPath(p, err);
  }
}

function encodeFor(
  p: string,
  tensors: Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  try {
    return encodeSafetensors(tensors, metadata);
  } catch (err) {
    if (err instanceof SafetensorsError) throw new SafetensorsError(`${p}: ${err.message}`);
    throw err;
  }
}

/** Encode tensors and write them to `file` atomically: on failure the old file is left as it was. */
export async function writeSafetensorsFile(
  file: string | URL,
  tensors: Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const p = toPath(file);
  await writeFileAtomic(p, encodeFor(p, tensors, metadata));
}

/** Synchronous writeSafetensorsFile. */
export function writeSafetensorsFileSync(
  file: string | URL,
  tensors: Record<string, RawTensor>,
  metadata?: Record<string, string>,
): void {
  const p = toPath(file);
  writeFileAtomicSync(p, encodeFor(p, tensors, metadata));
}
