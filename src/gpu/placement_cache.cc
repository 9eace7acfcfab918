#include "gpu/placement_cache.h"

#include <algorithm>

namespace sextant {

std::shared_ptr<const GpuWorkload> GpuPlacementCache::Workload(
    absl::string_view key, uint64_t changes, absl::FunctionRef<Estimate()> compute) {
  absl::MutexLock lock(&mu_);
  if (estimate_.workload != nullptr && workload_key_ == key) {
    const uint64_t allowed = static_cast<uint64_t>(std::max<int64_t>(1, estimate_.pods / 20));
    if (changes >= changes_ && changes - changes_ < allowed) return estimate_.workload;
  }
  // Computed under the lock: concurrent cycles wait for one estimate instead of each making it.
  estimate_ = compute();
  workload_key_ = std::string(key);
  changes_ = changes;
  ++workload_computations_;
  return estimate_.workload;
}

std::shared_ptr<const GpuPlacementCache::NodeTables> GpuPlacementCache::Tables(
    absl::string_view key, uint64_t devices_generation, size_t node_slots,
    absl::FunctionRef<NodeTables()> compute) {
  absl::MutexLock lock(&mu_);
  if (tables_ != nullptr && tables_key_ == key && devices_generation_ == devices_generation &&
      node_slots_ == node_slots) {
    return tables_;
  }
  tables_ = std::make_shared<const NodeTables>(compute());
  tables_key_ = std::string(key);
  devices_generation_ = devices_generation;
  node_slots_ = node_slots;
  ++table_computations_;
  return tables_;
}

int64_t GpuPlacementCache::workload_computations() const {
  absl::MutexLock lock(&mu_);
  return workload_computations_;
}

int64_t GpuPlacementCache::table_computations() const {
  absl::MutexLock lock(&mu_);
  return table_computations_;
}

}  // namespace sextant
