// Fuzzes Preempt: the input is a PreemptRequest (binary protobuf), handled in-process by
// EngineService::Preempt against the small fuzz cluster, whose nodes are full enough for
// preemption to find victims. min_sequence is capped at the applied sequence. Invariants: no
// crash; the status is OK, INVALID_ARGUMENT or FAILED_PRECONDITION (another epoch); a nominated
// node is a node of the cluster whose victims are pods bound there with a lower priority than the
// preemptor's; listed candidates are nodes of the cluster; the dry run leaves the state untouched.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "fuzz_check.h"
#include "fuzz_cluster.h"
#include "server/convert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sextant;
  using namespace sextant::fuzz;
  static SyncedEngine* const synced = NewSyncedEngine().release();
  static const std::string digest = synced->engine.StateDigest();
  // Bound pods of the fuzz cluster: key -> (node, priority).
  static const std::map<std::string, std::pair<std::string, int32_t>> bound = [] {
    std::map<std::string, std::pair<std::string, int32_t>> out;
    const v1::SyncRequest snapshot = SmallClusterSnapshot();
    for (const v1::Change& change : snapshot.full().objects()) {
      if (change.has_upsert_pod() && !change.upsert_pod().node_name().empty()) {
        const v1::Pod& pod = change.upsert_pod();
        out[pod.namespace_() + "/" + pod.name()] = {pod.node_name(), pod.priority()};
      }
    }
    return out;
  }();

  v1::PreemptRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (request.min_sequence() > kSnapshotSequence) request.set_min_sequence(kSnapshotSequence);

  grpc::ServerContext context;
  v1::PreemptResponse response;
  const grpc::Status status = synced->service.Preempt(&context, &request, &response);
  SEXTANT_FUZZ_CHECK(synced->engine.StateDigest() == digest, "Preempt changed the state");
  if (!status.ok()) {
    SEXTANT_FUZZ_CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                           (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION &&
                            request.epoch() != kEpoch),
                       "code %d: %s", static_cast<int>(status.error_code()),
                       status.error_message().c_str());
    return 0;
  }
  // The preemptor's priority as the engine resolved it (spec.priority; 0 when unset).
  const absl::StatusOr<Pod> pod = server::FromProto(request);
  SEXTANT_FUZZ_CHECK(pod.ok(), "Preempt accepted a pod FromProto refuses");
  const int32_t priority = pod->Priority();
  static const std::map<std::string, int> nodes = {
      {"node-a1", 0}, {"node-a2", 0}, {"node-b1", 0}, {"node-b2", 0}};
  if (!response.nominated_node().empty()) {
    SEXTANT_FUZZ_CHECK(nodes.count(response.nominated_node()), "nominated unknown node %s",
                       response.nominated_node().c_str());
    SEXTANT_FUZZ_CHECK(response.candidates() >= 1, "a nomination without candidates");
  } else {
    SEXTANT_FUZZ_CHECK(response.victims_size() == 0, "victims without a nominated node");
  }
  for (const v1::Victim& victim : response.victims()) {
    auto it = bound.find(victim.namespace_() + "/" + victim.name());
    SEXTANT_FUZZ_CHECK(it != bound.end(), "victim %s/%s is not a bound pod",
                       victim.namespace_().c_str(), victim.name().c_str());
    SEXTANT_FUZZ_CHECK(it->second.first == response.nominated_node(),
                       "victim %s is on %s, not on the nominated %s", victim.name().c_str(),
                       it->second.first.c_str(), response.nominated_node().c_str());
    SEXTANT_FUZZ_CHECK(it->second.second < priority, "victim %s has priority %d >= %d",
                       victim.name().c_str(), it->second.second, priority);
  }
  for (const v1::PreemptionCandidate& candidate : response.all_candidates()) {
    SEXTANT_FUZZ_CHECK(nodes.count(candidate.node()), "candidate on unknown node %s",
                       candidate.node().c_str());
  }
  SEXTANT_FUZZ_CHECK(request.list_candidates() || response.all_candidates_size() == 0,
                     "candidates listed unasked");
  return 0;
}
