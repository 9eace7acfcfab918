// The one conversion from absl::Status (what the engine returns) to grpc::Status (what a handler
// returns). Every handler error goes through it, so codes map one to one everywhere.
#ifndef SEXTANT_SERVER_STATUS_H_
#define SEXTANT_SERVER_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace sextant::server {

// The gRPC status with the same code and message. OK only for an OK status: a non-OK status
// whose code gRPC does not know becomes UNKNOWN, never OK.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace sextant::server

#endif  // SEXTANT_SERVER_STATUS_H_
