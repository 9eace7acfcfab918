// Static types follow upstream's declarations: device.attributes[d][id] is dyn, so anything goes
// at compile time and is decided per device at run time; device.capacity[d][id] is a quantity, so
// comparing it with < or with a string is a compile error. Overload resolution with dyn
// arguments accepts a call when some overload fits, as upstream's checker does.
#include "cel/internal/checker.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "cel/internal/ast.h"
#include "cel/internal/parser.h"
#include "cel/internal/strings.h"
#include "common/status_macros.h"

namespace sextant::cel::internal {
namespace {

// cel.bind variables in scope at once.
constexpr size_t kMaxBindings = 16;

std::string TypeName(Type t, Type element = Type::kDyn) {
  switch (t) {
    case Type::kBool:
      return "bool";
    case Type::kInt:
      return "int";
    case Type::kDouble:
      return "double";
    case Type::kString:
      return "string";
    case Type::kQuantity:
      return "kubernetes.Quantity";
    case Type::kSemver:
      return "kubernetes.Semver";
    case Type::kDyn:
      return "dyn";
    case Type::kDevice:
      return "kubernetes.DRADevice";
    case Type::kAttrDomains:
      return "map(string, map(string, dyn))";
    case Type::kAttrs:
      return "map(string, dyn)";
    case Type::kCapDomains:
      return "map(string, map(string, kubernetes.Quantity))";
    case Type::kCaps:
      return "map(string, kubernetes.Quantity)";
    case Type::kList:
      return absl::StrCat("list(", TypeName(element), ")");
  }
  return "?";
}

bool IsMap(Type t) {
  return t == Type::kAttrDomains || t == Type::kAttrs || t == Type::kCapDomains || t == Type::kCaps;
}

// The value type a map of type t holds.
Type MapValue(Type t) {
  switch (t) {
    case Type::kAttrDomains:
      return Type::kAttrs;
    case Type::kAttrs:
      return Type::kDyn;
    case Type::kCapDomains:
      return Type::kCaps;
    default:
      return Type::kQuantity;
  }
}

// Whether a value of type `arg` may be passed where `param` is expected.
bool Fits(Type arg, Type param) { return arg == Type::kDyn || param == Type::kDyn || arg == param; }

class Checker {
 public:
  explicit Checker(CompiledExpression* expr) : expr_(expr) {}

  absl::Status Run() {
    ASSIGN_OR_RETURN(Type result, Visit(expr_->root));
    if (result != Type::kBool && result != Type::kDyn) {
      return absl::InvalidArgumentError(absl::StrCat(
          "must evaluate to bool, not ", TypeName(result, node(expr_->root).element_type)));
    }
    return absl::OkStatus();
  }

 private:
  Node& node(int32_t i) { return expr_->nodes[static_cast<size_t>(i)]; }

  absl::Status Error(int32_t i, std::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(Sv(what), " ", AtPosition(node(i).position)));
  }

  absl::Status NoOverload(int32_t i, std::string_view name, const std::vector<Type>& args) {
    std::string list;
    for (size_t k = 0; k < args.size(); ++k) {
      absl::StrAppend(&list, k ? ", " : "", TypeName(args[k]));
    }
    return Error(i,
                 absl::StrCat("no matching overload for ", Sv(name), " applied to (", list, ")"));
  }

  absl::StatusOr<Type> Visit(int32_t i) {
    ASSIGN_OR_RETURN(Type t, VisitUntyped(i));
    node(i).type = t;
    MarkDirectLookup(i);
    return t;
  }

  // The constant key of a select or index node, or null.
  const std::string* ConstantKey(const Node& n) {
    if (n.kind == NodeKind::kSelect) return &n.text;
    if (n.kind == NodeKind::kIndex && node(n.children[1]).kind == NodeKind::kString) {
      return &node(n.children[1]).text;
    }
    return nullptr;
  }

  void MarkDirectLookup(int32_t i) {
    Node& n = node(i);
    const std::string* id = ConstantKey(n);
    if (!id) return;
    const Node& domain_node = node(n.children[0]);
    const std::string* domain = ConstantKey(domain_node);
    if (!domain) return;
    const Node& map = node(domain_node.children[0]);
    if (map.kind != NodeKind::kSelect || node(map.children[0]).kind != NodeKind::kIdent ||
        node(map.children[0]).slot >= 0) {
      return;
    }
    if (map.field != DeviceField::kAttributes && map.field != DeviceField::kCapacity) return;
    n.direct = map.field;
    n.domain = *domain;
    n.id = *id;
  }

  absl::StatusOr<Type> VisitUntyped(int32_t i) {
    Node& n = node(i);
    switch (n.kind) {
      case NodeKind::kBool:
        return Type::kBool;
      case NodeKind::kInt:
        return Type::kInt;
      case NodeKind::kDouble:
        return Type::kDouble;
      case NodeKind::kString:
        return Type::kString;
      case NodeKind::kIdent:
        for (auto it = scope_.rbegin(); it != scope_.rend(); ++it) {
          if (it->name == n.text) {
            n.slot = it->slot;
            return it->type;
          }
        }
        if (n.text == "device") return Type::kDevice;
        return Error(i, absl::StrCat("undeclared reference to \"", n.text,
                                     "\" (only `device` is declared)"));
      case NodeKind::kSelect:
      case NodeKind::kHas:
        return Select(i);
      case NodeKind::kIndex:
        return Index(i);
      case NodeKind::kCall:
        return Call(i);
      case NodeKind::kList:
        return Error(i,
                     "unsupported: list literals are part of Sextant's CEL subset only as the "
                     "right operand of 'in'");
      case NodeKind::kNot:
      case NodeKind::kAnd:
      case NodeKind::kOr: {
        std::vector<Type> args;
        for (int32_t c : n.children) {
          ASSIGN_OR_RETURN(Type t, Visit(c));
          args.push_back(t);
        }
        for (Type t : args) {
          if (!Fits(t, Type::kBool)) {
            return NoOverload(i,
                              n.kind == NodeKind::kNot   ? "'!'"
                              : n.kind == NodeKind::kAnd ? "'&&'"
                                                         : "'||'",
                              args);
          }
        }
        return Type::kBool;
      }
      case NodeKind::kNegate: {
        ASSIGN_OR_RETURN(Type t, Visit(n.children[0]));
        if (t == Type::kInt || t == Type::kDouble || t == Type::kDyn) return t;
        return NoOverload(i, "'-'", {t});
      }
      case NodeKind::kTernary: {
        ASSIGN_OR_RETURN(Type cond, Visit(n.children[0]));
        ASSIGN_OR_RETURN(Type yes, Visit(n.children[1]));
        ASSIGN_OR_RETURN(Type no, Visit(n.children[2]));
        if (!Fits(cond, Type::kBool) || !Fits(yes, no) || yes == Type::kList || no == Type::kList) {
          return NoOverload(i, "'?:'", {cond, yes, no});
        }
        return yes == Type::kDyn ? no : yes;
      }
      case NodeKind::kBinary:
        return Binary(i);
      case NodeKind::kBind: {
        if (scope_.size() >= kMaxBindings) return Error(i, "cel.bind nests too deeply");
        const int32_t init = n.children[0], body = n.children[1];
        ASSIGN_OR_RETURN(Type init_type, Visit(init));
        if (init_type == Type::kList) {
          return Error(init, "unsupported: list values outside 'in'");
        }
        node(i).slot = static_cast<int32_t>(scope_.size());
        scope_.push_back(Binding{node(i).text, node(i).slot, init_type});
        absl::StatusOr<Type> body_type = Visit(body);
        scope_.pop_back();
        return body_type;
      }
    }
    return Error(i, "internal error: unknown node");
  }

  absl::StatusOr<Type> Select(int32_t i) {
    const int32_t operand_index = node(i).children[0];
    ASSIGN_OR_RETURN(Type operand, Visit(operand_index));
    Node& n = node(i);
    if (operand == Type::kDevice) {
      if (n.text == "driver") {
        n.field = DeviceField::kDriver;
        return n.kind == NodeKind::kHas ? Type::kBool : Type::kString;
      }
      if (n.text == "allowMultipleAllocations") {
        n.field = DeviceField::kAllowMultipleAllocations;
        return Type::kBool;
      }
      if (n.text == "attributes") {
        n.field = DeviceField::kAttributes;
        return n.kind == NodeKind::kHas ? Type::kBool : Type::kAttrDomains;
      }
      if (n.text == "capacity") {
        n.field = DeviceField::kCapacity;
        return n.kind == NodeKind::kHas ? Type::kBool : Type::kCapDomains;
      }
      return Error(i, absl::StrCat("undefined field \"", n.text, "\" of device"));
    }
    if (IsMap(operand)) return n.kind == NodeKind::kHas ? Type::kBool : MapValue(operand);
    if (operand == Type::kDyn) return n.kind == NodeKind::kHas ? Type::kBool : Type::kDyn;
    return Error(i, absl::StrCat("type ", TypeName(operand), " does not support field selection"));
  }

  absl::StatusOr<Type> Index(int32_t i) {
    const int32_t operand_index = node(i).children[0];
    const int32_t key_index = node(i).children[1];
    ASSIGN_OR_RETURN(Type operand, Visit(operand_index));
    ASSIGN_OR_RETURN(Type key, Visit(key_index));
    if (IsMap(operand) && Fits(key, Type::kString)) return MapValue(operand);
    if (operand == Type::kDyn) return Type::kDyn;
    return NoOverload(i, "'[]'", {operand, key});
  }

  absl::StatusOr<Type> Binary(int32_t i) {
    const BinaryOp op = node(i).op;
    const int32_t left_index = node(i).children[0];
    const int32_t right_index = node(i).children[1];
    ASSIGN_OR_RETURN(Type left, Visit(left_index));
    if (op == BinaryOp::kIn && node(right_index).kind == NodeKind::kList) {
      ASSIGN_OR_RETURN(Type element, ListElement(right_index));
      node(right_index).type = Type::kList;
      node(right_index).element_type = element;
      if (!Fits(left, element)) return NoOverload(i, "'in'", {left, Type::kList});
      return Type::kBool;
    }
    ASSIGN_OR_RETURN(Type right, Visit(right_index));
    std::vector<Type> args = {left, right};
    switch (op) {
      case BinaryOp::kEq:
      case BinaryOp::kNe:
        if (!Fits(left, right) || left == Type::kDevice) return NoOverload(i, OpName(op), args);
        if (IsMap(left) && IsMap(right)) return Error(i, "unsupported: comparing maps");
        return Type::kBool;
      case BinaryOp::kLt:
      case BinaryOp::kLe:
      case BinaryOp::kGt:
      case BinaryOp::kGe: {
        // int, double (and across the two), string, bool.
        auto orderable = [](Type t) {
          return t == Type::kInt || t == Type::kDouble || t == Type::kString || t == Type::kBool ||
                 t == Type::kDyn;
        };
        auto numeric = [](Type t) { return t == Type::kInt || t == Type::kDouble; };
        if (!orderable(left) || !orderable(right)) return NoOverload(i, OpName(op), args);
        if (left != Type::kDyn && right != Type::kDyn && left != right &&
            !(numeric(left) && numeric(right))) {
          return NoOverload(i, OpName(op), args);
        }
        return Type::kBool;
      }
      case BinaryOp::kIn:
        if (IsMap(right) && Fits(left, Type::kString)) return Type::kBool;
        if (right == Type::kDyn) return Type::kBool;
        return NoOverload(i, OpName(op), args);
      case BinaryOp::kAdd:
      case BinaryOp::kSub:
      case BinaryOp::kMul:
      case BinaryOp::kDiv:
      case BinaryOp::kMod: {
        std::vector<Type> allowed = {Type::kInt};
        if (op != BinaryOp::kMod) allowed.push_back(Type::kDouble);
        if (op == BinaryOp::kAdd) allowed.push_back(Type::kString);
        Type result = Type::kDyn;
        int fits = 0;
        for (Type t : allowed) {
          if (Fits(left, t) && Fits(right, t)) {
            ++fits;
            result = t;
          }
        }
        if (fits == 0) return NoOverload(i, OpName(op), args);
        return fits == 1 ? result : Type::kDyn;
      }
    }
    return Error(i, "internal error: unknown operator");
  }

  static std::string_view OpName(BinaryOp op) {
    switch (op) {
      case BinaryOp::kEq:
        return "'=='";
      case BinaryOp::kNe:
        return "'!='";
      case BinaryOp::kLt:
        return "'<'";
      case BinaryOp::kLe:
        return "'<='";
      case BinaryOp::kGt:
        return "'>'";
      case BinaryOp::kGe:
        return "'>='";
      case BinaryOp::kIn:
        return "'in'";
      case BinaryOp::kAdd:
        return "'+'";
      case BinaryOp::kSub:
        return "'-'";
      case BinaryOp::kMul:
        return "'*'";
      case BinaryOp::kDiv:
        return "'/'";
      case BinaryOp::kMod:
        return "'%'";
    }
    return "?";
  }

  // Upstream requires the elements of a list literal to share one exact type.
  absl::StatusOr<Type> ListElement(int32_t list) {
    Type element = Type::kDyn;
    bool first = true;
    const std::vector<int32_t> children = node(list).children;
    for (int32_t c : children) {
      ASSIGN_OR_RETURN(Type t, Visit(c));
      if (t == Type::kDevice || IsMap(t)) {
        return Error(c, absl::StrCat("unsupported: list elements of type ", TypeName(t)));
      }
      if (first) {
        element = t;
        first = false;
      } else if (t != element) {
        // Exact types, as upstream's homogeneous-literal rule: dyn does not mix either.
        return Error(c, absl::StrCat("list elements must share one type: expected ",
                                     TypeName(element), " but found ", TypeName(t)));
      }
    }
    Node& list_node = node(list);
    list_node.bool_value = true;
    for (int32_t c : children) {
      const NodeKind k = node(c).kind;
      if (k != NodeKind::kBool && k != NodeKind::kInt && k != NodeKind::kDouble &&
          k != NodeKind::kString) {
        list_node.bool_value = false;
      }
    }
    return element;
  }

  bool InScope(const std::string& name) const {
    for (const Binding& b : scope_) {
      if (b.name == name) return true;
    }
    return false;
  }

  static bool Supported(const std::string& name) {
    static constexpr std::string_view kNames[] = {
        "size",       "startsWith", "endsWith",      "contains",   "matches",
        "lowerAscii", "upperAscii", "quantity",      "isQuantity", "sign",
        "asInteger",  "isInteger",  "semver",        "isSemver",   "major",
        "minor",      "patch",      "isGreaterThan", "isLessThan", "compareTo"};
    for (std::string_view n : kNames) {
      if (n == name) return true;
    }
    return false;
  }

  absl::StatusOr<Type> Call(int32_t i) {
    {
      // Reject before looking at the arguments: a macro's arguments (exists(k, ...)) and a
      // namespaced function (math.greatest) would otherwise read as undeclared names.
      const Node& n = node(i);
      std::string name = n.text;
      if (n.member && node(n.children[0]).kind == NodeKind::kIdent &&
          node(n.children[0]).text != "device" && !InScope(node(n.children[0]).text)) {
        name = absl::StrCat(node(n.children[0]).text, ".", name);
      }
      if (!Supported(name)) return Error(i, absl::StrCat("unsupported function \"", name, "\""));
    }
    std::vector<Type> args;
    const std::vector<int32_t> children = node(i).children;
    for (int32_t c : children) {
      ASSIGN_OR_RETURN(Type t, Visit(c));
      args.push_back(t);
    }
    Node& n = node(i);
    const std::string name = n.text;
    const bool member = n.member;
    auto want = [&](Function f, bool as_member, std::vector<Type> params) -> bool {
      if (member != as_member || args.size() != params.size()) return false;
      for (size_t k = 0; k < params.size(); ++k) {
        if (!Fits(args[k], params[k])) return false;
      }
      n.function = f;
      return true;
    };
    auto unsupported = [&]() {
      return Error(i, absl::StrCat("unsupported function \"", name, "\""));
    };
    const std::string shown =
        member ? absl::StrCat("'", name, "' (method)") : absl::StrCat("'", name, "'");

    if (name == "size") {
      auto sized = [](Type t) { return t == Type::kString || t == Type::kDyn || IsMap(t); };
      if (args.size() == 1 && sized(args[0])) {
        n.function = Function::kSize;
        return Type::kInt;
      }
      return NoOverload(i, shown, args);
    }
    if (name == "startsWith" || name == "endsWith" || name == "contains") {
      const Function f = name == "startsWith" ? Function::kStartsWith
                         : name == "endsWith" ? Function::kEndsWith
                                              : Function::kContains;
      if (want(f, true, {Type::kString, Type::kString})) return Type::kBool;
      return NoOverload(i, shown, args);
    }
    if (name == "matches") {
      if (args.size() == 2 && Fits(args[0], Type::kString) && Fits(args[1], Type::kString)) {
        n.function = Function::kMatches;
        RETURN_IF_ERROR(PrecompileRegex(i));
        return Type::kBool;
      }
      return NoOverload(i, shown, args);
    }
    if (name == "lowerAscii" || name == "upperAscii") {
      if (want(name == "lowerAscii" ? Function::kLowerAscii : Function::kUpperAscii, true,
               {Type::kString})) {
        return Type::kString;
      }
      return NoOverload(i, shown, args);
    }
    if (name == "quantity") {
      if (want(Function::kQuantity, false, {Type::kString})) {
        PrecompileQuantity(i);
        return Type::kQuantity;
      }
      return NoOverload(i, shown, args);
    }
    if (name == "isQuantity") {
      if (want(Function::kIsQuantity, false, {Type::kString})) return Type::kBool;
      return NoOverload(i, shown, args);
    }
    if (name == "sign") {
      if (want(Function::kSign, false, {Type::kQuantity})) return Type::kInt;
      return NoOverload(i, shown, args);
    }
    if (name == "asInteger" || name == "isInteger") {
      const bool as = name == "asInteger";
      if (want(as ? Function::kAsInteger : Function::kIsInteger, true, {Type::kQuantity})) {
        return as ? Type::kInt : Type::kBool;
      }
      return NoOverload(i, shown, args);
    }
    if (name == "semver" || name == "isSemver") {
      const bool is = name == "isSemver";
      const Function f = is ? Function::kIsSemver : Function::kSemver;
      if (want(f, false, {Type::kString}) || want(f, false, {Type::kString, Type::kBool})) {
        if (!is) PrecompileSemver(i);
        return is ? Type::kBool : Type::kSemver;
      }
      return NoOverload(i, shown, args);
    }
    if (name == "major" || name == "minor" || name == "patch") {
      const Function f = name == "major"   ? Function::kMajor
                         : name == "minor" ? Function::kMinor
                                           : Function::kPatch;
      if (want(f, true, {Type::kSemver})) return Type::kInt;
      return NoOverload(i, shown, args);
    }
    if (name == "isGreaterThan" || name == "isLessThan" || name == "compareTo") {
      const Function f = name == "isGreaterThan" ? Function::kIsGreaterThan
                         : name == "isLessThan"  ? Function::kIsLessThan
                                                 : Function::kCompareTo;
      const Type result = f == Function::kCompareTo ? Type::kInt : Type::kBool;
      if (want(f, true, {Type::kQuantity, Type::kQuantity}) ||
          want(f, true, {Type::kSemver, Type::kSemver})) {
        return result;
      }
      return NoOverload(i, shown, args);
    }
    return unsupported();
  }

  // A constant pattern is compiled once; an invalid one is a compile error, as upstream
  // validates regular expression literals.
  absl::Status PrecompileRegex(int32_t i) {
    const Node& pattern = node(node(i).children[1]);
    if (pattern.kind != NodeKind::kString) return absl::OkStatus();
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_unique<RE2>(pattern.text, options);
    if (!re->ok()) {
      return Error(node(i).children[1], absl::StrCat("invalid regular expression: ", re->error()));
    }
    node(i).constant_index = static_cast<int32_t>(expr_->regexes.size());
    expr_->regexes.push_back(std::move(re));
    return absl::OkStatus();
  }

  void PrecompileQuantity(int32_t i) {
    const Node& text = node(node(i).children[0]);
    if (text.kind != NodeKind::kString) return;
    absl::StatusOr<CapacityValue> q = CapacityValue::Parse(text.text);
    if (!q.ok()) return;  // fails at run time, as upstream
    node(i).constant_index = static_cast<int32_t>(expr_->quantities.size());
    expr_->quantities.push_back(*std::move(q));
  }

  void PrecompileSemver(int32_t i) {
    const Node& n = node(i);
    const Node& text = node(n.children[0]);
    if (text.kind != NodeKind::kString) return;
    bool normalize = false;
    if (n.children.size() == 2) {
      const Node& flag = node(n.children[1]);
      if (flag.kind != NodeKind::kBool) return;
      normalize = flag.bool_value;
    }
    absl::StatusOr<Semver> v =
        normalize ? Semver::ParseNormalized(text.text) : Semver::Parse(text.text);
    if (!v.ok()) return;
    node(i).constant_index = static_cast<int32_t>(expr_->semvers.size());
    expr_->semvers.push_back(*std::move(v));
  }

  struct Binding {
    std::string name;
    int32_t slot;
    Type type;
  };

  CompiledExpression* expr_;
  std::vector<Binding> scope_;  // cel.bind variables in scope, innermost last
};

}  // namespace

absl::Status Check(CompiledExpression* expr) {
  Checker checker(expr);
  return checker.Run();
}

}  // namespace sextant::cel::internal
