// The scheduling cycle of the default profile over every node: PreFilter, Filter (first failing
// plugin wins, in upstream order NodeName, NodeUnschedulable, TaintToleration, NodeAffinity,
// NodeResourcesFit, PodTopologySpread, InterPodAffinity), PreScore, Score, NormalizeScore,
// weights, and selection.
#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "framework/cycle_state.h"
#include "framework/parallel.h"
#include "model/selectors.h"
#include "plugins/dynamic_resources.h"
#include "plugins/helper.h"
#include "plugins/inter_pod_affinity.h"
#include "plugins/node_affinity.h"
#include "plugins/node_name.h"
#include "plugins/node_resources_balanced_allocation.h"
#include "plugins/node_resources_fit.h"
#include "plugins/node_unschedulable.h"
#include "plugins/pod_topology_spread.h"
#include "plugins/sextant_gpu.h"
#include "plugins/taint_toleration.h"
#include "sextant/evaluate.h"
#include "sextant/pod_resources.h"
#include "state/node_info.h"

namespace sextant {

class Evaluator::Pool : public WorkerPool {
  using WorkerPool::WorkerPool;
};

namespace {

constexpr int kMaxScoredResources = 16;

// The raw scores that need nothing but the node; PodTopologySpread's needs the feasible set and
// is computed after the pass. InterPodAffinity's raw score is kept in int64 until normalised.
int64_t ScoreNode(const CycleState& cycle, const ProfileOptions& options, const ClusterState& state,
                  uint32_t index, const NodeInfo& node, NodeVerdict& v) {
  v.plugin_scores[0] = TaintTolerationScore(cycle.taint_toleration, node);
  v.plugin_scores[1] = NodeAffinityScore(cycle.node_affinity_score, node);
  v.plugin_scores[2] = NodeResourcesFitScore(cycle.fit_score, options.fit_scoring, node);
  v.plugin_scores[3] = cycle.balanced_skip ? 0 : BalancedAllocationScore(cycle.balanced_score, node);
  return InterPodAffinityScore(cycle.pod_affinity_score, state, index);
}

std::string ResourceSpecPath(const std::string& prefix, size_t i) {
  return absl::StrCat(prefix, "[", i, "]");
}

absl::Status ValidateResourceSpecs(const std::vector<ResourceSpec>& specs, const std::string& path) {
  if (specs.size() > kMaxScoredResources) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": at most ", kMaxScoredResources, " resources can be scored"));
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].weight <= 0 || specs[i].weight > 100) {
      return absl::InvalidArgumentError(absl::StrCat(ResourceSpecPath(path, i),
                                                     ".weight: must be in the range [1, 100]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

const char* PluginName(PluginId plugin) {
  switch (plugin) {
    case PluginId::kNone:
      return "";
    case PluginId::kNodeName:
      return "NodeName";
    case PluginId::kNodeUnschedulable:
      return "NodeUnschedulable";
    case PluginId::kTaintToleration:
      return "TaintToleration";
    case PluginId::kNodeAffinity:
      return "NodeAffinity";
    case PluginId::kNodeResourcesFit:
      return "NodeResourcesFit";
    case PluginId::kNodeResourcesBalancedAllocation:
      return "NodeResourcesBalancedAllocation";
    case PluginId::kPodTopologySpread:
      return "PodTopologySpread";
    case PluginId::kInterPodAffinity:
      return "InterPodAffinity";
    case PluginId::kDynamicResources:
      return "DynamicResources";
    case PluginId::kSextantGpu:
      return "SextantGpu";
  }
  return "";
}

int64_t EffectiveGpuPlacementWeight(const ProfileOptions& options) {
  const GpuPlacementOptions& gpu = options.gpu_placement;
  if (!gpu.enabled) return 0;
  if (gpu.weight > 0) return gpu.weight;
  const int64_t others = options.taint_toleration_weight + options.node_affinity_weight +
                         options.node_resources_fit_weight + options.balanced_allocation_weight +
                         options.pod_topology_spread_weight + options.inter_pod_affinity_weight +
                         options.dynamic_resources_weight;
  return 1 + kMaxNodeScore * others;
}

absl::Status ValidateProfileOptions(const ProfileOptions& options) {
  const ScoringStrategy& s = options.fit_scoring;
  if (s.resources.empty()) {
    return absl::InvalidArgumentError("scoringStrategy.resources: must not be empty");
  }
  if (auto st = ValidateResourceSpecs(s.resources, "scoringStrategy.resources"); !st.ok()) return st;
  if (options.balanced_allocation_resources.size() > kMaxScoredResources) {
    return absl::InvalidArgumentError(absl::StrCat("balancedAllocation.resources: at most ",
                                                   kMaxScoredResources, " resources"));
  }
  // ValidateNodeResourcesBalancedAllocationArgs: unique names, every weight exactly 1.
  for (size_t i = 0; i < options.balanced_allocation_resources.size(); ++i) {
    const ResourceSpec& spec = options.balanced_allocation_resources[i];
    std::string path = ResourceSpecPath("balancedAllocation.resources", i);
    for (size_t j = 0; j < i; ++j) {
      if (options.balanced_allocation_resources[j].name == spec.name) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ".name: Duplicate value: \"", spec.name, "\""));
      }
    }
    if (spec.weight != 1) {
      return absl::InvalidArgumentError(absl::StrCat(path, ".weight: must be 1"));
    }
  }
  // ValidateNodeResourcesFitArgs: ignored resources and groups are label names; groups have no '/'.
  for (size_t i = 0; i < options.ignored_resources.size(); ++i) {
    if (!IsQualifiedName(options.ignored_resources[i])) {
      return absl::InvalidArgumentError(absl::StrCat(ResourceSpecPath("ignoredResources", i),
                                                     ": must be a valid label name"));
    }
  }
  for (size_t i = 0; i < options.ignored_resource_groups.size(); ++i) {
    const std::string& group = options.ignored_resource_groups[i];
    if (group.find('/') != std::string::npos || !IsQualifiedName(group)) {
      return absl::InvalidArgumentError(
          absl::StrCat(ResourceSpecPath("ignoredResourceGroups", i),
                       ": must be a valid label name without '/'"));
    }
  }
  if (s.type == ScoringStrategyType::kRequestedToCapacityRatio) {
    if (s.shape.empty()) {
      return absl::InvalidArgumentError(
          "scoringStrategy.requestedToCapacityRatio.shape: at least one point is required");
    }
    for (size_t i = 0; i < s.shape.size(); ++i) {
      const auto& p = s.shape[i];
      std::string path = ResourceSpecPath("scoringStrategy.requestedToCapacityRatio.shape", i);
      if (p.utilization < 0 || p.utilization > 100) {
        return absl::InvalidArgumentError(absl::StrCat(path, ".utilization: must be in [0, 100]"));
      }
      if (p.score < 0 || p.score > 10) {
        return absl::InvalidArgumentError(absl::StrCat(path, ".score: must be in [0, 10]"));
      }
      if (i > 0 && p.utilization <= s.shape[i - 1].utilization) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ".utilization: values must be sorted in increasing order"));
      }
    }
  }
  for (int64_t w : {options.taint_toleration_weight, options.node_affinity_weight,
                    options.node_resources_fit_weight, options.balanced_allocation_weight,
                    options.pod_topology_spread_weight, options.inter_pod_affinity_weight,
                    options.dynamic_resources_weight}) {
    if (w < 0 || w > 100) {
      return absl::InvalidArgumentError("plugin weights: must be in the range [0, 100]");
    }
  }
  if (options.hard_pod_affinity_weight < 0 || options.hard_pod_affinity_weight > 100) {
    return absl::InvalidArgumentError(
        "interPodAffinity.hardPodAffinityWeight: not in valid range [0-100]");
  }
  if (auto st = ValidatePodTopologySpreadArgs(SpreadArgs(options)); !st.ok()) return st;
  if (options.gpu_placement.weight < 0 || options.gpu_placement.weight > 1000000) {
    return absl::InvalidArgumentError("gpuPlacement.weight: must be in the range [0, 1000000]");
  }
  if (!IsQualifiedName(options.gpu_placement.capacity_name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("gpuPlacement.capacityName: \"", options.gpu_placement.capacity_name,
                     "\" is not a qualified name (domain/name or name)"));
  }
  if (options.dra_binding_timeout_seconds < 1) {
    return absl::InvalidArgumentError(
        "dynamicResources.bindingTimeout: must be at least 1 second");
  }
  if (options.parallelism < 0) {
    return absl::InvalidArgumentError("parallelism: must not be negative");
  }
  return absl::OkStatus();
}

Evaluator::Evaluator(ProfileOptions options) : options_(std::move(options)) {
  int threads = options_.parallelism;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  pool_ = std::make_unique<Pool>(threads - 1);  // the caller is one of the threads
}

Evaluator::~Evaluator() = default;

Evaluation Evaluator::Evaluate(const ClusterState& state, const Pod& pod,
                               uint64_t random_value) const {
  Evaluation out;
  Evaluate(state, pod, random_value, &out);
  return out;
}

void Evaluator::Evaluate(const ClusterState& state, const Pod& pod, uint64_t random_value,
                         Evaluation* result) const {
  Evaluation& out = *result;
  out.prefilter_message.clear();
  out.prefilter_plugin = PluginId::kNone;
  out.feasible_count = 0;
  out.chosen.reset();
  out.scalar_resource_names.clear();
  out.prefilter_narrowing_plugins.clear();
  out.error.clear();
  out.unavailable_claims.clear();
  out.pod_key = pod.Key();
  out.qos = ComputeQosClass(pod);
  const std::vector<uint32_t>& live = state.live_nodes();
  out.node_count = static_cast<int64_t>(live.size());

  CycleState cycle;
  cycle.pod = &pod;

  // ---- PreFilter ----
  cycle.node_affinity = NodeAffinityPreFilter(pod, &state.node_labels());
  if (cycle.node_affinity.conflict) {
    out.verdicts.clear();
    out.prefilter_plugin = PluginId::kNodeAffinity;
    out.prefilter_message = kNodeAffinityConflictReason;
    return;
  }
  cycle.fit = NodeResourcesFitPreFilter(pod, state.resources(), options_);
  for (const auto& scalar : cycle.fit.scalars) out.scalar_resource_names.push_back(scalar.name);

  // PreFilterResult: NodeName and NodeAffinity may restrict the candidates to named nodes.
  std::optional<std::set<std::string>> allowed;
  if (!pod.node_name.empty()) {
    allowed = std::set<std::string>{pod.node_name};
    out.prefilter_narrowing_plugins.push_back(PluginName(PluginId::kNodeName));
  }
  if (cycle.node_affinity.node_names) {
    out.prefilter_narrowing_plugins.insert(out.prefilter_narrowing_plugins.begin(),
                                           PluginName(PluginId::kNodeAffinity));
    if (!allowed) {
      allowed = *cycle.node_affinity.node_names;
    } else {
      std::set<std::string> both;
      for (const auto& name : *allowed) {
        if (cycle.node_affinity.node_names->contains(name)) both.insert(name);
      }
      allowed = std::move(both);
    }
  }
  if (allowed && allowed->empty()) {
    out.verdicts.clear();
    const auto& plugins = out.prefilter_narrowing_plugins;
    out.prefilter_plugin = PluginId::kNodeAffinity;
    out.prefilter_message =
        plugins.size() == 1
            ? absl::StrCat("node(s) didn't satisfy plugin ", plugins[0])
            : absl::StrCat("node(s) didn't satisfy plugin(s) [", absl::StrJoin(plugins, " "),
                           "] simultaneously");
    return;
  }
  // DynamicResources runs last (upstream places it after InterPodAffinity).
  {
    DynamicResourcesPreFilterResult dra = DynamicResourcesPreFilter(pod, state, options_);
    if (!dra.error.empty()) {
      out.verdicts.clear();
      out.error = std::move(dra.error);
      return;
    }
    if (!dra.reject.empty()) {
      out.verdicts.clear();
      out.prefilter_plugin = PluginId::kDynamicResources;
      out.prefilter_message = std::move(dra.reject);
      return;
    }
    cycle.dra = std::move(dra.state);
  }

  // ---- PreScore (pod-only parts; computed up front so Filter and Score fuse in one pass) ----
  cycle.taint_toleration = TaintTolerationPreScore(pod);
  cycle.node_affinity_score = NodeAffinityPreScore(pod);
  cycle.fit_score = ResourceAllocationPreScore(pod, options_.fit_scoring.resources,
                                               state.resources(), /*use_requested=*/false);
  cycle.balanced_score = ResourceAllocationPreScore(pod, options_.balanced_allocation_resources,
                                                    state.resources(), /*use_requested=*/true);
  cycle.balanced_skip = BalancedAllocationSkips(cycle.balanced_score);
  cycle.spread = PodTopologySpreadPreFilter(pod, state, SpreadArgs(options_));
  cycle.pod_affinity = InterPodAffinityPreFilter(pod, state);
  cycle.pod_affinity_score = InterPodAffinityPreScore(
      pod, state,
      InterPodAffinityArgs{options_.hard_pod_affinity_weight,
                           options_.ignore_preferred_terms_of_existing_pods});
  // Sextant's GPU placement: GPU pods (DynamicResources' claims to allocate, one request) and
  // pods without claims.
  cycle.gpu = SextantGpuPreScore(options_.gpu_placement, pod, state, cycle.dra.get(), random_value);

  // ---- Filter and raw Score over every node ----
  // Each range also gathers what normalisation needs (feasible count, highest raw scores), so
  // the verdicts are walked once more only to weigh and select.
  struct RangeSummary {
    int64_t feasible = 0;
    int64_t max_taint = 0;
    int64_t max_affinity = 0;
    int64_t min_pod_affinity = INT64_MAX;
    int64_t max_pod_affinity = INT64_MIN;
    bool any_gpus = false;  // SextantGpu: a feasible node has GPUs
  };
  // InterPodAffinity raw scores of the feasible nodes, by verdict index (int64 before
  // normalisation).
  std::vector<int64_t> pod_affinity_raw;
  if (!cycle.pod_affinity_score.skip) pod_affinity_raw.resize(live.size());
  out.verdicts.resize(live.size());
  auto evaluate_range = [&](size_t begin, size_t end) {
    RangeSummary summary;
    for (size_t i = begin; i < end; ++i) {
      NodeVerdict& v = out.verdicts[i];
      v = NodeVerdict{};
      v.node = live[i];
      const NodeInfo& node = state.node(live[i]);
      if (allowed && !allowed->contains(node.node->name)) {
        v.excluded_by_prefilter = true;
        v.code = FilterCode::kUnschedulableAndUnresolvable;
        continue;
      }
      FilterNodeWithNominatedPods(cycle, state, live[i], node, v);
      if (v.code != FilterCode::kSuccess) continue;
      int64_t pod_affinity = ScoreNode(cycle, options_, state, live[i], node, v);
      if (!cycle.gpu.skip) {
        const SextantGpuNodeScore gpu = SextantGpuScore(cycle.gpu, state, live[i], node);
        v.plugin_scores[kSextantGpuScoreSlot] = static_cast<int32_t>(
            std::clamp<double>(gpu.score, std::numeric_limits<int32_t>::min(),
                               std::numeric_limits<int32_t>::max()));
        if (gpu.gpus > 0) summary.any_gpus = true;
      }
      if (!cycle.pod_affinity_score.skip) {
        pod_affinity_raw[i] = pod_affinity;
        summary.min_pod_affinity = std::min(summary.min_pod_affinity, pod_affinity);
        summary.max_pod_affinity = std::max(summary.max_pod_affinity, pod_affinity);
      }
      ++summary.feasible;
      summary.max_taint = std::max<int64_t>(summary.max_taint, v.plugin_scores[0]);
      summary.max_affinity = std::max<int64_t>(summary.max_affinity, v.plugin_scores[1]);
    }
    return summary;
  };
  RangeSummary total;
  // DynamicResources' raw scores of the feasible nodes are in plugin_scores (Filter computed
  // them); NormalizeScore needs their highest.
  int64_t max_dra = 0;
  const size_t threads = static_cast<size_t>(pool_->threads()) + 1;
  if (threads > 1 && live.size() >= static_cast<size_t>(options_.min_nodes_for_parallelism)) {
    absl::Mutex mu;
    pool_->ParallelFor(live.size(), threads * 4, [&](size_t begin, size_t end) {
      RangeSummary part = evaluate_range(begin, end);
      absl::MutexLock lock(&mu);
      total.feasible += part.feasible;
      total.max_taint = std::max(total.max_taint, part.max_taint);
      total.max_affinity = std::max(total.max_affinity, part.max_affinity);
      total.min_pod_affinity = std::min(total.min_pod_affinity, part.min_pod_affinity);
      total.max_pod_affinity = std::max(total.max_pod_affinity, part.max_pod_affinity);
      total.any_gpus = total.any_gpus || part.any_gpus;
    });
  } else {
    total = evaluate_range(0, live.size());
  }

  // ---- NormalizeScore, weights, selection ----
  // TaintToleration normalises in reverse and NodeAffinity forward, both by the highest raw
  // score; the resource scorers are already 0..100. A plugin skipped in PreScore scores 0.
  if (cycle.dra) {
    out.unavailable_claims = DynamicResourcesUnavailableClaims(*cycle.dra);
    if (std::optional<std::string> error = DynamicResourcesError(*cycle.dra)) {
      out.error = *std::move(error);
      out.feasible_count = 0;
      return;
    }
  }
  out.feasible_count = total.feasible;
  if (out.feasible_count == 0) return;
  if (cycle.dra) {
    for (const NodeVerdict& v : out.verdicts) {
      if (v.code == FilterCode::kSuccess) {
        max_dra = std::max<int64_t>(max_dra, v.plugin_scores[kDynamicResourcesScoreSlot]);
      }
    }
  }

  // ---- PodTopologySpread PreScore and Score: they depend on the set of feasible nodes ----
  std::vector<uint32_t> feasible;
  feasible.reserve(out.feasible_count);
  for (const NodeVerdict& v : out.verdicts) {
    if (v.code == FilterCode::kSuccess) feasible.push_back(v.node);
  }
  PodTopologySpreadPreScoreState spread_score =
      PodTopologySpreadPreScore(pod, state, SpreadArgs(options_), feasible);
  int64_t spread_min = INT64_MAX;
  int64_t spread_max = 0;
  if (!spread_score.skip) {
    for (NodeVerdict& v : out.verdicts) {
      if (v.code != FilterCode::kSuccess) continue;
      bool ignored = false;
      int64_t raw = PodTopologySpreadScore(spread_score, state, v.node, &ignored);
      v.plugin_scores[4] = static_cast<int32_t>(raw);
      if (ignored) continue;
      spread_min = std::min(spread_min, raw);
      spread_max = std::max(spread_max, raw);
    }
  }

  // SextantGpu's NormalizeScore over the feasible nodes (BestFit is min-max normalised).
  if (!cycle.gpu.skip) {
    std::vector<int64_t> raw;
    raw.reserve(out.feasible_count);
    for (const NodeVerdict& v : out.verdicts) {
      if (v.code == FilterCode::kSuccess) raw.push_back(v.plugin_scores[kSextantGpuScoreSlot]);
    }
    SextantGpuNormalize(cycle.gpu.policy, raw);
    // A CPU-only pod where no feasible node has GPUs: nothing to weigh.
    if (cycle.gpu.cpu_only && !total.any_gpus) std::fill(raw.begin(), raw.end(), 0);
    size_t k = 0;
    for (NodeVerdict& v : out.verdicts) {
      if (v.code == FilterCode::kSuccess) {
        v.plugin_scores[kSextantGpuScoreSlot] = static_cast<int32_t>(raw[k++]);
      }
    }
  }

  const int64_t max_taint = total.max_taint;
  const int64_t max_affinity = total.max_affinity;
  const bool normalize_affinity = cycle.node_affinity_score.preferred.has_value();
  const int64_t weights[kNumScorePlugins] = {
      options_.taint_toleration_weight,    options_.node_affinity_weight,
      options_.node_resources_fit_weight,  options_.balanced_allocation_weight,
      options_.pod_topology_spread_weight, options_.inter_pod_affinity_weight,
      options_.dynamic_resources_weight,   EffectiveGpuPlacementWeight(options_)};
  int64_t best = INT64_MIN;
  uint64_t ties = 0;
  size_t first_best = 0;
  for (size_t i = 0; i < out.verdicts.size(); ++i) {
    NodeVerdict& v = out.verdicts[i];
    if (v.code != FilterCode::kSuccess) continue;
    v.plugin_scores[0] = static_cast<int32_t>(
        NormalizeScore(kMaxNodeScore, /*reverse=*/true, v.plugin_scores[0], max_taint));
    if (normalize_affinity) {
      v.plugin_scores[1] = static_cast<int32_t>(
          NormalizeScore(kMaxNodeScore, /*reverse=*/false, v.plugin_scores[1], max_affinity));
    }
    if (!spread_score.skip) {
      v.plugin_scores[4] = spread_score.ignored[v.node]
                               ? 0
                               : static_cast<int32_t>(PodTopologySpreadNormalize(
                                     v.plugin_scores[4], spread_min, spread_max));
    }
    if (!cycle.pod_affinity_score.skip) {
      v.plugin_scores[5] = static_cast<int32_t>(InterPodAffinityNormalize(
          pod_affinity_raw[i], total.min_pod_affinity, total.max_pod_affinity));
    }
    // DefaultNormalizeScore, forward; all zero stays zero.
    v.plugin_scores[kDynamicResourcesScoreSlot] = static_cast<int32_t>(NormalizeScore(
        kMaxNodeScore, /*reverse=*/false, v.plugin_scores[kDynamicResourcesScoreSlot], max_dra));
    v.score = 0;
    for (int p = 0; p < kNumScorePlugins; ++p) v.score += v.plugin_scores[p] * weights[p];
    if (v.score > best) {
      best = v.score;
      ties = 0;
      first_best = i;
    }
    if (v.score == best) ++ties;
  }
  // A pod nominated by an earlier preemption goes to its nominated node when that node passes
  // the filters (upstream evaluateNominatedNode, which then skips the other nodes).
  if (pod.nominated_node_name && !pod.nominated_node_name->empty()) {
    for (size_t i = 0; i < out.verdicts.size(); ++i) {
      const NodeVerdict& v = out.verdicts[i];
      if (v.code == FilterCode::kSuccess &&
          state.node(v.node).node->name == *pod.nominated_node_name) {
        out.chosen = i;
        return;
      }
    }
  }
  // The (random_value % ties)-th node with the best score, in node order. For a GPU pod the
  // GPU policy scores, the first one: a fixed order packs GPU pods onto the same nodes among the
  // policy's ties, as the trace replay's seeded node order does (Random keeps the draw, and so
  // do CPU-only pods: among the nodes where they strand nothing, upstream's choice stands).
  const bool fixed_order =
      !cycle.gpu.skip && !cycle.gpu.cpu_only && cycle.gpu.policy != GpuPolicy::kRandom;
  uint64_t pick = fixed_order ? 0 : random_value % ties;
  if (pick == 0) {
    out.chosen = first_best;
    return;
  }
  for (size_t i = first_best; i < out.verdicts.size(); ++i) {
    const NodeVerdict& v = out.verdicts[i];
    if (v.code == FilterCode::kSuccess && v.score == best && pick-- == 0) {
      out.chosen = i;
      break;
    }
  }
}

std::vector<std::string> Evaluation::Reasons(const NodeVerdict& v) const {
  if (v.code == FilterCode::kSuccess) return {};
  if (v.excluded_by_prefilter) {
    return {absl::StrCat("node(s) didn't satisfy plugin(s) [",
                         absl::StrJoin(prefilter_narrowing_plugins, " "), "]")};
  }
  switch (v.plugin) {
    case PluginId::kNodeName:
      return {kNodeNameReason};
    case PluginId::kNodeUnschedulable:
      return {kNodeUnschedulableReason};
    case PluginId::kTaintToleration:
      return {kTaintTolerationReason};
    case PluginId::kNodeAffinity:
      return {kNodeAffinityReason};
    case PluginId::kPodTopologySpread:
      return {static_cast<PodTopologySpreadReason>(v.reason) == PodTopologySpreadReason::kMissingLabel
                  ? kSpreadMissingLabelReason
                  : kSpreadConstraintsReason};
    case PluginId::kInterPodAffinity:
      switch (static_cast<InterPodAffinityReason>(v.reason)) {
        case InterPodAffinityReason::kAffinity:
          return {kAffinityRulesReason};
        case InterPodAffinityReason::kAntiAffinity:
          return {kAntiAffinityRulesReason};
        case InterPodAffinityReason::kExistingAntiAffinity:
          return {kExistingAntiAffinityReason};
      }
      return {};
    case PluginId::kDynamicResources:
      switch (static_cast<DynamicResourcesReason>(v.reason)) {
        case DynamicResourcesReason::kCannotAllocate:
          return {kDraCannotAllocateReason};
        case DynamicResourcesReason::kClaimUnavailable:
          return {kDraClaimUnavailableReason};
        case DynamicResourcesReason::kInvalidPools:
          return {kDraInvalidPoolsReason};
      }
      return {};
    case PluginId::kNodeResourcesFit: {
      static const char* kFixed[] = {"Too many pods", "Insufficient cpu", "Insufficient memory",
                                     "Insufficient ephemeral-storage"};
      std::vector<std::string> reasons;
      for (int bit = 0; bit < 64; ++bit) {
        if ((v.fit_mask & (uint64_t{1} << bit)) == 0) continue;
        if (bit < 4) {
          reasons.push_back(kFixed[bit]);
        } else if (static_cast<size_t>(bit - 4) < scalar_resource_names.size()) {
          reasons.push_back(absl::StrCat("Insufficient ", scalar_resource_names[bit - 4]));
        }
      }
      return reasons;
    }
    default:
      return {};
  }
}

std::string Evaluation::FitErrorMessage() const {
  // schedulePod's ErrNoNodesAvailable, before any plugin runs.
  if (node_count == 0) return "no nodes available to schedule pods";
  std::string message = absl::StrCat("0/", node_count, " nodes are available:");
  if (!prefilter_message.empty()) return absl::StrCat(message, " ", prefilter_message, ".");
  std::map<std::string, int64_t> histogram;
  for (const NodeVerdict& v : verdicts) {
    for (std::string& reason : Reasons(v)) ++histogram[std::move(reason)];
  }
  std::vector<std::string> parts;
  for (const auto& [reason, count] : histogram) parts.push_back(absl::StrCat(count, " ", reason));
  std::sort(parts.begin(), parts.end());  // upstream sorts "<count> <reason>" as strings
  if (!parts.empty()) absl::StrAppend(&message, " ", absl::StrJoin(parts, ", "), ".");
  return message;
}

}  // namespace sextant
