// GPU models, pod demands and the per-node device table.
#include <algorithm>
#include <cctype>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sextant/gpu.h"

namespace sextant {
namespace {

// Index = GpuModelId. The Alibaba trace's models first (names as the trace writes them), then
// current datacenter cards. At most 32 (GpuModelMask is 32 bits).
constexpr absl::string_view kModelNames[] = {"P4",   "2080", "1080", "M40",     "T4",   "V100M16",
                                             "P100", "A10",  "3090", "V100M32", "A100", "G1",
                                             "G2",   "G3",   "H100", "H200",    "L4",   "L40S"};
constexpr int kModelCount = sizeof(kModelNames) / sizeof(kModelNames[0]);
static_assert(kModelCount <= 32);

}  // namespace

absl::StatusOr<GpuModelId> ParseGpuModel(absl::string_view name) {
  for (int i = 0; i < kModelCount; ++i) {
    if (kModelNames[i] == name) return static_cast<GpuModelId>(i);
  }
  return absl::NotFoundError(absl::StrCat("unknown GPU model \"", name, "\""));
}

absl::string_view GpuModelName(GpuModelId id) {
  return id < kModelCount ? kModelNames[id] : absl::string_view("?");
}

absl::StatusOr<GpuModelMask> ParseGpuModelSpec(absl::string_view spec) {
  GpuModelMask mask = 0;
  for (absl::string_view part : absl::StrSplit(spec, '|')) {
    if (part.empty()) continue;
    absl::StatusOr<GpuModelId> id = ParseGpuModel(part);
    if (!id.ok()) return id.status();
    mask |= GpuModelMask{1} << *id;
  }
  return mask;
}

GpuDemand GpuDemand::Of(const GpuPodSpec& pod) {
  GpuDemand demand;
  // Scoring counts a pod without a cpu request as 100m (upstream's non-zero default).
  demand.cpu_milli = pod.cpu_milli > 0 ? pod.cpu_milli : 100;
  if (pod.UsesGpu()) {
    demand.gpu_milli = std::min(pod.gpu_milli, kGpuMilli);
    demand.num_gpu = pod.num_gpu;
    demand.models = pod.models;
  }
  return demand;
}

GpuDeviceTable::GpuDeviceTable(GpuModelId model, int count)
    : model_(model), count_(static_cast<int8_t>(std::clamp(count, 0, kMaxGpusPerNode))) {
  for (int i = 0; i < count_; ++i) left_[i] = kGpuMilli;
}

int64_t GpuDeviceTable::total_left() const {
  int64_t total = 0;
  for (int i = 0; i < count_; ++i) total += left_[i];
  return total;
}

int GpuDeviceTable::fully_free() const {
  int n = 0;
  for (int i = 0; i < count_; ++i) n += left_[i] == kGpuMilli;
  return n;
}

int GpuDeviceTable::DevicesWithAtLeast(int64_t gpu_milli) const {
  int n = 0;
  for (int i = 0; i < count_; ++i) n += left_[i] >= gpu_milli;
  return n;
}

bool GpuDeviceTable::ModelAllowed(GpuModelMask models) const {
  if (models == 0) return true;
  if (count_ == 0) return false;
  return (models >> model_) & 1;
}

bool GpuDeviceTable::Fits(const GpuDemand& demand) const {
  if (!demand.UsesGpu()) return true;
  if (count_ == 0 || !ModelAllowed(demand.models)) return false;
  return DevicesWithAtLeast(demand.gpu_milli) >= demand.num_gpu;
}

GpuSet GpuDeviceTable::BestFitDevices(const GpuDemand& demand) const {
  if (!demand.UsesGpu() || !Fits(demand)) return 0;
  if (demand.IsShared()) {
    int best = -1;
    for (int i = 0; i < count_; ++i) {
      if (left_[i] >= demand.gpu_milli && (best < 0 || left_[i] < left_[best])) best = i;
    }
    return GpuSet{1} << best;
  }
  GpuSet set = 0;
  int need = demand.num_gpu;
  for (int i = 0; i < count_ && need > 0; ++i) {
    if (left_[i] >= demand.gpu_milli) {
      set |= GpuSet{1} << i;
      --need;
    }
  }
  return set;
}

void GpuDeviceTable::Allocate(GpuSet devices, int64_t gpu_milli) {
  for (int i = 0; i < count_; ++i) {
    if ((devices >> i) & 1) left_[i] = static_cast<int16_t>(left_[i] - gpu_milli);
  }
}

void GpuDeviceTable::Release(GpuSet devices, int64_t gpu_milli) {
  for (int i = 0; i < count_; ++i) {
    if ((devices >> i) & 1) left_[i] = static_cast<int16_t>(left_[i] + gpu_milli);
  }
}

int GpuKindIndex(const GpuDemand& demand) {
  if (!demand.UsesGpu()) return -1;
  if (demand.IsShared()) return 0;
  return demand.num_gpu <= 8 ? demand.num_gpu : 9;
}

}  // namespace sextant
