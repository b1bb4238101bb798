/** Matrix products: matmul with NumPy semantics (vectors, batches, broadcast batch dims). */
import { record } from '../autograd/graph.js';
import { getBackend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, formatShape, numelOf } from '../tensor/shape.js';
import { sumToShape } from './reduce.js';
import { expand, reshape } from './shape.js';

/**
 * Batched product of row-major matrices: out[b] = op(A[b]) · op(B[b]), with batch counts already
 * equal (or 1 for a shared operand). op() transposes when asked, without materialising it.
 */
export function bmmData(
  a: Float32Array,
  b: Float32Array,
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  aShared = false,
  bShared = false,
): Float32Array {
  const out = new Float32Array(batch * m * n);
  const be = getBackend();
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  for (let i = 0; i < batch; i++) {
    const ai = aShared ? a : a.subarray(i * m * k, (i + 1) * m * k);
    const bi = bShared ? b : b.subarray(i * k * n, (i + 1) * k * n);
    be.gemm(transA, transB, m, n, k, 1, ai, lda, bi, ldb, 0, out.subarray(i * m * n, (i + 1) * m * n), n);
  }
  return out;
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) throw new Error('matmul: both arguments need at least 1 dim');
  // Promote vectors to matrices, remembering to drop the added dim afterwards.
  const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.ndim === 1 ? reshape(b, [b.shape[0], 1]) : b;
  const m = a2.shape[a2.ndim - 2];
  const k = a2.shape[a2.ndim - 1];
  const kb = b2.shape[b2.ndim - 2];
  const n = b2.shape[b2.ndim - 1];
  if (k !== kb) {
    throw new Error(
      `matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} cannot be multiplied (${k} columns vs ${kb} rows)`,
    );
  }
  const batchA = a2.shape.slice(0, -2);
  const batchB = b2.shape.slice(0, -2);
  const batch = broadcastShapes(batchA, batchB, 'matmul');
  const nb = numelOf(batch);
  const aFull = numelOf(batchA) === nb || batchA.length === 0 ? a2 : expand(a2, [...batch, m, k]);
  const bFull = numelOf(batchB) === nb || batchB.length === 0 ? b2 : expand(b2, [...batch, k, n]);
  const aShared = numelOf(aFull.shape.slice(0, -2)) !== nb;
  const bShared = numelOf(bFull.shape.slice(0, -2)) !== nb;
  const data = bmmData(
    aFull.data as Float32Array,
    bFull.data as Float32Array,
    nb,
    m,
    n,
    k,
    false,
    false,
    aShared,
    bShared,
  );
  let outShape = [...batch, m, n];
  if (a.ndim === 1) outShape = outShape.filter((_, i) => i !== outShape.length - 2);
  if (b.ndim === 1) outShape = outShape.slice(0, -1);
  const out = new Tensor(data, outShape);
  return record(out, 'matmul', [a, b], (g) => {
    const gd = g.data as Float32Array;
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      // dA = g · Bᵀ, then undo B's sharing and A's broadcasting
      const d = bmmData(gd, bFull.data as Float32Array, nb, m, k, n, false, true, false, bShared);
      ga = reshape(sumToShape(new Tensor(d, [...batch, m, k]), a2.shape), a.shape);
    }
    if (b.requiresGrad) {
      // dB = Aᵀ · g
      const d = bmmData(aFull.data as Float32Array, gd, nb, k, n, m, true, false, aShared, false);
      gb = reshape(sumToShape(new Tensor(d, [...batch, k, n]), b2.shape), b.shape);
    }
    return [ga, gb];
  });
}
