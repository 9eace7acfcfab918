#include "dra/internal/pools.h"

#include <algorithm>
#include <cstdint>
#include <tuple>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "dra/allocator.h"

namespace sextant::dra_internal {
namespace {

using SliceList = std::vector<const SliceRecord*>;

bool HasSharedCounters(const SliceRecord* record) {
  return !record->slice.shared_counters.empty();
}

bool DeviceNamesUnique(const SliceList& slices) {
  absl::InlinedVector<absl::string_view, 16> names;
  for (const SliceRecord* record : slices) {
    for (const Device& device : record->slice.devices) names.push_back(device.name);
  }
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) == names.end();
}

// Every counter a device consumes exists in the pool's counter sets.
bool CounterConsumptionValid(const Pool& pool, const SliceList& slices) {
  for (const SliceRecord* record : slices) {
    for (const Device& device : record->slice.devices) {
      for (const DeviceCounterConsumption& consumption : device.consumes_counters) {
        const CounterSet* set = pool.FindCounterSet(consumption.counter_set);
        if (set == nullptr) return false;
        for (const auto& [counter, amount] : consumption.counters) {
          if (!set->counters.contains(counter)) return false;
        }
      }
    }
  }
  return true;
}

bool HasBindingConditions(const Pool& pool) {
  for (const SliceRecord* record : pool.targeting) {
    for (const Device& device : record->slice.devices) {
      if (!device.binding_conditions.empty()) return true;
    }
  }
  return false;
}

// Builds a pool from the slices for the node (`members`, of one generation) and, when the node
// does not see all of them, every slice of that generation (`all`).
Pool BuildPool(absl::string_view driver, absl::string_view name, SliceList members,
               const SliceList* all) {
  Pool pool;
  pool.driver = driver;
  pool.name = name;
  std::sort(members.begin(), members.end(), [](const SliceRecord* a, const SliceRecord* b) {
    return a->slice.name < b->slice.name;
  });
  SliceList counter_slices;
  for (const SliceRecord* record : members) {
    (HasSharedCounters(record) ? counter_slices : pool.targeting).push_back(record);
  }
  if (all != nullptr && members.size() < all->size()) {
    for (const SliceRecord* record : *all) {
      if (std::find(members.begin(), members.end(), record) != members.end()) continue;
      (HasSharedCounters(record) ? counter_slices : pool.not_targeting).push_back(record);
    }
  }
  auto invalid = [&] {
    Pool result;
    result.driver = driver;
    result.name = name;
    result.invalid = true;
    return result;
  };
  if (!DeviceNamesUnique(pool.targeting)) return invalid();
  for (const SliceRecord* record : counter_slices) {
    for (const CounterSet& set : record->slice.shared_counters) pool.counter_sets.push_back(&set);
  }
  std::sort(pool.counter_sets.begin(), pool.counter_sets.end(),
            [](const CounterSet* a, const CounterSet* b) { return a->name < b->name; });
  if (std::adjacent_find(pool.counter_sets.begin(), pool.counter_sets.end(),
                         [](const CounterSet* a, const CounterSet* b) {
                           return a->name == b->name;
                         }) != pool.counter_sets.end()) {
    return invalid();
  }
  if (!CounterConsumptionValid(pool, pool.targeting) ||
      !CounterConsumptionValid(pool, pool.not_targeting)) {
    return invalid();
  }
  return pool;
}

}  // namespace

const CounterSet* Pool::FindCounterSet(absl::string_view set_name) const {
  auto it = std::lower_bound(
      counter_sets.begin(), counter_sets.end(), set_name,
      [](const CounterSet* set, absl::string_view wanted) { return set->name < wanted; });
  return it != counter_sets.end() && (*it)->name == set_name ? *it : nullptr;
}

absl::StatusOr<std::vector<Pool>> GatherPools(const DraInventory& inventory, const Node& node) {
  struct Candidate {
    const SliceRecord* record;
    int order;  // position among the node's slices: decides which slice speaks for a pool
  };
  absl::InlinedVector<Candidate, 8> relevant;
  int order = 0;
  auto consider = [&](const SliceRecord* record) -> absl::Status {
    const ResourceSlice& slice = record->slice;
    const int position = order++;
    // Ignored like a slice upstream skips: its pool turns out incomplete.
    if (slice.uses_disabled_feature) return absl::OkStatus();
    bool matches = false;
    if ((slice.node_name && !slice.node_name->empty()) || slice.all_nodes.value_or(false) ||
        slice.node_selector) {
      absl::StatusOr<bool> m =
          DraNodeMatches(node, slice.node_name, slice.all_nodes, slice.node_selector);
      if (!m.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "failed to perform node selection for slice ", slice.name, ": ", m.status().message()));
      }
      matches = *m;
    } else if (slice.per_device_node_selection.value_or(false)) {
      for (const Device& device : slice.devices) {
        absl::StatusOr<bool> m =
            DraNodeMatches(node, device.node_name, device.all_nodes, device.node_selector);
        if (!m.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("failed to perform node selection for device ", device.name,
                           " in slice ", slice.name, ": ", m.status().message()));
        }
        if (*m) {
          matches = true;
          break;
        }
      }
    } else {
      // No node selection at all: a future extension, ignored.
      return absl::OkStatus();
    }
    if (matches) relevant.push_back({record, position});
    return absl::OkStatus();
  };
  for (const SliceRecord* record : inventory.SlicesOnNode(node.name)) {
    if (absl::Status s = consider(record); !s.ok()) return s;
  }
  for (const SliceRecord* record : inventory.SlicesNotOnANode()) {
    if (absl::Status s = consider(record); !s.ok()) return s;
  }

  auto key = [](const Candidate& c) {
    return std::tie(c.record->slice.driver, c.record->slice.pool.name, c.order);
  };
  std::sort(relevant.begin(), relevant.end(),
            [&](const Candidate& a, const Candidate& b) { return key(a) < key(b); });

  std::vector<Pool> pools;
  std::vector<Pool> with_binding_conditions;
  for (size_t begin = 0; begin < relevant.size();) {
    const ResourceSlice& first = relevant[begin].record->slice;
    size_t end = begin + 1;
    while (end < relevant.size() && relevant[end].record->slice.driver == first.driver &&
           relevant[end].record->slice.pool.name == first.pool.name) {
      ++end;
    }
    // Only the newest generation counts; its first slice (in the node's order) gives the count.
    int64_t generation = first.pool.generation;
    for (size_t i = begin; i < end; ++i) {
      generation = std::max(generation, relevant[i].record->slice.pool.generation);
    }
    SliceList members;
    for (size_t i = begin; i < end; ++i) {
      if (relevant[i].record->slice.pool.generation == generation) {
        members.push_back(relevant[i].record);
      }
    }
    const absl::string_view driver = first.driver;
    const absl::string_view name = first.pool.name;
    const int64_t slice_count = members.front()->slice.pool.resource_slice_count;
    begin = end;

    Pool pool;
    if (static_cast<int64_t>(members.size()) == slice_count) {
      pool = BuildPool(driver, name, std::move(members), nullptr);
    } else {
      // Some slices of the generation do not target this node, or a newer generation is on its
      // way in slices this node does not see: look at the whole pool.
      const SliceList& in_pool = inventory.SlicesInPool(driver, name);
      bool obsolete = false;
      SliceList all;
      for (const SliceRecord* record : in_pool) {
        const int64_t g = record->slice.pool.generation;
        if (g > generation) {
          obsolete = true;
          break;
        }
        if (g == generation && !record->slice.uses_disabled_feature) all.push_back(record);
      }
      if (obsolete) continue;
      if (static_cast<int64_t>(all.size()) != slice_count) {
        pool.driver = driver;
        pool.name = name;
        pool.incomplete = true;
        pools.push_back(std::move(pool));
        continue;
      }
      pool = BuildPool(driver, name, std::move(members), &all);
    }
    (HasBindingConditions(pool) ? with_binding_conditions : pools).push_back(std::move(pool));
  }
  for (Pool& pool : with_binding_conditions) pools.push_back(std::move(pool));
  return pools;
}

}  // namespace sextant::dra_internal
