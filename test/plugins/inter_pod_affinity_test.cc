// Cases ported from pkg/scheduler/framework/plugins/interpodaffinity (v1.37.2):
// filtering_test.go (TestRequiredAffinitySingleNode, TestRequiredAffinityMultipleNodes,
// TestPreFilterStateAddRemovePod, TestGetTPMapMatchingIncomingAffinityAntiAffinity,
// TestRemovePodHostScopedAffinityCount, TestMultipleAffinityTermsRequireSingleMatchingPod,
// TestFastTrackInterPodAffinity) and scoring_test.go (TestPreferredAffinity,
// TestPreferredAffinityWithHardPodAffinitySymmetricWeight).
// Upstream runs each row with InterPodAffinityHostnameFastPath on and off and expects the same
// result; the engine implements the gate's default (off), so each row runs once. Upstream's
// namespace lister (fake informers over Namespace objects) is ClusterState::UpsertNamespace here,
// and pods without a name get one, since ClusterState keys pods by namespace/name.
#include "plugins/inter_pod_affinity.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sextant/evaluate.h"
#include "state/indexes.h"
#include "testing/builders.h"

namespace sextant {
namespace {

using testutil::NodeBuilder;

constexpr char kHostname[] = "kubernetes.io/hostname";

// ---- builders for pod (anti-)affinity, as upstream's st.MakePod() wrappers ----

LabelSelector SelectorOf(std::vector<SelectorRequirement> expressions) {
  LabelSelector s;
  s.match_expressions = std::move(expressions);
  return s;
}
SelectorRequirement In(std::string key, std::vector<std::string> values) {
  return {std::move(key), SelectorOperator::kIn, std::move(values)};
}
SelectorRequirement NotIn(std::string key, std::vector<std::string> values) {
  return {std::move(key), SelectorOperator::kNotIn, std::move(values)};
}
SelectorRequirement Exists(std::string key) {
  return {std::move(key), SelectorOperator::kExists, {}};
}
SelectorRequirement DoesNotExist(std::string key) {
  return {std::move(key), SelectorOperator::kDoesNotExist, {}};
}

PodAffinityTerm TermOf(std::vector<SelectorRequirement> expressions, std::string topology_key,
                       std::vector<std::string> namespaces = {},
                       std::optional<LabelSelector> namespace_selector = std::nullopt) {
  PodAffinityTerm t;
  t.label_selector = SelectorOf(std::move(expressions));
  t.topology_key = std::move(topology_key);
  t.namespaces = std::move(namespaces);
  t.namespace_selector = std::move(namespace_selector);
  return t;
}

WeightedPodAffinityTerm Weighted(int32_t weight, PodAffinityTerm term) {
  return WeightedPodAffinityTerm{weight, std::move(term)};
}

class PodW {
 public:
  PodW() = default;
  PodW& Name(std::string name) {
    pod_.name = std::move(name);
    return *this;
  }
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
  PodW& Labels(const sextant::Labels& labels) {
    for (const auto& [k, v] : labels) pod_.labels[k] = v;
    return *this;
  }
  PodW& SetAffinity(const Affinity& affinity) {
    pod_.affinity = affinity;
    return *this;
  }
  PodW& Required(PodAffinityTerm term) {
    Affinity().pod_affinity->required.push_back(std::move(term));
    return *this;
  }
  PodW& RequiredAnti(PodAffinityTerm term) {
    Affinity().pod_anti_affinity->required.push_back(std::move(term));
    return *this;
  }
  PodW& Preferred(int32_t weight, PodAffinityTerm term) {
    Affinity().pod_affinity->preferred.push_back(Weighted(weight, std::move(term)));
    return *this;
  }
  PodW& PreferredAnti(int32_t weight, PodAffinityTerm term) {
    Affinity().pod_anti_affinity->preferred.push_back(Weighted(weight, std::move(term)));
    return *this;
  }
  // st.PodAffinityIn / NotIn / Exists with PodAffinityWithRequiredReq, and the anti forms.
  PodW& AffinityIn(std::string key, std::string topology, std::vector<std::string> values) {
    return Required(TermOf({In(std::move(key), std::move(values))}, std::move(topology)));
  }
  PodW& AffinityNotIn(std::string key, std::string topology, std::vector<std::string> values) {
    return Required(TermOf({NotIn(std::move(key), std::move(values))}, std::move(topology)));
  }
  PodW& AffinityExists(std::string key, std::string topology) {
    return Required(TermOf({Exists(std::move(key))}, std::move(topology)));
  }
  PodW& AntiIn(std::string key, std::string topology, std::vector<std::string> values) {
    return RequiredAnti(TermOf({In(std::move(key), std::move(values))}, std::move(topology)));
  }
  PodW& AntiNotIn(std::string key, std::string topology, std::vector<std::string> values) {
    return RequiredAnti(TermOf({NotIn(std::move(key), std::move(values))}, std::move(topology)));
  }
  PodW& AntiExists(std::string key, std::string topology) {
    return RequiredAnti(TermOf({Exists(std::move(key))}, std::move(topology)));
  }
  Pod Obj() const { return pod_; }
  operator Pod() const { return pod_; }  // NOLINT: rows read like upstream's literals

 private:
  sextant::Affinity& Affinity() {
    if (!pod_.affinity) pod_.affinity.emplace();
    if (!pod_.affinity->pod_affinity) pod_.affinity->pod_affinity.emplace();
    if (!pod_.affinity->pod_anti_affinity) pod_.affinity->pod_anti_affinity.emplace();
    return *pod_.affinity;
  }
  Pod pod_;
};

Node N(std::string name, Labels labels = {}) {
  return NodeBuilder(std::move(name)).Labels(std::move(labels)).Build();
}

// scoring_test.go's namespaces, also the lister of TestRequiredAffinitySingleNode.
std::vector<Namespace> TeamNamespaces() {
  return {{"subteam1.team1", {{"team", "team1"}}},
          {"subteam2.team1", {{"team", "team1"}}},
          {"subteam1.team2", {{"team", "team2"}}},
          {"subteam2.team2", {{"team", "team2"}}}};
}

// A state holding the namespaces, nodes and pods; unnamed pods are named p<i>.
std::unique_ptr<ClusterState> BuildState(const std::vector<Namespace>& namespaces,
                                         const std::vector<Node>& nodes,
                                         const std::vector<Pod>& pods) {
  auto state = std::make_unique<ClusterState>();
  for (const auto& ns : namespaces) EXPECT_TRUE(state->UpsertNamespace(ns).ok());
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

// ---- Filter ----

struct Want {
  FilterCode code;
  InterPodAffinityReason reason;
};
const Want kOk{FilterCode::kSuccess, InterPodAffinityReason::kAffinity};
const Want kAffinity{FilterCode::kUnschedulableAndUnresolvable, InterPodAffinityReason::kAffinity};
const Want kAnti{FilterCode::kUnschedulable, InterPodAffinityReason::kAntiAffinity};
const Want kExisting{FilterCode::kUnschedulable, InterPodAffinityReason::kExistingAntiAffinity};

struct FilterCase {
  std::string name;
  Pod pod;
  std::vector<Pod> pods;
  std::vector<Node> nodes;
  std::vector<Namespace> namespaces;
  bool want_skip = false;
  std::vector<Want> want;  // per node
};

void PrintTo(const FilterCase& c, std::ostream* os) { *os << c.name; }

class InterPodAffinityFilterTest : public ::testing::TestWithParam<FilterCase> {};

TEST_P(InterPodAffinityFilterTest, MatchesUpstream) {
  const FilterCase& c = GetParam();
  auto state = BuildState(c.namespaces, c.nodes, c.pods);
  InterPodAffinityPreFilterState pre = InterPodAffinityPreFilter(c.pod, *state);
  EXPECT_EQ(pre.skip, c.want_skip);
  ASSERT_EQ(c.want.size(), c.nodes.size());
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    InterPodAffinityFilterResult got =
        InterPodAffinityFilter(pre, *state, NodeIndex(*state, c.nodes[i].name));
    EXPECT_EQ(got.code, c.want[i].code) << c.nodes[i].name;
    if (got.code != FilterCode::kSuccess && c.want[i].code != FilterCode::kSuccess) {
      EXPECT_EQ(got.reason, c.want[i].reason) << c.nodes[i].name;
    }
  }
}

// TestRequiredAffinitySingleNode.
std::vector<FilterCase> SingleNodeCases() {
  const Labels pod_label = {{"service", "securityscan"}};
  const Labels pod_label2 = {{"security", "S1"}};
  const Pod pod = PodW().Labels(pod_label).Node("node1");
  const std::vector<Node> node1 = {N("node1", {{"region", "r1"}, {"zone", "z11"}})};
  const std::vector<Namespace> ns = TeamNamespaces();
  LabelSelector team1 = SelectorOf({In("team", {"team1"})});
  return {
      {"NoAffinityNoPodsSkips", Pod{}, {}, node1, ns, true, {kOk}},
      {"AffinityInMatchesExistingPod",
       PodW().Labels(pod_label2).AffinityIn("service", "region", {"securityscan", "value2"}),
       {pod},
       node1,
       ns,
       false,
       {kOk}},
      {"AffinityNotInMatchesExistingPod",
       PodW().Labels(pod_label2).AffinityNotIn("service", "region", {"securityscan3", "value3"}),
       {pod},
       node1,
       ns,
       false,
       {kOk}},
      {"AffinityTermNamespacesExcludeExistingPod",
       PodW()
           .Labels(pod_label2)
           .Required(TermOf({In("service", {"securityscan", "value2"})}, "", {"DiffNameSpace"})),
       {PodW().Namespace("ns").Label("service", "securityscan").Node("node1")},
       node1,
       ns,
       false,
       {kAffinity}},
      {"AffinitySelectorDoesNotMatchExistingPod",
       PodW().Labels(pod_label).AffinityIn("service", "", {"antivirusscan", "value2"}),
       {pod},
       node1,
       ns,
       false,
       {kAffinity}},
      {"AffinityTermsWithDifferentOperatorsMatch",
       PodW()
           .Labels(pod_label2)
           .Required(TermOf({Exists("service"), DoesNotExist("wrongkey")}, "region"))
           .Required(TermOf({In("service", {"securityscan"}), NotIn("service", {"WrongValue"})},
                            "region")),
       {pod},
       node1,
       ns,
       false,
       {kOk}},
      {"AffinityMatchExpressionsAreAnded",
       PodW()
           .Labels(pod_label2)
           .Required(TermOf({Exists("service"), DoesNotExist("wrongkey")}, "region"))
           .Required(TermOf({In("service", {"securityscan2"}), NotIn("service", {"WrongValue"})},
                            "region")),
       {pod},
       node1,
       ns,
       false,
       {kAffinity}},
      {"AffinityAndAntiAffinitySatisfied",
       PodW()
           .Labels(pod_label2)
           .AffinityIn("service", "region", {"securityscan", "value2"})
           .AntiIn("service", "node", {"antivirusscan", "value2"}),
       {pod},
       node1,
       ns,
       false,
       {kOk}},
      {"AffinityAntiAffinityAndSymmetrySatisfied",
       PodW()
           .Labels(pod_label2)
           .AffinityIn("service", "region", {"securityscan", "value2"})
           .AntiIn("service", "node", {"antivirusscan", "value2"}),
       {PodW().Node("node1").Labels(pod_label).AntiIn("service", "node",
                                                      {"antivirusscan", "value2"})},
       node1,
       ns,
       false,
       {kOk}},
      {"AffinitySatisfiedAntiAffinityNot",
       PodW()
           .Labels(pod_label2)
           .AffinityIn("service", "region", {"securityscan", "value2"})
           .AntiIn("service", "zone", {"securityscan", "value2"}),
       {pod},
       node1,
       ns,
       false,
       {kAnti}},
      {"ExistingPodAntiAffinitySymmetryNotSatisfied",
       PodW()
           .Labels(pod_label)
           .AffinityIn("service", "region", {"securityscan", "value2"})
           .AntiIn("service", "node", {"antivirusscan", "value2"}),
       {PodW().Labels(pod_label).Node("node1").AntiIn("service", "zone",
                                                      {"securityscan", "value2"})},
       node1,
       ns,
       false,
       {kExisting}},
      // The existing pod is on node2, which the snapshot does not hold.
      {"PodNotMatchingItsOwnNotInTermFails",
       PodW().Labels(pod_label).AffinityNotIn("service", "region", {"securityscan", "value2"}),
       {PodW().Label("service", "securityscan").Node("node2")},
       node1,
       ns,
       false,
       {kAffinity}},
      {"ExistingAntiAffinityRespectedWithoutOwnTerms",
       PodW().Labels(pod_label),
       {PodW().Node("node1").Labels(pod_label).AntiIn("service", "zone",
                                                      {"securityscan", "value2"})},
       node1,
       ns,
       false,
       {kExisting}},
      {"ExistingAntiAffinityNotMatchingSkips",
       PodW().Labels(pod_label),
       {PodW().Node("node1").Labels(pod_label).AntiNotIn("service", "zone",
                                                         {"securityscan", "value2"})},
       node1,
       ns,
       true,
       {kOk}},
      {"IncomingAntiAffinityAnyTermViolated",
       PodW().Labels(pod_label).AntiExists("service", "region").AntiExists("security", "region"),
       {PodW().Node("node1").Labels(pod_label2).AntiExists("security", "zone")},
       node1,
       ns,
       false,
       {kAnti}},
      {"SymmetryA1PartialMatch",
       PodW().Labels(pod_label).AntiExists("service", "zone").AntiExists("security", "zone"),
       {PodW().Node("node1").Labels(pod_label2).AntiExists("security", "zone")},
       node1,
       ns,
       false,
       {kAnti}},
      {"SymmetryA2PartialMatch",
       PodW().Labels(pod_label2).AntiExists("security", "zone"),
       {PodW()
            .Node("node1")
            .Labels(pod_label)
            .AntiExists("service", "zone")
            .AntiExists("security", "zone")},
       node1,
       ns,
       false,
       {kExisting}},
      {"SymmetryB1PartialMatch",
       PodW()
           .Labels({{"abc", ""}, {"xyz", ""}})
           .AntiExists("abc", "zone")
           .AntiExists("def", "zone"),
       {PodW()
            .Node("node1")
            .Labels({{"def", ""}, {"xyz", ""}})
            .AntiExists("abc", "zone")
            .AntiExists("def", "zone")},
       node1,
       ns,
       false,
       {kAnti}},
      {"SymmetryB2PartialMatch",
       PodW()
           .Labels({{"def", ""}, {"xyz", ""}})
           .AntiExists("abc", "zone")
           .AntiExists("def", "zone"),
       {PodW()
            .Node("node1")
            .Labels({{"abc", ""}, {"xyz", ""}})
            .AntiExists("abc", "zone")
            .AntiExists("def", "zone")},
       node1,
       ns,
       false,
       {kAnti}},
      // Upstream fails PreFilter ("parsing pod: ... Invalid value") for a label value the API
      // server's validation rejects; the engine compiles the term to a selector that matches
      // nothing, so every node fails the affinity check with the same code.
      {"InvalidAffinityLabelValueMatchesNothing",
       PodW()
           .Labels(pod_label)
           .AffinityIn("service", "region", {"{{.bad-value.}}"})
           .AffinityIn("service", "node", {"antivirusscan", "value2"}),
       {},
       node1,
       ns,
       false,
       {kAffinity}},
      {"InvalidSecondAffinityLabelValueMatchesNothing",
       PodW()
           .Labels(pod_label)
           .AffinityIn("service", "region", {"foo"})
           .AffinityIn("service", "node", {"{{.bad-value.}}"}),
       {},
       node1,
       ns,
       false,
       {kAffinity}},
      {"AffinityNamespaceSelectorMatches",
       PodW()
           .Labels(pod_label2)
           .Required(TermOf({In("service", {"securityscan", "value2"})}, "region", {}, team1)),
       {PodW().Namespace("subteam1.team1").Labels(pod_label).Node("node1")},
       node1,
       ns,
       false,
       {kOk}},
      {"AffinityNamespaceSelectorDoesNotMatch",
       PodW()
           .Labels(pod_label2)
           .Required(TermOf({In("service", {"securityscan", "value2"})}, "region", {}, team1)),
       {PodW().Namespace("subteam1.team2").Labels(pod_label).Node("node1")},
       node1,
       ns,
       false,
       {kAffinity}},
      {"AntiAffinityNamespaceSelectorMatches",
       PodW()
           .Namespace("subteam1.team1")
           .Labels(pod_label2)
           .RequiredAnti(TermOf({In("service", {"securityscan", "value2"})}, "zone", {}, team1)),
       {PodW().Namespace("subteam2.team1").Labels(pod_label).Node("node1")},
       node1,
       ns,
       false,
       {kAnti}},
      {"AntiAffinityEmptyNamespaceSelectorMatchesAll",
       PodW()
           .Namespace("subteam1.team1")
           .Labels(pod_label2)
           .RequiredAnti(
               TermOf({In("service", {"securityscan", "value2"})}, "zone", {}, LabelSelector{})),
       {PodW().Namespace("subteam2.team1").Labels(pod_label).Node("node1")},
       node1,
       ns,
       false,
       {kAnti}},
      {"AntiAffinityNamespaceSelectorDoesNotMatch",
       PodW()
           .Namespace("subteam1.team1")
           .Labels(pod_label2)
           .RequiredAnti(TermOf({In("service", {"securityscan", "value2"})}, "zone", {}, team1)),
       {PodW().Namespace("subteam1.team2").Labels(pod_label).Node("node1")},
       node1,
       ns,
       false,
       {kOk}},
  };
}

INSTANTIATE_TEST_SUITE_P(RequiredAffinitySingleNode, InterPodAffinityFilterTest,
                         ::testing::ValuesIn(SingleNodeCases()),
                         [](const auto& info) { return info.param.name; });

// TestRequiredAffinityMultipleNodes, TestMultipleAffinityTermsRequireSingleMatchingPod and
// TestFastTrackInterPodAffinity.
std::vector<FilterCase> MultipleNodesCases() {
  const Labels china = {{"region", "China"}};
  const Labels china_az1 = {{"region", "China"}, {"az", "az1"}};
  const Labels india = {{"region", "India"}};
  const std::vector<Namespace> ns1 = {{"NS1", {}}};
  auto rzh = [](std::string name, std::string region, std::string zone) {
    return N(name, {{"region", region}, {"zone", zone}, {"hostname", name}});
  };
  const std::vector<Node> ab_same_zone = {rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z1")};
  const std::vector<Node> ab_two_zones = {rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")};
  const std::vector<Node> host_ab = {N("nodeA", {{kHostname, "nodeA"}}),
                                     N("nodeB", {{kHostname, "nodeB"}})};
  const std::vector<Node> host_123 = {N("node-1", {{kHostname, "node-1"}}),
                                      N("node-2", {{kHostname, "node-2"}}),
                                      N("node-3", {{kHostname, "node-3"}})};
  const std::vector<Namespace> default_ns = {{"default", {}}};
  const char* zone = "topology.kubernetes.io/zone";
  const std::vector<Node> fast_track = {N("node-1", {{kHostname, "node-1"}, {zone, "zone-a"}}),
                                        N("node-2", {{kHostname, "node-2"}, {zone, "zone-b"}})};
  const std::vector<Namespace> fast_track_ns = {
      {"default", {}}, {"other", {}}, {"blue-ns", {{"team", "blue"}}}};
  const std::vector<Pod> fast_track_pods = {
      PodW().Name("pod-no-rules-foo").Namespace("default").Label("app", "foo").Node("node-1"),
      PodW().Name("pod-no-rules-bar").Namespace("default").Label("app", "bar").Node("node-2"),
      PodW()
          .Name("pod-in-ns-with-team-label")
          .Namespace("blue-ns")
          .Label("app", "blocked")
          .Label("team", "blue")
          .Node("node-1")};
  const Pod two_terms = PodW()
                            .Name("pod-1")
                            .Namespace("default")
                            .AffinityIn("foo", kHostname, {"bar"})
                            .AffinityIn("baz", kHostname, {"qux"});
  const Pod pod_a = PodW().Name("podA").Namespace("default").Label("foo", "bar").Node("node-1");
  const Pod pod_b = PodW().Name("podB").Namespace("default").Label("baz", "qux").Node("node-1");
  const Pod pod_c = PodW()
                        .Name("podC")
                        .Namespace("default")
                        .Label("foo", "bar")
                        .Label("baz", "qux")
                        .Node("node-3");
  return {
      {"SameTopologyValueAsMatchingPodFits",
       PodW().AffinityIn("foo", "region", {"bar"}),
       {PodW().Name("p1").Node("node1").Label("foo", "bar")},
       {N("node1", china), N("node2", china_az1), N("node3", india)},
       ns1,
       false,
       {kOk, kOk, kAffinity}},
      {"FirstPodOfSelfAffineCollectionFitsAnywhere",
       PodW()
           .Labels({{"foo", "bar"}, {"service", "securityscan"}})
           .AffinityIn("foo", "zone", {"bar"})
           .AffinityIn("service", "zone", {"securityscan"}),
       {PodW().Name("p1").Node("nodeA").Label("foo", "bar")},
       {N("nodeA", {{"zone", "az1"}, {"hostname", "h1"}}),
        N("nodeB", {{"zone", "az2"}, {"hostname", "h2"}})},
       ns1,
       false,
       {kOk, kOk}},
      {"FirstPodOfCollectionNeedsTopologyKeys",
       PodW()
           .Labels({{"foo", "bar"}, {"service", "securityscan"}})
           .AffinityIn("foo", "zone", {"bar"})
           .AffinityIn("service", "zone", {"securityscan"}),
       {PodW().Name("p1").Node("nodeA").Label("foo", "bar")},
       {N("nodeA", {{"zoneLabel", "az1"}, {"hostname", "h1"}}),
        N("nodeB", {{"zoneLabel", "az2"}, {"hostname", "h2"}})},
       ns1,
       false,
       {kAffinity, kAffinity}},
      {"AntiAffinityBlocksWholeTopologyDomain",
       PodW().AntiIn("foo", "region", {"abc"}),
       {PodW().Node("nodeA").Label("foo", "abc")},
       {N("nodeA", {{"region", "r1"}, {"hostname", "nodeA"}}),
        N("nodeB", {{"region", "r1"}, {"hostname", "nodeB"}})},
       ns1,
       false,
       {kAnti, kAnti}},
      {"AntiAffinityAnyTermMatches",
       PodW().AntiIn("foo", "region", {"abc"}).AntiIn("service", "zone", {"securityscan"}),
       {PodW().Node("nodeA").Labels({{"foo", "abc"}, {"service", "securityscan"}})},
       {rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2")},
       ns1,
       false,
       {kAnti, kAnti}},
      {"AntiAffinityOtherRegionFits",
       PodW().AntiIn("foo", "region", {"abc"}),
       {PodW().Node("nodeA").Label("foo", "abc")},
       {N("nodeA", china), N("nodeB", china_az1), N("nodeC", india)},
       ns1,
       false,
       {kAnti, kAnti, kOk}},
      {"AntiAffinityOtherNamespaceDoesNotCount",
       PodW().Namespace("NS1").Label("foo", "123").AntiIn("foo", "region", {"bar"}),
       {PodW().Node("nodeA").Namespace("NS1").Label("foo", "bar"),
        PodW().Node("nodeC").Namespace("NS2").AntiIn("foo", "region", {"123"})},
       {N("nodeA", china), N("nodeB", china_az1), N("nodeC", india)},
       ns1,
       false,
       {kAnti, kAnti, kOk}},
      {"ExistingAntiTermWithUnknownTopologyKeySkips",
       PodW().Label("foo", ""),
       {PodW().Node("nodeA").AntiExists("foo", "invalid-node-label")},
       ab_same_zone,
       ns1,
       true,
       {kOk, kOk}},
      {"IncomingAntiTermWithUnknownTopologyKeyFits",
       PodW().Node("nodeA").AntiExists("foo", "invalid-node-label"),
       {PodW().Node("nodeA").Label("foo", "")},
       ab_same_zone,
       ns1,
       false,
       {kOk, kOk}},
      {"ExistingPodsAntiAffinityViolatedOnAllNodes",
       PodW().Label("foo", "").Label("bar", ""),
       {PodW().Node("nodeA").AntiExists("foo", "zone"),
        PodW().Node("nodeA").AntiExists("bar", "region")},
       ab_two_zones,
       ns1,
       false,
       {kExisting, kExisting}},
      {"IncomingAntiAffinityViolatesOneRule",
       PodW().AntiExists("foo", "zone").AntiExists("bar", "region"),
       {PodW().Node("nodeA").Label("foo", ""), PodW().Node("nodeB").Label("bar", "")},
       ab_two_zones,
       ns1,
       false,
       {kAnti, kAnti}},
      {"ExistingAntiTermCountsOnlyWithTopologyKey",
       PodW().Label("foo", "").Label("bar", ""),
       {PodW().Node("nodeA").AntiExists("foo", "invalid-node-label").AntiExists("bar", "zone")},
       ab_two_zones,
       ns1,
       false,
       {kExisting, kOk}},
      {"IncomingAntiTermCountsOnlyWithTopologyKey",
       PodW().AntiExists("foo", "invalid-node-label").AntiExists("bar", "zone"),
       {PodW().Name("podA").Node("nodeA").Label("foo", "").Label("bar", "")},
       ab_two_zones,
       ns1,
       false,
       {kAnti, kOk}},
      {"ExistingAntiTermsAllValidTopologyKeys",
       PodW().Label("foo", "").Label("bar", ""),
       {PodW().Node("nodeA").AntiExists("foo", "region").AntiExists("bar", "zone")},
       ab_two_zones,
       ns1,
       false,
       {kExisting, kExisting}},
      {"IncomingAntiTermsAllValidTopologyKeys",
       PodW().AntiExists("foo", "region").AntiExists("bar", "zone"),
       {PodW().Node("nodeA").Label("foo", "").Label("bar", "")},
       ab_two_zones,
       ns1,
       false,
       {kAnti, kAnti}},
      {"ExistingAntiAffinityLeavesOnlyNodeC",
       PodW().Label("foo", "").Label("bar", ""),
       {PodW().Node("nodeA").AntiExists("foo", "zone").AntiExists("labelA", "zone"),
        PodW().Node("nodeB").AntiExists("bar", "zone").AntiExists("labelB", "zone")},
       {rzh("nodeA", "r1", "z1"), rzh("nodeB", "r1", "z2"), rzh("nodeC", "r1", "z3")},
       ns1,
       false,
       {kExisting, kExisting, kOk}},
      {"AffinityAllTermsThenAllTopologyKeys",
       PodW().AffinityExists("foo", "region").AffinityExists("bar", "zone"),
       {PodW().Name("pod1").Label("foo", "").Label("bar", "").Node("nodeA")},
       ab_same_zone,
       ns1,
       false,
       {kOk, kOk}},
      {"AffinityTermsMustMatchTheSamePod",
       PodW().AffinityExists("foo", "region").AffinityExists("bar", "zone"),
       {PodW().Node("nodeA").Name("pod1").Label("foo", ""),
        PodW().Node("nodeB").Name("pod2").Label("bar", "")},
       ab_two_zones,
       ns1,
       false,
       {kAffinity, kAffinity}},
      {"HostScopedAffinity",
       PodW().AffinityExists("foo", kHostname),
       {PodW().Name("pod1").Label("foo", "").Node("nodeA")},
       host_ab,
       ns1,
       false,
       {kOk, kAffinity}},
      {"HostScopedAntiAffinity",
       PodW().AntiExists("foo", kHostname),
       {PodW().Name("pod1").Label("foo", "").Node("nodeA")},
       host_ab,
       ns1,
       false,
       {kAnti, kOk}},
      // TestMultipleAffinityTermsRequireSingleMatchingPod.
      {"MultipleTermsRequireSingleMatchingPod",
       two_terms,
       {pod_a, pod_b, pod_c},
       host_123,
       default_ns,
       false,
       {kAffinity, kAffinity, kOk}},
      {"MultipleTermsSelfAffinity",
       PodW()
           .Name("pod-1")
           .Namespace("default")
           .Labels({{"foo", "bar"}, {"baz", "qux"}})
           .AffinityIn("foo", kHostname, {"bar"})
           .AffinityIn("baz", kHostname, {"qux"}),
       {pod_a, pod_b},
       host_123,
       default_ns,
       false,
       {kOk, kOk, kOk}},
      // TestFastTrackInterPodAffinity.
      {"FastTrackZoneAntiAffinity",
       PodW().Name("pod-1").Namespace("default").Label("app", "foo").AntiIn("app", zone, {"foo"}),
       fast_track_pods,
       fast_track,
       fast_track_ns,
       false,
       {kAnti, kOk}},
      {"FastTrackHostAntiAffinity",
       PodW()
           .Name("pod-2")
           .Namespace("default")
           .Label("app", "bar")
           .AntiIn("app", kHostname, {"bar"}),
       fast_track_pods,
       fast_track,
       fast_track_ns,
       false,
       {kOk, kAnti}},
      {"FastTrackNamespaceSelectorDoesNotExist",
       PodW()
           .Name("pod-3")
           .Namespace("other")
           .Label("app", "baz")
           .RequiredAnti(
               TermOf({In("app", {"blocked"})}, zone, {}, SelectorOf({DoesNotExist("team")}))),
       fast_track_pods,
       fast_track,
       fast_track_ns,
       false,
       {kOk, kOk}},
  };
}

INSTANTIATE_TEST_SUITE_P(RequiredAffinityMultipleNodes, InterPodAffinityFilterTest,
                         ::testing::ValuesIn(MultipleNodesCases()),
                         [](const auto& info) { return info.param.name; });

// ---- PreFilter state: counts by (topology key, value) names ----

using NamedCounts = std::map<std::pair<std::string, std::string>, int64_t>;

NamedCounts Named(const TopologyPairCounts& counts, const ClusterState& state,
                  const std::vector<Node>& nodes) {
  std::map<int32_t, std::string> key_names;
  for (const Node& node : nodes) {
    for (const auto& [key, value] : node.labels) {
      key_names[state.node_labels().FindKey(key)] = key;
    }
  }
  NamedCounts out;
  for (const auto& [pair, count] : counts.pairs()) {
    int32_t key = TopologyPairCounts::KeyOf(pair);
    out[{key_names[key], state.node_labels().value_name(key, TopologyPairCounts::ValueOf(pair))}] =
        count;
  }
  return out;
}

struct NamedState {
  NamedCounts existing_anti_affinity;
  NamedCounts affinity;
  NamedCounts anti_affinity;
  bool operator==(const NamedState& o) const {
    return existing_anti_affinity == o.existing_anti_affinity && affinity == o.affinity &&
           anti_affinity == o.anti_affinity;
  }
};

std::ostream& operator<<(std::ostream& os, const NamedCounts& counts) {
  os << "{";
  for (const auto& [pair, count] : counts)
    os << pair.first << "=" << pair.second << ":" << count << " ";
  return os << "}";
}
std::ostream& operator<<(std::ostream& os, const NamedState& s) {
  return os << "existing" << s.existing_anti_affinity << " affinity" << s.affinity << " anti"
            << s.anti_affinity;
}

NamedState NamedOf(const InterPodAffinityPreFilterState& s, const ClusterState& state,
                   const std::vector<Node>& nodes) {
  return {Named(s.existing_anti_affinity, state, nodes), Named(s.affinity, state, nodes),
          Named(s.anti_affinity, state, nodes)};
}

// A record for a pod that the state does not hold (PreFilterExtensions' podInfoToAdd).
PodRecord RecordFor(const Pod& pod, uint32_t node) {
  PodRecord r;
  r.pod = pod;
  PodAffinityTerms terms = CompilePodAffinityTerms(pod);
  if (!terms.empty()) r.affinity = std::make_unique<const PodAffinityTerms>(std::move(terms));
  r.node_index = node;
  return r;
}

struct AddRemoveCase {
  std::string name;
  Pod pending;
  Pod added;
  std::vector<Pod> existing;
  std::vector<Node> nodes;
  NamedCounts want_anti_affinity;
  NamedCounts want_affinity;
};

void PrintTo(const AddRemoveCase& c, std::ostream* os) { *os << c.name; }

class InterPodAffinityAddRemovePodTest : public ::testing::TestWithParam<AddRemoveCase> {};

TEST_P(InterPodAffinityAddRemovePodTest, MatchesUpstream) {
  const AddRemoveCase& c = GetParam();
  std::vector<Pod> all = c.existing;
  all.push_back(c.added);
  auto all_state = BuildState({}, c.nodes, all);
  InterPodAffinityPreFilterState all_pods = InterPodAffinityPreFilter(c.pending, *all_state);
  ASSERT_FALSE(all_pods.skip);
  const NamedState want_all = NamedOf(all_pods, *all_state, c.nodes);

  auto state = BuildState({}, c.nodes, c.existing);
  InterPodAffinityPreFilterState s = InterPodAffinityPreFilter(c.pending, *state);
  ASSERT_FALSE(s.skip);
  const NamedState original = NamedOf(s, *state, c.nodes);

  PodRecord added = RecordFor(c.added, NodeIndex(*state, c.added.node_name));
  InterPodAffinityUpdateWithPod(s, *state, added, NodeIndex(*state, c.added.node_name), 1);
  NamedState after_add = NamedOf(s, *state, c.nodes);
  EXPECT_EQ(after_add.anti_affinity, c.want_anti_affinity);
  EXPECT_EQ(after_add.affinity, c.want_affinity);
  EXPECT_EQ(after_add, want_all);

  InterPodAffinityUpdateWithPod(s, *state, added, NodeIndex(*state, c.added.node_name), -1);
  EXPECT_EQ(NamedOf(s, *state, c.nodes), original);

  // Pure RemovePod: from the state with every pod, removing the added one gives the original.
  const PodRecord* record = all_state->FindPod(c.added.Key());
  ASSERT_NE(record, nullptr);
  InterPodAffinityUpdateWithPod(all_pods, *all_state, *record,
                                NodeIndex(*all_state, c.added.node_name), -1);
  EXPECT_EQ(NamedOf(all_pods, *all_state, c.nodes), original);
}

std::vector<AddRemoveCase> AddRemoveCases() {
  const Labels label1 = {{"region", "r1"}, {"zone", "z11"}};
  const Labels label2 = {{"region", "r1"}, {"zone", "z12"}};
  const Labels label3 = {{"region", "r2"}, {"zone", "z21"}};
  const std::vector<Node> nodes = {N("nodeA", label1), N("nodeB", label2), N("nodeC", label3)};
  PodAffinity anti_foo_bar;
  anti_foo_bar.required = {TermOf({In("foo", {"bar"})}, "region")};
  PodAffinity anti_complex;
  anti_complex.required = {TermOf({In("foo", {"bar", "buzz"})}, "region"),
                           TermOf({NotIn("service", {"bar", "security", "test"})}, "zone")};
  PodAffinity affinity_complex;
  affinity_complex.required = anti_complex.required;
  auto with = [](std::optional<PodAffinity> affinity, std::optional<PodAffinity> anti) {
    Affinity a;
    a.pod_affinity = std::move(affinity);
    a.pod_anti_affinity = std::move(anti);
    return a;
  };
  const Pod p1 = PodW().Name("p1").Label("foo", "bar").Node("nodeA");
  const Pod p2_anti = PodW().Name("p2").Node("nodeC").SetAffinity(with(std::nullopt, anti_foo_bar));
  return {
      {"AntiAffinityTermsUpdated",
       PodW().Name("pending").Label("foo", "bar").SetAffinity(with(std::nullopt, anti_foo_bar)),
       PodW()
           .Name("addedPod")
           .Label("foo", "bar")
           .Node("nodeB")
           .SetAffinity(with(std::nullopt, anti_foo_bar)),
       {p1, p2_anti},
       nodes,
       {{{"region", "r1"}, 2}},
       {}},
      {"ComplexAntiAffinityTermsUpdated",
       PodW().Name("pending").Label("foo", "bar").SetAffinity(with(std::nullopt, anti_complex)),
       PodW()
           .Name("addedPod")
           .Label("foo", "bar")
           .Node("nodeA")
           .SetAffinity(with(std::nullopt, anti_complex)),
       {p1, p2_anti},
       nodes,
       {{{"region", "r1"}, 2}, {{"zone", "z11"}, 2}, {{"zone", "z21"}, 1}},
       {}},
      {"AffinityAndAntiAffinityUpdated",
       PodW().Name("pending").Label("foo", "bar").SetAffinity(with(affinity_complex, std::nullopt)),
       PodW()
           .Name("addedPod")
           .Label("foo", "bar")
           .Node("nodeA")
           .SetAffinity(with(std::nullopt, anti_complex)),
       {p1, PodW().Name("p2").Node("nodeC").SetAffinity(with(affinity_complex, anti_foo_bar))},
       nodes,
       {},
       {{{"region", "r1"}, 2}, {{"zone", "z11"}, 2}}},
      {"HostnameAndOtherAntiAffinityTermsUpdated",
       PodW().Name("pending").Label("foo", "bar").SetAffinity(with(std::nullopt, anti_foo_bar)),
       PodW()
           .Name("addedPod")
           .Label("foo", "bar")
           .Node("nodeA")
           .AntiIn("foo", "region", {"bar"})
           .AntiIn("foo", kHostname, {"bar"}),
       {p1},
       {N("nodeA", {{"region", "r1"}, {"zone", "z11"}, {kHostname, "nodeA"}}),
        N("nodeB", {{"region", "r1"}, {"zone", "z12"}, {kHostname, "nodeB"}})},
       {{{"region", "r1"}, 2}},
       {}},
  };
}

INSTANTIATE_TEST_SUITE_P(PreFilterStateAddRemovePod, InterPodAffinityAddRemovePodTest,
                         ::testing::ValuesIn(AddRemoveCases()),
                         [](const auto& info) { return info.param.name; });

// TestGetTPMapMatchingIncomingAffinityAntiAffinity: the incoming pod's affinity and anti-affinity
// counts, read from the PreFilter state.
struct IncomingCountsCase {
  std::string name;
  std::vector<Pod> existing;
  Pod pod;
  NamedCounts want_affinity;
  NamedCounts want_anti_affinity;
};

void PrintTo(const IncomingCountsCase& c, std::ostream* os) { *os << c.name; }

class InterPodAffinityIncomingCountsTest : public ::testing::TestWithParam<IncomingCountsCase> {};

TEST_P(InterPodAffinityIncomingCountsTest, MatchesUpstream) {
  const IncomingCountsCase& c = GetParam();
  const std::vector<Node> nodes = {N("nodeA", {{kHostname, "nodeA"}})};
  auto state = BuildState({}, nodes, c.existing);
  InterPodAffinityPreFilterState s = InterPodAffinityPreFilter(c.pod, *state);
  EXPECT_EQ(Named(s.affinity, *state, nodes), c.want_affinity);
  EXPECT_EQ(Named(s.anti_affinity, *state, nodes), c.want_anti_affinity);
}

std::vector<IncomingCountsCase> IncomingCountsCases() {
  auto normal = [](std::vector<std::string> labels) {
    PodW p;
    p.Name("normal").Node("nodeA");
    for (auto& l : labels) p.Label(l, "");
    return p.Obj();
  };
  const Pod a = normal({"aaa"});
  const Pod b = normal({"bbb"});
  const Pod ab = normal({"aaa", "bbb"});
  const NamedCounts one = {{{kHostname, "nodeA"}, 1}};
  const NamedCounts two = {{{kHostname, "nodeA"}, 2}};
  return {
      {"NoPods", {}, PodW().Name("aaa-normal"), {}, {}},
      {"IncomingPodWithoutTermsIsANoOp", {a}, PodW().Name("aaa-normal"), {}, {}},
      {"NoPodMatches",
       {b},
       PodW().Name("aaa-anti").AffinityExists("aaa", kHostname).AntiExists("aaa", kHostname),
       {},
       {}},
      {"SingleTermMatches",
       {a},
       PodW().Name("affi-antiaffi").AffinityExists("aaa", kHostname).AntiExists("aaa", kHostname),
       one,
       one},
      // One count per affinity term.
      {"MultipleTermsMatch",
       {ab},
       PodW()
           .Name("affi-antiaffi")
           .AffinityExists("aaa", kHostname)
           .AffinityExists("bbb", kHostname)
           .AntiExists("aaa", kHostname),
       two,
       one},
      {"AffinityNotAllTermsAntiAffinityMatches",
       {a},
       PodW()
           .Name("affi-antiaffi")
           .AffinityExists("aaa", kHostname)
           .AffinityExists("bbb", kHostname)
           .AntiExists("aaa", kHostname)
           .AntiExists("bbb", kHostname),
       {},
       one},
      {"AntiAffinityPartialTermCase1",
       {ab},
       PodW()
           .Name("anaffi-antiaffiti")
           .AffinityExists("aaa", kHostname)
           .AffinityExists("ccc", kHostname)
           .AntiExists("aaa", kHostname)
           .AntiExists("ccc", kHostname),
       {},
       one},
      {"AntiAffinityPartialTermCase2",
       {b},
       PodW()
           .Name("affi-antiaffi")
           .AffinityExists("aaa", kHostname)
           .AffinityExists("bbb", kHostname)
           .AntiExists("aaa", kHostname)
           .AntiExists("bbb", kHostname),
       {},
       one},
  };
}

INSTANTIATE_TEST_SUITE_P(GetTPMapMatchingIncomingAffinityAntiAffinity,
                         InterPodAffinityIncomingCountsTest,
                         ::testing::ValuesIn(IncomingCountsCases()),
                         [](const auto& info) { return info.param.name; });

// TestRemovePodHostScopedAffinityCount: removing the only matching pod lets the self-affine pod
// go anywhere.
TEST(InterPodAffinityFilterTest, RemovePodHostScopedAffinityCount) {
  const Pod pending =
      PodW().Name("pending").Label("foo", "bar").AffinityIn("foo", kHostname, {"bar"});
  const Pod existing = PodW().Name("existing").Node("nodeA").Label("foo", "bar");
  const std::vector<Node> nodes = {N("nodeA", {{kHostname, "nodeA"}}),
                                   N("nodeB", {{kHostname, "nodeB"}})};
  auto state = BuildState({}, nodes, {existing});
  InterPodAffinityPreFilterState s = InterPodAffinityPreFilter(pending, *state);
  ASSERT_FALSE(s.skip);
  const uint32_t a = NodeIndex(*state, "nodeA");
  const uint32_t b = NodeIndex(*state, "nodeB");
  EXPECT_EQ(InterPodAffinityFilter(s, *state, a).code, FilterCode::kSuccess);
  EXPECT_NE(InterPodAffinityFilter(s, *state, b).code, FilterCode::kSuccess);
  const PodRecord* record = state->FindPod(existing.Key());
  ASSERT_NE(record, nullptr);
  InterPodAffinityUpdateWithPod(s, *state, *record, a, -1);
  EXPECT_EQ(InterPodAffinityFilter(s, *state, a).code, FilterCode::kSuccess);
  EXPECT_EQ(InterPodAffinityFilter(s, *state, b).code, FilterCode::kSuccess);
}

// Filter finds existing anti-affinity pairs through the counts' keys: the keys follow the pairs
// as they are added and removed, whatever the order.
TEST(TopologyPairCountsTest, KeysFollowThePairs) {
  TopologyPairCounts counts;
  EXPECT_TRUE(counts.keys().empty());
  counts.Add(7, 1, 1);
  counts.Add(3, 2, 1);
  counts.Add(7, 4, 2);
  EXPECT_THAT(counts.keys(), ::testing::ElementsAre(7, 3));
  counts.Add(7, 1, -1);  // (7, 1) gone, (7, 4) keeps key 7
  EXPECT_THAT(counts.keys(), ::testing::ElementsAre(7, 3));
  EXPECT_EQ(counts.Get(7, 1), 0);
  counts.Add(7, 4, -2);
  EXPECT_THAT(counts.keys(), ::testing::ElementsAre(3));
  counts.Add(3, 2, -1);
  EXPECT_TRUE(counts.keys().empty());
  EXPECT_TRUE(counts.empty());
  counts.Add(5, 0, -1);  // a removal before any addition keeps a negative count and its key
  EXPECT_THAT(counts.keys(), ::testing::ElementsAre(5));
  EXPECT_EQ(counts.Get(5, 0), -1);
  counts.Add(5, 0, 1);
  EXPECT_TRUE(counts.keys().empty());
}

// An existing pod's hostname anti-affinity term blocks only its own node, and stops blocking it
// once the pod is removed through the PreFilter extension; adding it on another node moves the
// block there.
TEST(InterPodAffinityFilterTest, ExistingAntiAffinityFollowsAddRemovePod) {
  const Pod pending = PodW().Name("pending").Label("color", "green");
  const Pod existing = PodW()
                           .Name("existing")
                           .Node("nodeA")
                           .Label("color", "green")
                           .AntiIn("color", kHostname, {"green"});
  const std::vector<Node> nodes = {N("nodeA", {{kHostname, "nodeA"}, {"zone", "z1"}}),
                                   N("nodeB", {{kHostname, "nodeB"}, {"zone", "z1"}})};
  auto state = BuildState({}, nodes, {existing});
  InterPodAffinityPreFilterState s = InterPodAffinityPreFilter(pending, *state);
  ASSERT_FALSE(s.skip);
  const uint32_t a = NodeIndex(*state, "nodeA");
  const uint32_t b = NodeIndex(*state, "nodeB");
  EXPECT_EQ(InterPodAffinityFilter(s, *state, a).code, FilterCode::kUnschedulable);
  EXPECT_EQ(InterPodAffinityFilter(s, *state, b).code, FilterCode::kSuccess);
  const PodRecord* record = state->FindPod(existing.Key());
  ASSERT_NE(record, nullptr);
  InterPodAffinityUpdateWithPod(s, *state, *record, a, -1);
  EXPECT_EQ(InterPodAffinityFilter(s, *state, a).code, FilterCode::kSuccess);
  InterPodAffinityUpdateWithPod(s, *state, *record, b, 1);
  EXPECT_EQ(InterPodAffinityFilter(s, *state, a).code, FilterCode::kSuccess);
  EXPECT_EQ(InterPodAffinityFilter(s, *state, b).code, FilterCode::kUnschedulable);
}

// ---- Score ----

struct ScoreCase {
  std::string name;
  Pod pod;
  std::vector<Pod> pods;
  std::vector<Node> nodes;
  InterPodAffinityArgs args;
  bool want_skip = false;
  std::vector<int64_t> want;  // normalised, per node
};

void PrintTo(const ScoreCase& c, std::ostream* os) { *os << c.name; }

class InterPodAffinityScoreTest : public ::testing::TestWithParam<ScoreCase> {};

TEST_P(InterPodAffinityScoreTest, MatchesUpstream) {
  const ScoreCase& c = GetParam();
  auto state = BuildState(TeamNamespaces(), c.nodes, c.pods);
  InterPodAffinityPreScoreState pre = InterPodAffinityPreScore(c.pod, *state, c.args);
  ASSERT_EQ(pre.skip, c.want_skip);
  if (pre.skip) return;
  std::vector<int64_t> raw;
  int64_t lo = INT64_MAX;
  int64_t hi = INT64_MIN;
  for (const Node& node : c.nodes) {
    raw.push_back(InterPodAffinityScore(pre, *state, NodeIndex(*state, node.name)));
    lo = std::min(lo, raw.back());
    hi = std::max(hi, raw.back());
  }
  std::vector<int64_t> got;
  for (int64_t r : raw) got.push_back(InterPodAffinityNormalize(r, lo, hi));
  EXPECT_EQ(got, c.want);
}

Affinity PreferAffinity(std::vector<WeightedPodAffinityTerm> terms) {
  Affinity a;
  a.pod_affinity.emplace();
  a.pod_affinity->preferred = std::move(terms);
  return a;
}
Affinity PreferAnti(std::vector<WeightedPodAffinityTerm> terms) {
  Affinity a;
  a.pod_anti_affinity.emplace();
  a.pod_anti_affinity->preferred = std::move(terms);
  return a;
}

// TestPreferredAffinity.
std::vector<ScoreCase> PreferredAffinityCases() {
  const Labels china = {{"region", "China"}};
  const Labels india = {{"region", "India"}};
  const Labels az1 = {{"az", "az1"}};
  const Labels az2 = {{"az", "az2"}};
  const Labels china_az1 = {{"region", "China"}, {"az", "az1"}};
  const Labels s1 = {{"security", "S1"}};
  const Labels s2 = {{"security", "S2"}};
  const Affinity stay_s1_region =
      PreferAffinity({Weighted(5, TermOf({In("security", {"S1"})}, "region"))});
  const Affinity stay_s2_region =
      PreferAffinity({Weighted(6, TermOf({In("security", {"S2"})}, "region"))});
  const Affinity affinity3 = PreferAffinity(
      {Weighted(8, TermOf({NotIn("security", {"S1"}), In("security", {"S2"})}, "region")),
       Weighted(2, TermOf({Exists("security"), DoesNotExist("wrongkey")}, "region"))});
  Affinity hard;
  hard.pod_affinity.emplace();
  hard.pod_affinity->required = {TermOf({In("security", {"S1", "value2"})}, "region"),
                                 TermOf({Exists("security"), DoesNotExist("wrongkey")}, "region")};
  const Affinity away_s1_az = PreferAnti({Weighted(5, TermOf({In("security", {"S1"})}, "az"))});
  const Affinity away_s2_az = PreferAnti({Weighted(5, TermOf({In("security", {"S2"})}, "az"))});
  Affinity stay_s1_away_s2 =
      PreferAffinity({Weighted(8, TermOf({In("security", {"S1"})}, "region"))});
  stay_s1_away_s2.pod_anti_affinity.emplace();
  stay_s1_away_s2.pod_anti_affinity->preferred = {
      Weighted(5, TermOf({In("security", {"S2"})}, "az"))};
  const LabelSelector team1 = SelectorOf({In("team", {"team1"})});
  const LabelSelector not_team1 = SelectorOf({NotIn("team", {"team1"})});
  const PodAffinityTerm ns_term =
      TermOf({In("security", {"S1"})}, "region", {"subteam2.team2"}, team1);
  const PodAffinityTerm neg_ns_term = TermOf({In("security", {"S1"})}, "region", {}, not_team1);
  const Affinity affinity_ns = PreferAffinity({Weighted(5, ns_term)});
  const Affinity anti_ns = PreferAnti({Weighted(5, ns_term)});
  const Affinity affinity_neg_ns = PreferAffinity({Weighted(5, neg_ns_term)});
  const Affinity anti_neg_ns = PreferAnti({Weighted(5, neg_ns_term)});
  const Affinity invalid_affinity =
      PreferAffinity({Weighted(8, TermOf({In("security", {"{{.bad-value.}}"})}, "region"))});
  const Affinity invalid_anti =
      PreferAnti({Weighted(5, TermOf({In("security", {"{{.bad-value.}}"})}, "az"))});
  auto on = [](std::string node, Labels labels, std::string ns = "") {
    return PodW().Node(std::move(node)).Labels(labels).Namespace(std::move(ns));
  };
  const InterPodAffinityArgs args{1, false};
  return {
      {"AffinityNilSkips",
       PodW().Labels(s1),
       {},
       {N("node1", china), N("node2", india), N("node3", az1)},
       args,
       true,
       {}},
      {"AffinityMatchingTopologyAndPodsScoresHigh",
       PodW().Labels(s1).SetAffinity(stay_s1_region),
       {on("node1", s1), on("node2", s2), on("node3", s1)},
       {N("node1", china), N("node2", india), N("node3", az1)},
       args,
       false,
       {100, 0, 0}},
      {"AffinitySameTopologyValueScoresSame",
       PodW().SetAffinity(stay_s1_region),
       {on("node1", s1)},
       {N("node1", china), N("node2", china_az1), N("node3", india)},
       args,
       false,
       {100, 100, 0}},
      {"AffinityRegionWithMoreMatchesScoresHigh",
       PodW().Labels(s1).SetAffinity(stay_s2_region),
       {on("node1", s2), on("node1", s2), on("node2", s2), on("node3", s2), on("node4", s2),
        on("node5", s2)},
       {N("node1", china), N("node2", india), N("node3", china), N("node4", china),
        N("node5", india)},
       args,
       false,
       {100, 0, 100, 100, 0}},
      {"AffinityDifferentOperatorsSomeMismatches",
       PodW().Labels(s1).SetAffinity(affinity3),
       {on("node1", s1), on("node2", s2), on("node3", s1)},
       {N("node1", china), N("node2", india), N("node3", az1)},
       args,
       false,
       {20, 100, 0}},
      {"AffinitySymmetryPreferredTerms",
       PodW().Labels(s2),
       {on("node1", s1).SetAffinity(stay_s1_region), on("node2", s2).SetAffinity(stay_s2_region)},
       {N("node1", china), N("node2", india), N("node3", az1)},
       args,
       false,
       {0, 100, 0}},
      {"AffinitySymmetryWithNamespaceSelector",
       PodW().Namespace("subteam1.team1").Labels(s1),
       {on("node1", s1).SetAffinity(affinity_ns), on("node2", s2).SetAffinity(stay_s2_region)},
       {N("node1", china), N("node2", india), N("node3", az1)},
       args,
       false,
       {100, 0, 0}},
      {"AntiAffinitySymmetryWithNamespaceSelector",
       PodW().Namespace("subteam1.team1").Labels(s1),
       {on("node1", s1).SetAffinity(anti_ns), on("node2", s2).SetAffinity(stay_s2_region)},
       {N("node1", china), N("node2", india), N("node3", az1)},
       args,
       false,
       {0, 100, 100}},
      {"AffinitySymmetryRequiredTerms",
       PodW().Labels(s1),
       {on("node1", s1).SetAffinity(hard), on("node2", s2).SetAffinity(hard)},
       {N("node1", china), N("node2", india), N("node3", az1)},
       args,
       false,
       {100, 100, 0}},
      {"AntiAffinityNonMatchingNodeScoresHigh",
       PodW().Labels(s1).SetAffinity(away_s1_az),
       {on("node1", s1), on("node2", s2)},
       {N("node1", az1), N("node2", china)},
       args,
       false,
       {0, 100}},
      {"AntiAffinityNodeWithoutTopologyKeyScoresHigh",
       PodW().Labels(s1).SetAffinity(away_s1_az),
       {on("node1", s1), on("node2", s1)},
       {N("node1", az1), N("node2", china)},
       args,
       false,
       {0, 100}},
      {"AntiAffinityMoreMatchesScoresLow",
       PodW().Labels(s1).SetAffinity(away_s1_az),
       {on("node1", s1), on("node1", s1), on("node2", s2)},
       {N("node1", az1), N("node2", india)},
       args,
       false,
       {0, 100}},
      {"AntiAffinitySymmetry",
       PodW().Labels(s2),
       {on("node1", s1).SetAffinity(away_s2_az), on("node2", s2).SetAffinity(away_s1_az)},
       {N("node1", az1), N("node2", az2)},
       args,
       false,
       {0, 100}},
      {"AffinityAndAntiAffinityPreferred",
       PodW().Labels(s1).SetAffinity(stay_s1_away_s2),
       {on("node1", s1), on("node2", s1)},
       {N("node1", china), N("node2", az1)},
       args,
       false,
       {100, 0}},
      {"AffinityAndAntiAffinitySameLabels",
       PodW().Labels(s1).SetAffinity(stay_s1_away_s2),
       {on("node1", s1), on("node1", s1), on("node2", s1), on("node3", s1), on("node3", s1),
        on("node4", s1), on("node5", s1)},
       {N("node1", china_az1), N("node2", india), N("node3", china), N("node4", china),
        N("node5", india)},
       args,
       false,
       {100, 0, 100, 100, 0}},
      {"AffinityAntiAffinityAndSymmetry",
       PodW().Labels(s1).SetAffinity(stay_s1_away_s2),
       {on("node1", s1), on("node2", s2), PodW().Node("node3").SetAffinity(stay_s1_away_s2),
        PodW().Node("node4").SetAffinity(away_s1_az)},
       {N("node1", china), N("node2", az1), N("node3", india), N("node4", az2)},
       args,
       false,
       {100, 0, 100, 0}},
      // kubernetes#82796: some nodes of a topology have no pods with affinity.
      {"PartialTopologyWithoutAffinityPods",
       PodW().Labels(s1),
       {on("node1", s1), PodW().Node("node2").SetAffinity(stay_s1_away_s2)},
       {N("node1", china), N("node2", china)},
       args,
       false,
       {0, 0}},
      // Upstream fails PreScore with an Error for a label value the API server rejects; the
      // engine's term matches nothing, so nothing is scored and PreScore skips.
      {"InvalidAffinityLabelValueMatchesNothing",
       PodW().SetAffinity(invalid_affinity),
       {},
       {N("node1", china), N("node2", china)},
       args,
       true,
       {}},
      {"InvalidAntiAffinityLabelValueMatchesNothing",
       PodW().SetAffinity(invalid_anti),
       {},
       {N("node1", china), N("node2", china)},
       args,
       true,
       {}},
      {"AffinityPodsMatchingNamespaceSelector",
       PodW().Namespace("subteam1.team1").Labels(s1).SetAffinity(affinity_ns),
       {on("node1", s1, "subteam1.team1"), on("node1", s1, "subteam1.team1"),
        on("node1", s1, "subteam1.team2"), on("node2", s1, "subteam2.team1")},
       {N("node1", china), N("node2", india)},
       args,
       false,
       {100, 0}},
      {"AffinityPodsMatchingNamespaceSelectorAndNamespaces",
       PodW().Namespace("subteam1.team1").Labels(s1).SetAffinity(affinity_ns),
       {on("node1", s1, "subteam1.team1"), on("node1", s1, "subteam1.team1"),
        on("node1", s1, "subteam2.team2"), on("node2", s1, "subteam2.team1")},
       {N("node1", china), N("node2", india)},
       args,
       false,
       {100, 0}},
      {"AntiAffinityPodsMatchingNamespaceSelector",
       PodW().Namespace("subteam1.team1").Labels(s1).SetAffinity(anti_ns),
       {on("node1", s1, "subteam1.team1"), on("node1", s1, "subteam1.team1"),
        on("node1", s1, "subteam1.team2"), on("node2", s1, "subteam2.team1")},
       {N("node1", china), N("node2", india)},
       args,
       false,
       {0, 100}},
      {"AntiAffinityPodsMatchingNamespaceSelectorAndNamespaces",
       PodW().Namespace("subteam1.team1").Labels(s1).SetAffinity(anti_ns),
       {on("node1", s1, "subteam1.team1"), on("node1", s1, "subteam1.team1"),
        on("node1", s1, "subteam2.team2"), on("node2", s1, "subteam2.team1")},
       {N("node1", china), N("node2", india)},
       args,
       false,
       {0, 100}},
      {"AffinityNegativeNamespaceSelector",
       PodW().Namespace("subteam1.team1").Labels(s1).SetAffinity(affinity_neg_ns),
       {on("node1", s1, "subteam1.team1"), on("node1", s1, "subteam1.team1"),
        on("node2", s1, "subteam1.team2")},
       {N("node1", china), N("node2", india)},
       args,
       false,
       {0, 100}},
      {"AntiAffinityNegativeNamespaceSelector",
       PodW().Namespace("subteam1.team1").Labels(s1).SetAffinity(anti_neg_ns),
       {on("node1", s1, "subteam1.team1"), on("node1", s1, "subteam1.team1"),
        on("node2", s1, "subteam1.team2")},
       {N("node1", china), N("node2", india)},
       args,
       false,
       {100, 0}},
      {"IgnorePreferredTermsOfExistingPodsSkips",
       PodW().Labels(s2),
       {on("node1", s1).SetAffinity(stay_s1_away_s2), on("node2", s2).SetAffinity(stay_s2_region)},
       {N("node1", china), N("node2", india)},
       InterPodAffinityArgs{1, true},
       true,
       {}},
      {"DoNotIgnorePreferredTermsOfExistingPods",
       PodW().Labels(s2),
       {on("node1", s1).SetAffinity(stay_s1_away_s2), on("node2", s2).SetAffinity(stay_s2_region)},
       {N("node1", china), N("node2", india)},
       args,
       false,
       {0, 100}},
      {"NoNodesToScoreSkips", PodW().Labels(s2), {}, {}, args, true, {}},
  };
}

INSTANTIATE_TEST_SUITE_P(PreferredAffinity, InterPodAffinityScoreTest,
                         ::testing::ValuesIn(PreferredAffinityCases()),
                         [](const auto& info) { return info.param.name; });

// TestPreferredAffinityWithHardPodAffinitySymmetricWeight.
std::vector<ScoreCase> HardPodAffinityWeightCases() {
  const Labels s1 = {{"service", "S1"}};
  const std::vector<Node> nodes = {N("node1", {{"region", "China"}}),
                                   N("node2", {{"region", "India"}}), N("node3", {{"az", "az1"}})};
  Affinity hard;
  hard.pod_affinity.emplace();
  hard.pod_affinity->required = {TermOf({In("service", {"S1"})}, "region", {"", "subteam2.team2"},
                                        SelectorOf({In("team", {"team1"})}))};
  const std::vector<Pod> pods = {PodW().Node("node1").SetAffinity(hard),
                                 PodW().Node("node2").SetAffinity(hard)};
  return {
      {"DefaultWeight", PodW().Labels(s1), pods, nodes, {1, false}, false, {100, 100, 0}},
      {"ZeroWeightSkips", PodW().Labels(s1), pods, nodes, {0, false}, true, {}},
      {"NoMatchingNamespaceSkips",
       PodW().Namespace("subteam1.team2").Labels(s1),
       pods,
       nodes,
       {1, false},
       true,
       {}},
      {"MatchingNamespaceSelector",
       PodW().Namespace("subteam1.team1").Labels(s1),
       pods,
       nodes,
       {1, false},
       false,
       {100, 100, 0}},
      {"MatchingNamespaces",
       PodW().Namespace("subteam2.team2").Labels(s1),
       pods,
       nodes,
       {1, false},
       false,
       {100, 100, 0}},
  };
}

INSTANTIATE_TEST_SUITE_P(HardPodAffinitySymmetricWeight, InterPodAffinityScoreTest,
                         ::testing::ValuesIn(HardPodAffinityWeightCases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sextant
