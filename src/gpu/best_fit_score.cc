// BestFit: floor(100 * (1 - (cpu left after / 128 cores + gpu left after / 8 GPUs) / 2)); the
// replay then min-max normalises the scores of the feasible nodes as the simulator does.
// The device is the tightest fit.
#include "gpu/scorers.h"

namespace sextant::gpu_internal {

GpuPlacement BestFitScore(const GpuDemand& demand, const GpuNodeView& node) {
  double score = 0;
  score += static_cast<double>(node.cpu_left_milli - demand.cpu_milli) /
           static_cast<double>(kMaxSpecCpuMilli) * 0.5;
  score += static_cast<double>(node.gpus->total_left() - demand.gpu_milli * demand.num_gpu) /
           static_cast<double>(kMaxSpecGpuMilli) * 0.5;
  score = (1.0 - score) * 100;
  return {static_cast<double>(static_cast<int64_t>(score)), node.gpus->BestFitDevices(demand)};
}

}  // namespace sextant::gpu_internal
