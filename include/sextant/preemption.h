// Preemption (upstream DefaultPreemption's PostFilter): for a pod no node can take, find the node
// where evicting lower-priority pods lets it fit, and the fewest, least important pods to evict.
// Pure: reads a ClusterState (which must not change during the call) and returns a decision;
// the caller evicts the victims (the shim through the API, replay in its own state).
#ifndef SEXTANT_PREEMPTION_H_
#define SEXTANT_PREEMPTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sextant/cluster_state.h"
#include "sextant/evaluate.h"
#include "sextant/model.h"

namespace sextant {

struct PreemptionVictim {
  std::string name_space;
  std::string name;
  std::string uid;
  int32_t priority = 0;
  QosClass qos = QosClass::kBestEffort;
};

// One node where preemption would make the pod fit, with its victims (most important first).
struct PreemptionCandidate {
  std::string node;
  std::vector<PreemptionVictim> victims;
  int64_t pdb_violations = 0;
};

struct PreemptionResult {
  // The node the pod is nominated to; empty when preemption cannot help.
  std::string nominated_node;
  // Pods to evict, most important first (upstream's victims order).
  std::vector<PreemptionVictim> victims;
  int64_t pdb_violations = 0;
  // Candidate nodes found by the dry run (each with a victim set).
  int64_t candidates = 0;
  // Every candidate in node order; filled only when asked (parity runs, explanations).
  std::vector<PreemptionCandidate> all_candidates;
  // The candidates still tied when the last criterion (start time) was applied; the chosen node
  // is the first of them in node order (upstream: the first in Go map order).
  std::vector<std::string> final_ties;
  // Upstream's status message: why the pod may not preempt, the FitError of a dry run that
  // found no candidate ("0/N nodes are available: ..."), or what was decided.
  std::string message;
  // Set when no node is a candidate and a dry run's filters failed with an error (a CEL runtime
  // error in a DRA selector): upstream's PostFilter then fails with that error instead of the
  // FitError. message holds the same text.
  std::string error;
};

// Runs DefaultPreemption for `pod` after the cycle `evaluation` (from Evaluator::Evaluate on the
// same state) found no feasible node. Nodes that failed with Unschedulable are candidates; on
// each, every lower-priority pod is removed, all filters run again (PodTopologySpread and
// InterPodAffinity see the removals), and victims are reprieved most important first, those
// whose eviction would violate a PodDisruptionBudget before the others. Among candidates the
// node is chosen by fewest PDB violations, lowest highest-victim priority, smallest priority
// sum, fewest victims, latest start time of the most important victims, then node order.
PreemptionResult Preempt(const Evaluator& evaluator, const ClusterState& state, const Pod& pod,
                         const Evaluation& evaluation, bool list_candidates = false);

}  // namespace sextant

#endif  // SEXTANT_PREEMPTION_H_
