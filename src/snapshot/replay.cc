#include "sextant/replay.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "dra/inventory.h"
#include "nlohmann/json.hpp"
#include "plugins/dynamic_resources.h"
#include "plugins/sextant_gpu.h"
#include "sextant/pod_resources.h"
#include "sextant/preemption.h"
#include "state/node_info.h"

namespace sextant {
namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t Percentile(std::vector<int64_t> values, double q) {
  if (values.empty()) return 0;
  size_t k = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

double Percent(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

// Allocates the pod's unallocated claims on node `index` and adds the pod to every claim's
// reservedFor (what the scheduler's PreBind writes); `devices` lists what was allocated.
absl::Status ReserveClaims(ClusterState& state, const Pod& pod, uint32_t index,
                           const ProfileOptions& options,
                           const Allocator::ShareIdGenerator& new_share_id,
                           std::vector<std::string>* devices) {
  if (pod.resource_claims.empty()) return absl::OkStatus();
  // Sextant's GPU placement picks the devices on the node; the allocator tries them first.
  auto allocated = SextantGpuReserve(pod, state, index, options, new_share_id);
  if (!allocated.ok()) return allocated.status();
  std::vector<ResourceClaim> updated;
  for (auto& [claim, allocation] : *allocated) {
    ResourceClaim copy = *claim;
    for (const DeviceRequestAllocationResult& r : allocation.devices) {
      devices->push_back(absl::StrCat(claim->Key(), ": ", r.driver, "/", r.pool, "/", r.device));
    }
    copy.allocation = std::move(allocation);
    updated.push_back(std::move(copy));
  }
  // Claims that were allocated already (shared with other pods) only gain the reservation.
  DynamicResourcesPreFilterResult pre = DynamicResourcesPreFilter(pod, state, options);
  if (pre.state) {
    for (const ResourceClaim* claim : pre.state->claims) {
      bool listed = std::any_of(updated.begin(), updated.end(),
                                [&](const ResourceClaim& c) { return c.Key() == claim->Key(); });
      if (!listed) updated.push_back(*claim);
    }
  }
  for (ResourceClaim& claim : updated) {
    bool reserved = std::any_of(claim.reserved_for.begin(), claim.reserved_for.end(),
                                [&](const ResourceClaimConsumerReference& r) {
                                  return r.uid == pod.uid && r.name == pod.name;
                                });
    if (!reserved) claim.reserved_for.push_back({"", "pods", pod.name, pod.uid});
    if (auto s = state.UpsertResourceClaim(claim); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

void SortByQueueOrder(std::vector<Pod>& pods) {
  std::stable_sort(pods.begin(), pods.end(), [](const Pod& a, const Pod& b) {
    if (a.Priority() != b.Priority()) return a.Priority() > b.Priority();
    return a.creation_unix_nanos < b.creation_unix_nanos;
  });
}

absl::StatusOr<std::vector<Pod>> LoadSnapshot(const Snapshot& snapshot, ClusterState& state) {
  for (const PriorityClass& pc : snapshot.priority_classes) {
    if (auto s = state.UpsertPriorityClass(pc); !s.ok()) return s;
  }
  for (const PodDisruptionBudget& pdb : snapshot.pod_disruption_budgets) {
    if (auto s = state.UpsertPodDisruptionBudget(pdb); !s.ok()) return s;
  }
  for (const Namespace& ns : snapshot.namespaces) {
    if (auto s = state.UpsertNamespace(ns); !s.ok()) return s;
  }
  for (const Node& node : snapshot.nodes) {
    if (auto s = state.UpsertNode(node); !s.ok()) return s;
  }
  for (const DeviceClass& device_class : snapshot.device_classes) {
    if (auto s = state.UpsertDeviceClass(device_class); !s.ok()) return s;
  }
  for (const ResourceSlice& slice : snapshot.resource_slices) {
    if (auto s = state.UpsertResourceSlice(slice); !s.ok()) return s;
  }
  for (const ResourceClaim& claim : snapshot.resource_claims) {
    if (auto s = state.UpsertResourceClaim(claim); !s.ok()) return s;
  }
  const PriorityClass* global_default = nullptr;
  for (const PriorityClass& pc : snapshot.priority_classes) {
    if (pc.global_default && (global_default == nullptr || pc.value > global_default->value)) {
      global_default = &pc;
    }
  }
  std::vector<Pod> pending;
  for (Pod pod : snapshot.pods) {
    if (!pod.priority) {
      auto it = std::find_if(snapshot.priority_classes.begin(), snapshot.priority_classes.end(),
                             [&](const PriorityClass& pc) { return pc.name == pod.priority_class_name; });
      if (!pod.priority_class_name.empty() && it != snapshot.priority_classes.end()) {
        pod.priority = it->value;
        if (!pod.preemption_policy) pod.preemption_policy = it->preemption_policy;
      } else if (pod.priority_class_name.empty() && global_default != nullptr) {
        pod.priority = global_default->value;
      }
    }
    if (pod.node_name.empty()) {
      pending.push_back(std::move(pod));
    } else if (auto s = state.UpsertPod(pod); !s.ok()) {
      return s;
    }
  }
  return pending;
}

absl::StatusOr<ReplayReport> Replay(const Snapshot& snapshot, const ReplayOptions& options) {
  if (auto s = ValidateProfileOptions(options.profile); !s.ok()) return s;
  ClusterState state;
  auto pending_or = LoadSnapshot(snapshot, state);
  if (!pending_or.ok()) return pending_or.status();
  std::vector<Pod> pending = std::move(pending_or).value();
  // The online engine holds pending pods too (the shim syncs them): what is derived from the
  // pods the state knows, such as the GPU placement's expected workload, sees them the same way.
  for (const Pod& pod : pending) {
    if (auto s = state.UpsertPod(pod); !s.ok()) return s;
  }
  if (!options.scheduler_name.empty()) {
    std::erase_if(pending, [&](const Pod& p) { return p.scheduler_name != options.scheduler_name; });
  }
  SortByQueueOrder(pending);

  ReplayReport report;
  report.nodes = static_cast<int64_t>(state.live_nodes().size());
  report.running_pods = static_cast<int64_t>(state.bound_pod_count());
  report.pending_pods = static_cast<int64_t>(pending.size());

  Evaluator evaluator(options.profile);
  std::mt19937_64 random(options.seed);
  auto now = options.now_nanos ? options.now_nanos : SteadyNanos;
  std::vector<int64_t> latencies;
  Evaluation evaluation;  // reused: its buffers grow once
  const int64_t start = now();
  // Share IDs of multi-allocatable devices, reproducible from the seed.
  std::mt19937_64 share_ids(options.seed ^ 0x5eed5a4e1dULL);
  auto new_share_id = [&share_ids]() { return absl::StrFormat("share-%016x", share_ids()); };
  for (const Pod& pod : pending) {
    const int64_t t0 = now();
    evaluator.Evaluate(state, pod, random(), &evaluation);
    std::string post_filter_message;  // upstream's FitError carries PostFilter's message
    if (!evaluation.chosen && options.preemption) {
      PreemptionResult preemption = Preempt(evaluator, state, pod, evaluation);
      post_filter_message = preemption.message;
      if (!preemption.nominated_node.empty()) {
        PreemptionRecord record;
        record.preemptor = pod.Key();
        record.priority = pod.Priority();
        record.node = preemption.nominated_node;
        record.pdb_violations = preemption.pdb_violations;
        record.message = preemption.message;
        for (const PreemptionVictim& v : preemption.victims) {
          std::string key = absl::StrCat(v.name_space, "/", v.name);
          if (auto s = state.RemovePod(key); !s.ok()) return s;
          record.victims.push_back(std::move(key));
          record.victim_priorities.push_back(v.priority);
          ++report.evicted;
        }
        report.preemptions.push_back(std::move(record));
        // The victims are gone: the pod's next attempt, as upstream retries it.
        evaluator.Evaluate(state, pod, random(), &evaluation);
        post_filter_message.clear();
      }
    }
    PodOutcome outcome;
    outcome.pod_key = evaluation.pod_key;
    outcome.qos = evaluation.qos;
    outcome.priority = pod.Priority();
    outcome.feasible_nodes = evaluation.feasible_count;
    if (evaluation.chosen) {
      const NodeVerdict& v = evaluation.verdicts[*evaluation.chosen];
      outcome.node = state.node(v.node).node->name;
      outcome.score = v.score;
      // DynamicResources' Reserve and PreBind: allocate the claims on the node and record the
      // pod as their consumer, as the claims' status would show after binding.
      if (auto s = ReserveClaims(state, pod, v.node, evaluator.options(), new_share_id,
                                 &outcome.devices);
          !s.ok()) {
        return s;
      }
      Pod bound = pod;
      bound.node_name = outcome.node;
      bound.phase = "Running";
      if (auto s = state.UpsertPod(bound); !s.ok()) return s;
      ++report.placed;
    } else if (!evaluation.error.empty()) {
      outcome.message = evaluation.error;
      ++report.unschedulable_messages[outcome.message];
      ++report.unschedulable;
    } else {
      outcome.message = evaluation.FitErrorMessage();
      if (!post_filter_message.empty()) absl::StrAppend(&outcome.message, " ", post_filter_message);
      ++report.unschedulable_messages[outcome.message];
      ++report.unschedulable;
    }
    outcome.latency_nanos = now() - t0;
    latencies.push_back(outcome.latency_nanos);
    report.outcomes.push_back(std::move(outcome));
  }
  report.total_nanos = now() - start;
  if (report.total_nanos > 0) {
    report.pods_per_second = static_cast<double>(pending.size()) * 1e9 /
                             static_cast<double>(report.total_nanos);
  }
  report.p50_latency_nanos = Percentile(latencies, 0.50);
  report.p99_latency_nanos = Percentile(latencies, 0.99);

  const ResourceRegistry& registry = state.resources();
  for (uint32_t index : state.live_nodes()) {
    const NodeInfo& info = state.node(index);
    NodeUtilisation u;
    u.name = info.node->name;
    u.pods = static_cast<int64_t>(info.pods.size());
    u.allowed_pods = info.allocatable.allowed_pod_number;
    u.cpu_requested_millis = info.requested.milli_cpu;
    u.cpu_allocatable_millis = info.allocatable.milli_cpu;
    u.memory_requested_bytes = info.requested.memory;
    u.memory_allocatable_bytes = info.allocatable.memory;
    for (const auto& [id, value] : info.allocatable.scalars) {
      if (value > 0) u.scalars[registry.Name(id)] = {info.requested.Scalar(id), value};
    }
    report.utilisation.push_back(std::move(u));
  }
  const DraInventory& dra = state.dra();
  for (const auto& [name, record] : dra.slices()) {
    for (const Device& device : record->slice.devices) {
      auto& [allocated, published] = report.devices_by_driver[record->slice.driver];
      ++published;
      allocated += dra.allocated().IsAllocated(
          DeviceId{record->slice.driver, record->slice.pool.name, device.name});
    }
  }
  return report;
}

std::string FormatReplaySummary(const ReplayReport& r) {
  std::string out = absl::StrFormat(
      "nodes %d, running pods %d, pending pods %d\n"
      "placed %d, unschedulable %d\n"
      "throughput %.0f pods/s, per-pod latency p50 %.1f us, p99 %.1f us\n",
      r.nodes, r.running_pods, r.pending_pods, r.placed, r.unschedulable, r.pods_per_second,
      static_cast<double>(r.p50_latency_nanos) / 1e3, static_cast<double>(r.p99_latency_nanos) / 1e3);

  std::map<QosClass, std::pair<int64_t, int64_t>> by_qos;  // placed, unschedulable
  for (const PodOutcome& o : r.outcomes) {
    auto& counts = by_qos[o.qos];
    (o.node.empty() ? counts.second : counts.first)++;
  }
  for (const auto& [qos, counts] : by_qos) {
    absl::StrAppendFormat(&out, "  %-10s placed %d, unschedulable %d\n", QosClassName(qos),
                          counts.first, counts.second);
  }

  if (!r.preemptions.empty()) {
    absl::StrAppendFormat(&out, "\npreemptions %d, pods evicted %d:\n", r.preemptions.size(),
                          r.evicted);
    for (const PreemptionRecord& p : r.preemptions) {
      absl::StrAppendFormat(&out, "  %s (priority %d) -> %s, evicting %s\n", p.preemptor,
                            p.priority, p.node, absl::StrJoin(p.victims, ", "));
    }
  }

  if (!r.unschedulable_messages.empty()) {
    out += "\nunschedulable pods by reason:\n";
    std::vector<std::pair<int64_t, std::string>> sorted;
    for (const auto& [message, count] : r.unschedulable_messages) sorted.emplace_back(count, message);
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& [count, message] : sorted) absl::StrAppendFormat(&out, "  %5d  %s\n", count, message);
  }

  // Utilisation: totals, then the nodes grouped by which extended resources they offer.
  std::map<std::string, NodeUtilisation> pools;
  for (const NodeUtilisation& u : r.utilisation) {
    std::string pool;
    for (const auto& [name, values] : u.scalars) absl::StrAppend(&pool, pool.empty() ? "" : ",", name);
    NodeUtilisation& sum = pools[pool.empty() ? "cpu-only" : pool];
    sum.pods += 1;
    sum.cpu_requested_millis += u.cpu_requested_millis;
    sum.cpu_allocatable_millis += u.cpu_allocatable_millis;
    sum.memory_requested_bytes += u.memory_requested_bytes;
    sum.memory_allocatable_bytes += u.memory_allocatable_bytes;
    for (const auto& [name, values] : u.scalars) {
      sum.scalars[name].first += values.first;
      sum.scalars[name].second += values.second;
    }
  }
  out += "\nutilisation after replay (requested / allocatable):\n";
  for (const auto& [pool, sum] : pools) {
    absl::StrAppendFormat(&out, "  %-24s %4d nodes  cpu %5.1f%%  memory %5.1f%%", pool, sum.pods,
                          Percent(sum.cpu_requested_millis, sum.cpu_allocatable_millis),
                          Percent(sum.memory_requested_bytes, sum.memory_allocatable_bytes));
    for (const auto& [name, values] : sum.scalars) {
      absl::StrAppendFormat(&out, "  %s %5.1f%% (%d/%d)", name, Percent(values.first, values.second),
                            values.first, values.second);
    }
    out += "\n";
  }
  for (const auto& [driver, counts] : r.devices_by_driver) {
    absl::StrAppendFormat(&out, "  %-24s %4d devices  allocated %5.1f%% (%d/%d)\n",
                          absl::StrCat(driver, " (DRA)"), counts.second,
                          Percent(counts.first, counts.second), counts.first, counts.second);
  }
  return out;
}

std::string ReplayReportJson(const ReplayReport& r) {
  nlohmann::json j;
  j["nodes"] = r.nodes;
  j["runningPods"] = r.running_pods;
  j["pendingPods"] = r.pending_pods;
  j["placed"] = r.placed;
  j["unschedulable"] = r.unschedulable;
  j["podsPerSecond"] = r.pods_per_second;
  j["latencyNanos"] = {{"p50", r.p50_latency_nanos}, {"p99", r.p99_latency_nanos}};
  j["unschedulableMessages"] = nlohmann::json::object();
  for (const auto& [message, count] : r.unschedulable_messages) j["unschedulableMessages"][message] = count;
  nlohmann::json pods = nlohmann::json::array();
  for (const PodOutcome& o : r.outcomes) {
    nlohmann::json p = {{"pod", o.pod_key},          {"qosClass", QosClassName(o.qos)},
                        {"priority", o.priority},    {"feasibleNodes", o.feasible_nodes},
                        {"latencyNanos", o.latency_nanos}};
    if (o.node.empty()) {
      p["message"] = o.message;
    } else {
      p["node"] = o.node;
      p["score"] = o.score;
      if (!o.devices.empty()) p["devices"] = o.devices;
    }
    pods.push_back(std::move(p));
  }
  j["pods"] = std::move(pods);
  for (const auto& [driver, counts] : r.devices_by_driver) {
    j["draDevices"][driver] = {{"allocated", counts.first}, {"published", counts.second}};
  }
  j["evicted"] = r.evicted;
  nlohmann::json preemptions = nlohmann::json::array();
  for (const PreemptionRecord& p : r.preemptions) {
    preemptions.push_back({{"preemptor", p.preemptor},
                           {"priority", p.priority},
                           {"node", p.node},
                           {"victims", p.victims},
                           {"victimPriorities", p.victim_priorities},
                           {"pdbViolations", p.pdb_violations},
                           {"message", p.message}});
  }
  j["preemptions"] = std::move(preemptions);
  nlohmann::json nodes = nlohmann::json::array();
  for (const NodeUtilisation& u : r.utilisation) {
    nlohmann::json n = {{"name", u.name},
                        {"pods", u.pods},
                        {"allowedPods", u.allowed_pods},
                        {"cpuRequestedMillis", u.cpu_requested_millis},
                        {"cpuAllocatableMillis", u.cpu_allocatable_millis},
                        {"memoryRequestedBytes", u.memory_requested_bytes},
                        {"memoryAllocatableBytes", u.memory_allocatable_bytes}};
    for (const auto& [name, values] : u.scalars) {
      n["extended"][name] = {{"requested", values.first}, {"allocatable", values.second}};
    }
    nodes.push_back(std::move(n));
  }
  j["nodeUtilisation"] = std::move(nodes);
  return j.dump(1);
}

}  // namespace sextant
