// DefaultPreemption (plugins/defaultpreemption and framework/preemption of the reference release)
// for single pods: eligibility, the dry run on every candidate node, victim selection with PDB
// accounting, and the choice of one node.
#include <algorithm>
#include <map>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "framework/cycle_state.h"
#include "model/selectors.h"
#include "plugins/dynamic_resources.h"
#include "sextant/pod_resources.h"
#include "sextant/preemption.h"
#include "state/node_info.h"

namespace sextant {
namespace {

constexpr char kNoVictims[] = "No preemption victims found for incoming pod";
constexpr char kNotHelpful[] = "Preemption is not helpful for scheduling";
constexpr int64_t kNoStartTime = INT64_MAX;  // upstream reads time.Now(): later than any start

int64_t StartTime(const Pod& pod) { return pod.start_unix_nanos.value_or(kNoStartTime); }

// The dry run on one node: a simulation with pods taken off and put back, filtered with the
// nominated pods of equal or higher priority as upstream's RunFilterPluginsWithNominatedPods.
struct DryRun {
  const ClusterState& state;
  uint32_t index;
  SimulatedNode sim;

  void Remove(PodRecord* r) { sim.Remove(r); }
  void Add(PodRecord* r) { sim.Add(r); }
  NodeVerdict Filter() const {
    NodeVerdict v;
    v.node = index;
    FilterNodeWithNominatedPods(sim.cycle(), state, index, sim.node(), v);
    return v;
  }
};

// preemption.FilterVictimsWithPDBViolation for single-pod victims, in the given order.
std::vector<bool> PdbViolations(const std::vector<PodRecord*>& victims,
                                const std::vector<PodDisruptionBudget>& pdbs,
                                const std::vector<CompiledLabelSelector>& selectors) {
  std::vector<int64_t> allowed;
  for (const auto& pdb : pdbs) allowed.push_back(pdb.disruptions_allowed);
  std::vector<bool> out;
  for (const PodRecord* r : victims) {
    bool violating = false;
    if (!r->pod.labels.empty()) {
      for (size_t i = 0; i < pdbs.size() && !violating; ++i) {
        if (pdbs[i].name_space != r->pod.name_space) continue;
        if (selectors[i].Empty() || !selectors[i].Matches(r->pod.labels)) continue;
        if (--allowed[i] < 0) violating = true;
      }
    }
    out.push_back(violating);
  }
  return out;
}

struct Candidate {
  uint32_t node = 0;
  std::vector<const PodRecord*> victims;  // most important first
  int64_t pdb_violations = 0;
};

class Selector {
 public:
  Selector(const ClusterState& state, const ProfileOptions& options, const Pod& pod,
           const CycleState& cycle)
      : state_(state), options_(options), pod_(pod), cycle_(cycle) {
    for (const auto& pdb : state.pod_disruption_budgets()) {
      pdb_selectors_.push_back(CompiledLabelSelector::FromOptional(pdb.selector));
    }
  }

  // MoreImportantVictim for single pods: higher priority, then (Sextant option) higher QoS,
  // then earlier start; the pod key makes the order total where upstream's sort is unstable.
  bool MoreImportant(const PodRecord* a, const PodRecord* b) const {
    if (a->pod.Priority() != b->pod.Priority()) return a->pod.Priority() > b->pod.Priority();
    if (options_.preemption_prefers_lower_qos_victims && a->qos != b->qos) {
      return static_cast<int>(a->qos) < static_cast<int>(b->qos);  // kGuaranteed is 0
    }
    if (StartTime(a->pod) != StartTime(b->pod)) return StartTime(a->pod) < StartTime(b->pod);
    return a->pod.Key() < b->pod.Key();
  }

  // SelectVictimsOnNode. On failure returns the node's status as a verdict in *failure.
  bool SelectVictims(uint32_t index, Candidate* out, NodeVerdict* failure,
                     std::string* failure_reason) const {
    DryRun run{state_, index, SimulatedNode(state_, index, state_.node(index), cycle_)};
    std::vector<PodRecord*> potential;
    for (PodRecord* r : state_.node(index).pods) {
      if (r->pod.Priority() < pod_.Priority()) potential.push_back(r);
    }
    if (potential.empty()) {
      *failure_reason = kNoVictims;
      return false;
    }
    for (PodRecord* r : potential) run.Remove(r);
    NodeVerdict v = run.Filter();
    if (v.code != FilterCode::kSuccess) {
      *failure = v;
      return false;
    }
    std::stable_sort(potential.begin(), potential.end(),
                     [&](const PodRecord* a, const PodRecord* b) { return MoreImportant(a, b); });
    std::vector<bool> violating =
        PdbViolations(potential, state_.pod_disruption_budgets(), pdb_selectors_);
    out->node = index;
    auto reprieve = [&](PodRecord* r) {
      run.Add(r);
      if (run.Filter().code == FilterCode::kSuccess) return true;
      run.Remove(r);
      out->victims.push_back(r);
      return false;
    };
    bool any_violating = false;
    bool any_non_violating = false;
    for (size_t i = 0; i < potential.size(); ++i) {
      if (!violating[i]) continue;
      any_violating = true;
      if (!reprieve(potential[i])) ++out->pdb_violations;
    }
    for (size_t i = 0; i < potential.size(); ++i) {
      if (violating[i]) continue;
      any_non_violating = true;
      reprieve(potential[i]);
    }
    if (any_violating && any_non_violating) {
      std::stable_sort(out->victims.begin(), out->victims.end(),
                       [&](const PodRecord* a, const PodRecord* b) { return MoreImportant(a, b); });
    }
    return true;
  }

 private:
  const ClusterState& state_;
  const ProfileOptions& options_;
  const Pod& pod_;
  const CycleState& cycle_;
  std::vector<CompiledLabelSelector> pdb_selectors_;
};

// pickOneNodeForPreemption's criteria, each a score to maximise; ties go to the next. Returns
// the candidates left after the last criterion, in node order.
std::vector<const Candidate*> PickOne(const std::vector<Candidate>& candidates) {
  std::vector<const Candidate*> left;
  for (const Candidate& c : candidates) left.push_back(&c);
  auto narrow = [&](auto score) {
    if (left.size() <= 1) return;
    int64_t best = INT64_MIN;
    std::vector<const Candidate*> kept;
    for (const Candidate* c : left) {
      int64_t s = score(*c);
      if (s > best) {
        best = s;
        kept.clear();
      }
      if (s == best) kept.push_back(c);
    }
    left = std::move(kept);
  };
  narrow([](const Candidate& c) { return -c.pdb_violations; });
  narrow([](const Candidate& c) { return -static_cast<int64_t>(c.victims[0]->pod.Priority()); });
  narrow([](const Candidate& c) {
    int64_t sum = 0;
    for (const PodRecord* r : c.victims) sum += int64_t{r->pod.Priority()} + (int64_t{1} << 31);
    return -sum;
  });
  narrow([](const Candidate& c) { return -static_cast<int64_t>(c.victims.size()); });
  narrow([](const Candidate& c) {
    // GetEarliestPodStartTime: the earliest start among the highest-priority victims.
    int32_t top = c.victims[0]->pod.Priority();
    int64_t earliest = StartTime(c.victims[0]->pod);
    for (const PodRecord* r : c.victims) {
      if (r->pod.Priority() > top) {
        top = r->pod.Priority();
        earliest = StartTime(r->pod);
      } else if (r->pod.Priority() == top) {
        earliest = std::min(earliest, StartTime(r->pod));
      }
    }
    return earliest;
  });
  return left;  // upstream takes the first in Go map order; Sextant the first in node order
}

}  // namespace

PreemptionVictim VictimOf(const PodRecord* r) {
  return PreemptionVictim{r->pod.name_space, r->pod.name, r->pod.uid, r->pod.Priority(), r->qos};
}

PreemptionResult Preempt(const Evaluator& evaluator, const ClusterState& state, const Pod& pod,
                         const Evaluation& evaluation, bool list_candidates) {
  PreemptionResult out;
  const ProfileOptions& options = evaluator.options();
  // PodEligibleToPreemptOthers.
  if (pod.preemption_policy == PreemptionPolicy::kNever) {
    out.message = "preemption: not eligible due to preemptionPolicy=Never.";
    return out;
  }
  if (pod.nominated_node_name && !pod.nominated_node_name->empty()) {
    const NodeVerdict* nominated = nullptr;
    for (const NodeVerdict& v : evaluation.verdicts) {
      if (state.node(v.node).node->name == *pod.nominated_node_name) nominated = &v;
    }
    const bool unresolvable = nominated != nullptr && nominated->code ==
                                                          FilterCode::kUnschedulableAndUnresolvable;
    int64_t index = state.FindNode(*pod.nominated_node_name);
    if (!unresolvable && index >= 0) {
      for (const PodRecord* r : state.node(static_cast<uint32_t>(index)).pods) {
        if (r->pod.Priority() < pod.Priority() && r->pod.deletion_unix_nanos &&
            r->pod.terminating_by_preemption) {
          out.message = "preemption: not eligible due to a terminating pod on the nominated node.";
          return out;
        }
      }
    }
  }
  const int64_t all_nodes = evaluation.node_count;
  if (all_nodes == 0) {
    out.message = "preemption: no nodes available";
    return out;
  }
  // Candidates: the nodes that failed with Unschedulable (resolvable by removing pods).
  CycleState cycle;
  std::vector<uint32_t> potential;
  if (evaluation.prefilter_message.empty()) {
    PreFilterForFilters(options, state, pod, &cycle);
    for (const NodeVerdict& v : evaluation.verdicts) {
      if (v.code == FilterCode::kUnschedulable && !v.excluded_by_prefilter) {
        potential.push_back(v.node);
      }
    }
  }
  Selector selector(state, options, pod, cycle);
  std::vector<Candidate> candidates;
  std::map<std::string, int64_t> failures;  // reason -> nodes
  Evaluation reasons;  // borrows Evaluation::Reasons for the dry run's filter failures
  reasons.scalar_resource_names = evaluation.scalar_resource_names;
  for (uint32_t index : potential) {
    Candidate c;
    NodeVerdict failure;
    std::string reason;
    if (selector.SelectVictims(index, &c, &failure, &reason)) {
      if (!c.victims.empty()) candidates.push_back(std::move(c));
      continue;
    }
    if (!reason.empty()) {
      ++failures[reason];
    } else {
      for (std::string& r : reasons.Reasons(failure)) ++failures[std::move(r)];
    }
  }
  if (candidates.empty()) {
    // Upstream's DryRunPreemption collects the filters' errors; with no candidate, PostFilter
    // fails with them. DynamicResources is the only filter that errs; its result does not
    // depend on the pods removed, so an error means the first dry run of some node hit it.
    if (cycle.dra) {
      if (std::optional<std::string> error = DynamicResourcesError(*cycle.dra)) {
        out.error = *error;
        out.message = *std::move(error);
        return out;
      }
    }
    // FitError over the dry run's statuses; every other node "Preemption is not helpful".
    failures[kNotHelpful] += all_nodes - static_cast<int64_t>(potential.size());
    std::vector<std::string> parts;
    for (const auto& [reason, count] : failures) {
      if (count > 0) parts.push_back(absl::StrCat(count, " ", reason));
    }
    std::sort(parts.begin(), parts.end());
    out.message = absl::StrCat("preemption: 0/", all_nodes, " nodes are available: ",
                               absl::StrJoin(parts, ", "), ".");
    return out;
  }
  out.candidates = static_cast<int64_t>(candidates.size());
  std::vector<const Candidate*> ties = PickOne(candidates);
  const Candidate* best = ties.front();
  for (const Candidate* c : ties) out.final_ties.push_back(state.node(c->node).node->name);
  if (list_candidates) {
    for (const Candidate& c : candidates) {
      PreemptionCandidate& listed = out.all_candidates.emplace_back();
      listed.node = state.node(c.node).node->name;
      listed.pdb_violations = c.pdb_violations;
      for (const PodRecord* r : c.victims) listed.victims.push_back(VictimOf(r));
    }
  }
  out.nominated_node = state.node(best->node).node->name;
  out.pdb_violations = best->pdb_violations;
  for (const PodRecord* r : best->victims) out.victims.push_back(VictimOf(r));
  out.message = absl::StrCat("found a potential placement for pod on node ", out.nominated_node,
                             ", preempting ", out.victims.size(), " victims");
  return out;
}

}  // namespace sextant
