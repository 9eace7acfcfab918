// Evaluate over every node of generated 1k / 5k / 15k-node snapshots, and whole replays of the
// bundled default snapshot. Per-pod time is the benchmark's time per iteration.
#include <map>
#include <memory>

#include "bench_pods.h"
#include "benchmark/benchmark.h"
#include "sextant/cluster_state.h"
#include "sextant/evaluate.h"
#include "sextant/generator.h"
#include "sextant/replay.h"
#include "sextant/snapshot.h"

namespace sextant {
namespace {

struct Loaded {
  ClusterState state;
  std::vector<Pod> pending;
};

// Generated once per node count and kept for every benchmark that uses it.
const Loaded& LoadedCluster(int nodes) {
  static auto* cache = new std::map<int, std::unique_ptr<Loaded>>();
  auto& slot = (*cache)[nodes];
  if (!slot) {
    slot = std::make_unique<Loaded>();
    auto snapshot = ParseSnapshot(GenerateSnapshot(LargeSnapshotOptions(nodes)).dump());
    if (!snapshot.ok()) std::abort();
    auto pending = LoadSnapshot(*snapshot, slot->state);
    if (!pending.ok()) std::abort();
    slot->pending = std::move(*pending);
  }
  return *slot;
}

// A basic pod: one container, Burstable, no selectors, no tolerations.
Pod BasicPod() { return BasicBenchPod("bench"); }

void RunEvaluate(benchmark::State& bench, const Pod& pod, int parallelism) {
  const Loaded& cluster = LoadedCluster(static_cast<int>(bench.range(0)));
  ProfileOptions options;
  options.parallelism = parallelism;
  Evaluator evaluator(options);
  uint64_t random = 0;
  Evaluation e;
  for (auto _ : bench) {
    evaluator.Evaluate(cluster.state, pod, ++random, &e);
    benchmark::DoNotOptimize(e);
  }
  int64_t feasible = e.feasible_count;
  bench.counters["nodes"] = static_cast<double>(cluster.state.live_nodes().size());
  bench.counters["feasible"] = static_cast<double>(feasible);
}

void BM_EvaluateBasicPod(benchmark::State& bench) { RunEvaluate(bench, BasicPod(), 1); }
BENCHMARK(BM_EvaluateBasicPod)->Arg(1000)->Arg(5000)->Arg(15000)->Unit(benchmark::kMicrosecond);

void BM_EvaluateBasicPodParallel(benchmark::State& bench) { RunEvaluate(bench, BasicPod(), 0); }
BENCHMARK(BM_EvaluateBasicPodParallel)
    ->Arg(1000)->Arg(5000)->Arg(15000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The generated pending pods in queue order (GPU services with tolerations and affinity, agents
// with preferred zones, batch with sidecars), evaluated in turn without binding.
void BM_EvaluatePendingMix(benchmark::State& bench) {
  const Loaded& cluster = LoadedCluster(static_cast<int>(bench.range(0)));
  ProfileOptions options;
  options.parallelism = 1;
  Evaluator evaluator(options);
  size_t i = 0;
  Evaluation e;
  for (auto _ : bench) {
    const Pod& pod = cluster.pending[i++ % cluster.pending.size()];
    evaluator.Evaluate(cluster.state, pod, i, &e);
    benchmark::DoNotOptimize(e);
  }
}
BENCHMARK(BM_EvaluatePendingMix)->Arg(5000)->Unit(benchmark::kMicrosecond);

// A whole replay of the bundled default snapshot: parse excluded, load and scheduling included.
void BM_ReplayDefaultSnapshot(benchmark::State& bench) {
  auto snapshot = ParseSnapshot(GenerateSnapshot(DefaultSnapshotOptions()).dump());
  if (!snapshot.ok()) std::abort();
  ReplayOptions options;
  options.profile.parallelism = 1;
  int64_t pods = 0;
  for (auto _ : bench) {
    auto report = Replay(*snapshot, options);
    pods += report->pending_pods;
    benchmark::DoNotOptimize(report);
  }
  bench.counters["pods/s"] = benchmark::Counter(static_cast<double>(pods), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReplayDefaultSnapshot)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sextant

BENCHMARK_MAIN();
