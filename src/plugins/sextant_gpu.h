// SextantGpu: Sextant's fragmentation-aware GPU placement as a score plugin of the profile (not
// an upstream plugin; docs/gpu-placement.md, "The live path"). For a GPU pod, every node that
// DynamicResources found feasible is scored by the configured GpuPolicy on a GpuDeviceTable built
// from the DRA state: the devices the pod's GPU request could use there and what is left of
// each. The devices the policy picks on the chosen node are what the allocator tries first when
// the pod is assumed (Reserve). Filter is not touched: feasibility is DynamicResources' alone.
//
// A GPU pod: among the claims it still needs allocated (DynamicResources' PreFilter), exactly one
// request in total, and that request is an `exactly` request with allocationMode ExactCount,
// count 1..16, no admin access, and capacity requests that name nothing but the milli capacity
// (GpuPlacementOptions::capacity_name), with a share of 1..1000 milli, below 1000 only when
// count is 1. Requests with firstAvailable or All mode are not GPU pods (DynamicResources'
// own score and upstream's order place them). Claims already allocated (shared with other
// pods) are not part of the request. Constraints (matchAttribute, distinctAttribute) are kept by
// the allocator: the policy's device choice is then a preference the constraint may override.
// A CPU-only pod (no resource claims) is scored with a demand of its cpu alone on each feasible
// node's GPUs, the node's devices with the milli capacity, when score_cpu_pods is set. Other
// pods score 0 in this plugin's slot.
#ifndef SEXTANT_PLUGINS_SEXTANT_GPU_H_
#define SEXTANT_PLUGINS_SEXTANT_GPU_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dra/allocator.h"
#include "plugins/dynamic_resources.h"
#include "sextant/cluster_state.h"
#include "sextant/evaluate.h"
#include "sextant/gpu.h"
#include "state/node_info.h"

namespace sextant {

// The one GPU request of a pod's claims.
struct GpuClaimRequest {
  const ResourceClaim* claim = nullptr;
  size_t request = 0;              // index into claim->requests
  int count = 0;                   // devices, 1..kMaxGpusPerNode
  int64_t gpu_milli = kGpuMilli;   // per device, 1..1000
};

// The GPU request of `claims` under the rule above, or nullopt when they are not a GPU pod's.
std::optional<GpuClaimRequest> GpuRequestOf(const std::vector<const ResourceClaim*>& claims,
                                            absl::string_view capacity_name);

// What the live path knows of a pod as the trace knows its pods: cpu and memory requests
// (upstream's effective pod requests) and the GPU request of all its existing claims (allocated
// or not); nullopt when the pod is not a GPU pod.
std::optional<GpuPodSpec> LiveGpuPodSpec(const Pod& pod, const DraInventory& dra,
                                         absl::string_view capacity_name);

// The expected workload, estimated from every GPU pod `state` holds (bound, assumed, pending)
// as the trace replay estimates it from its list (EstimateGpuWorkload; no model pressure: a
// live pod restricts models with CEL selectors, not a model list). Cached in the state and
// recomputed when its set of pods with claims has changed enough (src/gpu/placement_cache.h).
std::shared_ptr<const GpuWorkload> LiveGpuWorkload(const ClusterState& state,
                                                   absl::string_view capacity_name);

// A node's device table for a GPU request: the request's candidate devices on the node (at most
// kMaxGpusPerNode, in the allocator's order) with their milli left: 0 when held whole (or, for a
// device that cannot be shared, when anything holds it); for a device that allows multiple
// allocations and has the milli capacity, that capacity minus what its shares consume (at most
// 1000); otherwise 1000 while nothing holds it. The model is the first device's "model"
// attribute (in the driver's domain) when it names a known model, else model id 0.
struct LiveGpuTable {
  GpuDeviceTable gpus;
  std::array<const ResourceSlice*, kMaxGpusPerNode> slices{};
  std::array<const Device*, kMaxGpusPerNode> devices{};

  // The devices of `set`, by index, as allocator device IDs.
  std::vector<DeviceId> DeviceIds(GpuSet set) const;
};
// An error when the allocator cannot list the candidates (what Filter reports as an error).
absl::StatusOr<LiveGpuTable> BuildLiveGpuTable(const Allocator& allocator, const Node& node,
                                               const GpuClaimRequest& request,
                                               absl::string_view capacity_name);
// The node's GPUs as a CPU-only pod's score sees them: the devices with the milli capacity of
// the slices published for the node (spec.nodeName), at most kMaxGpusPerNode in slice name and
// device order, milli left as above. Pool generations and selectors are not looked at.
LiveGpuTable NodeGpuTable(const DraInventory& dra, const Node& node,
                          absl::string_view capacity_name);
// NodeGpuTable of every node slot, cached in the state until a slice or an allocation changes.
std::shared_ptr<const std::vector<GpuDeviceTable>> NodeGpuTables(const ClusterState& state,
                                                                 absl::string_view capacity_name);

// PreScore: whether the pod is a GPU pod the policy scores, and what every node's score needs.
struct SextantGpuPreScoreState {
  bool skip = true;
  // A pod without claims, scored on NodeGpuTable (no devices to pick).
  bool cpu_only = false;
  GpuPolicy policy = GpuPolicy::kSextant;
  std::string capacity_name;
  GpuClaimRequest request;
  GpuDemand demand;
  // FGD and Sextant; null for the other policies.
  std::shared_ptr<const GpuWorkload> workload;
  // Random's device choice.
  double random_draw = 0;
  // The allocator of the pod's cycle (DynamicResources' state owns it).
  const Allocator* allocator = nullptr;
  // CPU-only pods: every node's GPUs (NodeGpuTables).
  std::shared_ptr<const std::vector<GpuDeviceTable>> node_tables;
};

// `dra` is DynamicResources' PreFilter state (null: the pod has no claims). `random_value` is
// the cycle's random value (Random's device choice).
SextantGpuPreScoreState SextantGpuPreScore(const GpuPlacementOptions& options, const Pod& pod,
                                           const ClusterState& state,
                                           const DynamicResourcesState* dra,
                                           uint64_t random_value);

// The policy's placement on one feasible node (slot `index`): its raw score (the policy's
// scale) and the devices it picks, as table indices. No devices (score 0) when the table cannot
// take the demand (the allocator found devices the table does not model, such as a 17th GPU).
// For a CPU-only pod, `gpus` tells whether the node has GPUs: when no feasible node has any,
// the caller scores every node 0; `table` is set for GPU pods only.
struct SextantGpuNodeScore {
  double score = 0;
  GpuSet devices = 0;
  int gpus = 0;
  std::optional<LiveGpuTable> table;
};
SextantGpuNodeScore SextantGpuScore(const SextantGpuPreScoreState& s, const ClusterState& state,
                                    uint32_t index, const NodeInfo& node);

// NormalizeScore: 0..100. BestFit is min-max normalised over the feasible nodes (integer
// arithmetic, as the trace replay and the simulator do); the other policies' scores are already
// 0..100 and are clamped. `raw` holds the feasible nodes' raw scores.
void SextantGpuNormalize(GpuPolicy policy, std::vector<int64_t>& raw);

// Reserve's device preference for `pod` on node slot `index`, given DynamicResources' PreFilter
// state for it: the devices the policy picks there, or none (not a GPU pod, placement off, or
// the table cannot take it).
std::vector<DeviceId> SextantGpuPreferredDevices(const ProfileOptions& options, const Pod& pod,
                                                 const ClusterState& state,
                                                 const DynamicResourcesState& dra,
                                                 uint32_t index);

// DynamicResourcesReserve with the devices Sextant's GPU placement picks tried first.
absl::StatusOr<std::vector<std::pair<const ResourceClaim*, AllocationResult>>>
SextantGpuReserve(const Pod& pod, const ClusterState& state, uint32_t index,
                  const ProfileOptions& options,
                  const Allocator::ShareIdGenerator& new_share_id);

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_SEXTANT_GPU_H_
