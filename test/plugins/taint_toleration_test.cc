// Cases ported from pkg/scheduler/framework/plugins/tainttoleration/taint_toleration_test.go
// (v1.37): TestTaintTolerationFilter, TestTaintTolerationFilterWithFeatureGate and
// TestTaintTolerationScore. TaintTolerationComparisonOperators is alpha and off in the reference
// release, so the Gt/Lt cases are ported with the gate off (the toleration never matches).
#include "plugins/taint_toleration.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "plugins/helper.h"
#include "sextant/evaluate.h"
#include "testing/builders.h"

namespace sextant {
namespace {

using testutil::MakeState;
using testutil::NodeBuilder;
using testutil::NodeInfoFor;
using testutil::PodBuilder;

constexpr TaintEffect kNoSchedule = TaintEffect::kNoSchedule;
constexpr TaintEffect kPreferNoSchedule = TaintEffect::kPreferNoSchedule;
constexpr TaintEffect kNoExecute = TaintEffect::kNoExecute;
constexpr TaintEffect kAnyEffect = TaintEffect::kNone;
constexpr TolerationOperator kEqual = TolerationOperator::kEqual;
constexpr TolerationOperator kExists = TolerationOperator::kExists;
constexpr TolerationOperator kGt = TolerationOperator::kGt;
constexpr TolerationOperator kLt = TolerationOperator::kLt;
constexpr FilterCode kSuccess = FilterCode::kSuccess;
constexpr FilterCode kUnresolvable = FilterCode::kUnschedulableAndUnresolvable;

PodBuilder Pod1() { return PodBuilder("default", "pod1"); }

// ---- Filter ----

struct FilterCase {
  std::string name;
  Pod pod;
  Node node;
  FilterCode want;
};

// gtest names the failing row instead of dumping its bytes.
void PrintTo(const FilterCase& c, std::ostream* os) { *os << c.name; }

class TaintTolerationFilterTest : public ::testing::TestWithParam<FilterCase> {};

TEST_P(TaintTolerationFilterTest, MatchesUpstream) {
  const FilterCase& c = GetParam();
  auto state = MakeState({c.node});
  EXPECT_EQ(TaintTolerationFilter(c.pod, NodeInfoFor(*state, c.node.name)), c.want);
}

std::vector<FilterCase> FilterCases() {
  auto node = [] { return NodeBuilder("nodeA"); };
  return {
      // ---- TestTaintTolerationFilter ----
      {"NoTolerationsRejectedByNoScheduleTaint", Pod1().Build(),
       node().Taint("dedicated", "user1", kNoSchedule).Build(), kUnresolvable},
      {"MatchingTolerationWithEffectNoSchedule",
       Pod1().Toleration("dedicated", kEqual, "user1", kNoSchedule).Build(),
       node().Taint("dedicated", "user1", kNoSchedule).Build(), kSuccess},
      {"TolerationForOtherValueRejected",
       Pod1().Toleration("dedicated", kEqual, "user2", kNoSchedule).Build(),
       node().Taint("dedicated", "user1", kNoSchedule).Build(), kUnresolvable},
      {"ExistsTolerationToleratesAnyValue",
       Pod1().Toleration("foo", kExists, "", kNoSchedule).Build(),
       node().Taint("foo", "bar", kNoSchedule).Build(), kSuccess},
      {"AllOfMultipleTaintsTolerated",
       Pod1()
           .Toleration("dedicated", kEqual, "user2", kNoSchedule)
           .Toleration("foo", kExists, "", kNoSchedule)
           .Build(),
       node().Taint("dedicated", "user2", kNoSchedule).Taint("foo", "bar", kNoSchedule).Build(),
       kSuccess},
      {"NonEmptyEffectMismatchRejected",
       Pod1().Toleration("foo", kEqual, "bar", kPreferNoSchedule).Build(),
       node().Taint("foo", "bar", kNoSchedule).Build(), kUnresolvable},
      {"EmptyEffectToleratesNoSchedule", Pod1().Toleration("foo", kEqual, "bar").Build(),
       node().Taint("foo", "bar", kNoSchedule).Build(), kSuccess},
      {"PreferNoScheduleTaintIgnoredByFilter",
       Pod1().Toleration("dedicated", kEqual, "user2", kNoSchedule).Build(),
       node().Taint("dedicated", "user1", kPreferNoSchedule).Build(), kSuccess},
      {"PreferNoScheduleTaintIgnoredWithoutTolerations", Pod1().Build(),
       node().Taint("dedicated", "user1", kPreferNoSchedule).Build(), kSuccess},
      // The upstream Gt/Lt rows are written for the gate on; with it off every one is rejected.
      {"GtTolerationBelowThresholdRejected",
       Pod1().Toleration("node.example.com/priority-level", kGt, "950", kNoSchedule).Build(),
       node().Taint("node.example.com/priority-level", "800", kNoSchedule).Build(), kUnresolvable},
      {"GtTolerationAboveThresholdRejectedWithGateOff",
       Pod1().Toleration("node.kubernetes.io/sla", kGt, "750", kNoSchedule).Build(),
       node().Taint("node.kubernetes.io/sla", "950", kNoSchedule).Build(), kUnresolvable},
      {"LtTolerationAboveThresholdRejected",
       Pod1().Toleration("node.example.com/priority-level", kLt, "800", kNoSchedule).Build(),
       node().Taint("node.example.com/priority-level", "950", kNoSchedule).Build(), kUnresolvable},
      {"LtTolerationBelowThresholdRejectedWithGateOff",
       Pod1().Toleration("node.kubernetes.io/sla", kLt, "950", kNoSchedule).Build(),
       node().Taint("node.kubernetes.io/sla", "800", kNoSchedule).Build(), kUnresolvable},
      {"GtTolerationNonNumericTaintRejected",
       Pod1().Toleration("node.kubernetes.io/sla", kGt, "950", kNoSchedule).Build(),
       node().Taint("node.kubernetes.io/sla", "high", kNoSchedule).Build(), kUnresolvable},
      // ---- TestTaintTolerationFilterWithFeatureGate, gate off ----
      {"MixedTolerationsOnlyEqualHonored",
       Pod1()
           .Toleration("dedicated", kEqual, "user1", kNoSchedule)
           .Toleration("node.kubernetes.io/sla", kGt, "750", kNoSchedule)
           .Build(),
       node().Taint("dedicated", "user1", kNoSchedule).Build(), kSuccess},
      {"MixedTolerationsGtNeededButIgnored",
       Pod1()
           .Toleration("dedicated", kEqual, "user1", kNoSchedule)
           .Toleration("node.kubernetes.io/sla", kGt, "750", kNoSchedule)
           .Build(),
       node()
           .Taint("dedicated", "user1", kNoSchedule)
           .Taint("node.kubernetes.io/sla", "950", kNoSchedule)
           .Build(),
       kUnresolvable},
      // ---- Toleration.ToleratesTaint rules (k8s.io/api core/v1 toleration.go) ----
      {"EmptyKeyExistsToleratesEveryTaint", Pod1().Toleration("", kExists, "").Build(),
       node()
           .Taint("a", "1", kNoSchedule)
           .Taint("b", "", kNoExecute)
           .Taint("c", "x", kPreferNoSchedule)
           .Build(),
       kSuccess},
      {"EmptyKeyExistsWithEffectOnlyToleratesThatEffect",
       Pod1().Toleration("", kExists, "", kNoSchedule).Build(),
       node().Taint("a", "1", kNoSchedule).Taint("b", "", kNoExecute).Build(), kUnresolvable},
      {"NoExecuteTaintWithoutTolerationRejected", Pod1().Build(),
       node().Taint("node.kubernetes.io/not-ready", "", kNoExecute).Build(), kUnresolvable},
      {"NoExecuteTaintToleratedByNoExecuteToleration",
       Pod1().Toleration("node.kubernetes.io/not-ready", kExists, "", kNoExecute).Build(),
       node().Taint("node.kubernetes.io/not-ready", "", kNoExecute).Build(), kSuccess},
      {"NoScheduleTolerationDoesNotTolerateNoExecute",
       Pod1().Toleration("k", kExists, "", kNoSchedule).Build(),
       node().Taint("k", "", kNoExecute).Build(), kUnresolvable},
      {"EffectlessTolerationToleratesNoExecute", Pod1().Toleration("k", kEqual, "v").Build(),
       node().Taint("k", "v", kNoExecute).Build(), kSuccess},
      {"EqualWithEmptyValueMatchesEmptyTaintValue",
       Pod1().Toleration("k", kEqual, "", kNoSchedule).Build(),
       node().Taint("k", "", kNoSchedule).Build(), kSuccess},
      {"KeyComparisonIsExact", Pod1().Toleration("Dedicated", kExists, "").Build(),
       node().Taint("dedicated", "user1", kNoSchedule).Build(), kUnresolvable},
      {"OneUntoleratedTaintAmongManyRejects",
       Pod1().Toleration("a", kExists, "").Toleration("c", kExists, "").Build(),
       node()
           .Taint("a", "1", kNoSchedule)
           .Taint("b", "2", kNoSchedule)
           .Taint("c", "3", kNoExecute)
           .Build(),
       kUnresolvable},
      {"UntaintedNodeAcceptsAnyPod", Pod1().Build(), node().Build(), kSuccess},
  };
}

INSTANTIATE_TEST_SUITE_P(Upstream, TaintTolerationFilterTest, ::testing::ValuesIn(FilterCases()),
                         [](const ::testing::TestParamInfo<FilterCase>& info) {
                           return info.param.name;
                         });

TEST(TaintTolerationTest, FilterReasonIsUpstreamText) {
  EXPECT_STREQ(kTaintTolerationReason, "node(s) had untolerated taint(s)");
}

// ---- Score + NormalizeScore (reverse) ----

struct ScoreCase {
  std::string name;
  Pod pod;
  std::vector<Node> nodes;
  std::vector<int64_t> want;  // normalised, in node order
};

// gtest names the failing row instead of dumping its bytes.
void PrintTo(const ScoreCase& c, std::ostream* os) { *os << c.name; }

class TaintTolerationScoreTest : public ::testing::TestWithParam<ScoreCase> {};

TEST_P(TaintTolerationScoreTest, MatchesUpstream) {
  const ScoreCase& c = GetParam();
  auto state = MakeState(c.nodes);
  TaintTolerationPreScoreState pre = TaintTolerationPreScore(c.pod);
  std::vector<int64_t> scores;
  for (const Node& node : c.nodes) {
    scores.push_back(TaintTolerationScore(pre, NodeInfoFor(*state, node.name)));
  }
  DefaultNormalizeScore(kMaxNodeScore, /*reverse=*/true, scores);
  EXPECT_EQ(scores, c.want);
}

std::vector<ScoreCase> ScoreCases() {
  return {
      {"ToleratedTaintScoresHigherThanIntolerable",
       Pod1().Toleration("foo", kEqual, "bar", kPreferNoSchedule).Build(),
       {NodeBuilder("nodeA").Taint("foo", "bar", kPreferNoSchedule).Build(),
        NodeBuilder("nodeB").Taint("foo", "blah", kPreferNoSchedule).Build()},
       {100, 0}},
      {"CountOfToleratedTaintsDoesNotMatter",
       Pod1()
           .Toleration("cpu-type", kEqual, "arm64", kPreferNoSchedule)
           .Toleration("disk-type", kEqual, "ssd", kPreferNoSchedule)
           .Build(),
       {NodeBuilder("nodeA").Build(),
        NodeBuilder("nodeB").Taint("cpu-type", "arm64", kPreferNoSchedule).Build(),
        NodeBuilder("nodeC")
            .Taint("cpu-type", "arm64", kPreferNoSchedule)
            .Taint("disk-type", "ssd", kPreferNoSchedule)
            .Build()},
       {100, 100, 100}},
      {"MoreIntolerableTaintsScoreLower",
       Pod1().Toleration("foo", kEqual, "bar", kPreferNoSchedule).Build(),
       {NodeBuilder("nodeA").Build(),
        NodeBuilder("nodeB").Taint("cpu-type", "arm64", kPreferNoSchedule).Build(),
        NodeBuilder("nodeC")
            .Taint("cpu-type", "arm64", kPreferNoSchedule)
            .Taint("disk-type", "ssd", kPreferNoSchedule)
            .Build()},
       {100, 50, 0}},
      {"OnlyPreferNoScheduleTaintsAndTolerationsCount",
       Pod1()
           .Toleration("cpu-type", kEqual, "arm64", kNoSchedule)
           .Toleration("disk-type", kEqual, "ssd", kNoSchedule)
           .Build(),
       {NodeBuilder("nodeA").Build(),
        NodeBuilder("nodeB").Taint("cpu-type", "arm64", kNoSchedule).Build(),
        NodeBuilder("nodeC")
            .Taint("cpu-type", "arm64", kPreferNoSchedule)
            .Taint("disk-type", "ssd", kPreferNoSchedule)
            .Build()},
       {100, 100, 0}},
      {"NoTolerationsPreferUntaintedNode",
       Pod1().Build(),
       {NodeBuilder("nodeA").Build(),
        NodeBuilder("nodeB").Taint("cpu-type", "arm64", kPreferNoSchedule).Build()},
       {100, 0}},
      // Upstream's Gt/Lt score rows expect {0, 100} with the gate on; with it off neither
      // toleration matches, both nodes count one taint, and reverse normalisation gives 0 to both.
      {"GtTolerationIgnoredWithGateOff",
       Pod1().Toleration("node.kubernetes.io/sla", kGt, "950", kPreferNoSchedule).Build(),
       {NodeBuilder("nodeA").Taint("node.kubernetes.io/sla", "800", kPreferNoSchedule).Build(),
        NodeBuilder("nodeB").Taint("node.kubernetes.io/sla", "999", kPreferNoSchedule).Build()},
       {0, 0}},
      {"LtTolerationIgnoredWithGateOff",
       Pod1().Toleration("node.kubernetes.io/sla", kLt, "800", kPreferNoSchedule).Build(),
       {NodeBuilder("nodeA").Taint("node.kubernetes.io/sla", "950", kPreferNoSchedule).Build(),
        NodeBuilder("nodeB").Taint("node.kubernetes.io/sla", "700", kPreferNoSchedule).Build()},
       {0, 0}},
      // getAllTolerationPreferNoSchedule keeps effect-less tolerations.
      {"EffectlessTolerationCountsForPreferNoSchedule",
       Pod1().Toleration("foo", kExists, "").Build(),
       {NodeBuilder("nodeA").Taint("foo", "x", kPreferNoSchedule).Build(),
        NodeBuilder("nodeB").Taint("bar", "x", kPreferNoSchedule).Build()},
       {100, 0}},
      {"EmptyKeyExistsToleratesAllPreferNoSchedule",
       Pod1().Toleration("", kExists, "").Build(),
       {NodeBuilder("nodeA").Taint("foo", "x", kPreferNoSchedule).Build(),
        NodeBuilder("nodeB").Build()},
       {100, 100}},
      {"NoExecuteTolerationDoesNotCountForPreferNoSchedule",
       Pod1().Toleration("foo", kExists, "", kNoExecute).Build(),
       {NodeBuilder("nodeA").Taint("foo", "x", kPreferNoSchedule).Build(),
        NodeBuilder("nodeB").Build()},
       {0, 100}},
      // Reverse normalisation: 100 - 100*count/max, integer division.
      {"ReverseNormalisationTruncates",
       Pod1().Build(),
       {NodeBuilder("n0").Build(),
        NodeBuilder("n1").Taint("a", "", kPreferNoSchedule).Build(),
        NodeBuilder("n2")
            .Taint("a", "", kPreferNoSchedule)
            .Taint("b", "", kPreferNoSchedule)
            .Build(),
        NodeBuilder("n3")
            .Taint("a", "", kPreferNoSchedule)
            .Taint("b", "", kPreferNoSchedule)
            .Taint("c", "", kPreferNoSchedule)
            .Build()},
       {100, 67, 34, 0}},
      // Hard taints are the Filter's business and do not lower the score.
      {"HardTaintsDoNotCountInScore",
       Pod1().Toleration("", kExists, "", kNoSchedule).Build(),
       {NodeBuilder("nodeA").Taint("a", "", kNoSchedule).Taint("b", "", kNoSchedule).Build(),
        NodeBuilder("nodeB").Taint("c", "", kPreferNoSchedule).Build()},
       {100, 0}},
  };
}

INSTANTIATE_TEST_SUITE_P(Upstream, TaintTolerationScoreTest, ::testing::ValuesIn(ScoreCases()),
                         [](const ::testing::TestParamInfo<ScoreCase>& info) {
                           return info.param.name;
                         });

TEST(TaintTolerationTest, PreScoreKeepsOnlyEffectlessAndPreferNoScheduleTolerations) {
  Pod pod = Pod1()
                .Toleration("a", kExists, "", kNoSchedule)
                .Toleration("b", kExists, "", kAnyEffect)
                .Toleration("c", kExists, "", kPreferNoSchedule)
                .Toleration("d", kExists, "", kNoExecute)
                .Build();
  TaintTolerationPreScoreState state = TaintTolerationPreScore(pod);
  std::vector<std::string> keys;
  for (const Toleration& t : state.prefer_no_schedule_tolerations) keys.push_back(t.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"b", "c"}));
}

}  // namespace
}  // namespace sextant
