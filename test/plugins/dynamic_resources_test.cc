// DynamicResources through the engine's scheduling cycle: PreFilter's claim checks (with
// upstream's messages), Filter's reachability of allocated claims and allocation of the others,
// and Reserve's in-flight allocations (Engine::Assume / Forget).
#include "plugins/dynamic_resources.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sextant/engine.h"
#include "sextant/evaluate.h"
#include "testing/builders.h"
#include "testing/dra_builders.h"

namespace sextant {
namespace {

using ::testing::ElementsAre;
using testutil::AllocationOn;
using testutil::ClaimRef;
using testutil::DriverClass;
using testutil::GpuClaim;
using testutil::GpuSlice;
using testutil::NodeBuilder;
using testutil::NodeNameAt;
using testutil::PodBuilder;

Node GpuNode(const std::string& name) {
  return NodeBuilder(name).Allocatable({{"cpu", "8"}, {"memory", "32Gi"}, {"pods", "110"}}).Build();
}

Pod PodWithClaims(std::vector<PodResourceClaim> claims, const std::string& name = "trainer") {
  Pod pod = PodBuilder("default", name).Container({{"cpu", "1"}}).Build();
  pod.uid = "uid-" + name;
  pod.resource_claims = std::move(claims);
  return pod;
}

class DynamicResourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = testutil::MakeState({GpuNode("n1"), GpuNode("n2"), GpuNode("n3")});
    ASSERT_TRUE(state_->UpsertDeviceClass(DriverClass("gpu")).ok());
    ASSERT_TRUE(state_->UpsertResourceSlice(GpuSlice("n1", 4)).ok());
    ASSERT_TRUE(state_->UpsertResourceSlice(GpuSlice("n2", 2)).ok());
  }

  Evaluation Evaluate(const Pod& pod) { return evaluator_.Evaluate(*state_, pod, 0); }

  std::vector<std::string> Feasible(const Evaluation& e) {
    std::vector<std::string> out;
    for (const NodeVerdict& v : e.verdicts) {
      if (v.code == FilterCode::kSuccess) out.push_back(NodeNameAt(*state_, v.node));
    }
    return out;
  }

  std::unique_ptr<ClusterState> state_;
  Evaluator evaluator_{ProfileOptions{}};
};

TEST_F(DynamicResourcesTest, PodWithoutClaimsSkipsThePlugin) {
  Evaluation e = Evaluate(PodWithClaims({}));
  EXPECT_EQ(e.feasible_count, 3);
  EXPECT_TRUE(e.error.empty());
}

TEST_F(DynamicResourcesTest, NodesWithoutEnoughDevicesCannotAllocate) {
  ASSERT_TRUE(state_->UpsertResourceClaim(GpuClaim("default", "three", 3)).ok());
  Evaluation e = Evaluate(PodWithClaims({ClaimRef("gpus", "three")}));
  EXPECT_THAT(Feasible(e), ElementsAre("n1"));
  EXPECT_EQ(e.verdicts[1].plugin, PluginId::kDynamicResources);
  EXPECT_EQ(e.verdicts[1].code, FilterCode::kUnschedulableAndUnresolvable);
  EXPECT_THAT(e.Reasons(e.verdicts[2]), ElementsAre("cannot allocate all claims"));

  ASSERT_TRUE(state_->UpsertResourceClaim(GpuClaim("default", "five", 5)).ok());
  e = Evaluate(PodWithClaims({ClaimRef("gpus", "five")}));
  EXPECT_EQ(e.FitErrorMessage(), "0/3 nodes are available: 3 cannot allocate all claims.");
}

TEST_F(DynamicResourcesTest, PreFilterRejectsWithUpstreamsMessages) {
  struct Case {
    std::string name;
    std::vector<PodResourceClaim> claims;
    std::string want;
  };
  ResourceClaim deleting = GpuClaim("default", "deleting");
  deleting.deletion_unix_nanos = 1;
  ASSERT_TRUE(state_->UpsertResourceClaim(deleting).ok());
  ResourceClaim foreign = GpuClaim("default", "trainer-gpus-x7k2");
  foreign.controller_pod_uid = "someone-else";
  ASSERT_TRUE(state_->UpsertResourceClaim(foreign).ok());
  ResourceClaim no_class = GpuClaim("default", "no-class", 1, "tpu");
  ASSERT_TRUE(state_->UpsertResourceClaim(no_class).ok());
  ResourceClaim no_type = GpuClaim("default", "no-type");
  no_type.requests[0].exactly.reset();
  ASSERT_TRUE(state_->UpsertResourceClaim(no_type).ok());

  const std::vector<Case> cases = {
      {"Missing", {ClaimRef("gpus", "nope")}, "could not find ResourceClaim \"default/nope\""},
      {"Deleting", {ClaimRef("gpus", "deleting")}, "resourceclaim \"deleting\" is being deleted"},
      {"TemplateNotCreatedYet",
       {PodResourceClaim{"gpus", std::nullopt, "two-gpus"}},
       "pod \"default/trainer\": ResourceClaim not created yet"},
      {"NoSource",
       {PodResourceClaim{"gpus", std::nullopt, std::nullopt}},
       "pod \"default/trainer\", spec.resourceClaim \"gpus\": none of the supported fields are "
       "set"},
      {"UnknownClass", {ClaimRef("gpus", "no-class")}, "request gpu: device class tpu does not exist"},
      {"UnknownRequestType",
       {ClaimRef("gpus", "no-type")},
       "resource claim default/no-type, request gpu: unknown request type"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Evaluation e = Evaluate(PodWithClaims(c.claims));
    EXPECT_EQ(e.prefilter_plugin, PluginId::kDynamicResources);
    EXPECT_EQ(e.prefilter_message, c.want);
    EXPECT_EQ(e.FitErrorMessage(), "0/3 nodes are available: " + c.want + ".");
  }

  // A template claim that belongs to another pod.
  Pod pod = PodWithClaims({PodResourceClaim{"gpus", std::nullopt, "two-gpus"}});
  pod.resource_claim_statuses = {PodResourceClaimStatus{"gpus", "trainer-gpus-x7k2"}};
  Evaluation e = Evaluate(pod);
  EXPECT_EQ(e.prefilter_message,
            "ResourceClaim default/trainer-gpus-x7k2 was not created for Pod default/trainer (Pod "
            "is not owner)");
  // ... and one that belongs to this pod; a template entry that needed no claim is skipped.
  foreign.controller_pod_uid = pod.uid;
  ASSERT_TRUE(state_->UpsertResourceClaim(foreign).ok());
  pod.resource_claims.push_back(PodResourceClaim{"none", std::nullopt, "optional"});
  pod.resource_claim_statuses.push_back(PodResourceClaimStatus{"none", std::nullopt});
  e = Evaluate(pod);
  EXPECT_EQ(e.prefilter_message, "");
  EXPECT_THAT(Feasible(e), ElementsAre("n1", "n2"));
}

TEST_F(DynamicResourcesTest, AllocatedClaimIsUsableOnlyWhereItsDevicesAre) {
  ResourceClaim claim = GpuClaim("default", "held");
  claim.allocation = AllocationOn("n2", {"gpu-0"});
  ASSERT_TRUE(state_->UpsertResourceClaim(claim).ok());
  Evaluation e = Evaluate(PodWithClaims({ClaimRef("gpus", "held")}));
  EXPECT_THAT(Feasible(e), ElementsAre("n2"));
  EXPECT_THAT(e.Reasons(e.verdicts[0]), ElementsAre("resourceclaim not available on the node"));
  EXPECT_THAT(e.unavailable_claims, ElementsAre("default/held"));

  // Its device is taken for everyone else: n2 has one GPU left.
  ASSERT_TRUE(state_->UpsertResourceClaim(GpuClaim("default", "two", 2)).ok());
  e = Evaluate(PodWithClaims({ClaimRef("gpus", "two")}, "other"));
  EXPECT_THAT(Feasible(e), ElementsAre("n1"));
}

TEST_F(DynamicResourcesTest, FailedBindingMakesAnAllocatedClaimUnavailable) {
  ResourceClaim claim = GpuClaim("default", "held");
  claim.allocation = AllocationOn("n2", {"gpu-0"});
  claim.allocation->devices[0].binding_conditions = {"Attached"};
  claim.allocation->devices[0].binding_failure_conditions = {"AttachFailed"};
  claim.device_statuses.push_back(
      AllocatedDeviceStatus{testutil::kGpuDriver, "n2", "gpu-0", std::nullopt,
                            {{"Attached", false}, {"AttachFailed", true}}});
  ASSERT_TRUE(state_->UpsertResourceClaim(claim).ok());
  Evaluation e = Evaluate(PodWithClaims({ClaimRef("gpus", "held")}));
  EXPECT_EQ(e.feasible_count, 0);
  EXPECT_THAT(e.unavailable_claims, ElementsAre("default/held"));
}

// Binding conditions still unmet: the claim stays usable on its node until the binding timeout
// (counted from the allocation's timestamp) has passed, then it is unavailable everywhere, as
// upstream's Filter decides with isClaimTimeout.
TEST_F(DynamicResourcesTest, BindingStillWaitingAfterTheTimeoutMakesAClaimUnavailable) {
  ResourceClaim claim = GpuClaim("default", "held");
  claim.allocation = AllocationOn("n2", {"gpu-0"});
  claim.allocation->devices[0].binding_conditions = {"Attached"};
  claim.allocation->devices[0].binding_failure_conditions = {"AttachFailed"};
  const absl::Time allocated = absl::FromUnixSeconds(1767225600);  // 2026-01-01
  claim.allocation->allocation_unix_nanos = absl::ToUnixNanos(allocated);
  claim.device_statuses.push_back(AllocatedDeviceStatus{
      testutil::kGpuDriver, "n2", "gpu-0", std::nullopt, {{"Attached", false}}});
  ASSERT_TRUE(state_->UpsertResourceClaim(claim).ok());
  const Pod pod = PodWithClaims({ClaimRef("gpus", "held")});
  auto evaluate_at = [&](absl::Duration since, int64_t timeout_seconds = 600) {
    ProfileOptions options;
    options.dra_binding_timeout_seconds = timeout_seconds;
    options.clock = [=] { return allocated + since; };
    return Evaluator(options).Evaluate(*state_, pod, 0);
  };
  EXPECT_THAT(Feasible(evaluate_at(absl::Minutes(10))), ElementsAre("n2"));
  Evaluation late = evaluate_at(absl::Minutes(10) + absl::Seconds(1));
  EXPECT_EQ(late.feasible_count, 0);
  EXPECT_THAT(late.Reasons(late.verdicts[1]),
              ElementsAre("resourceclaim not available on the node"));
  EXPECT_THAT(late.unavailable_claims, ElementsAre("default/held"));
  EXPECT_THAT(Feasible(evaluate_at(absl::Hours(1), 7200)), ElementsAre("n2"));

  // Met in time, or without a timestamp to count from: usable.
  claim.device_statuses[0].conditions["Attached"] = true;
  ASSERT_TRUE(state_->UpsertResourceClaim(claim).ok());
  EXPECT_THAT(Feasible(evaluate_at(absl::Hours(24))), ElementsAre("n2"));
  claim.device_statuses[0].conditions["Attached"] = false;
  claim.allocation->allocation_unix_nanos.reset();
  ASSERT_TRUE(state_->UpsertResourceClaim(claim).ok());
  EXPECT_THAT(Feasible(evaluate_at(absl::Hours(24))), ElementsAre("n2"));
}

TEST_F(DynamicResourcesTest, SelectorRuntimeErrorFailsTheCycle) {
  DeviceClass broken;
  broken.name = "broken";
  broken.selectors.push_back(DeviceSelector{"device.attributes[\"gpu.example.com\"].memory > 1"});
  ASSERT_TRUE(state_->UpsertDeviceClass(broken).ok());
  ASSERT_TRUE(state_->UpsertResourceClaim(GpuClaim("default", "c", 1, "broken")).ok());
  Evaluation e = Evaluate(PodWithClaims({ClaimRef("gpus", "c")}));
  EXPECT_FALSE(e.chosen.has_value());
  EXPECT_THAT(e.error, ::testing::HasSubstr("class broken: selector #0 on device "
                                            "gpu.example.com/n1/gpu-0: CEL runtime error"));
}

TEST_F(DynamicResourcesTest, ClaimBeingAllocatedForAnotherPodMakesThePodWait) {
  ASSERT_TRUE(state_->UpsertResourceClaim(GpuClaim("default", "shared")).ok());
  ASSERT_TRUE(
      state_->AddPendingAllocations("default/first", {{"default/shared", AllocationOn("n1", {"gpu-0"})}})
          .ok());
  Evaluation e = Evaluate(PodWithClaims({ClaimRef("gpus", "shared")}, "second"));
  EXPECT_EQ(e.prefilter_message,
            "resource claim default/shared is in the process of being allocated");
}

EngineOptions TestEngineOptions() {
  EngineOptions options;
  options.epoch = "e1";
  return options;
}

// Reserve allocates on the assumed node and keeps the devices taken until the claim's status
// shows the allocation (then the status holds them) or Forget releases them.
TEST(DynamicResourcesEngineTest, AssumeAllocatesAndForgetReleases) {
  Engine engine(TestEngineOptions());
  ASSERT_TRUE(engine
                  .ApplySnapshot(1, {GpuNode("n1"), DriverClass("gpu"), GpuSlice("n1", 2),
                                     GpuClaim("default", "a", 2), GpuClaim("default", "b", 1)})
                  .ok());
  Pod first = PodWithClaims({ClaimRef("gpus", "a")}, "first");
  Pod second = PodWithClaims({ClaimRef("gpus", "b")}, "second");
  std::vector<ClaimAllocation> allocations;
  ASSERT_TRUE(engine.Assume(first, "n1", "e1", &allocations).ok());
  ASSERT_EQ(allocations.size(), 1u);
  EXPECT_EQ(allocations[0].name, "a");
  ASSERT_EQ(allocations[0].allocation.devices.size(), 2u);
  EXPECT_EQ(allocations[0].allocation.devices[0].device, "gpu-0");
  EXPECT_EQ(allocations[0].allocation.devices[1].device, "gpu-1");

  auto feasible = [&](const Pod& pod) {
    int64_t count = -1;
    EXPECT_TRUE(engine
                    .Evaluate(pod, 0, "e1", absl::ZeroDuration(),
                              [&](const Evaluation& e, const ClusterState&) {
                                count = e.feasible_count;
                              })
                    .ok());
    return count;
  };
  EXPECT_EQ(feasible(second), 0);  // both GPUs are in flight for the first pod
  // Assuming the second pod now fails: nothing is left, and nothing is assumed.
  absl::Status refused = engine.Assume(second, "n1", "e1");
  EXPECT_TRUE(absl::IsAborted(refused)) << refused;
  EXPECT_THAT(std::string(refused.message()), ::testing::HasSubstr("cannot allocate all claims"));

  ASSERT_TRUE(engine.Forget("default/first", "e1").ok());
  EXPECT_EQ(feasible(second), 1);
  ASSERT_TRUE(engine.CheckConsistency().ok());

  // Assumed again, then the status write shows up: the status holds the devices from now on.
  allocations.clear();
  ASSERT_TRUE(engine.Assume(first, "n1", "e1", &allocations).ok());
  ResourceClaim written = GpuClaim("default", "a", 2);
  written.allocation = allocations[0].allocation;
  written.reserved_for.push_back({"", "pods", "first", first.uid});
  const std::string before = engine.StateDigest();
  ASSERT_TRUE(engine.ApplyDelta(2, {written}).ok());
  EXPECT_NE(engine.StateDigest(), before);
  ASSERT_TRUE(engine.Forget("default/first", "e1").ok());
  EXPECT_EQ(feasible(second), 0);
  ASSERT_TRUE(engine.CheckConsistency().ok());

  // Deleting the claim frees its devices.
  ASSERT_TRUE(
      engine.ApplyDelta(3, {DeleteObject{DeleteObject::Kind::kResourceClaim, "default/a"}}).ok());
  EXPECT_EQ(feasible(second), 1);
}

// A claim a pod lists under two entries: Filter allocates it twice, as upstream's allocator is
// handed it twice, so the node needs room for both; Reserve keeps the first allocation and
// reserves the claim once, as upstream's Reserve does (the second only counts as a sharer).
// Refusing it instead ("allocated twice") failed every Reserve, so the pod never scheduled.
TEST(DynamicResourcesEngineTest, ClaimListedTwiceIsReservedOnceWithTheFirstAllocation) {
  Engine engine(TestEngineOptions());
  ASSERT_TRUE(engine
                  .ApplySnapshot(1, {GpuNode("n1"), GpuNode("n2"), DriverClass("gpu"),
                                     GpuSlice("n1", 1), GpuSlice("n2", 2),
                                     GpuClaim("default", "a", 1)})
                  .ok());
  Pod pod = PodWithClaims({ClaimRef("first", "a"), ClaimRef("second", "a")});
  std::vector<std::string> feasible;
  ASSERT_TRUE(engine
                  .Evaluate(pod, 0, "e1", absl::ZeroDuration(),
                            [&](const Evaluation& e, const ClusterState& state) {
                              for (const NodeVerdict& v : e.verdicts) {
                                if (v.code == FilterCode::kSuccess) {
                                  feasible.push_back(NodeNameAt(state, v.node));
                                }
                              }
                            })
                  .ok());
  EXPECT_THAT(feasible, ElementsAre("n2"));
  std::vector<ClaimAllocation> allocations;
  absl::Status assumed = engine.Assume(pod, "n2", "e1", &allocations);
  ASSERT_TRUE(assumed.ok()) << assumed;
  ASSERT_EQ(allocations.size(), 1u);
  EXPECT_EQ(allocations[0].name, "a");
  ASSERT_EQ(allocations[0].allocation.devices.size(), 1u);
  EXPECT_EQ(allocations[0].allocation.devices[0].device, "gpu-0");
  ASSERT_TRUE(engine.CheckConsistency().ok());
}

// No node is a preemption candidate and a dry run's DynamicResources filter failed with an
// error (a CEL runtime error): upstream's PostFilter fails with that error, not the FitError.
TEST(DynamicResourcesEngineTest, PreemptionFailsWithTheDryRunsError) {
  Engine engine(TestEngineOptions());
  DeviceClass broken;
  broken.name = "broken";
  broken.selectors.push_back(DeviceSelector{"device.attributes[\"gpu.example.com\"].memory > 1"});
  Node small =
      NodeBuilder("n1").Allocatable({{"cpu", "2"}, {"memory", "4Gi"}, {"pods", "110"}}).Build();
  Pod low = PodBuilder("default", "low").Container({{"cpu", "2"}}).Build();
  low.node_name = "n1";
  low.priority = -10;
  ASSERT_TRUE(engine
                  .ApplySnapshot(1, {small, low, broken, GpuSlice("n1", 1),
                                     GpuClaim("default", "c", 1, "broken")})
                  .ok());
  Pod pod = PodWithClaims({ClaimRef("gpus", "c")});
  pod.priority = 100;
  // The cycle itself fails on cpu before DynamicResources runs: no error yet.
  int64_t feasible = -1;
  ASSERT_TRUE(engine
                  .Evaluate(pod, 0, "e1", absl::ZeroDuration(),
                            [&](const Evaluation& e, const ClusterState&) {
                              feasible = e.feasible_count;
                            })
                  .ok());
  EXPECT_EQ(feasible, 0);
  absl::Status preempt = engine.Preempt(pod, 0, "e1", absl::ZeroDuration(), false,
                                        [](const PreemptionResult&) {});
  EXPECT_TRUE(absl::IsAborted(preempt)) << preempt;
  EXPECT_THAT(std::string(preempt.message()),
              ::testing::HasSubstr("class broken: selector #0 on device gpu.example.com/n1/gpu-0: "
                                   "CEL runtime error"));
}

// A full snapshot (an engine resync) keeps allocations in flight whose claims still show none.
TEST(DynamicResourcesEngineTest, ResyncKeepsAllocationsInFlight) {
  Engine engine(TestEngineOptions());
  const std::vector<ClusterChange> objects = {GpuNode("n1"), DriverClass("gpu"), GpuSlice("n1", 1),
                                              GpuClaim("default", "a"), GpuClaim("default", "b")};
  ASSERT_TRUE(engine.ApplySnapshot(1, objects).ok());
  ASSERT_TRUE(engine.Assume(PodWithClaims({ClaimRef("gpus", "a")}, "first"), "n1", "e1").ok());
  ASSERT_TRUE(engine.ApplySnapshot(2, objects).ok());
  absl::Status refused = engine.Assume(PodWithClaims({ClaimRef("gpus", "b")}, "second"), "n1", "e1");
  EXPECT_TRUE(absl::IsAborted(refused)) << refused;
  ASSERT_TRUE(engine.CheckConsistency().ok());
}

}  // namespace
}  // namespace sextant
