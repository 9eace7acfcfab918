// Quantity: a Kubernetes resource quantity ("500m", "1.5Gi", "2e3") with the parsing, exact
// arithmetic, comparison and rounding of upstream k8s.io/apimachinery resource.Quantity.
// A plain value type: copyable, no shared state, safe to use from any thread.
#ifndef SEXTANT_QUANTITY_H_
#define SEXTANT_QUANTITY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sextant {

class Quantity {
 public:
  // The suffix family a quantity was written in; kept so String() formats it back the same way.
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  // Zero, DecimalSI.
  Quantity() = default;

  // Parses the upstream grammar: optional sign, digits with an optional decimal point, then an
  // optional suffix (binary Ki Mi Gi Ti Pi Ei; decimal n u m "" k M G T P E; or an exponent
  // e<int> / E<int>). Precision below 1e-9 is rounded up as upstream does.
  // Returns InvalidArgument with upstream's message (the caller adds the field), and also for
  // magnitudes of 1e29 or more, which upstream accepts but no resource comes near.
  static absl::StatusOr<Quantity> Parse(std::string_view text);

  // value units, and value thousandths of a unit.
  static Quantity FromInt(int64_t value, Format format = Format::kDecimalSI);
  static Quantity FromMilli(int64_t milli_value, Format format = Format::kDecimalSI);

  // The value rounded up (away from zero, as upstream's int64 path) to an integer. Saturates at
  // the int64 range.
  int64_t Value() const;
  // The value in thousandths, rounded up as Value(). Saturates at the int64 range.
  int64_t MilliValue() const;

  // -1, 0, +1 as this is less than, equal to or greater than other (exact).
  int Cmp(const Quantity& other) const;
  bool IsZero() const;
  int Sign() const;

  // Exact arithmetic (saturating at 1e29). The format of *this is kept, unless *this was zero:
  // then it takes other's format, as upstream does.
  void Add(const Quantity& other);
  void Sub(const Quantity& other);

  Format format() const { return format_; }
  // Upstream's Format is a public field, changed at will; it only affects ToString().
  void set_format(Format format) { format_ = format; }

  // Canonical string as upstream Quantity.String() prints it ("100m", "1Gi", "1500M").
  std::string ToString() const;

  friend bool operator==(const Quantity& a, const Quantity& b) { return a.Cmp(b) == 0; }
  friend bool operator<(const Quantity& a, const Quantity& b) { return a.Cmp(b) < 0; }

 private:
  // The value in units of 1e-9, exact: Parse rounds to that precision, and From*, Add and Sub
  // keep it. |nanos_| stays below 1e38, so values up to 1e29 fit.
  __int128 nanos_ = 0;
  Format format_ = Format::kDecimalSI;
};

}  // namespace sextant

#endif  // SEXTANT_QUANTITY_H_
