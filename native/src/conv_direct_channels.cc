// The channel-vector direct convolution: for layers with many output channels (32 or more per
// group), where the row-vector kernel of conv_direct.cc pays one broadcast weight per FMA.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "conv_internal.h"

namespace stride::conv_detail {

// The register tile is R consecutive outputs of one row by V vectors of 16 output channels. Per
// tap, V weight vectors are loaded and each of the R input values is broadcast once and feeds V
// FMAs: 4 × 6 (24 accumulators) costs 10 loads per 24 FMAs, so the FMA units, not the loads, set
// the pace (the row-vector kernel needs 17 loads per 16 FMAs). Input values are read from a
// zero-padded copy of the sample's planes, so the inner loop has no bounds and no masks. Each
// output row is computed channel-minor into a row buffer, then transposed 16×16 in registers into
// the output's planes. Taps are added in im2col's order (c, kh, kw) from zero, then the bias, as
// in the row-vector kernel, so the two give the same bits.
//
// It applies to forward passes of 2-D layers at stride and dilation 1 along W (any along H) with
// AVX-512, 32 to 128 output channels per group and 64 to 4608 taps (K). One thread, forward, against
// the better of im2col + GEMM and the row-vector kernel: 16 -> 32 3×3 on 28×28 149 against 107
// GFLOP/s, 64 -> 64 3×3 on 14×14 152 against 124, 256 -> 64 on 14×14 153 against 112; with fewer
// taps (3 -> 64, K = 27) it lost, 75 against 119, and with 256 channels (weights past L2) too.
// M1's 32 -> 64 layer runs on it; its 1 -> 32 layer (4 taps) stays on the row-vector kernel. With a
// 2×2 max pool after it (a conv block), it pools from its row buffers, and only the pooled planes
// are ever stored. STRIDE_CONV_DIRECT=rows disables it (for comparisons), =0 both direct kernels.
bool channels_applies(const ConvGeom& g) {
#ifdef __AVX512F__
  static const bool off = [] {
    const char* e = std::getenv("STRIDE_CONV_DIRECT");
    return e && std::strcmp(e, "rows") == 0;
  }();
  if (off) return false;
  const Dims d = dims(g);
  return direct_enabled() && g.in[0] == 1 && g.out[0] == 1 && g.k[0] == 1 && g.p[0] == 0 && g.s[2] == 1 &&
         g.d[2] == 1 && d.cOutG >= 32 && d.cOutG <= 128 && d.K >= 64 && d.K <= 4608;
#else
  (void)g;
  return false;
#endif
}

// w [cOut × K] as [group][K][cPad] (tap-major, output channels padded to a multiple of 16 with zeros).
const float* channels_weights(const ConvGeom& g, const Dims& d, const float* w, Buffer& buf) {
  const int64_t cPad = (d.cOutG + 15) / 16 * 16;
  const size_t n = size_t(g.groups) * d.K * cPad;
  float* wt = buf.get(n);
  std::fill(wt, wt + n, 0.0f);
  for (int grp = 0; grp < g.groups; ++grp)
    for (int o = 0; o < d.cOutG; ++o) {
      const float* src = w + (int64_t(grp) * d.cOutG + o) * d.K;
      float* dst = wt + int64_t(grp) * d.K * cPad + o;
      for (int64_t t = 0; t < d.K; ++t) dst[t * cPad] = src[t];
    }
  return wt;
}

#ifdef __AVX512F__
namespace {

constexpr int kLanes = 16;
constexpr int kMaxVectors = 4;  // per tile: 64 channels

// Scratch per thread: the padded planes, the row buffer, the padded bias.
thread_local Buffer tl_pad, tl_row, tl_bias;

// Outputs per tile for V vectors: as many as the registers allow (V·R ≤ 24, leaving room for
// the weights and the broadcast), lowered by up to two where that wastes fewer columns of the row.
constexpr int max_outputs(int V) { return V == 4 ? 6 : V == 3 ? 8 : V == 2 ? 12 : 24; }
int outputs_per_tile(int V, int oW) {
  const int rMax = max_outputs(V);
  int best = rMax;
  for (int r = rMax; r >= rMax - 2; --r)
    if ((oW + r - 1) / r * r < (oW + best - 1) / best * best) best = r;
  return best;
}

// One tile: outputs [0, R) of the row whose taps start at xp (the padded planes, offset to the
// tile's first input column and the output row's first input row), channels [0, 16V) of the
// block whose weights start at wt (row stride cPad). Adds the bias, applies relu, stores output r
// at out + r·cPad.
// (Without predictive commoning: with it GCC carries the input values from one kw to the next in
// registers and broadcasts them from there, which costs spills and shuffles on port 5, where
// half of the FMAs run: 20% slower on M1's 64 -> 32 adjoint.)
template <int V, int R>
__attribute__((optimize("no-predictive-commoning"))) void tile(const float* xp, int64_t plane, int Wp, int cIn,
                                                                int kH, int kW, int dH, const float* wt,
                                                                int64_t cPad, const float* bias, bool relu,
                                                                float* out) {
  __m512 acc[V][R];
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v)
#pragma GCC unroll 24
    for (int r = 0; r < R; ++r) acc[v][r] = _mm512_setzero_ps();
  for (int c = 0; c < cIn; ++c)
    for (int kh = 0; kh < kH; ++kh) {
      const float* xr = xp + c * plane + int64_t(kh) * dH * Wp;
      const float* wp = wt + (int64_t(c) * kH + kh) * kW * cPad;
      for (int kw = 0; kw < kW; ++kw, wp += cPad) {
        __m512 wv[V];
#pragma GCC unroll 4
        for (int v = 0; v < V; ++v) wv[v] = _mm512_loadu_ps(wp + v * kLanes);
#pragma GCC unroll 24
        for (int r = 0; r < R; ++r) {
          const __m512 xb = _mm512_set1_ps(xr[kw + r]);
#pragma GCC unroll 4
          for (int v = 0; v < V; ++v) acc[v][r] = _mm512_fmadd_ps(wv[v], xb, acc[v][r]);
        }
      }
    }
#pragma GCC unroll 4
  for (int v = 0; v < V; ++v) {
    const __m512 b = _mm512_loadu_ps(bias + v * kLanes);
#pragma GCC unroll 24
    for (int r = 0; r < R; ++r) {
      __m512 s = _mm512_add_ps(acc[v][r], b);
      if (relu) {  // on the bit patterns, as relu_in_place: a set sign bit gives +0
        const __m512i si = _mm512_castps_si512(s);
        s = _mm512_castsi512_ps(_mm512_andnot_si512(_mm512_srai_epi32(si, 31), si));
      }
      _mm512_storeu_ps(out + r * cPad + v * kLanes, s);
    }
  }
}

using TileFn = void (*)(const float*, int64_t, int, int, int, int, int, const float*, int64_t, const float*, bool,
                        float*);

template <int V>
TileFn tile_for(int R) {
  constexpr int m = max_outputs(V);
  return R == m ? tile<V, m> : R == m - 1 ? tile<V, m - 1> : tile<V, m - 2>;
}

TileFn tile_fn(int V, int R) {
  switch (V) {
    case 1:
      return tile_for<1>(R);
    case 2:
      return tile_for<2>(R);
    case 3:
      return tile_for<3>(R);
    default:
      return tile_for<4>(R);
  }
}

// out[i·ldOut + j] = in[j·ldIn + i] for positions j < nPos and channels i < nCh (both ≤ 16), in
// registers. Rows of `in` past nPos are read (the row buffer has them) but never stored.
inline void transpose16(const float* in, int64_t ldIn, int nPos, int nCh, float* out, int64_t ldOut) {
  __m512 r[16];
#pragma GCC unroll 16
  for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_ps(in + j * ldIn);
  transpose16x16(r);
  const __mmask16 m = __mmask16((1u << nPos) - 1);
  for (int i = 0; i < nCh; ++i) _mm512_mask_storeu_ps(out + i * ldOut, m, r[i]);
}

// One call's set-up: per block of up to 4 vectors, its tile kernel, outputs per tile and tiles per
// row; the shape of the padded planes (every row and column a tile reads, zero outside the input).
struct Plan {
  int64_t cPad, plane;
  int blocks, Hp, Wp, rowCols;  // rowCols: rows of the row buffer, a multiple of 16
  std::vector<TileFn> fn;
  std::vector<int> R, tiles;
};

Plan make_plan(const ConvGeom& g, const Dims& d) {
  Plan p;
  const int oH = g.out[1], oW = g.out[2];
  p.cPad = (d.cOutG + 15) / 16 * 16;
  p.blocks = int((p.cPad / kLanes + kMaxVectors - 1) / kMaxVectors);
  int maxCols = oW;
  for (int b = 0; b < p.blocks; ++b) {
    const int V = int(std::min<int64_t>(kMaxVectors, p.cPad / kLanes - int64_t(b) * kMaxVectors));
    const int R = outputs_per_tile(V, oW);
    p.R.push_back(R);
    p.tiles.push_back((oW + R - 1) / R);
    p.fn.push_back(tile_fn(V, R));
    maxCols = std::max(maxCols, p.tiles.back() * R);
  }
  p.Hp = (oH - 1) * g.s[1] + (g.k[1] - 1) * g.d[1] + 1;
  p.Wp = maxCols + g.k[2] - 1;
  p.plane = int64_t(p.Hp) * p.Wp;
  p.rowCols = (maxCols + 15) / 16 * 16;
  return p;
}

// The input channels of one sample and group (channel c at xs + c·channelStride) into xp, padded.
void pad_planes(const ConvGeom& g, const Dims& d, const Plan& p, const float* xs, int64_t channelStride, float* xp) {
  const int H = g.in[1], W = g.in[2], pH = g.p[1], pW = g.p[2];
  const int colLo = std::clamp(pW, 0, p.Wp), colHi = std::clamp(pW + W, colLo, p.Wp);
  for (int c = 0; c < d.cInG; ++c)
    for (int r = 0; r < p.Hp; ++r) {
      float* dst = xp + c * p.plane + int64_t(r) * p.Wp;
      const int ih = r - pH;
      if (ih < 0 || ih >= H) {
        std::fill(dst, dst + p.Wp, 0.0f);
        continue;
      }
      std::fill(dst, dst + colLo, 0.0f);
      const float* src = xs + c * channelStride + int64_t(ih) * W + (colLo - pW);
      std::memcpy(dst + colLo, src, sizeof(float) * (colHi - colLo));
      std::fill(dst + colHi, dst + p.Wp, 0.0f);
    }
}

// Output row oh of one sample and group, channel-minor: row[ow·cPad + c], bias added, relu'd.
void conv_row(const ConvGeom& g, const Dims& d, const Plan& p, const float* xp, const float* wg, const float* bg,
              bool relu, int oh, float* row) {
  const float* xo = xp + int64_t(oh) * g.s[1] * p.Wp;
  for (int b = 0; b < p.blocks; ++b) {
    const int64_t c0 = int64_t(b) * kMaxVectors * kLanes;
    for (int t = 0; t < p.tiles[b]; ++t)
      p.fn[b](xo + t * p.R[b], p.plane, p.Wp, d.cInG, g.k[1], g.k[2], g.d[1], wg + c0, p.cPad, bg + c0, relu,
              row + t * p.R[b] * p.cPad + c0);
  }
}

// The padded bias of every group (zeros without one).
const float* padded_bias(const ConvGeom& g, const Dims& d, const Plan& p, const float* bias) {
  float* bp = tl_bias.get(size_t(p.cPad) * g.groups);
  std::fill(bp, bp + p.cPad * g.groups, 0.0f);
  for (int grp = 0; grp < g.groups && bias; ++grp)
    std::memcpy(bp + grp * p.cPad, bias + int64_t(grp) * d.cOutG, sizeof(float) * d.cOutG);
  return bp;
}

// Rows of n positions by nCh channels, channel-minor (row stride ld), into nCh planes' rows
// (out + c·ldOut), 16×16 at a time.
void rows_to_planes(const float* rows, int64_t ld, int n, int64_t nCh, float* out, int64_t ldOut) {
  for (int q = 0; q < n; q += 16)
    for (int64_t c0 = 0; c0 < nCh; c0 += 16)
      transpose16(rows + q * ld + c0, ld, std::min(16, n - q), int(std::min<int64_t>(16, nCh - c0)),
                  out + c0 * ldOut + q, ldOut);
}

// Max pooling 2×2 at stride 2 of two output rows (r0 above r1, channel-minor, row stride cPad) into
// oW2 pooled outputs, channel-minor: PyTorch's scan (top-left, top-right, bottom-left,
// bottom-right; a later tap takes over when greater or NaN), as pool.cc's max2x2 kernels, so values
// and indices are theirs bit for bit. base: the flat index of r0's first element in its plane;
// W: the conv output's width. Without idx (inference) no index is kept.
template <bool kIdx>
void pool_rows(const float* r0, const float* r1, int64_t cPad, int oW2, int W, int32_t base, float* out,
               int32_t* idx) {
  const __m512i off1 = _mm512_set1_epi32(1), offW = _mm512_set1_epi32(W), offW1 = _mm512_set1_epi32(W + 1);
  for (int q = 0; q < oW2; ++q) {
    const __m512i i0 = _mm512_set1_epi32(base + 2 * q);
    for (int64_t c = 0; c < cPad; c += kLanes) {
      const int64_t a = 2 * q * cPad + c;
      const __m512 tl = _mm512_loadu_ps(r0 + a), tr = _mm512_loadu_ps(r0 + a + cPad);
      const __m512 bl = _mm512_loadu_ps(r1 + a), br = _mm512_loadu_ps(r1 + a + cPad);
      __m512 best = tl;
      __m512i t = _mm512_setzero_si512();
      __mmask16 take = _mm512_cmp_ps_mask(tr, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(tr, tr, _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, take, tr);
      if (kIdx) t = _mm512_mask_mov_epi32(t, take, off1);
      take = _mm512_cmp_ps_mask(bl, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(bl, bl, _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, take, bl);
      if (kIdx) t = _mm512_mask_mov_epi32(t, take, offW);
      take = _mm512_cmp_ps_mask(br, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(br, br, _CMP_UNORD_Q);
      best = _mm512_mask_mov_ps(best, take, br);
      _mm512_storeu_ps(out + q * cPad + c, best);
      if (kIdx) {
        t = _mm512_mask_mov_epi32(t, take, offW1);
        _mm512_storeu_si512(idx + q * cPad + c, _mm512_add_epi32(i0, t));
      }
    }
  }
}

}  // namespace
#endif

void channels_chunk(const ConvGeom& g, const Dims& d, const float* x, Planes xl, const float* wt, const float* bias,
                    bool relu, int nb, float* z, Planes zl) {
#ifdef __AVX512F__
  const Plan p = make_plan(g, d);
  float* xp = tl_pad.get(size_t(d.cInG) * p.plane);
  float* row = tl_row.get(size_t(p.rowCols) * p.cPad);
  const float* bp = padded_bias(g, d, p, bias);
  const int oH = g.out[1], oW = g.out[2];
  for (int sl = 0; sl < nb; ++sl)
    for (int grp = 0; grp < g.groups; ++grp) {
      pad_planes(g, d, p, x + sl * xl.sample + int64_t(grp) * d.cInG * xl.channel, xl.channel, xp);
      float* zs = z + sl * zl.sample + int64_t(grp) * d.cOutG * zl.channel;
      for (int oh = 0; oh < oH; ++oh) {
        conv_row(g, d, p, xp, wt + int64_t(grp) * d.K * p.cPad, bp + grp * p.cPad, relu, oh, row);
        rows_to_planes(row, p.cPad, oW, d.cOutG, zs + int64_t(oh) * oW, zl.channel);
      }
    }
#else
  (void)g, (void)d, (void)x, (void)xl, (void)wt, (void)bias, (void)relu, (void)nb, (void)z, (void)zl;
#endif
}

bool channels_pool_applies(const ConvGeom& g, const PoolGeom& pool) {
  return channels_applies(g) && max_pool_is_2x2_stride2(pool);
}

void channels_pool_chunk(const ConvGeom& g, const Dims& d, const PoolGeom& pool, const float* x, Planes xl,
                         const float* wt, const float* bias, bool relu, int nb, float* y, int32_t* idx, Planes yl) {
#ifdef __AVX512F__
  const Plan p = make_plan(g, d);
  float* xp = tl_pad.get(size_t(d.cInG) * p.plane);
  // Two conv rows, then the pooled row and its indices, each channel-minor.
  float* rows = tl_row.get(size_t(p.rowCols) * p.cPad * 4);
  float* r0 = rows;
  float* r1 = rows + p.rowCols * p.cPad;
  float* pooled = r1 + p.rowCols * p.cPad;
  int32_t* ix = reinterpret_cast<int32_t*>(pooled + p.rowCols * p.cPad);
  const float* bp = padded_bias(g, d, p, bias);
  const int oW = g.out[2], pH = pool.out[1], pW = pool.out[2];
  for (int sl = 0; sl < nb; ++sl)
    for (int grp = 0; grp < g.groups; ++grp) {
      pad_planes(g, d, p, x + sl * xl.sample + int64_t(grp) * d.cInG * xl.channel, xl.channel, xp);
      const float* wg = wt + int64_t(grp) * d.K * p.cPad;
      const int64_t first = sl * yl.sample + int64_t(grp) * d.cOutG * yl.channel;
      for (int ph = 0; ph < pH; ++ph) {
        conv_row(g, d, p, xp, wg, bp + grp * p.cPad, relu, 2 * ph, r0);
        conv_row(g, d, p, xp, wg, bp + grp * p.cPad, relu, 2 * ph + 1, r1);
        const int32_t base = 2 * ph * oW;
        const int64_t at = first + int64_t(ph) * pW;
        if (idx) {
          pool_rows<true>(r0, r1, p.cPad, pW, oW, base, pooled, ix);
          rows_to_planes(reinterpret_cast<const float*>(ix), p.cPad, pW, d.cOutG, reinterpret_cast<float*>(idx + at),
                         yl.channel);
        } else {
          pool_rows<false>(r0, r1, p.cPad, pW, oW, base, pooled, nullptr);
        }
        rows_to_planes(pooled, p.cPad, pW, d.cOutG, y + at, yl.channel);
      }
    }
#else
  (void)g, (void)d, (void)pool, (void)x, (void)xl, (void)wt, (void)bias, (void)relu, (void)nb, (void)y, (void)idx,
      (void)yl;
#endif
}

}  // namespace stride::conv_detail
