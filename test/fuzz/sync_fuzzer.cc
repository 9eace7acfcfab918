// Fuzzes the Sync stream as the engine receives it: the input is a sequence of length-delimited
// SyncRequest messages (full snapshots and deltas, decoded protobuf), applied in-process through
// EngineService::ApplySyncRequest to an engine that holds the small fuzz cluster.
// Invariants after every message:
//  - no crash (ASan, UBSan), and the status is OK or INVALID_ARGUMENT;
//  - a rejected message, and a delta answered with resync_required, leave the state digest (the
//    objects, the derived accounting and the applied sequence) exactly as it was;
//  - a delta is applied only when its sequence is exactly the applied one + 1;
//  - pods are never lost: after a delta every pod is still there unless the delta deleted it or
//    moved it to a terminal phase; after a full snapshot the pods are exactly the snapshot's;
//  - the derived data (per-node accounting, indexes) equals a rebuild from the objects;
//  - Evaluate and Preempt still answer on the resulting state.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz_check.h"
#include "fuzz_cluster.h"
#include "sextant/cluster_state.h"

namespace sextant::fuzz {
namespace {

constexpr size_t kMaxMessages = 8;

std::set<std::string> PodKeys(Engine& engine) {
  std::set<std::string> keys;
  Pod probe;
  probe.name_space = "default";
  probe.name = "fuzz-probe";
  const absl::Status status = engine.Evaluate(
      probe, 0, "", absl::ZeroDuration(), [&keys](const Evaluation&, const ClusterState& state) {
        for (const Pod* pod : state.pods()) keys.insert(pod->Key());
      });
  SEXTANT_FUZZ_CHECK(status.ok(), "Evaluate on a synced engine: %s", status.ToString().c_str());
  return keys;
}

bool Terminal(const v1::Pod& pod) { return pod.phase() == "Succeeded" || pod.phase() == "Failed"; }

std::string Key(const v1::Pod& pod) { return absl::StrCat(pod.namespace_(), "/", pod.name()); }

// The pods a delta may take away: deleted ones and those upserted in a terminal phase.
std::set<std::string> RemovedBy(const v1::Delta& delta) {
  std::set<std::string> removed;
  for (const v1::Change& change : delta.changes()) {
    if (change.has_delete_() && change.delete_().kind() == v1::ObjectRef::POD) {
      removed.insert(absl::StrCat(change.delete_().namespace_(), "/", change.delete_().name()));
    } else if (change.has_upsert_pod() && Terminal(change.upsert_pod())) {
      removed.insert(Key(change.upsert_pod()));
    }
  }
  return removed;
}

// The pods a delta or a snapshot leaves in place: the last change to each key decides.
std::set<std::string> AddedBy(const google::protobuf::RepeatedPtrField<v1::Change>& changes) {
  std::set<std::string> added;
  for (const v1::Change& change : changes) {
    if (change.has_upsert_pod()) {
      if (Terminal(change.upsert_pod())) {
        added.erase(Key(change.upsert_pod()));
      } else {
        added.insert(Key(change.upsert_pod()));
      }
    } else if (change.has_delete_() && change.delete_().kind() == v1::ObjectRef::POD) {
      added.erase(absl::StrCat(change.delete_().namespace_(), "/", change.delete_().name()));
    }
  }
  return added;
}

void CheckStillAnswers(SyncedEngine& synced) {
  grpc::ServerContext context;
  v1::EvaluateRequest evaluate;
  *evaluate.mutable_pod() = SelectivePod("fuzz-after-sync");
  v1::EvaluateResponse evaluated;
  grpc::Status status = synced.service.Evaluate(&context, &evaluate, &evaluated);
  SEXTANT_FUZZ_CHECK(status.ok(), "Evaluate after sync: %s", status.error_message().c_str());
  v1::PreemptRequest preempt;
  *preempt.mutable_pod() = PendingPod("fuzz-preemptor", 1900, "1Gi", 100000);
  preempt.set_list_candidates(true);
  v1::PreemptResponse preempted;
  status = synced.service.Preempt(&context, &preempt, &preempted);
  SEXTANT_FUZZ_CHECK(status.ok(), "Preempt after sync: %s", status.error_message().c_str());
}

}  // namespace
}  // namespace sextant::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sextant;
  using namespace sextant::fuzz;
  const std::vector<v1::SyncRequest> messages = ParseSyncInput(data, size, kMaxMessages);
  if (messages.empty()) return 0;
  std::unique_ptr<SyncedEngine> synced = NewSyncedEngine();
  Engine& engine = synced->engine;
  for (const v1::SyncRequest& request : messages) {
    const std::string before = engine.StateDigest();
    const uint64_t applied_before = engine.applied_sequence();
    const std::set<std::string> pods_before = PodKeys(engine);
    v1::SyncResponse response;
    const grpc::Status status = synced->service.ApplySyncRequest(request, "fuzz", &response);
    const std::string after = engine.StateDigest();
    if (!status.ok()) {
      SEXTANT_FUZZ_CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT, "code %d: %s",
                         static_cast<int>(status.error_code()), status.error_message().c_str());
      SEXTANT_FUZZ_CHECK(after == before, "rejected message changed the state: %s",
                         status.error_message().c_str());
      continue;
    }
    SEXTANT_FUZZ_CHECK(response.epoch() == kEpoch, "epoch %s", response.epoch().c_str());
    SEXTANT_FUZZ_CHECK(response.applied_sequence() == engine.applied_sequence(),
                       "answered sequence %llu, applied %llu",
                       static_cast<unsigned long long>(response.applied_sequence()),
                       static_cast<unsigned long long>(engine.applied_sequence()));
    if (response.resync_required()) {
      SEXTANT_FUZZ_CHECK(request.has_delta(), "resync asked for a full snapshot");
      SEXTANT_FUZZ_CHECK(request.delta().sequence() != applied_before + 1,
                         "resync asked for the next delta in sequence");
      SEXTANT_FUZZ_CHECK(after == before, "a delta answered with resync changed the state");
      continue;
    }
    const std::set<std::string> pods_after = PodKeys(engine);
    if (request.has_delta()) {
      const v1::Delta& delta = request.delta();
      SEXTANT_FUZZ_CHECK(delta.sequence() == applied_before + 1, "delta %llu applied after %llu",
                         static_cast<unsigned long long>(delta.sequence()),
                         static_cast<unsigned long long>(applied_before));
      SEXTANT_FUZZ_CHECK(engine.applied_sequence() == delta.sequence(), "applied sequence");
      const std::set<std::string> removed = RemovedBy(delta);
      for (const std::string& key : pods_before) {
        SEXTANT_FUZZ_CHECK(pods_after.count(key) || removed.count(key),
                           "pod %s lost by a delta that neither deleted nor finished it",
                           key.c_str());
      }
      for (const std::string& key : AddedBy(delta.changes())) {
        SEXTANT_FUZZ_CHECK(pods_after.count(key), "pod %s upserted by a delta is missing",
                           key.c_str());
      }
    } else {
      SEXTANT_FUZZ_CHECK(request.has_full(), "OK answer to an empty message");
      SEXTANT_FUZZ_CHECK(engine.applied_sequence() == request.full().sequence(),
                         "applied sequence after a full snapshot");
      SEXTANT_FUZZ_CHECK(pods_after == AddedBy(request.full().objects()),
                         "pods after a full snapshot are not the snapshot's (%zu, expected %zu)",
                         pods_after.size(), AddedBy(request.full().objects()).size());
    }
    const absl::Status consistent = engine.CheckConsistency();
    SEXTANT_FUZZ_CHECK(consistent.ok(), "%s", consistent.ToString().c_str());
  }
  CheckStillAnswers(*synced);
  return 0;
}
