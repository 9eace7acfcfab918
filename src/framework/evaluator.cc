// The scheduling cycle of the default profile over every node: PreFilter, Filter (first failing
// plugin wins, in upstream order NodeName, NodeUnschedulable, TaintToleration, NodeAffinity,
// NodeResourcesFit), PreScore, Score, NormalizeScore, weights, and selection.
#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "framework/parallel.h"
#include "plugins/helper.h"
#include "plugins/node_affinity.h"
#include "plugins/node_name.h"
#include "plugins/node_resources_balanced_allocation.h"
#include "plugins/node_resources_fit.h"
#include "plugins/node_unschedulable.h"
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

// Everything PreFilter and PreScore compute once per cycle, read by every node.
struct CycleState {
  const Pod* pod = nullptr;
  NodeAffinityPreFilterState node_affinity;
  FitPreFilterState fit;
  TaintTolerationPreScoreState taint_toleration;
  NodeAffinityPreScoreState node_affinity_score;
  ResourceAllocationPreScoreState fit_score;
  ResourceAllocationPreScoreState balanced_score;
  bool balanced_skip = false;
};

void FilterNode(const CycleState& cycle, const NodeInfo& node, NodeVerdict& v) {
  auto fail = [&](PluginId plugin, FilterCode code) {
    v.plugin = plugin;
    v.code = code;
  };
  FilterCode code;
  if ((code = NodeNameFilter(*cycle.pod, node)) != FilterCode::kSuccess) {
    return fail(PluginId::kNodeName, code);
  }
  if ((code = NodeUnschedulableFilter(*cycle.pod, node)) != FilterCode::kSuccess) {
    return fail(PluginId::kNodeUnschedulable, code);
  }
  if ((code = TaintTolerationFilter(*cycle.pod, node)) != FilterCode::kSuccess) {
    return fail(PluginId::kTaintToleration, code);
  }
  if ((code = NodeAffinityFilter(cycle.node_affinity, node)) != FilterCode::kSuccess) {
    return fail(PluginId::kNodeAffinity, code);
  }
  FitFilterResult fit = NodeResourcesFitFilter(cycle.fit, node);
  if (fit.code != FilterCode::kSuccess) {
    v.fit_mask = fit.mask;
    return fail(PluginId::kNodeResourcesFit, fit.code);
  }
}

void ScoreNode(const CycleState& cycle, const ProfileOptions& options, const NodeInfo& node,
               NodeVerdict& v) {
  v.plugin_scores[0] = TaintTolerationScore(cycle.taint_toleration, node);
  v.plugin_scores[1] = NodeAffinityScore(cycle.node_affinity_score, node);
  v.plugin_scores[2] = NodeResourcesFitScore(cycle.fit_score, options.fit_scoring, node);
  v.plugin_scores[3] = cycle.balanced_skip ? 0 : BalancedAllocationScore(cycle.balanced_score, node);
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
  }
  return "";
}

absl::Status ValidateProfileOptions(const ProfileOptions& options) {
  const ScoringStrategy& s = options.fit_scoring;
  if (s.resources.empty()) {
    return absl::InvalidArgumentError("scoringStrategy.resources: must not be empty");
  }
  if (auto st = ValidateResourceSpecs(s.resources, "scoringStrategy.resources"); !st.ok()) return st;
  if (auto st = ValidateResourceSpecs(options.balanced_allocation_resources,
                                      "balancedAllocation.resources");
      !st.ok()) {
    return st;
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
                    options.node_resources_fit_weight, options.balanced_allocation_weight}) {
    if (w < 0 || w > 100) {
      return absl::InvalidArgumentError("plugin weights: must be in the range [0, 100]");
    }
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
  out.pod_key = pod.Key();
  out.qos = ComputeQosClass(pod);
  const std::vector<uint32_t>& live = state.live_nodes();
  out.node_count = static_cast<int64_t>(live.size());

  CycleState cycle;
  cycle.pod = &pod;

  // ---- PreFilter ----
  cycle.node_affinity = NodeAffinityPreFilter(pod);
  if (cycle.node_affinity.conflict) {
    out.prefilter_plugin = PluginId::kNodeAffinity;
    out.prefilter_message = kNodeAffinityConflictReason;
    return out;
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
    const auto& plugins = out.prefilter_narrowing_plugins;
    out.prefilter_plugin = PluginId::kNodeAffinity;
    out.prefilter_message =
        plugins.size() == 1
            ? absl::StrCat("node(s) didn't satisfy plugin ", plugins[0])
            : absl::StrCat("node(s) didn't satisfy plugin(s) [", absl::StrJoin(plugins, " "),
                           "] simultaneously");
    return out;
  }

  // ---- PreScore (pod-only parts; computed up front so Filter and Score fuse in one pass) ----
  cycle.taint_toleration = TaintTolerationPreScore(pod);
  cycle.node_affinity_score = NodeAffinityPreScore(pod);
  cycle.fit_score = ResourceAllocationPreScore(pod, options_.fit_scoring.resources,
                                               state.resources(), /*use_requested=*/false);
  cycle.balanced_score = ResourceAllocationPreScore(pod, options_.balanced_allocation_resources,
                                                    state.resources(), /*use_requested=*/true);
  cycle.balanced_skip = BalancedAllocationSkips(cycle.balanced_score);

  // ---- Filter and raw Score over every node ----
  out.verdicts.resize(live.size());
  auto evaluate_range = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      NodeVerdict& v = out.verdicts[i];
      v.node = live[i];
      const NodeInfo& node = state.node(live[i]);
      if (allowed && !allowed->contains(node.node.name)) {
        v.excluded_by_prefilter = true;
        v.code = FilterCode::kUnschedulableAndUnresolvable;
        continue;
      }
      FilterNode(cycle, node, v);
      if (v.code == FilterCode::kSuccess) ScoreNode(cycle, options_, node, v);
    }
  };
  const size_t threads = static_cast<size_t>(pool_->threads()) + 1;
  if (threads > 1 && live.size() >= static_cast<size_t>(options_.min_nodes_for_parallelism)) {
    pool_->ParallelFor(live.size(), threads * 4, evaluate_range);
  } else {
    evaluate_range(0, live.size());
  }

  // ---- NormalizeScore, weights, selection ----
  std::vector<size_t> feasible;
  for (size_t i = 0; i < out.verdicts.size(); ++i) {
    if (out.verdicts[i].code == FilterCode::kSuccess) feasible.push_back(i);
  }
  out.feasible_count = static_cast<int64_t>(feasible.size());
  if (feasible.empty()) return out;

  const int64_t weights[kNumScorePlugins] = {
      options_.taint_toleration_weight, options_.node_affinity_weight,
      options_.node_resources_fit_weight, options_.balanced_allocation_weight};
  std::vector<int64_t> column(feasible.size());
  for (int p = 0; p < kNumScorePlugins; ++p) {
    for (size_t k = 0; k < feasible.size(); ++k) column[k] = out.verdicts[feasible[k]].plugin_scores[p];
    // TaintToleration normalises in reverse, NodeAffinity forward; the resource scorers are
    // already 0..100. A plugin skipped in PreScore contributes nothing.
    if (kScorePlugins[p] == PluginId::kTaintToleration) {
      DefaultNormalizeScore(kMaxNodeScore, /*reverse=*/true, column);
    } else if (kScorePlugins[p] == PluginId::kNodeAffinity && cycle.node_affinity_score.preferred) {
      DefaultNormalizeScore(kMaxNodeScore, /*reverse=*/false, column);
    }
    for (size_t k = 0; k < feasible.size(); ++k) {
      NodeVerdict& v = out.verdicts[feasible[k]];
      v.plugin_scores[p] = column[k];
      v.score += column[k] * weights[p];
    }
  }

  int64_t best = INT64_MIN;
  std::vector<size_t> ties;
  for (size_t k : feasible) {
    int64_t s = out.verdicts[k].score;
    if (s > best) {
      best = s;
      ties.clear();
    }
    if (s == best) ties.push_back(k);
  }
  out.chosen = ties[random_value % ties.size()];
  return out;
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
