// Fuzzes Evaluate: the input is an EvaluateRequest (binary protobuf), handled in-process by
// EngineService::Evaluate against the small fuzz cluster. min_sequence is capped at the applied
// sequence, so a request never waits for a delta that cannot come (the stale path has its own
// tests). Invariants: no crash; the status is OK, INVALID_ARGUMENT (a malformed pod) or
// FAILED_PRECONDITION (another epoch); an OK answer has one verdict per node, a chosen node that
// is feasible, consistent counts and reason indexes, and is the same when asked twice; a
// chosen_only answer is the full answer narrowed to the chosen node's verdict (all of it when no
// node was chosen); the engine state is untouched.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "fuzz_check.h"
#include "fuzz_cluster.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sextant;
  using namespace sextant::fuzz;
  static SyncedEngine* const synced = NewSyncedEngine().release();
  static const std::string digest = synced->engine.StateDigest();

  v1::EvaluateRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (request.min_sequence() > kSnapshotSequence) request.set_min_sequence(kSnapshotSequence);

  grpc::ServerContext context;
  v1::EvaluateResponse response;
  const grpc::Status status = synced->service.Evaluate(&context, &request, &response);
  SEXTANT_FUZZ_CHECK(synced->engine.StateDigest() == digest, "Evaluate changed the state");
  if (!status.ok()) {
    SEXTANT_FUZZ_CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                           (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
                            request.epoch() != kEpoch),
                       "code %d: %s", static_cast<int>(status.error_code()),
                       status.error_message().c_str());
    return 0;
  }
  SEXTANT_FUZZ_CHECK(response.epoch() == kEpoch, "epoch");
  if (request.chosen_only()) {
    v1::EvaluateRequest full_request = request;
    full_request.set_chosen_only(false);
    v1::EvaluateResponse full;
    const grpc::Status full_status = synced->service.Evaluate(&context, &full_request, &full);
    SEXTANT_FUZZ_CHECK(full_status.ok(), "Evaluate without chosen_only: %s",
                       full_status.error_message().c_str());
    v1::EvaluateResponse narrowed = full;
    if (!full.chosen_node().empty()) {
      // The chosen node is feasible: its verdict names no reason.
      narrowed.clear_nodes();
      narrowed.clear_reasons();
      for (const v1::NodeResult& node : full.nodes()) {
        if (node.node() == full.chosen_node()) *narrowed.add_nodes() = node;
      }
    }
    SEXTANT_FUZZ_CHECK(narrowed.SerializeAsString() == response.SerializeAsString(),
                       "the chosen_only answer is not the full one narrowed to the chosen node");
    response = std::move(full);
    request.set_chosen_only(false);
  }
  SEXTANT_FUZZ_CHECK(response.nodes_size() == 4, "%d verdicts for 4 nodes", response.nodes_size());
  int64_t feasible = 0;
  std::set<std::string> names;
  bool chosen_feasible = false;
  for (const v1::NodeResult& node : response.nodes()) {
    names.insert(node.node());
    for (uint32_t id : node.reason_ids()) {
      SEXTANT_FUZZ_CHECK(static_cast<int>(id) < response.reasons_size(), "reason id %u", id);
    }
    if (node.code() == v1::SUCCESS) {
      ++feasible;
      SEXTANT_FUZZ_CHECK(node.plugin().empty(), "feasible node %s names plugin %s",
                         node.node().c_str(), node.plugin().c_str());
      SEXTANT_FUZZ_CHECK(node.plugin_scores_size() == response.score_plugins_size(), "scores of %s",
                         node.node().c_str());
      chosen_feasible = chosen_feasible || node.node() == response.chosen_node();
    } else {
      // A failing filter, or a PreFilter result that left the node out: either way, a reason.
      SEXTANT_FUZZ_CHECK(node.reason_ids_size() > 0, "infeasible node %s without a reason",
                         node.node().c_str());
    }
  }
  SEXTANT_FUZZ_CHECK(names.size() == 4, "node names repeat");
  SEXTANT_FUZZ_CHECK(feasible == response.feasible_nodes(), "feasible %lld, counted %lld",
                     static_cast<long long>(response.feasible_nodes()),
                     static_cast<long long>(feasible));
  SEXTANT_FUZZ_CHECK(response.chosen_node().empty() == (feasible == 0),
                     "chosen \"%s\" with %lld feasible nodes", response.chosen_node().c_str(),
                     static_cast<long long>(feasible));
  SEXTANT_FUZZ_CHECK(response.chosen_node().empty() || chosen_feasible,
                     "chosen node %s is not feasible", response.chosen_node().c_str());
  SEXTANT_FUZZ_CHECK(feasible > 0 || !response.fit_error().empty(), "no node and no FitError");

  v1::EvaluateResponse again;
  const grpc::Status second = synced->service.Evaluate(&context, &request, &again);
  SEXTANT_FUZZ_CHECK(second.ok(), "second Evaluate: %s", second.error_message().c_str());
  SEXTANT_FUZZ_CHECK(again.SerializeAsString() == response.SerializeAsString(),
                     "two evaluations of the same request differ");
  return 0;
}
