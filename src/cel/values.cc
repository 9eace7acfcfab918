// The values a selector reads: semantic versions, capacities, and the device view.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cel/internal/strings.h"
#include "sextant/cel.h"
#include "sextant/quantity.h"

namespace sextant::cel {
namespace {

using internal::Sv;

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsIdentifierChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

absl::StatusOr<uint64_t> VersionNumber(std::string_view part, std::string_view what) {
  if (!AllDigits(part)) {
    return absl::InvalidArgumentError(absl::StrCat("Invalid character(s) found in ",
                                                   absl::AsciiStrToLower(Sv(what)), " number \"",
                                                   Sv(part), "\""));
  }
  if (part.size() > 1 && part[0] == '0') {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), " number must not contain leading zeroes \"", Sv(part), "\""));
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(Sv(part), &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(what), " number \"", Sv(part), "\" is out of range"));
  }
  return value;
}

// Numeric identifiers compare as numbers and below alphanumeric ones.
int CompareIdentifier(const std::string& a, const std::string& b) {
  const bool an = AllDigits(a), bn = AllDigits(b);
  if (an && bn) {
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (an != bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

}  // namespace

absl::StatusOr<Semver> Semver::Parse(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("Version string empty");
  std::vector<absl::string_view> split = absl::StrSplit(Sv(text), absl::MaxSplits('.', 2));
  std::vector<std::string_view> parts;
  for (absl::string_view p : split) parts.emplace_back(p.data(), p.size());
  if (parts.size() != 3) return absl::InvalidArgumentError("No Major.Minor.Patch elements found");
  Semver v;
  absl::StatusOr<uint64_t> major = VersionNumber(parts[0], "Major");
  if (!major.ok()) return major.status();
  absl::StatusOr<uint64_t> minor = VersionNumber(parts[1], "Minor");
  if (!minor.ok()) return minor.status();
  v.major = *major;
  v.minor = *minor;
  std::string_view rest = parts[2];
  if (size_t plus = rest.find('+'); plus != std::string_view::npos) {
    for (absl::string_view piece : absl::StrSplit(Sv(rest.substr(plus + 1)), '.')) {
      const std::string_view id(piece.data(), piece.size());
      if (id.empty()) return absl::InvalidArgumentError("Build meta data is empty");
      if (!std::all_of(id.begin(), id.end(), IsIdentifierChar)) {
        return absl::InvalidArgumentError(
            absl::StrCat("Invalid character(s) found in build meta data \"", piece, "\""));
      }
      v.build.emplace_back(id);
    }
    rest = rest.substr(0, plus);
  }
  if (size_t dash = rest.find('-'); dash != std::string_view::npos) {
    for (absl::string_view piece : absl::StrSplit(Sv(rest.substr(dash + 1)), '.')) {
      const std::string_view id(piece.data(), piece.size());
      if (id.empty()) return absl::InvalidArgumentError("Prerelease is empty");
      if (AllDigits(id)) {
        if (id.size() > 1 && id[0] == '0') {
          return absl::InvalidArgumentError(
              absl::StrCat("Prerelease number must not contain leading zeroes \"", piece, "\""));
        }
      } else if (!std::all_of(id.begin(), id.end(), IsIdentifierChar)) {
        return absl::InvalidArgumentError(
            absl::StrCat("Invalid character(s) found in prerelease \"", piece, "\""));
      }
      v.prerelease.emplace_back(id);
    }
    rest = rest.substr(0, dash);
  }
  absl::StatusOr<uint64_t> patch = VersionNumber(rest, "Patch");
  if (!patch.ok()) return patch.status();
  v.patch = *patch;
  return v;
}

absl::StatusOr<Semver> Semver::ParseNormalized(std::string_view text) {
  if (!text.empty() && text[0] == 'v') text.remove_prefix(1);
  std::vector<std::string> parts = absl::StrSplit(Sv(text), absl::MaxSplits('.', 2));
  for (std::string& p : parts) {
    if (p.size() > 1) {
      const size_t first = p.find_first_not_of('0');
      p = first == std::string::npos ? "" : p.substr(first);
      if (p.empty() || p[0] < '0' || p[0] > '9') p = "0" + p;
    }
  }
  if (parts.size() < 3) {
    if (parts.back().find_first_of("+-") != std::string::npos) {
      return absl::InvalidArgumentError("short version cannot contain PreRelease/Build meta data");
    }
    while (parts.size() < 3) parts.emplace_back("0");
  }
  return Parse(absl::StrJoin(parts, "."));
}

int Semver::Compare(const Semver& o) const {
  if (major != o.major) return major < o.major ? -1 : 1;
  if (minor != o.minor) return minor < o.minor ? -1 : 1;
  if (patch != o.patch) return patch < o.patch ? -1 : 1;
  if (prerelease.empty() || o.prerelease.empty()) {
    if (prerelease.empty() == o.prerelease.empty()) return 0;
    return prerelease.empty() ? 1 : -1;
  }
  const size_t n = std::min(prerelease.size(), o.prerelease.size());
  for (size_t i = 0; i < n; ++i) {
    if (int c = CompareIdentifier(prerelease[i], o.prerelease[i]); c != 0) return c;
  }
  if (prerelease.size() == o.prerelease.size()) return 0;
  return prerelease.size() < o.prerelease.size() ? -1 : 1;
}

namespace {

// Upstream stores a parsed quantity either as an int64 with a decimal scale or, when the digits
// do not fit that, as a big decimal, and reads it as an exact int64 only in the first case with a
// scale of zero or more. This reproduces that choice from the text (already known to be valid).
std::optional<int64_t> UpstreamInt64(std::string_view str) {
  if (str == "0") return 0;
  size_t pos = 0;
  const size_t end = str.size();
  bool positive = true;
  if (pos < end && (str[0] == '-' || str[0] == '+')) {
    positive = str[0] == '+';
    ++pos;
  }
  while (pos < end && str[pos] == '0') ++pos;
  if (pos >= end) return 0;  // only zeros
  size_t num_start = pos;
  while (pos < end && str[pos] >= '0' && str[pos] <= '9') ++pos;
  std::string num(str.substr(num_start, pos - num_start));
  if (num.empty()) num = "0";
  std::string denom;
  if (pos < end && str[pos] == '.') {
    ++pos;
    size_t denom_start = pos;
    while (pos < end && str[pos] >= '0' && str[pos] <= '9') ++pos;
    denom = std::string(str.substr(denom_start, pos - denom_start));
  }
  const std::string_view suffix = str.substr(pos);

  int64_t exponent = 0;
  bool binary = false;
  static constexpr std::pair<std::string_view, int> kDecimal[] = {
      {"n", -9}, {"u", -6}, {"m", -3}, {"", 0},   {"k", 3},
      {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  static constexpr std::pair<std::string_view, int> kBinary[] = {
      {"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  bool known = false;
  for (const auto& [s, e] : kDecimal) {
    if (suffix == s) exponent = e, known = true;
  }
  for (const auto& [s, e] : kBinary) {
    if (suffix == s) exponent = e, known = binary = true;
  }
  if (!known) {
    // e<n> / E<n>: a decimal exponent.
    if (suffix.size() < 2 || (suffix[0] != 'e' && suffix[0] != 'E')) return std::nullopt;
    if (!absl::SimpleAtoi(Sv(suffix.substr(1)), &exponent)) return std::nullopt;
    if (exponent < std::numeric_limits<int32_t>::min() ||
        exponent > std::numeric_limits<int32_t>::max()) {
      return std::nullopt;
    }
  }

  int64_t precision = 0, scale = 0, mantissa = 1;
  if (!binary) {
    scale = exponent;
    precision = 18 - static_cast<int64_t>(num.size() + denom.size());
  } else if (denom.empty()) {
    mantissa = int64_t{1} << exponent;
    precision = 15 - static_cast<int64_t>(num.size()) -
                static_cast<int64_t>(static_cast<float>(exponent) * 3 / 10) - 1;
  } else {
    precision = -1;
  }
  if (precision < 0) return std::nullopt;
  scale -= static_cast<int64_t>(denom.size());
  if (scale < -9) return std::nullopt;
  int64_t value = 0;
  if (!absl::SimpleAtoi(num + denom, &value)) return std::nullopt;
  int64_t result = 0;
  if (__builtin_mul_overflow(value, mantissa, &result)) return std::nullopt;
  if (!positive) result = -result;
  if (scale < 0) return std::nullopt;
  for (int64_t i = 0; i < scale; ++i) {
    if (__builtin_mul_overflow(result, int64_t{10}, &result)) return std::nullopt;
  }
  return result;
}

template <typename T>
absl::Status Group(const std::string& driver, std::vector<std::pair<std::string, T>> entries,
                   std::vector<Device::Domain<T>>* out) {
  for (auto& [name, value] : entries) {
    std::string domain = driver, id = name;
    if (size_t slash = name.find('/'); slash != std::string::npos) {
      domain = name.substr(0, slash);
      id = name.substr(slash + 1);
    }
    auto it =
        std::find_if(out->begin(), out->end(), [&](const auto& d) { return d.name == domain; });
    if (it == out->end()) {
      out->push_back(Device::Domain<T>{domain, {}});
      it = out->end() - 1;
    }
    it->entries.emplace_back(std::move(id), std::move(value));
  }
  std::sort(out->begin(), out->end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& d : *out) {
    std::sort(d.entries.begin(), d.entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t i = 1; i < d.entries.size(); ++i) {
      if (d.entries[i].first == d.entries[i - 1].first) {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", d.name, "/", d.entries[i].first, "\" is given twice"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CapacityValue> CapacityValue::Parse(std::string_view text) {
  absl::StatusOr<Quantity> q = Quantity::Parse(text);
  if (!q.ok()) return q.status();
  return CapacityValue{*q, UpstreamInt64(text)};
}

CapacityValue CapacityValue::FromQuantity(const Quantity& quantity) {
  return CapacityValue{quantity, UpstreamInt64(quantity.ToString())};
}

absl::StatusOr<Device> Device::Create(
    std::string driver, bool allow_multiple_allocations,
    std::vector<std::pair<std::string, AttributeValue>> attributes,
    std::vector<std::pair<std::string, CapacityValue>> capacity) {
  Device d;
  d.driver_ = std::move(driver);
  d.allow_multiple_allocations_ = allow_multiple_allocations;
  if (absl::Status s = Group(d.driver_, std::move(attributes), &d.attributes_); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("attribute ", s.message()));
  }
  if (absl::Status s = Group(d.driver_, std::move(capacity), &d.capacity_); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("capacity ", s.message()));
  }
  return d;
}

}  // namespace sextant::cel
