// End-to-end tests of Evaluator::Evaluate: the default profile's filter order, score weights and
// normalisation (expected totals computed by hand from the upstream formulas), node selection,
// FitError text (framework/types.go FitError.Error) and parallel evaluation.
#include <cstdint>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "sextant/cluster_state.h"
#include "sextant/evaluate.h"
#include "sextant/model.h"
#include "state/node_info.h"
#include "testing/builders.h"

namespace sextant {
namespace {

using testutil::FieldTerm;
using testutil::MakeState;
using testutil::NodeBuilder;
using testutil::PodBuilder;
using testutil::Req;
using testutil::Term;

constexpr TaintEffect kNoSchedule = TaintEffect::kNoSchedule;
constexpr TaintEffect kPreferNoSchedule = TaintEffect::kPreferNoSchedule;

// Index of the score plugins in NodeVerdict::plugin_scores.
constexpr int kTaint = 0;
constexpr int kAffinity = 1;
constexpr int kFit = 2;
constexpr int kBalanced = 3;

const NodeVerdict& VerdictFor(const ClusterState& state, const Evaluation& e,
                              const std::string& node) {
  for (const NodeVerdict& v : e.verdicts) {
    if (testutil::NodeNameAt(state, v.node) == node) return v;
  }
  ADD_FAILURE() << "no verdict for " << node;
  static const NodeVerdict kNone;
  return kNone;
}

std::string ChosenName(const ClusterState& state, const Evaluation& e) {
  if (!e.chosen) return "<none>";
  return testutil::NodeNameAt(state, e.verdicts[*e.chosen].node);
}

NodeBuilder Node4Cpu8Gi(const std::string& name) {
  return NodeBuilder(name).Allocatable({{"cpu", "4"}, {"memory", "8Gi"}, {"pods", "110"}});
}

Pod Bound(const std::string& name, const std::string& node, testutil::ResourceLiterals requests) {
  return PodBuilder("default", name).Container(requests).NodeName(node).Build();
}

// ---- weights and final scores ----

// n1: PreferNoSchedule taint the pod does not tolerate, zone=a, empty.
// n2: zone=b, holds cpu 2 / memory 2Gi.      n3: 8 cpu, zone=a, holds cpu 1 / memory 4Gi.
// Pod: cpu 1, memory 2Gi, preferred zone In [a] weight 10.
//   TaintToleration raw 1,0,0 -> reversed 0,100,100             (weight 3)
//   NodeAffinity raw 10,0,10 -> 100,0,100                        (weight 2)
//   LeastAllocated: n1 (75+75)/2=75, n2 (25+50)/2=37, n3 (75+25)/2=50   (weight 1)
//   Balanced: n1 with 100 without 100 -> 75; n2 87/87 -> 75; n3 75/81 -> 72   (weight 1)
//   Totals: n1 0+200+75+75=350, n2 300+0+37+75=412, n3 300+200+50+72=622.
std::unique_ptr<ClusterState> WeightsCluster() {
  return MakeState(
      {Node4Cpu8Gi("n1").Label("zone", "a").Taint("spot", "true", kPreferNoSchedule).Build(),
       Node4Cpu8Gi("n2").Label("zone", "b").Build(),
       NodeBuilder("n3")
           .Allocatable({{"cpu", "8"}, {"memory", "8Gi"}, {"pods", "110"}})
           .Label("zone", "a")
           .Build()},
      {Bound("e2", "n2", {{"cpu", "2"}, {"memory", "2Gi"}}),
       Bound("e3", "n3", {{"cpu", "1"}, {"memory", "4Gi"}})});
}

Pod WeightsPod() {
  return PodBuilder("default", "p")
      .Container({{"cpu", "1"}, {"memory", "2Gi"}})
      .PreferredNodeAffinity(10, Term({Req("zone", SelectorOperator::kIn, {"a"})}))
      .Build();
}

TEST(EvaluatorTest, WeightedScoresMatchHandComputedTotals) {
  auto state = WeightsCluster();
  Evaluator evaluator{ProfileOptions{}};
  Evaluation e = evaluator.Evaluate(*state, WeightsPod(), 0);
  ASSERT_EQ(e.feasible_count, 3);
  struct Want {
    const char* node;
    int64_t taint, affinity, fit, balanced, total;
  };
  for (const Want& w : {Want{"n1", 0, 100, 75, 75, 350}, Want{"n2", 100, 0, 37, 75, 412},
                        Want{"n3", 100, 100, 50, 72, 622}}) {
    SCOPED_TRACE(w.node);
    const NodeVerdict& v = VerdictFor(*state, e, w.node);
    EXPECT_EQ(v.code, FilterCode::kSuccess);
    EXPECT_EQ(v.plugin_scores[kTaint], w.taint);
    EXPECT_EQ(v.plugin_scores[kAffinity], w.affinity);
    EXPECT_EQ(v.plugin_scores[kFit], w.fit);
    EXPECT_EQ(v.plugin_scores[kBalanced], w.balanced);
    EXPECT_EQ(v.score, w.total);
  }
  EXPECT_EQ(ChosenName(*state, e), "n3");
}

// Weight 0 disables a scorer; the normalised plugin scores are unchanged.
TEST(EvaluatorTest, ZeroWeightsDisableScorers) {
  auto state = WeightsCluster();
  ProfileOptions options;
  options.taint_toleration_weight = 0;
  options.node_affinity_weight = 0;
  Evaluator evaluator{options};
  Evaluation e = evaluator.Evaluate(*state, WeightsPod(), 0);
  EXPECT_EQ(VerdictFor(*state, e, "n1").score, 150);
  EXPECT_EQ(VerdictFor(*state, e, "n2").score, 112);
  EXPECT_EQ(VerdictFor(*state, e, "n3").score, 122);
  EXPECT_EQ(VerdictFor(*state, e, "n1").plugin_scores[kAffinity], 100);
  EXPECT_EQ(ChosenName(*state, e), "n1");
}

// MostAllocated on the same cluster: n1 (25+25)/2=25, n2 (75+50)/2=62, n3 (25+75)/2=50.
TEST(EvaluatorTest, MostAllocatedStrategyScoresBinPacking) {
  auto state = WeightsCluster();
  ProfileOptions options;
  options.fit_scoring.type = ScoringStrategyType::kMostAllocated;
  Evaluator evaluator{options};
  Evaluation e = evaluator.Evaluate(*state, WeightsPod(), 0);
  EXPECT_EQ(VerdictFor(*state, e, "n1").plugin_scores[kFit], 25);
  EXPECT_EQ(VerdictFor(*state, e, "n2").plugin_scores[kFit], 62);
  EXPECT_EQ(VerdictFor(*state, e, "n3").plugin_scores[kFit], 50);
  EXPECT_EQ(VerdictFor(*state, e, "n3").score, 300 + 200 + 50 + 72);
}

// A best-effort pod: BalancedAllocation skips in PreScore (0 everywhere), NodeAffinity has no
// preferred terms (0), TaintToleration reverse-normalises all-zero counts to 100, and
// LeastAllocated scores the 100m / 200Mi defaults: (97 + 97) / 2 = 97. Total 300 + 97 = 397.
TEST(EvaluatorTest, BestEffortPodScores) {
  auto state = MakeState({Node4Cpu8Gi("n1").Build()});
  Evaluator evaluator{ProfileOptions{}};
  Evaluation e = evaluator.Evaluate(*state, PodBuilder("default", "be").Container({}).Build(), 0);
  ASSERT_EQ(e.feasible_count, 1);
  const NodeVerdict& v = e.verdicts[0];
  EXPECT_EQ(v.plugin_scores[kTaint], 100);
  EXPECT_EQ(v.plugin_scores[kAffinity], 0);
  EXPECT_EQ(v.plugin_scores[kFit], 97);
  EXPECT_EQ(v.plugin_scores[kBalanced], 0);
  EXPECT_EQ(v.score, 397);
  EXPECT_EQ(e.qos, QosClass::kBestEffort);
  EXPECT_EQ(e.pod_key, "default/be");
}

// NormalizeScore sees the feasible nodes only: an infeasible node with more PreferNoSchedule
// taints does not raise the maximum (n1 would get 67 instead of 0).
TEST(EvaluatorTest, NormalisationUsesFeasibleNodesOnly) {
  auto state = MakeState({Node4Cpu8Gi("n1").Taint("a", "", kPreferNoSchedule).Build(),
                          Node4Cpu8Gi("n2").Build(),
                          NodeBuilder("n3")
                              .Allocatable({{"cpu", "1"}, {"memory", "8Gi"}, {"pods", "110"}})
                              .Taint("a", "", kPreferNoSchedule)
                              .Taint("b", "", kPreferNoSchedule)
                              .Taint("c", "", kPreferNoSchedule)
                              .Build()});
  Evaluator evaluator{ProfileOptions{}};
  Evaluation e = evaluator.Evaluate(
      *state, PodBuilder("default", "p").Container({{"cpu", "2"}}).Build(), 0);
  EXPECT_EQ(e.feasible_count, 2);
  EXPECT_EQ(VerdictFor(*state, e, "n1").plugin_scores[kTaint], 0);
  EXPECT_EQ(VerdictFor(*state, e, "n2").plugin_scores[kTaint], 100);
  EXPECT_EQ(VerdictFor(*state, e, "n3").code, FilterCode::kUnschedulableAndUnresolvable);
}

TEST(EvaluatorTest, PreferredAffinityNormalisedAcrossFeasibleNodes) {
  auto state = MakeState({Node4Cpu8Gi("n1").Label("zone", "a").Build(),
                          Node4Cpu8Gi("n2").Label("zone", "b").Label("disk", "ssd").Build(),
                          Node4Cpu8Gi("n3").Label("zone", "a").Label("disk", "ssd").Build()});
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = PodBuilder("default", "p")
                .PreferredNodeAffinity(1, Term({Req("zone", SelectorOperator::kIn, {"a"})}))
                .PreferredNodeAffinity(2, Term({Req("disk", SelectorOperator::kExists)}))
                .Build();
  Evaluation e = evaluator.Evaluate(*state, pod, 0);
  // Raw 1, 2, 3 -> 33, 66, 100.
  EXPECT_EQ(VerdictFor(*state, e, "n1").plugin_scores[kAffinity], 33);
  EXPECT_EQ(VerdictFor(*state, e, "n2").plugin_scores[kAffinity], 66);
  EXPECT_EQ(VerdictFor(*state, e, "n3").plugin_scores[kAffinity], 100);
  EXPECT_EQ(ChosenName(*state, e), "n3");
}

// ---- filter order ----

// Each node fails every filter from some point on; the verdict names the first, in upstream
// order NodeName, NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit.
TEST(EvaluatorTest, FirstFailingFilterWinsInUpstreamOrder) {
  auto small = [](const std::string& name) {
    return NodeBuilder(name).Allocatable({{"cpu", "1"}, {"memory", "8Gi"}, {"pods", "110"}});
  };
  auto state = MakeState(
      {small("unschedulable").Unschedulable().Taint("d", "", kNoSchedule).Label("zone", "b")
           .Build(),
       small("tainted").Taint("d", "", kNoSchedule).Label("zone", "b").Build(),
       small("mismatched").Label("zone", "b").Build(), small("small").Label("zone", "a").Build(),
       Node4Cpu8Gi("fits").Label("zone", "a").Build()});
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = PodBuilder("default", "p").Container({{"cpu", "2"}}).NodeSelector("zone", "a").Build();
  Evaluation e = evaluator.Evaluate(*state, pod, 0);
  EXPECT_EQ(VerdictFor(*state, e, "unschedulable").plugin, PluginId::kNodeUnschedulable);
  EXPECT_EQ(VerdictFor(*state, e, "tainted").plugin, PluginId::kTaintToleration);
  EXPECT_EQ(VerdictFor(*state, e, "mismatched").plugin, PluginId::kNodeAffinity);
  const NodeVerdict& small_verdict = VerdictFor(*state, e, "small");
  EXPECT_EQ(small_verdict.plugin, PluginId::kNodeResourcesFit);
  EXPECT_EQ(small_verdict.code, FilterCode::kUnschedulableAndUnresolvable);
  EXPECT_EQ(e.Reasons(small_verdict), std::vector<std::string>{"Insufficient cpu"});
  EXPECT_EQ(VerdictFor(*state, e, "fits").code, FilterCode::kSuccess);
  EXPECT_EQ(ChosenName(*state, e), "fits");

  ASSERT_TRUE(state->RemoveNode("fits").ok());
  Evaluation none = evaluator.Evaluate(*state, pod, 0);
  EXPECT_FALSE(none.chosen.has_value());
  EXPECT_EQ(none.FitErrorMessage(),
            "0/4 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node "
            "affinity/selector, 1 node(s) had untolerated taint(s), 1 node(s) were "
            "unschedulable.");
}

TEST(EvaluatorTest, PluginNamesAreUpstreamNames) {
  EXPECT_STREQ(PluginName(PluginId::kNodeName), "NodeName");
  EXPECT_STREQ(PluginName(PluginId::kNodeUnschedulable), "NodeUnschedulable");
  EXPECT_STREQ(PluginName(PluginId::kTaintToleration), "TaintToleration");
  EXPECT_STREQ(PluginName(PluginId::kNodeAffinity), "NodeAffinity");
  EXPECT_STREQ(PluginName(PluginId::kNodeResourcesFit), "NodeResourcesFit");
  EXPECT_STREQ(PluginName(PluginId::kNodeResourcesBalancedAllocation),
               "NodeResourcesBalancedAllocation");
}

// ---- FitError text ----

TEST(EvaluatorTest, FitErrorCountsReasonsAcrossNodes) {
  auto state = MakeState(
      {NodeBuilder("n1").Allocatable({{"cpu", "1"}, {"memory", "8Gi"}, {"pods", "110"}}).Build(),
       Node4Cpu8Gi("n2").Taint("dedicated", "x", kNoSchedule).Build(),
       Node4Cpu8Gi("n3").Taint("dedicated", "y", kNoSchedule).Build()});
  Evaluator evaluator{ProfileOptions{}};
  Evaluation e = evaluator.Evaluate(
      *state, PodBuilder("default", "p").Container({{"cpu", "2"}}).Build(), 0);
  EXPECT_EQ(e.node_count, 3);
  EXPECT_EQ(e.feasible_count, 0);
  EXPECT_EQ(e.FitErrorMessage(),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint(s).");
}

// Upstream sorts "<count> <reason>" as strings, so "10 ..." precedes "2 ...".
TEST(EvaluatorTest, FitErrorSortsHistogramAsStrings) {
  std::vector<Node> nodes;
  for (int i = 0; i < 10; ++i) {
    nodes.push_back(Node4Cpu8Gi("t" + std::to_string(i)).Taint("d", "", kNoSchedule).Build());
  }
  for (int i = 0; i < 2; ++i) {
    nodes.push_back(NodeBuilder("s" + std::to_string(i))
                        .Allocatable({{"cpu", "1"}, {"memory", "8Gi"}, {"pods", "110"}})
                        .Build());
  }
  auto state = MakeState(nodes);
  Evaluator evaluator{ProfileOptions{}};
  Evaluation e = evaluator.Evaluate(
      *state, PodBuilder("default", "p").Container({{"cpu", "2"}}).Build(), 0);
  EXPECT_EQ(e.FitErrorMessage(),
            "0/12 nodes are available: 10 node(s) had untolerated taint(s), 2 Insufficient cpu.");
}

// One node can contribute several NodeResourcesFit reasons; each is counted.
TEST(EvaluatorTest, FitErrorCountsEveryResourceReason) {
  auto state = MakeState(
      {NodeBuilder("n1").Allocatable({{"cpu", "1"}, {"memory", "1Gi"}, {"pods", "110"}}).Build(),
       NodeBuilder("n2")
           .Allocatable({{"cpu", "8"}, {"memory", "8Gi"}, {"pods", "1"}, {"example.com/gpu", "1"}})
           .Build()},
      {Bound("e1", "n2", {{"cpu", "100m"}})});
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = PodBuilder("default", "p")
                .Container({{"cpu", "2"}, {"memory", "2Gi"}, {"example.com/gpu", "2"}})
                .Build();
  Evaluation e = evaluator.Evaluate(*state, pod, 0);
  EXPECT_EQ(e.scalar_resource_names, std::vector<std::string>{"example.com/gpu"});
  EXPECT_EQ(e.Reasons(VerdictFor(*state, e, "n2")),
            (std::vector<std::string>{"Too many pods", "Insufficient example.com/gpu"}));
  EXPECT_EQ(e.FitErrorMessage(),
            "0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods, "
            "2 Insufficient example.com/gpu.");
}

TEST(EvaluatorTest, FitErrorForPodThatOnlyLacksPodSlots) {
  auto state = MakeState(
      {NodeBuilder("n1").Allocatable({{"cpu", "8"}, {"memory", "8Gi"}, {"pods", "1"}}).Build()},
      {Bound("e1", "n1", {})});
  Evaluator evaluator{ProfileOptions{}};
  Evaluation e = evaluator.Evaluate(*state, PodBuilder("default", "p").Build(), 0);
  EXPECT_EQ(e.verdicts[0].code, FilterCode::kUnschedulable);
  EXPECT_EQ(e.FitErrorMessage(), "0/1 nodes are available: 1 Too many pods.");
}

// The node narrowed to by PreFilter fails; the others carry the PreFilter's absent-node status.
TEST(EvaluatorTest, FitErrorWithPreFilterNarrowing) {
  auto state = MakeState({Node4Cpu8Gi("n1").Build(),
                          NodeBuilder("n2")
                              .Allocatable({{"cpu", "1"}, {"memory", "8Gi"}, {"pods", "110"}})
                              .Build(),
                          Node4Cpu8Gi("n3").Build()});
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = PodBuilder("default", "p")
                .Container({{"cpu", "2"}})
                .RequiredNodeAffinity(
                    FieldTerm({Req("metadata.name", SelectorOperator::kIn, {"n2"})}))
                .Build();
  Evaluation e = evaluator.Evaluate(*state, pod, 0);
  EXPECT_EQ(e.FitErrorMessage(),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) "
            "[NodeAffinity].");
}

// ---- selection ----

TEST(EvaluatorTest, TiesBrokenByRandomValue) {
  auto state =
      MakeState({Node4Cpu8Gi("a").Build(), Node4Cpu8Gi("b").Build(), Node4Cpu8Gi("c").Build()});
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = PodBuilder("default", "p").Container({{"cpu", "1"}}).Build();
  struct Want {
    uint64_t random_value;
    const char* node;
  };
  for (const Want& w : {Want{0, "a"}, Want{1, "b"}, Want{2, "c"}, Want{3, "a"}, Want{5, "c"},
                        Want{UINT64_MAX, "a"}}) {
    SCOPED_TRACE(w.random_value);
    Evaluation e = evaluator.Evaluate(*state, pod, w.random_value);
    EXPECT_EQ(ChosenName(*state, e), w.node);
  }
}

// The random value only chooses among the best; a lower score is never picked.
TEST(EvaluatorTest, RandomValueOnlyPicksAmongBestScores) {
  auto state = MakeState({Node4Cpu8Gi("a").Build(), Node4Cpu8Gi("b").Build(),
                          Node4Cpu8Gi("busy").Build()},
                         {Bound("e1", "busy", {{"cpu", "3"}, {"memory", "6Gi"}})});
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = PodBuilder("default", "p").Container({{"cpu", "1"}, {"memory", "1Gi"}}).Build();
  for (uint64_t r = 0; r < 6; ++r) {
    Evaluation e = evaluator.Evaluate(*state, pod, r);
    EXPECT_EQ(ChosenName(*state, e), r % 2 == 0 ? "a" : "b") << r;
  }
}

// ---- state changes seen by the cycle ----

TEST(EvaluatorTest, AssumedPodHoldsResources) {
  auto state = MakeState({Node4Cpu8Gi("n1").Build()});
  Evaluator evaluator{ProfileOptions{}};
  Pod big = PodBuilder("default", "big").Container({{"cpu", "3500m"}}).Build();
  Pod next = PodBuilder("default", "next").Container({{"cpu", "1"}}).Build();
  EXPECT_TRUE(evaluator.Evaluate(*state, next, 0).chosen.has_value());
  ASSERT_TRUE(state->AssumePod(big, "n1").ok());
  Evaluation e = evaluator.Evaluate(*state, next, 0);
  EXPECT_EQ(e.FitErrorMessage(), "0/1 nodes are available: 1 Insufficient cpu.");
  EXPECT_EQ(e.verdicts[0].code, FilterCode::kUnschedulable);
  ASSERT_TRUE(state->ForgetPod("default/big").ok());
  EXPECT_TRUE(evaluator.Evaluate(*state, next, 0).chosen.has_value());
}

// As the scheduler cache does, a pod bound to a node not seen yet is accounted once it appears.
TEST(EvaluatorTest, PodBoundBeforeItsNodeArrivesIsAccounted) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertPod(Bound("early", "n1", {{"cpu", "3500m"}})).ok());
  ASSERT_TRUE(state.UpsertNode(Node4Cpu8Gi("n1").Build()).ok());
  Evaluator evaluator{ProfileOptions{}};
  Evaluation e =
      evaluator.Evaluate(state, PodBuilder("default", "p").Container({{"cpu", "1"}}).Build(), 0);
  EXPECT_EQ(e.FitErrorMessage(), "0/1 nodes are available: 1 Insufficient cpu.");
}

// Updating a bound pod re-accounts it; a bound pod turning terminal frees its node.
TEST(EvaluatorTest, BoundPodUpdatesAreReaccounted) {
  auto state = MakeState({Node4Cpu8Gi("n1").Build()}, {Bound("e1", "n1", {{"cpu", "3"}})});
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = PodBuilder("default", "p").Container({{"cpu", "2"}}).Build();
  EXPECT_FALSE(evaluator.Evaluate(*state, pod, 0).chosen.has_value());
  ASSERT_TRUE(state->UpsertPod(Bound("e1", "n1", {{"cpu", "1"}})).ok());
  EXPECT_TRUE(evaluator.Evaluate(*state, pod, 0).chosen.has_value());
  ASSERT_TRUE(state->UpsertPod(Bound("e1", "n1", {{"cpu", "4"}})).ok());
  EXPECT_FALSE(evaluator.Evaluate(*state, pod, 0).chosen.has_value());
  Pod done = Bound("e1", "n1", {{"cpu", "4"}});
  done.phase = "Succeeded";
  ASSERT_TRUE(state->UpsertPod(done).ok());
  Evaluation e = evaluator.Evaluate(*state, pod, 0);
  ASSERT_TRUE(e.chosen.has_value());
  // LeastAllocated sees only the incoming pod again: cpu 50%, memory default 200Mi of 8Gi.
  EXPECT_EQ(e.verdicts[0].plugin_scores[kFit], (50 + 97) / 2);
}

TEST(EvaluatorTest, RemovedNodeIsNotCounted) {
  auto state = MakeState({Node4Cpu8Gi("n1").Taint("d", "", kNoSchedule).Build(),
                          Node4Cpu8Gi("n2").Taint("d", "", kNoSchedule).Build()});
  ASSERT_TRUE(state->RemoveNode("n2").ok());
  Evaluator evaluator{ProfileOptions{}};
  Evaluation e = evaluator.Evaluate(*state, PodBuilder("default", "p").Build(), 0);
  EXPECT_EQ(e.node_count, 1);
  EXPECT_EQ(e.FitErrorMessage(), "0/1 nodes are available: 1 node(s) had untolerated taint(s).");
}

// ---- parallel evaluation ----

struct Generated {
  std::vector<Node> nodes;
  std::vector<Pod> pods;
};

Generated GenerateCluster(int node_count, uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const char* cpus[] = {"2", "4", "8", "16"};
  const char* memories[] = {"4Gi", "8Gi", "16Gi", "32Gi"};
  const char* pod_slots[] = {"2", "4", "110"};
  const char* zones[] = {"a", "b", "c"};
  Generated g;
  int pod_id = 0;
  for (int i = 0; i < node_count; ++i) {
    std::string name = "node-" + std::to_string(i);
    ResourceList allocatable = testutil::Resources(
        {{"cpu", cpus[pick(4)]}, {"memory", memories[pick(4)]}, {"pods", pod_slots[pick(3)]}});
    if (pick(5) == 0) allocatable["example.com/gpu"] = testutil::Q(std::to_string(pick(4)));
    NodeBuilder node(name);
    node.AllocatableList(allocatable).Label("zone", zones[pick(3)]);
    if (pick(2) == 0) node.Label("disk", pick(2) == 0 ? "ssd" : "hdd");
    if (pick(10) == 0) node.Taint("dedicated", "infra", kNoSchedule);
    if (pick(7) == 0) node.Taint("spot", "true", kPreferNoSchedule);
    if (pick(9) == 0) node.Taint("flaky", "", kPreferNoSchedule);
    if (pick(20) == 0) node.Unschedulable();
    g.nodes.push_back(node.Build());
    for (int k = pick(4); k > 0; --k) {
      PodBuilder pod("default", "existing-" + std::to_string(pod_id++));
      std::string cpu = std::to_string(100 * (1 + pick(30))) + "m";
      std::string memory = std::to_string(128 * (1 + pick(40))) + "Mi";
      pod.ContainerList(testutil::Resources({{"cpu", cpu}, {"memory", memory}}));
      if (pick(6) == 0) pod.Container({});
      g.pods.push_back(pod.NodeName(name).Build());
    }
  }
  return g;
}

std::vector<Pod> ProbePods() {
  using Op = SelectorOperator;
  return {
      PodBuilder("default", "plain").Container({{"cpu", "500m"}, {"memory", "1Gi"}}).Build(),
      PodBuilder("default", "picky")
          .Container({{"cpu", "2"}, {"memory", "4Gi"}, {"example.com/gpu", "1"}})
          .Toleration("dedicated", TolerationOperator::kEqual, "infra", kNoSchedule)
          .PreferredNodeAffinity(5, Term({Req("zone", Op::kIn, {"a"})}))
          .PreferredNodeAffinity(3, Term({Req("disk", Op::kIn, {"ssd"})}))
          .Build(),
      PodBuilder("default", "required")
          .Container({{"cpu", "1"}})
          .NodeSelector("disk", "ssd")
          .RequiredNodeAffinity(Term({Req("zone", Op::kIn, {"b", "c"})}))
          .Toleration("spot", TolerationOperator::kExists, "")
          .Build(),
      PodBuilder("default", "huge").Container({{"cpu", "64"}, {"memory", "1Ti"}}).Build(),
      PodBuilder("default", "best-effort").Container({}).Build(),
      PodBuilder("default", "named")
          .Container({{"cpu", "100m"}})
          .RequiredNodeAffinity(FieldTerm(
              {Req("metadata.name", Op::kIn, {"node-3", "node-30", "node-300", "node-999"})}))
          .Build(),
  };
}

void ExpectSameEvaluation(const Evaluation& a, const Evaluation& b) {
  EXPECT_EQ(a.pod_key, b.pod_key);
  EXPECT_EQ(a.qos, b.qos);
  EXPECT_EQ(a.prefilter_plugin, b.prefilter_plugin);
  EXPECT_EQ(a.scalar_resource_names, b.scalar_resource_names);
  EXPECT_EQ(a.prefilter_narrowing_plugins, b.prefilter_narrowing_plugins);
  EXPECT_EQ(a.node_count, b.node_count);
  EXPECT_EQ(a.feasible_count, b.feasible_count);
  EXPECT_EQ(a.chosen, b.chosen);
  EXPECT_EQ(a.prefilter_message, b.prefilter_message);
  EXPECT_EQ(a.FitErrorMessage(), b.FitErrorMessage());
  ASSERT_EQ(a.verdicts.size(), b.verdicts.size());
  for (size_t i = 0; i < a.verdicts.size(); ++i) {
    const NodeVerdict& x = a.verdicts[i];
    const NodeVerdict& y = b.verdicts[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(x.node, y.node);
    EXPECT_EQ(x.code, y.code);
    EXPECT_EQ(x.plugin, y.plugin);
    EXPECT_EQ(x.fit_mask, y.fit_mask);
    EXPECT_EQ(x.excluded_by_prefilter, y.excluded_by_prefilter);
    for (int p = 0; p < kNumScorePlugins; ++p) EXPECT_EQ(x.plugin_scores[p], y.plugin_scores[p]);
    EXPECT_EQ(x.score, y.score);
  }
}

TEST(EvaluatorTest, ParallelMatchesSequentialOnGeneratedCluster) {
  Generated g = GenerateCluster(400, 20240601);
  auto state = MakeState(g.nodes, g.pods);
  ProfileOptions sequential_options;
  sequential_options.parallelism = 1;
  ProfileOptions parallel_options;
  parallel_options.parallelism = 4;
  parallel_options.min_nodes_for_parallelism = 1;
  ASSERT_TRUE(ValidateProfileOptions(parallel_options).ok());
  Evaluator sequential{sequential_options};
  Evaluator parallel{parallel_options};
  int scheduled = 0;
  for (const Pod& pod : ProbePods()) {
    for (uint64_t random_value : {uint64_t{0}, uint64_t{7}, uint64_t{123456789}}) {
      SCOPED_TRACE(pod.name + " r=" + std::to_string(random_value));
      Evaluation a = sequential.Evaluate(*state, pod, random_value);
      Evaluation b = parallel.Evaluate(*state, pod, random_value);
      ExpectSameEvaluation(a, b);
      if (a.chosen) ++scheduled;
    }
  }
  // The generated cluster exercises both outcomes.
  EXPECT_GT(scheduled, 0);
  EXPECT_LT(scheduled, 18);
}

// Several threads may call one Evaluator at once.
TEST(EvaluatorTest, ConcurrentEvaluateCallsAgree) {
  Generated g = GenerateCluster(300, 7);
  auto state = MakeState(g.nodes, g.pods);
  ProfileOptions options;
  options.parallelism = 4;
  options.min_nodes_for_parallelism = 1;
  Evaluator evaluator{options};
  std::vector<Pod> pods = ProbePods();
  std::vector<Evaluation> expected;
  for (const Pod& pod : pods) expected.push_back(evaluator.Evaluate(*state, pod, 3));
  std::vector<std::vector<Evaluation>> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (const Pod& pod : pods) results[t].push_back(evaluator.Evaluate(*state, pod, 3));
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) {
    ASSERT_EQ(results[t].size(), pods.size());
    for (size_t i = 0; i < pods.size(); ++i) ExpectSameEvaluation(expected[i], results[t][i]);
  }
}

// Fewer nodes than chunks, and no nodes at all, on the parallel path.
TEST(EvaluatorTest, ParallelHandlesTinyClusters) {
  ProfileOptions parallel_options;
  parallel_options.parallelism = 4;
  parallel_options.min_nodes_for_parallelism = 1;
  ProfileOptions sequential_options;
  sequential_options.parallelism = 1;
  Evaluator parallel{parallel_options};
  Evaluator sequential{sequential_options};
  auto state = WeightsCluster();
  ExpectSameEvaluation(sequential.Evaluate(*state, WeightsPod(), 1),
                       parallel.Evaluate(*state, WeightsPod(), 1));
  EXPECT_EQ(VerdictFor(*state, parallel.Evaluate(*state, WeightsPod(), 0), "n3").score, 622);

  ClusterState empty;
  Evaluation e = parallel.Evaluate(empty, WeightsPod(), 0);
  EXPECT_EQ(e.node_count, 0);
  EXPECT_TRUE(e.verdicts.empty());
  EXPECT_FALSE(e.chosen.has_value());
  EXPECT_EQ(e.FitErrorMessage(), "no nodes available to schedule pods");
}

// Evaluate(..., Evaluation*) reuses the buffers of the previous answer; nothing of it may leak
// into the next one, whatever path either took (PreFilter rejection, narrowing, scalars, none
// feasible) and whatever the node count.
TEST(EvaluatorTest, ReusedEvaluationMatchesFreshOne) {
  using Op = SelectorOperator;
  Generated g = GenerateCluster(200, 11);
  auto big = MakeState(g.nodes, g.pods);
  auto small = WeightsCluster();
  std::vector<Pod> pods = ProbePods();
  pods.push_back(WeightsPod());
  pods.push_back(PodBuilder("default", "conflict")
                     .RequiredNodeAffinity(FieldTerm({Req("metadata.name", Op::kIn, {"node-1"}),
                                                      Req("metadata.name", Op::kIn, {"node-2"})}))
                     .Build());
  pods.push_back(PodBuilder("default", "disjoint")
                     .RequiredNodeAffinity(FieldTerm({Req("metadata.name", Op::kIn, {"n1"})}))
                     .NodeName("n2")
                     .Build());
  pods.push_back(PodBuilder("default", "pinned").Container({{"cpu", "1"}}).NodeName("n2").Build());
  ProfileOptions options;
  options.parallelism = 2;
  options.min_nodes_for_parallelism = 1;
  Evaluator evaluator{options};
  Evaluation reused;
  uint64_t random_value = 0;
  for (const ClusterState* state : {big.get(), small.get(), big.get(), small.get()}) {
    for (const Pod& pod : pods) {
      SCOPED_TRACE(pod.name + " on " + std::to_string(state->live_nodes().size()) + " nodes");
      evaluator.Evaluate(*state, pod, random_value, &reused);
      ExpectSameEvaluation(evaluator.Evaluate(*state, pod, random_value), reused);
      ++random_value;
    }
  }
}

// A node update (taints, cordon, labels, allocatable) is seen by the next cycle.
TEST(EvaluatorTest, UpdatedNodeIsReevaluated) {
  auto state = MakeState({Node4Cpu8Gi("n1").Taint("d", "", kNoSchedule).Build()});
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = PodBuilder("default", "p").Container({{"cpu", "2"}}).NodeSelector("zone", "a").Build();
  auto message = [&] { return evaluator.Evaluate(*state, pod, 0).FitErrorMessage(); };
  EXPECT_EQ(message(), "0/1 nodes are available: 1 node(s) had untolerated taint(s).");
  ASSERT_TRUE(state->UpsertNode(Node4Cpu8Gi("n1").Unschedulable().Build()).ok());
  EXPECT_EQ(message(), "0/1 nodes are available: 1 node(s) were unschedulable.");
  ASSERT_TRUE(state->UpsertNode(Node4Cpu8Gi("n1").Build()).ok());
  EXPECT_EQ(message(),
            "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.");
  ASSERT_TRUE(state
                  ->UpsertNode(NodeBuilder("n1")
                                   .Allocatable({{"cpu", "1"}, {"memory", "8Gi"}, {"pods", "110"}})
                                   .Label("zone", "a")
                                   .Build())
                  .ok());
  EXPECT_EQ(message(), "0/1 nodes are available: 1 Insufficient cpu.");
  ASSERT_TRUE(state->UpsertNode(Node4Cpu8Gi("n1").Label("zone", "a").Build()).ok());
  EXPECT_TRUE(evaluator.Evaluate(*state, pod, 0).chosen.has_value());
}

// ---- ProfileOptions validation (apis/config/validation/validation_pluginargs.go) ----

struct ValidationCase {
  std::string name;
  ProfileOptions options;
  bool want_ok;
  std::string want_field = "";  // a substring of the message naming the field
};

// gtest names the failing row instead of dumping its bytes.
void PrintTo(const ValidationCase& c, std::ostream* os) { *os << c.name; }

class EvaluatorValidationTest : public ::testing::TestWithParam<ValidationCase> {};

TEST_P(EvaluatorValidationTest, MatchesUpstream) {
  const ValidationCase& c = GetParam();
  absl::Status status = ValidateProfileOptions(c.options);
  ASSERT_EQ(status.ok(), c.want_ok) << status;
  if (!c.want_ok) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find(c.want_field), absl::string_view::npos) << status;
  }
}

std::vector<ValidationCase> ValidationCases() {
  auto with = [](auto mutate) {
    ProfileOptions options;
    mutate(options);
    return options;
  };
  return {
      {"DefaultsAreValid", ProfileOptions{}, true},
      {"FitWeightAbove100Rejected",
       with([](ProfileOptions& o) { o.fit_scoring.resources = {{"cpu", 101}}; }), false,
       "scoringStrategy.resources[0].weight"},
      {"FitWeightZeroRejected",
       with([](ProfileOptions& o) { o.fit_scoring.resources = {{"cpu", 1}, {"memory", 0}}; }),
       false, "scoringStrategy.resources[1].weight"},
      {"RatioShapeUtilizationAbove100Rejected", with([](ProfileOptions& o) {
         o.fit_scoring.type = ScoringStrategyType::kRequestedToCapacityRatio;
         o.fit_scoring.shape = {{0, 0}, {101, 10}};
       }),
       false, "utilization"},
      {"RatioShapeMustBeIncreasing", with([](ProfileOptions& o) {
         o.fit_scoring.type = ScoringStrategyType::kRequestedToCapacityRatio;
         o.fit_scoring.shape = {{50, 0}, {10, 10}};
       }),
       false, "shape[1].utilization"},
      {"RatioShapeRequired", with([](ProfileOptions& o) {
         o.fit_scoring.type = ScoringStrategyType::kRequestedToCapacityRatio;
       }),
       false, "shape"},
      {"IgnoredResourcesValid", with([](ProfileOptions& o) {
         o.ignored_resources = {"example.com/foo"};
         o.ignored_resource_groups = {"example.com"};
       }),
       true},
      // ValidateNodeResourcesFitArgs: ignoredResources are label names (metav1 ValidateLabelName).
      {"IgnoredResourceMustBeLabelName",
       with([](ProfileOptions& o) { o.ignored_resources = {"not a resource"}; }), false,
       "ignoredResources[0]"},
      // ValidateNodeResourcesFitArgs: "resource group name can't contain '/'".
      {"IgnoredResourceGroupCannotContainSlash",
       with([](ProfileOptions& o) { o.ignored_resource_groups = {"example.com/foo"}; }), false,
       "ignoredResourceGroups[0]"},
      {"IgnoredResourceGroupMustBeLabelName",
       with([](ProfileOptions& o) { o.ignored_resource_groups = {"-example.com"}; }), false,
       "ignoredResourceGroups[0]"},
      // ValidateNodeResourcesBalancedAllocationArgs: every weight "must be 1".
      {"BalancedAllocationWeightMustBeOne",
       with([](ProfileOptions& o) {
         o.balanced_allocation_resources = {{"cpu", 2}, {"memory", 1}};
       }),
       false, "resources[0].weight"},
      // ValidateNodeResourcesBalancedAllocationArgs: field.Duplicate on a repeated name.
      {"BalancedAllocationResourcesMustBeUnique",
       with([](ProfileOptions& o) {
         o.balanced_allocation_resources = {{"cpu", 1}, {"cpu", 1}};
       }),
       false, "resources[1].name"},
      {"PluginWeightAbove100Rejected",
       with([](ProfileOptions& o) { o.node_affinity_weight = 101; }), false, "weight"},
      {"NegativeParallelismRejected", with([](ProfileOptions& o) { o.parallelism = -1; }), false,
       "parallelism"},
      // ValidateDynamicResourcesArgs: bindingTimeout of at least one second.
      {"DraBindingTimeoutBelowASecondRejected",
       with([](ProfileOptions& o) { o.dra_binding_timeout_seconds = 0; }), false,
       "dynamicResources.bindingTimeout"},
  };
}

INSTANTIATE_TEST_SUITE_P(Options, EvaluatorValidationTest, ::testing::ValuesIn(ValidationCases()),
                         [](const ::testing::TestParamInfo<ValidationCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace sextant
