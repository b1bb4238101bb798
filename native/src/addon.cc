// N-API surface of the native backend. Arrays are JS-owned Float32Array/Int32Array views (any
// byteOffset); kernels read and write them in place. Geometries arrive as small Int32Arrays:
//   conv: [n, cIn, cOut, groups, in×3, out×3, kernel×3, stride×3, padBefore×3, dilation×3]  (22)
//   pool: [planes, in×3, out×3, kernel×3, stride×3, padding×3, dilation×3]                  (19)
// Every buffer length is checked against the geometry, so a wrong call throws instead of
// corrupting memory. Exceptions are disabled (NAPI_DISABLE_CPP_EXCEPTIONS): errors are thrown
// into JS and the function returns at once.
#include <napi.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "gemm.h"
#include "kernels.h"
#include "threadpool.h"

namespace {

using stride::ConvGeom;
using stride::PoolGeom;

bool fail(const Napi::Env& env, const std::string& msg) {
  Napi::RangeError::New(env, "stride native: " + msg).ThrowAsJavaScriptException();
  return false;
}

// A Float32Array argument, or nullptr (with a pending exception) when it is not one.
// `nullable` accepts null/undefined and yields nullptr without an exception.
struct F32 {
  float* data = nullptr;
  size_t length = 0;
};

bool get_f32(const Napi::CallbackInfo& info, size_t i, F32& out, const char* name, bool nullable = false) {
  const Napi::Value v = info[i];
  if (nullable && (v.IsNull() || v.IsUndefined())) return true;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    return fail(info.Env(), std::string(name) + " must be a Float32Array");
  auto a = v.As<Napi::Float32Array>();
  out.data = a.Data();
  out.length = a.ElementLength();
  return true;
}

bool get_i32(const Napi::CallbackInfo& info, size_t i, int32_t*& data, size_t& length, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    return fail(info.Env(), std::string(name) + " must be an Int32Array");
  auto a = v.As<Napi::Int32Array>();
  data = a.Data();
  length = a.ElementLength();
  return true;
}

bool need(const Napi::Env& env, const F32& a, int64_t n, const char* name) {
  if (n < 0 || static_cast<int64_t>(a.length) < n)
    return fail(env, std::string(name) + " has " + std::to_string(a.length) + " elements, needs " + std::to_string(n));
  return true;
}

inline int arg_int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
inline double arg_num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }

bool conv_geom(const Napi::CallbackInfo& info, size_t i, ConvGeom& g) {
  int32_t* p;
  size_t len;
  if (!get_i32(info, i, p, len, "conv geometry")) return false;
  if (len < 22) return fail(info.Env(), "conv geometry needs 22 ints");
  g.n = p[0], g.cIn = p[1], g.cOut = p[2], g.groups = p[3];
  for (int d = 0; d < 3; ++d) {
    g.in[d] = p[4 + d], g.out[d] = p[7 + d], g.k[d] = p[10 + d];
    g.s[d] = p[13 + d], g.p[d] = p[16 + d], g.d[d] = p[19 + d];
    if (g.in[d] < 0 || g.out[d] < 0 || g.k[d] < 1 || g.s[d] < 1 || g.p[d] < 0 || g.d[d] < 1)
      return fail(info.Env(), "invalid conv geometry");
  }
  if (g.n < 0 || g.groups < 1 || g.cIn < 0 || g.cOut < 0 || g.cIn % g.groups || g.cOut % g.groups)
    return fail(info.Env(), "invalid conv channels/groups");
  return true;
}

bool pool_geom(const Napi::CallbackInfo& info, size_t i, PoolGeom& g) {
  int32_t* p;
  size_t len;
  if (!get_i32(info, i, p, len, "pool geometry")) return false;
  if (len < 19) return fail(info.Env(), "pool geometry needs 19 ints");
  g.planes = p[0];
  for (int d = 0; d < 3; ++d) {
    g.in[d] = p[1 + d], g.out[d] = p[4 + d], g.k[d] = p[7 + d];
    g.s[d] = p[10 + d], g.p[d] = p[13 + d], g.d[d] = p[16 + d];
    if (g.in[d] < 0 || g.out[d] < 0 || g.k[d] < 1 || g.s[d] < 1 || g.p[d] < 0 || g.d[d] < 1)
      return fail(info.Env(), "invalid pool geometry");
  }
  if (g.planes < 0) return fail(info.Env(), "invalid pool geometry");
  return true;
}

int64_t prod3(const int* v) { return int64_t(v[0]) * v[1] * v[2]; }

// gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const bool ta = info[0].ToBoolean(), tb = info[1].ToBoolean();
  const int m = arg_int(info, 2), n = arg_int(info, 3), k = arg_int(info, 4);
  const float alpha = float(arg_num(info, 5));
  const int lda = arg_int(info, 7), ldb = arg_int(info, 9), ldc = arg_int(info, 12);
  const float beta = float(arg_num(info, 10));
  F32 a, b, c;
  if (!get_f32(info, 6, a, "a") || !get_f32(info, 8, b, "b") || !get_f32(info, 11, c, "c")) return env.Undefined();
  if (m < 0 || n < 0 || k < 0) return fail(env, "gemm: negative size"), env.Undefined();
  if (m == 0 || n == 0) return env.Undefined();
  // Rows × leading dimension of each stored operand (the last row only needs its used columns).
  const int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
  if (lda < std::max(aCols, 1) || ldb < std::max(bCols, 1) || ldc < n) return fail(env, "gemm: leading dimension too small"), env.Undefined();
  if (k > 0 && (!need(env, a, int64_t(aRows - 1) * lda + aCols, "a") || !need(env, b, int64_t(bRows - 1) * ldb + bCols, "b")))
    return env.Undefined();
  if (!need(env, c, int64_t(m - 1) * ldc + n, "c")) return env.Undefined();
  stride::sgemm(ta, tb, m, n, k, alpha, a.data, lda, b.data, ldb, beta, c.data, ldc);
  return env.Undefined();
}

struct ConvSizes {
  int64_t x, w, y;
};
ConvSizes conv_sizes(const ConvGeom& g) {
  return {int64_t(g.n) * g.cIn * prod3(g.in), int64_t(g.cOut) * (g.cIn / g.groups) * prod3(g.k),
          int64_t(g.n) * g.cOut * prod3(g.out)};
}

// convForward(geom, x, w, bias | null, y)
Napi::Value ConvForward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  ConvGeom g;
  F32 x, w, bias, y;
  if (!conv_geom(info, 0, g) || !get_f32(info, 1, x, "x") || !get_f32(info, 2, w, "w") ||
      !get_f32(info, 3, bias, "bias", true) || !get_f32(info, 4, y, "y"))
    return env.Undefined();
  const ConvSizes s = conv_sizes(g);
  if (!need(env, x, s.x, "x") || !need(env, w, s.w, "w") || !need(env, y, s.y, "y") ||
      (bias.data && !need(env, bias, g.cOut, "bias")))
    return env.Undefined();
  stride::conv_forward(g, x.data, w.data, bias.data, y.data);
  return env.Undefined();
}

// convBackwardInput(geom, dy, w, dx)
Napi::Value ConvBackwardInput(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  ConvGeom g;
  F32 dy, w, dx;
  if (!conv_geom(info, 0, g) || !get_f32(info, 1, dy, "dy") || !get_f32(info, 2, w, "w") ||
      !get_f32(info, 3, dx, "dx"))
    return env.Undefined();
  const ConvSizes s = conv_sizes(g);
  if (!need(env, dy, s.y, "dy") || !need(env, w, s.w, "w") || !need(env, dx, s.x, "dx")) return env.Undefined();
  stride::conv_backward_input(g, dy.data, w.data, dx.data);
  return env.Undefined();
}

// convBackwardWeight(geom, x, dy, dw, db | null)
Napi::Value ConvBackwardWeight(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  ConvGeom g;
  F32 x, dy, dw, db;
  if (!conv_geom(info, 0, g) || !get_f32(info, 1, x, "x") || !get_f32(info, 2, dy, "dy") ||
      !get_f32(info, 3, dw, "dw") || !get_f32(info, 4, db, "db", true))
    return env.Undefined();
  const ConvSizes s = conv_sizes(g);
  if (!need(env, x, s.x, "x") || !need(env, dy, s.y, "dy") || !need(env, dw, s.w, "dw") ||
      (db.data && !need(env, db, g.cOut, "db")))
    return env.Undefined();
  stride::conv_backward_weight(g, x.data, dy.data, dw.data, db.data);
  return env.Undefined();
}

bool get_idx(const Napi::CallbackInfo& info, size_t i, int32_t*& idx, int64_t n) {
  size_t len;
  if (!get_i32(info, i, idx, len, "idx")) return false;
  if (static_cast<int64_t>(len) < n) return fail(info.Env(), "idx too short");
  return true;
}

// The pooling part of a conv block: null, or a pool geometry over exactly the convolution's output
// planes. Returns false with a pending exception when it does not fit.
bool block_pool(const Napi::CallbackInfo& info, size_t i, const ConvGeom& g, PoolGeom& pg, bool& has) {
  has = !(info[i].IsNull() || info[i].IsUndefined());
  if (!has) return true;
  if (!pool_geom(info, i, pg)) return false;
  if (int64_t(pg.planes) != int64_t(g.n) * g.cOut || pg.in[0] != g.out[0] || pg.in[1] != g.out[1] ||
      pg.in[2] != g.out[2])
    return fail(info.Env(), "conv block: the pool geometry does not match the convolution's output");
  return true;
}

// convBlockForward(geom, poolGeom | null, relu, x, w, bias | null, y, idx | null): idx may be null
// even with pooling, when no backward pass will need the argmax.
Napi::Value ConvBlockForward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  ConvGeom g;
  PoolGeom pg;
  bool hasPool;
  F32 x, w, bias, y;
  int32_t* idx = nullptr;
  if (!conv_geom(info, 0, g) || !block_pool(info, 1, g, pg, hasPool) || !get_f32(info, 3, x, "x") ||
      !get_f32(info, 4, w, "w") || !get_f32(info, 5, bias, "bias", true) || !get_f32(info, 6, y, "y"))
    return env.Undefined();
  const ConvSizes s = conv_sizes(g);
  const int64_t ny = hasPool ? int64_t(pg.planes) * prod3(pg.out) : s.y;
  if (!need(env, x, s.x, "x") || !need(env, w, s.w, "w") || !need(env, y, ny, "y") ||
      (bias.data && !need(env, bias, g.cOut, "bias")))
    return env.Undefined();
  const bool idxGiven = !(info[7].IsNull() || info[7].IsUndefined());
  if (hasPool && idxGiven && !get_idx(info, 7, idx, ny)) return env.Undefined();
  stride::conv_block_forward(g, hasPool ? &pg : nullptr, info[2].ToBoolean(), x.data, w.data, bias.data, y.data, idx);
  return env.Undefined();
}

// convBlockBackward(geom, poolGeom | null, relu, x, w, y, idx | null, dy, dx | null, dw | null, db | null)
Napi::Value ConvBlockBackward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  ConvGeom g;
  PoolGeom pg;
  bool hasPool;
  F32 x, w, y, dy, dx, dw, db;
  int32_t* idx = nullptr;
  if (!conv_geom(info, 0, g) || !block_pool(info, 1, g, pg, hasPool) || !get_f32(info, 3, x, "x") ||
      !get_f32(info, 4, w, "w") || !get_f32(info, 5, y, "y") || !get_f32(info, 7, dy, "dy") ||
      !get_f32(info, 8, dx, "dx", true) || !get_f32(info, 9, dw, "dw", true) || !get_f32(info, 10, db, "db", true))
    return env.Undefined();
  const ConvSizes s = conv_sizes(g);
  const int64_t ny = hasPool ? int64_t(pg.planes) * prod3(pg.out) : s.y;
  if (!need(env, x, s.x, "x") || !need(env, w, s.w, "w") || !need(env, y, ny, "y") || !need(env, dy, ny, "dy") ||
      (hasPool && !get_idx(info, 6, idx, ny)) || (dx.data && !need(env, dx, s.x, "dx")) ||
      (dw.data && !need(env, dw, s.w, "dw")) || (db.data && !need(env, db, g.cOut, "db")))
    return env.Undefined();
  stride::conv_block_backward(g, hasPool ? &pg : nullptr, info[2].ToBoolean(), x.data, w.data, y.data, idx, dy.data,
                              dx.data, dw.data, db.data);
  return env.Undefined();
}

// convBlockPaths(geom, poolGeom | null) -> { forward, weightGrad, inputGrad }: the kernels the conv
// block picks (see kernels.h), by name.
Napi::Value ConvBlockPaths(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  ConvGeom g;
  PoolGeom pg;
  bool hasPool;
  if (!conv_geom(info, 0, g) || !block_pool(info, 1, g, pg, hasPool)) return env.Undefined();
  const stride::BlockPaths p = stride::conv_block_paths(g, hasPool ? &pg : nullptr);
  static const char* const forward[] = {"channels+pool", "channels", "rows", "gemm"};
  Napi::Object o = Napi::Object::New(env);
  o.Set("forward", forward[static_cast<int>(p.forward)]);
  o.Set("weightGrad", p.argmaxWeightGrad ? "argmax" : "gemm");
  o.Set("inputGrad", p.adjointInputGrad ? "adjoint" : "gemm");
  return o;
}

// maxPoolForward(geom, x, y, idx)
Napi::Value MaxPoolForward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  PoolGeom g;
  F32 x, y;
  int32_t* idx;
  if (!pool_geom(info, 0, g) || !get_f32(info, 1, x, "x") || !get_f32(info, 2, y, "y")) return env.Undefined();
  const int64_t nx = g.planes * prod3(g.in), ny = g.planes * prod3(g.out);
  if (!need(env, x, nx, "x") || !need(env, y, ny, "y") || !get_idx(info, 3, idx, ny)) return env.Undefined();
  stride::max_pool_forward(g, x.data, y.data, idx);
  return env.Undefined();
}

// maxPoolBackward(geom, dy, idx, dx)
Napi::Value MaxPoolBackward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  PoolGeom g;
  F32 dy, dx;
  int32_t* idx;
  if (!pool_geom(info, 0, g) || !get_f32(info, 1, dy, "dy") || !get_f32(info, 3, dx, "dx")) return env.Undefined();
  const int64_t nx = g.planes * prod3(g.in), ny = g.planes * prod3(g.out);
  if (!need(env, dy, ny, "dy") || !need(env, dx, nx, "dx") || !get_idx(info, 2, idx, ny)) return env.Undefined();
  stride::max_pool_backward(g, dy.data, idx, dx.data);
  return env.Undefined();
}

// avgPoolForward(geom, x, y, countIncludePad) / avgPoolBackward(geom, dy, dx, countIncludePad)
template <bool Backward>
Napi::Value AvgPool(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  PoolGeom g;
  F32 src, dst;
  if (!pool_geom(info, 0, g) || !get_f32(info, 1, src, "src") || !get_f32(info, 2, dst, "dst")) return env.Undefined();
  const int64_t nx = g.planes * prod3(g.in), ny = g.planes * prod3(g.out);
  if (!need(env, src, Backward ? ny : nx, Backward ? "dy" : "x") || !need(env, dst, Backward ? nx : ny, Backward ? "dx" : "y"))
    return env.Undefined();
  const bool cip = info[3].ToBoolean();
  if (Backward)
    stride::avg_pool_backward(g, src.data, dst.data, cip);
  else
    stride::avg_pool_forward(g, src.data, dst.data, cip);
  return env.Undefined();
}

// adamStep(p, grad, m, v, vMax | null, lr, beta1, beta2, eps, weightDecay, decoupled, step)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  F32 p, grad, m, v, vMax;
  if (!get_f32(info, 0, p, "p") || !get_f32(info, 1, grad, "grad") || !get_f32(info, 2, m, "m") ||
      !get_f32(info, 3, v, "v") || !get_f32(info, 4, vMax, "vMax", true))
    return env.Undefined();
  const int64_t n = int64_t(p.length);
  if (!need(env, grad, n, "grad") || !need(env, m, n, "m") || !need(env, v, n, "v") || (vMax.data && !need(env, vMax, n, "vMax")))
    return env.Undefined();
  stride::AdamOptions o{arg_num(info, 5), arg_num(info, 6), arg_num(info, 7), arg_num(info, 8), arg_num(info, 9),
                        info[10].ToBoolean(), arg_int(info, 11)};
  stride::adam_step(n, p.data, grad.data, m.data, v.data, vMax.data, o);
  return env.Undefined();
}

// relu(x, y): y = relu(x) over x's length.
Napi::Value Relu(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  F32 x, y;
  if (!get_f32(info, 0, x, "relu: x") || !get_f32(info, 1, y, "relu: y")) return env.Undefined();
  if (!need(env, y, int64_t(x.length), "relu: y")) return env.Undefined();
  stride::relu(int64_t(x.length), x.data, y.data);
  return env.Undefined();
}

// reluBackward(y, dy, dx): dx = y > 0 ? dy : 0 over y's length (dx may be dy).
Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  F32 y, dy, dx;
  if (!get_f32(info, 0, y, "reluBackward: y") || !get_f32(info, 1, dy, "reluBackward: dy") ||
      !get_f32(info, 2, dx, "reluBackward: dx"))
    return env.Undefined();
  const int64_t n = int64_t(y.length);
  if (!need(env, dy, n, "reluBackward: dy") || !need(env, dx, n, "reluBackward: dx")) return env.Undefined();
  stride::relu_backward(n, y.data, dy.data, dx.data);
  return env.Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("simd", stride::gemm_simd());
  o.Set("threads", stride::num_threads());
  o.Set("poolSize", stride::pool_size());
  return o;
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  stride::set_num_threads(arg_int(info, 0));
  return Napi::Number::New(info.Env(), stride::num_threads());
}

// V8 allocates large ArrayBuffer backing stores with malloc, and glibc serves anything above
// M_MMAP_THRESHOLD (128 KiB, rising dynamically to at most 32 MiB) with a fresh mmap that free()
// unmaps at once: every activation and gradient of a training step (up to 28 MiB each) was then
// mapped, page-faulted in page by page and unmapped again, each step (~7,000 faults per M1 step).
// Keeping them on the heap and not trimming it lets freed blocks be reused warm. The cost is that
// the process keeps its peak heap instead of returning it to the OS between steps.
void tune_malloc() {
#ifdef __GLIBC__
  static std::atomic<bool> done{false};  // once per process, even if several Node environments load it
  if (done.exchange(true)) return;
  // Older glibc caps the threshold at HEAP_MAX_SIZE / 2 (32 MiB on 64-bit) and rejects 1 GiB.
  if (!mallopt(M_MMAP_THRESHOLD, 1 << 30)) mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // STRIDE_MALLOC_DEFAULTS=1 keeps glibc's settings (to measure the difference).
  const char* keep = std::getenv("STRIDE_MALLOC_DEFAULTS");
  if (!(keep && keep[0] == '1')) tune_malloc();
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
  exports.Set("convForward", Napi::Function::New(env, ConvForward, "convForward"));
  exports.Set("convBackwardInput", Napi::Function::New(env, ConvBackwardInput, "convBackwardInput"));
  exports.Set("convBackwardWeight", Napi::Function::New(env, ConvBackwardWeight, "convBackwardWeight"));
  exports.Set("convBlockForward", Napi::Function::New(env, ConvBlockForward, "convBlockForward"));
  exports.Set("convBlockBackward", Napi::Function::New(env, ConvBlockBackward, "convBlockBackward"));
  exports.Set("convBlockPaths", Napi::Function::New(env, ConvBlockPaths, "convBlockPaths"));
  exports.Set("maxPoolForward", Napi::Function::New(env, MaxPoolForward, "maxPoolForward"));
  exports.Set("maxPoolBackward", Napi::Function::New(env, MaxPoolBackward, "maxPoolBackward"));
  exports.Set("avgPoolForward", Napi::Function::New(env, AvgPool<false>, "avgPoolForward"));
  exports.Set("avgPoolBackward", Napi::Function::New(env, AvgPool<true>, "avgPoolBackward"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
  exports.Set("relu", Napi::Function::New(env, Relu, "relu"));
  exports.Set("reluBackward", Napi::Function::New(env, ReluBackward, "reluBackward"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  return exports;
}

}  // namespace

NODE_API_MODULE(stride_native, Init)
