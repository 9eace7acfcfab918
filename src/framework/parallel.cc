#include "framework/parallel.h"

#include <algorithm>
#include <atomic>

namespace sextant {

WorkerPool::WorkerPool(int threads) {
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

WorkerPool::~WorkerPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : workers_) t.join();
}

void WorkerPool::WorkerLoop() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WorkerPool* pool) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool->mu_) {
            return pool->stopping_ || !pool->tasks_.empty();
          },
          this));
      if (tasks_.empty()) return;  // stopping with nothing left
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void WorkerPool::ParallelFor(size_t n, size_t chunks,
                             const std::function<void(size_t, size_t)>& fn) {
  chunks = std::max<size_t>(1, std::min(chunks, n));
  if (chunks == 1 || workers_.empty()) {
    fn(0, n);
    return;
  }
  // Chunks are claimed from a shared counter, so nobody waits on a chunk that no one took. The
  // job lives on this stack frame: return only after every helper task has left it.
  struct Job {
    std::atomic<size_t> next{0};
    absl::Mutex mu;
    size_t exited ABSL_GUARDED_BY(mu) = 0;
    size_t helpers = 0;
  } job;
  auto run_chunks = [&] {
    for (size_t c; (c = job.next.fetch_add(1)) < chunks;) fn(n * c / chunks, n * (c + 1) / chunks);
  };
  job.helpers = std::min(chunks - 1, workers_.size());
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < job.helpers; ++i) {
      tasks_.push_back([&] {
        run_chunks();
        absl::MutexLock job_lock(&job.mu);
        ++job.exited;
      });
    }
  }
  run_chunks();
  absl::MutexLock lock(&job.mu);
  job.mu.Await(absl::Condition(
      +[](Job* j) ABSL_NO_THREAD_SAFETY_ANALYSIS { return j->exited == j->helpers; }, &job));
}

}  // namespace sextant
