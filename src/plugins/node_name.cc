#include "plugins/node_name.h"

namespace sextant {

FilterCode NodeNameFilter(const Pod& pod, const NodeInfo& node) {
  if (pod.node_name.empty() || pod.node_name == node.node->name) return FilterCode::kSuccess;
  return FilterCode::kUnschedulableAndUnresolvable;
}

}  // namespace sextant
