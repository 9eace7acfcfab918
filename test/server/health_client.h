// A grpc.health.v1 client for tests, through the generic stub (no generated health code ships
// with the Debian gRPC packages).
#ifndef SEXTANT_TEST_SERVER_HEALTH_CLIENT_H_
#define SEXTANT_TEST_SERVER_HEALTH_CLIENT_H_

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace sextant::server::testing {

// The wire form of HealthCheckResponse{status: SERVING}: field 1, varint 1.
inline const std::string kServing("\x08\x01", 2);

// Calls /grpc.health.v1.Health/Check for the whole server; on OK, *bytes holds the response's
// wire form (kServing when serving). With wait_for_ready, a server that is not accepting yet is
// retried until the 5 s deadline instead of failing at once.
inline grpc::Status CheckHealth(const std::shared_ptr<grpc::Channel>& channel, std::string* bytes,
                                bool wait_for_ready = false) {
  grpc::GenericStub generic(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  context.set_wait_for_ready(wait_for_ready);
  grpc::Slice no_bytes(std::string{});  // HealthCheckRequest{service: ""} encodes to nothing
  grpc::ByteBuffer request(&no_bytes, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  bytes->clear();
  std::vector<grpc::Slice> slices;
  if (status.ok() && response.Dump(&slices).ok()) {
    for (const grpc::Slice& slice : slices) {
      bytes->append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
  }
  return status;
}

}  // namespace sextant::server::testing

#endif  // SEXTANT_TEST_SERVER_HEALTH_CLIENT_H_
