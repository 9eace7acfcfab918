// Fuzzes the snapshot reader (kubectl List JSON, src/snapshot). Invariants: any text is parsed or
// refused with InvalidArgument, never an exception or a crash; an accepted snapshot loads into a
// ClusterState whose derived data equals a rebuild from its objects; a small one replays (the
// whole scheduling and preemption path) without crashing, and the replay accounts for every
// pending pod.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "sextant/cluster_state.h"
#include "sextant/replay.h"
#include "sextant/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sextant;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<Snapshot> snapshot = ParseSnapshot(text);
  if (!snapshot.ok()) {
    SEXTANT_FUZZ_CHECK(absl::IsInvalidArgument(snapshot.status()), "%s",
                       snapshot.status().ToString().c_str());
    return 0;
  }
  ClusterState state;
  const absl::StatusOr<std::vector<Pod>> pending = LoadSnapshot(*snapshot, state);
  if (!pending.ok()) {
    SEXTANT_FUZZ_CHECK(absl::IsInvalidArgument(pending.status()), "%s",
                       pending.status().ToString().c_str());
    return 0;
  }
  const absl::Status consistent = state.CheckConsistency();
  SEXTANT_FUZZ_CHECK(consistent.ok(), "%s", consistent.ToString().c_str());
  if (snapshot->nodes.size() > 16 || snapshot->pods.size() > 32) return 0;

  ReplayOptions options;
  options.profile.parallelism = 1;
  const absl::StatusOr<ReplayReport> report = Replay(*snapshot, options);
  SEXTANT_FUZZ_CHECK(report.ok(), "a loadable snapshot does not replay: %s",
                     report.status().ToString().c_str());
  SEXTANT_FUZZ_CHECK(
      report->placed + report->unschedulable == report->pending_pods,
      "%lld placed + %lld unschedulable != %lld pending", static_cast<long long>(report->placed),
      static_cast<long long>(report->unschedulable), static_cast<long long>(report->pending_pods));
  return 0;
}
