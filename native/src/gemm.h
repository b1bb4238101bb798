// Single-precision GEMM, row-major, BLIS style:
//   C[m×n] = alpha · op(A) · op(B) + beta · C,  op(X) = X or Xᵀ (handled while packing).
// beta == 0 overwrites C (NaNs already there are ignored), as in BLAS.
#pragma once

#include <cstdint>

namespace stride {

void sgemm(bool transA, bool transB, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
           int ldb, float beta, float* c, int ldc);

// Same, but never uses the thread pool (for callers that already parallelise over something else).
void sgemm_serial(bool transA, bool transB, int m, int n, int k, float alpha, const float* a, int lda,
                  const float* b, int ldb, float beta, float* c, int ldc);

// sgemm with B not transposed, whose columns (of B and of C) may be segmented: column j lives at
// (j / segLen)·segStride + j % segLen (segLen <= 0 or >= n: plain). This lets a convolution treat
// n = samples × positions as one wide GEMM while reading dy and writing y in their NCHW places.
void sgemm_seg(bool transA, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
               int64_t bSegLen, int64_t bSegStride, float beta, float* c, int ldc, int64_t cSegLen,
               int64_t cSegStride);

// C[m×n] = alpha · Σ_{s<count} A_s · B_sᵀ + beta · C, where A_s = a + s·strideA is m × len (rows lda
// apart) and B_s = b + s·strideB is n × len (rows ldb apart): a GEMM whose k dimension is split into
// `count` runs, e.g. a convolution's weight gradient summed over samples, without gathering them.
void sgemm_nt_sum(int m, int n, int len, int count, float alpha, const float* a, int64_t lda, int64_t strideA,
                  const float* b, int64_t ldb, int64_t strideB, float beta, float* c, int ldc);

// "avx512", "avx2", "sse2" or "scalar": the micro-kernel picked at load time for this CPU.
const char* gemm_simd();

}  // namespace stride
