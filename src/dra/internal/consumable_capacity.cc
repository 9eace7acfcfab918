#include "dra/internal/consumable_capacity.h"

#include <cstdint>
#include <limits>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sextant::dra_internal {
namespace {

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();
constexpr char kNotRepresentable[] =
    "capacity request cannot be represented in the device's range arithmetic";

// Upstream does this arithmetic on Go int64s, which wrap instead of overflowing; so do these.
int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t WrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}
// Go's truncating division and remainder; the caller rules out a zero divisor.
int64_t GoDiv(int64_t a, int64_t b) {
  if (b == -1) return WrapSub(0, a);
  return a / b;
}
int64_t GoRem(int64_t a, int64_t b) {
  if (b == -1) return 0;
  return a % b;
}

// The quantity in thousandths, when that is exact.
std::optional<int64_t> ExactMilli(const Quantity& q) {
  int64_t milli = q.MilliValue();
  if (Quantity::FromMilli(milli, q.format()).Cmp(q) != 0) return std::nullopt;
  return milli;
}

// Whether a range is computed in thousandths (DRAFractionalCapacityRange): every bound given is
// exact in thousandths and the step is at least 1m. Otherwise whole units are used.
bool UseMilli(const CapacityRequestPolicyRange& range) {
  for (const std::optional<Quantity>* q : {&range.min, &range.max}) {
    if (*q && !ExactMilli(**q)) return false;
  }
  if (range.step) {
    std::optional<int64_t> step = ExactMilli(*range.step);
    if (!step || *step < 1) return false;
  }
  return true;
}

absl::Status NotRepresentable(absl::string_view detail) {
  return absl::InvalidArgumentError(absl::StrCat(kNotRepresentable, ": ", detail));
}

// Rounds a request up into the range: to min when below it, else to the next step from min.
absl::StatusOr<Quantity> RoundUpRange(const Quantity& requested,
                                      const CapacityRequestPolicyRange& range) {
  if (requested.Cmp(*range.min) < 0) return *range.min;
  if (!range.step) return requested;
  const Quantity::Format format = range.step->format();
  if (UseMilli(range)) {
    std::optional<int64_t> requested_milli = ExactMilli(requested);
    if (!requested_milli) {
      return NotRepresentable(
          absl::StrCat("request ", requested.ToString(), " is not a representable milli value"));
    }
    const int64_t step = range.step->MilliValue();  // >= 1, UseMilli checked
    const int64_t min = range.min->MilliValue();
    const int64_t added = WrapSub(*requested_milli, min);
    int64_t n = GoDiv(added, step);
    if (GoRem(added, step) != 0) n = WrapAdd(n, 1);
    if (n > GoDiv(WrapSub(kMaxInt64, min), step)) {
      return NotRepresentable(absl::StrCat("rounding request ", requested.ToString(),
                                           " up to the next step passes the milli-value range"));
    }
    const int64_t value = WrapAdd(min, WrapMul(step, n));
    // A whole number is given as one, as upstream does, so it prints like a parsed integer.
    if (value % 1000 == 0) return Quantity::FromInt(value / 1000, format);
    return Quantity::FromMilli(value, format);
  }
  if (requested.Cmp(Quantity::FromInt(kMaxInt64)) > 0) {
    return NotRepresentable(absl::StrCat("request ", requested.ToString(), " exceeds MaxInt64"));
  }
  const int64_t step = range.step->Value();
  // Validation requires a positive step; upstream would divide by zero on this one.
  if (step == 0) return requested;
  const int64_t min = range.min->Value();
  const int64_t added = WrapSub(requested.Value(), min);
  int64_t n = GoDiv(added, step);
  if (GoRem(added, step) != 0) n = WrapAdd(n, 1);
  if (min >= 0 && n > GoDiv(WrapSub(kMaxInt64, min), step)) {
    return NotRepresentable(absl::StrCat("rounding request ", requested.ToString(),
                                         " up to the next step passes MaxInt64"));
  }
  return Quantity::FromInt(WrapAdd(min, WrapMul(step, n)), format);
}

// The smallest valid value at or above the request, or the request itself.
Quantity RoundUpValidValues(const Quantity& requested, const std::vector<Quantity>& valid_values) {
  for (const Quantity& value : valid_values) {
    if (requested.Cmp(value) <= 0) return value;
  }
  return requested;
}

// What an allocation consumes of one capacity: the policy's default or the whole capacity when
// the request does not name it, else the request rounded up by the policy.
absl::StatusOr<Quantity> ConsumedAmount(const Quantity* requested, const DeviceCapacity& capacity) {
  const std::optional<CapacityRequestPolicy>& policy = capacity.request_policy;
  if (requested == nullptr) {
    if (policy && policy->default_value) return *policy->default_value;
    return capacity.value.quantity;
  }
  if (!policy) return *requested;
  if (policy->valid_range && policy->valid_range->min) {
    return RoundUpRange(*requested, *policy->valid_range);
  }
  return RoundUpValidValues(*requested, policy->valid_values);
}

bool ViolatesRange(const Quantity& value, const CapacityRequestPolicyRange& range) {
  if (range.max && value.Cmp(*range.max) > 0) return true;
  if (!range.step) return false;
  int64_t requested = 0;
  int64_t step = 0;
  int64_t min = 0;
  if (UseMilli(range)) {
    std::optional<int64_t> milli = ExactMilli(value);
    if (!milli) return true;
    requested = *milli;
    step = range.step->MilliValue();
    if (range.min) min = range.min->MilliValue();
  } else {
    requested = value.Value();
    step = range.step->Value();
    if (range.min) min = range.min->Value();
  }
  // Validation requires a positive step; upstream would divide by zero on this one.
  if (step == 0) return false;
  return GoRem(WrapSub(requested, min), step) != 0;
}

bool ViolatesPolicy(const Quantity& value, const std::optional<CapacityRequestPolicy>& policy) {
  if (!policy) return false;
  // Validation keeps the default within the policy, so comparing by value (upstream compares the
  // representation) decides the same.
  if (policy->default_value && value.Cmp(*policy->default_value) == 0) return false;
  if (policy->valid_range) return ViolatesRange(value, *policy->valid_range);
  if (!policy->valid_values.empty()) {
    for (const Quantity& valid : policy->valid_values) {
      if (value.Cmp(valid) == 0) return false;
    }
    return true;
  }
  return false;
}

const Quantity* RequestedAmount(const CapacityRequirements* requested, const std::string& name) {
  if (requested == nullptr) return nullptr;
  auto it = requested->requests.find(name);
  return it == requested->requests.end() ? nullptr : &it->second;
}

absl::Status CapacityError(const std::string& name, const absl::Status& status) {
  return absl::InvalidArgumentError(absl::StrCat("capacity \"", name, "\": ", status.message()));
}

}  // namespace

absl::StatusOr<CapacityAmounts> ConsumedCapacity(
    const CapacityRequirements* requested, const std::map<std::string, DeviceCapacity>& capacity) {
  CapacityAmounts consumed;
  for (const auto& [name, cap] : capacity) {
    absl::StatusOr<Quantity> amount = ConsumedAmount(RequestedAmount(requested, name), cap);
    if (!amount.ok()) return CapacityError(name, amount.status());
    consumed.emplace(name, *std::move(amount));
  }
  return consumed;
}

absl::StatusOr<bool> RequestFitsCapacity(const CapacityAmounts* allocated,
                                         const CapacityRequirements* requested,
                                         const std::map<std::string, DeviceCapacity>& capacity,
                                         const CapacityAmounts* allocating) {
  if (requested != nullptr) {
    for (const auto& [name, amount] : requested->requests) {
      if (!capacity.contains(name)) return false;
    }
  }
  // Every amount is resolved before any soft check, so an unrepresentable or negative request
  // aborts whatever else would rule the device out. Runs for every candidate device: no heap.
  absl::InlinedVector<Quantity, 8> consumed;
  for (const auto& [name, cap] : capacity) {
    absl::StatusOr<Quantity> amount = ConsumedAmount(RequestedAmount(requested, name), cap);
    if (!amount.ok()) return CapacityError(name, amount.status());
    if (amount->Sign() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("capacity \"", name, "\": capacity value is negative"));
    }
    consumed.push_back(*std::move(amount));
  }
  size_t i = 0;
  for (const auto& [name, cap] : capacity) {
    const Quantity& amount = consumed[i++];
    if (ViolatesPolicy(amount, cap.request_policy)) return false;
    Quantity total = amount;
    if (allocated != nullptr) {
      if (auto it = allocated->find(name); it != allocated->end()) {
        total = it->second;
        total.Add(amount);
      }
    }
    if (allocating != nullptr) {
      if (auto it = allocating->find(name); it != allocating->end()) total.Add(it->second);
    }
    if (total.Cmp(cap.value.quantity) > 0) return false;
  }
  return true;
}

}  // namespace sextant::dra_internal
