// Reads a recorded snapshot (the Kubernetes List that `kubectl get ... -o json` prints) into model
// values. JSON is parsed without exceptions; every field is read through ObjectReader, which
// carries the JSON path so that each error names the field it is about.

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/field_path.h"
#include "common/status_macros.h"
#include "model/api_names.h"
#include "nlohmann/json.hpp"
#include "sextant/cel.h"
#include "sextant/dra.h"
#include "sextant/model.h"
#include "sextant/quantity.h"
#include "sextant/snapshot.h"

namespace sextant {
namespace {

using Json = nlohmann::json;

// ---- Errors and paths ----

absl::Status TypeError(absl::string_view path, absl::string_view expected, const Json& value) {
  return FieldError(path, absl::StrCat("expected ", expected, ", got ", value.type_name()));
}

// ---- Conversions of one JSON value found at `path` ----

absl::StatusOr<std::string> AsString(const Json& value, const std::string& path) {
  if (!value.is_string()) return TypeError(path, "a string", value);
  return value.get_ref<const std::string&>();
}

absl::StatusOr<bool> AsBool(const Json& value, const std::string& path) {
  if (!value.is_boolean()) return TypeError(path, "a boolean", value);
  return value.get<bool>();
}

// Whole numbers only: the API server's decoder rejects 1.0 for an integer field, and so do we.
template <typename Int>
absl::StatusOr<Int> AsInt(const Json& value, const std::string& path) {
  static_assert(std::is_signed_v<Int> && sizeof(Int) <= sizeof(int64_t));
  constexpr absl::string_view kTypeName = sizeof(Int) == 4 ? "int32" : "int64";
  constexpr int64_t kMin = std::numeric_limits<Int>::min();
  constexpr int64_t kMax = std::numeric_limits<Int>::max();
  int64_t number = 0;
  if (value.is_number_unsigned()) {  // nlohmann stores every non-negative integer as unsigned
    const uint64_t unsigned_number = value.get<uint64_t>();
    if (unsigned_number > static_cast<uint64_t>(kMax)) {
      return FieldError(path,
                        absl::StrCat("integer ", unsigned_number, " out of range for ", kTypeName));
    }
    number = static_cast<int64_t>(unsigned_number);
  } else if (value.is_number_integer()) {
    number = value.get<int64_t>();
  } else if (value.is_number_float()) {
    return FieldError(path, absl::StrCat("expected an integer, got ", value.dump()));
  } else {
    return TypeError(path, "an integer", value);
  }
  if (number < kMin || number > kMax) {
    return FieldError(path, absl::StrCat("integer ", number, " out of range for ", kTypeName));
  }
  return static_cast<Int>(number);
}

// RFC 3339 ("2024-05-01T10:00:00Z", fractional seconds and offsets allowed) to unix nanoseconds.
absl::StatusOr<int64_t> AsUnixNanos(const Json& value, const std::string& path) {
  if (!value.is_string()) return TypeError(path, "an RFC 3339 timestamp string", value);
  const std::string& text = value.get_ref<const std::string&>();
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
    return FieldError(path, absl::StrCat("invalid RFC 3339 timestamp ", Quote(text), ": ", error));
  }
  if (time < absl::FromUnixNanos(std::numeric_limits<int64_t>::min()) ||
      time > absl::FromUnixNanos(std::numeric_limits<int64_t>::max())) {
    return FieldError(path, absl::StrCat("timestamp ", Quote(text), " out of range"));
  }
  return absl::ToUnixNanos(time);
}

// Upstream's Quantity.UnmarshalJSON accepts a bare number as well as a string, and trims spaces.
absl::StatusOr<Quantity> AsQuantity(const Json& value, const std::string& path) {
  std::string text;
  if (value.is_string()) {
    text = std::string(absl::StripAsciiWhitespace(value.get_ref<const std::string&>()));
  } else if (value.is_number()) {
    text = value.dump();
  } else {
    return TypeError(path, "a quantity string", value);
  }
  absl::StatusOr<Quantity> quantity = Quantity::Parse(text);
  if (!quantity.ok()) return FieldError(path, quantity.status().message());
  return quantity;
}

absl::StatusOr<ResourceList> AsResourceList(const Json& value, const std::string& path) {
  if (!value.is_object()) return TypeError(path, "an object", value);
  ResourceList list;
  for (const auto& [name, quantity] : value.items()) {
    ASSIGN_OR_RETURN(list[name], AsQuantity(quantity, JoinPath(path, name)));
  }
  return list;
}

absl::StatusOr<Labels> AsStringMap(const Json& value, const std::string& path) {
  if (!value.is_object()) return TypeError(path, "an object", value);
  Labels map;
  for (const auto& [key, entry] : value.items()) {
    ASSIGN_OR_RETURN(map[key], AsString(entry, JoinPath(path, key)));
  }
  return map;
}

absl::StatusOr<std::vector<std::string>> AsStrings(const Json& value, const std::string& path) {
  if (!value.is_array()) return TypeError(path, "an array", value);
  std::vector<std::string> strings;
  strings.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    ASSIGN_OR_RETURN(strings.emplace_back(), AsString(value[i], IndexPath(path, i)));
  }
  return strings;
}

// intstr.IntOrString as PodDisruptionBudget uses it: a non-negative int, or "N%".
absl::StatusOr<IntOrPercent> AsIntOrPercent(const Json& value, const std::string& path) {
  IntOrPercent result;
  if (value.is_string()) {
    absl::string_view text = value.get_ref<const std::string&>();
    bool digits = text.size() >= 2 && text.back() == '%';
    for (char c : text.substr(0, text.empty() ? 0 : text.size() - 1)) {
      digits = digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
    }
    if (!digits || !absl::SimpleAtoi(text.substr(0, text.size() - 1), &result.value)) {
      return FieldError(path, absl::StrCat("invalid int or percentage ", Quote(text)));
    }
    result.is_percent = true;
    return result;
  }
  if (!value.is_number()) return TypeError(path, "an integer or a percentage string", value);
  ASSIGN_OR_RETURN(result.value, AsInt<int32_t>(value, path));
  if (result.value < 0) return FieldError(path, "must be non-negative");
  return result;
}

// Reads the fields of one JSON object. An absent object (missing or null) reads as empty, so a
// caller can descend into optional sub-objects without checking for them first. Absent fields
// leave the output untouched (the model's default); present fields of the wrong type are errors.
class ObjectReader {
 public:
  // `value` must be a JSON object (or null, which reads as absent).
  static absl::StatusOr<ObjectReader> Open(const Json& value, std::string path) {
    if (value.is_null()) return ObjectReader(nullptr, std::move(path));
    if (!value.is_object()) return TypeError(path, "an object", value);
    return ObjectReader(&value, std::move(path));
  }

  bool Has(absl::string_view key) const { return Find(key) != nullptr; }
  std::string FieldPath(absl::string_view key) const { return JoinPath(path_, key); }

  absl::Status Require(absl::string_view key) const {
    if (Has(key)) return absl::OkStatus();
    return FieldError(FieldPath(key), "required field is missing");
  }

  absl::StatusOr<ObjectReader> Child(absl::string_view key) const {
    const Json* value = Find(key);
    return Open(value == nullptr ? kNull : *value, FieldPath(key));
  }

  absl::Status String(absl::string_view key, std::string* out) const {
    return Read(key, AsString, out);
  }
  absl::Status String(absl::string_view key, std::optional<std::string>* out) const {
    return Read(key, AsString, out);
  }
  absl::Status Bool(absl::string_view key, bool* out) const { return Read(key, AsBool, out); }
  absl::Status Bool(absl::string_view key, std::optional<bool>* out) const {
    return Read(key, AsBool, out);
  }
  absl::Status Int64(absl::string_view key, int64_t* out) const {
    return Read(key, AsInt<int64_t>, out);
  }
  absl::Status QuantityField(absl::string_view key, Quantity* out) const {
    return Read(key, AsQuantity, out);
  }
  absl::Status QuantityField(absl::string_view key, std::optional<Quantity>* out) const {
    return Read(key, AsQuantity, out);
  }
  absl::Status Int32(absl::string_view key, int32_t* out) const {
    return Read(key, AsInt<int32_t>, out);
  }
  absl::Status Int32(absl::string_view key, std::optional<int32_t>* out) const {
    return Read(key, AsInt<int32_t>, out);
  }
  absl::Status Int64(absl::string_view key, std::optional<int64_t>* out) const {
    return Read(key, AsInt<int64_t>, out);
  }
  absl::Status Timestamp(absl::string_view key, int64_t* unix_nanos) const {
    return Read(key, AsUnixNanos, unix_nanos);
  }
  absl::Status Timestamp(absl::string_view key, std::optional<int64_t>* unix_nanos) const {
    return Read(key, AsUnixNanos, unix_nanos);
  }
  absl::Status Quantities(absl::string_view key, ResourceList* out) const {
    return Read(key, AsResourceList, out);
  }
  absl::Status Quantities(absl::string_view key, std::optional<ResourceList>* out) const {
    return Read(key, AsResourceList, out);
  }
  absl::Status StringMap(absl::string_view key, Labels* out) const {
    return Read(key, AsStringMap, out);
  }
  absl::Status Strings(absl::string_view key, std::vector<std::string>* out) const {
    return Read(key, AsStrings, out);
  }
  absl::Status IntOrPercentage(absl::string_view key, std::optional<IntOrPercent>* out) const {
    return Read(key, AsIntOrPercent, out);
  }

  // A string that must be one of `names`; `what` names the enum in the error
  // (`unknown taint effect "NoScheduel"`).
  template <typename E>
  absl::Status Enum(absl::string_view key, std::type_identity_t<std::span<const EnumName<E>>> names,
                    absl::string_view what, E* out) const {
    const Json* value = Find(key);
    if (value == nullptr) return absl::OkStatus();
    const std::string path = FieldPath(key);
    ASSIGN_OR_RETURN(const std::string text, AsString(*value, path));
    for (const EnumName<E>& name : names) {
      if (name.name == text) {
        *out = name.value;
        return absl::OkStatus();
      }
    }
    return FieldError(path, absl::StrCat("unknown ", what, " ", Quote(text)));
  }
  template <typename E>
  absl::Status Enum(absl::string_view key, std::type_identity_t<std::span<const EnumName<E>>> names,
                    absl::string_view what, std::optional<E>* out) const {
    if (!Has(key)) return absl::OkStatus();
    return Enum(key, names, what, &out->emplace());
  }

  // A nested object read by `parse(const ObjectReader&, T*)`.
  template <typename T, typename Parse>
  absl::Status Object(absl::string_view key, Parse parse, T* out) const {
    if (!Has(key)) return absl::OkStatus();
    ASSIGN_OR_RETURN(const ObjectReader child, Child(key));
    return parse(child, out);
  }
  template <typename T, typename Parse>
  absl::Status Object(absl::string_view key, Parse parse, std::optional<T>* out) const {
    if (!Has(key)) return absl::OkStatus();
    return Object(key, parse, &out->emplace());
  }

  // An object whose members are objects, each read by `parse(const ObjectReader&, T*)` into the
  // map under the member's name.
  template <typename T, typename Parse>
  absl::Status Map(absl::string_view key, Parse parse, std::map<std::string, T>* out) const {
    const Json* value = Find(key);
    if (value == nullptr) return absl::OkStatus();
    const std::string path = FieldPath(key);
    if (!value->is_object()) return TypeError(path, "an object", *value);
    out->clear();
    for (const auto& [name, member] : value->items()) {
      ASSIGN_OR_RETURN(const ObjectReader element, Open(member, JoinPath(path, name)));
      RETURN_IF_ERROR(parse(element, &(*out)[name]));
    }
    return absl::OkStatus();
  }

  // An array of objects, each read by `parse(const ObjectReader&, T*)`.
  template <typename T, typename Parse>
  absl::Status Array(absl::string_view key, Parse parse, std::vector<T>* out) const {
    const Json* value = Find(key);
    if (value == nullptr) return absl::OkStatus();
    const std::string path = FieldPath(key);
    if (!value->is_array()) return TypeError(path, "an array", *value);
    out->clear();
    out->reserve(value->size());
    for (size_t i = 0; i < value->size(); ++i) {
      ASSIGN_OR_RETURN(const ObjectReader element, Open((*value)[i], IndexPath(path, i)));
      RETURN_IF_ERROR(parse(element, &out->emplace_back()));
    }
    return absl::OkStatus();
  }

 private:
  inline static const Json kNull = nullptr;

  ObjectReader(const Json* object, std::string path) : object_(object), path_(std::move(path)) {}

  // The member `key`, or nullptr when the object is absent or the member is missing or null
  // (the API server omits empty fields, and clients often write null for them).
  const Json* Find(absl::string_view key) const {
    if (object_ == nullptr) return nullptr;
    auto it = object_->find(std::string_view(key.data(), key.size()));
    if (it == object_->end() || it->is_null()) return nullptr;
    return &*it;
  }

  template <typename Convert, typename Out>
  absl::Status Read(absl::string_view key, Convert convert, Out* out) const {
    const Json* value = Find(key);
    if (value == nullptr) return absl::OkStatus();
    ASSIGN_OR_RETURN(*out, convert(*value, FieldPath(key)));
    return absl::OkStatus();
  }

  const Json* object_;  // nullptr: absent
  std::string path_;
};

// ---- Selectors and affinity ----

absl::Status ParseRequirement(const ObjectReader& r,
                              std::span<const EnumName<SelectorOperator>> ops,
                              absl::string_view what, SelectorRequirement* out) {
  RETURN_IF_ERROR(r.String("key", &out->key));
  RETURN_IF_ERROR(r.Require("operator"));
  RETURN_IF_ERROR(r.Enum("operator", ops, what, &out->op));
  return r.Strings("values", &out->values);
}

absl::Status ParseNodeSelectorRequirement(const ObjectReader& r, SelectorRequirement* out) {
  return ParseRequirement(r, kNodeSelectorOperators, "node selector operator", out);
}

absl::Status ParseLabelSelectorRequirement(const ObjectReader& r, SelectorRequirement* out) {
  return ParseRequirement(r, kLabelSelectorOperators, "label selector operator", out);
}

absl::Status ParseLabelSelector(const ObjectReader& r, LabelSelector* out) {
  RETURN_IF_ERROR(r.StringMap("matchLabels", &out->match_labels));
  return r.Array("matchExpressions", ParseLabelSelectorRequirement, &out->match_expressions);
}

absl::Status ParseNodeSelectorTerm(const ObjectReader& r, NodeSelectorTerm* out) {
  RETURN_IF_ERROR(
      r.Array("matchExpressions", ParseNodeSelectorRequirement, &out->match_expressions));
  return r.Array("matchFields", ParseNodeSelectorRequirement, &out->match_fields);
}

absl::Status ParseNodeSelector(const ObjectReader& r, NodeSelector* out) {
  return r.Array("nodeSelectorTerms", ParseNodeSelectorTerm, &out->terms);
}

absl::Status ParsePreferredSchedulingTerm(const ObjectReader& r, PreferredSchedulingTerm* out) {
  RETURN_IF_ERROR(r.Int32("weight", &out->weight));
  return r.Object("preference", ParseNodeSelectorTerm, &out->preference);
}

absl::Status ParseNodeAffinity(const ObjectReader& r, NodeAffinity* out) {
  RETURN_IF_ERROR(r.Object("requiredDuringSchedulingIgnoredDuringExecution", ParseNodeSelector,
                           &out->required));
  return r.Array("preferredDuringSchedulingIgnoredDuringExecution", ParsePreferredSchedulingTerm,
                 &out->preferred);
}

absl::Status ParsePodAffinityTerm(const ObjectReader& r, PodAffinityTerm* out) {
  RETURN_IF_ERROR(r.Object("labelSelector", ParseLabelSelector, &out->label_selector));
  RETURN_IF_ERROR(r.Strings("namespaces", &out->namespaces));
  RETURN_IF_ERROR(r.String("topologyKey", &out->topology_key));
  RETURN_IF_ERROR(r.Object("namespaceSelector", ParseLabelSelector, &out->namespace_selector));
  RETURN_IF_ERROR(r.Strings("matchLabelKeys", &out->match_label_keys));
  return r.Strings("mismatchLabelKeys", &out->mismatch_label_keys);
}

absl::Status ParseWeightedPodAffinityTerm(const ObjectReader& r, WeightedPodAffinityTerm* out) {
  RETURN_IF_ERROR(r.Int32("weight", &out->weight));
  return r.Object("podAffinityTerm", ParsePodAffinityTerm, &out->term);
}

absl::Status ParsePodAffinity(const ObjectReader& r, PodAffinity* out) {
  RETURN_IF_ERROR(r.Array("requiredDuringSchedulingIgnoredDuringExecution", ParsePodAffinityTerm,
                          &out->required));
  return r.Array("preferredDuringSchedulingIgnoredDuringExecution", ParseWeightedPodAffinityTerm,
                 &out->preferred);
}

absl::Status ParseAffinity(const ObjectReader& r, Affinity* out) {
  RETURN_IF_ERROR(r.Object("nodeAffinity", ParseNodeAffinity, &out->node_affinity));
  RETURN_IF_ERROR(r.Object("podAffinity", ParsePodAffinity, &out->pod_affinity));
  return r.Object("podAntiAffinity", ParsePodAffinity, &out->pod_anti_affinity);
}

// ---- Taints, tolerations, topology spread ----

absl::Status ParseTaint(const ObjectReader& r, Taint* out) {
  RETURN_IF_ERROR(r.Require("key"));
  RETURN_IF_ERROR(r.String("key", &out->key));
  RETURN_IF_ERROR(r.String("value", &out->value));
  RETURN_IF_ERROR(r.Require("effect"));
  return r.Enum("effect", kTaintEffects, "taint effect", &out->effect);
}

absl::Status ParseToleration(const ObjectReader& r, Toleration* out) {
  RETURN_IF_ERROR(r.String("key", &out->key));
  RETURN_IF_ERROR(r.Enum("operator", kTolerationOperators, "toleration operator", &out->op));
  RETURN_IF_ERROR(r.String("value", &out->value));
  RETURN_IF_ERROR(r.Enum("effect", kTolerationEffects, "taint effect", &out->effect));
  return r.Int64("tolerationSeconds", &out->toleration_seconds);
}

absl::Status ParseTopologySpreadConstraint(const ObjectReader& r, TopologySpreadConstraint* out) {
  RETURN_IF_ERROR(r.Int32("maxSkew", &out->max_skew));
  RETURN_IF_ERROR(r.String("topologyKey", &out->topology_key));
  RETURN_IF_ERROR(r.Enum("whenUnsatisfiable", kUnsatisfiableActions, "whenUnsatisfiable action",
                         &out->when_unsatisfiable));
  RETURN_IF_ERROR(r.Object("labelSelector", ParseLabelSelector, &out->label_selector));
  RETURN_IF_ERROR(r.Int32("minDomains", &out->min_domains));
  RETURN_IF_ERROR(r.Enum("nodeAffinityPolicy", kNodeInclusionPolicies, "node inclusion policy",
                         &out->node_affinity_policy));
  RETURN_IF_ERROR(r.Enum("nodeTaintsPolicy", kNodeInclusionPolicies, "node inclusion policy",
                         &out->node_taints_policy));
  return r.Strings("matchLabelKeys", &out->match_label_keys);
}

// ---- Pods ----

absl::Status ParseContainer(const ObjectReader& r, Container* out) {
  RETURN_IF_ERROR(r.String("name", &out->name));
  ASSIGN_OR_RETURN(const ObjectReader resources, r.Child("resources"));
  RETURN_IF_ERROR(resources.Quantities("requests", &out->requests));
  RETURN_IF_ERROR(resources.Quantities("limits", &out->limits));
  return r.String("restartPolicy", &out->restart_policy);
}

absl::Status ParseContainerStatus(const ObjectReader& r, ContainerStatus* out) {
  RETURN_IF_ERROR(r.String("name", &out->name));
  RETURN_IF_ERROR(r.Quantities("allocatedResources", &out->allocated_resources));
  ASSIGN_OR_RETURN(const ObjectReader resources, r.Child("resources"));
  RETURN_IF_ERROR(resources.Quantities("requests", &out->resource_requests));
  return resources.Quantities("limits", &out->resource_limits);
}

absl::Status ParsePodResources(const ObjectReader& r, PodResources* out) {
  RETURN_IF_ERROR(r.Quantities("requests", &out->requests));
  return r.Quantities("limits", &out->limits);
}

absl::Status ParsePodResourceClaim(const ObjectReader& r, PodResourceClaim* out) {
  RETURN_IF_ERROR(r.String("name", &out->name));
  RETURN_IF_ERROR(r.String("resourceClaimName", &out->resource_claim_name));
  return r.String("resourceClaimTemplateName", &out->resource_claim_template_name);
}

absl::Status ParsePodResourceClaimStatus(const ObjectReader& r, PodResourceClaimStatus* out) {
  RETURN_IF_ERROR(r.String("name", &out->name));
  return r.String("resourceClaimName", &out->resource_claim_name);
}

absl::Status ParsePodSpec(const ObjectReader& spec, Pod* pod) {
  RETURN_IF_ERROR(spec.String("nodeName", &pod->node_name));
  RETURN_IF_ERROR(spec.String("schedulerName", &pod->scheduler_name));
  if (pod->scheduler_name.empty()) pod->scheduler_name = "default-scheduler";
  RETURN_IF_ERROR(spec.Int32("priority", &pod->priority));
  RETURN_IF_ERROR(spec.String("priorityClassName", &pod->priority_class_name));
  RETURN_IF_ERROR(spec.Enum("preemptionPolicy", kPreemptionPolicies, "preemption policy",
                            &pod->preemption_policy));
  RETURN_IF_ERROR(spec.Array("initContainers", ParseContainer, &pod->init_containers));
  RETURN_IF_ERROR(spec.Array("containers", ParseContainer, &pod->containers));
  RETURN_IF_ERROR(spec.Quantities("overhead", &pod->overhead));
  RETURN_IF_ERROR(spec.Object("resources", ParsePodResources, &pod->resources));
  RETURN_IF_ERROR(spec.StringMap("nodeSelector", &pod->node_selector));
  RETURN_IF_ERROR(spec.Object("affinity", ParseAffinity, &pod->affinity));
  RETURN_IF_ERROR(spec.Array("tolerations", ParseToleration, &pod->tolerations));
  RETURN_IF_ERROR(spec.Array("resourceClaims", ParsePodResourceClaim, &pod->resource_claims));
  return spec.Array("topologySpreadConstraints", ParseTopologySpreadConstraint,
                    &pod->topology_spread_constraints);
}

struct PodCondition {
  std::string type;
  std::string status;
  std::string reason;
};

absl::Status ParsePodCondition(const ObjectReader& r, PodCondition* out) {
  RETURN_IF_ERROR(r.String("type", &out->type));
  RETURN_IF_ERROR(r.String("status", &out->status));
  return r.String("reason", &out->reason);
}

absl::Status ParsePodStatus(const ObjectReader& status, Pod* pod) {
  std::vector<PodCondition> conditions;
  RETURN_IF_ERROR(status.Array("conditions", ParsePodCondition, &conditions));
  for (const PodCondition& c : conditions) {
    // PodTerminatingByPreemption reads the first DisruptionTarget condition.
    if (c.type != "DisruptionTarget") continue;
    pod->terminating_by_preemption = c.status == "True" && c.reason == "PreemptionByScheduler";
    break;
  }
  RETURN_IF_ERROR(status.String("phase", &pod->phase));
  RETURN_IF_ERROR(status.Timestamp("startTime", &pod->start_unix_nanos));
  RETURN_IF_ERROR(status.String("nominatedNodeName", &pod->nominated_node_name));
  if (pod->nominated_node_name == "") pod->nominated_node_name.reset();
  RETURN_IF_ERROR(status.String("qosClass", &pod->qos_class_reported));
  RETURN_IF_ERROR(status.String("resize", &pod->resize_status));
  RETURN_IF_ERROR(
      status.Array("initContainerStatuses", ParseContainerStatus, &pod->init_container_statuses));
  RETURN_IF_ERROR(status.Array("resourceClaimStatuses", ParsePodResourceClaimStatus,
                               &pod->resource_claim_statuses));
  return status.Array("containerStatuses", ParseContainerStatus, &pod->container_statuses);
}

// ---- Objects ----

struct ObjectMeta {
  std::string name_space;
  std::string name;
  std::string uid;
  Labels labels;
  int64_t creation_unix_nanos = 0;
  std::optional<int64_t> deletion_unix_nanos;
};

// Everything but name and namespace, which AddItem reads first to name the object in errors.
absl::Status ParseObjectMeta(const ObjectReader& metadata, ObjectMeta* out) {
  RETURN_IF_ERROR(metadata.String("uid", &out->uid));
  RETURN_IF_ERROR(metadata.StringMap("labels", &out->labels));
  RETURN_IF_ERROR(metadata.Timestamp("creationTimestamp", &out->creation_unix_nanos));
  return metadata.Timestamp("deletionTimestamp", &out->deletion_unix_nanos);
}

absl::Status ParsePod(const ObjectReader& object, ObjectMeta meta, Pod* pod) {
  pod->name_space = std::move(meta.name_space);
  pod->name = std::move(meta.name);
  pod->uid = std::move(meta.uid);
  pod->labels = std::move(meta.labels);
  pod->creation_unix_nanos = meta.creation_unix_nanos;
  pod->deletion_unix_nanos = meta.deletion_unix_nanos;
  ASSIGN_OR_RETURN(const ObjectReader spec, object.Child("spec"));
  RETURN_IF_ERROR(ParsePodSpec(spec, pod));
  ASSIGN_OR_RETURN(const ObjectReader status, object.Child("status"));
  return ParsePodStatus(status, pod);
}

absl::Status ParseNode(const ObjectReader& object, ObjectMeta meta, Node* node) {
  node->name = std::move(meta.name);
  node->labels = std::move(meta.labels);
  node->creation_unix_nanos = meta.creation_unix_nanos;
  ASSIGN_OR_RETURN(const ObjectReader spec, object.Child("spec"));
  RETURN_IF_ERROR(spec.Array("taints", ParseTaint, &node->taints));
  RETURN_IF_ERROR(spec.Bool("unschedulable", &node->unschedulable));
  ASSIGN_OR_RETURN(const ObjectReader status, object.Child("status"));
  RETURN_IF_ERROR(status.Quantities("capacity", &node->capacity));
  return status.Quantities("allocatable", &node->allocatable);
}

// PriorityClass keeps its fields at the top level, beside metadata.
absl::Status ParsePriorityClass(const ObjectReader& object, ObjectMeta meta, PriorityClass* out) {
  out->name = std::move(meta.name);
  RETURN_IF_ERROR(object.Int32("value", &out->value));
  RETURN_IF_ERROR(object.Bool("globalDefault", &out->global_default));
  return object.Enum("preemptionPolicy", kPreemptionPolicies, "preemption policy",
                     &out->preemption_policy);
}

absl::Status ParsePodDisruptionBudget(const ObjectReader& object, ObjectMeta meta,
                                      PodDisruptionBudget* out) {
  out->name_space = std::move(meta.name_space);
  out->name = std::move(meta.name);
  ASSIGN_OR_RETURN(const ObjectReader spec, object.Child("spec"));
  RETURN_IF_ERROR(spec.Object("selector", ParseLabelSelector, &out->selector));
  RETURN_IF_ERROR(spec.IntOrPercentage("minAvailable", &out->min_available));
  RETURN_IF_ERROR(spec.IntOrPercentage("maxUnavailable", &out->max_unavailable));
  ASSIGN_OR_RETURN(const ObjectReader status, object.Child("status"));
  return status.Int32("disruptionsAllowed", &out->disruptions_allowed);
}

// ---- Dynamic resource allocation (resource.k8s.io/v1) ----

absl::Status ParseDeviceSelector(const ObjectReader& r, DeviceSelector* out) {
  ASSIGN_OR_RETURN(const ObjectReader cel, r.Child("cel"));
  if (!r.Has("cel")) return absl::OkStatus();
  RETURN_IF_ERROR(cel.Require("expression"));
  return cel.String("expression", &out->cel.emplace());
}

absl::Status ParseDeviceToleration(const ObjectReader& r, DeviceToleration* out) {
  RETURN_IF_ERROR(r.String("key", &out->key));
  RETURN_IF_ERROR(r.String("operator", &out->op));
  RETURN_IF_ERROR(r.String("value", &out->value));
  RETURN_IF_ERROR(r.String("effect", &out->effect));
  return r.Int64("tolerationSeconds", &out->toleration_seconds);
}

// {"value": "<quantity>"}, the shape of counters.
absl::Status ParseCounter(const ObjectReader& r, Quantity* out) {
  RETURN_IF_ERROR(r.Require("value"));
  return r.QuantityField("value", out);
}

absl::Status ParseCounters(const ObjectReader& r, absl::string_view key,
                           std::map<std::string, Quantity>* out) {
  return r.Map(key, ParseCounter, out);
}

// Single-valued attributes only; list-valued ones (an alpha feature that is off) are skipped by
// the caller.
absl::Status ParseDeviceAttribute(const ObjectReader& r, std::optional<DeviceAttributeValue>* out) {
  if (r.Has("int")) {
    std::optional<int64_t> v;
    RETURN_IF_ERROR(r.Int64("int", &v));
    *out = *v;
  } else if (r.Has("bool")) {
    bool v = false;
    RETURN_IF_ERROR(r.Bool("bool", &v));
    *out = v;
  } else if (r.Has("string")) {
    std::string v;
    RETURN_IF_ERROR(r.String("string", &v));
    *out = std::move(v);
  } else if (r.Has("version")) {
    std::string text;
    RETURN_IF_ERROR(r.String("version", &text));
    absl::StatusOr<cel::Semver> v = cel::Semver::Parse(text);
    if (!v.ok()) return FieldError(r.FieldPath("version"), v.status().message());
    *out = *std::move(v);
  }
  return absl::OkStatus();
}

absl::Status ParseDeviceCapacity(const ObjectReader& r, DeviceCapacity* out) {
  RETURN_IF_ERROR(r.Require("value"));
  {
    // CEL reads how the value was written ("1000m" is not an integer there, "1" is).
    Quantity q;
    RETURN_IF_ERROR(r.QuantityField("value", &q));
    std::string written;
    if (r.String("value", &written).ok()) {
      absl::StatusOr<cel::CapacityValue> value = cel::CapacityValue::Parse(written);
      out->value = value.ok() ? *value : cel::CapacityValue::FromQuantity(q);
    } else {
      out->value = cel::CapacityValue::FromQuantity(q);
    }
  }
  if (!r.Has("requestPolicy")) return absl::OkStatus();
  ASSIGN_OR_RETURN(const ObjectReader p, r.Child("requestPolicy"));
  CapacityRequestPolicy& policy = out->request_policy.emplace();
  RETURN_IF_ERROR(p.QuantityField("default", &policy.default_value));
  std::vector<std::string> values;
  RETURN_IF_ERROR(p.Strings("validValues", &values));
  for (size_t i = 0; i < values.size(); ++i) {
    absl::StatusOr<Quantity> q = Quantity::Parse(values[i]);
    if (!q.ok()) return FieldError(IndexPath(p.FieldPath("validValues"), i), q.status().message());
    policy.valid_values.push_back(*q);
  }
  if (p.Has("validRange")) {
    ASSIGN_OR_RETURN(const ObjectReader range, p.Child("validRange"));
    CapacityRequestPolicyRange& out_range = policy.valid_range.emplace();
    RETURN_IF_ERROR(range.QuantityField("min", &out_range.min));
    RETURN_IF_ERROR(range.QuantityField("max", &out_range.max));
    RETURN_IF_ERROR(range.QuantityField("step", &out_range.step));
  }
  return absl::OkStatus();
}

absl::Status ParseDeviceTaint(const ObjectReader& r, DeviceTaint* out) {
  RETURN_IF_ERROR(r.String("key", &out->key));
  RETURN_IF_ERROR(r.String("value", &out->value));
  std::string effect;
  RETURN_IF_ERROR(r.String("effect", &effect));
  out->effect = DeviceTaintEffect::kUnknown;
  for (const auto& name : kDeviceTaintEffects) {
    if (name.name == effect) out->effect = name.value;
  }
  return absl::OkStatus();
}

struct CounterConsumption {
  DeviceCounterConsumption consumption;
  bool has_compatibility_groups = false;
};

absl::Status ParseCounterConsumption(const ObjectReader& r, CounterConsumption* out) {
  RETURN_IF_ERROR(r.String("counterSet", &out->consumption.counter_set));
  RETURN_IF_ERROR(ParseCounters(r, "counters", &out->consumption.counters));
  std::vector<std::string> groups;
  RETURN_IF_ERROR(r.Strings("compatibilityGroups", &groups));
  out->has_compatibility_groups = !groups.empty();
  return absl::OkStatus();
}

struct ParsedDevice {
  Device device;
  bool uses_compatibility_groups = false;
};

absl::Status ParseDevice(const ObjectReader& r, ParsedDevice* out) {
  Device& d = out->device;
  RETURN_IF_ERROR(r.Require("name"));
  RETURN_IF_ERROR(r.String("name", &d.name));
  std::map<std::string, std::optional<DeviceAttributeValue>> attributes;
  RETURN_IF_ERROR(r.Map("attributes", ParseDeviceAttribute, &attributes));
  for (auto& [name, value] : attributes) {
    if (value) d.attributes.emplace(name, *std::move(value));
  }
  RETURN_IF_ERROR(r.Map("capacity", ParseDeviceCapacity, &d.capacity));
  std::vector<CounterConsumption> consumptions;
  RETURN_IF_ERROR(r.Array("consumesCounters", ParseCounterConsumption, &consumptions));
  for (CounterConsumption& c : consumptions) {
    out->uses_compatibility_groups |= c.has_compatibility_groups;
    d.consumes_counters.push_back(std::move(c.consumption));
  }
  RETURN_IF_ERROR(r.String("nodeName", &d.node_name));
  RETURN_IF_ERROR(r.Object("nodeSelector", ParseNodeSelector, &d.node_selector));
  RETURN_IF_ERROR(r.Bool("allNodes", &d.all_nodes));
  RETURN_IF_ERROR(r.Array("taints", ParseDeviceTaint, &d.taints));
  RETURN_IF_ERROR(r.Bool("bindsToNode", &d.binds_to_node));
  RETURN_IF_ERROR(r.Strings("bindingConditions", &d.binding_conditions));
  RETURN_IF_ERROR(r.Strings("bindingFailureConditions", &d.binding_failure_conditions));
  return r.Bool("allowMultipleAllocations", &d.allow_multiple_allocations);
}

absl::Status ParseCounterSet(const ObjectReader& r, CounterSet* out) {
  RETURN_IF_ERROR(r.String("name", &out->name));
  return ParseCounters(r, "counters", &out->counters);
}

absl::Status ParseResourceSlice(const ObjectReader& object, ObjectMeta meta, ResourceSlice* out) {
  out->name = std::move(meta.name);
  ASSIGN_OR_RETURN(const ObjectReader spec, object.Child("spec"));
  RETURN_IF_ERROR(spec.Require("driver"));
  RETURN_IF_ERROR(spec.String("driver", &out->driver));
  RETURN_IF_ERROR(spec.Require("pool"));
  ASSIGN_OR_RETURN(const ObjectReader pool, spec.Child("pool"));
  RETURN_IF_ERROR(pool.Require("name"));
  RETURN_IF_ERROR(pool.String("name", &out->pool.name));
  RETURN_IF_ERROR(pool.Int64("generation", &out->pool.generation));
  RETURN_IF_ERROR(pool.Int64("resourceSliceCount", &out->pool.resource_slice_count));
  RETURN_IF_ERROR(spec.String("nodeName", &out->node_name));
  RETURN_IF_ERROR(spec.Object("nodeSelector", ParseNodeSelector, &out->node_selector));
  RETURN_IF_ERROR(spec.Bool("allNodes", &out->all_nodes));
  RETURN_IF_ERROR(spec.Bool("perDeviceNodeSelection", &out->per_device_node_selection));
  std::vector<ParsedDevice> devices;
  RETURN_IF_ERROR(spec.Array("devices", ParseDevice, &devices));
  for (ParsedDevice& d : devices) {
    // Compatibility groups belong to an alpha feature that is off: upstream's allocator ignores
    // the whole slice.
    out->uses_disabled_feature |= d.uses_compatibility_groups;
    out->devices.push_back(std::move(d.device));
  }
  return spec.Array("sharedCounters", ParseCounterSet, &out->shared_counters);
}

absl::Status ParseDeviceClass(const ObjectReader& object, ObjectMeta meta, DeviceClass* out) {
  out->name = std::move(meta.name);
  ASSIGN_OR_RETURN(const ObjectReader spec, object.Child("spec"));
  RETURN_IF_ERROR(spec.Array("selectors", ParseDeviceSelector, &out->selectors));
  return spec.String("extendedResourceName", &out->extended_resource_name);
}

absl::Status ParseDeviceRequestSpec(const ObjectReader& r, DeviceRequestSpec* out) {
  RETURN_IF_ERROR(r.String("deviceClassName", &out->device_class_name));
  RETURN_IF_ERROR(r.Array("selectors", ParseDeviceSelector, &out->selectors));
  RETURN_IF_ERROR(r.String("allocationMode", &out->allocation_mode));
  if (out->allocation_mode.empty()) out->allocation_mode = "ExactCount";
  RETURN_IF_ERROR(r.Int64("count", &out->count));
  RETURN_IF_ERROR(r.Bool("adminAccess", &out->admin_access));
  RETURN_IF_ERROR(r.Array("tolerations", ParseDeviceToleration, &out->tolerations));
  if (r.Has("capacity")) {
    ASSIGN_OR_RETURN(const ObjectReader capacity, r.Child("capacity"));
    RETURN_IF_ERROR(capacity.Quantities("requests", &out->capacity.emplace().requests));
  }
  out->has_derived_attributes = r.Has("derivedAttributes");
  return absl::OkStatus();
}

absl::Status ParseDeviceSubRequest(const ObjectReader& r, DeviceSubRequest* out) {
  RETURN_IF_ERROR(r.String("name", &out->name));
  return ParseDeviceRequestSpec(r, &out->spec);
}

absl::Status ParseDeviceRequest(const ObjectReader& r, DeviceRequest* out) {
  RETURN_IF_ERROR(r.String("name", &out->name));
  RETURN_IF_ERROR(r.Object("exactly", ParseDeviceRequestSpec, &out->exactly));
  return r.Array("firstAvailable", ParseDeviceSubRequest, &out->first_available);
}

absl::Status ParseDeviceConstraint(const ObjectReader& r, DeviceConstraint* out) {
  RETURN_IF_ERROR(r.Strings("requests", &out->requests));
  RETURN_IF_ERROR(r.String("matchAttribute", &out->match_attribute));
  return r.String("distinctAttribute", &out->distinct_attribute);
}

absl::Status ParseAllocationDeviceResult(const ObjectReader& r,
                                         DeviceRequestAllocationResult* out) {
  RETURN_IF_ERROR(r.String("request", &out->request));
  RETURN_IF_ERROR(r.String("driver", &out->driver));
  RETURN_IF_ERROR(r.String("pool", &out->pool));
  RETURN_IF_ERROR(r.String("device", &out->device));
  RETURN_IF_ERROR(r.Bool("adminAccess", &out->admin_access));
  RETURN_IF_ERROR(r.Array("tolerations", ParseDeviceToleration, &out->tolerations));
  RETURN_IF_ERROR(r.Strings("bindingConditions", &out->binding_conditions));
  RETURN_IF_ERROR(r.Strings("bindingFailureConditions", &out->binding_failure_conditions));
  RETURN_IF_ERROR(r.String("shareID", &out->share_id));
  return r.Quantities("consumedCapacity", &out->consumed_capacity);
}

absl::Status ParseAllocationResult(const ObjectReader& r, AllocationResult* out) {
  ASSIGN_OR_RETURN(const ObjectReader devices, r.Child("devices"));
  RETURN_IF_ERROR(devices.Array("results", ParseAllocationDeviceResult, &out->devices));
  RETURN_IF_ERROR(r.Object("nodeSelector", ParseNodeSelector, &out->node_selector));
  return r.Timestamp("allocationTimestamp", &out->allocation_unix_nanos);
}

absl::Status ParseConsumerReference(const ObjectReader& r, ResourceClaimConsumerReference* out) {
  RETURN_IF_ERROR(r.String("apiGroup", &out->api_group));
  RETURN_IF_ERROR(r.String("resource", &out->resource));
  RETURN_IF_ERROR(r.String("name", &out->name));
  return r.String("uid", &out->uid);
}

absl::Status ParseAllocatedDeviceStatus(const ObjectReader& r, AllocatedDeviceStatus* out) {
  RETURN_IF_ERROR(r.String("driver", &out->driver));
  RETURN_IF_ERROR(r.String("pool", &out->pool));
  RETURN_IF_ERROR(r.String("device", &out->device));
  RETURN_IF_ERROR(r.String("shareID", &out->share_id));
  std::vector<PodCondition> conditions;
  RETURN_IF_ERROR(r.Array("conditions", ParsePodCondition, &conditions));
  for (const PodCondition& c : conditions) out->conditions[c.type] = c.status == "True";
  return absl::OkStatus();
}

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string uid;
  bool controller = false;
};

absl::Status ParseOwnerReference(const ObjectReader& r, OwnerReference* out) {
  RETURN_IF_ERROR(r.String("apiVersion", &out->api_version));
  RETURN_IF_ERROR(r.String("kind", &out->kind));
  RETURN_IF_ERROR(r.String("uid", &out->uid));
  return r.Bool("controller", &out->controller);
}

absl::Status ParseResourceClaim(const ObjectReader& object, const ObjectReader& metadata,
                                ObjectMeta meta, ResourceClaim* out) {
  out->name_space = std::move(meta.name_space);
  out->name = std::move(meta.name);
  out->uid = std::move(meta.uid);
  out->deletion_unix_nanos = meta.deletion_unix_nanos;
  std::vector<OwnerReference> owners;
  RETURN_IF_ERROR(metadata.Array("ownerReferences", ParseOwnerReference, &owners));
  for (const OwnerReference& owner : owners) {
    if (owner.controller && owner.kind == "Pod" && owner.api_version == "v1") {
      out->controller_pod_uid = owner.uid;
    }
  }
  ASSIGN_OR_RETURN(const ObjectReader spec, object.Child("spec"));
  ASSIGN_OR_RETURN(const ObjectReader devices, spec.Child("devices"));
  RETURN_IF_ERROR(devices.Array("requests", ParseDeviceRequest, &out->requests));
  RETURN_IF_ERROR(devices.Array("constraints", ParseDeviceConstraint, &out->constraints));
  ASSIGN_OR_RETURN(const ObjectReader status, object.Child("status"));
  RETURN_IF_ERROR(status.Object("allocation", ParseAllocationResult, &out->allocation));
  RETURN_IF_ERROR(status.Array("reservedFor", ParseConsumerReference, &out->reserved_for));
  return status.Array("devices", ParseAllocatedDeviceStatus, &out->device_statuses);
}

// The kinds the engine models. Other kinds, and same-named kinds of other API groups, are skipped.
struct KindInfo {
  absl::string_view kind;
  absl::string_view group;        // "" for the core group
  absl::string_view api_version;  // the one version we read
  bool namespaced;
};

constexpr KindInfo kKinds[] = {
    {"Node", "", "v1", false},
    {"Pod", "", "v1", true},
    {"PriorityClass", "scheduling.k8s.io", "scheduling.k8s.io/v1", false},
    {"PodDisruptionBudget", "policy", "policy/v1", true},
    {"Namespace", "", "v1", false},
    {"DeviceClass", "resource.k8s.io", "resource.k8s.io/v1", false},
    {"ResourceSlice", "resource.k8s.io", "resource.k8s.io/v1", false},
    {"ResourceClaim", "resource.k8s.io", "resource.k8s.io/v1", true},
};

const KindInfo* FindKind(absl::string_view kind) {
  for (const KindInfo& info : kKinds) {
    if (info.kind == kind) return &info;
  }
  return nullptr;
}

absl::string_view ApiGroup(absl::string_view api_version) {
  const size_t slash = api_version.find('/');
  return slash == absl::string_view::npos ? absl::string_view() : api_version.substr(0, slash);
}

class SnapshotBuilder {
 public:
  // Reads one item found at `location` ("items[3]"). `default_kind` applies to items without a
  // kind, as in the NodeList / PodList the API server returns.
  absl::Status AddItem(const Json& item, const std::string& location,
                       absl::string_view default_kind) {
    if (!item.is_object()) return TypeError(location, "an object", item);
    ASSIGN_OR_RETURN(const ObjectReader object, ObjectReader::Open(item, ""));
    std::string kind(default_kind);
    std::string api_version;
    absl::Status status = object.String("kind", &kind);
    if (status.ok()) status = object.String("apiVersion", &api_version);
    if (status.ok() && kind.empty()) status = FieldError("kind", "required field is missing");
    if (!status.ok()) return Annotate(location, status);

    const KindInfo* info = FindKind(kind);
    if (info == nullptr) return absl::OkStatus();
    if (!api_version.empty() && ApiGroup(api_version) != info->group) return absl::OkStatus();
    const std::string at = absl::StrCat(kind, " at ", location);
    if (!api_version.empty() && api_version != info->api_version) {
      return FieldError(absl::StrCat(at, ": apiVersion"),
                        absl::StrCat("unsupported version ", Quote(api_version), " (want ",
                                     info->api_version, ")"));
    }

    // Name and namespace first: every later error names the object.
    absl::StatusOr<ObjectReader> metadata = object.Child("metadata");
    if (!metadata.ok()) return Annotate(at, metadata.status());
    ObjectMeta meta;
    status = metadata->String("name", &meta.name);
    if (status.ok() && meta.name.empty()) {
      status = FieldError("metadata.name", "required field is missing");
    }
    if (status.ok() && info->namespaced) status = metadata->String("namespace", &meta.name_space);
    if (!status.ok()) return Annotate(at, status);
    if (info->namespaced && meta.name_space.empty()) meta.name_space = "default";

    const std::string id =
        info->namespaced ? absl::StrCat(meta.name_space, "/", meta.name) : meta.name;
    const std::string who = absl::StrCat(kind, " ", Quote(id));
    auto [seen, inserted] = seen_.try_emplace(absl::StrCat(kind, " ", id), location);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(who, ": duplicate object (at ", seen->second,
                                                     " and again at ", location, ")"));
    }
    return Annotate(who, Parse(*info, object, *metadata, std::move(meta)));
  }

  Snapshot Finish() && { return std::move(snapshot_); }

 private:
  absl::Status Parse(const KindInfo& info, const ObjectReader& object, const ObjectReader& metadata,
                     ObjectMeta meta) {
    RETURN_IF_ERROR(ParseObjectMeta(metadata, &meta));
    if (info.kind == "Node") {
      return ParseNode(object, std::move(meta), &snapshot_.nodes.emplace_back());
    }
    if (info.kind == "PriorityClass") {
      return ParsePriorityClass(object, std::move(meta),
                                &snapshot_.priority_classes.emplace_back());
    }
    if (info.kind == "Namespace") {
      Namespace& ns = snapshot_.namespaces.emplace_back();
      ns.name = std::move(meta.name);
      ns.labels = std::move(meta.labels);
      return absl::OkStatus();
    }
    if (info.kind == "DeviceClass") {
      return ParseDeviceClass(object, std::move(meta), &snapshot_.device_classes.emplace_back());
    }
    if (info.kind == "ResourceSlice") {
      return ParseResourceSlice(object, std::move(meta), &snapshot_.resource_slices.emplace_back());
    }
    if (info.kind == "ResourceClaim") {
      return ParseResourceClaim(object, metadata, std::move(meta),
                                &snapshot_.resource_claims.emplace_back());
    }
    if (info.kind == "PodDisruptionBudget") {
      return ParsePodDisruptionBudget(object, std::move(meta),
                                      &snapshot_.pod_disruption_budgets.emplace_back());
    }
    Pod pod;
    RETURN_IF_ERROR(ParsePod(object, std::move(meta), &pod));
    // Terminated pods hold no resources; upstream's scheduler cache ignores them.
    if (pod.phase != "Succeeded" && pod.phase != "Failed") snapshot_.pods.push_back(std::move(pod));
    return absl::OkStatus();
  }

  Snapshot snapshot_;
  std::map<std::string, std::string> seen_;  // "Kind namespace/name" -> where it was first seen
};

// A no-op SAX consumer that records the first syntax error; used only to explain a failed parse.
class SyntaxErrorRecorder : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    absl::string_view what = error.what();
    // Drop the "[json.exception.parse_error.101] " tag; keep "parse error at line 3, column 5:".
    if (const size_t tag_end = what.find("] "); tag_end != absl::string_view::npos) {
      what.remove_prefix(tag_end + 2);
    }
    message_ = absl::StrCat(what, " (byte ", position, ")");
    return false;
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

absl::Status SyntaxError(std::string_view text) {
  SyntaxErrorRecorder recorder;
  Json::sax_parse(text.begin(), text.end(), &recorder);
  if (recorder.message().empty()) return absl::InvalidArgumentError("invalid JSON");
  return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", recorder.message()));
}

}  // namespace

absl::StatusOr<Snapshot> ParseSnapshot(std::string_view json_text) {
  const Json root = Json::parse(json_text.begin(), json_text.end(), nullptr,
                                /*allow_exceptions=*/false);
  if (root.is_discarded()) return SyntaxError(json_text);
  if (!root.is_object()) return TypeError("snapshot", "a JSON object", root);

  SnapshotBuilder builder;
  const auto items = root.find("items");
  if (items == root.end() || items->is_null()) {
    // A single object, as `kubectl get pod web-0 -o json` prints.
    RETURN_IF_ERROR(builder.AddItem(root, "top level", ""));
    return std::move(builder).Finish();
  }
  if (!items->is_array()) return TypeError("items", "an array", *items);
  // NodeList, PodList, ...: items of the API server's typed lists carry no kind of their own.
  absl::string_view default_kind;
  if (const auto kind = root.find("kind"); kind != root.end() && kind->is_string()) {
    absl::string_view list_kind = kind->get_ref<const std::string&>();
    if (list_kind != "List" && absl::EndsWith(list_kind, "List")) {
      default_kind = list_kind.substr(0, list_kind.size() - 4);
    }
  }
  for (size_t i = 0; i < items->size(); ++i) {
    RETURN_IF_ERROR(builder.AddItem((*items)[i], IndexPath("items", i), default_kind));
  }
  return std::move(builder).Finish();
}

absl::StatusOr<Snapshot> ReadSnapshotFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int error = errno;
    const std::string message =
        absl::StrCat("cannot open snapshot ", Quote(path), ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    return absl::InternalError(message);
  }
  std::string text;
  char buffer[1 << 16];
  size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, read);
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) {
    return absl::InternalError(
        absl::StrCat("cannot read snapshot ", Quote(path), ": ", std::strerror(error)));
  }
  absl::StatusOr<Snapshot> snapshot = ParseSnapshot(text);
  if (!snapshot.ok()) return Annotate(path, snapshot.status());
  return snapshot;
}

}  // namespace sextant
