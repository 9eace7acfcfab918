// Port of k8s.io/component-helpers/resource (PodRequests, PodLimits) and
// k8s.io/kubernetes/pkg/apis/core/v1/helper/qos (ComputePodQOS), reference release v1.37.
#include "sextant/pod_resources.h"

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "sextant/model.h"
#include "sextant/quantity.h"

namespace sextant {
namespace {

constexpr char kHugePagesPrefix[] = "hugepages-";
constexpr char kContainerRestartPolicyAlways[] = "Always";

// Upstream IsSupportedPodLevelResource: cpu, memory and every hugepages-<size>.
bool IsSupportedPodLevelResource(const std::string& name) {
  return name == kResourceCpu || name == kResourceMemory ||
         absl::StartsWith(name, kHugePagesPrefix);
}

bool HasSupportedPodLevelResource(const ResourceList& list) {
  for (const auto& [name, quantity] : list) {
    if (IsSupportedPodLevelResource(name)) return true;
  }
  return false;
}

bool IsPodLevelRequestsSet(const Pod& pod) {
  return pod.resources.has_value() && HasSupportedPodLevelResource(pod.resources->requests);
}

bool IsPodLevelResourcesSet(const Pod& pod) {
  return pod.resources.has_value() && (HasSupportedPodLevelResource(pod.resources->requests) ||
                                       HasSupportedPodLevelResource(pod.resources->limits));
}

// Upstream reads the PodResizePending condition with reason Infeasible. The model does not carry
// status.conditions, so no pod counts as infeasible; the deprecated status.resize is not a
// substitute because upstream ignores it.
bool IsPodResizeInfeasible(const Pod& /*pod*/) { return false; }

bool IsRestartableInitContainer(const Container& container) {
  return container.restart_policy.has_value() &&
         *container.restart_policy == kContainerRestartPolicyAlways;
}

void AddResourceList(ResourceList& list, const ResourceList& new_list) {
  for (const auto& [name, quantity] : new_list) {
    auto [it, inserted] = list.try_emplace(name, quantity);
    if (!inserted) it->second.Add(quantity);
  }
}

// Sets each resource of new_list in list to the greater of the two.
void MaxResourceList(ResourceList& list, const ResourceList& new_list) {
  for (const auto& [name, quantity] : new_list) {
    auto [it, inserted] = list.try_emplace(name, quantity);
    if (!inserted && quantity.Cmp(it->second) > 0) it->second = quantity;
  }
}

ResourceList MaxOf(std::initializer_list<const ResourceList*> lists) {
  ResourceList result;
  for (const ResourceList* list : lists) MaxResourceList(result, *list);
  return result;
}

// A copy of requests with each resource of non_missing that requests lacks added; an explicit
// request, even zero, is kept. A null requests list (upstream's nil) lacks everything.
ResourceList ApplyNonMissing(const ResourceList* requests, const ResourceList& non_missing) {
  ResourceList result = requests != nullptr ? *requests : ResourceList{};
  for (const auto& [name, quantity] : non_missing) {
    if (requests == nullptr || !requests->contains(name)) result.try_emplace(name, quantity);
  }
  return result;
}

const ContainerStatus* FindContainerStatus(const Pod& pod, const std::string& name) {
  for (const ContainerStatus& status : pod.container_statuses) {
    if (status.name == name) return &status;
  }
  for (const ContainerStatus& status : pod.init_container_statuses) {
    if (status.name == name) return &status;
  }
  return nullptr;
}

// Picks one container's resource list; nullptr stands for upstream's nil list.
using ResourceGetter = const ResourceList* (*)(const Container& container,
                                               const ContainerStatus* status,
                                               bool resize_infeasible);

const ResourceList* ContainerSpecRequests(const Container& container, const ContainerStatus*,
                                          bool) {
  return &container.requests;
}

const ResourceList* ContainerAllocatedRequests(const Container& container,
                                               const ContainerStatus* status,
                                               bool resize_infeasible) {
  if (status != nullptr && status->allocated_resources.has_value()) {
    return &*status->allocated_resources;
  }
  if (resize_infeasible) return nullptr;
  return &container.requests;
}

const ResourceList* ContainerActuatedRequests(const Container& container,
                                              const ContainerStatus* status,
                                              bool resize_infeasible) {
  if (status != nullptr && status->resource_requests.has_value()) {
    return &*status->resource_requests;
  }
  if (status != nullptr && status->allocated_resources.has_value()) {
    return &*status->allocated_resources;
  }
  if (resize_infeasible) return nullptr;
  return &container.requests;
}

const ResourceList* ContainerSpecLimits(const Container& container, const ContainerStatus*, bool) {
  return &container.limits;
}

const ResourceList* ContainerActuatedLimits(const Container& container,
                                            const ContainerStatus* status, bool resize_infeasible) {
  if (status != nullptr && status->resource_limits.has_value()) {
    return &*status->resource_limits;
  }
  if (resize_infeasible) return nullptr;
  return &container.limits;
}

// The sidecar KEP formula: max(sum of regular and restartable init containers, each init
// container plus the restartable init containers started before it).
ResourceList AggregateContainerResources(const Pod& pod, bool use_status_resources,
                                         const ResourceList* non_missing, ResourceGetter get) {
  const bool resize_infeasible = use_status_resources && IsPodResizeInfeasible(pod);
  auto resources_of = [&](const Container& container) {
    const ContainerStatus* status =
        use_status_resources ? FindContainerStatus(pod, container.name) : nullptr;
    const ResourceList* list = get(container, status, resize_infeasible);
    if (non_missing != nullptr && !non_missing->empty()) {
      return ApplyNonMissing(list, *non_missing);
    }
    return list != nullptr ? *list : ResourceList{};
  };

  ResourceList result;
  for (const Container& container : pod.containers) {
    AddResourceList(result, resources_of(container));
  }

  ResourceList restartable_init_resources;
  ResourceList init_resources;
  for (const Container& container : pod.init_containers) {
    ResourceList container_resources = resources_of(container);
    if (IsRestartableInitContainer(container)) {
      // A sidecar keeps running next to the regular containers and every later init container.
      AddResourceList(result, container_resources);
      AddResourceList(restartable_init_resources, container_resources);
      MaxResourceList(init_resources, restartable_init_resources);
    } else {
      AddResourceList(container_resources, restartable_init_resources);
      MaxResourceList(init_resources, container_resources);
    }
  }
  MaxResourceList(result, init_resources);
  return result;
}

// Upstream AggregateContainerRequests. Pod-level status (status.allocatedResources,
// status.resources) is not in the model; upstream falls back to the container statuses when
// those are unset, which is the path taken here.
ResourceList AggregateContainerRequests(const Pod& pod, const PodResourcesOptions& options) {
  const ResourceList* non_missing = options.non_missing_container_requests.has_value()
                                        ? &*options.non_missing_container_requests
                                        : nullptr;
  if (!options.use_status_resources) {
    return AggregateContainerResources(pod, false, non_missing, ContainerSpecRequests);
  }
  const ResourceList spec =
      AggregateContainerResources(pod, true, non_missing, ContainerSpecRequests);
  const ResourceList allocated =
      AggregateContainerResources(pod, true, non_missing, ContainerAllocatedRequests);
  const ResourceList actuated =
      AggregateContainerResources(pod, true, non_missing, ContainerActuatedRequests);
  if (IsPodResizeInfeasible(pod)) return MaxOf({&actuated, &allocated});
  // Max of the sums, not sum of the per-container maxes: a resize in flight may move resources
  // between containers.
  return MaxOf({&spec, &actuated, &allocated});
}

// Upstream AggregateContainerLimits; non-missing requests never apply to limits.
ResourceList AggregateContainerLimits(const Pod& pod, const PodResourcesOptions& options) {
  if (!options.use_status_resources) {
    return AggregateContainerResources(pod, false, nullptr, ContainerSpecLimits);
  }
  ResourceList spec = AggregateContainerResources(pod, true, nullptr, ContainerSpecLimits);
  ResourceList actuated = AggregateContainerResources(pod, true, nullptr, ContainerActuatedLimits);
  if (IsPodResizeInfeasible(pod)) return actuated;
  return MaxOf({&spec, &actuated});
}

// Pod-level values replace the container aggregate resource by resource, supported ones only.
void ApplyPodLevelResources(ResourceList& result, const ResourceList& pod_level) {
  for (const auto& [name, quantity] : pod_level) {
    if (IsSupportedPodLevelResource(name)) result.insert_or_assign(name, quantity);
  }
}

// Upstream requirementsQOS / resourceQOS over the supported QoS resources, cpu and memory.
QosClass RequirementsQos(const ResourceList& requests, const ResourceList& limits) {
  if (requests.empty() && limits.empty()) return QosClass::kBestEffort;
  std::optional<QosClass> qos;
  for (const char* resource : {kResourceCpu, kResourceMemory}) {
    const auto request_it = requests.find(resource);
    const auto limit_it = limits.find(resource);
    const Quantity request = request_it != requests.end() ? request_it->second : Quantity();
    const Quantity limit = limit_it != limits.end() ? limit_it->second : Quantity();
    QosClass resource_qos;
    if (request.Cmp(limit) != 0) {
      resource_qos = QosClass::kBurstable;
    } else if (request.IsZero()) {
      resource_qos = QosClass::kBestEffort;
    } else {
      resource_qos = QosClass::kGuaranteed;
    }
    if (resource_qos == QosClass::kBurstable) return QosClass::kBurstable;
    // Some but not all of cpu and memory set: neither Guaranteed nor BestEffort.
    if (qos.has_value() && *qos != resource_qos) return QosClass::kBurstable;
    qos = resource_qos;
  }
  return *qos;
}

}  // namespace

ResourceList PodRequests(const Pod& pod, const PodResourcesOptions& options) {
  ResourceList requests = AggregateContainerRequests(pod, options);
  if (!options.skip_pod_level_resources && IsPodLevelRequestsSet(pod)) {
    ApplyPodLevelResources(requests, pod.resources->requests);
  }
  if (!options.exclude_overhead) AddResourceList(requests, pod.overhead);
  return requests;
}

ResourceList PodLimits(const Pod& pod, const PodResourcesOptions& options) {
  ResourceList limits = AggregateContainerLimits(pod, options);
  if (!options.skip_pod_level_resources && IsPodLevelResourcesSet(pod)) {
    ApplyPodLevelResources(limits, pod.resources->limits);
  }
  if (!options.exclude_overhead) {
    // An absent or zero limit means unlimited; overhead does not make it limited.
    for (const auto& [name, quantity] : pod.overhead) {
      auto it = limits.find(name);
      if (it != limits.end() && !it->second.IsZero()) it->second.Add(quantity);
    }
  }
  return limits;
}

QosClass ComputeQosClass(const Pod& pod) {
  // PodLevelResources and PodLevelResourcesFixKubeletQOSClass are on by default in v1.37: pod-level
  // resources decide only when they set a supported resource.
  if (IsPodLevelResourcesSet(pod)) {
    return RequirementsQos(pod.resources->requests, pod.resources->limits);
  }
  std::optional<QosClass> pod_qos;
  for (const std::vector<Container>* containers : {&pod.init_containers, &pod.containers}) {
    for (const Container& container : *containers) {
      const QosClass container_qos = RequirementsQos(container.requests, container.limits);
      if (container_qos == QosClass::kBurstable) return QosClass::kBurstable;
      // One BestEffort and one Guaranteed container make the pod Burstable.
      if (pod_qos.has_value() && *pod_qos != container_qos) return QosClass::kBurstable;
      pod_qos = container_qos;
    }
  }
  // No containers at all cannot pass validation; upstream calls it BestEffort.
  return pod_qos.value_or(QosClass::kBestEffort);
}

const char* QosClassName(QosClass qos) {
  switch (qos) {
    case QosClass::kGuaranteed:
      return "Guaranteed";
    case QosClass::kBurstable:
      return "Burstable";
    case QosClass::kBestEffort:
      return "BestEffort";
  }
  return "Unknown";
}

}  // namespace sextant
