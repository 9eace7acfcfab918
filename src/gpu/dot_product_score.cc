// DotProduct (Tetris), the paper's configuration "merge, max": free (cpu, total gpu) of the node
// and the pod's (cpu, total gpu), each divided by the maxima 128 cores / 8 GPUs; score
// floor(100 * (1 - dot / 2)). The device is the tightest fit ("-gpusel best").
#include "gpu/scorers.h"

namespace sextant::gpu_internal {

GpuPlacement DotProductScore(const GpuDemand& demand, const GpuNodeView& node) {
  const double max_cpu = static_cast<double>(kMaxSpecCpuMilli);
  const double max_gpu = static_cast<double>(kMaxSpecGpuMilli);
  double node_cpu = static_cast<double>(node.cpu_left_milli) / max_cpu;
  double node_gpu = static_cast<double>(node.gpus->total_left()) / max_gpu;
  double pod_cpu = static_cast<double>(demand.cpu_milli) / max_cpu;
  double pod_gpu = static_cast<double>(demand.gpu_milli * demand.num_gpu) / max_gpu;
  double dot = node_cpu * pod_cpu + node_gpu * pod_gpu;
  double score = 1 - dot / 2;
  return {static_cast<double>(static_cast<int64_t>(100 * score)),
          node.gpus->BestFitDevices(demand)};
}

}  // namespace sextant::gpu_internal
