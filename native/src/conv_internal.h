// Internals shared by the convolution kernels: conv.cc (im2col + GEMM), conv_direct.cc (the
// direct kernel) and conv_block.cc (convolution + relu + max pooling in one pass). Not part of the
// addon's surface (see kernels.h for that).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>

#include "kernels.h"

#ifdef __AVX512F__
#include <immintrin.h>
#endif

namespace stride::conv_detail {

#ifdef __AVX512F__
// Transposes a 16×16 block held in registers: afterwards r[i] holds lane i of every input row
// (unpacks, then in-lane shuffles, then two 128-bit lane shuffles).
inline void transpose16x16(__m512 r[16]) {
  __m512 t[16];
  for (int j = 0; j < 8; ++j) {
    t[2 * j] = _mm512_unpacklo_ps(r[2 * j], r[2 * j + 1]);
    t[2 * j + 1] = _mm512_unpackhi_ps(r[2 * j], r[2 * j + 1]);
  }
  // r[4i + c], lane L: rows 4i..4i+3 of column 4L + c.
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 a0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88), a1 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
    const __m512 b0 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88),
                 b1 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
    t[c] = _mm512_shuffle_f32x4(a0, b0, 0x88);
    t[4 + c] = _mm512_shuffle_f32x4(a1, b1, 0x88);
    t[8 + c] = _mm512_shuffle_f32x4(a0, b0, 0xDD);
    t[12 + c] = _mm512_shuffle_f32x4(a1, b1, 0xDD);
  }
  for (int j = 0; j < 16; ++j) r[j] = t[j];
}
#endif

// Scratch grown on demand and reused across calls (each kernel file keeps its own, per thread).
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

// JS Float32Arrays read as integers (relu on the bit patterns): may_alias keeps that legal.
typedef int32_t alias_i32 __attribute__((may_alias));

// Aim for column matrices of at most this many floats per chunk of samples (2 MiB: written by
// im2col and read back by the GEMM while still in cache).
constexpr int64_t kColCap = int64_t(1) << 19;

struct Dims {
  int cInG, cOutG;
  int64_t K, P, inPlane;  // K = cInG·kD·kH·kW, P = oD·oH·oW, inPlane = D·H·W
};
Dims dims(const ConvGeom& g);

// Samples per chunk of the shared path (one chunk at a time, each step over all threads).
int chunk_samples(const ConvGeom& g, const Dims& d);
// Whether the batch is split into per-thread sample tasks instead (see conv.cc).
bool sample_tasks_apply(const ConvGeom& g);
// Samples per task: columns of about kColCap / 2, and at least 2 tasks per thread.
int samples_per_task(const ConvGeom& g, int64_t colPerSample, int T);
// Runs fn on tasks of consecutive samples; false (nothing done) when sample tasks do not apply.
bool by_sample_tasks(const ConvGeom& g, int64_t colPerSample, const std::function<void(int s0, int nb, int thread)>& fn);

// im2col of samples [s0, s0+nb), channels of group grp, into col[K × nb·P].
void im2col_chunk(const ConvGeom& g, const Dims& d, const float* x, int s0, int nb, int grp, float* col);
// The adjoint for one channel plane: adds kD·kH·kW rows of col (row stride ld) onto dxc, which
// it first zeroes. col is scratch (the shifted path zeroes its padding entries).
void col2im_channel(const ConvGeom& g, float* col, int64_t ld, float* dxc);
// Σ of n floats with several independent accumulators.
float sum_floats(const float* x, int64_t n);

// Where a chunk's planes live: plane (sample sl, channel c) at base + sl·sample + c·channel.
struct Planes {
  int64_t sample, channel;
};

// The direct convolution (conv_direct.cc): direct_applies, direct_weights and direct_chunk pick
// the channel-vector kernel (conv_direct_channels.cc) where it applies, else the row-vector one.
bool direct_enabled();
bool direct_applies(const ConvGeom& g);
const float* direct_weights(const ConvGeom& g, const Dims& d, const float* w, Buffer& buf);
void direct_chunk(const ConvGeom& g, const Dims& d, const float* x, Planes xl, const float* wt, const float* bias,
                  bool relu, int nb, float* z, Planes zl);
// The row-vector kernel itself (any number of output channels), and the adjoint convolution
// (the input gradient of a stride-1 2-D convolution) with its weights for that kernel.
const float* rows_weights(const ConvGeom& g, const Dims& d, const float* w, Buffer& buf);
void rows_chunk(const ConvGeom& g, const Dims& d, const float* x, Planes xl, const float* wt, const float* bias,
                bool relu, int nb, float* z, Planes zl);
bool adjoint_geometry(const ConvGeom& g, ConvGeom& a);
const float* adjoint_weights(const ConvGeom& g, const Dims& d, const ConvGeom& a, const float* w, Buffer& buf);

// The channel-vector kernel (conv_direct_channels.cc).
bool channels_applies(const ConvGeom& g);
const float* channels_weights(const ConvGeom& g, const Dims& d, const float* w, Buffer& buf);
void channels_chunk(const ConvGeom& g, const Dims& d, const float* x, Planes xl, const float* wt, const float* bias,
                    bool relu, int nb, float* z, Planes zl);
// With a 2×2 max pool at stride 2 over its output (the pool's planes those of the chunk): the
// pooled planes and their argmax (idx may be null) straight from the row buffers, as
// max_pool_forward gives them, bit for bit; the convolution's output is never stored.
bool channels_pool_applies(const ConvGeom& g, const PoolGeom& pool);
void channels_pool_chunk(const ConvGeom& g, const Dims& d, const PoolGeom& pool, const float* x, Planes xl,
                         const float* wt, const float* bias, bool relu, int nb, float* y, int32_t* idx, Planes yl);

// A conv block's weight and bias gradients from its max pool's argmax (conv_block_pool_grad.cc),
// for samples [s0, s0+nb): dw [cOut × K] and db [cOut] (may be null) overwritten.
bool pool_grad_applies(const ConvGeom& g, const PoolGeom* pool);
void pool_weight_grad(const ConvGeom& g, const Dims& d, const PoolGeom& pool, bool relu, const float* x,
                      const float* y, const int32_t* idx, const float* dy, int s0, int nb, float* dw, double* db);

}  // namespace stride::conv_detail
