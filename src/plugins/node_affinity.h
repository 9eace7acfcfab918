// NodeAffinity (plugins/nodeaffinity): Filter on spec.nodeSelector plus required node affinity;
// PreFilter narrows candidates to the node names of metadata.name matchFields; Score sums the
// weights of matching preferred terms, normalised by the highest.
#ifndef SEXTANT_PLUGINS_NODE_AFFINITY_H_
#define SEXTANT_PLUGINS_NODE_AFFINITY_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/selectors.h"
#include "sextant/evaluate.h"
#include "state/indexes.h"
#include "state/node_info.h"

namespace sextant {

inline constexpr char kNodeAffinityReason[] = "node(s) didn't match Pod's node affinity/selector";
inline constexpr char kNodeAffinityConflictReason[] = "pod affinity terms conflict";

// spec.nodeSelector and the required terms read from the state's node label columns
// (NodeLabelIndex) instead of each node's label map: every label requirement becomes a table over
// the value ids of its key, built once per cycle, so a node costs one array read per requirement.
// Same answers as RequiredNodeAffinity::Matches for every node of the state it was built on
// (which must not change while it is used); matchFields still compare the node's name.
class IndexedNodeAffinity {
 public:
  IndexedNodeAffinity(const Pod& pod, const NodeLabelIndex& labels);
  bool Matches(uint32_t slot, const Node& node) const;

 private:
  struct Requirement {
    int32_t key = NodeLabelIndex::kAbsent;  // kAbsent: no node carries the key
    bool absent = false;                    // the answer for a node without the label
    std::vector<bool> by_value;             // the answer per value id of the key
  };
  // One of exact_'s terms (an invalid one matches nothing): its label requirements as tables.
  struct Term {
    size_t index = 0;  // into exact_.terms()
    std::vector<Requirement> expressions;
  };
  static Requirement Compile(const CompiledRequirement& requirement, const NodeLabelIndex& labels);
  // False with *stale set when the node carries a value id interned after construction.
  bool Test(const Requirement& requirement, uint32_t slot, bool* stale) const;
  bool MatchesColumns(uint32_t slot, const Node& node, bool* stale) const;

  const NodeLabelIndex* labels_;
  RequiredNodeAffinity exact_;  // for a node whose labels the tables predate
  std::vector<Requirement> selector_;  // spec.nodeSelector, one exact match per label
  std::vector<Term> terms_;             // exact_'s valid terms
};

struct NodeAffinityPreFilterState {
  bool skip = true;  // no nodeSelector and no required affinity: Filter passes every node
  std::optional<RequiredNodeAffinity> required;
  // The same placement on the state's label columns, when PreFilter was given them.
  std::optional<IndexedNodeAffinity> indexed;
  // PreFilterResult: when set, only these node names are candidates.
  std::optional<std::set<std::string>> node_names;
  bool conflict = false;  // every term named nodes and together they name none
};
// With `labels` (the state's node label columns) Filter reads them through `indexed`; slot is the
// node's index in that state.
NodeAffinityPreFilterState NodeAffinityPreFilter(const Pod& pod,
                                                 const NodeLabelIndex* labels = nullptr);
FilterCode NodeAffinityFilter(const NodeAffinityPreFilterState& state, const NodeInfo& node,
                              uint32_t slot = 0);

struct NodeAffinityPreScoreState {
  std::optional<PreferredNodeAffinity> preferred;  // empty: skipped
};
NodeAffinityPreScoreState NodeAffinityPreScore(const Pod& pod);
int64_t NodeAffinityScore(const NodeAffinityPreScoreState& state, const NodeInfo& node);

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_NODE_AFFINITY_H_
