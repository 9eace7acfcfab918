#include "state/internal/canonical.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>
#include <variant>

#include "absl/strings/str_format.h"

namespace sextant::internal {

void CanonicalWriter::Int(int64_t value) {
  uint64_t bits = static_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

void CanonicalWriter::String(absl::string_view text) {
  Int(static_cast<int64_t>(text.size()));
  bytes_.append(text.data(), text.size());
}

template <typename T>
void CanonicalWriter::Optional(const std::optional<T>& value) {
  Bool(value.has_value());
  if (!value) return;
  if constexpr (std::is_same_v<T, std::string>) {
    String(*value);
  } else if constexpr (std::is_integral_v<T>) {
    Int(*value);
  } else if constexpr (std::is_enum_v<T>) {
    Int(static_cast<int64_t>(*value));
  } else {
    Write(*value);
  }
}

template <typename T>
void CanonicalWriter::Sequence(const std::vector<T>& values) {
  Int(static_cast<int64_t>(values.size()));
  for (const T& value : values) {
    if constexpr (std::is_same_v<T, std::string>) {
      String(value);
    } else {
      Write(value);
    }
  }
}

void CanonicalWriter::Write(const Quantity& quantity) {
  if (!exact_quantities_) {
    String(quantity.ToString());
    return;
  }
  // The exponent form is exact for every value; the default DecimalSI form is not beyond 999E,
  // where upstream's String() (and ours) has no suffix left and prints "2000E" as "2".
  Quantity exact = quantity;
  exact.set_format(Quantity::Format::kDecimalExponent);
  String(exact.ToString());
  Int(static_cast<int64_t>(quantity.format()));
}

void CanonicalWriter::Write(const ResourceList& list) {
  Int(static_cast<int64_t>(list.size()));
  for (const auto& [name, quantity] : list) {
    String(name);
    Write(quantity);
  }
}

void CanonicalWriter::Write(const Labels& labels) {
  Int(static_cast<int64_t>(labels.size()));
  for (const auto& [key, value] : labels) {
    String(key);
    String(value);
  }
}

void CanonicalWriter::Write(const Taint& taint) {
  String(taint.key);
  String(taint.value);
  Int(static_cast<int64_t>(taint.effect));
}

void CanonicalWriter::Write(const Toleration& toleration) {
  String(toleration.key);
  Int(static_cast<int64_t>(toleration.op));
  String(toleration.value);
  Int(static_cast<int64_t>(toleration.effect));
  Optional(toleration.toleration_seconds);
}

void CanonicalWriter::Write(const SelectorRequirement& requirement) {
  String(requirement.key);
  Int(static_cast<int64_t>(requirement.op));
  Sequence(requirement.values);
}

void CanonicalWriter::Write(const NodeSelectorTerm& term) {
  Sequence(term.match_expressions);
  Sequence(term.match_fields);
}

void CanonicalWriter::Write(const NodeAffinity& affinity) {
  Bool(affinity.required.has_value());
  if (affinity.required) Sequence(affinity.required->terms);
  Int(static_cast<int64_t>(affinity.preferred.size()));
  for (const PreferredSchedulingTerm& term : affinity.preferred) {
    Int(term.weight);
    Write(term.preference);
  }
}

void CanonicalWriter::Write(const LabelSelector& selector) {
  Write(selector.match_labels);
  Sequence(selector.match_expressions);
}

void CanonicalWriter::Write(const PodAffinityTerm& term) {
  Optional(term.label_selector);
  Sequence(term.namespaces);
  String(term.topology_key);
  Optional(term.namespace_selector);
  Sequence(term.match_label_keys);
  Sequence(term.mismatch_label_keys);
}

void CanonicalWriter::Write(const PodAffinity& affinity) {
  Sequence(affinity.required);
  Int(static_cast<int64_t>(affinity.preferred.size()));
  for (const WeightedPodAffinityTerm& term : affinity.preferred) {
    Int(term.weight);
    Write(term.term);
  }
}

void CanonicalWriter::Write(const Affinity& affinity) {
  Optional(affinity.node_affinity);
  Optional(affinity.pod_affinity);
  Optional(affinity.pod_anti_affinity);
}

void CanonicalWriter::Write(const TopologySpreadConstraint& constraint) {
  Int(constraint.max_skew);
  String(constraint.topology_key);
  Int(static_cast<int64_t>(constraint.when_unsatisfiable));
  Optional(constraint.label_selector);
  Optional(constraint.min_domains);
  Optional(constraint.node_affinity_policy);
  Optional(constraint.node_taints_policy);
  Sequence(constraint.match_label_keys);
}

void CanonicalWriter::Write(const Container& container) {
  String(container.name);
  Write(container.requests);
  Write(container.limits);
  Optional(container.restart_policy);
}

void CanonicalWriter::Write(const ContainerStatus& status) {
  String(status.name);
  Optional(status.allocated_resources);
  Optional(status.resource_requests);
  Optional(status.resource_limits);
}

void CanonicalWriter::Write(const Pod& pod) {
  Tag("Pod");
  String(pod.name_space);
  String(pod.name);
  String(pod.uid);
  Write(pod.labels);
  Int(pod.creation_unix_nanos);
  Optional(pod.deletion_unix_nanos);
  String(pod.node_name);
  String(pod.scheduler_name);
  Optional(pod.priority);
  String(pod.priority_class_name);
  Optional(pod.preemption_policy);
  Sequence(pod.init_containers);
  Sequence(pod.containers);
  Write(pod.overhead);
  Bool(pod.resources.has_value());
  if (pod.resources) {
    Write(pod.resources->requests);
    Write(pod.resources->limits);
  }
  Write(pod.node_selector);
  Optional(pod.affinity);
  Sequence(pod.tolerations);
  Sequence(pod.topology_spread_constraints);
  Optional(pod.default_spread_selector);
  String(pod.phase);
  Optional(pod.start_unix_nanos);
  Optional(pod.nominated_node_name);
  Bool(pod.terminating_by_preemption);
  Sequence(pod.container_statuses);
  Sequence(pod.init_container_statuses);
  String(pod.resize_status);
  String(pod.qos_class_reported);
  Sequence(pod.resource_claims);
  Sequence(pod.resource_claim_statuses);
}

void CanonicalWriter::Write(const PodResourceClaim& claim) {
  String(claim.name);
  Optional(claim.resource_claim_name);
  Optional(claim.resource_claim_template_name);
}

void CanonicalWriter::Write(const PodResourceClaimStatus& status) {
  String(status.name);
  Optional(status.resource_claim_name);
}

void CanonicalWriter::Write(const NodeSelector& selector) { Sequence(selector.terms); }

void CanonicalWriter::Write(const DeviceSelector& selector) { Optional(selector.cel); }

void CanonicalWriter::Write(const DeviceAttributeValue& value) {
  Int(static_cast<int64_t>(value.index()));
  if (const int64_t* i = std::get_if<int64_t>(&value)) {
    Int(*i);
  } else if (const bool* b = std::get_if<bool>(&value)) {
    Bool(*b);
  } else if (const std::string* text = std::get_if<std::string>(&value)) {
    String(*text);
  } else {
    const cel::Semver& v = std::get<cel::Semver>(value);
    Int(static_cast<int64_t>(v.major));
    Int(static_cast<int64_t>(v.minor));
    Int(static_cast<int64_t>(v.patch));
    Sequence(v.prerelease);
    Sequence(v.build);
  }
}

void CanonicalWriter::Write(const CapacityRequestPolicy& policy) {
  Optional(policy.default_value);
  Sequence(policy.valid_values);
  Bool(policy.valid_range.has_value());
  if (policy.valid_range) {
    Optional(policy.valid_range->min);
    Optional(policy.valid_range->max);
    Optional(policy.valid_range->step);
  }
}

void CanonicalWriter::Write(const DeviceTaint& taint) {
  String(taint.key);
  String(taint.value);
  Int(static_cast<int64_t>(taint.effect));
}

void CanonicalWriter::Write(const DeviceToleration& toleration) {
  String(toleration.key);
  String(toleration.op);
  String(toleration.value);
  String(toleration.effect);
  Optional(toleration.toleration_seconds);
}

void CanonicalWriter::Write(const Device& device) {
  String(device.name);
  Int(static_cast<int64_t>(device.attributes.size()));
  for (const auto& [name, value] : device.attributes) {
    String(name);
    Write(value);
  }
  Int(static_cast<int64_t>(device.capacity.size()));
  for (const auto& [name, capacity] : device.capacity) {
    String(name);
    Write(capacity.value.quantity);
    Optional(capacity.value.as_int64);
    Optional(capacity.request_policy);
  }
  Int(static_cast<int64_t>(device.consumes_counters.size()));
  for (const DeviceCounterConsumption& consumption : device.consumes_counters) {
    String(consumption.counter_set);
    Write(consumption.counters);
  }
  Optional(device.node_name);
  Optional(device.node_selector);
  Optional(device.all_nodes);
  Sequence(device.taints);
  Optional(device.binds_to_node);
  Sequence(device.binding_conditions);
  Sequence(device.binding_failure_conditions);
  Optional(device.allow_multiple_allocations);
}

void CanonicalWriter::Write(const DeviceClass& device_class) {
  Tag("DeviceClass");
  String(device_class.name);
  Sequence(device_class.selectors);
  Optional(device_class.extended_resource_name);
}

void CanonicalWriter::Write(const ResourceSlice& slice) {
  Tag("ResourceSlice");
  String(slice.name);
  String(slice.driver);
  String(slice.pool.name);
  Int(slice.pool.generation);
  Int(slice.pool.resource_slice_count);
  Optional(slice.node_name);
  Optional(slice.node_selector);
  Optional(slice.all_nodes);
  Optional(slice.per_device_node_selection);
  Sequence(slice.devices);
  Int(static_cast<int64_t>(slice.shared_counters.size()));
  for (const CounterSet& set : slice.shared_counters) {
    String(set.name);
    Write(set.counters);
  }
  Bool(slice.uses_disabled_feature);
}

void CanonicalWriter::Write(const DeviceRequestSpec& spec) {
  String(spec.device_class_name);
  Sequence(spec.selectors);
  String(spec.allocation_mode);
  Int(spec.count);
  Optional(spec.admin_access);
  Sequence(spec.tolerations);
  Bool(spec.capacity.has_value());
  if (spec.capacity) Write(spec.capacity->requests);
  Bool(spec.has_derived_attributes);
}

void CanonicalWriter::Write(const DeviceRequest& request) {
  String(request.name);
  Optional(request.exactly);
  Int(static_cast<int64_t>(request.first_available.size()));
  for (const DeviceSubRequest& sub : request.first_available) {
    String(sub.name);
    Write(sub.spec);
  }
}

void CanonicalWriter::Write(const DeviceConstraint& constraint) {
  Sequence(constraint.requests);
  Optional(constraint.match_attribute);
  Optional(constraint.distinct_attribute);
}

void CanonicalWriter::Write(const DeviceRequestAllocationResult& result) {
  String(result.request);
  String(result.driver);
  String(result.pool);
  String(result.device);
  Optional(result.admin_access);
  Sequence(result.tolerations);
  Sequence(result.binding_conditions);
  Sequence(result.binding_failure_conditions);
  Optional(result.share_id);
  Write(result.consumed_capacity);
}

void CanonicalWriter::Write(const AllocationResult& allocation) {
  Sequence(allocation.devices);
  Optional(allocation.node_selector);
  Optional(allocation.allocation_unix_nanos);
}

void CanonicalWriter::Write(const ResourceClaim& claim) {
  Tag("ResourceClaim");
  String(claim.name_space);
  String(claim.name);
  String(claim.uid);
  Optional(claim.deletion_unix_nanos);
  String(claim.controller_pod_uid);
  Sequence(claim.requests);
  Sequence(claim.constraints);
  Optional(claim.allocation);
  Int(static_cast<int64_t>(claim.reserved_for.size()));
  for (const ResourceClaimConsumerReference& ref : claim.reserved_for) {
    String(ref.api_group);
    String(ref.resource);
    String(ref.name);
    String(ref.uid);
  }
  Int(static_cast<int64_t>(claim.device_statuses.size()));
  for (const AllocatedDeviceStatus& status : claim.device_statuses) {
    String(status.driver);
    String(status.pool);
    String(status.device);
    Optional(status.share_id);
    Int(static_cast<int64_t>(status.conditions.size()));
    for (const auto& [type, is_true] : status.conditions) {
      String(type);
      Bool(is_true);
    }
  }
}

void CanonicalWriter::Write(const Node& node) {
  Tag("Node");
  String(node.name);
  Write(node.labels);
  Sequence(node.taints);
  Bool(node.unschedulable);
  Write(node.capacity);
  Write(node.allocatable);
  Int(node.creation_unix_nanos);
}

void CanonicalWriter::Write(const Namespace& ns) {
  Tag("Namespace");
  String(ns.name);
  Write(ns.labels);
}

void CanonicalWriter::Write(const PriorityClass& priority_class) {
  Tag("PriorityClass");
  String(priority_class.name);
  Int(priority_class.value);
  Bool(priority_class.global_default);
  Int(static_cast<int64_t>(priority_class.preemption_policy));
}

void CanonicalWriter::Write(const PodDisruptionBudget& pdb) {
  Tag("PodDisruptionBudget");
  String(pdb.name_space);
  String(pdb.name);
  Optional(pdb.selector);
  for (const std::optional<IntOrPercent>* bound : {&pdb.min_available, &pdb.max_unavailable}) {
    Bool(bound->has_value());
    if (*bound) {
      Int((*bound)->value);
      Bool((*bound)->is_percent);
    }
  }
  Int(pdb.disruptions_allowed);
}

std::string Digest128(absl::string_view bytes) {
  // FNV-1a over the bytes, and SplitMix64 chained over 8-byte words: independent 64-bit lanes.
  uint64_t fnv = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) fnv = (fnv ^ c) * 0x100000001b3ULL;
  auto mix = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  uint64_t chain = mix(bytes.size());
  for (size_t i = 0; i < bytes.size(); i += 8) {
    uint64_t word = 0;
    std::memcpy(&word, bytes.data() + i, std::min<size_t>(8, bytes.size() - i));
    chain = mix(chain ^ word);
  }
  return absl::StrFormat("%016x%016x", fnv, chain);
}

}  // namespace sextant::internal
