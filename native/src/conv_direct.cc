// The direct convolution: no im2col, for layers whose GEMM would be small in k or m.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "conv_internal.h"

namespace stride::conv_detail {

// Without im2col: 16 outputs of one row are computed for up to 16 output channels at once, each
// channel's accumulator in its own register; per tap, one masked load of the input row (the mask
// zeroes the padding) feeds one FMA per channel, the weights broadcast from a [tap][16] copy.
// Wider layers run in blocks of 16 channels, each block reading the sample's input again (from
// cache). Taps are added in im2col's order (c, kh, kw), then the bias, as the GEMM path does with
// its ones row, so the two agree to rounding. It replaces im2col + GEMM for the forward pass of
// 2-D convolutions at stride 1 along W with AVX-512 where the GEMM would be small in k or m (few
// taps or few output channels: im2col's copies then dominate): M2's 1 -> 8 and 8 -> 16 layers,
// M1's 1 -> 32 (1.7× faster) and 32 -> 64 (128 taps: 12-16% faster). Layers with more taps and
// more than 16 channels keep im2col + GEMM, whose 12×32 register tile reuses each load more.
// STRIDE_CONV_DIRECT=0 disables it.
bool direct_enabled() {
#ifdef __AVX512F__
  static const bool on = [] {
    const char* e = std::getenv("STRIDE_CONV_DIRECT");
    return !(e && std::strcmp(e, "0") == 0);
  }();
  return on;
#else
  return false;
#endif
}

// The row-vector kernel below, where it beats im2col + GEMM.
bool rows_applies(const ConvGeom& g) {
#ifdef __AVX512F__
  const int64_t taps = int64_t(g.cIn / g.groups) * g.k[1] * g.k[2];
  return direct_enabled() && g.in[0] == 1 && g.out[0] == 1 && g.k[0] == 1 && g.p[0] == 0 && g.s[2] == 1 && g.k[2] <= 32 &&
         (g.cOut / g.groups <= 16 || taps <= 128);
#else
  (void)g;
  return false;
#endif
}

bool direct_applies(const ConvGeom& g) { return channels_applies(g) || rows_applies(g); }

// The direct kernel's register blocking: 16 outputs along a row by a block of up to 16 output
// channels, one accumulator register each. (Two vectors by 14 channels, so that each broadcast
// weight feeds two FMAs, measured 2-4% slower on M1's layers than this with the kernel width
// unrolled.) Weights are stored per block as [tap][16]; kMaxDirectKW: the widest kernel row.
constexpr int kBlock = 16;
constexpr int kMaxDirectKW = 32;
inline int direct_blocks(const Dims& d) { return (d.cOutG + kBlock - 1) / kBlock; }

#ifdef __AVX512F__
namespace {

// Output channels [o0, o0 + nOut) (nOut ≤ OC ≤ 16) of group grp for nb samples: z's planes from
// x's (both chunk bases, laid out as xl and zl say). wt is the block's weights as [cInG·kH·kW][16],
// bias the block's or null. KW: the kernel width as a constant (its loop unrolled, masks and
// offsets in registers), or 0 for any.
template <int OC, int KW>
void direct_block(const ConvGeom& g, const Dims& d, const float* x, Planes xl, const float* wt, const float* bias,
                  bool relu, int grp, int o0, int nOut, int nb, float* z, Planes zl) {
  const int H = g.in[1], W = g.in[2], oH = g.out[1], oW = g.out[2];
  const int kH = g.k[1], kW = KW ? KW : g.k[2];
  for (int sl = 0; sl < nb; ++sl) {
    const float* xs = x + sl * xl.sample + int64_t(grp) * d.cInG * xl.channel;
    float* zs = z + sl * zl.sample + (int64_t(grp) * d.cOutG + o0) * zl.channel;
    for (int oh = 0; oh < oH; ++oh)
      for (int ow0 = 0; ow0 < oW; ow0 += 16) {
        const int lanes = std::min(16, oW - ow0);
        // Every loop over o is unrolled (o is a constant) so that acc stays in registers.
        __m512 acc[OC];
#pragma GCC unroll 16
        for (int o = 0; o < OC; ++o) acc[o] = _mm512_setzero_ps();
        // Per kw: the input column of lane 0 and the lanes that read real columns (the same for
        // every input channel and kernel row); then the kernel rows that read real input rows.
        int off[kMaxDirectKW];
        __mmask16 mask[kMaxDirectKW];
        for (int kw = 0; kw < kW; ++kw) {
          off[kw] = ow0 + kw * g.d[2] - g.p[2];
          const int lo = std::clamp(-off[kw], 0, lanes), hi = std::clamp(W - off[kw], lo, lanes);
          mask[kw] = __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1));
        }
        const int ih0 = oh * g.s[1] - g.p[1];
        const int kh0 = std::clamp((-ih0 + g.d[1] - 1) / g.d[1], 0, kH);
        const int kh1 = std::clamp((H - ih0 + g.d[1] - 1) / g.d[1], kh0, kH);
        for (int c = 0; c < d.cInG; ++c)
          for (int kh = kh0; kh < kh1; ++kh) {
            const float* row = xs + c * xl.channel + int64_t(ih0 + kh * g.d[1]) * W;
            const float* wp = wt + ((int64_t(c) * kH + kh) * kW) * kBlock;
#pragma GCC unroll 3
            for (int kw = 0; kw < kW; ++kw, wp += kBlock) {
              const __m512 xv = _mm512_maskz_loadu_ps(mask[kw], row + off[kw]);
#pragma GCC unroll 16
              for (int o = 0; o < OC; ++o) acc[o] = _mm512_fmadd_ps(_mm512_set1_ps(wp[o]), xv, acc[o]);
            }
          }
        const __mmask16 store = __mmask16((1u << lanes) - 1);
        float* zq = zs + int64_t(oh) * oW + ow0;
#pragma GCC unroll 16
        for (int o = 0; o < OC; ++o) {
          if (o >= nOut) break;
          __m512 r = acc[o];
          if (bias) r = _mm512_add_ps(r, _mm512_set1_ps(bias[o]));
          if (relu) {  // on the bit patterns, as relu_in_place: a set sign bit gives +0
            const __m512i ri = _mm512_castps_si512(r);
            r = _mm512_castsi512_ps(_mm512_andnot_si512(_mm512_srai_epi32(ri, 31), ri));
          }
          _mm512_mask_storeu_ps(zq + o * zl.channel, store, r);
        }
      }
  }
}

// direct_block with the kernel width as a constant where it is 2 or 3 (M2's layers forward ~18%
// faster on one core than with a variable width).
template <int OC>
void run_block(const ConvGeom& g, const Dims& d, const float* x, Planes xl, const float* wt, const float* bias,
               bool relu, int grp, int o0, int nOut, int nb, float* z, Planes zl) {
  if (g.k[2] == 2)
    direct_block<OC, 2>(g, d, x, xl, wt, bias, relu, grp, o0, nOut, nb, z, zl);
  else if (g.k[2] == 3)
    direct_block<OC, 3>(g, d, x, xl, wt, bias, relu, grp, o0, nOut, nb, z, zl);
  else
    direct_block<OC, 0>(g, d, x, xl, wt, bias, relu, grp, o0, nOut, nb, z, zl);
}

}  // namespace
#endif

void direct_chunk(const ConvGeom& g, const Dims& d, const float* x, Planes xl, const float* wt, const float* bias,
                  bool relu, int nb, float* z, Planes zl) {
  if (channels_applies(g)) return channels_chunk(g, d, x, xl, wt, bias, relu, nb, z, zl);
  rows_chunk(g, d, x, xl, wt, bias, relu, nb, z, zl);
}

void rows_chunk(const ConvGeom& g, const Dims& d, const float* x, Planes xl, const float* wt, const float* bias,
                bool relu, int nb, float* z, Planes zl) {
#ifdef __AVX512F__
  const int blocks = direct_blocks(d);
  for (int grp = 0; grp < g.groups; ++grp)
    for (int blk = 0; blk < blocks; ++blk) {
      const int o0 = blk * kBlock, nOut = std::min(kBlock, d.cOutG - o0);
      const float* wb = wt + (int64_t(grp) * blocks + blk) * d.K * kBlock;
      const float* bb = bias ? bias + int64_t(grp) * d.cOutG + o0 : nullptr;
      if (nOut <= 4)
        run_block<4>(g, d, x, xl, wb, bb, relu, grp, o0, nOut, nb, z, zl);
      else if (nOut <= 8)
        run_block<8>(g, d, x, xl, wb, bb, relu, grp, o0, nOut, nb, z, zl);
      else if (nOut <= 12)
        run_block<12>(g, d, x, xl, wb, bb, relu, grp, o0, nOut, nb, z, zl);
      else
        run_block<16>(g, d, x, xl, wb, bb, relu, grp, o0, nOut, nb, z, zl);
    }
#else
  (void)g, (void)d, (void)x, (void)xl, (void)wt, (void)bias, (void)relu, (void)nb, (void)z, (void)zl;
#endif
}

// w [cOut × cInG·kH·kW] as the direct kernel's weights: for the row-vector kernel, per group and
// block of output channels, [tap][16] (channels past the block's end zero).
const float* direct_weights(const ConvGeom& g, const Dims& d, const float* w, Buffer& buf) {
  return channels_applies(g) ? channels_weights(g, d, w, buf) : rows_weights(g, d, w, buf);
}

const float* rows_weights(const ConvGeom& g, const Dims& d, const float* w, Buffer& buf) {
  const int blocks = direct_blocks(d);
  const size_t n = size_t(g.groups) * blocks * d.K * kBlock;
  float* wt = buf.get(n);
  std::fill(wt, wt + n, 0.0f);
  for (int grp = 0; grp < g.groups; ++grp)
    for (int o = 0; o < d.cOutG; ++o) {
      float* dst = wt + (int64_t(grp) * blocks + o / kBlock) * d.K * kBlock + o % kBlock;
      const float* src = w + (int64_t(grp) * d.cOutG + o) * d.K;
      for (int64_t t = 0; t < d.K; ++t) dst[t * kBlock] = src[t];
    }
  return wt;
}

// The input gradient of a stride-1 2-D convolution is itself a convolution: of dy (cOut
// channels, the output's size) back to the input's size, with the kernel flipped, input and
// output channels swapped, and padding d(k-1) - p. Its geometry, when the direct kernel can run
// it: then it replaces the dcol GEMM and col2im's scattered adds (M1's conv2 backward).
bool adjoint_geometry(const ConvGeom& g, ConvGeom& a) {
  if (g.in[0] != 1 || g.out[0] != 1 || g.k[0] != 1 || g.p[0] != 0 || g.s[1] != 1 || g.s[2] != 1) return false;
  a = g;
  a.cIn = g.cOut;
  a.cOut = g.cIn;
  for (int i = 1; i < 3; ++i) {
    a.in[i] = g.out[i];
    a.out[i] = g.in[i];
    a.p[i] = g.d[i] * (g.k[i] - 1) - g.p[i];
    if (a.p[i] < 0) return false;
  }
  return direct_enabled() && g.k[2] <= kMaxDirectKW;
}

// The adjoint's weights for the row-vector kernel: tap (oc, kh, kw) of its output channel c (an
// input channel of the convolution) is w[oc][c][kH-1-kh][kW-1-kw].
const float* adjoint_weights(const ConvGeom& g, const Dims& d, const ConvGeom& a, const float* w, Buffer& buf) {
  const int kH = g.k[1], kW = g.k[2];
  const Dims da = dims(a);
  const int blocks = direct_blocks(da);
  const size_t n = size_t(g.groups) * blocks * da.K * kBlock;
  float* wt = buf.get(n);
  std::fill(wt, wt + n, 0.0f);
  for (int grp = 0; grp < g.groups; ++grp)
    for (int oc = 0; oc < d.cOutG; ++oc)
      for (int c = 0; c < d.cInG; ++c)
        for (int kh = 0; kh < kH; ++kh)
          for (int kw = 0; kw < kW; ++kw) {
            const int64_t t = (int64_t(oc) * kH + (kH - 1 - kh)) * kW + (kW - 1 - kw);
            wt[((int64_t(grp) * blocks + c / kBlock) * da.K + t) * kBlock + c % kBlock] =
                w[((int64_t(grp) * d.cOutG + oc) * d.cInG + c) * kH * kW + kh * kW + kw];
          }
  return wt;
}

}  // namespace stride::conv_detail
