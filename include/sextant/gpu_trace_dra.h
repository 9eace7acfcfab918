// The GPU trace through the engine's live path: a replay's pods and nodes (PrepareGpuTrace)
// written as the Kubernetes objects a cluster with Sextant's fractional GPUs would hold (one
// ResourceSlice of shareable devices with the milli capacity per node, a ResourceClaim per GPU
// pod, docs/gpu-placement.md), then scheduled by the snapshot replay (Evaluate over every node
// with the profile's plugins, DynamicResources and SextantGpu; Reserve allocates the claims), and
// measured with the trace replay's metric. Pure functions of their arguments; thread-safe.
#ifndef SEXTANT_GPU_TRACE_DRA_H_
#define SEXTANT_GPU_TRACE_DRA_H_

#include <string>

#include "absl/status/statusor.h"
#include "sextant/evaluate.h"
#include "sextant/gpu_trace.h"
#include "sextant/snapshot.h"

namespace sextant {

// The objects: a DeviceClass "gpu.sextant.dev"; per node (in the sequence's order, which is the
// engine's node order and so its order among the GPU policy's ties) a Node (cpu, memory, 1001
// pods allocatable) and a slice of its GPUs (allowMultipleAllocations, attribute model,
// capacity gpu.sextant.dev/milli 1000 with a 1..1000 request range); per pod a pending Pod in
// namespace "gpu-trace" created in arrival order and, for a GPU pod, its claim "<pod>-gpu":
// count num_gpu, a gpu.sextant.dev/milli request for a shared pod, a CEL model list for a pod
// with gpu_spec. The capacity name is `capacity_name`'s.
Snapshot GpuTraceSnapshot(const GpuTraceSequence& sequence,
                          const std::string& capacity_name = "gpu.sextant.dev/milli");

// Prepares the replay for options.seed (PrepareGpuTrace), replays its snapshot with `profile`
// (its GPU placement policy decides for GPU pods) and the same seed for the engine's tie-break,
// and fills the result as ReplayGpuTrace does (policy is profile.gpu_placement.policy; curve,
// metric, failed pods; placements when options.record_placements; latency_seconds when
// options.record_latency, the whole cycle of each pod). options.workload and keep_final_state
// are not used: the live path estimates the workload from the pods it holds.
absl::StatusOr<GpuTraceResult> ReplayGpuTraceThroughDra(const std::vector<GpuNodeSpec>& nodes,
                                                        const std::vector<GpuPodSpec>& pods,
                                                        const GpuTraceOptions& options,
                                                        const ProfileOptions& profile);

// The profile of `gpu-trace --through-dra policy-only`: the GPU policy's score alone (every
// upstream scorer weighs 0), as the trace replay scores.
ProfileOptions GpuPolicyOnlyProfile(GpuPolicy policy);

}  // namespace sextant

#endif  // SEXTANT_GPU_TRACE_DRA_H_
