// `sextant gpu-trace`: the paper's replay of the Alibaba GPU trace, per policy and seed, with the
// published figures of the authors' artifact next to ours when the pod list is one of theirs.
#include "cli/gpu_trace_command.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "sextant/gpu_trace.h"
#include "sextant/gpu_trace_dra.h"

namespace sextant {
namespace {

// Mean over seeds 42..51 of the authors' artifact (allocation % at 100% and 130% arrived),
// experiments/analysis/expected_results of hkust-adsl/kubernetes-scheduler-simulator.
struct Published {
  double at_100;
  double at_130;
};
const std::map<std::string, std::map<GpuPolicy, Published>>& PublishedResults() {
  static const auto* table = new std::map<std::string, std::map<GpuPolicy, Published>>{
      {"openb_pod_list_default",
       {{GpuPolicy::kRandom, {86.30, 87.47}},
        {GpuPolicy::kDotProduct, {90.62, 90.85}},
        {GpuPolicy::kGpuClustering, {91.65, 91.88}},
        {GpuPolicy::kGpuPacking, {91.78, 92.00}},
        {GpuPolicy::kBestFit, {92.86, 93.08}},
        {GpuPolicy::kFgd, {95.23, 95.39}}}},
      {"openb_pod_list_gpuspec33",
       {{GpuPolicy::kRandom, {83.87, 86.46}},
        {GpuPolicy::kDotProduct, {79.82, 89.14}},
        {GpuPolicy::kGpuClustering, {81.09, 92.12}},
        {GpuPolicy::kGpuPacking, {82.22, 93.22}},
        {GpuPolicy::kBestFit, {80.39, 93.09}},
        {GpuPolicy::kFgd, {87.84, 94.55}}}},
      {"openb_pod_list_multigpu50",
       {{GpuPolicy::kRandom, {81.28, 90.27}},
        {GpuPolicy::kDotProduct, {94.73, 94.85}},
        {GpuPolicy::kGpuClustering, {95.69, 95.81}},
        {GpuPolicy::kGpuPacking, {96.06, 96.18}},
        {GpuPolicy::kBestFit, {95.62, 95.74}},
        {GpuPolicy::kFgd, {97.09, 97.18}}}},
      {"openb_pod_list_gpushare40",
       {{GpuPolicy::kRandom, {84.86, 86.00}},
        {GpuPolicy::kDotProduct, {89.30, 89.56}},
        {GpuPolicy::kGpuClustering, {89.76, 90.02}},
        {GpuPolicy::kGpuPacking, {89.77, 90.03}},
        {GpuPolicy::kBestFit, {91.44, 91.69}},
        {GpuPolicy::kFgd, {93.96, 94.15}}}},
      {"openb_pod_list_cpu050",
       {{GpuPolicy::kRandom, {89.02, 91.24}},
        {GpuPolicy::kDotProduct, {93.03, 93.27}},
        {GpuPolicy::kGpuClustering, {93.52, 93.79}},
        {GpuPolicy::kGpuPacking, {93.46, 93.72}},
        {GpuPolicy::kBestFit, {93.56, 93.79}},
        {GpuPolicy::kFgd, {95.00, 95.21}}}},
  };
  return *table;
}

std::string ListName(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  if (name.size() > 4 && name.substr(name.size() - 4) == ".csv") name.resize(name.size() - 4);
  return name;
}

// "42-51", "42,43,50" or "7".
bool ParseSeeds(const std::string& text, std::vector<uint64_t>* seeds) {
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    std::vector<absl::string_view> range = absl::StrSplit(part, '-');
    uint64_t lo = 0, hi = 0;
    if (range.size() == 1 && absl::SimpleAtoi(range[0], &lo)) {
      hi = lo;
    } else if (range.size() != 2 || !absl::SimpleAtoi(range[0], &lo) ||
               !absl::SimpleAtoi(range[1], &hi) || hi < lo || hi - lo > 100000) {
      return false;
    }
    for (uint64_t s = lo; s <= hi; ++s) seeds->push_back(s);
  }
  return !seeds->empty();
}

bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

// Mean over seeds, at the end of the replay: idle GPUs as whole free devices and as partial
// slivers, the idle GPUs on nodes with less than 4 cores or 16 GiB left, and the failed pods
// by kind.
void PrintBreakdown(const std::vector<GpuTraceResult>& results,
                    const std::vector<GpuPolicy>& policies, size_t seeds) {
  std::printf(
      "\nat the end (mean over seeds; GPUs)\n%-14s %8s %8s %8s %9s %9s | failed pods: "
      "%6s %6s %6s %6s %6s %6s\n",
      "policy", "idle", "whole", "partial", "cpu<4c", "mem<16G", "cpu", "shared", "1gpu", "2gpu",
      "4gpu", "8gpu");
  for (size_t p = 0; p < policies.size(); ++p) {
    double idle = 0, whole = 0, partial = 0, cpu_starved = 0, mem_starved = 0;
    double failed[6] = {0, 0, 0, 0, 0, 0};
    for (size_t s = 0; s < seeds; ++s) {
      const GpuTraceResult& r = results[p * seeds + s];
      for (const GpuTraceNodeState& node : r.final_nodes) {
        const double left = static_cast<double>(node.gpus.total_left()) / kGpuMilli;
        idle += left;
        whole += node.gpus.fully_free();
        partial += left - node.gpus.fully_free();
        if (node.cpu_left_milli < 4000) cpu_starved += left;
        if (node.memory_left_bytes < (int64_t{16} << 30)) mem_starved += left;
      }
      for (const GpuDemand& d : r.failed_demands) {
        int kind = GpuKindIndex(d);
        int column = kind < 0    ? 0
                     : kind == 0 ? 1
                     : kind == 1 ? 2
                     : kind == 2 ? 3
                     : kind == 4 ? 4
                                 : 5;
        failed[column] += 1;
      }
    }
    const double k = static_cast<double>(seeds);
    std::printf("%-14s %8.1f %8.1f %8.1f %9.1f %9.1f | %20.1f %6.1f %6.1f %6.1f %6.1f %6.1f\n",
                std::string(GpuPolicyName(policies[p])).c_str(), idle / k, whole / k, partial / k,
                cpu_starved / k, mem_starved / k, failed[0] / k, failed[1] / k, failed[2] / k,
                failed[3] / k, failed[4] / k, failed[5] / k);
  }
  std::printf("\npartly used devices by milli left (100s; mean count over seeds)\n%-14s", "policy");
  for (int b = 0; b < 10; ++b) std::printf(" %5d", b * 100);
  std::printf("\n");
  for (size_t p = 0; p < policies.size(); ++p) {
    double hist[10] = {};
    for (size_t s = 0; s < seeds; ++s) {
      for (const GpuTraceNodeState& node : results[p * seeds + s].final_nodes) {
        for (int i = 0; i < node.gpus.count(); ++i) {
          int64_t left = node.gpus.milli_left(i);
          if (left > 0 && left < kGpuMilli) hist[left / 100] += 1;
        }
      }
    }
    std::printf("%-14s", std::string(GpuPolicyName(policies[p])).c_str());
    for (double h : hist) std::printf(" %5.0f", h / static_cast<double>(seeds));
    std::printf("\n");
  }
}

// The live path for every (policy, seed) of `trace` (the trace replay's results, with
// placements), side by side with them: allocation at 100% and 130% arrived and how many pods
// went to the same node.
int RunThroughDra(const std::vector<GpuNodeSpec>& nodes, const std::vector<GpuPodSpec>& pods,
                  const std::vector<GpuPolicy>& policies, const std::vector<uint64_t>& seeds,
                  const GpuTraceOptions& base, const std::vector<GpuTraceResult>& trace,
                  const std::string& mode, int threads) {
  const size_t jobs = policies.size() * seeds.size();
  std::vector<absl::StatusOr<GpuTraceResult>> live(jobs, absl::UnknownError("not run"));
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t job = next++; job < jobs; job = next++) {
      const GpuPolicy policy = policies[job / seeds.size()];
      ProfileOptions profile;
      if (mode == "policy-only") profile = GpuPolicyOnlyProfile(policy);
      profile.parallelism = 1;
      profile.gpu_placement.policy = policy;
      GpuTraceOptions options = base;
      options.seed = seeds[job % seeds.size()];
      options.record_placements = true;
      options.record_latency = true;
      live[job] = ReplayGpuTraceThroughDra(nodes, pods, options, profile);
    }
  };
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads && static_cast<size_t>(t) < jobs; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  std::printf("\nthrough the live path (%s profile): trace replay vs live, mean over seeds\n",
              mode.c_str());
  std::printf("%-14s %15s %15s %10s %12s %14s\n", "policy", "alloc@100", "alloc@130",
              "same node", "failed", "us/pod (p50)");
  for (size_t p = 0; p < policies.size(); ++p) {
    double t100 = 0, t130 = 0, l100 = 0, l130 = 0, same = 0, total = 0, tf = 0, lf = 0, us = 0;
    for (size_t s = 0; s < seeds.size(); ++s) {
      const size_t job = p * seeds.size() + s;
      if (!live[job].ok()) {
        std::cerr << "sextant gpu-trace: " << live[job].status().message() << "\n";
        return 2;
      }
      const GpuTraceResult& l = *live[job];
      const GpuTraceResult& t = trace[job];
      t100 += t.alloc_at_100;
      t130 += t.alloc_at_130;
      l100 += l.alloc_at_100;
      l130 += l.alloc_at_130;
      tf += static_cast<double>(t.failed);
      lf += static_cast<double>(l.failed);
      for (size_t k = 0; k < l.placements.size() && k < t.placements.size(); ++k) {
        same += l.placements[k] == t.placements[k];
        ++total;
      }
      std::vector<double> latency = l.latency_seconds;
      std::sort(latency.begin(), latency.end());
      if (!latency.empty()) us += latency[latency.size() / 2] * 1e6;
      if (seeds.size() > 1) {
        std::printf("  %-12s seed %-4llu %6.2f / %6.2f  %6.2f / %6.2f\n",
                    std::string(GpuPolicyName(policies[p])).c_str(),
                    static_cast<unsigned long long>(t.seed), t.alloc_at_100, l.alloc_at_100,
                    t.alloc_at_130, l.alloc_at_130);
      }
    }
    const double k = static_cast<double>(seeds.size());
    std::printf("%-14s %6.2f / %6.2f %6.2f / %6.2f %9.1f%% %5.0f / %5.0f %14.0f\n",
                std::string(GpuPolicyName(policies[p])).c_str(), t100 / k, l100 / k, t130 / k,
                l130 / k, total > 0 ? 100 * same / total : 0.0, tf / k, lf / k, us / k);
  }
  return 0;
}

}  // namespace

CLI::App* AddGpuTraceCommand(CLI::App& app, GpuTraceArgs& args) {
  auto* cmd = app.add_subcommand(
      "gpu-trace", "Replay a GPU pod trace (Alibaba cluster-trace-gpu-v2023 CSV) per policy");
  cmd->add_option("--nodes", args.nodes_path, "Node list CSV (sn,cpu_milli,memory_mib,gpu,model)")
      ->required();
  cmd->add_option("--pods", args.pods_path,
                  "Pod list CSV (name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec])")
      ->required();
  cmd->add_option("--policy", args.policies,
                  "Random, DotProduct, GpuClustering, GpuPacking, BestFit, FGD or Sextant "
                  "(repeatable; default Sextant)");
  cmd->add_flag("--all", args.all, "Every policy");
  cmd->add_option("--seeds", args.seeds, "Seeds: 42-51, 42,43 or 42")->capture_default_str();
  cmd->add_option("--threads", args.threads, "Replays in parallel (0: all cores)");
  cmd->add_option("--tune-ratio", args.tune_ratio,
                  "Tune the workload to this multiple of the cluster's GPUs")
      ->capture_default_str();
  cmd->add_flag("--per-seed", args.per_seed, "Also print every seed's figures");
  cmd->add_flag("--breakdown", args.breakdown,
                "Also print where the idle GPUs are at the end and which pods failed");
  cmd->add_option("--csv", args.csv_path, "Write the allocation-vs-arrived curve (CSV)");
  cmd->add_option("--svg", args.svg_path, "Plot the allocation-vs-arrived curve (SVG)");
  cmd->add_option("--title", args.title, "Title of the plot (default: the pod list's name)");
  cmd->add_option("--through-dra", args.through_dra,
                  "Also replay through the engine's live path (ResourceSlices, claims, "
                  "Evaluate and Reserve) with the default profile or the policy's score only, "
                  "and compare")
      ->check(CLI::IsMember({"default", "policy-only"}));
  return cmd;
}

int RunGpuTrace(const GpuTraceArgs& args) {
  auto nodes = ReadGpuNodeCsv(args.nodes_path);
  if (!nodes.ok()) {
    std::cerr << "sextant gpu-trace: " << nodes.status().message() << "\n";
    return 2;
  }
  auto pods = ReadGpuPodCsv(args.pods_path);
  if (!pods.ok()) {
    std::cerr << "sextant gpu-trace: " << pods.status().message() << "\n";
    return 2;
  }
  std::vector<GpuPolicy> policies;
  if (args.all) {
    policies.assign(std::begin(kAllGpuPolicies), std::end(kAllGpuPolicies));
  } else {
    for (const std::string& name : args.policies) {
      for (absl::string_view part : absl::StrSplit(name, ',')) {
        auto policy = ParseGpuPolicy(part);
        if (!policy.ok()) {
          std::cerr << "sextant gpu-trace: " << policy.status().message() << "\n";
          return 2;
        }
        policies.push_back(*policy);
      }
    }
    if (policies.empty()) policies.push_back(GpuPolicy::kSextant);
  }
  std::vector<uint64_t> seeds;
  if (!ParseSeeds(args.seeds, &seeds)) {
    std::cerr << "sextant gpu-trace: bad --seeds \"" << args.seeds << "\" (42-51, 42,43 or 42)\n";
    return 2;
  }

  const auto start = std::chrono::steady_clock::now();
  GpuTraceOptions base;
  base.tune_ratio = args.tune_ratio;
  base.keep_final_state = args.breakdown;
  base.record_placements = !args.through_dra.empty();
  auto results = RunGpuTraceMatrix(*nodes, *pods, policies, seeds, base, args.threads);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!results.ok()) {
    std::cerr << "sextant gpu-trace: " << results.status().message() << "\n";
    return 2;
  }
  const std::string list = ListName(args.pods_path);
  int64_t gpus = 0;
  for (const GpuNodeSpec& node : *nodes) gpus += node.gpu_count;
  std::printf("%s: %zu nodes, %lld GPUs, %zu pods in the list; seeds %s; tuned to %.2fx\n",
              list.c_str(), nodes->size(), static_cast<long long>(gpus), pods->size(),
              args.seeds.c_str(), args.tune_ratio);
  const auto published = PublishedResults().find(list);
  std::printf("%-14s %9s %9s %12s %8s %9s  %s\n", "policy", "alloc@100", "alloc@130", "unalloc@130",
              "failed", "replay s", "published @100/@130 (error)");
  for (size_t p = 0; p < policies.size(); ++p) {
    double at_100 = 0, at_130 = 0, unalloc = 0, failed = 0, seconds = 0;
    for (size_t s = 0; s < seeds.size(); ++s) {
      const GpuTraceResult& r = (*results)[p * seeds.size() + s];
      at_100 += r.alloc_at_100;
      at_130 += r.alloc_at_130;
      unalloc += r.unallocated_gpus_at_130;
      failed += static_cast<double>(r.failed);
      seconds += r.wall_seconds;
      if (args.per_seed) {
        std::printf("  %-12s seed %-4llu %9.2f %9.2f %12.1f %8lld %9.2f\n",
                    std::string(GpuPolicyName(policies[p])).c_str(),
                    static_cast<unsigned long long>(r.seed), r.alloc_at_100, r.alloc_at_130,
                    r.unallocated_gpus_at_130, static_cast<long long>(r.failed), r.wall_seconds);
      }
    }
    const double k = static_cast<double>(seeds.size());
    std::string reference;
    if (published != PublishedResults().end()) {
      auto it = published->second.find(policies[p]);
      if (it != published->second.end()) {
        reference =
            absl::StrFormat("%.2f / %.2f (%+.2f / %+.2f)", it->second.at_100, it->second.at_130,
                            at_100 / k - it->second.at_100, at_130 / k - it->second.at_130);
      }
    }
    std::printf("%-14s %9.2f %9.2f %12.1f %8.1f %9.2f  %s\n",
                std::string(GpuPolicyName(policies[p])).c_str(), at_100 / k, at_130 / k,
                unalloc / k, failed / k, seconds / k, reference.c_str());
  }
  std::printf("%zu replays in %.1f s wall\n", results->size(), wall);
  if (args.breakdown) PrintBreakdown(*results, policies, seeds.size());
  if (!args.through_dra.empty()) {
    if (int code = RunThroughDra(*nodes, *pods, policies, seeds, base, *results, args.through_dra,
                                 args.threads);
        code != 0) {
      return code;
    }
  }

  if (!args.csv_path.empty()) {
    if (!WriteText(args.csv_path, GpuTraceCurveCsv(*results))) {
      std::cerr << "sextant gpu-trace: cannot write " << args.csv_path << "\n";
      return 1;
    }
    std::printf("curve written to %s\n", args.csv_path.c_str());
  }
  if (!args.svg_path.empty()) {
    std::string title = args.title.empty()
                            ? absl::StrFormat(
                                  "%s: GPU allocation vs arrived workload (mean of %zu "
                                  "seeds)",
                                  list, seeds.size())
                            : args.title;
    if (!WriteText(args.svg_path, GpuTraceCurveSvg(*results, title))) {
      std::cerr << "sextant gpu-trace: cannot write " << args.svg_path << "\n";
      return 1;
    }
    std::printf("plot written to %s\n", args.svg_path.c_str());
  }
  return 0;
}

}  // namespace sextant
