// The placement policies, one file each (named after the simulator's score plugins), behind
// ScoreGpuNode (policy.cc). Each returns the node's score and the devices the pod would get.
#ifndef SEXTANT_GPU_SCORERS_H_
#define SEXTANT_GPU_SCORERS_H_

#include "sextant/gpu.h"

namespace sextant::gpu_internal {

GpuPlacement RandomScore(const GpuDemand& demand, const GpuNodeView& node, double random_draw);
GpuPlacement DotProductScore(const GpuDemand& demand, const GpuNodeView& node);
GpuPlacement GpuClusteringScore(const GpuDemand& demand, const GpuNodeView& node);
GpuPlacement GpuPackingScore(const GpuDemand& demand, const GpuNodeView& node);
GpuPlacement BestFitScore(const GpuDemand& demand, const GpuNodeView& node);
GpuPlacement FgdScore(const GpuDemand& demand, const GpuNodeView& node,
                      const GpuWorkload& workload);
GpuPlacement SextantGpuScore(const GpuDemand& demand, const GpuNodeView& node,
                             const GpuWorkload& workload);

// The node's fragmentation: the cached value of the view when present.
inline double FragmentationOf(const GpuNodeView& node, const GpuWorkload& workload) {
  return node.fragmentation >= 0 ? node.fragmentation
                                 : NodeGpuFragmentation(*node.gpus, node.cpu_left_milli, workload);
}

}  // namespace sextant::gpu_internal

#endif  // SEXTANT_GPU_SCORERS_H_
