// The Alibaba GPU trace through the engine's live path: nodes become ResourceSlices of shareable
// GPUs with the milli capacity, pods become claims, and the snapshot replay (Evaluate with
// DynamicResources and SextantGpu, Reserve with the policy's devices) must place them as
// `sextant gpu-trace` does. The sample in test/data/gpu is every 25th node of the GPU node list
// and every 8th pod of the default list of cluster-trace-gpu-v2023 (Alibaba, the FGD paper,
// USENIX ATC'23; ../shared/data/alibaba-gpu-v2023/README.md).
#include "sextant/gpu_trace_dra.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sextant/gpu.h"
#include "sextant/gpu_trace.h"

namespace sextant {
namespace {


std::string DataPath(const std::string& file) {
  return std::string(SEXTANT_SOURCE_DIR) + "/test/data/gpu/" + file;
}

struct Sample {
  std::vector<GpuNodeSpec> nodes;
  std::vector<GpuPodSpec> pods;
};

Sample LoadSample() {
  Sample s;
  auto nodes = ReadGpuNodeCsv(DataPath("openb_nodes_every25th.csv"));
  auto pods = ReadGpuPodCsv(DataPath("openb_pods_default_every8th.csv"));
  EXPECT_TRUE(nodes.ok()) << nodes.status();
  EXPECT_TRUE(pods.ok()) << pods.status();
  if (nodes.ok()) s.nodes = *nodes;
  if (pods.ok()) s.pods = *pods;
  return s;
}


TEST(GpuTraceSnapshotTest, NodesBecomeSlicesAndGpuPodsClaims) {
  GpuTraceSequence sequence;
  sequence.nodes.push_back(GpuNodeSpec{"n1", 32000, int64_t{64} << 30, 2, *ParseGpuModel("T4")});
  sequence.nodes.push_back(GpuNodeSpec{"cpu", 16000, int64_t{64} << 30, 0, 0});
  sequence.pods.push_back(GpuPodSpec{"shared", 4000, int64_t{8} << 30, 1, 470, 0});
  sequence.pods.push_back(
      GpuPodSpec{"whole", 8000, int64_t{8} << 30, 2, 1000, *ParseGpuModelSpec("T4|V100M16")});
  sequence.pods.push_back(GpuPodSpec{"cpu-only", 2000, int64_t{4} << 30, 1, 0, 0});
  Snapshot s = GpuTraceSnapshot(sequence);
  ASSERT_EQ(s.nodes.size(), 2u);
  ASSERT_EQ(s.resource_slices.size(), 1u);
  const ResourceSlice& slice = s.resource_slices[0];
  EXPECT_EQ(slice.node_name, "n1");
  ASSERT_EQ(slice.devices.size(), 2u);
  EXPECT_TRUE(slice.devices[1].allow_multiple_allocations.value_or(false));
  EXPECT_EQ(std::get<std::string>(slice.devices[1].attributes.at("model")), "T4");
  EXPECT_EQ(slice.devices[1].capacity.at("gpu.sextant.dev/milli").value.quantity.Value(), 1000);

  ASSERT_EQ(s.resource_claims.size(), 2u);
  const DeviceRequestSpec& shared = *s.resource_claims[0].requests[0].exactly;
  EXPECT_EQ(shared.count, 1);
  EXPECT_EQ(shared.capacity->requests.at("gpu.sextant.dev/milli").Value(), 470);
  const DeviceRequestSpec& whole = *s.resource_claims[1].requests[0].exactly;
  EXPECT_EQ(whole.count, 2);
  EXPECT_FALSE(whole.capacity);
  ASSERT_EQ(whole.selectors.size(), 1u);
  EXPECT_EQ(*whole.selectors[0].cel,
            "device.attributes[\"gpu.sextant.dev\"].model in [\"T4\", \"V100M16\"]");
  ASSERT_EQ(s.pods.size(), 3u);
  EXPECT_TRUE(s.pods[2].resource_claims.empty());
  EXPECT_LT(s.pods[0].creation_unix_nanos, s.pods[1].creation_unix_nanos);
}

// With nothing but the policy scoring, no CPU-only pod (the live path leaves their ties to
// upstream's seeded pick, the trace replay to its node order) and the workload the live path
// estimates (the replayed GPU pods), the live path makes the trace replay's decisions pod for
// pod: the same feasibility, scores, tie-break (the engine's node order is the replay's random
// rank) and devices.
TEST(GpuTraceDraTest, PlacesPodForPodLikeTheTraceReplay) {
  Sample sample = LoadSample();
  ASSERT_FALSE(sample.nodes.empty());
  std::erase_if(sample.pods, [](const GpuPodSpec& p) { return !p.UsesGpu(); });
  GpuTraceOptions options;
  options.seed = 42;
  options.record_placements = true;
  absl::StatusOr<GpuTraceSequence> sequence = PrepareGpuTrace(sample.nodes, sample.pods, options);
  ASSERT_TRUE(sequence.ok()) << sequence.status();
  const GpuWorkload workload = EstimateGpuWorkload(sequence->pods);
  options.workload = &workload;
  for (GpuPolicy policy : {GpuPolicy::kSextant, GpuPolicy::kFgd, GpuPolicy::kBestFit,
                           GpuPolicy::kGpuPacking, GpuPolicy::kDotProduct,
                           GpuPolicy::kGpuClustering}) {
    options.policy = policy;
    absl::StatusOr<GpuTraceResult> trace = ReplayGpuTrace(sample.nodes, sample.pods, options);
    absl::StatusOr<GpuTraceResult> live =
        ReplayGpuTraceThroughDra(sample.nodes, sample.pods, options, GpuPolicyOnlyProfile(policy));
    ASSERT_TRUE(trace.ok()) << trace.status();
    ASSERT_TRUE(live.ok()) << live.status();
    ASSERT_EQ(live->placements.size(), trace->placements.size());
    int64_t differ = 0;
    for (size_t k = 0; k < live->placements.size(); ++k) {
      differ += live->placements[k] != trace->placements[k];
    }
    EXPECT_EQ(differ, 0) << GpuPolicyName(policy) << ": pods placed elsewhere";
    EXPECT_EQ(live->alloc_at_100, trace->alloc_at_100) << GpuPolicyName(policy);
    EXPECT_EQ(live->alloc_at_130, trace->alloc_at_130) << GpuPolicyName(policy);
    EXPECT_EQ(live->failed, trace->failed) << GpuPolicyName(policy);
  }
}

}  // namespace
}  // namespace sextant
