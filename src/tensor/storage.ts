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
  const reused = n * 4 >= MIN_CACHE_BYTES ? takeCached(n) : null;
  if (reused) return reused;
  if (NodeBuffer === undefined || n * 4 < MIN_UNSAFE_BYTES) return new Float32Array(n);
  const b = NodeBuffer.allocUnsafeSlow(n * 4);
  return new Float32Array(b.buffer, b.byteOffset, n);
}

/**
 * Released float32 storage (see releaseFloat32), by length, oldest first overall: emptyFloat32
 * hands one of the right length back before allocating. Bounded by CACHE_BYTES; past that the
 * oldest entries are dropped and left to the garbage collector.
 */
const cache = new Map<number, Float32Array[]>();
const cacheOrder: Float32Array[] = [];
const inCache = new WeakSet<Float32Array>();
let cachedBytes = 0;
const CACHE_BYTES = 512 * 1024 * 1024;
/** Smaller storage is cheap to allocate and is not worth holding on to. */
const MIN_CACHE_BYTES = 1024 * 1024;

/** Bytes of released storage waiting to be reused. */
export function cachedStorageBytes(): number {
  return cachedBytes;
}

/**
 * Drops every released buffer (left to the garbage collector): `st.emptyCache()`, for a program
 * that ran large-batch inference and wants that memory back (as torch.cuda.empty_cache).
 */
export function emptyStorageCache(): void {
  cache.clear();
  for (const a of cacheOrder) inCache.delete(a);
  cacheOrder.length = 0;
  cachedBytes = 0;
}

function takeCached(n: number): Float32Array | null {
  const a = cache.get(n)?.pop();
  if (!a) return null;
  cacheOrder.splice(cacheOrder.indexOf(a), 1);
  inCache.delete(a);
  cachedBytes -= a.byteLength;
  return a;
}

/**
 * Gives storage that nothing will read or write again back to emptyFloat32, for the next
 * allocation of the same length: only for storage whose owner knows that no tensor anyone can
 * reach uses it (nn/recycle.ts). Storage that emptyFloat32 did not allocate whole (a view into a
 * larger buffer) or that is small is ignored.
 */
export function releaseFloat32(a: Float32Array): void {
  if (a.byteLength < MIN_CACHE_BYTES || inCache.has(a)) return;
  if (a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return;
  let list = cache.get(a.length);
  if (!list) cache.set(a.length, (list = []));
  list.push(a);
  cacheOrder.push(a);
  inCache.add(a);
  cachedBytes += a.byteLength;
  while (cachedBytes > CACHE_BYTES) {
    const old = cacheOrder.shift()!;
    const same = cache.get(old.length)!;
    same.splice(same.indexOf(old), 1);
    inCache.delete(old);
    cachedBytes -= old.byteLength;
  }
}

/** int32 storage of length n with unspecified contents. */
export function emptyInt32(n: number): Int32Array {
  if (NodeBuffer === undefined || n * 4 < MIN_UNSAFE_BYTES) return new Int32Array(n);
  const b = NodeBuffer.allocUnsafeSlow(n * 4);
  return new Int32Array(b.buffer, b.byteOffset, n);
}
