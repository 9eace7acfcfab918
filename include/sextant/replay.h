// Replay: schedule the pending pods of a recorded snapshot one by one, in upstream queue order
// (priority, then creation time), binding each into the state before the next, through the same
// ClusterState update path and Evaluator the online engine uses. Deterministic for a seed.
#ifndef SEXTANT_REPLAY_H_
#define SEXTANT_REPLAY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sextant/evaluate.h"
#include "sextant/snapshot.h"

namespace sextant {

struct ReplayOptions {
  // Seeds the tie-break among equally scored nodes.
  uint64_t seed = 1;
  ProfileOptions profile;
  // Only pending pods with this spec.schedulerName are scheduled; empty schedules every pending pod.
  std::string scheduler_name;
  // Run DefaultPreemption for a pod nothing fits: its victims are deleted from the state (not
  // re-queued: replay has no controllers to recreate them) and the pod is scheduled again.
  bool preemption = true;
  // Monotonic clock in nanoseconds, for the latency figures only (never for decisions).
  std::function<int64_t()> now_nanos;
};

struct PodOutcome {
  std::string pod_key;
  QosClass qos = QosClass::kBestEffort;
  int32_t priority = 0;
  std::string node;     // empty: unschedulable
  int64_t score = 0;    // total score of the chosen node
  int64_t feasible_nodes = 0;
  std::string message;  // FitError text when unschedulable
  int64_t latency_nanos = 0;
  // DRA devices allocated for the pod's claims: "namespace/claim: driver/pool/device".
  std::vector<std::string> devices;
};

// One preemption: the pod, the node it was nominated to, the pods evicted for it.
struct PreemptionRecord {
  std::string preemptor;
  int32_t priority = 0;
  std::string node;
  std::vector<std::string> victims;  // namespace/name, most important first
  std::vector<int32_t> victim_priorities;
  int64_t pdb_violations = 0;
  std::string message;
};

struct NodeUtilisation {
  std::string name;
  int64_t pods = 0;
  int64_t allowed_pods = 0;
  int64_t cpu_requested_millis = 0;
  int64_t cpu_allocatable_millis = 0;
  int64_t memory_requested_bytes = 0;
  int64_t memory_allocatable_bytes = 0;
  // Extended resources (GPUs and others): name -> {requested, allocatable}.
  std::map<std::string, std::pair<int64_t, int64_t>> scalars;
};

struct ReplayReport {
  int64_t nodes = 0;
  int64_t running_pods = 0;
  int64_t pending_pods = 0;
  int64_t placed = 0;
  int64_t unschedulable = 0;
  std::vector<PodOutcome> outcomes;  // in scheduling order
  std::vector<PreemptionRecord> preemptions;  // in scheduling order
  int64_t evicted = 0;
  // Unschedulable pods counted by their FitError text, and by each distinct node reason.
  std::map<std::string, int64_t> unschedulable_messages;
  double pods_per_second = 0;
  int64_t p50_latency_nanos = 0;
  int64_t p99_latency_nanos = 0;
  int64_t total_nanos = 0;
  std::vector<NodeUtilisation> utilisation;  // after the replay, in node order
  // DRA devices after the replay, by driver: (allocated, published). A device counts once
  // however many claims share it.
  std::map<std::string, std::pair<int64_t, int64_t>> devices_by_driver;
};

// Adds the snapshot's nodes, priority classes, disruption budgets and running pods to `state`
// and returns its pending pods (priority resolved as admission does: spec.priority, else the
// value of spec.priorityClassName, else the global default class, else 0).
absl::StatusOr<std::vector<Pod>> LoadSnapshot(const Snapshot& snapshot, ClusterState& state);

// Loads the snapshot into a fresh state and schedules its pending pods. InvalidArgument when the
// snapshot cannot be loaded (a duplicate object, an invalid profile).
absl::StatusOr<ReplayReport> Replay(const Snapshot& snapshot, const ReplayOptions& options);

// The upstream queue order: higher priority first, then earlier creation, then input order.
void SortByQueueOrder(std::vector<Pod>& pods);

// Human-readable summary, as `sextant replay` prints it.
std::string FormatReplaySummary(const ReplayReport& report);
// The full report as JSON text (`sextant replay --out`).
std::string ReplayReportJson(const ReplayReport& report);

}  // namespace sextant

#endif  // SEXTANT_REPLAY_H_
