// Found by the parity harness: upstream's NodeResourcesFit scorer ignores pod-level resources
// (NewFit builds it without the PodLevelResources gate), while its filter and BalancedAllocation
// honour them.
#include "gtest/gtest.h"
#include "plugins/node_resources_balanced_allocation.h"
#include "plugins/node_resources_fit.h"
#include "testing/builders.h"

namespace sextant {
namespace {

Pod PodLevelPod(bool container_requests) {
  Pod pod;
  pod.name_space = "default";
  pod.name = "p";
  Container c;
  c.name = "c";
  if (container_requests) {
    c.requests = {{"cpu", *Quantity::Parse("1")}, {"memory", *Quantity::Parse("1Gi")}};
  }
  pod.containers.push_back(c);
  pod.resources = PodResources{{{"cpu", *Quantity::Parse("2")}, {"memory", *Quantity::Parse("2Gi")}},
                               {}};
  return pod;
}

TEST(NodeResourcesFitPodLevelTest, ScoreUsesContainerRequestsNotPodLevel) {
  ClusterState state;
  Node node;
  node.name = "n";
  node.allocatable = {{"cpu", *Quantity::Parse("4")}, {"memory", *Quantity::Parse("8Gi")},
                      {"pods", *Quantity::Parse("110")}};
  ASSERT_TRUE(state.UpsertNode(node).ok());
  const NodeInfo& info = state.node(state.FindNode("n"));
  ScoringStrategy least;
  struct Case {
    bool container_requests;
    int64_t want;  // upstream v1.37.2, from the parity harness
  } cases[] = {{true, 81}, {false, 97}};
  for (const Case& c : cases) {
    auto fit = ResourceAllocationPreScore(PodLevelPod(c.container_requests), least.resources,
                                          state.resources(), /*use_requested=*/false);
    EXPECT_EQ(NodeResourcesFitScore(fit, least, info), c.want) << c.container_requests;
  }
  // BalancedAllocation does read the pod-level requests (2 of 4 cpu, 2Gi of 8Gi).
  auto balanced = ResourceAllocationPreScore(PodLevelPod(true), least.resources, state.resources(),
                                             /*use_requested=*/true);
  EXPECT_EQ(balanced.pod_requests, (std::vector<int64_t>{2000, 2LL << 30}));
}

}  // namespace
}  // namespace sextant
