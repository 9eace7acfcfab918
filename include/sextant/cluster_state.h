// ClusterState: the engine's cache of the cluster, as the scheduler cache keeps it: nodes with
// their allocatable and requested resources, bound and assumed pods accounted on their nodes,
// priority classes and disruption budgets. Every change goes through the methods below (the one
// update path shared by the online engine and offline replay); each validates before it mutates,
// so a rejected change leaves the state exactly as it was.
// Thread-compatible: callers serialise writers against readers (the server holds a reader/writer
// lock); const methods may run concurrently with each other.
#ifndef SEXTANT_CLUSTER_STATE_H_
#define SEXTANT_CLUSTER_STATE_H_

#include <cstdint>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "sextant/dra.h"
#include "sextant/model.h"

namespace sextant {

struct NodeInfo;
struct PodRecord;
class ResourceRegistry;
class NodeLabelIndex;
class PodLabelIndex;
class AffinityTermIndex;
class DraInventory;
class GpuPlacementCache;

class ClusterState {
 public:
  ClusterState();
  ~ClusterState();
  ClusterState(const ClusterState&) = delete;
  ClusterState& operator=(const ClusterState&) = delete;

  // Adds or replaces a node by name. InvalidArgument for a node without a name.
  absl::Status UpsertNode(const Node& node);
  // Removes a node. Pods still bound to it stay accounted (as upstream's cache keeps them) until
  // they are removed; the node stops being a candidate at once. NotFound if unknown.
  absl::Status RemoveNode(absl::string_view name);

  // Adds or replaces a pod by namespace/name. A pod with spec.nodeName is accounted on that node
  // (created as a placeholder if the node is not known yet, as upstream's cache does); a pod in a
  // terminal phase (Succeeded, Failed) holds nothing and is dropped; a pending pod is remembered
  // but holds nothing. Replacing an assumed pod with its bound version confirms the assumption.
  absl::Status UpsertPod(const Pod& pod);
  // Removes a pod wherever it is. NotFound if unknown.
  absl::Status RemovePod(absl::string_view pod_key);

  // Accounts a pending pod on node_name before the API server has confirmed the binding.
  // InvalidArgument if the node is unknown or absent, AlreadyExists if the pod is already bound.
  absl::Status AssumePod(const Pod& pod, absl::string_view node_name);
  // Undoes AssumePod. NotFound if the pod is not assumed.
  absl::Status ForgetPod(absl::string_view pod_key);

  absl::Status UpsertPriorityClass(const PriorityClass& priority_class);
  absl::Status RemovePriorityClass(absl::string_view name);
  absl::Status UpsertPodDisruptionBudget(const PodDisruptionBudget& pdb);
  absl::Status RemovePodDisruptionBudget(absl::string_view key);
  // Namespaces matter only for their labels (pod affinity namespaceSelector). InvalidArgument for
  // a namespace without a name; NotFound when removing an unknown one.
  absl::Status UpsertNamespace(const Namespace& ns);
  absl::Status RemoveNamespace(absl::string_view name);

  // Dynamic resource allocation objects (src/dra/inventory.h keeps them with the devices they
  // make taken). Claims are keyed "namespace/name". InvalidArgument for an object without a name
  // (a claim without a namespace); NotFound when removing an unknown one. Replacing or removing
  // a claim releases what its previous allocation held.
  absl::Status UpsertDeviceClass(const DeviceClass& device_class);
  absl::Status RemoveDeviceClass(absl::string_view name);
  absl::Status UpsertResourceSlice(const ResourceSlice& slice);
  absl::Status RemoveResourceSlice(absl::string_view name);
  absl::Status UpsertResourceClaim(const ResourceClaim& claim);
  absl::Status RemoveResourceClaim(absl::string_view key);
  // Records allocations made for the assumed pod `pod_key` (claim key -> allocation), all or
  // nothing: FailedPrecondition if a claim is unknown, allocated or already being allocated.
  // ForgetPod and RemovePod of that pod drop them; a claim upsert that shows an allocation ends
  // its own.
  absl::Status AddPendingAllocations(
      const std::string& pod_key,
      const std::vector<std::pair<std::string, AllocationResult>>& allocations);
  const DraInventory& dra() const { return *dra_; }

  // Nodes that are candidates for scheduling, in the order they were first added.
  const std::vector<uint32_t>& live_nodes() const { return live_nodes_; }
  const NodeInfo& node(uint32_t index) const;
  // Index of a present node, or -1.
  int64_t FindNode(absl::string_view name) const;
  // The pod record for namespace/name, or nullptr.
  const PodRecord* FindPod(absl::string_view pod_key) const;
  // Pending pods whose status.nominatedNodeName names this node (any priority; the filters
  // pick those of equal or higher priority than the pod they schedule).
  const std::vector<PodRecord*>& NominatedPods(uint32_t node) const;
  // Pods accounted through AssumePod and not yet confirmed by a bound UpsertPod.
  std::vector<const Pod*> AssumedPods() const;
  size_t bound_pod_count() const;
  size_t pending_pod_count() const;
  const ResourceRegistry& resources() const { return *registry_; }
  const std::vector<PriorityClass>& priority_classes() const { return priority_classes_; }
  const std::vector<PodDisruptionBudget>& pod_disruption_budgets() const { return pdbs_; }
  // The labels of a namespace; empty when it is unknown (as upstream's lister miss).
  const Labels& NamespaceLabels(absl::string_view name) const;
  // Every known namespace, in no particular order.
  std::vector<const Namespace*> namespaces() const;
  // Node slots ever allocated (the bound of every node index, present or not).
  size_t node_slots() const;
  // The incremental indexes pod affinity and topology spread read (src/state/indexes.h).
  const NodeLabelIndex& node_labels() const;
  const PodLabelIndex& pod_labels() const;
  const AffinityTermIndex& affinity_terms() const;
  // Increases on every successful change.
  uint64_t generation() const { return generation_; }
  // Every pod the state holds (bound, assumed and pending), in no particular order.
  std::vector<const Pod*> pods() const;
  // Counts the changes to the set of pods with resource claims (one added or removed, or its
  // claims changed) and of resource claims (added or removed; status updates do not count):
  // what readers that derive data from those pods compare to know when to recompute it.
  uint64_t claim_pod_changes() const { return claim_pod_changes_; }
  // What the GPU placement derives from the state between cycles (the expected workload, the
  // nodes' GPU tables; src/gpu/placement_cache.h): internally synchronised, so cycles that hold
  // the state for reading may fill it.
  GpuPlacementCache& gpu_placement_cache() const { return *gpu_placement_cache_; }

  // A deterministic digest (32 hex digits) of everything the state holds: the objects (nodes,
  // pods with their binding and assumed flag, namespaces, priority classes, disruption budgets,
  // DRA classes, slices, claims and allocations in flight)
  // and what scheduling reads derived from them (each node's allocatable and requested
  // resources, its bound and nominated pods), in an order independent of the order of updates.
  // Equal digests mean equal states; a rejected change leaves it unchanged. The generation
  // counter is not part of it.
  std::string Digest() const;
  // Rebuilds the derived data (per-node accounting, bound and nominated pod lists, the label and
  // affinity-term indexes) from the objects alone and compares it with what the incremental
  // updates left: OK, or Internal naming the first difference. Costs a full rebuild; for tests
  // and fuzzing.
  absl::Status CheckConsistency() const;

 private:
  struct Impl;
  // The canonical encoding Digest() hashes.
  std::string Canonical() const;
  uint32_t NodeSlot(absl::string_view name);
  void Account(PodRecord& record, int64_t sign);
  void Unbind(PodRecord& record);
  void Unnominate(PodRecord& record);
  void Nominate(PodRecord& record);

  std::unique_ptr<ResourceRegistry> registry_;
  std::vector<NodeInfo> nodes_;  // contiguous: Evaluate scans them all
  std::vector<uint32_t> live_nodes_;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<DraInventory> dra_;
  std::unique_ptr<GpuPlacementCache> gpu_placement_cache_;
  uint64_t claim_pod_changes_ = 0;
  std::vector<PriorityClass> priority_classes_;
  std::vector<PodDisruptionBudget> pdbs_;
  uint64_t generation_ = 0;
};

}  // namespace sextant

#endif  // SEXTANT_CLUSTER_STATE_H_
