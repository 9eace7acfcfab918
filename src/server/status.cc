#include "server/status.h"

#include <string>

namespace sextant::server {
namespace {

// Both enums are google.rpc.Code; these pin the one-to-one numbering the cast below relies on.
template <absl::StatusCode A, grpc::StatusCode G>
constexpr bool kSame = static_cast<int>(A) == static_cast<int>(G);
static_assert(kSame<absl::StatusCode::kOk, grpc::StatusCode::OK>);
static_assert(kSame<absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED>);
static_assert(kSame<absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN>);
static_assert(kSame<absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT>);
static_assert(kSame<absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED>);
static_assert(kSame<absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND>);
static_assert(kSame<absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS>);
static_assert(kSame<absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED>);
static_assert(kSame<absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED>);
static_assert(kSame<absl::StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION>);
static_assert(kSame<absl::StatusCode::kAborted, grpc::StatusCode::ABORTED>);
static_assert(kSame<absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE>);
static_assert(kSame<absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED>);
static_assert(kSame<absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL>);
static_assert(kSame<absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE>);
static_assert(kSame<absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS>);
static_assert(kSame<absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED>);

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const int code = static_cast<int>(status.code());
  const bool known = code > 0 && code <= static_cast<int>(grpc::StatusCode::UNAUTHENTICATED);
  return grpc::Status(known ? static_cast<grpc::StatusCode>(code) : grpc::StatusCode::UNKNOWN,
                      std::string(status.message()));
}

}  // namespace sextant::server
