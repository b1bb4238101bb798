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

// "avx512", "avx2", "sse2" or "scalar": the micro-kernel picked at load time for this CPU.
const char* gemm_simd();

}  // namespace stride
