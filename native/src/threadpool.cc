#include "threadpool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define STRIDE_PAUSE() _mm_pause()
#else
#define STRIDE_PAUSE() ((void)0)
#endif

namespace stride {
namespace {

thread_local bool tl_in_pool = false;

// Protocol: a job is published under mu_ with a new generation; tasks are claimed with a CAS on
// state_ = (generation << 32 | next task), so a worker that wakes late (its generation gone) can
// never run a stale job. The caller waits only for the tasks it published to be *done*, not for
// every worker to check in: on a busy machine a sleeping worker may take milliseconds to be
// scheduled, and the caller simply does its share of the work instead.
class Pool {
 public:
  explicit Pool(int size) : size_(size), active_threads_(size) {
    for (int i = 1; i < size_; ++i) workers_.emplace_back([this, i] { worker(i); });
  }

  int size() const { return size_; }
  int active() const { return active_threads_.load(std::memory_order_relaxed); }
  void set_active(int n) { active_threads_.store(std::clamp(n, 1, size_), std::memory_order_relaxed); }

  void run(int tasks, const std::function<void(int, int)>& fn) {
    const int threads = std::min(active(), tasks);
    if (threads <= 1 || tl_in_pool) {
      for (int t = 0; t < tasks; ++t) fn(t, 0);
      return;
    }
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) {  // another thread is using the pool: do the work here
      for (int t = 0; t < tasks; ++t) fn(t, 0);
      return;
    }
    uint32_t gen;
    {
      std::lock_guard<std::mutex> lk(mu_);
      gen = ++gen_;
      job_ = &fn;
      tasks_ = tasks;
      participants_ = threads - 1;  // workers 1..threads-1 join in
      done_.store(0, std::memory_order_relaxed);
      state_.store(uint64_t(gen) << 32, std::memory_order_release);
    }
    cv_.notify_all();
    tl_in_pool = true;
    claim_and_run(gen, fn, tasks, 0);
    tl_in_pool = false;
    // Tasks claimed by workers are running: wait for them (briefly spinning, then yielding).
    for (int spin = 0; done_.load(std::memory_order_acquire) < tasks; ++spin) {
      if (spin < 20000)
        STRIDE_PAUSE();
      else
        std::this_thread::yield();
    }
  }

 private:
  void claim_and_run(uint32_t gen, const std::function<void(int, int)>& fn, int tasks, int thread) {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (uint32_t(s >> 32) != gen) return;
      const int t = int(uint32_t(s));
      if (t >= tasks) return;
      if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      fn(t, thread);
      done_.fetch_add(1, std::memory_order_release);
      s = state_.load(std::memory_order_acquire);
    }
  }

  void worker(int id) {
    tl_in_pool = true;
    uint32_t seen = 0;
    for (;;) {
      // Spin up to ~50 µs for the next job (a kernel runs several parallel regions back to back),
      // then sleep on the condition variable so an idle pool leaves the cores to JS and the GC.
      const auto spinUntil = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
      for (int spin = 1; uint32_t(state_.load(std::memory_order_acquire) >> 32) == seen; ++spin) {
        STRIDE_PAUSE();
        if ((spin & 63) == 0 && std::chrono::steady_clock::now() > spinUntil) break;
      }
      const std::function<void(int, int)>* job;
      int tasks;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return gen_ != seen; });
        seen = gen_;
        if (id > participants_) continue;  // not needed for this job
        job = job_;
        tasks = tasks_;
      }
      claim_and_run(seen, *job, tasks, id);
    }
  }

  const int size_;
  std::atomic<int> active_threads_;
  std::vector<std::thread> workers_;
  std::mutex busy_;  // held by the thread that owns the current job
  std::mutex mu_;
  std::condition_variable cv_;
  uint32_t gen_ = 0;  // guarded by mu_
  const std::function<void(int, int)>* job_ = nullptr;
  int tasks_ = 0;
  int participants_ = 0;
  std::atomic<uint64_t> state_{0};
  std::atomic<int> done_{0};
};

int initial_size() {
  if (const char* env = std::getenv("STRIDE_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return std::min(n, 256);
  }
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(std::min(hc, 256u));
}

Pool& pool() {
  // Leaked on purpose: joining threads from a static destructor at process exit can deadlock
  // when Node tears the addon down; the OS reclaims the threads.
  static Pool* p = new Pool(initial_size());
  return *p;
}

}  // namespace

int pool_size() { return pool().size(); }
bool in_parallel_region() { return tl_in_pool; }
int num_threads() { return pool().active(); }
void set_num_threads(int n) { pool().set_active(n); }

void parallel_for(int tasks, const std::function<void(int, int)>& fn) {
  if (tasks <= 0) return;
  pool().run(tasks, fn);
}

void parallel_range(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int threads = tl_in_pool ? 1 : num_threads();
  const int64_t units = (n + grain - 1) / grain;
  // Up to 4 ranges per thread, claimed dynamically, so a thread slowed by other work on its core
  // takes fewer of them.
  const int parts = static_cast<int>(std::min<int64_t>(threads == 1 ? 1 : int64_t(threads) * 4, units));
  if (parts <= 1) {
    fn(0, n, 0);
    return;
  }
  const int64_t per = (units + parts - 1) / parts * grain;
  parallel_for(parts, [&](int part, int thread) {
    const int64_t b = part * per;
    const int64_t e = std::min(n, b + per);
    if (b < e) fn(b, e, thread);
  });
}

}  // namespace stride
