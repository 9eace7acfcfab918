// The resource pools a node can allocate from, as upstream's incubating GatherPools builds them:
// the newest generation of each pool with a slice for the node, complete or not, valid or not.
// Pools come sorted by (driver, pool), those whose devices have binding conditions last; a
// pool's slices for the node come sorted by name.
// Pools point into the inventory, which must not change while they are used.
#ifndef SEXTANT_DRA_INTERNAL_POOLS_H_
#define SEXTANT_DRA_INTERNAL_POOLS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dra/inventory.h"
#include "sextant/dra.h"
#include "sextant/model.h"

namespace sextant::dra_internal {

struct Pool {
  absl::string_view driver;
  absl::string_view name;
  // Not every slice of the pool's generation is there (or one is ignored): nothing is allocated
  // from it, and asking for all devices fails.
  bool incomplete = false;
  // Duplicate device or counter set names, or a device consuming an unknown counter: nothing is
  // allocated from it.
  bool invalid = false;
  // Valid pools only. The slices with devices for the node, sorted by name.
  std::vector<const SliceRecord*> targeting;
  // The pool's other slices with devices (they consume the same counters).
  std::vector<const SliceRecord*> not_targeting;
  // The pool's shared counter sets, sorted by name (names are unique in a valid pool).
  std::vector<const CounterSet*> counter_sets;

  const CounterSet* FindCounterSet(absl::string_view name) const;
};

// The pools for `node`, from the slices on it and those not on a node. An error (in upstream's
// words, without the "gather pool information: " prefix) when a node selector cannot be parsed.
absl::StatusOr<std::vector<Pool>> GatherPools(const DraInventory& inventory, const Node& node);

}  // namespace sextant::dra_internal

#endif  // SEXTANT_DRA_INTERNAL_POOLS_H_
