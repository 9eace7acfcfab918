// EngineService: the sextant.v1.Engine gRPC service. Each handler decodes the request
// (convert.h), calls the Engine, and encodes the answer; the Engine pointer is its only state,
// so any number of handlers run at once (the synchronous gRPC server gives each call a thread).
// Errors leave through ToGrpcStatus (status.h); a reply is OK only when the call succeeded.
#ifndef SEXTANT_SERVER_SERVICE_H_
#define SEXTANT_SERVER_SERVICE_H_

#include <string>

#include "grpcpp/grpcpp.h"
#include "sextant/engine.h"
#include "sextant/v1/engine.grpc.pb.h"

namespace sextant::server {

class EngineService final : public v1::Engine::Service {
 public:
  // `engine` is not owned and must outlive the service.
  explicit EngineService(Engine* engine) : engine_(engine) {}

  // One SyncResponse per request. A delta out of sequence answers resync_required (nothing
  // applied) and the stream goes on; a malformed message, or one the engine rejects, ends the
  // stream with INVALID_ARGUMENT naming the object and field, nothing applied.
  grpc::Status Sync(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<v1::SyncResponse, v1::SyncRequest>* stream) override;
  // Waits for min_sequence up to min(remaining deadline, 2 s) (no deadline: 10 s is assumed),
  // then UNAVAILABLE ("stale"); FAILED_PRECONDITION on an epoch mismatch.
  grpc::Status Evaluate(grpc::ServerContext* context, const v1::EvaluateRequest* request,
                        v1::EvaluateResponse* response) override;
  // UNIMPLEMENTED for now.
  grpc::Status Preempt(grpc::ServerContext* context, const v1::PreemptRequest* request,
                       v1::PreemptResponse* response) override;
  grpc::Status Assume(grpc::ServerContext* context, const v1::AssumeRequest* request,
                      v1::AssumeResponse* response) override;
  grpc::Status Forget(grpc::ServerContext* context, const v1::ForgetRequest* request,
                      v1::ForgetResponse* response) override;

  // One message of a Sync stream, as Sync handles it: fills `response` (epoch, applied sequence,
  // resync_required for a delta out of sequence) and returns OK, or the status that ends the
  // stream (nothing applied). `peer` only appears in logs. Sync calls it for every message it
  // reads; tests and fuzz targets drive it in-process.
  grpc::Status ApplySyncRequest(const v1::SyncRequest& request, const std::string& peer,
                                v1::SyncResponse* response);

 private:
  Engine* const engine_;
};

}  // namespace sextant::server

#endif  // SEXTANT_SERVER_SERVICE_H_
