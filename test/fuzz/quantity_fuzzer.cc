// Fuzzes Quantity::Parse, the parser of every resource quantity a snapshot or a Sync carries.
// Invariants: any input is parsed or refused with InvalidArgument; an accepted quantity's
// exponent form parses back to the same value; its canonical string does too, and prints the same
// again, except for DecimalSI magnitudes of 1000E and more, which upstream's String() prints
// without a suffix ("2000E" as "2"); comparison and arithmetic are consistent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "fuzz_check.h"
#include "sextant/quantity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<sextant::Quantity> parsed = sextant::Quantity::Parse(text);
  if (!parsed.ok()) {
    SEXTANT_FUZZ_CHECK(absl::IsInvalidArgument(parsed.status()), "status %s",
                       parsed.status().ToString().c_str());
    return 0;
  }
  const sextant::Quantity& q = *parsed;
  sextant::Quantity exact = q;
  exact.set_format(sextant::Quantity::Format::kDecimalExponent);
  const absl::StatusOr<sextant::Quantity> exact_again = sextant::Quantity::Parse(exact.ToString());
  SEXTANT_FUZZ_CHECK(exact_again.ok() && *exact_again == q, "\"%s\" in exponent form is \"%s\"",
                     std::string(text).c_str(), exact.ToString().c_str());

  const std::string canonical = q.ToString();
  static const sextant::Quantity kBeyondSuffixes = *sextant::Quantity::Parse("1000E");
  sextant::Quantity magnitude = q.Sign() < 0 ? sextant::Quantity() : q;
  if (q.Sign() < 0) magnitude.Sub(q);
  if (q.format() == sextant::Quantity::Format::kDecimalSI && magnitude.Cmp(kBeyondSuffixes) >= 0) {
    return 0;
  }
  const absl::StatusOr<sextant::Quantity> again = sextant::Quantity::Parse(canonical);
  SEXTANT_FUZZ_CHECK(again.ok(), "\"%s\" printed as \"%s\", which does not parse: %s",
                     std::string(text).c_str(), canonical.c_str(),
                     again.status().ToString().c_str());
  SEXTANT_FUZZ_CHECK(*again == q, "\"%s\" printed as \"%s\", which parses to another value",
                     std::string(text).c_str(), canonical.c_str());
  SEXTANT_FUZZ_CHECK(again->ToString() == canonical, "\"%s\" -> \"%s\" -> \"%s\"",
                     std::string(text).c_str(), canonical.c_str(), again->ToString().c_str());

  SEXTANT_FUZZ_CHECK(q.Cmp(q) == 0, "\"%s\" is not equal to itself", canonical.c_str());
  SEXTANT_FUZZ_CHECK(q.Sign() == q.Cmp(sextant::Quantity()), "sign of \"%s\"", canonical.c_str());
  SEXTANT_FUZZ_CHECK(q.IsZero() == (q.Sign() == 0), "zero test of \"%s\"", canonical.c_str());
  // Rounding up, away from zero: the integer value never lies below the exact one.
  const int64_t value = q.Value();
  const int64_t milli = q.MilliValue();
  if (q.Sign() >= 0) {
    SEXTANT_FUZZ_CHECK(sextant::Quantity::FromInt(value).Cmp(q) >= 0 || value == INT64_MAX,
                       "Value() of \"%s\" is %lld", canonical.c_str(),
                       static_cast<long long>(value));
    SEXTANT_FUZZ_CHECK(sextant::Quantity::FromMilli(milli).Cmp(q) >= 0 || milli == INT64_MAX,
                       "MilliValue() of \"%s\" is %lld", canonical.c_str(),
                       static_cast<long long>(milli));
  }
  // x - x == 0 and 0 + x == x, exactly.
  sextant::Quantity difference = q;
  difference.Sub(q);
  SEXTANT_FUZZ_CHECK(difference.IsZero(), "\"%s\" minus itself is \"%s\"", canonical.c_str(),
                     difference.ToString().c_str());
  sextant::Quantity sum;
  sum.Add(q);
  SEXTANT_FUZZ_CHECK(sum == q, "0 + \"%s\" is \"%s\"", canonical.c_str(), sum.ToString().c_str());
  return 0;
}
