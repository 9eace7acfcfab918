#include "plugins/pod_topology_spread.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "plugins/helper.h"
#include "plugins/taint_toleration.h"
#include "state/indexes.h"

namespace sextant {
namespace {

constexpr int32_t kAbsent = NodeLabelIndex::kAbsent;
constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

const std::vector<TopologySpreadConstraint>& SystemDefaultConstraints() {
  static const auto* const kDefaults = [] {
    auto* defaults = new std::vector<TopologySpreadConstraint>(2);
    (*defaults)[0].max_skew = 3;
    (*defaults)[0].topology_key = kLabelHostname;
    (*defaults)[0].when_unsatisfiable = UnsatisfiableConstraintAction::kScheduleAnyway;
    (*defaults)[1].max_skew = 5;
    (*defaults)[1].topology_key = kLabelTopologyZone;
    (*defaults)[1].when_unsatisfiable = UnsatisfiableConstraintAction::kScheduleAnyway;
    return defaults;
  }();
  return *kDefaults;
}

// filterTopologySpreadConstraints: the constraints with the given action, matchLabelKeys merged
// into the selector from the pod's labels.
std::vector<SpreadConstraint> FilterConstraints(const std::vector<TopologySpreadConstraint>& in,
                                                const Pod& pod, UnsatisfiableConstraintAction action,
                                                const ClusterState& state) {
  std::vector<SpreadConstraint> out;
  for (const auto& c : in) {
    if (c.when_unsatisfiable != action) continue;
    SpreadConstraint sc;
    sc.selector = CompiledLabelSelector::FromOptional(c.label_selector);
    if (!c.match_label_keys.empty()) {
      Labels match;
      for (const auto& key : c.match_label_keys) {
        auto it = pod.labels.find(key);
        if (it != pod.labels.end()) match[key] = it->second;
      }
      sc.selector.PrependMatchLabels(match);
    }
    sc.max_skew = c.max_skew;
    sc.topology_key = c.topology_key;
    sc.key = state.node_labels().FindKey(c.topology_key);
    sc.min_domains = c.min_domains.value_or(1);
    sc.honor_node_affinity =
        c.node_affinity_policy.value_or(NodeInclusionPolicy::kHonor) == NodeInclusionPolicy::kHonor;
    sc.honor_taints =
        c.node_taints_policy.value_or(NodeInclusionPolicy::kIgnore) == NodeInclusionPolicy::kHonor;
    out.push_back(std::move(sc));
  }
  return out;
}

// getConstraints / the PreScore equivalent: the pod's own constraints, or the defaults with the
// pod's default selector.
std::vector<SpreadConstraint> Constraints(const Pod& pod, const ClusterState& state,
                                          const PodTopologySpreadArgs& args,
                                          UnsatisfiableConstraintAction action) {
  if (!pod.topology_spread_constraints.empty()) {
    return FilterConstraints(pod.topology_spread_constraints, pod, action, state);
  }
  const auto& defaults = args.system_defaulting ? SystemDefaultConstraints() : args.default_constraints;
  std::vector<SpreadConstraint> out = FilterConstraints(defaults, pod, action, state);
  if (out.empty()) return out;
  CompiledLabelSelector selector = CompiledLabelSelector::FromOptional(pod.default_spread_selector);
  if (selector.nothing() || selector.Empty()) return {};
  for (auto& c : out) c.selector = selector;
  return out;
}

int32_t NodeValue(const ClusterState& state, int32_t key, uint32_t node) {
  return key == kAbsent ? kAbsent : state.node_labels().Value(key, node);
}

bool HasAllKeys(const ClusterState& state, const std::vector<SpreadConstraint>& constraints,
                uint32_t node) {
  for (const auto& c : constraints) {
    if (NodeValue(state, c.key, node) == kAbsent) return false;
  }
  return true;
}

// matchNodeInclusionPolicies.
bool Included(const SpreadConstraint& c, const Pod& pod, const IndexedNodeAffinity& affinity,
              uint32_t slot, const NodeInfo& node) {
  if (c.honor_node_affinity && !affinity.Matches(slot, *node.node)) return false;
  if (c.honor_taints && TaintTolerationFilter(pod, node) != FilterCode::kSuccess) return false;
  return true;
}

// countPodsMatchSelector over every node at once: per node slot, the bound pods of the pod's
// namespace, not terminating, that the selector matches (an empty selector counts none).
std::vector<int32_t> MatchingPodsPerNode(const ClusterState& state, const SpreadConstraint& c,
                                         const std::string& name_space) {
  std::vector<int32_t> per_node(state.node_slots(), 0);
  if (c.selector.Empty()) return per_node;
  state.pod_labels().ForEachCandidate(c.selector, [&](const PodRecord& r) {
    if (r.node_index < 0 || r.pod.deletion_unix_nanos || r.pod.name_space != name_space) return;
    if (c.selector.Matches(r.pod.labels)) ++per_node[r.node_index];
  });
  return per_node;
}

void UpdateMinMatch(PodTopologySpreadPreFilterState& s, size_t i) {
  int64_t min = kMaxInt32;
  for (int64_t n : s.match_num[i]) {
    if (n != kNotDomain) min = std::min(min, n);
  }
  if (s.domains[i] < s.constraints[i].min_domains) min = 0;
  s.min_match[i] = min;
}

}  // namespace

absl::Status ValidatePodTopologySpreadArgs(const PodTopologySpreadArgs& args) {
  const std::string path = "podTopologySpread";
  if (args.system_defaulting && !args.default_constraints.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".defaultingType: Invalid value: \"System\": when .defaultConstraints "
                           "are not empty"));
  }
  for (size_t i = 0; i < args.default_constraints.size(); ++i) {
    const auto& c = args.default_constraints[i];
    std::string p = absl::StrCat(path, ".defaultConstraints[", i, "]");
    if (c.max_skew <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(p, ".maxSkew: not in valid range (0, inf)"));
    }
    if (c.topology_key.empty() || !IsQualifiedName(c.topology_key)) {
      return absl::InvalidArgumentError(absl::StrCat(p, ".topologyKey: must be a label name"));
    }
    if (c.label_selector) {
      return absl::InvalidArgumentError(absl::StrCat(
          p, ".labelSelector: constraint must not define a selector, as they deduced for each pod"));
    }
    for (size_t j = 0; j < i; ++j) {
      const auto& o = args.default_constraints[j];
      if (o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable) {
        return absl::InvalidArgumentError(absl::StrCat(
            p, ": Duplicate value: {", c.topology_key, "}"));
      }
    }
  }
  return absl::OkStatus();
}

PodTopologySpreadPreFilterState PodTopologySpreadPreFilter(const Pod& pod, const ClusterState& state,
                                                           const PodTopologySpreadArgs& args) {
  PodTopologySpreadPreFilterState s;
  s.pod = &pod;
  s.constraints = Constraints(pod, state, args, UnsatisfiableConstraintAction::kDoNotSchedule);
  if (s.constraints.empty()) return s;
  s.skip = false;
  const size_t n = s.constraints.size();
  s.node_affinity.emplace(pod, state.node_labels());
  s.match_num.resize(n);
  s.domains.assign(n, 0);
  s.min_match.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const SpreadConstraint& c = s.constraints[i];
    s.self_match.push_back(c.selector.Matches(pod.labels) ? 1 : 0);
    if (c.key != kAbsent) {
      s.match_num[i].assign(state.node_labels().value_count(c.key), kNotDomain);
    }
  }
  // Eligible domains: nodes with every topology key that pass the constraint's inclusion
  // policies; then the matching pods on those nodes.
  std::vector<std::vector<uint8_t>> eligible(n, std::vector<uint8_t>(state.node_slots(), 0));
  for (uint32_t node : state.live_nodes()) {
    if (!HasAllKeys(state, s.constraints, node)) continue;
    const NodeInfo& info = state.node(node);
    for (size_t i = 0; i < n; ++i) {
      if (!Included(s.constraints[i], pod, *s.node_affinity, node, info)) continue;
      eligible[i][node] = 1;
      int64_t& num = s.match_num[i][NodeValue(state, s.constraints[i].key, node)];
      if (num == kNotDomain) {
        num = 0;
        ++s.domains[i];
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const SpreadConstraint& c = s.constraints[i];
    if (!c.selector.Empty()) {
      state.pod_labels().ForEachCandidate(c.selector, [&](const PodRecord& r) {
        if (r.node_index < 0 || !eligible[i][r.node_index]) return;
        if (r.pod.deletion_unix_nanos || r.pod.name_space != pod.name_space) return;
        if (!c.selector.Matches(r.pod.labels)) return;
        ++s.match_num[i][NodeValue(state, c.key, static_cast<uint32_t>(r.node_index))];
      });
    }
    UpdateMinMatch(s, i);
  }
  return s;
}

PodTopologySpreadFilterResult PodTopologySpreadFilter(const PodTopologySpreadPreFilterState& s,
                                                      const ClusterState& cluster, uint32_t node) {
  PodTopologySpreadFilterResult out;
  if (s.skip) return out;
  for (size_t i = 0; i < s.constraints.size(); ++i) {
    const SpreadConstraint& c = s.constraints[i];
    int32_t value = NodeValue(cluster, c.key, node);
    if (value == kAbsent) {
      out.code = FilterCode::kUnschedulableAndUnresolvable;
      out.reason = PodTopologySpreadReason::kMissingLabel;
      return out;
    }
    int64_t match = 0;
    if (static_cast<size_t>(value) < s.match_num[i].size()) {
      // Go's map read: 0 for a value that is not a domain.
      if (s.match_num[i][value] != kNotDomain) match = s.match_num[i][value];
    }
    if (match + s.self_match[i] - s.min_match[i] > c.max_skew) {
      out.code = FilterCode::kUnschedulable;
      out.reason = PodTopologySpreadReason::kConstraintsNotMatch;
      return out;
    }
  }
  return out;
}

void PodTopologySpreadUpdateWithPod(PodTopologySpreadPreFilterState& s, const ClusterState& cluster,
                                    const Pod& pod, uint32_t node, int64_t delta) {
  if (s.skip || pod.name_space != s.pod->name_space) return;
  if (!HasAllKeys(cluster, s.constraints, node)) return;
  const NodeInfo& info = cluster.node(node);
  for (size_t i = 0; i < s.constraints.size(); ++i) {
    const SpreadConstraint& c = s.constraints[i];
    if (!c.selector.Matches(pod.labels)) continue;
    if (!Included(c, *s.pod, *s.node_affinity, node, info)) continue;
    int32_t value = NodeValue(cluster, c.key, node);
    if (static_cast<size_t>(value) >= s.match_num[i].size()) {
      s.match_num[i].resize(value + 1, kNotDomain);
    }
    int64_t& num = s.match_num[i][value];
    if (num == kNotDomain) {  // upstream's map gains the domain
      num = 0;
      ++s.domains[i];
    }
    num += delta;
    UpdateMinMatch(s, i);
  }
}

PodTopologySpreadPreScoreState PodTopologySpreadPreScore(const Pod& pod, const ClusterState& state,
                                                         const PodTopologySpreadArgs& args,
                                                         const std::vector<uint32_t>& feasible) {
  PodTopologySpreadPreScoreState s;
  if (state.live_nodes().empty()) return s;
  s.constraints = Constraints(pod, state, args, UnsatisfiableConstraintAction::kScheduleAnyway);
  if (s.constraints.empty()) return s;
  s.skip = false;
  s.require_all_topologies = !pod.topology_spread_constraints.empty() || !args.system_defaulting;
  const size_t n = s.constraints.size();
  s.ignored.assign(state.node_slots(), 0);
  s.counts.resize(n);
  s.per_node.resize(n);
  // A node without the key reads as value "" (Go's map miss) when topologies are not required:
  // domain ids are the key's value ids plus one extra id for "" when no node spells it out.
  std::vector<int32_t> empty_id(n);
  for (size_t i = 0; i < n; ++i) {
    const SpreadConstraint& c = s.constraints[i];
    int32_t values = c.key == kAbsent ? 0 : state.node_labels().value_count(c.key);
    int32_t spelled = c.key == kAbsent ? kAbsent : state.node_labels().FindValue(c.key, "");
    empty_id[i] = spelled != kAbsent ? spelled : values;
    s.counts[i].assign(values + 1, -1);
  }
  auto domain = [&](size_t i, uint32_t node) {
    int32_t v = NodeValue(state, s.constraints[i].key, node);
    return v == kAbsent ? empty_id[i] : v;
  };
  std::vector<int64_t> sizes(n, 0);
  int64_t ignored = 0;
  for (uint32_t node : feasible) {
    if (s.require_all_topologies && !HasAllKeys(state, s.constraints, node)) {
      s.ignored[node] = 1;
      ++ignored;
      continue;
    }
    for (size_t i = 0; i < n; ++i) {
      if (s.constraints[i].topology_key == kLabelHostname) continue;
      int64_t& count = s.counts[i][domain(i, node)];
      if (count < 0) {
        count = 0;
        ++sizes[i];
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    int64_t size = s.constraints[i].topology_key == kLabelHostname
                       ? static_cast<int64_t>(feasible.size()) - ignored
                       : sizes[i];
    s.weights.push_back(std::log(static_cast<double>(size + 2)));
    s.per_node[i] = MatchingPodsPerNode(state, s.constraints[i], pod.name_space);
  }
  const IndexedNodeAffinity affinity(pod, state.node_labels());
  for (uint32_t node : state.live_nodes()) {
    if (s.require_all_topologies && !HasAllKeys(state, s.constraints, node)) continue;
    const NodeInfo& info = state.node(node);
    for (size_t i = 0; i < n; ++i) {
      if (!Included(s.constraints[i], pod, affinity, node, info)) continue;
      int64_t& count = s.counts[i][domain(i, node)];
      if (count < 0) continue;  // not a domain of a feasible node (hostname: none are)
      count += s.per_node[i][node];
    }
  }
  return s;
}

int64_t PodTopologySpreadScore(const PodTopologySpreadPreScoreState& s, const ClusterState& cluster,
                               uint32_t node, bool* ignored) {
  *ignored = false;
  if (s.skip) return 0;
  if (s.ignored[node]) {
    *ignored = true;
    return 0;
  }
  double score = 0;
  for (size_t i = 0; i < s.constraints.size(); ++i) {
    const SpreadConstraint& c = s.constraints[i];
    int32_t value = NodeValue(cluster, c.key, node);
    if (value == kAbsent) continue;
    int64_t count = c.topology_key == kLabelHostname ? s.per_node[i][node] : s.counts[i][value];
    score += static_cast<double>(count) * s.weights[i] + static_cast<double>(c.max_skew - 1);
  }
  return static_cast<int64_t>(std::round(score));
}

int64_t PodTopologySpreadNormalize(int64_t score, int64_t min_score, int64_t max_score) {
  if (max_score == 0) return kMaxNodeScore;
  return kMaxNodeScore * (max_score + min_score - score) / max_score;
}

}  // namespace sextant
