// The per-cycle state of the filters (what PreFilter computes once and every node's Filter
// reads) and the filter pass of one node, shared by Evaluate and by preemption's dry runs.
// Internal to the engine.
#ifndef SEXTANT_FRAMEWORK_CYCLE_STATE_H_
#define SEXTANT_FRAMEWORK_CYCLE_STATE_H_

#include <memory>

#include "plugins/dynamic_resources.h"
#include "plugins/inter_pod_affinity.h"
#include "plugins/node_affinity.h"
#include "plugins/node_resources_balanced_allocation.h"
#include "plugins/node_resources_fit.h"
#include "plugins/pod_topology_spread.h"
#include "plugins/sextant_gpu.h"
#include "plugins/taint_toleration.h"
#include "sextant/cluster_state.h"
#include "sextant/evaluate.h"
#include "state/node_info.h"

namespace sextant {

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
  PodTopologySpreadPreFilterState spread;
  InterPodAffinityPreFilterState pod_affinity;
  InterPodAffinityPreScoreState pod_affinity_score;
  // Null when the pod has no DRA claims.
  std::shared_ptr<const DynamicResourcesState> dra;
  // Sextant's GPU placement (skip unless the pod is a GPU pod and placement is on).
  SextantGpuPreScoreState gpu;
};

PodTopologySpreadArgs SpreadArgs(const ProfileOptions& options);

// The PreFilter state the filters read (node affinity, fit, spread, pod affinity, dynamic
// resources). The caller has already handled a PreFilter rejection
// (Evaluation::prefilter_message).
void PreFilterForFilters(const ProfileOptions& options, const ClusterState& state, const Pod& pod,
                         CycleState* cycle);

// Runs the filters on one node in upstream order; the first failure is recorded in v (plugin,
// code, fit_mask, reason). `node` may be a simulated copy of state.node(index) (preemption).
void FilterNode(const CycleState& cycle, const ClusterState& state, uint32_t index,
                const NodeInfo& node, NodeVerdict& v);

// A copy of one node and of the cycle state, that pods can be taken off and put on
// (preemption's dry run, nominated pods): the filters see the copy.
class SimulatedNode {
 public:
  SimulatedNode(const ClusterState& state, uint32_t index, const NodeInfo& node,
                const CycleState& cycle);
  // NodeInfo.AddPodInfo / RemovePod plus the PreFilterExtensions AddPod / RemovePod.
  void Add(PodRecord* record);
  void Remove(PodRecord* record);
  const NodeInfo& node() const { return node_; }
  const CycleState& cycle() const { return cycle_; }

 private:
  const ClusterState& state_;
  uint32_t index_;
  NodeInfo node_;
  CycleState cycle_;
};

// RunFilterPluginsWithNominatedPods: when pods of equal or higher priority than the cycle's pod
// are nominated to the node, the filters must pass both with them added and without; the
// verdict is the first failure. `node` and `cycle` may be a simulation.
void FilterNodeWithNominatedPods(const CycleState& cycle, const ClusterState& state,
                                 uint32_t index, const NodeInfo& node, NodeVerdict& v);

}  // namespace sextant

#endif  // SEXTANT_FRAMEWORK_CYCLE_STATE_H_
