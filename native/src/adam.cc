// One Adam/AdamW step with PyTorch's formulas (see src/backend/js/adam.ts), split over threads.
#include <cmath>

#include "kernels.h"
#include "threadpool.h"

namespace stride {

void adam_step(int64_t n, float* p, const float* grad, float* m, float* v, float* vMax, const AdamOptions& o) {
  const double bc1 = 1.0 - std::pow(o.beta1, o.step);
  const double bc2Sqrt = std::sqrt(1.0 - std::pow(o.beta2, o.step));
  const float stepSize = float(o.lr / bc1);
  const float bc2s = float(bc2Sqrt);
  const float decay = o.decoupled ? float(1.0 - o.lr * o.weight_decay) : 1.0f;
  const float l2 = o.decoupled ? 0.0f : float(o.weight_decay);
  const float b1 = float(o.beta1), b2 = float(o.beta2), eps = float(o.eps);
  const float omb1 = float(1.0 - o.beta1), omb2 = float(1.0 - o.beta2);
  parallel_range(n, 1 << 15, [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      float pi = p[i];
      float gi = grad[i];
      if (l2 != 0.0f) gi += l2 * pi;
      pi *= decay;
      const float mi = m[i] = b1 * m[i] + omb1 * gi;
      float vi = v[i] = b2 * v[i] + omb2 * gi * gi;
      if (vMax) vi = vMax[i] = (vMax[i] < vi || vi != vi) ? vi : vMax[i];  // NaN propagates, as torch.maximum
      const float denom = std::sqrt(vi) / bc2s + eps;
      p[i] = pi - stepSize * mi / denom;
    }
  });
}

}  // namespace stride
