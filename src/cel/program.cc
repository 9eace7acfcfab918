// Compile (parse + check) and evaluate. Evaluation walks the checked tree once per device with
// values that point into the device and the compiled expression, so a typical selector allocates
// nothing; only string-producing functions (lowerAscii, +) and errors allocate.
#include <cmath>
#include <cstdint>
#include <forward_list>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cel/internal/ast.h"
#include "cel/internal/checker.h"
#include "cel/internal/parser.h"
#include "cel/internal/strings.h"
#include "common/status_macros.h"
#include "re2/re2.h"
#include "sextant/cel.h"

namespace sextant::cel {
namespace {

using internal::BinaryOp;
using internal::CompiledExpression;
using internal::DeviceField;
using internal::Function;
using internal::Node;
using internal::NodeKind;

using AttrDomain = Device::Domain<AttributeValue>;
using CapDomain = Device::Domain<CapacityValue>;

enum class Kind : uint8_t {
  kError,
  kBool,
  kInt,
  kDouble,
  kString,
  kQuantity,
  kSemver,
  kDevice,
  kAttrDomains,
  kAttrs,
  kCapDomains,
  kCaps,
};

enum class ErrorCode : uint8_t {
  kNoSuchKey,
  kNoSuchOverload,
  kIntegerOverflow,
  kDivisionByZero,
  kModulusByZero,
  kMessage
};

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kError:
      return "error";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kDouble:
      return "double";
    case Kind::kString:
      return "string";
    case Kind::kQuantity:
      return "kubernetes.Quantity";
    case Kind::kSemver:
      return "kubernetes.Semver";
    case Kind::kDevice:
      return "kubernetes.DRADevice";
    case Kind::kAttrDomains:
    case Kind::kAttrs:
    case Kind::kCapDomains:
    case Kind::kCaps:
      return "map";
  }
  return "?";
}

// A value during evaluation. Strings and errors refer to text owned by the device, the compiled
// expression or the evaluation's scratch space.
struct Value {
  Kind kind = Kind::kError;
  ErrorCode error = ErrorCode::kMessage;
  Kind arg_kinds[2] = {Kind::kError, Kind::kError};  // kNoSuchOverload: operand kinds
  uint8_t arg_count = 0;
  union {
    bool b;
    int64_t i;
    double d;
    const CapacityValue* q;
    const Semver* v;
    const AttrDomain* attrs;  // kAttrs; null is the empty map of an absent domain
    const CapDomain* caps;    // kCaps; likewise
  };
  std::string_view s;  // kString; the key or function of an error, or its message

  Value() : i(0) {}
  static Value Bool(bool x) {
    Value r;
    r.kind = Kind::kBool;
    r.b = x;
    return r;
  }
  static Value Int(int64_t x) {
    Value r;
    r.kind = Kind::kInt;
    r.i = x;
    return r;
  }
  static Value Double(double x) {
    Value r;
    r.kind = Kind::kDouble;
    r.d = x;
    return r;
  }
  static Value String(std::string_view x) {
    Value r;
    r.kind = Kind::kString;
    r.s = x;
    return r;
  }
  static Value Error(ErrorCode code, std::string_view detail = {}) {
    Value r;
    r.error = code;
    r.s = detail;
    return r;
  }
  static Value NoOverload(std::string_view function, const Value& a) {
    Value r = Error(ErrorCode::kNoSuchOverload, function);
    r.arg_kinds[0] = a.kind;
    r.arg_count = 1;
    return r;
  }
  static Value NoOverload(std::string_view function, const Value& a, const Value& b) {
    Value r = NoOverload(function, a);
    r.arg_kinds[1] = b.kind;
    r.arg_count = 2;
    return r;
  }
  bool is_error() const { return kind == Kind::kError; }
};

std::string ErrorMessage(const Value& v) {
  switch (v.error) {
    case ErrorCode::kNoSuchKey:
      return absl::StrCat("no such key: ", internal::Sv(v.s));
    case ErrorCode::kNoSuchOverload: {
      std::string args;
      for (uint8_t k = 0; k < v.arg_count; ++k)
        absl::StrAppend(&args, k ? ", " : "", internal::Sv(KindName(v.arg_kinds[k])));
      return absl::StrCat("no such overload: ", internal::Sv(v.s), "(", args, ")");
    }
    case ErrorCode::kIntegerOverflow:
      return "integer overflow";
    case ErrorCode::kDivisionByZero:
      return "division by zero";
    case ErrorCode::kModulusByZero:
      return "modulus by zero";
    case ErrorCode::kMessage:
      return std::string(v.s);
  }
  return "error";
}

// Storage for what an evaluation creates; nothing is allocated until something is stored.
struct Scratch {
  std::forward_list<std::string> strings;
  std::forward_list<CapacityValue> quantities;
  std::forward_list<Semver> semvers;

  std::string_view Keep(std::string s) {
    strings.push_front(std::move(s));
    return strings.front();
  }
};

template <typename Entries>
auto FindEntry(const Entries& entries, std::string_view id) -> decltype(&entries.front()) {
  size_t lo = 0, hi = entries.size();
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    const int c = std::string_view(entries[mid].first).compare(id);
    if (c == 0) return &entries[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return nullptr;
}

template <typename Domains>
auto FindDomain(const Domains& domains, std::string_view name) -> decltype(&domains.front()) {
  for (const auto& d : domains) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// -1, 0, 1, or nullopt when either is NaN.
std::optional<int> CompareNumbers(const Value& a, const Value& b) {
  if (a.kind == Kind::kInt && b.kind == Kind::kInt) return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  // long double holds every int64 exactly.
  const long double x = a.kind == Kind::kInt ? static_cast<long double>(a.i) : a.d;
  const long double y = b.kind == Kind::kInt ? static_cast<long double>(b.i) : b.d;
  if (std::isnan(x) || std::isnan(y)) return std::nullopt;
  return x < y ? -1 : x > y ? 1 : 0;
}

bool IsNumber(Kind k) { return k == Kind::kInt || k == Kind::kDouble; }

// The recursive Eval stays small (its frame is on the stack once per tree level); the bulkier
// operations are kept out of line.
class Evaluator {
 public:
  Evaluator(const CompiledExpression& expr, const Device& device) : expr_(expr), device_(device) {}

  Value Eval(int32_t index) {
    const Node& n = expr_.nodes[static_cast<size_t>(index)];
    switch (n.kind) {
      case NodeKind::kBool:
        return Value::Bool(n.bool_value);
      case NodeKind::kInt:
        return Value::Int(n.int_value);
      case NodeKind::kDouble:
        return Value::Double(n.double_value);
      case NodeKind::kString:
        return Value::String(n.text);
      case NodeKind::kIdent: {
        if (n.slot >= 0) return Variable(n.slot);
        Value v;
        v.kind = Kind::kDevice;
        return v;
      }
      case NodeKind::kSelect: {
        if (n.direct != DeviceField::kNone) return DirectLookup(n);
        Value operand = Eval(n.children[0]);
        if (operand.is_error()) return operand;
        return Lookup(n, operand, Value::String(n.text), /*presence=*/false);
      }
      case NodeKind::kHas: {
        Value operand = Eval(n.children[0]);
        if (operand.is_error()) return operand;
        return Lookup(n, operand, Value::String(n.text), /*presence=*/true);
      }
      case NodeKind::kIndex: {
        if (n.direct != DeviceField::kNone) return DirectLookup(n);
        Value operand = Eval(n.children[0]);
        Value key = Eval(n.children[1]);
        if (operand.is_error()) return operand;
        if (key.is_error()) return key;
        return Lookup(n, operand, key, /*presence=*/false);
      }
      case NodeKind::kCall:
        return Call(n);
      case NodeKind::kList:
        return Value::Error(ErrorCode::kMessage, "list value outside 'in'");
      case NodeKind::kNot: {
        Value v = Eval(n.children[0]);
        if (v.kind == Kind::kBool) return Value::Bool(!v.b);
        if (v.is_error()) return v;
        return Value::NoOverload("!_", v);
      }
      case NodeKind::kNegate: {
        Value v = Eval(n.children[0]);
        if (v.kind == Kind::kInt) {
          if (v.i == std::numeric_limits<int64_t>::min())
            return Value::Error(ErrorCode::kIntegerOverflow);
          return Value::Int(-v.i);
        }
        if (v.kind == Kind::kDouble) return Value::Double(-v.d);
        if (v.is_error()) return v;
        return Value::NoOverload("-_", v);
      }
      case NodeKind::kAnd:
      case NodeKind::kOr: {
        // The absorbing value (false for &&, true for ||) wins over errors on either side;
        // otherwise the first error, left to right.
        const bool absorbing = n.kind == NodeKind::kOr;
        Value left = Eval(n.children[0]);
        if (left.kind == Kind::kBool && left.b == absorbing) return left;
        Value right = Eval(n.children[1]);
        if (right.kind == Kind::kBool && right.b == absorbing) return right;
        if (left.kind == Kind::kBool && right.kind == Kind::kBool) return right;
        const Value& bad = left.kind != Kind::kBool ? left : right;
        if (bad.is_error()) return bad;
        return Value::NoOverload(absorbing ? "_||_" : "_&&_", bad);
      }
      case NodeKind::kTernary: {
        Value cond = Eval(n.children[0]);
        if (cond.kind == Kind::kBool) return Eval(n.children[cond.b ? 1 : 2]);
        if (cond.is_error()) return cond;
        return Value::NoOverload("_?_:_", cond);
      }
      case NodeKind::kBinary:
        return Binary(n);
      case NodeKind::kBind: {
        // The value is computed when the body first reads it; an error stays in the variable
        // and surfaces only if the body uses it.
        const size_t slot = static_cast<size_t>(n.slot);
        if (slots_.size() <= slot) slots_.resize(slot + 1);
        slots_[slot].init = n.children[0];
        slots_[slot].computed = false;
        return Eval(n.children[1]);
      }
    }
    return Value::Error(ErrorCode::kMessage, "unknown node");
  }

  std::string_view Keep(std::string s) { return scratch_.Keep(std::move(s)); }

 private:
  Value AttributeToValue(const AttributeValue& a) {
    switch (a.index()) {
      case 0:
        return Value::Int(std::get<0>(a));
      case 1:
        return Value::Bool(std::get<1>(a));
      case 2:
        return Value::String(std::get<2>(a));
      default: {
        Value v;
        v.kind = Kind::kSemver;
        v.v = &std::get<3>(a);
        return v;
      }
    }
  }

  // Field selection, index and presence test on maps and the device.
  ABSL_ATTRIBUTE_NOINLINE Value Lookup(const Node& n, const Value& operand, const Value& key,
                                       bool presence) {
    switch (operand.kind) {
      case Kind::kDevice: {
        if (presence) return Value::Bool(true);
        Value v;
        switch (n.field) {
          case DeviceField::kDriver:
            return Value::String(device_.driver());
          case DeviceField::kAllowMultipleAllocations:
            return Value::Bool(device_.allow_multiple_allocations());
          case DeviceField::kAttributes:
            v.kind = Kind::kAttrDomains;
            return v;
          case DeviceField::kCapacity:
            v.kind = Kind::kCapDomains;
            return v;
          case DeviceField::kNone:
            break;
        }
        return Value::Error(ErrorCode::kNoSuchKey, n.text);
      }
      case Kind::kAttrDomains:
      case Kind::kCapDomains: {
        // Upstream reads an absent domain as an empty map.
        const bool attributes = operand.kind == Kind::kAttrDomains;
        const void* found = nullptr;
        if (key.kind == Kind::kString) {
          found = attributes
                      ? static_cast<const void*>(FindDomain(device_.attribute_domains(), key.s))
                      : static_cast<const void*>(FindDomain(device_.capacity_domains(), key.s));
        }
        if (presence) return Value::Bool(true);
        Value v;
        v.kind = attributes ? Kind::kAttrs : Kind::kCaps;
        if (attributes) {
          v.attrs = static_cast<const AttrDomain*>(found);
        } else {
          v.caps = static_cast<const CapDomain*>(found);
        }
        return v;
      }
      case Kind::kAttrs: {
        const auto* entry = key.kind == Kind::kString && operand.attrs
                                ? FindEntry(operand.attrs->entries, key.s)
                                : nullptr;
        if (presence) return Value::Bool(entry != nullptr);
        if (!entry) return Value::Error(ErrorCode::kNoSuchKey, KeyText(key));
        return AttributeToValue(entry->second);
      }
      case Kind::kCaps: {
        const auto* entry = key.kind == Kind::kString && operand.caps
                                ? FindEntry(operand.caps->entries, key.s)
                                : nullptr;
        if (presence) return Value::Bool(entry != nullptr);
        if (!entry) return Value::Error(ErrorCode::kNoSuchKey, KeyText(key));
        Value v;
        v.kind = Kind::kQuantity;
        v.q = &entry->second;
        return v;
      }
      default:
        // A presence test on a value that has no fields is false, not an error.
        if (presence) return Value::Bool(false);
        return Value::NoOverload(n.kind == NodeKind::kIndex ? "_[_]" : "field selection", operand);
    }
  }

  Value Variable(int32_t slot) {
    Slot& s = slots_[static_cast<size_t>(slot)];
    if (!s.computed) {
      s.value = Eval(s.init);
      s.computed = true;
    }
    return s.value;
  }

  // device.attributes["domain"].id or device.capacity["domain"].id with constant keys.
  Value DirectLookup(const Node& n) {
    if (n.direct == DeviceField::kAttributes) {
      const AttrDomain* domain = FindDomain(device_.attribute_domains(), n.domain);
      const auto* entry = domain ? FindEntry(domain->entries, n.id) : nullptr;
      if (!entry) return Value::Error(ErrorCode::kNoSuchKey, n.id);
      return AttributeToValue(entry->second);
    }
    const CapDomain* domain = FindDomain(device_.capacity_domains(), n.domain);
    const auto* entry = domain ? FindEntry(domain->entries, n.id) : nullptr;
    if (!entry) return Value::Error(ErrorCode::kNoSuchKey, n.id);
    Value v;
    v.kind = Kind::kQuantity;
    v.q = &entry->second;
    return v;
  }

  std::string_view KeyText(const Value& key) {
    if (key.kind == Kind::kString) return key.s;
    if (key.kind == Kind::kInt) return Keep(absl::StrCat(key.i));
    return KindName(key.kind);
  }

  ABSL_ATTRIBUTE_NOINLINE Value Binary(const Node& n) {
    if (n.op == BinaryOp::kIn &&
        expr_.nodes[static_cast<size_t>(n.children[1])].kind == NodeKind::kList) {
      return InList(n);
    }
    Value a = Eval(n.children[0]);
    Value b = Eval(n.children[1]);
    if (a.is_error()) return a;
    if (b.is_error()) return b;
    switch (n.op) {
      case BinaryOp::kEq:
        return Equal(a, b);
      case BinaryOp::kNe: {
        Value eq = Equal(a, b);
        if (eq.kind == Kind::kBool) eq.b = !eq.b;
        return eq;
      }
      case BinaryOp::kLt:
      case BinaryOp::kLe:
      case BinaryOp::kGt:
      case BinaryOp::kGe:
        return Order(n.op, a, b);
      case BinaryOp::kIn:
        return InMap(a, b);
      default:
        return Arithmetic(n.op, a, b);
    }
  }

  ABSL_ATTRIBUTE_NOINLINE Value InList(const Node& n) {
    const Node& list = expr_.nodes[static_cast<size_t>(n.children[1])];
    // A list of literals is a constant set upstream: empty, it is false without looking at the
    // left operand; otherwise the left operand is hashed, which a version cannot be.
    const bool constant = list.bool_value;
    if (constant && list.children.empty()) return Value::Bool(false);
    Value needle = Eval(n.children[0]);
    if (needle.is_error()) return needle;
    if (constant && needle.kind == Kind::kSemver) {
      return Value::Error(ErrorCode::kMessage, "hash of unhashable type kubernetes.Semver");
    }
    bool found = false;
    for (int32_t element : list.children) {
      Value e = Eval(element);
      if (e.is_error()) return e;
      // An element of another type is not a match, even where == would be an error.
      if (!found) {
        Value eq = Equal(needle, e);
        found = eq.kind == Kind::kBool && eq.b;
      }
    }
    return Value::Bool(found);
  }

  Value InMap(const Value& key, const Value& map) {
    switch (map.kind) {
      case Kind::kAttrDomains:
        return Value::Bool(key.kind == Kind::kString &&
                           FindDomain(device_.attribute_domains(), key.s));
      case Kind::kCapDomains:
        return Value::Bool(key.kind == Kind::kString &&
                           FindDomain(device_.capacity_domains(), key.s));
      case Kind::kAttrs:
        return Value::Bool(key.kind == Kind::kString && map.attrs &&
                           FindEntry(map.attrs->entries, key.s));
      case Kind::kCaps:
        return Value::Bool(key.kind == Kind::kString && map.caps &&
                           FindEntry(map.caps->entries, key.s));
      default:
        return Value::NoOverload("@in", key, map);
    }
  }

  // Upstream's equality: numbers compare across int and double; other values of different types
  // are unequal, except that a version or quantity on the left fails on a right of another type.
  Value Equal(const Value& a, const Value& b) {
    if (IsNumber(a.kind) && IsNumber(b.kind)) {
      std::optional<int> c = CompareNumbers(a, b);
      return Value::Bool(c.has_value() && *c == 0);
    }
    if (a.kind == Kind::kSemver) {
      if (b.kind != Kind::kSemver) return Value::NoOverload("_==_", a, b);
      return Value::Bool(a.v->Compare(*b.v) == 0);
    }
    if (a.kind == Kind::kQuantity) {
      if (b.kind != Kind::kQuantity) return Value::NoOverload("_==_", a, b);
      return Value::Bool(a.q->quantity.Cmp(b.q->quantity) == 0);
    }
    if (a.kind != b.kind) return Value::Bool(false);
    switch (a.kind) {
      case Kind::kBool:
        return Value::Bool(a.b == b.b);
      case Kind::kString:
        return Value::Bool(a.s == b.s);
      case Kind::kAttrs:
        return Value::Bool(a.attrs == b.attrs);
      case Kind::kCaps:
        return Value::Bool(a.caps == b.caps);
      default:
        return Value::Bool(true);  // the device and its two maps: one of each
    }
  }

  Value Order(BinaryOp op, const Value& a, const Value& b) {
    int c = 0;
    if (IsNumber(a.kind) && IsNumber(b.kind)) {
      std::optional<int> r = CompareNumbers(a, b);
      if (!r) return Value::Error(ErrorCode::kMessage, "NaN values cannot be ordered");
      c = *r;
    } else if (a.kind == Kind::kString && b.kind == Kind::kString) {
      c = a.s.compare(b.s);
    } else if (a.kind == Kind::kBool && b.kind == Kind::kBool) {
      c = static_cast<int>(a.b) - static_cast<int>(b.b);
    } else {
      static constexpr std::string_view kNames[] = {"_<_", "_<=_", "_>_", "_>=_"};
      return Value::NoOverload(kNames[static_cast<int>(op) - static_cast<int>(BinaryOp::kLt)], a,
                               b);
    }
    switch (op) {
      case BinaryOp::kLt:
        return Value::Bool(c < 0);
      case BinaryOp::kLe:
        return Value::Bool(c <= 0);
      case BinaryOp::kGt:
        return Value::Bool(c > 0);
      default:
        return Value::Bool(c >= 0);
    }
  }

  Value Arithmetic(BinaryOp op, const Value& a, const Value& b) {
    static constexpr std::string_view kNames[] = {"_+_", "_-_", "_*_", "_/_", "_%_"};
    const std::string_view name = kNames[static_cast<int>(op) - static_cast<int>(BinaryOp::kAdd)];
    if (a.kind == Kind::kInt && b.kind == Kind::kInt) {
      int64_t r = 0;
      switch (op) {
        case BinaryOp::kAdd:
          if (__builtin_add_overflow(a.i, b.i, &r))
            return Value::Error(ErrorCode::kIntegerOverflow);
          return Value::Int(r);
        case BinaryOp::kSub:
          if (__builtin_sub_overflow(a.i, b.i, &r))
            return Value::Error(ErrorCode::kIntegerOverflow);
          return Value::Int(r);
        case BinaryOp::kMul:
          if (__builtin_mul_overflow(a.i, b.i, &r))
            return Value::Error(ErrorCode::kIntegerOverflow);
          return Value::Int(r);
        case BinaryOp::kDiv:
          if (b.i == 0) return Value::Error(ErrorCode::kDivisionByZero);
          if (b.i == -1 && a.i == std::numeric_limits<int64_t>::min())
            return Value::Error(ErrorCode::kIntegerOverflow);
          return Value::Int(a.i / b.i);
        default:
          if (b.i == 0) return Value::Error(ErrorCode::kModulusByZero);
          if (b.i == -1 && a.i == std::numeric_limits<int64_t>::min())
            return Value::Error(ErrorCode::kIntegerOverflow);
          return Value::Int(a.i % b.i);
      }
    }
    if (a.kind == Kind::kDouble && b.kind == Kind::kDouble && op != BinaryOp::kMod) {
      switch (op) {
        case BinaryOp::kAdd:
          return Value::Double(a.d + b.d);
        case BinaryOp::kSub:
          return Value::Double(a.d - b.d);
        case BinaryOp::kMul:
          return Value::Double(a.d * b.d);
        default:
          return Value::Double(a.d / b.d);
      }
    }
    if (a.kind == Kind::kString && b.kind == Kind::kString && op == BinaryOp::kAdd) {
      return Value::String(Keep(absl::StrCat(internal::Sv(a.s), internal::Sv(b.s))));
    }
    return Value::NoOverload(name, a, b);
  }

  Value QuantityValue(const CapacityValue* q) {
    Value v;
    v.kind = Kind::kQuantity;
    v.q = q;
    return v;
  }

  Value SemverValue(const Semver* s) {
    Value v;
    v.kind = Kind::kSemver;
    v.v = s;
    return v;
  }

  ABSL_ATTRIBUTE_NOINLINE Value Call(const Node& n) {
    // Every function of the subset takes at most two arguments (a receiver counts as one).
    Value args[2];
    const size_t count = n.children.size();
    for (size_t k = 0; k < count && k < 2; ++k) {
      args[k] = Eval(n.children[k]);
      if (args[k].is_error()) return args[k];
    }
    const Value& a = args[0];
    const Value& b = args[1];
    const std::string_view name = n.text;
    auto no_overload = [&]() {
      return count == 1 ? Value::NoOverload(name, a) : Value::NoOverload(name, a, b);
    };
    switch (n.function) {
      case Function::kSize:
        switch (a.kind) {
          case Kind::kString:
            return Value::Int(static_cast<int64_t>(CodePoints(a.s)));
          case Kind::kAttrDomains:
            return Value::Int(static_cast<int64_t>(device_.attribute_domains().size()));
          case Kind::kCapDomains:
            return Value::Int(static_cast<int64_t>(device_.capacity_domains().size()));
          case Kind::kAttrs:
            return Value::Int(a.attrs ? static_cast<int64_t>(a.attrs->entries.size()) : 0);
          case Kind::kCaps:
            return Value::Int(a.caps ? static_cast<int64_t>(a.caps->entries.size()) : 0);
          default:
            return no_overload();
        }
      case Function::kStartsWith:
      case Function::kEndsWith:
      case Function::kContains:
        if (a.kind != Kind::kString || b.kind != Kind::kString) return no_overload();
        if (n.function == Function::kStartsWith)
          return Value::Bool(a.s.substr(0, b.s.size()) == b.s);
        if (n.function == Function::kEndsWith) {
          return Value::Bool(a.s.size() >= b.s.size() &&
                             a.s.substr(a.s.size() - b.s.size()) == b.s);
        }
        return Value::Bool(a.s.find(b.s) != std::string_view::npos);
      case Function::kMatches: {
        if (a.kind != Kind::kString || b.kind != Kind::kString) return no_overload();
        if (n.constant_index >= 0) {
          return Value::Bool(
              RE2::PartialMatch(a.s, *expr_.regexes[static_cast<size_t>(n.constant_index)]));
        }
        RE2::Options options;
        options.set_log_errors(false);
        RE2 re(b.s, options);
        if (!re.ok())
          return Value::Error(ErrorCode::kMessage,
                              Keep(absl::StrCat("error parsing regexp: ", re.error())));
        return Value::Bool(RE2::PartialMatch(a.s, re));
      }
      case Function::kLowerAscii:
      case Function::kUpperAscii: {
        if (a.kind != Kind::kString) return no_overload();
        std::string s(a.s);
        if (n.function == Function::kLowerAscii) {
          absl::AsciiStrToLower(&s);
        } else {
          absl::AsciiStrToUpper(&s);
        }
        return Value::String(Keep(std::move(s)));
      }
      case Function::kQuantity: {
        if (n.constant_index >= 0)
          return QuantityValue(&expr_.quantities[static_cast<size_t>(n.constant_index)]);
        if (a.kind != Kind::kString) return no_overload();
        absl::StatusOr<CapacityValue> q = CapacityValue::Parse(a.s);
        if (!q.ok())
          return Value::Error(ErrorCode::kMessage, Keep(std::string(q.status().message())));
        scratch_.quantities.push_front(*std::move(q));
        return QuantityValue(&scratch_.quantities.front());
      }
      case Function::kIsQuantity:
        if (a.kind != Kind::kString) return no_overload();
        return Value::Bool(Quantity::Parse(a.s).ok());
      case Function::kSign:
        if (a.kind != Kind::kQuantity) return no_overload();
        return Value::Int(a.q->quantity.Sign());
      case Function::kAsInteger:
        if (a.kind != Kind::kQuantity) return no_overload();
        if (!a.q->as_int64)
          return Value::Error(ErrorCode::kMessage, "cannot convert value to integer");
        return Value::Int(*a.q->as_int64);
      case Function::kIsInteger:
        if (a.kind != Kind::kQuantity) return no_overload();
        return Value::Bool(a.q->as_int64.has_value());
      case Function::kIsGreaterThan:
      case Function::kIsLessThan:
      case Function::kCompareTo: {
        int c = 0;
        if (a.kind == Kind::kQuantity && b.kind == Kind::kQuantity) {
          c = a.q->quantity.Cmp(b.q->quantity);
        } else if (a.kind == Kind::kSemver && b.kind == Kind::kSemver) {
          c = a.v->Compare(*b.v);
        } else {
          return no_overload();
        }
        if (n.function == Function::kCompareTo) return Value::Int(c);
        return Value::Bool(n.function == Function::kIsGreaterThan ? c > 0 : c < 0);
      }
      case Function::kSemver:
      case Function::kIsSemver: {
        if (n.function == Function::kSemver && n.constant_index >= 0) {
          return SemverValue(&expr_.semvers[static_cast<size_t>(n.constant_index)]);
        }
        if (a.kind != Kind::kString || (count == 2 && b.kind != Kind::kBool)) return no_overload();
        const bool normalize = count == 2 && b.b;
        absl::StatusOr<Semver> v = normalize ? Semver::ParseNormalized(a.s) : Semver::Parse(a.s);
        if (n.function == Function::kIsSemver) return Value::Bool(v.ok());
        if (!v.ok())
          return Value::Error(ErrorCode::kMessage, Keep(std::string(v.status().message())));
        scratch_.semvers.push_front(*std::move(v));
        return SemverValue(&scratch_.semvers.front());
      }
      case Function::kMajor:
      case Function::kMinor:
      case Function::kPatch: {
        if (a.kind != Kind::kSemver) return no_overload();
        const uint64_t part = n.function == Function::kMajor   ? a.v->major
                              : n.function == Function::kMinor ? a.v->minor
                                                               : a.v->patch;
        return Value::Int(static_cast<int64_t>(part));
      }
      case Function::kNone:
        break;
    }
    return Value::Error(ErrorCode::kMessage, "internal error: unresolved function");
  }

  struct Slot {
    int32_t init = -1;
    bool computed = false;
    Value value;
  };

  const CompiledExpression& expr_;
  const Device& device_;
  Scratch scratch_;
  absl::InlinedVector<Slot, 2> slots_;  // cel.bind variables by nesting depth
};

}  // namespace

absl::StatusOr<Program> Program::Compile(std::string_view expression) {
  auto compiled = std::make_shared<CompiledExpression>();
  compiled->expression = std::string(expression);
  RETURN_IF_ERROR(internal::Parse(compiled->expression, compiled.get()));
  RETURN_IF_ERROR(internal::Check(compiled.get()));
  return Program(std::move(compiled));
}

absl::StatusOr<bool> Program::Matches(const Device& device) const {
  Evaluator evaluator(*compiled_, device);
  Value result = evaluator.Eval(compiled_->root);
  if (result.kind == Kind::kBool) return result.b;
  if (result.is_error()) return absl::InvalidArgumentError(ErrorMessage(result));
  return absl::InvalidArgumentError(
      absl::StrCat("result of type ", internal::Sv(KindName(result.kind)), " is not a bool"));
}

const std::string& Program::expression() const { return compiled_->expression; }

}  // namespace sextant::cel
