#include "plugins/inter_pod_affinity.h"

#include <algorithm>
#include <iterator>

#include "plugins/helper.h"
#include "state/indexes.h"

namespace sextant {
namespace {

constexpr int32_t kAbsent = NodeLabelIndex::kAbsent;

uint64_t Pair(int32_t key, int32_t value) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(key)) << 32) | static_cast<uint32_t>(value);
}

// The node's value id for the topology key id, kAbsent when it has none.
int32_t NodeValue(const NodeLabelIndex& labels, int32_t key, uint32_t node) {
  return key == kAbsent ? kAbsent : labels.Value(key, node);
}

// topologyToMatchedTermCount.update: counts the pair only when the node carries the key.
void CountOnNode(TopologyPairCounts& counts, const ClusterState& cluster, const std::string& key,
                 uint32_t node, int64_t delta) {
  const NodeLabelIndex& labels = cluster.node_labels();
  int32_t k = labels.FindKey(key);
  int32_t v = NodeValue(labels, k, node);
  if (v != kAbsent) counts.Add(k, v, delta);
}

bool MatchesAll(const std::vector<AffinityTerm>& terms, const Pod& pod) {
  if (terms.empty()) return false;  // podMatchesAllAffinityTerms
  for (const auto& t : terms) {
    if (!t.Matches(pod, NoLabels())) return false;
  }
  return true;
}

// A bound pod on a node that is in the snapshot (pods on removed or never-seen nodes are not
// in upstream's node list).
bool OnPresentNode(const ClusterState& cluster, const PodRecord& record) {
  return record.node_index >= 0 && cluster.node(static_cast<uint32_t>(record.node_index)).present;
}

std::vector<AffinityTerm> Resolved(std::vector<AffinityTerm> terms, const ClusterState& state) {
  for (auto& t : terms) ResolveNamespaceSelector(t, state);
  return terms;
}

}  // namespace

void TopologyPairCounts::Add(int32_t key, int32_t value, int64_t delta) {
  auto [it, inserted] = counts_.try_emplace(Pair(key, value), 0);
  it->second += delta;
  const bool erased = it->second == 0;
  if (erased) counts_.erase(it);
  if (inserted == erased) return;  // the set of pairs is unchanged
  size_t k = static_cast<size_t>(std::find(keys_.begin(), keys_.end(), key) - keys_.begin());
  if (k == keys_.size()) {
    keys_.push_back(key);
    pairs_per_key_.push_back(0);
  }
  pairs_per_key_[k] += inserted ? 1 : -1;
  if (pairs_per_key_[k] == 0) {
    keys_.erase(keys_.begin() + static_cast<ptrdiff_t>(k));
    pairs_per_key_.erase(pairs_per_key_.begin() + static_cast<ptrdiff_t>(k));
  }
}

int64_t TopologyPairCounts::Get(int32_t key, int32_t value) const {
  auto it = counts_.find(Pair(key, value));
  return it == counts_.end() ? 0 : it->second;
}

void ResolveNamespaceSelector(AffinityTerm& term, const ClusterState& state) {
  // labels.Selector.Empty() (an empty selector, every namespace) is kept as it is; anything
  // else is replaced by the namespaces it selects now, and then selects nothing by itself.
  if (term.namespace_selector.Empty()) return;
  for (const Namespace* ns : state.namespaces()) {
    if (term.namespace_selector.Matches(ns->labels) && !term.ListsNamespace(ns->name)) {
      term.namespaces.push_back(ns->name);
    }
  }
  term.namespace_selector = CompiledLabelSelector();
}

InterPodAffinityPreFilterState InterPodAffinityPreFilter(const Pod& pod, const ClusterState& state) {
  InterPodAffinityPreFilterState s;
  s.pod = &pod;
  s.namespace_labels = &state.NamespaceLabels(pod.name_space);
  PodAffinityTerms terms = CompilePodAffinityTerms(pod);
  s.affinity_terms = Resolved(std::move(terms.required_affinity), state);
  s.anti_affinity_terms = Resolved(std::move(terms.required_anti_affinity), state);
  const NodeLabelIndex& labels = state.node_labels();
  for (const auto& t : s.affinity_terms) s.affinity_keys.push_back(labels.FindKey(t.topology_key));
  for (const auto& t : s.anti_affinity_terms) {
    s.anti_affinity_keys.push_back(labels.FindKey(t.topology_key));
  }

  // Bound pods whose required anti-affinity terms match the incoming pod.
  state.affinity_terms().ForEachCandidate(pod.labels, [&](const IndexedTerm& t) {
    if (t.kind != TermKind::kRequiredAntiAffinity || !OnPresentNode(state, *t.pod)) return;
    if (t.term->Matches(pod, *s.namespace_labels)) {
      CountOnNode(s.existing_anti_affinity, state, t.term->topology_key,
                  static_cast<uint32_t>(t.pod->node_index), 1);
    }
  });
  // Bound pods matching all the pod's affinity terms, counted in every term's domain.
  if (!s.affinity_terms.empty()) {
    state.pod_labels().ForEachCandidate(s.affinity_terms[0].selector, [&](const PodRecord& r) {
      if (!OnPresentNode(state, r) || !MatchesAll(s.affinity_terms, r.pod)) return;
      for (const auto& t : s.affinity_terms) {
        CountOnNode(s.affinity, state, t.topology_key, static_cast<uint32_t>(r.node_index), 1);
      }
    });
  }
  // Bound pods matching each anti-affinity term.
  for (const auto& t : s.anti_affinity_terms) {
    state.pod_labels().ForEachCandidate(t.selector, [&](const PodRecord& r) {
      if (!OnPresentNode(state, r) || !t.Matches(r.pod, NoLabels())) return;
      CountOnNode(s.anti_affinity, state, t.topology_key, static_cast<uint32_t>(r.node_index), 1);
    });
  }
  s.self_match = MatchesAll(s.affinity_terms, pod);
  s.skip = s.existing_anti_affinity.empty() && s.affinity_terms.empty() &&
           s.anti_affinity_terms.empty();
  return s;
}

InterPodAffinityFilterResult InterPodAffinityFilter(const InterPodAffinityPreFilterState& s,
                                                    const ClusterState& cluster, uint32_t node) {
  InterPodAffinityFilterResult out;
  if (s.skip) return out;
  const NodeLabelIndex& labels = cluster.node_labels();
  // nodeTopologyMatchesAffinity
  if (!s.affinity_terms.empty()) {
    bool pods_exist = true;
    for (int32_t key : s.affinity_keys) {
      int32_t value = NodeValue(labels, key, node);
      if (value == kAbsent) {
        out.code = FilterCode::kUnschedulableAndUnresolvable;
        out.reason = InterPodAffinityReason::kAffinity;
        return out;
      }
      if (s.affinity.Get(key, value) <= 0) pods_exist = false;
    }
    // The first pod of a group: nothing matches anywhere yet, and the pod matches itself.
    if (!pods_exist && !(s.affinity.empty() && s.self_match)) {
      out.code = FilterCode::kUnschedulableAndUnresolvable;
      out.reason = InterPodAffinityReason::kAffinity;
      return out;
    }
  }
  // satisfyPodAntiAffinity
  if (!s.anti_affinity.empty()) {
    for (int32_t key : s.anti_affinity_keys) {
      int32_t value = NodeValue(labels, key, node);
      if (value != kAbsent && s.anti_affinity.Get(key, value) > 0) {
        out.code = FilterCode::kUnschedulable;
        out.reason = InterPodAffinityReason::kAntiAffinity;
        return out;
      }
    }
  }
  // satisfyExistingPodsAntiAffinity: any of the node's label pairs with a matching anti term.
  for (int32_t key : s.existing_anti_affinity.keys()) {
    int32_t value = labels.Value(key, node);
    if (value != kAbsent && s.existing_anti_affinity.Get(key, value) > 0) {
      out.code = FilterCode::kUnschedulable;
      out.reason = InterPodAffinityReason::kExistingAntiAffinity;
      return out;
    }
  }
  return out;
}

void InterPodAffinityUpdateWithPod(InterPodAffinityPreFilterState& s, const ClusterState& cluster,
                                   const PodRecord& record, uint32_t node, int64_t multiplier) {
  if (s.skip) return;  // the framework runs no extension of a plugin skipped in PreFilter
  if (record.affinity) {
    for (const auto& t : record.affinity->required_anti_affinity) {
      if (t.Matches(*s.pod, *s.namespace_labels)) {
        CountOnNode(s.existing_anti_affinity, cluster, t.topology_key, node, multiplier);
      }
    }
  }
  if (MatchesAll(s.affinity_terms, record.pod)) {
    for (const auto& t : s.affinity_terms) {
      CountOnNode(s.affinity, cluster, t.topology_key, node, multiplier);
    }
  }
  for (const auto& t : s.anti_affinity_terms) {
    if (t.Matches(record.pod, NoLabels())) {
      CountOnNode(s.anti_affinity, cluster, t.topology_key, node, multiplier);
    }
  }
}

InterPodAffinityPreScoreState InterPodAffinityPreScore(const Pod& pod, const ClusterState& state,
                                                       const InterPodAffinityArgs& args) {
  InterPodAffinityPreScoreState out;
  const bool has_constraints =
      pod.affinity && ((pod.affinity->pod_affinity && !pod.affinity->pod_affinity->preferred.empty()) ||
                       (pod.affinity->pod_anti_affinity &&
                        !pod.affinity->pod_anti_affinity->preferred.empty()));
  if (args.ignore_preferred_terms_of_existing_pods && !has_constraints) return out;

  const NodeLabelIndex& labels = state.node_labels();
  const Labels& ns_labels = state.NamespaceLabels(pod.name_space);
  absl::flat_hash_map<uint64_t, int64_t> scores;
  bool any = false;
  // scoreMap.processTerm: a matching pod adds weight x multiplier to its node's domain.
  auto process = [&](const AffinityTerm& term, int64_t weight, const Pod& target,
                     const Labels& target_ns_labels, uint32_t node) {
    if (!term.Matches(target, target_ns_labels)) return;
    int32_t k = labels.FindKey(term.topology_key);
    int32_t v = NodeValue(labels, k, node);
    if (v == kAbsent) return;
    scores[Pair(k, v)] += weight;
    any = true;
  };
  // Terms of bound pods towards the incoming pod.
  state.affinity_terms().ForEachCandidate(pod.labels, [&](const IndexedTerm& t) {
    if (!OnPresentNode(state, *t.pod)) return;
    uint32_t node = static_cast<uint32_t>(t.pod->node_index);
    switch (t.kind) {
      case TermKind::kRequiredAffinity:
        if (args.hard_pod_affinity_weight > 0) {
          process(*t.term, args.hard_pod_affinity_weight, pod, ns_labels, node);
        }
        break;
      case TermKind::kPreferredAffinity:
        process(*t.term, t.term->weight, pod, ns_labels, node);
        break;
      case TermKind::kPreferredAntiAffinity:
        process(*t.term, -static_cast<int64_t>(t.term->weight), pod, ns_labels, node);
        break;
      case TermKind::kRequiredAntiAffinity:
        break;
    }
  });
  // The incoming pod's preferred terms towards bound pods.
  if (has_constraints) {
    PodAffinityTerms terms = CompilePodAffinityTerms(pod);
    auto over_bound_pods = [&](std::vector<AffinityTerm> preferred, int64_t sign) {
      for (auto& t : preferred) {
        ResolveNamespaceSelector(t, state);
        state.pod_labels().ForEachCandidate(t.selector, [&](const PodRecord& r) {
          if (!OnPresentNode(state, r)) return;
          process(t, sign * t.weight, r.pod, NoLabels(), static_cast<uint32_t>(r.node_index));
        });
      }
    };
    over_bound_pods(std::move(terms.preferred_affinity), 1);
    over_bound_pods(std::move(terms.preferred_anti_affinity), -1);
  }
  if (!any) return out;
  out.skip = false;
  for (const auto& [pair, score] : scores) {
    int32_t k = TopologyPairCounts::KeyOf(pair);
    auto it = std::find_if(out.scores.begin(), out.scores.end(),
                           [&](const auto& entry) { return entry.first == k; });
    if (it == out.scores.end()) {
      out.scores.emplace_back(k, std::vector<int64_t>(labels.value_count(k), 0));
      it = std::prev(out.scores.end());
    }
    it->second[TopologyPairCounts::ValueOf(pair)] += score;
  }
  return out;
}

int64_t InterPodAffinityScore(const InterPodAffinityPreScoreState& s, const ClusterState& cluster,
                              uint32_t node) {
  if (s.skip) return 0;
  const NodeLabelIndex& labels = cluster.node_labels();
  int64_t score = 0;
  for (const auto& [key, by_value] : s.scores) {
    int32_t v = labels.Value(key, node);
    if (v != kAbsent && static_cast<size_t>(v) < by_value.size()) score += by_value[v];
  }
  return score;
}

int64_t InterPodAffinityNormalize(int64_t score, int64_t min_score, int64_t max_score) {
  int64_t diff = max_score - min_score;
  if (diff <= 0) return 0;
  double f = static_cast<double>(kMaxNodeScore) *
             (static_cast<double>(score - min_score) / static_cast<double>(diff));
  return static_cast<int64_t>(f);
}

}  // namespace sextant
