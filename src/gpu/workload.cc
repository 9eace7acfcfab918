// The expected workload mix (FGD's target workload) and the fragmentation measure built on it.
#include <algorithm>
#include <map>
#include <tuple>

#include "sextant/gpu.h"

namespace sextant {

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
  return workload;
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
