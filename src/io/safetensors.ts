/**
 * The safetensors format (https://github.com/huggingface/safetensors), encoded and decoded in plain
 * TypeScript with no Node imports, so it runs in a browser too.
 *
 * Layout: an 8-byte little-endian u64 N, then N bytes of UTF-8 JSON
 * `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {str: str}}`
 * padded with spaces to a multiple of 8, then the data section: every tensor's row-major little-endian
 * bytes, back to back, with offsets relative to the start of the data section.
 *
 * The decoder validates as strictly as the reference (Rust) implementation: every malformed file is a
 * `SafetensorsError` that names the tensor at fault, and nothing is allocated before its size has been
 * checked against the file's length.
 */

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/**
 * The typed array that holds a tensor's elements in memory. Per dtype:
 * - F32: Float32Array
 * - F64: Float64Array, or Float32Array (widened when encoding; what `floatsToF32` decodes to)
 * - F16, BF16: Uint16Array of raw bits, or Float32Array (rounded to nearest even when encoding)
 * - I64: Int32Array (the default when decoding: range-checked) or BigInt64Array
 * - I32: Int32Array; I16: Int16Array; I8: Int8Array; U8 and BOOL: Uint8Array
 */
export type RawData =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array
  | BigInt64Array;

/**
 * One tensor as stored in a file. `dtype` is always the dtype in the file; `data` is its in-memory form
 * (see RawData), so a decoded tensor encodes back to the same bytes.
 */
export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: RawData;
}

export interface DecodeOptions {
  /** Decode F64, F16 and BF16 tensors into Float32Array data (dtype still says what the file holds). */
  floatsToF32?: boolean;
  /**
   * How to hold I64 tensors: 'int32' (default) gives an Int32Array and throws if a value does not fit;
   * 'bigint' gives a BigInt64Array.
   */
  int64?: 'int32' | 'bigint';
  /** Largest header accepted, in bytes. Default 100 MB, the Rust crate's limit. */
  maxHeaderBytes?: number;
}

export interface DecodedSafetensors {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

/** A malformed safetensors file, or tensors that cannot be written as one. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

/** Bytes per element of each dtype. */
export const DTYPE_SIZE: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  I64: 8,
  F32: 4,
  I32: 4,
  F16: 2,
  BF16: 2,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** The Rust crate's order of dtypes, used (descending) to sort tensors when writing, as it does. */
const DTYPE_RANK: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  I16: 3,
  F16: 4,
  BF16: 5,
  I32: 6,
  F32: 7,
  F64: 8,
  I64: 9,
};

export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** Set an own property, even one named `__proto__` (which plain assignment would treat specially). */
function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export function isSafetensorsDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, s);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverse the byte order of each `size`-byte element in place (only on big-endian hosts). */
function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Half-precision conversions

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE binary16 bits to a number. */
export function f16BitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A number to IEEE binary16 bits, rounding the float32 value to nearest, ties to even. */
export function floatToF16Bits(x: number): number {
  f32Scratch[0] = x;
  const f = u32Scratch[0]!;
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  const mant = f & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to infinity
  if (e <= 0) {
    // subnormal half (or zero): value = m * 2^-24 with m = (1.mant) * 2^(exp-127+24)
    if (e < -10) return sign; // below half the smallest subnormal: rounds to zero
    const m = mant | 0x800000;
    const shift = 14 - e; // 24-bit significand down to the subnormal's bits
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent: still correct
  return sign | h;
}

/** bfloat16 bits to a number. */
export function bf16BitsToFloat(h: number): number {
  u32Scratch[0] = (h & 0xffff) << 16;
  return f32Scratch[0]!;
}

/** A number to bfloat16 bits, rounding the float32 value to nearest, ties to even. */
export function floatToBf16Bits(x: number): number {
  f32Scratch[0] = x;
  const f = u32Scratch[0]!;
  if ((f & 0x7f800000) === 0x7f800000 && f & 0x7fffff) return ((f >>> 16) | 0x40) & 0xffff; // quiet NaN
  const rounded = f + 0x7fff + ((f >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

// ---------------------------------------------------------------------------------------------------
// Encoding

function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function describeArray(data: unknown): string {
  if (data === null || typeof data !== 'object') return typeof data;
  return (data as object).constructor?.name ?? 'object';
}

/** The little-endian bytes of one tensor's elements in `dtype`. */
function tensorBytes(name: string, t: RawTensor): Uint8Array {
  const { dtype, data } = t;
  const n = data.length;
  const wrong = (): never => {
    throw new SafetensorsError(
      `tensor '${name}': dtype ${dtype} cannot be written from a ${describeArray(data)}`,
    );
  };
  let out: ArrayBufferView;
  switch (dtype) {
    case 'F32':
      if (!(data instanceof Float32Array)) wrong();
      out = data;
      break;
    case 'F64':
      if (data instanceof Float64Array) out = data;
      else if (data instanceof Float32Array) out = Float64Array.from(data);
      else return wrong();
      break;
    case 'F16':
    case 'BF16':
      if (data instanceof Uint16Array) out = data;
      else if (data instanceof Float32Array) {
        const conv = dtype === 'F16' ? floatToF16Bits : floatToBf16Bits;
        const h = new Uint16Array(n);
        for (let i = 0; i < n; i++) h[i] = conv(data[i]!);
        out = h;
      } else return wrong();
      break;
    case 'I64':
      if (data instanceof BigInt64Array) out = data;
      else if (data instanceof Int32Array) {
        const b = new BigInt64Array(n);
        for (let i = 0; i < n; i++) b[i] = BigInt(data[i]!);
        out = b;
      } else return wrong();
      break;
    case 'I32':
      if (!(data instanceof Int32Array)) wrong();
      out = data;
      break;
    case 'I16':
      if (!(data instanceof Int16Array)) wrong();
      out = data;
      break;
    case 'I8':
      if (!(data instanceof Int8Array)) wrong();
      out = data;
      break;
    case 'U8':
    case 'BOOL':
      if (!(data instanceof Uint8Array)) wrong();
      if (dtype === 'BOOL') {
        for (let i = 0; i < n; i++) {
          if (data[i]! > 1)
            throw new SafetensorsError(`tensor '${name}': BOOL value ${data[i]} at ${i} is not 0 or 1`);
        }
      }
      out = data;
      break;
    default:
      throw new SafetensorsError(`tensor '${name}': unknown dtype ${String(dtype)}`);
  }
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const copy = bytes.slice();
  swapBytes(copy, DTYPE_SIZE[dtype]);
  return copy;
}

function checkShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(
      `tensor '${name}': shape must be a list of non-negative integers, got ${safeJson(shape)}`,
    );
  }
  return shape as number[];
}

/**
 * Encode tensors (and optional string metadata) as a safetensors file. Tensors are laid out as the
 * reference implementation does: by dtype, widest first, then by name, so every tensor's offset is a
 * multiple of its element size.
 */
export function encodeSafetensors(
  tensors: Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = Object.entries(tensors);
  const parts: { name: string; dtype: SafetensorsDtype; shape: number[]; bytes: Uint8Array }[] = [];
  for (const [name, t] of entries) {
    if (name === METADATA_KEY) throw new SafetensorsError(`a tensor cannot be named '${METADATA_KEY}'`);
    if (t === null || typeof t !== 'object') throw new SafetensorsError(`tensor '${name}': not a tensor`);
    if (!isSafetensorsDtype(t.dtype)) {
      throw new SafetensorsError(
        `tensor '${name}': unknown dtype ${safeJson(t.dtype)} (expected one of ${Object.keys(DTYPE_SIZE).join(', ')})`,
      );
    }
    const shape = checkShape(name, t.shape);
    const numel = numelOf(shape);
    if (!t.data || t.data.length !== numel) {
      throw new SafetensorsError(
        `tensor '${name}': shape [${shape.join(', ')}] has ${numel} elements but data has ${t.data?.length}`,
      );
    }
    parts.push({ name, dtype: t.dtype, shape: [...shape], bytes: tensorBytes(name, t) });
  }
  parts.sort(
    (a, b) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new SafetensorsError(`metadata '${k}': values must be strings, got ${typeof v}`);
      }
    }
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(metadata)) setOwn(meta, k, v);
    header[METADATA_KEY] = meta;
  }
  let offset = 0;
  for (const p of parts) {
    const end = offset + p.bytes.length;
    setOwn(header, p.name, { dtype: p.dtype, shape: p.shape, data_offsets: [offset, end] });
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLen, true);
  view.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const p of parts) {
    out.set(p.bytes, pos);
    pos += p.bytes.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Decoding

function safeJson(v: unknown): string {
  try {
    const s = JSON.stringify(v);
    if (s === undefined) return String(v);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(v);
  }
}

interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, info: unknown, dataLen: number): Entry {
  if (info === null || typeof info !== 'object' || Array.isArray(info)) {
    throw new SafetensorsError(`tensor '${name}': header entry must be an object, got ${safeJson(info)}`);
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (!isSafetensorsDtype(dtype)) {
    throw new SafetensorsError(
      `tensor '${name}': unknown dtype ${safeJson(dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`,
    );
  }
  checkShape(name, shape);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new SafetensorsError(
      `tensor '${name}': data_offsets must be two non-negative integers [begin, end], got ${safeJson(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) {
    throw new SafetensorsError(`tensor '${name}': data_offsets [${begin}, ${end}] end before they begin`);
  }
  if (end > dataLen) {
    throw new SafetensorsError(
      `tensor '${name}': data_offsets [${begin}, ${end}] run past the end of the data section (${dataLen} bytes)`,
    );
  }
  const shp = shape as number[];
  const expected = numelOf(shp) * DTYPE_SIZE[dtype];
  if (expected !== end - begin) {
    throw new SafetensorsError(
      `tensor '${name}': ${dtype} shape [${shp.join(', ')}] needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape: [...shp], begin, end };
}

/** Copy a tensor's bytes into a fresh, aligned typed array of the requested in-memory form. */
function readData(e: Entry, data: Uint8Array, opts: DecodeOptions): RawData {
  const size = DTYPE_SIZE[e.dtype];
  const n = (e.end - e.begin) / size;
  // A copy with its own, aligned buffer. (Not data.slice(): on a Node Buffer that is a view, not a copy.)
  const bytes = new Uint8Array(e.end - e.begin);
  bytes.set(data.subarray(e.begin, e.end));
  if (!LITTLE_ENDIAN) swapBytes(bytes, size);
  const buf = bytes.buffer;
  switch (e.dtype) {
    case 'F32':
      return new Float32Array(buf, 0, n);
    case 'F64':
      return opts.floatsToF32 ? Float32Array.from(new Float64Array(buf, 0, n)) : new Float64Array(buf, 0, n);
    case 'F16':
    case 'BF16': {
      const h = new Uint16Array(buf, 0, n);
      if (!opts.floatsToF32) return h;
      const conv = e.dtype === 'F16' ? f16BitsToFloat : bf16BitsToFloat;
      const f = new Float32Array(n);
      for (let i = 0; i < n; i++) f[i] = conv(h[i]!);
      return f;
    }
    case 'I64': {
      const b = new BigInt64Array(buf, 0, n);
      if (opts.int64 === 'bigint') return b;
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = b[i]!;
        if (v > 2147483647n || v < -2147483648n) {
          throw new SafetensorsError(
            `tensor '${e.name}': I64 value ${v} at index ${i} does not fit in int32 (decode with int64: 'bigint')`,
          );
        }
        out[i] = Number(v);
      }
      return out;
    }
    case 'I32':
      return new Int32Array(buf, 0, n);
    case 'I16':
      return new Int16Array(buf, 0, n);
    case 'I8':
      return new Int8Array(buf, 0, n);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buf, 0, n);
  }
}

/** Read just the header of a safetensors file: the JSON object and where the data section starts. */
export function readSafetensorsHeader(
  bytes: Uint8Array,
  opts: Pick<DecodeOptions, 'maxHeaderBytes'> = {},
): { header: Record<string, unknown>; dataStart: number } {
  if (!(bytes instanceof Uint8Array)) {
    throw new SafetensorsError(`expected the file's bytes as a Uint8Array, got ${describeArray(bytes)}`);
  }
  if (bytes.length < 8) {
    throw new SafetensorsError(
      `file is ${bytes.length} bytes, too short for the 8-byte header length of a safetensors file`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const n = hi * 2 ** 32 + lo; // exact up to 2^53; beyond that it is far over any limit anyway
  const max = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (n > max) {
    throw new SafetensorsError(`header length ${n} bytes exceeds the limit of ${max} bytes`);
  }
  if (8 + n > bytes.length) {
    throw new SafetensorsError(
      `header length ${n} bytes runs past the end of the file (${bytes.length} bytes in all)`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) {
    throw new SafetensorsError(`header is not a JSON object: it starts with ${safeJson(text.slice(0, 20))}`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(`header is not valid JSON: ${(err as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new SafetensorsError('header is not a JSON object');
  }
  return { header: header as Record<string, unknown>, dataStart: 8 + n };
}

/**
 * Decode a safetensors file. Throws SafetensorsError, naming the tensor, for any malformed header,
 * any tensor whose offsets disagree with its dtype and shape, and for overlaps, gaps or trailing bytes
 * in the data section.
 */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedSafetensors {
  const { header, dataStart } = readSafetensorsHeader(bytes, opts);
  const data = bytes.subarray(dataStart);
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) {
        throw new SafetensorsError(`__metadata__ must be an object of strings, got ${safeJson(info)}`);
      }
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') {
          throw new SafetensorsError(`__metadata__ '${k}' must be a string, got ${safeJson(v)}`);
        }
        setOwn(metadata, k, v);
      }
      continue;
    }
    entries.push(parseEntry(name, info, data.length));
  }

  // The tensors must tile the data section exactly: no overlap, no gap, nothing after the last one.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < pos) {
      throw new SafetensorsError(
        `tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap tensor '${prev!.name}' [${prev!.begin}, ${prev!.end}]`,
      );
    }
    if (e.begin > pos) {
      throw new SafetensorsError(
        `tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] leave a gap of ${e.begin - pos} bytes ` +
          (prev ? `after tensor '${prev.name}'` : 'at the start of the data section'),
      );
    }
    pos = e.end;
    prev = e;
  }
  if (pos !== data.length) {
    throw new SafetensorsError(
      `data section has ${data.length - pos} trailing bytes after the last tensor` +
        (prev ? ` ('${prev.name}', ending at ${pos})` : '') +
        ` (the data section is ${data.length} bytes)`,
    );
  }

  const tensors: Record<string, RawTensor> = {};
  for (const e of entries) {
    setOwn(tensors, e.name, { dtype: e.dtype, shape: e.shape, data: readData(e, data, opts) });
  }
  return { tensors, metadata };
}
