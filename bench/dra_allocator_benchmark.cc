// The DRA allocator on every node: a pod claims two GPUs that must share a NUMA node
// (matchAttribute), on N nodes with eight GPUs each, four per NUMA node, as DynamicResources'
// Filter runs it. BM_AllocateAllNodes is one scheduling cycle's worth of Allocate calls;
// BM_AllocateAllNodesHalfTaken does the same with the first three GPUs of every node held, so
// the search has to back out of the first NUMA node.
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "dra/allocator.h"
#include "dra/inventory.h"
#include "sextant/dra.h"
#include "sextant/model.h"

namespace sextant {
namespace {

constexpr char kDriver[] = "gpu.example.com";

Device MakeGpu(int index) {
  Device d;
  d.name = "gpu-" + std::to_string(index);
  d.attributes["model"] = DeviceAttributeValue(std::string("H100"));
  d.attributes["index"] = DeviceAttributeValue(int64_t{index});
  d.attributes["uuid"] = DeviceAttributeValue("GPU-" + std::to_string(1000 + index));
  d.attributes["numa"] = DeviceAttributeValue(int64_t{index / 4});
  d.attributes["resource.kubernetes.io/pcieRoot"] =
      DeviceAttributeValue("pci0000:1" + std::to_string(index % 4));
  d.capacity["memory"] = DeviceCapacity{*cel::CapacityValue::Parse("80Gi"), std::nullopt};
  return d;
}

struct Cluster {
  DraInventory inventory;
  std::vector<Node> nodes;
  ResourceClaim claim;
};

void Build(Cluster& cluster, int num_nodes, bool half_taken) {
  DeviceClass gpu;
  gpu.name = "gpu";
  gpu.selectors.push_back(
      DeviceSelector{R"(device.driver == "gpu.example.com" && )"
                     R"(device.attributes["gpu.example.com"].model == "H100")"});
  cluster.inventory.UpsertDeviceClass(gpu);
  for (int n = 0; n < num_nodes; ++n) {
    Node node;
    node.name = "node-" + std::to_string(n);
    ResourceSlice slice;
    slice.name = node.name + "-gpus";
    slice.driver = kDriver;
    slice.pool = ResourcePool{node.name, 1, 1};
    slice.node_name = node.name;
    for (int i = 0; i < 8; ++i) slice.devices.push_back(MakeGpu(i));
    cluster.inventory.UpsertResourceSlice(slice);
    if (half_taken) {
      ResourceClaim held;
      held.name_space = "default";
      held.name = "held-" + node.name;
      AllocationResult allocation;
      for (int i = 0; i < 3; ++i) {
        DeviceRequestAllocationResult result;
        result.request = "gpus";
        result.driver = kDriver;
        result.pool = node.name;
        result.device = "gpu-" + std::to_string(i);
        allocation.devices.push_back(result);
      }
      held.allocation = allocation;
      cluster.inventory.UpsertResourceClaim(held);
    }
    cluster.nodes.push_back(node);
  }
  ResourceClaim& claim = cluster.claim;
  claim.name_space = "default";
  claim.name = "two-gpus";
  DeviceRequest request;
  request.name = "gpus";
  request.exactly.emplace();
  request.exactly->device_class_name = "gpu";
  request.exactly->count = 2;
  claim.requests.push_back(request);
  claim.constraints.push_back(DeviceConstraint{{}, std::string(kDriver) + "/numa", std::nullopt});
  cluster.inventory.UpsertResourceClaim(claim);
}

void RunAllNodes(benchmark::State& state, bool half_taken) {
  Cluster cluster;
  Build(cluster, static_cast<int>(state.range(0)), half_taken);
  std::vector<const ResourceClaim*> claims = {&cluster.claim};
  int64_t allocated = 0;
  for (auto _ : state) {
    Allocator allocator(cluster.inventory);
    for (const Node& node : cluster.nodes) {
      AllocateOutcome outcome = allocator.Allocate(node, claims);
      allocated += outcome.kind == AllocateOutcome::Kind::kAllocated;
      benchmark::DoNotOptimize(outcome);
    }
  }
  if (allocated != static_cast<int64_t>(state.iterations()) * state.range(0)) {
    state.SkipWithError("a node did not allocate");
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_AllocateAllNodes(benchmark::State& state) { RunAllNodes(state, false); }
void BM_AllocateAllNodesHalfTaken(benchmark::State& state) { RunAllNodes(state, true); }

BENCHMARK(BM_AllocateAllNodes)->RangeMultiplier(10)->Range(10, 1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AllocateAllNodesHalfTaken)
    ->RangeMultiplier(10)
    ->Range(10, 1000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sextant

BENCHMARK_MAIN();
