/**
 * Reference single-precision GEMM in plain TypeScript:
 *   C[m×n] = alpha · op(A) · op(B) + beta · C      (row-major, op(X) = X or Xᵀ)
 *
 * Cache blocking: op(B) is copied, one KC×NC block at a time, into a contiguous row-major panel
 * (this is also where a transposed B is untangled), so the innermost loop is a unit-stride
 * "C row += a · B-panel row" update that the JIT turns into tight code; it updates two rows of C
 * from two rows of the panel at once to halve the loads and stores per multiply-add.
 */

const KC = 128;
const NC = 512;

const panel = new Float32Array(KC * NC);

export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
): void {
  if (m <= 0 || n <= 0) return;
  // Scale C first. beta = 0 overwrites (BLAS semantics: NaNs already in C are ignored).
  if (beta !== 1) {
    for (let i = 0; i < m; i++) {
      const row = i * ldc;
      if (beta === 0) c.fill(0, row, row + n);
      else for (let j = 0; j < n; j++) c[row + j] *= beta;
    }
  }
  if (k <= 0 || alpha === 0) return;
  const bp = panel;

  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      // Pack op(B)[p0:p0+kc, j0:j0+nc] into bp as kc rows of nc.
      for (let p = 0; p < kc; p++) {
        const dst = p * nc;
        if (transB) {
          for (let j = 0; j < nc; j++) bp[dst + j] = b[(j0 + j) * ldb + p0 + p];
        } else {
          const src = (p0 + p) * ldb + j0;
          for (let j = 0; j < nc; j++) bp[dst + j] = b[src + j];
        }
      }
      // C rows += op(A) values × packed B rows, two C rows and two B rows at a time: each B value
      // loaded serves two C rows, and each C value is read and written once per two steps of p.
      const aAt = (i: number, p: number) => alpha * (transA ? a[(p0 + p) * lda + i] : a[i * lda + p0 + p]);
      let i = 0;
      for (; i + 1 < m; i += 2) {
        const c0 = i * ldc + j0;
        const c1 = c0 + ldc;
        let p = 0;
        for (; p + 1 < kc; p += 2) {
          const a00 = aAt(i, p);
          const a01 = aAt(i, p + 1);
          const a10 = aAt(i + 1, p);
          const a11 = aAt(i + 1, p + 1);
          const b0 = p * nc;
          const b1 = b0 + nc;
          for (let j = 0; j < nc; j++) {
            const x0 = bp[b0 + j];
            const x1 = bp[b1 + j];
            c[c0 + j] += a00 * x0 + a01 * x1;
            c[c1 + j] += a10 * x0 + a11 * x1;
          }
        }
        if (p < kc) {
          const a0 = aAt(i, p);
          const a1 = aAt(i + 1, p);
          const b0 = p * nc;
          for (let j = 0; j < nc; j++) {
            c[c0 + j] += a0 * bp[b0 + j];
            c[c1 + j] += a1 * bp[b0 + j];
          }
        }
      }
      if (i < m) {
        const c0 = i * ldc + j0;
        for (let p = 0; p < kc; p++) {
          const a0 = aAt(i, p);
          const b0 = p * nc;
          for (let j = 0; j < nc; j++) c[c0 + j] += a0 * bp[b0 + j];
        }
      }
    }
  }
}
