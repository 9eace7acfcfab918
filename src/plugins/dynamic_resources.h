// DynamicResources (upstream plugins/dynamicresources): a pod's DRA claims must be allocatable
// on the node. PreFilter resolves the pod's claims (spec.resourceClaims, via
// status.resourceClaimStatuses for claims made from templates) and checks their classes; Filter
// checks that allocated claims are reachable from the node and allocates the others there
// (src/dra/allocator.h); Score prefers nodes where firstAvailable requests got an earlier
// subrequest. Pods without claims skip it.
#ifndef SEXTANT_PLUGINS_DYNAMIC_RESOURCES_H_
#define SEXTANT_PLUGINS_DYNAMIC_RESOURCES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "dra/allocator.h"
#include "model/selectors.h"
#include "sextant/cluster_state.h"
#include "sextant/evaluate.h"

namespace sextant {

inline constexpr char kDraCannotAllocateReason[] = "cannot allocate all claims";
inline constexpr char kDraClaimUnavailableReason[] = "resourceclaim not available on the node";
inline constexpr char kDraInvalidPoolsReason[] = "invalid resource pools were encountered";

enum class DynamicResourcesReason : uint8_t { kCannotAllocate, kClaimUnavailable, kInvalidPools };

// What PreFilter computed for the cycle, read by Filter on every node (from several threads).
struct DynamicResourcesState {
  // The pod's claims, in spec.resourceClaims order (entries whose template needed no claim are
  // left out).
  std::vector<const ResourceClaim*> claims;
  // Per claim: for an allocated claim, the nodes its devices are reachable from (the terms of
  // status.allocation.nodeSelector; nullopt: every node).
  std::vector<std::optional<std::vector<CompiledNodeSelectorTerm>>> available_on;
  // Per claim: allocated, with a device whose binding failed (a bindingFailureCondition is
  // True) or whose binding conditions are still not all met after the binding timeout: not
  // usable on any node until it is deallocated.
  std::vector<bool> binding_failed;
  // The claims to allocate (not allocated yet), in claims order, and the allocator; null when
  // every claim is allocated.
  std::vector<const ResourceClaim*> to_allocate;
  std::unique_ptr<Allocator> allocator;

  // Written by Filter: which allocated claims were unreachable from some node, and the first
  // error (by node index) that fails the cycle.
  mutable absl::Mutex mu;
  mutable std::vector<bool> unavailable ABSL_GUARDED_BY(mu);
  mutable std::optional<std::pair<uint32_t, std::string>> error ABSL_GUARDED_BY(mu);
};

struct DynamicResourcesPreFilterResult {
  // Null when the pod has no claims (the plugin is skipped).
  std::shared_ptr<const DynamicResourcesState> state;
  // The pod cannot be scheduled anywhere now (UnschedulableAndUnresolvable): the message.
  std::string reject;
  // The cycle fails with this error (upstream's Error status).
  std::string error;
};

// `options` gives the binding timeout and its clock (ProfileOptions::dra_binding_timeout_seconds).
DynamicResourcesPreFilterResult DynamicResourcesPreFilter(const Pod& pod, const ClusterState& state,
                                                          const ProfileOptions& options);

struct DynamicResourcesFilterResult {
  FilterCode code = FilterCode::kSuccess;
  DynamicResourcesReason reason = DynamicResourcesReason::kCannotAllocate;
  // Feasible nodes: the raw score (sum over the claims' firstAvailable requests of
  // kFirstAvailableMaxSize minus the index of the subrequest allocated).
  int64_t score = 0;
};

// `index` is the node's slot; an allocator error is recorded in s.error (the caller reports it).
DynamicResourcesFilterResult DynamicResourcesFilter(const DynamicResourcesState& s, uint32_t index,
                                                    const Node& node);

// Reserve: PreFilter for `pod`, then the allocations of its claims that are not allocated yet
// on the node at slot `index`, paired with their claims, each claim once (the first allocation
// of a claim the pod lists twice), in the pod's order (empty for a pod without such claims).
// Aborted with the reason when they cannot be allocated there (any more). The devices `prefer`
// returns for the PreFilter state (Sextant's GPU placement) are tried first; if the search with
// them finds no allocation (or an error), upstream's order decides, so a preference never fails
// what Filter let through.
using DevicePreference = std::function<std::vector<DeviceId>(const DynamicResourcesState&)>;
absl::StatusOr<std::vector<std::pair<const ResourceClaim*, AllocationResult>>>
DynamicResourcesReserve(const Pod& pod, const ClusterState& state, uint32_t index,
                        const ProfileOptions& options,
                        const Allocator::ShareIdGenerator& new_share_id,
                        const DevicePreference& prefer = {});

// The pod's claims that exist in the inventory, in spec.resourceClaims order: claims named by
// the pod and those made from its templates (status.resourceClaimStatuses). Entries whose claim
// is missing or not made yet are left out; ownership is not checked.
std::vector<const ResourceClaim*> ExistingPodClaims(const Pod& pod, const DraInventory& dra);

// Allocated claims reported unreachable from some node by Filter ("namespace/name"), in claim
// order, and the first error, if any.
std::vector<std::string> DynamicResourcesUnavailableClaims(const DynamicResourcesState& s);
std::optional<std::string> DynamicResourcesError(const DynamicResourcesState& s);

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_DYNAMIC_RESOURCES_H_
