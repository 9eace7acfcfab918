// CEL device selectors: compile once, evaluate per device (per node, per cycle). The typical
// selector checks the driver, a string attribute and a capacity; devices carry a realistic
// dozen attributes. BM_EvaluateDevices evaluates over a pool of devices, as the allocator does.
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "sextant/cel.h"

namespace sextant::cel {
namespace {

constexpr char kTypical[] =
    R"(device.driver == "gpu.example.com" && device.attributes["gpu.example.com"].model == "H100" && )"
    R"(device.capacity["gpu.example.com"].memory.compareTo(quantity("40Gi")) >= 0)";

Device MakeGpu(int index, const std::string& model) {
  auto str = [](std::string s) { return AttributeValue(std::in_place_index<2>, std::move(s)); };
  auto num = [](int64_t v) { return AttributeValue(std::in_place_index<0>, v); };
  return *Device::Create(
      "gpu.example.com", false,
      {{"model", str(model)},
       {"family", str("hopper")},
       {"index", num(index)},
       {"uuid", str("GPU-" + std::to_string(1000 + index))},
       {"productName", str("NVIDIA " + model + " 80GB HBM3")},
       {"cudaComputeCapability", AttributeValue(std::in_place_index<3>, *Semver::Parse("9.0.0"))},
       {"driverVersion", AttributeValue(std::in_place_index<3>, *Semver::Parse("535.104.5"))},
       {"ecc", AttributeValue(std::in_place_index<1>, true)},
       {"pcieBusID", str("0000:1" + std::to_string(index % 10) + ":00.0")},
       {"resource.kubernetes.io/pcieRoot", str("pci0000:1" + std::to_string(index % 4))},
       {"dra.net/numaNode", num(index / 4)}},
      {{"memory", *CapacityValue::Parse("80Gi")},
       {"multiprocessors", *CapacityValue::Parse("132")}});
}

void BM_Compile(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<Program> program = Program::Compile(kTypical);
    benchmark::DoNotOptimize(program);
  }
}
BENCHMARK(BM_Compile);

void Evaluate(benchmark::State& state, const char* expression, const Device& device) {
  const Program program = *Program::Compile(expression);
  for (auto _ : state) {
    absl::StatusOr<bool> matched = program.Matches(device);
    benchmark::DoNotOptimize(matched);
  }
}

void BM_EvaluateTypicalMatch(benchmark::State& state) {
  Evaluate(state, kTypical, MakeGpu(0, "H100"));
}
BENCHMARK(BM_EvaluateTypicalMatch);

void BM_EvaluateTypicalNoMatch(benchmark::State& state) {
  Evaluate(state, kTypical, MakeGpu(0, "A100"));
}
BENCHMARK(BM_EvaluateTypicalNoMatch);

void BM_EvaluateDriverOnly(benchmark::State& state) {
  Evaluate(state, R"(device.driver == "gpu.example.com")", MakeGpu(0, "H100"));
}
BENCHMARK(BM_EvaluateDriverOnly);

void BM_EvaluateSemverAndIn(benchmark::State& state) {
  Evaluate(state,
           R"(device.attributes["gpu.example.com"].model in ["A100", "H100", "H200"] && )"
           R"(device.attributes["gpu.example.com"].driverVersion.isGreaterThan(semver("530.0.0")))",
           MakeGpu(0, "H100"));
}
BENCHMARK(BM_EvaluateSemverAndIn);

void BM_EvaluateRegex(benchmark::State& state) {
  Evaluate(state, R"(device.attributes["gpu.example.com"].productName.matches("^NVIDIA H[0-9]+ "))",
           MakeGpu(0, "H100"));
}
BENCHMARK(BM_EvaluateRegex);

void BM_EvaluateMissingAttribute(benchmark::State& state) {
  Evaluate(state, R"(device.attributes["gpu.example.com"].missing == "x")", MakeGpu(0, "H100"));
}
BENCHMARK(BM_EvaluateMissingAttribute);

// One selector over a pool of devices (8 per node): items are device evaluations.
void BM_EvaluateDevices(benchmark::State& state) {
  std::vector<Device> devices;
  for (int i = 0; i < state.range(0); ++i)
    devices.push_back(MakeGpu(i, i % 3 == 0 ? "A100" : "H100"));
  const Program program = *Program::Compile(kTypical);
  int64_t matched = 0;
  for (auto _ : state) {
    for (const Device& d : devices) matched += *program.Matches(d);
  }
  benchmark::DoNotOptimize(matched);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EvaluateDevices)->Range(8, 8 << 10);

}  // namespace
}  // namespace sextant::cel

BENCHMARK_MAIN();
