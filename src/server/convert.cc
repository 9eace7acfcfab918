// Decoding follows src/snapshot/snapshot_reader.cc field for field: the same enum spellings, the
// same Kubernetes field paths and the same error texts, so a shim user reads the same message
// whether an object came from a recorded snapshot or over the Sync stream.

#include "server/convert.h"

#include "server/convert_dra.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/field_path.h"
#include "common/status_macros.h"
#include "model/api_names.h"
#include "sextant/pod_resources.h"
#include "sextant/quantity.h"
#include "state/node_info.h"

namespace sextant::server {
namespace {

// ---- Errors and paths (as the snapshot reader writes them) ----

absl::Status Missing(absl::string_view path) {
  return FieldError(path, "required field is missing");
}

// ---- API enums: the shared spellings (model/api_names.h), plus the plugin-args one ----

constexpr EnumName<ScoringStrategyType> kScoringStrategyTypes[] = {
    {"LeastAllocated", ScoringStrategyType::kLeastAllocated},
    {"MostAllocated", ScoringStrategyType::kMostAllocated},
    {"RequestedToCapacityRatio", ScoringStrategyType::kRequestedToCapacityRatio},
};

// `text` must be one of `names`; `what` names the enum in the error (`unknown taint effect
// "NoScheduel"`). The empty string is looked up like any other: tables that accept it list it.
template <typename E>
absl::Status DecodeEnum(const std::string& text,
                        std::type_identity_t<std::span<const EnumName<E>>> names,
                        absl::string_view what, absl::string_view path, E* out) {
  for (const EnumName<E>& name : names) {
    if (name.name == text) {
      *out = name.value;
      return absl::OkStatus();
    }
  }
  return FieldError(path, absl::StrCat("unknown ", what, " ", Quote(text)));
}

// An enum the API requires: empty is "required field is missing".
template <typename E>
absl::Status DecodeRequiredEnum(const std::string& text,
                                std::type_identity_t<std::span<const EnumName<E>>> names,
                                absl::string_view what, absl::string_view path, E* out) {
  if (text.empty()) return Missing(path);
  return DecodeEnum<E>(text, names, what, path, out);
}

// An optional enum: empty leaves it unset.
template <typename E>
absl::Status DecodeOptionalEnum(const std::string& text,
                                std::type_identity_t<std::span<const EnumName<E>>> names,
                                absl::string_view what, absl::string_view path,
                                std::optional<E>* out) {
  if (text.empty()) {
    out->reset();
    return absl::OkStatus();
  }
  return DecodeEnum<E>(text, names, what, path, &out->emplace());
}

template <typename E>
std::string EnumText(std::span<const EnumName<E>> names, E value) {
  for (const EnumName<E>& name : names) {
    if (name.value == value) return std::string(name.name);
  }
  return "";
}

// ---- Values ----

// Quantities are parsed exactly as resource.ParseQuantity (no trimming: the shim sends the
// canonical String()). Entries are read in name order, so the error reported for a list with
// several bad quantities does not depend on the proto map's iteration order.
absl::Status DecodeResources(const v1::ResourceList& list, absl::string_view path,
                             ResourceList* out) {
  out->clear();
  absl::InlinedVector<const google::protobuf::MapPair<std::string, std::string>*, 8> items;
  items.reserve(list.items_size());
  for (const auto& item : list.items()) items.push_back(&item);
  std::sort(items.begin(), items.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  for (const auto* item : items) {
    absl::StatusOr<Quantity> quantity = Quantity::Parse(item->second);
    if (!quantity.ok()) return FieldError(JoinPath(path, item->first), quantity.status().message());
    out->emplace_hint(out->end(), item->first, *std::move(quantity));
  }
  return absl::OkStatus();
}

Labels DecodeStringMap(const google::protobuf::Map<std::string, std::string>& map) {
  return Labels(map.begin(), map.end());
}

std::vector<std::string> DecodeStrings(const google::protobuf::RepeatedPtrField<std::string>& in) {
  return std::vector<std::string>(in.begin(), in.end());
}

// Decodes each element of `in` with `decode(element, path, out)` into a fresh vector.
template <typename T, typename P, typename Decode>
absl::Status DecodeArray(const google::protobuf::RepeatedPtrField<P>& in, absl::string_view path,
                         Decode decode, std::vector<T>* out) {
  out->clear();
  out->reserve(in.size());
  for (int i = 0; i < in.size(); ++i) {
    RETURN_IF_ERROR(decode(in[i], IndexPath(path, i), &out->emplace_back()));
  }
  return absl::OkStatus();
}

// ---- Selectors and affinity ----

absl::Status DecodeRequirement(const v1::SelectorRequirement& in, absl::string_view path,
                               std::span<const EnumName<SelectorOperator>> ops,
                               absl::string_view what, SelectorRequirement* out) {
  out->key = in.key();
  RETURN_IF_ERROR(DecodeRequiredEnum<SelectorOperator>(in.operator_(), ops, what,
                                                       JoinPath(path, "operator"), &out->op));
  out->values = DecodeStrings(in.values());
  return absl::OkStatus();
}

absl::Status DecodeNodeSelectorRequirement(const v1::SelectorRequirement& in,
                                           absl::string_view path, SelectorRequirement* out) {
  return DecodeRequirement(in, path, kNodeSelectorOperators, "node selector operator", out);
}

absl::Status DecodeLabelSelectorRequirement(const v1::SelectorRequirement& in,
                                            absl::string_view path, SelectorRequirement* out) {
  return DecodeRequirement(in, path, kLabelSelectorOperators, "label selector operator", out);
}

absl::Status DecodeLabelSelector(const v1::LabelSelector& in, absl::string_view path,
                                 LabelSelector* out) {
  out->match_labels = DecodeStringMap(in.match_labels());
  return DecodeArray(in.match_expressions(), JoinPath(path, "matchExpressions"),
                     DecodeLabelSelectorRequirement, &out->match_expressions);
}

absl::Status DecodeNodeSelectorTerm(const v1::NodeSelectorTerm& in, absl::string_view path,
                                    NodeSelectorTerm* out) {
  RETURN_IF_ERROR(DecodeArray(in.match_expressions(), JoinPath(path, "matchExpressions"),
                              DecodeNodeSelectorRequirement, &out->match_expressions));
  return DecodeArray(in.match_fields(), JoinPath(path, "matchFields"),
                     DecodeNodeSelectorRequirement, &out->match_fields);
}

absl::Status DecodeNodeSelector(const v1::NodeSelector& in, absl::string_view path,
                                NodeSelector* out) {
  return DecodeArray(in.node_selector_terms(), JoinPath(path, "nodeSelectorTerms"),
                     DecodeNodeSelectorTerm, &out->terms);
}

absl::Status DecodePreferredSchedulingTerm(const v1::PreferredSchedulingTerm& in,
                                           absl::string_view path, PreferredSchedulingTerm* out) {
  out->weight = in.weight();
  return DecodeNodeSelectorTerm(in.preference(), JoinPath(path, "preference"), &out->preference);
}

absl::Status DecodeNodeAffinity(const v1::NodeAffinity& in, absl::string_view path,
                                NodeAffinity* out) {
  if (in.has_required_during_scheduling_ignored_during_execution()) {
    RETURN_IF_ERROR(
        DecodeNodeSelector(in.required_during_scheduling_ignored_during_execution(),
                           JoinPath(path, "requiredDuringSchedulingIgnoredDuringExecution"),
                           &out->required.emplace()));
  }
  return DecodeArray(in.preferred_during_scheduling_ignored_during_execution(),
                     JoinPath(path, "preferredDuringSchedulingIgnoredDuringExecution"),
                     DecodePreferredSchedulingTerm, &out->preferred);
}

absl::Status DecodePodAffinityTerm(const v1::PodAffinityTerm& in, absl::string_view path,
                                   PodAffinityTerm* out) {
  if (in.has_label_selector()) {
    RETURN_IF_ERROR(DecodeLabelSelector(in.label_selector(), JoinPath(path, "labelSelector"),
                                        &out->label_selector.emplace()));
  }
  out->namespaces = DecodeStrings(in.namespaces());
  out->topology_key = in.topology_key();
  if (in.has_namespace_selector()) {
    RETURN_IF_ERROR(DecodeLabelSelector(in.namespace_selector(),
                                        JoinPath(path, "namespaceSelector"),
                                        &out->namespace_selector.emplace()));
  }
  out->match_label_keys = DecodeStrings(in.match_label_keys());
  out->mismatch_label_keys = DecodeStrings(in.mismatch_label_keys());
  return absl::OkStatus();
}

absl::Status DecodeWeightedPodAffinityTerm(const v1::WeightedPodAffinityTerm& in,
                                           absl::string_view path, WeightedPodAffinityTerm* out) {
  out->weight = in.weight();
  return DecodePodAffinityTerm(in.pod_affinity_term(), JoinPath(path, "podAffinityTerm"),
                               &out->term);
}

absl::Status DecodePodAffinity(const v1::PodAffinity& in, absl::string_view path,
                               PodAffinity* out) {
  RETURN_IF_ERROR(DecodeArray(in.required_during_scheduling_ignored_during_execution(),
                              JoinPath(path, "requiredDuringSchedulingIgnoredDuringExecution"),
                              DecodePodAffinityTerm, &out->required));
  return DecodeArray(in.preferred_during_scheduling_ignored_during_execution(),
                     JoinPath(path, "preferredDuringSchedulingIgnoredDuringExecution"),
                     DecodeWeightedPodAffinityTerm, &out->preferred);
}

absl::Status DecodeAffinity(const v1::Affinity& in, absl::string_view path, Affinity* out) {
  if (in.has_node_affinity()) {
    RETURN_IF_ERROR(DecodeNodeAffinity(in.node_affinity(), JoinPath(path, "nodeAffinity"),
                                       &out->node_affinity.emplace()));
  }
  if (in.has_pod_affinity()) {
    RETURN_IF_ERROR(DecodePodAffinity(in.pod_affinity(), JoinPath(path, "podAffinity"),
                                      &out->pod_affinity.emplace()));
  }
  if (in.has_pod_anti_affinity()) {
    RETURN_IF_ERROR(DecodePodAffinity(in.pod_anti_affinity(), JoinPath(path, "podAntiAffinity"),
                                      &out->pod_anti_affinity.emplace()));
  }
  return absl::OkStatus();
}

// ---- Taints, tolerations, topology spread ----

absl::Status DecodeTaint(const v1::Taint& in, absl::string_view path, Taint* out) {
  if (in.key().empty()) return Missing(JoinPath(path, "key"));
  out->key = in.key();
  out->value = in.value();
  return DecodeRequiredEnum<TaintEffect>(in.effect(), kTaintEffects, "taint effect",
                                         JoinPath(path, "effect"), &out->effect);
}

absl::Status DecodeToleration(const v1::Toleration& in, absl::string_view path, Toleration* out) {
  out->key = in.key();
  RETURN_IF_ERROR(DecodeEnum<TolerationOperator>(in.operator_(), kTolerationOperators,
                                                 "toleration operator", JoinPath(path, "operator"),
                                                 &out->op));
  out->value = in.value();
  RETURN_IF_ERROR(DecodeEnum<TaintEffect>(in.effect(), kTolerationEffects, "taint effect",
                                          JoinPath(path, "effect"), &out->effect));
  if (in.has_toleration_seconds()) out->toleration_seconds = in.toleration_seconds();
  return absl::OkStatus();
}

absl::Status DecodeTopologySpreadConstraint(const v1::TopologySpreadConstraint& in,
                                            absl::string_view path, TopologySpreadConstraint* out) {
  out->max_skew = in.max_skew();
  out->topology_key = in.topology_key();
  if (!in.when_unsatisfiable().empty()) {
    RETURN_IF_ERROR(DecodeEnum<UnsatisfiableConstraintAction>(
        in.when_unsatisfiable(), kUnsatisfiableActions, "whenUnsatisfiable action",
        JoinPath(path, "whenUnsatisfiable"), &out->when_unsatisfiable));
  }
  if (in.has_label_selector()) {
    RETURN_IF_ERROR(DecodeLabelSelector(in.label_selector(), JoinPath(path, "labelSelector"),
                                        &out->label_selector.emplace()));
  }
  if (in.has_min_domains()) out->min_domains = in.min_domains();
  RETURN_IF_ERROR(DecodeOptionalEnum<NodeInclusionPolicy>(
      in.node_affinity_policy(), kNodeInclusionPolicies, "node inclusion policy",
      JoinPath(path, "nodeAffinityPolicy"), &out->node_affinity_policy));
  RETURN_IF_ERROR(DecodeOptionalEnum<NodeInclusionPolicy>(
      in.node_taints_policy(), kNodeInclusionPolicies, "node inclusion policy",
      JoinPath(path, "nodeTaintsPolicy"), &out->node_taints_policy));
  out->match_label_keys = DecodeStrings(in.match_label_keys());
  return absl::OkStatus();
}

// ---- Pods ----

absl::Status DecodeContainer(const v1::Container& in, absl::string_view path, Container* out) {
  out->name = in.name();
  const std::string resources = JoinPath(path, "resources");
  RETURN_IF_ERROR(DecodeResources(in.requests(), JoinPath(resources, "requests"), &out->requests));
  RETURN_IF_ERROR(DecodeResources(in.limits(), JoinPath(resources, "limits"), &out->limits));
  if (in.has_restart_policy()) out->restart_policy = in.restart_policy();
  return absl::OkStatus();
}

absl::Status DecodeContainerStatus(const v1::ContainerStatus& in, absl::string_view path,
                                   ContainerStatus* out) {
  out->name = in.name();
  if (in.has_allocated_resources()) {
    RETURN_IF_ERROR(DecodeResources(in.allocated_resources(), JoinPath(path, "allocatedResources"),
                                    &out->allocated_resources.emplace()));
  }
  const std::string resources = JoinPath(path, "resources");
  if (in.has_resource_requests()) {
    RETURN_IF_ERROR(DecodeResources(in.resource_requests(), JoinPath(resources, "requests"),
                                    &out->resource_requests.emplace()));
  }
  if (in.has_resource_limits()) {
    RETURN_IF_ERROR(DecodeResources(in.resource_limits(), JoinPath(resources, "limits"),
                                    &out->resource_limits.emplace()));
  }
  return absl::OkStatus();
}

absl::Status DecodePodBody(const v1::Pod& in, Pod* pod) {
  pod->uid = in.uid();
  pod->labels = DecodeStringMap(in.labels());
  pod->creation_unix_nanos = in.creation_unix_nanos();
  if (in.has_deletion_unix_nanos()) pod->deletion_unix_nanos = in.deletion_unix_nanos();

  pod->node_name = in.node_name();
  pod->scheduler_name = in.scheduler_name().empty() ? "default-scheduler" : in.scheduler_name();
  if (in.has_priority()) pod->priority = in.priority();
  pod->priority_class_name = in.priority_class_name();
  RETURN_IF_ERROR(DecodeOptionalEnum<PreemptionPolicy>(in.preemption_policy(), kPreemptionPolicies,
                                                       "preemption policy", "spec.preemptionPolicy",
                                                       &pod->preemption_policy));
  RETURN_IF_ERROR(DecodeArray(in.init_containers(), "spec.initContainers", DecodeContainer,
                              &pod->init_containers));
  RETURN_IF_ERROR(
      DecodeArray(in.containers(), "spec.containers", DecodeContainer, &pod->containers));
  RETURN_IF_ERROR(DecodeResources(in.overhead(), "spec.overhead", &pod->overhead));
  if (in.has_resources()) {
    PodResources& resources = pod->resources.emplace();
    RETURN_IF_ERROR(
        DecodeResources(in.resources().requests(), "spec.resources.requests", &resources.requests));
    RETURN_IF_ERROR(
        DecodeResources(in.resources().limits(), "spec.resources.limits", &resources.limits));
  }
  pod->node_selector = DecodeStringMap(in.node_selector());
  if (in.has_affinity()) {
    RETURN_IF_ERROR(DecodeAffinity(in.affinity(), "spec.affinity", &pod->affinity.emplace()));
  }
  RETURN_IF_ERROR(
      DecodeArray(in.tolerations(), "spec.tolerations", DecodeToleration, &pod->tolerations));
  RETURN_IF_ERROR(DecodeArray(in.topology_spread_constraints(), "spec.topologySpreadConstraints",
                              DecodeTopologySpreadConstraint, &pod->topology_spread_constraints));

  pod->phase = in.phase();
  if (in.has_start_unix_nanos()) pod->start_unix_nanos = in.start_unix_nanos();
  if (!in.nominated_node_name().empty()) pod->nominated_node_name = in.nominated_node_name();
  RETURN_IF_ERROR(DecodeArray(in.init_container_statuses(), "status.initContainerStatuses",
                              DecodeContainerStatus, &pod->init_container_statuses));
  RETURN_IF_ERROR(DecodeArray(in.container_statuses(), "status.containerStatuses",
                              DecodeContainerStatus, &pod->container_statuses));
  pod->resize_status = in.resize_status();
  pod->terminating_by_preemption = in.terminating_by_preemption();
  for (int i = 0; i < in.resource_claims_size(); ++i) {
    const v1::PodResourceClaim& c = in.resource_claims(i);
    PodResourceClaim& claim = pod->resource_claims.emplace_back();
    claim.name = c.name();
    if (c.has_resource_claim_name()) claim.resource_claim_name = c.resource_claim_name();
    if (c.has_resource_claim_template_name()) {
      claim.resource_claim_template_name = c.resource_claim_template_name();
    }
  }
  for (int i = 0; i < in.resource_claim_statuses_size(); ++i) {
    const v1::PodResourceClaimStatus& c = in.resource_claim_statuses(i);
    PodResourceClaimStatus& status = pod->resource_claim_statuses.emplace_back();
    status.name = c.name();
    if (c.has_resource_claim_name()) status.resource_claim_name = c.resource_claim_name();
  }
  return absl::OkStatus();
}

// "Kind" when nothing says where the object is, "Kind at objects[3]" otherwise.
std::string Unnamed(absl::string_view kind, absl::string_view location) {
  return location.empty() ? std::string(kind) : absl::StrCat(kind, " at ", location);
}

// Name and namespace first: every later error names the object.
absl::StatusOr<Pod> DecodePod(const v1::Pod& in, absl::string_view location) {
  if (in.name().empty()) return Annotate(Unnamed("Pod", location), Missing("metadata.name"));
  if (in.namespace_().empty()) {
    return Annotate(absl::StrCat("Pod ", Quote(in.name())), Missing("metadata.namespace"));
  }
  Pod pod;
  pod.name_space = in.namespace_();
  pod.name = in.name();
  RETURN_IF_ERROR(Annotate(absl::StrCat("Pod ", Quote(pod.Key())), DecodePodBody(in, &pod)));
  return pod;
}

absl::StatusOr<Node> DecodeNode(const v1::Node& in, absl::string_view location) {
  if (in.name().empty()) return Annotate(Unnamed("Node", location), Missing("metadata.name"));
  Node node;
  node.name = in.name();
  node.labels = DecodeStringMap(in.labels());
  node.creation_unix_nanos = in.creation_unix_nanos();
  node.unschedulable = in.unschedulable();
  absl::Status status = DecodeArray(in.taints(), "spec.taints", DecodeTaint, &node.taints);
  if (status.ok()) status = DecodeResources(in.capacity(), "status.capacity", &node.capacity);
  if (status.ok()) {
    status = DecodeResources(in.allocatable(), "status.allocatable", &node.allocatable);
  }
  RETURN_IF_ERROR(Annotate(absl::StrCat("Node ", Quote(node.name)), status));
  return node;
}

absl::StatusOr<PriorityClass> DecodePriorityClass(const v1::PriorityClass& in,
                                                  absl::string_view location) {
  if (in.name().empty()) {
    return Annotate(Unnamed("PriorityClass", location), Missing("metadata.name"));
  }
  PriorityClass out;
  out.name = in.name();
  out.value = in.value();
  out.global_default = in.global_default();
  if (!in.preemption_policy().empty()) {
    RETURN_IF_ERROR(Annotate(absl::StrCat("PriorityClass ", Quote(out.name)),
                             DecodeEnum<PreemptionPolicy>(
                                 in.preemption_policy(), kPreemptionPolicies, "preemption policy",
                                 "preemptionPolicy", &out.preemption_policy)));
  }
  return out;
}

absl::StatusOr<Namespace> DecodeNamespace(const v1::Namespace& in, absl::string_view location) {
  if (in.name().empty()) return Annotate(Unnamed("Namespace", location), Missing("metadata.name"));
  Namespace out;
  out.name = in.name();
  out.labels.insert(in.labels().begin(), in.labels().end());
  return out;
}

absl::Status DecodeIntOrPercent(const v1::IntOrPercent& in, absl::string_view path,
                                IntOrPercent* out) {
  if (in.value() < 0) return FieldError(path, "must be non-negative");
  out->value = in.value();
  out->is_percent = in.is_percent();
  return absl::OkStatus();
}

absl::StatusOr<PodDisruptionBudget> DecodePodDisruptionBudget(const v1::PodDisruptionBudget& in,
                                                              absl::string_view location) {
  if (in.name().empty()) {
    return Annotate(Unnamed("PodDisruptionBudget", location), Missing("metadata.name"));
  }
  if (in.namespace_().empty()) {
    return Annotate(absl::StrCat("PodDisruptionBudget ", Quote(in.name())),
                    Missing("metadata.namespace"));
  }
  PodDisruptionBudget out;
  out.name_space = in.namespace_();
  out.name = in.name();
  out.disruptions_allowed = in.disruptions_allowed();
  absl::Status status;
  if (in.has_selector()) {
    status = DecodeLabelSelector(in.selector(), "spec.selector", &out.selector.emplace());
  }
  if (status.ok() && in.has_min_available()) {
    status =
        DecodeIntOrPercent(in.min_available(), "spec.minAvailable", &out.min_available.emplace());
  }
  if (status.ok() && in.has_max_unavailable()) {
    status = DecodeIntOrPercent(in.max_unavailable(), "spec.maxUnavailable",
                                &out.max_unavailable.emplace());
  }
  RETURN_IF_ERROR(Annotate(
      absl::StrCat("PodDisruptionBudget ", Quote(out.name_space + "/" + out.name)), status));
  return out;
}

absl::StatusOr<DeleteObject> DecodeDelete(const v1::ObjectRef& in, absl::string_view location) {
  const std::string who = Unnamed("delete", location);
  DeleteObject out;
  bool namespaced = false;
  switch (in.kind()) {
    case v1::ObjectRef::NODE:
      out.kind = DeleteObject::Kind::kNode;
      break;
    case v1::ObjectRef::POD:
      out.kind = DeleteObject::Kind::kPod;
      namespaced = true;
      break;
    case v1::ObjectRef::PRIORITY_CLASS:
      out.kind = DeleteObject::Kind::kPriorityClass;
      break;
    case v1::ObjectRef::POD_DISRUPTION_BUDGET:
      out.kind = DeleteObject::Kind::kPodDisruptionBudget;
      namespaced = true;
      break;
    case v1::ObjectRef::NAMESPACE:
      out.kind = DeleteObject::Kind::kNamespace;
      break;
    case v1::ObjectRef::DEVICE_CLASS:
      out.kind = DeleteObject::Kind::kDeviceClass;
      break;
    case v1::ObjectRef::RESOURCE_SLICE:
      out.kind = DeleteObject::Kind::kResourceSlice;
      break;
    case v1::ObjectRef::RESOURCE_CLAIM:
      out.kind = DeleteObject::Kind::kResourceClaim;
      namespaced = true;
      break;
    case v1::ObjectRef::KIND_UNSPECIFIED:
      return Annotate(who, Missing("kind"));
    default:  // a kind from a newer client
      return Annotate(who, FieldError("kind", absl::StrCat("unknown object kind ",
                                                           static_cast<int>(in.kind()))));
  }
  if (in.name().empty()) return Annotate(who, Missing("name"));
  if (namespaced && in.namespace_().empty()) return Annotate(who, Missing("namespace"));
  out.key = namespaced ? absl::StrCat(in.namespace_(), "/", in.name()) : in.name();
  return out;
}

template <typename T>
absl::StatusOr<ClusterChange> AsChange(absl::StatusOr<T> value) {
  if (!value.ok()) return value.status();
  return ClusterChange(*std::move(value));
}

absl::StatusOr<ClusterChange> DecodeChange(const v1::Change& in, absl::string_view location) {
  switch (in.change_case()) {
    case v1::Change::kUpsertNode:
      return AsChange(DecodeNode(in.upsert_node(), location));
    case v1::Change::kUpsertPod:
      return AsChange(DecodePod(in.upsert_pod(), location));
    case v1::Change::kUpsertPriorityClass:
      return AsChange(DecodePriorityClass(in.upsert_priority_class(), location));
    case v1::Change::kUpsertPodDisruptionBudget:
      return AsChange(DecodePodDisruptionBudget(in.upsert_pod_disruption_budget(), location));
    case v1::Change::kUpsertNamespace:
      return AsChange(DecodeNamespace(in.upsert_namespace(), location));
    case v1::Change::kDelete:
      return AsChange(DecodeDelete(in.delete_(), location));
    case v1::Change::kUpsertDeviceClass:
      return AsChange(DecodeDeviceClass(in.upsert_device_class(), location));
    case v1::Change::kUpsertResourceSlice:
      return AsChange(DecodeResourceSlice(in.upsert_resource_slice(), location));
    case v1::Change::kUpsertResourceClaim:
      return AsChange(DecodeResourceClaim(in.upsert_resource_claim(), location));
    case v1::Change::CHANGE_NOT_SET:
      break;
  }
  return FieldError(location.empty() ? "change" : location,
                    "no object set (upsert_node, upsert_pod, upsert_priority_class, "
                    "upsert_pod_disruption_budget, upsert_namespace, upsert_device_class, "
                    "upsert_resource_slice, upsert_resource_claim or delete)");
}

// ---- Encoding helpers ----

void EncodeResources(const ResourceList& in, v1::ResourceList* out) {
  auto& items = *out->mutable_items();
  for (const auto& [name, quantity] : in) items[name] = quantity.ToString();
}

void EncodeStringMap(const Labels& in, google::protobuf::Map<std::string, std::string>* out) {
  for (const auto& [key, value] : in) (*out)[key] = value;
}

void EncodeStrings(const std::vector<std::string>& in,
                   google::protobuf::RepeatedPtrField<std::string>* out) {
  for (const std::string& s : in) out->Add(std::string(s));
}

void EncodeRequirement(const SelectorRequirement& in, v1::SelectorRequirement* out) {
  out->set_key(in.key);
  out->set_operator_(EnumText<SelectorOperator>(kNodeSelectorOperators, in.op));
  EncodeStrings(in.values, out->mutable_values());
}

void EncodeLabelSelector(const LabelSelector& in, v1::LabelSelector* out) {
  EncodeStringMap(in.match_labels, out->mutable_match_labels());
  for (const auto& r : in.match_expressions) EncodeRequirement(r, out->add_match_expressions());
}

void EncodeNodeSelectorTerm(const NodeSelectorTerm& in, v1::NodeSelectorTerm* out) {
  for (const auto& r : in.match_expressions) EncodeRequirement(r, out->add_match_expressions());
  for (const auto& r : in.match_fields) EncodeRequirement(r, out->add_match_fields());
}

void EncodePodAffinityTerm(const PodAffinityTerm& in, v1::PodAffinityTerm* out) {
  if (in.label_selector) EncodeLabelSelector(*in.label_selector, out->mutable_label_selector());
  EncodeStrings(in.namespaces, out->mutable_namespaces());
  out->set_topology_key(in.topology_key);
  if (in.namespace_selector) {
    EncodeLabelSelector(*in.namespace_selector, out->mutable_namespace_selector());
  }
  EncodeStrings(in.match_label_keys, out->mutable_match_label_keys());
  EncodeStrings(in.mismatch_label_keys, out->mutable_mismatch_label_keys());
}

void EncodePodAffinity(const PodAffinity& in, v1::PodAffinity* out) {
  for (const auto& term : in.required) {
    EncodePodAffinityTerm(term, out->add_required_during_scheduling_ignored_during_execution());
  }
  for (const auto& weighted : in.preferred) {
    auto* w = out->add_preferred_during_scheduling_ignored_during_execution();
    w->set_weight(weighted.weight);
    EncodePodAffinityTerm(weighted.term, w->mutable_pod_affinity_term());
  }
}

void EncodeAffinity(const Affinity& in, v1::Affinity* out) {
  if (in.node_affinity) {
    v1::NodeAffinity* na = out->mutable_node_affinity();
    if (in.node_affinity->required) {
      auto* selector = na->mutable_required_during_scheduling_ignored_during_execution();
      for (const auto& term : in.node_affinity->required->terms) {
        EncodeNodeSelectorTerm(term, selector->add_node_selector_terms());
      }
    }
    for (const auto& p : in.node_affinity->preferred) {
      auto* term = na->add_preferred_during_scheduling_ignored_during_execution();
      term->set_weight(p.weight);
      EncodeNodeSelectorTerm(p.preference, term->mutable_preference());
    }
  }
  if (in.pod_affinity) EncodePodAffinity(*in.pod_affinity, out->mutable_pod_affinity());
  if (in.pod_anti_affinity) {
    EncodePodAffinity(*in.pod_anti_affinity, out->mutable_pod_anti_affinity());
  }
}

void EncodeContainer(const Container& in, v1::Container* out) {
  out->set_name(in.name);
  EncodeResources(in.requests, out->mutable_requests());
  EncodeResources(in.limits, out->mutable_limits());
  if (in.restart_policy) out->set_restart_policy(*in.restart_policy);
}

void EncodeContainerStatus(const ContainerStatus& in, v1::ContainerStatus* out) {
  out->set_name(in.name);
  if (in.allocated_resources) {
    EncodeResources(*in.allocated_resources, out->mutable_allocated_resources());
  }
  if (in.resource_requests)
    EncodeResources(*in.resource_requests, out->mutable_resource_requests());
  if (in.resource_limits) EncodeResources(*in.resource_limits, out->mutable_resource_limits());
}

}  // namespace

// ---- Decoding ----

absl::Status DecodeNodeSelectorAt(const v1::NodeSelector& in, absl::string_view path,
                                  NodeSelector* out) {
  return DecodeNodeSelector(in, path, out);
}

void EncodeNodeSelector(const NodeSelector& in, v1::NodeSelector* out) {
  for (const NodeSelectorTerm& term : in.terms) {
    EncodeNodeSelectorTerm(term, out->add_node_selector_terms());
  }
}

absl::StatusOr<Node> FromProto(const v1::Node& node) { return DecodeNode(node, ""); }
absl::StatusOr<Pod> FromProto(const v1::Pod& pod) { return DecodePod(pod, ""); }

template <typename Request>
absl::StatusOr<Pod> PodWithDefaultSelector(const Request& request) {
  ASSIGN_OR_RETURN(Pod pod, DecodePod(request.pod(), ""));
  if (request.has_default_spread_selector()) {
    RETURN_IF_ERROR(Annotate(absl::StrCat("Pod ", Quote(pod.Key())),
                             DecodeLabelSelector(request.default_spread_selector(),
                                                 "defaultSpreadSelector",
                                                 &pod.default_spread_selector.emplace())));
  }
  return pod;
}

absl::StatusOr<Pod> FromProto(const v1::EvaluateRequest& request) {
  return PodWithDefaultSelector(request);
}

absl::StatusOr<Pod> FromProto(const v1::PreemptRequest& request) {
  return PodWithDefaultSelector(request);
}

void ToProto(const PreemptionResult& in, v1::PreemptResponse* out) {
  out->set_nominated_node(in.nominated_node);
  out->set_message(in.message);
  out->set_pdb_violations(in.pdb_violations);
  out->set_candidates(in.candidates);
  auto encode = [](const PreemptionVictim& v, v1::Victim* victim) {
    victim->set_namespace_(v.name_space);
    victim->set_name(v.name);
    victim->set_uid(v.uid);
    victim->set_priority(v.priority);
    victim->set_qos_class(QosClassName(v.qos));
  };
  for (const PreemptionVictim& v : in.victims) encode(v, out->add_victims());
  for (const std::string& node : in.final_ties) out->add_final_ties(node);
  for (const PreemptionCandidate& c : in.all_candidates) {
    v1::PreemptionCandidate* candidate = out->add_all_candidates();
    candidate->set_node(c.node);
    candidate->set_pdb_violations(c.pdb_violations);
    for (const PreemptionVictim& v : c.victims) encode(v, candidate->add_victims());
  }
}
absl::StatusOr<PriorityClass> FromProto(const v1::PriorityClass& priority_class) {
  return DecodePriorityClass(priority_class, "");
}
absl::StatusOr<PodDisruptionBudget> FromProto(const v1::PodDisruptionBudget& pdb) {
  return DecodePodDisruptionBudget(pdb, "");
}
absl::StatusOr<DeleteObject> FromProto(const v1::ObjectRef& ref) { return DecodeDelete(ref, ""); }
absl::StatusOr<ClusterChange> FromProto(const v1::Change& change) {
  return DecodeChange(change, "");
}

absl::StatusOr<ScoringStrategy> FromProto(const v1::ScoringStrategy& in) {
  ScoringStrategy out;
  if (!in.type().empty()) {
    RETURN_IF_ERROR(DecodeEnum<ScoringStrategyType>(in.type(), kScoringStrategyTypes,
                                                    "scoring strategy type", "scoringStrategy.type",
                                                    &out.type));
  }
  if (!in.resources().empty()) {
    out.resources.clear();
    for (const v1::ResourceSpec& spec : in.resources()) {
      out.resources.push_back(ResourceSpec{spec.name(), spec.weight()});
    }
  }
  for (const v1::UtilizationShapePoint& point : in.shape()) {
    out.shape.push_back(UtilizationShapePoint{point.utilization(), point.score()});
  }
  return out;
}

absl::StatusOr<std::vector<ClusterChange>> FromProto(
    const google::protobuf::RepeatedPtrField<v1::Change>& changes, absl::string_view field,
    bool upserts_only) {
  std::vector<ClusterChange> out;
  out.reserve(changes.size());
  for (int i = 0; i < changes.size(); ++i) {
    const std::string location = IndexPath(field, i);
    if (upserts_only && changes[i].has_delete_()) {
      return FieldError(location, "a full snapshot holds upserts only, not deletes");
    }
    ASSIGN_OR_RETURN(out.emplace_back(), DecodeChange(changes[i], location));
  }
  return out;
}

// ---- Encoding ----

void ToProto(const Evaluation& evaluation, const ClusterState& state, v1::EvaluateResponse* out,
             bool chosen_only) {
  out->Clear();
  out->set_qos_class(QosClassName(evaluation.qos));
  for (PluginId plugin : kScorePlugins) out->add_score_plugins(PluginName(plugin));
  out->set_feasible_nodes(evaluation.feasible_count);
  if (!evaluation.prefilter_message.empty()) {
    out->set_prefilter_plugin(PluginName(evaluation.prefilter_plugin));
    out->set_prefilter_message(evaluation.prefilter_message);
  }
  if (evaluation.chosen) {
    out->set_chosen_node(state.node(evaluation.verdicts[*evaluation.chosen].node).node->name);
  }
  if (evaluation.feasible_count == 0) out->set_fit_error(evaluation.FitErrorMessage());
  for (const std::string& claim : evaluation.unavailable_claims) out->add_unavailable_claims(claim);

  // Reasons depend only on (prefilter exclusion, failing plugin, fit mask): texts are built once
  // per distinct triple, not once per node.
  absl::flat_hash_map<std::string, uint32_t> reason_ids;
  absl::flat_hash_map<std::pair<uint64_t, uint32_t>, absl::InlinedVector<uint32_t, 2>> by_verdict;
  auto* nodes = out->mutable_nodes();
  std::span<const NodeVerdict> verdicts = evaluation.verdicts;
  if (chosen_only && evaluation.chosen) verdicts = verdicts.subspan(*evaluation.chosen, 1);
  nodes->Reserve(static_cast<int>(verdicts.size()));
  for (const NodeVerdict& v : verdicts) {
    v1::NodeResult* result = nodes->Add();
    result->set_node(state.node(v.node).node->name);
    switch (v.code) {
      case FilterCode::kSuccess:
        result->set_code(v1::SUCCESS);
        break;
      case FilterCode::kUnschedulable:
        result->set_code(v1::UNSCHEDULABLE);
        break;
      case FilterCode::kUnschedulableAndUnresolvable:
        result->set_code(v1::UNSCHEDULABLE_AND_UNRESOLVABLE);
        break;
    }
    if (v.code == FilterCode::kSuccess) {
      result->set_score(v.score);
      auto* scores = result->mutable_plugin_scores();
      scores->Reserve(kNumScorePlugins);
      for (int32_t score : v.plugin_scores) scores->AddAlreadyReserved(score);
      continue;
    }
    if (v.plugin != PluginId::kNone) result->set_plugin(PluginName(v.plugin));
    // Everything Reasons() reads: the fit mask, the plugin, its sub-reason, the PreFilter flag.
    const std::pair<uint64_t, uint32_t> key{
        v.fit_mask, (static_cast<uint32_t>(v.reason) << 16) |
                        (static_cast<uint32_t>(v.plugin) << 1) | (v.excluded_by_prefilter ? 1 : 0)};
    auto [it, inserted] = by_verdict.try_emplace(key);
    if (inserted) {
      for (std::string& reason : evaluation.Reasons(v)) {
        auto [id, added] = reason_ids.try_emplace(std::move(reason), out->reasons_size());
        if (added) out->add_reasons(id->first);
        it->second.push_back(id->second);
      }
    }
    auto* ids = result->mutable_reason_ids();
    ids->Reserve(static_cast<int>(it->second.size()));
    for (uint32_t id : it->second) ids->AddAlreadyReserved(id);
  }
}

void ToProto(const Node& in, v1::Node* out) {
  out->Clear();
  out->set_name(in.name);
  EncodeStringMap(in.labels, out->mutable_labels());
  for (const Taint& taint : in.taints) {
    v1::Taint* t = out->add_taints();
    t->set_key(taint.key);
    t->set_value(taint.value);
    t->set_effect(EnumText<TaintEffect>(kTaintEffects, taint.effect));
  }
  out->set_unschedulable(in.unschedulable);
  EncodeResources(in.capacity, out->mutable_capacity());
  EncodeResources(in.allocatable, out->mutable_allocatable());
  out->set_creation_unix_nanos(in.creation_unix_nanos);
}

void ToProto(const Pod& in, v1::Pod* out) {
  out->Clear();
  out->set_namespace_(in.name_space);
  out->set_name(in.name);
  out->set_uid(in.uid);
  EncodeStringMap(in.labels, out->mutable_labels());
  out->set_creation_unix_nanos(in.creation_unix_nanos);
  if (in.deletion_unix_nanos) out->set_deletion_unix_nanos(*in.deletion_unix_nanos);

  out->set_node_name(in.node_name);
  out->set_scheduler_name(in.scheduler_name);
  if (in.priority) out->set_priority(*in.priority);
  out->set_priority_class_name(in.priority_class_name);
  if (in.preemption_policy) {
    out->set_preemption_policy(
        EnumText<PreemptionPolicy>(kPreemptionPolicies, *in.preemption_policy));
  }
  for (const Container& c : in.init_containers) EncodeContainer(c, out->add_init_containers());
  for (const Container& c : in.containers) EncodeContainer(c, out->add_containers());
  EncodeResources(in.overhead, out->mutable_overhead());
  if (in.resources) {
    EncodeResources(in.resources->requests, out->mutable_resources()->mutable_requests());
    EncodeResources(in.resources->limits, out->mutable_resources()->mutable_limits());
  }
  EncodeStringMap(in.node_selector, out->mutable_node_selector());
  if (in.affinity) EncodeAffinity(*in.affinity, out->mutable_affinity());
  for (const Toleration& tol : in.tolerations) {
    v1::Toleration* t = out->add_tolerations();
    t->set_key(tol.key);
    t->set_operator_(EnumText<TolerationOperator>(kTolerationOperators, tol.op));
    t->set_value(tol.value);
    t->set_effect(EnumText<TaintEffect>(kTolerationEffects, tol.effect));
    if (tol.toleration_seconds) t->set_toleration_seconds(*tol.toleration_seconds);
  }
  for (const TopologySpreadConstraint& c : in.topology_spread_constraints) {
    v1::TopologySpreadConstraint* t = out->add_topology_spread_constraints();
    t->set_max_skew(c.max_skew);
    t->set_topology_key(c.topology_key);
    t->set_when_unsatisfiable(
        EnumText<UnsatisfiableConstraintAction>(kUnsatisfiableActions, c.when_unsatisfiable));
    if (c.label_selector) EncodeLabelSelector(*c.label_selector, t->mutable_label_selector());
    if (c.min_domains) t->set_min_domains(*c.min_domains);
    if (c.node_affinity_policy) {
      t->set_node_affinity_policy(
          EnumText<NodeInclusionPolicy>(kNodeInclusionPolicies, *c.node_affinity_policy));
    }
    if (c.node_taints_policy) {
      t->set_node_taints_policy(
          EnumText<NodeInclusionPolicy>(kNodeInclusionPolicies, *c.node_taints_policy));
    }
    EncodeStrings(c.match_label_keys, t->mutable_match_label_keys());
  }

  out->set_phase(in.phase);
  if (in.start_unix_nanos) out->set_start_unix_nanos(*in.start_unix_nanos);
  if (in.nominated_node_name) out->set_nominated_node_name(*in.nominated_node_name);
  for (const ContainerStatus& s : in.container_statuses) {
    EncodeContainerStatus(s, out->add_container_statuses());
  }
  for (const ContainerStatus& s : in.init_container_statuses) {
    EncodeContainerStatus(s, out->add_init_container_statuses());
  }
  out->set_resize_status(in.resize_status);
  out->set_terminating_by_preemption(in.terminating_by_preemption);
  for (const PodResourceClaim& claim : in.resource_claims) {
    v1::PodResourceClaim* c = out->add_resource_claims();
    c->set_name(claim.name);
    if (claim.resource_claim_name) c->set_resource_claim_name(*claim.resource_claim_name);
    if (claim.resource_claim_template_name) {
      c->set_resource_claim_template_name(*claim.resource_claim_template_name);
    }
  }
  for (const PodResourceClaimStatus& status : in.resource_claim_statuses) {
    v1::PodResourceClaimStatus* c = out->add_resource_claim_statuses();
    c->set_name(status.name);
    if (status.resource_claim_name) c->set_resource_claim_name(*status.resource_claim_name);
  }
}

void ToProto(const PriorityClass& in, v1::PriorityClass* out) {
  out->Clear();
  out->set_name(in.name);
  out->set_value(in.value);
  out->set_global_default(in.global_default);
  out->set_preemption_policy(EnumText<PreemptionPolicy>(kPreemptionPolicies, in.preemption_policy));
}

void ToProto(const PodDisruptionBudget& in, v1::PodDisruptionBudget* out) {
  out->Clear();
  out->set_namespace_(in.name_space);
  out->set_name(in.name);
  if (in.selector) EncodeLabelSelector(*in.selector, out->mutable_selector());
  if (in.min_available) {
    out->mutable_min_available()->set_value(in.min_available->value);
    out->mutable_min_available()->set_is_percent(in.min_available->is_percent);
  }
  if (in.max_unavailable) {
    out->mutable_max_unavailable()->set_value(in.max_unavailable->value);
    out->mutable_max_unavailable()->set_is_percent(in.max_unavailable->is_percent);
  }
  out->set_disruptions_allowed(in.disruptions_allowed);
}

void ToProto(const DeleteObject& in, v1::ObjectRef* out) {
  out->Clear();
  bool namespaced = false;
  switch (in.kind) {
    case DeleteObject::Kind::kNode:
      out->set_kind(v1::ObjectRef::NODE);
      break;
    case DeleteObject::Kind::kPod:
      out->set_kind(v1::ObjectRef::POD);
      namespaced = true;
      break;
    case DeleteObject::Kind::kPriorityClass:
      out->set_kind(v1::ObjectRef::PRIORITY_CLASS);
      break;
    case DeleteObject::Kind::kPodDisruptionBudget:
      out->set_kind(v1::ObjectRef::POD_DISRUPTION_BUDGET);
      namespaced = true;
      break;
    case DeleteObject::Kind::kNamespace:
      out->set_kind(v1::ObjectRef::NAMESPACE);
      break;
    case DeleteObject::Kind::kDeviceClass:
      out->set_kind(v1::ObjectRef::DEVICE_CLASS);
      break;
    case DeleteObject::Kind::kResourceSlice:
      out->set_kind(v1::ObjectRef::RESOURCE_SLICE);
      break;
    case DeleteObject::Kind::kResourceClaim:
      out->set_kind(v1::ObjectRef::RESOURCE_CLAIM);
      namespaced = true;
      break;
  }
  const size_t slash = in.key.find('/');
  if (namespaced && slash != std::string::npos) {
    out->set_namespace_(in.key.substr(0, slash));
    out->set_name(in.key.substr(slash + 1));
  } else {
    out->set_name(in.key);
  }
}

void ToProto(const ClusterChange& change, v1::Change* out) {
  out->Clear();
  struct Visitor {
    v1::Change* out;
    void operator()(const Node& node) { ToProto(node, out->mutable_upsert_node()); }
    void operator()(const Pod& pod) { ToProto(pod, out->mutable_upsert_pod()); }
    void operator()(const PriorityClass& pc) { ToProto(pc, out->mutable_upsert_priority_class()); }
    void operator()(const PodDisruptionBudget& pdb) {
      ToProto(pdb, out->mutable_upsert_pod_disruption_budget());
    }
    void operator()(const Namespace& ns) {
      auto* encoded = out->mutable_upsert_namespace();
      encoded->set_name(ns.name);
      encoded->mutable_labels()->insert(ns.labels.begin(), ns.labels.end());
    }
    void operator()(const DeviceClass& dc) { ToProto(dc, out->mutable_upsert_device_class()); }
    void operator()(const ResourceSlice& slice) {
      ToProto(slice, out->mutable_upsert_resource_slice());
    }
    void operator()(const ResourceClaim& claim) {
      ToProto(claim, out->mutable_upsert_resource_claim());
    }
    void operator()(const DeleteObject& del) { ToProto(del, out->mutable_delete_()); }
  };
  std::visit(Visitor{out}, change);
}

void ToProto(const ScoringStrategy& in, v1::ScoringStrategy* out) {
  out->Clear();
  out->set_type(EnumText<ScoringStrategyType>(kScoringStrategyTypes, in.type));
  for (const ResourceSpec& spec : in.resources) {
    v1::ResourceSpec* r = out->add_resources();
    r->set_name(spec.name);
    r->set_weight(spec.weight);
  }
  for (const UtilizationShapePoint& point : in.shape) {
    v1::UtilizationShapePoint* p = out->add_shape();
    p->set_utilization(point.utilization);
    p->set_score(point.score);
  }
}

}  // namespace sextant::server
