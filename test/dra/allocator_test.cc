// Sextant's allocator beyond upstream's table (allocator_upstream_test.cc runs that): the
// engine's own contract (outcome kinds, share IDs, claims that are not stored, concurrent calls,
// allocations in flight) and rules whose upstream behaviour is easy to get subtly wrong, written
// as readable cases. Cases marked "upstream:" restate an upstream case to pin the rule it shows.
#include "dra/allocator.h"

#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dra/internal/consumable_capacity.h"
#include "dra/inventory.h"
#include "gtest/gtest.h"
#include "sextant/dra.h"
#include "sextant/model.h"
#include "sextant/quantity.h"

namespace sextant {
namespace {

// The allocator's per-device lookup (AllocatedDevices::held) follows the three maps it indexes,
// found by borrowed strings.
TEST(AllocatedDevicesTest, HeldFollowsTheMaps) {
  AllocatedDevices a;
  const DeviceId gpu{"gpu.example.com", "node-1", "gpu-0"};
  const DeviceId other{"gpu.example.com", "node-1", "gpu-1"};
  auto held = [&](const DeviceId& id) {
    return a.FindHeld(AllocatedDevices::DeviceRef{id.driver, id.pool, id.device});
  };
  EXPECT_EQ(held(gpu), nullptr);
  a.dedicated[gpu] = 1;
  a.Refresh(gpu);
  ASSERT_NE(held(gpu), nullptr);
  EXPECT_TRUE(held(gpu)->dedicated);
  EXPECT_FALSE(held(gpu)->shared);
  EXPECT_EQ(held(other), nullptr);
  a.shared[gpu] = 2;
  a.consumed_capacity[gpu] = {{"memory", Quantity::FromInt(1)}};
  a.Refresh(gpu);
  EXPECT_TRUE(held(gpu)->shared);
  EXPECT_TRUE(held(gpu)->consumed);
  a.dedicated.erase(gpu);
  a.shared.erase(gpu);
  a.Refresh(gpu);
  ASSERT_NE(held(gpu), nullptr);
  EXPECT_FALSE(held(gpu)->dedicated);
  EXPECT_TRUE(held(gpu)->consumed);
  a.consumed_capacity.erase(gpu);
  a.Refresh(gpu);
  EXPECT_EQ(held(gpu), nullptr);
  EXPECT_TRUE(a.held.empty());
}

constexpr char kDriver[] = "gpu.example.com";
constexpr char kClass[] = "gpu";

Quantity Q(const char* text) { return *Quantity::Parse(text); }

Node MakeNode(std::string name, Labels labels = {}) {
  Node node;
  node.name = std::move(name);
  node.labels = std::move(labels);
  return node;
}

DeviceClass GpuClass(std::string name = kClass, std::string driver = kDriver) {
  DeviceClass c;
  c.name = std::move(name);
  c.selectors.push_back(DeviceSelector{"device.driver == \"" + driver + "\""});
  return c;
}

Device Gpu(std::string name, int64_t numa = 0) {
  Device d;
  d.name = std::move(name);
  d.attributes["numa"] = DeviceAttributeValue(numa);
  return d;
}

ResourceSlice NodeSlice(std::string name, std::string node, std::string pool,
                        std::vector<Device> devices, int64_t generation = 1, int64_t count = 1) {
  ResourceSlice s;
  s.name = std::move(name);
  s.driver = kDriver;
  s.pool = ResourcePool{std::move(pool), generation, count};
  s.node_name = std::move(node);
  s.devices = std::move(devices);
  return s;
}

DeviceRequest Exactly(std::string name, int64_t count, std::string mode = "ExactCount") {
  DeviceRequest r;
  r.name = std::move(name);
  r.exactly.emplace();
  r.exactly->device_class_name = kClass;
  r.exactly->count = count;
  r.exactly->allocation_mode = std::move(mode);
  return r;
}

ResourceClaim Claim(std::string name, std::vector<DeviceRequest> requests,
                    std::vector<DeviceConstraint> constraints = {}, std::string ns = "default") {
  ResourceClaim c;
  c.name_space = std::move(ns);
  c.name = std::move(name);
  c.uid = c.name_space + "-" + c.name;
  c.requests = std::move(requests);
  c.constraints = std::move(constraints);
  return c;
}

// An allocation result for one device of kDriver.
AllocationResult Holding(std::string pool, std::string device,
                         std::optional<std::string> share_id = std::nullopt,
                         std::map<std::string, Quantity> consumed = {}) {
  DeviceRequestAllocationResult result;
  result.request = "r";
  result.driver = kDriver;
  result.pool = std::move(pool);
  result.device = std::move(device);
  result.share_id = std::move(share_id);
  result.consumed_capacity = std::move(consumed);
  AllocationResult allocation;
  allocation.devices.push_back(std::move(result));
  return allocation;
}

// The devices of each result, as "request=driver/pool/device".
std::vector<std::vector<std::string>> Picked(const AllocateOutcome& outcome) {
  std::vector<std::vector<std::string>> out;
  for (const AllocationResult& result : outcome.results) {
    std::vector<std::string> devices;
    for (const auto& d : result.devices) {
      devices.push_back(d.request + "=" + d.driver + "/" + d.pool + "/" + d.device);
    }
    out.push_back(std::move(devices));
  }
  return out;
}

AllocateOutcome AllocateOn(const DraInventory& inventory, const Node& node,
                    const std::vector<ResourceClaim>& claims,
                    const Allocator::ShareIdGenerator& share_ids = {}) {
  std::vector<const ResourceClaim*> pending;
  for (const ResourceClaim& c : claims) pending.push_back(&c);
  Allocator allocator(inventory);
  return allocator.Allocate(node, pending, share_ids);
}

AllocateOutcome OnNodeA(const DraInventory& inventory, const std::vector<ResourceClaim>& claims,
                        const Allocator::ShareIdGenerator& share_ids = {}) {
  return AllocateOn(inventory, MakeNode("node-a"), claims, share_ids);
}

// The benchmark's shape: two GPUs that share a NUMA node, out of eight split over two.
TEST(AllocatorTest, MatchAttributePicksTheFirstPairThatAgrees) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  std::vector<Device> gpus;
  for (int i = 0; i < 8; ++i) gpus.push_back(Gpu("gpu-" + std::to_string(i), i < 1 ? 0 : 1));
  inventory.UpsertResourceSlice(NodeSlice("node-a-gpus", "node-a", "node-a", gpus));
  ResourceClaim claim = Claim("pair", {Exactly("gpus", 2)},
                              {DeviceConstraint{{}, std::string(kDriver) + "/numa", std::nullopt}});

  AllocateOutcome outcome = OnNodeA(inventory, {claim});
  ASSERT_EQ(outcome.kind, AllocateOutcome::Kind::kAllocated) << outcome.message;
  // gpu-0 is alone on NUMA 0: the search backs out of it and takes gpu-1 and gpu-2.
  EXPECT_EQ(Picked(outcome), (std::vector<std::vector<std::string>>{
                                 {"gpus=gpu.example.com/node-a/gpu-1",
                                  "gpus=gpu.example.com/node-a/gpu-2"}}));
  ASSERT_TRUE(outcome.results[0].node_selector.has_value());
  const NodeSelectorTerm& term = outcome.results[0].node_selector->terms.at(0);
  ASSERT_EQ(term.match_fields.size(), 1u);
  EXPECT_EQ(term.match_fields[0].key, "metadata.name");
  EXPECT_EQ(term.match_fields[0].values, std::vector<std::string>{"node-a"});

  EXPECT_EQ(AllocateOn(inventory, MakeNode("node-b"), {claim}).kind,
            AllocateOutcome::Kind::kUnsatisfiable);
}

TEST(AllocatorTest, NoClaimsIsAnEmptySuccess) {
  DraInventory inventory;
  AllocateOutcome outcome = OnNodeA(inventory, {});
  EXPECT_EQ(outcome.kind, AllocateOutcome::Kind::kAllocated);
  EXPECT_TRUE(outcome.results.empty());
}

TEST(AllocatorTest, ClaimsPrintAsNamespaceSlashName) {
  DraInventory inventory;
  ResourceClaim claim = Claim("c", {Exactly("r", 1)}, {}, "team-a");
  AllocateOutcome outcome = OnNodeA(inventory, {claim});
  EXPECT_EQ(outcome.kind, AllocateOutcome::Kind::kError);
  EXPECT_EQ(outcome.message,
            "claim team-a/c, request r: could not retrieve device class gpu: "
            "deviceclass.resource.k8s.io \"gpu\" not found");
}

TEST(AllocatorTest, HeldDevicesAndAllocationsInFlightAreTaken) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  inventory.UpsertResourceSlice(NodeSlice("s", "node-a", "p", {Gpu("gpu-0"), Gpu("gpu-1")}));
  ResourceClaim held = Claim("held", {Exactly("r", 1)});
  held.allocation = Holding("p", "gpu-0");
  inventory.UpsertResourceClaim(held);
  ResourceClaim flying = Claim("flying", {Exactly("r", 1)});
  inventory.UpsertResourceClaim(flying);

  ResourceClaim want = Claim("want", {Exactly("r", 1)});
  AllocateOutcome outcome = OnNodeA(inventory, {want});
  ASSERT_EQ(outcome.kind, AllocateOutcome::Kind::kAllocated);
  EXPECT_EQ(outcome.results[0].devices[0].device, "gpu-1");

  ASSERT_TRUE(inventory
                  .AddPendingAllocation(flying.Key(), "default/pod", Holding("p", "gpu-1"))
                  .ok());
  EXPECT_EQ(OnNodeA(inventory, {want}).kind,
            AllocateOutcome::Kind::kUnsatisfiable);
  inventory.ForgetPendingAllocations("default/pod");
  EXPECT_EQ(OnNodeA(inventory, {want}).kind, AllocateOutcome::Kind::kAllocated);
}

TEST(AllocatorTest, AdminAccessUsesHeldDevicesButNotTwiceInOneClaim) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  inventory.UpsertResourceSlice(NodeSlice("s", "node-a", "p", {Gpu("gpu-0")}));
  ResourceClaim held = Claim("held", {Exactly("r", 1)});
  held.allocation = Holding("p", "gpu-0");
  inventory.UpsertResourceClaim(held);

  DeviceRequest admin = Exactly("admin", 1);
  admin.exactly->admin_access = true;
  AllocateOutcome outcome = OnNodeA(inventory, {Claim("monitor", {admin})});
  ASSERT_EQ(outcome.kind, AllocateOutcome::Kind::kAllocated) << outcome.message;
  EXPECT_EQ(outcome.results[0].devices[0].admin_access, std::optional<bool>(true));

  DeviceRequest second = admin;
  second.name = "admin-2";
  EXPECT_EQ(OnNodeA(inventory, {Claim("monitor", {admin, second})}).kind,
            AllocateOutcome::Kind::kUnsatisfiable);
  // Another claim may take it with admin access again.
  EXPECT_EQ(AllocateOn(inventory, MakeNode("node-a"),
                {Claim("monitor", {admin}), Claim("monitor-2", {admin})})
                .kind,
            AllocateOutcome::Kind::kAllocated);
}

TEST(AllocatorTest, ShareIdsOnlyForReturnedShares) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  Device shared = Gpu("gpu-0");
  shared.allow_multiple_allocations = true;
  shared.capacity["memory"] = DeviceCapacity{cel::CapacityValue::FromQuantity(Q("80Gi")), {}};
  inventory.UpsertResourceSlice(NodeSlice("s", "node-a", "p", {shared, Gpu("gpu-1")}));
  DeviceRequest small = Exactly("r", 1);
  small.exactly->capacity = CapacityRequirements{{{"memory", Q("10Gi")}}};

  int generated = 0;
  auto ids = [&] { return "share-" + std::to_string(generated++); };
  AllocateOutcome outcome =
      OnNodeA(inventory, {Claim("a", {small}), Claim("b", {small})}, ids);
  ASSERT_EQ(outcome.kind, AllocateOutcome::Kind::kAllocated) << outcome.message;
  EXPECT_EQ(generated, 2);
  EXPECT_EQ(outcome.results[0].devices[0].share_id, std::optional<std::string>("share-0"));
  EXPECT_EQ(outcome.results[1].devices[0].share_id, std::optional<std::string>("share-1"));
  EXPECT_EQ(outcome.results[1].devices[0].consumed_capacity.at("memory"), Q("10Gi"));

  // No generator: still a share, with an empty ID.
  outcome = OnNodeA(inventory, {Claim("a", {small})});
  EXPECT_EQ(outcome.results[0].devices[0].share_id, std::optional<std::string>(""));

  // Nothing returned, nothing generated.
  DeviceRequest huge = Exactly("r", 1);
  huge.exactly->capacity = CapacityRequirements{{{"memory", Q("100Gi")}}};
  generated = 0;
  EXPECT_EQ(OnNodeA(inventory, {Claim("a", {small}), Claim("b", {huge})}, ids)
                .kind,
            AllocateOutcome::Kind::kUnsatisfiable);
  EXPECT_EQ(generated, 0);
}

TEST(AllocatorTest, SharesOfADeviceCountAgainstItsCapacity) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  Device shared = Gpu("gpu-0");
  shared.allow_multiple_allocations = true;
  shared.capacity["memory"] = DeviceCapacity{cel::CapacityValue::FromQuantity(Q("80Gi")), {}};
  inventory.UpsertResourceSlice(NodeSlice("s", "node-a", "p", {shared}));
  ResourceClaim held = Claim("held", {Exactly("r", 1)});
  held.allocation = Holding("p", "gpu-0", "1", {{"memory", Q("60Gi")}});
  inventory.UpsertResourceClaim(held);

  DeviceRequest fits = Exactly("r", 1);
  fits.exactly->capacity = CapacityRequirements{{{"memory", Q("20Gi")}}};
  DeviceRequest too_big = fits;
  too_big.exactly->capacity = CapacityRequirements{{{"memory", Q("21Gi")}}};
  EXPECT_EQ(OnNodeA(inventory, {Claim("a", {fits})}).kind,
            AllocateOutcome::Kind::kAllocated);
  EXPECT_EQ(OnNodeA(inventory, {Claim("a", {too_big})}).kind,
            AllocateOutcome::Kind::kUnsatisfiable);
  // Without a capacity request a share takes the whole capacity, which is not left.
  EXPECT_EQ(OnNodeA(inventory, {Claim("a", {Exactly("r", 1)})}).kind,
            AllocateOutcome::Kind::kUnsatisfiable);
}

TEST(AllocatorTest, ClaimSelectorsNotStoredAreCompiledForTheCall) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  inventory.UpsertResourceSlice(NodeSlice("s", "node-a", "p", {Gpu("gpu-0", 0), Gpu("gpu-1", 1)}));
  DeviceRequest numa1 = Exactly("r", 1);
  numa1.exactly->selectors.push_back(
      DeviceSelector{"device.attributes[\"gpu.example.com\"].numa == 1"});
  AllocateOutcome outcome = OnNodeA(inventory, {Claim("c", {numa1})});
  ASSERT_EQ(outcome.kind, AllocateOutcome::Kind::kAllocated) << outcome.message;
  EXPECT_EQ(outcome.results[0].devices[0].device, "gpu-1");

  DeviceRequest broken = Exactly("r", 1);
  broken.exactly->selectors.push_back(DeviceSelector{"device.driver =="});
  outcome = OnNodeA(inventory, {Claim("c", {broken})});
  EXPECT_EQ(outcome.kind, AllocateOutcome::Kind::kError);
  EXPECT_EQ(outcome.message.rfind("claim default/c: selector #0: CEL compile error: ", 0), 0u)
      << outcome.message;
}

TEST(AllocatorTest, MissingAttributeIsARuntimeErrorWithUpstreamsHint) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  inventory.UpsertResourceSlice(NodeSlice("s", "node-a", "p", {Gpu("gpu-0")}));
  DeviceRequest r = Exactly("r", 1);
  r.exactly->selectors.push_back(
      DeviceSelector{"device.attributes[\"gpu.example.com\"].model == \"H100\""});
  AllocateOutcome outcome = OnNodeA(inventory, {Claim("c", {r})});
  EXPECT_EQ(outcome.kind, AllocateOutcome::Kind::kError);
  EXPECT_EQ(outcome.message,
            "claim default/c: selector #0 on device gpu.example.com/p/gpu-0: CEL runtime error: "
            "no such key: model. consider using CEL optional chaining (.? followed by orValue()) "
            "or guarding the check with has() for optional fields");
}

// A slice that upstream would ignore leaves its pool incomplete: nothing from the pool, and
// "All" fails outright.
TEST(AllocatorTest, SliceWithDisabledFeatureLeavesItsPoolIncomplete) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  inventory.UpsertResourceSlice(NodeSlice("s-1", "node-a", "p", {Gpu("gpu-0")}, 1, 2));
  ResourceSlice ignored = NodeSlice("s-2", "node-a", "p", {Gpu("gpu-1")}, 1, 2);
  ignored.uses_disabled_feature = true;
  inventory.UpsertResourceSlice(ignored);

  EXPECT_EQ(OnNodeA(inventory, {Claim("c", {Exactly("r", 1)})}).kind,
            AllocateOutcome::Kind::kUnsatisfiable);
  AllocateOutcome all = OnNodeA(inventory, {Claim("c", {Exactly("r", 0, "All")})});
  EXPECT_EQ(all.kind, AllocateOutcome::Kind::kError);
  EXPECT_EQ(all.message,
            "claim default/c, request r: asks for all devices, but resource pool "
            "gpu.example.com/p is currently being updated");
}

// Pools in (driver, pool) order, slices in name order, whatever order they were stored in;
// pools with binding conditions last.
TEST(AllocatorTest, SearchOrderIsPoolThenSliceName) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  Device waits = Gpu("a-waits");
  waits.binding_conditions = {"Attached"};
  inventory.UpsertResourceSlice(NodeSlice("z", "node-a", "a-pool", {waits}));
  inventory.UpsertResourceSlice(NodeSlice("y", "node-a", "b-pool", {Gpu("b-0")}, 1, 2));
  inventory.UpsertResourceSlice(NodeSlice("x", "node-a", "b-pool", {Gpu("b-1")}, 1, 2));
  inventory.UpsertResourceSlice(NodeSlice("w", "node-a", "c-pool", {Gpu("c-0")}));

  AllocateOutcome outcome = OnNodeA(inventory, {Claim("c", {Exactly("r", 4)})});
  ASSERT_EQ(outcome.kind, AllocateOutcome::Kind::kAllocated) << outcome.message;
  EXPECT_EQ(Picked(outcome), (std::vector<std::vector<std::string>>{{
                                 "r=gpu.example.com/b-pool/b-1",
                                 "r=gpu.example.com/b-pool/b-0",
                                 "r=gpu.example.com/c-pool/c-0",
                                 "r=gpu.example.com/a-pool/a-waits",
                             }}));
  EXPECT_EQ(outcome.results[0].devices[3].binding_conditions,
            std::vector<std::string>{"Attached"});
}

TEST(AllocatorTest, NewerGenerationOnAnotherNodeMakesThePoolObsolete) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  // Generation 1 says two slices; only this node's is left, and generation 2 is on its way.
  inventory.UpsertResourceSlice(NodeSlice("old", "node-a", "p", {Gpu("gpu-0")}, 1, 2));
  inventory.UpsertResourceSlice(NodeSlice("new", "node-b", "p", {Gpu("gpu-9")}, 2, 2));
  ResourceClaim all = Claim("c", {Exactly("r", 0, "All")});
  // The obsolete pool is dropped, not incomplete: "All" has nothing, which is no error.
  EXPECT_EQ(OnNodeA(inventory, {all}).kind,
            AllocateOutcome::Kind::kUnsatisfiable);
}

TEST(AllocatorTest, InvalidPoolIsReportedOnlyWithoutASolution) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  inventory.UpsertResourceSlice(NodeSlice("bad", "node-a", "bad", {Gpu("twin"), Gpu("twin")}));
  ResourceClaim one = Claim("c", {Exactly("r", 1)});
  AllocateOutcome outcome = OnNodeA(inventory, {one});
  EXPECT_EQ(outcome.kind, AllocateOutcome::Kind::kFailedOnNode);
  EXPECT_EQ(outcome.message, "invalid resource pools were encountered");

  inventory.UpsertResourceSlice(NodeSlice("good", "node-a", "good", {Gpu("gpu-0")}));
  EXPECT_EQ(OnNodeA(inventory, {one}).kind, AllocateOutcome::Kind::kAllocated);
}

TEST(AllocatorTest, NodeSelectorsOfNetworkDevicesAreMerged) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  auto selector = [](std::string key, std::string value) {
    NodeSelector s;
    NodeSelectorTerm term;
    term.match_expressions.push_back(SelectorRequirement{key, SelectorOperator::kIn, {value}});
    s.terms.push_back(term);
    return s;
  };
  ResourceSlice rack = NodeSlice("rack", "", "rack", {Gpu("r-0")});
  rack.node_name.reset();
  rack.node_selector = selector("rack", "r1");
  ResourceSlice zone = NodeSlice("zone", "", "zone", {Gpu("z-0")});
  zone.node_name.reset();
  zone.node_selector = selector("zone", "z1");
  inventory.UpsertResourceSlice(rack);
  inventory.UpsertResourceSlice(zone);

  Node node = MakeNode("node-a", {{"rack", "r1"}, {"zone", "z1"}});
  AllocateOutcome outcome = AllocateOn(inventory, node, {Claim("c", {Exactly("r", 2)})});
  ASSERT_EQ(outcome.kind, AllocateOutcome::Kind::kAllocated) << outcome.message;
  ASSERT_TRUE(outcome.results[0].node_selector.has_value());
  ASSERT_EQ(outcome.results[0].node_selector->terms.size(), 1u);
  const auto& expressions = outcome.results[0].node_selector->terms[0].match_expressions;
  ASSERT_EQ(expressions.size(), 2u);
  EXPECT_EQ(expressions[0].key, "rack");
  EXPECT_EQ(expressions[1].key, "zone");

  // A node outside the rack does not see that pool.
  Node elsewhere = MakeNode("node-b", {{"zone", "z1"}});
  EXPECT_EQ(AllocateOn(inventory, elsewhere, {Claim("c", {Exactly("r", 2)})}).kind,
            AllocateOutcome::Kind::kUnsatisfiable);
}

// Partitions of one GPU share its counters; several nodes allocate at once, each with the
// available counters the allocator caches per pool.
TEST(AllocatorTest, ConcurrentCallsAgreeWithSequentialOnes) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  std::vector<Node> nodes;
  for (int n = 0; n < 16; ++n) {
    std::string node = "node-" + std::to_string(n);
    nodes.push_back(MakeNode(node));
    ResourceSlice counters = NodeSlice(node + "-counters", node, node, {}, 1, 2);
    counters.shared_counters.push_back(CounterSet{"gpu-0", {{"memory", Q("40Gi")}}});
    inventory.UpsertResourceSlice(counters);
    std::vector<Device> parts;
    for (int p = 0; p < 4; ++p) {
      Device part = Gpu("part-" + std::to_string(p), p);
      part.consumes_counters.push_back(
          DeviceCounterConsumption{"gpu-0", {{"memory", Q(p < 2 ? "20Gi" : "10Gi")}}});
      parts.push_back(part);
    }
    inventory.UpsertResourceSlice(NodeSlice(node + "-parts", node, node, parts, 1, 2));
    if (n % 2 == 0) {
      ResourceClaim held = Claim("held-" + node, {Exactly("r", 1)});
      held.allocation = Holding(node, "part-0");
      inventory.UpsertResourceClaim(held);
    }
  }
  ResourceClaim claim = Claim("c", {Exactly("r", 2)});
  std::vector<const ResourceClaim*> pending = {&claim};

  Allocator sequential(inventory);
  std::vector<std::vector<std::vector<std::string>>> want;
  for (const Node& node : nodes) want.push_back(Picked(sequential.Allocate(node, pending)));
  // Held part-0 leaves 20Gi: two 10Gi parts. Otherwise part-0 and part-1.
  EXPECT_EQ(want[0], (std::vector<std::vector<std::string>>{
                         {"r=gpu.example.com/node-0/part-2", "r=gpu.example.com/node-0/part-3"}}));
  EXPECT_EQ(want[1], (std::vector<std::vector<std::string>>{
                         {"r=gpu.example.com/node-1/part-0", "r=gpu.example.com/node-1/part-1"}}));

  Allocator shared(inventory);
  std::vector<std::vector<std::vector<std::string>>> got(nodes.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < nodes.size(); i += 4) {
        got[i] = Picked(shared.Allocate(nodes[i], pending));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(got, want);
  EXPECT_EQ(shared.search_steps(), sequential.search_steps());
}

TEST(AllocatorTest, TaintsNeedTolerationsAndResultsCarryThem) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  Device tainted = Gpu("gpu-0");
  tainted.taints.push_back(DeviceTaint{"maintenance", "planned", DeviceTaintEffect::kNoSchedule});
  Device informational = Gpu("gpu-1");
  informational.taints.push_back(DeviceTaint{"note", "x", DeviceTaintEffect::kNone});
  inventory.UpsertResourceSlice(NodeSlice("s", "node-a", "p", {tainted, informational}));

  AllocateOutcome outcome = OnNodeA(inventory, {Claim("c", {Exactly("r", 2)})});
  EXPECT_EQ(outcome.kind, AllocateOutcome::Kind::kUnsatisfiable);

  DeviceRequest tolerant = Exactly("r", 2);
  tolerant.exactly->tolerations.push_back(
      DeviceToleration{"maintenance", "Equal", "planned", "NoSchedule", std::nullopt});
  outcome = OnNodeA(inventory, {Claim("c", {tolerant})});
  ASSERT_EQ(outcome.kind, AllocateOutcome::Kind::kAllocated) << outcome.message;
  EXPECT_EQ(outcome.results[0].devices[0].tolerations.size(), 1u);

  // An operator the API does not know tolerates nothing.
  DeviceRequest odd = Exactly("r", 2);
  odd.exactly->tolerations.push_back(DeviceToleration{"maintenance", "Lt", "", "", std::nullopt});
  EXPECT_EQ(OnNodeA(inventory, {Claim("c", {odd})}).kind,
            AllocateOutcome::Kind::kUnsatisfiable);
}

TEST(AllocatorTest, FirstAvailablePicksTheFirstSubrequestThatFits) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  inventory.UpsertResourceSlice(NodeSlice("s", "node-a", "p", {Gpu("gpu-0"), Gpu("gpu-1")}));
  DeviceRequest flexible;
  flexible.name = "r";
  for (auto [name, count] : {std::pair<const char*, int>{"four", 4}, {"two", 2}, {"one", 1}}) {
    DeviceSubRequest sub;
    sub.name = name;
    sub.spec.device_class_name = kClass;
    sub.spec.count = count;
    flexible.first_available.push_back(sub);
  }
  AllocateOutcome outcome = OnNodeA(inventory, {Claim("c", {flexible})});
  ASSERT_EQ(outcome.kind, AllocateOutcome::Kind::kAllocated) << outcome.message;
  EXPECT_EQ(Picked(outcome), (std::vector<std::vector<std::string>>{
                                 {"r/two=gpu.example.com/p/gpu-0",
                                  "r/two=gpu.example.com/p/gpu-1"}}));
}

TEST(DraNodeMatchesTest, NameThenAllNodesThenSelector) {
  Node node = MakeNode("node-a", {{"zone", "z1"}});
  NodeSelector zone;
  zone.terms.push_back(
      NodeSelectorTerm{{SelectorRequirement{"zone", SelectorOperator::kIn, {"z1"}}}, {}});
  EXPECT_TRUE(*DraNodeMatches(node, "node-a", std::nullopt, std::nullopt));
  EXPECT_FALSE(*DraNodeMatches(node, "node-b", true, zone));
  EXPECT_TRUE(*DraNodeMatches(node, "", true, std::nullopt));
  EXPECT_TRUE(*DraNodeMatches(node, std::nullopt, false, zone));
  EXPECT_FALSE(*DraNodeMatches(node, std::nullopt, std::nullopt, std::nullopt));
  NodeSelector broken;
  broken.terms.push_back(
      NodeSelectorTerm{{SelectorRequirement{"zone", SelectorOperator::kIn, {}}}, {}});
  EXPECT_FALSE(DraNodeMatches(node, std::nullopt, std::nullopt, broken).ok());
}

// ---- consumable capacity rules ----

DeviceCapacity Capacity(const char* value, std::optional<CapacityRequestPolicy> policy = {}) {
  return DeviceCapacity{cel::CapacityValue::FromQuantity(Q(value)), std::move(policy)};
}

CapacityRequestPolicy Range(const char* def, const char* min, const char* max, const char* step) {
  CapacityRequestPolicy p;
  p.default_value = Q(def);
  CapacityRequestPolicyRange r;
  r.min = Q(min);
  if (max != nullptr) r.max = Q(max);
  if (step != nullptr) r.step = Q(step);
  p.valid_range = r;
  return p;
}

TEST(ConsumableCapacityTest, UnnamedCapacityTakesTheDefaultOrEverything) {
  std::map<std::string, DeviceCapacity> capacity = {
      {"memory", Capacity("8Gi")}, {"bandwidth", Capacity("100", Range("10", "10", "100", "10"))}};
  absl::StatusOr<dra_internal::CapacityAmounts> consumed =
      dra_internal::ConsumedCapacity(nullptr, capacity);
  ASSERT_TRUE(consumed.ok());
  EXPECT_EQ(consumed->at("memory"), Q("8Gi"));
  EXPECT_EQ(consumed->at("bandwidth"), Q("10"));
}

TEST(ConsumableCapacityTest, RequestsRoundUpToTheRange) {
  std::map<std::string, DeviceCapacity> capacity = {
      {"bandwidth", Capacity("100", Range("10", "10", "100", "10"))}};
  CapacityRequirements request{{{"bandwidth", Q("11")}}};
  absl::StatusOr<dra_internal::CapacityAmounts> consumed =
      dra_internal::ConsumedCapacity(&request, capacity);
  ASSERT_TRUE(consumed.ok());
  EXPECT_EQ(consumed->at("bandwidth").ToString(), "20");

  // Fractional ranges round in thousandths (DRAFractionalCapacityRange).
  std::map<std::string, DeviceCapacity> fractional = {
      {"compute", Capacity("1", Range("200m", "200m", "1", "100m"))}};
  CapacityRequirements quarter{{{"compute", Q("250m")}}};
  consumed = dra_internal::ConsumedCapacity(&quarter, fractional);
  ASSERT_TRUE(consumed.ok());
  EXPECT_EQ(consumed->at("compute").ToString(), "300m");

  // Above the range's max: not allowed on this device, not an error.
  CapacityRequirements too_much{{{"bandwidth", Q("110")}}};
  EXPECT_FALSE(*dra_internal::RequestFitsCapacity(nullptr, &too_much, capacity, nullptr));
}

TEST(ConsumableCapacityTest, ValidValuesRoundUpAndUnknownNamesDoNotFit) {
  CapacityRequestPolicy values;
  values.default_value = Q("1Gi");
  values.valid_values = {Q("1Gi"), Q("4Gi"), Q("8Gi")};
  std::map<std::string, DeviceCapacity> capacity = {{"memory", Capacity("8Gi", values)}};
  CapacityRequirements request{{{"memory", Q("2Gi")}}};
  EXPECT_EQ(dra_internal::ConsumedCapacity(&request, capacity)->at("memory"), Q("4Gi"));
  dra_internal::CapacityAmounts allocated = {{"memory", Q("4Gi")}};
  EXPECT_TRUE(*dra_internal::RequestFitsCapacity(&allocated, &request, capacity, nullptr));
  dra_internal::CapacityAmounts allocating = {{"memory", Q("1Gi")}};
  EXPECT_FALSE(*dra_internal::RequestFitsCapacity(&allocated, &request, capacity, &allocating));
  CapacityRequirements unknown{{{"cores", Q("1")}}};
  EXPECT_FALSE(*dra_internal::RequestFitsCapacity(nullptr, &unknown, capacity, nullptr));
}

TEST(ConsumableCapacityTest, UnrepresentableAndNegativeRequestsAreErrors) {
  std::map<std::string, DeviceCapacity> capacity = {
      {"compute", Capacity("1", Range("200m", "200m", "1", "100m"))}};
  // Above min, so it is rounded; a millionth of a unit is finer than the range arithmetic.
  CapacityRequirements tiny{{{"compute", Q("250001u")}}};
  absl::StatusOr<bool> fits = dra_internal::RequestFitsCapacity(nullptr, &tiny, capacity, nullptr);
  ASSERT_FALSE(fits.ok());
  EXPECT_EQ(fits.status().message(),
            "capacity \"compute\": capacity request cannot be represented in the device's range "
            "arithmetic: request 250001u is not a representable milli value");

  std::map<std::string, DeviceCapacity> plain = {{"memory", Capacity("8Gi")}};
  CapacityRequirements negative{{{"memory", Q("-1")}}};
  fits = dra_internal::RequestFitsCapacity(nullptr, &negative, plain, nullptr);
  ASSERT_FALSE(fits.ok());
  EXPECT_EQ(fits.status().message(), "capacity \"memory\": capacity value is negative");
}

// ---- Device preference and candidate listing (Sextant's GPU placement) ----

ResourceSlice FourGpusOnTwoNuma() {
  return NodeSlice("node-a-gpus", "node-a", "node-a",
                   {Gpu("gpu-0", 0), Gpu("gpu-1", 0), Gpu("gpu-2", 1), Gpu("gpu-3", 1)});
}

AllocateOutcome Preferring(const DraInventory& inventory, const ResourceClaim& claim,
                           const std::vector<std::string>& devices) {
  std::vector<DeviceId> preferred;
  for (const std::string& d : devices) preferred.push_back(DeviceId{kDriver, "node-a", d});
  Allocator allocator(inventory);
  return allocator.Allocate(MakeNode("node-a"), {&claim}, {}, preferred);
}

TEST(AllocatorPreferenceTest, PreferredDevicesComeFirstInTheirOrder) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  inventory.UpsertResourceSlice(FourGpusOnTwoNuma());
  ResourceClaim claim = Claim("c", {Exactly("r", 2)});
  EXPECT_EQ(Picked(Preferring(inventory, claim, {"gpu-3", "gpu-1"})),
            (std::vector<std::vector<std::string>>{
                {"r=gpu.example.com/node-a/gpu-3", "r=gpu.example.com/node-a/gpu-1"}}));
  // One preferred device: the second comes in upstream's order.
  EXPECT_EQ(Picked(Preferring(inventory, claim, {"gpu-2"})),
            (std::vector<std::vector<std::string>>{
                {"r=gpu.example.com/node-a/gpu-2", "r=gpu.example.com/node-a/gpu-0"}}));
  // No preference: upstream's first fit.
  EXPECT_EQ(Picked(Preferring(inventory, claim, {})),
            (std::vector<std::vector<std::string>>{
                {"r=gpu.example.com/node-a/gpu-0", "r=gpu.example.com/node-a/gpu-1"}}));
}

TEST(AllocatorPreferenceTest, ConstraintsAndHeldDevicesStillDecide) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  inventory.UpsertResourceSlice(FourGpusOnTwoNuma());
  ResourceClaim holder = Claim("holder", {Exactly("r", 1)});
  holder.allocation = Holding("node-a", "gpu-3");
  inventory.UpsertResourceClaim(holder);
  // Same NUMA node: gpu-0 is preferred, gpu-2 cannot join it, gpu-1 can.
  DeviceConstraint numa;
  numa.match_attribute = std::string(kDriver) + "/numa";
  ResourceClaim pair = Claim("pair", {Exactly("r", 2)}, {numa});
  EXPECT_EQ(Picked(Preferring(inventory, pair, {"gpu-0", "gpu-2"})),
            (std::vector<std::vector<std::string>>{
                {"r=gpu.example.com/node-a/gpu-0", "r=gpu.example.com/node-a/gpu-1"}}));
  // A held device is passed over; a device of another node is ignored.
  ResourceClaim one = Claim("one", {Exactly("r", 1)});
  std::vector<DeviceId> preferred = {DeviceId{kDriver, "node-b", "gpu-2"},
                                     DeviceId{kDriver, "node-a", "gpu-3"},
                                     DeviceId{kDriver, "node-a", "gpu-2"}};
  Allocator allocator(inventory);
  EXPECT_EQ(Picked(allocator.Allocate(MakeNode("node-a"), {&one}, {}, preferred)),
            (std::vector<std::vector<std::string>>{{"r=gpu.example.com/node-a/gpu-2"}}));
  // Whatever the preference, what cannot be allocated stays unsatisfiable.
  ResourceClaim four = Claim("four", {Exactly("r", 4)});
  EXPECT_EQ(Preferring(inventory, four, {"gpu-0", "gpu-1", "gpu-2"}).kind,
            AllocateOutcome::Kind::kUnsatisfiable);
}

TEST(AllocatorCandidatesTest, SelectableUntaintedDevicesWithWhatIsHeld) {
  DraInventory inventory;
  inventory.UpsertDeviceClass(GpuClass());
  std::vector<Device> devices = {Gpu("gpu-0", 0), Gpu("gpu-1", 0), Gpu("gpu-2", 1),
                                 Gpu("gpu-3", 1)};
  devices[1].taints.push_back(DeviceTaint{"broken", "", DeviceTaintEffect::kNoSchedule});
  devices[3].allow_multiple_allocations = true;
  devices[3].capacity["milli"] = DeviceCapacity{cel::CapacityValue::FromQuantity(Q("1000")), {}};
  inventory.UpsertResourceSlice(NodeSlice("node-a-gpus", "node-a", "node-a", devices));
  ResourceClaim whole = Claim("whole", {Exactly("r", 1)});
  whole.allocation = Holding("node-a", "gpu-0");
  inventory.UpsertResourceClaim(whole);
  ResourceClaim share = Claim("share", {Exactly("r", 1)});
  share.allocation = Holding("node-a", "gpu-3", "s1", {{"milli", Q("300")}});
  inventory.UpsertResourceClaim(share);

  DeviceRequest numa1 = Exactly("r", 1);
  numa1.exactly->selectors.push_back(DeviceSelector{"device.attributes[\"gpu.example.com\"].numa >= 0"});
  ResourceClaim claim = Claim("c", {numa1});
  Allocator allocator(inventory);
  absl::StatusOr<std::vector<Allocator::Candidate>> candidates =
      allocator.Candidates(MakeNode("node-a"), claim, 0);
  ASSERT_TRUE(candidates.ok()) << candidates.status();
  std::vector<std::string> names;
  for (const Allocator::Candidate& c : *candidates) names.push_back(c.device->name);
  // gpu-1's taint is not tolerated.
  EXPECT_EQ(names, (std::vector<std::string>{"gpu-0", "gpu-2", "gpu-3"}));
  EXPECT_TRUE((*candidates)[0].dedicated);
  EXPECT_FALSE((*candidates)[1].dedicated);
  EXPECT_EQ((*candidates)[1].consumed, nullptr);
  EXPECT_TRUE((*candidates)[2].shared);
  ASSERT_NE((*candidates)[2].consumed, nullptr);
  EXPECT_EQ((*candidates)[2].consumed->at("milli").Value(), 300);
  EXPECT_EQ((*candidates)[0].slice->pool.name, "node-a");

  // Requests with subrequests have no single candidate list; errors read as Allocate's.
  EXPECT_FALSE(allocator.Candidates(MakeNode("node-a"), claim, 1).ok());
  ResourceClaim unknown = Claim("u", {Exactly("r", 1)});
  unknown.requests[0].exactly->device_class_name = "nope";
  absl::StatusOr<std::vector<Allocator::Candidate>> none =
      allocator.Candidates(MakeNode("node-a"), unknown, 0);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), OnNodeA(inventory, {unknown}).message);
}

}  // namespace
}  // namespace sextant
