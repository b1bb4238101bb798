// Max and average pooling, with exactly the semantics of src/backend/js/pool.ts (PyTorch's CPU
// kernels): see that file for the rules. Planes are independent, so they are split over threads.
#include <algorithm>
#include <cmath>
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

}  // namespace

void max_pool_forward(const PoolGeom& g, const float* x, float* y, int32_t* idx) {
  const AllSpans sp(g);
  const Spans &sd = sp.s[0], &sh = sp.s[1], &sw = sp.s[2];
  const int H = g.in[1], W = g.in[2];
  const int dD = g.d[0], dH = g.d[1], dW = g.d[2];
  const int64_t ip = in_plane(g), op = out_plane(g);
  parallel_range(g.planes, plane_grain(g), [&](int64_t b, int64_t e, int) {
    for (int64_t pl = b; pl < e; ++pl) {
      const float* xp = x + pl * ip;
      int64_t q = pl * op;
      for (int od = 0; od < g.out[0]; ++od)
        for (int oh = 0; oh < g.out[1]; ++oh)
          for (int ow = 0; ow < g.out[2]; ++ow, ++q) {
            const bool empty = sd.count[od] == 0 || sh.count[oh] == 0 || sw.count[ow] == 0;
            float best = -std::numeric_limits<float>::infinity();
            int32_t bestIdx = empty ? -1 : int32_t((int64_t(sd.first[od]) * H + sh.first[oh]) * W + sw.first[ow]);
            for (int a = 0, id = sd.first[od]; a < sd.count[od]; ++a, id += dD)
              for (int bb = 0, ih = sh.first[oh]; bb < sh.count[oh]; ++bb, ih += dH) {
                const int64_t row = (int64_t(id) * H + ih) * W;
                for (int c = 0, iw = sw.first[ow]; c < sw.count[ow]; ++c, iw += dW) {
                  const float v = xp[row + iw];
                  if (v > best || std::isnan(v)) {
                    best = v;
                    bestIdx = int32_t(row + iw);
                  }
                }
              }
            y[q] = best;
            idx[q] = bestIdx;
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

namespace {

template <bool Backward>
void avg_pool(const PoolGeom& g, const float* src, float* dst, bool cip) {
  const AllSpans sp(g);
  const Spans &sd = sp.s[0], &sh = sp.s[1], &sw = sp.s[2];
  const int H = g.in[1], W = g.in[2];
  const int dD = g.d[0], dH = g.d[1], dW = g.d[2];
  const int64_t ip = in_plane(g), op = out_plane(g);
  parallel_range(g.planes, plane_grain(g), [&](int64_t b, int64_t e, int) {
    for (int64_t pl = b; pl < e; ++pl) {
      const int64_t xo = pl * ip;
      int64_t q = pl * op;
      if (Backward) std::memset(dst + xo, 0, sizeof(float) * ip);
      for (int od = 0; od < g.out[0]; ++od)
        for (int oh = 0; oh < g.out[1]; ++oh)
          for (int ow = 0; ow < g.out[2]; ++ow, ++q) {
            const int real = sd.count[od] * sh.count[oh] * sw.count[ow];
            if (real == 0) {
              if (!Backward) dst[q] = 0.0f;
              continue;
            }
            const int divisor = cip ? sd.padded[od] * sh.padded[oh] * sw.padded[ow] : real;
            const float gq = Backward ? src[q] / float(divisor) : 0.0f;
            float sum = 0.0f;
            for (int a = 0, id = sd.first[od]; a < sd.count[od]; ++a, id += dD)
              for (int bb = 0, ih = sh.first[oh]; bb < sh.count[oh]; ++bb, ih += dH) {
                const int64_t row = xo + (int64_t(id) * H + ih) * W;
                for (int c = 0, iw = sw.first[ow]; c < sw.count[ow]; ++c, iw += dW) {
                  if (Backward)
                    dst[row + iw] += gq;
                  else
                    sum += src[row + iw];
                }
              }
            if (!Backward) dst[q] = sum / float(divisor);
          }
    }
  });
}

}  // namespace

void avg_pool_forward(const PoolGeom& g, const float* x, float* y, bool cip) { avg_pool<false>(g, x, y, cip); }
void avg_pool_backward(const PoolGeom& g, const float* dy, float* dx, bool cip) { avg_pool<true>(g, dy, dx, cip); }

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
      if (vMax) vi = vMax[i] = std::max(vMax[i], vi);
      const float denom = std::sqrt(vi) / bc2s + eps;
      p[i] = pi - stepSize * mi / denom;
    }
  });
}

}  // namespace stride
