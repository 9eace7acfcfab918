// Evaluate: one scheduling cycle for one pod over EVERY node of a ClusterState (no sampling):
// the filters and scorers of the upstream default profile, with upstream semantics, reasons,
// normalisation and weights, and the chosen node. An Evaluator is immutable after construction
// and safe to call from several threads at once, each call on a state that is not changing.
#ifndef SEXTANT_EVALUATE_H_
#define SEXTANT_EVALUATE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sextant/cluster_state.h"
#include "sextant/gpu.h"
#include "sextant/model.h"

namespace sextant {

enum class ScoringStrategyType { kLeastAllocated, kMostAllocated, kRequestedToCapacityRatio };

struct ResourceSpec {
  std::string name;
  int64_t weight = 1;
};

struct UtilizationShapePoint {
  int32_t utilization = 0;  // 0..100
  int32_t score = 0;        // 0..10, scaled to 0..100 as upstream
};

// NodeResourcesFitArgs.scoringStrategy.
struct ScoringStrategy {
  ScoringStrategyType type = ScoringStrategyType::kLeastAllocated;
  // Resources and weights scored; upstream's default is cpu and memory, weight 1 each.
  std::vector<ResourceSpec> resources = {{"cpu", 1}, {"memory", 1}};
  // Only for kRequestedToCapacityRatio: points of increasing utilization.
  std::vector<UtilizationShapePoint> shape;
};

// Sextant's GPU placement in the profile (docs/gpu-placement.md, "The live path"): for GPU pods
// (a DRA claim to allocate with exactly one ExactCount request, src/plugins/sextant_gpu.h), the
// policy scores every node DynamicResources found feasible, from the devices the request could
// use there, and its device choice is what the allocator tries first when the pod is assumed.
// Pods without claims are scored too (score_cpu_pods); other pods score 0 in its slot. Not an
// upstream plugin: parity runs turn it off.
struct GpuPlacementOptions {
  bool enabled = true;
  GpuPolicy policy = GpuPolicy::kSextant;
  // Weight of the policy's 0..100 score. 0 (the default) makes the policy decide: 1 + 100 x the
  // sum of the other score plugins' weights (1301 with upstream's weights), more than all of
  // them can add together, so they only break the policy's ties. At most 1000000.
  int64_t weight = 0;
  // The consumable device capacity that holds a GPU's share in milli-GPU (a device publishes
  // 1000; a claim asks "470" for 47% of one GPU). A qualified name: "domain/name", or a bare name
  // in the device driver's domain.
  std::string capacity_name = "gpu.sextant.dev/milli";
  // Score pods without resource claims (CPU-only pods) too, on each node's GPUs (its devices
  // with the milli capacity), as the trace replay does. Under FGD and Sextant such a pod never
  // scores above a node without GPUs: it only steers away from nodes where its cpu would leave
  // GPUs that the expected GPU pods could no longer use; ties among the rest keep upstream's
  // scoring and the seeded pick.
  bool score_cpu_pods = true;
};

// The profile: which plugins run and how they weigh. Defaults are upstream's default profile
// restricted to the plugins Sextant implements.
struct ProfileOptions {
  // NodeResourcesFit scoring strategy.
  ScoringStrategy fit_scoring;
  // NodeResourcesFit ignoredResources / ignoredResourceGroups (extended resources only).
  std::vector<std::string> ignored_resources;
  std::vector<std::string> ignored_resource_groups;
  // NodeResourcesBalancedAllocationArgs.resources.
  std::vector<ResourceSpec> balanced_allocation_resources = {{"cpu", 1}, {"memory", 1}};
  // Score plugin weights (0 disables the scorer), upstream defaults.
  int64_t taint_toleration_weight = 3;
  int64_t node_affinity_weight = 2;
  int64_t node_resources_fit_weight = 1;
  int64_t balanced_allocation_weight = 1;
  int64_t pod_topology_spread_weight = 2;
  int64_t inter_pod_affinity_weight = 2;
  int64_t dynamic_resources_weight = 2;
  // InterPodAffinityArgs.
  int32_t hard_pod_affinity_weight = 1;  // 0..100
  bool ignore_preferred_terms_of_existing_pods = false;
  // PodTopologySpreadArgs: defaultingType System (hostname maxSkew 3, zone maxSkew 5,
  // ScheduleAnyway), or List with these constraints (no labelSelector: the pod's default
  // selector is used, Pod::default_spread_selector).
  bool spread_system_defaulting = true;
  std::vector<TopologySpreadConstraint> spread_default_constraints;
  // Sextant option, off by default (upstream orders victims of equal priority by start time
  // only): among victims of equal priority, evict BestEffort before Burstable before Guaranteed,
  // which keeps Guaranteed services running when batch pods of the same priority can go.
  bool preemption_prefers_lower_qos_victims = false;
  // DynamicResourcesArgs.bindingTimeout (upstream's default, 10 minutes; at least 1 s): an
  // allocated claim whose devices' binding conditions are not all met this long after its
  // allocation timestamp is unavailable on every node, as upstream's isClaimTimeout decides.
  int64_t dra_binding_timeout_seconds = 600;
  // The clock that timeout is measured against (upstream reads time.Now() in Filter); empty:
  // the system clock. Tests and replays inject their own.
  std::function<absl::Time()> clock;
  // Sextant's GPU placement; on by default.
  GpuPlacementOptions gpu_placement;
  // Threads that share one Evaluate (the caller's included); 0 means the hardware concurrency.
  int parallelism = 0;
  // Fewer live nodes than this are evaluated on the calling thread alone.
  int min_nodes_for_parallelism = 2048;
};

// Checks the options the way upstream validates plugin args; InvalidArgument names the field.
absl::Status ValidateProfileOptions(const ProfileOptions& options);

enum class FilterCode : uint8_t { kSuccess, kUnschedulable, kUnschedulableAndUnresolvable };

enum class PluginId : uint8_t {
  kNone,
  kNodeName,
  kNodeUnschedulable,
  kTaintToleration,
  kNodeAffinity,
  kNodeResourcesFit,
  kNodeResourcesBalancedAllocation,
  kPodTopologySpread,
  kInterPodAffinity,
  kDynamicResources,
  kSextantGpu,
};
const char* PluginName(PluginId plugin);

// The score plugins, in the order NodeVerdict::plugin_scores holds them.
inline constexpr int kNumScorePlugins = 8;
inline constexpr PluginId kScorePlugins[kNumScorePlugins] = {
    PluginId::kTaintToleration,   PluginId::kNodeAffinity,
    PluginId::kNodeResourcesFit,  PluginId::kNodeResourcesBalancedAllocation,
    PluginId::kPodTopologySpread, PluginId::kInterPodAffinity,
    PluginId::kDynamicResources,  PluginId::kSextantGpu};
inline constexpr int kDynamicResourcesScoreSlot = 6;
inline constexpr int kSextantGpuScoreSlot = 7;

// The weight the profile gives Sextant's GPU placement (GpuPlacementOptions::weight, with 0
// resolved); 0 when it is disabled.
int64_t EffectiveGpuPlacementWeight(const ProfileOptions& options);

struct NodeVerdict {
  uint32_t node = 0;  // index into ClusterState::node()
  FilterCode code = FilterCode::kSuccess;
  PluginId plugin = PluginId::kNone;  // the first filter that failed
  // Set when a PreFilter narrowed the candidates (nodeName, matchFields) and left this node out.
  bool excluded_by_prefilter = false;
  // NodeResourcesFit failures: bit 0 pods, 1 cpu, 2 memory, 3 ephemeral-storage,
  // 4+i the pod's i-th scalar resource (Evaluation::scalar_resource_names).
  uint64_t fit_mask = 0;
  // Which of the failing plugin's reasons (PodTopologySpreadReason, InterPodAffinityReason,
  // DynamicResourcesReason).
  uint8_t reason = 0;
  // Feasible nodes only: normalised score of each score plugin (before weights), and the total.
  int32_t plugin_scores[kNumScorePlugins] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t score = 0;
};

struct Evaluation {
  std::string pod_key;
  QosClass qos = QosClass::kBestEffort;
  int64_t node_count = 0;  // live nodes considered ("0/N nodes are available")
  // When a PreFilter rejected the pod outright (every node fails with this message).
  std::string prefilter_message;
  PluginId prefilter_plugin = PluginId::kNone;
  // One entry per live node, in state order. Empty when prefilter_message is set.
  std::vector<NodeVerdict> verdicts;
  int64_t feasible_count = 0;
  // Index into verdicts of the selected node: the highest total score, ties broken by the
  // caller's random value. Empty when no node is feasible.
  std::optional<size_t> chosen;
  std::vector<std::string> scalar_resource_names;
  // The names of plugins that narrowed the candidate set in PreFilter, sorted.
  std::vector<std::string> prefilter_narrowing_plugins;
  // A plugin failed the cycle with an error (upstream's Error status): no node is chosen and the
  // caller reports this instead of the verdicts.
  std::string error;
  // DynamicResources: the pod's allocated claims ("namespace/name") unreachable from some node.
  std::vector<std::string> unavailable_claims;

  // Upstream-style reasons of one verdict ("Insufficient cpu", "node(s) had untolerated taint(s)").
  std::vector<std::string> Reasons(const NodeVerdict& verdict) const;
  // The upstream FitError text: "0/N nodes are available: 3 Insufficient cpu, 2 node(s) ...".
  std::string FitErrorMessage() const;
};

class Evaluator {
 public:
  // options must be valid (ValidateProfileOptions).
  explicit Evaluator(ProfileOptions options);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // Runs PreFilter, Filter on every live node, PreScore/Score/NormalizeScore on the feasible ones,
  // and selects a node. random_value picks among equal best scores (tie index = value % ties).
  // The node names in the result refer to `state`, which must not change during the call.
  Evaluation Evaluate(const ClusterState& state, const Pod& pod, uint64_t random_value) const;
  // The same, into *out, reusing its buffers: a caller evaluating many pods allocates nothing
  // per pod once the buffers have grown.
  void Evaluate(const ClusterState& state, const Pod& pod, uint64_t random_value,
                Evaluation* out) const;

  const ProfileOptions& options() const { return options_; }

 private:
  class Pool;
  ProfileOptions options_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace sextant

#endif  // SEXTANT_EVALUATE_H_
