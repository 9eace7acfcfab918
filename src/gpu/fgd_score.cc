// FGD (Fragmentation Gradient Descent, USENIX ATC'23): the score is
// floor(100 * sigmoid((frag before - frag after) / 1000)), frag as NodeGpuFragmentation against the
// expected workload. A shared pod tries every device it fits on and keeps the best (first among
// equals); a whole-GPU pod takes the lowest-index free devices.
#include <cmath>
#include <cstdint>

#include "gpu/scorers.h"

namespace sextant::gpu_internal {
namespace {

int64_t FgdIntScore(double before, double after) {
  double x = (before - after) / 1000;
  return static_cast<int64_t>(1.0 / (1.0 + std::exp(-x)) * 100);
}

}  // namespace

GpuPlacement FgdScore(const GpuDemand& demand, const GpuNodeView& node,
                      const GpuWorkload& workload) {
  const GpuDeviceTable& gpus = *node.gpus;
  const double before = FragmentationOf(node, workload);
  const int64_t cpu_after = node.cpu_left_milli - demand.cpu_milli;
  if (demand.IsShared()) {
    GpuPlacement best{-1, 0};
    int64_t tried_left[kMaxGpusPerNode];
    int tried = 0;
    for (int i = 0; i < gpus.count(); ++i) {
      int64_t left = gpus.milli_left(i);
      if (left < demand.gpu_milli) continue;
      // Devices with the same milli left give the same result; the first one is kept.
      bool seen = false;
      for (int k = 0; k < tried; ++k) seen = seen || tried_left[k] == left;
      if (seen) continue;
      tried_left[tried++] = left;
      GpuDeviceTable after = gpus;
      after.Allocate(GpuSet{1} << i, demand.gpu_milli);
      int64_t score = FgdIntScore(before, NodeGpuFragmentation(after, cpu_after, workload));
      if (best.devices == 0 || static_cast<double>(score) > best.score) {
        best = {static_cast<double>(score), GpuSet{1} << i};
      }
    }
    return best;
  }
  GpuSet devices = gpus.BestFitDevices(demand);
  GpuDeviceTable after = gpus;
  if (demand.UsesGpu()) after.Allocate(devices, demand.gpu_milli);
  int64_t score = FgdIntScore(before, NodeGpuFragmentation(after, cpu_after, workload));
  return {static_cast<double>(score), devices};
}

}  // namespace sextant::gpu_internal
