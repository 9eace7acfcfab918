// DraInventory: the DRA objects the engine knows (device classes, resource slices, resource
// claims) and what allocation derives from them: each device as CEL sees it, the compiled
// selectors, slices by node and by pool, and the devices that allocated claims hold, including
// allocations still in flight for assumed pods (upstream's claim assume cache).
// Owned by ClusterState, which validates every object first (ValidateDra* in src/dra/validate.h)
// and serialises writers against readers; const methods may run concurrently.
#ifndef SEXTANT_DRA_INVENTORY_H_
#define SEXTANT_DRA_INVENTORY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sextant/cel.h"
#include "sextant/dra.h"

namespace sextant {

// Identifies a device: driver, pool and device name (upstream's DeviceID).
struct DeviceId {
  std::string driver;
  std::string pool;
  std::string device;

  std::string ToString() const { return driver + "/" + pool + "/" + device; }
  friend bool operator==(const DeviceId& a, const DeviceId& b) {
    return a.driver == b.driver && a.pool == b.pool && a.device == b.device;
  }
  friend bool operator<(const DeviceId& a, const DeviceId& b) {
    if (a.driver != b.driver) return a.driver < b.driver;
    if (a.pool != b.pool) return a.pool < b.pool;
    return a.device < b.device;
  }
  template <typename H>
  friend H AbslHashValue(H h, const DeviceId& id) {
    return H::combine(std::move(h), id.driver, id.pool, id.device);
  }
};

// One stored slice and, per device (same index), the device as selectors see it.
struct SliceRecord {
  ResourceSlice slice;
  std::vector<cel::Device> cel_devices;
};

// What allocated claims hold (upstream's AllocatedState). Counts instead of sets, so two claims
// that name the same device (which a consistent cluster never has) release it one at a time.
struct AllocatedDevices {
  // Devices held whole (results without a share ID and without admin access).
  absl::flat_hash_map<DeviceId, int32_t> dedicated;
  // Devices with at least one share (results with a share ID): how many shares.
  absl::flat_hash_map<DeviceId, int32_t> shared;
  // The capacity the shares of a device consume, summed; an entry whose values are all zero is
  // dropped, as upstream's ConsumedCapacityCollection.Remove does.
  absl::flat_hash_map<DeviceId, std::map<std::string, Quantity>> consumed_capacity;

  // IsDeviceAllocated: held whole, shared, or with consumed capacity.
  bool IsAllocated(const DeviceId& id) const {
    return dedicated.contains(id) || shared.contains(id) || consumed_capacity.contains(id);
  }

  // Which of the three maps hold a device, for every device in at least one: what the allocator
  // asks of every candidate device in every cycle, answered by one lookup that borrows the
  // strings (DeviceRef) instead of a merge of the three maps per cycle. Kept by Refresh.
  struct Held {
    bool dedicated = false;
    bool shared = false;
    bool consumed = false;
    friend bool operator==(const Held& a, const Held& b) {
      return a.dedicated == b.dedicated && a.shared == b.shared && a.consumed == b.consumed;
    }
  };
  // A device identity that borrows its strings.
  struct DeviceRef {
    absl::string_view driver;
    absl::string_view pool;
    absl::string_view device;
  };
  struct RefHash {
    using is_transparent = void;
    size_t operator()(const DeviceRef& r) const {
      return absl::Hash<std::tuple<absl::string_view, absl::string_view, absl::string_view>>{}(
          std::make_tuple(r.driver, r.pool, r.device));
    }
    size_t operator()(const DeviceId& id) const {
      return (*this)(DeviceRef{id.driver, id.pool, id.device});
    }
  };
  struct RefEq {
    using is_transparent = void;
    static DeviceRef Ref(const DeviceId& id) { return {id.driver, id.pool, id.device}; }
    static DeviceRef Ref(const DeviceRef& r) { return r; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      const DeviceRef x = Ref(a);
      const DeviceRef y = Ref(b);
      return x.device == y.device && x.pool == y.pool && x.driver == y.driver;
    }
  };
  absl::flat_hash_map<DeviceId, Held, RefHash, RefEq> held;

  // The device's entry in `held`, nullptr when no map holds it.
  const Held* FindHeld(const DeviceRef& ref) const {
    auto it = held.find(ref);
    return it == held.end() ? nullptr : &it->second;
  }
  // Recomputes held[id] from the three maps after a change to any of them.
  void Refresh(const DeviceId& id) {
    Held h{dedicated.contains(id), shared.contains(id), consumed_capacity.contains(id)};
    if (h.dedicated || h.shared || h.consumed) {
      held[id] = h;
    } else {
      held.erase(id);
    }
  }
};

class DraInventory {
 public:
  DraInventory();
  ~DraInventory();
  DraInventory(const DraInventory&) = delete;
  DraInventory& operator=(const DraInventory&) = delete;

  // Adds or replaces by name (claims by namespace/name). The objects must be valid
  // (src/dra/validate.h); these do not fail on a valid object.
  void UpsertDeviceClass(const DeviceClass& device_class);
  void UpsertResourceSlice(const ResourceSlice& slice);
  // A claim whose status shows an allocation ends the in-flight allocation of that claim.
  void UpsertResourceClaim(const ResourceClaim& claim);
  // NotFound if unknown. Removing a claim releases its devices and its in-flight allocation.
  absl::Status RemoveDeviceClass(absl::string_view name);
  absl::Status RemoveResourceSlice(absl::string_view name);
  absl::Status RemoveResourceClaim(absl::string_view key);

  // Records an allocation the scheduler made for `claim_key` while assuming `pod_key`: its
  // devices count as taken until the claim shows an allocation in its status, the claim is
  // removed, or ForgetPendingAllocations(pod_key). FailedPrecondition if the claim is unknown,
  // already allocated or already has an allocation in flight.
  absl::Status AddPendingAllocation(absl::string_view claim_key, const std::string& pod_key,
                                    const AllocationResult& allocation);
  // Drops the in-flight allocations recorded for pod_key (Forget); returns how many.
  int ForgetPendingAllocations(absl::string_view pod_key);

  const DeviceClass* FindDeviceClass(absl::string_view name) const;
  const ResourceClaim* FindResourceClaim(absl::string_view key) const;
  // The allocation in flight for a claim, or nullptr.
  const AllocationResult* PendingAllocation(absl::string_view claim_key) const;

  // Slices whose spec.nodeName is this node (any order).
  const std::vector<const SliceRecord*>& SlicesOnNode(absl::string_view node_name) const;
  // Slices without spec.nodeName (node selector, all nodes, per-device selection, or none).
  const std::vector<const SliceRecord*>& SlicesNotOnANode() const { return slices_not_on_a_node_; }
  // Every slice of the pool driver/pool, whatever its generation or node.
  const std::vector<const SliceRecord*>& SlicesInPool(absl::string_view driver,
                                                      absl::string_view pool) const;
  // Every slice, by name.
  const std::map<std::string, std::unique_ptr<SliceRecord>>& slices() const { return slices_; }
  const std::map<std::string, DeviceClass>& device_classes() const { return classes_; }
  const std::map<std::string, ResourceClaim>& resource_claims() const { return claims_; }
  // claim key -> (pod key, allocation) for allocations in flight.
  const std::map<std::string, std::pair<std::string, AllocationResult>>& pending_allocations()
      const {
    return pending_;
  }

  // The compiled form of a selector expression of a stored class or claim (compiled when the
  // object was stored; the status carries upstream-style compile errors), or nullptr for an
  // expression no stored object uses.
  const absl::StatusOr<cel::Program>* Selector(absl::string_view expression) const;

  // Devices held by allocated claims and by allocations in flight.
  const AllocatedDevices& allocated() const { return allocated_; }
  // Increases whenever a slice or what is allocated may have changed (readers that derive
  // per-device data compare it to know when to recompute).
  uint64_t devices_generation() const { return devices_generation_; }

  // Rebuilds the derived data (indexes, allocated devices, compiled selectors) from the stored
  // objects and compares: OK or Internal naming the first difference.
  absl::Status CheckConsistency() const;

 private:
  void Account(const AllocationResult& allocation, int sign);
  void Index(const SliceRecord* record, bool add);
  void RetainSelectors(const std::vector<DeviceSelector>& selectors, int sign);
  void RetainClaimSelectors(const ResourceClaim& claim, int sign);

  std::map<std::string, DeviceClass> classes_;
  std::map<std::string, std::unique_ptr<SliceRecord>> slices_;
  std::map<std::string, ResourceClaim> claims_;
  std::map<std::string, std::pair<std::string, AllocationResult>> pending_;

  absl::flat_hash_map<std::string, std::vector<const SliceRecord*>> slices_on_node_;
  std::vector<const SliceRecord*> slices_not_on_a_node_;
  absl::flat_hash_map<std::string, std::vector<const SliceRecord*>> slices_in_pool_;
  struct CompiledSelector {
    absl::StatusOr<cel::Program> program;
    int64_t users = 0;
  };
  absl::flat_hash_map<std::string, CompiledSelector> selectors_;
  AllocatedDevices allocated_;
  uint64_t devices_generation_ = 0;
};

// The device as CEL selectors see it: driver, allowMultipleAllocations, attributes and
// capacities. Where a short name and its fully qualified form both appear ("model" and
// "<driver>/model"), the qualified one is kept.
cel::Device CelDeviceOf(absl::string_view driver, const Device& device);

}  // namespace sextant

#endif  // SEXTANT_DRA_INVENTORY_H_
