// Dynamic Resource Allocation (resource.k8s.io/v1): the objects the engine allocates devices
// with. DeviceClass and ResourceSlice describe what exists; ResourceClaim asks for devices and,
// once allocated, records which ones it holds. Plain value types mirroring the API fields the
// scheduler reads (no JSON or protobuf types); copyable, immutable once handed to ClusterState,
// safe to read from any thread. docs/dra.md describes what is supported and what is not.
#ifndef SEXTANT_DRA_H_
#define SEXTANT_DRA_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sextant/cel.h"
#include "sextant/model.h"
#include "sextant/quantity.h"

namespace sextant {

// At most this many devices in one claim's allocation (resourceapi.AllocationResultsMaxSize).
inline constexpr int kAllocationResultsMaxSize = 32;
// firstAvailable holds at most this many subrequests; a subrequest at index i scores
// kFirstAvailableMaxSize - i in DynamicResources' Score.
inline constexpr int kFirstAvailableMaxSize = 8;
// The finalizer the scheduler puts on claims it allocates.
inline constexpr char kResourceClaimFinalizer[] = "resource.kubernetes.io/delete-protection";

// ---- Devices (ResourceSlice.spec.devices[]) ----

// A device attribute: int, bool, string or version (the single-value types; list-valued
// attributes belong to an alpha feature that is off and are not read).
using DeviceAttributeValue = cel::AttributeValue;

struct CapacityRequestPolicyRange {
  std::optional<Quantity> min;
  std::optional<Quantity> max;
  std::optional<Quantity> step;
};

// How much of a consumable capacity one allocation may take (DRAConsumableCapacity).
struct CapacityRequestPolicy {
  std::optional<Quantity> default_value;  // "default"
  std::vector<Quantity> valid_values;     // sorted ascending
  std::optional<CapacityRequestPolicyRange> valid_range;
};

struct DeviceCapacity {
  // The value, and how it was written (CEL's asInteger() depends on it).
  cel::CapacityValue value;
  std::optional<CapacityRequestPolicy> request_policy;
};

// "None" and unknown effects never prevent allocation; NoSchedule and NoExecute do unless
// tolerated.
enum class DeviceTaintEffect { kNone, kNoSchedule, kNoExecute, kUnknown };

struct DeviceTaint {
  std::string key;
  std::string value;
  DeviceTaintEffect effect = DeviceTaintEffect::kNoSchedule;
};

struct DeviceToleration {
  std::string key;       // empty: every key
  std::string op;        // "Equal" (also when empty) or "Exists"; anything else tolerates nothing
  std::string value;
  std::string effect;    // empty: every effect; else "None", "NoSchedule", "NoExecute"
  std::optional<int64_t> toleration_seconds;
};

struct DeviceCounterConsumption {
  std::string counter_set;
  std::map<std::string, Quantity> counters;
};

struct Device {
  std::string name;
  // Qualified name ("model" in the driver's domain, or "domain/model") -> value.
  std::map<std::string, DeviceAttributeValue> attributes;
  std::map<std::string, DeviceCapacity> capacity;
  std::vector<DeviceCounterConsumption> consumes_counters;
  // Per-device node selection, read only when the slice has perDeviceNodeSelection.
  std::optional<std::string> node_name;
  std::optional<NodeSelector> node_selector;
  std::optional<bool> all_nodes;
  std::vector<DeviceTaint> taints;
  std::optional<bool> binds_to_node;
  std::vector<std::string> binding_conditions;
  std::vector<std::string> binding_failure_conditions;
  std::optional<bool> allow_multiple_allocations;
};

// ---- ResourceSlice ----

struct ResourcePool {
  std::string name;
  int64_t generation = 0;
  int64_t resource_slice_count = 0;
};

struct CounterSet {
  std::string name;
  std::map<std::string, Quantity> counters;
};

// A slice names its nodes in exactly one way: nodeName, nodeSelector, allNodes, or
// perDeviceNodeSelection (then each device does). A slice with none of them is ignored, as
// upstream treats it as a future extension.
struct ResourceSlice {
  std::string name;
  std::string driver;
  ResourcePool pool;
  std::optional<std::string> node_name;
  std::optional<NodeSelector> node_selector;
  std::optional<bool> all_nodes;
  std::optional<bool> per_device_node_selection;
  std::vector<Device> devices;
  std::vector<CounterSet> shared_counters;
  // A device consumes counters with compatibility groups (an alpha feature that is off): the
  // allocator ignores the whole slice, which leaves its pool incomplete, as upstream does.
  bool uses_disabled_feature = false;
};

// ---- DeviceClass ----

// A device selector; only CEL exists today. A selector without it (a future type) fails the
// allocation with upstream's error.
struct DeviceSelector {
  std::optional<std::string> cel;
};

struct DeviceClass {
  std::string name;
  std::vector<DeviceSelector> selectors;
  // spec.extendedResourceName (DRAExtendedResource): recorded, not acted on (docs/dra.md).
  std::optional<std::string> extended_resource_name;
};

// ---- ResourceClaim ----

struct CapacityRequirements {
  std::map<std::string, Quantity> requests;
};

// The fields an exactly-request and a firstAvailable subrequest share; the allocator treats
// both alike (upstream's requestAccessor).
struct DeviceRequestSpec {
  std::string device_class_name;
  std::vector<DeviceSelector> selectors;
  std::string allocation_mode = "ExactCount";  // "ExactCount" or "All"; others are an error
  int64_t count = 1;
  std::optional<bool> admin_access;  // exactly-requests only
  std::vector<DeviceToleration> tolerations;
  std::optional<CapacityRequirements> capacity;
  // derivedAttributes is set (an alpha feature that is off): the allocation fails with
  // upstream's error.
  bool has_derived_attributes = false;
};

struct DeviceSubRequest {
  std::string name;
  DeviceRequestSpec spec;
};

struct DeviceRequest {
  std::string name;
  std::optional<DeviceRequestSpec> exactly;
  std::vector<DeviceSubRequest> first_available;
};

// Exactly one of match_attribute / distinct_attribute is set in a valid claim; neither fails
// the allocation ("empty constraint").
struct DeviceConstraint {
  std::vector<std::string> requests;  // empty: every request
  std::optional<std::string> match_attribute;     // fully qualified "domain/name"
  std::optional<std::string> distinct_attribute;  // fully qualified "domain/name"
};

struct DeviceRequestAllocationResult {
  std::string request;  // "request" or "request/subrequest"
  std::string driver;
  std::string pool;
  std::string device;
  std::optional<bool> admin_access;
  std::vector<DeviceToleration> tolerations;
  std::vector<std::string> binding_conditions;
  std::vector<std::string> binding_failure_conditions;
  std::optional<std::string> share_id;  // set for a share of a multi-allocatable device
  std::map<std::string, Quantity> consumed_capacity;
};

struct AllocationResult {
  std::vector<DeviceRequestAllocationResult> devices;  // status.allocation.devices.results
  // Where the allocated devices are reachable; absent: everywhere.
  std::optional<NodeSelector> node_selector;
  std::optional<int64_t> allocation_unix_nanos;  // allocationTimestamp
};

struct ResourceClaimConsumerReference {
  std::string api_group;  // "" for pods
  std::string resource;   // "pods"
  std::string name;
  std::string uid;
};

// status.devices[]: what a driver reports about an allocated device; the scheduler reads the
// conditions named by the allocation's binding (failure) conditions.
struct AllocatedDeviceStatus {
  std::string driver;
  std::string pool;
  std::string device;
  std::optional<std::string> share_id;
  std::map<std::string, bool> conditions;  // condition type -> status is "True"
};

struct ResourceClaim {
  std::string name_space;
  std::string name;
  std::string uid;
  std::optional<int64_t> deletion_unix_nanos;
  // The UID of the controller owner reference when it is a Pod ("v1", kind Pod): a claim made
  // from a template belongs to that pod only.
  std::string controller_pod_uid;
  // spec.devices
  std::vector<DeviceRequest> requests;
  std::vector<DeviceConstraint> constraints;
  // status
  std::optional<AllocationResult> allocation;
  std::vector<ResourceClaimConsumerReference> reserved_for;
  std::vector<AllocatedDeviceStatus> device_statuses;

  std::string Key() const { return name_space + "/" + name; }
};

}  // namespace sextant

#endif  // SEXTANT_DRA_H_
