// Engine: the online engine's state behind one reader/writer lock, with the consistency rules of
// DESIGN.md: a full snapshot, then deltas applied only in sequence and atomically (all or
// nothing), an epoch that identifies this process's state, assumed pods for in-flight bindings.
// The gRPC service translates messages and calls these methods; it owns no state itself.
// Thread-safe: writers (snapshot, delta, assume, forget) exclude each other and readers;
// Evaluate calls run concurrently.
#ifndef SEXTANT_ENGINE_H_
#define SEXTANT_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sextant/cluster_state.h"
#include "sextant/dra.h"
#include "sextant/evaluate.h"
#include "sextant/model.h"
#include "sextant/preemption.h"

namespace sextant {

// Deleting names an object by kind and key ("namespace/name" for pods, PDBs and resource claims,
// name otherwise).
struct DeleteObject {
  enum class Kind {
    kNode,
    kPod,
    kPriorityClass,
    kPodDisruptionBudget,
    kNamespace,
    kDeviceClass,
    kResourceSlice,
    kResourceClaim,
  };
  Kind kind = Kind::kPod;
  std::string key;
};

using ClusterChange = std::variant<Node, Pod, PriorityClass, PodDisruptionBudget, Namespace,
                                   DeviceClass, ResourceSlice, ResourceClaim, DeleteObject>;

// A claim the engine allocated for an assumed pod (Engine::Assume).
struct ClaimAllocation {
  std::string name_space;
  std::string name;
  std::string uid;
  AllocationResult allocation;
};

struct EngineOptions {
  ProfileOptions profile;
  // Identifies this engine's state; a new process must use a new one. Empty: a random one.
  std::string epoch;
  // Seeds the tie-break among equal scores.
  uint64_t seed = 1;
};

class Engine {
 public:
  // options.profile must be valid (ValidateProfileOptions).
  explicit Engine(EngineOptions options);
  ~Engine();

  const std::string& epoch() const { return epoch_; }
  uint64_t applied_sequence() const;
  // True once a full snapshot has been applied.
  bool synced() const;

  // Replaces the whole state with `objects` (upserts only) at `sequence`. Pods this engine had
  // assumed that are not bound in the snapshot stay assumed (their bindings are still in flight).
  // InvalidArgument naming the object and field if any object is invalid; nothing changes then.
  // `scoring`, when given, replaces the NodeResourcesFit scoring strategy of the profile
  // (InvalidArgument, nothing applied, if the resulting profile is invalid).
  absl::Status ApplySnapshot(uint64_t sequence, const std::vector<ClusterChange>& objects,
                             const std::optional<ScoringStrategy>& scoring = std::nullopt);

  // Applies a delta atomically. FailedPrecondition (nothing applied) unless sequence is exactly
  // applied_sequence() + 1 or no snapshot was applied yet; InvalidArgument naming the object and
  // field if a change is invalid (nothing applied).
  absl::Status ApplyDelta(uint64_t sequence, const std::vector<ClusterChange>& changes);

  // Runs the scheduling cycle for `pod` and hands the result and the state it refers to to
  // `consume` while the state is held for reading. Waits up to `wait` for min_sequence to be
  // applied. Unavailable if the engine is not synced or still behind min_sequence after the wait
  // ("stale"); FailedPrecondition if `epoch` is non-empty and not this engine's; Aborted when a
  // plugin failed the cycle with an error (upstream's Error status, e.g. a CEL runtime error in
  // a device selector), with the plugin's message.
  absl::Status Evaluate(const Pod& pod, uint64_t min_sequence, const std::string& epoch,
                        absl::Duration wait,
                        const std::function<void(const Evaluation&, const ClusterState&)>& consume);

  // Runs the scheduling cycle for `pod` and, when no node fits, DefaultPreemption on the same
  // state; hands the decision (no nominated node when the pod fits or preemption cannot help)
  // to `consume`. Waits and fails as Evaluate does; Aborted with upstream's error when no node
  // is a candidate and a dry run's filters failed with an error (PreemptionResult::error).
  absl::Status Preempt(const Pod& pod, uint64_t min_sequence, const std::string& epoch,
                       absl::Duration wait, bool list_candidates,
                       const std::function<void(const PreemptionResult&)>& consume);

  // ClusterState::Digest of the current state, prefixed with the applied sequence and whether a
  // snapshot was applied ("<sequence>:<synced>:<digest>"). A rejected snapshot, delta, Assume or
  // Forget leaves it unchanged.
  std::string StateDigest() const;
  // ClusterState::CheckConsistency of the current state (a full rebuild: tests and fuzzing).
  absl::Status CheckConsistency() const;

  // Accounts `pod` on `node` until the binding shows up in a delta or Forget is called. The
  // pod's claims that are not allocated yet are allocated on `node` (DynamicResources' Reserve)
  // and returned in `allocations` (may be null when the pod has no claims); their devices count
  // as taken until the claims show an allocation, go, or Forget. Aborted (nothing assumed) when
  // the claims can no longer be allocated there.
  absl::Status Assume(const Pod& pod, const std::string& node, const std::string& epoch,
                      std::vector<ClaimAllocation>* allocations = nullptr);
  absl::Status Forget(const std::string& pod_key, const std::string& epoch);

 private:
  absl::Status CheckEpoch(const std::string& epoch) const;
  // Waits up to `wait` for min_sequence; Unavailable ("stale") if it is not applied by then.
  absl::Status AwaitSequence(uint64_t min_sequence, absl::Duration wait)
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const std::string epoch_;
  mutable absl::Mutex mu_;
  ProfileOptions profile_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Evaluator> evaluator_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<ClusterState> state_ ABSL_GUARDED_BY(mu_);
  uint64_t applied_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  bool synced_ ABSL_GUARDED_BY(mu_) = false;
  const uint64_t seed_;
};

// Checks what ClusterState would refuse, before anything is applied: InvalidArgument naming the
// object and field.
absl::Status ValidateChange(const ClusterChange& change);

}  // namespace sextant

#endif  // SEXTANT_ENGINE_H_
