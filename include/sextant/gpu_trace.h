// Replay of a GPU pod trace (the Alibaba cluster-trace-gpu-v2023 "openb" lists) through the
// engine: the trace's CSV reader, the paper's replay procedure (workload tuned to a multiple of
// the cluster's GPUs, shuffled per seed, pods placed one by one, no departures), its metric, and
// the CSV/SVG writers of the allocation-vs-arrived curve. Functions are thread-safe: every replay
// owns its ClusterState and device tables.
#ifndef SEXTANT_GPU_TRACE_H_
#define SEXTANT_GPU_TRACE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sextant/gpu.h"
#include "sextant/model.h"

namespace sextant {

// Node list: columns sn, cpu_milli, memory_mib, gpu, model (others ignored, any order).
// Pod list: columns name, cpu_milli, memory_mib, num_gpu, gpu_milli, and optionally gpu_spec.
// Errors (InvalidArgument/NotFound) name the file, the line and the column: a missing column,
// a value that is not a non-negative integer, gpu_milli above 1000, more GPUs than a node may
// carry, an unknown model name.
absl::StatusOr<std::vector<GpuNodeSpec>> ReadGpuNodeCsv(const std::string& path);
absl::StatusOr<std::vector<GpuPodSpec>> ReadGpuPodCsv(const std::string& path);
// The same on text already in memory; `file_name` is only used in messages.
absl::StatusOr<std::vector<GpuNodeSpec>> ParseGpuNodeCsv(absl::string_view text,
                                                         absl::string_view file_name);
absl::StatusOr<std::vector<GpuPodSpec>> ParseGpuPodCsv(absl::string_view text,
                                                       absl::string_view file_name);

struct GpuTraceOptions {
  GpuPolicy policy = GpuPolicy::kSextant;
  // Seeds the shuffle, the tuning draws, the node-name permutation (the tie-break among equal
  // scores) and Random's choices. Same seed, same list: the same workload for every policy.
  uint64_t seed = 42;
  // Pods are appended (drawn with replacement) or dropped at random until the requested GPU milli
  // reaches this multiple of the cluster's GPUs; <= 0 replays the list as it is.
  double tune_ratio = 1.3;
  // Shuffle the list before tuning (the paper's experiments do).
  bool shuffle = true;
  // The expected workload of FGD and Sextant; nullptr: EstimateGpuWorkload of the pod list and
  // EstimateGpuModelPressure of the nodes and the pod list.
  const GpuWorkload* workload = nullptr;
  // Record each pod's placement time (the scheduling decision, not the bookkeeping).
  bool record_latency = false;
  // Keep every node's final state and the demands of the pods that failed (for breakdowns).
  bool keep_final_state = false;
  // Record the node each pod went to (GpuTraceResult::placements).
  bool record_placements = false;
};

// A node at the end of a replay.
struct GpuTraceNodeState {
  GpuDeviceTable gpus;
  int64_t cpu_left_milli = 0;
  int64_t memory_left_bytes = 0;
};

// After each pod (placed or not): cumulative requested GPU milli and allocated GPU milli.
struct GpuTracePoint {
  int64_t arrived_milli = 0;
  int64_t allocated_milli = 0;
};

struct GpuTraceResult {
  GpuPolicy policy = GpuPolicy::kSextant;
  uint64_t seed = 0;
  int64_t cluster_gpus = 0;            // whole GPUs in the cluster
  int64_t pods = 0;                    // pods replayed after tuning
  int64_t failed = 0;                  // pods that fit nowhere
  double alloc_at_100 = 0;             // allocation % at 100% arrived (the paper's metric)
  double alloc_at_130 = 0;             // allocation % at 130% arrived
  double unallocated_gpus_at_130 = 0;  // (1 - alloc_at_130) x cluster GPUs
  std::vector<GpuTracePoint> curve;
  std::vector<double> latency_seconds;         // per pod, when record_latency
  std::vector<GpuTraceNodeState> final_nodes;  // when keep_final_state
  std::vector<GpuDemand> failed_demands;       // when keep_final_state
  // Per pod in arrival order, the node it went to ("" when it fit nowhere); when
  // record_placements.
  std::vector<std::string> placements;
  double wall_seconds = 0;
};

// Replays `pods` on `nodes` as the paper's experiments do (see docs/gpu-placement.md):
// shuffle, tune to options.tune_ratio, random node-name permutation as the tie-break, then each
// pod in order: filters (the engine's NodeResourcesFit for cpu/memory, the device table for GPUs
// and models), the policy's scores, the highest score wins, the pod is assumed on the engine's
// ClusterState and its devices are taken. InvalidArgument for an empty or GPU-less cluster.
absl::StatusOr<GpuTraceResult> ReplayGpuTrace(const std::vector<GpuNodeSpec>& nodes,
                                              const std::vector<GpuPodSpec>& pods,
                                              const GpuTraceOptions& options);

// What a replay places, in order: the pods as ReplayGpuTrace shuffles, tunes and names them
// for options.seed (the same draws), and the nodes in the order of their random rank, so the
// first is the one the replay prefers among equal scores. InvalidArgument as ReplayGpuTrace.
struct GpuTraceSequence {
  std::vector<GpuPodSpec> pods;
  std::vector<GpuNodeSpec> nodes;
};
absl::StatusOr<GpuTraceSequence> PrepareGpuTrace(const std::vector<GpuNodeSpec>& nodes,
                                                 const std::vector<GpuPodSpec>& pods,
                                                 const GpuTraceOptions& options);

// A trace node as the engine holds it: cpu and memory allocatable (and capacity), 1001 pods
// (the simulator's node objects, so the pod count never binds).
Node GpuTraceNode(const GpuNodeSpec& spec);
// A trace pod as the engine holds it: pending, in namespace "gpu-trace", one container
// requesting the pod's cpu and memory. Its GPUs are not on it (the replay's device tables, or a
// claim on the live path).
Pod GpuTracePod(const GpuPodSpec& spec, const std::string& name);

// The paper's metric on a curve: the mean of the allocation % (rounded to 2 decimals) over the
// points whose arrived % rounds to `percent`; if none, over those within one point of it; the
// mean rounded to 2 decimals. NaN when no point is near.
double AllocationAtArrived(const std::vector<GpuTracePoint>& curve, int64_t cluster_gpus,
                           int percent);

// Runs every (policy, seed) pair on up to `threads` threads (0: all cores), each with `base`
// but its own policy and seed (and the workload estimated as ReplayGpuTrace does, unless base
// has one); results in policy-major, seed-minor order. The first error is returned.
absl::StatusOr<std::vector<GpuTraceResult>> RunGpuTraceMatrix(
    const std::vector<GpuNodeSpec>& nodes, const std::vector<GpuPodSpec>& pods,
    const std::vector<GpuPolicy>& policies, const std::vector<uint64_t>& seeds,
    const GpuTraceOptions& base, int threads);

// The allocation-vs-arrived curve per policy, mean over that policy's seeds at each arrived %
// 0..max (the metric above): CSV with a header "arrived_percent,<policy>,..." and one row per
// percent; and an SVG line plot of the same, one line per policy.
std::string GpuTraceCurveCsv(const std::vector<GpuTraceResult>& results, int max_percent = 130);
std::string GpuTraceCurveSvg(const std::vector<GpuTraceResult>& results, absl::string_view title,
                             int max_percent = 130);

}  // namespace sextant

#endif  // SEXTANT_GPU_TRACE_H_
