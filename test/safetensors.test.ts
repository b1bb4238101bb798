import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { AtomicWriteError, writeFileAtomic, writeFileAtomicSync } from '../src/io/atomic.js';
import {
  readSafetensorsFile,
  readSafetensorsFileSync,
  writeSafetensorsFile,
  writeSafetensorsFileSync,
} from '../src/io/files.js';
import {
  bf16BitsToFloat,
  decodeSafetensors,
  encodeSafetensors,
  f16BitsToFloat,
  floatToBf16Bits,
  floatToF16Bits,
  SafetensorsError,
  type RawTensor,
} from '../src/io/safetensors.js';

const ORACLE = new URL('../../shared/oracle/', import.meta.url);

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'stride-io-'));
}

/** Build a file from a header object and a data section, bypassing the encoder's checks. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  let json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  if (pad && json.length % 8) {
    const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function headerOf(bytes: Uint8Array): Record<string, unknown> {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
}

function throwsSt(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SafetensorsError, `expected SafetensorsError, got ${String(err)}`);
    assert.match(err.message, re);
    return true;
  });
}

describe('safetensors encode/decode', () => {
  const tensors: Record<string, RawTensor> = {
    'features.0.weight': {
      dtype: 'F32',
      shape: [2, 1, 2, 2],
      data: Float32Array.from([1, 2, 3, 4, -1, -2, 0.5, 1e-8]),
    },
    'features.0.bias': { dtype: 'F32', shape: [2], data: Float32Array.from([0.25, -0.75]) },
    scalar: { dtype: 'F32', shape: [], data: Float32Array.from([3.5]) },
    empty: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
    f64: { dtype: 'F64', shape: [3], data: Float64Array.from([Math.PI, -1e300, 5e-324]) },
    idx: { dtype: 'I32', shape: [2, 2], data: Int32Array.from([1, -2, 2147483647, -2147483648]) },
    i16: { dtype: 'I16', shape: [3], data: Int16Array.from([-32768, 0, 32767]) },
    i8: { dtype: 'I8', shape: [2], data: Int8Array.from([-128, 127]) },
    u8: { dtype: 'U8', shape: [1, 3], data: Uint8Array.from([0, 128, 255]) },
    mask: { dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) },
    half: { dtype: 'F16', shape: [2], data: Uint16Array.from([0x3c00, 0xc000]) },
    bhalf: { dtype: 'BF16', shape: [2], data: Uint16Array.from([0x3f80, 0x4049]) },
    big: { dtype: 'I64', shape: [2], data: BigInt64Array.from([1n, -(2n ** 40n)]) },
  };

  it('round-trips every dtype and shape, including scalars and empty tensors', () => {
    const bytes = encodeSafetensors(tensors);
    const back = decodeSafetensors(bytes, { int64: 'bigint' });
    assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      assert.deepEqual(back.tensors[name], t, name);
    }
    assert.deepEqual(back.metadata, {});
    // the encoding is deterministic, and decoding then encoding gives the same bytes
    assert.deepEqual(encodeSafetensors(back.tensors), bytes);
  });

  it('lays out the file as the reference does: padded header, sorted, aligned, contiguous offsets', () => {
    const bytes = encodeSafetensors(tensors, { format: 'pt' });
    const n = new DataView(bytes.buffer).getUint32(0, true);
    assert.equal(n % 8, 0);
    assert.equal(new DataView(bytes.buffer).getUint32(4, true), 0);
    const header = headerOf(bytes);
    assert.deepEqual(header.__metadata__, { format: 'pt' });
    const entries = Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .map(([k, v]) => ({ name: k, ...(v as { dtype: string; data_offsets: [number, number] }) }))
      .sort((a, b) => a.data_offsets[0] - b.data_offsets[0] || a.data_offsets[1] - b.data_offsets[1]);
    let pos = 0;
    const size: Record<string, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I16: 2 };
    for (const e of entries) {
      assert.equal(e.data_offsets[0], pos, e.name);
      assert.equal(e.data_offsets[0] % (size[e.dtype] ?? 1), 0, `${e.name} aligned`);
      pos = e.data_offsets[1];
    }
    assert.equal(8 + n + pos, bytes.length);
    // 8-byte dtypes first, then 4, then 2, then 1
    assert.deepEqual(
      entries.slice(0, 2).map((e) => e.name),
      ['big', 'f64'],
    );
  });

  it('round-trips metadata, including unusual strings and keys', () => {
    const meta = {
      format: 'pt',
      note: 'héllo "quoted" \n ✓',
      '': 'empty key',
      json: JSON.stringify({ a: [1, 2] }),
    };
    const back = decodeSafetensors(encodeSafetensors({ x: tensors.scalar! }, meta));
    assert.deepEqual(back.metadata, meta);
    // an empty file: no tensors at all
    assert.deepEqual(decodeSafetensors(encodeSafetensors({})), { tensors: {}, metadata: {} });
  });

  it('copies data into aligned arrays even when the input bytes are at an odd offset', () => {
    const bytes = encodeSafetensors({ a: tensors['features.0.weight']!, b: tensors.f64! });
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const back = decodeSafetensors(shifted.subarray(3));
    assert.deepEqual(back.tensors.a!.data, tensors['features.0.weight']!.data);
    assert.equal(back.tensors.a!.data.byteOffset, 0);
    // the decoded arrays do not alias the input
    shifted.fill(0);
    assert.equal((back.tensors.b!.data as Float64Array)[0], Math.PI);
  });

  it('decodes I64 to range-checked Int32 by default and re-encodes it as I64', () => {
    const nbt = { dtype: 'I64' as const, shape: [], data: BigInt64Array.from([7n]) };
    const bytes = encodeSafetensors({ 'bn.num_batches_tracked': nbt });
    const back = decodeSafetensors(bytes);
    assert.deepEqual(back.tensors['bn.num_batches_tracked'], {
      dtype: 'I64',
      shape: [],
      data: Int32Array.from([7]),
    });
    assert.deepEqual(encodeSafetensors(back.tensors), bytes);
    throwsSt(
      () => decodeSafetensors(encodeSafetensors({ big: tensors.big! })),
      /tensor 'big': I64 value -1099511627776 at index 1 does not fit in int32/,
    );
  });

  it('converts F64, F16 and BF16 to F32 on request', () => {
    const half = Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x8000, 0x3555]);
    const bytes = encodeSafetensors({
      h: { dtype: 'F16', shape: [8], data: half },
      b: { dtype: 'BF16', shape: [2], data: Uint16Array.from([0x3f80, 0xc049]) },
      d: { dtype: 'F64', shape: [1], data: Float64Array.from([0.1]) },
    });
    const { tensors: t } = decodeSafetensors(bytes, { floatsToF32: true });
    assert.ok(t.h!.data instanceof Float32Array);
    assert.equal(t.h!.dtype, 'F16');
    assert.deepEqual(Array.from(t.h!.data as Float32Array), [
      1,
      -2,
      65504,
      2 ** -24,
      Infinity,
      -Infinity,
      -0,
      Math.fround(0.333251953125),
    ]);
    assert.deepEqual(Array.from(t.b!.data as Float32Array), [1, -3.140625]);
    assert.deepEqual(t.d!.data, Float32Array.from([0.1]));
    // and float data is rounded to the narrower type when written
    const w = encodeSafetensors({
      h: { dtype: 'F16', shape: [3], data: Float32Array.from([1, 1 / 3, 70000]) },
    });
    assert.deepEqual(decodeSafetensors(w).tensors.h!.data, Uint16Array.from([0x3c00, 0x3555, 0x7c00]));
  });

  it('rounds half-precision conversions to nearest even', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = f16BitsToFloat(h);
      if (Number.isNaN(x)) assert.ok(Number.isNaN(f16BitsToFloat(floatToF16Bits(x))));
      else assert.equal(floatToF16Bits(x), h, `f16 ${h.toString(16)}`);
      const y = bf16BitsToFloat(h);
      if (Number.isNaN(y)) assert.ok(Number.isNaN(bf16BitsToFloat(floatToBf16Bits(y))));
      else assert.equal(floatToBf16Bits(y), h, `bf16 ${h.toString(16)}`);
    }
    assert.equal(floatToF16Bits(1 + 2 ** -11), 0x3c00); // tie: to even
    assert.equal(floatToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie: to even (up)
    assert.equal(floatToF16Bits(2 ** -25), 0); // half the smallest subnormal: to even (zero)
    assert.equal(floatToF16Bits(2 ** -25 * 1.5), 1);
    assert.equal(floatToF16Bits(65520), 0x7c00); // rounds up past the largest finite half
    assert.equal(floatToBf16Bits(1 + 2 ** -8), 0x3f80);
    assert.equal(floatToBf16Bits(1 + 3 * 2 ** -8), 0x3f82);
  });

  it('refuses to encode tensors that do not match their dtype or shape', () => {
    throwsSt(
      () => encodeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }),
      /tensor 'w': shape \[2, 2\] has 4 elements but data has 3/,
    );
    throwsSt(
      () => encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: new Float64Array(2) } }),
      /tensor 'w': dtype F32 cannot be written from a Float64Array/,
    );
    throwsSt(
      () => encodeSafetensors({ w: { dtype: 'Q8' as 'F32', shape: [2], data: new Float32Array(2) } }),
      /tensor 'w': unknown dtype "Q8"/,
    );
    throwsSt(
      () => encodeSafetensors({ w: { dtype: 'F32', shape: [-1], data: new Float32Array(0) } }),
      /tensor 'w': shape must be a list of non-negative integers/,
    );
    throwsSt(() => encodeSafetensors({ __metadata__: tensors.scalar! }), /cannot be named '__metadata__'/);
    throwsSt(
      () => encodeSafetensors({}, { n: 1 as unknown as string }),
      /metadata 'n': values must be strings/,
    );
  });
});

describe('safetensors: bad files are clear errors', () => {
  const f32 = (name: string, shape: number[], offsets: unknown): Record<string, unknown> => ({
    [name]: { dtype: 'F32', shape, data_offsets: offsets },
  });

  it('rejects truncated or oversized headers', () => {
    throwsSt(() => decodeSafetensors(new Uint8Array(5)), /file is 5 bytes, too short/);
    const lying = new Uint8Array(16);
    new DataView(lying.buffer).setUint32(0, 1000, true);
    throwsSt(
      () => decodeSafetensors(lying),
      /header length 1000 bytes runs past the end of the file \(16 bytes/,
    );
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(0, 0xffffffff, true);
    new DataView(huge.buffer).setUint32(4, 0xffffffff, true);
    throwsSt(() => decodeSafetensors(huge), /exceeds the limit of 100000000 bytes/);
    const big = new Uint8Array(16);
    new DataView(big.buffer).setUint32(0, 100_000_001, true);
    throwsSt(() => decodeSafetensors(big), /header length 100000001 bytes exceeds the limit/);
    throwsSt(() => decodeSafetensors(rawFile({}), { maxHeaderBytes: 1 }), /exceeds the limit of 1 bytes/);
  });

  it('rejects headers that are not a JSON object', () => {
    throwsSt(() => decodeSafetensors(rawFile('{"a": [1, 2')), /header is not valid JSON/);
    throwsSt(() => decodeSafetensors(rawFile('[1, 2]')), /header is not a JSON object/);
    throwsSt(() => decodeSafetensors(rawFile('null')), /header is not a JSON object/);
    const bad = rawFile('{"a":"\u00ff"}');
    bad[12] = 0xff; // invalid UTF-8 inside the string
    throwsSt(() => decodeSafetensors(bad), /header is not valid UTF-8/);
    throwsSt(() => decodeSafetensors(rawFile({ w: 3 })), /tensor 'w': header entry must be an object/);
    throwsSt(
      () => decodeSafetensors(rawFile({ __metadata__: { a: 1 } })),
      /__metadata__ 'a' must be a string, got 1/,
    );
    throwsSt(() => decodeSafetensors(rawFile({ __metadata__: [] })), /__metadata__ must be an object/);
  });

  it('rejects unknown dtypes, naming the tensor and the dtype', () => {
    const file = rawFile(
      { 'layer.w': { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } },
      new Uint8Array(1),
    );
    throwsSt(() => decodeSafetensors(file), /tensor 'layer\.w': unknown dtype "F8_E4M3"/);
    throwsSt(
      () => decodeSafetensors(rawFile({ w: { shape: [], data_offsets: [0, 0] } })),
      /tensor 'w': unknown dtype/,
    );
  });

  it('rejects shapes that are not lists of non-negative integers', () => {
    for (const shape of [[-1], [1.5], ['2'], 3, null, [2 ** 60]]) {
      const file = rawFile({ w: { dtype: 'F32', shape, data_offsets: [0, 4] } }, new Uint8Array(4));
      throwsSt(() => decodeSafetensors(file), /tensor 'w': shape must be a list of non-negative integers/);
    }
  });

  it('rejects bad data_offsets', () => {
    const data = new Uint8Array(16);
    for (const offsets of [[0], [0, 4, 8], ['0', '4'], [0, 4.5], [-4, 0], null]) {
      throwsSt(
        () => decodeSafetensors(rawFile(f32('w', [1], offsets), data)),
        /tensor 'w': data_offsets must be two non-negative integers/,
      );
    }
    throwsSt(
      () => decodeSafetensors(rawFile(f32('w', [1], [8, 4]), data)),
      /tensor 'w': .*end before they begin/,
    );
    throwsSt(
      () => decodeSafetensors(rawFile(f32('w', [2, 4], [0, 32]), data)),
      /tensor 'w': data_offsets \[0, 32\] run past the end of the data section \(16 bytes\)/,
    );
    throwsSt(
      () => decodeSafetensors(rawFile(f32('w', [3], [0, 16]), data)),
      /tensor 'w': F32 shape \[3\] needs 12 bytes but data_offsets \[0, 16\] hold 16/,
    );
  });

  it('rejects overlapping tensors, gaps and trailing bytes', () => {
    const data = new Uint8Array(16);
    throwsSt(
      () =>
        decodeSafetensors(
          rawFile({ ...f32('a', [2], [0, 8]), ...f32('b', [2], [4, 12]) }, new Uint8Array(12)),
        ),
      /tensor 'b': data_offsets \[4, 12\] overlap tensor 'a' \[0, 8\]/,
    );
    throwsSt(
      () =>
        decodeSafetensors(rawFile({ ...f32('a', [2], [0, 8]), ...f32('b', [2], [0, 8]) }, new Uint8Array(8))),
      /overlap tensor '(a|b)'/,
    );
    throwsSt(
      () => decodeSafetensors(rawFile({ ...f32('a', [1], [0, 4]), ...f32('b', [2], [8, 16]) }, data)),
      /tensor 'b': data_offsets \[8, 16\] leave a gap of 4 bytes after tensor 'a'/,
    );
    throwsSt(
      () => decodeSafetensors(rawFile(f32('a', [2], [8, 16]), data)),
      /tensor 'a': .*gap of 8 bytes at the start of the data section/,
    );
    throwsSt(
      () => decodeSafetensors(rawFile(f32('a', [2], [0, 8]), data)),
      /data section has 8 trailing bytes after the last tensor \('a', ending at 8\)/,
    );
    throwsSt(() => decodeSafetensors(rawFile({}, new Uint8Array(3))), /3 trailing bytes/);
    // empty tensors may share an offset with their neighbours
    const ok = rawFile(
      { ...f32('a', [0], [0, 0]), ...f32('b', [1], [0, 4]), ...f32('c', [0, 2], [4, 4]) },
      new Uint8Array(4),
    );
    assert.deepEqual(Object.keys(decodeSafetensors(ok).tensors), ['a', 'b', 'c']);
  });

  it('treats a tensor named __proto__ as an ordinary name', () => {
    const file = rawFile(
      '{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}',
      Uint8Array.from([9]),
    );
    const { tensors } = decodeSafetensors(file);
    assert.deepEqual(Object.keys(tensors), ['__proto__']);
    assert.equal(Object.getPrototypeOf(tensors), Object.prototype);
    assert.deepEqual(Object.keys(headerOf(encodeSafetensors(tensors))), ['__proto__']);
  });
});

/** conv(1→4, k2, p1), relu, conv(4→8, k2, p1), maxpool 2, flatten, linear(288→16), relu, linear(16→10). */
function miniSimpleCnnForward(sd: Record<string, RawTensor>, x: number[], n: number): number[] {
  const w = (k: string): Float32Array => sd[k]!.data as Float32Array;
  const conv = (
    inp: number[],
    c: number,
    h: number,
    cout: number,
    wk: Float32Array,
    b: Float32Array,
  ): number[] => {
    const ho = h + 1; // k = 2, p = 1, s = 1
    const out: number[] = [];
    for (let o = 0; o < cout; o++)
      for (let i = 0; i < ho; i++)
        for (let j = 0; j < ho; j++) {
          let acc = b[o]!;
          for (let ci = 0; ci < c; ci++)
            for (let ki = 0; ki < 2; ki++)
              for (let kj = 0; kj < 2; kj++) {
                const r = i + ki - 1;
                const q = j + kj - 1;
                if (r >= 0 && r < h && q >= 0 && q < h)
                  acc += inp[(ci * h + r) * h + q]! * wk[((o * c + ci) * 2 + ki) * 2 + kj]!;
              }
          out.push(acc);
        }
    return out;
  };
  const linear = (inp: number[], wk: Float32Array, b: Float32Array): number[] =>
    Array.from(b, (bias, o) => inp.reduce((acc, v, i) => acc + v * wk[o * inp.length + i]!, bias));
  const relu = (v: number[]): number[] => v.map((a) => Math.max(a, 0));
  const logits: number[] = [];
  const per = x.length / n;
  for (let s = 0; s < n; s++) {
    const a = relu(
      conv(x.slice(s * per, (s + 1) * per), 1, 10, 4, w('sequential.0.weight'), w('sequential.0.bias')),
    );
    const b = conv(a, 4, 11, 8, w('sequential.2.weight'), w('sequential.2.bias'));
    const pooled: number[] = [];
    for (let c = 0; c < 8; c++)
      for (let i = 0; i < 6; i++)
        for (let j = 0; j < 6; j++) {
          const at = (r: number, q: number): number => b[(c * 12 + r) * 12 + q]!;
          pooled.push(
            Math.max(at(2 * i, 2 * j), at(2 * i, 2 * j + 1), at(2 * i + 1, 2 * j), at(2 * i + 1, 2 * j + 1)),
          );
        }
    const h = relu(linear(pooled, w('sequential.5.weight'), w('sequential.5.bias')));
    logits.push(...linear(h, w('sequential.7.weight'), w('sequential.7.bias')));
  }
  return logits;
}

describe('safetensors files from PyTorch', () => {
  it('reads the oracle miniSimpleCNN state dict with the shapes of its architecture', async () => {
    const { tensors, metadata } = await readSafetensorsFile(new URL('miniSimpleCNN.safetensors', ORACLE));
    assert.deepEqual(metadata, { format: 'pt' });
    const shapes = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.shape]));
    assert.deepEqual(shapes, {
      'sequential.0.weight': [4, 1, 2, 2],
      'sequential.0.bias': [4],
      'sequential.2.weight': [8, 4, 2, 2],
      'sequential.2.bias': [8],
      'sequential.5.weight': [16, 288],
      'sequential.5.bias': [16],
      'sequential.7.weight': [10, 16],
      'sequential.7.bias': [10],
    });
    for (const t of Object.values(tensors)) {
      assert.equal(t.dtype, 'F32');
      assert.ok(t.data instanceof Float32Array);
      assert.ok(t.data.every((v) => Number.isFinite(v) && Math.abs(v) < 1));
    }
    // the architecture in the companion json agrees with the shapes
    const json = JSON.parse(
      fs.readFileSync(new URL('miniSimpleCNN.safetensors.json', ORACLE), 'utf8'),
    ) as Record<string, unknown> & { architecture: string };
    assert.match(json.architecture, /\(0\): Conv2d\(1, 4, kernel_size=\(2, 2\)/);
    assert.match(json.architecture, /\(5\): Linear\(in_features=288, out_features=16/);
    // values where PyTorch put them (read independently with Python's struct)
    const first3 = (k: string): number[] => Array.from((tensors[k]!.data as Float32Array).subarray(0, 3));
    assert.deepEqual(
      first3('sequential.0.weight'),
      [-0.4559110403060913, -0.04165780544281006, -0.2580890655517578],
    );
    assert.deepEqual(
      first3('sequential.7.bias'),
      [0.011779755353927612, 0.21396976709365845, 0.10807725787162781],
    );
    // and the weights give PyTorch's logits (a plain-loop forward pass of the architecture above)
    const input = json.input as { shape: number[]; data: number[] };
    const logits = miniSimpleCnnForward(tensors, input.data, input.shape[0]!);
    const want = json.logits as { data: number[] };
    assert.equal(logits.length, want.data.length);
    logits.forEach((v, i) =>
      assert.ok(Math.abs(v - want.data[i]!) <= 1e-5 + 1e-4 * Math.abs(want.data[i]!), `logit ${i}`),
    );
    // re-encoding gives a file of the same size that decodes to the same tensors
    const original = fs.readFileSync(new URL('miniSimpleCNN.safetensors', ORACLE));
    const again = encodeSafetensors(tensors, metadata);
    assert.equal(again.length, original.length);
    assert.deepEqual(decodeSafetensors(again), decodeSafetensors(original));
  });

  it('names the file in read errors', async () => {
    const dir = tmpDir();
    const bad = path.join(dir, 'bad.safetensors');
    fs.writeFileSync(bad, new Uint8Array(3));
    await assert.rejects(
      readSafetensorsFile(bad),
      (e: Error) => e instanceof SafetensorsError && e.message.includes(bad),
    );
    assert.throws(
      () => readSafetensorsFileSync(bad),
      new RegExp(`${bad.replace(/[.]/g, '\\.')}: file is 3 bytes`),
    );
    const missing = path.join(dir, 'missing.safetensors');
    await assert.rejects(readSafetensorsFile(missing), (e: Error) => e.message.includes(missing));
    fs.rmSync(dir, { recursive: true });
  });
});

describe('atomic writes', () => {
  const t = { w: { dtype: 'F32' as const, shape: [2], data: Float32Array.from([1, 2]) } };

  it('writes and replaces files, leaving no temporary files', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'model.safetensors');
    await writeSafetensorsFile(file, t, { epoch: '1' });
    assert.deepEqual((await readSafetensorsFile(file)).metadata, { epoch: '1' });
    writeSafetensorsFileSync(file, t, { epoch: '2' });
    assert.deepEqual(readSafetensorsFileSync(file).metadata, { epoch: '2' });
    await writeFileAtomic(path.join(dir, 'empty.bin'), new Uint8Array(0));
    assert.equal(fs.statSync(path.join(dir, 'empty.bin')).size, 0);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['empty.bin', 'model.safetensors']);
    fs.rmSync(dir, { recursive: true });
  });

  it('keeps the permissions of the file it replaces', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'x.bin');
    fs.writeFileSync(file, 'old');
    fs.chmodSync(file, 0o640);
    await writeFileAtomic(file, Uint8Array.from([1]));
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    fs.rmSync(dir, { recursive: true });
  });

  it(
    'writes through symlinks and copes with long names',
    { skip: process.platform === 'win32' },
    async () => {
      const dir = tmpDir();
      const real = path.join(dir, 'real.bin');
      const link = path.join(dir, 'link.bin');
      fs.writeFileSync(real, 'old');
      fs.symlinkSync(real, link);
      await writeFileAtomic(link, Uint8Array.from([1, 2]));
      assert.ok(fs.lstatSync(link).isSymbolicLink());
      assert.deepEqual([...fs.readFileSync(real)], [1, 2]);
      writeFileAtomicSync(link, Uint8Array.from([3]));
      assert.deepEqual([...fs.readFileSync(real)], [3]);
      const long = path.join(dir, `${'é'.repeat(120)}.bin`); // 244 bytes: at the NAME_MAX limit
      await writeFileAtomic(long, Uint8Array.from([4]));
      writeFileAtomicSync(long, Uint8Array.from([5]));
      assert.deepEqual([...fs.readFileSync(long)], [5]);
      assert.equal(fs.readdirSync(dir).length, 3);
      fs.rmSync(dir, { recursive: true });
    },
  );

  it('fails with the path named when the target is a folder or the folder is missing', async () => {
    const dir = tmpDir();
    const sub = path.join(dir, 'sub');
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, 'keep'), 'keep');
    for (const write of [writeFileAtomic, async (p: string, b: Uint8Array) => writeFileAtomicSync(p, b)]) {
      await assert.rejects(write(sub, Uint8Array.from([1])), (e: Error) => {
        assert.ok(e instanceof AtomicWriteError);
        assert.match(e.message, new RegExp(`cannot write ${sub}: .*directory`));
        return true;
      });
      const missing = path.join(dir, 'nope', 'x.bin');
      await assert.rejects(write(missing, Uint8Array.from([1])), (e: Error) => {
        assert.ok(e instanceof AtomicWriteError);
        assert.equal(e.code, 'ENOENT');
        assert.ok(e.message.includes(missing));
        return true;
      });
    }
    assert.deepEqual(fs.readdirSync(dir), ['sub']);
    assert.deepEqual(fs.readdirSync(sub), ['keep']);
    fs.rmSync(dir, { recursive: true });
  });

  it(
    'leaves the previous file byte-identical when the folder is read-only',
    { skip: process.getuid?.() === 0 && 'root ignores folder permissions' },
    async () => {
      const dir = tmpDir();
      const file = path.join(dir, 'model.safetensors');
      await writeSafetensorsFile(file, t);
      const before = fs.readFileSync(file);
      fs.chmodSync(dir, 0o555);
      try {
        await assert.rejects(
          writeSafetensorsFile(file, { w: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }),
          (e: Error) => e.message.includes(file),
        );
      } finally {
        fs.chmodSync(dir, 0o755);
      }
      assert.deepEqual(fs.readFileSync(file), before);
      fs.rmSync(dir, { recursive: true });
    },
  );

  it(
    'leaves the previous file byte-identical when the disk fills up mid-write',
    {
      skip: process.platform === 'win32' && 'needs bash and ulimit',
    },
    () => {
      // RLIMIT_FSIZE makes writes past 8 KiB fail with EFBIG (Node ignores SIGXFSZ), as a full disk would.
      const dir = tmpDir();
      const file = path.join(dir, 'model.safetensors');
      writeSafetensorsFileSync(file, t, { version: 'old' });
      const before = fs.readFileSync(file);
      const atomic = fileURLToPath(new URL('../src/io/atomic.ts', import.meta.url));
      const script = `
      import { writeFileAtomic, writeFileAtomicSync } from ${JSON.stringify(atomic)};
      const big = new Uint8Array(1 << 20).fill(7);
      const out = [];
      try { writeFileAtomicSync(${JSON.stringify(file)}, big); out.push('sync ok'); } catch (e) { out.push(e.code + ' ' + e.message); }
      try { await writeFileAtomic(${JSON.stringify(file)}, big); out.push('async ok'); } catch (e) { out.push(e.code + ' ' + e.message); }
      console.log(JSON.stringify(out));`;
      const res = spawnSync(
        'bash',
        ['-c', `ulimit -f 16 && exec "${process.execPath}" --import tsx --input-type=module -e "$0"`, script],
        {
          encoding: 'utf8',
          cwd: fileURLToPath(new URL('..', import.meta.url)),
        },
      );
      assert.equal(res.status, 0, res.stderr);
      const out = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as string[];
      assert.equal(out.length, 2);
      for (const line of out) assert.match(line, new RegExp(`^EFBIG cannot write ${file}: `));
      assert.deepEqual(fs.readFileSync(file), before);
      assert.deepEqual(fs.readdirSync(dir), ['model.safetensors']);
      fs.rmSync(dir, { recursive: true });
    },
  );

  it('rejects data that is not bytes, naming the path', () => {
    assert.throws(
      () => writeFileAtomicSync('/tmp/x', 'text' as unknown as Uint8Array),
      /cannot write \/tmp\/x: .*Uint8Array/,
    );
  });
});
