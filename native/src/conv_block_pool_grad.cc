// The weight and bias gradients of a conv block that ends in max pooling, from the pooling's argmax.
#include <algorithm>
#include <cstring>
#include <vector>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "conv_internal.h"

namespace stride::conv_detail {

// Through a max pool, the gradient with respect to the convolution's output is zero except at the
// argmax of each pooled output (masked by relu), so
//   dW[oc][c, kh, kw] = Σ_q g_q · x[c][ih(q) + kh·dH][iw(q) + kw·dW],   db[oc] = Σ_q g_q,
// over the pooled outputs q of channel oc, with g_q = dy_q where the pooled y is positive (or
// always, without relu) and (ih, iw) the input corner of the window of the convolution output that
// q picked. A 2×2 pool leaves a quarter of the positions, relu about half of those: the dense way
// (rebuild dz, im2col, one GEMM over every position) does 4-8× the FMAs and writes the column
// matrix. Here each sample's input is copied channel-minor and zero-padded (xT[row][col][c]), so a
// tap's channels are contiguous vectors: per q, one broadcast of g_q and taps × ⌈cIn/16⌉ FMAs
// into accumulators held in registers. M1's conv2 (32 -> 64, 2×2, batch 128, 2 threads): weight
// and bias gradients 9.8 -> 5.0 ms; M2's conv2 (8 -> 16, 3×3) 536 -> 296 µs of CPU per batch.
// Float sums run in another order than the GEMM's (within float rounding of it). Unlike the dense
// product, an inf or NaN input that no picked window reads does not reach dW (the dense GEMM
// multiplies it by a zero gradient, which gives NaN).
//
// Applies to 2-D blocks with max pooling and AVX-512: 2×2 kernels with 8 to 32 input channels per
// group, 3×3 with 8 to 16 (the accumulators, taps × ⌈cIn/16⌉ vectors, stay in registers).
namespace {

inline int64_t channel_pad(int cInG) { return (int64_t(cInG) + 15) / 16 * 16; }

#ifdef __AVX512F__
thread_local Buffer tl_xt;

// The padded, channel-minor copy of one sample's group: every row and column a window reads.
struct Layout {
  int Hp, Wp;
  int64_t cPad;
};

Layout layout(const ConvGeom& g, int cInG) {
  return {(g.out[1] - 1) * g.s[1] + (g.k[1] - 1) * g.d[1] + 1, (g.out[2] - 1) * g.s[2] + (g.k[2] - 1) * g.d[2] + 1,
          channel_pad(cInG)};
}

void transpose_sample(const ConvGeom& g, int cInG, const Layout& L, const float* xs, int64_t inPlane, float* xt) {
  const int H = g.in[1], W = g.in[2], pH = g.p[1], pW = g.p[2];
  const int r0 = std::clamp(pH, 0, L.Hp), r1 = std::clamp(pH + H, r0, L.Hp);
  const int c0 = std::clamp(pW, 0, L.Wp), c1 = std::clamp(pW + W, c0, L.Wp);
  // Zeros only where the padding is: the transposes below write every lane of the rest.
  const int64_t row = int64_t(L.Wp) * L.cPad;
  std::fill(xt, xt + r0 * row, 0.0f);
  std::fill(xt + r1 * row, xt + L.Hp * row, 0.0f);
  for (int r = r0; r < r1; ++r) {
    std::fill(xt + r * row, xt + r * row + c0 * L.cPad, 0.0f);
    std::fill(xt + r * row + c1 * L.cPad, xt + (r + 1) * row, 0.0f);
  }
  // 16 channels × 16 columns at a time: masked loads of the channels' row segments (missing
  // channels read as zeros), a register transpose, one store per column.
  for (int r = r0; r < r1; ++r)
    for (int cb = 0; cb < cInG; cb += 16) {
      const int nCh = std::min(16, cInG - cb);
      const float* src = xs + int64_t(cb) * inPlane + int64_t(r - pH) * W - pW;
      float* dst = xt + int64_t(r) * L.Wp * L.cPad + cb;
      for (int col = c0; col < c1; col += 16) {
        const int nCol = std::min(16, c1 - col);
        const __mmask16 m = __mmask16((1u << nCol) - 1);
        __m512 v[16];
#pragma GCC unroll 16
        for (int j = 0; j < 16; ++j)
          v[j] = j < nCh ? _mm512_maskz_loadu_ps(m, src + j * inPlane + col) : _mm512_setzero_ps();
        transpose16x16(v);
        for (int i = 0; i < nCol; ++i) _mm512_storeu_ps(dst + int64_t(col + i) * L.cPad, v[i]);
      }
    }
}

// Pooled outputs [qa, qb) of one output channel's plane (dyp, yp, ip: the plane's dy, y, idx) of
// one sample: acc += Σ_q g_q · window(q), *bsum += Σ_q g_q.
template <int KH, int KW, int CV>
void accumulate(const ConvGeom& g, const Layout& L, const float* xt, const float* dyp, const float* yp,
                const int32_t* ip, int64_t qa, int64_t qb, int64_t P, bool relu, float* dwAcc, double* bsum) {
  constexpr int NV = KH * KW * CV;
  __m512 acc[NV];
#pragma GCC unroll 16
  for (int j = 0; j < NV; ++j) acc[j] = _mm512_loadu_ps(dwAcc + j * 16);
  const int oW = g.out[2];
  const int64_t rowStep = int64_t(g.d[1]) * L.Wp * L.cPad, colStep = int64_t(g.d[2]) * L.cPad;
  const int32_t* yi = reinterpret_cast<const int32_t*>(yp);
  const double invOW = 1.0 / oW;
  // Branch-free: a masked-out q (outside the plane, or relu'd away) adds a zero gradient times
  // the window of position 0 (relu's mask is about a coin toss per q: a branch on it mispredicts).
  const int32_t* gi = reinterpret_cast<const int32_t*>(dyp);
  const uint32_t reluOff = relu ? 0u : 1u;
  // One q: its window times g_q into acc; returns g_q (zero where q does not count). Free of
  // branches (integer masks): relu's mask is about a coin toss per q, and a mispredicted branch
  // would also stall the window's loads, which come from L2.
  auto one = [&](int64_t q) -> float {
    const int32_t raw = ip[q];
    const uint32_t live = -uint32_t((uint32_t(raw) < uint32_t(P)) & ((yi[q] > 0) | reluOff));
    const int32_t at = int32_t(uint32_t(raw) & live);
    const int32_t gBits = int32_t(uint32_t(gi[q]) & live);
    float gq;
    std::memcpy(&gq, &gBits, sizeof gq);
    const int oh = int((at + 0.5) * invOW), ow = at - oh * oW;  // exact for at < 2^40
    const float* base = xt + (int64_t(oh) * g.s[1] * L.Wp + int64_t(ow) * g.s[2]) * L.cPad;
    const __m512 gv = _mm512_set1_ps(gq);
#pragma GCC unroll 3
    for (int kh = 0; kh < KH; ++kh)
#pragma GCC unroll 3
      for (int kw = 0; kw < KW; ++kw)
#pragma GCC unroll 2
        for (int v = 0; v < CV; ++v) {
          const int j = (kh * KW + kw) * CV + v;
          acc[j] = _mm512_fmadd_ps(gv, _mm512_loadu_ps(base + kh * rowStep + kw * colStep + v * 16), acc[j]);
        }
    return gq;
  };
  double sum0 = 0.0, sum1 = 0.0;  // two chains of double adds, not one
  int64_t q = qa;
  for (; q + 1 < qb; q += 2) {
    sum0 += one(q);
    sum1 += one(q + 1);
  }
  if (q < qb) sum0 += one(q);
#pragma GCC unroll 16
  for (int j = 0; j < NV; ++j) _mm512_storeu_ps(dwAcc + j * 16, acc[j]);
  *bsum += sum0 + sum1;
}

using AccumulateFn = void (*)(const ConvGeom&, const Layout&, const float*, const float*, const float*,
                              const int32_t*, int64_t, int64_t, int64_t, bool, float*, double*);

AccumulateFn accumulate_for(const ConvGeom& g, int cInG) {
  const int cv = int(channel_pad(cInG) / 16);
  if (g.k[1] == 2 && g.k[2] == 2) return cv == 1 ? accumulate<2, 2, 1> : cv == 2 ? accumulate<2, 2, 2> : nullptr;
  if (g.k[1] == 3 && g.k[2] == 3 && cv == 1) return accumulate<3, 3, 1>;
  return nullptr;
}
#endif

}  // namespace

bool pool_grad_applies(const ConvGeom& g, const PoolGeom* pool) {
#ifdef __AVX512F__
  const int cInG = g.cIn / g.groups;
  return pool && direct_enabled() && g.in[0] == 1 && g.out[0] == 1 && g.k[0] == 1 && g.p[0] == 0 && cInG >= 8 &&
         accumulate_for(g, cInG) != nullptr;
#else
  (void)g, (void)pool;
  return false;
#endif
}

void pool_weight_grad(const ConvGeom& g, const Dims& d, const PoolGeom& pool, bool relu, const float* x,
                      const float* y, const int32_t* idx, const float* dy, int s0, int nb, float* dw, double* db) {
#ifdef __AVX512F__
  const Layout L = layout(g, d.cInG);
  const AccumulateFn fn = accumulate_for(g, d.cInG);
  const int taps = g.k[1] * g.k[2];
  const int64_t oP = int64_t(pool.out[0]) * pool.out[1] * pool.out[2];
  const int64_t accLen = int64_t(taps) * L.cPad;  // [tap][c] for one output channel
  float* xt = tl_xt.get(size_t(L.Hp) * L.Wp * L.cPad + size_t(g.cOut) * accLen);
  float* acc = xt + int64_t(L.Hp) * L.Wp * L.cPad;
  std::fill(acc, acc + g.cOut * accLen, 0.0f);
  std::vector<double> sums(g.cOut, 0.0);
  const int64_t rowBytes = int64_t(std::max(1, pool.s[1])) * g.s[1] * L.Wp * L.cPad * int64_t(sizeof(float));
  const int64_t band = std::max<int64_t>(1, (int64_t(32) << 10) / rowBytes) * pool.out[2];
  for (int sl = s0; sl < s0 + nb; ++sl)
    for (int grp = 0; grp < g.groups; ++grp) {
      transpose_sample(g, d.cInG, L, x + (int64_t(sl) * g.cIn + int64_t(grp) * d.cInG) * d.inPlane, d.inPlane, xt);
      // Bands of pooled rows whose windows' inputs fit L1 (32 KiB), each run for every output
      // channel, so that the channels do not each sweep the whole sample from L2 (on M1, whose
      // sample is 123 KB, ~2%; more on wider layers).
      for (int64_t qa = 0; qa < oP; qa += band)
        for (int o = 0; o < d.cOutG; ++o) {
          const int oc = grp * d.cOutG + o;
          const int64_t q0 = (int64_t(sl) * g.cOut + oc) * oP;
          fn(g, L, xt, dy + q0, y + q0, idx + q0, qa, std::min(oP, qa + band), d.P, relu, acc + oc * accLen, &sums[oc]);
        }
    }
  if (db) std::copy(sums.begin(), sums.end(), db);
  // [tap][c] accumulators into dW's [c][tap] rows.
  for (int oc = 0; oc < g.cOut; ++oc)
    for (int c = 0; c < d.cInG; ++c)
      for (int t = 0; t < taps; ++t) dw[int64_t(oc) * d.K + int64_t(c) * taps + t] = acc[oc * accLen + t * L.cPad + c];
#else
  (void)g, (void)d, (void)pool, (void)relu, (void)x, (void)y, (void)idx, (void)dy, (void)s0, (void)nb, (void)dw,
      (void)db;
#endif
}

}  // namespace stride::conv_detail
