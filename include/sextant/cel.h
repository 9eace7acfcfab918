// The CEL subset that DRA device selectors use, with upstream's types and outcomes: compile a
// selector once into a cel::Program, then ask whether it matches each cel::Device.
// Program and Device are immutable after construction; a Program may be evaluated from any number
// of threads at once. Copying a Program is cheap (it shares the compiled form).
// docs/dra.md ("CEL selectors") lists the subset and what is rejected.
#ifndef SEXTANT_CEL_H_
#define SEXTANT_CEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sextant/quantity.h"

namespace sextant::cel {

// A semantic version (semver.org 2.0.0), as device attributes of type version hold them.
struct Semver {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  std::vector<std::string> prerelease;  // Dot-separated identifiers after '-'.
  std::vector<std::string> build;       // Dot-separated identifiers after '+'; not compared.

  // Strict MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] without leading zeros, as upstream's parser
  // takes it. InvalidArgument with the reason on failure.
  static absl::StatusOr<Semver> Parse(std::string_view text);
  // Parse after normalising: an optional leading "v", leading zeros dropped, a missing minor or
  // patch taken as 0 (CEL's semver(text, true)).
  static absl::StatusOr<Semver> ParseNormalized(std::string_view text);

  // -1, 0, +1 by semver precedence (build metadata ignored).
  int Compare(const Semver& other) const;
};

// A device attribute value: int, bool, string or version.
using AttributeValue = std::variant<int64_t, bool, std::string, Semver>;

// A capacity value. Besides the quantity it keeps whether upstream would read it as an exact
// int64 (quantity.asInteger() and isInteger()), which depends on how the text was written:
// upstream keeps "1000m" at scale -3 and does not reduce it to 1.
struct CapacityValue {
  Quantity quantity;
  std::optional<int64_t> as_int64;

  // Parses the quantity text as written in the ResourceSlice. InvalidArgument on a bad quantity.
  static absl::StatusOr<CapacityValue> Parse(std::string_view text);
  // From an already parsed quantity, treated as if written in its canonical form.
  static CapacityValue FromQuantity(const Quantity& quantity);
};

// What a selector sees of one device. Attribute and capacity names are qualified names: "id"
// (in the driver's domain) or "domain/id".
class Device {
 public:
  // InvalidArgument when two names resolve to the same domain and id.
  static absl::StatusOr<Device> Create(
      std::string driver, bool allow_multiple_allocations,
      std::vector<std::pair<std::string, AttributeValue>> attributes,
      std::vector<std::pair<std::string, CapacityValue>> capacity);

  std::string_view driver() const { return driver_; }
  bool allow_multiple_allocations() const { return allow_multiple_allocations_; }

  template <typename T>
  struct Domain {
    std::string name;
    std::vector<std::pair<std::string, T>> entries;  // Sorted by id.
  };
  // Sorted by domain name.
  const std::vector<Domain<AttributeValue>>& attribute_domains() const { return attributes_; }
  const std::vector<Domain<CapacityValue>>& capacity_domains() const { return capacity_; }

 private:
  Device() = default;
  std::string driver_;
  bool allow_multiple_allocations_ = false;
  std::vector<Domain<AttributeValue>> attributes_;
  std::vector<Domain<CapacityValue>> capacity_;
};

namespace internal {
struct CompiledExpression;
}

class Program {
 public:
  // Parses and type-checks a selector. On failure InvalidArgument whose message names the problem
  // and where it is, e.g. `unsupported function "foo" at column 12` (`at line 2, column 3` in a
  // multi-line expression); the caller prefixes the object and field. Expressions upstream
  // accepts but Sextant does not support fail the same way, with "unsupported" in the message.
  static absl::StatusOr<Program> Compile(std::string_view expression);

  // Whether the device matches. A runtime error (an attribute the device lacks, an operation on a
  // value of the wrong type, integer overflow...) is InvalidArgument with a message like
  // upstream's ("no such key: model"); upstream's allocator fails the allocation on it rather
  // than skipping the device.
  absl::StatusOr<bool> Matches(const Device& device) const;

  // The source text, as compiled.
  const std::string& expression() const;

 private:
  explicit Program(std::shared_ptr<const internal::CompiledExpression> compiled)
      : compiled_(std::move(compiled)) {}
  std::shared_ptr<const internal::CompiledExpression> compiled_;
};

}  // namespace sextant::cel

#endif  // SEXTANT_CEL_H_
