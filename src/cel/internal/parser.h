// Parses a CEL selector into a syntax tree. Syntax outside the subset (map and message literals,
// bytes, unsigned and null literals, optional selection) is rejected here with its column.
#ifndef SEXTANT_CEL_INTERNAL_PARSER_H_
#define SEXTANT_CEL_INTERNAL_PARSER_H_

#include <string_view>

#include "absl/status/status.h"
#include "cel/internal/ast.h"

namespace sextant::cel::internal {

// Appends the nodes to out->nodes and sets out->root. InvalidArgument "<problem> at column N".
absl::Status Parse(std::string_view expression, CompiledExpression* out);

// "at column C" on the first line, "at line L, column C" after it.
std::string AtPosition(Position p);

}  // namespace sextant::cel::internal

#endif  // SEXTANT_CEL_INTERNAL_PARSER_H_
