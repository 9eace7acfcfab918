// Sextant's GPU placement policy: FGD's fragmentation gradient plus three terms FGD lacks, on the
// same integer sigmoid scale (ties go to the seeded node order, as FGD's do). See
// docs/gpu-placement.md for the method and the measurements behind it.
//   - Completion lookahead: each device's expected idle milli once the workload mix has filled it
//     as far as it can (GpuWorkload::completion_waste; all it has left when no GPU type can get
//     the cpu it needs on the node any more); the pod pays for what it adds.
//   - CPU stranding: a node whose cpu left cannot feed its idle GPUs at the workload's cpu per GPU
//     strands them; a GPU pod pays for the GPU milli it strands (or is credited for what it frees).
//   - Model pressure: a pod pays for taking GPUs of a model that model-restricted pods of the
//     workload press on, above the least pressed model it could use instead.
#include <algorithm>
#include <cmath>

#include "gpu/scorers.h"

namespace sextant::gpu_internal {
namespace {

constexpr double kCompletionWeight = 5.0;
constexpr double kStrandingWeight = 1.0;
constexpr double kPressureWeight = 0.5;

// GPU milli of the node its cpu cannot feed at the workload's cpu per GPU milli.
double Stranded(int64_t gpu_left_milli, int64_t cpu_left_milli, double cpu_per_gpu_milli) {
  if (cpu_per_gpu_milli <= 0) return 0;
  return std::max(
      0.0, static_cast<double>(gpu_left_milli) -
               static_cast<double>(std::max<int64_t>(cpu_left_milli, 0)) / cpu_per_gpu_milli);
}

// Whether some GPU type of the workload could still take a share of a device with `left` milli
// on this node: its share fits, its model is allowed and the node has the cpu it asks for.
bool Completable(const GpuDeviceTable& gpus, int64_t left, int64_t cpu_left,
                 const GpuWorkload& workload) {
  for (const GpuWorkloadType& type : workload.types) {
    const GpuDemand& d = type.demand;
    if (!d.UsesGpu() || d.cpu_milli > cpu_left || !gpus.ModelAllowed(d.models)) continue;
    if ((d.IsShared() ? d.gpu_milli : kGpuMilli) <= left) return true;
  }
  return false;
}

// The node's expected idle milli once its devices are filled (0 without a lookahead table): the
// lookahead table per device, or all of what is left where no GPU type can take a share any
// more for want of cpu (or model).
double CompletionWaste(const GpuDeviceTable& gpus, int64_t cpu_left, const GpuWorkload& workload) {
  if (workload.completion_waste.empty()) return 0;
  double waste = 0;
  for (int i = 0; i < gpus.count(); ++i) {
    const int64_t left = gpus.milli_left(i);
    if (left == 0) continue;
    waste += Completable(gpus, left, cpu_left, workload) ? workload.completion_waste[left]
                                                         : static_cast<double>(left);
  }
  return waste;
}

// The node model's pressure above the least pressed model of the cluster the pod accepts.
double ExcessPressure(const GpuDemand& demand, GpuModelId model, const GpuWorkload& workload) {
  const GpuModelMask accepted =
      workload.cluster_models & (demand.models == 0 ? ~GpuModelMask{0} : demand.models);
  double least = workload.model_pressure[model];
  for (int m = 0; m < kMaxGpuModels; ++m) {
    if ((accepted >> m) & 1) least = std::min(least, workload.model_pressure[m]);
  }
  return workload.model_pressure[model] - least;
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
  // The node's measures before the pod, and the terms that do not depend on the device choice.
  double base = FragmentationOf(node, workload) +
                kCompletionWeight * CompletionWaste(gpus, node.cpu_left_milli, workload);
  if (demand.UsesGpu()) {
    const double ratio = workload.cpu_per_gpu_milli;
    base += kStrandingWeight * (Stranded(gpus.total_left(), node.cpu_left_milli, ratio) -
                                Stranded(gpus.total_left() - taken, cpu_after, ratio));
    if (gpus.model() < kMaxGpuModels) {
      base -= kPressureWeight * ExcessPressure(demand, gpus.model(), workload) *
              static_cast<double>(taken);
    }
  }
  // The node's measures after the pod, on the devices it would get.
  auto after = [&](GpuSet devices) {
    GpuDeviceTable table = gpus;
    if (demand.UsesGpu()) table.Allocate(devices, demand.gpu_milli);
    return NodeGpuFragmentation(table, cpu_after, workload) +
           kCompletionWeight * CompletionWaste(table, cpu_after, workload);
  };
  if (demand.IsShared()) {
    // Every device it fits on (one per distinct milli left); the best score, first among equals.
    GpuPlacement best{-1, 0};
    int64_t tried_left[kMaxGpusPerNode];
    int tried = 0;
    for (int i = 0; i < gpus.count(); ++i) {
      const int64_t left = gpus.milli_left(i);
      if (left < demand.gpu_milli) continue;
      if (std::find(tried_left, tried_left + tried, left) != tried_left + tried) continue;
      tried_left[tried++] = left;
      const double score = SigmoidScore(base - after(GpuSet{1} << i));
      if (best.devices == 0 || score > best.score) best = {score, GpuSet{1} << i};
    }
    return best;
  }
  const GpuSet devices = gpus.BestFitDevices(demand);
  return {SigmoidScore(base - after(devices)), devices};
}

}  // namespace sextant::gpu_internal
