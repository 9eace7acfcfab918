// NodeResourcesBalancedAllocation (plugins/noderesources/balanced_allocation.go): favours nodes
// whose resource fractions stay balanced, scoring the change in balance the pod would cause.
#ifndef SEXTANT_PLUGINS_NODE_RESOURCES_BALANCED_ALLOCATION_H_
#define SEXTANT_PLUGINS_NODE_RESOURCES_BALANCED_ALLOCATION_H_

#include "plugins/node_resources_fit.h"

namespace sextant {

// PreScore skips (every node scores 0) for a pod that requests none of the resources.
bool BalancedAllocationSkips(const ResourceAllocationPreScoreState& state);
int64_t BalancedAllocationScore(const ResourceAllocationPreScoreState& state, const NodeInfo& node);

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_NODE_RESOURCES_BALANCED_ALLOCATION_H_
