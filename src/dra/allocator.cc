#include "dra/allocator.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "dra/internal/consumable_capacity.h"
#include "dra/internal/pools.h"
#include "model/selectors.h"

namespace sextant {
namespace {

using dra_internal::CapacityAmounts;
using dra_internal::Pool;

// Upstream adds this to CEL's "no such key" runtime errors (cel.EnhanceRuntimeError).
constexpr char kNoSuchKeyHint[] =
    ". consider using CEL optional chaining (.? followed by orValue()) or guarding the check "
    "with has() for optional fields";

// How klog.KObj prints a claim: "namespace/name", or just the name without a namespace.
std::string ClaimRef(const ResourceClaim& claim) {
  if (claim.name_space.empty()) return claim.name;
  return absl::StrCat(claim.name_space, "/", claim.name);
}

// A device identity that borrows its strings: lookups in the hot path allocate nothing.
using DeviceKey = AllocatedDevices::DeviceRef;

// What allocated claims hold of one device (upstream's AllocatedState, per device).
struct AllocatedInfo {
  bool dedicated = false;  // AllocatedDevices
  bool shared = false;     // AllocatedSharedDeviceIDs
  const CapacityAmounts* consumed = nullptr;  // AggregatedCapacity

  bool Any() const { return dedicated || shared || consumed != nullptr; }
};

// Counter set name -> counter name -> amount; the names borrow from the inventory's slices.
using CounterTable =
    absl::flat_hash_map<absl::string_view, absl::flat_hash_map<absl::string_view, Quantity>>;

const char* EffectName(DeviceTaintEffect effect) {
  switch (effect) {
    case DeviceTaintEffect::kNone:
      return "None";
    case DeviceTaintEffect::kNoSchedule:
      return "NoSchedule";
    case DeviceTaintEffect::kNoExecute:
      return "NoExecute";
    case DeviceTaintEffect::kUnknown:
      break;
  }
  return nullptr;
}

// resourceclaim.ToleratesTaint.
bool ToleratesTaint(const DeviceToleration& toleration, const DeviceTaint& taint) {
  if (!toleration.effect.empty()) {
    const char* effect = EffectName(taint.effect);
    if (effect == nullptr || toleration.effect != effect) return false;
  }
  if (!toleration.key.empty() && toleration.key != taint.key) return false;
  if (toleration.op.empty() || toleration.op == "Equal") return toleration.value == taint.value;
  return toleration.op == "Exists";
}

// Only NoSchedule and NoExecute keep a device from being allocated, unless tolerated.
bool TaintPreventsAllocation(const Device& device, const DeviceRequestSpec& spec) {
  for (const DeviceTaint& taint : device.taints) {
    if (taint.effect != DeviceTaintEffect::kNoSchedule &&
        taint.effect != DeviceTaintEffect::kNoExecute) {
      continue;
    }
    bool tolerated = std::any_of(
        spec.tolerations.begin(), spec.tolerations.end(),
        [&](const DeviceToleration& toleration) { return ToleratesTaint(toleration, taint); });
    if (!tolerated) return true;
  }
  return false;
}

// Attribute values compare as upstream compares them: same type and same value. Versions are
// compared as the strings they were written as, which for valid semver means every part.
bool SameAttributeValue(const DeviceAttributeValue& a, const DeviceAttributeValue& b) {
  if (a.index() != b.index()) return false;
  if (const auto* va = std::get_if<cel::Semver>(&a)) {
    const auto& vb = std::get<cel::Semver>(b);
    return va->major == vb.major && va->minor == vb.minor && va->patch == vb.patch &&
           va->prerelease == vb.prerelease && va->build == vb.build;
  }
  if (const auto* va = std::get_if<int64_t>(&a)) return *va == std::get<int64_t>(b);
  if (const auto* va = std::get_if<bool>(&a)) return *va == std::get<bool>(b);
  return std::get<std::string>(a) == std::get<std::string>(b);
}

bool SameRequirement(const SelectorRequirement& a, const SelectorRequirement& b) {
  if (a.key != b.key || a.op != b.op) return false;
  // The values compare as sets.
  auto contains_all = [](const std::vector<std::string>& of, const std::vector<std::string>& in) {
    return std::all_of(of.begin(), of.end(), [&](const std::string& v) {
      return std::find(in.begin(), in.end(), v) != in.end();
    });
  };
  return contains_all(a.values, b.values) && contains_all(b.values, a.values);
}

void AddNewRequirements(const std::vector<SelectorRequirement>& from,
                        std::vector<SelectorRequirement>& to) {
  for (const SelectorRequirement& requirement : from) {
    bool present = std::any_of(to.begin(), to.end(), [&](const SelectorRequirement& existing) {
      return SameRequirement(existing, requirement);
    });
    if (!present) to.push_back(requirement);
  }
}

}  // namespace

absl::StatusOr<bool> DraNodeMatches(const Node& node, const std::optional<std::string>& node_name,
                                    const std::optional<bool>& all_nodes,
                                    const std::optional<NodeSelector>& node_selector) {
  if (node_name && !node_name->empty()) return node.name == *node_name;
  if (all_nodes.value_or(false)) return true;
  if (!node_selector) return false;
  // Every term is parsed before any is matched, as nodeaffinity.NewNodeSelector does; empty
  // terms are dropped.
  bool matches = false;
  for (size_t i = 0; i < node_selector->terms.size(); ++i) {
    CompiledNodeSelectorTerm term(node_selector->terms[i]);
    if (term.empty()) continue;
    if (!term.valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("failed to parse node selector: nodeSelectorTerms[", i,
                       "]: invalid node selector requirement"));
    }
    if (!matches && term.Matches(node)) matches = true;
  }
  return matches;
}

namespace {

// What every Allocate call shares: the inventory (whose allocated devices answer Allocated), the
// available counters per pool (filled in as pools are first used) and the step count.
struct SharedState {
  explicit SharedState(const DraInventory& inv) : inventory(inv) {}

  AllocatedInfo Allocated(const DeviceKey& key) const {
    const AllocatedDevices& allocated = inventory.allocated();
    if (allocated.held.empty()) return {};
    const AllocatedDevices::Held* held = allocated.FindHeld(key);
    if (held == nullptr) return {};
    AllocatedInfo info;
    info.dedicated = held->dedicated;
    info.shared = held->shared;
    if (held->consumed) {
      auto it = allocated.consumed_capacity.find(
          DeviceId{std::string(key.driver), std::string(key.pool), std::string(key.device)});
      if (it != allocated.consumed_capacity.end()) info.consumed = &it->second;
    }
    return info;
  }

  // The counters of a pool that allocated devices leave, computed once per pool and kept for
  // the allocator's lifetime, as upstream does.
  std::shared_ptr<const CounterTable> AvailableCounters(const Pool& pool) const;

  const DraInventory& inventory;
  mutable absl::Mutex counters_mu;
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const CounterTable>> available_counters
      ABSL_GUARDED_BY(counters_mu);
  mutable std::atomic<int64_t> search_steps{0};
};

std::shared_ptr<const CounterTable> SharedState::AvailableCounters(const Pool& pool) const {
  const std::string pool_key = absl::StrCat(pool.driver, "/", pool.name);
  {
    absl::MutexLock lock(&counters_mu);
    auto it = available_counters.find(pool_key);
    if (it != available_counters.end()) return it->second;
  }
  // Computed outside the lock: another thread may do the same work, with the same result.
  auto table = std::make_shared<CounterTable>();
  for (const CounterSet* set : pool.counter_sets) {
    auto& counters = (*table)[set->name];
    for (const auto& [name, amount] : set->counters) counters[name] = amount;
  }
  for (const std::vector<const SliceRecord*>* slices : {&pool.targeting, &pool.not_targeting}) {
    for (const SliceRecord* record : *slices) {
      const ResourceSlice& slice = record->slice;
      for (const Device& device : slice.devices) {
        if (device.consumes_counters.empty()) continue;
        if (!Allocated(DeviceKey{slice.driver, slice.pool.name, device.name}).Any()) continue;
        for (const DeviceCounterConsumption& consumption : device.consumes_counters) {
          auto set = table->find(consumption.counter_set);
          if (set == table->end()) continue;
          for (const auto& [name, amount] : consumption.counters) {
            auto counter = set->second.find(name);
            // Can go negative: then nothing is available.
            if (counter != set->second.end()) counter->second.Sub(amount);
          }
        }
      }
    }
  }
  absl::MutexLock lock(&counters_mu);
  return available_counters.emplace(pool_key, std::move(table)).first->second;
}

// One Allocate call: upstream's allocator struct. Single-threaded.
class Search {
 public:
  Search(const SharedState& impl, const Node& node,
         const std::vector<const ResourceClaim*>& claims,
         const std::vector<DeviceId>* preferred = nullptr)
      : impl_(impl), node_(node), claims_(claims), preferred_(preferred) {}
  ~Search() { impl_.search_steps.fetch_add(steps_, std::memory_order_relaxed); }

  AllocateOutcome Run(const Allocator::ShareIdGenerator& new_share_id);
  // Allocator::Candidates for request #request of the only claim.
  absl::StatusOr<std::vector<Allocator::Candidate>> ListCandidates(size_t request);

 private:
  enum class Outcome { kFailed, kDone, kTooMany, kError };

  // A device of a valid pool that the node sees, by dense index.
  struct Candidate {
    const Device* device;
    const cel::Device* cel_device;
    const SliceRecord* slice;
    int pool;
    AllocatedInfo allocated;
  };

  struct PoolState {
    int first_device = 0;
    absl::InlinedVector<int, 4> slice_first_device;
    std::shared_ptr<const CounterTable> available;
    CounterTable consumed;  // by the devices being allocated
  };

  // A request without subrequests, or one subrequest: upstream's requestData.
  struct RequestData {
    int claim = 0;
    const DeviceRequest* request = nullptr;
    const DeviceSubRequest* sub = nullptr;
    const DeviceRequestSpec* spec = nullptr;
    const DeviceClass* device_class = nullptr;
    bool admin_access = false;
    bool all_mode = false;
    int64_t num_devices = 0;
    std::vector<int> all_devices;
    std::vector<const absl::StatusOr<cel::Program>*> class_selectors;
    std::vector<const absl::StatusOr<cel::Program>*> request_selectors;

    const std::string& name() const { return sub != nullptr ? sub->name : request->name; }
  };

  // A request of a claim: its request data, one per subrequest when it has some.
  struct RequestSlot {
    int first_key = 0;
    int num_keys = 1;
    bool has_subrequests = false;
  };

  // matchAttribute or distinctAttribute, with the devices added so far.
  struct Constraint {
    bool match_attribute = true;
    const std::string* attribute = nullptr;  // fully qualified, owned by the claim
    absl::string_view domain;
    std::string id;  // the name within the domain
    // Per request key; empty when the constraint names no requests and so applies to all.
    std::vector<bool> applies;

    bool AppliesTo(int key) const { return applies.empty() || applies[key]; }
    const DeviceAttributeValue* value = nullptr;  // matchAttribute
    int count = 0;                                // matchAttribute
    std::vector<const DeviceAttributeValue*> values;  // distinctAttribute
  };

  struct Chosen {
    int device;
    int key;
    bool share;
    CapacityAmounts consumed;
  };

  struct Location {
    int pool = 0;
    int slice = 0;
    int device = 0;
    int order = 0;  // with a preference: the position in order_
  };

  struct Undo {
    int key = 0;
    bool counters_reserved = false;
    int constraints_added = 0;
    bool device_marked = false;
    bool capacity_inserted = false;
    bool capacity_existed = false;
    bool result_added = false;
    size_t previous_results = 0;
    CapacityAmounts consumed;
  };

  struct AllocatingCapacity {
    bool present = false;
    CapacityAmounts amounts;
  };

  Outcome Fail(std::string message) {
    error_ = std::move(message);
    return Outcome::kError;
  }

  std::string DeviceName(int d) const {
    const Candidate& c = candidates_[d];
    return absl::StrCat(c.slice->slice.driver, "/", c.slice->slice.pool.name, "/", c.device->name);
  }

  void IndexCandidates();
  void OrderByPreference();
  absl::Status PrepareRequests();
  absl::Status ValidateRequest(int key);
  const absl::StatusOr<cel::Program>* Program(const std::string& expression);
  absl::StatusOr<bool> IsSelectable(int key, int d);
  absl::StatusOr<bool> SelectorsMatch(int key, int d, bool of_class);
  Outcome AllocateOne(int claim, int request, int sub, int64_t device_index, bool allocate_sub,
                      Location start);
  Outcome AllocateDevice(int claim, int key, int d, bool must, Undo& undo);
  void Rollback(int claim, int d, Undo& undo);
  bool DeviceInUse(int d) const {
    return candidates_[d].allocated.dedicated || !allocating_claims_[d].empty();
  }
  bool AllocatingForClaim(int d, int claim) const {
    const auto& claims = allocating_claims_[d];
    return std::find(claims.begin(), claims.end(), claim) != claims.end();
  }
  bool DeviceCapacityInUse(int d) const {
    const AllocatedInfo& a = candidates_[d].allocated;
    return a.consumed != nullptr || a.shared || allocating_capacity_[d].present;
  }
  absl::StatusOr<bool> FitsCapacity(int key, int d) const;
  bool ReserveCounters(int d);
  void ReleaseCounters(int d);
  absl::StatusOr<std::optional<NodeSelector>> NodeSelectorFor(int claim) const;

  const SharedState& impl_;
  const Node& node_;
  const std::vector<const ResourceClaim*>& claims_;
  const std::vector<DeviceId>* preferred_;
  // With a preference: every candidate, the preferred ones first (empty without one).
  std::vector<int> order_;
  int64_t steps_ = 0;
  std::string error_;

  std::vector<Pool> pools_;
  std::vector<PoolState> pool_state_;
  std::vector<Candidate> candidates_;
  std::vector<RequestData> requests_;
  std::vector<std::vector<RequestSlot>> slots_;  // per claim
  std::vector<std::vector<Constraint>> constraints_;  // per claim
  std::vector<int8_t> matches_;  // per (device, request key): -1 unknown, 0, 1
  std::vector<std::unique_ptr<absl::StatusOr<cel::Program>>> compiled_here_;
  std::vector<absl::InlinedVector<int, 1>> allocating_claims_;  // per device
  std::vector<AllocatingCapacity> allocating_capacity_;          // per device
  std::vector<std::vector<Chosen>> results_;                     // per claim
};

void Search::IndexCandidates() {
  pool_state_.resize(pools_.size());
  size_t total = 0;
  for (const Pool& pool : pools_) {
    for (const SliceRecord* record : pool.targeting) total += record->slice.devices.size();
  }
  candidates_.reserve(total);
  for (size_t p = 0; p < pools_.size(); ++p) {
    const Pool& pool = pools_[p];
    PoolState& state = pool_state_[p];
    state.first_device = static_cast<int>(candidates_.size());
    if (pool.incomplete || pool.invalid) continue;
    for (const SliceRecord* record : pool.targeting) {
      state.slice_first_device.push_back(static_cast<int>(candidates_.size()));
      const ResourceSlice& slice = record->slice;
      for (size_t i = 0; i < slice.devices.size(); ++i) {
        candidates_.push_back(Candidate{
            &slice.devices[i], &record->cel_devices[i], record, static_cast<int>(p),
            impl_.Allocated(DeviceKey{slice.driver, slice.pool.name, slice.devices[i].name})});
      }
    }
  }
  allocating_claims_.resize(candidates_.size());
  allocating_capacity_.resize(candidates_.size());
}

void Search::OrderByPreference() {
  order_.reserve(candidates_.size());
  std::vector<bool> placed(candidates_.size(), false);
  for (const DeviceId& id : *preferred_) {
    for (size_t d = 0; d < candidates_.size(); ++d) {
      const Candidate& c = candidates_[d];
      if (!placed[d] && c.device->name == id.device && c.slice->slice.pool.name == id.pool &&
          c.slice->slice.driver == id.driver) {
        order_.push_back(static_cast<int>(d));
        placed[d] = true;
        break;
      }
    }
  }
  for (size_t d = 0; d < candidates_.size(); ++d) {
    if (!placed[d]) order_.push_back(static_cast<int>(d));
  }
}

absl::StatusOr<std::vector<Allocator::Candidate>> Search::ListCandidates(size_t request) {
  absl::StatusOr<std::vector<Pool>> pools = dra_internal::GatherPools(impl_.inventory, node_);
  if (!pools.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("gather pool information: ", pools.status().message()));
  }
  pools_ = *std::move(pools);
  IndexCandidates();
  if (absl::Status s = PrepareRequests(); !s.ok()) return s;
  if (claims_.size() != 1 || request >= slots_[0].size() || slots_[0][request].has_subrequests) {
    return absl::InvalidArgumentError("candidates: not a request without subrequests");
  }
  const int key = slots_[0][request].first_key;
  std::vector<Allocator::Candidate> out;
  for (size_t d = 0; d < candidates_.size(); ++d) {
    absl::StatusOr<bool> selectable = IsSelectable(key, static_cast<int>(d));
    if (!selectable.ok()) return selectable.status();
    const Candidate& c = candidates_[d];
    if (!*selectable || TaintPreventsAllocation(*c.device, *requests_[key].spec)) continue;
    out.push_back(Allocator::Candidate{&c.slice->slice, c.device, c.allocated.dedicated,
                                       c.allocated.shared, c.allocated.consumed});
  }
  return out;
}

const absl::StatusOr<cel::Program>* Search::Program(const std::string& expression) {
  if (const auto* compiled = impl_.inventory.Selector(expression)) return compiled;
  // Not stored through the inventory: compiled here, once per call.
  compiled_here_.push_back(
      std::make_unique<absl::StatusOr<cel::Program>>(cel::Program::Compile(expression)));
  return compiled_here_.back().get();
}

absl::Status Search::PrepareRequests() {
  static const DeviceRequestSpec kNoSpec = [] {
    DeviceRequestSpec spec;
    spec.allocation_mode.clear();
    return spec;
  }();
  // Request keys first, so the selector cache can be sized before any device is matched.
  slots_.resize(claims_.size());
  for (size_t c = 0; c < claims_.size(); ++c) {
    for (const DeviceRequest& request : claims_[c]->requests) {
      RequestSlot slot;
      slot.first_key = static_cast<int>(requests_.size());
      if (!request.first_available.empty()) {
        slot.has_subrequests = true;
        slot.num_keys = static_cast<int>(request.first_available.size());
        for (const DeviceSubRequest& sub : request.first_available) {
          RequestData data;
          data.claim = static_cast<int>(c);
          data.request = &request;
          data.sub = &sub;
          data.spec = &sub.spec;
          requests_.push_back(std::move(data));
        }
      } else {
        RequestData data;
        data.claim = static_cast<int>(c);
        data.request = &request;
        // A request with neither form fails validation below, as upstream does.
        data.spec = request.exactly ? &*request.exactly : &kNoSpec;
        data.admin_access = data.spec->admin_access.value_or(false);
        requests_.push_back(std::move(data));
      }
      slots_[c].push_back(slot);
    }
  }
  matches_.assign(candidates_.size() * requests_.size(), -1);

  constraints_.resize(claims_.size());
  results_.resize(claims_.size());
  for (size_t c = 0; c < claims_.size(); ++c) {
    const ResourceClaim& claim = *claims_[c];
    int64_t min_devices_per_claim = 0;
    for (size_t r = 0; r < claim.requests.size(); ++r) {
      const RequestSlot& slot = slots_[c][r];
      int64_t min_devices = std::numeric_limits<int64_t>::max();
      for (int key = slot.first_key; key < slot.first_key + slot.num_keys; ++key) {
        if (absl::Status s = ValidateRequest(key); !s.ok()) return s;
        min_devices = std::min(min_devices, requests_[key].num_devices);
      }
      if (min_devices > kAllocationResultsMaxSize - min_devices_per_claim) {
        return absl::InvalidArgumentError(absl::StrCat(
            "claim ", ClaimRef(claim), ", request ", claim.requests[r].name, ": adding ",
            min_devices, " devices exceeds the claim limit of ", kAllocationResultsMaxSize,
            ", with ", min_devices_per_claim, " already accounted for"));
      }
      min_devices_per_claim += min_devices;
    }
    results_[c].reserve(min_devices_per_claim);

    for (size_t i = 0; i < claim.constraints.size(); ++i) {
      const DeviceConstraint& spec = claim.constraints[i];
      Constraint constraint;
      if (spec.match_attribute) {
        constraint.attribute = &*spec.match_attribute;
      } else if (spec.distinct_attribute) {
        constraint.match_attribute = false;
        constraint.attribute = &*spec.distinct_attribute;
      } else {
        return absl::InvalidArgumentError(absl::StrCat("claim ", ClaimRef(claim), ", constraint #",
                                                       i, ": empty constraint (unsupported "
                                                       "constraint type?)"));
      }
      const std::string& attribute = *constraint.attribute;
      if (size_t slash = attribute.find('/'); slash != std::string::npos) {
        constraint.domain = absl::string_view(attribute).substr(0, slash);
        constraint.id = attribute.substr(slash + 1);
      }
      if (!spec.requests.empty()) {
        constraint.applies.assign(requests_.size(), false);
        auto named = [&](absl::string_view name) {
          return std::find(spec.requests.begin(), spec.requests.end(), name) !=
                 spec.requests.end();
        };
        for (size_t key = 0; key < requests_.size(); ++key) {
          const RequestData& data = requests_[key];
          constraint.applies[key] =
              named(data.request->name) ||
              (data.sub != nullptr && named(absl::StrCat(data.request->name, "/", data.sub->name)));
        }
      }
      constraints_[c].push_back(std::move(constraint));
    }
  }
  return absl::OkStatus();
}

absl::Status Search::ValidateRequest(int key) {
  RequestData& data = requests_[key];
  const ResourceClaim& claim = *claims_[data.claim];
  const DeviceRequestSpec& spec = *data.spec;
  auto error = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("claim ", ClaimRef(claim), ", request ", data.name(), ": ", what));
  };
  if (spec.has_derived_attributes) {
    return error("cannot handle request with derived attributes, the feature is disabled");
  }
  for (size_t i = 0; i < spec.selectors.size(); ++i) {
    if (!spec.selectors[i].cel) {
      return absl::InvalidArgumentError(
          absl::StrCat("claim ", ClaimRef(claim), ", request ", data.name(), ", selector #", i,
                       ": CEL expression empty (unsupported selector type?)"));
    }
  }
  if (spec.device_class_name.empty()) {
    return error("missing device class name (unsupported request type?)");
  }
  data.device_class = impl_.inventory.FindDeviceClass(spec.device_class_name);
  if (data.device_class == nullptr) {
    return error(absl::StrCat("could not retrieve device class ", spec.device_class_name,
                              ": deviceclass.resource.k8s.io \"", spec.device_class_name,
                              "\" not found"));
  }
  for (const DeviceSelector& selector : data.device_class->selectors) {
    data.class_selectors.push_back(selector.cel ? Program(*selector.cel) : nullptr);
  }
  for (const DeviceSelector& selector : spec.selectors) {
    data.request_selectors.push_back(Program(*selector.cel));
  }

  if (spec.allocation_mode == "ExactCount") {
    data.num_devices = spec.count;
    return absl::OkStatus();
  }
  if (spec.allocation_mode != "All") {
    return error(absl::StrCat("unsupported count mode ", spec.allocation_mode));
  }
  data.all_mode = true;
  data.all_devices.reserve(kAllocationResultsMaxSize);
  for (size_t p = 0; p < pools_.size(); ++p) {
    const Pool& pool = pools_[p];
    if (pool.incomplete) {
      return error(absl::StrCat("asks for all devices, but resource pool ", pool.driver, "/",
                                pool.name, " is currently being updated"));
    }
    if (pool.invalid) {
      return error(absl::StrCat("asks for all devices, but resource pool ", pool.driver, "/",
                                pool.name, " is currently invalid"));
    }
    for (int d = pool_state_[p].first_device;
         d < static_cast<int>(candidates_.size()) && candidates_[d].pool == static_cast<int>(p);
         ++d) {
      absl::StatusOr<bool> selectable = IsSelectable(key, d);
      if (!selectable.ok()) return selectable.status();
      if (!*selectable) continue;
      // Only the capacity the device has: what others hold is checked when it is allocated, so
      // a device that is taken makes the request fail instead of being left out.
      const Device& device = *candidates_[d].device;
      absl::StatusOr<bool> fits = dra_internal::RequestFitsCapacity(
          nullptr, spec.capacity ? &*spec.capacity : nullptr, device.capacity, nullptr);
      if (!fits.ok()) {
        return error(absl::StrCat("checking capacity for device ", device.name, ": ",
                                  fits.status().message()));
      }
      if (!*fits) continue;
      data.all_devices.push_back(d);
    }
  }
  data.num_devices = static_cast<int64_t>(data.all_devices.size());
  return absl::OkStatus();
}

absl::StatusOr<bool> Search::SelectorsMatch(int key, int d, bool of_class) {
  const RequestData& data = requests_[key];
  const auto& programs = of_class ? data.class_selectors : data.request_selectors;
  auto prefix = [&] {
    return of_class ? absl::StrCat("class ", data.device_class->name)
                    : absl::StrCat("claim ", ClaimRef(*claims_[data.claim]));
  };
  for (size_t i = 0; i < programs.size(); ++i) {
    const absl::StatusOr<cel::Program>* program = programs[i];
    if (program == nullptr) {
      // A class selector of a future type; upstream cannot evaluate it either.
      return absl::InvalidArgumentError(absl::StrCat(
          prefix(), ": selector #", i, ": CEL expression empty (unsupported selector type?)"));
    }
    if (!program->ok()) {
      return absl::InvalidArgumentError(absl::StrCat(prefix(), ": selector #", i,
                                                     ": CEL compile error: ",
                                                     program->status().message()));
    }
    absl::StatusOr<bool> matches = (*program)->Matches(*candidates_[d].cel_device);
    if (!matches.ok()) {
      absl::string_view message = matches.status().message();
      return absl::InvalidArgumentError(
          absl::StrCat(prefix(), ": selector #", i, " on device ", DeviceName(d),
                       ": CEL runtime error: ", message,
                       absl::StrContains(message, "no such key:") ? kNoSuchKeyHint : ""));
    }
    if (!*matches) return false;
  }
  return true;
}

absl::StatusOr<bool> Search::IsSelectable(int key, int d) {
  int8_t& cached = matches_[static_cast<size_t>(d) * requests_.size() + key];
  if (cached >= 0) return cached == 1;
  absl::StatusOr<bool> matches = SelectorsMatch(key, d, /*of_class=*/true);
  if (!matches.ok() || !*matches) {
    if (matches.ok()) cached = 0;
    return matches;
  }
  matches = SelectorsMatch(key, d, /*of_class=*/false);
  if (!matches.ok() || !*matches) {
    if (matches.ok()) cached = 0;
    return matches;
  }
  const Candidate& c = candidates_[d];
  if (c.slice->slice.per_device_node_selection.value_or(false)) {
    matches =
        DraNodeMatches(node_, c.device->node_name, c.device->all_nodes, c.device->node_selector);
    if (!matches.ok() || !*matches) {
      if (matches.ok()) cached = 0;
      return matches;
    }
  }
  cached = 1;
  return true;
}

absl::StatusOr<bool> Search::FitsCapacity(int key, int d) const {
  const DeviceRequestSpec& spec = *requests_[key].spec;
  const AllocatingCapacity& allocating = allocating_capacity_[d];
  return dra_internal::RequestFitsCapacity(
      candidates_[d].allocated.consumed, spec.capacity ? &*spec.capacity : nullptr,
      candidates_[d].device->capacity, allocating.present ? &allocating.amounts : nullptr);
}

bool Search::ReserveCounters(int d) {
  const Candidate& c = candidates_[d];
  PoolState& state = pool_state_[c.pool];
  if (state.available == nullptr) state.available = impl_.AvailableCounters(pools_[c.pool]);
  for (const DeviceCounterConsumption& consumption : c.device->consumes_counters) {
    auto& counters = state.consumed[consumption.counter_set];
    for (const auto& [name, amount] : consumption.counters) {
      auto [it, inserted] = counters.try_emplace(name, amount);
      if (!inserted) it->second.Add(amount);
    }
  }
  // Every counter of the pool is checked, not only those this device consumes: a counter that
  // allocated devices already overdraw blocks every device of the pool that consumes counters.
  static const Quantity kZero;
  for (const auto& [set_name, available] : *state.available) {
    auto consumed = state.consumed.find(set_name);
    for (const auto& [name, amount] : available) {
      const Quantity* used = &kZero;
      if (consumed != state.consumed.end()) {
        if (auto it = consumed->second.find(name); it != consumed->second.end()) used = &it->second;
      }
      if (amount.Cmp(*used) < 0) {
        ReleaseCounters(d);
        return false;
      }
    }
  }
  return true;
}

void Search::ReleaseCounters(int d) {
  const Candidate& c = candidates_[d];
  PoolState& state = pool_state_[c.pool];
  for (const DeviceCounterConsumption& consumption : c.device->consumes_counters) {
    auto& counters = state.consumed[consumption.counter_set];
    for (const auto& [name, amount] : consumption.counters) counters[name].Sub(amount);
  }
}

Search::Outcome Search::AllocateDevice(int claim, int key, int d, bool must, Undo& undo) {
  const RequestData& data = requests_[key];
  const Candidate& candidate = candidates_[d];
  const Device& device = *candidate.device;
  const bool multiple = device.allow_multiple_allocations.value_or(false);
  if (!multiple && data.admin_access && AllocatingForClaim(d, claim)) return Outcome::kFailed;
  if (!data.admin_access && DeviceInUse(d)) return Outcome::kFailed;

  undo = Undo{};
  undo.key = key;
  undo.previous_results = results_[claim].size();
  // A further share of a device that is already shared has its counters charged already.
  const bool skip_counters = multiple && DeviceCapacityInUse(d);
  if (!skip_counters && !device.consumes_counters.empty()) {
    if (!ReserveCounters(d)) return Outcome::kFailed;
    undo.counters_reserved = true;
  }
  if (TaintPreventsAllocation(device, *data.spec)) {
    Rollback(claim, d, undo);
    return Outcome::kFailed;
  }
  std::vector<Constraint>& constraints = constraints_[claim];
  for (Constraint& constraint : constraints) {
    bool added = true;
    if (constraint.AppliesTo(key)) {
      // lookupAttribute: the fully qualified name, or the bare name in the driver's domain.
      const DeviceAttributeValue* value = nullptr;
      if (auto it = device.attributes.find(*constraint.attribute);
          it != device.attributes.end()) {
        value = &it->second;
      } else if (!constraint.domain.empty() && constraint.domain == candidate.slice->slice.driver) {
        if (auto it = device.attributes.find(constraint.id); it != device.attributes.end()) {
          value = &it->second;
        }
      }
      if (value == nullptr) {
        added = false;
      } else if (constraint.match_attribute) {
        if (constraint.count == 0) {
          constraint.value = value;
          constraint.count = 1;
        } else if (SameAttributeValue(*value, *constraint.value)) {
          ++constraint.count;
        } else {
          added = false;
        }
      } else {
        added = std::none_of(
            constraint.values.begin(), constraint.values.end(),
            [&](const DeviceAttributeValue* other) { return SameAttributeValue(*value, *other); });
        if (added) constraint.values.push_back(value);
      }
    }
    if (!added) {
      Rollback(claim, d, undo);
      if (must) {
        return Fail(absl::StrCat("claim ", ClaimRef(*claims_[claim]), ", request ", data.name(),
                                 ": cannot add device ", DeviceName(d),
                                 " because a claim constraint would not be satisfied"));
      }
      return Outcome::kFailed;
    }
    ++undo.constraints_added;
  }

  if (!multiple) {
    allocating_claims_[d].push_back(claim);
    undo.device_marked = true;
  }
  absl::StatusOr<bool> fits = FitsCapacity(key, d);
  if (!fits.ok()) {
    Rollback(claim, d, undo);
    return Fail(absl::StrCat("claim ", ClaimRef(*claims_[claim]), ", request ", data.name(),
                             ": rechecking capacity for device ", DeviceName(d), ": ",
                             fits.status().message()));
  }
  if (!*fits) {
    Rollback(claim, d, undo);
    return Outcome::kFailed;
  }
  Chosen chosen{d, key, multiple, {}};
  if (multiple) {
    const DeviceRequestSpec& spec = *data.spec;
    absl::StatusOr<CapacityAmounts> consumed = dra_internal::ConsumedCapacity(
        spec.capacity ? &*spec.capacity : nullptr, device.capacity);
    if (!consumed.ok()) {
      Rollback(claim, d, undo);
      return Fail(absl::StrCat("claim ", ClaimRef(*claims_[claim]), ", request ", data.name(),
                               ": computing consumed capacity for device ", DeviceName(d), ": ",
                               consumed.status().message()));
    }
    AllocatingCapacity& allocating = allocating_capacity_[d];
    // A share of the device recorded earlier keeps the entry alive: it marks the device as
    // shared, which spares later shares the counter check.
    undo.capacity_existed = allocating.present;
    allocating.present = true;
    for (const auto& [name, amount] : *consumed) {
      auto [it, inserted] = allocating.amounts.try_emplace(name, amount);
      if (!inserted) it->second.Add(amount);
    }
    undo.capacity_inserted = true;
    undo.consumed = *consumed;
    chosen.consumed = *std::move(consumed);
  }
  results_[claim].push_back(std::move(chosen));
  undo.result_added = true;
  return Outcome::kDone;
}

void Search::Rollback(int claim, int d, Undo& undo) {
  if (undo.result_added) results_[claim].resize(undo.previous_results);
  if (undo.capacity_inserted) {
    AllocatingCapacity& allocating = allocating_capacity_[d];
    if (allocating.present) {
      for (const auto& [name, amount] : undo.consumed) {
        if (auto it = allocating.amounts.find(name); it != allocating.amounts.end()) {
          it->second.Sub(amount);
        }
      }
      // ConsumedCapacityCollection.Remove drops an entry that is all zero.
      if (std::all_of(allocating.amounts.begin(), allocating.amounts.end(),
                      [](const auto& entry) { return entry.second.IsZero(); })) {
        allocating.present = false;
        allocating.amounts.clear();
      }
    }
    if (undo.capacity_existed && !allocating.present) allocating.present = true;
  }
  if (undo.device_marked) {
    auto& claims = allocating_claims_[d];
    claims.erase(std::find(claims.begin(), claims.end(), claim));
  }
  std::vector<Constraint>& constraints = constraints_[claim];
  for (int i = undo.constraints_added - 1; i >= 0; --i) {
    Constraint& constraint = constraints[i];
    if (!constraint.AppliesTo(undo.key)) continue;
    if (constraint.match_attribute) {
      --constraint.count;
    } else {
      constraint.values.pop_back();
    }
  }
  if (undo.counters_reserved) ReleaseCounters(d);
}

Search::Outcome Search::AllocateOne(int claim, int request, int sub, int64_t device_index,
                                    bool allocate_sub, Location start) {
  ++steps_;
  if (claim >= static_cast<int>(claims_.size())) return Outcome::kDone;
  const ResourceClaim& the_claim = *claims_[claim];
  if (request >= static_cast<int>(the_claim.requests.size())) {
    Outcome next = AllocateOne(claim + 1, 0, 0, 0, false, {});
    // Too many devices for the next claim is not final: another allocation of this claim may
    // let it pick a subrequest that needs fewer.
    return next == Outcome::kTooMany ? Outcome::kFailed : next;
  }

  const RequestSlot& slot = slots_[claim][request];
  if (!allocate_sub && slot.has_subrequests) {
    bool all_too_many = true;
    for (int s = 0; s < slot.num_keys; ++s) {
      Outcome outcome = AllocateOne(claim, request, s, 0, true, {});
      if (outcome == Outcome::kTooMany) continue;
      all_too_many = false;
      if (outcome != Outcome::kFailed) return outcome;
    }
    return all_too_many ? Outcome::kTooMany : Outcome::kFailed;
  }

  const int key = slot.first_key + sub;
  const RequestData& data = requests_[key];
  if (data.all_mode && data.all_devices.empty()) return Outcome::kFailed;
  if (device_index >= data.num_devices) {
    return AllocateOne(claim, request + 1, 0, 0, false, {});
  }
  const int64_t remaining = data.num_devices - device_index;
  const int64_t available =
      kAllocationResultsMaxSize - static_cast<int64_t>(results_[claim].size());
  if (remaining > available) return Outcome::kTooMany;

  Undo undo;
  if (data.all_mode) {
    // The devices are known; they all must be usable, in any order.
    const int d = data.all_devices[device_index];
    Outcome outcome = AllocateDevice(claim, key, d, /*must=*/true, undo);
    if (outcome != Outcome::kDone) return outcome;
    Outcome next = AllocateOne(claim, request, sub, device_index + 1, allocate_sub, {});
    if (next != Outcome::kDone) Rollback(claim, d, undo);
    return next;
  }

  // One candidate: nullopt to go on with the next one, else the outcome to return.
  auto try_device = [&](int d, Location next_start) -> std::optional<Outcome> {
    if (data.admin_access ? AllocatingForClaim(d, claim) : DeviceInUse(d)) return std::nullopt;
    absl::StatusOr<bool> selectable = IsSelectable(key, d);
    if (!selectable.ok()) return Fail(std::string(selectable.status().message()));
    if (!*selectable) return std::nullopt;
    absl::StatusOr<bool> fits = FitsCapacity(key, d);
    if (!fits.ok()) {
      return Fail(absl::StrCat("claim ", ClaimRef(the_claim), ", request ", data.name(),
                               ": checking capacity for device ", DeviceName(d), ": ",
                               fits.status().message()));
    }
    if (!*fits) return std::nullopt;
    Outcome outcome = AllocateDevice(claim, key, d, /*must=*/false, undo);
    if (outcome == Outcome::kError) return outcome;
    if (outcome != Outcome::kDone) return std::nullopt;
    Outcome next =
        AllocateOne(claim, request, sub, device_index + 1, allocate_sub, next_start);
    if (next == Outcome::kDone) return next;
    Rollback(claim, d, undo);
    // Too many devices further on is final for every device here too.
    if (next != Outcome::kFailed) return next;
    return std::nullopt;
  };
  if (!order_.empty()) {
    // A preference: the same search over the candidates in order_.
    for (int k = start.order; k < static_cast<int>(order_.size()); ++k) {
      Location next_start;
      next_start.order = k + 1;
      if (std::optional<Outcome> outcome = try_device(order_[k], next_start)) return *outcome;
    }
    return Outcome::kFailed;
  }
  // Devices are tried in pool, slice and device order; a request's later devices come after its
  // earlier ones, so each combination is tried once, not each permutation.
  for (int p = start.pool; p < static_cast<int>(pools_.size()); ++p) {
    const Pool& pool = pools_[p];
    if (pool.incomplete || pool.invalid) continue;
    const PoolState& state = pool_state_[p];
    for (int s = p == start.pool ? start.slice : 0; s < static_cast<int>(pool.targeting.size());
         ++s) {
      const int num_devices = static_cast<int>(pool.targeting[s]->slice.devices.size());
      for (int i = p == start.pool && s == start.slice ? start.device : 0; i < num_devices; ++i) {
        const int d = state.slice_first_device[s] + i;
        if (std::optional<Outcome> outcome = try_device(d, Location{p, s, i + 1, 0})) {
          return *outcome;
        }
      }
    }
  }
  return Outcome::kFailed;
}

absl::StatusOr<std::optional<NodeSelector>> Search::NodeSelectorFor(int claim) const {
  NodeSelectorTerm term;
  for (const Chosen& chosen : results_[claim]) {
    const Candidate& c = candidates_[chosen.device];
    const ResourceSlice& slice = c.slice->slice;
    const bool per_device = slice.per_device_node_selection.value_or(false);
    const std::optional<std::string>& node_name =
        per_device ? c.device->node_name : slice.node_name;
    const std::optional<NodeSelector>& selector =
        per_device ? c.device->node_selector : slice.node_selector;
    if (node_name || c.device->binds_to_node.value_or(false)) {
      // A device local to one node, or bound to it: the allocation is for this node only.
      NodeSelectorTerm local;
      local.match_fields.push_back(
          SelectorRequirement{"metadata.name", SelectorOperator::kIn, {node_.name}});
      return NodeSelector{{std::move(local)}};
    }
    if (!selector) continue;
    if (selector->terms.size() == 1) {
      AddNewRequirements(selector->terms[0].match_fields, term.match_fields);
      AddNewRequirements(selector->terms[0].match_expressions, term.match_expressions);
    } else if (selector->terms.size() > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unsupported ResourceSlice.NodeSelector with ", selector->terms.size(), " terms"));
    }
  }
  if (term.match_fields.empty() && term.match_expressions.empty()) return std::nullopt;
  return NodeSelector{{std::move(term)}};
}

AllocateOutcome Search::Run(const Allocator::ShareIdGenerator& new_share_id) {
  AllocateOutcome outcome;
  auto error = [&](std::string message) {
    outcome.kind = AllocateOutcome::Kind::kError;
    outcome.message = std::move(message);
    return std::move(outcome);
  };
  absl::StatusOr<std::vector<Pool>> pools = dra_internal::GatherPools(impl_.inventory, node_);
  if (!pools.ok()) {
    return error(absl::StrCat("gather pool information: ", pools.status().message()));
  }
  pools_ = *std::move(pools);
  IndexCandidates();
  if (absl::Status s = PrepareRequests(); !s.ok()) return error(std::string(s.message()));
  if (preferred_ != nullptr && !preferred_->empty()) OrderByPreference();

  switch (AllocateOne(0, 0, 0, 0, false, {})) {
    case Outcome::kDone:
      break;
    case Outcome::kError:
      return error(std::move(error_));
    case Outcome::kTooMany:
      // Upstream returns its internal marker as the error here. Validation keeps the smallest
      // choice within the limit, so this is not expected to happen.
      return error("allocation max size exceeded");
    case Outcome::kFailed: {
      const bool invalid = std::any_of(pools_.begin(), pools_.end(),
                                       [](const Pool& pool) { return pool.invalid; });
      if (invalid) {
        outcome.kind = AllocateOutcome::Kind::kFailedOnNode;
        outcome.message = "invalid resource pools were encountered";
      } else {
        outcome.kind = AllocateOutcome::Kind::kUnsatisfiable;
      }
      return outcome;
    }
  }

  outcome.results.resize(claims_.size());
  for (size_t c = 0; c < claims_.size(); ++c) {
    AllocationResult& result = outcome.results[c];
    absl::StatusOr<std::optional<NodeSelector>> selector = NodeSelectorFor(static_cast<int>(c));
    if (!selector.ok()) {
      return error(absl::StrCat("create NodeSelector for claim ", claims_[c]->name, ": ",
                                selector.status().message()));
    }
    result.node_selector = *std::move(selector);
    result.devices.reserve(results_[c].size());
    for (Chosen& chosen : results_[c]) {
      const Candidate& candidate = candidates_[chosen.device];
      const RequestData& data = requests_[chosen.key];
      const ResourceSlice& slice = candidate.slice->slice;
      DeviceRequestAllocationResult& device = result.devices.emplace_back();
      device.request = data.sub != nullptr ? absl::StrCat(data.request->name, "/", data.sub->name)
                                           : data.request->name;
      device.driver = slice.driver;
      device.pool = slice.pool.name;
      device.device = candidate.device->name;
      if (data.admin_access) device.admin_access = true;
      device.tolerations = data.spec->tolerations;
      device.binding_conditions = candidate.device->binding_conditions;
      device.binding_failure_conditions = candidate.device->binding_failure_conditions;
      if (chosen.share) device.share_id = new_share_id ? new_share_id() : std::string();
      device.consumed_capacity = std::move(chosen.consumed);
    }
  }
  outcome.kind = AllocateOutcome::Kind::kAllocated;
  return outcome;
}

}  // namespace

struct Allocator::Impl {
  explicit Impl(const DraInventory& inventory) : state(inventory) {}
  SharedState state;
};

Allocator::Allocator(const DraInventory& inventory) : impl_(std::make_unique<Impl>(inventory)) {}

Allocator::~Allocator() = default;

AllocateOutcome Allocator::Allocate(const Node& node,
                                    const std::vector<const ResourceClaim*>& claims,
                                    const ShareIdGenerator& new_share_id) const {
  Search search(impl_->state, node, claims);
  return search.Run(new_share_id);
}

AllocateOutcome Allocator::Allocate(const Node& node,
                                    const std::vector<const ResourceClaim*>& claims,
                                    const ShareIdGenerator& new_share_id,
                                    const std::vector<DeviceId>& preferred) const {
  Search search(impl_->state, node, claims, &preferred);
  return search.Run(new_share_id);
}

absl::StatusOr<std::vector<Allocator::Candidate>> Allocator::Candidates(
    const Node& node, const ResourceClaim& claim, size_t request) const {
  const std::vector<const ResourceClaim*> claims = {&claim};
  Search search(impl_->state, node, claims);
  return search.ListCandidates(request);
}

int64_t Allocator::search_steps() const {
  return impl_->state.search_steps.load(std::memory_order_relaxed);
}

}  // namespace sextant
