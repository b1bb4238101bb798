// The GEMM calls of one M1 (SimpleCNN, batch 128) training step, timed on their own, with a check
// against a double-precision reference. sgemm_seg and sgemm_nt_sum are not exposed by the addon,
// so this links gemm.cc and threadpool.cc directly:
//
//   g++ -std=c++17 -O3 -march=native -fno-math-errno -pthread -Inative/src
//       native/bench/gemm_shapes.cc native/src/gemm.cc native/src/threadpool.cc -o /tmp/gemm_shapes
//   /tmp/gemm_shapes [repeats]            (STRIDE_NUM_THREADS caps the pool, as in the addon)
//
// Each shape is timed serially (one thread, set_num_threads(1), in thread CPU time) and "as called"
// (wall time) with the whole
// pool: shapes 1-3 as one threaded sgemm; shapes 4-6, which the convolution runs serially inside
// its own pool tasks (one per few samples), as 64 such tasks spread over the pool, each on its own
// buffers. Figures are the best window of `repeats` (a shared machine only ever slows a window).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <vector>

#include "gemm.h"
#include "threadpool.h"

using namespace stride;

namespace {

std::vector<float> fill(size_t n, unsigned seed) {
  std::vector<float> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = float(seed) / 4294967296.0f - 0.5f;
  }
  return v;
}

double wall() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// CPU time of the calling thread: a serial call's own time, not counting the time other processes
// on a shared machine hold its core (the caches they disturb still count).
double thread_cpu() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Best seconds per call of fn over `repeats` windows of ~0.15 s, by the clock `now`.
double best_time(const std::function<void()>& fn, int repeats, double (*now)() = wall) {
  fn();
  double t = now();
  fn();
  const double once = std::max(now() - t, 1e-7);
  const int per = std::max(1, int(0.15 / once));
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    t = now();
    for (int i = 0; i < per; ++i) fn();
    best = std::min(best, (now() - t) / per);
  }
  return best;
}

// Max |c - ref| / (|ref| scale) over C, the reference in double from the same operand accessors.
double max_rel_err(int m, int n, const std::function<double(int, int)>& ref, const std::function<float(int, int)>& c,
                   double scale) {
  double worst = 0;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) worst = std::max(worst, std::fabs(double(c(i, j)) - ref(i, j)) / scale);
  return worst;
}

struct Shape {
  const char* name;
  double flops;  // per call
  std::function<void(int)> call;  // one call on thread t's buffers (serial inside a pool task)
  std::function<double()> check;  // max error vs the double reference, relative to sqrt(k)·|a||b|
  bool conv;                       // run as pool tasks of serial calls (the convolution's way)
};

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const int T = num_threads();
  std::vector<Shape> shapes;

  // 1-3: Linear(14400 -> 128), batch 128.
  const int B = 128, IN = 14400, OUT = 128;
  auto X = fill(size_t(B) * IN, 1), W = fill(size_t(OUT) * IN, 2), dY = fill(size_t(B) * OUT, 3);
  std::vector<float> Y(size_t(B) * OUT), dW(size_t(OUT) * IN), dX(size_t(B) * IN);
  shapes.push_back({"1 linear fwd  sgemm(N,T,128,128,14400)", 2.0 * B * OUT * IN,
                    [&](int) { sgemm(false, true, B, OUT, IN, 1, X.data(), IN, W.data(), IN, 0, Y.data(), OUT); },
                    [&] {
                      return max_rel_err(
                          B, OUT,
                          [&](int i, int j) {
                            double s = 0;
                            for (int p = 0; p < IN; ++p) s += double(X[size_t(i) * IN + p]) * W[size_t(j) * IN + p];
                            return s;
                          },
                          [&](int i, int j) { return Y[size_t(i) * OUT + j]; }, std::sqrt(double(IN)));
                    },
                    false});
  shapes.push_back({"2 linear dW   sgemm(T,N,128,14400,128)", 2.0 * B * OUT * IN,
                    [&](int) { sgemm(true, false, OUT, IN, B, 1, dY.data(), OUT, X.data(), IN, 0, dW.data(), IN); },
                    [&] {
                      return max_rel_err(
                          OUT, IN,
                          [&](int i, int j) {
                            double s = 0;
                            for (int p = 0; p < B; ++p) s += double(dY[size_t(p) * OUT + i]) * X[size_t(p) * IN + j];
                            return s;
                          },
                          [&](int i, int j) { return dW[size_t(i) * IN + j]; }, std::sqrt(double(B)));
                    },
                    false});
  shapes.push_back({"3 linear dX   sgemm(N,N,128,14400,128)", 2.0 * B * OUT * IN,
                    [&](int) { sgemm(false, false, B, IN, OUT, 1, dY.data(), OUT, W.data(), IN, 0, dX.data(), IN); },
                    [&] {
                      return max_rel_err(
                          B, IN,
                          [&](int i, int j) {
                            double s = 0;
                            for (int p = 0; p < OUT; ++p) s += double(dY[size_t(i) * OUT + p]) * W[size_t(p) * IN + j];
                            return s;
                          },
                          [&](int i, int j) { return dX[size_t(i) * IN + j]; }, std::sqrt(double(OUT)));
                    },
                    false});

  // 4-6: conv2 = Conv2d(32, 64, k2, p1) on 29×29 maps (P = 900 positions), nb = 2 samples per task.
  // Per thread: its own column buffer, weights, dy / y blocks of the nb samples (NCHW, 64 channels).
  const int NB = 2, P = 900, CO = 64, K = 128, KB = K + 1;
  const int64_t ld = int64_t(NB) * P, sampleStride = int64_t(CO) * P;
  struct ConvBufs {
    std::vector<float> colb, col, w, wb, dy, y, dcol, dw;
  };
  std::vector<ConvBufs> cb(T);
  for (int t = 0; t < T; ++t) {
    cb[t].colb = fill(size_t(KB) * ld, 10 + t);
    cb[t].col = fill(size_t(K) * ld, 20 + t);
    cb[t].wb = fill(size_t(CO) * KB, 30 + t);
    cb[t].w = fill(size_t(CO) * K, 40 + t);
    cb[t].dy = fill(size_t(NB) * sampleStride, 50 + t);
    cb[t].y.assign(size_t(NB) * sampleStride, 0);
    cb[t].dcol.assign(size_t(K) * ld, 0);
    cb[t].dw.assign(size_t(CO) * K, 0);
  }
  shapes.push_back({"4 conv2 fwd   sgemm_seg(N,64,1800,129) y seg", 2.0 * CO * ld * KB,
                    [&](int th) {
                      ConvBufs& q = cb[th];
                      sgemm_seg(false, CO, int(ld), KB, 1, q.wb.data(), KB, q.colb.data(), int(ld), 0, 0, 0,
                                q.y.data(), P, P, sampleStride);
                    },
                    [&] {
                      ConvBufs& q = cb[0];
                      return max_rel_err(
                          CO, int(ld),
                          [&](int i, int j) {
                            double s = 0;
                            for (int p = 0; p < KB; ++p) 
                              s += double(q.wb[size_t(i) * KB + p]) * q.colb[size_t(p) * ld + j];
                            return s;
                          },
                          [&](int i, int j) { return q.y[size_t(j / P) * sampleStride + size_t(i) * P + j % P]; },
                          std::sqrt(double(KB)));
                    },
                    true});
  shapes.push_back({"5 conv2 dIn   sgemm_seg(T,128,1800,64) dy seg", 2.0 * K * ld * CO,
                    [&](int th) {
                      ConvBufs& q = cb[th];
                      sgemm_seg(true, K, int(ld), CO, 1, q.w.data(), K, q.dy.data(), P, P, sampleStride, 0,
                                q.dcol.data(), int(ld), 0, 0);
                    },
                    [&] {
                      ConvBufs& q = cb[0];
                      return max_rel_err(
                          K, int(ld),
                          [&](int i, int j) {
                            double s = 0;
                            for (int p = 0; p < CO; ++p)
                              s += double(q.w[size_t(p) * K + i]) *
                                   q.dy[size_t(j / P) * sampleStride + size_t(p) * P + j % P];
                            return s;
                          },
                          [&](int i, int j) { return q.dcol[size_t(i) * ld + j]; }, std::sqrt(double(CO)));
                    },
                    true});
  shapes.push_back({"6 conv2 dW    sgemm_nt_sum(64,128,900,2)", 2.0 * CO * K * ld,
                    [&](int th) {
                      ConvBufs& q = cb[th];
                      sgemm_nt_sum(CO, K, P, NB, 1, q.dy.data(), P, sampleStride, q.col.data(), ld, P, 0, q.dw.data(),
                                   K);
                    },
                    [&] {
                      ConvBufs& q = cb[0];
                      return max_rel_err(
                          CO, K,
                          [&](int i, int j) {
                            double s = 0;
                            for (int smp = 0; smp < NB; ++smp)
                              for (int p = 0; p < P; ++p)
                                s += double(q.dy[size_t(smp) * sampleStride + size_t(i) * P + p]) *
                                     q.col[size_t(j) * ld + size_t(smp) * P + p];
                            return s;
                          },
                          [&](int i, int j) { return q.dw[size_t(i) * K + j]; }, std::sqrt(double(ld)));
                    },
                    true});

  std::printf("gemm: %s, pool of %d threads; GFLOP/s, best of %d windows\n", gemm_simd(), T, repeats);
  std::printf("%-48s %9s %9s %10s\n", "shape", "1 thread", "as called", "max err");
  double serialSec = 0, calledSec = 0;
  for (auto& s : shapes) {
    set_num_threads(1);
    s.call(0);
    const double err = s.check();
    const double t1 = best_time([&] { s.call(0); }, repeats, thread_cpu);
    set_num_threads(T);
    double tT;
    if (s.conv) {
      // 64 tasks of nb samples (a batch of 128), each a serial call on its thread's buffers.
      const int tasks = 64;
      tT = best_time([&] { parallel_for(tasks, [&](int, int thread) { s.call(thread); }); }, repeats) / tasks;
    } else {
      tT = best_time([&] { s.call(0); }, repeats);
    }
    serialSec += t1 * (s.conv ? 64 : 1);
    calledSec += tT * (s.conv ? 64 : 1);
    std::printf("%-48s %9.1f %9.1f %10.2e\n", s.name, s.flops / t1 / 1e9, s.flops / tT / 1e9, err);
  }
  std::printf("per training step (shapes 1-3 once, 4-6 x64): %.2f ms serial, %.2f ms as called\n",
              serialSec * 1e3, calledSec * 1e3);
  return 0;
}
