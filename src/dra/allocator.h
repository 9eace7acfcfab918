// The structured-parameters allocator: which devices a pod's unallocated claims get on one node.
// Same answers as upstream's allocator in kube-scheduler v1.37 with its default feature gates
// (k8s.io/dynamic-resource-allocation/structured, the "incubating" implementation: admin access,
// prioritized lists, partitionable devices with shared counters, device taints, binding
// conditions, consumable capacity): the same devices, in the same order, the same failures and
// the same error texts. Like upstream it is a first-solution depth-first search over pools
// sorted by (driver, pool), slices sorted by name and devices in slice order; pools whose
// devices have binding conditions come last.
// Thread-safe: Allocate may run on many nodes at once; the inventory must not change meanwhile.
#ifndef SEXTANT_DRA_ALLOCATOR_H_
#define SEXTANT_DRA_ALLOCATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dra/inventory.h"
#include "sextant/dra.h"
#include "sextant/model.h"

namespace sextant {

struct AllocateOutcome {
  enum class Kind {
    // results holds one AllocationResult per claim, in the order the claims were given.
    kAllocated,
    // No solution on this node (upstream: nil result, nil error).
    kUnsatisfiable,
    // No solution on this node for a reason worth telling (upstream's
    // ErrFailedAllocationOnNode, e.g. "invalid resource pools were encountered"): message.
    kFailedOnNode,
    // The claims or classes cannot be allocated anywhere (a CEL runtime error, an unknown class,
    // a request over the result limit...): message, in upstream's words. The scheduling cycle
    // fails with it.
    kError,
  };
  Kind kind = Kind::kUnsatisfiable;
  std::vector<AllocationResult> results;
  std::string message;
};

class Allocator {
 public:
  // Generates the share ID of a new share of a multi-allocatable device (upstream: a random
  // UUID). Called only for results that are returned.
  using ShareIdGenerator = std::function<std::string()>;

  // `inventory` holds the classes, slices and allocated devices; it must outlive the allocator
  // and not change while it is used.
  explicit Allocator(const DraInventory& inventory);
  ~Allocator();
  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;

  // Allocates every claim in `claims` (none may be allocated already) on `node`, all or
  // nothing. Devices already held (inventory.allocated()) are not reused unless the request has
  // admin access or the device allows multiple allocations and has capacity left.
  // `new_share_id` may be empty: share IDs are then left empty.
  AllocateOutcome Allocate(const Node& node, const std::vector<const ResourceClaim*>& claims,
                           const ShareIdGenerator& new_share_id = {}) const;
  // The same search with a device preference (Sextant's GPU placement picks the devices): for
  // every request, the devices of `preferred` that the node sees are tried first, in that order,
  // then the others in upstream's order. The search still tries every combination, so whether
  // the claims can be allocated does not depend on the preference, only which solution comes
  // first (and how many steps it takes). An empty preference is Allocate above, step for step.
  AllocateOutcome Allocate(const Node& node, const std::vector<const ResourceClaim*>& claims,
                           const ShareIdGenerator& new_share_id,
                           const std::vector<DeviceId>& preferred) const;

  // A device the request could get on a node, and what allocated claims hold of it.
  struct Candidate {
    const ResourceSlice* slice = nullptr;
    const Device* device = nullptr;
    bool dedicated = false;  // held whole by an allocated claim (or one in flight)
    bool shared = false;     // has shares
    // The capacity its shares consume, summed; null when none.
    const std::map<std::string, Quantity>* consumed = nullptr;
  };
  // The devices request #`request` of `claim` could be given on `node` if it held nothing yet:
  // every device of the node's usable pools that matches the class and request selectors (and
  // its per-device node selection) and has no taint the request does not tolerate, in the order
  // the search tries them. Whether a device is still free, or has the capacity left, is the
  // caller's question (see `dedicated`, `shared`, `consumed`); shared counters are not checked.
  // InvalidArgument for a request with subrequests or out of range, and for what Allocate
  // reports as kError (unknown class, CEL errors...), with the same text.
  absl::StatusOr<std::vector<Candidate>> Candidates(const Node& node, const ResourceClaim& claim,
                                                    size_t request) const;

  // How many times the search tried to place one device, over every Allocate so far (upstream's
  // numAllocateOneInvocations): the work the allocator did.
  int64_t search_steps() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether a slice or device names `node`: nodeName equal, allNodes, or the node selector matches
// (upstream NodeMatches). A node selector that cannot be parsed is an error.
absl::StatusOr<bool> DraNodeMatches(const Node& node, const std::optional<std::string>& node_name,
                                    const std::optional<bool>& all_nodes,
                                    const std::optional<NodeSelector>& node_selector);

}  // namespace sextant

#endif  // SEXTANT_DRA_ALLOCATOR_H_
