// The conv block: a convolution followed by relu and/or max pooling, chunk by chunk of samples so
// that the convolution's output only ever lives in a per-thread scratch (see kernels.h).
#include <algorithm>
#include <cstring>
#include <vector>

#include "conv_internal.h"
#include "gemm.h"
#include "kernels.h"
#include "threadpool.h"

namespace stride {

using namespace conv_detail;

namespace {

// Scratch owned by the calling thread and reused across calls (tl_idx holds int32s).
thread_local Buffer tl_col, tl_wb, tl_z, tl_wt, tl_idx;

// relu on the bit patterns, as stride::relu (elementwise.cc): a set sign bit gives +0.
void relu_in_place(float* z, int64_t n) {
  alias_i32* zi = reinterpret_cast<alias_i32*>(z);
  for (int64_t i = 0; i < n; ++i) zi[i] &= ~(zi[i] >> 31);
}

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

BlockPaths conv_block_paths(const ConvGeom& g, const PoolGeom* pool) {
  ConvGeom adj;
  const ForwardPath forward = pool && channels_pool_applies(g, *pool) ? ForwardPath::ChannelsPool
                              : channels_applies(g)                   ? ForwardPath::Channels
                              : direct_applies(g)                     ? ForwardPath::Rows
                                                                      : ForwardPath::Gemm;
  return {forward, pool_grad_applies(g, pool), adjoint_geometry(g, adj)};
}

void conv_block_forward(const ConvGeom& g, const PoolGeom* pool, bool relu, const float* x, const float* w,
                        const float* bias, float* y, int32_t* idx) {
  const Dims d = dims(g);
  if (g.n == 0 || d.P == 0 || g.cOut == 0) return;
  const ForwardPath path = conv_block_paths(g, pool).forward;
  const bool direct = path != ForwardPath::Gemm;
  const float* wt = direct ? direct_weights(g, d, w, tl_wt) : nullptr;
  // The bias rides along in the GEMM: one more row of ones in col and the bias as one more column
  // of W, so y gets it without another pass over memory.
  const int64_t Kb = d.K + (bias ? 1 : 0);
  Dims db = d;
  db.K = Kb;
  const int nbMax = chunk_samples(g, db);
  const float* wAll = w;
  if (bias && !direct) {  // (the direct kernel adds the bias itself)
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
  // The channel-vector kernel pools 2×2 windows itself, from its row buffers.
  const bool pooled = path == ForwardPath::ChannelsPool;
  auto chunk = [&](int s0, int nb, float* cb) {
    if (pooled) {
      const int64_t oP = pooledStride / g.cOut;
      int32_t* ix = idx ? idx + int64_t(s0) * pooledStride : nullptr;
      channels_pool_chunk(g, d, *pool, x + int64_t(s0) * g.cIn * d.inPlane, {int64_t(g.cIn) * d.inPlane, d.inPlane},
                          wt, bias, relu, nb, y + int64_t(s0) * pooledStride, ix, {pooledStride, oP});
      return;
    }
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
  // The input gradient as the adjoint convolution, by the row-vector direct kernel, where it
  // applies. (The channel-vector kernel ran M1's 64 -> 32 adjoint 6% slower: its padded copy and
  // transposes cost more than its tile saves there.)
  ConvGeom adj;
  const bool directIn = dx && adjoint_geometry(g, adj);
  const Dims dAdj = dims(directIn ? adj : g);
  const float* wAdj = directIn ? adjoint_weights(g, d, adj, w, tl_wt) : nullptr;
  // Through a pool, the weight and bias gradients straight from the argmax, where that applies
  // (conv_block_pool_grad.cc); the rebuilt output gradient is then only for dx.
  const bool fromArgmax = dw && conv_block_paths(g, pool).argmaxWeightGrad;
  // One task runs inline on the caller, whose GEMMs then use the pool themselves.
  parallel_for(tasks, [&](int gi, int) {
    const int s0 = gi * per, nb = std::min(per, g.n - s0);
    const int64_t ld = int64_t(nb) * d.P;
    float* dwTask = dw ? partial + (tasks > 1 ? wN * gi : 0) : nullptr;
    if (fromArgmax) {
      double* dbTask = db ? &dbPartial[size_t(gi) * g.cOut] : nullptr;
      pool_weight_grad(g, d, *pool, relu, x, y, idx, dy, s0, nb, dwTask, dbTask);
      if (!dx) return;
    }
    // dZ_g as the GEMMs read it: rebuilt channel-major (row oc at oc·ld), or dy in place, sample
    // after sample (row oc of sample sl at sl·sampleStride + oc·P).
    const float* dz = dy + int64_t(s0) * sampleStride;
    if (rebuild) {
      float* z = tl_z.get(size_t(nb) * sampleStride);
      block_output_grad(g, d, pool, relu, y, idx, dy, s0, nb, z);
      dz = z;
    }
    const int64_t rowStride = rebuild ? ld : d.P;  // between channels of dZ
    if (db && !fromArgmax)
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
      rows_chunk(adj, dAdj, dz, dl, wAdj, nullptr, false, nb, dx + int64_t(s0) * xl.sample, xl);
    }
    const bool denseW = dw && !fromArgmax;
    if (!denseW && (directIn || !dx)) return;  // nothing left that needs the column matrix
    float* col = tl_col.get(size_t(d.K) * nb * d.P);
    for (int grp = 0; grp < g.groups; ++grp) {
      const float* dzg = dz + int64_t(grp) * d.cOutG * rowStride;
      if (denseW) {
        // dW_g = Σ_s dz_s[cOutG × P] · col_sᵀ over this task: one product with k = nb·P when dZ
        // was rebuilt, else summed sample by sample, reading dy in place.
        float* dwg = dwTask + int64_t(grp) * d.cOutG * d.K;
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
