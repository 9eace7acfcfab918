#include "plugins/node_affinity.h"

#include <algorithm>
#include <iterator>

#include "absl/base/attributes.h"

namespace sextant {

IndexedNodeAffinity::IndexedNodeAffinity(const Pod& pod, const NodeLabelIndex& labels)
    : labels_(&labels), exact_(pod) {
  // nodeSelector is an exact match on each label, valid names or not (labels.SelectorFromSet).
  for (const auto& [key, value] : pod.node_selector) {
    Requirement r;
    r.key = labels.FindKey(key);
    if (r.key != NodeLabelIndex::kAbsent) {
      r.by_value.assign(labels.value_count(r.key), false);
      const int32_t id = labels.FindValue(r.key, value);
      if (id != NodeLabelIndex::kAbsent) r.by_value[id] = true;
    }
    selector_.push_back(std::move(r));
  }
  for (size_t i = 0; i < exact_.terms().size(); ++i) {
    const CompiledNodeSelectorTerm& term = exact_.terms()[i];
    if (!term.valid()) continue;
    Term compiled{i, {}};
    for (const CompiledRequirement& r : term.expressions()) {
      compiled.expressions.push_back(Compile(r, labels));
    }
    terms_.push_back(std::move(compiled));
  }
}

// The requirement's answer for every value its key has on some node, and for no value at all, as
// CompiledRequirement::Matches gives it (In / NotIn touch only the values they list).
IndexedNodeAffinity::Requirement IndexedNodeAffinity::Compile(
    const CompiledRequirement& requirement, const NodeLabelIndex& labels) {
  Requirement out;
  const SelectorRequirement& r = requirement.requirement();
  out.absent = requirement.Matches(Labels{});
  out.key = labels.FindKey(r.key);
  if (out.key == NodeLabelIndex::kAbsent) return out;
  const int32_t count = labels.value_count(out.key);
  if (r.op == SelectorOperator::kIn || r.op == SelectorOperator::kNotIn) {
    const bool in = r.op == SelectorOperator::kIn;
    out.by_value.assign(count, !in);
    if (requirement.valid()) {
      for (const std::string& value : r.values) {
        const int32_t id = labels.FindValue(out.key, value);
        if (id != NodeLabelIndex::kAbsent) out.by_value[id] = in;
      }
    }
    return out;
  }
  if (r.op == SelectorOperator::kExists || r.op == SelectorOperator::kDoesNotExist) {
    out.by_value.assign(count, r.op == SelectorOperator::kExists);
    return out;
  }
  // Gt / Lt: each value parsed once.
  out.by_value.resize(count);
  Labels one;
  for (int32_t id = 0; id < count; ++id) {
    one.clear();
    one.emplace(r.key, labels.value_name(out.key, id));
    out.by_value[id] = requirement.Matches(one);
  }
  return out;
}

bool IndexedNodeAffinity::Test(const Requirement& requirement, uint32_t slot, bool* stale) const {
  if (requirement.key == NodeLabelIndex::kAbsent) return requirement.absent;
  const int32_t value = labels_->Value(requirement.key, slot);
  if (value == NodeLabelIndex::kAbsent) return requirement.absent;
  if (static_cast<size_t>(value) >= requirement.by_value.size()) {
    *stale = true;
    return false;
  }
  return requirement.by_value[value];
}

bool IndexedNodeAffinity::Matches(uint32_t slot, const Node& node) const {
  bool stale = false;
  const bool matches = MatchesColumns(slot, node, &stale);
  return stale ? exact_.Matches(node) : matches;
}

bool IndexedNodeAffinity::MatchesColumns(uint32_t slot, const Node& node, bool* stale) const {
  for (const Requirement& r : selector_) {
    if (!Test(r, slot, stale)) return false;
  }
  if (!exact_.has_required()) return true;
  for (const Term& term : terms_) {
    bool matches = true;
    for (const Requirement& r : term.expressions) {
      if (!Test(r, slot, stale)) {
        if (*stale) return false;
        matches = false;
        break;
      }
    }
    // Upstream skips field matching for a node without a name (no fields to match against).
    if (matches && !node.name.empty()) {
      for (const CompiledRequirement& r : exact_.terms()[term.index].fields()) {
        if (!r.MatchesFields(node.name)) {
          matches = false;
          break;
        }
      }
    }
    if (matches) return true;
  }
  return false;
}

NodeAffinityPreFilterState NodeAffinityPreFilter(const Pod& pod, const NodeLabelIndex* labels) {
  NodeAffinityPreFilterState state;
  const NodeSelector* required = nullptr;
  if (pod.affinity && pod.affinity->node_affinity && pod.affinity->node_affinity->required) {
    required = &*pod.affinity->node_affinity->required;
  }
  if (required == nullptr && pod.node_selector.empty()) return state;
  state.skip = false;
  state.required.emplace(pod);
  if (labels != nullptr) state.indexed.emplace(pod, *labels);
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

namespace {

// Kept out of line: inlined into Evaluate's node loop (through FilterNode) it made every pod's
// cycle slower, those without node affinity included (BM_EvaluateBasicPod/5000 223 -> 357 us).
ABSL_ATTRIBUTE_NOINLINE bool RequiredMatches(const NodeAffinityPreFilterState& state,
                                             const NodeInfo& node, uint32_t slot) {
  return state.indexed ? state.indexed->Matches(slot, *node.node)
                       : state.required->Matches(*node.node);
}

}  // namespace

FilterCode NodeAffinityFilter(const NodeAffinityPreFilterState& state, const NodeInfo& node,
                              uint32_t slot) {
  if (state.skip || RequiredMatches(state, node, slot)) return FilterCode::kSuccess;
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
