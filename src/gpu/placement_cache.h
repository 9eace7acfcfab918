// GpuPlacementCache: what the live GPU placement derives from a ClusterState and keeps between
// scheduling cycles. ClusterState owns one.
//  - The expected workload (FGD's and Sextant's GpuWorkload), estimated from the GPU pods the
//    state holds; recomputed once the state's set of pods with resource claims has changed by
//    more than a twentieth since the last estimate.
//  - Every node's GPUs as a CPU-only pod's score sees them (one device table per node slot);
//    rebuilt when a slice or an allocation changed, or a node slot was added.
// Thread-safe: Evaluate calls run concurrently under the engine's reader lock and may all ask
// at once; one computes while the others wait for its result.
#ifndef SEXTANT_GPU_PLACEMENT_CACHE_H_
#define SEXTANT_GPU_PLACEMENT_CACHE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "sextant/gpu.h"

namespace sextant {

class GpuPlacementCache {
 public:
  // An estimate and the number of GPU pods it was made from.
  struct Estimate {
    std::shared_ptr<const GpuWorkload> workload;
    int64_t pods = 0;
  };
  using NodeTables = std::vector<GpuDeviceTable>;  // by node slot

  // The cached workload for `key` (what the estimate depends on besides the pods: the capacity
  // name) when it was computed at most max(1, pods / 20) changes ago, where `changes` is the
  // state's change count (ClusterState::claim_pod_changes); otherwise compute(), stored and
  // returned.
  std::shared_ptr<const GpuWorkload> Workload(absl::string_view key, uint64_t changes,
                                              absl::FunctionRef<Estimate()> compute);

  // The cached node tables for `key` (the capacity name) when `devices_generation` and
  // `node_slots` are those they were built at; otherwise compute(), stored and returned.
  std::shared_ptr<const NodeTables> Tables(absl::string_view key, uint64_t devices_generation,
                                           size_t node_slots,
                                           absl::FunctionRef<NodeTables()> compute);

  // How many times each compute() ran (tests).
  int64_t workload_computations() const;
  int64_t table_computations() const;

 private:
  mutable absl::Mutex mu_;
  std::string workload_key_ ABSL_GUARDED_BY(mu_);
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
  Estimate estimate_ ABSL_GUARDED_BY(mu_);
  int64_t workload_computations_ ABSL_GUARDED_BY(mu_) = 0;

  std::string tables_key_ ABSL_GUARDED_BY(mu_);
  uint64_t devices_generation_ ABSL_GUARDED_BY(mu_) = 0;
  size_t node_slots_ ABSL_GUARDED_BY(mu_) = 0;
  std::shared_ptr<const NodeTables> tables_ ABSL_GUARDED_BY(mu_);
  int64_t table_computations_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sextant

#endif  // SEXTANT_GPU_PLACEMENT_CACHE_H_
