// NodeName: a pod with spec.nodeName fits only that node (plugins/nodename).
#ifndef SEXTANT_PLUGINS_NODE_NAME_H_
#define SEXTANT_PLUGINS_NODE_NAME_H_

#include "sextant/evaluate.h"
#include "state/node_info.h"

namespace sextant {

inline constexpr char kNodeNameReason[] = "node(s) didn't match the requested node name";

FilterCode NodeNameFilter(const Pod& pod, const NodeInfo& node);

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_NODE_NAME_H_
