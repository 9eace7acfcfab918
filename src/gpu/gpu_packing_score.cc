// GpuPacking, from high to low: a shared pod on a partly used device (100 - free% of that device
// / 10, at least 50); a pod that must open idle devices of a used node (50 - devices opened, at
// least 33); any pod on an idle node (33 - its device count). CPU-only pods score 0.
// The device is the tightest fit.
#include <algorithm>
#include <array>

#include "gpu/scorers.h"

namespace sextant::gpu_internal {

GpuPlacement GpuPackingScore(const GpuDemand& demand, const GpuNodeView& node) {
  if (!demand.UsesGpu()) return {0, 0};
  const GpuDeviceTable& gpus = *node.gpus;
  GpuSet devices = gpus.BestFitDevices(demand);
  const int free = gpus.fully_free();
  if (free == gpus.count()) {
    return {static_cast<double>(std::max<int64_t>(33 - free, free)), devices};
  }
  // Devices in ascending order of milli left (stable), the first num_gpu that fit are used.
  std::array<int, kMaxGpusPerNode> order{};
  for (int i = 0; i < gpus.count(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.begin() + gpus.count(),
                   [&](int a, int b) { return gpus.milli_left(a) < gpus.milli_left(b); });
  int need = demand.num_gpu;
  int opened = 0;
  int64_t free_ratio_on_used = 0;
  for (int k = 0; k < gpus.count() && need > 0; ++k) {
    int64_t left = gpus.milli_left(order[k]);
    if (demand.gpu_milli <= left) {
      --need;
      if (left == kGpuMilli) ++opened;
      free_ratio_on_used += left * 100 / kGpuMilli;
    }
  }
  if (need != 0) return {0, 0};
  if (opened > 0) return {static_cast<double>(std::max<int64_t>(50 - opened, 33)), devices};
  return {static_cast<double>(std::max<int64_t>(100 - free_ratio_on_used / 10, 50)), devices};
}

}  // namespace sextant::gpu_internal
