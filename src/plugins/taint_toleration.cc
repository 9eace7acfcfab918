#include "plugins/taint_toleration.h"

#include "model/taints.h"

namespace sextant {

FilterCode TaintTolerationFilter(const Pod& pod, const NodeInfo& node) {
  if (!node.has_hard_taints) return FilterCode::kSuccess;
  for (const Taint& taint : node.node->taints) {
    if (taint.effect != TaintEffect::kNoSchedule && taint.effect != TaintEffect::kNoExecute) continue;
    if (!TolerationsTolerateTaint(pod.tolerations, taint)) {
      return FilterCode::kUnschedulableAndUnresolvable;
    }
  }
  return FilterCode::kSuccess;
}

TaintTolerationPreScoreState TaintTolerationPreScore(const Pod& pod) {
  TaintTolerationPreScoreState state;
  for (const Toleration& t : pod.tolerations) {
    if (t.effect == TaintEffect::kNone || t.effect == TaintEffect::kPreferNoSchedule) {
      state.prefer_no_schedule_tolerations.push_back(t);
    }
  }
  return state;
}

int64_t TaintTolerationScore(const TaintTolerationPreScoreState& state, const NodeInfo& node) {
  if (!node.has_prefer_no_schedule) return 0;
  int64_t intolerable = 0;
  for (const Taint& taint : node.node->taints) {
    if (taint.effect != TaintEffect::kPreferNoSchedule) continue;
    if (!TolerationsTolerateTaint(state.prefer_no_schedule_tolerations, taint)) ++intolerable;
  }
  return intolerable;
}

}  // namespace sextant
