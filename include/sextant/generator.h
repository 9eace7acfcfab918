// Seeded generator of synthetic but realistic cluster snapshots: the Kubernetes `List` that
//   kubectl get nodes,pods,priorityclasses,poddisruptionbudgets,deviceclasses,resourceslices,
//       resourceclaims -A -o json  (one line)
// prints for a mixed AI cluster (a dedicated, tainted 8-GPU pool, optionally a second GPU pool
// described by DRA ResourceSlices, a shared CPU pool, inference, agent, batch and training
// workloads, running and pending). Used by benchmarks and for the bundled
// default snapshot. Pure functions: no global state, thread-safe; equal options give identical JSON
// on every platform (std::mt19937_64 with distributions implemented here, integer arithmetic).
//
// The bundled test/data/snapshots/default.json is GenerateSnapshot(DefaultSnapshotOptions());
// test/snapshot/generator_test.cc fails when they drift. Regenerate it from the repository root:
//   f=/tmp/make_default.cc
//   echo '#include "sextant/generator.h"' > $f
//   echo 'int main(int, char** argv) {' >> $f
//   echo '  auto snapshot = sextant::GenerateSnapshot(sextant::DefaultSnapshotOptions());' >> $f
//   echo '  return sextant::WriteSnapshotFile(snapshot, argv[1]).ok() ? 0 : 1;' >> $f
//   echo '}' >> $f
//   libs="$(pkg-config --libs absl_status absl_strings)"
//   g++ -std=c++20 -O2 -Iinclude $f src/snapshot/generator.cc $libs -o /tmp/make_default
//   /tmp/make_default test/data/snapshots/default.json
// (or, once it exists, `sextant generate`, which calls GenerateSnapshot with the same options).
#ifndef SEXTANT_GENERATOR_H_
#define SEXTANT_GENERATOR_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"

namespace sextant {

// Relative weights of the workload kinds; a kind's share is its weight over the sum.
struct WorkloadMix {
  // Latency-critical GPU inference services: Guaranteed, 1-8 GPUs, priority inference-critical,
  // tolerate the GPU taint, pinned to the GPU pool by nodeSelector or required node affinity.
  int inference = 0;
  // Agent services on the shared pool: Guaranteed or Burstable, priority agent-service, preferred
  // zone affinity, some with a restartable sidecar.
  int agent = 0;
  // CPU batch jobs on the shared pool: Burstable or BestEffort, priority batch-default or
  // batch-low.
  int batch = 0;
  // GPU training jobs (4 or 8 GPUs per worker): Burstable, batch priorities, indexed workers.
  int training = 0;
};

struct GeneratorOptions {
  // Seed of the std::mt19937_64 that draws everything.
  uint64_t seed = 1;
  // Region label value; zones are the region plus "a", "b", ... (topology.kubernetes.io/zone).
  std::string region = "us-east-1";
  // Number of zones, 1..26; nodes are spread round-robin over them.
  int zones = 3;
  // Nodes in the dedicated GPU pool: 8-GPU machines labelled sextant.io/pool=gpu and
  // nvidia.com/gpu.product, tainted nvidia.com/gpu=present:NoSchedule.
  int gpu_nodes = 60;
  // Share of GPU nodes that are H100 80GB (p5.48xlarge); the rest are A100 80GB (p4de.24xlarge).
  double gpu_h100_fraction = 0.75;
  // Nodes in the shared CPU pool (8..64 cpu), labelled sextant.io/pool=shared.
  int shared_nodes = 240;
  // Share of shared nodes that are arm64 (Graviton); the rest are amd64.
  double shared_arm64_fraction = 0.15;
  // Share of all nodes that are cordoned: spec.unschedulable plus the
  // node.kubernetes.io/unschedulable:NoSchedule taint (lround(fraction * nodes) of them).
  double cordoned_fraction = 0.01;
  // Share of all nodes with a PreferNoSchedule taint (the cluster autoscaler's
  // DeletionCandidateOfClusterAutoscaler), lround(fraction * nodes) of them.
  double prefer_no_schedule_fraction = 0.02;
  // Shared nodes whose kubelet allows only capped_node_max_pods pods; running pods fill them to
  // that limit (taken from running_pods), so pods pinned to them fail with "Too many pods".
  int pod_capped_nodes = 2;
  // allocatable.pods of the capped nodes (every other node allows 110); at least one more than
  // daemonset_pods_per_node.
  int capped_node_max_pods = 24;
  // DaemonSet pods running on every node, 0..3 (kube-proxy, node-exporter, fluent-bit); they are
  // running pods in addition to running_pods.
  int daemonset_pods_per_node = 1;
  // Running workload pods bound to nodes, in addition to the DaemonSet pods. Never overcommits a
  // node; if the cluster cannot hold them all, fewer are generated.
  int running_pods = 1200;
  // Running pods go first to nodes whose cpu, memory and GPUs stay within this share of
  // allocatable after placement; only when none is left do they fill nodes up to allocatable.
  double shared_fill_fraction = 0.45;
  // The same for the GPU pool.
  double gpu_fill_fraction = 0.8;
  // Pending pods: no spec.nodeName, status.phase Pending, spec.schedulerName "sextant",
  // creationTimestamps strictly increasing in the order they were generated.
  int pending_pods = 400;
  // Kinds of the running workload pods.
  WorkloadMix running_mix = {.inference = 6, .agent = 40, .batch = 52, .training = 2};
  // Kinds of the pending pods (other than the deliberately unschedulable ones).
  WorkloadMix pending_mix = {.inference = 10, .agent = 30, .batch = 54, .training = 6};
  // Share of agent services that are Guaranteed; the rest are Burstable.
  double agent_guaranteed_fraction = 0.4;
  // Share of batch jobs that are BestEffort (no resources at all); the rest are Burstable.
  double batch_best_effort_fraction = 0.3;
  // Share of batch and training jobs at priority batch-low (preemptionPolicy Never) rather than
  // batch-default.
  double low_priority_fraction = 0.25;
  // Share of batch and training jobs with an init container (which may exceed the main container).
  double init_container_fraction = 0.3;
  // Share of agent, batch and training workloads with a restartable sidecar init container
  // (restartPolicy: Always).
  double sidecar_fraction = 0.2;
  // Share of batch jobs run under the kata-qemu RuntimeClass, with spec.overhead.
  double overhead_fraction = 0.1;
  // Share of service apps (inference, agents) with topologySpreadConstraints.
  double spread_fraction = 0.3;
  // Share of service apps with podAntiAffinity on kubernetes.io/hostname (a third required).
  double anti_affinity_fraction = 0.25;
  // Share of pending pods that are deliberately unschedulable, cycling through: GPU pod without
  // the GPU toleration (untolerated taint), node affinity nobody satisfies (a GPU product or zone
  // the cluster lacks), pinned to a full capped node (too many pods), pinned to a cordoned node.
  double pending_misfit_fraction = 0.06;
  // Share of pending service pods that scale up an app already running (same pod template).
  double pending_scale_up_fraction = 0.3;
  // PodDisruptionBudgets, each over a running service app with two or more replicas.
  int pod_disruption_budgets = 2;
  // The snapshot's "now" in Unix seconds: pending pods were created in the minutes before it,
  // running pods and nodes earlier. Default 2026-01-01T00:00:00Z.
  int64_t now_unix_seconds = 1767225600;
  // A second GPU pool whose GPUs are described by DRA ResourceSlices (driver gpu.nvidia.com,
  // eight H100s per node on two NUMA nodes, DeviceClass gpu.nvidia.com) instead of the
  // nvidia.com/gpu extended resource: nodes labelled sextant.io/pool=gpu-dra with the GPU taint.
  // Running inference and training pods hold allocated ResourceClaims (1, 2 or 4 GPUs on one NUMA
  // node, matchAttribute); pending ones ask for them (claims by name, and claims made from a
  // ResourceClaimTemplate for training workers), and one asks for more than any node has.
  // Drawn from its own random stream: the rest of the snapshot does not change with it.
  int dra_gpu_nodes = 0;
  // Share of the DRA pool's GPUs the running pods hold.
  double dra_fill_fraction = 0.5;
  // Pending pods with claims on the DRA pool.
  int dra_pending_pods = 0;
};

// The options of the bundled default snapshot: 312 nodes (60 GPU, 12 DRA GPU), about 1,500 running
// pods and 424 pending pods, of which a replay places most and leaves some unschedulable for
// different reasons (insufficient GPU, untolerated taint, node affinity, too many pods,
// unschedulable node, DRA claims no node can satisfy).
GeneratorOptions DefaultSnapshotOptions();

// Benchmark presets: `nodes` nodes (a fifth in the GPU pool), 5 running workload pods and one
// DaemonSet pod per node, and nodes / 3 pending pods; 15,000 nodes give about 95,000 pods.
GeneratorOptions LargeSnapshotOptions(int nodes);

// Returns the snapshot as a Kubernetes List (apiVersion v1, kind List): Nodes, then Pods, then
// PriorityClasses, then PodDisruptionBudgets, each sorted as kubectl prints them. Every object has
// metadata.uid and metadata.creationTimestamp. Out-of-range options are clamped (negative counts
// to 0, zones to 1..26, fractions to 0..1). Never fails.
nlohmann::json GenerateSnapshot(const GeneratorOptions& options);

// Writes a snapshot as compact JSON with one List item per line. Returns OK, or Internal naming
// the path when the file cannot be opened or written.
absl::Status WriteSnapshotFile(const nlohmann::json& snapshot, const std::string& path);

}  // namespace sextant

#endif  // SEXTANT_GENERATOR_H_
