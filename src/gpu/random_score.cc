// Random: the node is drawn uniformly among the feasible ones by the caller (the simulator's
// RandomScore gives the drawn node 100 and all others 0); the device of a shared pod is drawn
// uniformly among the devices it fits on ("-gpusel random"), whole GPUs are the lowest free.
#include "gpu/scorers.h"

namespace sextant::gpu_internal {

GpuPlacement RandomScore(const GpuDemand& demand, const GpuNodeView& node, double random_draw) {
  const GpuDeviceTable& gpus = *node.gpus;
  if (!demand.IsShared()) return {0, gpus.BestFitDevices(demand)};
  int fitting = gpus.DevicesWithAtLeast(demand.gpu_milli);
  if (fitting == 0) return {};
  int pick = static_cast<int>(random_draw * fitting);
  if (pick >= fitting) pick = fitting - 1;
  for (int i = 0; i < gpus.count(); ++i) {
    if (gpus.milli_left(i) >= demand.gpu_milli && pick-- == 0) return {0, GpuSet{1} << i};
  }
  return {};
}

}  // namespace sextant::gpu_internal
