// Decoding follows src/snapshot/snapshot_reader.cc's DRA kinds field for field (paths, enum
// spellings, error texts).
#include "server/convert_dra.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/field_path.h"
#include "common/status_macros.h"
#include "model/api_names.h"
#include "server/convert.h"

namespace sextant::server {
namespace {

absl::Status Missing(absl::string_view path) {
  return FieldError(path, "required field is missing");
}

std::string Unnamed(absl::string_view kind, absl::string_view location) {
  return location.empty() ? std::string(kind) : absl::StrCat(kind, " at ", location);
}

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

// In name order, so the error for several bad entries does not depend on the map's order.
absl::Status DecodeQuantities(const google::protobuf::Map<std::string, std::string>& in,
                              absl::string_view path, std::map<std::string, Quantity>* out) {
  out->clear();
  std::map<std::string, std::string> sorted(in.begin(), in.end());
  for (const auto& [name, text] : sorted) {
    absl::StatusOr<Quantity> q = Quantity::Parse(text);
    if (!q.ok()) return FieldError(JoinPath(path, name), q.status().message());
    out->emplace(name, *q);
  }
  return absl::OkStatus();
}

absl::Status DecodeQuantity(const std::string& text, absl::string_view path, Quantity* out) {
  absl::StatusOr<Quantity> q = Quantity::Parse(text);
  if (!q.ok()) return FieldError(path, q.status().message());
  *out = *q;
  return absl::OkStatus();
}

absl::Status DecodeOptionalQuantity(bool has, const std::string& text, absl::string_view path,
                                    std::optional<Quantity>* out) {
  if (!has) return absl::OkStatus();
  return DecodeQuantity(text, path, &out->emplace());
}

void EncodeQuantities(const std::map<std::string, Quantity>& in,
                      google::protobuf::Map<std::string, std::string>* out) {
  for (const auto& [name, q] : in) (*out)[name] = q.ToString();
}

absl::Status DecodeSelector(const v1::DeviceSelector& in, absl::string_view, DeviceSelector* out) {
  if (in.has_cel()) out->cel = in.cel();
  return absl::OkStatus();
}

absl::Status DecodeToleration(const v1::DeviceToleration& in, absl::string_view,
                              DeviceToleration* out) {
  out->key = in.key();
  out->op = in.operator_();
  out->value = in.value();
  out->effect = in.effect();
  if (in.has_toleration_seconds()) out->toleration_seconds = in.toleration_seconds();
  return absl::OkStatus();
}

void EncodeToleration(const DeviceToleration& in, v1::DeviceToleration* out) {
  out->set_key(in.key);
  out->set_operator_(in.op);
  out->set_value(in.value);
  out->set_effect(in.effect);
  if (in.toleration_seconds) out->set_toleration_seconds(*in.toleration_seconds);
}

absl::Status DecodeAttribute(const v1::DeviceAttribute& in, absl::string_view path,
                             DeviceAttributeValue* out) {
  switch (in.value_case()) {
    case v1::DeviceAttribute::kInt:
      *out = in.int_();
      return absl::OkStatus();
    case v1::DeviceAttribute::kBool:
      *out = in.bool_();
      return absl::OkStatus();
    case v1::DeviceAttribute::kString:
      *out = in.string();
      return absl::OkStatus();
    case v1::DeviceAttribute::kVersion: {
      absl::StatusOr<cel::Semver> v = cel::Semver::Parse(in.version());
      if (!v.ok()) return FieldError(JoinPath(path, "version"), v.status().message());
      *out = *std::move(v);
      return absl::OkStatus();
    }
    case v1::DeviceAttribute::VALUE_NOT_SET:
      break;
  }
  return FieldError(path, "exactly one of int, bool, string or version is required");
}

std::string VersionText(const cel::Semver& v) {
  std::string out = absl::StrCat(v.major, ".", v.minor, ".", v.patch);
  for (size_t i = 0; i < v.prerelease.size(); ++i) absl::StrAppend(&out, i ? "." : "-", v.prerelease[i]);
  for (size_t i = 0; i < v.build.size(); ++i) absl::StrAppend(&out, i ? "." : "+", v.build[i]);
  return out;
}

void EncodeAttribute(const DeviceAttributeValue& in, v1::DeviceAttribute* out) {
  if (const int64_t* i = std::get_if<int64_t>(&in)) {
    out->set_int_(*i);
  } else if (const bool* b = std::get_if<bool>(&in)) {
    out->set_bool_(*b);
  } else if (const std::string* s = std::get_if<std::string>(&in)) {
    out->set_string(*s);
  } else {
    out->set_version(VersionText(std::get<cel::Semver>(in)));
  }
}

absl::Status DecodeCapacity(const v1::DeviceCapacity& in, absl::string_view path,
                            DeviceCapacity* out) {
  absl::StatusOr<cel::CapacityValue> value = cel::CapacityValue::Parse(in.value());
  if (!value.ok()) return FieldError(JoinPath(path, "value"), value.status().message());
  out->value = *std::move(value);
  if (!in.has_request_policy()) return absl::OkStatus();
  const v1::CapacityRequestPolicy& p = in.request_policy();
  const std::string ppath = JoinPath(path, "requestPolicy");
  CapacityRequestPolicy& policy = out->request_policy.emplace();
  RETURN_IF_ERROR(DecodeOptionalQuantity(p.has_default_(), p.default_(),
                                         JoinPath(ppath, "default"), &policy.default_value));
  for (int i = 0; i < p.valid_values_size(); ++i) {
    RETURN_IF_ERROR(DecodeQuantity(p.valid_values(i), IndexPath(JoinPath(ppath, "validValues"), i),
                                   &policy.valid_values.emplace_back()));
  }
  if (p.has_valid_range()) {
    const v1::CapacityRequestPolicyRange& r = p.valid_range();
    const std::string rpath = JoinPath(ppath, "validRange");
    CapacityRequestPolicyRange& range = policy.valid_range.emplace();
    RETURN_IF_ERROR(DecodeOptionalQuantity(r.has_min(), r.min(), JoinPath(rpath, "min"), &range.min));
    RETURN_IF_ERROR(DecodeOptionalQuantity(r.has_max(), r.max(), JoinPath(rpath, "max"), &range.max));
    RETURN_IF_ERROR(
        DecodeOptionalQuantity(r.has_step(), r.step(), JoinPath(rpath, "step"), &range.step));
  }
  return absl::OkStatus();
}

absl::Status DecodeDevice(const v1::Device& in, absl::string_view path, Device* out) {
  if (in.name().empty()) return Missing(JoinPath(path, "name"));
  out->name = in.name();
  std::map<std::string, const v1::DeviceAttribute*> attributes;
  for (const auto& [name, value] : in.attributes()) attributes.emplace(name, &value);
  for (const auto& [name, value] : attributes) {
    RETURN_IF_ERROR(DecodeAttribute(*value, JoinPath(JoinPath(path, "attributes"), name),
                                    &out->attributes[name]));
  }
  std::map<std::string, const v1::DeviceCapacity*> capacity;
  for (const auto& [name, value] : in.capacity()) capacity.emplace(name, &value);
  for (const auto& [name, value] : capacity) {
    DeviceCapacity decoded;
    RETURN_IF_ERROR(DecodeCapacity(*value, JoinPath(JoinPath(path, "capacity"), name), &decoded));
    out->capacity.emplace(name, std::move(decoded));
  }
  for (int i = 0; i < in.consumes_counters_size(); ++i) {
    const v1::DeviceCounterConsumption& c = in.consumes_counters(i);
    DeviceCounterConsumption& consumption = out->consumes_counters.emplace_back();
    consumption.counter_set = c.counter_set();
    RETURN_IF_ERROR(DecodeQuantities(
        c.counters(), JoinPath(IndexPath(JoinPath(path, "consumesCounters"), i), "counters"),
        &consumption.counters));
  }
  if (in.has_node_name()) out->node_name = in.node_name();
  if (in.has_node_selector()) {
    RETURN_IF_ERROR(DecodeNodeSelectorAt(in.node_selector(), JoinPath(path, "nodeSelector"),
                                         &out->node_selector.emplace()));
  }
  if (in.has_all_nodes()) out->all_nodes = in.all_nodes();
  for (int i = 0; i < in.taints_size(); ++i) {
    const v1::DeviceTaint& t = in.taints(i);
    DeviceTaint& taint = out->taints.emplace_back();
    taint.key = t.key();
    taint.value = t.value();
    taint.effect = DeviceTaintEffect::kUnknown;
    for (const auto& name : kDeviceTaintEffects) {
      if (name.name == t.effect()) taint.effect = name.value;
    }
  }
  if (in.has_binds_to_node()) out->binds_to_node = in.binds_to_node();
  out->binding_conditions.assign(in.binding_conditions().begin(), in.binding_conditions().end());
  out->binding_failure_conditions.assign(in.binding_failure_conditions().begin(),
                                         in.binding_failure_conditions().end());
  if (in.has_allow_multiple_allocations()) {
    out->allow_multiple_allocations = in.allow_multiple_allocations();
  }
  return absl::OkStatus();
}

void EncodeDevice(const Device& in, v1::Device* out) {
  out->set_name(in.name);
  for (const auto& [name, value] : in.attributes) {
    EncodeAttribute(value, &(*out->mutable_attributes())[name]);
  }
  for (const auto& [name, cap] : in.capacity) {
    v1::DeviceCapacity& c = (*out->mutable_capacity())[name];
    c.set_value(cap.value.quantity.ToString());
    if (!cap.request_policy) continue;
    v1::CapacityRequestPolicy* p = c.mutable_request_policy();
    if (cap.request_policy->default_value) {
      p->set_default_(cap.request_policy->default_value->ToString());
    }
    for (const Quantity& q : cap.request_policy->valid_values) p->add_valid_values(q.ToString());
    if (const auto& range = cap.request_policy->valid_range) {
      v1::CapacityRequestPolicyRange* r = p->mutable_valid_range();
      if (range->min) r->set_min(range->min->ToString());
      if (range->max) r->set_max(range->max->ToString());
      if (range->step) r->set_step(range->step->ToString());
    }
  }
  for (const DeviceCounterConsumption& c : in.consumes_counters) {
    v1::DeviceCounterConsumption* consumption = out->add_consumes_counters();
    consumption->set_counter_set(c.counter_set);
    EncodeQuantities(c.counters, consumption->mutable_counters());
  }
  if (in.node_name) out->set_node_name(*in.node_name);
  if (in.node_selector) EncodeNodeSelector(*in.node_selector, out->mutable_node_selector());
  if (in.all_nodes) out->set_all_nodes(*in.all_nodes);
  for (const DeviceTaint& t : in.taints) {
    v1::DeviceTaint* taint = out->add_taints();
    taint->set_key(t.key);
    taint->set_value(t.value);
    for (const auto& name : kDeviceTaintEffects) {
      if (name.value == t.effect) taint->set_effect(std::string(name.name));
    }
  }
  if (in.binds_to_node) out->set_binds_to_node(*in.binds_to_node);
  for (const std::string& c : in.binding_conditions) out->add_binding_conditions(c);
  for (const std::string& c : in.binding_failure_conditions) {
    out->add_binding_failure_conditions(c);
  }
  if (in.allow_multiple_allocations) {
    out->set_allow_multiple_allocations(*in.allow_multiple_allocations);
  }
}

absl::Status DecodeRequestSpec(const v1::DeviceRequestSpec& in, absl::string_view path,
                               DeviceRequestSpec* out) {
  out->device_class_name = in.device_class_name();
  RETURN_IF_ERROR(
      DecodeArray(in.selectors(), JoinPath(path, "selectors"), DecodeSelector, &out->selectors));
  out->allocation_mode = in.allocation_mode().empty() ? "ExactCount" : in.allocation_mode();
  // The API server defaults count to 1 for ExactCount; 0 never reaches a stored object.
  out->count = in.count() == 0 ? 1 : in.count();
  if (in.has_admin_access()) out->admin_access = in.admin_access();
  RETURN_IF_ERROR(DecodeArray(in.tolerations(), JoinPath(path, "tolerations"), DecodeToleration,
                              &out->tolerations));
  if (in.has_capacity()) {
    RETURN_IF_ERROR(DecodeQuantities(in.capacity().requests(),
                                     JoinPath(JoinPath(path, "capacity"), "requests"),
                                     &out->capacity.emplace().requests));
  }
  out->has_derived_attributes = in.has_derived_attributes();
  return absl::OkStatus();
}

void EncodeRequestSpec(const DeviceRequestSpec& in, v1::DeviceRequestSpec* out) {
  out->set_device_class_name(in.device_class_name);
  for (const DeviceSelector& s : in.selectors) {
    v1::DeviceSelector* selector = out->add_selectors();
    if (s.cel) selector->set_cel(*s.cel);
  }
  out->set_allocation_mode(in.allocation_mode);
  out->set_count(in.count);
  if (in.admin_access) out->set_admin_access(*in.admin_access);
  for (const DeviceToleration& t : in.tolerations) EncodeToleration(t, out->add_tolerations());
  if (in.capacity) EncodeQuantities(in.capacity->requests, out->mutable_capacity()->mutable_requests());
  out->set_has_derived_attributes(in.has_derived_attributes);
}

absl::Status DecodeRequest(const v1::DeviceRequest& in, absl::string_view path,
                           DeviceRequest* out) {
  out->name = in.name();
  if (in.has_exactly()) {
    RETURN_IF_ERROR(DecodeRequestSpec(in.exactly(), JoinPath(path, "exactly"), &out->exactly.emplace()));
  }
  for (int i = 0; i < in.first_available_size(); ++i) {
    DeviceSubRequest& sub = out->first_available.emplace_back();
    sub.name = in.first_available(i).name();
    RETURN_IF_ERROR(DecodeRequestSpec(in.first_available(i).spec(),
                                      IndexPath(JoinPath(path, "firstAvailable"), i), &sub.spec));
  }
  return absl::OkStatus();
}

absl::Status DecodeConstraint(const v1::DeviceConstraint& in, absl::string_view,
                              DeviceConstraint* out) {
  out->requests.assign(in.requests().begin(), in.requests().end());
  if (in.has_match_attribute()) out->match_attribute = in.match_attribute();
  if (in.has_distinct_attribute()) out->distinct_attribute = in.distinct_attribute();
  return absl::OkStatus();
}

absl::Status DecodeResult(const v1::DeviceRequestAllocationResult& in, absl::string_view path,
                          DeviceRequestAllocationResult* out) {
  out->request = in.request();
  out->driver = in.driver();
  out->pool = in.pool();
  out->device = in.device();
  if (in.has_admin_access()) out->admin_access = in.admin_access();
  RETURN_IF_ERROR(DecodeArray(in.tolerations(), JoinPath(path, "tolerations"), DecodeToleration,
                              &out->tolerations));
  out->binding_conditions.assign(in.binding_conditions().begin(), in.binding_conditions().end());
  out->binding_failure_conditions.assign(in.binding_failure_conditions().begin(),
                                         in.binding_failure_conditions().end());
  if (in.has_share_id()) out->share_id = in.share_id();
  return DecodeQuantities(in.consumed_capacity(), JoinPath(path, "consumedCapacity"),
                          &out->consumed_capacity);
}

}  // namespace

absl::Status DecodeAllocationResult(const v1::AllocationResult& in, absl::string_view path,
                                    AllocationResult* out) {
  RETURN_IF_ERROR(DecodeArray(in.devices(), JoinPath(JoinPath(path, "devices"), "results"),
                              DecodeResult, &out->devices));
  if (in.has_node_selector()) {
    RETURN_IF_ERROR(DecodeNodeSelectorAt(in.node_selector(), JoinPath(path, "nodeSelector"),
                                         &out->node_selector.emplace()));
  }
  if (in.has_allocation_unix_nanos()) out->allocation_unix_nanos = in.allocation_unix_nanos();
  return absl::OkStatus();
}

absl::StatusOr<DeviceClass> DecodeDeviceClass(const v1::DeviceClass& in,
                                              absl::string_view location) {
  if (in.name().empty()) return Annotate(Unnamed("DeviceClass", location), Missing("metadata.name"));
  DeviceClass out;
  out.name = in.name();
  RETURN_IF_ERROR(Annotate(absl::StrCat("DeviceClass ", Quote(out.name)),
                           DecodeArray(in.selectors(), "spec.selectors", DecodeSelector,
                                       &out.selectors)));
  if (in.has_extended_resource_name()) out.extended_resource_name = in.extended_resource_name();
  return out;
}

absl::StatusOr<ResourceSlice> DecodeResourceSlice(const v1::ResourceSlice& in,
                                                  absl::string_view location) {
  if (in.name().empty()) {
    return Annotate(Unnamed("ResourceSlice", location), Missing("metadata.name"));
  }
  ResourceSlice out;
  out.name = in.name();
  const std::string who = absl::StrCat("ResourceSlice ", Quote(out.name));
  if (in.driver().empty()) return Annotate(who, Missing("spec.driver"));
  if (in.pool_name().empty()) return Annotate(who, Missing("spec.pool.name"));
  out.driver = in.driver();
  out.pool = ResourcePool{in.pool_name(), in.pool_generation(), in.pool_resource_slice_count()};
  if (in.has_node_name()) out.node_name = in.node_name();
  if (in.has_node_selector()) {
    RETURN_IF_ERROR(Annotate(who, DecodeNodeSelectorAt(in.node_selector(), "spec.nodeSelector",
                                                       &out.node_selector.emplace())));
  }
  if (in.has_all_nodes()) out.all_nodes = in.all_nodes();
  if (in.has_per_device_node_selection()) {
    out.per_device_node_selection = in.per_device_node_selection();
  }
  RETURN_IF_ERROR(
      Annotate(who, DecodeArray(in.devices(), "spec.devices", DecodeDevice, &out.devices)));
  for (int i = 0; i < in.shared_counters_size(); ++i) {
    CounterSet& set = out.shared_counters.emplace_back();
    set.name = in.shared_counters(i).name();
    RETURN_IF_ERROR(Annotate(
        who, DecodeQuantities(in.shared_counters(i).counters(),
                              JoinPath(IndexPath("spec.sharedCounters", i), "counters"),
                              &set.counters)));
  }
  out.uses_disabled_feature = in.uses_disabled_feature();
  return out;
}

absl::StatusOr<ResourceClaim> DecodeResourceClaim(const v1::ResourceClaim& in,
                                                  absl::string_view location) {
  if (in.name().empty()) {
    return Annotate(Unnamed("ResourceClaim", location), Missing("metadata.name"));
  }
  if (in.namespace_().empty()) {
    return Annotate(absl::StrCat("ResourceClaim ", Quote(in.name())), Missing("metadata.namespace"));
  }
  ResourceClaim out;
  out.name_space = in.namespace_();
  out.name = in.name();
  out.uid = in.uid();
  const std::string who = absl::StrCat("ResourceClaim ", Quote(out.Key()));
  if (in.has_deletion_unix_nanos()) out.deletion_unix_nanos = in.deletion_unix_nanos();
  out.controller_pod_uid = in.controller_pod_uid();
  RETURN_IF_ERROR(Annotate(who, DecodeArray(in.requests(), "spec.devices.requests", DecodeRequest,
                                            &out.requests)));
  RETURN_IF_ERROR(Annotate(who, DecodeArray(in.constraints(), "spec.devices.constraints",
                                            DecodeConstraint, &out.constraints)));
  if (in.has_allocation()) {
    RETURN_IF_ERROR(Annotate(
        who, DecodeAllocationResult(in.allocation(), "status.allocation", &out.allocation.emplace())));
  }
  for (const v1::ResourceClaimConsumerReference& r : in.reserved_for()) {
    out.reserved_for.push_back(
        ResourceClaimConsumerReference{r.api_group(), r.resource(), r.name(), r.uid()});
  }
  for (const v1::AllocatedDeviceStatus& s : in.device_statuses()) {
    AllocatedDeviceStatus& status = out.device_statuses.emplace_back();
    status.driver = s.driver();
    status.pool = s.pool();
    status.device = s.device();
    if (s.has_share_id()) status.share_id = s.share_id();
    status.conditions.insert(s.conditions().begin(), s.conditions().end());
  }
  return out;
}

void ToProto(const AllocationResult& in, v1::AllocationResult* out) {
  out->Clear();
  for (const DeviceRequestAllocationResult& r : in.devices) {
    v1::DeviceRequestAllocationResult* result = out->add_devices();
    result->set_request(r.request);
    result->set_driver(r.driver);
    result->set_pool(r.pool);
    result->set_device(r.device);
    if (r.admin_access) result->set_admin_access(*r.admin_access);
    for (const DeviceToleration& t : r.tolerations) EncodeToleration(t, result->add_tolerations());
    for (const std::string& c : r.binding_conditions) result->add_binding_conditions(c);
    for (const std::string& c : r.binding_failure_conditions) {
      result->add_binding_failure_conditions(c);
    }
    if (r.share_id) result->set_share_id(*r.share_id);
    EncodeQuantities(r.consumed_capacity, result->mutable_consumed_capacity());
  }
  if (in.node_selector) EncodeNodeSelector(*in.node_selector, out->mutable_node_selector());
  if (in.allocation_unix_nanos) out->set_allocation_unix_nanos(*in.allocation_unix_nanos);
}

void ToProto(const DeviceClass& in, v1::DeviceClass* out) {
  out->Clear();
  out->set_name(in.name);
  for (const DeviceSelector& s : in.selectors) {
    v1::DeviceSelector* selector = out->add_selectors();
    if (s.cel) selector->set_cel(*s.cel);
  }
  if (in.extended_resource_name) out->set_extended_resource_name(*in.extended_resource_name);
}

void ToProto(const ResourceSlice& in, v1::ResourceSlice* out) {
  out->Clear();
  out->set_name(in.name);
  out->set_driver(in.driver);
  out->set_pool_name(in.pool.name);
  out->set_pool_generation(in.pool.generation);
  out->set_pool_resource_slice_count(in.pool.resource_slice_count);
  if (in.node_name) out->set_node_name(*in.node_name);
  if (in.node_selector) EncodeNodeSelector(*in.node_selector, out->mutable_node_selector());
  if (in.all_nodes) out->set_all_nodes(*in.all_nodes);
  if (in.per_device_node_selection) {
    out->set_per_device_node_selection(*in.per_device_node_selection);
  }
  for (const Device& d : in.devices) EncodeDevice(d, out->add_devices());
  for (const CounterSet& set : in.shared_counters) {
    v1::CounterSet* s = out->add_shared_counters();
    s->set_name(set.name);
    EncodeQuantities(set.counters, s->mutable_counters());
  }
  out->set_uses_disabled_feature(in.uses_disabled_feature);
}

void ToProto(const ResourceClaim& in, v1::ResourceClaim* out) {
  out->Clear();
  out->set_namespace_(in.name_space);
  out->set_name(in.name);
  out->set_uid(in.uid);
  if (in.deletion_unix_nanos) out->set_deletion_unix_nanos(*in.deletion_unix_nanos);
  out->set_controller_pod_uid(in.controller_pod_uid);
  for (const DeviceRequest& r : in.requests) {
    v1::DeviceRequest* request = out->add_requests();
    request->set_name(r.name);
    if (r.exactly) EncodeRequestSpec(*r.exactly, request->mutable_exactly());
    for (const DeviceSubRequest& sub : r.first_available) {
      v1::DeviceSubRequest* s = request->add_first_available();
      s->set_name(sub.name);
      EncodeRequestSpec(sub.spec, s->mutable_spec());
    }
  }
  for (const DeviceConstraint& c : in.constraints) {
    v1::DeviceConstraint* constraint = out->add_constraints();
    for (const std::string& r : c.requests) constraint->add_requests(r);
    if (c.match_attribute) constraint->set_match_attribute(*c.match_attribute);
    if (c.distinct_attribute) constraint->set_distinct_attribute(*c.distinct_attribute);
  }
  if (in.allocation) ToProto(*in.allocation, out->mutable_allocation());
  for (const ResourceClaimConsumerReference& r : in.reserved_for) {
    v1::ResourceClaimConsumerReference* ref = out->add_reserved_for();
    ref->set_api_group(r.api_group);
    ref->set_resource(r.resource);
    ref->set_name(r.name);
    ref->set_uid(r.uid);
  }
  for (const AllocatedDeviceStatus& s : in.device_statuses) {
    v1::AllocatedDeviceStatus* status = out->add_device_statuses();
    status->set_driver(s.driver);
    status->set_pool(s.pool);
    status->set_device(s.device);
    if (s.share_id) status->set_share_id(*s.share_id);
    for (const auto& [type, is_true] : s.conditions) (*status->mutable_conditions())[type] = is_true;
  }
}

}  // namespace sextant::server
