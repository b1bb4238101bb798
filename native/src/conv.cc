// Convolution by im2col/col2im feeding the packed GEMM.
//
// Samples are unfolded several at a time into one wide column matrix
//   col[K × nb·P],  K = cInG·kD·kH·kW,  P = oD·oH·oW,
// so the GEMM stays large even for small feature maps:
//   forward          Y_g[cOutG × nb·P]  = W_g · col            (then scattered to NCDHW, + bias)
//   backward-input   dcol[K × nb·P]     = W_gᵀ · dY_g          (then col2im, per sample and channel)
//   backward-weight  dW_g[cOutG × K]   += dY_g · colᵀ          (the batch sum is the GEMM's k loop)
// The forward pass itself is conv_block.cc's (a conv block without relu or pooling), which also
// picks the direct kernel (conv_direct.cc) where it applies.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "conv_internal.h"
#include "gemm.h"
#include "kernels.h"
#include "threadpool.h"

namespace stride {
namespace conv_detail {

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

}  // namespace conv_detail

using namespace conv_detail;

namespace {

// Scratch owned by the calling thread and reused across calls.
thread_local Buffer tl_col, tl_wb;

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

}  // namespace

namespace conv_detail {

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

}  // namespace conv_detail

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

}  // namespace stride
