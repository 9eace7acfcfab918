// NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods that tolerate
// node.kubernetes.io/unschedulable:NoSchedule (plugins/nodeunschedulable).
#ifndef SEXTANT_PLUGINS_NODE_UNSCHEDULABLE_H_
#define SEXTANT_PLUGINS_NODE_UNSCHEDULABLE_H_

#include "sextant/evaluate.h"
#include "state/node_info.h"

namespace sextant {

inline constexpr char kNodeUnschedulableReason[] = "node(s) were unschedulable";

FilterCode NodeUnschedulableFilter(const Pod& pod, const NodeInfo& node);

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_NODE_UNSCHEDULABLE_H_
