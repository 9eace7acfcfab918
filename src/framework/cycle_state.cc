#include "framework/cycle_state.h"

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
  if ((code = NodeAffinityFilter(cycle.node_affinity, node)) != FilterCode::kSuccess) {
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
}

void PreFilterForFilters(const ProfileOptions& options, const ClusterState& state, const Pod& pod,
                         CycleState* cycle) {
  cycle->pod = &pod;
  cycle->node_affinity = NodeAffinityPreFilter(pod);
  cycle->fit = NodeResourcesFitPreFilter(pod, state.resources(), options);
  cycle->spread = PodTopologySpreadPreFilter(pod, state, SpreadArgs(options));
  cycle->pod_affinity = InterPodAffinityPreFilter(pod, state);
}

}  // namespace sextant
