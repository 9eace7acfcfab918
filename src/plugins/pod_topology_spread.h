// PodTopologySpread (plugins/podtopologyspread), with the feature gates of the reference release
// (NodeInclusionPolicyInPodTopologySpread and MatchLabelKeysInPodTopologySpread on). Filter:
// for each DoNotSchedule constraint, placing the pod in the node's domain must keep
// matching pods - the emptiest eligible domain's (0 below minDomains) <= maxSkew. Score: for
// ScheduleAnyway constraints (or the default constraints), fewer matching pods in the node's
// domain score higher, each constraint weighed by ln(domains + 2), normalised in reverse.
// Matching pods come from ClusterState's pod label index and domains from its node label
// columns, so a cycle costs O(nodes + matching pods).
#ifndef SEXTANT_PLUGINS_POD_TOPOLOGY_SPREAD_H_
#define SEXTANT_PLUGINS_POD_TOPOLOGY_SPREAD_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "model/selectors.h"
#include "plugins/node_affinity.h"
#include "sextant/cluster_state.h"
#include "sextant/evaluate.h"
#include "state/node_info.h"

namespace sextant {

inline constexpr char kSpreadConstraintsReason[] =
    "node(s) didn't match pod topology spread constraints";
inline constexpr char kSpreadMissingLabelReason[] =
    "node(s) didn't match pod topology spread constraints (missing required label)";

// NodeVerdict::reason values of this plugin.
enum class PodTopologySpreadReason : uint8_t { kConstraintsNotMatch, kMissingLabel };

inline constexpr char kLabelHostname[] = "kubernetes.io/hostname";
inline constexpr char kLabelTopologyZone[] = "topology.kubernetes.io/zone";

// PodTopologySpreadArgs.
struct PodTopologySpreadArgs {
  // defaultingType System: hostname maxSkew 3 and zone maxSkew 5, ScheduleAnyway. Otherwise
  // (List) the default_constraints below.
  bool system_defaulting = true;
  std::vector<TopologySpreadConstraint> default_constraints;
};

// Checks the args as upstream's ValidatePodTopologySpreadArgs; InvalidArgument names the field.
absl::Status ValidatePodTopologySpreadArgs(const PodTopologySpreadArgs& args);

// One constraint as the plugin uses it (upstream topologySpreadConstraint).
struct SpreadConstraint {
  int32_t max_skew = 1;
  std::string topology_key;
  int32_t key = -1;  // node label key id, or kAbsent when no node carries it
  CompiledLabelSelector selector;
  int32_t min_domains = 1;
  bool honor_node_affinity = true;
  bool honor_taints = false;
};

// PodTopologySpreadPreFilterState::match_num of a value that is not an eligible domain.
inline constexpr int64_t kNotDomain = std::numeric_limits<int64_t>::min();

struct PodTopologySpreadPreFilterState {
  bool skip = true;  // no DoNotSchedule constraint: Filter passes every node
  const Pod* pod = nullptr;
  std::vector<SpreadConstraint> constraints;
  // Per constraint, matching pods per domain (node label value id); kNotDomain: not an eligible
  // domain. A domain's count can go below zero: RemovePod of a pod PreFilter did not count (a
  // terminating one) decrements it, as upstream's map does.
  std::vector<std::vector<int64_t>> match_num;
  std::vector<int64_t> domains;        // eligible domains per constraint
  std::vector<int64_t> min_match;      // per constraint: minMatchNum
  std::vector<uint8_t> self_match;     // per constraint: the pod matches its own selector
  std::optional<IndexedNodeAffinity> node_affinity;
};

PodTopologySpreadPreFilterState PodTopologySpreadPreFilter(const Pod& pod, const ClusterState& state,
                                                           const PodTopologySpreadArgs& args);

struct PodTopologySpreadFilterResult {
  FilterCode code = FilterCode::kSuccess;
  PodTopologySpreadReason reason = PodTopologySpreadReason::kConstraintsNotMatch;
};
PodTopologySpreadFilterResult PodTopologySpreadFilter(const PodTopologySpreadPreFilterState& state,
                                                      const ClusterState& cluster, uint32_t node);

// PreFilterExtensions AddPod / RemovePod.
void PodTopologySpreadUpdateWithPod(PodTopologySpreadPreFilterState& state,
                                    const ClusterState& cluster, const Pod& pod, uint32_t node,
                                    int64_t delta);

struct PodTopologySpreadPreScoreState {
  bool skip = true;  // PreScore returned Skip: every node scores 0
  std::vector<SpreadConstraint> constraints;
  bool require_all_topologies = true;
  std::vector<uint8_t> ignored;  // per node slot: feasible but lacking a topology key
  // Per constraint: matching pods per domain id (-1: not a domain of a feasible node), and for
  // hostname constraints matching pods per node slot.
  std::vector<std::vector<int64_t>> counts;
  std::vector<std::vector<int32_t>> per_node;
  std::vector<double> weights;  // ln(domains + 2)
};

// `feasible` are the node slots that passed Filter.
PodTopologySpreadPreScoreState PodTopologySpreadPreScore(const Pod& pod, const ClusterState& state,
                                                         const PodTopologySpreadArgs& args,
                                                         const std::vector<uint32_t>& feasible);
// The raw score of a feasible node; *ignored is set for nodes NormalizeScore scores 0.
int64_t PodTopologySpreadScore(const PodTopologySpreadPreScoreState& state,
                               const ClusterState& cluster, uint32_t node, bool* ignored);
// NormalizeScore for a node that is not ignored, given the lowest and highest raw scores of the
// nodes that are not (max starting at 0, as upstream).
int64_t PodTopologySpreadNormalize(int64_t score, int64_t min_score, int64_t max_score);

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_POD_TOPOLOGY_SPREAD_H_
