// ClusterState::Digest and CheckConsistency: the digest covers every object and the derived
// accounting, ignores update order and the generation counter, and is unchanged by a rejected
// change; after every kind of update the incremental derived data equals a rebuild.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "sextant/cluster_state.h"
#include "testing/builders.h"

namespace sextant {
namespace {

using testutil::NodeBuilder;
using testutil::PodBuilder;

Node MakeNode(const std::string& name, const std::string& zone) {
  return NodeBuilder(name)
      .Label("zone", zone)
      .Allocatable({{"cpu", "4"}, {"memory", "8Gi"}, {"pods", "10"}, {"example.com/gpu", "2"}})
      .Build();
}

Pod MakePod(const std::string& name, const std::string& node, const std::string& app = "web") {
  PodBuilder builder("default", name);
  builder.Container({{"cpu", "500m"}, {"memory", "1Gi"}, {"example.com/gpu", "1"}})
      .Label("app", app);
  if (!node.empty()) builder.NodeName(node).Phase("Running");
  return builder.Build();
}

Pod WithAntiAffinity(Pod pod) {
  PodAffinityTerm term;
  term.label_selector = LabelSelector{{{"app", "web"}}, {}};
  term.topology_key = "zone";
  pod.affinity.emplace().pod_anti_affinity.emplace().required.push_back(term);
  return pod;
}

void ExpectConsistent(const ClusterState& state) {
  const absl::Status status = state.CheckConsistency();
  EXPECT_TRUE(status.ok()) << status;
}

TEST(ClusterStateDigestTest, EqualStatesHaveEqualDigestsWhateverTheOrder) {
  ClusterState a, b;
  ASSERT_TRUE(a.UpsertNode(MakeNode("n1", "a")).ok());
  ASSERT_TRUE(a.UpsertNode(MakeNode("n2", "b")).ok());
  ASSERT_TRUE(a.UpsertPod(MakePod("p1", "n1")).ok());
  ASSERT_TRUE(a.UpsertPod(MakePod("p2", "n2")).ok());
  ASSERT_TRUE(a.UpsertNamespace({"default", {{"team", "x"}}}).ok());

  ASSERT_TRUE(b.UpsertNamespace({"default", {{"team", "x"}}}).ok());
  ASSERT_TRUE(b.UpsertPod(MakePod("p2", "n2")).ok());
  ASSERT_TRUE(b.UpsertNode(MakeNode("n2", "b")).ok());
  ASSERT_TRUE(b.UpsertPod(MakePod("p1", "n1")).ok());
  ASSERT_TRUE(b.UpsertNode(MakeNode("n1", "a")).ok());
  // An update that changes nothing moves the generation, not the digest.
  ASSERT_TRUE(b.UpsertNode(MakeNode("n1", "a")).ok());
  EXPECT_NE(a.generation(), b.generation());
  EXPECT_EQ(a.Digest(), b.Digest());
  EXPECT_EQ(a.Digest().size(), 32u);
}

TEST(ClusterStateDigestTest, EveryObjectKindChangesTheDigest) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1", "a")).ok());
  std::string last = state.Digest();
  auto changed = [&] {
    const std::string now = state.Digest();
    const bool differs = now != last;
    last = now;
    return differs;
  };
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1", "b")).ok());
  EXPECT_TRUE(changed()) << "node label";
  ASSERT_TRUE(state.UpsertPod(MakePod("p1", "")).ok());
  EXPECT_TRUE(changed()) << "pending pod";
  ASSERT_TRUE(state.UpsertPod(MakePod("p1", "n1")).ok());
  EXPECT_TRUE(changed()) << "binding";
  ASSERT_TRUE(state.UpsertNamespace({"default", {}}).ok());
  EXPECT_TRUE(changed()) << "namespace";
  ASSERT_TRUE(state.UpsertNamespace({"default", {{"team", "x"}}}).ok());
  EXPECT_TRUE(changed()) << "namespace label";
  ASSERT_TRUE(state.UpsertPriorityClass({"high", 1000, false}).ok());
  EXPECT_TRUE(changed()) << "priority class";
  ASSERT_TRUE(state.UpsertPriorityClass({"high", 1001, false}).ok());
  EXPECT_TRUE(changed()) << "priority value";
  PodDisruptionBudget pdb;
  pdb.name_space = "default";
  pdb.name = "pdb";
  ASSERT_TRUE(state.UpsertPodDisruptionBudget(pdb).ok());
  EXPECT_TRUE(changed()) << "disruption budget";
  pdb.disruptions_allowed = 1;
  ASSERT_TRUE(state.UpsertPodDisruptionBudget(pdb).ok());
  EXPECT_TRUE(changed()) << "disruptions allowed";
  ASSERT_TRUE(state.AssumePod(MakePod("p2", ""), "n1").ok());
  EXPECT_TRUE(changed()) << "assumed pod";
  ASSERT_TRUE(state.ForgetPod("default/p2").ok());
  EXPECT_TRUE(changed()) << "forgotten pod";
  ASSERT_TRUE(state.RemoveNode("n1").ok());
  EXPECT_TRUE(changed()) << "node removed";
}

// Found by the quantity fuzz target: "2000E" and "2000000E" print alike ("2"), and both
// saturate the integer accounting; the digest must still tell them apart.
TEST(ClusterStateDigestTest, QuantitiesBeyondTheLargestSuffixAreDigestedExactly) {
  auto state_with = [](const char* quantity) {
    auto state = std::make_unique<ClusterState>();
    Node node = MakeNode("n1", "a");
    node.allocatable["example.com/huge"] = *Quantity::Parse(quantity);
    EXPECT_TRUE(state->UpsertNode(node).ok());
    return state;
  };
  EXPECT_EQ(Quantity::Parse("2000E")->ToString(), Quantity::Parse("2000000E")->ToString());
  EXPECT_NE(state_with("2000E")->Digest(), state_with("2000000E")->Digest());
  EXPECT_EQ(state_with("2000E")->Digest(), state_with("2000E")->Digest());
  // The same value written in another format is another object field.
  EXPECT_NE(state_with("2000E")->Digest(), state_with("2e21")->Digest());
}

// Found by the sync fuzz target: a bound pod whose label key the API would refuse ("`pp") is
// found by no selector, its own labels included; the state is consistent all the same.
TEST(ClusterStateDigestTest, PodWithALabelKeyTheApiRefusesIsConsistent) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1", "a")).ok());
  Pod pod = MakePod("p1", "n1");
  pod.labels = {{"`pp", "web"}};
  ASSERT_TRUE(state.UpsertPod(pod).ok());
  ExpectConsistent(state);
}

TEST(ClusterStateDigestTest, RejectedChangesLeaveTheDigest) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1", "a")).ok());
  ASSERT_TRUE(state.UpsertPod(MakePod("p1", "n1")).ok());
  const std::string before = state.Digest();
  EXPECT_FALSE(state.UpsertNode(Node{}).ok());
  EXPECT_FALSE(state.UpsertPod(Pod{}).ok());
  EXPECT_FALSE(state.UpsertNamespace(Namespace{}).ok());
  EXPECT_FALSE(state.UpsertPriorityClass(PriorityClass{}).ok());
  EXPECT_FALSE(state.UpsertPodDisruptionBudget(PodDisruptionBudget{}).ok());
  EXPECT_FALSE(state.RemoveNode("missing").ok());
  EXPECT_FALSE(state.RemovePod("default/missing").ok());
  EXPECT_FALSE(state.AssumePod(MakePod("p2", ""), "missing").ok());
  EXPECT_FALSE(state.AssumePod(MakePod("p1", ""), "n1").ok());  // already bound
  EXPECT_FALSE(state.ForgetPod("default/p1").ok());             // bound, not assumed
  EXPECT_EQ(state.Digest(), before);
  ExpectConsistent(state);
}

TEST(ClusterStateDigestTest, DerivedDataMatchesARebuildAfterEveryKindOfUpdate) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1", "a")).ok());
  ASSERT_TRUE(state.UpsertNode(MakeNode("n2", "b")).ok());
  ExpectConsistent(state);
  ASSERT_TRUE(state.UpsertPod(WithAntiAffinity(MakePod("p1", "n1"))).ok());
  ASSERT_TRUE(state.UpsertPod(MakePod("p2", "n2", "db")).ok());
  Pod nominated = MakePod("p3", "");
  nominated.nominated_node_name = "n2";
  ASSERT_TRUE(state.UpsertPod(nominated).ok());
  ExpectConsistent(state);
  // A pod moves, its labels change, it is assumed, forgotten, finished.
  ASSERT_TRUE(state.UpsertPod(WithAntiAffinity(MakePod("p1", "n2", "cache"))).ok());
  ASSERT_TRUE(state.AssumePod(MakePod("p4", ""), "n1").ok());
  ExpectConsistent(state);
  ASSERT_TRUE(state.UpsertPod(MakePod("p4", "n1")).ok());  // the binding confirms it
  ASSERT_TRUE(state.AssumePod(MakePod("p5", ""), "n2").ok());
  ASSERT_TRUE(state.ForgetPod("default/p5").ok());
  Pod done = MakePod("p2", "n2", "db");
  done.phase = "Succeeded";
  ASSERT_TRUE(state.UpsertPod(done).ok());
  ExpectConsistent(state);
  // The nominated node goes away and comes back with other labels; a pod stays bound to a
  // removed node; a pod is nominated to a node that does not exist.
  ASSERT_TRUE(state.RemoveNode("n2").ok());
  ExpectConsistent(state);
  ASSERT_TRUE(state.UpsertNode(MakeNode("n2", "c")).ok());
  ASSERT_TRUE(state.RemoveNode("n1").ok());
  Pod ghost = MakePod("p6", "");
  ghost.nominated_node_name = "n9";
  ASSERT_TRUE(state.UpsertPod(ghost).ok());
  ExpectConsistent(state);
  ASSERT_TRUE(state.RemovePod("default/p1").ok());
  ASSERT_TRUE(state.RemovePod("default/p3").ok());
  ASSERT_TRUE(state.RemovePod("default/p4").ok());
  ExpectConsistent(state);
}

}  // namespace
}  // namespace sextant
