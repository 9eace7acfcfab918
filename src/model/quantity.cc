// Port of k8s.io/apimachinery/pkg/api/resource (quantity.go, suffix.go, amount.go, math.go).
// Upstream holds a value as an int64 scaled by a power of ten, or as a big decimal when that
// overflows. Every value it can hold after ParseQuantity, NewQuantity, NewMilliQuantity, Add and
// Sub is a whole number of nano-units (parsing rounds up to 1e-9), so we keep that count in an
// __int128: exact, and no branch between two representations.
#include "sextant/quantity.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sextant {
namespace {

using int128 = __int128;

constexpr int64_t kNanosPerUnit = 1'000'000'000;
constexpr int64_t kNanosPerMilli = 1'000'000;

constexpr int128 Pow10(int64_t n) {
  int128 result = 1;
  for (; n > 0; --n) result *= 10;
  return result;
}

// Magnitudes from 1e29 units up do not fit 38 digits of nano-units. Upstream accepts them as big
// decimals; we reject them in Parse and saturate arithmetic there, as no real resource is that big.
constexpr int kMaxNanoDigits = 38;
constexpr int128 kMaxNanos = Pow10(kMaxNanoDigits) - 1;
// Upstream caps parsed BinarySI quantities at the int64 maximum.
constexpr int128 kBinaryCapNanos = int128{std::numeric_limits<int64_t>::max()} * kNanosPerUnit;

// Upstream's error texts (ErrFormatWrong, ErrSuffix, ErrNumeric).
constexpr char kErrFormatWrong[] =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr char kErrSuffix[] = "unable to parse quantity's suffix";
constexpr char kErrNumeric[] = "unable to parse numeric part of quantity";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

struct Scanned {
  bool negative = false;
  std::string_view value;  // Sign and number, the text upstream's big-decimal path reads.
  std::string_view num;    // Integer digits without leading zeros, "0" when there are none.
  std::string_view denom;  // Fraction digits.
  std::string_view suffix;
};

// Port of upstream parseQuantityString, early returns included: "-", "." and "Ki" all scan as a
// zero. nullopt where upstream returns ErrFormatWrong.
std::optional<Scanned> Scan(std::string_view str) {
  Scanned s;
  size_t pos = 0;
  const size_t end = str.size();
  if (pos < end && (str[0] == '-' || str[0] == '+')) {
    s.negative = str[0] == '-';
    ++pos;
  }
  while (pos < end && str[pos] == '0') ++pos;
  if (pos == end) {
    s.num = s.value = "0";
    return s;
  }
  size_t i = pos;
  while (i < end && IsDigit(str[i])) ++i;
  if (i == end) {
    s.num = str.substr(pos);
    s.value = str;
    return s;
  }
  s.num = i > pos ? str.substr(pos, i - pos) : "0";
  pos = i;
  if (str[pos] == '.') {
    i = ++pos;
    while (i < end && IsDigit(str[i])) ++i;
    s.denom = str.substr(pos, i - pos);
    if (i == end) {
      s.value = str;
      return s;
    }
    pos = i;
  }
  s.value = str.substr(0, pos);
  const size_t suffix_start = pos;
  while (pos < end && std::string_view("eEinumkKMGTP").find(str[pos]) != std::string_view::npos) {
    ++pos;
  }
  if (pos < end && (str[pos] == '-' || str[pos] == '+')) ++pos;
  while (pos < end && IsDigit(str[pos])) ++pos;
  if (pos != end) return std::nullopt;
  s.suffix = str.substr(suffix_start);
  return s;
}

// strconv.ParseInt(text, 10, 64): optional sign, at least one digit, nothing else, in range.
std::optional<int64_t> ParseInt64(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  const int128 limit = negative ? -int128{std::numeric_limits<int64_t>::min()}
                                : int128{std::numeric_limits<int64_t>::max()};
  int128 magnitude = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    magnitude = magnitude * 10 + (c - '0');
    if (magnitude > limit) return std::nullopt;
  }
  return static_cast<int64_t>(negative ? -magnitude : magnitude);
}

struct Suffix {
  int base;  // 10 or 2.
  int32_t exponent;
  Quantity::Format format;
};

// Port of upstream suffixer.interpret.
std::optional<Suffix> InterpretSuffix(std::string_view text) {
  using F = Quantity::Format;
  static constexpr struct {
    std::string_view text;
    Suffix suffix;
  } kSuffixes[] = {
      {"", {10, 0, F::kDecimalSI}}, {"n", {10, -9, F::kDecimalSI}}, {"u", {10, -6, F::kDecimalSI}},
      {"m", {10, -3, F::kDecimalSI}}, {"k", {10, 3, F::kDecimalSI}}, {"M", {10, 6, F::kDecimalSI}},
      {"G", {10, 9, F::kDecimalSI}}, {"T", {10, 12, F::kDecimalSI}}, {"P", {10, 15, F::kDecimalSI}},
      {"E", {10, 18, F::kDecimalSI}}, {"Ki", {2, 10, F::kBinarySI}}, {"Mi", {2, 20, F::kBinarySI}},
      {"Gi", {2, 30, F::kBinarySI}}, {"Ti", {2, 40, F::kBinarySI}}, {"Pi", {2, 50, F::kBinarySI}},
      {"Ei", {2, 60, F::kBinarySI}},
  };
  for (const auto& entry : kSuffixes) {
    if (entry.text == text) return entry.suffix;
  }
  if (text.size() > 1 && (text[0] == 'e' || text[0] == 'E')) {
    std::optional<int64_t> exponent = ParseInt64(text.substr(1));
    if (!exponent) return std::nullopt;
    // Upstream converts with int32(parsed), so "1e4294967299" means 1e3.
    return Suffix{10, static_cast<int32_t>(*exponent), F::kDecimalExponent};
  }
  return std::nullopt;
}

// ceil(digits * multiplier * 10^shift), for digits without leading zeros and multiplier at most
// 2^60; nullopt where that exceeds limit (at most kMaxNanos).
std::optional<int128> ScaledCeil(std::string_view digits, int64_t shift, int64_t multiplier,
                                 int128 limit) {
  const int64_t n = static_cast<int64_t>(digits.size());
  if (shift >= 0 && n + shift > kMaxNanoDigits) return std::nullopt;
  const int64_t whole_digits = shift >= 0 ? n : std::max<int64_t>(0, n + shift);
  if (whole_digits > kMaxNanoDigits) return std::nullopt;
  int128 result = 0;
  for (int64_t i = 0; i < whole_digits; ++i) result = result * 10 + (digits[i] - '0');
  if (shift > 0) result *= Pow10(shift);
  if (result > limit / multiplier) return std::nullopt;
  result *= multiplier;
  if (shift < 0) {
    // Multiply the fraction digits by multiplier from the last one: the carry out of the first is
    // the whole part of the product, and any non-zero digit left behind means rounding up.
    int128 carry = 0;
    bool inexact = false;
    for (int64_t i = n - 1; i >= whole_digits; --i) {
      const int128 t = (digits[i] - '0') * int128{multiplier} + carry;
      inexact |= t % 10 != 0;
      carry = t / 10;
    }
    // The zeros between the decimal point and the first digit; carry is gone within 19 of them.
    for (int64_t zeros = -shift - (n - whole_digits); zeros > 0 && carry != 0; --zeros) {
      inexact |= carry % 10 != 0;
      carry /= 10;
    }
    result += carry + (inexact ? 1 : 0);
    if (result > limit) return std::nullopt;
  }
  return result;
}

std::string Int128ToString(int128 value) {
  const bool negative = value < 0;
  unsigned __int128 magnitude =
      negative ? -static_cast<unsigned __int128>(value) : static_cast<unsigned __int128>(value);
  char buffer[48];
  char* p = buffer + sizeof(buffer);
  do {
    *--p = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  } while (magnitude != 0);
  if (negative) *--p = '-';
  return std::string(p, buffer + sizeof(buffer));
}

// nanos / divisor rounded away from zero, as upstream's int64Amount.AsScaledInt64 rounds.
// Saturates where upstream returns 0 (int64 path) or wraps (big-decimal path).
int64_t DivideAwayFromZero(int128 nanos, int64_t divisor) {
  int128 result = nanos / divisor;
  if (nanos % divisor != 0) result += nanos > 0 ? 1 : -1;
  if (result > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (result < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(result);
}

// Sum clamped to the kMaxNanos range (upstream's big decimals never overflow).
int128 SaturatingAdd(int128 a, int128 b) {
  int128 sum;
  if (__builtin_add_overflow(a, b, &sum)) return a > 0 ? kMaxNanos : -kMaxNanos;
  return sum > kMaxNanos ? kMaxNanos : sum < -kMaxNanos ? -kMaxNanos : sum;
}

}  // namespace

absl::StatusOr<Quantity> Quantity::Parse(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError(kErrFormatWrong);
  std::optional<Scanned> scanned = Scan(text);
  if (!scanned) return absl::InvalidArgumentError(kErrFormatWrong);
  std::optional<Suffix> suffix = InterpretSuffix(scanned->suffix);
  if (!suffix) return absl::InvalidArgumentError(kErrSuffix);

  // Upstream reads the number with inf.Dec.SetString, which wants a digit, when its int64 fast path
  // does not apply: below nano scale, or binary suffixes from Pi up. So "e-10" and "Pi" fail while
  // "e-9" and "Ti" are zero.
  const bool has_digit = scanned->value.find_first_of("0123456789") != std::string_view::npos;
  if (!has_digit && (suffix->base == 10 ? suffix->exponent < -9 : suffix->exponent >= 50)) {
    return absl::InvalidArgumentError(kErrNumeric);
  }

  // value = digits * 10^exponent10 (* 2^suffix exponent for binary), digits without zeros at
  // either end.
  std::string digits(scanned->num);
  digits += scanned->denom;
  int64_t exponent10 = (suffix->base == 10 ? int64_t{suffix->exponent} : 0) -
                       static_cast<int64_t>(scanned->denom.size());
  digits.erase(0, digits.find_first_not_of('0'));
  while (!digits.empty() && digits.back() == '0') {
    digits.pop_back();
    ++exponent10;
  }

  Quantity q;
  q.format_ = suffix->format;
  if (digits.empty()) return q;
  // Upstream rounds magnitudes up to a whole nano-unit, so a request for a tiny amount still gets
  // some: "0.1n" is 1n and "-0.1n" is -1n.
  if (suffix->base == 10) {
    std::optional<int128> nanos = ScaledCeil(digits, exponent10 + 9, 1, kMaxNanos);
    if (!nanos) {
      return absl::InvalidArgumentError("quantity too large: the magnitude must be below 1e29");
    }
    q.nanos_ = *nanos;
  } else {
    q.nanos_ = ScaledCeil(digits, exponent10 + 9, int64_t{1} << suffix->exponent, kBinaryCapNanos)
                   .value_or(kBinaryCapNanos);
    // Upstream: a binary quantity between 0 and 1 becomes DecimalSI.
    if (q.nanos_ < kNanosPerUnit) q.format_ = Format::kDecimalSI;
  }
  if (scanned->negative) q.nanos_ = -q.nanos_;
  return q;
}

Quantity Quantity::FromInt(int64_t value, Format format) {
  Quantity q;
  q.nanos_ = int128{value} * kNanosPerUnit;
  q.format_ = format;
  return q;
}

Quantity Quantity::FromMilli(int64_t milli_value, Format format) {
  Quantity q;
  q.nanos_ = int128{milli_value} * kNanosPerMilli;
  q.format_ = format;
  return q;
}

int64_t Quantity::Value() const { return DivideAwayFromZero(nanos_, kNanosPerUnit); }

int64_t Quantity::MilliValue() const { return DivideAwayFromZero(nanos_, kNanosPerMilli); }

int Quantity::Cmp(const Quantity& other) const {
  return nanos_ < other.nanos_ ? -1 : nanos_ > other.nanos_ ? 1 : 0;
}

bool Quantity::IsZero() const { return nanos_ == 0; }

int Quantity::Sign() const { return nanos_ < 0 ? -1 : nanos_ > 0 ? 1 : 0; }

void Quantity::Add(const Quantity& other) {
  if (nanos_ == 0) format_ = other.format_;
  nanos_ = SaturatingAdd(nanos_, other.nanos_);
}

void Quantity::Sub(const Quantity& other) {
  if (nanos_ == 0) format_ = other.format_;
  nanos_ = SaturatingAdd(nanos_, -other.nanos_);
}

// Port of upstream CanonicalizeBytes: the largest exponent (a multiple of 3, or a power of 1024
// for BinarySI) that leaves an integer mantissa. Upstream's String() instead echoes the parsed text
// when it looks canonical, so "+1k", "01k" and "1E3" come back as written there; we always print
// the canonical form ("1k", "1k", "1e3"), which is what it prints after any arithmetic.
std::string Quantity::ToString() const {
  if (nanos_ == 0) return "0";
  Format format = format_;
  if (format == Format::kBinarySI &&
      (nanos_ % kNanosPerUnit != 0 ||
       (nanos_ > -1024 * int128{kNanosPerUnit} && nanos_ < 1024 * int128{kNanosPerUnit}))) {
    // Upstream avoids rounding: fractions and magnitudes below 1024 print as DecimalSI.
    format = Format::kDecimalSI;
  }
  if (format == Format::kBinarySI) {
    static constexpr const char* kBinarySuffixes[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    int128 mantissa = nanos_ / kNanosPerUnit;
    int power = 0;
    while (mantissa % 1024 == 0) {
      mantissa /= 1024;
      ++power;
    }
    // Upstream finds no suffix past Ei and prints none (so 2^70 prints as "1"); we do the same.
    return Int128ToString(mantissa) + (power < 7 ? kBinarySuffixes[power] : "");
  }
  int128 mantissa = nanos_;
  int exponent = -9;
  while (mantissa % 10 == 0) {
    mantissa /= 10;
    ++exponent;
  }
  while (exponent % 3 != 0) {
    mantissa *= 10;
    --exponent;
  }
  const std::string digits = Int128ToString(mantissa);
  if (format == Format::kDecimalExponent) {
    return exponent == 0 ? digits : digits + "e" + std::to_string(exponent);
  }
  static constexpr const char* kDecimalSuffixes[] = {"n", "u", "m", "",  "k",
                                                          "M", "G", "T", "P", "E"};
  // As for BinarySI, upstream prints no suffix past E (1e21 prints as "1").
  return digits + (exponent <= 18 ? kDecimalSuffixes[(exponent + 9) / 3] : "");
}

}  // namespace sextant
