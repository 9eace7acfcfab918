// Preemption on a full 5k-node cluster: a high-priority Guaranteed pod that fits nowhere until
// lower-priority pods go. Times the failed cycle and the dry run over every candidate node
// (BM_EvaluateAndPreempt) next to the cycle alone (BM_EvaluateOnly), in one run.
#include <cstdlib>

#include "benchmark/benchmark.h"
#include "sextant/cluster_state.h"
#include "sextant/evaluate.h"
#include "sextant/generator.h"
#include "sextant/preemption.h"
#include "sextant/replay.h"
#include "sextant/snapshot.h"

namespace sextant {
namespace {

// 5,000 nodes filled to their allocatable by running workload pods of the generator's batch and
// service priorities.
const ClusterState& FullCluster() {
  static ClusterState* state = [] {
    auto* s = new ClusterState();
    GeneratorOptions options = LargeSnapshotOptions(5000);
    options.running_pods = 12 * 5000;
    options.shared_fill_fraction = 1.0;
    options.gpu_fill_fraction = 1.0;
    options.pending_pods = 0;
    auto snapshot = ParseSnapshot(GenerateSnapshot(options).dump());
    if (!snapshot.ok() || !LoadSnapshot(*snapshot, *s).ok()) std::abort();
    return s;
  }();
  return *state;
}

Pod CriticalPod() {
  Pod pod;
  pod.name_space = "prod";
  pod.name = "critical";
  pod.priority = 2000000000;
  Container c;
  c.name = "server";
  c.requests = {{"cpu", Quantity::FromInt(6)}, {"memory", Quantity::FromInt(24LL << 30)}};
  c.limits = c.requests;
  pod.containers.push_back(c);
  return pod;
}

void BM_EvaluateOnly(benchmark::State& bench) {
  const ClusterState& state = FullCluster();
  ProfileOptions options;
  options.parallelism = 1;
  Evaluator evaluator(options);
  Pod pod = CriticalPod();
  Evaluation e;
  for (auto _ : bench) {
    evaluator.Evaluate(state, pod, 1, &e);
    benchmark::DoNotOptimize(e);
  }
  bench.counters["feasible"] = static_cast<double>(e.feasible_count);
}
BENCHMARK(BM_EvaluateOnly)->Unit(benchmark::kMillisecond);

void BM_EvaluateAndPreempt(benchmark::State& bench) {
  const ClusterState& state = FullCluster();
  ProfileOptions options;
  options.parallelism = 1;
  Evaluator evaluator(options);
  Pod pod = CriticalPod();
  Evaluation e;
  PreemptionResult r;
  for (auto _ : bench) {
    evaluator.Evaluate(state, pod, 1, &e);
    r = Preempt(evaluator, state, pod, e);
    benchmark::DoNotOptimize(r);
  }
  bench.counters["nodes"] = static_cast<double>(state.live_nodes().size());
  bench.counters["pods"] = static_cast<double>(state.bound_pod_count());
  bench.counters["feasible"] = static_cast<double>(e.feasible_count);
  bench.counters["candidates"] = static_cast<double>(r.candidates);
  bench.counters["victims"] = static_cast<double>(r.victims.size());
}
BENCHMARK(BM_EvaluateAndPreempt)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sextant

BENCHMARK_MAIN();
