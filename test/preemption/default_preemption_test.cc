#include "sextant/preemption.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sextant/cluster_state.h"
#include "sextant/evaluate.h"
#include "state/node_info.h"

namespace sextant {
namespace {

using ::testing::ElementsAre;

Quantity Q(const char* text) { return *Quantity::Parse(text); }

Node MakeNode(const std::string& name, const char* cpu, const char* memory = "8Gi") {
  Node node;
  node.name = name;
  node.labels = {{"kubernetes.io/hostname", name}};
  node.allocatable = {{"cpu", Q(cpu)}, {"memory", Q(memory)}, {"pods", Q("110")}};
  return node;
}

Pod MakePod(const std::string& name, int32_t priority, const char* cpu,
            const std::string& node = "", int64_t start = 0) {
  Pod pod;
  pod.name_space = "default";
  pod.name = name;
  pod.uid = "uid-" + name;
  pod.priority = priority;
  pod.node_name = node;
  pod.phase = node.empty() ? "Pending" : "Running";
  if (start != 0) pod.start_unix_nanos = start;
  Container c;
  c.name = "c";
  c.requests = {{"cpu", Q(cpu)}};
  pod.containers.push_back(c);
  return pod;
}

Pod Guaranteed(Pod pod) {
  pod.containers[0].requests["memory"] = Q("1Gi");
  pod.containers[0].limits = pod.containers[0].requests;
  return pod;
}

class PreemptionTest : public ::testing::Test {
 protected:
  void AddNode(const Node& node) { ASSERT_TRUE(state_.UpsertNode(node).ok()); }
  void AddPod(const Pod& pod) { ASSERT_TRUE(state_.UpsertPod(pod).ok()); }

  PreemptionResult Run(const Pod& pod, ProfileOptions options = {}) {
    options.parallelism = 1;
    Evaluator evaluator(options);
    Evaluation e = evaluator.Evaluate(state_, pod, 0);
    EXPECT_EQ(e.feasible_count, 0) << "preemption runs only when nothing fits";
    return Preempt(evaluator, state_, pod, e);
  }

  static std::vector<std::string> Names(const PreemptionResult& r) {
    std::vector<std::string> out;
    for (const auto& v : r.victims) out.push_back(v.name);
    return out;
  }

  ClusterState state_;
};

TEST_F(PreemptionTest, PreemptNeverIsNotEligible) {
  AddNode(MakeNode("n1", "2"));
  AddPod(MakePod("low", 0, "2", "n1"));
  Pod pod = MakePod("high", 100, "1");
  pod.preemption_policy = PreemptionPolicy::kNever;
  PreemptionResult r = Run(pod);
  EXPECT_EQ(r.nominated_node, "");
  EXPECT_EQ(r.message, "preemption: not eligible due to preemptionPolicy=Never.");
}

TEST_F(PreemptionTest, TerminatingVictimOnNominatedNodeMakesItWait) {
  AddNode(MakeNode("n1", "2"));
  Pod going = MakePod("going", 0, "2", "n1");
  going.deletion_unix_nanos = 5;
  going.terminating_by_preemption = true;
  AddPod(going);
  Pod pod = MakePod("high", 100, "1");
  pod.nominated_node_name = "n1";
  EXPECT_EQ(Run(pod).message,
            "preemption: not eligible due to a terminating pod on the nominated node.");
}

TEST_F(PreemptionTest, EvictsOnlyLowerPriorityAndReprievesTheMostImportant) {
  AddNode(MakeNode("n1", "4"));
  AddPod(MakePod("p-high", 50, "1", "n1"));
  AddPod(MakePod("p-mid", 20, "1", "n1"));
  AddPod(MakePod("p-low", 10, "1", "n1"));
  AddPod(MakePod("p-same", 100, "1", "n1"));  // equal priority: never a victim
  // Needs 2 cpu: removing all lower (3) frees 3; reprieving p-high keeps 2 free; then p-mid
  // would leave 1: p-mid and p-low go.
  PreemptionResult r = Run(MakePod("pod", 100, "2"));
  EXPECT_EQ(r.nominated_node, "n1");
  EXPECT_THAT(Names(r), ElementsAre("p-mid", "p-low"));
  EXPECT_EQ(r.pdb_violations, 0);
}

TEST_F(PreemptionTest, NoLowerPriorityPodsMeansNotHelpful) {
  AddNode(MakeNode("n1", "2"));
  AddNode(MakeNode("n2", "1"));
  AddPod(MakePod("peer", 100, "2", "n1"));
  Node tainted = MakeNode("t", "8");
  tainted.taints.push_back(Taint{"dedicated", "x", TaintEffect::kNoSchedule});
  AddNode(tainted);
  PreemptionResult r = Run(MakePod("pod", 100, "2"));
  EXPECT_EQ(r.nominated_node, "");
  // n1: no victims; n2: even empty it is too small; t: untolerated taint, not a candidate.
  EXPECT_EQ(r.message,
            "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, "
            "2 Preemption is not helpful for scheduling.");
}

TEST_F(PreemptionTest, PdbViolatingVictimsAreReprievedFirst) {
  AddNode(MakeNode("n1", "2"));
  Pod a = MakePod("a", 10, "1", "n1");
  a.labels = {{"app", "db"}};
  Pod b = MakePod("b", 10, "1", "n1", 1);  // started earlier: more important
  AddPod(a);
  AddPod(b);
  PodDisruptionBudget pdb;
  pdb.name_space = "default";
  pdb.name = "db";
  pdb.selector = LabelSelector{{{"app", "db"}}, {}};
  pdb.disruptions_allowed = 0;
  ASSERT_TRUE(state_.UpsertPodDisruptionBudget(pdb).ok());
  // One of the two must go. Without the PDB b would be reprieved first (earlier start);
  // with it, a (protected) is reprieved first and b goes.
  PreemptionResult r = Run(MakePod("pod", 100, "1"));
  EXPECT_EQ(r.nominated_node, "n1");
  EXPECT_THAT(Names(r), ElementsAre("b"));
  EXPECT_EQ(r.pdb_violations, 0);
}

TEST_F(PreemptionTest, NodeChoiceFewestPdbViolationsFirst) {
  AddNode(MakeNode("n1", "1"));
  AddNode(MakeNode("n2", "1"));
  Pod protected_pod = MakePod("protected", 1, "1", "n1");
  protected_pod.labels = {{"app", "db"}};
  AddPod(protected_pod);
  AddPod(MakePod("plain", 50, "1", "n2"));
  PodDisruptionBudget pdb;
  pdb.name_space = "default";
  pdb.name = "db";
  pdb.selector = LabelSelector{{{"app", "db"}}, {}};
  ASSERT_TRUE(state_.UpsertPodDisruptionBudget(pdb).ok());
  // n1's victim has the lower priority but violates its PDB.
  EXPECT_EQ(Run(MakePod("pod", 100, "1")).nominated_node, "n2");
}

TEST_F(PreemptionTest, NodeChoiceLowestHighestVictimPriority) {
  AddNode(MakeNode("a", "2"));
  AddNode(MakeNode("b", "2"));
  AddPod(MakePod("a1", 30, "2", "a"));
  AddPod(MakePod("b1", 20, "1", "b"));
  AddPod(MakePod("b2", 20, "1", "b"));
  EXPECT_EQ(Run(MakePod("pod", 100, "2")).nominated_node, "b");
}

TEST_F(PreemptionTest, NodeChoiceSmallestPrioritySumOnEqualHighest) {
  AddNode(MakeNode("a", "2"));
  AddNode(MakeNode("b", "2"));
  AddPod(MakePod("a1", 20, "1", "a"));
  AddPod(MakePod("a2", 20, "1", "a"));
  AddPod(MakePod("b1", 20, "1", "b"));
  AddPod(MakePod("b2", 5, "1", "b"));
  EXPECT_EQ(Run(MakePod("pod", 100, "2")).nominated_node, "b");
}

TEST_F(PreemptionTest, NodeChoiceFewestVictimsThenLatestStart) {
  AddNode(MakeNode("a", "2"));
  AddNode(MakeNode("b", "2"));
  AddNode(MakeNode("c", "2"));
  // a: two victims; b and c: one victim each, c's started later.
  AddPod(MakePod("a1", 10, "1", "a", 100));
  AddPod(MakePod("a2", 10, "1", "a", 100));
  AddPod(MakePod("b1", 10, "2", "b", 100));
  AddPod(MakePod("c1", 10, "2", "c", 200));
  // The priority sum favours a single victim too ((10 + 2^31) once vs twice).
  PreemptionResult r = Run(MakePod("pod", 100, "2"));
  EXPECT_EQ(r.nominated_node, "c");
  EXPECT_THAT(Names(r), ElementsAre("c1"));
  EXPECT_EQ(r.candidates, 3);
}

TEST_F(PreemptionTest, RemovingALowerPriorityPodLiftsAntiAffinity) {
  AddNode(MakeNode("n1", "8"));
  Pod db = MakePod("db", 10, "1", "n1");
  db.labels = {{"app", "db"}};
  AddPod(db);
  Pod pod = MakePod("pod", 100, "1");
  PodAffinityTerm term;
  term.label_selector = LabelSelector{{{"app", "db"}}, {}};
  term.topology_key = "kubernetes.io/hostname";
  pod.affinity.emplace().pod_anti_affinity.emplace().required.push_back(term);
  PreemptionResult r = Run(pod);
  EXPECT_EQ(r.nominated_node, "n1");
  EXPECT_THAT(Names(r), ElementsAre("db"));
}

TEST_F(PreemptionTest, ExistingAntiAffinityOfAHigherPodIsNotResolvedByPreemption) {
  AddNode(MakeNode("n1", "8"));
  Pod guard = MakePod("guard", 1000, "1", "n1");
  PodAffinityTerm term;
  term.label_selector = LabelSelector{{{"app", "web"}}, {}};
  term.topology_key = "kubernetes.io/hostname";
  guard.affinity.emplace().pod_anti_affinity.emplace().required.push_back(term);
  AddPod(guard);
  AddPod(MakePod("filler", 1, "1", "n1"));
  Pod pod = MakePod("web", 100, "1");
  pod.labels = {{"app", "web"}};
  PreemptionResult r = Run(pod);
  EXPECT_EQ(r.nominated_node, "");
  EXPECT_EQ(r.message,
            "preemption: 0/1 nodes are available: 1 node(s) didn't satisfy existing pods "
            "anti-affinity rules.");
}

TEST_F(PreemptionTest, QosOptionEvictsBurstableBeforeGuaranteedOfEqualPriority) {
  AddNode(MakeNode("n1", "2"));
  AddPod(Guaranteed(MakePod("svc", 10, "1", "n1", 200)));  // started later
  AddPod(MakePod("batch", 10, "1", "n1", 100));  // Burstable: a cpu request, no limits
  // Upstream order: equal priority, the earlier start (batch) is more important, so the later
  // service is evicted.
  EXPECT_THAT(Names(Run(MakePod("pod", 100, "1"))), ElementsAre("svc"));
  ProfileOptions options;
  options.preemption_prefers_lower_qos_victims = true;
  EXPECT_THAT(Names(Run(MakePod("pod", 100, "1"), options)), ElementsAre("batch"));
}

// The seeds' case: low-priority pods fill the cluster; a high-priority Guaranteed pod evicts
// exactly one of them.
TEST_F(PreemptionTest, FullClusterHighPriorityGuaranteedPodEvictsExactlyOne) {
  for (int n = 0; n < 4; ++n) {
    std::string node = "n" + std::to_string(n);
    AddNode(MakeNode(node, "4", "16Gi"));
    for (int i = 0; i < 4; ++i) {
      AddPod(MakePod(node + "-batch-" + std::to_string(i), 0, "1", node, 100 + n * 10 + i));
    }
  }
  PreemptionResult r = Run(Guaranteed(MakePod("inference", 1000000, "1")));
  EXPECT_NE(r.nominated_node, "");
  EXPECT_EQ(r.victims.size(), 1u);
  EXPECT_EQ(r.candidates, 4);
  // Every node ties up to the start times: the victim that started last is the one to go.
  EXPECT_EQ(r.victims[0].name, "n3-batch-3");
}

}  // namespace
}  // namespace sextant

namespace sextant {
namespace {

class NominatedPodsTest : public PreemptionTest {
 protected:
  Evaluation Evaluate(const Pod& pod) {
    ProfileOptions options;
    options.parallelism = 1;
    return Evaluator(options).Evaluate(state_, pod, 0);
  }
  const NodeVerdict& Verdict(const Evaluation& e, const std::string& node) {
    for (const NodeVerdict& v : e.verdicts) {
      if (state_.node(v.node).node->name == node) return v;
    }
    ADD_FAILURE() << "no verdict for " << node;
    return e.verdicts.front();
  }
};

TEST_F(NominatedPodsTest, NominatedPodCountsForPodsOfEqualOrLowerPriority) {
  AddNode(MakeNode("n1", "2"));
  AddNode(MakeNode("n2", "2"));
  Pod nominated = MakePod("preemptor", 100, "2");
  nominated.nominated_node_name = "n1";
  AddPod(nominated);
  Evaluation lower = Evaluate(MakePod("lower", 50, "1"));
  EXPECT_EQ(Verdict(lower, "n1").plugin, PluginId::kNodeResourcesFit);
  EXPECT_EQ(lower.Reasons(Verdict(lower, "n1")), std::vector<std::string>{"Insufficient cpu"});
  EXPECT_EQ(Verdict(lower, "n2").code, FilterCode::kSuccess);
  Evaluation equal = Evaluate(MakePod("equal", 100, "1"));
  EXPECT_EQ(Verdict(equal, "n1").code, FilterCode::kUnschedulable);
  // A pod of higher priority does not see it; nor does the nominated pod itself.
  EXPECT_EQ(Verdict(Evaluate(MakePod("higher", 200, "1")), "n1").code, FilterCode::kSuccess);
  EXPECT_EQ(Verdict(Evaluate(nominated), "n1").code, FilterCode::kSuccess);
  // Bound, the pod is no longer nominated: its resources count as any bound pod's.
  Pod bound = nominated;
  bound.node_name = "n1";
  bound.phase = "Running";
  AddPod(bound);
  EXPECT_TRUE(state_.NominatedPods(static_cast<uint32_t>(state_.FindNode("n1"))).empty());
}

TEST_F(NominatedPodsTest, NominatedPodTakesPartInAntiAffinity) {
  AddNode(MakeNode("n1", "8"));
  Pod nominated = MakePod("db-0", 100, "1");
  nominated.labels = {{"app", "db"}};
  nominated.nominated_node_name = "n1";
  AddPod(nominated);
  Pod pod = MakePod("db-1", 100, "1");
  pod.labels = {{"app", "db"}};
  PodAffinityTerm term;
  term.label_selector = LabelSelector{{{"app", "db"}}, {}};
  term.topology_key = "kubernetes.io/hostname";
  pod.affinity.emplace().pod_anti_affinity.emplace().required.push_back(term);
  const Evaluation e = Evaluate(pod);
  EXPECT_EQ(Verdict(e, "n1").plugin, PluginId::kInterPodAffinity);
}

TEST_F(NominatedPodsTest, PodGoesToItsNominatedNodeWhenItFits) {
  AddNode(MakeNode("busy", "4"));
  AddNode(MakeNode("idle", "4"));
  AddPod(MakePod("other", 0, "3", "busy"));
  Pod pod = MakePod("pod", 100, "1");
  pod.nominated_node_name = "busy";
  Evaluation e = Evaluate(pod);
  ASSERT_TRUE(e.chosen);
  // LeastAllocated prefers idle, but the nominated node passes the filters.
  EXPECT_EQ(state_.node(e.verdicts[*e.chosen].node).node->name, "busy");
  pod.nominated_node_name = "gone";
  e = Evaluate(pod);
  EXPECT_EQ(state_.node(e.verdicts[*e.chosen].node).node->name, "idle");
}

TEST_F(NominatedPodsTest, DryRunKeepsRoomForNominatedPods) {
  AddNode(MakeNode("n1", "4"));
  AddNode(MakeNode("n2", "4"));
  AddPod(MakePod("n1-low", 0, "2", "n1"));
  AddPod(MakePod("n1-mid", 10, "2", "n1"));
  AddPod(MakePod("n2-low", 0, "4", "n2"));
  // A pod of higher priority is already nominated to n1 for 2 cpu: evicting n1-low alone would
  // leave no room for both; on n2 evicting n2-low is enough.
  Pod nominated = MakePod("first", 500, "2");
  nominated.nominated_node_name = "n1";
  AddPod(nominated);
  PreemptionResult r = Run(MakePod("pod", 100, "2"));
  EXPECT_EQ(r.nominated_node, "n2");
  EXPECT_THAT(Names(r), ElementsAre("n2-low"));
}

}  // namespace
}  // namespace sextant
