#include "dra/inventory.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sextant {
namespace {

const std::vector<const SliceRecord*>& EmptySlices() {
  static const std::vector<const SliceRecord*> kEmpty;
  return kEmpty;
}

std::string PoolKey(absl::string_view driver, absl::string_view pool) {
  // A driver name is a DNS subdomain and has no '/'.
  return absl::StrCat(driver, "/", pool);
}

DeviceId IdOf(const DeviceRequestAllocationResult& result) {
  return DeviceId{result.driver, result.pool, result.device};
}

bool AllZero(const std::map<std::string, Quantity>& capacity) {
  return std::all_of(capacity.begin(), capacity.end(),
                     [](const auto& entry) { return entry.second.IsZero(); });
}

// Adds sign * n to a count, dropping it at zero.
void Count(absl::flat_hash_map<DeviceId, int32_t>& counts, const DeviceId& id, int sign) {
  int32_t& n = counts[id];
  n += sign;
  if (n <= 0) counts.erase(id);
}

absl::Status Differs(absl::string_view what) {
  return absl::InternalError(absl::StrCat("DRA inventory is inconsistent: ", what));
}

}  // namespace

cel::Device CelDeviceOf(absl::string_view driver, const Device& device) {
  // Qualified names first, so the short form of a name given both ways is the one dropped.
  auto qualified_first = [&](auto& entries) {
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
      return (a.first.find('/') != std::string::npos) > (b.first.find('/') != std::string::npos);
    });
    std::vector<std::string> seen;
    auto resolved = [&](const std::string& name) {
      return name.find('/') == std::string::npos ? absl::StrCat(driver, "/", name) : name;
    };
    std::erase_if(entries, [&](const auto& entry) {
      std::string full = resolved(entry.first);
      if (std::find(seen.begin(), seen.end(), full) != seen.end()) return true;
      seen.push_back(std::move(full));
      return false;
    });
  };
  std::vector<std::pair<std::string, cel::AttributeValue>> attributes(device.attributes.begin(),
                                                                      device.attributes.end());
  std::vector<std::pair<std::string, cel::CapacityValue>> capacity;
  for (const auto& [name, cap] : device.capacity) capacity.emplace_back(name, cap.value);
  qualified_first(attributes);
  qualified_first(capacity);
  absl::StatusOr<cel::Device> created =
      cel::Device::Create(std::string(driver), device.allow_multiple_allocations.value_or(false),
                          std::move(attributes), std::move(capacity));
  // Names are unique after the pass above, which is the only way Create fails.
  return *std::move(created);
}

DraInventory::DraInventory() = default;
DraInventory::~DraInventory() = default;

void DraInventory::RetainSelectors(const std::vector<DeviceSelector>& selectors, int sign) {
  for (const DeviceSelector& selector : selectors) {
    if (!selector.cel) continue;
    auto it = selectors_.find(*selector.cel);
    if (sign > 0) {
      if (it == selectors_.end()) {
        it = selectors_.emplace(*selector.cel, CompiledSelector{cel::Program::Compile(*selector.cel)})
                 .first;
      }
      ++it->second.users;
    } else if (it != selectors_.end() && --it->second.users <= 0) {
      selectors_.erase(it);
    }
  }
}

void DraInventory::RetainClaimSelectors(const ResourceClaim& claim, int sign) {
  for (const DeviceRequest& request : claim.requests) {
    if (request.exactly) RetainSelectors(request.exactly->selectors, sign);
    for (const DeviceSubRequest& sub : request.first_available) {
      RetainSelectors(sub.spec.selectors, sign);
    }
  }
}

void DraInventory::Account(const AllocationResult& allocation, int sign) {
  // foreachAllocatedDevice with consumable capacity on: admin access holds nothing; a result
  // with a share ID is a share (and its consumed capacity counts when given); the rest are held
  // whole.
  if (!allocation.devices.empty()) ++devices_generation_;
  for (const DeviceRequestAllocationResult& result : allocation.devices) {
    if (result.admin_access.value_or(false)) continue;
    DeviceId id = IdOf(result);
    if (result.share_id) {
      Count(allocated_.shared, id, sign);
      if (!result.consumed_capacity.empty()) {
        auto it = allocated_.consumed_capacity.find(id);
        if (sign > 0) {
          if (it == allocated_.consumed_capacity.end()) {
            allocated_.consumed_capacity.emplace(id, result.consumed_capacity);
          } else {
            for (const auto& [name, q] : result.consumed_capacity) {
              auto [slot, inserted] = it->second.emplace(name, q);
              if (!inserted) slot->second.Add(q);
            }
          }
        } else if (it != allocated_.consumed_capacity.end()) {
          for (const auto& [name, q] : result.consumed_capacity) {
            if (auto slot = it->second.find(name); slot != it->second.end()) slot->second.Sub(q);
          }
          if (AllZero(it->second)) allocated_.consumed_capacity.erase(it);
        }
      }
      allocated_.Refresh(id);
      continue;
    }
    Count(allocated_.dedicated, id, sign);
    allocated_.Refresh(id);
  }
}

void DraInventory::Index(const SliceRecord* record, bool add) {
  ++devices_generation_;
  const ResourceSlice& slice = record->slice;
  auto edit = [&](std::vector<const SliceRecord*>& list) {
    if (add) {
      list.push_back(record);
    } else {
      std::erase(list, record);
    }
  };
  if (slice.node_name && !slice.node_name->empty()) {
    auto& list = slices_on_node_[*slice.node_name];
    edit(list);
    if (list.empty()) slices_on_node_.erase(*slice.node_name);
  } else {
    edit(slices_not_on_a_node_);
  }
  std::string pool = PoolKey(slice.driver, slice.pool.name);
  auto& list = slices_in_pool_[pool];
  edit(list);
  if (list.empty()) slices_in_pool_.erase(pool);
}

void DraInventory::UpsertDeviceClass(const DeviceClass& device_class) {
  auto it = classes_.find(device_class.name);
  if (it != classes_.end()) {
    RetainSelectors(it->second.selectors, -1);
    it->second = device_class;
  } else {
    classes_.emplace(device_class.name, device_class);
  }
  RetainSelectors(device_class.selectors, +1);
}

absl::Status DraInventory::RemoveDeviceClass(absl::string_view name) {
  auto it = classes_.find(std::string(name));
  if (it == classes_.end()) {
    return absl::NotFoundError(absl::StrCat("DeviceClass \"", name, "\" is not known"));
  }
  RetainSelectors(it->second.selectors, -1);
  classes_.erase(it);
  return absl::OkStatus();
}

void DraInventory::UpsertResourceSlice(const ResourceSlice& slice) {
  auto record = std::make_unique<SliceRecord>();
  record->slice = slice;
  record->cel_devices.reserve(slice.devices.size());
  for (const Device& device : slice.devices) {
    record->cel_devices.push_back(CelDeviceOf(slice.driver, device));
  }
  auto it = slices_.find(slice.name);
  if (it != slices_.end()) {
    Index(it->second.get(), false);
    it->second = std::move(record);
  } else {
    it = slices_.emplace(slice.name, std::move(record)).first;
  }
  Index(it->second.get(), true);
}

absl::Status DraInventory::RemoveResourceSlice(absl::string_view name) {
  auto it = slices_.find(std::string(name));
  if (it == slices_.end()) {
    return absl::NotFoundError(absl::StrCat("ResourceSlice \"", name, "\" is not known"));
  }
  Index(it->second.get(), false);
  slices_.erase(it);
  return absl::OkStatus();
}

void DraInventory::UpsertResourceClaim(const ResourceClaim& claim) {
  const std::string key = claim.Key();
  auto it = claims_.find(key);
  if (it != claims_.end()) {
    RetainClaimSelectors(it->second, -1);
    if (it->second.allocation) Account(*it->second.allocation, -1);
    it->second = claim;
  } else {
    it = claims_.emplace(key, claim).first;
  }
  RetainClaimSelectors(claim, +1);
  if (claim.allocation) {
    Account(*claim.allocation, +1);
    // The status now shows an allocation: the one in flight is done (or was overtaken).
    if (auto pending = pending_.find(key); pending != pending_.end()) {
      Account(pending->second.second, -1);
      pending_.erase(pending);
    }
  }
}

absl::Status DraInventory::RemoveResourceClaim(absl::string_view key) {
  auto it = claims_.find(std::string(key));
  if (it == claims_.end()) {
    return absl::NotFoundError(absl::StrCat("ResourceClaim \"", key, "\" is not known"));
  }
  RetainClaimSelectors(it->second, -1);
  if (it->second.allocation) Account(*it->second.allocation, -1);
  claims_.erase(it);
  if (auto pending = pending_.find(std::string(key)); pending != pending_.end()) {
    Account(pending->second.second, -1);
    pending_.erase(pending);
  }
  return absl::OkStatus();
}

absl::Status DraInventory::AddPendingAllocation(absl::string_view claim_key,
                                                const std::string& pod_key,
                                                const AllocationResult& allocation) {
  const std::string key(claim_key);
  auto it = claims_.find(key);
  if (it == claims_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("ResourceClaim \"", key, "\" is not known"));
  }
  if (it->second.allocation) {
    return absl::FailedPreconditionError(
        absl::StrCat("ResourceClaim \"", key, "\" is already allocated"));
  }
  if (pending_.contains(key)) {
    return absl::FailedPreconditionError(
        absl::StrCat("ResourceClaim \"", key, "\" is in the process of being allocated"));
  }
  pending_.emplace(key, std::make_pair(pod_key, allocation));
  Account(allocation, +1);
  return absl::OkStatus();
}

int DraInventory::ForgetPendingAllocations(absl::string_view pod_key) {
  int forgotten = 0;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.first == pod_key) {
      Account(it->second.second, -1);
      it = pending_.erase(it);
      ++forgotten;
    } else {
      ++it;
    }
  }
  return forgotten;
}

const DeviceClass* DraInventory::FindDeviceClass(absl::string_view name) const {
  auto it = classes_.find(std::string(name));
  return it == classes_.end() ? nullptr : &it->second;
}

const ResourceClaim* DraInventory::FindResourceClaim(absl::string_view key) const {
  auto it = claims_.find(std::string(key));
  return it == claims_.end() ? nullptr : &it->second;
}

const AllocationResult* DraInventory::PendingAllocation(absl::string_view claim_key) const {
  auto it = pending_.find(std::string(claim_key));
  return it == pending_.end() ? nullptr : &it->second.second;
}

const std::vector<const SliceRecord*>& DraInventory::SlicesOnNode(
    absl::string_view node_name) const {
  auto it = slices_on_node_.find(node_name);
  return it == slices_on_node_.end() ? EmptySlices() : it->second;
}

const std::vector<const SliceRecord*>& DraInventory::SlicesInPool(absl::string_view driver,
                                                                  absl::string_view pool) const {
  auto it = slices_in_pool_.find(PoolKey(driver, pool));
  return it == slices_in_pool_.end() ? EmptySlices() : it->second;
}

const absl::StatusOr<cel::Program>* DraInventory::Selector(absl::string_view expression) const {
  auto it = selectors_.find(expression);
  return it == selectors_.end() ? nullptr : &it->second.program;
}

absl::Status DraInventory::CheckConsistency() const {
  DraInventory fresh;
  for (const auto& [name, device_class] : classes_) fresh.UpsertDeviceClass(device_class);
  for (const auto& [name, record] : slices_) fresh.UpsertResourceSlice(record->slice);
  for (const auto& [key, claim] : claims_) fresh.UpsertResourceClaim(claim);
  for (const auto& [key, pending] : pending_) {
    absl::Status s = fresh.AddPendingAllocation(key, pending.first, pending.second);
    if (!s.ok()) return Differs(absl::StrCat("pending allocation of ", key, ": ", s.message()));
  }
  if (fresh.allocated_.dedicated != allocated_.dedicated) return Differs("dedicated devices");
  if (fresh.allocated_.shared != allocated_.shared) return Differs("shared devices");
  if (fresh.allocated_.held != allocated_.held) return Differs("held devices");
  if (fresh.allocated_.consumed_capacity.size() != allocated_.consumed_capacity.size()) {
    return Differs("consumed capacity");
  }
  for (const auto& [id, capacity] : fresh.allocated_.consumed_capacity) {
    auto it = allocated_.consumed_capacity.find(id);
    if (it == allocated_.consumed_capacity.end() || it->second != capacity) {
      return Differs(absl::StrCat("consumed capacity of ", id.ToString()));
    }
  }
  auto same_slices = [](std::vector<const SliceRecord*> a, std::vector<const SliceRecord*> b) {
    auto by_name = [](const SliceRecord* x, const SliceRecord* y) {
      return x->slice.name < y->slice.name;
    };
    std::sort(a.begin(), a.end(), by_name);
    std::sort(b.begin(), b.end(), by_name);
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const SliceRecord* x, const SliceRecord* y) {
                        return x->slice.name == y->slice.name;
                      });
  };
  if (fresh.slices_on_node_.size() != slices_on_node_.size()) return Differs("slices by node");
  for (const auto& [node, list] : fresh.slices_on_node_) {
    if (!same_slices(list, SlicesOnNode(node))) return Differs(absl::StrCat("slices of ", node));
  }
  if (!same_slices(fresh.slices_not_on_a_node_, slices_not_on_a_node_)) {
    return Differs("slices not on a node");
  }
  if (fresh.slices_in_pool_.size() != slices_in_pool_.size()) return Differs("slices by pool");
  for (const auto& [pool, list] : fresh.slices_in_pool_) {
    auto it = slices_in_pool_.find(pool);
    if (it == slices_in_pool_.end() || !same_slices(list, it->second)) {
      return Differs(absl::StrCat("slices of pool ", pool));
    }
  }
  if (fresh.selectors_.size() != selectors_.size()) return Differs("compiled selectors");
  for (const auto& [expression, compiled] : fresh.selectors_) {
    auto it = selectors_.find(expression);
    if (it == selectors_.end() || it->second.users != compiled.users) {
      return Differs(absl::StrCat("compiled selector ", expression));
    }
  }
  return absl::OkStatus();
}

}  // namespace sextant
