// Sextant's GPU placement policy. See docs/gpu-placement.md for the method.
#include <cmath>

#include "gpu/scorers.h"

namespace sextant::gpu_internal {
namespace {

double Delta(const GpuDeviceTable& after, int64_t cpu_after, double before,
             const GpuWorkload& workload) {
  return before - NodeGpuFragmentation(after, cpu_after, workload);
}

}  // namespace

GpuPlacement SextantGpuScore(const GpuDemand& demand, const GpuNodeView& node,
                             const GpuWorkload& workload) {
  const GpuDeviceTable& gpus = *node.gpus;
  const double before = FragmentationOf(node, workload);
  const int64_t cpu_after = node.cpu_left_milli - demand.cpu_milli;
  GpuPlacement best{-1e300, 0};
  if (demand.IsShared()) {
    for (int i = 0; i < gpus.count(); ++i) {
      if (gpus.milli_left(i) < demand.gpu_milli) continue;
      GpuDeviceTable after = gpus;
      after.Allocate(GpuSet{1} << i, demand.gpu_milli);
      double score = Delta(after, cpu_after, before, workload);
      if (best.devices == 0 || score > best.score) best = {score, GpuSet{1} << i};
    }
    return best;
  }
  GpuSet devices = gpus.BestFitDevices(demand);
  GpuDeviceTable after = gpus;
  if (demand.UsesGpu()) after.Allocate(devices, demand.gpu_milli);
  return {Delta(after, cpu_after, before, workload), devices};
}

}  // namespace sextant::gpu_internal
