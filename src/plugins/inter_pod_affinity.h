// InterPodAffinity (plugins/interpodaffinity), with the feature gates of the reference release
// (InterPodAffinityHostnameFastPath off). Filter: the pod's required affinity terms need a
// matching pod in the node's topology domain (or, for the first pod of a group, a pod matching
// its own terms); its required anti-affinity terms and the required anti-affinity terms of pods
// already bound must not see a matching pod in the domain. Score: preferred terms of the pod,
// and of bound pods towards it (their required affinity at hardPodAffinityWeight), summed per
// topology domain, normalised min-max.
// Counts come from ClusterState's indexes (bound pods by label, bound pods' terms by the labels
// they select), so a cycle costs O(nodes + matching pods), not O(nodes x pods).
#ifndef SEXTANT_PLUGINS_INTER_POD_AFFINITY_H_
#define SEXTANT_PLUGINS_INTER_POD_AFFINITY_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "model/affinity_terms.h"
#include "sextant/cluster_state.h"
#include "sextant/evaluate.h"
#include "state/node_info.h"

namespace sextant {

inline constexpr char kExistingAntiAffinityReason[] =
    "node(s) didn't satisfy existing pods anti-affinity rules";
inline constexpr char kAffinityRulesReason[] = "node(s) didn't match pod affinity rules";
inline constexpr char kAntiAffinityRulesReason[] = "node(s) didn't match pod anti-affinity rules";

// NodeVerdict::reason values of this plugin.
enum class InterPodAffinityReason : uint8_t { kAffinity, kAntiAffinity, kExistingAntiAffinity };

// Pods matched per topology pair (node label key id, value id), upstream's
// topologyToMatchedTermCount. Entries are kept only while non-zero.
class TopologyPairCounts {
 public:
  void Add(int32_t key, int32_t value, int64_t delta);
  int64_t Get(int32_t key, int32_t value) const;
  bool empty() const { return counts_.empty(); }
  // Every pair with its count.
  const absl::flat_hash_map<uint64_t, int64_t>& pairs() const { return counts_; }
  // The keys of the pairs, each once, in the order they first appeared: a node matches a pair
  // only through its value for one of these, so Filter looks up one pair per key instead of
  // walking every pair (a group of N pods with hostname anti-affinity has N pairs).
  const std::vector<int32_t>& keys() const { return keys_; }
  static int32_t KeyOf(uint64_t pair) { return static_cast<int32_t>(pair >> 32); }
  static int32_t ValueOf(uint64_t pair) { return static_cast<int32_t>(pair & 0xffffffffu); }

 private:
  absl::flat_hash_map<uint64_t, int64_t> counts_;
  std::vector<int32_t> keys_;
  std::vector<int64_t> pairs_per_key_;  // parallel to keys_
};

struct InterPodAffinityPreFilterState {
  bool skip = true;  // nothing to check: Filter passes every node
  const Pod* pod = nullptr;
  const Labels* namespace_labels = nullptr;  // the pod's namespace's labels
  // The pod's required terms, namespace selectors resolved to the known namespaces.
  std::vector<AffinityTerm> affinity_terms;
  std::vector<AffinityTerm> anti_affinity_terms;
  std::vector<int32_t> affinity_keys;  // node label key id per affinity term (kAbsent: none)
  std::vector<int32_t> anti_affinity_keys;
  TopologyPairCounts existing_anti_affinity;  // bound pods' required anti-affinity matching pod
  TopologyPairCounts affinity;                // bound pods matching all affinity terms
  TopologyPairCounts anti_affinity;           // bound pods matching each anti-affinity term
  bool self_match = false;  // the pod matches all its own affinity terms
};

InterPodAffinityPreFilterState InterPodAffinityPreFilter(const Pod& pod, const ClusterState& state);

struct InterPodAffinityFilterResult {
  FilterCode code = FilterCode::kSuccess;
  InterPodAffinityReason reason = InterPodAffinityReason::kAffinity;
};
InterPodAffinityFilterResult InterPodAffinityFilter(const InterPodAffinityPreFilterState& state,
                                                    const ClusterState& cluster, uint32_t node);

// PreFilterExtensions AddPod / RemovePod: what a pod added to or removed from `node` changes.
void InterPodAffinityUpdateWithPod(InterPodAffinityPreFilterState& state, const ClusterState& cluster,
                                   const PodRecord& record, uint32_t node, int64_t multiplier);

struct InterPodAffinityPreScoreState {
  bool skip = true;  // PreScore returned Skip: every node scores 0
  // Per node label key id, the score of each of its value ids.
  std::vector<std::pair<int32_t, std::vector<int64_t>>> scores;
};

struct InterPodAffinityArgs {
  int32_t hard_pod_affinity_weight = 1;
  bool ignore_preferred_terms_of_existing_pods = false;
};

InterPodAffinityPreScoreState InterPodAffinityPreScore(const Pod& pod, const ClusterState& state,
                                                       const InterPodAffinityArgs& args);
int64_t InterPodAffinityScore(const InterPodAffinityPreScoreState& state,
                              const ClusterState& cluster, uint32_t node);
// NormalizeScore: min-max over the scored nodes to 0..100.
int64_t InterPodAffinityNormalize(int64_t score, int64_t min_score, int64_t max_score);

// The pod's terms with non-empty namespace selectors resolved against the known namespaces
// (upstream mergeAffinityTermNamespacesIfNotEmpty): exposed for tests.
void ResolveNamespaceSelector(AffinityTerm& term, const ClusterState& state);

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_INTER_POD_AFFINITY_H_
