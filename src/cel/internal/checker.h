// Type-checks a parsed selector the way upstream's checker does with the declared `device`
// variable, resolves every call to a Function, and evaluates constant arguments
// (quantity("..."), semver("..."), matches patterns) once.
#ifndef SEXTANT_CEL_INTERNAL_CHECKER_H_
#define SEXTANT_CEL_INTERNAL_CHECKER_H_

#include "absl/status/status.h"
#include "cel/internal/ast.h"

namespace sextant::cel::internal {

// InvalidArgument "<problem> at column N" on a type error or a construct outside the subset.
absl::Status Check(CompiledExpression* expr);

}  // namespace sextant::cel::internal

#endif  // SEXTANT_CEL_INTERNAL_CHECKER_H_
