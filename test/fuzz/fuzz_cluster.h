// The small cluster the gRPC fuzz targets run against, built as the messages a shim sends: four
// nodes in two zones (one tainted, one cordoned, one with GPUs), two namespaces, priority
// classes, a disruption budget, bound pods with labels, priorities and (anti-)affinity that fill
// the nodes enough for preemption to have victims, and a pending pod nominated to a node.
// Also the seed inputs of those targets (write_seeds.cc).
#ifndef SEXTANT_TEST_FUZZ_FUZZ_CLUSTER_H_
#define SEXTANT_TEST_FUZZ_FUZZ_CLUSTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/service.h"
#include "sextant/engine.h"
#include "sextant/v1/engine.pb.h"

namespace sextant::fuzz {

inline constexpr char kEpoch[] = "fuzz-epoch";
inline constexpr uint64_t kSnapshotSequence = 1;

// The cluster as a full snapshot at kSnapshotSequence.
v1::SyncRequest SmallClusterSnapshot();
// A pending pod asking for cpu_millis and memory, with the given priority.
v1::Pod PendingPod(const std::string& name, int64_t cpu_millis, const std::string& memory,
                   int32_t priority);
// A pending pod with node affinity, pod (anti-)affinity, spread constraints and tolerations.
v1::Pod SelectivePod(const std::string& name);

// An engine (epoch kEpoch) with SmallClusterSnapshot applied, and the service in front of it.
struct SyncedEngine {
  Engine engine;
  server::EngineService service;
  SyncedEngine();
};
std::unique_ptr<SyncedEngine> NewSyncedEngine();

// Splits a sync fuzz input into the length-delimited SyncRequest messages it holds (at most
// `limit`); stops at the first malformed one.
std::vector<v1::SyncRequest> ParseSyncInput(const uint8_t* data, size_t size, size_t limit);
// The inverse: messages written as a sync fuzz input.
std::string SyncInput(const std::vector<v1::SyncRequest>& messages);

}  // namespace sextant::fuzz

#endif  // SEXTANT_TEST_FUZZ_FUZZ_CLUSTER_H_
