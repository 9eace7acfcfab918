#include "state/resource.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "model/selectors.h"
#include "sextant/pod_resources.h"
#include "state/internal/saturating.h"

namespace sextant {

using internal::AddResource;
using internal::ClampResource;

namespace {

constexpr absl::string_view kKubernetesIoPrefix = "kubernetes.io/";
constexpr int64_t kDefaultMilliCpuRequest = 100;                 // schedutil.DefaultMilliCPURequest
constexpr int64_t kDefaultMemoryRequest = 200LL * 1024 * 1024;  // schedutil.DefaultMemoryRequest

bool IsNativeResource(absl::string_view name) {
  return name.find('/') == absl::string_view::npos ||
         name.find(kKubernetesIoPrefix) != absl::string_view::npos;
}

bool IsSupportedPodLevelResource(absl::string_view name) {
  return name == kResourceCpu || name == kResourceMemory || absl::StartsWith(name, "hugepages-");
}

bool IsPodLevelRequestsSet(const Pod& pod) {
  if (!pod.resources) return false;
  return std::any_of(pod.resources->requests.begin(), pod.resources->requests.end(),
                     [](const auto& entry) { return IsSupportedPodLevelResource(entry.first); });
}

}  // namespace

ResourceId ResourceRegistry::Intern(absl::string_view name) {
  auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  ResourceId id = static_cast<ResourceId>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(std::string(name), id);
  return id;
}

ResourceId ResourceRegistry::Find(absl::string_view name) const {
  auto it = ids_.find(name);
  return it == ids_.end() ? kUnknown : it->second;
}

bool IsExtendedResourceName(absl::string_view name) {
  if (IsNativeResource(name) || absl::StartsWith(name, "requests.")) return false;
  return IsQualifiedName(std::string("requests.") + std::string(name));
}

bool IsScalarResourceName(absl::string_view name) {
  return IsExtendedResourceName(name) || absl::StartsWith(name, "hugepages-") ||
         name.find(kKubernetesIoPrefix) != absl::string_view::npos ||
         absl::StartsWith(name, "attachable-volumes-");
}

int64_t Resource::Scalar(ResourceId id) const {
  for (const auto& [rid, value] : scalars) {
    if (rid == id) return value;
  }
  return 0;
}

void Resource::AddScalar(ResourceId id, int64_t value) {
  auto it = std::lower_bound(scalars.begin(), scalars.end(), id,
                             [](const auto& entry, ResourceId key) { return entry.first < key; });
  if (it != scalars.end() && it->first == id) {
    it->second = AddResource(it->second, value);
  } else {
    scalars.insert(it, {id, AddResource(0, value)});
  }
}

void Resource::AddList(const ResourceList& list, ResourceRegistry& registry) {
  for (const auto& [name, quantity] : list) {
    if (name == kResourceCpu) {
      milli_cpu = AddResource(milli_cpu, ClampResource(quantity.MilliValue()));
    } else if (name == kResourceMemory) {
      memory = AddResource(memory, ClampResource(quantity.Value()));
    } else if (name == kResourcePods) {
      allowed_pod_number = AddResource(allowed_pod_number, ClampResource(quantity.Value()));
    } else if (name == kResourceEphemeralStorage) {
      ephemeral_storage = AddResource(ephemeral_storage, ClampResource(quantity.Value()));
    } else if (IsScalarResourceName(name)) {
      AddScalar(registry.Intern(name), ClampResource(quantity.Value()));
    }
  }
}

void Resource::Add(const Resource& other, int64_t sign) {
  // sign is +1 or -1 and every field is within +-2^62: the products fit.
  milli_cpu = AddResource(milli_cpu, sign * other.milli_cpu);
  memory = AddResource(memory, sign * other.memory);
  ephemeral_storage = AddResource(ephemeral_storage, sign * other.ephemeral_storage);
  allowed_pod_number = AddResource(allowed_pod_number, sign * other.allowed_pod_number);
  for (const auto& [id, value] : other.scalars) AddScalar(id, sign * value);
}

PodResource ComputePodResource(const Pod& pod, ResourceRegistry& registry) {
  PodResourcesOptions options;  // status resources on, pod-level resources on
  ResourceList requests = PodRequests(pod, options);

  // getNonMissingContainerRequests: with pod-level requests set, only the resources missing from
  // the computed requests get the scoring defaults.
  ResourceList defaults;
  if (!IsPodLevelRequestsSet(pod)) {
    defaults[kResourceCpu] = Quantity::FromMilli(kDefaultMilliCpuRequest);
    defaults[kResourceMemory] = Quantity::FromInt(kDefaultMemoryRequest);
  } else {
    if (!requests.contains(kResourceCpu)) {
      defaults[kResourceCpu] = Quantity::FromMilli(kDefaultMilliCpuRequest);
    }
    if (!requests.contains(kResourceMemory)) {
      defaults[kResourceMemory] = Quantity::FromInt(kDefaultMemoryRequest);
    }
  }

  PodResource out;
  out.requests.AddList(requests, registry);
  if (defaults.empty()) {
    out.non0_milli_cpu = out.requests.milli_cpu;
    out.non0_memory = out.requests.memory;
  } else {
    options.non_missing_container_requests = std::move(defaults);
    ResourceList non0 = PodRequests(pod, options);
    auto cpu = non0.find(kResourceCpu);
    auto memory = non0.find(kResourceMemory);
    out.non0_milli_cpu = cpu == non0.end() ? 0 : ClampResource(cpu->second.MilliValue());
    out.non0_memory = memory == non0.end() ? 0 : ClampResource(memory->second.Value());
  }
  return out;
}

}  // namespace sextant
