// SextantGpu, the live path of Sextant's GPU placement: which pods are GPU pods, the device
// table built from the DRA state (shares, consumed capacity, devices held whole), the policy's
// effect on the node choice, the devices the allocator is asked to try first, and the expected
// workload estimated from the pods the state holds.
#include "plugins/sextant_gpu.h"

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dra/allocator.h"
#include "gmock/gmock.h"
#include "gpu/placement_cache.h"
#include "gtest/gtest.h"
#include "sextant/engine.h"
#include "sextant/evaluate.h"
#include "sextant/replay.h"
#include "testing/builders.h"
#include "testing/dra_builders.h"

namespace sextant {
namespace {

using ::testing::ElementsAre;
using testutil::ClaimRef;
using testutil::DriverClass;
using testutil::NodeBuilder;
using testutil::NodeNameAt;
using testutil::PodBuilder;
using testutil::Q;

constexpr char kDriver[] = "gpu.sextant.dev";
constexpr char kMilli[] = "gpu.sextant.dev/milli";

// A GPU that may be shared: milli capacity 1000, any share of 1..1000 (docs/gpu-placement.md).
Device SharedGpu(const std::string& name, const std::string& model = "T4") {
  Device d;
  d.name = name;
  d.allow_multiple_allocations = true;
  d.attributes["model"] = model;
  CapacityRequestPolicy policy;
  policy.default_value = Q("1000");
  policy.valid_range = CapacityRequestPolicyRange{Q("1"), Q("1000"), Q("1")};
  d.capacity[kMilli] = DeviceCapacity{cel::CapacityValue::FromQuantity(Q("1000")), policy};
  return d;
}

// A GPU that is only ever held whole.
Device WholeGpu(const std::string& name, const std::string& model = "H100") {
  Device d;
  d.name = name;
  d.attributes["model"] = model;
  return d;
}

ResourceSlice Slice(const std::string& node, std::vector<Device> devices) {
  ResourceSlice s;
  s.name = node + "-gpus";
  s.driver = kDriver;
  s.pool = ResourcePool{node, 1, 1};
  s.node_name = node;
  s.devices = std::move(devices);
  return s;
}

std::vector<Device> SharedGpus(int n, const std::string& model = "T4") {
  std::vector<Device> out;
  for (int i = 0; i < n; ++i) out.push_back(SharedGpu("gpu-" + std::to_string(i), model));
  return out;
}

std::vector<Device> WholeGpus(int n) {
  std::vector<Device> out;
  for (int i = 0; i < n; ++i) out.push_back(WholeGpu("gpu-" + std::to_string(i)));
  return out;
}

DeviceRequest GpuRequest(int64_t count, std::optional<std::string> milli = std::nullopt) {
  DeviceRequest r;
  r.name = "gpu";
  r.exactly.emplace();
  r.exactly->device_class_name = kDriver;
  r.exactly->count = count;
  if (milli) r.exactly->capacity = CapacityRequirements{{{kMilli, Q(*milli)}}};
  return r;
}

ResourceClaim Claim(const std::string& name, std::vector<DeviceRequest> requests) {
  ResourceClaim c;
  c.name_space = "default";
  c.name = name;
  c.uid = "uid-" + name;
  c.requests = std::move(requests);
  return c;
}

// An allocated claim on `node`: whole devices, or one share of `milli` of a device.
ResourceClaim Holding(const std::string& name, const std::string& node,
                      std::vector<std::string> devices,
                      std::optional<int64_t> milli = std::nullopt) {
  ResourceClaim c = Claim(name, {GpuRequest(static_cast<int64_t>(devices.size()),
                                            milli ? std::optional(std::to_string(*milli))
                                                  : std::nullopt)});
  AllocationResult a;
  for (const std::string& device : devices) {
    DeviceRequestAllocationResult r;
    r.request = "gpu";
    r.driver = kDriver;
    r.pool = node;
    r.device = device;
    if (milli) {
      r.share_id = "share-" + name;
      r.consumed_capacity[kMilli] = Quantity::FromInt(*milli);
    }
    a.devices.push_back(std::move(r));
  }
  NodeSelectorTerm term;
  term.match_fields.push_back(SelectorRequirement{"metadata.name", SelectorOperator::kIn, {node}});
  a.node_selector = NodeSelector{{term}};
  c.allocation = std::move(a);
  return c;
}

Node GpuNode(const std::string& name, const std::string& cpu = "64") {
  return NodeBuilder(name).Allocatable({{"cpu", cpu}, {"memory", "256Gi"}, {"pods", "110"}}).Build();
}

Pod GpuPod(const std::string& name, const std::string& claim, const std::string& cpu = "4",
           const std::string& node = "") {
  Pod pod = PodBuilder("default", name).Container({{"cpu", cpu}, {"memory", "8Gi"}}).Build();
  pod.uid = "uid-" + name;
  pod.resource_claims.push_back(ClaimRef("gpu", claim));
  if (!node.empty()) {
    pod.node_name = node;
    pod.phase = "Running";
  }
  return pod;
}

ProfileOptions Placement(GpuPolicy policy, bool enabled = true) {
  ProfileOptions options;
  options.gpu_placement.enabled = enabled;
  options.gpu_placement.policy = policy;
  return options;
}

std::string Chosen(const ClusterState& state, const Evaluation& e) {
  if (!e.chosen) return "<none>";
  return NodeNameAt(state, e.verdicts[*e.chosen].node);
}

// ---- Which pods are GPU pods ----

TEST(GpuRequestOfTest, OneExactCountRequestWithAtMostTheMilliCapacity) {
  auto of = [](std::vector<ResourceClaim> claims) -> std::optional<GpuClaimRequest> {
    static std::vector<ResourceClaim> keep;
    keep = std::move(claims);
    std::vector<const ResourceClaim*> pointers;
    for (const ResourceClaim& c : keep) pointers.push_back(&c);
    return GpuRequestOf(pointers, kMilli);
  };
  std::optional<GpuClaimRequest> whole = of({Claim("a", {GpuRequest(2)})});
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->count, 2);
  EXPECT_EQ(whole->gpu_milli, 1000);
  std::optional<GpuClaimRequest> share = of({Claim("a", {GpuRequest(1, "470")})});
  ASSERT_TRUE(share);
  EXPECT_EQ(share->count, 1);
  EXPECT_EQ(share->gpu_milli, 470);
  // The capacity by its bare name, and a whole GPU asked through the capacity.
  ResourceClaim bare = Claim("a", {GpuRequest(1)});
  bare.requests[0].exactly->capacity = CapacityRequirements{{{"milli", Q("250")}}};
  ASSERT_TRUE(of({bare}));
  EXPECT_EQ(of({bare})->gpu_milli, 250);
  EXPECT_EQ(of({Claim("a", {GpuRequest(3, "1000")})})->gpu_milli, 1000);

  // Not GPU pods.
  EXPECT_FALSE(of({}));
  EXPECT_FALSE(of({Claim("a", {GpuRequest(2, "500")})})) << "a share is one device";
  EXPECT_FALSE(of({Claim("a", {GpuRequest(1, "0")})}));
  EXPECT_FALSE(of({Claim("a", {GpuRequest(1, "1001")})}));
  EXPECT_FALSE(of({Claim("a", {GpuRequest(17)})})) << "more devices than a table holds";
  EXPECT_FALSE(of({Claim("a", {GpuRequest(1), GpuRequest(1)})})) << "two requests";
  EXPECT_FALSE(of({Claim("a", {GpuRequest(1)}), Claim("b", {GpuRequest(1)})})) << "two claims";
  ResourceClaim all = Claim("a", {GpuRequest(1)});
  all.requests[0].exactly->allocation_mode = "All";
  EXPECT_FALSE(of({all}));
  ResourceClaim admin = Claim("a", {GpuRequest(1)});
  admin.requests[0].exactly->admin_access = true;
  EXPECT_FALSE(of({admin}));
  ResourceClaim memory = Claim("a", {GpuRequest(1, "500")});
  memory.requests[0].exactly->capacity->requests["gpu.sextant.dev/memory"] = Q("10Gi");
  EXPECT_FALSE(of({memory})) << "a share of another capacity";
  ResourceClaim prioritized = Claim("a", {});
  DeviceRequest list;
  list.name = "gpu";
  list.first_available.push_back(DeviceSubRequest{"big", *GpuRequest(2).exactly});
  list.first_available.push_back(DeviceSubRequest{"small", *GpuRequest(1).exactly});
  prioritized.requests.push_back(list);
  EXPECT_FALSE(of({prioritized}));
  // Constraints do not matter to the rule (the allocator keeps them).
  ResourceClaim numa = Claim("a", {GpuRequest(2)});
  numa.constraints.push_back(DeviceConstraint{{}, std::string(kDriver) + "/numa", std::nullopt});
  EXPECT_TRUE(of({numa}));
}

// ---- The device table from the DRA state ----

TEST(LiveGpuTableTest, SharesConsumedCapacityAndDevicesHeldWhole) {
  std::unique_ptr<ClusterState> state = testutil::MakeState({GpuNode("n1")});
  ASSERT_TRUE(state->UpsertDeviceClass(DriverClass(kDriver, kDriver)).ok());
  std::vector<Device> devices = SharedGpus(3);
  devices.push_back(WholeGpu("gpu-3", "T4"));
  devices.push_back(WholeGpu("gpu-4", "T4"));
  devices.push_back(SharedGpu("gpu-5", "V100M16"));
  ASSERT_TRUE(state->UpsertResourceSlice(Slice("n1", devices)).ok());
  ASSERT_TRUE(state->UpsertResourceClaim(Holding("s300", "n1", {"gpu-0"}, 300)).ok());
  ASSERT_TRUE(state->UpsertResourceClaim(Holding("s530", "n1", {"gpu-1"}, 530)).ok());
  ASSERT_TRUE(state->UpsertResourceClaim(Holding("s470", "n1", {"gpu-1"}, 470)).ok());
  ASSERT_TRUE(state->UpsertResourceClaim(Holding("whole", "n1", {"gpu-3"})).ok());

  // The request takes T4s only: gpu-5 is not a candidate.
  ResourceClaim claim = Claim("mine", {GpuRequest(1, "200")});
  claim.requests[0].exactly->selectors.push_back(
      DeviceSelector{"device.attributes[\"gpu.sextant.dev\"].model == \"T4\""});
  std::optional<GpuClaimRequest> request = GpuRequestOf({&claim}, kMilli);
  ASSERT_TRUE(request);
  Allocator allocator(state->dra());
  absl::StatusOr<LiveGpuTable> table =
      BuildLiveGpuTable(allocator, *testutil::NodeInfoFor(*state, "n1").node, *request, kMilli);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->gpus.count(), 5);
  EXPECT_EQ(table->gpus.model(), *ParseGpuModel("T4"));
  std::vector<int64_t> left;
  for (int i = 0; i < table->gpus.count(); ++i) left.push_back(table->gpus.milli_left(i));
  EXPECT_THAT(left, ElementsAre(700, 0, 1000, 0, 1000));
  std::vector<DeviceId> ids = table->DeviceIds(GpuSet{1} << 4);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].ToString(), "gpu.sextant.dev/n1/gpu-4");

  // A model the table does not know is model 0; the bare capacity name reads the same.
  absl::StatusOr<LiveGpuTable> bare =
      BuildLiveGpuTable(allocator, *testutil::NodeInfoFor(*state, "n1").node, *request, "milli");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->gpus.milli_left(0), 700);
}

// ---- The score's effect on the node choice ----

class SextantGpuTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(state_->UpsertDeviceClass(DriverClass(kDriver, kDriver)).ok()); }

  void Add(const Node& node, std::vector<Device> devices) {
    ASSERT_TRUE(state_->UpsertNode(node).ok());
    ASSERT_TRUE(state_->UpsertResourceSlice(Slice(node.name, std::move(devices))).ok());
  }
  void AddClaim(const ResourceClaim& claim) { ASSERT_TRUE(state_->UpsertResourceClaim(claim).ok()); }
  void AddPod(const Pod& pod) { ASSERT_TRUE(state_->UpsertPod(pod).ok()); }

  Evaluation Evaluate(const ProfileOptions& options, const Pod& pod, uint64_t random = 0) {
    Evaluator evaluator(options);
    return evaluator.Evaluate(*state_, pod, random);
  }

  std::unique_ptr<ClusterState> state_ = std::make_unique<ClusterState>();
};

TEST_F(SextantGpuTest, ASharedPodCompletesThePartlyUsedGpu) {
  Add(GpuNode("n1"), SharedGpus(2));
  Add(GpuNode("n2"), SharedGpus(2));
  // n1's gpu-1 holds a 530 share for a running pod that also takes cpu: LeastAllocated would
  // prefer the idle n2.
  AddClaim(Holding("held", "n1", {"gpu-1"}, 530));
  AddPod(GpuPod("running", "held", "16", "n1"));
  AddClaim(Claim("share", {GpuRequest(1, "470")}));
  const Pod pod = GpuPod("pending", "share");
  AddPod(pod);

  for (GpuPolicy policy : {GpuPolicy::kSextant, GpuPolicy::kFgd, GpuPolicy::kBestFit}) {
    Evaluation e = Evaluate(Placement(policy), pod);
    EXPECT_EQ(Chosen(*state_, e), "n1") << GpuPolicyName(policy);
    EXPECT_GT(e.verdicts[0].plugin_scores[kSextantGpuScoreSlot],
              e.verdicts[1].plugin_scores[kSextantGpuScoreSlot])
        << GpuPolicyName(policy);
  }
  Evaluation off = Evaluate(Placement(GpuPolicy::kSextant, /*enabled=*/false), pod);
  EXPECT_EQ(Chosen(*state_, off), "n2");
  EXPECT_EQ(off.verdicts[0].plugin_scores[kSextantGpuScoreSlot], 0);

  // Device choice on the chosen node: upstream's first fit is gpu-0 (idle), the policy's the
  // 470 left on gpu-1.
  const uint32_t n1 = static_cast<uint32_t>(state_->FindNode("n1"));
  DynamicResourcesPreFilterResult pre = DynamicResourcesPreFilter(pod, *state_, ProfileOptions{});
  ASSERT_TRUE(pre.state);
  std::vector<DeviceId> preferred =
      SextantGpuPreferredDevices(Placement(GpuPolicy::kSextant), pod, *state_, *pre.state, n1);
  ASSERT_EQ(preferred.size(), 1u);
  EXPECT_EQ(preferred[0].device, "gpu-1");
  auto reserved = SextantGpuReserve(pod, *state_, n1, Placement(GpuPolicy::kSextant), {});
  ASSERT_TRUE(reserved.ok()) << reserved.status();
  ASSERT_EQ(reserved->size(), 1u);
  EXPECT_EQ((*reserved)[0].second.devices[0].device, "gpu-1");
  EXPECT_EQ((*reserved)[0].second.devices[0].consumed_capacity.at(kMilli).Value(), 470);
  auto upstream = DynamicResourcesReserve(pod, *state_, n1, ProfileOptions{}, {});
  ASSERT_TRUE(upstream.ok());
  EXPECT_EQ((*upstream)[0].second.devices[0].device, "gpu-0");
}

TEST_F(SextantGpuTest, AWholeGpuPodKeepsAnIdleNodeWholeForAnEightGpuJob) {
  Add(GpuNode("busy", "128"), WholeGpus(8));
  Add(GpuNode("idle", "128"), WholeGpus(8));
  AddClaim(Holding("two", "busy", {"gpu-0", "gpu-1"}));
  AddPod(GpuPod("running", "two", "32", "busy"));
  AddClaim(Claim("one", {GpuRequest(1)}));
  AddClaim(Claim("eight", {GpuRequest(8)}));
  const Pod one = GpuPod("one-gpu", "one");
  AddPod(one);
  AddPod(GpuPod("eight-gpus", "eight", "64"));

  for (GpuPolicy policy : {GpuPolicy::kSextant, GpuPolicy::kFgd, GpuPolicy::kBestFit,
                           GpuPolicy::kGpuPacking}) {
    EXPECT_EQ(Chosen(*state_, Evaluate(Placement(policy), one)), "busy") << GpuPolicyName(policy);
  }
  // Upstream's scoring spreads: the idle node has the most cpu left.
  EXPECT_EQ(Chosen(*state_, Evaluate(Placement(GpuPolicy::kSextant, false), one)), "idle");
}

TEST_F(SextantGpuTest, OtherPodsScoreZeroAndTiesGoToTheFirstNode) {
  Add(GpuNode("n1"), SharedGpus(2));
  Add(GpuNode("n2"), SharedGpus(2));
  Add(GpuNode("n3"), SharedGpus(2));
  const Pod plain = PodBuilder("default", "plain").Container({{"cpu", "1"}}).Build();
  ResourceClaim prioritized = Claim("list", {});
  DeviceRequest list;
  list.name = "gpu";
  list.first_available.push_back(DeviceSubRequest{"two", *GpuRequest(2).exactly});
  list.first_available.push_back(DeviceSubRequest{"one", *GpuRequest(1).exactly});
  prioritized.requests.push_back(list);
  AddClaim(prioritized);
  AddClaim(Claim("share", {GpuRequest(1, "500")}));
  const Pod listed = GpuPod("listed", "list");
  const Pod shared = GpuPod("shared", "share");
  Evaluation e = Evaluate(ProfileOptions{}, listed);
  for (const NodeVerdict& v : e.verdicts) EXPECT_EQ(v.plugin_scores[kSextantGpuScoreSlot], 0);
  // A CPU-only pod is scored on the nodes' GPUs (nothing to strand here: all alike) unless
  // score_cpu_pods is off.
  e = Evaluate(ProfileOptions{}, plain);
  for (const NodeVerdict& v : e.verdicts) EXPECT_EQ(v.plugin_scores[kSextantGpuScoreSlot], 50);
  ProfileOptions no_cpu_pods;
  no_cpu_pods.gpu_placement.score_cpu_pods = false;
  e = Evaluate(no_cpu_pods, plain);
  for (const NodeVerdict& v : e.verdicts) EXPECT_EQ(v.plugin_scores[kSextantGpuScoreSlot], 0);
  // Three identical nodes: a GPU pod goes to the first whatever the random value (a fixed
  // order packs); a pod the policy does not score keeps the seeded pick.
  std::set<std::string> gpu_choices, plain_choices;
  for (uint64_t random = 0; random < 6; ++random) {
    gpu_choices.insert(Chosen(*state_, Evaluate(ProfileOptions{}, shared, random)));
    plain_choices.insert(Chosen(*state_, Evaluate(ProfileOptions{}, plain, random)));
  }
  EXPECT_THAT(gpu_choices, ElementsAre("n1"));
  EXPECT_EQ(plain_choices.size(), 3u);
}

TEST_F(SextantGpuTest, ReplayGivesTheDevicesThePolicyPicks) {
  // Through the replay path (Evaluate, then Reserve on the chosen node): the 300 share takes
  // the device with 300 left, not upstream's first fit.
  Snapshot snapshot;
  snapshot.nodes.push_back(GpuNode("n1"));
  snapshot.device_classes.push_back(DriverClass(kDriver, kDriver));
  snapshot.resource_slices.push_back(Slice("n1", SharedGpus(4)));
  snapshot.resource_claims.push_back(Holding("held", "n1", {"gpu-2"}, 700));
  snapshot.resource_claims.push_back(Claim("share", {GpuRequest(1, "300")}));
  snapshot.pods.push_back(GpuPod("running", "held", "4", "n1"));
  snapshot.pods.push_back(GpuPod("pending", "share"));
  ReplayOptions options;
  absl::StatusOr<ReplayReport> report = Replay(snapshot, options);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->outcomes.size(), 1u);
  EXPECT_THAT(report->outcomes[0].devices, ElementsAre("default/share: gpu.sextant.dev/n1/gpu-2"));
  options.profile.gpu_placement.enabled = false;
  report = Replay(snapshot, options);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->outcomes[0].devices, ElementsAre("default/share: gpu.sextant.dev/n1/gpu-0"));
}

TEST_F(SextantGpuTest, EngineAssumeAllocatesThePolicysDevices) {
  EngineOptions options;
  options.epoch = "e";
  Engine engine(options);
  std::vector<ClusterChange> objects = {GpuNode("n1"), DriverClass(kDriver, kDriver),
                                        Slice("n1", SharedGpus(3)),
                                        Holding("held", "n1", {"gpu-1"}, 600),
                                        GpuPod("running", "held", "4", "n1"),
                                        Claim("share", {GpuRequest(1, "400")})};
  const Pod pod = GpuPod("pending", "share");
  objects.push_back(pod);
  ASSERT_TRUE(engine.ApplySnapshot(1, objects).ok());
  std::vector<ClaimAllocation> allocations;
  ASSERT_TRUE(engine.Assume(pod, "n1", "e", &allocations).ok());
  ASSERT_EQ(allocations.size(), 1u);
  EXPECT_EQ(allocations[0].allocation.devices[0].device, "gpu-1");
}

TEST_F(SextantGpuTest, ACpuOnlyPodStaysOffTheNodeWhoseGpusItWouldStrand) {
  // Both nodes have 8 cpus and two idle GPUs; the expected GPU pods need 6 cpus each. A 4-cpu
  // pod on gpu-node leaves 4 cpus there, too few for any of them: it goes to the node without
  // GPUs, although it has the same free cpu.
  Add(GpuNode("gpu-node", "8"), SharedGpus(2));
  ASSERT_TRUE(state_->UpsertNode(GpuNode("cpu-node", "8")).ok());
  for (int i = 0; i < 4; ++i) {
    const std::string name = "gpu-" + std::to_string(i);
    AddClaim(Claim(name, {GpuRequest(1, "500")}));
    AddPod(GpuPod(name, name, "6"));
  }
  const Pod cpu = PodBuilder("default", "cpu").Container({{"cpu", "4"}}).Build();
  for (uint64_t random = 0; random < 4; ++random) {
    Evaluation e = Evaluate(ProfileOptions{}, cpu, random);
    EXPECT_EQ(Chosen(*state_, e), "cpu-node");
    EXPECT_LT(e.verdicts[0].plugin_scores[kSextantGpuScoreSlot],
              e.verdicts[1].plugin_scores[kSextantGpuScoreSlot]);
  }
  ProfileOptions off;
  off.gpu_placement.score_cpu_pods = false;
  std::set<std::string> choices;
  for (uint64_t random = 0; random < 4; ++random) {
    choices.insert(Chosen(*state_, Evaluate(off, cpu, random)));
  }
  EXPECT_EQ(choices.size(), 2u);
}

// ---- The expected workload ----

TEST_F(SextantGpuTest, WorkloadIsEstimatedFromBoundAndPendingGpuPodsAndRefreshedOnChange) {
  Add(GpuNode("n1"), SharedGpus(8));
  for (int i = 0; i < 40; ++i) {
    const std::string name = "p" + std::to_string(i);
    AddClaim(Claim(name, {GpuRequest(1, i < 30 ? "500" : "1000")}));
    AddPod(GpuPod(name, name, "4", i < 2 ? "n1" : ""));
  }
  AddPod(PodBuilder("default", "cpu-only").Container({{"cpu", "1"}}).Build());
  std::shared_ptr<const GpuWorkload> w = LiveGpuWorkload(*state_, kMilli);
  ASSERT_EQ(w->types.size(), 2u);
  EXPECT_EQ(w->types[0].demand.gpu_milli, 500);
  EXPECT_DOUBLE_EQ(w->types[0].popularity, 0.75);
  EXPECT_DOUBLE_EQ(w->cpu_per_gpu_milli, 4000.0 * 40 / (30 * 500 + 10 * 1000));
  EXPECT_EQ(state_->gpu_placement_cache().workload_computations(), 1);
  // A bound pod's claims are allocated; it still counts, and binding is no change of the set.
  EXPECT_EQ(LiveGpuWorkload(*state_, kMilli), w);
  AddPod(GpuPod("p5", "p5", "4", "n1"));
  EXPECT_EQ(LiveGpuWorkload(*state_, kMilli), w);
  // Forty pods: two changes (a twentieth) make a new estimate, one does not.
  AddClaim(Claim("q1", {GpuRequest(2)}));
  EXPECT_EQ(LiveGpuWorkload(*state_, kMilli), w);
  AddPod(GpuPod("q1", "q1"));
  std::shared_ptr<const GpuWorkload> next = LiveGpuWorkload(*state_, kMilli);
  EXPECT_NE(next, w);
  EXPECT_DOUBLE_EQ(next->cpu_per_gpu_milli, 4000.0 * 41 / (30 * 500 + 10 * 1000 + 2000));
  EXPECT_EQ(state_->gpu_placement_cache().workload_computations(), 2);
  // Another capacity name is another estimate.
  // (only q1 asks nothing of that capacity).
  EXPECT_EQ(LiveGpuWorkload(*state_, "other.dev/milli")->types.size(), 1u);
}

TEST_F(SextantGpuTest, ConcurrentCyclesShareOneEstimate) {
  Add(GpuNode("n1"), SharedGpus(4));
  Add(GpuNode("n2"), SharedGpus(4));
  AddClaim(Claim("share", {GpuRequest(1, "250")}));
  const Pod pod = GpuPod("pending", "share");
  AddPod(pod);
  Evaluator evaluator(ProfileOptions{});
  std::vector<std::thread> threads;
  std::vector<std::string> chosen(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) chosen[t] = Chosen(*state_, evaluator.Evaluate(*state_, pod, i));
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(chosen, ElementsAre("n1", "n1", "n1", "n1"));
  EXPECT_EQ(state_->gpu_placement_cache().workload_computations(), 1);
}

// ---- Options ----

TEST(GpuPlacementOptionsTest, ValidatedAndTheDefaultWeightDecides) {
  ProfileOptions options;
  EXPECT_TRUE(ValidateProfileOptions(options).ok());
  EXPECT_EQ(EffectiveGpuPlacementWeight(options), 1301);
  options.node_resources_fit_weight = 10;
  EXPECT_EQ(EffectiveGpuPlacementWeight(options), 2201);
  options.gpu_placement.weight = 5;
  EXPECT_EQ(EffectiveGpuPlacementWeight(options), 5);
  options.gpu_placement.enabled = false;
  EXPECT_EQ(EffectiveGpuPlacementWeight(options), 0);

  options = ProfileOptions{};
  options.gpu_placement.weight = -1;
  EXPECT_EQ(ValidateProfileOptions(options).message(),
            "gpuPlacement.weight: must be in the range [0, 1000000]");
  options.gpu_placement.weight = 1000001;
  EXPECT_FALSE(ValidateProfileOptions(options).ok());
  options = ProfileOptions{};
  options.gpu_placement.capacity_name = "bad name!";
  EXPECT_FALSE(ValidateProfileOptions(options).ok());
  options.gpu_placement.capacity_name = "milli";
  EXPECT_TRUE(ValidateProfileOptions(options).ok());
}

}  // namespace
}  // namespace sextant
