#include "plugins/node_affinity.h"

#include <algorithm>
#include <iterator>

namespace sextant {

NodeAffinityPreFilterState NodeAffinityPreFilter(const Pod& pod) {
  NodeAffinityPreFilterState state;
  const NodeSelector* required = nullptr;
  if (pod.affinity && pod.affinity->node_affinity && pod.affinity->node_affinity->required) {
    required = &*pod.affinity->node_affinity->required;
  }
  if (required == nullptr && pod.node_selector.empty()) return state;
  state.skip = false;
  state.required.emplace(pod);
  if (required == nullptr || required->terms.empty()) return state;

  // Union over terms of the intersection of each term's metadata.name In values; a term without
  // such a requirement allows every node, and so does the whole affinity.
  std::set<std::string> names;
  for (const NodeSelectorTerm& term : required->terms) {
    std::optional<std::set<std::string>> term_names;
    for (const SelectorRequirement& r : term.match_fields) {
      if (r.key != "metadata.name" || r.op != SelectorOperator::kIn) continue;
      std::set<std::string> values(r.values.begin(), r.values.end());
      if (!term_names) {
        term_names = std::move(values);
      } else {
        std::set<std::string> both;
        std::set_intersection(term_names->begin(), term_names->end(), values.begin(), values.end(),
                              std::inserter(both, both.begin()));
        term_names = std::move(both);
      }
    }
    if (!term_names) return state;
    names.insert(term_names->begin(), term_names->end());
  }
  if (names.empty()) {
    state.conflict = true;
  } else {
    state.node_names = std::move(names);
  }
  return state;
}

FilterCode NodeAffinityFilter(const NodeAffinityPreFilterState& state, const NodeInfo& node) {
  if (state.skip || state.required->Matches(*node.node)) return FilterCode::kSuccess;
  return FilterCode::kUnschedulableAndUnresolvable;
}

NodeAffinityPreScoreState NodeAffinityPreScore(const Pod& pod) {
  NodeAffinityPreScoreState state;
  if (pod.affinity && pod.affinity->node_affinity &&
      !pod.affinity->node_affinity->preferred.empty()) {
    state.preferred.emplace(pod.affinity->node_affinity->preferred);
  }
  return state;
}

int64_t NodeAffinityScore(const NodeAffinityPreScoreState& state, const NodeInfo& node) {
  return state.preferred ? state.preferred->Score(*node.node) : 0;
}

}  // namespace sextant
