// Convolution, pooling and optimizer kernels on caller-owned row-major float buffers.
// Geometry conventions are those of src/backend/backend.ts (everything in 3 spatial dims).
#pragma once

#include <cstdint>

namespace stride {

struct ConvGeom {
  int n, cIn, cOut, groups;
  int in[3], out[3], k[3], s[3], p[3], d[3];
};

struct PoolGeom {
  int planes;
  int in[3], out[3], k[3], s[3], p[3], d[3];
};

void conv_forward(const ConvGeom& g, const float* x, const float* w, const float* bias, float* y);
void conv_backward_input(const ConvGeom& g, const float* dy, const float* w, float* dx);
void conv_backward_weight(const ConvGeom& g, const float* x, const float* dy, float* dw, float* db);

// A convolution followed by relu (when `relu`) and max pooling (when `pool` is given: its planes are
// the n·cOut output planes of the convolution), computed chunk by chunk of samples so that the
// convolution's output, the largest activation of a CNN, only ever exists in a cache-sized scratch.
// y is the block's output (pooled, or the relu'd convolution), idx the pooling's argmax (pool only;
// may be null when no backward pass will need it).
// The results are those of conv_forward, relu and max_pool_forward in a row, bit for bit.
void conv_block_forward(const ConvGeom& g, const PoolGeom* pool, bool relu, const float* x, const float* w,
                        const float* bias, float* y, int32_t* idx);
// Its backward pass from the block's output y, idx and dy: rebuilds each chunk's gradient with
// respect to the convolution's output in scratch, then runs both convolution gradients on it.
// Overwrites dx, dw and db where given (each may be null).
void conv_block_backward(const ConvGeom& g, const PoolGeom* pool, bool relu, const float* x, const float* w,
                         const float* y, const int32_t* idx, const float* dy, float* dx, float* dw, float* db);

// The kernels conv_block_forward/backward pick for a geometry (they decide by this very function),
// so that tests can check that a geometry reaches the kernel they mean to test.
enum class ForwardPath { ChannelsPool, Channels, Rows, Gemm };  // direct kernels, or im2col + GEMM
struct BlockPaths {
  ForwardPath forward;
  bool argmaxWeightGrad;  // weight and bias gradients from the pool's argmax (else im2col + GEMM)
  bool adjointInputGrad;  // input gradient by the row-vector kernel on the adjoint (else GEMM + col2im)
};
BlockPaths conv_block_paths(const ConvGeom& g, const PoolGeom* pool);

void max_pool_forward(const PoolGeom& g, const float* x, float* y, int32_t* idx);
// Whether g is the 2×2 window at stride 2 without padding or dilation on 2-D planes, every
// window inside the input (most CNNs' pooling, which has its own fast paths).
bool max_pool_is_2x2_stride2(const PoolGeom& g);
void max_pool_backward(const PoolGeom& g, const float* dy, const int32_t* idx, float* dx);
void avg_pool_forward(const PoolGeom& g, const float* x, float* y, bool count_include_pad);
void avg_pool_backward(const PoolGeom& g, const float* dy, float* dx, bool count_include_pad);

struct AdamOptions {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  int step;
};
// relu on float32 bit patterns (sign bit set -> +0); relu_backward: dx = bits(y) > 0 ? dy : +0 (dx may be dy).
void relu(int64_t n, const float* x, float* y);
void relu_backward(int64_t n, const float* y, const float* dy, float* dx);

void adam_step(int64_t n, float* p, const float* grad, float* m, float* v, float* v_max, const AdamOptions& o);

}  // namespace stride
