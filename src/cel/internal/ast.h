// The syntax tree of a CEL selector: a flat vector of nodes that refer to each other by index.
// The parser fills in the syntax; the checker fills in each node's type and resolves each call
// to one function, so evaluation is a switch per node.
#ifndef SEXTANT_CEL_INTERNAL_AST_H_
#define SEXTANT_CEL_INTERNAL_AST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "re2/re2.h"
#include "sextant/cel.h"
#include "sextant/quantity.h"

namespace sextant::cel::internal {

enum class NodeKind : uint8_t {
  kBool,     // bool_value
  kInt,      // int_value
  kDouble,   // double_value
  kString,   // text
  kIdent,    // text
  kSelect,   // children[0].text
  kHas,      // has(children[0].text): the operand of the select is children[0]
  kIndex,    // children[0][children[1]]
  kCall,     // text(children...), or children[0].text(children[1]...) when member
  kList,     // [children...]
  kNot,      // !children[0]
  kNegate,   // -children[0]
  kAnd,      // children[0] && children[1]
  kOr,       // children[0] || children[1]
  kTernary,  // children[0] ? children[1] : children[2]
  kBinary,   // children[0] op children[1]
  kBind,     // cel.bind(text, children[0], children[1]): children[1] with text bound to children[0]
};

enum class BinaryOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kAdd, kSub, kMul, kDiv, kMod };

// Static types, as upstream declares the `device` variable: attributes are dyn (their type is
// known only per device), capacities are quantities.
enum class Type : uint8_t {
  kBool,
  kInt,
  kDouble,
  kString,
  kQuantity,
  kSemver,
  kDyn,
  kDevice,       // the `device` object
  kAttrDomains,  // device.attributes: map(string, map(string, dyn))
  kAttrs,        // device.attributes[domain]: map(string, dyn)
  kCapDomains,   // device.capacity: map(string, map(string, kubernetes.Quantity))
  kCaps,         // device.capacity[domain]: map(string, kubernetes.Quantity)
  kList,         // a list literal; its element type is Node::element_type
};

// Every function of the subset, one entry per overload family the evaluator implements.
enum class Function : uint8_t {
  kNone,
  kSize,
  kStartsWith,
  kEndsWith,
  kContains,
  kMatches,
  kLowerAscii,
  kUpperAscii,
  kQuantity,
  kIsQuantity,
  kSign,
  kIsGreaterThan,
  kIsLessThan,
  kCompareTo,
  kAsInteger,
  kIsInteger,
  kSemver,
  kIsSemver,
  kMajor,
  kMinor,
  kPatch,
};

// The field of `device` a select names.
enum class DeviceField : uint8_t {
  kNone,
  kDriver,
  kAllowMultipleAllocations,
  kAttributes,
  kCapacity
};

// Where a token starts: 1-based line and column (in characters).
struct Position {
  int32_t line = 1;
  int32_t column = 1;
};

struct Node {
  NodeKind kind;
  Position position;  // of the token that names the node
  std::vector<int32_t> children;
  std::string text;
  bool bool_value = false;
  int64_t int_value = 0;
  double double_value = 0;
  bool member = false;  // kCall: written as a method call on children[0].
  BinaryOp op = BinaryOp::kEq;

  // Filled in by the checker.
  Type type = Type::kDyn;
  Type element_type = Type::kDyn;  // kList
  Function function = Function::kNone;
  DeviceField field = DeviceField::kNone;
  // Constants computed once at compile time for the evaluator.
  int32_t constant_index = -1;  // into CompiledExpression::quantities / semvers / regexes
  // kSelect / kIndex written as device.attributes["domain"].id (or ["id"], or the same on
  // device.capacity) with constant strings: the evaluator looks the value up directly instead of
  // walking the four nodes. `domain` and `id` are the two keys.
  DeviceField direct = DeviceField::kNone;
  // kBind, and a kIdent naming a bound variable: the variable's slot (its nesting depth).
  int32_t slot = -1;
  std::string domain;
  std::string id;
};

struct CompiledExpression {
  std::string expression;
  std::vector<Node> nodes;
  int32_t root = -1;
  // Constant arguments evaluated at compile time: quantity("..."), semver("..."), and matches()
  // patterns. A constant that does not parse is left out (index -1) and fails at run time, as
  // upstream only checks regular expressions at compile time.
  std::vector<CapacityValue> quantities;
  std::vector<Semver> semvers;
  std::vector<std::unique_ptr<RE2>> regexes;
};

}  // namespace sextant::cel::internal

#endif  // SEXTANT_CEL_INTERNAL_AST_H_
