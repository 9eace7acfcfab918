#include "sextant/cluster_state.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "dra/inventory.h"
#include "gpu/placement_cache.h"
#include "model/affinity_terms.h"
#include "model/selectors.h"
#include "state/indexes.h"
#include "state/internal/canonical.h"
#include "state/internal/saturating.h"
#include "state/node_info.h"
#include "state/resource.h"

namespace sextant {
namespace {

bool IsTerminal(const Pod& pod) { return pod.phase == "Succeeded" || pod.phase == "Failed"; }

// Whether two versions of a pod name the same claims (spec.resourceClaims and the claims made
// for them, status.resourceClaimStatuses).
bool SameClaims(const Pod& a, const Pod& b) {
  auto same_entry = [](const PodResourceClaim& x, const PodResourceClaim& y) {
    return x.name == y.name && x.resource_claim_name == y.resource_claim_name &&
           x.resource_claim_template_name == y.resource_claim_template_name;
  };
  auto same_status = [](const PodResourceClaimStatus& x, const PodResourceClaimStatus& y) {
    return x.name == y.name && x.resource_claim_name == y.resource_claim_name;
  };
  return std::equal(a.resource_claims.begin(), a.resource_claims.end(), b.resource_claims.begin(),
                    b.resource_claims.end(), same_entry) &&
         std::equal(a.resource_claim_statuses.begin(), a.resource_claim_statuses.end(),
                    b.resource_claim_statuses.begin(), b.resource_claim_statuses.end(),
                    same_status);
}

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

// A Resource by resource name (ids are interned per state), zero scalars left out.
void WriteResource(internal::CanonicalWriter& w, const Resource& resource,
                   const ResourceRegistry& registry) {
  w.Int(resource.milli_cpu);
  w.Int(resource.memory);
  w.Int(resource.ephemeral_storage);
  w.Int(resource.allowed_pod_number);
  std::vector<std::pair<std::string, int64_t>> scalars;
  for (const auto& [id, value] : resource.scalars) {
    if (value != 0) scalars.emplace_back(registry.Name(id), value);
  }
  std::sort(scalars.begin(), scalars.end());
  w.Int(static_cast<int64_t>(scalars.size()));
  for (const auto& [name, value] : scalars) {
    w.String(name);
    w.Int(value);
  }
}

template <typename T, typename KeyFn>
std::vector<const T*> SortedBy(const std::vector<T>& items, KeyFn key) {
  std::vector<const T*> out;
  for (const T& item : items) out.push_back(&item);
  std::sort(out.begin(), out.end(), [&](const T* a, const T* b) { return key(*a) < key(*b); });
  return out;
}

std::vector<std::string> SortedKeys(const std::vector<PodRecord*>& records) {
  std::vector<std::string> keys;
  for (const PodRecord* record : records) keys.push_back(record->pod.Key());
  std::sort(keys.begin(), keys.end());
  return keys;
}

absl::Status Inconsistent(absl::string_view what) {
  return absl::InternalError(absl::StrCat("cluster state is inconsistent: ", what));
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
    : registry_(std::make_unique<ResourceRegistry>()),
      impl_(std::make_unique<Impl>()),
      dra_(std::make_unique<DraInventory>()),
      gpu_placement_cache_(std::make_unique<GpuPlacementCache>()) {}
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
  info.non0_milli_cpu = internal::AddResource(info.non0_milli_cpu, sign * record.resource.non0_milli_cpu);
  info.non0_memory = internal::AddResource(info.non0_memory, sign * record.resource.non0_memory);
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
      if (!it->second.pod.resource_claims.empty()) ++claim_pod_changes_;
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

  auto existing = impl_->pods.find(key);
  if (existing == impl_->pods.end() ? !pod.resource_claims.empty()
                                    : !SameClaims(existing->second.pod, pod)) {
    ++claim_pod_changes_;
  }
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
  if (!it->second.pod.resource_claims.empty()) ++claim_pod_changes_;
  Unnominate(it->second);
  Unbind(it->second);
  impl_->pods.erase(it);
  dra_->ForgetPendingAllocations(pod_key);
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

  if (it == impl_->pods.end() ? !pod.resource_claims.empty() : !SameClaims(it->second.pod, pod)) {
    ++claim_pod_changes_;
  }
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
  if (!it->second.pod.resource_claims.empty()) ++claim_pod_changes_;
  Unbind(it->second);
  impl_->pods.erase(it);
  dra_->ForgetPendingAllocations(pod_key);
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::UpsertDeviceClass(const DeviceClass& device_class) {
  if (device_class.name.empty()) {
    return absl::InvalidArgumentError("DeviceClass: metadata.name: must not be empty");
  }
  dra_->UpsertDeviceClass(device_class);
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::RemoveDeviceClass(absl::string_view name) {
  RETURN_IF_ERROR(dra_->RemoveDeviceClass(name));
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::UpsertResourceSlice(const ResourceSlice& slice) {
  if (slice.name.empty()) {
    return absl::InvalidArgumentError("ResourceSlice: metadata.name: must not be empty");
  }
  dra_->UpsertResourceSlice(slice);
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::RemoveResourceSlice(absl::string_view name) {
  RETURN_IF_ERROR(dra_->RemoveResourceSlice(name));
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::UpsertResourceClaim(const ResourceClaim& claim) {
  if (claim.name.empty()) {
    return absl::InvalidArgumentError("ResourceClaim: metadata.name: must not be empty");
  }
  if (claim.name_space.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("ResourceClaim \"", claim.name,
                                                   "\": metadata.namespace: must not be empty"));
  }
  if (dra_->FindResourceClaim(claim.Key()) == nullptr) ++claim_pod_changes_;
  dra_->UpsertResourceClaim(claim);
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::RemoveResourceClaim(absl::string_view key) {
  RETURN_IF_ERROR(dra_->RemoveResourceClaim(key));
  ++claim_pod_changes_;
  ++generation_;
  return absl::OkStatus();
}

absl::Status ClusterState::AddPendingAllocations(
    const std::string& pod_key,
    const std::vector<std::pair<std::string, AllocationResult>>& allocations) {
  // Checked first, so a refusal records nothing.
  for (size_t i = 0; i < allocations.size(); ++i) {
    const std::string& key = allocations[i].first;
    const ResourceClaim* claim = dra_->FindResourceClaim(key);
    if (claim == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("ResourceClaim \"", key, "\" is not known"));
    }
    if (claim->allocation) {
      return absl::FailedPreconditionError(
          absl::StrCat("ResourceClaim \"", key, "\" is already allocated"));
    }
    if (dra_->PendingAllocation(key) != nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("resource claim ", key, " is in the process of being allocated"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (allocations[j].first == key) {
        return absl::FailedPreconditionError(
            absl::StrCat("ResourceClaim \"", key, "\" is allocated twice"));
      }
    }
  }
  for (const auto& [key, allocation] : allocations) {
    RETURN_IF_ERROR(dra_->AddPendingAllocation(key, pod_key, allocation));
  }
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

std::vector<const Pod*> ClusterState::pods() const {
  std::vector<const Pod*> out;
  out.reserve(impl_->pods.size());
  for (const auto& [key, record] : impl_->pods) out.push_back(&record.pod);
  return out;
}

std::string ClusterState::Canonical() const {
  internal::CanonicalWriter w;
  // Node slots by name: present nodes, and slots that only pods bound to or nominated for a
  // missing node keep alive (a slot nothing refers to any more carries no state).
  std::vector<uint32_t> slots;
  for (uint32_t slot = 0; slot < nodes_.size(); ++slot) {
    const NodeInfo& info = nodes_[slot];
    if (info.present || !info.pods.empty() || !info.nominated.empty()) slots.push_back(slot);
  }
  std::sort(slots.begin(), slots.end(),
            [this](uint32_t a, uint32_t b) { return nodes_[a].node->name < nodes_[b].node->name; });
  w.Tag("nodes");
  w.Int(static_cast<int64_t>(slots.size()));
  for (uint32_t slot : slots) {
    const NodeInfo& info = nodes_[slot];
    w.String(info.node->name);
    w.Bool(info.present);
    if (info.present) {
      w.Write(*info.node);
      w.Bool(info.unschedulable);
      w.Bool(info.has_hard_taints);
      w.Bool(info.has_prefer_no_schedule);
      WriteResource(w, info.allocatable, *registry_);
    }
    WriteResource(w, info.requested, *registry_);
    w.Int(info.non0_milli_cpu);
    w.Int(info.non0_memory);
    for (const std::vector<PodRecord*>* list : {&info.pods, &info.nominated}) {
      const std::vector<std::string> keys = SortedKeys(*list);
      w.Int(static_cast<int64_t>(keys.size()));
      for (const std::string& key : keys) w.String(key);
    }
  }
  std::vector<const std::pair<const std::string, PodRecord>*> pods;
  for (const auto& entry : impl_->pods) pods.push_back(&entry);
  std::sort(pods.begin(), pods.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  w.Tag("pods");
  w.Int(static_cast<int64_t>(pods.size()));
  for (const auto* entry : pods) {
    const PodRecord& record = entry->second;
    w.String(entry->first);
    w.Write(record.pod);
    w.String(record.node_index >= 0 ? nodes_[record.node_index].node->name : "");
    w.Bool(record.assumed);
    w.Int(static_cast<int64_t>(record.qos));
    WriteResource(w, record.resource.requests, *registry_);
    w.Int(record.resource.non0_milli_cpu);
    w.Int(record.resource.non0_memory);
    w.Bool(record.affinity != nullptr);
  }
  std::vector<const Namespace*> namespaces = this->namespaces();
  std::sort(namespaces.begin(), namespaces.end(),
            [](const Namespace* a, const Namespace* b) { return a->name < b->name; });
  w.Tag("namespaces");
  w.Int(static_cast<int64_t>(namespaces.size()));
  for (const Namespace* ns : namespaces) w.Write(*ns);
  w.Tag("priority classes");
  w.Int(static_cast<int64_t>(priority_classes_.size()));
  for (const PriorityClass* pc :
       SortedBy(priority_classes_, [](const PriorityClass& p) { return p.name; })) {
    w.Write(*pc);
  }
  w.Tag("disruption budgets");
  w.Int(static_cast<int64_t>(pdbs_.size()));
  for (const PodDisruptionBudget* pdb : SortedBy(pdbs_, [](const PodDisruptionBudget& p) {
         return std::make_pair(p.name_space, p.name);
       })) {
    w.Write(*pdb);
  }
  w.Tag("device classes");
  w.Int(static_cast<int64_t>(dra_->device_classes().size()));
  for (const auto& [name, device_class] : dra_->device_classes()) w.Write(device_class);
  w.Tag("resource slices");
  w.Int(static_cast<int64_t>(dra_->slices().size()));
  for (const auto& [name, record] : dra_->slices()) w.Write(record->slice);
  w.Tag("resource claims");
  w.Int(static_cast<int64_t>(dra_->resource_claims().size()));
  for (const auto& [key, claim] : dra_->resource_claims()) w.Write(claim);
  w.Tag("allocations in flight");
  w.Int(static_cast<int64_t>(dra_->pending_allocations().size()));
  for (const auto& [key, pending] : dra_->pending_allocations()) {
    w.String(key);
    w.String(pending.first);
    w.Write(pending.second);
  }
  return w.bytes();
}

std::string ClusterState::Digest() const { return internal::Digest128(Canonical()); }

absl::Status ClusterState::CheckConsistency() const {
  // The records and the per-node lists point at each other.
  size_t bound = 0;
  for (const auto& [key, record] : impl_->pods) {
    if (key != record.pod.Key())
      return Inconsistent(absl::StrCat("pod \"", key, "\" is filed under another key"));
    if ((record.node_index >= 0) != !record.pod.node_name.empty()) {
      return Inconsistent(absl::StrCat("pod \"", key, "\": binding and spec.nodeName disagree"));
    }
    if (record.node_index < 0) {
      if (record.assumed)
        return Inconsistent(absl::StrCat("pod \"", key, "\": assumed but not bound"));
      continue;
    }
    ++bound;
    if (static_cast<size_t>(record.node_index) >= nodes_.size() ||
        nodes_[record.node_index].node->name != record.pod.node_name) {
      return Inconsistent(absl::StrCat("pod \"", key, "\": bound to the wrong node slot"));
    }
    const std::vector<PodRecord*>& on_node = nodes_[record.node_index].pods;
    if (std::count(on_node.begin(), on_node.end(), &record) != 1) {
      return Inconsistent(absl::StrCat("pod \"", key, "\": not listed once on its node"));
    }
  }
  if (bound != impl_->bound) return Inconsistent("bound pod count");
  auto live_record = [this](const PodRecord* record) {
    auto it = impl_->pods.find(record->pod.Key());
    return it != impl_->pods.end() && &it->second == record;
  };
  size_t present = 0;
  for (uint32_t slot = 0; slot < nodes_.size(); ++slot) {
    const NodeInfo& info = nodes_[slot];
    present += info.present;
    if (info.present != (std::count(live_nodes_.begin(), live_nodes_.end(), slot) == 1)) {
      return Inconsistent(absl::StrCat("node \"", info.node->name, "\": live node list"));
    }
    for (const PodRecord* record : info.pods) {
      if (!live_record(record) || record->node_index != slot) {
        return Inconsistent(
            absl::StrCat("node \"", info.node->name, "\" lists a pod not bound to it"));
      }
    }
    for (const PodRecord* record : info.nominated) {
      if (!live_record(record) || record->node_index >= 0 ||
          record->pod.nominated_node_name.value_or("") != info.node->name) {
        return Inconsistent(
            absl::StrCat("node \"", info.node->name, "\" lists a pod not nominated to it"));
      }
    }
  }
  if (present != live_nodes_.size()) return Inconsistent("live node list has duplicates");

  // Node label columns: every present node's labels, and nothing on other slots.
  std::vector<std::string> keys;
  for (uint32_t slot = 0; slot < nodes_.size(); ++slot) {
    if (!nodes_[slot].present) continue;
    for (const auto& [key, value] : nodes_[slot].node->labels) keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  for (const std::string& key : keys) {
    const int32_t id = impl_->node_labels.FindKey(key);
    if (id == NodeLabelIndex::kAbsent)
      return Inconsistent(absl::StrCat("label key \"", key, "\" not indexed"));
    for (uint32_t slot = 0; slot < nodes_.size(); ++slot) {
      const int32_t value = impl_->node_labels.Value(id, slot);
      const Labels& labels = nodes_[slot].node->labels;
      auto it = labels.find(key);
      const bool has = nodes_[slot].present && it != labels.end();
      if (has ? (value == NodeLabelIndex::kAbsent ||
                 impl_->node_labels.value_name(id, value) != it->second)
              : value != NodeLabelIndex::kAbsent) {
        return Inconsistent(absl::StrCat("label \"", key, "\" of node \"", nodes_[slot].node->name,
                                         "\" in the label columns"));
      }
    }
  }

  // Pod labels and affinity terms: every bound pod is found through its own labels, and the
  // indexes hand out only live bound pods.
  if (impl_->pod_labels.size() != bound) return Inconsistent("pod label index size");
  for (const auto& entry : impl_->pods) {
    const std::string& key = entry.first;
    const PodRecord& record = entry.second;
    if (record.node_index < 0) continue;
    LabelSelector own;
    own.match_labels = record.pod.labels;
    // Labels the API would refuse (a key like "`pp") make a selector that selects nothing.
    const CompiledLabelSelector selector(own);
    bool found = selector.nothing();
    bool stale = false;
    impl_->pod_labels.ForEachCandidate(selector, [&](const PodRecord& candidate) {
      found = found || &candidate == &record;
      stale = stale || !live_record(&candidate) || candidate.node_index < 0;
    });
    if (!found || stale) {
      return Inconsistent(absl::StrCat("pod \"", key, "\" in the pod label index"));
    }
    impl_->affinity_terms.ForEachCandidate(record.pod.labels, [&](const IndexedTerm& term) {
      stale = stale || !live_record(term.pod) || term.pod->node_index < 0 ||
              term.pod->affinity == nullptr;
    });
    if (stale)
      return Inconsistent(absl::StrCat("affinity terms indexed for labels of \"", key, "\""));
  }

  // The objects alone, replayed into a fresh state, give the same state.
  ClusterState fresh;
  for (uint32_t slot : live_nodes_) RETURN_IF_ERROR(fresh.UpsertNode(*nodes_[slot].node));
  for (const Namespace* ns : namespaces()) RETURN_IF_ERROR(fresh.UpsertNamespace(*ns));
  for (const PriorityClass& pc : priority_classes_) RETURN_IF_ERROR(fresh.UpsertPriorityClass(pc));
  for (const PodDisruptionBudget& pdb : pdbs_)
    RETURN_IF_ERROR(fresh.UpsertPodDisruptionBudget(pdb));
  for (const auto& [key, record] : impl_->pods) {
    RETURN_IF_ERROR(fresh.UpsertPod(record.pod));
    fresh.impl_->pods[key].assumed = record.assumed;
  }
  RETURN_IF_ERROR(dra_->CheckConsistency());
  for (const auto& [name, device_class] : dra_->device_classes()) {
    RETURN_IF_ERROR(fresh.UpsertDeviceClass(device_class));
  }
  for (const auto& [name, record] : dra_->slices()) {
    RETURN_IF_ERROR(fresh.UpsertResourceSlice(record->slice));
  }
  for (const auto& [key, claim] : dra_->resource_claims()) {
    RETURN_IF_ERROR(fresh.UpsertResourceClaim(claim));
  }
  for (const auto& [key, pending] : dra_->pending_allocations()) {
    RETURN_IF_ERROR(fresh.AddPendingAllocations(pending.first, {{key, pending.second}}));
  }
  if (impl_->affinity_terms.size() != fresh.impl_->affinity_terms.size()) {
    return Inconsistent("affinity term index size differs from a rebuild");
  }
  const std::string mine = Canonical();
  const std::string rebuilt = fresh.Canonical();
  if (mine != rebuilt) {
    size_t at = 0;
    while (at < mine.size() && at < rebuilt.size() && mine[at] == rebuilt[at]) ++at;
    return Inconsistent(absl::StrCat("differs from a rebuild from its objects at byte ", at, " of ",
                                     mine.size(), " of the canonical encoding"));
  }
  return absl::OkStatus();
}

size_t ClusterState::bound_pod_count() const { return impl_->bound; }
size_t ClusterState::pending_pod_count() const { return impl_->pods.size() - impl_->bound; }

}  // namespace sextant
