// Cases ported from pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable_test.go
// (v1.37) TestNodeUnschedulable, plus the toleration forms that do and do not tolerate the
// node.kubernetes.io/unschedulable:NoSchedule taint the plugin checks against.
#include "plugins/node_unschedulable.h"

#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sextant/evaluate.h"
#include "testing/builders.h"

namespace sextant {
namespace {

using testutil::MakeState;
using testutil::NodeBuilder;
using testutil::NodeInfoFor;
using testutil::PodBuilder;

constexpr char kUnschedulableKey[] = "node.kubernetes.io/unschedulable";

struct Case {
  std::string name;
  Pod pod;
  bool node_unschedulable;
  FilterCode want;
};

// gtest names the failing row instead of dumping its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class NodeUnschedulableFilterTest : public ::testing::TestWithParam<Case> {};

TEST_P(NodeUnschedulableFilterTest, MatchesUpstream) {
  const Case& c = GetParam();
  auto state = MakeState({NodeBuilder("n1").Unschedulable(c.node_unschedulable).Build()});
  EXPECT_EQ(NodeUnschedulableFilter(c.pod, NodeInfoFor(*state, "n1")), c.want);
}

std::vector<Case> Cases() {
  auto pod = [] { return PodBuilder("default", "p"); };
  return {
      {"UnschedulableNodeRejectsPodWithoutToleration", pod().Build(), true,
       FilterCode::kUnschedulableAndUnresolvable},
      {"SchedulableNodeAcceptsPod", pod().Build(), false, FilterCode::kSuccess},
      // Upstream: {Key: TaintNodeUnschedulable, Effect: NoSchedule} (operator empty = Equal, "").
      {"TolerationOfUnschedulableTaintAccepted",
       pod().Toleration(kUnschedulableKey, TolerationOperator::kEqual, "",
                        TaintEffect::kNoSchedule)
           .Build(),
       true, FilterCode::kSuccess},
      {"ExistsTolerationForKeyAccepted",
       pod().Toleration(kUnschedulableKey, TolerationOperator::kExists, "").Build(), true,
       FilterCode::kSuccess},
      {"EmptyKeyExistsTolerationAcceptedEverywhere",
       pod().Toleration("", TolerationOperator::kExists, "").Build(), true, FilterCode::kSuccess},
      {"EffectlessTolerationMatchesNoSchedule",
       pod().Toleration(kUnschedulableKey, TolerationOperator::kEqual, "").Build(), true,
       FilterCode::kSuccess},
      {"NoExecuteTolerationDoesNotMatchNoScheduleTaint",
       pod().Toleration(kUnschedulableKey, TolerationOperator::kExists, "",
                        TaintEffect::kNoExecute)
           .Build(),
       true, FilterCode::kUnschedulableAndUnresolvable},
      {"PreferNoScheduleTolerationDoesNotMatchNoScheduleTaint",
       pod().Toleration(kUnschedulableKey, TolerationOperator::kExists, "",
                        TaintEffect::kPreferNoSchedule)
           .Build(),
       true, FilterCode::kUnschedulableAndUnresolvable},
      // The taint's value is empty, so Equal with any other value misses it.
      {"EqualTolerationWithValueDoesNotMatch",
       pod().Toleration(kUnschedulableKey, TolerationOperator::kEqual, "true",
                        TaintEffect::kNoSchedule)
           .Build(),
       true, FilterCode::kUnschedulableAndUnresolvable},
      {"TolerationForOtherKeyDoesNotMatch",
       pod().Toleration("node.kubernetes.io/not-ready", TolerationOperator::kExists, "").Build(),
       true, FilterCode::kUnschedulableAndUnresolvable},
      // Comparison operators are alpha and off (TaintTolerationComparisonOperators).
      {"GtTolerationNeverTolerates",
       pod().Toleration(kUnschedulableKey, TolerationOperator::kGt, "0").Build(), true,
       FilterCode::kUnschedulableAndUnresolvable},
      // spec.unschedulable is not a taint on the node object: no toleration needed when false.
      {"SchedulableNodeIgnoresTolerations",
       pod().Toleration("other", TolerationOperator::kExists, "").Build(), false,
       FilterCode::kSuccess},
  };
}

INSTANTIATE_TEST_SUITE_P(Upstream, NodeUnschedulableFilterTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

TEST(NodeUnschedulableTest, ReasonIsUpstreamErrReason) {
  EXPECT_STREQ(kNodeUnschedulableReason, "node(s) were unschedulable");
}

// The cordon is checked by NodeUnschedulable, not TaintToleration: a cordoned node without the
// taint object still fails, and is reported with NodeUnschedulable's reason.
TEST(NodeUnschedulableTest, CordonedNodeReportedByNodeUnschedulable) {
  auto state = MakeState({NodeBuilder("n1").Allocatable({{"pods", "10"}}).Unschedulable().Build()});
  Evaluator evaluator{ProfileOptions{}};
  Evaluation e = evaluator.Evaluate(*state, PodBuilder("default", "p").Build(), 0);
  ASSERT_EQ(e.verdicts.size(), 1u);
  EXPECT_EQ(e.verdicts[0].plugin, PluginId::kNodeUnschedulable);
  EXPECT_EQ(e.FitErrorMessage(), "0/1 nodes are available: 1 node(s) were unschedulable.");
}

}  // namespace
}  // namespace sextant
