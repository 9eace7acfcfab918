#include "server/service.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/convert.h"
#include "server/convert_dra.h"
#include "server/status.h"
#include "spdlog/spdlog.h"

namespace sextant::server {
namespace {

// How long Evaluate waits for the engine to catch up with the shim's min_sequence before it
// answers "stale": the shim then retries or resyncs rather than holding a scheduling cycle.
constexpr absl::Duration kMaxStaleWait = absl::Seconds(2);
// The budget of a call that carries no deadline.
constexpr absl::Duration kDefaultBudget = absl::Seconds(10);
// Of the remaining budget, a fifth (at most this much) is kept for the stale answer to reach the
// client before its deadline, so the client sees UNAVAILABLE rather than DEADLINE_EXCEEDED.
constexpr absl::Duration kMaxReplyReserve = absl::Milliseconds(100);

absl::Status Annotate(absl::string_view context, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

// Time left before the client's deadline, capped at kDefaultBudget.
absl::Duration RemainingBudget(const grpc::ServerContext& context) {
  const std::chrono::system_clock::time_point deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return kDefaultBudget;
  return std::min(kDefaultBudget, absl::FromChrono(deadline - std::chrono::system_clock::now()));
}

std::string ObjectCounts(const std::vector<ClusterChange>& objects) {
  size_t nodes = 0, pods = 0;
  for (const ClusterChange& change : objects) {
    nodes += std::holds_alternative<Node>(change);
    pods += std::holds_alternative<Pod>(change);
  }
  return absl::StrCat(nodes, " nodes, ", pods, " pods, ", objects.size() - nodes - pods,
                      " other objects");
}

}  // namespace

grpc::Status EngineService::Sync(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::SyncResponse, v1::SyncRequest>* stream) {
  const std::string peer = context->peer();
  v1::SyncRequest request;
  while (stream->Read(&request)) {
    v1::SyncResponse response;
    if (grpc::Status status = ApplySyncRequest(request, peer, &response); !status.ok()) {
      return status;
    }
    if (!stream->Write(response)) {
      return ToGrpcStatus(absl::CancelledError("sync stream closed by the client"));
    }
  }
  return grpc::Status::OK;
}

grpc::Status EngineService::ApplySyncRequest(const v1::SyncRequest& request,
                                             const std::string& peer, v1::SyncResponse* response) {
  response->Clear();
  switch (request.message_case()) {
    case v1::SyncRequest::kFull: {
      const v1::FullSnapshot& full = request.full();
      const std::string what = absl::StrCat("full snapshot ", full.sequence());
      absl::StatusOr<std::vector<ClusterChange>> objects =
          FromProto(full.objects(), "objects", /*upserts_only=*/true);
      if (!objects.ok()) return ToGrpcStatus(Annotate(what, objects.status()));
      std::optional<ScoringStrategy> scoring;
      if (full.has_scoring_strategy()) {
        absl::StatusOr<ScoringStrategy> decoded = FromProto(full.scoring_strategy());
        if (!decoded.ok()) return ToGrpcStatus(Annotate(what, decoded.status()));
        scoring = *std::move(decoded);
      }
      const absl::Status status = engine_->ApplySnapshot(full.sequence(), *objects, scoring);
      if (!status.ok()) {
        spdlog::warn("sync from {}: {} rejected: {}", peer, what, std::string(status.message()));
        return ToGrpcStatus(Annotate(what, status));
      }
      spdlog::info("sync from {}: {} applied ({}), epoch {}", peer, what, ObjectCounts(*objects),
                   engine_->epoch());
      break;
    }
    case v1::SyncRequest::kDelta: {
      const v1::Delta& delta = request.delta();
      const std::string what = absl::StrCat("delta ", delta.sequence());
      absl::StatusOr<std::vector<ClusterChange>> changes =
          FromProto(delta.changes(), "changes", /*upserts_only=*/false);
      if (!changes.ok()) return ToGrpcStatus(Annotate(what, changes.status()));
      const absl::Status status = engine_->ApplyDelta(delta.sequence(), *changes);
      if (absl::IsFailedPrecondition(status)) {
        // Out of sequence: the shim answers with a full snapshot; the stream stays open.
        spdlog::warn("sync from {}: resync required: {}", peer, std::string(status.message()));
        response->set_resync_required(true);
      } else if (!status.ok()) {
        return ToGrpcStatus(Annotate(what, status));
      }
      break;
    }
    case v1::SyncRequest::MESSAGE_NOT_SET:
      return ToGrpcStatus(absl::InvalidArgumentError(
          "SyncRequest: message: neither a full snapshot nor a delta is set"));
  }
  response->set_epoch(engine_->epoch());
  response->set_applied_sequence(engine_->applied_sequence());
  return grpc::Status::OK;
}

grpc::Status EngineService::Evaluate(grpc::ServerContext* context,
                                     const v1::EvaluateRequest* request,
                                     v1::EvaluateResponse* response) {
  const absl::Duration budget = RemainingBudget(*context);
  if (budget <= absl::ZeroDuration()) {
    return ToGrpcStatus(absl::DeadlineExceededError("deadline exceeded before evaluation"));
  }
  absl::StatusOr<Pod> pod = FromProto(*request);
  if (!pod.ok()) return ToGrpcStatus(pod.status());
  const absl::Duration wait =
      std::min(kMaxStaleWait, budget - std::min(budget / 5, kMaxReplyReserve));
  // The evaluation saw at least this sequence: what was applied before the call, and what it
  // waited for.
  const uint64_t applied = std::max(engine_->applied_sequence(), request->min_sequence());
  const absl::Status status =
      engine_->Evaluate(*pod, request->min_sequence(), request->epoch(), wait,
                        [response, chosen_only = request->chosen_only()](
                            const Evaluation& evaluation, const ClusterState& state) {
                          ToProto(evaluation, state, response, chosen_only);
                        });
  if (!status.ok()) return ToGrpcStatus(status);
  response->set_epoch(engine_->epoch());
  response->set_applied_sequence(applied);
  return grpc::Status::OK;
}

grpc::Status EngineService::Preempt(grpc::ServerContext* context,
                                    const v1::PreemptRequest* request,
                                    v1::PreemptResponse* response) {
  const absl::Duration budget = RemainingBudget(*context);
  if (budget <= absl::ZeroDuration()) {
    return ToGrpcStatus(absl::DeadlineExceededError("deadline exceeded before preemption"));
  }
  absl::StatusOr<Pod> pod = FromProto(*request);
  if (!pod.ok()) return ToGrpcStatus(pod.status());
  const absl::Duration wait =
      std::min(kMaxStaleWait, budget - std::min(budget / 5, kMaxReplyReserve));
  const uint64_t applied = std::max(engine_->applied_sequence(), request->min_sequence());
  const absl::Status status = engine_->Preempt(
      *pod, request->min_sequence(), request->epoch(), wait, request->list_candidates(),
      [response](const PreemptionResult& result) { ToProto(result, response); });
  if (!status.ok()) return ToGrpcStatus(status);
  response->set_epoch(engine_->epoch());
  response->set_applied_sequence(applied);
  return grpc::Status::OK;
}

grpc::Status EngineService::Assume(grpc::ServerContext*, const v1::AssumeRequest* request,
                                   v1::AssumeResponse* response) {
  absl::StatusOr<Pod> pod = FromProto(request->pod());
  if (!pod.ok()) return ToGrpcStatus(pod.status());
  if (request->node().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("node: required field is missing"));
  }
  std::vector<ClaimAllocation> allocations;
  const absl::Status status =
      engine_->Assume(*pod, request->node(), request->epoch(), &allocations);
  if (!status.ok()) return ToGrpcStatus(status);
  for (const ClaimAllocation& a : allocations) {
    v1::ClaimAllocation* out = response->add_allocations();
    out->set_namespace_(a.name_space);
    out->set_name(a.name);
    out->set_uid(a.uid);
    ToProto(a.allocation, out->mutable_allocation());
  }
  response->set_epoch(engine_->epoch());
  response->set_applied_sequence(engine_->applied_sequence());
  return grpc::Status::OK;
}

grpc::Status EngineService::Forget(grpc::ServerContext*, const v1::ForgetRequest* request,
                                   v1::ForgetResponse* response) {
  if (request->name().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("name: required field is missing"));
  }
  if (request->namespace_().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("namespace: required field is missing"));
  }
  const absl::Status status =
      engine_->Forget(absl::StrCat(request->namespace_(), "/", request->name()), request->epoch());
  if (!status.ok()) return ToGrpcStatus(status);
  response->set_epoch(engine_->epoch());
  response->set_applied_sequence(engine_->applied_sequence());
  return grpc::Status::OK;
}

}  // namespace sextant::server
