// NodeAffinity (plugins/nodeaffinity): Filter on spec.nodeSelector plus required node affinity;
// PreFilter narrows candidates to the node names of metadata.name matchFields; Score sums the
// weights of matching preferred terms, normalised by the highest.
#ifndef SEXTANT_PLUGINS_NODE_AFFINITY_H_
#define SEXTANT_PLUGINS_NODE_AFFINITY_H_

#include <optional>
#include <set>
#include <string>

#include "model/selectors.h"
#include "sextant/evaluate.h"
#include "state/node_info.h"

namespace sextant {

inline constexpr char kNodeAffinityReason[] = "node(s) didn't match Pod's node affinity/selector";
inline constexpr char kNodeAffinityConflictReason[] = "pod affinity terms conflict";

struct NodeAffinityPreFilterState {
  bool skip = true;  // no nodeSelector and no required affinity: Filter passes every node
  std::optional<RequiredNodeAffinity> required;
  // PreFilterResult: when set, only these node names are candidates.
  std::optional<std::set<std::string>> node_names;
  bool conflict = false;  // every term named nodes and together they name none
};
NodeAffinityPreFilterState NodeAffinityPreFilter(const Pod& pod);
FilterCode NodeAffinityFilter(const NodeAffinityPreFilterState& state, const NodeInfo& node);

struct NodeAffinityPreScoreState {
  std::optional<PreferredNodeAffinity> preferred;  // empty: skipped
};
NodeAffinityPreScoreState NodeAffinityPreScore(const Pod& pod);
int64_t NodeAffinityScore(const NodeAffinityPreScoreState& state, const NodeInfo& node);

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_NODE_AFFINITY_H_
