/**
 * Storage for op outputs that a kernel or loop is about to overwrite completely. `new
 * Float32Array(n)` zero-fills (calloc), which for the multi-megabyte activations of a conv net costs
 * about as much as the kernel that then overwrites them; under Node, `Buffer.allocUnsafeSlow` hands
 * out the same kind of JS-owned ArrayBuffer without the zeroing (its own buffer, never a slice of
 * Buffer's shared pool). Elsewhere (browsers) it is the plain zeroed allocation.
 *
 * Only for storage whose every element is written before anyone reads it: leftover bytes from
 * freed memory would otherwise leak into results.
 */

interface BufferLike {
  allocUnsafeSlow(size: number): Uint8Array;
}

const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;
/** Below this many bytes the zeroed allocation is as cheap and keeps small tensors simple. */
const MIN_UNSAFE_BYTES = 64 * 1024;

/** float32 storage of length n with unspecified contents. */
export function emptyFloat32(n: number): Float32Array {
  if (NodeBuffer === undefined || n * 4 < MIN_UNSAFE_BYTES) return new Float32Array(n);
  const b = NodeBuffer.allocUnsafeSlow(n * 4);
  return new Float32Array(b.buffer, b.byteOffset, n);
}

/** int32 storage of length n with unspecified contents. */
export function emptyInt32(n: number): Int32Array {
  if (NodeBuffer === undefined || n * 4 < MIN_UNSAFE_BYTES) return new Int32Array(n);
  const b = NodeBuffer.allocUnsafeSlow(n * 4);
  return new Int32Array(b.buffer, b.byteOffset, n);
}
