/**
 * The IDX format of the original MNIST files: a big-endian header (two zero bytes, a type code, the
 * number of dims, then each dim as a uint32) followed by the raw values. Only unsigned bytes
 * (type 0x08) are needed here. A truncated file or a wrong magic number is an error naming the
 * file and what was expected, rather than a dataset of garbage.
 */
import { readFileSync } from 'node:fs';

export interface IdxArray {
  dims: number[];
  /** The values, a view into the file's bytes (no copy). */
  data: Uint8Array;
}

export function parseIdx(bytes: Uint8Array, name = 'IDX data', expectedDims?: number): IdxArray {
  if (bytes.length < 4) {
    throw new Error(
      `${name}: truncated IDX file: ${bytes.length} bytes, too short for the 4-byte magic number`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = bytes[2];
  const ndim = bytes[3];
  const expectedMagic = expectedDims === undefined ? null : 0x0800 + expectedDims;
  if (
    bytes[0] !== 0 ||
    bytes[1] !== 0 ||
    type !== 0x08 ||
    (expectedMagic !== null && magic !== expectedMagic)
  ) {
    throw new Error(
      `${name}: wrong magic number 0x${magic.toString(16).padStart(8, '0')}; expected ` +
        (expectedMagic !== null ? `0x${expectedMagic.toString(16).padStart(8, '0')}` : '0x000008NN') +
        ' (an IDX file of unsigned bytes' +
        (expectedDims !== undefined ? ` with ${expectedDims} dims)` : ')') +
        '. Is this a gzipped or a different file?',
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new Error(
      `${name}: truncated IDX file: ${bytes.length} bytes, but its ${ndim}-dim header needs ${headerBytes}`,
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < ndim; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count;
  if (bytes.length < expected) {
    throw new Error(
      `${name}: truncated IDX file: dims [${dims.join(', ')}] need ${expected} bytes but the file has ${bytes.length}`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes, expected) };
}

export function readIdx(path: string, expectedDims?: number): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`readIdx: cannot read ${path}: ${(e as Error).message}`);
  }
  return parseIdx(bytes, path, expectedDims);
}
