// RETURN_IF_ERROR / ASSIGN_OR_RETURN for absl::Status and absl::StatusOr. The only place they live.
#ifndef SEXTANT_COMMON_STATUS_MACROS_H_
#define SEXTANT_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SEXTANT_CONCAT_INNER_(a, b) a##b
#define SEXTANT_CONCAT_(a, b) SEXTANT_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                  \
  do {                                         \
    ::absl::Status sextant_status_ = (expr);   \
    if (!sextant_status_.ok()) return sextant_status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, rexpr) \
  SEXTANT_ASSIGN_OR_RETURN_IMPL_(SEXTANT_CONCAT_(sextant_statusor_, __LINE__), lhs, rexpr)

#define SEXTANT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()

#endif  // SEXTANT_COMMON_STATUS_MACROS_H_
