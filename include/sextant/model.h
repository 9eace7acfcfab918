// The cluster objects the engine schedules with: Node, Pod and the scheduling fields they carry,
// PriorityClass and PodDisruptionBudget. Plain value types mirroring the Kubernetes API fields the
// scheduler reads (core/v1, scheduling/v1, policy/v1); no JSON or protobuf types appear here.
// Values are copyable and immutable once handed to ClusterState; safe to read from any thread.
#ifndef SEXTANT_MODEL_H_
#define SEXTANT_MODEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sextant/quantity.h"

namespace sextant {

// Resource names as the API spells them; map order keeps reports and errors deterministic.
using ResourceList = std::map<std::string, Quantity>;
using Labels = std::map<std::string, std::string>;

inline constexpr char kResourceCpu[] = "cpu";
inline constexpr char kResourceMemory[] = "memory";
inline constexpr char kResourceEphemeralStorage[] = "ephemeral-storage";
inline constexpr char kResourcePods[] = "pods";

// ---- Taints and tolerations (core/v1) ----

// kNone is only valid on a Toleration, where an empty effect matches every effect.
enum class TaintEffect { kNone, kNoSchedule, kPreferNoSchedule, kNoExecute };

struct Taint {
  std::string key;
  std::string value;
  TaintEffect effect = TaintEffect::kNoSchedule;
};

// kLt / kGt are the alpha comparison operators (TaintTolerationComparisonOperators, off by default
// in the reference release): accepted on input, and, as upstream with the gate off, never tolerate.
enum class TolerationOperator { kEqual, kExists, kLt, kGt };

struct Toleration {
  std::string key;  // empty with kExists tolerates every key
  TolerationOperator op = TolerationOperator::kEqual;
  std::string value;
  TaintEffect effect = TaintEffect::kNone;
  std::optional<int64_t> toleration_seconds;
};

// ---- Node selectors (core/v1 NodeSelector) ----

enum class SelectorOperator { kIn, kNotIn, kExists, kDoesNotExist, kGt, kLt };

struct SelectorRequirement {
  std::string key;
  SelectorOperator op = SelectorOperator::kIn;
  std::vector<std::string> values;
};

struct NodeSelectorTerm {
  std::vector<SelectorRequirement> match_expressions;  // against node labels
  std::vector<SelectorRequirement> match_fields;       // only metadata.name is supported upstream
};

// Terms are ORed; requirements inside a term are ANDed.
struct NodeSelector {
  std::vector<NodeSelectorTerm> terms;
};

struct PreferredSchedulingTerm {
  int32_t weight = 0;
  NodeSelectorTerm preference;
};

struct NodeAffinity {
  std::optional<NodeSelector> required;  // requiredDuringSchedulingIgnoredDuringExecution
  std::vector<PreferredSchedulingTerm> preferred;
};

// ---- Label selectors (meta/v1 LabelSelector) and pod affinity ----

struct LabelSelector {
  Labels match_labels;
  std::vector<SelectorRequirement> match_expressions;  // In, NotIn, Exists, DoesNotExist
};

struct PodAffinityTerm {
  std::optional<LabelSelector> label_selector;
  std::vector<std::string> namespaces;
  std::string topology_key;
  std::optional<LabelSelector> namespace_selector;
  std::vector<std::string> match_label_keys;
  std::vector<std::string> mismatch_label_keys;
};

struct WeightedPodAffinityTerm {
  int32_t weight = 0;
  PodAffinityTerm term;
};

struct PodAffinity {
  std::vector<PodAffinityTerm> required;
  std::vector<WeightedPodAffinityTerm> preferred;
};

struct Affinity {
  std::optional<NodeAffinity> node_affinity;
  std::optional<PodAffinity> pod_affinity;
  std::optional<PodAffinity> pod_anti_affinity;
};

enum class UnsatisfiableConstraintAction { kDoNotSchedule, kScheduleAnyway };
enum class NodeInclusionPolicy { kHonor, kIgnore };

struct TopologySpreadConstraint {
  int32_t max_skew = 1;
  std::string topology_key;
  UnsatisfiableConstraintAction when_unsatisfiable = UnsatisfiableConstraintAction::kDoNotSchedule;
  std::optional<LabelSelector> label_selector;
  std::optional<int32_t> min_domains;
  std::optional<NodeInclusionPolicy> node_affinity_policy;  // unset means Honor
  std::optional<NodeInclusionPolicy> node_taints_policy;    // unset means Ignore
  std::vector<std::string> match_label_keys;
};

// ---- Pods ----

struct Container {
  std::string name;
  ResourceList requests;
  ResourceList limits;
  // Only meaningful on init containers: "Always" makes it a restartable (sidecar) container.
  std::optional<std::string> restart_policy;
};

// Resources the kubelet reports for a running container (in-place resize).
struct ContainerStatus {
  std::string name;
  std::optional<ResourceList> allocated_resources;  // status.containerStatuses[].allocatedResources
  std::optional<ResourceList> resource_requests;    // status.containerStatuses[].resources.requests
  std::optional<ResourceList> resource_limits;      // status.containerStatuses[].resources.limits
};

// Pod-level resources (spec.resources), overriding the container sums where set.
struct PodResources {
  ResourceList requests;
  ResourceList limits;
};

// spec.resourceClaims[]: exactly one of the two sources is set in a valid pod.
struct PodResourceClaim {
  std::string name;
  std::optional<std::string> resource_claim_name;
  std::optional<std::string> resource_claim_template_name;
};

// status.resourceClaimStatuses[]: the claim generated for a template entry; no claim name
// means none was needed.
struct PodResourceClaimStatus {
  std::string name;
  std::optional<std::string> resource_claim_name;
};

enum class PreemptionPolicy { kPreemptLowerPriority, kNever };
enum class QosClass { kGuaranteed, kBurstable, kBestEffort };

struct Pod {
  // metadata
  std::string name_space;  // "namespace" is a C++ keyword
  std::string name;
  std::string uid;
  Labels labels;
  int64_t creation_unix_nanos = 0;
  std::optional<int64_t> deletion_unix_nanos;

  // spec
  std::string node_name;  // set: bound (running or assumed); empty: pending
  std::string scheduler_name = "default-scheduler";
  std::optional<int32_t> priority;  // spec.priority, resolved by admission
  std::string priority_class_name;
  std::optional<PreemptionPolicy> preemption_policy;
  std::vector<Container> init_containers;
  std::vector<Container> containers;
  ResourceList overhead;
  std::optional<PodResources> resources;
  Labels node_selector;
  std::optional<Affinity> affinity;
  std::vector<Toleration> tolerations;
  std::vector<TopologySpreadConstraint> topology_spread_constraints;

  // Scheduling context, not a pod field: the selector PodTopologySpread's default constraints
  // count with (upstream helper.DefaultSelector over the pod's Services and controller), computed
  // by whoever knows those objects (the shim). Read only for the pod being scheduled; absent or
  // empty gives the pod no default constraints.
  std::optional<LabelSelector> default_spread_selector;
  // spec.resourceClaims: the pod's dynamic resource (DRA) claims.
  std::vector<PodResourceClaim> resource_claims;

  // status
  std::string phase;  // Pending, Running, Succeeded, Failed, Unknown
  std::optional<int64_t> start_unix_nanos;
  std::optional<std::string> nominated_node_name;
  // status.conditions has DisruptionTarget=True with reason PreemptionByScheduler: the pod is
  // being evicted by a preemption (upstream PodTerminatingByPreemption, with a deletion time).
  bool terminating_by_preemption = false;
  std::vector<ContainerStatus> container_statuses;
  std::vector<ContainerStatus> init_container_statuses;
  std::string resize_status;  // deprecated status.resize, when present
  // status.resourceClaimStatuses: the claims made from templates for this pod.
  std::vector<PodResourceClaimStatus> resource_claim_statuses;
  std::string qos_class_reported;  // status.qosClass as recorded, informational only

  // "namespace/name", the key a pod is known by everywhere in the engine.
  std::string Key() const { return name_space + "/" + name; }
  // spec.priority, or 0 when admission did not set it (upstream corev1helpers.PodPriority).
  int32_t Priority() const { return priority.value_or(0); }
};

// ---- Nodes ----

struct Node {
  std::string name;
  Labels labels;
  std::vector<Taint> taints;
  bool unschedulable = false;
  ResourceList capacity;
  ResourceList allocatable;
  int64_t creation_unix_nanos = 0;
};

// ---- Namespaces ----

// Only the labels matter to scheduling: pod affinity terms select namespaces by them.
struct Namespace {
  std::string name;
  Labels labels;
};

// ---- Policy objects ----

struct PriorityClass {
  std::string name;
  int32_t value = 0;
  bool global_default = false;
  PreemptionPolicy preemption_policy = PreemptionPolicy::kPreemptLowerPriority;
};

// An int or a percentage ("25%"), as intstr.IntOrString.
struct IntOrPercent {
  int32_t value = 0;
  bool is_percent = false;
};

struct PodDisruptionBudget {
  std::string name_space;
  std::string name;
  std::optional<LabelSelector> selector;
  std::optional<IntOrPercent> min_available;
  std::optional<IntOrPercent> max_unavailable;
  int32_t disruptions_allowed = 0;  // status.disruptionsAllowed
};

}  // namespace sextant

#endif  // SEXTANT_MODEL_H_
