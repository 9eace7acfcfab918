// What Sextant's GPU placement adds to one scheduling cycle: Evaluate of a GPU pod over N nodes
// with eight shareable GPUs each (milli capacity, about a third of them partly used), with the
// placement off (DynamicResources alone), under Sextant's policy and under FGD; and of a
// CPU-only pod, which the policy scores on the nodes' GPUs. The state holds 2,000 pending GPU
// pods drawn from a trace-like mix, so the expected workload has its usual size (it is
// estimated once and cached, as in a running engine).
// range(0): nodes; range(1): 0 off, 1 Sextant, 2 FGD.
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "sextant/cluster_state.h"
#include "sextant/dra.h"
#include "sextant/evaluate.h"
#include "sextant/model.h"

namespace sextant {
namespace {

constexpr char kDriver[] = "gpu.sextant.dev";
constexpr char kMilli[] = "gpu.sextant.dev/milli";

Quantity Milli(int64_t value) { return Quantity::FromInt(value); }

Device SharedGpu(int index) {
  Device d;
  d.name = "gpu-" + std::to_string(index);
  d.allow_multiple_allocations = true;
  d.attributes["model"] = DeviceAttributeValue(std::string("T4"));
  CapacityRequestPolicy policy;
  policy.default_value = Milli(1000);
  policy.valid_range = CapacityRequestPolicyRange{Milli(1), Milli(1000), Milli(1)};
  d.capacity[kMilli] = DeviceCapacity{cel::CapacityValue::FromQuantity(Milli(1000)), policy};
  return d;
}

ResourceClaim Claim(const std::string& name, int64_t count, int64_t milli) {
  ResourceClaim c;
  c.name_space = "default";
  c.name = name;
  c.uid = name;
  DeviceRequest r;
  r.name = "gpu";
  r.exactly.emplace();
  r.exactly->device_class_name = kDriver;
  r.exactly->count = count;
  if (milli < 1000) r.exactly->capacity = CapacityRequirements{{{kMilli, Milli(milli)}}};
  c.requests.push_back(r);
  return c;
}

Pod PodOf(const std::string& name, int64_t cpu_milli, const std::string& claim) {
  Pod pod;
  pod.name_space = "default";
  pod.name = name;
  pod.uid = name;
  Container container;
  container.name = "main";
  container.requests[kResourceCpu] = Quantity::FromMilli(cpu_milli);
  container.requests[kResourceMemory] = Quantity::FromInt(int64_t{16} << 30);
  pod.containers.push_back(container);
  if (!claim.empty()) pod.resource_claims.push_back(PodResourceClaim{"gpu", claim, std::nullopt});
  return pod;
}

void Build(ClusterState& state, int nodes) {
  std::mt19937_64 rng(7);
  DeviceClass gpu;
  gpu.name = kDriver;
  gpu.selectors.push_back(DeviceSelector{"device.driver == \"gpu.sextant.dev\""});
  (void)state.UpsertDeviceClass(gpu);
  for (int n = 0; n < nodes; ++n) {
    Node node;
    node.name = "node-" + std::to_string(n);
    node.allocatable[kResourceCpu] = Quantity::FromMilli(96000);
    node.allocatable[kResourceMemory] = Quantity::FromInt(int64_t{512} << 30);
    node.allocatable[kResourcePods] = Quantity::FromInt(110);
    (void)state.UpsertNode(node);
    ResourceSlice slice;
    slice.name = node.name + "-gpus";
    slice.driver = kDriver;
    slice.pool = ResourcePool{node.name, 1, 1};
    slice.node_name = node.name;
    for (int i = 0; i < 8; ++i) slice.devices.push_back(SharedGpu(i));
    (void)state.UpsertResourceSlice(slice);
    // A running pod holding a share of about a third of the devices.
    for (int i = 0; i < 8; ++i) {
      if (rng() % 3 != 0) continue;
      const int64_t milli = 100 + static_cast<int64_t>(rng() % 9) * 100;
      const std::string name = node.name + "-held-" + std::to_string(i);
      ResourceClaim held = Claim(name, 1, milli);
      DeviceRequestAllocationResult result;
      result.request = "gpu";
      result.driver = kDriver;
      result.pool = node.name;
      result.device = "gpu-" + std::to_string(i);
      result.share_id = name;
      result.consumed_capacity[kMilli] = Milli(milli);
      held.allocation = AllocationResult{{result}, std::nullopt, std::nullopt};
      (void)state.UpsertResourceClaim(held);
      Pod running = PodOf(name, 4000, name);
      running.node_name = node.name;
      running.phase = "Running";
      (void)state.UpsertPod(running);
    }
  }
  // Pending GPU pods: shares of 250..900, whole single GPUs, pairs and eights.
  const int64_t shares[] = {250, 470, 500, 810, 900};
  for (int p = 0; p < 2000; ++p) {
    const std::string name = "pending-" + std::to_string(p);
    const int kind = static_cast<int>(rng() % 10);
    const int64_t count = kind < 6 ? 1 : kind < 8 ? 1 : kind < 9 ? 2 : 8;
    const int64_t milli = kind < 6 ? shares[rng() % 5] : 1000;
    (void)state.UpsertResourceClaim(Claim(name, count, milli));
    (void)state.UpsertPod(PodOf(name, 4000 * count, name));
  }
  // The pod the benchmark evaluates: 470 milli of one GPU.
  (void)state.UpsertResourceClaim(Claim("probe", 1, 470));
  (void)state.UpsertPod(PodOf("probe", 4000, "probe"));
}

ProfileOptions Mode(int64_t mode) {
  ProfileOptions options;
  options.parallelism = 1;
  options.gpu_placement.enabled = mode != 0;
  options.gpu_placement.policy = mode == 2 ? GpuPolicy::kFgd : GpuPolicy::kSextant;
  return options;
}

void Run(benchmark::State& state, const Pod& pod) {
  ClusterState cluster;
  Build(cluster, static_cast<int>(state.range(0)));
  Evaluator evaluator(Mode(state.range(1)));
  Evaluation evaluation;
  evaluator.Evaluate(cluster, pod, 0, &evaluation);  // the workload estimate, once
  if (!evaluation.chosen) state.SkipWithError("nothing fits");
  for (auto _ : state) {
    evaluator.Evaluate(cluster, pod, 0, &evaluation);
    benchmark::DoNotOptimize(evaluation.chosen);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_EvaluateSharedGpuPod(benchmark::State& state) {
  static const Pod pod = PodOf("probe", 4000, "probe");
  Run(state, pod);
}

void BM_EvaluateCpuOnlyPod(benchmark::State& state) {
  static const Pod pod = PodOf("cpu-only", 4000, "");
  Run(state, pod);
}

BENCHMARK(BM_EvaluateSharedGpuPod)
    ->ArgsProduct({{100, 1000}, {0, 1, 2}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_EvaluateCpuOnlyPod)->ArgsProduct({{100, 1000}, {0, 1, 2}})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sextant

BENCHMARK_MAIN();
