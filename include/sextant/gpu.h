// Shared (fractional) GPU placement: the device-level GPU state of one node, the pod's GPU demand,
// the expected workload mix, and the placement policies as scorers. Plain value types and pure
// functions: a GpuDeviceTable is owned by whoever tracks the node (the trace replay today, the
// DRA inventory of ClusterState once it lands) and is thread-compatible; the scorers keep no
// state of their own and may be called from any thread on tables nobody is writing.
#ifndef SEXTANT_GPU_H_
#define SEXTANT_GPU_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sextant {

// One whole GPU is 1000 milli-GPU; a shared pod asks for less than that on ONE device.
inline constexpr int64_t kGpuMilli = 1000;
// The most devices one node may carry (the trace's largest nodes have 8).
inline constexpr int kMaxGpusPerNode = 16;
// The normalisation maxima of the paper's baselines (a 128-core, 8-GPU node).
inline constexpr int64_t kMaxSpecCpuMilli = 128000;
inline constexpr int64_t kMaxSpecGpuMilli = 8000;

// GPU models are interned into small ids from a fixed table (the models of the Alibaba trace and
// the common datacenter cards); a model set is a bit mask over those ids.
using GpuModelId = uint8_t;
using GpuModelMask = uint32_t;  // 0 in a pod demand: any model
inline constexpr int kMaxGpuModels = 32;  // bits of GpuModelMask
// Returns the id of a known model name ("T4", "V100M16", "A100", ...); NotFound otherwise.
absl::StatusOr<GpuModelId> ParseGpuModel(absl::string_view name);
absl::string_view GpuModelName(GpuModelId id);
// "V100M16|V100M32" -> mask; empty parts are ignored; an empty spec is 0 (any model).
// NotFound naming the first unknown model.
absl::StatusOr<GpuModelMask> ParseGpuModelSpec(absl::string_view spec);

// A node as the GPU placement sees it: allocatable cpu and memory (the engine's NodeInfo carries
// the same numbers) plus gpu_count devices of one model.
struct GpuNodeSpec {
  std::string name;
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  int gpu_count = 0;
  GpuModelId model = 0;
};

// A pod's request: cpu and memory as container requests, and its GPU demand. num_gpu 1 with
// gpu_milli < 1000 is a shared pod (one device with gpu_milli left); otherwise the pod takes
// num_gpu whole free devices. num_gpu 0 (or gpu_milli 0) is a CPU-only pod.
struct GpuPodSpec {
  std::string name;
  int64_t cpu_milli = 0;
  int64_t memory_bytes = 0;
  int num_gpu = 0;
  int64_t gpu_milli = 0;    // per device, 0..1000
  GpuModelMask models = 0;  // allowed models; 0: any

  bool UsesGpu() const { return num_gpu > 0 && gpu_milli > 0; }
  bool IsShared() const { return num_gpu == 1 && gpu_milli > 0 && gpu_milli < kGpuMilli; }
  int64_t TotalGpuMilli() const { return UsesGpu() ? gpu_milli * num_gpu : 0; }
};

// What a scorer needs of a pod (the fields FGD's pod types are made of). cpu_milli is the
// scoring request: 100m when the pod requests no cpu, as upstream's non-zero scoring default.
struct GpuDemand {
  int64_t cpu_milli = 0;
  int64_t gpu_milli = 0;  // per device; 0: no GPU
  int num_gpu = 0;        // 0 when gpu_milli is 0
  GpuModelMask models = 0;

  static GpuDemand Of(const GpuPodSpec& pod);
  bool UsesGpu() const { return num_gpu > 0; }
  bool IsShared() const { return num_gpu == 1 && gpu_milli < kGpuMilli; }
  friend bool operator==(const GpuDemand&, const GpuDemand&) = default;
};

// The devices of one node: each device's remaining milli-GPU, all of one model. A bit set over
// device indices names the devices a pod gets.
using GpuSet = uint32_t;
class GpuDeviceTable {
 public:
  GpuDeviceTable() = default;
  // count must be in [0, kMaxGpusPerNode]; every device starts idle.
  GpuDeviceTable(GpuModelId model, int count);

  GpuModelId model() const { return model_; }
  int count() const { return count_; }
  int64_t milli_left(int device) const { return left_[device]; }
  int64_t total_left() const;
  int fully_free() const;  // devices with all 1000 milli left

  // The model rule: a pod with a model list fits only a node of one of those models; a node
  // without GPUs has no model and takes only pods without GPU demand or model list.
  bool ModelAllowed(GpuModelMask models) const;
  // Devices only (cpu/memory are the engine's NodeResourcesFit): a shared pod needs one device
  // with gpu_milli left, a multi-GPU pod num_gpu wholly free devices; CPU-only pods always fit.
  bool Fits(const GpuDemand& demand) const;
  // How many devices could host one more share of gpu_milli.
  int DevicesWithAtLeast(int64_t gpu_milli) const;

  // Device choice: the tightest device that fits (lowest index among equals) for a shared pod,
  // the lowest-index free devices for a whole-GPU pod. 0 when it does not fit.
  GpuSet BestFitDevices(const GpuDemand& demand) const;
  // Takes gpu_milli from each device of `devices`. The caller checked it fits.
  void Allocate(GpuSet devices, int64_t gpu_milli);
  void Release(GpuSet devices, int64_t gpu_milli);

 private:
  std::array<int16_t, kMaxGpusPerNode> left_{};
  GpuModelId model_ = 0;
  int8_t count_ = 0;
};

// The expected workload: pod types with their share of pods (FGD's "target workload").
struct GpuWorkloadType {
  GpuDemand demand;
  double popularity = 0;  // share of pods, the types sum to 1
};
struct GpuWorkload {
  std::vector<GpuWorkloadType> types;
  // Requested cpu milli per requested GPU milli over all GPU pods of the list (Sextant's CPU
  // stranding term); 0 when the list has no GPU pod.
  double cpu_per_gpu_milli = 0;
  // Sextant's completion lookahead: completion_waste[r] (r = 0..1000) is the GPU milli a device
  // with r milli left is expected to keep idle for good once pods drawn from the types above
  // have filled it as far as they can (see EstimateGpuWorkload). Empty: no GPU type.
  std::vector<double> completion_waste;
  // Sextant's model pressure, per model id: the share of the list's GPU demand that pods
  // restricted to a model list put on the model (each such pod spread over its models in
  // proportion to their GPUs) over the model's share of the cluster's GPUs; 0 for a model no
  // restricted pod asks for. cluster_models: the models the cluster has. Both are set by
  // EstimateGpuModelPressure; without it every pressure is 0 and the term is off.
  std::array<double, kMaxGpuModels> model_pressure{};
  GpuModelMask cluster_models = 0;
};
// FGD's estimate from a pod list: distinct demands, most popular first (ties: larger cpu, gpu,
// count, model mask first), taken until `coverage` of the pods is reached, popularity
// renormalised over those taken. CPU-only pods count as types. cpu_per_gpu_milli is set too.
// completion_waste is computed from the types taken: a device with r milli left either receives
// the next pod that fits it (a shared type with gpu_milli <= r, a whole-GPU type when r is 1000,
// in proportion to popularity) and goes on from what is left, or is never completed, with
// weight 0.1 x the popularity of the GPU types that do not fit it; nothing fits: r stays idle.
GpuWorkload EstimateGpuWorkload(const std::vector<GpuPodSpec>& pods, double coverage = 0.95);
// Sets workload->model_pressure and cluster_models from the cluster's nodes and a pod list (the
// same list the workload was estimated from: live, the pods seen so far).
void EstimateGpuModelPressure(const std::vector<GpuNodeSpec>& nodes,
                              const std::vector<GpuPodSpec>& pods, GpuWorkload* workload);

// FGD's fragmentation of one node measured against a workload: for each type, the idle GPU milli
// that type cannot use there (all of it when the type cannot fit the node at all: no GPU demand,
// a disallowed model, too few devices or too little cpu; else the milli on devices with less left
// than the type needs), weighted by popularity.
double NodeGpuFragmentation(const GpuDeviceTable& gpus, int64_t cpu_left_milli,
                            const GpuWorkload& workload);

// ---- Policies ----

enum class GpuPolicy {
  kRandom,         // uniform over feasible nodes; random fitting device
  kDotProduct,     // Tetris: least dot product of free (cpu, gpu) and request
  kGpuClustering,  // nodes already holding pods of the same GPU kind first
  kGpuPacking,     // partly used devices first, then used nodes, then idle nodes
  kBestFit,        // least free cpu+gpu after placement
  kFgd,            // fragmentation gradient descent (USENIX ATC'23)
  kSextant,        // Sextant's own: see docs/gpu-placement.md
};
inline constexpr GpuPolicy kAllGpuPolicies[] = {
    GpuPolicy::kRandom,  GpuPolicy::kDotProduct, GpuPolicy::kGpuClustering, GpuPolicy::kGpuPacking,
    GpuPolicy::kBestFit, GpuPolicy::kFgd,        GpuPolicy::kSextant};
absl::string_view GpuPolicyName(GpuPolicy policy);  // "Random", "DotProduct", ..., "Sextant"
// Case-insensitive name; InvalidArgument listing the names otherwise.
absl::StatusOr<GpuPolicy> ParseGpuPolicy(absl::string_view name);

inline constexpr int kGpuKinds = 10;

// What a scorer sees of a node that passed the filters (cpu/memory fit, model, devices).
struct GpuNodeView {
  const GpuDeviceTable* gpus = nullptr;
  int64_t cpu_left_milli = 0;      // allocatable - requested
  int64_t cpu_capacity_milli = 0;  // allocatable
  // GpuClustering: how many GPU pods of each kind the node holds (index: GpuKindIndex).
  const std::array<int32_t, kGpuKinds>* kind_counts = nullptr;
  // FGD/Sextant: the node's current NodeGpuFragmentation when the caller caches it; < 0: compute.
  double fragmentation = -1;
};
// GpuClustering's pod kinds: 0 shared, n for n whole GPUs (1..8), 9 more than 8; -1 CPU-only.
int GpuKindIndex(const GpuDemand& demand);

// One scorer's answer for one node: the score (higher is better; the baselines' integer scores
// 0..100, Sextant's a finer real number) and the devices the pod would get there.
struct GpuPlacement {
  double score = 0;
  GpuSet devices = 0;
};

// Context the policies share: the expected workload (FGD, Sextant) and, for Random's device
// choice, a caller-provided random draw in [0, 1).
struct GpuScoreContext {
  const GpuWorkload* workload = nullptr;
  double random_draw = 0;
};

// Scores `node` for `demand` under `policy`. The node must have passed the filters. Random's
// node choice is not a score (the caller picks uniformly among feasible nodes); its score is 0.
// FGD and Sextant need context.workload.
GpuPlacement ScoreGpuNode(GpuPolicy policy, const GpuDemand& demand, const GpuNodeView& node,
                          const GpuScoreContext& context);

}  // namespace sextant

#endif  // SEXTANT_GPU_H_
