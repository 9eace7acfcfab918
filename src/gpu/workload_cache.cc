#include "gpu/workload_cache.h"

#include <algorithm>

namespace sextant {

std::shared_ptr<const GpuWorkload> GpuWorkloadCache::Get(absl::string_view key, uint64_t changes,
                                                         absl::FunctionRef<Estimate()> compute) {
  absl::MutexLock lock(&mu_);
  if (estimate_.workload != nullptr && key_ == key) {
    const uint64_t allowed = static_cast<uint64_t>(std::max<int64_t>(1, estimate_.pods / 20));
    if (changes >= changes_ && changes - changes_ < allowed) return estimate_.workload;
  }
  // Computed under the lock: concurrent cycles wait for one estimate instead of each making it.
  estimate_ = compute();
  key_ = std::string(key);
  changes_ = changes;
  ++computations_;
  return estimate_.workload;
}

int64_t GpuWorkloadCache::computations() const {
  absl::MutexLock lock(&mu_);
  return computations_;
}

}  // namespace sextant
