// Consumable capacity (DRAConsumableCapacity with DRAFractionalCapacityRange): how much of each
// capacity of a device one allocation consumes, and whether it still fits. The rules of upstream's
// incubating allocator (consumable_capacity.go): a capacity the request does not name consumes
// the policy's default or the whole capacity; a named one is rounded up to the policy's range or
// valid values. A request that cannot be represented in the range arithmetic, or that resolves to
// a negative amount, is an error that aborts the allocation; everything else that does not fit
// only rules the device out.
// Pure functions; thread-safe.
#ifndef SEXTANT_DRA_INTERNAL_CONSUMABLE_CAPACITY_H_
#define SEXTANT_DRA_INTERNAL_CONSUMABLE_CAPACITY_H_

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "sextant/dra.h"
#include "sextant/quantity.h"

namespace sextant::dra_internal {

using CapacityAmounts = std::map<std::string, Quantity>;

// Whether a further allocation with `requested` (may be null: no capacity requests) fits the
// device's `capacity`, given what allocated claims already consume (`allocated`, may be null) and
// what the allocation in progress consumes (`allocating`, may be null). False when the request
// names a capacity the device lacks, violates a request policy or exceeds what is left.
// InvalidArgument with upstream's text when a request cannot be represented or resolves to a
// negative amount ("capacity \"NAME\": ...").
absl::StatusOr<bool> RequestFitsCapacity(const CapacityAmounts* allocated,
                                         const CapacityRequirements* requested,
                                         const std::map<std::string, DeviceCapacity>& capacity,
                                         const CapacityAmounts* allocating);

// What one share of the device consumes of each of its capacities for `requested` (may be
// null). Errors as RequestFitsCapacity.
absl::StatusOr<CapacityAmounts> ConsumedCapacity(
    const CapacityRequirements* requested, const std::map<std::string, DeviceCapacity>& capacity);

}  // namespace sextant::dra_internal

#endif  // SEXTANT_DRA_INTERNAL_CONSUMABLE_CAPACITY_H_
