#include "plugins/node_resources_fit.h"

#include <algorithm>
#include <cmath>

#include "plugins/helper.h"
#include "sextant/pod_resources.h"
#include "state/internal/saturating.h"

namespace sextant {
namespace {

constexpr int64_t kMaxUtilization = 100;
constexpr int64_t kMaxCustomPriorityScore = 10;
constexpr int64_t kDefaultMilliCpuRequest = 100;
constexpr int64_t kDefaultMemoryRequest = 200LL * 1024 * 1024;

bool IsIgnored(const std::string& name, const ProfileOptions& options) {
  if (!IsExtendedResourceName(name)) return false;
  if (std::find(options.ignored_resources.begin(), options.ignored_resources.end(), name) !=
      options.ignored_resources.end()) {
    return true;
  }
  if (options.ignored_resource_groups.empty()) return false;
  std::string prefix = name.substr(0, name.find('/'));
  return std::find(options.ignored_resource_groups.begin(), options.ignored_resource_groups.end(),
                   prefix) != options.ignored_resource_groups.end();
}

// The amounts are within +-2^62 (resource.h), so the products fit in int64. Negative amounts (a
// client may send negative quantities; the API server refuses them) score within 0..100.
int64_t LeastRequestedScore(int64_t requested, int64_t capacity) {
  if (capacity <= 0 || requested > capacity) return 0;
  if (requested < 0) return kMaxNodeScore;
  return DivideNonNegative((capacity - requested) * kMaxNodeScore, capacity);
}

int64_t MostRequestedScore(int64_t requested, int64_t capacity) {
  if (capacity <= 0 || requested <= 0) return 0;
  requested = std::min(requested, capacity);
  return DivideNonNegative(requested * kMaxNodeScore, capacity);
}

// helper.BuildBrokenLinearFunction over the shape scaled to 0..100.
int64_t BrokenLinear(const std::vector<UtilizationShapePoint>& shape, int64_t p) {
  auto score = [](const UtilizationShapePoint& point) {
    return int64_t{point.score} * (kMaxNodeScore / kMaxCustomPriorityScore);
  };
  for (size_t i = 0; i < shape.size(); ++i) {
    if (p <= shape[i].utilization) {
      if (i == 0) return score(shape[0]);
      return score(shape[i - 1]) + (score(shape[i]) - score(shape[i - 1])) *
                                       (p - shape[i - 1].utilization) /
                                       (shape[i].utilization - shape[i - 1].utilization);
    }
  }
  return score(shape.back());
}

}  // namespace

FitPreFilterState NodeResourcesFitPreFilter(const Pod& pod, const ResourceRegistry& registry,
                                            const ProfileOptions& options) {
  PodResourcesOptions resource_options;
  resource_options.use_status_resources = false;  // a pod being scheduled has no status resources
  ResourceList requests = PodRequests(pod, resource_options);
  FitPreFilterState state;
  for (const auto& [name, quantity] : requests) {
    if (name == kResourceCpu) {
      state.milli_cpu = internal::ClampResource(quantity.MilliValue());
    } else if (name == kResourceMemory) {
      state.memory = internal::ClampResource(quantity.Value());
    } else if (name == kResourceEphemeralStorage) {
      state.ephemeral_storage = internal::ClampResource(quantity.Value());
    } else if (IsScalarResourceName(name)) {
      int64_t value = internal::ClampResource(quantity.Value());
      if (value == 0 || IsIgnored(name, options)) continue;
      state.scalars.push_back({name, registry.Find(name), value});
    }
  }
  return state;
}

FitFilterResult NodeResourcesFitFilter(const FitPreFilterState& state, const NodeInfo& node) {
  FitFilterResult result;
  bool unresolvable = false;
  const Resource& alloc = node.allocatable;
  const Resource& used = node.requested;
  if (static_cast<int64_t>(node.pods.size()) + 1 > alloc.allowed_pod_number) result.mask |= 1;
  auto check = [&](int bit, int64_t request, int64_t allocatable, int64_t requested) {
    if (request > 0 && request > allocatable - requested) {
      result.mask |= uint64_t{1} << bit;
      unresolvable = unresolvable || request > allocatable;
    }
  };
  check(1, state.milli_cpu, alloc.milli_cpu, used.milli_cpu);
  check(2, state.memory, alloc.memory, used.memory);
  check(3, state.ephemeral_storage, alloc.ephemeral_storage, used.ephemeral_storage);
  for (size_t i = 0; i < state.scalars.size() && i < 60; ++i) {
    const auto& scalar = state.scalars[i];
    check(4 + static_cast<int>(i), scalar.value, alloc.Scalar(scalar.id), used.Scalar(scalar.id));
  }
  if (result.mask != 0) {
    result.code =
        unresolvable ? FilterCode::kUnschedulableAndUnresolvable : FilterCode::kUnschedulable;
  }
  return result;
}

ResourceAllocationPreScoreState ResourceAllocationPreScore(const Pod& pod,
                                                           const std::vector<ResourceSpec>& specs,
                                                           const ResourceRegistry& registry,
                                                           bool use_requested) {
  ResourceAllocationPreScoreState state;
  state.use_requested = use_requested;
  PodResourcesOptions options;
  if (!use_requested) {
    // NodeResourcesFit builds its scorer without the PodLevelResources and
    // InPlacePodVerticalScaling gates (NewFit passes only the DRA one), so its score reads the
    // pod's container requests even when spec.resources is set; BalancedAllocation honours both.
    options.use_status_resources = false;
    options.skip_pod_level_resources = true;
    options.non_missing_container_requests =
        ResourceList{{kResourceCpu, Quantity::FromMilli(kDefaultMilliCpuRequest)},
                     {kResourceMemory, Quantity::FromInt(kDefaultMemoryRequest)}};
  }
  ResourceList requests = PodRequests(pod, options);
  for (const ResourceSpec& spec : specs) {
    ResourceScoreSpec out{spec.name, spec.weight};
    if (spec.name == kResourceCpu) {
      out.kind = ResourceScoreSpec::Kind::kCpu;
    } else if (spec.name == kResourceMemory) {
      out.kind = ResourceScoreSpec::Kind::kMemory;
    } else if (spec.name == kResourceEphemeralStorage) {
      out.kind = ResourceScoreSpec::Kind::kEphemeralStorage;
    } else {
      out.id = registry.Find(spec.name);
      // Not a scalar name ("pods"), or no node offers it: upstream finds no allocatable.
      if (out.id == ResourceRegistry::kUnknown) out.kind = ResourceScoreSpec::Kind::kUnscorable;
    }
    auto it = requests.find(spec.name);
    int64_t request = 0;
    if (it != requests.end()) {
      request = internal::ClampResource(out.kind == ResourceScoreSpec::Kind::kCpu
                                            ? it->second.MilliValue()
                                            : it->second.Value());
    }
    state.resources.push_back(std::move(out));
    state.pod_requests.push_back(request);
  }
  return state;
}

int64_t NodeResourcesFitScore(const ResourceAllocationPreScoreState& state,
                              const ScoringStrategy& strategy, const NodeInfo& node) {
  const size_t n = state.resources.size();
  int64_t requested[16], allocated[16], allocatable[16];
  if (n > 16) return 0;  // ValidateProfileOptions caps the list
  CalculateNodeAllocatableRequest(state, node, requested, allocated, allocatable);
  int64_t node_score = 0;
  int64_t weight_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    if (allocatable[i] == 0) continue;
    int64_t weight = state.resources[i].weight;
    int64_t score = 0;
    switch (strategy.type) {
      case ScoringStrategyType::kLeastAllocated:
        score = LeastRequestedScore(requested[i], allocatable[i]);
        break;
      case ScoringStrategyType::kMostAllocated:
        score = MostRequestedScore(requested[i], allocatable[i]);
        break;
      case ScoringStrategyType::kRequestedToCapacityRatio: {
        int64_t utilization = requested[i] > allocatable[i]
                                  ? kMaxUtilization
                                  : requested[i] * kMaxUtilization / allocatable[i];
        score = BrokenLinear(strategy.shape, utilization);
        // RequestedToCapacityRatio counts only resources that scored above zero.
        if (score <= 0) continue;
        break;
      }
    }
    node_score += score * weight;
    weight_sum += weight;
  }
  if (weight_sum == 0) return 0;
  if (strategy.type == ScoringStrategyType::kRequestedToCapacityRatio) {
    return static_cast<int64_t>(
        std::round(static_cast<double>(node_score) / static_cast<double>(weight_sum)));
  }
  return DivideNonNegative(node_score, weight_sum);
}

}  // namespace sextant
