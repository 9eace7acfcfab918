// The trace replay: the paper's procedure on the engine's ClusterState plus the GPU device tables.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "plugins/node_resources_fit.h"
#include "sextant/cluster_state.h"
#include "sextant/gpu_trace.h"

namespace sextant {
namespace {

using Clock = std::chrono::steady_clock;

// The simulator's node objects allow 1001 pods, so the pod count never binds in the replay.
constexpr int64_t kTracePodsPerNode = 1001;
constexpr char kTraceNamespace[] = "gpu-trace";

// Portable bounded draw (rejection sampling), so pinned results do not depend on the standard
// library's distributions.
uint64_t UniformIndex(std::mt19937_64& rng, uint64_t n) {
  const uint64_t limit =
      std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
  for (;;) {
    uint64_t x = rng();
    if (x < limit) return x % n;
  }
}

double UniformUnit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

template <typename T>
void Shuffle(std::vector<T>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[UniformIndex(rng, i)]);
}


// Per-node scores of FGD and Sextant are expensive and depend only on the node's state and the
// pod's demand: they are cached per (node, demand type) and dropped when the node changes.
struct CachedPlacement {
  uint32_t version = 0;  // 0: empty
  GpuPlacement placement;
};

// Steps 1 and 2 of a replay, which draw from `rng` before any pod is placed: the workload (the
// list in name order, shuffled, then tuned to the target GPU demand: list indices, and k for the
// k-th appended draw, else -1) and the cluster (nodes in name order, each with a random rank:
// the simulator prefixes node names with a random permutation, and ties go to the smallest
// name).
struct Prepared {
  std::vector<int> sequence;
  std::vector<int> copy_number;
  std::vector<int> node_order;
  std::vector<uint32_t> rank;
};

Prepared Prepare(const std::vector<GpuNodeSpec>& nodes, const std::vector<GpuPodSpec>& pods,
                 const GpuTraceOptions& options, std::mt19937_64& rng, int64_t cluster_gpus) {
  Prepared out;
  std::vector<int>& sequence = out.sequence;
  std::vector<int>& copy_number = out.copy_number;
  std::vector<int>& node_order = out.node_order;
  std::vector<uint32_t>& rank = out.rank;
  sequence.resize(pods.size());
  std::iota(sequence.begin(), sequence.end(), 0);
  std::stable_sort(sequence.begin(), sequence.end(),
                   [&](int a, int b) { return pods[a].name < pods[b].name; });
  if (options.shuffle) Shuffle(sequence, rng);
  const int64_t cluster_milli = cluster_gpus * kGpuMilli;
  int64_t requested = 0;
  for (int i : sequence) requested += pods[i].TotalGpuMilli();
  copy_number.assign(sequence.size(), -1);
  if (options.tune_ratio > 0) {
    const double target = options.tune_ratio * static_cast<double>(cluster_milli);
    if (static_cast<double>(requested) > target) {
      while (static_cast<double>(requested) > target && !sequence.empty()) {
        size_t idx = UniformIndex(rng, sequence.size());
        requested -= pods[sequence[idx]].TotalGpuMilli();
        sequence.erase(sequence.begin() + static_cast<std::ptrdiff_t>(idx));
        copy_number.erase(copy_number.begin() + static_cast<std::ptrdiff_t>(idx));
      }
    } else {
      // The simulator's stop test adds the draw's per-device milli, its sum the total: kept, as
      // it decides where the replay ends.
      for (int k = 0;; ++k) {
        const GpuPodSpec& draw = pods[UniformIndex(rng, pods.size())];
        const int64_t per_device = draw.UsesGpu() ? draw.gpu_milli : 0;
        if (static_cast<double>(requested + per_device) > target) break;
        requested += draw.TotalGpuMilli();
        sequence.push_back(static_cast<int>(&draw - pods.data()));
        copy_number.push_back(k);
      }
    }
  }

  node_order.resize(nodes.size());
  std::iota(node_order.begin(), node_order.end(), 0);
  std::stable_sort(node_order.begin(), node_order.end(),
                   [&](int a, int b) { return nodes[a].name < nodes[b].name; });
  rank.resize(nodes.size());
  std::iota(rank.begin(), rank.end(), 0u);
  Shuffle(rank, rng);
  return out;
}

// What ReplayGpuTrace refuses: OK or InvalidArgument.
absl::Status Validate(const std::vector<GpuNodeSpec>& nodes, const std::vector<GpuPodSpec>& pods,
                      const GpuTraceOptions& options) {
  int64_t cluster_gpus = 0;
  for (const GpuNodeSpec& node : nodes) cluster_gpus += node.gpu_count;
  if (nodes.empty() || cluster_gpus == 0) {
    return absl::InvalidArgumentError("GPU trace replay: the cluster has no GPU");
  }
  if (pods.empty()) return absl::InvalidArgumentError("GPU trace replay: the pod list is empty");
  // Tuning up draws pods until their GPU demand reaches the target: a list without any GPU
  // request would draw for ever.
  if (options.tune_ratio > 0 &&
      std::none_of(pods.begin(), pods.end(), [](const GpuPodSpec& pod) { return pod.UsesGpu(); })) {
    return absl::InvalidArgumentError(
        "GPU trace replay: no pod requests a GPU, so the list cannot be tuned to a multiple of "
        "the cluster's GPUs (replay it as it is with tune_ratio 0)");
  }
  // Pods and nodes are known by name in the engine's state: two of one name would be one object.
  std::set<std::string> pod_names;
  for (const GpuPodSpec& pod : pods) {
    if (!pod_names.insert(pod.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("GPU trace replay: duplicate pod name \"", pod.name, "\""));
    }
  }
  std::set<std::string> node_names;
  for (const GpuNodeSpec& node : nodes) {
    if (!node_names.insert(node.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("GPU trace replay: duplicate node name \"", node.name, "\""));
    }
  }
  return absl::OkStatus();
}

// The name of the k-th pod of a replay: the list pod's, or "<name>-tuned-<k>" for an appended
// draw, never a name in use (a list pod may itself be called "<other>-tuned-<k>").
std::string SequenceName(const GpuPodSpec& spec, int copy_number, std::set<std::string>& names) {
  if (copy_number < 0) return spec.name;
  std::string name = absl::StrCat(spec.name, "-tuned-", copy_number);
  while (!names.insert(name).second) name += "'";
  return name;
}

}  // namespace

Pod GpuTracePod(const GpuPodSpec& spec, const std::string& name) {
  Pod pod;
  pod.name_space = kTraceNamespace;
  pod.name = name;
  pod.uid = name;
  pod.phase = "Pending";
  Container container;
  container.name = "main";
  container.requests[kResourceCpu] = Quantity::FromMilli(spec.cpu_milli);
  container.requests[kResourceMemory] =
      Quantity::FromInt(spec.memory_bytes, Quantity::Format::kBinarySI);
  pod.containers.push_back(std::move(container));
  return pod;
}

Node GpuTraceNode(const GpuNodeSpec& spec) {
  Node node;
  node.name = spec.name;
  node.allocatable[kResourceCpu] = Quantity::FromMilli(spec.cpu_milli);
  node.allocatable[kResourceMemory] =
      Quantity::FromInt(spec.memory_bytes, Quantity::Format::kBinarySI);
  node.allocatable[kResourcePods] = Quantity::FromInt(kTracePodsPerNode);
  node.capacity = node.allocatable;
  return node;
}

absl::StatusOr<GpuTraceResult> ReplayGpuTrace(const std::vector<GpuNodeSpec>& nodes,
                                              const std::vector<GpuPodSpec>& pods,
                                              const GpuTraceOptions& options) {
  const Clock::time_point wall_start = Clock::now();
  GpuTraceResult result;
  result.policy = options.policy;
  result.seed = options.seed;
  for (const GpuNodeSpec& node : nodes) result.cluster_gpus += node.gpu_count;
  if (absl::Status status = Validate(nodes, pods, options); !status.ok()) return status;
  std::set<std::string> pod_names;
  for (const GpuPodSpec& pod : pods) pod_names.insert(pod.name);
  GpuWorkload estimated;
  const GpuWorkload* workload = options.workload;
  if (workload == nullptr &&
      (options.policy == GpuPolicy::kFgd || options.policy == GpuPolicy::kSextant)) {
    estimated = EstimateGpuWorkload(pods);
    EstimateGpuModelPressure(nodes, pods, &estimated);
    workload = &estimated;
  }

  // 1. The workload and 2. the node order (Prepare).
  std::mt19937_64 rng(options.seed);
  Prepared prepared = Prepare(nodes, pods, options, rng, result.cluster_gpus);
  const std::vector<int>& sequence = prepared.sequence;
  const std::vector<int>& copy_number = prepared.copy_number;
  const std::vector<int>& node_order = prepared.node_order;
  const std::vector<uint32_t>& rank = prepared.rank;
  ClusterState cluster;
  const size_t n = nodes.size();
  std::vector<uint32_t> slot(n);  // position -> ClusterState node index
  std::vector<GpuDeviceTable> gpus(n);
  std::vector<std::array<int32_t, kGpuKinds>> kinds(n);
  for (size_t pos = 0; pos < n; ++pos) {
    const GpuNodeSpec& spec = nodes[node_order[pos]];
    absl::Status status = cluster.UpsertNode(GpuTraceNode(spec));
    if (!status.ok()) return status;
    slot[pos] = static_cast<uint32_t>(cluster.FindNode(spec.name));
    gpus[pos] = GpuDeviceTable(spec.model, spec.gpu_count);
    kinds[pos].fill(0);
  }

  // Demand types (cache keys) and the engine's fit state of each list pod.
  std::map<std::tuple<int64_t, int64_t, int, GpuModelMask>, int> type_ids;
  std::vector<int> type_of(pods.size());
  std::vector<GpuDemand> demand_of(pods.size());
  for (size_t i = 0; i < pods.size(); ++i) {
    demand_of[i] = GpuDemand::Of(pods[i]);
    const GpuDemand& d = demand_of[i];
    auto key = std::make_tuple(d.cpu_milli, d.gpu_milli, d.num_gpu, d.models);
    type_of[i] = type_ids.emplace(key, static_cast<int>(type_ids.size())).first->second;
  }
  const size_t type_count = type_ids.size();
  const bool cached = options.policy == GpuPolicy::kFgd || options.policy == GpuPolicy::kSextant;
  std::vector<CachedPlacement> cache(cached ? n * type_count : 0);
  std::vector<uint32_t> version(n, 1);
  std::vector<double> frag(n, -1);
  std::vector<uint32_t> frag_version(n, 0);
  const ProfileOptions profile;

  // 3. Place the pods one by one.
  std::vector<size_t> feasible;
  std::vector<GpuPlacement> placements;
  feasible.reserve(n);
  placements.reserve(n);
  result.curve.reserve(sequence.size());
  if (options.record_latency) result.latency_seconds.reserve(sequence.size());
  int64_t arrived = 0;
  int64_t allocated = 0;
  for (size_t k = 0; k < sequence.size(); ++k) {
    const int li = sequence[k];
    const GpuPodSpec& spec = pods[li];
    const GpuDemand& demand = demand_of[li];
    arrived += spec.TotalGpuMilli();
    const std::string name = SequenceName(spec, copy_number[k], pod_names);
    Pod pod = GpuTracePod(spec, name);
    const Clock::time_point start = Clock::now();
    const FitPreFilterState fit = NodeResourcesFitPreFilter(pod, cluster.resources(), profile);

    feasible.clear();
    placements.clear();
    for (size_t pos = 0; pos < n; ++pos) {
      if (!gpus[pos].Fits(demand)) continue;
      if (NodeResourcesFitFilter(fit, cluster.node(slot[pos])).code != FilterCode::kSuccess) {
        continue;
      }
      feasible.push_back(pos);
    }
    size_t chosen = n;
    GpuSet devices = 0;
    if (!feasible.empty()) {
      GpuScoreContext context;
      context.workload = workload;
      auto view_of = [&](size_t pos) {
        const NodeInfo& info = cluster.node(slot[pos]);
        GpuNodeView view;
        view.gpus = &gpus[pos];
        view.cpu_left_milli = info.allocatable.milli_cpu - info.requested.milli_cpu;
        view.cpu_capacity_milli = info.allocatable.milli_cpu;
        view.kind_counts = &kinds[pos];
        return view;
      };
      if (options.policy == GpuPolicy::kRandom) {
        chosen = feasible[UniformIndex(rng, feasible.size())];
        if (demand.IsShared()) context.random_draw = UniformUnit(rng);
        devices = ScoreGpuNode(options.policy, demand, view_of(chosen), context).devices;
      } else {
        for (size_t pos : feasible) {
          if (!cached) {
            placements.push_back(ScoreGpuNode(options.policy, demand, view_of(pos), context));
            continue;
          }
          CachedPlacement& entry = cache[pos * type_count + type_of[li]];
          if (entry.version != version[pos]) {
            GpuNodeView view = view_of(pos);
            if (frag_version[pos] != version[pos]) {
              frag[pos] = NodeGpuFragmentation(gpus[pos], view.cpu_left_milli, *workload);
              frag_version[pos] = version[pos];
            }
            view.fragmentation = frag[pos];
            entry.placement = ScoreGpuNode(options.policy, demand, view, context);
            entry.version = version[pos];
          }
          placements.push_back(entry.placement);
        }
        if (options.policy == GpuPolicy::kBestFit) {
          // The simulator min-max normalises BestFit to 0..100 (integer arithmetic).
          double lo = std::numeric_limits<double>::max(),
                 hi = std::numeric_limits<double>::lowest();
          for (const GpuPlacement& p : placements) {
            lo = std::min(lo, p.score);
            hi = std::max(hi, p.score);
          }
          for (GpuPlacement& p : placements) {
            const int64_t range = static_cast<int64_t>(hi - lo);
            p.score = range == 0
                          ? 0
                          : static_cast<double>(static_cast<int64_t>(p.score - lo) * 100 / range);
          }
        }
        size_t best = 0;
        for (size_t i = 1; i < feasible.size(); ++i) {
          if (placements[i].score > placements[best].score ||
              (placements[i].score == placements[best].score &&
               rank[feasible[i]] < rank[feasible[best]])) {
            best = i;
          }
        }
        chosen = feasible[best];
        devices = placements[best].devices;
      }
    }
    if (options.record_latency) {
      result.latency_seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    }
    if (options.record_placements) {
      result.placements.push_back(chosen < n ? nodes[node_order[chosen]].name : std::string());
    }
    if (chosen < n) {
      absl::Status status = cluster.AssumePod(pod, nodes[node_order[chosen]].name);
      if (!status.ok()) return status;
      if (demand.UsesGpu()) {
        gpus[chosen].Allocate(devices, demand.gpu_milli);
        ++kinds[chosen][GpuKindIndex(demand)];
        allocated += spec.TotalGpuMilli();
      }
      ++version[chosen];
    } else {
      ++result.failed;
      if (options.keep_final_state) result.failed_demands.push_back(demand);
    }
    result.curve.push_back({arrived, allocated});
  }
  if (options.keep_final_state) {
    for (size_t pos = 0; pos < n; ++pos) {
      const NodeInfo& info = cluster.node(slot[pos]);
      result.final_nodes.push_back({gpus[pos],
                                    info.allocatable.milli_cpu - info.requested.milli_cpu,
                                    info.allocatable.memory - info.requested.memory});
    }
  }
  result.pods = static_cast<int64_t>(sequence.size());
  result.alloc_at_100 = AllocationAtArrived(result.curve, result.cluster_gpus, 100);
  result.alloc_at_130 = AllocationAtArrived(result.curve, result.cluster_gpus, 130);
  result.unallocated_gpus_at_130 =
      (1 - result.alloc_at_130 / 100) * static_cast<double>(result.cluster_gpus);
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - wall_start).count();
  return result;
}

absl::StatusOr<GpuTraceSequence> PrepareGpuTrace(const std::vector<GpuNodeSpec>& nodes,
                                                 const std::vector<GpuPodSpec>& pods,
                                                 const GpuTraceOptions& options) {
  if (absl::Status status = Validate(nodes, pods, options); !status.ok()) return status;
  int64_t cluster_gpus = 0;
  for (const GpuNodeSpec& node : nodes) cluster_gpus += node.gpu_count;
  std::mt19937_64 rng(options.seed);
  const Prepared prepared = Prepare(nodes, pods, options, rng, cluster_gpus);
  std::set<std::string> pod_names;
  for (const GpuPodSpec& pod : pods) pod_names.insert(pod.name);
  GpuTraceSequence out;
  out.pods.reserve(prepared.sequence.size());
  for (size_t k = 0; k < prepared.sequence.size(); ++k) {
    GpuPodSpec spec = pods[prepared.sequence[k]];
    spec.name = SequenceName(spec, prepared.copy_number[k], pod_names);
    out.pods.push_back(std::move(spec));
  }
  // By rank: the node the replay prefers among equal scores first.
  std::vector<size_t> positions(nodes.size());
  std::iota(positions.begin(), positions.end(), 0);
  std::sort(positions.begin(), positions.end(),
            [&](size_t a, size_t b) { return prepared.rank[a] < prepared.rank[b]; });
  for (size_t pos : positions) out.nodes.push_back(nodes[prepared.node_order[pos]]);
  return out;
}

double AllocationAtArrived(const std::vector<GpuTracePoint>& curve, int64_t cluster_gpus,
                           int percent) {
  // As the authors' analysis script: arrived % rounded half-to-even to an integer, allocation %
  // rounded to 2 decimals, mean over the matching points, rounded to 2 decimals.
  const double gpus = static_cast<double>(cluster_gpus);
  auto mean_within = [&](int spread) {
    double sum = 0;
    int64_t count = 0;
    for (const GpuTracePoint& p : curve) {
      double arrived = std::nearbyint(static_cast<double>(p.arrived_milli) / gpus / 10);
      if (arrived < percent - spread || arrived > percent + spread) continue;
      sum += std::nearbyint(static_cast<double>(p.allocated_milli) / gpus / 10 * 100) / 100;
      ++count;
    }
    return count == 0 ? std::nan("") : sum / static_cast<double>(count);
  };
  double mean = mean_within(0);
  if (std::isnan(mean)) mean = mean_within(1);
  return std::isnan(mean) ? mean : std::nearbyint(mean * 100) / 100;
}

absl::StatusOr<std::vector<GpuTraceResult>> RunGpuTraceMatrix(
    const std::vector<GpuNodeSpec>& nodes, const std::vector<GpuPodSpec>& pods,
    const std::vector<GpuPolicy>& policies, const std::vector<uint64_t>& seeds,
    const GpuTraceOptions& base, int threads) {
  GpuWorkload estimated = EstimateGpuWorkload(pods);
  EstimateGpuModelPressure(nodes, pods, &estimated);
  const GpuWorkload* workload = base.workload != nullptr ? base.workload : &estimated;
  const size_t jobs = policies.size() * seeds.size();
  std::vector<GpuTraceResult> results(jobs);
  std::vector<absl::Status> errors(jobs);
  // The slow policies first, so the pool ends evenly.
  std::vector<size_t> order(jobs);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    auto slow = [&](size_t j) {
      GpuPolicy p = policies[j / seeds.size()];
      return p == GpuPolicy::kFgd || p == GpuPolicy::kSextant;
    };
    return slow(a) && !slow(b);
  });
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < jobs; i = next++) {
      const size_t job = order[i];
      GpuTraceOptions options = base;
      options.policy = policies[job / seeds.size()];
      options.seed = seeds[job % seeds.size()];
      options.workload = workload;
      auto result = ReplayGpuTrace(nodes, pods, options);
      if (result.ok()) {
        results[job] = std::move(*result);
      } else {
        errors[job] = result.status();
      }
    }
  };
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads =
      static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), std::max<size_t>(jobs, 1)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  for (const absl::Status& status : errors) {
    if (!status.ok()) return status;
  }
  return results;
}

}  // namespace sextant
