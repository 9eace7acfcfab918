// Per-node and per-pod records of ClusterState (framework.NodeInfo / PodInfo). Owned by
// ClusterState; read by the plugins during Evaluate while the state is held for reading.
#ifndef SEXTANT_STATE_NODE_INFO_H_
#define SEXTANT_STATE_NODE_INFO_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "model/affinity_terms.h"
#include "sextant/model.h"
#include "sextant/pod_resources.h"
#include "state/resource.h"

namespace sextant {

struct PodRecord {
  Pod pod;
  PodResource resource;
  QosClass qos = QosClass::kBestEffort;
  int64_t node_index = -1;  // -1: pending, holds nothing
  bool assumed = false;
  // The pod's (anti-)affinity terms, compiled; null when it has none.
  std::unique_ptr<const PodAffinityTerms> affinity;
};

// Laid out for Evaluate, which reads every node per pod: ClusterState keeps NodeInfos contiguous,
// the fields the filters and scorers of a plain pod read come first, and the Node object (labels,
// taints, names: read only when the pod has selectors or the node has taints) sits behind a
// pointer so it does not dilute the cache lines of the scan.
struct NodeInfo {
  bool present = false;                 // false: removed, or only known from pods bound to it
  bool unschedulable = false;           // node.unschedulable
  bool has_hard_taints = false;         // any NoSchedule or NoExecute taint
  bool has_prefer_no_schedule = false;  // any PreferNoSchedule taint
  Resource allocatable;
  Resource requested;
  int64_t non0_milli_cpu = 0;  // NonZeroRequested
  int64_t non0_memory = 0;
  std::vector<PodRecord*> pods;
  // Pending pods whose status.nominatedNodeName names this node (ClusterState::NominatedPods).
  std::vector<PodRecord*> nominated;
  // Shared with the simulated copies preemption's dry runs make while the state is held for
  // reading; ClusterState alone writes it.
  std::shared_ptr<Node> node = std::make_shared<Node>();
};

}  // namespace sextant

#endif  // SEXTANT_STATE_NODE_INFO_H_
