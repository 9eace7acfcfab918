// TaintToleration (plugins/tainttoleration): Filter rejects a node with a NoSchedule or NoExecute
// taint the pod does not tolerate; Score counts PreferNoSchedule taints the pod does not tolerate,
// normalised in reverse (fewer is better).
#ifndef SEXTANT_PLUGINS_TAINT_TOLERATION_H_
#define SEXTANT_PLUGINS_TAINT_TOLERATION_H_

#include <vector>

#include "sextant/evaluate.h"
#include "state/node_info.h"

namespace sextant {

inline constexpr char kTaintTolerationReason[] = "node(s) had untolerated taint(s)";

FilterCode TaintTolerationFilter(const Pod& pod, const NodeInfo& node);

// PreScore: the pod's tolerations that can match PreferNoSchedule taints.
struct TaintTolerationPreScoreState {
  std::vector<Toleration> prefer_no_schedule_tolerations;
};
TaintTolerationPreScoreState TaintTolerationPreScore(const Pod& pod);
int64_t TaintTolerationScore(const TaintTolerationPreScoreState& state, const NodeInfo& node);

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_TAINT_TOLERATION_H_
