// Max and average pooling, with exactly the semantics of src/backend/js/pool.ts (PyTorch's CPU
// kernels): see that file for the rules. Planes are independent, so they are split over threads.
//
// The forward passes work one plane and one window tap (kd, kh, kw) at a time: the tap's input
// value for every output of the plane is gathered into a flat array (a fill value where the tap
// falls into padding), then a straight loop over the plane combines it into the running result.
// Those loops are long (whole feature maps, not 7..28-wide rows) and branch-free, so they
// vectorise; and for each output the taps are still combined in PyTorch's order (depth, rows,
// columns), so ties, NaNs and float sums come out as there.
//
// Max pooling's most common case, 2×2 windows with stride 2 and no padding, has its own AVX2 path
// (deinterleaved even/odd columns, eight outputs per step): twice as fast as the general one.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels.h"
#include "threadpool.h"

namespace stride {
namespace {

// Per output position along one dim: first real tap, number of real taps, taps inside the padded input.
struct Spans {
  std::vector<int> first, count, padded;
};

Spans spans(int in, int out, int k, int s, int p, int d) {
  Spans r;
  r.first.resize(out);
  r.count.resize(out);
  r.padded.resize(out);
  for (int o = 0; o < out; ++o) {
    const int start = o * s - p;
    const int endPadded = std::min(start + (k - 1) * d + 1, in + p);
    r.padded[o] = std::max(0, (endPadded - start + d - 1) / d);
    int f = start;
    if (f < 0) f += ((-f + d - 1) / d) * d;
    const int end = std::min(start + (k - 1) * d + 1, in);
    r.first[o] = f;
    r.count[o] = f < end ? (end - f + d - 1) / d : 0;
  }
  return r;
}

struct AllSpans {
  Spans s[3];
  explicit AllSpans(const PoolGeom& g) {
    for (int i = 0; i < 3; ++i) s[i] = spans(g.in[i], g.out[i], g.k[i], g.s[i], g.p[i], g.d[i]);
  }
};

inline int64_t in_plane(const PoolGeom& g) { return int64_t(g.in[0]) * g.in[1] * g.in[2]; }
inline int64_t out_plane(const PoolGeom& g) { return int64_t(g.out[0]) * g.out[1] * g.out[2]; }

// Grain: enough planes per task that a task is worth waking a thread for.
int64_t plane_grain(const PoolGeom& g) {
  const int64_t work = std::max<int64_t>(1, out_plane(g) * g.k[0] * g.k[1] * g.k[2]);
  return std::max<int64_t>(1, 16384 / work);
}

// Output columns ow in [lo, hi) whose tap at offset `off` (= t·d − p) lands inside [0, in).
inline void tap_range(int out, int in, int stride, int off, int& lo, int& hi) {
  lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  const int last = in - 1 - off;
  hi = last < 0 ? 0 : last / stride + 1;
  lo = std::min(lo, out);
  hi = std::clamp(hi, lo, out);
}

// Per tap t along W: its offset t·d − p, and the output columns [lo, hi) it reaches inside the input.
struct TapRanges {
  std::vector<int> lo, hi, off;
  explicit TapRanges(const PoolGeom& g) {
    const int kW = g.k[2];
    lo.resize(kW);
    hi.resize(kW);
    off.resize(kW);
    for (int t = 0; t < kW; ++t) {
      off[t] = t * g.d[2] - g.p[2];
      tap_range(g.out[2], g.in[2], g.s[2], off[t], lo[t], hi[t]);
    }
  }
};

// vals[q] = the input under tap (kd, kh, kw) of every output q of the plane xp, or `fill`.
void gather_tap(const PoolGeom& g, const TapRanges& taps, const float* xp, int kd, int kh, int kw, float fill,
                float* vals) {
  const int D = g.in[0], H = g.in[1], W = g.in[2];
  const int oW = g.out[2], sW = g.s[2];
  const int off = taps.off[kw], lo = taps.lo[kw], hi = taps.hi[kw];
  float* v = vals;
  for (int od = 0; od < g.out[0]; ++od) {
    const int id = od * g.s[0] - g.p[0] + kd * g.d[0];
    for (int oh = 0; oh < g.out[1]; ++oh, v += oW) {
      const int ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
      if (id < 0 || id >= D || ih < 0 || ih >= H) {
        std::fill(v, v + oW, fill);
        continue;
      }
      const float* xr = xp + (int64_t(id) * H + ih) * W + off;
      std::fill(v, v + lo, fill);
      if (sW == 1)
        std::memcpy(v + lo, xr + lo, sizeof(float) * (hi - lo));
      else
        for (int ow = lo; ow < hi; ++ow) v[ow] = xr[int64_t(ow) * sW];
      std::fill(v + hi, v + oW, fill);
    }
  }
}

// Row offsets (id·H + ih)·W of the real window rows of output row (od, oh), in window order.
int window_rows(const AllSpans& sp, const PoolGeom& g, int od, int oh, std::vector<int64_t>& rows) {
  const Spans &sd = sp.s[0], &sh = sp.s[1];
  rows.clear();
  for (int a = 0, id = sd.first[od]; a < sd.count[od]; ++a, id += g.d[0])
    for (int b = 0, ih = sh.first[oh]; b < sh.count[oh]; ++b, ih += g.d[1])
      rows.push_back((int64_t(id) * g.in[1] + ih) * g.in[2]);
  return static_cast<int>(rows.size());
}

// Divisor of each output of a plane (0 where the window holds no real element).
std::vector<float> avg_divisors(const PoolGeom& g, const AllSpans& sp, bool cip) {
  std::vector<float> div(out_plane(g));
  int64_t q = 0;
  for (int od = 0; od < g.out[0]; ++od)
    for (int oh = 0; oh < g.out[1]; ++oh)
      for (int ow = 0; ow < g.out[2]; ++ow, ++q) {
        const int real = sp.s[0].count[od] * sp.s[1].count[oh] * sp.s[2].count[ow];
        const int padded = sp.s[0].padded[od] * sp.s[1].padded[oh] * sp.s[2].padded[ow];
        div[q] = real == 0 ? 0.0f : float(cip ? padded : real);
      }
  return div;
}

}  // namespace

// The 2×2 window with stride 2: every window lies inside the input, so the general path's
// machinery (gathers, the all -inf fallback, spans) reduces to four loads per output; PyTorch's
// scan order is kept: start from the top-left tap, then a later tap takes over when greater or
// NaN (so an all -inf window reports its first tap, and among NaNs the last one wins, as in the
// general path).
bool max_pool_is_2x2_stride2(const PoolGeom& g) {
  return g.k[0] == 1 && g.s[0] == 1 && g.p[0] == 0 && g.out[0] == g.in[0] && g.k[1] == 2 && g.k[2] == 2 &&
         g.s[1] == 2 && g.s[2] == 2 && g.p[1] == 0 && g.p[2] == 0 && g.d[1] == 1 && g.d[2] == 1 &&
         2 * int64_t(g.out[1]) <= g.in[1] && 2 * int64_t(g.out[2]) <= g.in[2];
}

namespace {

// One output row of the 2×2 window: rows r0, r1 of the input, flat index of r0's first element.
// The scan per output is PyTorch's (top-left, top-right, bottom-left, bottom-right).
inline void max2x2_scalar(const float* r0, const float* r1, int W, int32_t base, int from, int to, float* yr,
                          int32_t* ir) {
  for (int ow = from; ow < to; ++ow) {
    const float v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
    const int32_t off[4] = {0, 1, W, W + 1};
    float best = v[0];
    int32_t t = 0;
    for (int k = 1; k < 4; ++k)
      if (v[k] > best || v[k] != v[k]) best = v[k], t = off[k];
    yr[ow] = best;
    ir[ow] = base + 2 * ow + t;
  }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// Eight outputs at a time: 16 floats of each input row are split into even and odd columns (the
// in-lane shuffle interleaves 128-bit halves, which the 64-bit permute puts back in order), then
// each later tap replaces the running maximum where greater or NaN, with the tap's offset.
__attribute__((target("avx2"))) void max2x2_row_avx2(const float* r0, const float* r1, int W, int32_t base,
                                                      int oW, float* yr, int32_t* ir) {
  const __m256i lane = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  const __m256 off1 = _mm256_castsi256_ps(_mm256_set1_epi32(1));
  const __m256 offW = _mm256_castsi256_ps(_mm256_set1_epi32(W));
  const __m256 offW1 = _mm256_castsi256_ps(_mm256_set1_epi32(W + 1));
  int ow = 0;
  for (; ow + 8 <= oW; ow += 8) {
    const __m256 a0 = _mm256_loadu_ps(r0 + 2 * ow), a1 = _mm256_loadu_ps(r0 + 2 * ow + 8);
    const __m256 b0 = _mm256_loadu_ps(r1 + 2 * ow), b1 = _mm256_loadu_ps(r1 + 2 * ow + 8);
    const auto fix = [](__m256 v) {
      return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), _MM_SHUFFLE(3, 1, 2, 0)));
    };
    const __m256 tl = fix(_mm256_shuffle_ps(a0, a1, _MM_SHUFFLE(2, 0, 2, 0)));
    const __m256 tr = fix(_mm256_shuffle_ps(a0, a1, _MM_SHUFFLE(3, 1, 3, 1)));
    const __m256 bl = fix(_mm256_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0)));
    const __m256 br = fix(_mm256_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1)));
    __m256 best = tl;
    __m256 t = _mm256_setzero_ps();  // tap offsets, carried as int bits in float lanes
    __m256 take = _mm256_or_ps(_mm256_cmp_ps(tr, best, _CMP_GT_OQ), _mm256_cmp_ps(tr, tr, _CMP_UNORD_Q));
    best = _mm256_blendv_ps(best, tr, take);
    t = _mm256_blendv_ps(t, off1, take);
    take = _mm256_or_ps(_mm256_cmp_ps(bl, best, _CMP_GT_OQ), _mm256_cmp_ps(bl, bl, _CMP_UNORD_Q));
    best = _mm256_blendv_ps(best, bl, take);
    t = _mm256_blendv_ps(t, offW, take);
    take = _mm256_or_ps(_mm256_cmp_ps(br, best, _CMP_GT_OQ), _mm256_cmp_ps(br, br, _CMP_UNORD_Q));
    best = _mm256_blendv_ps(best, br, take);
    t = _mm256_blendv_ps(t, offW1, take);
    _mm256_storeu_ps(yr + ow, best);
    const __m256i i0 = _mm256_add_epi32(_mm256_set1_epi32(base + 2 * ow), lane);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(ir + ow), _mm256_add_epi32(i0, _mm256_castps_si256(t)));
  }
  max2x2_scalar(r0, r1, W, base, ow, oW, yr, ir);
}

// Sixteen outputs at a time from 32 floats of each row (one two-source permute per tap), and the
// row's tail in one masked step instead of scalar code: feature maps are often narrower than 16
// outputs (14 and 7 in the MNIST models), where the AVX2 loop above would be all tail.
__attribute__((target("avx512f"))) void max2x2_row_avx512(const float* r0, const float* r1, int W, int32_t base,
                                                            int oW, float* yr, int32_t* ir) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  const __m512i lane = _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1);
  const __m512i off1 = _mm512_set1_epi32(1), offW = _mm512_set1_epi32(W), offW1 = _mm512_set1_epi32(W + 1);
  for (int ow = 0; ow < oW; ow += 16) {
    const int rem = std::min(16, oW - ow);
    const __mmask16 mOut = __mmask16((1u << rem) - 1);
    const __mmask16 mLo = rem >= 8 ? __mmask16(0xFFFF) : __mmask16((1u << (2 * rem)) - 1);
    const __mmask16 mHi = rem <= 8 ? __mmask16(0) : __mmask16((1u << (2 * (rem - 8))) - 1);
    const float* p0 = r0 + 2 * ow;
    const float* p1 = r1 + 2 * ow;
    const __m512 a0 = _mm512_maskz_loadu_ps(mLo, p0), a1 = _mm512_maskz_loadu_ps(mHi, p0 + 16);
    const __m512 b0 = _mm512_maskz_loadu_ps(mLo, p1), b1 = _mm512_maskz_loadu_ps(mHi, p1 + 16);
    const __m512 tl = _mm512_permutex2var_ps(a0, even, a1), tr = _mm512_permutex2var_ps(a0, odd, a1);
    const __m512 bl = _mm512_permutex2var_ps(b0, even, b1), br = _mm512_permutex2var_ps(b0, odd, b1);
    __m512 best = tl;
    __m512i t = _mm512_setzero_si512();
    __mmask16 take = _mm512_cmp_ps_mask(tr, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(tr, tr, _CMP_UNORD_Q);
    best = _mm512_mask_mov_ps(best, take, tr);
    t = _mm512_mask_mov_epi32(t, take, off1);
    take = _mm512_cmp_ps_mask(bl, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(bl, bl, _CMP_UNORD_Q);
    best = _mm512_mask_mov_ps(best, take, bl);
    t = _mm512_mask_mov_epi32(t, take, offW);
    take = _mm512_cmp_ps_mask(br, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(br, br, _CMP_UNORD_Q);
    best = _mm512_mask_mov_ps(best, take, br);
    t = _mm512_mask_mov_epi32(t, take, offW1);
    _mm512_mask_storeu_ps(yr + ow, mOut, best);
    const __m512i i0 = _mm512_add_epi32(_mm512_set1_epi32(base + 2 * ow), lane);
    _mm512_mask_storeu_epi32(ir + ow, mOut, _mm512_add_epi32(i0, t));
  }
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}

// STRIDE_SIMD=avx2 (or lower) keeps the AVX2 path testable on AVX-512 machines, as for the GEMM.
bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") &&
                          (!std::getenv("STRIDE_SIMD") || std::strcmp(std::getenv("STRIDE_SIMD"), "avx512") == 0);
  return yes;
}

void max2x2_row(const float* r0, const float* r1, int W, int32_t base, int oW, float* yr, int32_t* ir) {
  if (has_avx512())
    max2x2_row_avx512(r0, r1, W, base, oW, yr, ir);
  else
    max2x2_row_avx2(r0, r1, W, base, oW, yr, ir);
}
#else
void max2x2_row(const float*, const float*, int, int32_t, int, float*, int32_t*) {}
bool has_avx2() { return false; }
#endif

void max_pool_2x2_stride2(const PoolGeom& g, const float* x, float* y, int32_t* idx) {
  const int D = g.in[0], H = g.in[1], W = g.in[2], oH = g.out[1], oW = g.out[2];
  const int64_t ip = in_plane(g), op = out_plane(g);
  parallel_range(g.planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, op * 4)), [&](int64_t b, int64_t e, int) {
    for (int64_t pl = b; pl < e; ++pl)
      for (int dd = 0; dd < D; ++dd) {
        const float* xp = x + pl * ip + int64_t(dd) * H * W;
        for (int oh = 0; oh < oH; ++oh) {
          const float* r0 = xp + int64_t(2 * oh) * W;
          const int64_t q = pl * op + (int64_t(dd) * oH + oh) * oW;
          // Flat index of the row's top-left tap within the (D, H, W) plane, as PyTorch reports it.
          const int32_t base = int32_t((int64_t(dd) * H + 2 * oh) * W);
          max2x2_row(r0, r0 + W, W, base, oW, y + q, idx + q);
        }
      }
  });
}

}  // namespace

void max_pool_forward(const PoolGeom& g, const float* x, float* y, int32_t* idx) {
  // Without AVX2 the general path's long vectorised loops beat a scalar 2×2 loop.
  if (has_avx2() && max_pool_is_2x2_stride2(g)) return max_pool_2x2_stride2(g, x, y, idx);
  const AllSpans sp(g);
  const TapRanges taps(g);
  const int H = g.in[1], W = g.in[2];
  const int64_t ip = in_plane(g), op = out_plane(g);
  // Offsets (k·d) of tap number t along each dim.
  std::vector<int> tapD, tapH, tapW;
  for (int kd = 0; kd < g.k[0]; ++kd)
    for (int kh = 0; kh < g.k[1]; ++kh)
      for (int kw = 0; kw < g.k[2]; ++kw) {
        tapD.push_back(kd * g.d[0]);
        tapH.push_back(kh * g.d[1]);
        tapW.push_back(kw * g.d[2]);
      }
  parallel_range(g.planes, plane_grain(g), [&](int64_t b, int64_t e, int) {
    std::vector<float> valBuf(op), bestBuf(op);
    std::vector<int32_t> tapBuf(op);
    float* __restrict vals = valBuf.data();
    float* __restrict best = bestBuf.data();
    int32_t* __restrict tap = tapBuf.data();
    const float ninf = -std::numeric_limits<float>::infinity();
    for (int64_t pl = b; pl < e; ++pl) {
      const float* xp = x + pl * ip;
      std::fill(best, best + op, ninf);
      std::fill(tap, tap + op, -1);
      int32_t t = 0;
      for (int kd = 0; kd < g.k[0]; ++kd)
        for (int kh = 0; kh < g.k[1]; ++kh)
          for (int kw = 0; kw < g.k[2]; ++kw, ++t) {
            gather_tap(g, taps, xp, kd, kh, kw, ninf, vals);  // padding: -inf never wins
            for (int64_t q = 0; q < op; ++q) {
              const float v = vals[q];
              const bool take = (v > best[q]) | (v != v);  // PyTorch: greater, or NaN
              best[q] = take ? v : best[q];
              tap[q] = take ? t : tap[q];
            }
          }
      // Flat input positions of the winning taps; if none won (all -inf), PyTorch's starting
      // index: the first real tap, or -1 when the window covers only padding.
      float* yq = y + pl * op;
      int32_t* iq = idx + pl * op;
      int64_t q = 0;
      for (int od = 0; od < g.out[0]; ++od)
        for (int oh = 0; oh < g.out[1]; ++oh)
          for (int ow = 0; ow < g.out[2]; ++ow, ++q) {
            yq[q] = best[q];
            int64_t id, ih, iw;
            if (tap[q] >= 0) {
              const int tq = tap[q];
              id = int64_t(od) * g.s[0] - g.p[0] + tapD[tq];
              ih = int64_t(oh) * g.s[1] - g.p[1] + tapH[tq];
              iw = int64_t(ow) * g.s[2] - g.p[2] + tapW[tq];
            } else if (sp.s[0].count[od] && sp.s[1].count[oh] && sp.s[2].count[ow]) {
              id = sp.s[0].first[od], ih = sp.s[1].first[oh], iw = sp.s[2].first[ow];
            } else {
              iq[q] = -1;
              continue;
            }
            iq[q] = int32_t((id * H + ih) * W + iw);
          }
    }
  });
}

void max_pool_backward(const PoolGeom& g, const float* dy, const int32_t* idx, float* dx) {
  const int64_t ip = in_plane(g), op = out_plane(g);
  parallel_range(g.planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, ip + op)), [&](int64_t b, int64_t e, int) {
    for (int64_t pl = b; pl < e; ++pl) {
      float* dxp = dx + pl * ip;
      std::memset(dxp, 0, sizeof(float) * ip);
      for (int64_t q = pl * op; q < (pl + 1) * op; ++q)
        if (idx[q] >= 0 && idx[q] < ip) dxp[idx[q]] += dy[q];
    }
  });
}

void avg_pool_forward(const PoolGeom& g, const float* x, float* y, bool cip) {
  const AllSpans sp(g);
  const TapRanges taps(g);
  const int64_t ip = in_plane(g), op = out_plane(g);
  const std::vector<float> div = avg_divisors(g, sp, cip);
  parallel_range(g.planes, plane_grain(g), [&](int64_t b, int64_t e, int) {
    std::vector<float> valBuf(op);
    float* __restrict vals = valBuf.data();
    for (int64_t pl = b; pl < e; ++pl) {
      const float* xp = x + pl * ip;
      float* __restrict yq = y + pl * op;
      std::fill(yq, yq + op, 0.0f);
      for (int kd = 0; kd < g.k[0]; ++kd)
        for (int kh = 0; kh < g.k[1]; ++kh)
          for (int kw = 0; kw < g.k[2]; ++kw) {
            gather_tap(g, taps, xp, kd, kh, kw, 0.0f, vals);  // padding adds 0
            for (int64_t q = 0; q < op; ++q) yq[q] += vals[q];
          }
      for (int64_t q = 0; q < op; ++q) yq[q] = div[q] == 0.0f ? 0.0f : yq[q] / div[q];
    }
  });
}

// The backward pass scatters dy/divisor to every real tap, walking the windows output row by
// output row (rows of the window × taps along W, each a strided add over the output columns).
void avg_pool_backward(const PoolGeom& g, const float* dy, float* dx, bool cip) {
  const AllSpans sp(g);
  const TapRanges taps(g);
  const int oW = g.out[2], sW = g.s[2], kW = g.k[2];
  const int64_t ip = in_plane(g), op = out_plane(g);
  const std::vector<float> div = avg_divisors(g, sp, cip);
  parallel_range(g.planes, plane_grain(g), [&](int64_t b, int64_t e, int) {
    std::vector<int64_t> rows;
    rows.reserve(64);
    std::vector<float> shareBuf(oW);
    float* share = shareBuf.data();
    for (int64_t pl = b; pl < e; ++pl) {
      float* dxp = dx + pl * ip;
      std::memset(dxp, 0, sizeof(float) * ip);
      for (int od = 0; od < g.out[0]; ++od)
        for (int oh = 0; oh < g.out[1]; ++oh) {
          const int nr = window_rows(sp, g, od, oh, rows);
          const int64_t q0 = (int64_t(od) * g.out[1] + oh) * oW;
          for (int ow = 0; ow < oW; ++ow)
            share[ow] = div[q0 + ow] == 0.0f ? 0.0f : dy[pl * op + q0 + ow] / div[q0 + ow];
          for (int r = 0; r < nr; ++r)
            for (int t = 0; t < kW; ++t) {
              float* xr = dxp + rows[r] + taps.off[t];
              for (int ow = taps.lo[t]; ow < taps.hi[t]; ++ow) xr[int64_t(ow) * sW] += share[ow];
            }
        }
    }
  });
}

}  // namespace stride
