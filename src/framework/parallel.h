// A fixed pool of worker threads for ParallelFor. Several callers may run ParallelFor at once;
// each call returns when all of its chunks are done. The calling thread works on its own chunks
// too, so a pool of N threads gives N+1-way parallelism to one caller.
#ifndef SEXTANT_FRAMEWORK_PARALLEL_H_
#define SEXTANT_FRAMEWORK_PARALLEL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace sextant {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()); }

  // Calls fn(begin, end) over [0, n) split into `chunks` contiguous ranges.
  void ParallelFor(size_t n, size_t chunks, const std::function<void(size_t, size_t)>& fn);

 private:
  void WorkerLoop();

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace sextant

#endif  // SEXTANT_FRAMEWORK_PARALLEL_H_
