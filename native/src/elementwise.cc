// Elementwise activation kernels, on the float32 bit patterns so that they agree bit for bit with
// the TypeScript loops in src/ops/activation.ts (and with PyTorch): relu keeps a value whose sign
// bit is clear (positive numbers, +0, +inf, +NaN) and writes +0 for every other (negatives, -0,
// -inf, -NaN); its backward passes dy where y's bits are > 0 as a signed integer (y > 0 or +NaN),
// else +0. Plain integer loops that GCC vectorises at -O3 (compare/and/andnot), split over the
// pool in L2-sized ranges: they are memory-bound, so a second thread roughly doubles bandwidth.
#include <cstdint>

#include "kernels.h"
#include "threadpool.h"

namespace stride {
namespace {

// The buffers are JS Float32Arrays read as integers: may_alias keeps that legal under strict aliasing.
typedef int32_t alias_i32 __attribute__((may_alias));

// 32k elements (128 KiB per array) per range: big enough to amortise waking a thread.
constexpr int64_t kGrain = 1 << 15;

}  // namespace

void relu(int64_t n, const float* x, float* y) {
  const alias_i32* __restrict xi = reinterpret_cast<const alias_i32*>(x);
  alias_i32* __restrict yi = reinterpret_cast<alias_i32*>(y);
  parallel_range(n, kGrain, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) yi[i] = xi[i] & ~(xi[i] >> 31);
  });
}

void relu_backward(int64_t n, const float* y, const float* dy, float* dx) {
  // dx may be dy itself (an elementwise read-then-write of the same index), so no __restrict on them.
  const alias_i32* yi = reinterpret_cast<const alias_i32*>(y);
  const alias_i32* dyi = reinterpret_cast<const alias_i32*>(dy);
  alias_i32* dxi = reinterpret_cast<alias_i32*>(dx);
  parallel_range(n, kGrain, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) dxi[i] = dyi[i] & -int32_t(yi[i] > 0);  // a mask, not a branch
  });
}

}  // namespace stride
