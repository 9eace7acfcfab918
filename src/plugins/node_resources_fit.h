// NodeResourcesFit (plugins/noderesources/fit.go): Filter checks the pod count and every requested
// resource against allocatable minus requested; Score applies the profile's scoring strategy
// (LeastAllocated, MostAllocated or RequestedToCapacityRatio) to the configured resources.
#ifndef SEXTANT_PLUGINS_NODE_RESOURCES_FIT_H_
#define SEXTANT_PLUGINS_NODE_RESOURCES_FIT_H_

#include <string>
#include <vector>

#include "sextant/evaluate.h"
#include "state/node_info.h"

namespace sextant {

struct FitPreFilterState {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  // Scalar requests that are checked (ignored resources dropped), in name order; the index
  // here is the fit_mask bit minus 4. id is kUnknown when no node has ever offered the resource.
  struct Scalar {
    std::string name;
    ResourceId id;
    int64_t value;
  };
  std::vector<Scalar> scalars;
};
FitPreFilterState NodeResourcesFitPreFilter(const Pod& pod, const ResourceRegistry& registry,
                                            const ProfileOptions& options);

struct FitFilterResult {
  FilterCode code = FilterCode::kSuccess;
  uint64_t mask = 0;  // NodeVerdict::fit_mask
};
FitFilterResult NodeResourcesFitFilter(const FitPreFilterState& state, const NodeInfo& node);

// The requests of the pod for each scored resource, as resourceAllocationScorer computes them:
// use_requested false is NodeResourcesFit's scorer (non-zero defaults, container requests only,
// as upstream's NewFit leaves pod-level resources off there), true is BalancedAllocation's.
struct ResourceScoreSpec {
  std::string name;
  int64_t weight = 1;
  ResourceId id = 0;  // scalar resources only
  enum class Kind { kCpu, kMemory, kEphemeralStorage, kScalar, kUnscorable } kind = Kind::kScalar;
};
struct ResourceAllocationPreScoreState {
  std::vector<ResourceScoreSpec> resources;
  std::vector<int64_t> pod_requests;
  bool use_requested = false;  // false: cpu and memory use the non-zero requested (scoring defaults)
};
ResourceAllocationPreScoreState ResourceAllocationPreScore(const Pod& pod,
                                                           const std::vector<ResourceSpec>& specs,
                                                           const ResourceRegistry& registry,
                                                           bool use_requested);
// requested (node + pod), allocated (node) and allocatable per scored resource; entries with
// allocatable 0 are left out of scoring as upstream does.
inline void CalculateNodeAllocatableRequest(const ResourceAllocationPreScoreState& state,
                                     const NodeInfo& node, int64_t* requested, int64_t* allocated,
                                     int64_t* allocatable) {
  for (size_t i = 0; i < state.resources.size(); ++i) {
    const ResourceScoreSpec& spec = state.resources[i];
    requested[i] = allocated[i] = allocatable[i] = 0;
    int64_t node_allocatable = 0;
    int64_t node_allocated = 0;
    switch (spec.kind) {
      case ResourceScoreSpec::Kind::kCpu:
        node_allocatable = node.allocatable.milli_cpu;
        node_allocated = state.use_requested ? node.requested.milli_cpu : node.non0_milli_cpu;
        break;
      case ResourceScoreSpec::Kind::kMemory:
        node_allocatable = node.allocatable.memory;
        node_allocated = state.use_requested ? node.requested.memory : node.non0_memory;
        break;
      case ResourceScoreSpec::Kind::kEphemeralStorage:
        node_allocatable = node.allocatable.ephemeral_storage;
        node_allocated = node.requested.ephemeral_storage;
        break;
      case ResourceScoreSpec::Kind::kScalar:
        // An extended resource the pod does not request is not scored.
        if (state.pod_requests[i] == 0) continue;
        node_allocatable = node.allocatable.Scalar(spec.id);
        node_allocated = node.requested.Scalar(spec.id);
        break;
      case ResourceScoreSpec::Kind::kUnscorable:
        continue;
    }
    if (node_allocatable == 0) continue;
    allocatable[i] = node_allocatable;
    allocated[i] = node_allocated;
    requested[i] = node_allocated + state.pod_requests[i];
  }
}

int64_t NodeResourcesFitScore(const ResourceAllocationPreScoreState& state,
                              const ScoringStrategy& strategy, const NodeInfo& node);

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_NODE_RESOURCES_FIT_H_
