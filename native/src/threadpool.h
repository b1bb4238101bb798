// A persistent thread pool, created once: size = hardware concurrency, or STRIDE_NUM_THREADS.
// The calling thread takes part in the work, so a pool of T threads owns T - 1 workers.
// Nested calls (a kernel that runs inside a pool task) and calls from a second JS thread while
// the pool is busy run serially on the caller instead of waiting.
#pragma once

#include <cstdint>
#include <functional>

namespace stride {

// Threads the pool was built with (>= 1).
int pool_size();
// Threads kernels currently use (1..pool_size()); settable for benchmarks and tests.
int num_threads();
void set_num_threads(int n);

// True inside a pool task (where parallel_for runs serially).
bool in_parallel_region();

// Runs fn(task, thread) for task in [0, tasks), spread over up to num_threads() threads; `thread`
// is a dense id in [0, num_threads()) usable to index per-thread scratch. Returns when all are done.
void parallel_for(int tasks, const std::function<void(int task, int thread)>& fn);

// Convenience: split [0, n) into contiguous ranges (each a multiple of `grain` except the last; up
// to 4 per thread, for balance) and run fn(begin, end, thread) on each. Runs inline if n <= grain.
void parallel_range(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn);

}  // namespace stride
