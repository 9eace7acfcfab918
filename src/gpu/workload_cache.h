// GpuWorkloadCache: the expected GPU workload (FGD's and Sextant's GpuWorkload) that the live
// GPU placement estimates from the pods a ClusterState holds, kept between scheduling cycles.
// ClusterState owns one and counts the changes to its set of pods with resource claims; a
// reader recomputes the estimate once that set has changed by more than a twentieth since the
// last one. Thread-safe: Evaluate calls run concurrently under the engine's reader lock and may
// all ask at once; one computes while the others wait for its result.
#ifndef SEXTANT_GPU_WORKLOAD_CACHE_H_
#define SEXTANT_GPU_WORKLOAD_CACHE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "sextant/gpu.h"

namespace sextant {

class GpuWorkloadCache {
 public:
  // An estimate and the number of GPU pods it was made from.
  struct Estimate {
    std::shared_ptr<const GpuWorkload> workload;
    int64_t pods = 0;
  };

  // The cached workload for `key` (what the estimate depends on besides the pods, e.g. the
  // capacity name) when it was computed at most max(1, pods / 20) changes ago, where `changes`
  // is the state's current change count (ClusterState::claim_pod_changes); otherwise
  // compute(), stored and returned. Never null once compute() returned a workload.
  std::shared_ptr<const GpuWorkload> Get(absl::string_view key, uint64_t changes,
                                         absl::FunctionRef<Estimate()> compute);

  // How many times compute() ran (tests).
  int64_t computations() const;

 private:
  mutable absl::Mutex mu_;
  std::string key_ ABSL_GUARDED_BY(mu_);
  uint64_t changes_ ABSL_GUARDED_BY(mu_) = 0;
  Estimate estimate_ ABSL_GUARDED_BY(mu_);
  int64_t computations_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sextant

#endif  // SEXTANT_GPU_WORKLOAD_CACHE_H_
