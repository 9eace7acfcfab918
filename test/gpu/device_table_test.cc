#include "gtest/gtest.h"
#include "sextant/gpu.h"

namespace sextant {
namespace {

GpuModelId Model(const char* name) { return *ParseGpuModel(name); }
GpuModelMask Mask(const char* spec) { return *ParseGpuModelSpec(spec); }

GpuDemand Demand(int64_t cpu, int num, int64_t milli, GpuModelMask models = 0) {
  GpuDemand d;
  d.cpu_milli = cpu;
  d.num_gpu = num;
  d.gpu_milli = milli;
  d.models = models;
  return d;
}

TEST(GpuModelTest, ParsesNamesAndSpecs) {
  EXPECT_EQ(GpuModelName(Model("V100M32")), "V100M32");
  EXPECT_FALSE(ParseGpuModel("v100").ok());
  EXPECT_EQ(Mask(""), 0u);
  EXPECT_EQ(Mask("T4||T4"), GpuModelMask{1} << Model("T4"));
  EXPECT_EQ(Mask("T4|A100"), (GpuModelMask{1} << Model("T4")) | (GpuModelMask{1} << Model("A100")));
}

TEST(GpuDemandTest, ScoringCountsMissingCpuAs100mAndGpuLessPodsAsCpuOnly) {
  GpuPodSpec pod;
  pod.num_gpu = 1;
  pod.gpu_milli = 0;  // a GPU count without milli asks for nothing (the simulator's rule)
  pod.models = Mask("T4");
  GpuDemand d = GpuDemand::Of(pod);
  EXPECT_EQ(d.cpu_milli, 100);
  EXPECT_FALSE(d.UsesGpu());
  EXPECT_EQ(d.models, 0u);
  EXPECT_EQ(pod.TotalGpuMilli(), 0);
}

TEST(GpuDeviceTableTest, SharedPodNeedsOneDeviceWithEnoughLeft) {
  GpuDeviceTable t(Model("T4"), 2);
  t.Allocate(0b01, 600);
  t.Allocate(0b10, 700);
  EXPECT_TRUE(t.Fits(Demand(1, 1, 400)));
  EXPECT_FALSE(t.Fits(Demand(1, 1, 500)));                // 400 + 300 left, but not on one device
  EXPECT_EQ(t.BestFitDevices(Demand(1, 1, 300)), 0b10u);  // the tightest device
  EXPECT_EQ(t.BestFitDevices(Demand(1, 1, 500)), 0u);
}

TEST(GpuDeviceTableTest, WholeGpuPodsTakeTheLowestFreeDevices) {
  GpuDeviceTable t(Model("G2"), 8);
  t.Allocate(0b00000101, 100);  // devices 0 and 2 partly used
  EXPECT_EQ(t.fully_free(), 6);
  EXPECT_TRUE(t.Fits(Demand(1, 6, 1000)));
  EXPECT_FALSE(t.Fits(Demand(1, 7, 1000)));
  EXPECT_EQ(t.BestFitDevices(Demand(1, 2, 1000)), 0b00001010u);
  t.Allocate(0b00001010, 1000);
  EXPECT_EQ(t.total_left(), 8000 - 200 - 2000);
  t.Release(0b00001010, 1000);
  EXPECT_EQ(t.fully_free(), 6);
}

TEST(GpuDeviceTableTest, ModelListRestrictsNodes) {
  GpuDeviceTable t4(Model("T4"), 2);
  GpuDeviceTable none;
  EXPECT_TRUE(t4.Fits(Demand(1, 1, 1000, Mask("V100M16|T4"))));
  EXPECT_FALSE(t4.Fits(Demand(1, 1, 1000, Mask("V100M16|V100M32"))));
  EXPECT_TRUE(t4.Fits(Demand(1, 1, 1000)));
  EXPECT_TRUE(none.Fits(Demand(1, 0, 0)));  // CPU-only pods fit any node's devices
  EXPECT_FALSE(none.Fits(Demand(1, 1, 100)));
  EXPECT_FALSE(none.ModelAllowed(Mask("T4")));
}

TEST(GpuWorkloadTest, MostPopularTypesUntilCoverageRenormalised) {
  std::vector<GpuPodSpec> pods;
  auto add = [&](int count, int64_t cpu, int num, int64_t milli) {
    for (int i = 0; i < count; ++i) pods.push_back({"p", cpu, 0, num, milli, 0});
  };
  add(6, 1000, 1, 1000);
  add(3, 2000, 1, 500);
  add(1, 4000, 0, 0);
  GpuWorkload w = EstimateGpuWorkload(pods, 0.85);
  ASSERT_EQ(w.types.size(), 2u);  // 60%, then 90% >= 85%
  EXPECT_EQ(w.types[0].demand.gpu_milli, 1000);
  EXPECT_DOUBLE_EQ(w.types[0].popularity, 6.0 / 9);
  EXPECT_DOUBLE_EQ(w.types[1].popularity, 3.0 / 9);
  // cpu per GPU milli over all GPU pods: (6*1000 + 3*2000) / (6*1000 + 3*500).
  EXPECT_DOUBLE_EQ(w.cpu_per_gpu_milli, 12000.0 / 7500);
  EXPECT_EQ(EstimateGpuWorkload(pods).types.size(), 3u);
}

TEST(GpuWorkloadTest, CompletionWasteFollowsTheMix) {
  // Shares of 500 and whole GPUs, equally popular, and a CPU-only type that plays no part.
  std::vector<GpuPodSpec> pods = {
      {"a", 1000, 0, 1, 500, 0}, {"b", 1000, 0, 1, 1000, 0}, {"c", 1000, 0, 0, 0, 0}};
  GpuWorkload w = EstimateGpuWorkload(pods, 1.0);
  ASSERT_EQ(w.completion_waste.size(), 1001u);
  EXPECT_DOUBLE_EQ(w.completion_waste[0], 0);
  // 499 left: nothing fits, it stays idle.
  EXPECT_DOUBLE_EQ(w.completion_waste[499], 499);
  // 500 left: the 500 share fits (popularity 1/3), the whole GPU does not (stall 0.1 x 1/3).
  EXPECT_NEAR(w.completion_waste[500], (0.1 / 3 * 500) / (1.0 / 3 + 0.1 / 3), 1e-9);
  // 700 left: a 500 share leaves 200, idle for good; or it stalls at 700.
  EXPECT_NEAR(w.completion_waste[700], (1.0 / 3 * 200 + 0.1 / 3 * 700) / (1.1 / 3), 1e-9);
  // An idle device: both GPU types fit, a whole GPU leaves nothing.
  EXPECT_NEAR(w.completion_waste[1000], (1.0 / 3 * w.completion_waste[500]) / (2.0 / 3), 1e-9);
  EXPECT_TRUE(EstimateGpuWorkload({{"c", 1000, 0, 0, 0, 0}}).completion_waste.empty());
}

TEST(GpuWorkloadTest, ModelPressureIsRestrictedDemandShareOverCapacityShare) {
  std::vector<GpuNodeSpec> nodes = {{"t4", 64000, 0, 2, Model("T4")},
                                    {"v100", 64000, 0, 4, Model("V100M16")},
                                    {"g2", 64000, 0, 2, Model("G2")}};
  // 8 GPUs asked: 2 by T4-only pods, 3 by a T4-or-V100M16 pod (spread 1 : 2 by capacity), 3 by
  // pods that take any model.
  std::vector<GpuPodSpec> pods = {{"a", 1000, 0, 2, 1000, Mask("T4")},
                                  {"b", 1000, 0, 3, 1000, Mask("T4") | Mask("V100M16")},
                                  {"c", 1000, 0, 3, 1000, 0},
                                  {"d", 1000, 0, 0, 0, Mask("G2")}};
  GpuWorkload w = EstimateGpuWorkload(pods);
  EstimateGpuModelPressure(nodes, pods, &w);
  EXPECT_EQ(w.cluster_models, Mask("T4") | Mask("V100M16") | Mask("G2"));
  // T4: (2 + 1) / 8 of the demand on 2 / 8 of the GPUs; V100M16: 2 / 8 on 4 / 8; G2: none.
  EXPECT_NEAR(w.model_pressure[Model("T4")], (3.0 / 8) / (2.0 / 8), 1e-12);
  EXPECT_NEAR(w.model_pressure[Model("V100M16")], (2.0 / 8) / (4.0 / 8), 1e-12);
  EXPECT_DOUBLE_EQ(w.model_pressure[Model("G2")], 0);
  EXPECT_DOUBLE_EQ(w.model_pressure[Model("A100")], 0);
}

TEST(GpuFragmentationTest, CountsIdleMilliEachTypeCannotUse) {
  GpuWorkload w;
  w.types.push_back({Demand(1000, 1, 500), 0.5});    // a half-GPU type
  w.types.push_back({Demand(1000, 0, 0), 0.25});     // CPU-only: all idle GPU is fragment
  w.types.push_back({Demand(1000, 2, 1000), 0.25});  // two whole GPUs
  GpuDeviceTable t(Model("T4"), 4);
  t.Allocate(0b0001, 700);  // left: 300, 1000, 1000, 1000
  // half: 300 unusable; cpu-only: 3300; two whole: 300.
  EXPECT_DOUBLE_EQ(NodeGpuFragmentation(t, 8000, w), 0.5 * 300 + 0.25 * 3300 + 0.25 * 300);
  // Without cpu for the GPU types every idle milli is fragment.
  EXPECT_DOUBLE_EQ(NodeGpuFragmentation(t, 500, w), 3300);
  // A disallowed model is fragment for that type too.
  w.types[0].demand.models = Mask("A100");
  EXPECT_DOUBLE_EQ(NodeGpuFragmentation(t, 8000, w), 0.5 * 3300 + 0.25 * 3300 + 0.25 * 300);
  GpuDeviceTable full(Model("T4"), 1);
  full.Allocate(0b1, 1000);
  EXPECT_DOUBLE_EQ(NodeGpuFragmentation(full, 8000, w), 0);
}

}  // namespace
}  // namespace sextant
