// Packed SGEMM in the BLIS style.
//
//   for jc in N by NC:                 B block  (KC × NC) packed into NR-wide micro-panels (L3)
//     for pc in K by KC:
//       pack B
//       for ic in M by MC:             A block  (MC × KC) packed into MR-tall micro-panels (L2)
//         pack A (alpha folded in)
//         for jr in NC by NR:          one B micro-panel stays in L1 ...
//           for ir in MC by MR:        ... while the A micro-panels stream past it
//             micro-kernel: MR × NR tile of C += A-panel · B-panel, held in registers
//
// When A fits one block (m <= MC: the 64-128-row products of M1's linear layers and conv2), the
// loop is pc, then jr with each B micro-panel packed just before its pass over A (L1, not L2).
// Transposed operands are handled by the packing routines, never materialised; operands stored
// along k (A as is, B transposed) go through 8×8 register transposes. A partial last row panel
// runs the shortest kernel of the same width that covers it; other partial tiles run into a
// small buffer that is then merged into C.
// Micro-kernels: AVX-512 (12×32, 8×32, 4×32) and AVX2/FMA (6×16, 4×16, 2×16), compiled with target
// attributes and picked at load time with __builtin_cpu_supports (the height per call, by the
// number of rows); a portable 4×8 loop kernel everywhere else.
//
// Also here: the dot-product path for C = A·Bᵀ with long k (nt_sum), and the thread split.
// native/bench/gemm_shapes.cc times the calls of M1's training step.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "threadpool.h"

#if defined(__x86_64__) || defined(_M_X64)
#define STRIDE_X86 1
#include <immintrin.h>
#endif

namespace stride {
namespace {

// `next`: the C tile the caller will compute next (same ldc), or null; a kernel may prefetch it.
using MicroKernel = void (*)(int kc, const float* a, const float* b, float* c, int ldc, float beta,
                             const float* next);

struct Kernel {
  int mr, nr;
  int mc, kc, nc;  // cache blocking
  MicroKernel ukr;
  const char* name;
};

// ---------------------------------------------------------------- micro-kernels

// Every micro-kernel computes an MR×NR tile over kc steps from packed panels and stores it:
// c = acc (beta 0: C is not read, so NaNs there are ignored), c += acc (beta 1), c = beta·c + acc.
template <int MR, int NR>
void ukr_generic(int kc, const float* __restrict a, const float* __restrict b, float* c, int ldc, float beta,
                 const float*) {
  float acc[MR][NR] = {};
  for (int p = 0; p < kc; ++p) {
    for (int r = 0; r < MR; ++r) {
      const float ar = a[r];
      for (int j = 0; j < NR; ++j) acc[r][j] += ar * b[j];
    }
    a += MR;
    b += NR;
  }
  for (int r = 0; r < MR; ++r) {
    float* cr = c + static_cast<int64_t>(r) * ldc;
    if (beta == 0.0f)
      for (int j = 0; j < NR; ++j) cr[j] = acc[r][j];
    else if (beta == 1.0f)
      for (int j = 0; j < NR; ++j) cr[j] += acc[r][j];
    else
      for (int j = 0; j < NR; ++j) cr[j] = beta * cr[j] + acc[r][j];
  }
}

#ifdef STRIDE_X86
// c[0..16) = x (beta 0), c += x (beta 1), or c = beta·c + x.
__attribute__((target("avx2,fma"))) inline void store_row16(float* c, __m256 x0, __m256 x1, float beta) {
  if (beta == 0.0f) {
    _mm256_storeu_ps(c, x0);
    _mm256_storeu_ps(c + 8, x1);
  } else if (beta == 1.0f) {
    _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), x0));
    _mm256_storeu_ps(c + 8, _mm256_add_ps(_mm256_loadu_ps(c + 8), x1));
  } else {
    const __m256 vb = _mm256_set1_ps(beta);
    _mm256_storeu_ps(c, _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), x0));
    _mm256_storeu_ps(c + 8, _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), x1));
  }
}

__attribute__((target("avx2,fma"))) void ukr_avx2_6x16(int kc, const float* __restrict a,
                                                         const float* __restrict b, float* c, int ldc,
                                                         float beta, const float*) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int r = 0; r < 6; ++r) _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
#pragma GCC unroll 4
  for (int p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b);
    const __m256 b1 = _mm256_load_ps(b + 8);
    __m256 x;
    x = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(x, b0, c00);
    c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(x, b0, c10);
    c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(x, b0, c20);
    c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(x, b0, c30);
    c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(x, b0, c40);
    c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(x, b0, c50);
    c51 = _mm256_fmadd_ps(x, b1, c51);
    a += 6;
    b += 16;
  }
  store_row16(c, c00, c01, beta);
  store_row16(c + ldc, c10, c11, beta);
  store_row16(c + 2 * ldc, c20, c21, beta);
  store_row16(c + 3 * ldc, c30, c31, beta);
  store_row16(c + 4 * ldc, c40, c41, beta);
  store_row16(c + 5 * ldc, c50, c51, beta);
}

// MR rows × 16 columns for MR < 6 (small m): same scheme as the 6×16 kernel.
template <int MR>
__attribute__((target("avx2,fma"))) void ukr_avx2_small(int kc, const float* __restrict a,
                                                          const float* __restrict b, float* c, int ldc,
                                                          float beta, const float*) {
  __m256 acc0[MR], acc1[MR];
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    for (int r = 0; r < MR; ++r) {
      const __m256 x = _mm256_broadcast_ss(a + r);
      acc0[r] = _mm256_fmadd_ps(x, b0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(x, b1, acc1[r]);
    }
    a += MR;
    b += 16;
  }
  for (int r = 0; r < MR; ++r) store_row16(c + r * ldc, acc0[r], acc1[r], beta);
}

// MR rows × 16·NV columns (12 × 32 or 8 × 48: 24 zmm accumulators), NV B vectors per step of k,
// broadcasts of A folded into the FMAs. The NV·MR lines of the next C tile are prefetched one
// every 4 steps of k: when C is far larger than the caches (M1's linear backward writes a
// 128 × 14400 C over k = 128), the tile's lines come from L3 while this one computes. All at
// once, they would take every L1 fill buffer and stall the loads of the A panels from L2 (~7% of
// that product's time).
#define STRIDE_UKR512_STEP                                        \
  do {                                                            \
    __m512 bv[NV];                                                \
    _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(b + 16 * v); \
    _Pragma("GCC unroll 12") for (int r = 0; r < MR; ++r) {       \
      const __m512 x = _mm512_set1_ps(a[r]);                      \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(x, bv[v], acc[r][v]); \
    }                                                             \
    a += MR;                                                      \
    b += 16 * NV;                                                 \
  } while (0)
template <int MR, int NV>
__attribute__((target("avx512f"))) void ukr_avx512(int kc, const float* __restrict a, const float* __restrict b,
                                                     float* c, int ldc, float beta, const float* next) {
  __m512 acc[MR][NV];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      acc[r][v] = _mm512_setzero_ps();
      _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16 * v), _MM_HINT_T0);
    }
  int p = 0;
  if (next)
    for (int l = 0; l < NV * MR && p + 4 <= kc; ++l, p += 4) {
      _mm_prefetch(reinterpret_cast<const char*>(next + (l / NV) * ldc + (l % NV) * 16), _MM_HINT_T0);
      STRIDE_UKR512_STEP;
      STRIDE_UKR512_STEP;
      STRIDE_UKR512_STEP;
      STRIDE_UKR512_STEP;
    }
#pragma GCC unroll 2
  for (; p < kc; ++p) STRIDE_UKR512_STEP;
#undef STRIDE_UKR512_STEP
  const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
    float* cr = c + r * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float* cv = cr + 16 * v;
      if (beta == 0.0f)
        _mm512_storeu_ps(cv, acc[r][v]);
      else if (beta == 1.0f)
        _mm512_storeu_ps(cv, _mm512_add_ps(_mm512_loadu_ps(cv), acc[r][v]));
      else
        _mm512_storeu_ps(cv, _mm512_fmadd_ps(vb, _mm512_loadu_ps(cv), acc[r][v]));
    }
  }
}
#endif

// The micro-kernel family for this CPU, tallest first: the tallest is the most efficient; shorter
// ones serve matrices with few rows (a conv with 8 or 16 output channels), where the tall kernel
// would compute mostly padding.
struct KernelSet {
  Kernel k[3];
  int count;
  float speed[3];  // rough relative throughput of each (the tallest = 1)
};

KernelSet select_kernels() {
#ifdef STRIDE_X86
  __builtin_cpu_init();
  const char* force = std::getenv("STRIDE_SIMD");  // for testing the fallbacks: avx2, sse2
  const bool allow512 = !force || std::strcmp(force, "avx512") == 0;
  const bool allow2 = allow512 || std::strcmp(force, "avx2") == 0;
  if (allow512 && __builtin_cpu_supports("avx512f"))
    return {{{12, 32, 144, 256, 4096, ukr_avx512<12, 2>, "avx512"},
             {8, 32, 144, 256, 4096, ukr_avx512<8, 2>, "avx512"},
             {4, 32, 144, 256, 4096, ukr_avx512<4, 2>, "avx512"}},
            3,
            {1.0f, 0.97f, 0.6f}};
  if (allow2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {{{6, 16, 144, 256, 4096, ukr_avx2_6x16, "avx2"},
             {4, 16, 144, 256, 4096, ukr_avx2_small<4>, "avx2"},
             {2, 16, 144, 256, 4096, ukr_avx2_small<2>, "avx2"}},
            3,
            {1.0f, 0.85f, 0.5f}};
  return {{{4, 8, 128, 256, 4096, ukr_generic<4, 8>, "sse2"}}, 1, {1.0f}};
#else
  return {{{4, 8, 128, 256, 4096, ukr_generic<4, 8>, "scalar"}}, 1, {1.0f}};
#endif
}

const KernelSet& kernels() {
  static const KernelSet ks = select_kernels();
  return ks;
}

const Kernel& kernel() { return kernels().k[0]; }

// For the last, partial row panel of a product whose main kernel is K: the shortest kernel of the
// same width that covers `rows` rows (K itself when none is shorter). m = 128 with the 12-row
// kernel then ends with an 8-row tile written in place rather than a 12-row one computed into a
// buffer and copied out (which also missed the next-tile prefetch: M1's linear backward, C far
// out of cache, lost ~10% there).
int tail_index(int main, int rows) {
  const KernelSet& ks = kernels();
  int best = main;
  for (int i = 0; i < ks.count; ++i)
    if (ks.k[i].nr == ks.k[main].nr && ks.k[i].mr >= rows && ks.k[i].mr < ks.k[best].mr) best = i;
  return best;
}

const Kernel& tail_kernel(const Kernel& K, int rows) {
  const KernelSet& ks = kernels();
  return ks.k[tail_index(int(&K - ks.k), rows)];
}

// The kernel with the least expected time on an m-row product: the rows its full tiles and its
// tail kernel compute, each divided by that kernel's relative speed. The AVX-512 speeds are set so
// that m = 64 keeps 8×32 eight times (66.0; 12×32 five times and a 4×32 tail, 66.7, measured ~4%
// slower on M1's conv2 weight gradient) and m = 128 takes 12×32 ten times and an 8×32 tail
// (128.2, against 132 for 12×32 with a padded tile, or for 8×32).
const Kernel& kernel_for(int m) {
  const KernelSet& ks = kernels();
  int best = 0;
  float bestCost = 0.0f;
  for (int i = 0; i < ks.count; ++i) {
    const int mr = ks.k[i].mr, rem = m % mr;
    float cost = float(m - rem) / ks.speed[i];
    if (rem > 0) {
      const int t = tail_index(i, rem);
      cost += float(ks.k[t].mr) / ks.speed[t];
    }
    if (i == 0 || cost < bestCost) best = i, bestCost = cost;
  }
  return ks.k[best];
}

// ---------------------------------------------------------------- scratch

struct AlignedBuffer {
  float* data = nullptr;
  size_t size = 0;
  ~AlignedBuffer() { std::free(data); }
  float* get(size_t n) {
    if (n > size) {
      std::free(data);
      const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
      data = static_cast<float*>(std::aligned_alloc(64, bytes));
      size = n;
    }
    return data;
  }
};

// Per-thread packing buffers, grown on demand and reused across calls.
struct Scratch {
  AlignedBuffer a, b, partial;
};
thread_local Scratch tl_scratch;

// ---------------------------------------------------------------- packing

// Packing a k-contiguous operand (A untransposed, B transposed: rows of the source run along k)
// is a transpose: dst[p·w + r] = src[r·ls + p]. Element by element that costs a load and a store
// per float, about as much as the micro-kernel's FMAs on that float for the 64-128-row products of
// a linear layer's forward or a weight gradient; in 8×8 (and 4×8) register transposes it is a
// quarter of that. The AVX2 versions are used wherever a vector micro-kernel was picked (the CPU
// then has AVX2); the values are copied (times alpha) exactly as by the scalar loop.
#ifdef STRIDE_X86
// d[c·ld + r] = alpha·s[r·ls + c] for r, c < 8. Rows r and r + 4 are loaded as the two halves of
// one register (the inserts run beside the shuffle port), so the transpose itself is two rounds
// of 8 in-lane shuffles: 16 shuffles per 64 floats instead of 24 with a cross-lane round.
template <bool Scale>
__attribute__((target("avx2,fma"))) inline void transpose8x8(const float* s, int64_t ls, float* d, int ld,
                                                            __m256 va) {
  auto pair = [](const float* lo, const float* hi) __attribute__((target("avx2,fma"))) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(lo)), _mm_loadu_ps(hi), 1);
  };
  for (int h = 0; h < 8; h += 4) {  // columns [h, h+4)
    const __m256 r0 = pair(s + h, s + 4 * ls + h), r1 = pair(s + ls + h, s + 5 * ls + h);
    const __m256 r2 = pair(s + 2 * ls + h, s + 6 * ls + h), r3 = pair(s + 3 * ls + h, s + 7 * ls + h);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    __m256 c0 = _mm256_shuffle_ps(t0, t2, 0x44), c1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 c2 = _mm256_shuffle_ps(t1, t3, 0x44), c3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    if (Scale) {
      c0 = _mm256_mul_ps(va, c0), c1 = _mm256_mul_ps(va, c1);
      c2 = _mm256_mul_ps(va, c2), c3 = _mm256_mul_ps(va, c3);
    }
    _mm256_storeu_ps(d + h * ld, c0);
    _mm256_storeu_ps(d + (h + 1) * ld, c1);
    _mm256_storeu_ps(d + (h + 2) * ld, c2);
    _mm256_storeu_ps(d + (h + 3) * ld, c3);
  }
}

// d[c·ld + r] = alpha·s[r·ls + c] for r < 4, c < 8.
template <bool Scale>
__attribute__((target("avx2,fma"))) inline void transpose4x8(const float* s, int64_t ls, float* d, int ld,
                                                            __m256 va) {
  __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ls), r2 = _mm256_loadu_ps(s + 2 * ls),
         r3 = _mm256_loadu_ps(s + 3 * ls);
  if (Scale) {
    r0 = _mm256_mul_ps(va, r0), r1 = _mm256_mul_ps(va, r1);
    r2 = _mm256_mul_ps(va, r2), r3 = _mm256_mul_ps(va, r3);
  }
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  _mm_storeu_ps(d, _mm256_castps256_ps128(u0));
  _mm_storeu_ps(d + ld, _mm256_castps256_ps128(u1));
  _mm_storeu_ps(d + 2 * ld, _mm256_castps256_ps128(u2));
  _mm_storeu_ps(d + 3 * ld, _mm256_castps256_ps128(u3));
  _mm_storeu_ps(d + 4 * ld, _mm256_extractf128_ps(u0, 1));
  _mm_storeu_ps(d + 5 * ld, _mm256_extractf128_ps(u1, 1));
  _mm_storeu_ps(d + 6 * ld, _mm256_extractf128_ps(u2, 1));
  _mm_storeu_ps(d + 7 * ld, _mm256_extractf128_ps(u3, 1));
}

// One micro-panel of width w from `rows` k-contiguous source rows (s + r·ls): d[p·w + r] =
// alpha·s[r·ls + p] for p < kc, zero for r in [rows, w). Rows in groups of 8 and 4 go through the
// register transposes, 8 values of k at a time; the rest element by element.
template <bool Scale>
__attribute__((target("avx2,fma"))) void pack_transposed_avx2(const float* s, int64_t ls, int rows, int kc, int w,
                                                             float alpha, float* d) {
  const __m256 va = _mm256_set1_ps(alpha);
  int r0 = 0;
  for (; r0 + 8 <= rows; r0 += 8) {
    const float* sr = s + r0 * ls;
    int p = 0;
    for (; p + 8 <= kc; p += 8) transpose8x8<Scale>(sr + p, ls, d + p * w + r0, w, va);
    for (; p < kc; ++p)
      for (int r = 0; r < 8; ++r) d[p * w + r0 + r] = Scale ? alpha * sr[r * ls + p] : sr[r * ls + p];
  }
  for (; r0 + 4 <= rows; r0 += 4) {
    const float* sr = s + r0 * ls;
    int p = 0;
    for (; p + 8 <= kc; p += 8) transpose4x8<Scale>(sr + p, ls, d + p * w + r0, w, va);
    for (; p < kc; ++p)
      for (int r = 0; r < 4; ++r) d[p * w + r0 + r] = Scale ? alpha * sr[r * ls + p] : sr[r * ls + p];
  }
  if (r0 < w)
    for (int p = 0; p < kc; ++p) {
      float* dp = d + p * w;
      int r = r0;
      for (; r < rows; ++r) dp[r] = Scale ? alpha * s[r * ls + p] : s[r * ls + p];
      for (; r < w; ++r) dp[r] = 0.0f;
    }
}
#endif

// Whether pack_transposed_avx2 may run here: a vector micro-kernel was picked.
bool avx2_pack() {
  static const bool on = std::strcmp(kernel().name, "avx512") == 0 || std::strcmp(kernel().name, "avx2") == 0;
  return on;
}

// The transposing pack of one micro-panel: vectorised when the CPU allows, else element by element.
// Returns false (nothing done) when the caller should use its scalar loop.
inline bool pack_transposed(const float* s, int64_t ls, int rows, int kc, int w, float alpha, float* d) {
#ifdef STRIDE_X86
  if (kc >= 8 && avx2_pack()) {
    if (alpha == 1.0f)
      pack_transposed_avx2<false>(s, ls, rows, kc, w, alpha, d);
    else
      pack_transposed_avx2<true>(s, ls, rows, kc, w, alpha, d);
    return true;
  }
#endif
  (void)s, (void)ls, (void)rows, (void)kc, (void)w, (void)alpha, (void)d;
  return false;
}


// A block rows [i0, i0+mc) × cols [p0, p0+kc) of op(A), times alpha, into MR-row micro-panels:
// dst[panel][p][r]. Rows past mc are zero.
// The last panel, when partial, is `mrTail` rows tall (the tail kernel's height).
void pack_a(bool ta, const float* a, int lda, int i0, int p0, int mc, int kc, float alpha, int mr, int mrTail,
            float* dst) {
  for (int ir = 0; ir < mc; ir += mr) {
    const int rows = std::min(mr, mc - ir);
    float* d = dst + static_cast<int64_t>(ir) * kc;
    const int w = rows < mr ? mrTail : mr;
    if (!ta && pack_transposed(a + static_cast<int64_t>(i0 + ir) * lda + p0, lda, rows, kc, w, alpha, d)) {
      continue;
    } else if (!ta) {
      const float* src[32];
      for (int r = 0; r < rows; ++r) src[r] = a + static_cast<int64_t>(i0 + ir + r) * lda + p0;
      for (int p = 0; p < kc; ++p) {
        float* dp = d + p * w;
        int r = 0;
        if (alpha == 1.0f)
          for (; r < rows; ++r) dp[r] = src[r][p];
        else
          for (; r < rows; ++r) dp[r] = alpha * src[r][p];
        for (; r < w; ++r) dp[r] = 0.0f;
      }
    } else {
      for (int p = 0; p < kc; ++p) {
        const float* s = a + static_cast<int64_t>(p0 + p) * lda + i0 + ir;
        float* dp = d + p * w;
        int r = 0;
        if (alpha == 1.0f)
          for (; r < rows; ++r) dp[r] = s[r];
        else
          for (; r < rows; ++r) dp[r] = alpha * s[r];
        for (; r < w; ++r) dp[r] = 0.0f;
      }
    }
  }
}

// One packed row of NR floats: fixed-size copies the compiler turns into a few vector moves (a
// memcpy call per 64-128 bytes would cost more than the copy).
inline void copy_panel_row(float* __restrict d, const float* __restrict s, int nr) {
  switch (nr) {
    case 32:
      std::memcpy(d, s, 32 * sizeof(float));
      break;
    case 16:
      std::memcpy(d, s, 16 * sizeof(float));
      break;
    case 8:
      std::memcpy(d, s, 8 * sizeof(float));
      break;
    default:
      for (int c = 0; c < nr; ++c) d[c] = s[c];
  }
}

// Where column j of a B or C operand lives: plain (j) or segmented, (j / len)·stride + j % len, for
// a matrix whose columns are split into equal runs stored apart (n = samples × positions, say).
struct ColMap {
  int64_t len = 0, stride = 0;  // len == 0: plain
  int64_t at(int64_t j) const { return len == 0 ? j : (j / len) * stride + j % len; }
  // True when columns [j, j + cols) are contiguous in memory.
  bool contiguous(int64_t j, int cols) const { return len == 0 || j / len == (j + cols - 1) / len; }
};

// One NR-column micro-panel of B: rows [p0, p0+kc) × cols [j, j+cols) of op(B) into d[p][c]
// (columns past `cols` zero).
void pack_b_panel(bool tb, const float* b, int ldb, const ColMap& bm, int p0, int64_t j, int kc, int cols, int nr,
                  float* d) {
  if (tb) {
    if (pack_transposed(b + j * ldb + p0, ldb, cols, kc, nr, 1.0f, d)) return;
    // op(B)(p, j) = b[j·ldb + p]: read `cols` contiguous rows of b in step, write contiguously.
    const float* src[64];
    for (int c = 0; c < cols; ++c) src[c] = b + (j + c) * ldb + p0;
    for (int p = 0; p < kc; ++p) {
      float* dp = d + p * nr;
      int c = 0;
      for (; c < cols; ++c) dp[c] = src[c][p];
      for (; c < nr; ++c) dp[c] = 0.0f;
    }
  } else if (bm.contiguous(j, cols)) {
    const float* base = b + bm.at(j);
    for (int p = 0; p < kc; ++p) {
      const float* s = base + static_cast<int64_t>(p0 + p) * ldb;
      float* dp = d + p * nr;
      if (cols == nr) {
        copy_panel_row(dp, s, nr);
      } else {
        int c = 0;
        for (; c < cols; ++c) dp[c] = s[c];
        for (; c < nr; ++c) dp[c] = 0.0f;
      }
    }
  } else {  // the panel straddles two segments
    int64_t off[64];
    for (int c = 0; c < cols; ++c) off[c] = bm.at(j + c);
    for (int p = 0; p < kc; ++p) {
      const float* row = b + static_cast<int64_t>(p0 + p) * ldb;
      float* dp = d + p * nr;
      int c = 0;
      for (; c < cols; ++c) dp[c] = row[off[c]];
      for (; c < nr; ++c) dp[c] = 0.0f;
    }
  }
}

// B block rows [p0, p0+kc) × cols [j0, j0+nc) of op(B) into NR-column micro-panels: dst[panel][p][c].
void pack_b(bool tb, const float* b, int ldb, const ColMap& bm, int p0, int64_t j0, int kc, int nc, int nr,
            float* dst) {
  for (int jr = 0; jr < nc; jr += nr)
    pack_b_panel(tb, b, ldb, bm, p0, j0 + jr, kc, std::min(nr, nc - jr), nr, dst + static_cast<int64_t>(jr) * kc);
}

// ---------------------------------------------------------------- driver

// C[m×n] (+)= alpha·op(A)·op(B) for the columns jBase + [0, n) of B and C (as mapped by bm, cm).
void gemm_block(const Kernel& K, bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
                const float* b, int ldb, const ColMap& bm, float beta, float* c, int ldc, const ColMap& cm,
                int64_t jBase) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) {
        float& cij = c[static_cast<int64_t>(i) * ldc + cm.at(jBase + j)];
        cij = beta == 0.0f ? 0.0f : beta * cij;
      }
    return;
  }
  const int mr = K.mr, nr = K.nr;
  const int MC = K.mc, KC = K.kc;
  const int NC = std::min(K.nc, (n + nr - 1) / nr * nr);
  Scratch& s = tl_scratch;
  float* pa = s.a.get(static_cast<size_t>(MC) * KC);
  alignas(64) float tmp[16 * 64];  // one tile (MR·NR <= 1024)

  // The micro-kernels of one B micro-panel (global column jg, `cols` wide, packed at bp) against
  // the packed A block rows [ic, ic+mc); `next`, `nextCols`: the panel that follows (0 wide: none
  // known), whose first C tile the last kernel may prefetch.
  auto panel = [&](int ic, int mc, int kc, float be, int64_t jg, int cols, const float* bp, int64_t next,
                   int nextCols) {
    const bool contiguous = cm.contiguous(jg, cols);
    int64_t coff[64];  // where each column of the panel lives in C (edge tiles only)
    bool haveOff = false;
    const int rem = mc % mr;
    const Kernel& T = rem ? tail_kernel(K, rem) : K;  // the last panel's kernel
    for (int ir = 0; ir < mc; ir += mr) {
      const int rows = std::min(mr, mc - ir);
      const Kernel& U = rows < mr ? T : K;
      const float* ap = pa + static_cast<int64_t>(ir) * kc;
      float* crow = c + static_cast<int64_t>(ic + ir) * ldc;
      if (rows == U.mr && cols == nr && contiguous) {
        // The next tile written in place, for the kernel to prefetch (its first MR rows: past a
        // shorter tail tile, a few lines to spare): the one below, or at the bottom of the panel
        // the top of the next panel.
        const float* nextTile = nullptr;
        if (ir + mr < mc && (ir + 2 * mr <= mc || rem == T.mr))
          nextTile = crow + int64_t(mr) * ldc + cm.at(jg);
        else if (ir + mr >= mc && nextCols == nr && (mc >= mr || rem == T.mr) && cm.contiguous(next, nr))
          nextTile = c + int64_t(ic) * ldc + cm.at(next);
        U.ukr(kc, ap, bp, crow + cm.at(jg), ldc, be, nextTile);
      } else {
        U.ukr(kc, ap, bp, tmp, nr, 0.0f, nullptr);
        if (!haveOff) {
          for (int j = 0; j < cols; ++j) coff[j] = cm.at(jg + j);
          haveOff = true;
        }
        for (int r = 0; r < rows; ++r) {
          float* cr = crow + static_cast<int64_t>(r) * ldc;
          const float* tr = tmp + r * nr;
          if (contiguous) {
            float* cc = cr + coff[0];
            if (be == 0.0f)
              for (int j = 0; j < cols; ++j) cc[j] = tr[j];
            else if (be == 1.0f)
              for (int j = 0; j < cols; ++j) cc[j] += tr[j];
            else
              for (int j = 0; j < cols; ++j) cc[j] = be * cc[j] + tr[j];
          } else {
            for (int j = 0; j < cols; ++j) {
              float& cij = cr[coff[j]];
              cij = be == 0.0f ? tr[j] : be == 1.0f ? cij + tr[j] : be * cij + tr[j];
            }
          }
        }
      }
    }
  };

  if (m <= MC) {
    // A fits one block, so each packed B micro-panel is used by one pass of micro-kernels and
    // never again: pack it just before that pass into an L1-sized buffer rather than packing a
    // whole KC × NC block through L2 first. Same arithmetic, same order as the blocked loop.
    // M1's conv2 GEMMs (n = 1800) packed ~1 MiB of B through L2 (one core: ~154 -> ~175
    // GFLOP/s forward); a software prefetch of the next panel's source, tried on its linear
    // backward (B read 32 columns at a time from 128 rows far apart), changed nothing.
    // Column blocks of NC still bound the part of C that each block of k sweeps (when k > KC).
    float* bp = s.b.get(static_cast<size_t>(KC) * nr);
    for (int jc = 0; jc < n; jc += NC) {
      const int nc = std::min(NC, n - jc);
      for (int pc = 0; pc < k; pc += KC) {
        const int kc = std::min(KC, k - pc);
        const float be = pc == 0 ? beta : 1.0f;
        pack_a(ta, a, lda, 0, pc, m, kc, alpha, mr, tail_kernel(K, m % mr).mr, pa);
        for (int jr = jc; jr < jc + nc; jr += nr) {
          const int cols = std::min(nr, jc + nc - jr);
          const int64_t jg = jBase + jr;
          pack_b_panel(tb, b, ldb, bm, pc, jg, kc, cols, nr, bp);
          const int nextCols = jr + nr < jc + nc ? std::min(nr, jc + nc - jr - nr) : 0;
          panel(0, m, kc, be, jg, cols, bp, jg + nr, nextCols);
        }
      }
    }
    return;
  }

  float* pb = s.b.get(static_cast<size_t>(KC) * NC);
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = std::min(NC, n - jc);
    for (int pc = 0; pc < k; pc += KC) {
      const int kc = std::min(KC, k - pc);
      const float be = pc == 0 ? beta : 1.0f;
      pack_b(tb, b, ldb, bm, pc, jBase + jc, kc, nc, nr, pb);
      for (int ic = 0; ic < m; ic += MC) {
        const int mc = std::min(MC, m - ic);
        pack_a(ta, a, lda, ic, pc, mc, kc, alpha, mr, tail_kernel(K, mc % mr).mr, pa);
        for (int jr = 0; jr < nc; jr += nr)
          panel(ic, mc, kc, be, jBase + jc + jr, std::min(nr, nc - jr), pb + static_cast<int64_t>(jr) * kc,
                jBase + jc + jr + nr, std::min(nr, nc - jr - nr));
      }
    }
  }
}

// ---------------------------------------------------------------- A·Bᵀ by dot products

// STRIDE_GEMM_NT=0 disables the dot-product path (for comparisons).
bool nt_enabled() {
  static const bool on = [] {
    const char* e = std::getenv("STRIDE_GEMM_NT");
    return !(e && std::strcmp(e, "0") == 0);
  }();
  return on;
}

// When both operands are stored k-contiguous (A m×k, B n×k: C = A·Bᵀ) and k is long compared with
// m and n — a convolution's weight gradient (dY·colᵀ, k = batch × positions), a linear layer's
// forward (X·Wᵀ) — packing would spend most of its time transposing, each packed element being
// used only m or n times. Here an MI×NJ tile of C is instead held as vector accumulators along k,
// streaming straight from A and B; one horizontal sum per tile and k-chunk.
#if defined(__AVX512F__)
constexpr int kVL = 16;
#elif defined(__AVX__)
constexpr int kVL = 8;
#else
constexpr int kVL = 4;
#endif
typedef float vfloat __attribute__((vector_size(kVL * sizeof(float))));

inline vfloat loadv(const float* p) {
  vfloat v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// A run of k: columns [0, len) of A_i at a + aOff + i·lda and of B_j at b + bOff + j·ldb.
struct Piece {
  int64_t aOff, bOff;
  int len;
};

// Σ of the lanes of v, by halving (vector adds), then 4 scalars.
inline float hsum(vfloat v) {
  typedef float v4 __attribute__((vector_size(16)));
#if defined(__AVX512F__) || defined(__AVX__)
  typedef float v8 __attribute__((vector_size(32)));
#endif
#if defined(__AVX512F__)
  v8 lo8, hi8;
  std::memcpy(&lo8, &v, 32);
  std::memcpy(&hi8, reinterpret_cast<const char*>(&v) + 32, 32);
  const v8 s8 = lo8 + hi8;
#elif defined(__AVX__)
  const v8 s8 = v;
#endif
#if defined(__AVX512F__) || defined(__AVX__)
  v4 lo4, hi4;
  std::memcpy(&lo4, &s8, 16);
  std::memcpy(&hi4, reinterpret_cast<const char*>(&s8) + 16, 16);
  const v4 s4 = lo4 + hi4;
#else
  const v4 s4 = v;
#endif
  return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

// One MI×NJ tile of C over the given k runs. The accumulators live in registers; between chunks of
// k they are parked in `park` (when given): `first` starts them at zero, `last` reduces them and
// writes C = alpha·sum + beta·C; otherwise they are stored back for the next chunk.
template <int MI, int NJ>
void nt_tile(const Piece* pieces, int count, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
             int64_t ldc, float alpha, float beta, vfloat* park, bool first, bool last) {
  vfloat acc[MI][NJ];
  float tail[MI][NJ];
  for (int i = 0; i < MI; ++i)
    for (int j = 0; j < NJ; ++j) {
      acc[i][j] = first ? vfloat{} : park[i * NJ + j];
      tail[i][j] = 0.0f;
    }
  for (int s = 0; s < count; ++s) {
    const float* ap = a + pieces[s].aOff;
    const float* bp = b + pieces[s].bOff;
    const int len = pieces[s].len;
    int p = 0;
    for (; p + kVL <= len; p += kVL) {
      // B's NJ vectors stay in registers; A's rows are loaded one at a time.
      vfloat bv[NJ];
      for (int j = 0; j < NJ; ++j) bv[j] = loadv(bp + j * ldb + p);
      for (int i = 0; i < MI; ++i) {
        const vfloat av = loadv(ap + i * lda + p);
        for (int j = 0; j < NJ; ++j) acc[i][j] += av * bv[j];
      }
    }
    for (; p < len; ++p)
      for (int i = 0; i < MI; ++i)
        for (int j = 0; j < NJ; ++j) tail[i][j] += ap[i * lda + p] * bp[j * ldb + p];
  }
  for (int i = 0; i < MI; ++i)
    for (int j = 0; j < NJ; ++j) acc[i][j][0] += tail[i][j];
  if (!last) {
    for (int i = 0; i < MI; ++i)
      for (int j = 0; j < NJ; ++j) park[i * NJ + j] = acc[i][j];
    return;
  }
  for (int i = 0; i < MI; ++i)
    for (int j = 0; j < NJ; ++j) {
      const float sum = hsum(acc[i][j]);
      float* cij = c + i * ldc + j;
      if (beta == 0.0f)
        *cij = alpha * sum;
      else if (beta == 1.0f)
        *cij += alpha * sum;
      else
        *cij = beta * *cij + alpha * sum;
    }
}

using NtTile = void (*)(const Piece*, int, const float*, int64_t, const float*, int64_t, float*, int64_t, float,
                        float, vfloat*, bool, bool);
#define STRIDE_NT_ROW(MI) {nt_tile<MI, 1>, nt_tile<MI, 2>, nt_tile<MI, 3>}
#if defined(__AVX512F__)
// 32 vector registers: 8×3 accumulators + 3 B vectors + 1 A vector. A tile's rows of A stay in L1
// while the tiles of its row of C go by, so each streamed B vector feeds 8 FMAs.
constexpr int kNtMI = 8, kNtNJ = 3;
const NtTile kNtTiles[kNtMI][kNtNJ] = {STRIDE_NT_ROW(1), STRIDE_NT_ROW(2), STRIDE_NT_ROW(3), STRIDE_NT_ROW(4),
                                       STRIDE_NT_ROW(5), STRIDE_NT_ROW(6), STRIDE_NT_ROW(7), STRIDE_NT_ROW(8)};
#else
// 16 vector registers (AVX2, SSE, NEON): 3×3 accumulators + 3 B vectors + 1 A vector, no spills.
constexpr int kNtMI = 3, kNtNJ = 3;
const NtTile kNtTiles[kNtMI][kNtNJ] = {STRIDE_NT_ROW(1), STRIDE_NT_ROW(2), STRIDE_NT_ROW(3)};
#endif
#undef STRIDE_NT_ROW

// Accumulators of tiles parked between k chunks (per thread, reused).
struct ParkBuffer {
  vfloat* data = nullptr;
  size_t size = 0;
  ~ParkBuffer() { std::free(data); }
  vfloat* get(size_t n) {
    if (n > size) {
      std::free(data);
      data = static_cast<vfloat*>(std::aligned_alloc(64, ((n * sizeof(vfloat) + 63) / 64) * 64));
      size = n;
    }
    return data;
  }
};
thread_local ParkBuffer tl_park;

// C[m×n] = alpha · Σ_s A_s·B_sᵀ + beta·C, with A_s = a + s·strideA (m × len, rows lda apart) and
// B_s = b + s·strideB (n × len, rows ldb apart). The k runs are grouped into chunks of about KC
// elements, small enough that a tile's rows of A stay in L1 while the tiles of its row of C go
// by; per chunk each tile of C in [t0, t1) (row-major MI×NJ tiles) is updated once, and its vector
// accumulators are parked between chunks, so each element of C is reduced and written only once.
void nt_sum_tiles(int m, int n, int len, int count, float alpha, const float* a, int64_t lda, int64_t strideA,
                  const float* b, int64_t ldb, int64_t strideB, float beta, float* c, int ldc, int t0, int t1) {
  const int tilesN = (n + kNtNJ - 1) / kNtNJ;
  // Chunks of pieces: runs of k, each run cut to at most KC and gathered up to about KC.
  constexpr int KC = 512;
  std::vector<Piece> pieces;
  std::vector<int> chunkEnd;  // index past each chunk's last piece
  int inChunk = 0;
  for (int s = 0; s < count; ++s)
    for (int p0 = 0; p0 < len; p0 += KC) {
      const int l = std::min(KC, len - p0);
      pieces.push_back({s * strideA + p0, s * strideB + p0, l});
      inChunk += l;
      if (inChunk >= KC) {
        chunkEnd.push_back(int(pieces.size()));
        inChunk = 0;
      }
    }
  if (inChunk > 0 || chunkEnd.empty()) chunkEnd.push_back(int(pieces.size()));  // (an empty sum still applies beta)
  constexpr int kTileVecs = kNtMI * kNtNJ;
  vfloat* park = chunkEnd.size() > 1 ? tl_park.get(size_t(t1 - t0) * kTileVecs) : nullptr;
  int begin = 0;
  for (size_t ch = 0; ch < chunkEnd.size(); ++ch) {
    const bool first = ch == 0, last = ch + 1 == chunkEnd.size();
    for (int t = t0; t < t1; ++t) {
      const int i = (t / tilesN) * kNtMI, j = (t % tilesN) * kNtNJ;
      const int mi = std::min(kNtMI, m - i), nj = std::min(kNtNJ, n - j);
      kNtTiles[mi - 1][nj - 1](pieces.data() + begin, chunkEnd[ch] - begin, a + int64_t(i) * lda, lda,
                               b + int64_t(j) * ldb, ldb, c + int64_t(i) * ldc + j, ldc, alpha, beta,
                               park ? park + size_t(t - t0) * kTileVecs : nullptr, first, last);
    }
    begin = chunkEnd[ch];
  }
}

void nt_sum(int m, int n, int len, int count, float alpha, const float* a, int64_t lda, int64_t strideA,
            const float* b, int64_t ldb, int64_t strideB, float beta, float* c, int ldc, int threads) {
  const int tiles = ((m + kNtMI - 1) / kNtMI) * ((n + kNtNJ - 1) / kNtNJ);
  // A few parts per thread, claimed dynamically: a thread slowed by other work on its core
  // simply takes fewer of them.
  const int parts = threads <= 1 ? 1 : std::min(threads * 4, tiles);
  if (parts <= 1) {
    nt_sum_tiles(m, n, len, count, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, 0, tiles);
    return;
  }
  parallel_for(parts, [&](int part, int) {
    nt_sum_tiles(m, n, len, count, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc,
                 int(int64_t(tiles) * part / parts), int(int64_t(tiles) * (part + 1) / parts));
  });
}

// Dot products win when packing would dominate: k long next to the smaller of m and n.
// From 64 rows and columns on, the packed path's 12×32 micro-kernel (each loaded value feeding 12
// or 32 FMAs) beats the dot products even for very long k: M1's Linear(14400→128) forward,
// m = n = 128, k = 14400, ran at ~75 GFLOP/s here and ~140 packed (2 threads, split along k).
bool prefer_nt(int m, int n, int k) {
  const int mn = std::min(m, n);
  return k >= 64 && mn < 64 && (mn < 16 || k >= 8 * mn);
}

}  // namespace

const char* gemm_simd() { return kernel().name; }


namespace {

// The packed path over column maps, split across threads by column blocks (each thread packs its
// own B block and reuses it over all of A) or by row blocks when C is tall, or along k (private
// partials, then summed) when C is tiny and k long. Each part is an independent sub-GEMM.
void packed(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
            const ColMap& bm, float beta, float* c, int ldc, const ColMap& cm, int T) {
  const double work = static_cast<double>(m) * n * std::max(k, 1);
  const Kernel& K = kernel_for(m);
  if (T <= 1 || k <= 0 || alpha == 0.0f || work < 96.0 * 96 * 96) {
    gemm_block(K, ta, tb, m, n, k, alpha, a, lda, b, ldb, bm, beta, c, ldc, cm, 0);
    return;
  }
  const int tilesM = (m + K.mr - 1) / K.mr;
  const int tilesN = (n + K.nr - 1) / K.nr;
  // Parts of the work are claimed dynamically by the pool's threads; a few per thread let a thread
  // slowed by other work on its core (a machine shared with other processes) take fewer of them.
  // Results never depend on which thread ran a part, and the parts depend only on T.
  auto split = [&](int tiles, int unit, int extent, bool cols) {
    // Each part re-packs all of the operand it shares (A for a split of the columns, B for the
    // rows): one part per thread, unless parts of 256+ columns (rows) keep that re-packing under
    // ~1/256 of a part's work (M1's linear backward, 14400 columns: 8 parts of 1800).
    const int parts = std::min(extent >= 4 * T * 256 ? 4 * T : T, tiles);
    parallel_for(parts, [&](int part, int) {
      const int t0 = static_cast<int>(static_cast<int64_t>(tiles) * part / parts);
      const int t1 = static_cast<int>(static_cast<int64_t>(tiles) * (part + 1) / parts);
      const int b0 = t0 * unit;
      const int b1 = std::min(extent, t1 * unit);
      if (b0 >= b1) return;
      if (cols) {
        gemm_block(K, ta, tb, m, b1 - b0, k, alpha, a, lda, b, ldb, bm, beta, c, ldc, cm, b0);
      } else {
        const float* as = ta ? a + b0 : a + static_cast<int64_t>(b0) * lda;
        gemm_block(K, ta, tb, b1 - b0, n, k, alpha, as, lda, b, ldb, bm, beta, c + static_cast<int64_t>(b0) * ldc, ldc,
                   cm, 0);
      }
    });
  };
  // k much longer than C is wide and tall (a linear layer's forward, X·Wᵀ with 14400 inputs): a
  // split of C would make every thread pack all of A or all of B; a split of k packs each element
  // once and leaves only a few small partial sums to add.
  const bool longK = k >= 4 * K.kc && k >= 16 * std::max(m, n);
  if (!longK && m > n && tilesM >= 2 * T) {
    // Taller than wide: a split of the columns would have every part pack all of A, the larger
    // operand; a split of the rows re-packs only B (M1's Linear(14400→128) at batch 1000: A is
    // 57.6 MB, B 7.4 MB: 15.1 -> 11.9 ms on 2 threads).
    split(tilesM, K.mr, m, false);
  } else if (!longK && (tilesN >= 2 * T || (tilesN >= T && tilesN >= tilesM))) {
    split(tilesN, K.nr, n, true);
  } else if (!longK && tilesM >= T) {
    split(tilesM, K.mr, m, false);
  } else if (k >= 4 * K.kc) {
    // Parts of whole KC blocks (no short block at a part's end), up to 4 per thread while each
    // keeps 2+ blocks and the partials stay under 16 MiB: every element is still packed once
    // (M1's Linear(14400→128) forward: 8 parts of 7 blocks, partials of 64 KiB).
    const int blocks = (k + K.kc - 1) / K.kc;
    const int64_t mn = static_cast<int64_t>(m) * n;
    const int parts = mn * 4 * T <= (int64_t(1) << 22) ? std::max(T, std::min(4 * T, blocks / 2)) : T;
    float* partial = tl_scratch.partial.get(static_cast<size_t>(mn) * parts);
    const ColMap plain;
    parallel_for(parts, [&](int part, int) {
      const int k0 = std::min(k, blocks * part / parts * K.kc);
      const int k1 = std::min(k, blocks * (part + 1) / parts * K.kc);
      const float* as = ta ? a + static_cast<int64_t>(k0) * lda : a + k0;
      const float* bs = tb ? b + k0 : b + static_cast<int64_t>(k0) * ldb;
      gemm_block(K, ta, tb, m, n, k1 - k0, alpha, as, lda, bs, ldb, bm, 0.0f, partial + mn * part, n, plain, 0);
    });
    // Σ of the partials in part order, into the first (a loop the compiler vectorises).
    for (int t = 1; t < parts; ++t) {
      const float* __restrict src = partial + mn * t;
      float* __restrict dst = partial;
      for (int64_t e = 0; e < mn; ++e) dst[e] += src[e];
    }
    for (int i = 0; i < m; ++i) {
      float* cr = c + static_cast<int64_t>(i) * ldc;
      const float* sr = partial + static_cast<int64_t>(i) * n;
      for (int j = 0; j < n; ++j) {
        float& cij = cr[cm.at(j)];
        cij = beta == 0.0f ? sr[j] : beta * cij + sr[j];
      }
    }
  } else {
    gemm_block(K, ta, tb, m, n, k, alpha, a, lda, b, ldb, bm, beta, c, ldc, cm, 0);
  }
}

void sgemm_impl(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
                float beta, float* c, int ldc, int T) {
  if (m <= 0 || n <= 0) return;
  if (!ta && tb && alpha != 0.0f && prefer_nt(m, n, k) && nt_enabled()) {
    const double flops = double(m) * n * k;
    nt_sum(m, n, k, 1, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, flops < 96.0 * 96 * 96 ? 1 : T);
    return;
  }
  const ColMap plain;
  packed(ta, tb, m, n, k, alpha, a, lda, b, ldb, plain, beta, c, ldc, plain, T);
}

}  // namespace

void sgemm_nt_sum(int m, int n, int len, int count, float alpha, const float* a, int64_t lda, int64_t strideA,
                  const float* b, int64_t ldb, int64_t strideB, float beta, float* c, int ldc) {
  if (m <= 0 || n <= 0) return;
  const double flops = double(m) * n * len * count;
  const int T = in_parallel_region() || flops < 96.0 * 96 * 96 ? 1 : num_threads();
  const int k = int(std::min<int64_t>(int64_t(len) * count, INT32_MAX));
  static const bool packedWins = std::strcmp(kernel().name, "avx512") == 0;
  if (packedWins && count > 0 && len > 0 && alpha != 0.0f && !prefer_nt(m, n, k) && lda <= INT32_MAX &&
      ldb <= INT32_MAX) {
    // 64+ rows and columns: the packed path, one product per run of k (sample), now that the
    // transposing packs are register transposes. M1's conv2 weight gradient (64 × 128, two runs
    // of 900): ~103 -> ~160 GFLOP/s on one core (CPU time, native/bench/gemm_shapes.cc). Only
    // with the AVX-512 kernels: with STRIDE_SIMD=avx2 (6×16 kernel, the dot products still in
    // AVX-512 on this CPU) it measured ~105 -> ~94, so the dot products stay elsewhere.
    const ColMap plain;
    for (int s = 0; s < count; ++s)
      packed(false, true, m, n, len, alpha, a + s * strideA, int(lda), b + s * strideB, int(ldb), plain,
             s == 0 ? beta : 1.0f, c, ldc, plain, T);
    return;
  }
  nt_sum(m, n, len, count, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, T);
}

void sgemm_serial(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                  int ldb, float beta, float* c, int ldc) {
  sgemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1);
}

void sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
           float beta, float* c, int ldc) {
  sgemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, in_parallel_region() ? 1 : num_threads());
}

void sgemm_seg(bool ta, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
               int64_t bSegLen, int64_t bSegStride, float beta, float* c, int ldc, int64_t cSegLen,
               int64_t cSegStride) {
  if (m <= 0 || n <= 0) return;
  ColMap bm, cm;
  if (bSegLen > 0 && bSegLen < n) bm = {bSegLen, bSegStride};
  if (cSegLen > 0 && cSegLen < n) cm = {cSegLen, cSegStride};
  packed(ta, false, m, n, k, alpha, a, lda, b, ldb, bm, beta, c, ldc, cm, in_parallel_region() ? 1 : num_threads());
}

}  // namespace stride
