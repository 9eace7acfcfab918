// The expected workload mix (FGD's target workload) and the fragmentation measure built on it.
#include <algorithm>
#include <array>
#include <map>
#include <tuple>
#include <utility>

#include "sextant/gpu.h"

namespace sextant {
namespace {

// The weight of "never completed" against "the next pod that fits comes" in completion_waste,
// per unit of popularity of the GPU types that do not fit.
constexpr double kCompletionStall = 0.1;

void ComputeCompletionWaste(GpuWorkload* workload) {
  std::vector<std::pair<int64_t, double>> shares;  // milli one device gives, popularity
  double gpu_popularity = 0;
  for (const GpuWorkloadType& type : workload->types) {
    if (!type.demand.UsesGpu()) continue;
    shares.push_back({type.demand.IsShared() ? type.demand.gpu_milli : kGpuMilli,
                      type.popularity});
    gpu_popularity += type.popularity;
  }
  workload->completion_waste.clear();
  if (gpu_popularity <= 0) return;
  std::vector<double>& waste = workload->completion_waste;
  waste.assign(kGpuMilli + 1, 0);
  for (int64_t left = 1; left <= kGpuMilli; ++left) {
    double next = 0, fits = 0;
    for (const auto& [milli, popularity] : shares) {
      if (milli > left) continue;
      next += popularity * waste[left - milli];
      fits += popularity;
    }
    const double stall = kCompletionStall * (gpu_popularity - fits);
    waste[left] = fits + stall > 0 ? (next + stall * static_cast<double>(left)) / (fits + stall)
                                   : static_cast<double>(left);
  }
}

}  // namespace

GpuWorkload EstimateGpuWorkload(const std::vector<GpuPodSpec>& pods, double coverage) {
  using Key = std::tuple<int64_t, int64_t, int, GpuModelMask>;  // cpu, gpu milli, count, models
  std::map<Key, int64_t> counts;
  for (const GpuPodSpec& pod : pods) {
    GpuDemand d = GpuDemand::Of(pod);
    ++counts[Key{d.cpu_milli, d.gpu_milli, d.num_gpu, d.models}];
  }
  std::vector<std::pair<Key, int64_t>> sorted(counts.begin(), counts.end());
  // Most popular first; among equals the larger demand first (the simulator's reversed order).
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return a.first > b.first;
  });
  GpuWorkload workload;
  double cpu = 0, gpu = 0;
  for (const GpuPodSpec& pod : pods) {
    if (!pod.UsesGpu()) continue;
    cpu += static_cast<double>(GpuDemand::Of(pod).cpu_milli);
    gpu += static_cast<double>(pod.TotalGpuMilli());
  }
  if (gpu > 0) workload.cpu_per_gpu_milli = cpu / gpu;
  const double total = static_cast<double>(pods.size());
  if (total == 0) return workload;
  const double wanted = coverage * total;
  double covered = 0;
  for (const auto& [key, count] : sorted) {
    if (covered >= wanted) break;
    covered += static_cast<double>(count);
    GpuWorkloadType type;
    type.demand.cpu_milli = std::get<0>(key);
    type.demand.gpu_milli = std::get<1>(key);
    type.demand.num_gpu = std::get<2>(key);
    type.demand.models = std::get<3>(key);
    type.popularity = static_cast<double>(count);
    workload.types.push_back(type);
  }
  for (GpuWorkloadType& type : workload.types) type.popularity /= covered;
  ComputeCompletionWaste(&workload);
  return workload;
}

void EstimateGpuModelPressure(const std::vector<GpuNodeSpec>& nodes,
                              const std::vector<GpuPodSpec>& pods, GpuWorkload* workload) {
  std::array<double, kMaxGpuModels> capacity{};
  double cluster_gpus = 0;
  workload->cluster_models = 0;
  for (const GpuNodeSpec& node : nodes) {
    if (node.gpu_count <= 0 || node.model >= kMaxGpuModels) continue;
    capacity[node.model] += node.gpu_count;
    cluster_gpus += node.gpu_count;
    workload->cluster_models |= GpuModelMask{1} << node.model;
  }
  std::array<double, kMaxGpuModels> restricted{};
  double demand = 0;
  for (const GpuPodSpec& pod : pods) {
    if (!pod.UsesGpu()) continue;
    const double gpus = static_cast<double>(pod.TotalGpuMilli()) / kGpuMilli;
    demand += gpus;
    if (pod.models == 0) continue;
    double allowed = 0;
    for (int m = 0; m < kMaxGpuModels; ++m) {
      if ((pod.models >> m) & 1) allowed += capacity[m];
    }
    if (allowed <= 0) continue;
    for (int m = 0; m < kMaxGpuModels; ++m) {
      if ((pod.models >> m) & 1) restricted[m] += gpus * capacity[m] / allowed;
    }
  }
  for (int m = 0; m < kMaxGpuModels; ++m) {
    workload->model_pressure[m] = capacity[m] > 0 && demand > 0
                                      ? (restricted[m] / demand) / (capacity[m] / cluster_gpus)
                                      : 0;
  }
}

double NodeGpuFragmentation(const GpuDeviceTable& gpus, int64_t cpu_left_milli,
                            const GpuWorkload& workload) {
  const int64_t total_left = gpus.total_left();
  if (total_left == 0) return 0;
  double frag = 0;
  for (const GpuWorkloadType& type : workload.types) {
    const GpuDemand& d = type.demand;
    int64_t unusable = total_left;
    if (d.UsesGpu() && gpus.ModelAllowed(d.models) && gpus.count() > 0 &&
        cpu_left_milli >= d.cpu_milli) {
      int fitting = 0;
      int64_t below = 0;
      for (int i = 0; i < gpus.count(); ++i) {
        int64_t left = gpus.milli_left(i);
        if (left >= d.gpu_milli) {
          ++fitting;
        } else {
          below += left;
        }
      }
      if (fitting >= d.num_gpu) unusable = below;
    }
    frag += type.popularity * static_cast<double>(unusable);
  }
  return frag;
}

}  // namespace sextant
