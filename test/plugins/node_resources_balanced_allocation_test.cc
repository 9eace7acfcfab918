// Cases ported from pkg/scheduler/framework/plugins/noderesources/balanced_allocation_test.go
// (v1.37) TestNodeResourcesBalancedAllocation. v1.37 scores the change in balance:
// 50 + (50 + score(with pod) - score(without pod)) / 2, score = (1 - std(fractions)) * 100.
// The DRA-backed rows are not ported (the model has no DRA); the "PreScore not called" row is the
// same computation as its PreScore twin here.
#include "plugins/node_resources_balanced_allocation.h"

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "plugins/node_resources_fit.h"
#include "testing/builders.h"

namespace sextant {
namespace {

using testutil::MakeState;
using testutil::NodeBuilder;
using testutil::NodeInfoFor;
using testutil::PodBuilder;
using testutil::ResourceLiterals;

// util_test.go makeNode: cpu in millis, memory in bytes, extended resources as integers.
Node MakeNode(const std::string& name, int64_t milli_cpu, int64_t memory,
              std::map<std::string, int64_t> extended = {}) {
  ResourceList list = {{kResourceCpu, Quantity::FromMilli(milli_cpu)},
                       {kResourceMemory, Quantity::FromInt(memory, Quantity::Format::kBinarySI)}};
  for (const auto& [resource, value] : extended) list[resource] = Quantity::FromInt(value);
  return NodeBuilder(name).AllocatableList(std::move(list)).Build();
}

ResourceList R(ResourceLiterals items) { return testutil::Resources(items); }

// st.MakePod().Node(node).Req(a).Req(b)...: one container per list.
Pod OnNode(const std::string& node, const std::string& name, std::vector<ResourceList> containers) {
  PodBuilder builder("default", name);
  for (ResourceList& requests : containers) builder.ContainerList(std::move(requests));
  return builder.NodeName(node).Build();
}

Pod Requesting(std::vector<ResourceList> containers) {
  PodBuilder builder("default", "incoming");
  for (ResourceList& requests : containers) builder.ContainerList(std::move(requests));
  return builder.Build();
}

const std::vector<ResourceSpec> kCpuMemory = {{"cpu", 1}, {"memory", 1}};
const std::vector<ResourceSpec> kCpuMemoryGpu = {{"cpu", 1}, {"memory", 1}, {"nvidia.com/gpu", 1}};

struct Case {
  std::string name;
  Pod pod;
  std::vector<Node> nodes;
  std::vector<Pod> existing;
  std::vector<ResourceSpec> resources;
  bool want_skip;
  std::vector<int64_t> want;  // empty when skipped
};

// gtest names the failing row instead of dumping its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class BalancedAllocationTest : public ::testing::TestWithParam<Case> {};

TEST_P(BalancedAllocationTest, MatchesUpstream) {
  const Case& c = GetParam();
  auto state = MakeState(c.nodes, c.existing);
  ResourceAllocationPreScoreState pre =
      ResourceAllocationPreScore(c.pod, c.resources, state->resources(), /*use_requested=*/true);
  EXPECT_EQ(BalancedAllocationSkips(pre), c.want_skip);
  if (c.want_skip) return;
  std::vector<int64_t> scores;
  for (const Node& node : c.nodes) {
    scores.push_back(BalancedAllocationScore(pre, NodeInfoFor(*state, node.name)));
  }
  EXPECT_EQ(scores, c.want);
}

std::vector<Case> Cases() {
  const std::vector<ResourceList> requested = {R({{"cpu", "1000m"}, {"memory", "2000"}}),
                                               R({{"cpu", "2000m"}, {"memory", "3000"}})};
  return {
      {"BestEffortPodSkipsInPreScore",
       Requesting({}),
       {MakeNode("node1", 4000, 10000), MakeNode("node2", 4000, 10000)},
       {},
       kCpuMemory,
       true,
       {}},
      // node1: cpu 0 -> 75%, memory 0 -> 50%: 100 -> 87, score 68. node2: 100 -> 100, 75.
      {"NothingScheduledDifferentlySizedNodes",
       Requesting(requested),
       {MakeNode("node1", 4000, 10000), MakeNode("node2", 6000, 10000)},
       {},
       kCpuMemory,
       false,
       {68, 75}},
      {"ResourcesRequestedPodsScheduledWithResources",
       Requesting(requested),
       {MakeNode("node1", 10000, 20000), MakeNode("node2", 10000, 20000)},
       {OnNode("node1", "e1", {R({{"cpu", "1000m"}}), R({{"cpu", "2000m"}})}),
        OnNode("node2", "e2", requested)},
       kCpuMemory,
       false,
       {73, 74}},
      {"ResourcesRequestedPodsScheduledDifferentlySizedNodes",
       Requesting(requested),
       {MakeNode("node1", 10000, 20000), MakeNode("node2", 10000, 50000)},
       {OnNode("node1", "e1", {R({{"cpu", "1000m"}}), R({{"cpu", "2000m"}})}),
        OnNode("node2", "e2", requested)},
       kCpuMemory,
       false,
       {73, 70}},
      {"NodesReachMinAndMaxScore",
       Requesting({R({{"memory", "2000"}}), R({{"memory", "3000"}})}),
       {MakeNode("node1", 3000, 5000), MakeNode("node2", 3000, 5000)},
       {OnNode("node1", "e1", {R({{"cpu", "1000m"}}), R({{"cpu", "2000m"}})})},
       kCpuMemory,
       false,
       {100, 50}},
      {"RequestedResourcesAtNodeCapacity",
       Requesting({R({{"cpu", "1000m"}}), R({{"cpu", "2000m"}})}),
       {MakeNode("node1", 6000, 10000), MakeNode("node2", 6000, 10000)},
       {OnNode("node1", "e1", {R({{"cpu", "1000m"}}), R({{"cpu", "2000m"}})}),
        OnNode("node2", "e2", requested)},
       kCpuMemory,
       false,
       {62, 62}},
      {"ScalarResourceIncludedWhenRequested",
       Requesting({R({{"cpu", "0"}, {"memory", "0"}, {"nvidia.com/gpu", "1"}})}),
       {MakeNode("node1", 3500, 40000, {{"nvidia.com/gpu", 8}}),
        MakeNode("node2", 3500, 40000, {{"nvidia.com/gpu", 8}})},
       {OnNode("node1", "e1",
               {R({{"cpu", "1000m"}, {"memory", "2000"}}),
                R({{"cpu", "2000m"}, {"memory", "3000"}, {"nvidia.com/gpu", "3"}})}),
        OnNode("node2", "e2", requested)},
       kCpuMemoryGpu,
       false,
       {75, 76}},
      {"ScalarResourceIgnoredWhenNotRequested",
       Requesting(requested),
       {MakeNode("node1", 3500, 40000, {{"nvidia.com/gpu", 8}}), MakeNode("node2", 3500, 40000)},
       {},
       kCpuMemoryGpu,
       false,
       {56, 56}},
      // ---- rules of the v1.37 formula ----
      // Balanced allocation reads actual requests, not the 100m / 200Mi scoring defaults: with
      // defaults, memory would be 200Mi of 10000 bytes and the fraction would cap at 1.
      {"UsesActualRequestsNotScoringDefaults",
       PodBuilder("default", "incoming").Container({{"cpu", "1000m"}}).Container({}).Build(),
       {MakeNode("node1", 4000, 10000)},
       {},
       kCpuMemory,
       false,
       {68}},
      {"RequestlessContainersAreBestEffort",
       PodBuilder("default", "incoming").Container({}).Container({}).Build(),
       {MakeNode("node1", 4000, 10000)},
       {},
       kCpuMemory,
       true,
       {}},
      // Only the configured resources decide best effort.
      {"UnscoredResourceRequestIsBestEffort",
       Requesting({R({{"example.com/foo", "1"}})}),
       {MakeNode("node1", 4000, 10000, {{"example.com/foo", 4}})},
       {},
       kCpuMemory,
       true,
       {}},
      // Fractions cap at 1: cpu 8000m of 4000m counts as 100%, memory 50% -> std 0.25 -> 75;
      // without the pod 0% and 0% -> 100; 50 + (50 + 75 - 100) / 2 = 62.
      {"FractionsCapAtOne",
       Requesting({R({{"cpu", "8000m"}, {"memory", "5000"}})}),
       {MakeNode("node1", 4000, 10000)},
       {},
       kCpuMemory,
       false,
       {62}},
      // A pod that restores balance scores above 75: cpu 50% -> 50%, memory 0% -> 50%.
      {"ImprovingBalanceScoresAbove75",
       Requesting({R({{"memory", "5000"}})}),
       {MakeNode("node1", 4000, 10000)},
       {OnNode("node1", "e1", {R({{"cpu", "2000m"}})})},
       kCpuMemory,
       false,
       {87}},
      // A single resource has no deviation: score 100 with and without, 50 + 50 / 2 = 75.
      {"SingleResourceAlwaysScores75",
       Requesting({R({{"cpu", "3000m"}})}),
       {MakeNode("node1", 4000, 10000)},
       {},
       {{"cpu", 1}},
       false,
       {75}},
      // Node without the resource: the entry is left out, leaving one fraction.
      {"ResourceMissingOnNodeIsLeftOut",
       Requesting({R({{"cpu", "1000m"}, {"memory", "5000"}})}),
       {MakeNode("node1", 4000, 0)},
       {},
       kCpuMemory,
       false,
       {75}},
  };
}

INSTANTIATE_TEST_SUITE_P(Upstream, BalancedAllocationTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace sextant
