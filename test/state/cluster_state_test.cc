#include "sextant/cluster_state.h"

#include "gtest/gtest.h"
#include "state/node_info.h"

namespace sextant {
namespace {

Quantity Q(const char* text) { return *Quantity::Parse(text); }

Node MakeNode(const std::string& name, const char* cpu = "4", const char* memory = "8Gi") {
  Node node;
  node.name = name;
  node.allocatable = {{"cpu", Q(cpu)}, {"memory", Q(memory)}, {"pods", Q("110")},
                      {"nvidia.com/gpu", Q("8")}};
  return node;
}

Pod MakePod(const std::string& name, const std::string& node_name, const char* cpu,
            const char* memory = nullptr) {
  Pod pod;
  pod.name_space = "default";
  pod.name = name;
  pod.node_name = node_name;
  pod.phase = node_name.empty() ? "Pending" : "Running";
  Container c;
  c.name = "c";
  if (cpu) c.requests["cpu"] = Q(cpu);
  if (memory) c.requests["memory"] = Q(memory);
  pod.containers.push_back(c);
  return pod;
}

TEST(ClusterStateTest, BoundPodsAreAccountedOnTheirNode) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1")).ok());
  ASSERT_TRUE(state.UpsertPod(MakePod("a", "n1", "500m", "1Gi")).ok());
  ASSERT_TRUE(state.UpsertPod(MakePod("b", "n1", "250m")).ok());
  const NodeInfo& info = state.node(state.FindNode("n1"));
  EXPECT_EQ(info.requested.milli_cpu, 750);
  EXPECT_EQ(info.requested.memory, 1LL << 30);
  EXPECT_EQ(info.pods.size(), 2u);
  // Scoring counts a missing memory request as 200Mi.
  EXPECT_EQ(info.non0_memory, (1LL << 30) + 200LL * 1024 * 1024);
  EXPECT_EQ(info.allocatable.allowed_pod_number, 110);
  EXPECT_EQ(state.bound_pod_count(), 2u);
}

TEST(ClusterStateTest, UpdatingAPodReplacesItsAccounting) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1")).ok());
  ASSERT_TRUE(state.UpsertNode(MakeNode("n2")).ok());
  ASSERT_TRUE(state.UpsertPod(MakePod("a", "n1", "500m")).ok());
  ASSERT_TRUE(state.UpsertPod(MakePod("a", "n2", "1")).ok());
  EXPECT_EQ(state.node(state.FindNode("n1")).requested.milli_cpu, 0);
  EXPECT_EQ(state.node(state.FindNode("n1")).pods.size(), 0u);
  EXPECT_EQ(state.node(state.FindNode("n2")).requested.milli_cpu, 1000);
  EXPECT_EQ(state.bound_pod_count(), 1u);
}

TEST(ClusterStateTest, TerminalPodsReleaseTheirResources) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1")).ok());
  ASSERT_TRUE(state.UpsertPod(MakePod("a", "n1", "500m")).ok());
  Pod done = MakePod("a", "n1", "500m");
  done.phase = "Succeeded";
  ASSERT_TRUE(state.UpsertPod(done).ok());
  EXPECT_EQ(state.node(state.FindNode("n1")).requested.milli_cpu, 0);
  EXPECT_EQ(state.FindPod("default/a"), nullptr);
}

TEST(ClusterStateTest, PendingPodsHoldNothing) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1")).ok());
  ASSERT_TRUE(state.UpsertPod(MakePod("p", "", "1")).ok());
  EXPECT_EQ(state.node(state.FindNode("n1")).requested.milli_cpu, 0);
  EXPECT_EQ(state.pending_pod_count(), 1u);
  EXPECT_EQ(state.bound_pod_count(), 0u);
}

TEST(ClusterStateTest, AssumeAndForgetRoundTrip) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1")).ok());
  Pod pod = MakePod("p", "", "2");
  ASSERT_TRUE(state.AssumePod(pod, "n1").ok());
  EXPECT_EQ(state.node(state.FindNode("n1")).requested.milli_cpu, 2000);
  EXPECT_TRUE(state.FindPod("default/p")->assumed);
  EXPECT_EQ(state.AssumePod(pod, "n1").code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(state.ForgetPod("default/p").ok());
  EXPECT_EQ(state.node(state.FindNode("n1")).requested.milli_cpu, 0);
  EXPECT_EQ(state.ForgetPod("default/p").code(), absl::StatusCode::kNotFound);
}

TEST(ClusterStateTest, BindingConfirmsAnAssumedPod) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1")).ok());
  ASSERT_TRUE(state.AssumePod(MakePod("p", "", "2"), "n1").ok());
  ASSERT_TRUE(state.UpsertPod(MakePod("p", "n1", "2")).ok());
  EXPECT_FALSE(state.FindPod("default/p")->assumed);
  EXPECT_EQ(state.node(state.FindNode("n1")).requested.milli_cpu, 2000);
  EXPECT_EQ(state.ForgetPod("default/p").code(), absl::StatusCode::kNotFound);
}

// The pending pod's own delta can reach the engine after the scheduler's Assume (the Sync stream
// and the unary Assume are separate paths). It must not undo the assumption.
TEST(ClusterStateTest, StalePendingCopyDoesNotUndoAnAssumption) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1")).ok());
  ASSERT_TRUE(state.AssumePod(MakePod("p", "", "2"), "n1").ok());
  ASSERT_TRUE(state.UpsertPod(MakePod("p", "", "2")).ok());
  ASSERT_NE(state.FindPod("default/p"), nullptr);
  EXPECT_TRUE(state.FindPod("default/p")->assumed);
  EXPECT_EQ(state.node(state.FindNode("n1")).requested.milli_cpu, 2000);
  EXPECT_EQ(state.bound_pod_count(), 1u);
  EXPECT_EQ(state.pending_pod_count(), 0u);
  // The bound pod confirms it; a forgotten one is gone.
  ASSERT_TRUE(state.UpsertPod(MakePod("p", "n1", "2")).ok());
  EXPECT_FALSE(state.FindPod("default/p")->assumed);
  ASSERT_TRUE(state.AssumePod(MakePod("q", "", "1"), "n1").ok());
  ASSERT_TRUE(state.UpsertPod(MakePod("q", "", "1")).ok());
  ASSERT_TRUE(state.ForgetPod("default/q").ok());
  EXPECT_EQ(state.node(state.FindNode("n1")).requested.milli_cpu, 2000);
}

TEST(ClusterStateTest, AssumeOntoUnknownNodeChangesNothing) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1")).ok());
  uint64_t generation = state.generation();
  absl::Status status = state.AssumePod(MakePod("p", "", "2"), "missing");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("missing"), std::string::npos);
  EXPECT_EQ(state.generation(), generation);
  EXPECT_EQ(state.FindPod("default/p"), nullptr);
}

TEST(ClusterStateTest, RemovedNodeKeepsItsPodsButIsNoCandidate) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1")).ok());
  ASSERT_TRUE(state.UpsertNode(MakeNode("n2")).ok());
  ASSERT_TRUE(state.UpsertPod(MakePod("a", "n1", "1")).ok());
  ASSERT_TRUE(state.RemoveNode("n1").ok());
  EXPECT_EQ(state.live_nodes().size(), 1u);
  EXPECT_EQ(state.FindNode("n1"), -1);
  EXPECT_EQ(state.bound_pod_count(), 1u);  // never lose a pod
  // The node comes back with its pod still accounted.
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1")).ok());
  EXPECT_EQ(state.node(state.FindNode("n1")).requested.milli_cpu, 1000);
  EXPECT_EQ(state.live_nodes().size(), 2u);
}

TEST(ClusterStateTest, PodOnUnknownNodeCreatesAPlaceholder) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertPod(MakePod("a", "later", "1")).ok());
  EXPECT_EQ(state.FindNode("later"), -1);
  EXPECT_TRUE(state.live_nodes().empty());
  ASSERT_TRUE(state.UpsertNode(MakeNode("later")).ok());
  EXPECT_EQ(state.node(state.FindNode("later")).requested.milli_cpu, 1000);
}

TEST(ClusterStateTest, ExtendedResourcesAreInternedAndCounted) {
  ClusterState state;
  ASSERT_TRUE(state.UpsertNode(MakeNode("n1")).ok());
  Pod pod = MakePod("g", "n1", "1");
  pod.containers[0].requests["nvidia.com/gpu"] = Q("2");
  pod.containers[0].requests["unprefixed-thing"] = Q("5");  // neither native nor scalar: ignored
  ASSERT_TRUE(state.UpsertPod(pod).ok());
  const NodeInfo& info = state.node(state.FindNode("n1"));
  ResourceId gpu = state.resources().Find("nvidia.com/gpu");
  ASSERT_NE(gpu, ResourceRegistry::kUnknown);
  EXPECT_EQ(info.requested.Scalar(gpu), 2);
  EXPECT_EQ(info.allocatable.Scalar(gpu), 8);
  EXPECT_EQ(state.resources().Find("unprefixed-thing"), ResourceRegistry::kUnknown);
}

TEST(ClusterStateTest, RejectsNamelessObjects) {
  ClusterState state;
  EXPECT_EQ(state.UpsertNode(Node{}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(state.UpsertPod(Pod{}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(state.RemovePod("default/none").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(state.RemoveNode("none").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(state.generation(), 0u);
}

TEST(ResourceNameTest, ScalarResourceNamesAsUpstream) {
  struct Case {
    const char* name;
    bool extended;
    bool scalar;
  } cases[] = {
      {"nvidia.com/gpu", true, true},
      {"example.com/foo", true, true},
      {"cpu", false, false},
      {"foo", false, false},                           // unprefixed: native, not tracked
      {"kubernetes.io/foo", false, true},              // prefixed native
      {"hugepages-2Mi", false, true},
      {"attachable-volumes-aws-ebs", false, true},
      {"requests.example.com/foo", false, false},      // quota prefix
      {"example.com/-bad", false, false},              // not a qualified name
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsExtendedResourceName(c.name), c.extended) << c.name;
    EXPECT_EQ(IsScalarResourceName(c.name), c.scalar) << c.name;
  }
}

}  // namespace
}  // namespace sextant
