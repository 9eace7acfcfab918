// Each policy's score formula on small hand-computed cases.
#include <array>
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "sextant/gpu.h"

namespace sextant {
namespace {

GpuModelId Model(const char* name) { return *ParseGpuModel(name); }

GpuDemand Demand(int64_t cpu, int num, int64_t milli, GpuModelMask models = 0) {
  GpuDemand d;
  d.cpu_milli = cpu;
  d.num_gpu = num;
  d.gpu_milli = milli;
  d.models = models;
  return d;
}

GpuPlacement Score(GpuPolicy policy, const GpuDemand& demand, const GpuDeviceTable& gpus,
                   int64_t cpu_left, const GpuWorkload* workload = nullptr,
                   const std::array<int32_t, kGpuKinds>* kinds = nullptr, double draw = 0) {
  GpuNodeView view;
  view.gpus = &gpus;
  view.cpu_left_milli = cpu_left;
  view.cpu_capacity_milli = cpu_left;
  view.kind_counts = kinds;
  GpuScoreContext context;
  context.workload = workload;
  context.random_draw = draw;
  return ScoreGpuNode(policy, demand, view, context);
}

TEST(GpuPolicyTest, NamesRoundTrip) {
  for (GpuPolicy policy : kAllGpuPolicies) {
    EXPECT_EQ(*ParseGpuPolicy(GpuPolicyName(policy)), policy);
  }
  EXPECT_EQ(*ParseGpuPolicy("fgd"), GpuPolicy::kFgd);
  EXPECT_FALSE(ParseGpuPolicy("tetris").ok());
}

TEST(DotProductScoreTest, OneMinusHalfTheNormalisedDotProduct) {
  GpuDeviceTable gpus(Model("P100"), 2);
  // (64000/128000 * 8000/128000 + 2000/8000 * 1000/8000) / 2 = 0.03125 -> floor(96.875).
  GpuPlacement p = Score(GpuPolicy::kDotProduct, Demand(8000, 1, 1000), gpus, 64000);
  EXPECT_EQ(p.score, 96);
  EXPECT_EQ(p.devices, 0b01u);
}

TEST(BestFitScoreTest, LeastLeftAfterPlacementScoresHighest) {
  GpuDeviceTable gpus(Model("P100"), 2);
  // 1 - (56000/128000 + 1000/8000) / 2 = 0.71875 -> 71.
  EXPECT_EQ(Score(GpuPolicy::kBestFit, Demand(8000, 1, 1000), gpus, 64000).score, 71);
  gpus.Allocate(0b01, 1000);
  // 1 - (0 + 0) / 2 -> 100: the pod fills the node exactly.
  EXPECT_EQ(Score(GpuPolicy::kBestFit, Demand(8000, 1, 1000), gpus, 8000).score, 100);
}

TEST(GpuClusteringScoreTest, BandsByKindsOnTheNodeThenFill) {
  GpuDeviceTable gpus(Model("G2"), 8);
  gpus.Allocate(0b1, 700);  // 7300 left: fill = 25 * 700 / 8000 = 2
  const GpuDemand shared = Demand(1000, 1, 300);
  std::array<int32_t, kGpuKinds> only_shared{};
  only_shared[0] = 2;
  std::array<int32_t, kGpuKinds> mixed = only_shared;
  mixed[1] = 1;
  std::array<int32_t, kGpuKinds> other{};
  other[8] = 1;
  std::array<int32_t, kGpuKinds> empty{};
  EXPECT_EQ(Score(GpuPolicy::kGpuClustering, shared, gpus, 1, nullptr, &only_shared).score, 77);
  EXPECT_EQ(Score(GpuPolicy::kGpuClustering, shared, gpus, 1, nullptr, &mixed).score, 52);
  EXPECT_EQ(Score(GpuPolicy::kGpuClustering, shared, gpus, 1, nullptr, &empty).score, 27);
  EXPECT_EQ(Score(GpuPolicy::kGpuClustering, shared, gpus, 1, nullptr, &other).score, 2);
  EXPECT_EQ(Score(GpuPolicy::kGpuClustering, Demand(1000, 0, 0), gpus, 1, nullptr, &mixed).score,
            0);
  EXPECT_EQ(GpuKindIndex(Demand(1, 8, 1000)), 8);
  EXPECT_EQ(GpuKindIndex(Demand(1, 1, 1000)), 1);
}

TEST(GpuPackingScoreTest, PartlyUsedDeviceThenUsedNodeThenIdleNode) {
  GpuDeviceTable gpus(Model("V100M16"), 4);
  gpus.Allocate(0b0001, 700);  // device 0 has 300 left
  // A 200 share fits device 0: 100 - (300 * 100 / 1000) / 10 = 97.
  GpuPlacement p = Score(GpuPolicy::kGpuPacking, Demand(1, 1, 200), gpus, 1);
  EXPECT_EQ(p.score, 97);
  EXPECT_EQ(p.devices, 0b0001u);
  // A 500 share must open an idle device: 50 - 1.
  EXPECT_EQ(Score(GpuPolicy::kGpuPacking, Demand(1, 1, 500), gpus, 1).score, 49);
  // Two whole GPUs on the used node: 50 - 2.
  EXPECT_EQ(Score(GpuPolicy::kGpuPacking, Demand(1, 2, 1000), gpus, 1).score, 48);
  // An idle node: 33 - its device count.
  GpuDeviceTable idle(Model("G2"), 8);
  EXPECT_EQ(Score(GpuPolicy::kGpuPacking, Demand(1, 1, 500), idle, 1).score, 25);
  EXPECT_EQ(Score(GpuPolicy::kGpuPacking, Demand(1, 0, 0), gpus, 1).score, 0);
}

TEST(RandomScoreTest, SharedDeviceIsDrawnAmongThoseThatFit) {
  GpuDeviceTable gpus(Model("T4"), 4);
  gpus.Allocate(0b0010, 900);  // device 1 cannot take 500
  EXPECT_EQ(Score(GpuPolicy::kRandom, Demand(1, 1, 500), gpus, 1, nullptr, nullptr, 0.0).devices,
            0b0001u);
  EXPECT_EQ(Score(GpuPolicy::kRandom, Demand(1, 1, 500), gpus, 1, nullptr, nullptr, 0.5).devices,
            0b0100u);
  EXPECT_EQ(Score(GpuPolicy::kRandom, Demand(1, 1, 500), gpus, 1, nullptr, nullptr, 0.99).devices,
            0b1000u);
  EXPECT_EQ(Score(GpuPolicy::kRandom, Demand(1, 2, 1000), gpus, 1).devices, 0b0101u);
}

TEST(FgdScoreTest, SigmoidOfTheFragmentationDecreaseAndBestDevice) {
  GpuWorkload w;
  w.types.push_back({Demand(1000, 1, 500), 1.0});
  GpuDeviceTable gpus(Model("T4"), 2);
  gpus.Allocate(0b01, 400);  // left 600, 1000; nothing is fragment yet
  // A 300 share on device 0 leaves 300 < 500 (fragment 300, floor(100 sigmoid(-0.3)) = 42);
  // on device 1 it leaves 700 (no fragment, 50): FGD takes device 1.
  GpuPlacement p = Score(GpuPolicy::kFgd, Demand(1000, 1, 300), gpus, 8000, &w);
  EXPECT_EQ(p.score, 50);
  EXPECT_EQ(p.devices, 0b10u);
  // A 100 share: device 0 keeps 500 (usable), device 1 keeps 900: equal, the first is kept.
  p = Score(GpuPolicy::kFgd, Demand(1000, 1, 100), gpus, 8000, &w);
  EXPECT_EQ(p.score, 50);
  EXPECT_EQ(p.devices, 0b01u);
  // A whole GPU leaves 600 with no fragment.
  EXPECT_EQ(Score(GpuPolicy::kFgd, Demand(1000, 1, 1000), gpus, 8000, &w).score, 50);
  // Taking the cpu the type needs turns all 1600 idle milli into fragment.
  EXPECT_EQ(Score(GpuPolicy::kFgd, Demand(7500, 0, 0), gpus, 8000, &w).score,
            std::floor(100 / (1 + std::exp(1.6))));
}

TEST(SextantScoreTest, PaysForGpusItStrandsWithoutCpu) {
  GpuWorkload w;
  w.types.push_back({Demand(5000, 1, 1000), 1.0});
  w.cpu_per_gpu_milli = 10;  // 10 cores per GPU
  GpuDeviceTable gpus(Model("P100"), 2);
  // 5 cores for one GPU: the other GPU keeps its 10 cores, nothing stranded -> 50.
  EXPECT_EQ(Score(GpuPolicy::kSextant, Demand(5000, 1, 1000), gpus, 20000, &w).score, 50);
  // 15 cores: 5 left can feed half a GPU, 500 milli stranded; FGD sees no change (the type
  // still fits) and gives 50, Sextant floor(100 sigmoid(-0.5)) = 37.
  EXPECT_EQ(Score(GpuPolicy::kFgd, Demand(15000, 1, 1000), gpus, 20000, &w).score, 50);
  EXPECT_EQ(Score(GpuPolicy::kSextant, Demand(15000, 1, 1000), gpus, 20000, &w).score, 37);
}

TEST(SextantScoreTest, KeepsPressedModelsForPodsThatNeedThem) {
  const GpuModelMask t4_only = GpuModelMask{1} << Model("T4");
  const GpuModelMask t4_or_v100 = t4_only | (GpuModelMask{1} << Model("V100M16"));
  GpuWorkload w;
  w.types.push_back({Demand(1000, 1, 1000), 0.9});
  w.types.push_back({Demand(1000, 1, 1000, t4_only), 0.1});
  // Restricted pods press on T4 twice its share of the cluster, on V100M16 a little, not on G2.
  w.cluster_models = t4_or_v100 | (GpuModelMask{1} << Model("G2"));
  w.model_pressure[Model("T4")] = 2.0;
  w.model_pressure[Model("V100M16")] = 0.4;
  GpuDeviceTable t4(Model("T4"), 2);
  GpuDeviceTable v100(Model("V100M16"), 4);
  GpuDeviceTable g2(Model("G2"), 8);
  const GpuDemand any = Demand(1000, 1, 1000);
  // A pod that takes any model pays nothing on G2 (nobody presses on it) and 0.5 x 2.0 x 1000
  // on a T4, where FGD sees no change: floor(100 sigmoid(-1)).
  EXPECT_EQ(Score(GpuPolicy::kSextant, any, g2, 64000, &w).score,
            Score(GpuPolicy::kFgd, any, g2, 64000, &w).score);
  EXPECT_EQ(Score(GpuPolicy::kFgd, any, t4, 64000, &w).score, 50);
  EXPECT_EQ(Score(GpuPolicy::kSextant, any, t4, 64000, &w).score,
            std::floor(100 / (1 + std::exp(1.0))));
  EXPECT_LT(Score(GpuPolicy::kSextant, any, t4, 64000, &w).score,
            Score(GpuPolicy::kSextant, any, v100, 64000, &w).score);
  // A pod that needs a T4 has nothing less pressed to go to: scored as FGD scores it.
  const GpuDemand needs_t4 = Demand(1000, 1, 1000, t4_only);
  EXPECT_EQ(Score(GpuPolicy::kSextant, needs_t4, t4, 64000, &w).score,
            Score(GpuPolicy::kFgd, needs_t4, t4, 64000, &w).score);
  // A pod that takes T4 or V100M16 leaves the T4s: it pays only the difference there.
  const GpuDemand t4_or_v = Demand(1000, 1, 1000, t4_or_v100);
  EXPECT_EQ(Score(GpuPolicy::kSextant, t4_or_v, v100, 64000, &w).score,
            Score(GpuPolicy::kFgd, t4_or_v, v100, 64000, &w).score);
  EXPECT_EQ(Score(GpuPolicy::kSextant, t4_or_v, t4, 64000, &w).score,
            std::floor(100 / (1 + std::exp(0.8))));
}

TEST(SextantScoreTest, PrefersTheDeviceTheMixCanComplete) {
  // Shares of 100 and 600 milli, equally popular; device 0 has 700 left, device 1 is idle.
  std::vector<GpuPodSpec> pods = {{"a", 1000, 0, 1, 100, 0}, {"b", 1000, 0, 1, 600, 0}};
  GpuWorkload w = EstimateGpuWorkload(pods, 1.0);
  GpuDeviceTable gpus(Model("T4"), 2);
  gpus.Allocate(0b01, 300);
  const GpuDemand share = Demand(1000, 1, 100);
  // FGD sees no fragment either way (both shares still fit every device): the first device.
  EXPECT_EQ(Score(GpuPolicy::kFgd, share, gpus, 64000, &w).devices, 0b01u);
  // The lookahead: 700 left ends with less idle (one 600 and one 100 share) than 600 left
  // (a 600 share, or 100 shares that may stall), and 900 less than 1000.
  ASSERT_EQ(w.completion_waste.size(), 1001u);
  EXPECT_LT(w.completion_waste[700] + w.completion_waste[900],
            w.completion_waste[600] + w.completion_waste[1000]);
  EXPECT_EQ(Score(GpuPolicy::kSextant, share, gpus, 64000, &w).devices, 0b10u);
}

}  // namespace
}  // namespace sextant
