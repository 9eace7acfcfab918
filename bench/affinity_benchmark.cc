// Pod affinity and topology spread on a 5k-node, 50k-pod cluster: a pod with required hostname
// anti-affinity and a DoNotSchedule zone spread, next to a basic pod on the same state, so the
// ratio comes from one run. Per-pod time is the benchmark's time per iteration.
#include <algorithm>
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

constexpr char kZone[] = "topology.kubernetes.io/zone";
constexpr char kHostname[] = "kubernetes.io/hostname";

struct Cluster {
  ClusterState state;
  std::string app;  // the running service app the benchmark pod joins
  std::string app_namespace;
  size_t app_replicas = 0;
};

// 5,000 nodes, 9 running workload pods per node plus a DaemonSet pod: 50,000 bound pods.
const Cluster& LargeCluster() {
  static Cluster* cluster = [] {
    auto* c = new Cluster();
    GeneratorOptions options = LargeSnapshotOptions(5000);
    options.running_pods = 9 * 5000;
    options.shared_fill_fraction = 0.8;
    options.pending_pods = 0;
    auto snapshot = ParseSnapshot(GenerateSnapshot(options).dump());
    if (!snapshot.ok()) std::abort();
    if (!LoadSnapshot(*snapshot, c->state).ok()) std::abort();
    // Join the largest running workload app (DaemonSets aside): its replicas are what the
    // anti-affinity and the spread count.
    std::map<std::pair<std::string, std::string>, size_t> replicas;
    for (const Pod& pod : snapshot->pods) {
      auto it = pod.labels.find("app");
      if (it == pod.labels.end() || pod.node_name.empty() || pod.name_space == "kube-system") {
        continue;
      }
      ++replicas[{pod.name_space, it->second}];
    }
    auto best = std::max_element(replicas.begin(), replicas.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    c->app_namespace = best->first.first;
    c->app = best->first.second;
    c->app_replicas = best->second;
    return c;
  }();
  return *cluster;
}

Pod BasicPod() { return BasicBenchPod("default"); }

// A replica of `app`: required anti-affinity on kubernetes.io/hostname and a zone spread with
// maxSkew 1, both over app=<app>.
Pod ServiceReplica(const std::string& name_space, const std::string& app) {
  Pod pod = BasicPod();
  pod.name_space = name_space;
  pod.name = "replica";
  pod.labels = {{"app", app}};
  LabelSelector selector;
  selector.match_labels = {{"app", app}};
  PodAffinityTerm term;
  term.label_selector = selector;
  term.topology_key = kHostname;
  pod.affinity.emplace().pod_anti_affinity.emplace().required.push_back(term);
  TopologySpreadConstraint spread;
  spread.max_skew = 1;
  spread.topology_key = kZone;
  spread.label_selector = selector;
  pod.topology_spread_constraints.push_back(spread);
  return pod;
}

void Run(benchmark::State& bench, const Pod& pod) {
  const Cluster& cluster = LargeCluster();
  ProfileOptions options;
  options.parallelism = 1;
  Evaluator evaluator(options);
  uint64_t random = 0;
  Evaluation e;
  for (auto _ : bench) {
    evaluator.Evaluate(cluster.state, pod, ++random, &e);
    benchmark::DoNotOptimize(e);
  }
  bench.counters["nodes"] = static_cast<double>(cluster.state.live_nodes().size());
  bench.counters["pods"] = static_cast<double>(cluster.state.bound_pod_count());
  bench.counters["feasible"] = static_cast<double>(e.feasible_count);
  bench.counters["app_replicas"] = static_cast<double>(cluster.app_replicas);
}

void BM_EvaluateBasicPod5k50k(benchmark::State& bench) { Run(bench, BasicPod()); }
BENCHMARK(BM_EvaluateBasicPod5k50k)->Unit(benchmark::kMicrosecond);

void BM_EvaluateAntiAffinitySpreadPod5k50k(benchmark::State& bench) {
  const Cluster& cluster = LargeCluster();
  Run(bench, ServiceReplica(cluster.app_namespace, cluster.app));
}
BENCHMARK(BM_EvaluateAntiAffinitySpreadPod5k50k)->Unit(benchmark::kMicrosecond);

// upstream scheduler_perf's SchedulingPodAntiAffinity at 5,000 nodes: every pod of one group
// (color=green) has required hostname anti-affinity against the whole group, and `bound` of them
// already run, one per node. The incoming pod is one more of the group: each bound pod's term
// matches it, so Filter checks `bound` existing anti-affinity pairs on every node.
Pod GroupMember(const std::string& name) {
  Pod pod = BasicPod();
  pod.name = name;
  pod.labels = {{"color", "green"}};
  LabelSelector selector;
  selector.match_labels = {{"color", "green"}};
  PodAffinityTerm term;
  term.label_selector = selector;
  term.topology_key = kHostname;
  pod.affinity.emplace().pod_anti_affinity.emplace().required.push_back(term);
  return pod;
}

const ClusterState& AntiAffinityGroupCluster(size_t bound) {
  static std::map<size_t, std::unique_ptr<ClusterState>> clusters;
  auto& slot = clusters[bound];
  if (slot) return *slot;
  slot = std::make_unique<ClusterState>();
  GeneratorOptions options = LargeSnapshotOptions(5000);
  options.pending_pods = 0;
  auto snapshot = ParseSnapshot(GenerateSnapshot(options).dump());
  if (!snapshot.ok() || !LoadSnapshot(*snapshot, *slot).ok()) std::abort();
  for (size_t i = 0; i < bound && i < snapshot->nodes.size(); ++i) {
    Pod pod = GroupMember("green-" + std::to_string(i));
    pod.node_name = snapshot->nodes[i].name;
    if (!slot->UpsertPod(pod).ok()) std::abort();
  }
  return *slot;
}

void BM_EvaluateAntiAffinityGroup5k(benchmark::State& bench) {
  const ClusterState& state = AntiAffinityGroupCluster(static_cast<size_t>(bench.range(0)));
  ProfileOptions options;
  options.parallelism = 1;
  Evaluator evaluator(options);
  const Pod pod = GroupMember("incoming");
  uint64_t random = 0;
  Evaluation e;
  for (auto _ : bench) {
    evaluator.Evaluate(state, pod, ++random, &e);
    benchmark::DoNotOptimize(e);
  }
  bench.counters["bound_group"] = static_cast<double>(bench.range(0));
  bench.counters["feasible"] = static_cast<double>(e.feasible_count);
}
BENCHMARK(BM_EvaluateAntiAffinityGroup5k)->Arg(100)->Arg(1000)->Arg(3000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace sextant

BENCHMARK_MAIN();
