#include "framework/cycle_state.h"

#include <algorithm>
#include <optional>

#include "plugins/node_name.h"
#include "plugins/node_unschedulable.h"

namespace sextant {

PodTopologySpreadArgs SpreadArgs(const ProfileOptions& options) {
  return PodTopologySpreadArgs{options.spread_system_defaulting, options.spread_default_constraints};
}

void FilterNode(const CycleState& cycle, const ClusterState& state, uint32_t index,
                const NodeInfo& node, NodeVerdict& v) {
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
  if ((code = NodeAffinityFilter(cycle.node_affinity, node, index)) != FilterCode::kSuccess) {
    return fail(PluginId::kNodeAffinity, code);
  }
  FitFilterResult fit = NodeResourcesFitFilter(cycle.fit, node);
  if (fit.code != FilterCode::kSuccess) {
    v.fit_mask = fit.mask;
    return fail(PluginId::kNodeResourcesFit, fit.code);
  }
  if (!cycle.spread.skip) {
    PodTopologySpreadFilterResult r = PodTopologySpreadFilter(cycle.spread, state, index);
    if (r.code != FilterCode::kSuccess) {
      v.reason = static_cast<uint8_t>(r.reason);
      return fail(PluginId::kPodTopologySpread, r.code);
    }
  }
  if (!cycle.pod_affinity.skip) {
    InterPodAffinityFilterResult r = InterPodAffinityFilter(cycle.pod_affinity, state, index);
    if (r.code != FilterCode::kSuccess) {
      v.reason = static_cast<uint8_t>(r.reason);
      return fail(PluginId::kInterPodAffinity, r.code);
    }
  }
  if (cycle.dra) {
    DynamicResourcesFilterResult r = DynamicResourcesFilter(*cycle.dra, index, *node.node);
    if (r.code != FilterCode::kSuccess) {
      v.reason = static_cast<uint8_t>(r.reason);
      return fail(PluginId::kDynamicResources, r.code);
    }
    // Score reads what Filter allocated (upstream keeps the allocation per node).
    v.plugin_scores[kDynamicResourcesScoreSlot] = static_cast<int32_t>(r.score);
  }
}

SimulatedNode::SimulatedNode(const ClusterState& state, uint32_t index, const NodeInfo& node,
                             const CycleState& cycle)
    : state_(state), index_(index) {
  // Only what the filters read: the PreScore states can be large (InterPodAffinity's scores per
  // topology value) and a simulation never scores.
  cycle_.pod = cycle.pod;
  cycle_.node_affinity = cycle.node_affinity;
  cycle_.fit = cycle.fit;
  cycle_.spread = cycle.spread;
  cycle_.pod_affinity = cycle.pod_affinity;
  cycle_.dra = cycle.dra;
  node_.present = node.present;
  node_.unschedulable = node.unschedulable;
  node_.has_hard_taints = node.has_hard_taints;
  node_.has_prefer_no_schedule = node.has_prefer_no_schedule;
  node_.allocatable = node.allocatable;
  node_.requested = node.requested;
  node_.non0_milli_cpu = node.non0_milli_cpu;
  node_.non0_memory = node.non0_memory;
  node_.pods = node.pods;
  node_.node = node.node;  // labels and taints do not change in a simulation
}

void SimulatedNode::Add(PodRecord* r) {
  node_.requested.Add(r->resource.requests, +1);
  node_.non0_milli_cpu += r->resource.non0_milli_cpu;
  node_.non0_memory += r->resource.non0_memory;
  node_.pods.push_back(r);
  PodTopologySpreadUpdateWithPod(cycle_.spread, state_, r->pod, index_, +1);
  InterPodAffinityUpdateWithPod(cycle_.pod_affinity, state_, *r, index_, +1);
}

void SimulatedNode::Remove(PodRecord* r) {
  node_.requested.Add(r->resource.requests, -1);
  node_.non0_milli_cpu -= r->resource.non0_milli_cpu;
  node_.non0_memory -= r->resource.non0_memory;
  auto it = std::find(node_.pods.begin(), node_.pods.end(), r);
  if (it != node_.pods.end()) node_.pods.erase(it);
  PodTopologySpreadUpdateWithPod(cycle_.spread, state_, r->pod, index_, -1);
  InterPodAffinityUpdateWithPod(cycle_.pod_affinity, state_, *r, index_, -1);
}

void FilterNodeWithNominatedPods(const CycleState& cycle, const ClusterState& state,
                                 uint32_t index, const NodeInfo& node, NodeVerdict& v) {
  const std::vector<PodRecord*>& nominated = state.NominatedPods(index);
  if (!nominated.empty()) {
    const Pod& pod = *cycle.pod;
    std::optional<SimulatedNode> with;
    for (PodRecord* r : nominated) {
      if (r->pod.Priority() < pod.Priority() || r->pod.Key() == pod.Key()) continue;
      if (!r->pod.uid.empty() && r->pod.uid == pod.uid) continue;
      if (!with) with.emplace(state, index, node, cycle);
      with->Add(r);
    }
    if (with) {
      FilterNode(with->cycle(), state, index, with->node(), v);
      if (v.code != FilterCode::kSuccess) return;
    }
  }
  FilterNode(cycle, state, index, node, v);
}

void PreFilterForFilters(const ProfileOptions& options, const ClusterState& state, const Pod& pod,
                         CycleState* cycle) {
  cycle->pod = &pod;
  cycle->node_affinity = NodeAffinityPreFilter(pod, &state.node_labels());
  cycle->fit = NodeResourcesFitPreFilter(pod, state.resources(), options);
  cycle->spread = PodTopologySpreadPreFilter(pod, state, SpreadArgs(options));
  cycle->pod_affinity = InterPodAffinityPreFilter(pod, state);
  cycle->dra = DynamicResourcesPreFilter(pod, state, options).state;
}

}  // namespace sextant
