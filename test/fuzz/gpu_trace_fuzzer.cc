// Fuzzes the GPU trace CSV reader (src/gpu/trace_reader.cc). The input is a node list, a line
// "%%", and a pod list. Invariants: each list is parsed or refused with InvalidArgument naming
// the file; parsed values are within the reader's documented bounds; a small parsed pair replays
// under every policy without crashing, each pod placed or counted as failed, and, tuned to a
// GPU demand, replays or is refused when no pod asks for a GPU.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "fuzz_check.h"
#include "sextant/gpu_trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sextant;
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find("\n%%\n");
  const absl::string_view nodes_text = input.substr(0, split);
  const absl::string_view pods_text =
      split == absl::string_view::npos ? absl::string_view() : input.substr(split + 4);

  const absl::StatusOr<std::vector<GpuNodeSpec>> nodes = ParseGpuNodeCsv(nodes_text, "nodes.csv");
  if (!nodes.ok()) {
    SEXTANT_FUZZ_CHECK(absl::IsInvalidArgument(nodes.status()) &&
                           absl::StrContains(nodes.status().message(), "nodes.csv"),
                       "%s", nodes.status().ToString().c_str());
  }
  const absl::StatusOr<std::vector<GpuPodSpec>> pods = ParseGpuPodCsv(pods_text, "pods.csv");
  if (!pods.ok()) {
    SEXTANT_FUZZ_CHECK(absl::IsInvalidArgument(pods.status()) &&
                           absl::StrContains(pods.status().message(), "pods.csv"),
                       "%s", pods.status().ToString().c_str());
  }
  if (!nodes.ok() || !pods.ok()) return 0;
  for (const GpuPodSpec& pod : *pods) {
    SEXTANT_FUZZ_CHECK(pod.gpu_milli >= 0 && pod.gpu_milli <= 1000, "gpu_milli %lld",
                       static_cast<long long>(pod.gpu_milli));
  }
  if (nodes->size() > 8 || pods->size() > 24) return 0;
  for (GpuPolicy policy : kAllGpuPolicies) {
    GpuTraceOptions options;
    options.policy = policy;
    options.seed = 7;
    options.tune_ratio = 0;  // replay the list as it is: a fuzzed list may be tiny
    const absl::StatusOr<GpuTraceResult> result = ReplayGpuTrace(*nodes, *pods, options);
    if (!result.ok()) {
      SEXTANT_FUZZ_CHECK(absl::IsInvalidArgument(result.status()), "%s",
                         result.status().ToString().c_str());
      continue;
    }
    SEXTANT_FUZZ_CHECK(result->pods == static_cast<int64_t>(pods->size()),
                       "%lld pods replayed of %zu", static_cast<long long>(result->pods),
                       pods->size());
    SEXTANT_FUZZ_CHECK(result->failed >= 0 && result->failed <= result->pods, "%lld failed",
                       static_cast<long long>(result->failed));
  }
  // Tuned to 1.3 x the cluster's GPUs (pods drawn again), when the draws stay few.
  int64_t cluster_gpus = 0, min_total = 0, gpu_pods = 0;
  for (const GpuNodeSpec& node : *nodes) cluster_gpus += node.gpu_count;
  for (const GpuPodSpec& pod : *pods) {
    if (pod.TotalGpuMilli() == 0) continue;
    ++gpu_pods;
    min_total = min_total == 0 ? pod.TotalGpuMilli() : std::min(min_total, pod.TotalGpuMilli());
  }
  GpuTraceOptions tuned;
  tuned.policy = GpuPolicy::kBestFit;
  tuned.tune_ratio = 1.3;
  if (gpu_pods == 0 || cluster_gpus == 0) {
    const absl::StatusOr<GpuTraceResult> result = ReplayGpuTrace(*nodes, *pods, tuned);
    SEXTANT_FUZZ_CHECK(absl::IsInvalidArgument(result.status()), "%s",
                       result.status().ToString().c_str());
  } else if (cluster_gpus * 1300 / min_total * static_cast<int64_t>(pods->size()) / gpu_pods <=
             2000) {
    const absl::StatusOr<GpuTraceResult> result = ReplayGpuTrace(*nodes, *pods, tuned);
    SEXTANT_FUZZ_CHECK(result.ok(), "tuned replay: %s", result.status().ToString().c_str());
    SEXTANT_FUZZ_CHECK(result->failed >= 0 && result->failed <= result->pods, "%lld failed",
                       static_cast<long long>(result->failed));
  }
  return 0;
}
