// GPU placement on the Alibaba trace's 1,213-node cluster (../shared/data/alibaba-gpu-v2023, or
// $SEXTANT_GPU_TRACE_DIR): per-pod placement time of a policy over one full replay (median and p99
// as counters, in microseconds), and the wall time of one full replay (the benchmark's time).
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "sextant/gpu_trace.h"

namespace sextant {
namespace {

struct Trace {
  std::vector<GpuNodeSpec> nodes;
  std::vector<GpuPodSpec> pods;
};

const Trace* LoadTrace() {
  static const Trace* trace = []() -> const Trace* {
    std::string dir;
    if (const char* env = std::getenv("SEXTANT_GPU_TRACE_DIR")) {
      dir = env;
    } else {
      std::string here = __FILE__;  // <repo>/bench/gpu_benchmark.cc
      dir = here.substr(0, here.rfind("/bench/")) + "/../shared/data/alibaba-gpu-v2023";
    }
    auto nodes = ReadGpuNodeCsv(dir + "/openb_node_list_gpu_node.csv");
    auto pods = ReadGpuPodCsv(dir + "/openb_pod_list_default.csv");
    if (!nodes.ok() || !pods.ok()) return nullptr;
    return new Trace{std::move(*nodes), std::move(*pods)};
  }();
  return trace;
}

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

// One replay per iteration; every pod's placement time is recorded and summarised.
void BM_GpuPlacePerPod(benchmark::State& state) {
  const Trace* trace = LoadTrace();
  if (trace == nullptr) {
    state.SkipWithError("trace not found (set SEXTANT_GPU_TRACE_DIR)");
    return;
  }
  GpuTraceOptions options;
  options.policy = static_cast<GpuPolicy>(state.range(0));
  options.record_latency = true;
  std::vector<double> latencies;
  int64_t pods = 0;
  for (auto _ : state) {
    options.seed = 42 + static_cast<uint64_t>(pods % 7);
    auto result = ReplayGpuTrace(trace->nodes, trace->pods, options);
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      return;
    }
    latencies.insert(latencies.end(), result->latency_seconds.begin(),
                     result->latency_seconds.end());
    pods += result->pods;
    benchmark::DoNotOptimize(result->alloc_at_130);
  }
  state.SetLabel(std::string(GpuPolicyName(options.policy)));
  state.counters["pods"] = static_cast<double>(pods);
  state.counters["median_us"] = Percentile(latencies, 0.5) * 1e6;
  state.counters["p99_us"] = Percentile(latencies, 0.99) * 1e6;
  state.counters["max_us"] = Percentile(latencies, 1.0) * 1e6;
}
BENCHMARK(BM_GpuPlacePerPod)
    ->Arg(static_cast<int>(GpuPolicy::kSextant))
    ->Arg(static_cast<int>(GpuPolicy::kFgd))
    ->Arg(static_cast<int>(GpuPolicy::kBestFit))
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

// The wall time of one full replay (about 11k pods, 1,213 nodes), one policy, one thread.
void BM_GpuFullReplay(benchmark::State& state) {
  const Trace* trace = LoadTrace();
  if (trace == nullptr) {
    state.SkipWithError("trace not found (set SEXTANT_GPU_TRACE_DIR)");
    return;
  }
  GpuTraceOptions options;
  options.policy = static_cast<GpuPolicy>(state.range(0));
  for (auto _ : state) {
    auto result = ReplayGpuTrace(trace->nodes, trace->pods, options);
    if (!result.ok()) {
      state.SkipWithError(std::string(result.status().message()).c_str());
      return;
    }
    state.counters["pods"] = static_cast<double>(result->pods);
    benchmark::DoNotOptimize(result->alloc_at_130);
  }
  state.SetLabel(std::string(GpuPolicyName(options.policy)));
}
BENCHMARK(BM_GpuFullReplay)
    ->DenseRange(0, static_cast<int>(GpuPolicy::kSextant))
    ->Unit(benchmark::kMillisecond);

// Every policy x ten seeds, on all cores: the `sextant gpu-trace --all` workload.
void BM_GpuAllPoliciesTenSeeds(benchmark::State& state) {
  const Trace* trace = LoadTrace();
  if (trace == nullptr) {
    state.SkipWithError("trace not found (set SEXTANT_GPU_TRACE_DIR)");
    return;
  }
  const std::vector<GpuPolicy> policies(std::begin(kAllGpuPolicies), std::end(kAllGpuPolicies));
  std::vector<uint64_t> seeds;
  for (uint64_t s = 42; s <= 51; ++s) seeds.push_back(s);
  for (auto _ : state) {
    auto results = RunGpuTraceMatrix(trace->nodes, trace->pods, policies, seeds, {}, 0);
    if (!results.ok()) {
      state.SkipWithError(std::string(results.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(results->size());
  }
}
BENCHMARK(BM_GpuAllPoliciesTenSeeds)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace
}  // namespace sextant

BENCHMARK_MAIN();
