// Cases ported from pkg/scheduler/framework/plugins/nodeaffinity/node_affinity_test.go (v1.37):
// TestNodeAffinity (PreFilter result and Filter status) and TestNodeAffinityPriority (Score and
// NormalizeScore), plus selector rules of k8s.io/apimachinery labels and component-helpers
// nodeaffinity. Rows that configure NodeAffinityArgs.addedAffinity are not ported: the profile
// has no such option.
#include "plugins/node_affinity.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "plugins/helper.h"
#include "sextant/evaluate.h"
#include "testing/builders.h"

namespace sextant {
namespace {

using testutil::FieldTerm;
using testutil::MakeState;
using testutil::NodeBuilder;
using testutil::NodeInfoFor;
using testutil::PodBuilder;
using testutil::Req;
using testutil::Term;

constexpr SelectorOperator kIn = SelectorOperator::kIn;
constexpr SelectorOperator kNotIn = SelectorOperator::kNotIn;
constexpr SelectorOperator kExists = SelectorOperator::kExists;
constexpr SelectorOperator kDoesNotExist = SelectorOperator::kDoesNotExist;
constexpr SelectorOperator kGt = SelectorOperator::kGt;
constexpr SelectorOperator kLt = SelectorOperator::kLt;
constexpr FilterCode kSuccess = FilterCode::kSuccess;
constexpr FilterCode kUnresolvable = FilterCode::kUnschedulableAndUnresolvable;
constexpr char kName[] = "metadata.name";

// What PreFilter returns: Skip, nil (all nodes), a node-name set, or the conflict status.
enum class Pre { kSkip, kAllNodes, kNodeNames, kConflict };

struct FilterCase {
  std::string name;
  Pod pod;
  Labels labels;
  std::string node_name;
  FilterCode want;
  Pre want_pre;
  std::set<std::string> want_names = {};
};

// gtest names the failing row instead of dumping its bytes.
void PrintTo(const FilterCase& c, std::ostream* os) { *os << c.name; }

class NodeAffinityFilterTest : public ::testing::TestWithParam<FilterCase> {};

TEST_P(NodeAffinityFilterTest, MatchesUpstream) {
  const FilterCase& c = GetParam();
  NodeAffinityPreFilterState pre = NodeAffinityPreFilter(c.pod);
  switch (c.want_pre) {
    case Pre::kSkip:
      EXPECT_TRUE(pre.skip);
      EXPECT_FALSE(pre.node_names.has_value());
      EXPECT_FALSE(pre.conflict);
      break;
    case Pre::kAllNodes:
      EXPECT_FALSE(pre.skip);
      EXPECT_FALSE(pre.node_names.has_value());
      EXPECT_FALSE(pre.conflict);
      break;
    case Pre::kNodeNames:
      EXPECT_FALSE(pre.skip);
      EXPECT_FALSE(pre.conflict);
      EXPECT_EQ(pre.node_names, std::optional<std::set<std::string>>(c.want_names));
      break;
    case Pre::kConflict:
      EXPECT_FALSE(pre.skip);
      EXPECT_TRUE(pre.conflict);
      EXPECT_FALSE(pre.node_names.has_value());
      break;
  }
  auto state = MakeState({NodeBuilder(c.node_name).Labels(c.labels).Build()});
  EXPECT_EQ(NodeAffinityFilter(pre, NodeInfoFor(*state, c.node_name)), c.want);

  // The same verdict through the state's label columns (what Evaluate uses), alone and beside
  // nodes that carry the case's keys with other values or none of its labels.
  for (bool crowded : {false, true}) {
    SCOPED_TRACE(crowded ? "beside other nodes" : "alone");
    std::vector<Node> nodes = {NodeBuilder(c.node_name).Labels(c.labels).Build()};
    if (crowded) {
      Labels other;
      for (const auto& [key, value] : c.labels) other[key] = value + "0";
      nodes.push_back(NodeBuilder("other-values").Labels(other).Build());
      nodes.push_back(NodeBuilder("no-labels").Build());
    }
    auto indexed_state = MakeState(nodes);
    NodeAffinityPreFilterState indexed = NodeAffinityPreFilter(c.pod, &indexed_state->node_labels());
    ASSERT_EQ(indexed.indexed.has_value(), !indexed.skip);
    const int64_t slot = indexed_state->FindNode(c.node_name);
    ASSERT_GE(slot, 0);
    EXPECT_EQ(NodeAffinityFilter(indexed, indexed_state->node(static_cast<uint32_t>(slot)),
                                 static_cast<uint32_t>(slot)),
              c.want);
    for (const Node& node : nodes) {
      const int64_t other_slot = indexed_state->FindNode(node.name);
      const NodeInfo& info = indexed_state->node(static_cast<uint32_t>(other_slot));
      EXPECT_EQ(NodeAffinityFilter(indexed, info, static_cast<uint32_t>(other_slot)),
                NodeAffinityFilter(pre, info))
          << node.name;
    }
  }
}

PodBuilder P() { return PodBuilder("default", "p"); }
PodBuilder Required(NodeSelectorTerm term) { return P().RequiredNodeAffinity(std::move(term)); }

std::vector<FilterCase> FilterCases() {
  // Upstream's node has no name unless the row sets one; ours must have one to be stored.
  const std::string node = "test-node";
  return {
      // ---- TestNodeAffinity ----
      {"MissingLabels", P().NodeSelector("foo", "bar").Build(), {}, node, kUnresolvable,
       Pre::kAllNodes},
      {"SameLabels", P().NodeSelector("foo", "bar").Build(), {{"foo", "bar"}}, node, kSuccess,
       Pre::kAllNodes},
      {"NodeLabelsAreSuperset", P().NodeSelector("foo", "bar").Build(),
       {{"foo", "bar"}, {"baz", "blah"}}, node, kSuccess, Pre::kAllNodes},
      // labels.SelectorFromSet does not validate: nodeSelector compares strings as they are.
      {"NodeSelectorIsNotValidated", P().NodeSelector("not a key", "not a value!").Build(),
       {{"not a key", "not a value!"}}, node, kSuccess, Pre::kAllNodes},
      {"NodeSelectorEmptyValueMatchesEmptyLabel", P().NodeSelector("gpu", "").Build(),
       {{"gpu", ""}}, node, kSuccess, Pre::kAllNodes},
      {"NodeSelectorEmptyValueNeedsTheKey", P().NodeSelector("gpu", "").Build(), {}, node,
       kUnresolvable, Pre::kAllNodes},
      {"NodeLabelsAreSubset", P().NodeSelector("foo", "bar").NodeSelector("baz", "blah").Build(),
       {{"foo", "bar"}}, node, kUnresolvable, Pre::kAllNodes},
      {"InOperatorMatches", Required(Term({Req("foo", kIn, {"bar", "value2"})})).Build(),
       {{"foo", "bar"}}, node, kSuccess, Pre::kAllNodes},
      {"GtOperatorMatches", Required(Term({Req("kernel-version", kGt, {"0204"})})).Build(),
       {{"kernel-version", "0206"}}, node, kSuccess, Pre::kAllNodes},
      {"NotInOperatorMatches", Required(Term({Req("mem-type", kNotIn, {"DDR", "DDR2"})})).Build(),
       {{"mem-type", "DDR3"}}, node, kSuccess, Pre::kAllNodes},
      {"ExistsOperatorMatches", Required(Term({Req("GPU", kExists)})).Build(),
       {{"GPU", "NVIDIA-GRID-K1"}}, node, kSuccess, Pre::kAllNodes},
      {"InOperatorDoesNotMatch", Required(Term({Req("foo", kIn, {"value1", "value2"})})).Build(),
       {{"foo", "bar"}}, node, kUnresolvable, Pre::kAllNodes},
      {"EmptyMatchExpressionsTermMatchesNothing", Required(Term({})).Build(), {{"foo", "bar"}},
       node, kUnresolvable, Pre::kAllNodes},
      {"NoAffinitySkips", P().Build(), {{"foo", "bar"}}, node, kSuccess, Pre::kSkip},
      {"AffinityWithoutRequiredSkips", P().EmptyNodeAffinity().Build(), {{"foo", "bar"}}, node,
       kSuccess, Pre::kSkip},
      {"ExpressionsAndedMatch",
       Required(Term({Req("GPU", kExists), Req("GPU", kNotIn, {"AMD", "INTER"})})).Build(),
       {{"GPU", "NVIDIA-GRID-K1"}}, node, kSuccess, Pre::kAllNodes},
      {"ExpressionsAndedDoNotMatch",
       Required(Term({Req("GPU", kExists), Req("GPU", kIn, {"AMD", "INTER"})})).Build(),
       {{"GPU", "NVIDIA-GRID-K1"}}, node, kUnresolvable, Pre::kAllNodes},
      {"TermsOredMatch",
       Required(Term({Req("foo", kIn, {"bar", "value2"})}))
           .RequiredNodeAffinity(Term({Req("diffkey", kIn, {"wrong", "value2"})}))
           .Build(),
       {{"foo", "bar"}}, node, kSuccess, Pre::kAllNodes},
      {"NodeSelectorAndAffinityBothSatisfied",
       Required(Term({Req("foo", kExists)})).NodeSelector("foo", "bar").Build(), {{"foo", "bar"}},
       node, kSuccess, Pre::kAllNodes},
      {"AffinityMatchesButNodeSelectorDoesNot",
       Required(Term({Req("foo", kExists)})).NodeSelector("foo", "bar").Build(),
       {{"foo", "barrrrrr"}}, node, kUnresolvable, Pre::kAllNodes},
      {"InvalidValueInTermMatchesNothing",
       Required(Term({Req("foo", kNotIn, {"invalid value: ___@#$%^"})})).Build(),
       {{"foo", "bar"}}, node, kUnresolvable, Pre::kAllNodes},
      {"MatchFieldsInMatchesNode", Required(FieldTerm({Req(kName, kIn, {"node1"})})).Build(), {},
       "node1", kSuccess, Pre::kNodeNames, {"node1"}},
      {"MatchFieldsInDoesNotMatchNode", Required(FieldTerm({Req(kName, kIn, {"node1"})})).Build(),
       {}, "node2", kUnresolvable, Pre::kNodeNames, {"node1"}},
      {"FieldsTermFailsButExpressionsTermMatches",
       Required(FieldTerm({Req(kName, kIn, {"node1"}), Req(kName, kIn, {"node2"})}))
           .RequiredNodeAffinity(Term({Req("foo", kIn, {"bar"})}))
           .Build(),
       {{"foo", "bar"}}, "node2", kSuccess, Pre::kAllNodes},
      {"OneTermFieldsFailExpressionsMatch",
       Required(Term({Req("foo", kIn, {"bar"})}, {Req(kName, kIn, {"node1"})})).Build(),
       {{"foo", "bar"}}, "node2", kUnresolvable, Pre::kNodeNames, {"node1"}},
      {"OneTermFieldsAndExpressionsMatch",
       Required(Term({Req("foo", kIn, {"bar"})}, {Req(kName, kIn, {"node1"})})).Build(),
       {{"foo", "bar"}}, "node1", kSuccess, Pre::kNodeNames, {"node1"}},
      {"TwoTermsNeitherMatches",
       Required(FieldTerm({Req(kName, kIn, {"node1"})}))
           .RequiredNodeAffinity(Term({Req("foo", kIn, {"not-match-to-bar"})}))
           .Build(),
       {{"foo", "bar"}}, "node2", kUnresolvable, Pre::kAllNodes},
      {"TwoNodeNameTermsUnion",
       Required(FieldTerm({Req(kName, kIn, {"node1"})}))
           .RequiredNodeAffinity(FieldTerm({Req(kName, kIn, {"node2"})}))
           .Build(),
       {}, "node2", kSuccess, Pre::kNodeNames, {"node1", "node2"}},
      {"ConflictingMatchFieldsRequirements",
       Required(FieldTerm({Req(kName, kIn, {"node1"}), Req(kName, kIn, {"node2"})})).Build(),
       {{"foo", "bar"}}, "node2", kUnresolvable, Pre::kConflict},
      // ---- labels.Requirement.Matches / NewRequirement rules ----
      {"LtOperatorMatches", Required(Term({Req("rank", kLt, {"10"})})).Build(), {{"rank", "9"}},
       node, kSuccess, Pre::kAllNodes},
      {"LtOperatorEqualValueDoesNotMatch", Required(Term({Req("rank", kLt, {"10"})})).Build(),
       {{"rank", "10"}}, node, kUnresolvable, Pre::kAllNodes},
      {"GtOperatorComparesNumerically", Required(Term({Req("rank", kGt, {"9"})})).Build(),
       {{"rank", "10"}}, node, kSuccess, Pre::kAllNodes},
      {"GtOperatorAcceptsSignedLabel", Required(Term({Req("rank", kGt, {"1"})})).Build(),
       {{"rank", "+3"}}, node, kSuccess, Pre::kAllNodes},
      // NewRequirement validates Gt/Lt operands as label values too: "-5" starts with '-'.
      {"GtOperatorNegativeOperandIsInvalid", Required(Term({Req("rank", kGt, {"-5"})})).Build(),
       {{"rank", "3"}}, node, kUnresolvable, Pre::kAllNodes},
      {"GtOperatorNonIntegerLabelDoesNotMatch", Required(Term({Req("rank", kGt, {"1"})})).Build(),
       {{"rank", "high"}}, node, kUnresolvable, Pre::kAllNodes},
      {"GtOperatorMissingLabelDoesNotMatch", Required(Term({Req("rank", kGt, {"1"})})).Build(), {},
       node, kUnresolvable, Pre::kAllNodes},
      {"GtOperatorNonIntegerOperandIsInvalid",
       Required(Term({Req("rank", kGt, {"1.5"})})).Build(), {{"rank", "2"}}, node, kUnresolvable,
       Pre::kAllNodes},
      {"GtOperatorTwoOperandsIsInvalid", Required(Term({Req("rank", kGt, {"1", "2"})})).Build(),
       {{"rank", "5"}}, node, kUnresolvable, Pre::kAllNodes},
      {"DoesNotExistMatchesAbsentKey", Required(Term({Req("gpu", kDoesNotExist)})).Build(),
       {{"foo", "bar"}}, node, kSuccess, Pre::kAllNodes},
      {"DoesNotExistRejectsPresentKey", Required(Term({Req("gpu", kDoesNotExist)})).Build(),
       {{"gpu", ""}}, node, kUnresolvable, Pre::kAllNodes},
      {"DoesNotExistWithValuesIsInvalid",
       Required(Term({Req("gpu", kDoesNotExist, {"x"})})).Build(), {}, node, kUnresolvable,
       Pre::kAllNodes},
      {"NotInMatchesAbsentKey", Required(Term({Req("zone", kNotIn, {"a"})})).Build(), {}, node,
       kSuccess, Pre::kAllNodes},
      {"InWithoutValuesIsInvalid", Required(Term({Req("zone", kIn, {})})).Build(),
       {{"zone", ""}}, node, kUnresolvable, Pre::kAllNodes},
      {"InvalidKeyIsInvalid", Required(Term({Req("invalid key", kExists)})).Build(),
       {{"invalid key", ""}}, node, kUnresolvable, Pre::kAllNodes},
      {"PrefixedKeyMatches",
       Required(Term({Req("kubernetes.io/hostname", kIn, {"test-node"})})).Build(),
       {{"kubernetes.io/hostname", "test-node"}}, node, kSuccess, Pre::kAllNodes},
      // A term that fails to parse does not poison the others (LazyErrorNodeSelector).
      {"InvalidTermDoesNotHideValidTerm",
       Required(Term({Req("zone", kIn, {})}))
           .RequiredNodeAffinity(Term({Req("foo", kIn, {"bar"})}))
           .Build(),
       {{"foo", "bar"}}, node, kSuccess, Pre::kAllNodes},
      // required with no terms at all matches nothing (NodeSelector.Match over zero terms).
      {"RequiredWithoutTermsMatchesNothing", P().RequiredNodeAffinityTerms({}).Build(),
       {{"foo", "bar"}}, node, kUnresolvable, Pre::kAllNodes},
      {"EmptyTermIsDroppedBesideMatchingTerm",
       Required(Term({})).RequiredNodeAffinity(Term({Req("foo", kExists)})).Build(),
       {{"foo", "bar"}}, node, kSuccess, Pre::kAllNodes},
      // ---- matchFields (nodeSelectorRequirementsAsFieldSelector) ----
      {"MatchFieldsNotInExcludesNode",
       Required(FieldTerm({Req(kName, kNotIn, {"node1"})})).Build(), {}, "node1", kUnresolvable,
       Pre::kAllNodes},
      {"MatchFieldsNotInAdmitsOtherNode",
       Required(FieldTerm({Req(kName, kNotIn, {"node1"})})).Build(), {}, "node2", kSuccess,
       Pre::kAllNodes},
      // PreFilter still narrows to the listed names; Filter finds the requirement invalid.
      {"MatchFieldsInWithTwoValuesIsInvalid",
       Required(FieldTerm({Req(kName, kIn, {"node1", "node2"})})).Build(), {}, "node1",
       kUnresolvable, Pre::kNodeNames, {"node1", "node2"}},
      {"MatchFieldsExistsIsInvalid", Required(FieldTerm({Req(kName, kExists)})).Build(), {},
       "node1", kUnresolvable, Pre::kAllNodes},
      // Unknown field keys read as "" (fields.Set.Get).
      {"MatchFieldsUnknownKeyInDoesNotMatch",
       Required(FieldTerm({Req("metadata.uid", kIn, {"node1"})})).Build(), {}, "node1",
       kUnresolvable, Pre::kAllNodes},
      {"MatchFieldsUnknownKeyNotInMatches",
       Required(FieldTerm({Req("metadata.uid", kNotIn, {"node1"})})).Build(), {}, "node1",
       kSuccess, Pre::kAllNodes},
      // matchFields with NotIn does not narrow; In ANDed with NotIn narrows to the In values.
      {"MatchFieldsInAndNotInNarrowsToIn",
       Required(FieldTerm({Req(kName, kIn, {"node1"}), Req(kName, kNotIn, {"node2"})})).Build(), {},
       "node1", kSuccess, Pre::kNodeNames, {"node1"}},
  };
}

INSTANTIATE_TEST_SUITE_P(Upstream, NodeAffinityFilterTest, ::testing::ValuesIn(FilterCases()),
                         [](const ::testing::TestParamInfo<FilterCase>& info) {
                           return info.param.name;
                         });

TEST(NodeAffinityTest, ReasonsAreUpstreamText) {
  EXPECT_STREQ(kNodeAffinityReason, "node(s) didn't match Pod's node affinity/selector");
  EXPECT_STREQ(kNodeAffinityConflictReason, "pod affinity terms conflict");
}

// ---- PreFilter through the evaluator: narrowing, conflict, and their messages ----

std::unique_ptr<ClusterState> ThreeNodes() {
  return MakeState({NodeBuilder("node1").Allocatable({{"pods", "10"}}).Build(),
                    NodeBuilder("node2").Allocatable({{"pods", "10"}}).Build(),
                    NodeBuilder("node3").Allocatable({{"pods", "10"}}).Build()});
}

TEST(NodeAffinityTest, PreFilterNarrowingExcludesOtherNodes) {
  auto state = ThreeNodes();
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = Required(FieldTerm({Req(kName, kIn, {"node2"})})).Build();
  Evaluation e = evaluator.Evaluate(*state, pod, 0);
  EXPECT_EQ(e.prefilter_narrowing_plugins, std::vector<std::string>{"NodeAffinity"});
  EXPECT_EQ(e.feasible_count, 1);
  ASSERT_TRUE(e.chosen.has_value());
  EXPECT_EQ(testutil::NodeNameAt(*state, e.verdicts[*e.chosen].node), "node2");
  EXPECT_TRUE(e.verdicts[0].excluded_by_prefilter);
  EXPECT_FALSE(e.verdicts[1].excluded_by_prefilter);
  EXPECT_TRUE(e.verdicts[2].excluded_by_prefilter);
  EXPECT_EQ(e.Reasons(e.verdicts[0]),
            std::vector<std::string>{"node(s) didn't satisfy plugin(s) [NodeAffinity]"});
}

// The narrowed-to node fails a filter: the message counts it by its own reason and the rest as
// absent nodes of the PreFilter.
TEST(NodeAffinityTest, PreFilterNarrowingMessageCountsAbsentNodes) {
  auto state = MakeState({NodeBuilder("node1").Allocatable({{"pods", "10"}}).Build(),
                          NodeBuilder("node2")
                              .Allocatable({{"pods", "10"}})
                              .Taint("dedicated", "x", TaintEffect::kNoSchedule)
                              .Build(),
                          NodeBuilder("node3").Allocatable({{"pods", "10"}}).Build()});
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = Required(FieldTerm({Req(kName, kIn, {"node2"})})).Build();
  Evaluation e = evaluator.Evaluate(*state, pod, 0);
  EXPECT_FALSE(e.chosen.has_value());
  EXPECT_EQ(e.FitErrorMessage(),
            "0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 node(s) didn't "
            "satisfy plugin(s) [NodeAffinity].");
}

TEST(NodeAffinityTest, PreFilterConflictRejectsPod) {
  auto state = ThreeNodes();
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = Required(FieldTerm({Req(kName, kIn, {"node1"}), Req(kName, kIn, {"node2"})})).Build();
  Evaluation e = evaluator.Evaluate(*state, pod, 0);
  EXPECT_EQ(e.prefilter_plugin, PluginId::kNodeAffinity);
  EXPECT_TRUE(e.verdicts.empty());
  EXPECT_FALSE(e.chosen.has_value());
  EXPECT_EQ(e.FitErrorMessage(), "0/3 nodes are available: pod affinity terms conflict.");
}

// NodeName and NodeAffinity both narrow, to disjoint sets: RunPreFilterPlugins' "simultaneously"
// message, plugins sorted.
TEST(NodeAffinityTest, PreFilterDisjointWithNodeNameRejectsPod) {
  auto state = ThreeNodes();
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = Required(FieldTerm({Req(kName, kIn, {"node2"})})).NodeName("node1").Build();
  Evaluation e = evaluator.Evaluate(*state, pod, 0);
  EXPECT_FALSE(e.chosen.has_value());
  EXPECT_EQ(e.FitErrorMessage(),
            "0/3 nodes are available: node(s) didn't satisfy plugin(s) [NodeAffinity NodeName] "
            "simultaneously.");
}

TEST(NodeAffinityTest, PreFilterIntersectionWithNodeName) {
  auto state = ThreeNodes();
  Evaluator evaluator{ProfileOptions{}};
  Pod pod = P().RequiredNodeAffinityTerms({FieldTerm({Req(kName, kIn, {"node1"})}),
                                           FieldTerm({Req(kName, kIn, {"node2"})})})
                .NodeName("node2")
                .Build();
  Evaluation e = evaluator.Evaluate(*state, pod, 0);
  EXPECT_EQ(e.prefilter_narrowing_plugins,
            (std::vector<std::string>{"NodeAffinity", "NodeName"}));
  ASSERT_TRUE(e.chosen.has_value());
  EXPECT_EQ(testutil::NodeNameAt(*state, e.verdicts[*e.chosen].node), "node2");
  EXPECT_EQ(e.Reasons(e.verdicts[0]),
            std::vector<std::string>{"node(s) didn't satisfy plugin(s) [NodeAffinity NodeName]"});
}

// ---- Score + NormalizeScore (forward) ----

struct ScoreCase {
  std::string name;
  Pod pod;
  std::vector<Node> nodes;
  bool want_skip;
  std::vector<int64_t> want;  // normalised, in node order
};

// gtest names the failing row instead of dumping its bytes.
void PrintTo(const ScoreCase& c, std::ostream* os) { *os << c.name; }

class NodeAffinityScoreTest : public ::testing::TestWithParam<ScoreCase> {};

TEST_P(NodeAffinityScoreTest, MatchesUpstream) {
  const ScoreCase& c = GetParam();
  auto state = MakeState(c.nodes);
  NodeAffinityPreScoreState pre = NodeAffinityPreScore(c.pod);
  EXPECT_EQ(!pre.preferred.has_value(), c.want_skip);
  std::vector<int64_t> scores;
  for (const Node& node : c.nodes) {
    scores.push_back(NodeAffinityScore(pre, NodeInfoFor(*state, node.name)));
  }
  DefaultNormalizeScore(kMaxNodeScore, /*reverse=*/false, scores);
  EXPECT_EQ(scores, c.want);
}

std::vector<ScoreCase> ScoreCases() {
  const Labels label1 = {{"foo", "bar"}};
  const Labels label2 = {{"key", "value"}};
  const Labels label3 = {{"az", "az1"}};
  const Labels label4 = {{"abc", "az11"}, {"def", "az22"}};
  const Labels label5 = {{"foo", "bar"}, {"key", "value"}, {"az", "az1"}};
  auto affinity1 = [] { return P().PreferredNodeAffinity(2, Term({Req("foo", kIn, {"bar"})})); };
  auto affinity2 = [] {
    return P()
        .PreferredNodeAffinity(2, Term({Req("foo", kIn, {"bar"})}))
        .PreferredNodeAffinity(4, Term({Req("key", kIn, {"value"})}))
        .PreferredNodeAffinity(5, Term({Req("foo", kIn, {"bar"}), Req("key", kIn, {"value"}),
                                        Req("az", kIn, {"az1"})}));
  };
  auto node = [](const char* name, const Labels& labels) {
    return NodeBuilder(name).Labels(labels).Build();
  };
  return {
      {"NilAffinityGivesEqualZeroScores",
       P().Build(),
       {node("node1", label1), node("node2", label2), node("node3", label3)},
       true,
       {0, 0, 0}},
      {"NoNodeMatchesPreferredTerms",
       affinity1().Build(),
       {node("node1", label4), node("node2", label2), node("node3", label3)},
       false,
       {0, 0, 0}},
      {"OnlyNode1Matches",
       affinity1().Build(),
       {node("node1", label1), node("node2", label2), node("node3", label3)},
       false,
       {100, 0, 0}},
      {"AllNodesMatchWithDifferentPriorities",
       affinity2().Build(),
       {node("node1", label1), node("node5", label5), node("node2", label2)},
       false,
       {18, 100, 36}},
      // nodeaffinity.NewPreferredSchedulingTerms skips weight-0 and empty terms.
      {"ZeroWeightTermIgnored",
       P().PreferredNodeAffinity(0, Term({Req("foo", kIn, {"bar"})}))
           .PreferredNodeAffinity(1, Term({Req("key", kIn, {"value"})}))
           .Build(),
       {node("node1", label1), node("node2", label2)},
       false,
       {0, 100}},
      {"EmptyPreferenceTermIgnored",
       P().PreferredNodeAffinity(7, Term({})).PreferredNodeAffinity(1, Term({Req("foo", kExists)}))
           .Build(),
       {node("node1", label1), node("node2", label2)},
       false,
       {100, 0}},
      {"PreferredMatchFieldsByNodeName",
       P().PreferredNodeAffinity(3, FieldTerm({Req(kName, kIn, {"node2"})})).Build(),
       {node("node1", label1), node("node2", label2)},
       false,
       {0, 100}},
      // Forward normalisation truncates: 100 * 1 / 3 = 33.
      {"ForwardNormalisationTruncates",
       P().PreferredNodeAffinity(1, Term({Req("foo", kExists)}))
           .PreferredNodeAffinity(2, Term({Req("key", kExists)}))
           .Build(),
       {node("node1", label1), node("node2", label2), node("node5", label5)},
       false,
       {33, 66, 100}},
      // Upstream fails PreScore on a malformed term ("invalid key"); the API server rejects such
      // a pod, and the engine drops the term instead, documented in model/selectors.cc.
      {"InvalidPreferredTermDropped",
       P().PreferredNodeAffinity(2, Term({Req("invalid key", kIn, {"bar"})}))
           .PreferredNodeAffinity(1, Term({Req("foo", kIn, {"bar"})}))
           .Build(),
       {node("node1", label1), node("node2", label2)},
       false,
       {100, 0}},
  };
}

INSTANTIATE_TEST_SUITE_P(Upstream, NodeAffinityScoreTest, ::testing::ValuesIn(ScoreCases()),
                         [](const ::testing::TestParamInfo<ScoreCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace sextant
