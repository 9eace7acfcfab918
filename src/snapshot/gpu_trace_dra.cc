#include "sextant/gpu_trace_dra.h"

#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sextant/replay.h"

namespace sextant {
namespace {

constexpr char kDriver[] = "gpu.sextant.dev";
constexpr char kNamespace[] = "gpu-trace";

Device TraceGpu(int index, GpuModelId model, const std::string& capacity_name) {
  Device device;
  device.name = absl::StrCat("gpu-", index);
  device.allow_multiple_allocations = true;
  device.attributes["model"] = std::string(GpuModelName(model));
  CapacityRequestPolicy policy;
  policy.default_value = Quantity::FromInt(kGpuMilli);
  policy.valid_range =
      CapacityRequestPolicyRange{Quantity::FromInt(1), Quantity::FromInt(kGpuMilli),
                                 Quantity::FromInt(1)};
  device.capacity[capacity_name] =
      DeviceCapacity{cel::CapacityValue::FromQuantity(Quantity::FromInt(kGpuMilli)), policy};
  return device;
}

std::string ModelSelector(GpuModelMask models) {
  std::vector<std::string> names;
  for (int m = 0; m < kMaxGpuModels; ++m) {
    if ((models >> m) & 1) {
      names.push_back(absl::StrCat("\"", GpuModelName(static_cast<GpuModelId>(m)), "\""));
    }
  }
  return absl::StrCat("device.attributes[\"", kDriver, "\"].model in [",
                      absl::StrJoin(names, ", "), "]");
}

}  // namespace

Snapshot GpuTraceSnapshot(const GpuTraceSequence& sequence, const std::string& capacity_name) {
  Snapshot snapshot;
  DeviceClass device_class;
  device_class.name = kDriver;
  device_class.selectors.push_back(
      DeviceSelector{absl::StrCat("device.driver == \"", kDriver, "\"")});
  snapshot.device_classes.push_back(std::move(device_class));
  for (const GpuNodeSpec& spec : sequence.nodes) {
    snapshot.nodes.push_back(GpuTraceNode(spec));
    if (spec.gpu_count == 0) continue;
    ResourceSlice slice;
    slice.name = absl::StrCat(spec.name, "-gpus");
    slice.driver = kDriver;
    slice.pool = ResourcePool{spec.name, 1, 1};
    slice.node_name = spec.name;
    for (int i = 0; i < spec.gpu_count; ++i) {
      slice.devices.push_back(TraceGpu(i, spec.model, capacity_name));
    }
    snapshot.resource_slices.push_back(std::move(slice));
  }
  for (size_t k = 0; k < sequence.pods.size(); ++k) {
    const GpuPodSpec& spec = sequence.pods[k];
    Pod pod = GpuTracePod(spec, spec.name);
    // Arrival order is queue order: equal priority, then creation time.
    pod.creation_unix_nanos = static_cast<int64_t>(k) * 1000000000;
    if (spec.UsesGpu()) {
      ResourceClaim claim;
      claim.name_space = kNamespace;
      claim.name = absl::StrCat(spec.name, "-gpu");
      claim.uid = claim.name;
      DeviceRequest request;
      request.name = "gpu";
      request.exactly.emplace();
      request.exactly->device_class_name = kDriver;
      request.exactly->count = spec.num_gpu;
      if (spec.IsShared()) {
        request.exactly->capacity =
            CapacityRequirements{{{capacity_name, Quantity::FromInt(spec.gpu_milli)}}};
      }
      if (spec.models != 0) {
        request.exactly->selectors.push_back(DeviceSelector{ModelSelector(spec.models)});
      }
      claim.requests.push_back(std::move(request));
      pod.resource_claims.push_back(PodResourceClaim{"gpu", claim.name, std::nullopt});
      snapshot.resource_claims.push_back(std::move(claim));
    }
    snapshot.pods.push_back(std::move(pod));
  }
  return snapshot;
}

absl::StatusOr<GpuTraceResult> ReplayGpuTraceThroughDra(const std::vector<GpuNodeSpec>& nodes,
                                                        const std::vector<GpuPodSpec>& pods,
                                                        const GpuTraceOptions& options,
                                                        const ProfileOptions& profile) {
  const auto wall_start = std::chrono::steady_clock::now();
  absl::StatusOr<GpuTraceSequence> sequence = PrepareGpuTrace(nodes, pods, options);
  if (!sequence.ok()) return sequence.status();
  ReplayOptions replay;
  replay.seed = options.seed;
  replay.profile = profile;
  replay.preemption = false;  // one priority: nothing to preempt
  absl::StatusOr<ReplayReport> report =
      Replay(GpuTraceSnapshot(*sequence, profile.gpu_placement.capacity_name), replay);
  if (!report.ok()) return report.status();
  if (report->outcomes.size() != sequence->pods.size()) {
    return absl::InternalError("GPU trace through DRA: the replay skipped pods");
  }
  GpuTraceResult result;
  result.policy = profile.gpu_placement.policy;
  result.seed = options.seed;
  for (const GpuNodeSpec& node : nodes) result.cluster_gpus += node.gpu_count;
  result.pods = static_cast<int64_t>(sequence->pods.size());
  int64_t arrived = 0;
  int64_t allocated = 0;
  for (size_t k = 0; k < sequence->pods.size(); ++k) {
    const GpuPodSpec& spec = sequence->pods[k];
    const PodOutcome& outcome = report->outcomes[k];
    if (outcome.pod_key != absl::StrCat(kNamespace, "/", spec.name)) {
      return absl::InternalError("GPU trace through DRA: pods were not scheduled in arrival order");
    }
    arrived += spec.TotalGpuMilli();
    if (outcome.node.empty()) {
      ++result.failed;
    } else {
      allocated += spec.TotalGpuMilli();
    }
    result.curve.push_back({arrived, allocated});
    if (options.record_placements) result.placements.push_back(outcome.node);
    if (options.record_latency) {
      result.latency_seconds.push_back(static_cast<double>(outcome.latency_nanos) / 1e9);
    }
  }
  result.alloc_at_100 = AllocationAtArrived(result.curve, result.cluster_gpus, 100);
  result.alloc_at_130 = AllocationAtArrived(result.curve, result.cluster_gpus, 130);
  result.unallocated_gpus_at_130 =
      (1 - result.alloc_at_130 / 100) * static_cast<double>(result.cluster_gpus);
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return result;
}

ProfileOptions GpuPolicyOnlyProfile(GpuPolicy policy) {
  ProfileOptions profile;
  profile.taint_toleration_weight = 0;
  profile.node_affinity_weight = 0;
  profile.node_resources_fit_weight = 0;
  profile.balanced_allocation_weight = 0;
  profile.pod_topology_spread_weight = 0;
  profile.inter_pod_affinity_weight = 0;
  profile.dynamic_resources_weight = 0;
  profile.gpu_placement.policy = policy;
  return profile;
}

}  // namespace sextant
