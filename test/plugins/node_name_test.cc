// Cases ported from pkg/scheduler/framework/plugins/nodename/node_name_test.go (v1.37): the Filter
// table of TestNodeName, and TestNodeName_PreFilter, whose PreFilterResult lives in the evaluator.
#include "plugins/node_name.h"

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

struct FilterCase {
  std::string name;
  std::string pod_node_name;
  std::string node_name;
  FilterCode want;
};

// gtest names the failing row instead of dumping its bytes.
void PrintTo(const FilterCase& c, std::ostream* os) { *os << c.name; }

class NodeNameFilterTest : public ::testing::TestWithParam<FilterCase> {};

TEST_P(NodeNameFilterTest, MatchesUpstream) {
  const FilterCase& c = GetParam();
  auto state = MakeState({NodeBuilder(c.node_name).Build()});
  Pod pod = PodBuilder("default", "p").Build();
  pod.node_name = c.pod_node_name;
  EXPECT_EQ(NodeNameFilter(pod, NodeInfoFor(*state, c.node_name)), c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, NodeNameFilterTest,
    ::testing::Values(
        // "no host specified" (upstream's node has no name; ours needs one to be stored).
        FilterCase{"NoHostSpecifiedFitsAnyNode", "", "foo", FilterCode::kSuccess},
        FilterCase{"HostMatches", "foo", "foo", FilterCode::kSuccess},
        FilterCase{"HostDoesNotMatchIsUnresolvable", "bar", "foo",
                   FilterCode::kUnschedulableAndUnresolvable},
        // Exact string comparison: no case folding, no prefix matching.
        FilterCase{"HostComparisonIsCaseSensitive", "Foo", "foo",
                   FilterCode::kUnschedulableAndUnresolvable},
        FilterCase{"HostPrefixDoesNotMatch", "foo", "foo-1",
                   FilterCode::kUnschedulableAndUnresolvable}),
    [](const ::testing::TestParamInfo<FilterCase>& info) { return info.param.name; });

TEST(NodeNameTest, ReasonIsUpstreamErrReason) {
  EXPECT_STREQ(kNodeNameReason, "node(s) didn't match the requested node name");
}

// TestNodeName_PreFilter "assigned pod with nodeName set, prefilter restricts to assigned node":
// the other nodes are never filtered and carry the PreFilter's absent-node status.
TEST(NodeNameTest, PreFilterRestrictsToAssignedNode) {
  auto state = MakeState({NodeBuilder("foo").Allocatable({{"pods", "10"}}).Build(),
                          NodeBuilder("bar").Allocatable({{"pods", "10"}}).Build()});
  Evaluator evaluator{ProfileOptions{}};
  Evaluation e = evaluator.Evaluate(*state, PodBuilder("default", "p").NodeName("foo").Build(), 0);
  EXPECT_EQ(e.prefilter_narrowing_plugins, std::vector<std::string>{"NodeName"});
  ASSERT_EQ(e.verdicts.size(), 2u);
  ASSERT_TRUE(e.chosen.has_value());
  EXPECT_EQ(testutil::NodeNameAt(*state, e.verdicts[*e.chosen].node), "foo");
  const NodeVerdict& bar = e.verdicts[1];
  EXPECT_TRUE(bar.excluded_by_prefilter);
  EXPECT_EQ(bar.code, FilterCode::kUnschedulableAndUnresolvable);
  EXPECT_EQ(e.Reasons(bar),
            std::vector<std::string>{"node(s) didn't satisfy plugin(s) [NodeName]"});
}

// TestNodeName_PreFilter "unassigned pod without nodeName set, prefilter returns nil".
TEST(NodeNameTest, PreFilterDoesNotNarrowUnassignedPod) {
  auto state = MakeState({NodeBuilder("foo").Allocatable({{"pods", "10"}}).Build(),
                          NodeBuilder("bar").Allocatable({{"pods", "10"}}).Build()});
  Evaluator evaluator{ProfileOptions{}};
  Evaluation e = evaluator.Evaluate(*state, PodBuilder("default", "p").Build(), 0);
  EXPECT_TRUE(e.prefilter_narrowing_plugins.empty());
  EXPECT_EQ(e.feasible_count, 2);
  for (const NodeVerdict& v : e.verdicts) EXPECT_FALSE(v.excluded_by_prefilter);
}

// A PreFilterResult naming a node the snapshot lacks leaves no candidate; every node gets the
// absent-node status (schedule_one.go findNodesThatFitPod).
TEST(NodeNameTest, PreFilterToUnknownNodeLeavesEveryNodeAbsent) {
  auto state = MakeState({NodeBuilder("foo").Allocatable({{"pods", "10"}}).Build(),
                          NodeBuilder("bar").Allocatable({{"pods", "10"}}).Build()});
  Evaluator evaluator{ProfileOptions{}};
  Evaluation e =
      evaluator.Evaluate(*state, PodBuilder("default", "p").NodeName("missing").Build(), 0);
  EXPECT_FALSE(e.chosen.has_value());
  EXPECT_EQ(e.FitErrorMessage(),
            "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeName].");
}

}  // namespace
}  // namespace sextant
