// GpuClustering: a GPU pod prefers nodes whose GPU pods are all of its own kind (75..100), then
// nodes holding its kind among others (50..75), idle nodes (25..50), nodes of other kinds only
// (0..25); inside each band the fuller node scores higher: 25 * (8000 - gpu left) / 8000, integer.
// CPU-only pods score 0 everywhere. The device is the tightest fit.
#include "gpu/scorers.h"

namespace sextant::gpu_internal {

GpuPlacement GpuClusteringScore(const GpuDemand& demand, const GpuNodeView& node) {
  int kind = GpuKindIndex(demand);
  if (kind < 0) return {0, 0};
  int kinds_present = 0;
  int32_t same = 0;
  if (node.kind_counts != nullptr) {
    for (int32_t count : *node.kind_counts) kinds_present += count > 0;
    same = (*node.kind_counts)[kind];
  }
  int64_t fill = 25 * (kMaxSpecGpuMilli - node.gpus->total_left()) / kMaxSpecGpuMilli;
  int64_t band;
  if (same > 0) {
    band = kinds_present == 1 ? 75 : 50;
  } else {
    band = kinds_present == 0 ? 25 : 0;
  }
  return {static_cast<double>(fill + band), node.gpus->BestFitDevices(demand)};
}

}  // namespace sextant::gpu_internal
