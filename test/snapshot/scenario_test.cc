// The scenario the platform teams Sextant serves run every day, replayed end to end through the
// same ClusterState and Evaluator the online engine uses: a dedicated, tainted GPU pool next to a
// shared pool, a Guaranteed high-priority inference service spread one replica per host, and a
// zone-spread service that must stay balanced while its pods arrive.
#include <map>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sextant/replay.h"

namespace sextant {
namespace {

Quantity Q(const char* text) { return *Quantity::Parse(text); }

constexpr char kZone[] = "topology.kubernetes.io/zone";
constexpr char kHostname[] = "kubernetes.io/hostname";

Node MakeNode(const std::string& name, const std::string& zone, bool gpu) {
  Node node;
  node.name = name;
  node.labels = {{kHostname, name}, {kZone, zone}, {"sextant.io/pool", gpu ? "gpu" : "shared"}};
  node.allocatable = {{"cpu", Q("32")}, {"memory", Q("128Gi")}, {"pods", Q("110")}};
  if (gpu) {
    node.allocatable["nvidia.com/gpu"] = Q("8");
    node.taints.push_back(Taint{"nvidia.com/gpu", "present", TaintEffect::kNoSchedule});
  }
  return node;
}

LabelSelector AppSelector(const std::string& app) {
  LabelSelector s;
  s.match_labels = {{"app", app}};
  return s;
}

Pod Replica(const std::string& app, int i, int64_t created) {
  Pod pod;
  pod.name_space = "prod";
  pod.name = app + "-" + std::to_string(i);
  pod.labels = {{"app", app}};
  pod.phase = "Pending";
  pod.creation_unix_nanos = created;
  Container c;
  c.name = "server";
  c.requests = {{"cpu", Q("4")}, {"memory", Q("16Gi")}};
  c.limits = c.requests;
  pod.containers.push_back(c);
  return pod;
}

// Three replicas of a Guaranteed inference service at high priority: GPU pool only (toleration
// plus required node affinity), one replica per host (required anti-affinity on the hostname).
Pod InferenceReplica(int i) {
  Pod pod = Replica("llm", i, 100 + i);
  pod.priority_class_name = "inference-critical";
  pod.containers[0].requests["nvidia.com/gpu"] = Q("1");
  pod.containers[0].limits["nvidia.com/gpu"] = Q("1");
  pod.tolerations.push_back(
      Toleration{"nvidia.com/gpu", TolerationOperator::kExists, "", TaintEffect::kNoSchedule, {}});
  NodeSelectorTerm term;
  term.match_expressions.push_back({"sextant.io/pool", SelectorOperator::kIn, {"gpu"}});
  Affinity& affinity = pod.affinity.emplace();
  affinity.node_affinity.emplace().required.emplace().terms.push_back(term);
  PodAffinityTerm anti;
  anti.label_selector = AppSelector("llm");
  anti.topology_key = kHostname;
  affinity.pod_anti_affinity.emplace().required.push_back(anti);
  return pod;
}

Pod SpreadReplica(int i) {
  Pod pod = Replica("agent", i, 1000 + i);
  TopologySpreadConstraint spread;
  spread.max_skew = 1;
  spread.topology_key = kZone;
  spread.label_selector = AppSelector("agent");
  pod.topology_spread_constraints.push_back(spread);
  return pod;
}

class ScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // GPU pool: four nodes, two of them in zone a. Shared pool: zone a has twice the nodes
    // of b and c, so only the spread constraint keeps the agents balanced.
    snapshot_.nodes = {MakeNode("gpu-a1", "a", true), MakeNode("gpu-a2", "a", true),
                       MakeNode("gpu-b1", "b", true), MakeNode("gpu-c1", "c", true)};
    for (const char* name : {"shared-a1", "shared-a2", "shared-a3", "shared-a4"}) {
      snapshot_.nodes.push_back(MakeNode(name, "a", false));
    }
    for (const char* name : {"shared-b1", "shared-b2", "shared-c1", "shared-c2"}) {
      snapshot_.nodes.push_back(MakeNode(name, std::string(1, name[7]), false));
    }
    PriorityClass critical;
    critical.name = "inference-critical";
    critical.value = 1000000;
    snapshot_.priority_classes.push_back(critical);
    snapshot_.namespaces.push_back(Namespace{"prod", {{"team", "ml"}}});
  }

  Snapshot snapshot_;
};

TEST_F(ScenarioTest, GuaranteedReplicasLandOnDistinctDedicatedNodes) {
  for (int i = 0; i < 3; ++i) snapshot_.pods.push_back(InferenceReplica(i));
  auto report = Replay(snapshot_, ReplayOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->placed, 3);
  std::set<std::string> hosts;
  for (const PodOutcome& o : report->outcomes) {
    EXPECT_EQ(o.qos, QosClass::kGuaranteed);
    EXPECT_EQ(o.priority, 1000000);
    EXPECT_THAT(o.node, ::testing::StartsWith("gpu-")) << o.pod_key;
    hosts.insert(o.node);
  }
  EXPECT_EQ(hosts.size(), 3u);
}

TEST_F(ScenarioTest, FifthReplicaFindsNoHostAndSaysWhy) {
  for (int i = 0; i < 5; ++i) snapshot_.pods.push_back(InferenceReplica(i));
  auto report = Replay(snapshot_, ReplayOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->placed, 4);  // one per GPU node
  const PodOutcome& last = report->outcomes.back();
  EXPECT_EQ(last.node, "");
  EXPECT_EQ(last.message,
            "0/12 nodes are available: 4 node(s) didn't match pod anti-affinity rules, "
            "8 node(s) didn't match Pod's node affinity/selector. preemption: 0/12 nodes are "
            "available: 4 No preemption victims found for incoming pod, 8 Preemption is not "
            "helpful for scheduling.");
}

TEST_F(ScenarioTest, ZoneSpreadStaysBalancedWhilePodsArrive) {
  for (int i = 0; i < 12; ++i) snapshot_.pods.push_back(SpreadReplica(i));
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    ReplayOptions options;
    options.seed = seed;
    auto report = Replay(snapshot_, options);
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_EQ(report->placed, 12);
    std::map<std::string, int> per_zone = {{"a", 0}, {"b", 0}, {"c", 0}};
    for (const PodOutcome& o : report->outcomes) {
      auto node = std::find_if(snapshot_.nodes.begin(), snapshot_.nodes.end(),
                               [&](const Node& n) { return n.name == o.node; });
      ASSERT_NE(node, snapshot_.nodes.end()) << o.pod_key;
      EXPECT_EQ(node->labels.at("sextant.io/pool"), "shared");  // untolerated GPU taint
      ++per_zone[node->labels.at(kZone)];
      auto [lo, hi] = std::minmax_element(
          per_zone.begin(), per_zone.end(),
          [](const auto& x, const auto& y) { return x.second < y.second; });
      EXPECT_LE(hi->second - lo->second, 1) << "after " << o.pod_key << " seed " << seed;
    }
    EXPECT_EQ(per_zone["a"], 4);
    EXPECT_EQ(per_zone["b"], 4);
    EXPECT_EQ(per_zone["c"], 4);
  }
}

}  // namespace
}  // namespace sextant
