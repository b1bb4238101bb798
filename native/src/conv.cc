// Convolution by im2col/col2im feeding the packed GEMM.
//
// Samples are unfolded several at a time into one wide column matrix
//   col[K × nb·P],  K = cInG·kD·kH·kW,  P = oD·oH·oW,
// so the GEMM stays large even for small feature maps:
//   forward          Y_g[cOutG × nb·P]  = W_g · col            (then scattered to NCDHW, + bias)
//   backward-input   dcol[K × nb·P]     = W_gᵀ · dY_g          (then col2im, per sample and channel)
//   backward-weight  dW_g[cOutG × K]   += dY_g · colᵀ          (the batch sum is the GEMM's k loop)
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "gemm.h"
#include "kernels.h"
#include "threadpool.h"

namespace stride {
namespace {

struct Buffer {
  float* data = nullptr;
  size_t size = 0;
  ~Buffer() { std::free(data); }
  float* get(size_t n) {
    if (n > size) {
      std::free(data);
      data = static_cast<float*>(std::aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64));
      size = n;
    }
    return data;
  }
};

// Scratch owned by the calling thread and reused across calls.
thread_local Buffer tl_col, tl_wb, tl_z, tl_wt, tl_idx;  // tl_idx holds int32s

// relu on the bit patterns, as stride::relu (elementwise.cc): a set sign bit gives +0.
typedef int32_t alias_i32 __attribute__((may_alias));
void relu_in_place(float* z, int64_t n) {
  alias_i32* zi = reinterpret_cast<alias_i32*>(z);
  for (int64_t i = 0; i < n; ++i) zi[i] &= ~(zi[i] >> 31);
}

// Aim for column matrices of at most this many floats per chunk of samples (2 MiB: written by
// im2col and read back by the GEMM while still in cache).
constexpr int64_t kColCap = int64_t(1) << 19;

struct Dims {
  int cInG, cOutG;
  int64_t K, P, inPlane;
};

Dims dims(const ConvGeom& g) {
  Dims d;
  d.cInG = g.cIn / g.groups;
  d.cOutG = g.cOut / g.groups;
  d.K = int64_t(d.cInG) * g.k[0] * g.k[1] * g.k[2];
  d.P = int64_t(g.out[0]) * g.out[1] * g.out[2];
  d.inPlane = int64_t(g.in[0]) * g.in[1] * g.in[2];
  return d;
}

int chunk_samples(const ConvGeom& g, const Dims& d) {
  const int64_t per = std::max<int64_t>(1, d.K * d.P);
  return static_cast<int>(std::clamp<int64_t>(kColCap / per, 1, g.n));
}

// Per-sample parallelism: with a batch of at least 2 samples per thread, each pool task unfolds its
// own few samples into its thread's column buffer (about half of kColCap: a core's L2) and runs a
// serial GEMM on them right away, so the columns are read back from the core that wrote them and
// there are no barriers between im2col and GEMM. Tasks are claimed dynamically (a thread slowed by
// other work takes fewer). Returns false (nothing done) when the caller should use the shared path:
// one thread, a nested call, or too few samples.
// STRIDE_CONV_SHARED=1 disables it (for comparisons).
bool sample_tasks_apply(const ConvGeom& g) {
  static const bool off = std::getenv("STRIDE_CONV_SHARED") != nullptr;
  const int T = in_parallel_region() ? 1 : num_threads();
  return !off && T > 1 && g.n >= 2 * T;
}

// Samples per task: columns of about kColCap / 2, and at least 2 tasks per thread.
int samples_per_task(const ConvGeom& g, int64_t colPerSample, int T) {
  return static_cast<int>(
      std::clamp<int64_t>((kColCap / 2) / std::max<int64_t>(1, colPerSample), 1, (g.n + 2 * T - 1) / (2 * T)));
}

bool by_sample_tasks(const ConvGeom& g, int64_t colPerSample,
                     const std::function<void(int s0, int nb, int thread)>& fn) {
  if (!sample_tasks_apply(g)) return false;
  const int per = samples_per_task(g, colPerSample, num_threads());
  const int tasks = (g.n + per - 1) / per;
  parallel_for(tasks, [&](int t, int thread) {
    const int s0 = t * per;
    fn(s0, std::min(per, g.n - s0), thread);
  });
  return true;
}

// Output positions ow in [lo, hi) read an in-bounds input column for tap offset `off` (= k·d − p).
inline void valid_range(int outSize, int inSize, int stride, int off, int& lo, int& hi) {
  // iw = ow·stride + off must be in [0, inSize)
  lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
  const int last = inSize - 1 - off;  // ow·stride <= last
  hi = last < 0 ? 0 : last / stride + 1;
  lo = std::min(lo, outSize);
  hi = std::clamp(hi, lo, outSize);
}

// One row of a column matrix, dst[0, n) = src[ow] for ow in [lo, hi), else 0 (src is already
// offset so that its element ow is the one output ow reads). Rows are short (7 to 30 outputs in
// the MNIST models), so with AVX-512 each is one or two masked loads and stores: no per-row calls,
// no scalar head or tail; the masked lanes are never read.
inline void copy_row(float* dst, const float* src, int lo, int hi, int n) {
#ifdef __AVX512F__
  for (int b = 0; b < n; b += 16) {
    const int m = std::min(16, n - b);
    const int l = std::clamp(lo - b, 0, 16), h = std::clamp(hi - b, 0, 16);
    const __mmask16 valid = __mmask16(((1u << h) - 1) & ~((1u << l) - 1));
    _mm512_mask_storeu_ps(dst + b, __mmask16((1u << m) - 1), _mm512_maskz_loadu_ps(valid, src + b));
  }
#else
  std::fill(dst, dst + lo, 0.0f);
  for (int ow = lo; ow < hi; ++ow) dst[ow] = src[ow];
  std::fill(dst + std::max(lo, hi), dst + n, 0.0f);
#endif
}

// The adjoint: dst[ow] += src[ow] for ow in [lo, hi) (dst offset like src above).
inline void add_row(float* dst, const float* src, int lo, int hi) {
#ifdef __AVX512F__
  for (int b = lo; b < hi; b += 16) {
    const __mmask16 m = __mmask16((1u << std::min(16, hi - b)) - 1);
    _mm512_mask_storeu_ps(dst + b, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst + b), _mm512_maskz_loadu_ps(m, src + b)));
  }
#else
  for (int ow = lo; ow < hi; ++ow) dst[ow] += src[ow];
#endif
}

// A 2-D plane whose output rows are as long as its input rows, at stride 1 ('same' padding, the
// usual 3×3 pad-1 layer): then a tap's column-matrix row is the input plane shifted by one offset,
// so it is copied as one contiguous run for all rows at once (and its adjoint added as one),
// with only the few columns that wrap around a row edge fixed up per row.
bool plane_shift(const ConvGeom& g) {
  return g.in[0] == 1 && g.out[0] == 1 && g.k[0] == 1 && g.p[0] == 0 && g.s[1] == 1 && g.s[2] == 1 &&
         g.out[2] == g.in[2];
}

// For tap (kh, kw) of a plane_shift geometry: output rows [r0, r1) read real input rows, output
// columns [lo, hi) real input columns, and element q of the plane reads input element q + off.
struct Shift {
  int r0, r1, lo, hi;
  int64_t off;
};

Shift tap_shift(const ConvGeom& g, int kh, int kw) {
  const int H = g.in[1], W = g.in[2];
  const int offH = kh * g.d[1] - g.p[1], offW = kw * g.d[2] - g.p[2];
  Shift t;
  t.r0 = std::clamp(-offH, 0, g.out[1]);
  t.r1 = std::clamp(H - offH, t.r0, g.out[1]);
  valid_range(W, W, 1, offW, t.lo, t.hi);
  t.off = int64_t(offH) * W + offW;
  return t;
}

void im2col_shifted(const ConvGeom& g, const float* xc, float* col, int64_t ld) {
  const int W = g.in[2], oH = g.out[1];
  for (int kh = 0; kh < g.k[1]; ++kh)
    for (int kw = 0; kw < g.k[2]; ++kw, col += ld) {
      const Shift t = tap_shift(g, kh, kw);
      if (t.r0 >= t.r1 || t.lo >= t.hi) {
        std::memset(col, 0, sizeof(float) * int64_t(oH) * W);
        continue;
      }
      std::memset(col, 0, sizeof(float) * int64_t(t.r0) * W);
      std::memset(col + int64_t(t.r1) * W, 0, sizeof(float) * int64_t(oH - t.r1) * W);
      // Rows r0..r1 in one run: its first lo and last W - hi elements would read outside the
      // plane, and are among the wrapped columns zeroed next.
      const int64_t q0 = int64_t(t.r0) * W + t.lo, q1 = int64_t(t.r1) * W - (W - t.hi);
      std::memcpy(col + q0, xc + q0 + t.off, sizeof(float) * (q1 - q0));
      for (int oh = t.r0; oh < t.r1; ++oh) {
        float* row = col + int64_t(oh) * W;
        for (int ow = 0; ow < t.lo; ++ow) row[ow] = 0.0f;
        for (int ow = t.hi; ow < W; ++ow) row[ow] = 0.0f;
      }
    }
}

// The adjoint of im2col_shifted (dxc already zeroed). The wrapped columns of col, which belong to
// padding, are zeroed first so that each tap is one contiguous add.
void col2im_shifted(const ConvGeom& g, float* col, int64_t ld, float* dxc) {
  const int W = g.in[2];
  for (int kh = 0; kh < g.k[1]; ++kh)
    for (int kw = 0; kw < g.k[2]; ++kw, col += ld) {
      const Shift t = tap_shift(g, kh, kw);
      if (t.r0 >= t.r1 || t.lo >= t.hi) continue;
      for (int oh = t.r0; oh < t.r1; ++oh) {
        float* row = col + int64_t(oh) * W;
        for (int ow = 0; ow < t.lo; ++ow) row[ow] = 0.0f;
        for (int ow = t.hi; ow < W; ++ow) row[ow] = 0.0f;
      }
      const int64_t q0 = int64_t(t.r0) * W + t.lo, q1 = int64_t(t.r1) * W - (W - t.hi);
      add_row(dxc + t.off, col, int(q0), int(q1));
    }
}

// Unfolds one channel plane xc (D×H×W) into kD·kH·kW rows of col (row stride ld), P columns each.
void im2col_channel(const ConvGeom& g, const float* xc, float* col, int64_t ld) {
  if (plane_shift(g)) return im2col_shifted(g, xc, col, ld);
  const int D = g.in[0], H = g.in[1], W = g.in[2];
  const int oD = g.out[0], oH = g.out[1], oW = g.out[2];
  const int sW = g.s[2];
  for (int kd = 0; kd < g.k[0]; ++kd)
    for (int kh = 0; kh < g.k[1]; ++kh)
      for (int kw = 0; kw < g.k[2]; ++kw) {
        float* dst = col;
        col += ld;
        const int offW = kw * g.d[2] - g.p[2];
        int lo, hi;
        valid_range(oW, W, sW, offW, lo, hi);
        for (int od = 0; od < oD; ++od) {
          const int id = od * g.s[0] - g.p[0] + kd * g.d[0];
          for (int oh = 0; oh < oH; ++oh, dst += oW) {
            const int ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
            if (id < 0 || id >= D || ih < 0 || ih >= H || lo >= hi) {
              std::memset(dst, 0, sizeof(float) * oW);
              continue;
            }
            const float* src = xc + (int64_t(id) * H + ih) * W + offW;
            if (sW == 1) {
              copy_row(dst, src, lo, hi, oW);
              continue;
            }
            std::fill(dst, dst + lo, 0.0f);
            for (int ow = lo; ow < hi; ++ow) dst[ow] = src[int64_t(ow) * sW];
            std::fill(dst + hi, dst + oW, 0.0f);
          }
        }
      }
}

// The adjoint: adds kD·kH·kW rows of col back onto the channel plane dxc (which it first zeroes).
// col is scratch: the shifted path zeroes its padding entries.
void col2im_channel(const ConvGeom& g, float* col, int64_t ld, float* dxc) {
  const int D = g.in[0], H = g.in[1], W = g.in[2];
  const int oD = g.out[0], oH = g.out[1], oW = g.out[2];
  const int sW = g.s[2];
  std::memset(dxc, 0, sizeof(float) * int64_t(D) * H * W);
  if (plane_shift(g)) return col2im_shifted(g, col, ld, dxc);
  for (int kd = 0; kd < g.k[0]; ++kd)
    for (int kh = 0; kh < g.k[1]; ++kh)
      for (int kw = 0; kw < g.k[2]; ++kw) {
        const float* src = col;
        col += ld;
        const int offW = kw * g.d[2] - g.p[2];
        int lo, hi;
        valid_range(oW, W, sW, offW, lo, hi);
        for (int od = 0; od < oD; ++od) {
          const int id = od * g.s[0] - g.p[0] + kd * g.d[0];
          for (int oh = 0; oh < oH; ++oh, src += oW) {
            const int ih = oh * g.s[1] - g.p[1] + kh * g.d[1];
            if (id < 0 || id >= D || ih < 0 || ih >= H) continue;
            float* dst = dxc + (int64_t(id) * H + ih) * W + offW;
            if (sW == 1)
              add_row(dst, src, lo, hi);
            else
              for (int ow = lo; ow < hi; ++ow) dst[int64_t(ow) * sW] += src[ow];
          }
        }
      }
}

// im2col of samples [s0, s0+nb), channels of group grp, into col[K × nb·P].
void im2col_chunk(const ConvGeom& g, const Dims& d, const float* x, int s0, int nb, int grp, float* col) {
  const int64_t ld = int64_t(nb) * d.P;
  const int64_t taps = d.K / d.cInG;
  parallel_range(int64_t(nb) * d.cInG, 1, [&](int64_t b, int64_t e, int) {
    for (int64_t u = b; u < e; ++u) {
      const int sl = static_cast<int>(u / d.cInG), c = static_cast<int>(u % d.cInG);
      const float* xc = x + ((int64_t(s0 + sl) * g.cIn) + int64_t(grp) * d.cInG + c) * d.inPlane;
      im2col_channel(g, xc, col + int64_t(c) * taps * ld + int64_t(sl) * d.P, ld);
    }
  });
}

// ---------------------------------------------------------------- direct convolution

// Without im2col: 16 outputs of one row are computed for up to 16 output channels at once, each
// channel's accumulator in its own register; per tap, one masked load of the input row (the mask
// zeroes the padding) feeds one FMA per channel, the weights broadcast from a [tap][16] copy.
// Wider layers run in blocks of 16 channels, each block reading the sample's input again (from
// cache). Taps are added in im2col's order (c, kh, kw), then the bias, as the GEMM path does with
// its ones row, so the two agree to rounding. It replaces im2col + GEMM for the forward pass of
// 2-D convolutions at stride 1 along W with AVX-512 where the GEMM would be small in k or m (few
// taps or few output channels: im2col's copies then dominate): M2's 1 -> 8 and 8 -> 16 layers,
// M1's 1 -> 32 (1.7× faster). On M1's 32 -> 64 (k = 128) the two measured the same end to end,
// so layers with many taps and many channels keep im2col + GEMM.
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

bool direct_applies(const ConvGeom& g) {
#ifdef __AVX512F__
  const int64_t taps = int64_t(g.cIn / g.groups) * g.k[1] * g.k[2];
  return direct_enabled() && g.in[0] == 1 && g.out[0] == 1 && g.k[0] == 1 && g.p[0] == 0 && g.s[2] == 1 && g.k[2] <= 32 &&
         (g.cOut / g.groups <= 16 || taps <= 32);
#else
  (void)g;
  return false;
#endif
}

// The direct kernel's register blocking: NV vectors of 16 outputs along a row by a block of output
// channels, one accumulator register each: 1 × 16 channels for rows up to 16 outputs wide, else
// 2 × 14 (28 accumulators, 2 input vectors, the weights broadcast from memory), so that each
// broadcast weight feeds NV FMAs. Weights are stored per block as [tap][16] whatever the block's
// width. kMaxDirectKW: the widest kernel row it takes.
constexpr int kWeightStride = 16;
constexpr int kMaxDirectKW = 32;
inline int direct_nv(const ConvGeom& g) { return g.out[2] > 16 ? 2 : 1; }
inline int direct_block_width(int nv) { return nv == 1 ? 16 : 14; }
inline int direct_blocks(const Dims& d, int nv) {
  const int bw = direct_block_width(nv);
  return (d.cOutG + bw - 1) / bw;
}

// Where a chunk's planes live: plane (sample sl, channel c) at base + sl·sample + c·channel.
struct Planes {
  int64_t sample, channel;
};

#ifdef __AVX512F__
// Output channels [o0, o0 + nOut) (nOut ≤ OC) of group grp for nb samples: z's planes from x's
// (both chunk bases, laid out as xl and zl say). wt is the block's weights as [cInG·kH·kW][16],
// bias the block's or null.
template <int OC, int NV, int KW>
void direct_block(const ConvGeom& g, const Dims& d, const float* x, Planes xl, const float* wt, const float* bias,
                  bool relu, int grp, int o0, int nOut, int nb, float* z, Planes zl) {
  const int H = g.in[1], W = g.in[2], oH = g.out[1], oW = g.out[2];
  const int kH = g.k[1], kW = KW ? KW : g.k[2];  // KW: the kernel width as a constant (0: not)
  for (int sl = 0; sl < nb; ++sl) {
    const float* xs = x + sl * xl.sample + int64_t(grp) * d.cInG * xl.channel;
    float* zs = z + sl * zl.sample + (int64_t(grp) * d.cOutG + o0) * zl.channel;
    for (int oh = 0; oh < oH; ++oh)
      for (int ow0 = 0; ow0 < oW; ow0 += 16 * NV) {
        // Every loop over o and v is unrolled (constants) so that acc stays in registers.
        __m512 acc[NV][OC];
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v)
#pragma GCC unroll 16
          for (int o = 0; o < OC; ++o) acc[v][o] = _mm512_setzero_ps();
        // Per kw and vector: the input column of lane 0 and the lanes that read real columns (the
        // same for every input channel and kernel row); then the kernel rows that read real rows.
        int off[kMaxDirectKW];
        __mmask16 mask[NV][kMaxDirectKW];
        for (int kw = 0; kw < kW; ++kw) {
          off[kw] = ow0 + kw * g.d[2] - g.p[2];
          for (int v = 0; v < NV; ++v) {
            const int lanes = std::clamp(oW - ow0 - 16 * v, 0, 16), first = off[kw] + 16 * v;
            const int lo = std::clamp(-first, 0, lanes), hi = std::clamp(W - first, lo, lanes);
            mask[v][kw] = __mmask16(((1u << hi) - 1) & ~((1u << lo) - 1));
          }
        }
        const int ih0 = oh * g.s[1] - g.p[1];
        const int kh0 = std::clamp((-ih0 + g.d[1] - 1) / g.d[1], 0, kH);
        const int kh1 = std::clamp((H - ih0 + g.d[1] - 1) / g.d[1], kh0, kH);
        for (int c = 0; c < d.cInG; ++c)
          for (int kh = kh0; kh < kh1; ++kh) {
            const float* row = xs + c * xl.channel + int64_t(ih0 + kh * g.d[1]) * W;
            const float* wp = wt + ((int64_t(c) * kH + kh) * kW) * kWeightStride;
#pragma GCC unroll 3
            for (int kw = 0; kw < kW; ++kw, wp += kWeightStride) {
              __m512 xv[NV];
#pragma GCC unroll 2
              for (int v = 0; v < NV; ++v) xv[v] = _mm512_maskz_loadu_ps(mask[v][kw], row + off[kw] + 16 * v);
#pragma GCC unroll 16
              for (int o = 0; o < OC; ++o) {
                const __m512 wv = _mm512_set1_ps(wp[o]);
#pragma GCC unroll 2
                for (int v = 0; v < NV; ++v) acc[v][o] = _mm512_fmadd_ps(wv, xv[v], acc[v][o]);
              }
            }
          }
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) {
          const int lanes = std::clamp(oW - ow0 - 16 * v, 0, 16);
          if (lanes == 0) break;
          const __mmask16 store = __mmask16((1u << lanes) - 1);
          float* zq = zs + int64_t(oh) * oW + ow0 + 16 * v;
#pragma GCC unroll 16
          for (int o = 0; o < OC; ++o) {
            if (o >= nOut) break;
            __m512 r = acc[v][o];
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
}
#endif

#ifdef __AVX512F__
// direct_block with the kernel width as a constant where it is 2 or 3 (the kw loop unrolled, its
// masks and offsets in registers): M2's layers forward ~18% faster on one core. Not with two
// vectors per row, whose 28 accumulators leave no registers for it (M1: ~3% slower).
template <int OC, int NV>
void run_block(const ConvGeom& g, const Dims& d, const float* x, Planes xl, const float* wt, const float* bias,
               bool relu, int grp, int o0, int nOut, int nb, float* z, Planes zl) {
  if (NV == 2)
    direct_block<OC, NV, 0>(g, d, x, xl, wt, bias, relu, grp, o0, nOut, nb, z, zl);
  else if (g.k[2] == 2)
    direct_block<OC, NV, 2>(g, d, x, xl, wt, bias, relu, grp, o0, nOut, nb, z, zl);
  else if (g.k[2] == 3)
    direct_block<OC, NV, 3>(g, d, x, xl, wt, bias, relu, grp, o0, nOut, nb, z, zl);
  else
    direct_block<OC, NV, 0>(g, d, x, xl, wt, bias, relu, grp, o0, nOut, nb, z, zl);
}
#endif

// The direct convolution of nb samples, every group (relu'd when `relu`), z's planes from x's;
// wt holds each block's [tap][16] weights (see direct_weights).
void direct_chunk(const ConvGeom& g, const Dims& d, const float* x, Planes xl, const float* wt, const float* bias,
                  bool relu, int nb, float* z, Planes zl) {
#ifdef __AVX512F__
  const int nv = direct_nv(g), bw = direct_block_width(nv), blocks = direct_blocks(d, nv);
  for (int grp = 0; grp < g.groups; ++grp)
    for (int blk = 0; blk < blocks; ++blk) {
      const int o0 = blk * bw, nOut = std::min(bw, d.cOutG - o0);
      const float* wb = wt + (int64_t(grp) * blocks + blk) * d.K * kWeightStride;
      const float* bb = bias ? bias + int64_t(grp) * d.cOutG + o0 : nullptr;
      if (nv == 1) {
        if (nOut <= 4)
          run_block<4, 1>(g, d, x, xl, wb, bb, relu, grp, o0, nOut, nb, z, zl);
        else if (nOut <= 8)
          run_block<8, 1>(g, d, x, xl, wb, bb, relu, grp, o0, nOut, nb, z, zl);
        else if (nOut <= 12)
          run_block<12, 1>(g, d, x, xl, wb, bb, relu, grp, o0, nOut, nb, z, zl);
        else
          run_block<16, 1>(g, d, x, xl, wb, bb, relu, grp, o0, nOut, nb, z, zl);
      } else {
        if (nOut <= 4)
          run_block<4, 2>(g, d, x, xl, wb, bb, relu, grp, o0, nOut, nb, z, zl);
        else if (nOut <= 8)
          run_block<8, 2>(g, d, x, xl, wb, bb, relu, grp, o0, nOut, nb, z, zl);
        else
          run_block<14, 2>(g, d, x, xl, wb, bb, relu, grp, o0, nOut, nb, z, zl);
      }
    }
#else
  (void)g, (void)d, (void)x, (void)xl, (void)wt, (void)bias, (void)relu, (void)nb, (void)z, (void)zl;
#endif
}

// w [cOut × cInG·kH·kW] as the direct kernel's weights: per group and block of output channels,
// [tap][16] (channels past the block's end zero).
const float* direct_weights(const ConvGeom& g, const Dims& d, const float* w, Buffer& buf) {
  const int nv = direct_nv(g), bw = direct_block_width(nv), blocks = direct_blocks(d, nv);
  const size_t n = size_t(g.groups) * blocks * d.K * kWeightStride;
  float* wt = buf.get(n);
  std::fill(wt, wt + n, 0.0f);
  for (int grp = 0; grp < g.groups; ++grp)
    for (int o = 0; o < d.cOutG; ++o) {
      float* dst = wt + (int64_t(grp) * blocks + o / bw) * d.K * kWeightStride + o % bw;
      const float* src = w + (int64_t(grp) * d.cOutG + o) * d.K;
      for (int64_t t = 0; t < d.K; ++t) dst[t * kWeightStride] = src[t];
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

// The adjoint's direct weights: tap (oc, kh, kw) of its output channel c (an input channel of
// the convolution) is w[oc][c][kH-1-kh][kW-1-kw].
const float* adjoint_weights(const ConvGeom& g, const Dims& d, const ConvGeom& a, const float* w, Buffer& buf) {
  const int kH = g.k[1], kW = g.k[2];
  const Dims da = dims(a);
  const int nv = direct_nv(a), bw = direct_block_width(nv), blocks = direct_blocks(da, nv);
  const size_t n = size_t(g.groups) * blocks * da.K * kWeightStride;
  float* wt = buf.get(n);
  std::fill(wt, wt + n, 0.0f);
  for (int grp = 0; grp < g.groups; ++grp)
    for (int oc = 0; oc < d.cOutG; ++oc)
      for (int c = 0; c < d.cInG; ++c)
        for (int kh = 0; kh < kH; ++kh)
          for (int kw = 0; kw < kW; ++kw) {
            const int64_t t = (int64_t(oc) * kH + (kH - 1 - kh)) * kW + (kW - 1 - kw);
            wt[((int64_t(grp) * blocks + c / bw) * da.K + t) * kWeightStride + c % bw] =
                w[((int64_t(grp) * d.cOutG + oc) * d.cInG + c) * kH * kW + kh * kW + kw];
          }
  return wt;
}

}  // namespace

void conv_block_forward(const ConvGeom& g, const PoolGeom* pool, bool relu, const float* x, const float* w,
                        const float* bias, float* y, int32_t* idx) {
  const Dims d = dims(g);
  if (g.n == 0 || d.P == 0 || g.cOut == 0) return;
  const bool direct = direct_applies(g);
  const float* wt = direct ? direct_weights(g, d, w, tl_wt) : nullptr;
  // The bias rides along in the GEMM: one more row of ones in col and the bias as one more column
  // of W, so y gets it without another pass over memory.
  const int64_t Kb = d.K + (bias ? 1 : 0);
  Dims db = d;
  db.K = Kb;
  const int nbMax = chunk_samples(g, db);
  const float* wAll = w;
  if (bias) {
    float* wb = tl_wb.get(size_t(g.cOut) * Kb);
    for (int oc = 0; oc < g.cOut; ++oc) {
      std::memcpy(wb + oc * Kb, w + oc * d.K, sizeof(float) * d.K);
      wb[oc * Kb + d.K] = bias[oc];
    }
    wAll = wb;
  }
  const int64_t sampleStride = int64_t(g.cOut) * d.P;  // between samples' blocks of the conv output
  const int64_t pooledStride = pool ? int64_t(g.cOut) * pool->out[0] * pool->out[1] * pool->out[2] : 0;
  // Samples [s0, s0+nb) through the column buffer `cb` (inside a pool task: serial im2col and GEMM).
  // With pooling the convolution's output goes to the per-thread scratch z and only the pooled
  // result reaches y; without, it is written in place and relu'd there while still in cache.
  auto chunk = [&](int s0, int nb, float* cb) {
    const int64_t ld = int64_t(nb) * d.P;
    float* z = pool ? tl_z.get(size_t(nb) * sampleStride) : y + int64_t(s0) * sampleStride;
    if (direct)
      direct_chunk(g, d, x + int64_t(s0) * g.cIn * d.inPlane, {int64_t(g.cIn) * d.inPlane, d.inPlane}, wt, bias,
                   relu, nb, z, {sampleStride, d.P});
    if (!direct && bias) std::fill(cb + d.K * ld, cb + (d.K + 1) * ld, 1.0f);
    for (int grp = 0; grp < g.groups && !direct; ++grp) {
      const float* wg = wAll + int64_t(grp) * d.cOutG * Kb;
      im2col_chunk(g, d, x, s0, nb, grp, cb);
      // Z_g[cOutG × nb·P] = W_g · col, column sl·P + q written straight to z[sl, grp·cOutG + oc, q].
      float* zg = z + int64_t(grp) * d.cOutG * d.P;
      sgemm_seg(false, d.cOutG, int(ld), int(Kb), 1.0f, wg, int(Kb), cb, int(ld), 0, 0, 0.0f, zg, int(d.P), d.P,
                sampleStride);
    }
    if (relu && !direct) relu_in_place(z, int64_t(nb) * sampleStride);
    if (pool) {
      PoolGeom pg = *pool;
      pg.planes = nb * g.cOut;
      // Without idx (inference) the argmax goes to a per-thread scratch and is dropped.
      int32_t* ix = idx ? idx + int64_t(s0) * pooledStride
                        : reinterpret_cast<int32_t*>(tl_idx.get(size_t(nb) * size_t(pooledStride)));
      max_pool_forward(pg, z, y + int64_t(s0) * pooledStride, ix);
    }
  };
  if (by_sample_tasks(g, Kb * d.P, [&](int s0, int nb, int) {
        chunk(s0, nb, direct ? nullptr : tl_col.get(size_t(Kb) * nb * d.P));
      }))
    return;
  float* col = direct ? nullptr : tl_col.get(size_t(Kb) * nbMax * d.P);
  for (int s0 = 0; s0 < g.n; s0 += nbMax) chunk(s0, std::min(nbMax, g.n - s0), col);
}

void conv_forward(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y) {
  conv_block_forward(g, nullptr, false, x, w, bias, y, nullptr);
}

void conv_backward_input(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  const Dims d = dims(g);
  if (g.n == 0) return;
  if (d.P == 0 || g.cOut == 0) {
    std::memset(dx, 0, sizeof(float) * size_t(g.n) * g.cIn * d.inPlane);
    return;
  }
  const int nbMax = chunk_samples(g, d);
  const int64_t taps = d.K / d.cInG;
  const int64_t sampleStride = int64_t(g.cOut) * d.P;
  auto chunk = [&](int s0, int nb, float* col) {
    const int64_t ld = int64_t(nb) * d.P;
    for (int grp = 0; grp < g.groups; ++grp) {
      const float* wg = w + int64_t(grp) * d.cOutG * d.K;
      // dcol[K × nb·P] = W_gᵀ · dY_g, reading dy's column sl·P + q from dy[s0 + sl, grp·cOutG + oc, q].
      const float* dyg = dy + int64_t(s0) * sampleStride + int64_t(grp) * d.cOutG * d.P;
      sgemm_seg(true, int(d.K), int(ld), d.cOutG, 1.0f, wg, int(d.K), dyg, int(d.P), d.P, sampleStride, 0.0f, col,
                int(ld), 0, 0);
      parallel_range(int64_t(nb) * d.cInG, 1, [&](int64_t b, int64_t e, int) {
        for (int64_t u = b; u < e; ++u) {
          const int sl = int(u / d.cInG), c = int(u % d.cInG);
          float* dxc = dx + ((int64_t(s0 + sl) * g.cIn) + int64_t(grp) * d.cInG + c) * d.inPlane;
          col2im_channel(g, col + c * taps * ld + sl * d.P, ld, dxc);
        }
      });
    }
  };
  if (by_sample_tasks(g, d.K * d.P,
                      [&](int s0, int nb, int) { chunk(s0, nb, tl_col.get(size_t(d.K) * nb * d.P)); }))
    return;
  float* col = tl_col.get(size_t(d.K) * nbMax * d.P);
  for (int s0 = 0; s0 < g.n; s0 += nbMax) chunk(s0, std::min(nbMax, g.n - s0), col);
}

// Σ of n floats with several independent accumulators (the compiler may not reorder a plain loop).
float sum_floats(const float* x, int64_t n) {
  float acc[16] = {};
  int64_t q = 0;
  for (; q + 16 <= n; q += 16)
    for (int l = 0; l < 16; ++l) acc[l] += x[q + l];
  float s = 0.0f;
  for (; q < n; ++q) s += x[q];
  for (int l = 0; l < 16; ++l) s += acc[l];
  return s;
}

void conv_backward_weight(const ConvGeom& g, const float* x, const float* dy, float* dw, float* db) {
  const Dims d = dims(g);
  if (db) {
    parallel_range(g.cOut, std::max<int64_t>(1, 65536 / std::max<int64_t>(1, int64_t(g.n) * d.P)),
                   [&](int64_t b, int64_t e, int) {
                     for (int64_t oc = b; oc < e; ++oc) {
                       double sum = 0.0;
                       for (int s = 0; s < g.n; ++s) sum += sum_floats(dy + (int64_t(s) * g.cOut + oc) * d.P, d.P);
                       db[oc] = float(sum);
                     }
                   });
  }
  if (g.n == 0 || d.P == 0) {
    std::memset(dw, 0, sizeof(float) * size_t(g.cOut) * d.K);
    return;
  }
  const int nbMax = chunk_samples(g, d);
  const int T = num_threads();
  const int64_t wN = int64_t(g.cOut) * d.K;
  const int G = std::min(g.n, 2 * T);
  if (sample_tasks_apply(g) && int64_t(G) * wN <= (int64_t(1) << 24)) {
    // By samples: G = 2T groups of consecutive samples, each summed (serial dot-product path, in
    // chunks of a few samples unfolded by the same thread) into its own partial dW, then the
    // partials added in group order. The groups are fixed by n and T, never by which thread ran
    // what, so the result is the same on every run (training resumed from a checkpoint must
    // reproduce an uninterrupted run bit for bit). M1's conv2 (batch 128, 2 threads): ~100 ->
    // ~117 GFLOP/s; the packed path per sample (dy_s · col_sᵀ) measured the same, within noise.
    const int per = samples_per_task(g, d.K * d.P, T);
    float* partial = tl_wb.get(size_t(wN) * G);
    parallel_for(G, [&](int gi, int) {
      const int end = int(int64_t(g.n) * (gi + 1) / G);
      for (int s0 = int(int64_t(g.n) * gi / G), first = 1; s0 < end; s0 += per, first = 0) {
        const int nb = std::min(per, end - s0);
        float* col = tl_col.get(size_t(d.K) * nb * d.P);
        const int64_t ld = int64_t(nb) * d.P;
        for (int grp = 0; grp < g.groups; ++grp) {
          float* dwg = partial + wN * gi + int64_t(grp) * d.cOutG * d.K;
          im2col_chunk(g, d, x, s0, nb, grp, col);
          const float* dyg = dy + (int64_t(s0) * g.cOut + int64_t(grp) * d.cOutG) * d.P;
          sgemm_nt_sum(d.cOutG, int(d.K), int(d.P), nb, 1.0f, dyg, d.P, int64_t(g.cOut) * d.P, col, ld, d.P,
                       first ? 0.0f : 1.0f, dwg, int(d.K));
        }
      }
    });
    for (int64_t i = 0; i < wN; ++i) {
      float sum = 0.0f;
      for (int gi = 0; gi < G; ++gi) sum += partial[wN * gi + i];
      dw[i] = sum;
    }
    return;
  }
  float* col = tl_col.get(size_t(d.K) * nbMax * d.P);
  for (int s0 = 0; s0 < g.n; s0 += nbMax) {
    const int nb = std::min(nbMax, g.n - s0);
    const int64_t ld = int64_t(nb) * d.P;
    const float beta = s0 == 0 ? 0.0f : 1.0f;
    for (int grp = 0; grp < g.groups; ++grp) {
      float* dwg = dw + int64_t(grp) * d.cOutG * d.K;
      im2col_chunk(g, d, x, s0, nb, grp, col);
      // dW_g[cOutG × K] (+)= Σ_s dy_s[cOutG × P] · col_sᵀ: both operands are P-contiguous, so
      // the dot-product GEMM reads them in place, sample by sample, with no gather or transpose.
      const float* dyg = dy + (int64_t(s0) * g.cOut + int64_t(grp) * d.cOutG) * d.P;
      sgemm_nt_sum(d.cOutG, int(d.K), int(d.P), nb, 1.0f, dyg, d.P, int64_t(g.cOut) * d.P, col, ld, d.P, beta, dwg,
                   int(d.K));
    }
  }
}

namespace {

// The gradient with respect to the convolution's output for samples [s0, s0+nb), into z laid out
// channel-major, [cOut × nb·P] (row oc holds the samples' planes side by side), so that both
// gradient GEMMs see plain matrices with k or n = nb·P: dy scattered back through the pooling's
// argmax (summed, as max_pool_backward) and/or masked by relu, whose output at each position is
// y itself (no pool) or, through the pool, the pooled y of every output that picked it.
void block_output_grad(const ConvGeom& g, const Dims& d, const PoolGeom* pool, bool relu, const float* y,
                       const int32_t* idx, const float* dy, int s0, int nb, float* z) {
  const alias_i32* yi = reinterpret_cast<const alias_i32*>(y);
  const int64_t ld = int64_t(nb) * d.P;
  if (!pool) {
    for (int sl = 0; sl < nb; ++sl)
      for (int oc = 0; oc < g.cOut; ++oc) {
        const int64_t off = (int64_t(s0 + sl) * g.cOut + oc) * d.P;
        const alias_i32* dyi = reinterpret_cast<const alias_i32*>(dy) + off;
        alias_i32* zi = reinterpret_cast<alias_i32*>(z + oc * ld + sl * d.P);
        for (int64_t q = 0; q < d.P; ++q) zi[q] = dyi[q] & -int32_t(yi[off + q] > 0);
      }
    return;
  }
  const int64_t oP = int64_t(pool->out[0]) * pool->out[1] * pool->out[2];
  std::memset(z, 0, sizeof(float) * size_t(g.cOut) * ld);
  for (int sl = 0; sl < nb; ++sl)
    for (int oc = 0; oc < g.cOut; ++oc) {
      const int64_t o = (int64_t(s0 + sl) * g.cOut + oc) * oP;
      float* zp = z + oc * ld + sl * d.P;
      for (int64_t q = o; q < o + oP; ++q) {
        const int32_t at = idx[q];
        if (at < 0 || at >= d.P || (relu && yi[q] <= 0)) continue;
        zp[at] += dy[q];
      }
    }
}

}  // namespace

void conv_block_backward(const ConvGeom& g, const PoolGeom* pool, bool relu, const float* x, const float* w,
                         const float* y, const int32_t* idx, const float* dy, float* dx, float* dw, float* db) {
  const Dims d = dims(g);
  const int64_t wN = int64_t(g.cOut) * d.K;
  if (g.n == 0 || d.P == 0 || g.cOut == 0) {
    if (dx) std::memset(dx, 0, sizeof(float) * size_t(g.n) * g.cIn * d.inPlane);
    if (dw) std::memset(dw, 0, sizeof(float) * size_t(wN));
    if (db) std::memset(db, 0, sizeof(float) * size_t(g.cOut));
    return;
  }
  const bool rebuild = pool || relu;  // else dy is the convolution's output gradient as it is
  const int T = in_parallel_region() ? 1 : num_threads();
  // Tasks of `per` consecutive samples (columns of about a core's L2, and at least 4 tasks per
  // thread so that a thread slowed by other work on its core takes fewer), each summing its own
  // partial dW and db, added in task order: fixed by n and T, never by which thread ran what, so
  // the result is the same on every run. Too many partials for memory: fewer, longer tasks.
  const int64_t colPerSample = std::max<int64_t>(1, d.K * d.P);
  int per = int(std::clamp<int64_t>(std::min<int64_t>((kColCap / 2) / colPerSample, (g.n + 4 * T - 1) / (4 * T)), 1,
                                    g.n));
  int tasks = (g.n + per - 1) / per;
  if (dw && int64_t(tasks) * wN > (int64_t(1) << 23)) {
    tasks = int(std::max<int64_t>(1, (int64_t(1) << 23) / wN));
    per = (g.n + tasks - 1) / tasks;
    tasks = (g.n + per - 1) / per;
  }
  float* partial = dw && tasks > 1 ? tl_wb.get(size_t(wN) * tasks) : dw;
  std::vector<double> dbPartial(db ? size_t(tasks) * g.cOut : 0, 0.0);
  const int64_t sampleStride = int64_t(g.cOut) * d.P;
  const int64_t taps = d.K / d.cInG;
  // The input gradient as the adjoint convolution, by the direct kernel, where it applies.
  ConvGeom adj;
  const bool directIn = dx && adjoint_geometry(g, adj);
  const Dims dAdj = dims(directIn ? adj : g);
  const float* wAdj = directIn ? adjoint_weights(g, d, adj, w, tl_wt) : nullptr;
  // One task runs inline on the caller, whose GEMMs then use the pool themselves.
  parallel_for(tasks, [&](int gi, int) {
    const int s0 = gi * per, nb = std::min(per, g.n - s0);
    const int64_t ld = int64_t(nb) * d.P;
    // dZ_g as the GEMMs read it: rebuilt channel-major (row oc at oc·ld), or dy in place, sample
    // after sample (row oc of sample sl at sl·sampleStride + oc·P).
    const float* dz = dy + int64_t(s0) * sampleStride;
    if (rebuild) {
      float* z = tl_z.get(size_t(nb) * sampleStride);
      block_output_grad(g, d, pool, relu, y, idx, dy, s0, nb, z);
      dz = z;
    }
    const int64_t rowStride = rebuild ? ld : d.P;  // between channels of dZ
    if (db)
      for (int oc = 0; oc < g.cOut; ++oc) {
        double sum = 0.0;
        if (rebuild)
          sum = sum_floats(dz + oc * ld, ld);
        else
          for (int sl = 0; sl < nb; ++sl) sum += sum_floats(dz + sl * sampleStride + int64_t(oc) * d.P, d.P);
        dbPartial[size_t(gi) * g.cOut + oc] = sum;
      }
    if (directIn) {
      const Planes dl = rebuild ? Planes{d.P, ld} : Planes{sampleStride, d.P};
      const Planes xl{int64_t(g.cIn) * d.inPlane, d.inPlane};
      direct_chunk(adj, dAdj, dz, dl, wAdj, nullptr, false, nb, dx + int64_t(s0) * xl.sample, xl);
    }
    float* col = tl_col.get(size_t(d.K) * nb * d.P);
    for (int grp = 0; grp < g.groups; ++grp) {
      const float* dzg = dz + int64_t(grp) * d.cOutG * rowStride;
      if (dw) {
        // dW_g = Σ_s dz_s[cOutG × P] · col_sᵀ over this task: one product with k = nb·P when dZ
        // was rebuilt, else summed sample by sample, reading dy in place.
        float* dwg = partial + (tasks > 1 ? wN * gi : 0) + int64_t(grp) * d.cOutG * d.K;
        im2col_chunk(g, d, x, s0, nb, grp, col);
        if (rebuild)
          sgemm(false, true, d.cOutG, int(d.K), int(ld), 1.0f, dzg, int(ld), col, int(ld), 0.0f, dwg, int(d.K));
        else
          sgemm_nt_sum(d.cOutG, int(d.K), int(d.P), nb, 1.0f, dzg, d.P, sampleStride, col, ld, d.P, 0.0f, dwg,
                       int(d.K));
      }
      if (dx && !directIn) {
        // dcol[K × nb·P] = W_gᵀ · dZ_g (overwriting the columns dW is done with), then col2im.
        const float* wg = w + int64_t(grp) * d.cOutG * d.K;
        sgemm_seg(true, int(d.K), int(ld), d.cOutG, 1.0f, wg, int(d.K), dzg, int(rowStride), rebuild ? 0 : d.P,
                  rebuild ? 0 : sampleStride, 0.0f, col, int(ld), 0, 0);
        parallel_range(int64_t(nb) * d.cInG, 1, [&](int64_t b, int64_t e, int) {
          for (int64_t u = b; u < e; ++u) {
            const int sl = int(u / d.cInG), c = int(u % d.cInG);
            float* dxc = dx + ((int64_t(s0 + sl) * g.cIn) + int64_t(grp) * d.cInG + c) * d.inPlane;
            col2im_channel(g, col + c * taps * ld + sl * d.P, ld, dxc);
          }
        });
      }
    }
  });
  if (dw && tasks > 1)
    parallel_range(wN, 4096, [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) {
        float sum = 0.0f;
        for (int gi = 0; gi < tasks; ++gi) sum += partial[wN * gi + i];
        dw[i] = sum;
      }
    });
  if (db)
    for (int oc = 0; oc < g.cOut; ++oc) {
      double sum = 0.0;
      for (int gi = 0; gi < tasks; ++gi) sum += dbPartial[size_t(gi) * g.cOut + oc];
      db[oc] = float(sum);
    }
}

}  // namespace stride
