// Cases ported from pkg/scheduler/framework/plugins/podtopologyspread (v1.37.2):
// filtering_test.go (TestPreFilterState, TestPreFilterStateAddPod, TestPreFilterStateRemovePod,
// TestSingleConstraint, TestMultipleConstraints) and scoring_test.go (TestPreScoreStateEmptyNodes,
// TestPodTopologySpreadScore).
// The engine implements the reference release's gates: NodeInclusionPolicyInPodTopologySpread
// and MatchLabelKeysInPodTopologySpread on. Upstream rows that turn a gate off are not ported
// (their results equal the gate-on row beside them unless noted). Upstream's default
// constraints read the pod's Services and controllers through informers
// (helper.DefaultSelector); the engine receives that selector as Pod::default_spread_selector,
// so rows with a Service carry the Service's selector there. Upstream's criticalPaths keep the
// two smallest domains; the engine keeps the exact minimum, which the rows compare with
// criticalPaths[0] (0 below minDomains, as upstream's minMatchNum).
#include "plugins/pod_topology_spread.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "plugins/helper.h"
#include "sextant/evaluate.h"
#include "state/indexes.h"
#include "testing/builders.h"

namespace sextant {
namespace {

using testutil::NodeBuilder;

constexpr auto kDoNotSchedule = UnsatisfiableConstraintAction::kDoNotSchedule;
constexpr auto kScheduleAnyway = UnsatisfiableConstraintAction::kScheduleAnyway;
constexpr auto kHonor = NodeInclusionPolicy::kHonor;
constexpr auto kIgnore = NodeInclusionPolicy::kIgnore;
constexpr FilterCode kOk = FilterCode::kSuccess;
constexpr FilterCode kUnsched = FilterCode::kUnschedulable;
constexpr FilterCode kUnresolvable = FilterCode::kUnschedulableAndUnresolvable;
constexpr char kUnschedulableTaint[] = "node.kubernetes.io/unschedulable";

LabelSelector Exists(std::string key) {
  LabelSelector s;
  s.match_expressions.push_back({std::move(key), SelectorOperator::kExists, {}});
  return s;
}
LabelSelector MatchLabels(Labels labels) {
  LabelSelector s;
  s.match_labels = std::move(labels);
  return s;
}
const LabelSelector kFoo = Exists("foo");
const LabelSelector kBar = Exists("bar");

class PodW {
 public:
  explicit PodW(std::string name = "") { pod_.name = std::move(name); }
  PodW& Namespace(std::string ns) {
    pod_.name_space = std::move(ns);
    return *this;
  }
  PodW& Node(std::string node) {
    pod_.node_name = std::move(node);
    return *this;
  }
  PodW& Label(std::string key, std::string value) {
    pod_.labels[std::move(key)] = std::move(value);
    return *this;
  }
  PodW& Terminating() {
    pod_.deletion_unix_nanos = 1;
    return *this;
  }
  PodW& NodeSelector(std::string key, std::string value) {
    pod_.node_selector[std::move(key)] = std::move(value);
    return *this;
  }
  // st.NodeAffinityIn / NodeAffinityNotIn: one required term with one expression.
  PodW& NodeAffinity(std::string key, SelectorOperator op, std::vector<std::string> values) {
    if (!pod_.affinity) pod_.affinity.emplace();
    auto& na = pod_.affinity->node_affinity;
    if (!na) na.emplace();
    if (!na->required) na->required.emplace();
    na->required->terms.push_back(NodeSelectorTerm{{{std::move(key), op, std::move(values)}}, {}});
    return *this;
  }
  // st.Toleration: Exists on the key, any effect.
  PodW& Toleration(std::string key) {
    sextant::Toleration t;
    t.key = std::move(key);
    t.op = TolerationOperator::kExists;
    pod_.tolerations.push_back(std::move(t));
    return *this;
  }
  // st.SpreadConstraint.
  PodW& Spread(int32_t max_skew, std::string key, UnsatisfiableConstraintAction action,
               std::optional<LabelSelector> selector,
               std::optional<int32_t> min_domains = std::nullopt,
               std::optional<NodeInclusionPolicy> affinity_policy = std::nullopt,
               std::optional<NodeInclusionPolicy> taints_policy = std::nullopt,
               std::vector<std::string> match_label_keys = {}) {
    TopologySpreadConstraint c;
    c.max_skew = max_skew;
    c.topology_key = std::move(key);
    c.when_unsatisfiable = action;
    c.label_selector = std::move(selector);
    c.min_domains = min_domains;
    c.node_affinity_policy = affinity_policy;
    c.node_taints_policy = taints_policy;
    c.match_label_keys = std::move(match_label_keys);
    pod_.topology_spread_constraints.push_back(std::move(c));
    return *this;
  }
  PodW& DefaultSelector(LabelSelector selector) {
    pod_.default_spread_selector = std::move(selector);
    return *this;
  }
  operator Pod() const { return pod_; }  // NOLINT: rows read like upstream's literals

 private:
  Pod pod_;
};

class NodeW {
 public:
  explicit NodeW(std::string name) : builder_(std::move(name)) {}
  NodeW& Label(std::string key, std::string value) {
    builder_.Label(std::move(key), std::move(value));
    return *this;
  }
  NodeW& Tainted() {
    builder_.Taint(kUnschedulableTaint, "", TaintEffect::kNoSchedule);
    return *this;
  }
  operator Node() const { return builder_.Build(); }  // NOLINT

 private:
  NodeBuilder builder_;
};

// node-<n> with zone and node labels.
Node ZN(std::string zone, std::string name) {
  return NodeW(name).Label("zone", std::move(zone)).Label("node", name);
}
std::vector<Node> FourNodes() {
  return {ZN("zone1", "node-a"), ZN("zone1", "node-b"), ZN("zone2", "node-x"),
          ZN("zone2", "node-y")};
}
// p-<n> on a node with label foo (or the given labels).
Pod On(std::string name, std::string node, Labels labels = {{"foo", ""}}) {
  PodW p(std::move(name));
  p.Node(std::move(node));
  for (auto& [k, v] : labels) p.Label(k, v);
  return p;
}

std::unique_ptr<ClusterState> BuildState(const std::vector<Node>& nodes,
                                         const std::vector<Pod>& pods) {
  auto state = std::make_unique<ClusterState>();
  for (const auto& node : nodes) EXPECT_TRUE(state->UpsertNode(node).ok());
  for (size_t i = 0; i < pods.size(); ++i) {
    Pod pod = pods[i];
    if (pod.name.empty()) pod.name = "p" + std::to_string(i);
    EXPECT_TRUE(state->UpsertPod(pod).ok()) << pod.Key();
  }
  return state;
}

uint32_t NodeIndex(const ClusterState& state, const std::string& name) {
  int64_t index = state.FindNode(name);
  EXPECT_GE(index, 0) << name;
  return static_cast<uint32_t>(index);
}

// Upstream's ListDefaulting with no default constraints, the args of the filtering tests.
PodTopologySpreadArgs ListArgs(std::vector<TopologySpreadConstraint> defaults = {}) {
  return PodTopologySpreadArgs{false, std::move(defaults)};
}

// ---- PreFilter state ----

// One constraint of upstream's preFilterState: the compiled fields, TpValueToMatchNum and
// minMatchNum.
struct WantConstraint {
  int32_t max_skew;
  std::string key;
  std::map<std::string, int64_t> counts;
  int64_t min_match;
  int32_t min_domains = 1;
  bool honor_affinity = true;
  bool honor_taints = false;
};

std::map<std::string, int64_t> CountsOf(const PodTopologySpreadPreFilterState& s,
                                        const ClusterState& state, size_t i) {
  std::map<std::string, int64_t> out;
  for (size_t v = 0; v < s.match_num[i].size(); ++v) {
    if (s.match_num[i][v] == kNotDomain) continue;
    out[state.node_labels().value_name(s.constraints[i].key, static_cast<int32_t>(v))] =
        s.match_num[i][v];
  }
  return out;
}

void ExpectState(const PodTopologySpreadPreFilterState& s, const ClusterState& state,
                 const std::vector<WantConstraint>& want) {
  ASSERT_EQ(s.constraints.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("constraint " + std::to_string(i));
    EXPECT_EQ(s.constraints[i].max_skew, want[i].max_skew);
    EXPECT_EQ(s.constraints[i].topology_key, want[i].key);
    EXPECT_EQ(s.constraints[i].min_domains, want[i].min_domains);
    EXPECT_EQ(s.constraints[i].honor_node_affinity, want[i].honor_affinity);
    EXPECT_EQ(s.constraints[i].honor_taints, want[i].honor_taints);
    EXPECT_EQ(CountsOf(s, state, i), want[i].counts);
    EXPECT_EQ(s.domains[i], static_cast<int64_t>(want[i].counts.size()));
    EXPECT_EQ(s.min_match[i], want[i].min_match);
  }
}

struct PreFilterCase {
  std::string name;
  Pod pod;
  std::vector<Node> nodes;
  std::vector<Pod> pods;
  bool want_skip = false;
  std::vector<WantConstraint> want;
  std::vector<TopologySpreadConstraint> default_constraints = {};
};

void PrintTo(const PreFilterCase& c, std::ostream* os) { *os << c.name; }

class PodTopologySpreadPreFilterTest : public ::testing::TestWithParam<PreFilterCase> {};

TEST_P(PodTopologySpreadPreFilterTest, MatchesUpstream) {
  const PreFilterCase& c = GetParam();
  auto state = BuildState(c.nodes, c.pods);
  PodTopologySpreadPreFilterState s =
      PodTopologySpreadPreFilter(c.pod, *state, ListArgs(c.default_constraints));
  EXPECT_EQ(s.skip, c.want_skip);
  if (!s.skip) ExpectState(s, *state, c.want);
}

TopologySpreadConstraint Default(int32_t max_skew, std::string key,
                                 UnsatisfiableConstraintAction action) {
  TopologySpreadConstraint c;
  c.max_skew = max_skew;
  c.topology_key = std::move(key);
  c.when_unsatisfiable = action;
  return c;
}

// TestPreFilterState.
std::vector<PreFilterCase> PreFilterCases() {
  const std::vector<Node> four = FourNodes();
  const std::vector<Pod> five = {On("p-a1", "node-a"), On("p-a2", "node-a"), On("p-b1", "node-b"),
                                 On("p-y1", "node-y"), On("p-y2", "node-y")};
  const std::vector<Pod> seven = {On("p-a1", "node-a"), On("p-a2", "node-a"), On("p-b1", "node-b"),
                                  On("p-y1", "node-y"), On("p-y2", "node-y"), On("p-y3", "node-y"),
                                  On("p-y4", "node-y")};
  const std::vector<Node> abc_foo = {NodeW("node-a").Label("node", "node-a").Label("foo", ""),
                                     NodeW("node-b").Label("node", "node-b").Label("foo", ""),
                                     NodeW("node-c").Label("node", "node-c").Label("bar", "")};
  const std::vector<Pod> abc_pods = {On("p-a", "node-a", {{"bar", ""}}),
                                     On("p-b", "node-b", {{"bar", ""}}),
                                     On("p-c", "node-b", {{"bar", ""}}), On("p-d", "node-c", {})};
  const std::vector<Node> abc_taint = {
      NodeW("node-a").Label("node", "node-a"), NodeW("node-b").Label("node", "node-b"),
      NodeW("node-c").Label("node", "node-c").Label("bar", "").Tainted()};
  const std::vector<Pod> foo_a_foo = {
      On("p-a1", "node-a", {{"foo", "a"}}), On("p-a2", "node-a", {{"foo", "a"}}),
      On("p-b1", "node-b", {{"foo", "a"}}), On("p-y1", "node-y", {{"foo", "a"}}),
      On("p-y2", "node-y", {{"foo", "a"}})};
  return {
      {"CleanClusterOneConstraint",
       PodW("p").Label("foo", "").Spread(5, "zone", kDoNotSchedule, MatchLabels({{"foo", "bar"}})),
       four,
       {},
       false,
       {{5, "zone", {{"zone1", 0}, {"zone2", 0}}, 0}}},
      {"OneConstraint",
       PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, kFoo),
       four,
       five,
       false,
       {{1, "zone", {{"zone1", 3}, {"zone2", 2}}, 2}}},
      {"NullLabelSelectorMatchesNothing",
       PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, std::nullopt),
       four,
       five,
       false,
       {{1, "zone", {{"zone1", 0}, {"zone2", 0}}, 0}}},
      {"OneConstraintThreeZones",
       PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, kFoo),
       {ZN("zone1", "node-a"), ZN("zone1", "node-b"), ZN("zone2", "node-x"), ZN("zone2", "node-y"),
        ZN("zone3", "node-o"), ZN("zone3", "node-p")},
       five,
       false,
       {{1, "zone", {{"zone1", 3}, {"zone2", 2}, {"zone3", 0}}, 0}}},
      {"NamespaceMismatchDoesNotCount",
       PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, kFoo),
       four,
       {On("p-a1", "node-a"), PodW("p-a2").Namespace("ns1").Node("node-a").Label("foo", ""),
        On("p-b1", "node-b"), PodW("p-y1").Namespace("ns2").Node("node-y").Label("foo", ""),
        On("p-y2", "node-y")},
       false,
       {{1, "zone", {{"zone1", 2}, {"zone2", 1}}, 1}}},
      {"TwoConstraints",
       PodW("p")
           .Label("foo", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo)
           .Spread(1, "node", kDoNotSchedule, kFoo),
       four,
       seven,
       false,
       {{1, "zone", {{"zone1", 3}, {"zone2", 4}}, 3},
        {1, "node", {{"node-a", 2}, {"node-b", 1}, {"node-x", 0}, {"node-y", 4}}, 0}}},
      {"SoftConstraintsBypassed",
       PodW("p")
           .Label("foo", "")
           .Spread(1, "zone", kScheduleAnyway, kFoo)
           .Spread(1, "zone", kDoNotSchedule, kFoo)
           .Spread(1, "node", kScheduleAnyway, kFoo)
           .Spread(1, "node", kDoNotSchedule, kFoo),
       {ZN("zone1", "node-a"), ZN("zone1", "node-b"), ZN("zone2", "node-y")},
       seven,
       false,
       {{1, "zone", {{"zone1", 3}, {"zone2", 4}}, 3},
        {1, "node", {{"node-a", 2}, {"node-b", 1}, {"node-y", 4}}, 1}}},
      {"DifferentLabelSelectorsSimple",
       PodW("p")
           .Label("foo", "")
           .Label("bar", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo)
           .Spread(1, "node", kDoNotSchedule, kBar),
       {ZN("zone1", "node-a"), ZN("zone1", "node-b"), ZN("zone2", "node-y")},
       {On("p-a", "node-a"), On("p-b", "node-b", {{"bar", ""}})},
       false,
       {{1, "zone", {{"zone1", 1}, {"zone2", 0}}, 0},
        {1, "node", {{"node-a", 0}, {"node-b", 1}, {"node-y", 0}}, 0}}},
      {"DifferentLabelSelectorsComplexPods",
       PodW("p")
           .Label("foo", "")
           .Label("bar", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo)
           .Spread(1, "node", kDoNotSchedule, kBar),
       {ZN("zone1", "node-a"), ZN("zone1", "node-b"), ZN("zone2", "node-y")},
       {On("p-a1", "node-a"), On("p-a2", "node-a", {{"foo", ""}, {"bar", ""}}),
        On("p-b1", "node-b"), On("p-y1", "node-y"),
        On("p-y2", "node-y", {{"foo", ""}, {"bar", ""}}), On("p-y3", "node-y"),
        On("p-y4", "node-y", {{"foo", ""}, {"bar", ""}})},
       false,
       {{1, "zone", {{"zone1", 3}, {"zone2", 4}}, 3},
        {1, "node", {{"node-a", 1}, {"node-b", 0}, {"node-y", 2}}, 0}}},
      {"TwoConstraintsWithNodeAffinity",
       PodW("p")
           .Label("foo", "")
           .NodeAffinity("node", SelectorOperator::kNotIn, {"node-x"})
           .Spread(1, "zone", kDoNotSchedule, kFoo)
           .Spread(1, "node", kDoNotSchedule, kFoo),
       four,
       seven,
       false,
       {{1, "zone", {{"zone1", 3}, {"zone2", 4}}, 3},
        {1, "node", {{"node-a", 2}, {"node-b", 1}, {"node-y", 4}}, 1}}},
      // A Service selecting foo=bar: helper.DefaultSelector gives foo=bar.
      {"DefaultConstraintsAndService",
       PodW("p")
           .Label("foo", "bar")
           .Label("baz", "kar")
           .DefaultSelector(MatchLabels({{"foo", "bar"}})),
       {},
       {},
       false,
       {{3, "node", {}, 0}, {5, "rack", {}, 0}},
       {Default(3, "node", kDoNotSchedule), Default(2, "node", kScheduleAnyway),
        Default(5, "rack", kDoNotSchedule)}},
      // No Service matches: the default selector is empty, so no default constraints.
      {"DefaultConstraintsServiceDoesNotMatch",
       PodW("p").Label("foo", "bar").DefaultSelector(LabelSelector{}),
       {},
       {},
       true,
       {},
       {Default(3, "node", kDoNotSchedule)}},
      {"DefaultConstraintsButPodHasConstraints",
       PodW("p")
           .Label("foo", "bar")
           .Label("baz", "tar")
           .Spread(1, "zone", kDoNotSchedule, MatchLabels({{"baz", "tar"}}))
           .Spread(2, "planet", kScheduleAnyway, MatchLabels({{"fot", "rok"}}))
           .DefaultSelector(MatchLabels({{"foo", "bar"}})),
       {},
       {},
       false,
       {{1, "zone", {}, 0}},
       {Default(2, "node", kDoNotSchedule)}},
      {"DefaultSoftConstraintsSkip",
       PodW("p").Label("foo", "bar").DefaultSelector(MatchLabels({{"foo", "bar"}})),
       {},
       {},
       true,
       {},
       {Default(2, "node", kScheduleAnyway)}},
      {"NodeAffinityPolicyHonoredWithNodeSelector",
       PodW("p").Label("foo", "").NodeSelector("foo", "").Spread(1, "node", kDoNotSchedule, kBar),
       abc_foo,
       abc_pods,
       false,
       {{1, "node", {{"node-a", 1}, {"node-b", 2}}, 1}}},
      {"NodeAffinityPolicyIgnoredWithNodeSelector",
       PodW("p").Label("foo", "").NodeSelector("foo", "").Spread(1, "node", kDoNotSchedule, kBar,
                                                                 std::nullopt, kIgnore),
       abc_foo,
       abc_pods,
       false,
       {{1, "node", {{"node-a", 1}, {"node-b", 2}, {"node-c", 0}}, 0, 1, false}}},
      {"NodeAffinityPolicyHonoredWithNodeAffinity",
       PodW("p")
           .Label("foo", "")
           .NodeAffinity("foo", SelectorOperator::kIn, {""})
           .Spread(1, "node", kDoNotSchedule, kBar),
       abc_foo,
       abc_pods,
       false,
       {{1, "node", {{"node-a", 1}, {"node-b", 2}}, 1}}},
      {"NodeAffinityPolicyIgnoredWithNodeAffinity",
       PodW("p")
           .Label("foo", "")
           .NodeAffinity("foo", SelectorOperator::kIn, {""})
           .Spread(1, "node", kDoNotSchedule, kBar, std::nullopt, kIgnore),
       abc_foo,
       abc_pods,
       false,
       {{1, "node", {{"node-a", 1}, {"node-b", 2}, {"node-c", 0}}, 0, 1, false}}},
      {"NodeTaintsPolicyIgnored",
       PodW("p").Label("foo", "").Spread(1, "node", kDoNotSchedule, kBar),
       abc_taint,
       abc_pods,
       false,
       {{1, "node", {{"node-a", 1}, {"node-b", 2}, {"node-c", 0}}, 0}}},
      {"NodeTaintsPolicyHonored",
       PodW("p").Label("foo", "").Spread(1, "node", kDoNotSchedule, kBar, std::nullopt,
                                         std::nullopt, kHonor),
       abc_taint,
       abc_pods,
       false,
       {{1, "node", {{"node-a", 1}, {"node-b", 2}}, 1, 1, true, true}}},
      {"NodeTaintsPolicyHonoredTolerated",
       PodW("p")
           .Label("foo", "")
           .Toleration(kUnschedulableTaint)
           .Spread(1, "node", kDoNotSchedule, kBar, std::nullopt, std::nullopt, kHonor),
       abc_taint,
       abc_pods,
       false,
       {{1, "node", {{"node-a", 1}, {"node-b", 2}, {"node-c", 0}}, 0, 1, true, true}}},
      {"InclusionZoneHonorIgnoreNodeIgnoreIgnore",
       PodW("p")
           .Label("foo", "")
           .NodeSelector("foo", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo)
           .Spread(1, "node", kDoNotSchedule, kFoo, std::nullopt, kIgnore),
       {NodeW("node-a").Label("zone", "zone1").Label("node", "node-a").Label("foo", ""),
        NodeW("node-b").Label("zone", "zone1").Label("node", "node-b"),
        NodeW("node-x").Label("zone", "zone2").Label("node", "node-x").Label("foo", "")},
       {On("p-b1", "node-b"), On("p-b2", "node-b"), On("p-x1", "node-x")},
       false,
       {{1, "zone", {{"zone1", 0}, {"zone2", 1}}, 0},
        {1, "node", {{"node-a", 0}, {"node-b", 2}, {"node-x", 1}}, 0, 1, false}}},
      {"InclusionZoneHonorHonorNodeHonorIgnore",
       PodW("p")
           .Label("foo", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo, std::nullopt, std::nullopt, kHonor)
           .Spread(1, "node", kDoNotSchedule, kFoo),
       {NodeW("node-a").Label("zone", "zone1").Label("node", "node-a").Label("foo", ""),
        NodeW("node-b").Label("zone", "zone1").Label("node", "node-b").Tainted(),
        NodeW("node-x").Label("zone", "zone2").Label("node", "node-x").Label("foo", "")},
       {On("p-b1", "node-b"), On("p-b2", "node-b"), On("p-x1", "node-x")},
       false,
       {{1, "zone", {{"zone1", 0}, {"zone2", 1}}, 0, 1, true, true},
        {1, "node", {{"node-a", 0}, {"node-b", 2}, {"node-x", 1}}, 0}}},
      {"InclusionZoneHonorIgnoreNodeHonorIgnore",
       PodW("p")
           .Label("foo", "")
           .NodeSelector("foo", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo)
           .Spread(1, "node", kDoNotSchedule, kFoo),
       {NodeW("node-a").Label("zone", "zone1").Label("node", "node-a"),
        NodeW("node-b").Label("zone", "zone1").Label("node", "node-b").Label("foo", "").Tainted(),
        NodeW("node-x").Label("zone", "zone2").Label("node", "node-x").Label("foo", ""),
        NodeW("node-y").Label("zone", "zone2").Label("node", "node-y")},
       {On("p-a1", "node-a"), On("p-a2", "node-a"), On("p-x1", "node-x"), On("p-y1", "node-y")},
       false,
       {{1, "zone", {{"zone1", 0}, {"zone2", 1}}, 0},
        {1, "node", {{"node-b", 0}, {"node-x", 1}}, 0}}},
      {"InclusionZoneIgnoreIgnoreNodeHonorHonor",
       PodW("p")
           .Label("foo", "")
           .NodeSelector("foo", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo, std::nullopt, kIgnore)
           .Spread(1, "node", kDoNotSchedule, kFoo, std::nullopt, std::nullopt, kHonor),
       {NodeW("node-a").Label("zone", "zone1").Label("node", "node-a"),
        NodeW("node-b").Label("zone", "zone1").Label("node", "node-b").Label("foo", "").Tainted(),
        NodeW("node-x").Label("zone", "zone2").Label("node", "node-x").Label("foo", ""),
        NodeW("node-y").Label("zone", "zone2").Label("node", "node-y").Label("foo", "")},
       {On("p-a1", "node-a"), On("p-a2", "node-a"), On("p-x1", "node-x"), On("p-x2", "node-x"),
        On("p-y1", "node-y")},
       false,
       {{1, "zone", {{"zone1", 2}, {"zone2", 3}}, 2, 1, false},
        {1, "node", {{"node-x", 2}, {"node-y", 1}}, 1, 1, true, true}}},
      {"MatchLabelKeysAndedWithSelector",
       PodW("p")
           .Label("foo", "")
           .Label("bar", "a")
           .Spread(1, "zone", kDoNotSchedule, kFoo, std::nullopt, std::nullopt, std::nullopt,
                   {"bar"}),
       four,
       {On("p-a1", "node-a"), On("p-a2", "node-a", {{"foo", ""}, {"bar", "a"}}),
        On("p-b1", "node-b"), On("p-y1", "node-y", {{"foo", ""}, {"bar", "a"}}),
        On("p-y2", "node-y", {{"bar", ""}})},
       false,
       {{1, "zone", {{"zone1", 1}, {"zone2", 1}}, 1}}},
      {"MatchLabelKeysAndedWithEmptySelector",
       PodW("p")
           .Label("foo", "a")
           .Spread(1, "zone", kDoNotSchedule, LabelSelector{}, std::nullopt, std::nullopt,
                   std::nullopt, {"foo"}),
       four,
       foo_a_foo,
       false,
       {{1, "zone", {{"zone1", 3}, {"zone2", 2}}, 2}}},
      {"MatchLabelKeysIgnoredWithNilSelector",
       PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, std::nullopt, std::nullopt,
                                         std::nullopt, std::nullopt, {"bar"}),
       four,
       foo_a_foo,
       false,
       {{1, "zone", {{"zone1", 0}, {"zone2", 0}}, 0}}},
      {"MatchLabelKeyMissingFromPodIgnored",
       PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, kFoo, std::nullopt,
                                         std::nullopt, std::nullopt, {"bar"}),
       four,
       foo_a_foo,
       false,
       {{1, "zone", {{"zone1", 3}, {"zone2", 2}}, 2}}},
      {"TwoConstraintsSameTopologyKey",
       PodW("p")
           .Label("foo", "")
           .Label("bar", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo)
           .Spread(1, "zone", kDoNotSchedule, kBar),
       four,
       {On("p-a1", "node-a", {{"foo", ""}, {"bar", ""}}), On("p-b1", "node-b"),
        On("p-x1", "node-x", {{"bar", ""}}), On("p-y1", "node-y", {{"foo", ""}, {"bar", ""}}),
        On("p-y2", "node-y", {{"bar", ""}})},
       false,
       {{1, "zone", {{"zone1", 2}, {"zone2", 1}}, 1},
        {1, "zone", {{"zone1", 1}, {"zone2", 3}}, 1}}},
      {"SkipIfNotSpecified", PodW("p").Label("foo", ""), {ZN("zone1", "node-a")}, {}, true, {}},
      // TestSingleConstraint's minDomains rows, as state: fewer domains than minDomains read the
      // global minimum as 0.
      {"MinDomainsAboveDomainCount",
       PodW("p").Label("foo", "").Spread(2, "zone", kDoNotSchedule, kFoo, 3),
       four,
       {On("p-b1", "node-a"), On("p-b2", "node-b"), On("p-y1", "node-y")},
       false,
       {{2, "zone", {{"zone1", 2}, {"zone2", 1}}, 0, 3}}},
  };
}

INSTANTIATE_TEST_SUITE_P(PreFilterState, PodTopologySpreadPreFilterTest,
                         ::testing::ValuesIn(PreFilterCases()),
                         [](const auto& info) { return info.param.name; });

// ---- AddPod / RemovePod ----

struct UpdateCase {
  std::string name;
  Pod preemptor;
  Pod pod;  // added or removed
  std::string node;
  int64_t delta;
  std::vector<Node> nodes;
  std::vector<Pod> existing;
  std::vector<WantConstraint> want;
};

void PrintTo(const UpdateCase& c, std::ostream* os) { *os << c.name; }

class PodTopologySpreadUpdateTest : public ::testing::TestWithParam<UpdateCase> {};

TEST_P(PodTopologySpreadUpdateTest, MatchesUpstream) {
  const UpdateCase& c = GetParam();
  auto state = BuildState(c.nodes, c.existing);
  PodTopologySpreadPreFilterState s = PodTopologySpreadPreFilter(c.preemptor, *state, ListArgs());
  ASSERT_FALSE(s.skip);
  PodTopologySpreadUpdateWithPod(s, *state, c.pod, NodeIndex(*state, c.node), c.delta);
  ExpectState(s, *state, c.want);
}

// TestPreFilterStateAddPod and TestPreFilterStateRemovePod (the gate-on rows).
std::vector<UpdateCase> UpdateCases() {
  const Pod node_spread = PodW("p").Label("foo", "").Spread(1, "node", kDoNotSchedule, kFoo);
  const Pod zone_node = PodW("p")
                            .Label("foo", "")
                            .Spread(1, "zone", kDoNotSchedule, kFoo)
                            .Spread(1, "node", kDoNotSchedule, kFoo);
  const Pod zone_foo_node_bar = PodW("p")
                                    .Label("foo", "")
                                    .Label("bar", "")
                                    .Spread(1, "zone", kDoNotSchedule, kFoo)
                                    .Spread(1, "node", kDoNotSchedule, kBar);
  const Pod zone_spread = PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, kFoo);
  const std::vector<Node> ab = {ZN("zone1", "node-a"), ZN("zone1", "node-b")};
  const std::vector<Node> ax = {ZN("zone1", "node-a"), ZN("zone2", "node-x")};
  const std::vector<Node> abx = {ZN("zone1", "node-a"), ZN("zone1", "node-b"),
                                 ZN("zone2", "node-x")};
  const std::vector<Node> affinity_nodes = {
      NodeW("node-a").Label("zone", "zone1").Label("node", "node-a").Label("foo", "bar"),
      NodeW("node-b").Label("zone", "zone2").Label("node", "node-b").Label("foo", "")};
  const std::vector<Node> taint_nodes = {
      NodeW("node-a").Label("zone", "zone1").Label("node", "node-a").Tainted(),
      NodeW("node-b").Label("zone", "zone2").Label("node", "node-b")};
  const Pod affinity_unmatched = PodW("p")
                                     .Label("foo", "")
                                     .NodeAffinity("foo", SelectorOperator::kNotIn, {"bar"})
                                     .Spread(1, "zone", kDoNotSchedule, kFoo);
  const Labels foo_z1 = {{"foo", ""}, {"zone", "zone1"}};
  const Labels foo_z2 = {{"foo", ""}, {"zone", "zone2"}};
  return {
      {"AddNodeAAndBBothImpactMin",
       node_spread,
       On("p-a1", "node-a"),
       "node-a",
       1,
       ab,
       {},
       {{1, "node", {{"node-a", 1}, {"node-b", 0}}, 0}}},
      {"AddOnlyNodeAImpactsMin",
       node_spread,
       On("p-a1", "node-a"),
       "node-a",
       1,
       ab,
       {On("p-b1", "node-b")},
       {{1, "node", {{"node-a", 1}, {"node-b", 1}}, 1}}},
      {"AddPodInOtherNamespaceNoChange",
       node_spread,
       PodW("p-a1").Namespace("ns1").Node("node-a").Label("foo", ""),
       "node-a",
       1,
       ab,
       {On("p-b1", "node-b")},
       {{1, "node", {{"node-a", 0}, {"node-b", 1}}, 0}}},
      {"AddOnNonCriticalNode",
       node_spread,
       On("p-b2", "node-b"),
       "node-b",
       1,
       ab,
       {On("p-b1", "node-b")},
       {{1, "node", {{"node-a", 0}, {"node-b", 2}}, 0}}},
      {"AddNodeAAndXImpactZoneAndNode",
       zone_node,
       On("p-a1", "node-a"),
       "node-a",
       1,
       ax,
       {},
       {{1, "zone", {{"zone1", 1}, {"zone2", 0}}, 0},
        {1, "node", {{"node-a", 1}, {"node-x", 0}}, 0}}},
      {"AddOnlyNodeAImpactsZoneAndNode",
       zone_node,
       On("p-a1", "node-a"),
       "node-a",
       1,
       ax,
       {On("p-x1", "node-x")},
       {{1, "zone", {{"zone1", 1}, {"zone2", 1}}, 1},
        {1, "node", {{"node-a", 1}, {"node-x", 1}}, 1}}},
      {"AddNodeAImpactsNodeNodeXImpactsZone",
       zone_node,
       On("p-a1", "node-a"),
       "node-a",
       1,
       abx,
       {On("p-b1", "node-b"), On("p-b2", "node-b"), On("p-x1", "node-x")},
       {{1, "zone", {{"zone1", 3}, {"zone2", 1}}, 1},
        {1, "node", {{"node-a", 1}, {"node-b", 2}, {"node-x", 1}}, 1}}},
      {"AddDifferentSelectorsImpactZone",
       zone_foo_node_bar,
       On("p-a1", "node-a"),
       "node-a",
       1,
       abx,
       {On("p-b1", "node-b", {{"foo", ""}, {"bar", ""}}),
        On("p-x1", "node-x", {{"foo", ""}, {"bar", ""}}), On("p-x2", "node-x", {{"bar", ""}})},
       {{1, "zone", {{"zone1", 2}, {"zone2", 1}}, 1},
        {1, "node", {{"node-a", 0}, {"node-b", 1}, {"node-x", 2}}, 0}}},
      {"AddDifferentSelectorsImpactZoneAndNode",
       zone_foo_node_bar,
       On("p-a1", "node-a", {{"foo", ""}, {"bar", ""}}),
       "node-a",
       1,
       abx,
       {On("p-b1", "node-b", {{"bar", ""}}), On("p-x1", "node-x", {{"foo", ""}, {"bar", ""}}),
        On("p-x2", "node-x", {{"bar", ""}})},
       {{1, "zone", {{"zone1", 1}, {"zone2", 1}}, 1},
        {1, "node", {{"node-a", 1}, {"node-b", 1}, {"node-x", 2}}, 1}}},
      {"AddOnNodeExcludedByNodeAffinity",
       affinity_unmatched,
       On("p-a1", "node-a", foo_z1),
       "node-a",
       1,
       affinity_nodes,
       {On("p-a2", "node-a", foo_z1), On("p-b1", "node-b", foo_z2)},
       {{1, "zone", {{"zone2", 1}}, 1}}},
      {"AddOnNodeMatchingNodeAffinity",
       zone_spread,
       On("p-b1", "node-b", foo_z2),
       "node-b",
       1,
       affinity_nodes,
       {On("p-a1", "node-a", foo_z1), On("p-b2", "node-b", foo_z2)},
       {{1, "zone", {{"zone1", 1}, {"zone2", 2}}, 1}}},
      {"AddPodNotMatchingSelector",
       zone_spread,
       On("p-b1", "node-b", {{"zone", "zone2"}}),
       "node-b",
       1,
       affinity_nodes,
       {On("p-a1", "node-a", foo_z1), On("p-b2", "node-b", foo_z2)},
       {{1, "zone", {{"zone1", 1}, {"zone2", 1}}, 1}}},
      // Taints are ignored by default (nodeTaintsPolicy Ignore).
      {"AddWithTaintedNodeIgnored",
       zone_spread,
       On("p-b1", "node-b", foo_z2),
       "node-b",
       1,
       taint_nodes,
       {On("p-a1", "node-a", foo_z1), On("p-b2", "node-b", foo_z2)},
       {{1, "zone", {{"zone1", 1}, {"zone2", 2}}, 1}}},
      {"AddTaintToleratedPreemptor",
       PodW("p")
           .Label("foo", "")
           .Toleration(kUnschedulableTaint)
           .Spread(1, "zone", kDoNotSchedule, kFoo),
       On("p-b1", "node-b", foo_z2),
       "node-b",
       1,
       taint_nodes,
       {On("p-a1", "node-a", foo_z1), On("p-b2", "node-b", foo_z2)},
       {{1, "zone", {{"zone1", 1}, {"zone2", 2}}, 1}}},
      {"RemoveZoneMinUnchanged",
       zone_spread,
       On("p-a1", "node-a"),
       "node-a",
       -1,
       {ZN("zone1", "node-a"), ZN("zone1", "node-b"), ZN("zone2", "node-x")},
       {On("p-a1", "node-a"), On("p-b1", "node-b"), On("p-x1", "node-x")},
       {{1, "zone", {{"zone1", 1}, {"zone2", 1}}, 1}}},
      {"RemoveZoneMinChanged",
       zone_spread,
       On("p-a1", "node-a"),
       "node-a",
       -1,
       FourNodes(),
       {On("p-a1", "node-a"), On("p-b1", "node-b"), On("p-x1", "node-x"), On("p-y1", "node-y")},
       {{1, "zone", {{"zone1", 1}, {"zone2", 2}}, 1}}},
      {"RemoveIrrelevantPod",
       zone_spread,
       On("p-a0", "node-a", {{"bar", ""}}),
       "node-a",
       -1,
       FourNodes(),
       {On("p-a0", "node-a", {{"bar", ""}}), On("p-a1", "node-a"), On("p-b1", "node-b"),
        On("p-x1", "node-x"), On("p-y1", "node-y")},
       {{1, "zone", {{"zone1", 2}, {"zone2", 2}}, 2}}},
      {"RemoveNonExistingPod",
       zone_spread,
       On("p-a0", "node-a", {{"bar", ""}}),
       "node-a",
       -1,
       FourNodes(),
       {On("p-a1", "node-a"), On("p-b1", "node-b"), On("p-x1", "node-x"), On("p-y1", "node-y")},
       {{1, "zone", {{"zone1", 2}, {"zone2", 2}}, 2}}},
      {"RemoveTwoConstraints",
       zone_node,
       On("p-x1", "node-x"),
       "node-x",
       -1,
       abx,
       {On("p-a1", "node-a"), On("p-a2", "node-a"), On("p-b1", "node-b"), On("p-x1", "node-x"),
        On("p-x2", "node-x")},
       {{1, "zone", {{"zone1", 3}, {"zone2", 1}}, 1},
        {1, "node", {{"node-a", 2}, {"node-b", 1}, {"node-x", 1}}, 1}}},
      {"RemoveOnNodeExcludedByNodeAffinity",
       affinity_unmatched,
       On("p-a1", "node-a", foo_z1),
       "node-a",
       -1,
       affinity_nodes,
       {On("p-a2", "node-a", foo_z1), On("p-b1", "node-b", foo_z2)},
       {{1, "zone", {{"zone2", 1}}, 1}}},
      {"RemoveOnNodeMatchingNodeAffinity",
       zone_spread,
       On("p-b1", "node-b", foo_z2),
       "node-b",
       -1,
       affinity_nodes,
       {On("p-a1", "node-a", foo_z1), On("p-b2", "node-b", foo_z2)},
       {{1, "zone", {{"zone1", 1}, {"zone2", 0}}, 0}}},
      // Not an upstream row: updateWithPod does not skip terminating pods, which PreFilter did
      // not count, so removing one drives its domain below zero, and the minimum with it.
      {"RemoveUncountedTerminatingPod",
       zone_spread,
       PodW("p-a1").Node("node-a").Label("foo", "").Terminating(),
       "node-a",
       -1,
       ax,
       {PodW("p-a1").Node("node-a").Label("foo", "").Terminating(), On("p-x1", "node-x")},
       {{1, "zone", {{"zone1", -1}, {"zone2", 1}}, -1}}},
  };
}

// After the removal above, upstream's Filter reads minMatchNum -1: zone2 (1 + 1 + 1 > 1) fails.
TEST(PodTopologySpreadFilterTest, NegativeDomainCountAfterRemovePod) {
  const Pod pod = PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, kFoo);
  const Pod terminating = PodW("p-a1").Node("node-a").Label("foo", "").Terminating();
  auto state = BuildState({ZN("zone1", "node-a"), ZN("zone2", "node-x")},
                          {terminating, On("p-x1", "node-x")});
  PodTopologySpreadPreFilterState s = PodTopologySpreadPreFilter(pod, *state, ListArgs());
  ASSERT_FALSE(s.skip);
  const uint32_t a = NodeIndex(*state, "node-a");
  const uint32_t x = NodeIndex(*state, "node-x");
  EXPECT_EQ(PodTopologySpreadFilter(s, *state, a).code, kOk);
  EXPECT_EQ(PodTopologySpreadFilter(s, *state, x).code, kUnsched);
  PodTopologySpreadUpdateWithPod(s, *state, terminating, a, -1);
  EXPECT_EQ(PodTopologySpreadFilter(s, *state, a).code, kOk);  // -1 + 1 + 1 = 1
  EXPECT_EQ(PodTopologySpreadFilter(s, *state, x).code, kUnsched);
  PodTopologySpreadUpdateWithPod(s, *state, On("p-x1", "node-x"), x, -1);
  // zone1 -1, zone2 0: zone2 reads 0 + 1 + 1 = 2 > 1.
  EXPECT_EQ(PodTopologySpreadFilter(s, *state, x).code, kUnsched);
}

INSTANTIATE_TEST_SUITE_P(PreFilterStateAddRemovePod, PodTopologySpreadUpdateTest,
                         ::testing::ValuesIn(UpdateCases()),
                         [](const auto& info) { return info.param.name; });

// ---- Filter ----

struct FilterCase {
  std::string name;
  Pod pod;
  std::vector<Node> nodes;
  std::vector<Pod> pods;
  std::vector<FilterCode> want;  // per node
};

void PrintTo(const FilterCase& c, std::ostream* os) { *os << c.name; }

class PodTopologySpreadFilterTest : public ::testing::TestWithParam<FilterCase> {};

TEST_P(PodTopologySpreadFilterTest, MatchesUpstream) {
  const FilterCase& c = GetParam();
  auto state = BuildState(c.nodes, c.pods);
  PodTopologySpreadPreFilterState s = PodTopologySpreadPreFilter(c.pod, *state, ListArgs());
  ASSERT_EQ(c.want.size(), c.nodes.size());
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    PodTopologySpreadFilterResult got =
        PodTopologySpreadFilter(s, *state, NodeIndex(*state, c.nodes[i].name));
    EXPECT_EQ(got.code, c.want[i]) << c.nodes[i].name;
    if (got.code == kUnresolvable) {
      EXPECT_EQ(got.reason, PodTopologySpreadReason::kMissingLabel);
    } else if (got.code == kUnsched) {
      EXPECT_EQ(got.reason, PodTopologySpreadReason::kConstraintsNotMatch);
    }
  }
}

// TestSingleConstraint.
std::vector<FilterCase> SingleConstraintCases() {
  const std::vector<Node> four = FourNodes();
  const std::vector<Pod> spread_2103 = {On("p-a1", "node-a"), On("p-a2", "node-a"),
                                        On("p-b1", "node-b"), On("p-y1", "node-y"),
                                        On("p-y2", "node-y"), On("p-y3", "node-y")};
  const std::vector<Node> abc = {NodeW("node-a").Label("node", "node-a"),
                                 NodeW("node-b").Label("node", "node-b"),
                                 NodeW("node-c").Label("node", "node-c")};
  const std::vector<Pod> spread_221 = {On("p-a1", "node-a"), On("p-a2", "node-a"),
                                       On("p-b1", "node-b"), On("p-b2", "node-b"),
                                       On("p-c1", "node-c")};
  const std::vector<Pod> zone_21 = {On("p-b1", "node-a"), On("p-b2", "node-b"),
                                    On("p-y1", "node-y")};
  const std::vector<Node> foo_nodes = {NodeW("node-a").Label("node", "node-a").Label("foo", ""),
                                       NodeW("node-b").Label("node", "node-b").Label("foo", ""),
                                       NodeW("node-x").Label("node", "node-x").Label("foo", ""),
                                       NodeW("node-y").Label("node", "node-y")};
  const std::vector<Node> taint_nodes = {NodeW("node-a").Label("node", "node-a").Label("foo", ""),
                                         NodeW("node-b").Label("node", "node-b").Label("foo", ""),
                                         NodeW("node-x").Label("node", "node-x").Label("foo", ""),
                                         NodeW("node-y").Label("node", "node-y").Tainted()};
  auto foo_node = [](std::optional<NodeInclusionPolicy> affinity = std::nullopt,
                     std::optional<NodeInclusionPolicy> taints = std::nullopt) {
    return PodW("p").Label("foo", "").Spread(1, "node", kDoNotSchedule, kFoo, std::nullopt,
                                             affinity, taints);
  };
  return {
      {"NoExistingPods",
       PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, kFoo),
       four,
       {},
       {kOk, kOk, kOk, kOk}},
      {"NoExistingPodsPodDoesNotMatchItself",
       PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, kBar),
       four,
       {},
       {kOk, kOk, kOk, kOk}},
      {"PodsInOtherNamespacesDoNotCount",
       PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, kFoo),
       four,
       {PodW("p-a1").Namespace("ns1").Node("node-a").Label("foo", ""),
        PodW("p-b1").Namespace("ns2").Node("node-a").Label("foo", ""), On("p-x1", "node-x"),
        On("p-y1", "node-y")},
       {kOk, kOk, kUnsched, kUnsched}},
      {"NullSelectorMatchesNoPods",
       PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, std::nullopt),
       four,
       {On("p-x1", "node-x"), On("p-y1", "node-y")},
       {kOk, kOk, kOk, kOk}},
      {"ZonesSpread3To3AllFit",
       PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, kFoo),
       four,
       spread_2103,
       {kOk, kOk, kOk, kOk}},
      {"NodeWithoutZoneLabel",
       PodW("p").Label("foo", "").Spread(1, "zone", kDoNotSchedule, kFoo),
       {ZN("zone1", "node-a"), NodeW("node-b").Label("zon", "zone1").Label("node", "node-b"),
        ZN("zone2", "node-x"), ZN("zone2", "node-y")},
       {On("p-a1", "node-a"), On("p-b1", "node-b"), On("p-x1", "node-x"), On("p-y1", "node-y")},
       {kOk, kUnresolvable, kUnsched, kUnsched}},
      {"NoNodeHasTopologyKey",
       PodW("p").Label("foo", "").Spread(1, "rack", kDoNotSchedule, kFoo),
       {ZN("zone1", "node-a"), ZN("zone2", "node-x")},
       {},
       {kUnresolvable, kUnresolvable}},
      {"NodesSpread2103OnlyEmptyFits",
       PodW("p").Label("foo", "").Spread(1, "node", kDoNotSchedule, kFoo),
       four,
       spread_2103,
       {kUnsched, kUnsched, kOk, kUnsched}},
      {"NodesSpread2103MaxSkew2",
       PodW("p").Label("foo", "").Spread(2, "node", kDoNotSchedule, kFoo),
       four,
       spread_2103,
       {kUnsched, kOk, kOk, kUnsched}},
      {"NodesSpread2103PodDoesNotMatchItself",
       PodW("p").Label("bar", "").Spread(1, "node", kDoNotSchedule, kFoo),
       four,
       spread_2103,
       {kUnsched, kOk, kOk, kUnsched}},
      // Only node-a and node-y are domains; node-b and node-x pass this plugin (NodeAffinity
      // would reject them).
      {"NodeAffinityNarrowsDomains",
       PodW("p")
           .Label("foo", "")
           .NodeAffinity("node", SelectorOperator::kIn, {"node-a", "node-y"})
           .Spread(1, "node", kDoNotSchedule, kFoo),
       four,
       spread_2103,
       {kOk, kOk, kOk, kUnsched}},
      {"TerminatingPodsExcluded",
       PodW("p").Label("foo", "").Spread(1, "node", kDoNotSchedule, kFoo),
       {NodeW("node-a").Label("node", "node-a"), NodeW("node-b").Label("node", "node-b")},
       {PodW("p-a").Node("node-a").Label("foo", "").Terminating(), On("p-b", "node-b")},
       {kOk, kUnsched}},
      {"NodeAffinityNotInNarrowsZone",
       PodW("p")
           .Label("foo", "")
           .NodeAffinity("node", SelectorOperator::kNotIn, {"node-b"})
           .Spread(1, "zone", kDoNotSchedule, kFoo),
       four,
       {On("p-b1", "node-b"), On("p-b2", "node-b"), On("p-y1", "node-y")},
       {kOk, kOk, kUnsched, kUnsched}},
      {"MinDomainsAboveDomainCountNodes",
       PodW("p").Label("foo", "").Spread(2, "node", kDoNotSchedule, kFoo, 4),
       abc,
       spread_221,
       {kUnsched, kUnsched, kOk}},
      {"MinDomainsBelowDomainCountNodes",
       PodW("p").Label("foo", "").Spread(2, "node", kDoNotSchedule, kFoo, 2),
       abc,
       spread_221,
       {kOk, kOk, kOk}},
      {"MinDomainsAboveDomainCountZones",
       PodW("p").Label("foo", "").Spread(2, "zone", kDoNotSchedule, kFoo, 3),
       four,
       zone_21,
       {kUnsched, kUnsched, kOk, kOk}},
      {"MinDomainsBelowDomainCountZones",
       PodW("p").Label("foo", "").Spread(2, "zone", kDoNotSchedule, kFoo, 1),
       four,
       zone_21,
       {kOk, kOk, kOk, kOk}},
      {"NodeAffinityPolicyHonoredNodeSelector",
       foo_node().NodeSelector("foo", ""),
       foo_nodes,
       zone_21,
       {kUnsched, kUnsched, kOk, kOk}},
      {"NodeAffinityPolicyIgnoredNodeSelector",
       foo_node(kIgnore).NodeSelector("foo", ""),
       foo_nodes,
       zone_21,
       {kUnsched, kUnsched, kOk, kUnsched}},
      {"NodeAffinityPolicyHonoredNodeAffinity",
       foo_node().NodeAffinity("foo", SelectorOperator::kIn, {""}),
       foo_nodes,
       zone_21,
       {kUnsched, kUnsched, kOk, kOk}},
      {"NodeAffinityPolicyIgnoredNodeAffinity",
       foo_node(kIgnore).NodeAffinity("foo", SelectorOperator::kIn, {""}),
       foo_nodes,
       zone_21,
       {kUnsched, kUnsched, kOk, kUnsched}},
      {"NodeTaintsPolicyHonored",
       foo_node(std::nullopt, kHonor),
       taint_nodes,
       zone_21,
       {kUnsched, kUnsched, kOk, kOk}},
      {"NodeTaintsPolicyIgnored",
       foo_node(),
       taint_nodes,
       zone_21,
       {kUnsched, kUnsched, kOk, kUnsched}},
  };
}

INSTANTIATE_TEST_SUITE_P(SingleConstraint, PodTopologySpreadFilterTest,
                         ::testing::ValuesIn(SingleConstraintCases()),
                         [](const auto& info) { return info.param.name; });

// TestMultipleConstraints.
std::vector<FilterCase> MultipleConstraintsCases() {
  const std::vector<Node> four = FourNodes();
  const Pod zone_node = PodW("p")
                            .Label("foo", "")
                            .Spread(1, "zone", kDoNotSchedule, kFoo)
                            .Spread(1, "node", kDoNotSchedule, kFoo);
  const Pod zone_foo_node_bar = PodW("p")
                                    .Label("foo", "")
                                    .Label("bar", "")
                                    .Spread(1, "zone", kDoNotSchedule, kFoo)
                                    .Spread(1, "node", kDoNotSchedule, kBar);
  const std::vector<Pod> spread_2103 = {On("p-a1", "node-a"), On("p-a2", "node-a"),
                                        On("p-b1", "node-b"), On("p-y1", "node-y"),
                                        On("p-y2", "node-y"), On("p-y3", "node-y")};
  std::vector<Pod> spread_2104 = spread_2103;
  spread_2104.push_back(On("p-y4", "node-y"));
  const Labels foo_bar = {{"foo", ""}, {"bar", ""}};
  const Labels bar = {{"bar", ""}};
  auto zn_foo = [](std::string zone, std::string name) {
    return NodeW(name).Label("zone", std::move(zone)).Label("node", name).Label("foo", "");
  };
  const std::vector<Pod> abx_y = {On("p-a1", "node-a"), On("p-b1", "node-b"), On("p-y1", "node-y")};
  const std::vector<Pod> zone_pods = {On("p-a1", "node-a", foo_bar), On("p-a2", "node-a"),
                                      On("p-b1", "node-b", foo_bar), On("p-y1", "node-y"),
                                      On("p-y2", "node-y", foo_bar), On("p-y3", "node-y")};
  std::vector<Pod> zone_pods_more = zone_pods;
  zone_pods_more.push_back(On("p-y4", "node-y"));
  const Pod two_zone = PodW("p")
                           .Label("foo", "")
                           .Label("bar", "")
                           .Spread(1, "zone", kDoNotSchedule, kBar)
                           .Spread(1, "zone", kDoNotSchedule, kFoo);
  return {
      {"ZoneAndNode33And2103", zone_node, four, spread_2103, {kUnsched, kUnsched, kOk, kUnsched}},
      {"ZoneAndNode34And2104",
       zone_node,
       four,
       spread_2104,
       {kUnsched, kUnsched, kUnsched, kUnsched}},
      {"DifferentSelectors10And1001",
       zone_foo_node_bar,
       four,
       {On("p-a1", "node-a"), On("p-y1", "node-y", bar)},
       {kUnsched, kUnsched, kOk, kUnsched}},
      {"DifferentSelectors10And0011",
       zone_foo_node_bar,
       four,
       {On("p-a1", "node-a"), On("p-x1", "node-x", bar), On("p-y1", "node-y", bar)},
       {kUnsched, kUnsched, kUnsched, kUnsched}},
      {"DifferentSelectors23And1001",
       zone_foo_node_bar,
       four,
       {On("p-a1", "node-a"), On("p-a2", "node-a", foo_bar), On("p-y1", "node-y"),
        On("p-y2", "node-y", foo_bar), On("p-y3", "node-y")},
       {kUnsched, kOk, kUnsched, kUnsched}},
      {"DifferentSelectorsPodDoesNotMatchZone",
       PodW("p")
           .Label("bar", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo)
           .Spread(1, "node", kDoNotSchedule, kBar),
       four,
       {On("p-a1", "node-a"), On("p-x1", "node-x", bar), On("p-y1", "node-y", bar)},
       {kOk, kOk, kUnsched, kUnsched}},
      {"NodeXWithoutNodeLabel",
       zone_node,
       {ZN("zone1", "node-a"), ZN("zone1", "node-b"), NodeW("node-x").Label("zone", "zone2"),
        ZN("zone2", "node-y")},
       {On("p-a1", "node-a"), On("p-y3", "node-y")},
       {kUnsched, kOk, kUnresolvable, kUnsched}},
      {"InclusionZoneHonorIgnoreNodeIgnoreIgnore",
       PodW("p")
           .Label("foo", "")
           .NodeSelector("foo", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo)
           .Spread(1, "node", kDoNotSchedule, kFoo, std::nullopt, kIgnore),
       {zn_foo("zone1", "node-a"), zn_foo("zone1", "node-b"), zn_foo("zone2", "node-x"),
        ZN("zone2", "node-y")},
       abx_y,
       {kUnsched, kUnsched, kOk, kUnsched}},
      {"InclusionZoneHonorHonorNodeHonorIgnore",
       PodW("p")
           .Label("foo", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo, std::nullopt, std::nullopt, kHonor)
           .Spread(1, "node", kDoNotSchedule, kFoo),
       {zn_foo("zone1", "node-a"), zn_foo("zone1", "node-b"), zn_foo("zone2", "node-x"),
        NodeW("node-y").Label("zone", "zone2").Label("node", "node-y").Tainted()},
       abx_y,
       {kUnsched, kUnsched, kOk, kUnsched}},
      {"InclusionZoneHonorIgnoreNodeHonorIgnore",
       PodW("p")
           .Label("foo", "")
           .NodeSelector("foo", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo)
           .Spread(1, "node", kDoNotSchedule, kFoo),
       {zn_foo("zone1", "node-a"), ZN("zone1", "node-b"), zn_foo("zone2", "node-x"),
        NodeW("node-y").Label("zone", "zone2").Label("node", "node-y").Label("foo", "").Tainted()},
       abx_y,
       {kUnsched, kOk, kOk, kUnsched}},
      {"InclusionZoneHonorHonorNodeIgnoreIgnore",
       PodW("p")
           .Label("foo", "")
           .NodeSelector("foo", "")
           .Spread(1, "zone", kDoNotSchedule, kFoo, std::nullopt, std::nullopt, kHonor)
           .Spread(1, "node", kDoNotSchedule, kFoo, std::nullopt, kIgnore),
       {zn_foo("zone1", "node-a"), ZN("zone1", "node-b"), zn_foo("zone2", "node-x"),
        NodeW("node-y").Label("zone", "zone2").Label("node", "node-y").Label("foo", "").Tainted()},
       abx_y,
       {kUnsched, kUnsched, kOk, kUnsched}},
      {"TwoZoneConstraints33And21", two_zone, four, zone_pods, {kUnsched, kUnsched, kOk, kOk}},
      {"TwoZoneConstraints34And21",
       two_zone,
       four,
       zone_pods_more,
       {kUnsched, kUnsched, kUnsched, kUnsched}},
  };
}

INSTANTIATE_TEST_SUITE_P(MultipleConstraints, PodTopologySpreadFilterTest,
                         ::testing::ValuesIn(MultipleConstraintsCases()),
                         [](const auto& info) { return info.param.name; });

// ---- Score ----

struct ScoreCase {
  std::string name;
  Pod pod;
  std::vector<Pod> pods;
  std::vector<Node> nodes;         // candidates: passed Filter, scored
  std::vector<Node> failed = {};   // in the snapshot, not candidates
  std::vector<int64_t> want = {};  // normalised, per candidate
};

void PrintTo(const ScoreCase& c, std::ostream* os) { *os << c.name; }

class PodTopologySpreadScoreTest : public ::testing::TestWithParam<ScoreCase> {};

// PreScore over the candidates, Score each, then NormalizeScore as upstream: ignored nodes 0,
// the others by the lowest and highest (starting at 0) raw scores.
TEST_P(PodTopologySpreadScoreTest, MatchesUpstream) {
  const ScoreCase& c = GetParam();
  std::vector<Node> all = c.nodes;
  all.insert(all.end(), c.failed.begin(), c.failed.end());
  auto state = BuildState(all, c.pods);
  std::vector<uint32_t> feasible;
  for (const Node& n : c.nodes) feasible.push_back(NodeIndex(*state, n.name));
  // The upstream test profile: defaultingType System.
  PodTopologySpreadPreScoreState pre =
      PodTopologySpreadPreScore(c.pod, *state, PodTopologySpreadArgs{}, feasible);
  ASSERT_FALSE(pre.skip);
  std::vector<int64_t> raw;
  std::vector<bool> ignored;
  int64_t lo = INT64_MAX;
  int64_t hi = 0;
  for (uint32_t node : feasible) {
    bool ign = false;
    raw.push_back(PodTopologySpreadScore(pre, *state, node, &ign));
    ignored.push_back(ign);
    if (ign) continue;
    lo = std::min(lo, raw.back());
    hi = std::max(hi, raw.back());
  }
  std::vector<int64_t> got;
  for (size_t i = 0; i < raw.size(); ++i) {
    got.push_back(ignored[i] ? 0 : PodTopologySpreadNormalize(raw[i], lo, hi));
  }
  EXPECT_EQ(got, c.want);
}

Node HN(std::string name) { return NodeW(name).Label(kLabelHostname, name); }
Node ZHN(std::string zone, std::string name) {
  return NodeW(name).Label("zone", std::move(zone)).Label(kLabelHostname, name);
}

// TestPodTopologySpreadScore.
std::vector<ScoreCase> ScoreCases() {
  const std::string host = kLabelHostname;
  auto one = [&](int32_t skew, std::optional<LabelSelector> sel = kFoo) {
    return PodW("p").Label("foo", "").Spread(skew, host, kScheduleAnyway, std::move(sel));
  };
  const std::vector<Node> abcd = {HN("node-a"), HN("node-b"), HN("node-c"), HN("node-d")};
  const std::vector<Pod> spread_2103 = {On("p-a1", "node-a"), On("p-a2", "node-a"),
                                        On("p-b1", "node-b"), On("p-d1", "node-d"),
                                        On("p-d2", "node-d"), On("p-d3", "node-d")};
  const std::vector<Pod> spread_4321 = {
      On("p-a1", "node-a"), On("p-a2", "node-a"), On("p-a3", "node-a"), On("p-a4", "node-a"),
      On("p-b1", "node-b"), On("p-b2", "node-b"), On("p-b3", "node-b"), On("p-c1", "node-c"),
      On("p-c2", "node-c"), On("p-d1", "node-d")};
  const std::vector<Pod> spread_4213 = {
      On("p-a1", "node-a"), On("p-a2", "node-a"), On("p-a3", "node-a"), On("p-a4", "node-a"),
      On("p-b1", "node-b"), On("p-b2", "node-b"), On("p-x1", "node-x"), On("p-y1", "node-y"),
      On("p-y2", "node-y"), On("p-y3", "node-y")};
  const Labels foo_bar = {{"foo", ""}, {"bar", ""}};
  const Labels bar = {{"bar", ""}};
  const Pod zone_foo_host_bar = PodW("p")
                                    .Label("foo", "")
                                    .Label("bar", "")
                                    .Spread(1, "zone", kScheduleAnyway, kFoo)
                                    .Spread(1, host, kScheduleAnyway, kBar);
  const std::vector<Pod> diff_selectors = {On("p-a1", "node-a"), On("p-b1", "node-b", foo_bar),
                                           On("p-y1", "node-y"), On("p-y2", "node-y", bar)};
  const std::vector<Node> zone_hosts = {ZHN("zone1", "node-a"), ZHN("zone1", "node-b"),
                                        ZHN("zone2", "node-x"), ZHN("zone2", "node-y")};
  const std::vector<Node> node_abc = {NodeW("node-a").Label("node", "node-a"),
                                      NodeW("node-b").Label("node", "node-b"),
                                      NodeW("node-c").Label("node", "node-c")};
  const std::vector<Node> foo_abc = {NodeW("node-a").Label("node", "node-a").Label("foo", ""),
                                     NodeW("node-b").Label("node", "node-b").Label("foo", ""),
                                     NodeW("node-c").Label("node", "node-c")};
  const std::vector<Node> taint_abc = {NodeW("node-a").Label("node", "node-a"),
                                       NodeW("node-b").Label("node", "node-b"),
                                       NodeW("node-c").Label("node", "node-c").Tainted()};
  const std::vector<Pod> abc_pods = {On("p-a1", "node-a"), On("p-a2", "node-a"),
                                     On("p-b1", "node-b"), On("p-c1", "node-c")};
  auto node_spread = [](std::optional<NodeInclusionPolicy> affinity = std::nullopt,
                        std::optional<NodeInclusionPolicy> taints = std::nullopt) {
    return PodW("p").Label("foo", "").Spread(1, "node", kScheduleAnyway, kFoo, std::nullopt,
                                             affinity, taints);
  };
  const std::vector<Node> zone_hosts_cd = {ZHN("zone1", "node-a"), ZHN("zone1", "node-b"),
                                           ZHN("zone2", "node-c"), ZHN("zone2", "node-d")};
  return {
      {"NodeNoExistingPods", one(1), {}, {HN("node-a"), HN("node-b")}, {}, {100, 100}},
      {"NodeOnlyOneCandidate",
       one(1),
       {On("p-a1", "node-a"), On("p-a2", "node-a"), On("p-b1", "node-b")},
       {HN("node-a")},
       {HN("node-b")},
       {100}},
      {"NodeSameMatchingPods",
       one(1),
       {On("p-a1", "node-a"), On("p-b1", "node-b")},
       {HN("node-a"), HN("node-b")},
       {},
       {100, 100}},
      {"NodeSpread2103", one(1), spread_2103, abcd, {}, {20, 60, 100, 0}},
      {"NodeNullSelector", one(1, std::nullopt), spread_2103, abcd, {}, {100, 100, 100, 100}},
      {"NodeSpread2103MaxSkew2", one(2), spread_2103, abcd, {}, {33, 66, 100, 16}},
      {"NodeSpread4321MaxSkew3", one(3), spread_4321, abcd, {}, {44, 66, 77, 100}},
      // System defaulting with a Service selecting foo="": the zone constraint's key is on no
      // node, which system defaults do not require.
      {"SystemDefaultingServiceSelector",
       PodW("p").Label("foo", "").DefaultSelector(MatchLabels({{"foo", ""}})),
       spread_4321,
       abcd,
       {},
       {44, 66, 77, 100}},
      {"NodeThreeOfFourCandidates",
       one(1),
       spread_4213,
       {HN("node-a"), HN("node-b"), HN("node-x")},
       {HN("node-y")},
       {33, 83, 100}},
      {"NodeCandidateWithoutTopologyKey",
       one(1),
       spread_4213,
       {HN("node-a"), NodeW("node-b").Label("n", "node-b"), HN("node-x")},
       {HN("node-y")},
       {16, 0, 100}},
      {"ZoneThreeOfFourCandidates",
       PodW("p").Label("foo", "").Spread(1, "zone", kScheduleAnyway, kFoo),
       spread_4213,
       {ZHN("zone1", "node-a"), ZHN("zone1", "node-b"), ZHN("zone2", "node-x")},
       {ZHN("zone2", "node-y")},
       {75, 75, 100}},
      {"ZoneAndNodeTwoOfFourCandidates",
       PodW("p")
           .Label("foo", "")
           .Spread(1, "zone", kScheduleAnyway, kFoo)
           .Spread(1, host, kScheduleAnyway, kFoo),
       {On("p-a1", "node-a"), On("p-a2", "node-a"), On("p-b1", "node-b"), On("p-x1", "node-x"),
        On("p-x2", "node-x"), On("p-y1", "node-y"), On("p-y2", "node-y"), On("p-y3", "node-y"),
        On("p-y4", "node-y")},
       {ZHN("zone1", "node-a"), ZHN("zone2", "node-x")},
       {ZHN("zone1", "node-b"), ZHN("zone2", "node-y")},
       {100, 63}},
      {"TwoZoneConstraintsTwoOfFourCandidates",
       PodW("p")
           .Label("foo", "")
           .Label("bar", "")
           .Spread(1, "zone", kScheduleAnyway, kFoo)
           .Spread(1, "zone", kScheduleAnyway, kBar),
       {On("p-a1", "node-a", foo_bar), On("p-a2", "node-a"), On("p-b1", "node-b", foo_bar),
        On("p-y1", "node-y"), On("p-y2", "node-y", foo_bar), On("p-y3", "node-y")},
       {NodeW("node-a").Label("zone", "zone1"), NodeW("node-x").Label("zone", "zone2")},
       {NodeW("node-b").Label("zone", "zone1"), NodeW("node-y").Label("zone", "zone2")},
       {85, 100}},
      {"ZoneAndNodeDifferentSelectors",
       zone_foo_host_bar,
       diff_selectors,
       zone_hosts,
       {},
       {60, 20, 100, 60}},
      {"ZoneAndNodeDifferentSelectorsSomeEmpty",
       zone_foo_host_bar,
       {On("p-b1", "node-b", bar), On("p-x1", "node-x"), On("p-y1", "node-y", foo_bar)},
       zone_hosts,
       {},
       {100, 60, 40, 0}},
      {"ZoneAndNodeDifferentSelectorsThreeOfFour",
       zone_foo_host_bar,
       diff_selectors,
       {ZHN("zone1", "node-a"), ZHN("zone1", "node-b"), ZHN("zone2", "node-x")},
       {ZHN("zone2", "node-y")},
       {50, 25, 100}},
      {"PodsInOtherNamespacesDoNotCount",
       one(1),
       {PodW("p-a1").Namespace("ns1").Node("node-a").Label("foo", ""), On("p-a2", "node-a"),
        On("p-b1", "node-b"), On("p-b2", "node-b")},
       {HN("node-a"), HN("node-b")},
       {},
       {100, 33}},
      {"TerminatingPodsExcluded",
       one(1),
       {PodW("p-a").Node("node-a").Label("foo", "").Terminating(), On("p-b", "node-b")},
       {HN("node-a"), HN("node-b")},
       {},
       {100, 0}},
      {"MinDomainsIgnoredWhenScheduleAnyway",
       PodW("p").Label("foo", "").Spread(2, "node", kScheduleAnyway, kFoo, 10),
       {On("p-a1", "node-a"), On("p-a2", "node-a"), On("p-b1", "node-b"), On("p-b2", "node-b"),
        On("p-c1", "node-c")},
       node_abc,
       {},
       {75, 75, 100}},
      {"NodeAffinityPolicyHonoredNodeSelector",
       node_spread().NodeSelector("foo", ""),
       abc_pods,
       foo_abc,
       {},
       {0, 33, 100}},
      {"NodeAffinityPolicyIgnoredNodeSelector",
       node_spread(kIgnore).NodeSelector("foo", ""),
       abc_pods,
       foo_abc,
       {},
       {66, 100, 100}},
      {"NodeAffinityPolicyHonoredNodeAffinity",
       node_spread().NodeAffinity("foo", SelectorOperator::kIn, {""}),
       abc_pods,
       foo_abc,
       {},
       {0, 33, 100}},
      {"NodeAffinityPolicyIgnoredNodeAffinity",
       node_spread(kIgnore).NodeAffinity("foo", SelectorOperator::kIn, {""}),
       abc_pods,
       foo_abc,
       {},
       {66, 100, 100}},
      {"NodeTaintsPolicyHonored",
       node_spread(std::nullopt, kHonor),
       abc_pods,
       taint_abc,
       {},
       {0, 33, 100}},
      {"NodeTaintsPolicyIgnored", node_spread(), abc_pods, taint_abc, {}, {66, 100, 100}},
      {"MatchLabelKeysAndedWithEmptySelector",
       PodW("p")
           .Label("foo", "")
           .Label("bar", "")
           .Spread(1, "zone", kScheduleAnyway, LabelSelector{}, std::nullopt, std::nullopt,
                   std::nullopt, {"foo"})
           .Spread(1, host, kScheduleAnyway, LabelSelector{}, std::nullopt, std::nullopt,
                   std::nullopt, {"bar"}),
       {On("p-a1", "node-a"), On("p-b1", "node-b", foo_bar), On("p-y1", "node-c"),
        On("p-y2", "node-c", bar)},
       zone_hosts_cd,
       {},
       {60, 20, 60, 100}},
      {"MatchLabelKeysAndedWithSelector",
       PodW("p")
           .Label("foo", "")
           .Label("bar", "")
           .Label("baz", "")
           .Spread(1, "zone", kScheduleAnyway, kFoo)
           .Spread(1, host, kScheduleAnyway, kBar, std::nullopt, std::nullopt, std::nullopt,
                   {"baz"}),
       {On("p-a1", "node-a"), On("p-b1", "node-b", {{"foo", ""}, {"bar", ""}, {"baz", ""}}),
        On("p-c1", "node-c"), On("p-c2", "node-c", bar),
        On("p-d3", "node-c", {{"bar", ""}, {"baz", ""}})},
       zone_hosts_cd,
       {},
       {60, 20, 60, 100}},
  };
}

INSTANTIATE_TEST_SUITE_P(PodTopologySpreadScore, PodTopologySpreadScoreTest,
                         ::testing::ValuesIn(ScoreCases()),
                         [](const auto& info) { return info.param.name; });

// ---- PreScore state (TestPreScoreStateEmptyNodes, TestPreScoreSkip) ----

struct WantScoreConstraint {
  int32_t max_skew;
  std::string key;
  std::map<std::string, int64_t> counts;  // empty for hostname (counted per node in Score)
  int64_t weight_size;                    // topologyNormalizingWeight(size)
};

struct PreScoreCase {
  std::string name;
  Pod pod;
  std::vector<Node> nodes;
  PodTopologySpreadArgs args;
  bool want_skip = false;
  std::vector<WantScoreConstraint> want = {};
  std::vector<std::string> want_ignored = {};
};

void PrintTo(const PreScoreCase& c, std::ostream* os) { *os << c.name; }

class PodTopologySpreadPreScoreTest : public ::testing::TestWithParam<PreScoreCase> {};

TEST_P(PodTopologySpreadPreScoreTest, MatchesUpstream) {
  const PreScoreCase& c = GetParam();
  auto state = BuildState(c.nodes, {});
  std::vector<uint32_t> feasible;
  for (const Node& n : c.nodes) feasible.push_back(NodeIndex(*state, n.name));
  PodTopologySpreadPreScoreState pre = PodTopologySpreadPreScore(c.pod, *state, c.args, feasible);
  ASSERT_EQ(pre.skip, c.want_skip);
  if (pre.skip) return;
  ASSERT_EQ(pre.constraints.size(), c.want.size());
  for (size_t i = 0; i < c.want.size(); ++i) {
    SCOPED_TRACE("constraint " + std::to_string(i));
    const SpreadConstraint& sc = pre.constraints[i];
    EXPECT_EQ(sc.max_skew, c.want[i].max_skew);
    EXPECT_EQ(sc.topology_key, c.want[i].key);
    // Domain ids past the key's values stand for "" (nodes without the key).
    const int32_t values =
        sc.key == NodeLabelIndex::kAbsent ? 0 : state->node_labels().value_count(sc.key);
    std::map<std::string, int64_t> counts;
    for (size_t v = 0; v < pre.counts[i].size(); ++v) {
      if (pre.counts[i][v] < 0) continue;
      std::string name = static_cast<int32_t>(v) < values
                             ? state->node_labels().value_name(sc.key, static_cast<int32_t>(v))
                             : "";
      counts[name] = pre.counts[i][v];
    }
    EXPECT_EQ(counts, c.want[i].counts);
    EXPECT_DOUBLE_EQ(pre.weights[i], std::log(static_cast<double>(c.want[i].weight_size + 2)));
  }
  std::vector<std::string> ignored;
  for (const Node& n : c.nodes) {
    if (pre.ignored[NodeIndex(*state, n.name)]) ignored.push_back(n.name);
  }
  EXPECT_EQ(ignored, c.want_ignored);
}

std::vector<PreScoreCase> PreScoreCases() {
  const std::string host = kLabelHostname;
  const std::string zone = kLabelTopologyZone;
  const std::vector<Node> abx = {ZHN("zone1", "node-a"), ZHN("zone1", "node-b"),
                                 ZHN("zone2", "node-x")};
  const std::vector<Node> foo_abx = {
      NodeW("node-a").Label("zone", "zone1").Label("foo", "").Label(host, "node-a"),
      NodeW("node-b").Label("zone", "zone1").Label("foo", "").Label(host, "node-b"),
      NodeW("node-x").Label("zone", "zone2").Label(host, "node-x")};
  const std::vector<Node> taint_abx = {
      NodeW("node-a").Label("zone", "zone1").Label("foo", "").Label(host, "node-a"),
      NodeW("node-b").Label("zone", "zone1").Label("foo", "").Label(host, "node-b"),
      NodeW("node-x").Label("zone", "zone2").Label(host, "node-x").Tainted()};
  const std::map<std::string, int64_t> z12 = {{"zone1", 0}, {"zone2", 0}};
  auto bar_zone = [](std::optional<NodeInclusionPolicy> affinity = std::nullopt,
                     std::optional<NodeInclusionPolicy> taints = std::nullopt) {
    return PodW("p").Label("foo", "").Spread(1, "zone", kScheduleAnyway, kBar, std::nullopt,
                                             affinity, taints);
  };
  return {
      // TestPreScoreSkip.
      {"SkipWithoutSoftConstraints",
       PodW("p").Namespace("default"),
       {HN("node-a"), HN("node-b")},
       ListArgs(),
       true},
      // A ReplicaSet whose selector does not match: helper.DefaultSelector is empty.
      {"SkipDefaultConstraintsSelectorEmpty",
       PodW("p")
           .Namespace("default")
           .Label("foo", "bar")
           .Label("baz", "sup")
           .DefaultSelector(LabelSelector{}),
       {NodeW("node-a").Label("planet", "mars")},
       ListArgs({Default(2, "planet", kScheduleAnyway)}),
       true},
      // TestPreScoreStateEmptyNodes.
      {"NormalCase",
       PodW("p")
           .Label("foo", "")
           .Spread(1, "zone", kScheduleAnyway, kFoo)
           .Spread(1, host, kScheduleAnyway, kFoo),
       abx,
       ListArgs(),
       false,
       {{1, "zone", z12, 2}, {1, host, {}, 3}}},
      {"NullSelector",
       PodW("p").Label("foo", "").Spread(1, "zone", kScheduleAnyway, std::nullopt),
       abx,
       ListArgs(),
       false,
       {{1, "zone", z12, 2}}},
      {"NodeWithoutZoneIgnored",
       PodW("p")
           .Label("foo", "")
           .Spread(1, "zone", kScheduleAnyway, kFoo)
           .Spread(1, host, kScheduleAnyway, kBar),
       {ZHN("zone1", "node-a"), ZHN("zone1", "node-b"), HN("node-x")},
       ListArgs(),
       false,
       {{1, "zone", {{"zone1", 0}}, 1}, {1, host, {}, 2}},
       {"node-x"}},
      // A ReplicaSet selecting foo: the system defaults count with that selector, and nodes
      // without a zone form the "" zone.
      {"SystemDefaultConstraintsAndReplicaSet",
       PodW("p").Namespace("default").Label("foo", "tar").Label("baz", "sup").DefaultSelector(kFoo),
       {NodeW("node-a").Label(host, "node-a").Label(zone, "mars"),
        NodeW("node-b").Label(host, "node-b").Label(zone, "mars"), HN("node-c"), HN("node-d")},
       PodTopologySpreadArgs{},
       false,
       {{3, host, {}, 4}, {5, zone, {{"mars", 0}, {"", 0}}, 2}}},
      {"DefaultConstraintsAndReplicaSet",
       PodW("p").Namespace("default").Label("foo", "tar").Label("baz", "sup").DefaultSelector(kFoo),
       {NodeW("node-a").Label("rack", "rack1").Label(host, "node-a").Label("planet", "mars")},
       ListArgs({Default(1, host, kScheduleAnyway), Default(2, "rack", kDoNotSchedule),
                 Default(2, "planet", kScheduleAnyway)}),
       false,
       {{1, host, {}, 1}, {2, "planet", {{"mars", 0}}, 1}}},
      {"DefaultConstraintsButPodHasConstraints",
       PodW("p")
           .Namespace("default")
           .Label("foo", "bar")
           .Label("baz", "sup")
           .Spread(1, "zone", kDoNotSchedule, kBar)
           .Spread(2, "planet", kScheduleAnyway, MatchLabels({{"baz", "sup"}}))
           .DefaultSelector(kFoo),
       {NodeW("node-a").Label("planet", "mars").Label("galaxy", "andromeda")},
       ListArgs({Default(2, "galaxy", kScheduleAnyway)}),
       false,
       {{2, "planet", {{"mars", 0}}, 1}}},
      {"NodeAffinityPolicyHonoredNodeSelector",
       bar_zone().NodeSelector("foo", ""),
       foo_abx,
       ListArgs(),
       false,
       {{1, "zone", z12, 2}}},
      {"NodeAffinityPolicyIgnoredNodeSelector",
       bar_zone(kIgnore).NodeSelector("foo", ""),
       foo_abx,
       ListArgs(),
       false,
       {{1, "zone", z12, 2}}},
      {"NodeAffinityPolicyHonoredNodeAffinity",
       bar_zone().NodeAffinity("foo", SelectorOperator::kIn, {""}),
       foo_abx,
       ListArgs(),
       false,
       {{1, "zone", z12, 2}}},
      {"NodeAffinityPolicyIgnoredNodeAffinity",
       bar_zone(kIgnore).NodeAffinity("foo", SelectorOperator::kIn, {""}),
       foo_abx,
       ListArgs(),
       false,
       {{1, "zone", z12, 2}}},
      {"NodeTaintsPolicyHonored",
       bar_zone(std::nullopt, kHonor),
       taint_abx,
       ListArgs(),
       false,
       {{1, "zone", z12, 2}}},
      {"NodeTaintsPolicyIgnored", bar_zone(), taint_abx, ListArgs(), false, {{1, "zone", z12, 2}}},
  };
}

INSTANTIATE_TEST_SUITE_P(PreScoreState, PodTopologySpreadPreScoreTest,
                         ::testing::ValuesIn(PreScoreCases()),
                         [](const auto& info) { return info.param.name; });

// TestPreFilterDisabled has no equivalent: the engine's Filter takes the PreFilter state by
// value, so it cannot run without one.

}  // namespace
}  // namespace sextant
