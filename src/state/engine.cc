#include "sextant/engine.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "plugins/dynamic_resources.h"
#include "plugins/sextant_gpu.h"
#include "state/node_info.h"

namespace sextant {
namespace {

// A share of a multi-allocatable device gets a random RFC 4122 version 4 UUID, as upstream.
std::string NewShareId() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~uint64_t{0xf000}) | 0x4000;                   // version 4
  lo = (lo & ~(uint64_t{0xc} << 60)) | (uint64_t{8} << 60);  // variant 10
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff,
                         lo >> 48, lo & 0xffffffffffffULL);
}

std::string RandomEpoch() {
  std::random_device device;
  return absl::StrFormat("%08x%08x", device(), device());
}

// SplitMix64: spreads a seed and a pod's key into a well-mixed tie-break value.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// FNV-1a: stable across processes (absl::Hash is seeded per process), so ties break the same
// way in every run with the same seed.
uint64_t StableHash(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

absl::Status Invalid(const std::string& object, const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(object, ": ", field, ": ", why));
}

// Applies a change that ValidateChange accepted; the only failures left are "not found" on a
// delete, which informer semantics make harmless.
void Apply(ClusterState& state, const ClusterChange& change) {
  struct Visitor {
    ClusterState& state;
    void operator()(const Node& node) { (void)state.UpsertNode(node); }
    void operator()(const Pod& pod) { (void)state.UpsertPod(pod); }
    void operator()(const PriorityClass& pc) { (void)state.UpsertPriorityClass(pc); }
    void operator()(const PodDisruptionBudget& pdb) { (void)state.UpsertPodDisruptionBudget(pdb); }
    void operator()(const Namespace& ns) { (void)state.UpsertNamespace(ns); }
    void operator()(const DeviceClass& dc) { (void)state.UpsertDeviceClass(dc); }
    void operator()(const ResourceSlice& slice) { (void)state.UpsertResourceSlice(slice); }
    void operator()(const ResourceClaim& claim) { (void)state.UpsertResourceClaim(claim); }
    void operator()(const DeleteObject& del) {
      switch (del.kind) {
        case DeleteObject::Kind::kNode:
          (void)state.RemoveNode(del.key);
          break;
        case DeleteObject::Kind::kPod:
          (void)state.RemovePod(del.key);
          break;
        case DeleteObject::Kind::kPriorityClass:
          (void)state.RemovePriorityClass(del.key);
          break;
        case DeleteObject::Kind::kPodDisruptionBudget:
          (void)state.RemovePodDisruptionBudget(del.key);
          break;
        case DeleteObject::Kind::kNamespace:
          (void)state.RemoveNamespace(del.key);
          break;
        case DeleteObject::Kind::kDeviceClass:
          (void)state.RemoveDeviceClass(del.key);
          break;
        case DeleteObject::Kind::kResourceSlice:
          (void)state.RemoveResourceSlice(del.key);
          break;
        case DeleteObject::Kind::kResourceClaim:
          (void)state.RemoveResourceClaim(del.key);
          break;
      }
    }
  };
  std::visit(Visitor{state}, change);
}

}  // namespace

absl::Status ValidateChange(const ClusterChange& change) {
  struct Visitor {
    absl::Status operator()(const Node& node) {
      if (node.name.empty()) return Invalid("Node", "metadata.name", "must not be empty");
      return absl::OkStatus();
    }
    absl::Status operator()(const Pod& pod) {
      if (pod.name.empty()) return Invalid("Pod", "metadata.name", "must not be empty");
      if (pod.name_space.empty()) {
        return Invalid(absl::StrCat("Pod \"", pod.name, "\""), "metadata.namespace",
                       "must not be empty");
      }
      return absl::OkStatus();
    }
    absl::Status operator()(const PriorityClass& pc) {
      if (pc.name.empty()) return Invalid("PriorityClass", "metadata.name", "must not be empty");
      return absl::OkStatus();
    }
    absl::Status operator()(const PodDisruptionBudget& pdb) {
      if (pdb.name.empty()) {
        return Invalid("PodDisruptionBudget", "metadata.name", "must not be empty");
      }
      return absl::OkStatus();
    }
    absl::Status operator()(const Namespace& ns) {
      if (ns.name.empty()) return Invalid("Namespace", "metadata.name", "must not be empty");
      return absl::OkStatus();
    }
    absl::Status operator()(const DeviceClass& dc) {
      if (dc.name.empty()) return Invalid("DeviceClass", "metadata.name", "must not be empty");
      return absl::OkStatus();
    }
    absl::Status operator()(const ResourceSlice& slice) {
      if (slice.name.empty()) return Invalid("ResourceSlice", "metadata.name", "must not be empty");
      return absl::OkStatus();
    }
    absl::Status operator()(const ResourceClaim& claim) {
      if (claim.name.empty()) return Invalid("ResourceClaim", "metadata.name", "must not be empty");
      if (claim.name_space.empty()) {
        return Invalid(absl::StrCat("ResourceClaim \"", claim.name, "\""), "metadata.namespace",
                       "must not be empty");
      }
      return absl::OkStatus();
    }
    absl::Status operator()(const DeleteObject& del) {
      if (del.key.empty()) return Invalid("delete", "name", "must not be empty");
      return absl::OkStatus();
    }
  };
  return std::visit(Visitor{}, change);
}

Engine::Engine(EngineOptions options)
    : epoch_(options.epoch.empty() ? RandomEpoch() : options.epoch),
      profile_(options.profile),
      evaluator_(std::make_unique<Evaluator>(options.profile)),
      state_(std::make_unique<ClusterState>()),
      seed_(options.seed) {}

Engine::~Engine() = default;

uint64_t Engine::applied_sequence() const {
  absl::ReaderMutexLock lock(&mu_);
  return applied_sequence_;
}

bool Engine::synced() const {
  absl::ReaderMutexLock lock(&mu_);
  return synced_;
}

std::string Engine::StateDigest() const {
  absl::ReaderMutexLock lock(&mu_);
  return absl::StrCat(applied_sequence_, ":", synced_ ? 1 : 0, ":", state_->Digest());
}

absl::Status Engine::CheckConsistency() const {
  absl::ReaderMutexLock lock(&mu_);
  return state_->CheckConsistency();
}

absl::Status Engine::CheckEpoch(const std::string& epoch) const {
  if (!epoch.empty() && epoch != epoch_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "engine epoch is ", epoch_, ", not ", epoch, ": the engine restarted, resync required"));
  }
  return absl::OkStatus();
}

absl::Status Engine::ApplySnapshot(uint64_t sequence, const std::vector<ClusterChange>& objects,
                                   const std::optional<ScoringStrategy>& scoring) {
  std::unique_ptr<Evaluator> evaluator;
  ProfileOptions profile;
  if (scoring) {
    {
      absl::ReaderMutexLock lock(&mu_);
      profile = profile_;
    }
    profile.fit_scoring = *scoring;
    if (auto status = ValidateProfileOptions(profile); !status.ok()) return status;
    evaluator = std::make_unique<Evaluator>(profile);
  }
  for (const ClusterChange& change : objects) {
    if (std::holds_alternative<DeleteObject>(change)) {
      return absl::InvalidArgumentError("full snapshot: objects must be upserts, not deletes");
    }
    if (auto status = ValidateChange(change); !status.ok()) return status;
  }
  // Built aside and swapped in, so readers see the old state or the new one, never a mix.
  auto fresh = std::make_unique<ClusterState>();
  for (const ClusterChange& change : objects) Apply(*fresh, change);

  absl::MutexLock lock(&mu_);
  for (const Pod* assumed : state_->AssumedPods()) {
    const PodRecord* now = fresh->FindPod(assumed->Key());
    bool bound_now = now != nullptr && !now->pod.node_name.empty();
    if (!bound_now && fresh->FindNode(assumed->node_name) >= 0) {
      (void)fresh->AssumePod(*assumed, assumed->node_name);
    }
  }
  // Allocations still in flight keep their devices while their claims show none yet (the shim
  // is writing them); one whose claim went, or shows an allocation, is over.
  for (const auto& [claim_key, pending] : state_->dra().pending_allocations()) {
    const ResourceClaim* claim = fresh->dra().FindResourceClaim(claim_key);
    if (claim != nullptr && !claim->allocation) {
      (void)fresh->AddPendingAllocations(pending.first, {{claim_key, pending.second}});
    }
  }
  state_ = std::move(fresh);
  if (evaluator) {
    profile_ = std::move(profile);
    evaluator_ = std::move(evaluator);
  }
  applied_sequence_ = sequence;
  synced_ = true;
  return absl::OkStatus();
}

absl::Status Engine::ApplyDelta(uint64_t sequence, const std::vector<ClusterChange>& changes) {
  for (const ClusterChange& change : changes) {
    if (auto status = ValidateChange(change); !status.ok()) return status;
  }
  absl::MutexLock lock(&mu_);
  if (!synced_ || sequence != applied_sequence_ + 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "delta ", sequence, " does not follow applied sequence ", applied_sequence_,
        synced_ ? "" : " (no snapshot yet)", ": resync required"));
  }
  for (const ClusterChange& change : changes) Apply(*state_, change);
  applied_sequence_ = sequence;
  return absl::OkStatus();
}

absl::Status Engine::Evaluate(
    const Pod& pod, uint64_t min_sequence, const std::string& epoch, absl::Duration wait,
    const std::function<void(const Evaluation&, const ClusterState&)>& consume) {
  if (auto status = CheckEpoch(epoch); !status.ok()) return status;
  absl::ReaderMutexLock lock(&mu_);
  if (auto status = AwaitSequence(min_sequence, wait); !status.ok()) return status;
  Evaluation evaluation;
  evaluator_->Evaluate(*state_, pod, Mix(seed_ ^ StableHash(pod.Key())), &evaluation);
  if (!evaluation.error.empty()) return absl::AbortedError(evaluation.error);
  consume(evaluation, *state_);
  return absl::OkStatus();
}

absl::Status Engine::Preempt(const Pod& pod, uint64_t min_sequence, const std::string& epoch,
                             absl::Duration wait, bool list_candidates,
                             const std::function<void(const PreemptionResult&)>& consume) {
  if (auto status = CheckEpoch(epoch); !status.ok()) return status;
  absl::ReaderMutexLock lock(&mu_);
  if (auto status = AwaitSequence(min_sequence, wait); !status.ok()) return status;
  Evaluation evaluation;
  evaluator_->Evaluate(*state_, pod, Mix(seed_ ^ StableHash(pod.Key())), &evaluation);
  if (!evaluation.error.empty()) return absl::AbortedError(evaluation.error);
  PreemptionResult result;
  if (evaluation.chosen) {
    result.message = "the pod fits without preemption";
  } else {
    result = sextant::Preempt(*evaluator_, *state_, pod, evaluation, list_candidates);
    if (!result.error.empty()) return absl::AbortedError(result.error);
  }
  consume(result);
  return absl::OkStatus();
}

absl::Status Engine::AwaitSequence(uint64_t min_sequence, absl::Duration wait) {
  auto caught_up = [this, min_sequence]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return synced_ && applied_sequence_ >= min_sequence;
  };
  if (!caught_up()) {
    struct Arg {
      Engine* engine;
      uint64_t min_sequence;
    } arg{this, min_sequence};
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](Arg* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                               return a->engine->synced_ &&
                                      a->engine->applied_sequence_ >= a->min_sequence;
                             },
                             &arg),
                         wait);
    if (!caught_up()) {
      return absl::UnavailableError(absl::StrCat(
          "engine is stale: applied sequence ", applied_sequence_, " < ", min_sequence,
          synced_ ? "" : " (no snapshot yet)"));
    }
  }
  return absl::OkStatus();
}

absl::Status Engine::Assume(const Pod& pod, const std::string& node, const std::string& epoch,
                            std::vector<ClaimAllocation>* allocations) {
  if (auto status = CheckEpoch(epoch); !status.ok()) return status;
  if (auto status = ValidateChange(pod); !status.ok()) return status;
  absl::MutexLock lock(&mu_);
  if (!synced_) return absl::UnavailableError("engine has no snapshot yet");
  // DynamicResources' Reserve: allocate the claims on the chosen node now, so the next cycle
  // sees their devices taken. The state may have changed since Evaluate: then nothing is
  // assumed and the cycle fails.
  std::vector<std::pair<std::string, AllocationResult>> pending;
  std::vector<ClaimAllocation> made;
  if (!pod.resource_claims.empty()) {
    const int64_t index = state_->FindNode(node);
    if (index >= 0) {
      // Sextant's GPU placement picks the devices on the node; the allocator tries them first.
      auto allocated = SextantGpuReserve(pod, *state_, static_cast<uint32_t>(index),
                                         evaluator_->options(), NewShareId);
      if (!allocated.ok()) return allocated.status();
      for (auto& [claim, allocation] : *allocated) {
        pending.emplace_back(claim->Key(), allocation);
        made.push_back(
            ClaimAllocation{claim->name_space, claim->name, claim->uid, std::move(allocation)});
      }
    }
  }
  if (auto status = state_->AssumePod(pod, node); !status.ok()) return status;
  if (!pending.empty()) {
    if (auto status = state_->AddPendingAllocations(pod.Key(), pending); !status.ok()) {
      (void)state_->ForgetPod(pod.Key());
      return status;
    }
  }
  if (allocations != nullptr) *allocations = std::move(made);
  return absl::OkStatus();
}

absl::Status Engine::Forget(const std::string& pod_key, const std::string& epoch) {
  if (auto status = CheckEpoch(epoch); !status.ok()) return status;
  absl::MutexLock lock(&mu_);
  return state_->ForgetPod(pod_key);
}

}  // namespace sextant
