// Resource accounting with quantities far beyond any machine: amounts are clamped and sums
// saturate (state/internal/saturating.h), so no arithmetic overflows (the sync and snapshot fuzz
// targets found signed overflow in the sums and in LeastAllocated's product under UBSan).
#include "state/resource.h"

#include "gtest/gtest.h"
#include "sextant/cluster_state.h"
#include "sextant/engine.h"
#include "state/internal/saturating.h"
#include "state/node_info.h"
#include "testing/builders.h"

namespace sextant {
namespace {

using internal::kMaxResourceSum;
using internal::kMaxResourceValue;
using testutil::NodeBuilder;
using testutil::PodBuilder;

TEST(ResourceTest, AmountsAreClampedAndSumsSaturate) {
  ResourceRegistry registry;
  Resource node;
  node.AddList({{"cpu", *Quantity::Parse("1e25")},
                {"memory", *Quantity::Parse("9e18")},
                {"example.com/gpu", *Quantity::Parse("-1e20")}},
               registry);
  EXPECT_EQ(node.milli_cpu, kMaxResourceValue);
  EXPECT_EQ(node.memory, kMaxResourceValue);
  EXPECT_EQ(node.Scalar(registry.Find("example.com/gpu")), -kMaxResourceValue);

  Resource sum;
  for (int i = 0; i < 1000; ++i) sum.Add(node, +1);  // 1000 x 2^53 > 2^62
  EXPECT_EQ(sum.memory, kMaxResourceSum);
  EXPECT_EQ(sum.Scalar(registry.Find("example.com/gpu")), -kMaxResourceSum);

  // Below saturation the arithmetic is exact and undone exactly.
  Resource exact;
  for (int i = 0; i < 3; ++i) exact.Add(node, +1);
  EXPECT_EQ(exact.memory, 3 * kMaxResourceValue);
  for (int i = 0; i < 3; ++i) exact.Add(node, -1);
  EXPECT_EQ(exact.memory, 0);
}

TEST(ResourceTest, HugeQuantitiesScheduleWithoutOverflow) {
  EngineOptions options;
  options.epoch = "e";
  options.profile.parallelism = 1;
  Engine engine(options);
  const Node full = NodeBuilder("full")
                        .Allocatable({{"cpu", "1e25"}, {"memory", "1e28"}, {"pods", "110"}})
                        .Build();
  const Node empty = NodeBuilder("empty")
                         .Allocatable({{"cpu", "1e25"}, {"memory", "1e28"}, {"pods", "110"}})
                         .Build();
  std::vector<ClusterChange> objects = {full, empty};
  for (int i = 0; i < 3; ++i) {
    objects.push_back(PodBuilder("default", "big-" + std::to_string(i))
                          .Container({{"cpu", "9223372036854775807"}, {"memory", "9e18"}})
                          .NodeName("full")
                          .Phase("Running")
                          .Build());
  }
  ASSERT_TRUE(engine.ApplySnapshot(1, objects).ok());
  EXPECT_TRUE(engine.CheckConsistency().ok());
  const Pod pod =
      PodBuilder("default", "incoming").Container({{"cpu", "1e20"}, {"memory", "9e18"}}).Build();
  std::string chosen;
  ASSERT_TRUE(
      engine
          .Evaluate(pod, 1, "", absl::ZeroDuration(),
                    [&](const Evaluation& evaluation, const ClusterState& state) {
                      if (evaluation.chosen) {
                        chosen =
                            state.node(evaluation.verdicts[*evaluation.chosen].node).node->name;
                      }
                    })
          .ok());
  // Clamped, "full" holds three times the most a node can offer; "empty" still fits one.
  EXPECT_EQ(chosen, "empty");
}

}  // namespace
}  // namespace sextant
