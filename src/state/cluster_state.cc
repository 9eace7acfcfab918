#include "sextant/cluster_state.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "model/affinity_terms.h"
#include "state/indexes.h"
#include "state/node_info.h"
#include "state/resource.h"

namespace sextant {
namespace {

bool IsTerminal(const Pod& pod) { return pod.phase == "Succeeded" || pod.phase == "Failed"; }

template <typename T, typename KeyFn>
absl::Status UpsertByKey(std::vector<T>& items, const T& item, KeyFn key) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& x) { return key(x) == key(item); });
  if (it == items.end()) {
    items.push_back(item);
  } else {
    *it = item;
  }
  return absl::OkStatus();
}

std::unique_ptr<const PodAffinityTerms> CompiledAffinity(const Pod& pod) {
  PodAffinityTerms terms = CompilePodAffinityTerms(pod);
  if (terms.empty()) return nullptr;
  return std::make_unique<const PodAffinityTerms>(std::move(terms));
}

}  // namespace

struct ClusterState::Impl {
  absl::flat_hash_map<std::string, uint32_t> node_index;
  // node_hash_map: NodeInfo::pods points at the records, so they must not move.
  absl::node_hash_map<std::string, PodRecord> pods;
  size_t bound = 0;
  absl::flat_hash_map<std::string, Namespace> namespaces;
  NodeLabelIndex node_labels;
  PodLabelIndex pod_labels;
  AffinityTermIndex affinity_terms;
};

void ClusterState::Nominate(PodRecord& record) {
  if (record.node_index >= 0 || !record.pod.nominated_node_name ||
      record.pod.nominated_node_name->empty()) {
    return;
  }
  uint32_t slot = NodeSlot(*record.pod.nominated_node_name);
  nodes_[slot].nominated.push_back(&record);
}

void ClusterState::Unnominate(PodRecord& record) {
  if (record.node_index >= 0 || !record.pod.nominated_node_name) return;
  auto it = impl_->node_index.find(*record.pod.nominated_node_name);
  if (it != impl_->node_index.end()) std::erase(nodes_[it->second].nominated, &record);
}

const std::vector<PodRecord*>& ClusterState::NominatedPods(uint32_t node) const {
  return nodes_[node].nominated;
}

ClusterState::ClusterState()
    : registry_(std::make_unique<ResourceRegistry>()), impl_(std::make_unique<Impl>()) {}
ClusterState::~ClusterState() = default;

uint32_t ClusterState::NodeSlot(absl::string_view name) {
  auto it = impl_->node_index.find(name);
  if (it != impl_->node_index.end()) return it->second;
  uint32_t index = static_cast<uint32_t>(nodes_.size());
  nodes_.emplace_back();
  nodes_.back().node->name = std::string(name);
  impl_->node_index.emplace(std::string(name), index);
  impl_->node_labels.Resize(nodes_.size());
  return index;
}

absl::Status ClusterState::UpsertNode(const Node& node) {
  if (node.name.empty()) {
    return absl::InvalidArgumentError("Node: metadata.name: must not be empty");
  }
  uint32_t index = NodeSlot(node.name);
  NodeInfo& info = nodes_[index];
  impl_->node_labels.SetNode(index, info.node->labels, node.labels);
  *info.node = node;
  info.unschedulable = node.unschedulable;
  info.allocatable = Resource();
  info.allocatable.AddList(node.allocatable, *registry_);
  info.has_hard_taints = std::any_of(node.taints.begin(), node.taints.end(), [](const Taint& t) {
    return t.effect == TaintEffect::kNoSchedule || t.effect == TaintEffect::kNoExecute;
  });
  info.has_prefer_no_schedule = std::any_of(node.taints.begin(), node.taints.end(), [](const Taint& t) {
    return t.effect == TaintEffect::kPreferNoSchedule;
  });
  if (!info.present) {
    info.present = true;
    live_nodes_.push_back(index);
  }
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::RemoveNode(absl::string_view name) {
  int64_t index = FindNode(name);
  if (index < 0) return absl::NotFoundError(absl::StrCat("Node \"", name, "\": not found"));
  nodes_[index].present = false;
  impl_->node_labels.ClearNode(static_cast<uint32_t>(index), nodes_[index].node->labels);
  live_nodes_.erase(std::find(live_nodes_.begin(), live_nodes_.end(), static_cast<uint32_t>(index)));
  ++generation_;
  return absl::OkStatus();
}

void ClusterState::Account(PodRecord& record, int64_t sign) {
  NodeInfo& info = nodes_[record.node_index];
  info.requested.Add(record.resource.requests, sign);
  info.non0_milli_cpu += sign * record.resource.non0_milli_cpu;
  info.non0_memory += sign * record.resource.non0_memory;
  if (sign > 0) {
    info.pods.push_back(&record);
    impl_->pod_labels.Add(&record);
    impl_->affinity_terms.Add(&record);
  } else {
    auto it = std::find(info.pods.begin(), info.pods.end(), &record);
    *it = info.pods.back();
    info.pods.pop_back();
    impl_->pod_labels.Remove(&record);
    impl_->affinity_terms.Remove(&record);
  }
}

void ClusterState::Unbind(PodRecord& record) {
  if (record.node_index >= 0) {
    Account(record, -1);
    --impl_->bound;
    record.node_index = -1;
  }
}

absl::Status ClusterState::UpsertPod(const Pod& pod) {
  if (pod.name.empty()) return absl::InvalidArgumentError("Pod: metadata.name: must not be empty");
  std::string key = pod.Key();
  if (IsTerminal(pod)) {
    auto it = impl_->pods.find(key);
    if (it != impl_->pods.end()) {
      Unnominate(it->second);
      Unbind(it->second);
      impl_->pods.erase(it);
      ++generation_;
    }
    return absl::OkStatus();
  }
  if (pod.node_name.empty()) {
    auto it = impl_->pods.find(key);
    if (it != impl_->pods.end() && it->second.assumed) {
      // The scheduler assumed this pod onto a node and its binding is in flight. An unbound copy
      // is older news that crossed the Assume on the way (the informer's pending pod, a status
      // patch of it): the assumption stands until the bound pod arrives, the pod is deleted, or
      // the scheduler forgets it, as in upstream's scheduler cache. Dropping it here would let the
      // next pod through required anti-affinity or past a full node.
      return absl::OkStatus();
    }
  }
  // Everything that can fail is computed before the state changes.
  PodRecord fresh;
  fresh.pod = pod;
  fresh.resource = ComputePodResource(pod, *registry_);
  fresh.qos = ComputeQosClass(pod);
  fresh.affinity = CompiledAffinity(pod);

  PodRecord& record = impl_->pods[key];
  Unnominate(record);
  Unbind(record);
  record = std::move(fresh);
  if (!pod.node_name.empty()) {
    record.node_index = NodeSlot(pod.node_name);
    Account(record, +1);
    ++impl_->bound;
  } else {
    Nominate(record);
  }
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::RemovePod(absl::string_view pod_key) {
  auto it = impl_->pods.find(pod_key);
  if (it == impl_->pods.end()) {
    return absl::NotFoundError(absl::StrCat("Pod \"", pod_key, "\": not found"));
  }
  Unnominate(it->second);
  Unbind(it->second);
  impl_->pods.erase(it);
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::AssumePod(const Pod& pod, absl::string_view node_name) {
  std::string key = pod.Key();
  int64_t index = FindNode(node_name);
  if (index < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Pod \"", key, "\": cannot assume onto node \"", node_name, "\": not found"));
  }
  auto it = impl_->pods.find(key);
  if (it != impl_->pods.end() && it->second.node_index >= 0) {
    return absl::AlreadyExistsError(absl::StrCat("Pod \"", key, "\": already bound to node \"",
                                                 nodes_[it->second.node_index].node->name, "\""));
  }
  Pod bound = pod;
  bound.node_name = std::string(node_name);
  PodRecord fresh;
  fresh.resource = ComputePodResource(bound, *registry_);
  fresh.qos = ComputeQosClass(bound);
  fresh.affinity = CompiledAffinity(bound);
  fresh.pod = std::move(bound);
  fresh.assumed = true;
  fresh.node_index = index;

  PodRecord& record = impl_->pods[key];
  Unnominate(record);
  record = std::move(fresh);
  Account(record, +1);
  ++impl_->bound;
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::ForgetPod(absl::string_view pod_key) {
  auto it = impl_->pods.find(pod_key);
  if (it == impl_->pods.end() || !it->second.assumed) {
    return absl::NotFoundError(absl::StrCat("Pod \"", pod_key, "\": not assumed"));
  }
  Unbind(it->second);
  impl_->pods.erase(it);
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::UpsertPriorityClass(const PriorityClass& priority_class) {
  if (priority_class.name.empty()) {
    return absl::InvalidArgumentError("PriorityClass: metadata.name: must not be empty");
  }
  ++generation_;
  return UpsertByKey(priority_classes_, priority_class, [](const PriorityClass& p) { return p.name; });
}

absl::Status ClusterState::RemovePriorityClass(absl::string_view name) {
  auto it = std::find_if(priority_classes_.begin(), priority_classes_.end(),
                         [&](const PriorityClass& p) { return p.name == name; });
  if (it == priority_classes_.end()) {
    return absl::NotFoundError(absl::StrCat("PriorityClass \"", name, "\": not found"));
  }
  priority_classes_.erase(it);
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::UpsertPodDisruptionBudget(const PodDisruptionBudget& pdb) {
  if (pdb.name.empty()) {
    return absl::InvalidArgumentError("PodDisruptionBudget: metadata.name: must not be empty");
  }
  ++generation_;
  return UpsertByKey(pdbs_, pdb, [](const PodDisruptionBudget& p) {
    return absl::StrCat(p.name_space, "/", p.name);
  });
}

absl::Status ClusterState::RemovePodDisruptionBudget(absl::string_view key) {
  auto it = std::find_if(pdbs_.begin(), pdbs_.end(), [&](const PodDisruptionBudget& p) {
    return absl::StrCat(p.name_space, "/", p.name) == key;
  });
  if (it == pdbs_.end()) {
    return absl::NotFoundError(absl::StrCat("PodDisruptionBudget \"", key, "\": not found"));
  }
  pdbs_.erase(it);
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::UpsertNamespace(const Namespace& ns) {
  if (ns.name.empty()) {
    return absl::InvalidArgumentError("Namespace: metadata.name: must not be empty");
  }
  impl_->namespaces[ns.name] = ns;
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::RemoveNamespace(absl::string_view name) {
  auto it = impl_->namespaces.find(name);
  if (it == impl_->namespaces.end()) {
    return absl::NotFoundError(absl::StrCat("Namespace \"", name, "\": not found"));
  }
  impl_->namespaces.erase(it);
  ++generation_;
  return absl::OkStatus();
}

const Labels& ClusterState::NamespaceLabels(absl::string_view name) const {
  auto it = impl_->namespaces.find(name);
  return it == impl_->namespaces.end() ? NoLabels() : it->second.labels;
}

std::vector<const Namespace*> ClusterState::namespaces() const {
  std::vector<const Namespace*> out;
  out.reserve(impl_->namespaces.size());
  for (const auto& [name, ns] : impl_->namespaces) out.push_back(&ns);
  return out;
}

const NodeLabelIndex& ClusterState::node_labels() const { return impl_->node_labels; }
const PodLabelIndex& ClusterState::pod_labels() const { return impl_->pod_labels; }
const AffinityTermIndex& ClusterState::affinity_terms() const { return impl_->affinity_terms; }

const NodeInfo& ClusterState::node(uint32_t index) const { return nodes_[index]; }
size_t ClusterState::node_slots() const { return nodes_.size(); }

int64_t ClusterState::FindNode(absl::string_view name) const {
  auto it = impl_->node_index.find(name);
  if (it == impl_->node_index.end() || !nodes_[it->second].present) return -1;
  return it->second;
}

const PodRecord* ClusterState::FindPod(absl::string_view pod_key) const {
  auto it = impl_->pods.find(pod_key);
  return it == impl_->pods.end() ? nullptr : &it->second;
}

std::vector<const Pod*> ClusterState::AssumedPods() const {
  std::vector<const Pod*> out;
  for (const auto& [key, record] : impl_->pods) {
    if (record.assumed) out.push_back(&record.pod);
  }
  return out;
}

size_t ClusterState::bound_pod_count() const { return impl_->bound; }
size_t ClusterState::pending_pod_count() const { return impl_->pods.size() - impl_->bound; }

}  // namespace sextant
