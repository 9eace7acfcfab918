// Per-node and per-pod records of ClusterState (framework.NodeInfo / PodInfo). Owned by
// ClusterState; read by the plugins during Evaluate while the state is held for reading.
#ifndef SEXTANT_STATE_NODE_INFO_H_
#define SEXTANT_STATE_NODE_INFO_H_

#include <cstdint>
#include <vector>

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
};

struct NodeInfo {
  Node node;
  bool present = false;  // false: removed, or only known from pods bound to it
  Resource allocatable;
  Resource requested;
  int64_t non0_milli_cpu = 0;  // NonZeroRequested
  int64_t non0_memory = 0;
  std::vector<PodRecord*> pods;
  // Derived from node.taints so the common untainted node costs nothing in the taint plugins.
  bool has_hard_taints = false;        // any NoSchedule or NoExecute taint
  bool has_prefer_no_schedule = false;  // any PreferNoSchedule taint
};

}  // namespace sextant

#endif  // SEXTANT_STATE_NODE_INFO_H_
