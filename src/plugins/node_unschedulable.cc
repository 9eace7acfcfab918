#include "plugins/node_unschedulable.h"

#include "model/taints.h"

namespace sextant {

FilterCode NodeUnschedulableFilter(const Pod& pod, const NodeInfo& node) {
  if (!node.unschedulable) return FilterCode::kSuccess;
  static const Taint kUnschedulableTaint{"node.kubernetes.io/unschedulable", "",
                                         TaintEffect::kNoSchedule};
  if (TolerationsTolerateTaint(pod.tolerations, kUnschedulableTaint)) return FilterCode::kSuccess;
  return FilterCode::kUnschedulableAndUnresolvable;
}

}  // namespace sextant
