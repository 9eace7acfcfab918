#include "plugins/dynamic_resources.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "dra/inventory.h"
#include "state/node_info.h"

namespace sextant {
namespace {

std::string Quote(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

// resourceclaim.Name: the claim a pod's entry refers to. nullopt with an OK status: the entry's
// template needed no claim (the entry is skipped).
absl::StatusOr<std::optional<std::string>> ClaimName(const Pod& pod, const PodResourceClaim& entry,
                                                     bool* must_check_owner) {
  *must_check_owner = false;
  if (entry.resource_claim_name) return std::optional<std::string>(*entry.resource_claim_name);
  if (entry.resource_claim_template_name) {
    for (const PodResourceClaimStatus& status : pod.resource_claim_statuses) {
      if (status.name == entry.name) {
        *must_check_owner = true;
        return status.resource_claim_name;
      }
    }
    return absl::FailedPreconditionError(
        absl::StrCat("pod ", Quote(pod.Key()), ": ResourceClaim not created yet"));
  }
  return absl::FailedPreconditionError(absl::StrCat("pod ", Quote(pod.Key()),
                                                    ", spec.resourceClaim ", Quote(entry.name),
                                                    ": none of the supported fields are set"));
}

enum class Binding { kReady, kWaiting, kFailed };

// isClaimReadyForBinding: kFailed (upstream's error) when a device of the allocation with
// binding conditions reports a binding failure condition as True; kWaiting when a device's
// status is missing or one of its binding conditions is not yet True, which ends the check;
// kReady when every binding condition is met (or there are none).
Binding BindingOf(const ResourceClaim& claim) {
  for (const DeviceRequestAllocationResult& result : claim.allocation->devices) {
    if (result.binding_conditions.empty()) continue;
    const AllocatedDeviceStatus* status = nullptr;
    for (const AllocatedDeviceStatus& s : claim.device_statuses) {
      if (s.device == result.device && s.driver == result.driver && s.pool == result.pool) {
        status = &s;
        break;
      }
    }
    if (status == nullptr) return Binding::kWaiting;
    for (const std::string& condition : result.binding_failure_conditions) {
      auto it = status->conditions.find(condition);
      if (it != status->conditions.end() && it->second) return Binding::kFailed;
    }
    for (const std::string& condition : result.binding_conditions) {
      auto it = status->conditions.find(condition);
      if (it == status->conditions.end() || !it->second) return Binding::kWaiting;
    }
  }
  return Binding::kReady;
}

// isClaimTimeout: the allocation has a timestamp, a device with binding conditions, and is older
// than the binding timeout.
bool BindingTimedOut(const ResourceClaim& claim, const ProfileOptions& options) {
  const AllocationResult& allocation = *claim.allocation;
  if (!allocation.allocation_unix_nanos) return false;
  const bool conditions = std::any_of(
      allocation.devices.begin(), allocation.devices.end(),
      [](const DeviceRequestAllocationResult& r) { return !r.binding_conditions.empty(); });
  if (!conditions) return false;
  const absl::Time now = options.clock ? options.clock() : absl::Now();
  return absl::FromUnixNanos(*allocation.allocation_unix_nanos) +
             absl::Seconds(options.dra_binding_timeout_seconds) <
         now;
}

// validateDeviceClass: "" is an error of the cycle, an unknown class makes the pod wait.
void ValidateDeviceClass(const DraInventory& dra, const std::string& class_name,
                         const std::string& request_name, DynamicResourcesPreFilterResult* out) {
  if (!out->reject.empty() || !out->error.empty()) return;
  if (class_name.empty()) {
    out->error = absl::StrCat("request ", request_name, ": unsupported request type");
    return;
  }
  if (dra.FindDeviceClass(class_name) == nullptr) {
    out->reject =
        absl::StrCat("request ", request_name, ": device class ", class_name, " does not exist");
  }
}

int64_t PrioritizedListScore(const ResourceClaim& claim, const AllocationResult& allocation) {
  int64_t score = 0;
  for (const DeviceRequest& request : claim.requests) {
    if (request.exactly) continue;
    for (size_t i = 0; i < request.first_available.size(); ++i) {
      const std::string ref = absl::StrCat(request.name, "/", request.first_available[i].name);
      bool allocated = std::any_of(
          allocation.devices.begin(), allocation.devices.end(),
          [&](const DeviceRequestAllocationResult& r) { return r.request == ref; });
      if (allocated) score += kFirstAvailableMaxSize - static_cast<int64_t>(i);
    }
  }
  return score;
}

}  // namespace

DynamicResourcesPreFilterResult DynamicResourcesPreFilter(const Pod& pod, const ClusterState& state,
                                                          const ProfileOptions& options) {
  DynamicResourcesPreFilterResult out;
  if (pod.resource_claims.empty()) return out;
  const DraInventory& dra = state.dra();
  auto s = std::make_shared<DynamicResourcesState>();

  // foreachPodResourceClaim: every claim must exist, not be going away, and (made from a
  // template) belong to the pod.
  for (const PodResourceClaim& entry : pod.resource_claims) {
    bool must_check_owner = false;
    absl::StatusOr<std::optional<std::string>> name = ClaimName(pod, entry, &must_check_owner);
    if (!name.ok()) {
      out.reject = std::string(name.status().message());
      return out;
    }
    if (!name->has_value()) continue;
    const std::string key = absl::StrCat(pod.name_space, "/", **name);
    const ResourceClaim* claim = dra.FindResourceClaim(key);
    if (claim == nullptr) {
      out.reject = absl::StrCat("could not find ResourceClaim ", Quote(key));
      return out;
    }
    if (claim->deletion_unix_nanos) {
      out.reject = absl::StrCat("resourceclaim ", Quote(claim->name), " is being deleted");
      return out;
    }
    if (must_check_owner && (pod.uid.empty() || claim->controller_pod_uid != pod.uid)) {
      out.reject = absl::StrCat("ResourceClaim ", key, " was not created for Pod ", pod.Key(),
                                " (Pod is not owner)");
      return out;
    }
    s->claims.push_back(claim);
  }
  if (s->claims.empty()) return out;

  s->available_on.resize(s->claims.size());
  s->binding_failed.resize(s->claims.size());
  for (size_t i = 0; i < s->claims.size(); ++i) {
    const ResourceClaim& claim = *s->claims[i];
    if (claim.allocation) {
      if (claim.allocation->node_selector) {
        std::vector<CompiledNodeSelectorTerm> terms;
        for (const NodeSelectorTerm& term : claim.allocation->node_selector->terms) {
          CompiledNodeSelectorTerm compiled(term);
          if (compiled.empty()) continue;  // selects nothing, as upstream drops it
          if (!compiled.valid()) {
            out.error = absl::StrCat("resource claim ", claim.Key(),
                                     ": status.allocation.nodeSelector cannot be parsed");
            return out;
          }
          terms.push_back(std::move(compiled));
        }
        s->available_on[i] = std::move(terms);
      }
      // Filter's readiness check: a failed binding, or one still waiting after the timeout,
      // makes the claim unavailable (PostFilter may then deallocate it).
      const Binding binding = BindingOf(claim);
      s->binding_failed[i] = binding == Binding::kFailed ||
                             (binding == Binding::kWaiting && BindingTimedOut(claim, options));
      continue;
    }
    if (dra.PendingAllocation(claim.Key()) != nullptr) {
      out.reject = absl::StrCat("resource claim ", claim.Key(),
                                " is in the process of being allocated");
      return out;
    }
    for (const DeviceRequest& request : claim.requests) {
      if (request.exactly) {
        ValidateDeviceClass(dra, request.exactly->device_class_name, request.name, &out);
      } else if (!request.first_available.empty()) {
        for (const DeviceSubRequest& sub : request.first_available) {
          ValidateDeviceClass(dra, sub.spec.device_class_name,
                              absl::StrCat(request.name, "/", sub.name), &out);
        }
      } else if (out.reject.empty() && out.error.empty()) {
        out.reject = absl::StrCat("resource claim ", claim.Key(), ", request ", request.name,
                                  ": unknown request type");
      }
      if (!out.reject.empty() || !out.error.empty()) return out;
    }
    s->to_allocate.push_back(&claim);
  }
  if (!s->to_allocate.empty()) s->allocator = std::make_unique<Allocator>(dra);
  {
    absl::MutexLock lock(&s->mu);
    s->unavailable.assign(s->claims.size(), false);
  }
  out.state = std::move(s);
  return out;
}

DynamicResourcesFilterResult DynamicResourcesFilter(const DynamicResourcesState& s, uint32_t index,
                                                    const Node& node) {
  DynamicResourcesFilterResult result;
  std::vector<size_t> unavailable;
  for (size_t i = 0; i < s.claims.size(); ++i) {
    bool reachable = true;
    if (s.available_on[i]) {
      const auto& terms = *s.available_on[i];
      reachable = std::any_of(terms.begin(), terms.end(),
                              [&](const CompiledNodeSelectorTerm& t) { return t.Matches(node); });
    }
    if (!reachable || s.binding_failed[i]) unavailable.push_back(i);
  }
  if (s.allocator) {
    AllocateOutcome outcome = s.allocator->Allocate(node, s.to_allocate);
    switch (outcome.kind) {
      case AllocateOutcome::Kind::kAllocated: {
        // computeScore: the claims needing allocation take the results in order; claims
        // already allocated read their status.
        size_t next = 0;
        for (const ResourceClaim* claim : s.claims) {
          const AllocationResult* allocation =
              claim->allocation ? &*claim->allocation : &outcome.results[next++];
          result.score += PrioritizedListScore(*claim, *allocation);
        }
        break;
      }
      case AllocateOutcome::Kind::kUnsatisfiable:
        result.code = FilterCode::kUnschedulableAndUnresolvable;
        result.reason = DynamicResourcesReason::kCannotAllocate;
        return result;
      case AllocateOutcome::Kind::kFailedOnNode:
        result.code = FilterCode::kUnschedulableAndUnresolvable;
        result.reason = DynamicResourcesReason::kInvalidPools;
        return result;
      case AllocateOutcome::Kind::kError: {
        absl::MutexLock lock(&s.mu);
        if (!s.error || index < s.error->first) s.error.emplace(index, outcome.message);
        result.code = FilterCode::kUnschedulableAndUnresolvable;
        result.reason = DynamicResourcesReason::kCannotAllocate;
        return result;
      }
    }
  }
  if (!unavailable.empty()) {
    absl::MutexLock lock(&s.mu);
    for (size_t i : unavailable) s.unavailable[i] = true;
    result.code = FilterCode::kUnschedulableAndUnresolvable;
    result.reason = DynamicResourcesReason::kClaimUnavailable;
    result.score = 0;
    return result;
  }
  // Score reads what Filter allocated; without an allocator upstream has nothing to read and
  // scores 0.
  if (!s.allocator) result.score = 0;
  return result;
}

absl::StatusOr<std::vector<std::pair<const ResourceClaim*, AllocationResult>>>
DynamicResourcesReserve(const Pod& pod, const ClusterState& state, uint32_t index,
                        const ProfileOptions& options,
                        const Allocator::ShareIdGenerator& new_share_id,
                        const DevicePreference& prefer) {
  std::vector<std::pair<const ResourceClaim*, AllocationResult>> out;
  DynamicResourcesPreFilterResult pre = DynamicResourcesPreFilter(pod, state, options);
  if (!pre.error.empty()) return absl::AbortedError(pre.error);
  if (!pre.reject.empty()) return absl::AbortedError(pre.reject);
  if (!pre.state || !pre.state->allocator) return out;
  const DynamicResourcesState& s = *pre.state;
  const Node& node = *state.node(index).node;
  AllocateOutcome outcome;
  const std::vector<DeviceId> preferred = prefer ? prefer(s) : std::vector<DeviceId>{};
  if (!preferred.empty()) {
    outcome = s.allocator->Allocate(node, s.to_allocate, new_share_id, preferred);
  }
  if (outcome.kind != AllocateOutcome::Kind::kAllocated) {
    outcome = s.allocator->Allocate(node, s.to_allocate, new_share_id);
  }
  switch (outcome.kind) {
    case AllocateOutcome::Kind::kAllocated:
      break;
    case AllocateOutcome::Kind::kUnsatisfiable:
      return absl::AbortedError(absl::StrCat("node ", node.name, ": ", kDraCannotAllocateReason));
    case AllocateOutcome::Kind::kFailedOnNode:
    case AllocateOutcome::Kind::kError:
      return absl::AbortedError(absl::StrCat("node ", node.name, ": ", outcome.message));
  }
  for (size_t i = 0; i < s.to_allocate.size(); ++i) {
    // A claim the pod lists under two entries was allocated twice above (upstream's Filter
    // hands it to the allocator twice), but it is reserved once: upstream's Reserve keeps the
    // first allocation in flight and only counts the second as another sharer, and the first is
    // what PreBind writes.
    const bool seen = std::any_of(out.begin(), out.end(),
                                  [&](const auto& made) { return made.first == s.to_allocate[i]; });
    if (!seen) out.emplace_back(s.to_allocate[i], std::move(outcome.results[i]));
  }
  return out;
}

std::vector<const ResourceClaim*> ExistingPodClaims(const Pod& pod, const DraInventory& dra) {
  std::vector<const ResourceClaim*> out;
  for (const PodResourceClaim& entry : pod.resource_claims) {
    bool must_check_owner = false;
    absl::StatusOr<std::optional<std::string>> name = ClaimName(pod, entry, &must_check_owner);
    if (!name.ok() || !name->has_value()) continue;
    const ResourceClaim* claim = dra.FindResourceClaim(absl::StrCat(pod.name_space, "/", **name));
    if (claim != nullptr) out.push_back(claim);
  }
  return out;
}

std::vector<std::string> DynamicResourcesUnavailableClaims(const DynamicResourcesState& s) {
  std::vector<std::string> out;
  absl::MutexLock lock(&s.mu);
  for (size_t i = 0; i < s.claims.size(); ++i) {
    if (s.unavailable[i]) out.push_back(s.claims[i]->Key());
  }
  return out;
}

std::optional<std::string> DynamicResourcesError(const DynamicResourcesState& s) {
  absl::MutexLock lock(&s.mu);
  if (!s.error) return std::nullopt;
  return s.error->second;
}

}  // namespace sextant
