// Sextant's GPU placement policy: FGD's fragmentation gradient plus two terms FGD lacks, on the
// same integer sigmoid scale (ties go to the seeded node order, as FGD's do). See
// docs/gpu-placement.md for the method and the measurements behind it.
//   - CPU stranding: a node whose cpu left cannot feed its idle GPUs at the workload's cpu per GPU
//     strands them; a GPU pod pays for the GPU milli it strands (or is credited for what it frees).
//   - Model reservation: a pod that may use any model pays for taking GPUs of a model that
//     model-constrained pod types of the workload need.
#include <algorithm>
#include <cmath>

#include "gpu/scorers.h"

namespace sextant::gpu_internal {
namespace {

constexpr double kStrandingWeight = 1.0;
constexpr double kReservationWeight = 10.0;

// GPU milli of the node its cpu cannot feed at the workload's cpu per GPU milli.
double Stranded(int64_t gpu_left_milli, int64_t cpu_left_milli, double cpu_per_gpu_milli) {
  if (cpu_per_gpu_milli <= 0) return 0;
  return std::max(
      0.0, static_cast<double>(gpu_left_milli) -
               static_cast<double>(std::max<int64_t>(cpu_left_milli, 0)) / cpu_per_gpu_milli);
}

// Popularity of the model-constrained GPU types that may use this node's model.
double ConstrainedPopularity(const GpuDeviceTable& gpus, const GpuWorkload& workload) {
  double p = 0;
  for (const GpuWorkloadType& t : workload.types) {
    if (t.demand.models != 0 && t.demand.UsesGpu() && gpus.ModelAllowed(t.demand.models)) {
      p += t.popularity;
    }
  }
  return p;
}

double SigmoidScore(double delta) {
  return std::floor(1.0 / (1.0 + std::exp(-delta / 1000)) * 100);
}

}  // namespace

GpuPlacement SextantGpuScore(const GpuDemand& demand, const GpuNodeView& node,
                             const GpuWorkload& workload) {
  const GpuDeviceTable& gpus = *node.gpus;
  const int64_t cpu_after = node.cpu_left_milli - demand.cpu_milli;
  const int64_t taken = demand.gpu_milli * demand.num_gpu;
  double extra = 0;  // the terms that do not depend on the device choice
  if (demand.UsesGpu()) {
    const double ratio = workload.cpu_per_gpu_milli;
    extra += kStrandingWeight * (Stranded(gpus.total_left(), node.cpu_left_milli, ratio) -
                                 Stranded(gpus.total_left() - taken, cpu_after, ratio));
    if (demand.models == 0) {
      extra -=
          kReservationWeight * ConstrainedPopularity(gpus, workload) * static_cast<double>(taken);
    }
  }
  const double before = FragmentationOf(node, workload);
  if (demand.IsShared()) {
    GpuPlacement best{-1, 0};
    int64_t tried_left[kMaxGpusPerNode];
    int tried = 0;
    for (int i = 0; i < gpus.count(); ++i) {
      const int64_t left = gpus.milli_left(i);
      if (left < demand.gpu_milli) continue;
      if (std::find(tried_left, tried_left + tried, left) != tried_left + tried) continue;
      tried_left[tried++] = left;
      GpuDeviceTable after = gpus;
      after.Allocate(GpuSet{1} << i, demand.gpu_milli);
      const double score =
          SigmoidScore(before - NodeGpuFragmentation(after, cpu_after, workload) + extra);
      if (best.devices == 0 || score > best.score) best = {score, GpuSet{1} << i};
    }
    return best;
  }
  const GpuSet devices = gpus.BestFitDevices(demand);
  GpuDeviceTable after = gpus;
  if (demand.UsesGpu()) after.Allocate(devices, demand.gpu_milli);
  return {SigmoidScore(before - NodeGpuFragmentation(after, cpu_after, workload) + extra), devices};
}

}  // namespace sextant::gpu_internal
