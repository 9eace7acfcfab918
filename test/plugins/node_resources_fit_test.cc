// Cases ported from pkg/scheduler/framework/plugins/noderesources (v1.37): fit_test.go
// (TestEnoughRequests, TestNotEnoughRequests, TestStorageRequests, TestRestartableInitContainers,
// TestFitScore), least_allocated_test.go, most_allocated_test.go,
// requested_to_capacity_ratio_test.go and resource_allocation_test.go
// (TestResourceAllocationScorerCalculateRequests). Rows that need DRA objects (DeviceClass-backed
// extended resources) are not ported: the model has no DRA.
#include "plugins/node_resources_fit.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "sextant/evaluate.h"
#include "testing/builders.h"

namespace sextant {
namespace {

using testutil::MakeState;
using testutil::NodeBuilder;
using testutil::NodeInfoFor;
using testutil::PodBuilder;
using testutil::Q;

constexpr FilterCode kSuccess = FilterCode::kSuccess;
constexpr FilterCode kUnschedulable = FilterCode::kUnschedulable;
constexpr FilterCode kUnresolvable = FilterCode::kUnschedulableAndUnresolvable;

constexpr char kExtendedA[] = "example.com/aaa";
constexpr char kExtendedB[] = "example.com/bbb";
constexpr char kKubernetesIoA[] = "kubernetes.io/something";
constexpr char kKubernetesIoB[] = "subdomain.kubernetes.io/something";
constexpr char kHugePageA[] = "hugepages-2Mi";

// ---- Filter ----

// framework.Resource as fit_test.go's newResourcePod writes it into a container: cpu, memory,
// pods and ephemeral-storage always present (zero included), plus the scalars given.
struct Usage {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  std::map<std::string, int64_t> scalars = {};
};

ResourceList UsageList(const Usage& u) {
  ResourceList list = {{kResourceCpu, Quantity::FromMilli(u.milli_cpu)},
                       {kResourceMemory, Quantity::FromInt(u.memory, Quantity::Format::kBinarySI)},
                       {kResourcePods, Quantity::FromInt(0)},
                       {kResourceEphemeralStorage,
                        Quantity::FromInt(u.ephemeral_storage, Quantity::Format::kBinarySI)}};
  for (const auto& [name, value] : u.scalars) list[name] = Quantity::FromInt(value);
  return list;
}

// newResourcePod(usage...): one container per usage.
PodBuilder ResourcePod(std::vector<Usage> usages, const std::string& name = "pod") {
  PodBuilder builder("default", name);
  for (const Usage& u : usages) builder.ContainerList(UsageList(u));
  return builder;
}

// newResourceInitPod(pod, usage...): the usages become init containers.
PodBuilder& WithInit(PodBuilder& builder, std::vector<Usage> usages) {
  for (const Usage& u : usages) builder.InitContainerList(UsageList(u));
  return builder;
}

Pod InitPod(std::vector<Usage> containers, std::vector<Usage> inits) {
  PodBuilder builder = ResourcePod(std::move(containers));
  return WithInit(builder, std::move(inits)).Build();
}

// makeAllocatableResources(milliCPU, memory, pods, extendedA, storage, hugePageA).
ResourceList NodeAllocatable(int64_t milli_cpu, int64_t memory, int64_t pods, int64_t extended_a,
                             int64_t storage, int64_t hugepage_a) {
  return {{kResourceCpu, Quantity::FromMilli(milli_cpu)},
          {kResourceMemory, Quantity::FromInt(memory, Quantity::Format::kBinarySI)},
          {kResourcePods, Quantity::FromInt(pods)},
          {kExtendedA, Quantity::FromInt(extended_a)},
          {kResourceEphemeralStorage, Quantity::FromInt(storage, Quantity::Format::kBinarySI)},
          {kHugePageA, Quantity::FromInt(hugepage_a, Quantity::Format::kBinarySI)}};
}

// The reasons the evaluator reports for a NodeResourcesFit verdict.
std::vector<std::string> FitReasons(const FitPreFilterState& pre, const FitFilterResult& result) {
  Evaluation evaluation;
  for (const auto& scalar : pre.scalars) evaluation.scalar_resource_names.push_back(scalar.name);
  NodeVerdict verdict;
  verdict.code = result.code;
  verdict.plugin = PluginId::kNodeResourcesFit;
  verdict.fit_mask = result.mask;
  std::vector<std::string> reasons = evaluation.Reasons(verdict);
  // Upstream lists scalar reasons in map order; compare as a set.
  std::sort(reasons.begin(), reasons.end());
  return reasons;
}

struct FitCase {
  std::string name;
  Pod pod;
  // The pods already on the node, each as upstream's NewNodeInfo(pods...) holds them.
  std::vector<Pod> existing;
  ResourceList allocatable;
  FilterCode want;
  std::vector<std::string> want_reasons = {};
  std::vector<std::string> ignored_resources = {};
  std::vector<std::string> ignored_resource_groups = {};
};

// gtest names the failing row instead of dumping its bytes.
void PrintTo(const FitCase& c, std::ostream* os) { *os << c.name; }

class NodeResourcesFitFilterTest : public ::testing::TestWithParam<FitCase> {};

TEST_P(NodeResourcesFitFilterTest, MatchesUpstream) {
  const FitCase& c = GetParam();
  std::vector<Pod> existing = c.existing;
  for (size_t i = 0; i < existing.size(); ++i) {
    existing[i].name = "existing-" + std::to_string(i);
    existing[i].node_name = "node";
    if (existing[i].phase == "Pending") existing[i].phase = "Running";
  }
  auto state = MakeState({NodeBuilder("node").AllocatableList(c.allocatable).Build()}, existing);
  ProfileOptions options;
  options.ignored_resources = c.ignored_resources;
  options.ignored_resource_groups = c.ignored_resource_groups;
  FitPreFilterState pre = NodeResourcesFitPreFilter(c.pod, state->resources(), options);
  FitFilterResult result = NodeResourcesFitFilter(pre, NodeInfoFor(*state, "node"));
  EXPECT_EQ(result.code, c.want);
  std::vector<std::string> want_reasons = c.want_reasons;
  std::sort(want_reasons.begin(), want_reasons.end());
  EXPECT_EQ(FitReasons(pre, result), want_reasons);
}

std::string Insufficient(const std::string& resource) { return "Insufficient " + resource; }

std::vector<FitCase> EnoughRequestsCases() {
  const ResourceList node = NodeAllocatable(10, 20, 32, 5, 20, 5);
  auto on_node = [](std::vector<Usage> usages) { return ResourcePod(std::move(usages)).Build(); };
  auto pod = [](std::vector<Usage> usages) { return ResourcePod(std::move(usages)).Build(); };
  auto pod_level = [](PodBuilder builder, testutil::ResourceLiterals requests) {
    return builder.PodLevelRequests(requests).Build();
  };
  return {
      // ---- TestEnoughRequests ----
      {"NoResourcesRequestedAlwaysFits", PodBuilder("default", "p").Build(),
       {on_node({{10, 20}})}, node, kSuccess},
      {"TooManyResourcesFails", pod({{1, 1}}), {on_node({{10, 20}})}, node, kUnschedulable,
       {Insufficient("cpu"), Insufficient("memory")}},
      {"InitContainerCpuFails", InitPod({{1, 1}}, {{3, 1}}), {on_node({{8, 19}})}, node,
       kUnschedulable, {Insufficient("cpu")}},
      {"HighestInitContainerCpuFails", InitPod({{1, 1}}, {{3, 1}, {2, 1}}), {on_node({{8, 19}})},
       node, kUnschedulable, {Insufficient("cpu")}},
      {"InitContainerMemoryFails", InitPod({{1, 1}}, {{1, 3}}), {on_node({{9, 19}})}, node,
       kUnschedulable, {Insufficient("memory")}},
      {"HighestInitContainerMemoryFails", InitPod({{1, 1}}, {{1, 3}, {1, 2}}),
       {on_node({{9, 19}})}, node, kUnschedulable, {Insufficient("memory")}},
      {"InitContainerFitsAsMaxNotSum", InitPod({{1, 1}}, {{1, 1}}), {on_node({{9, 19}})}, node,
       kSuccess},
      {"MultipleInitContainersFitAsMaxNotSum", InitPod({{1, 1}}, {{1, 1}, {1, 1}}),
       {on_node({{9, 19}})}, node, kSuccess},
      {"BothResourcesFit", pod({{1, 1}}), {on_node({{5, 5}})}, node, kSuccess},
      {"OneResourceMemoryFits", pod({{2, 1}}), {on_node({{9, 5}})}, node, kUnschedulable,
       {Insufficient("cpu")}},
      {"OneResourceCpuFits", pod({{1, 2}}), {on_node({{5, 19}})}, node, kUnschedulable,
       {Insufficient("memory")}},
      {"EqualEdgeCase", pod({{5, 1}}), {on_node({{5, 19}})}, node, kSuccess},
      {"EqualEdgeCaseForInitContainer", InitPod({{4, 1}}, {{5, 1}}), {on_node({{5, 19}})}, node,
       kSuccess},
      {"ExtendedResourceFits", pod({{0, 0, 0, {{kExtendedA, 1}}}}), {on_node({{}})}, node,
       kSuccess},
      {"ExtendedResourceFitsForInitContainer", InitPod({{}}, {{0, 0, 0, {{kExtendedA, 1}}}}),
       {on_node({{}})}, node, kSuccess},
      {"ExtendedResourceCapacityEnforced", pod({{1, 1, 0, {{kExtendedA, 10}}}}),
       {on_node({{0, 0, 0, {{kExtendedA, 0}}}})}, node, kUnresolvable, {Insufficient(kExtendedA)}},
      {"ExtendedResourceCapacityEnforcedForInitContainer",
       InitPod({{}}, {{1, 1, 0, {{kExtendedA, 10}}}}), {on_node({{0, 0, 0, {{kExtendedA, 0}}}})},
       node, kUnresolvable, {Insufficient(kExtendedA)}},
      {"ExtendedResourceAllocatableEnforced", pod({{1, 1, 0, {{kExtendedA, 1}}}}),
       {on_node({{0, 0, 0, {{kExtendedA, 5}}}})}, node, kUnschedulable,
       {Insufficient(kExtendedA)}},
      {"ExtendedResourceAllocatableEnforcedForInitContainer",
       InitPod({{}}, {{1, 1, 0, {{kExtendedA, 1}}}}), {on_node({{0, 0, 0, {{kExtendedA, 5}}}})},
       node, kUnschedulable, {Insufficient(kExtendedA)}},
      {"ExtendedResourceAllocatableEnforcedForMultipleContainers",
       pod({{1, 1, 0, {{kExtendedA, 3}}}, {1, 1, 0, {{kExtendedA, 3}}}}),
       {on_node({{0, 0, 0, {{kExtendedA, 2}}}})}, node, kUnresolvable, {Insufficient(kExtendedA)}},
      {"ExtendedResourceAllocatableAdmitsMultipleInitContainers",
       InitPod({{}}, {{1, 1, 0, {{kExtendedA, 3}}}, {1, 1, 0, {{kExtendedA, 3}}}}),
       {on_node({{0, 0, 0, {{kExtendedA, 2}}}})}, node, kSuccess},
      {"ExtendedResourceAllocatableEnforcedForMultipleInitContainers",
       InitPod({{}}, {{1, 1, 0, {{kExtendedA, 6}}}, {1, 1, 0, {{kExtendedA, 3}}}}),
       {on_node({{0, 0, 0, {{kExtendedA, 2}}}})}, node, kUnresolvable, {Insufficient(kExtendedA)}},
      {"UnknownExtendedResourceEnforced", pod({{1, 1, 0, {{kExtendedB, 1}}}}), {on_node({{}})},
       node, kUnresolvable, {Insufficient(kExtendedB)}},
      {"UnknownExtendedResourceEnforcedForInitContainer",
       InitPod({{}}, {{1, 1, 0, {{kExtendedB, 1}}}}), {on_node({{}})}, node, kUnresolvable,
       {Insufficient(kExtendedB)}},
      {"KubernetesIoResourceCapacityEnforced", pod({{1, 1, 0, {{kKubernetesIoA, 10}}}}),
       {on_node({{}})}, node, kUnresolvable, {Insufficient(kKubernetesIoA)}},
      {"KubernetesIoResourceCapacityEnforcedForInitContainer",
       InitPod({{}}, {{1, 1, 0, {{kKubernetesIoB, 10}}}}), {on_node({{}})}, node, kUnresolvable,
       {Insufficient(kKubernetesIoB)}},
      {"HugepagesCapacityEnforced", pod({{1, 1, 0, {{kHugePageA, 10}}}}),
       {on_node({{0, 0, 0, {{kHugePageA, 0}}}})}, node, kUnresolvable, {Insufficient(kHugePageA)}},
      {"HugepagesCapacityEnforcedForInitContainer",
       InitPod({{}}, {{1, 1, 0, {{kHugePageA, 10}}}}), {on_node({{0, 0, 0, {{kHugePageA, 0}}}})},
       node, kUnresolvable, {Insufficient(kHugePageA)}},
      {"HugepagesAllocatableEnforcedForMultipleContainers",
       pod({{1, 1, 0, {{kHugePageA, 3}}}, {1, 1, 0, {{kHugePageA, 3}}}}),
       {on_node({{0, 0, 0, {{kHugePageA, 2}}}})}, node, kUnresolvable, {Insufficient(kHugePageA)}},
      {"IgnoredExtendedResourceSkipped",
       pod({{1, 1, 0, {{kExtendedB, 1}}}}),
       {on_node({{}})},
       node,
       kSuccess,
       {},
       {"example.com/bbb"}},
      {"ResourcesPlusOverheadFit",
       PodBuilder(ResourcePod({{1, 1}})).Overhead({{"cpu", "3m"}, {"memory", "13"}}).Build(),
       {on_node({{5, 5}})}, node, kSuccess},
      {"RequestsPlusOverheadDoNotFitMemory",
       PodBuilder(ResourcePod({{1, 1}})).Overhead({{"cpu", "1m"}, {"memory", "15"}}).Build(),
       {on_node({{5, 5}})}, node, kUnschedulable, {Insufficient("memory")}},
      {"IgnoredResourceGroupSkipsOnlyExtendedResources",
       pod({{1, 1, 0, {{kExtendedB, 1}, {kKubernetesIoA, 1}}}}),
       {on_node({{}})},
       node,
       kUnresolvable,
       {Insufficient(kKubernetesIoA)},
       {},
       {"example.com"}},
      {"ZeroQuantityExtendedRequestSkipped", pod({{1, 1, 0, {{kExtendedA, 0}}}}),
       {on_node({{0, 0, 0, {{kExtendedA, 6}}}})}, node, kSuccess},
      {"ExtendedRequestFitsBesideUsage", pod({{0, 0, 0, {{kExtendedA, 1}}}}),
       {on_node({{20, 30, 0, {{kExtendedA, 1}}}})}, node, kSuccess},
      {"PodLevelAndContainerLevelResourcesFit",
       pod_level(ResourcePod({{1, 1}}), {{"cpu", "1m"}, {"memory", "2"}}), {on_node({{5, 5}})},
       node, kSuccess},
      {"PodLevelCpuDoesNotFit",
       pod_level(ResourcePod({{1, 1}}), {{"cpu", "7m"}, {"memory", "2"}}), {on_node({{5, 5}})},
       node, kUnschedulable, {Insufficient("cpu")}},
      {"PodLevelMemoryDoesNotFit",
       pod_level(ResourcePod({{1, 1}}), {{"cpu", "3m"}, {"memory", "2"}}), {on_node({{5, 19}})},
       node, kUnschedulable, {Insufficient("memory")}},
      {"PodLevelHugepagesFit",
       pod_level(PodBuilder("default", "p"), {{"cpu", "3m"}, {"memory", "2"}, {kHugePageA, "5"}}),
       {}, node, kSuccess},
      {"PodLevelHugepagesOverrideContainerHugepages",
       pod_level(ResourcePod({{1, 1, 0, {{kHugePageA, 3}}}}),
                 {{"cpu", "3m"}, {"memory", "2"}, {kHugePageA, "5"}}),
       {}, node, kSuccess},
      {"PodLevelHugepagesDoNotFit",
       pod_level(PodBuilder("default", "p"), {{"cpu", "3m"}, {"memory", "2"}, {kHugePageA, "10"}}),
       {}, node, kUnresolvable, {Insufficient(kHugePageA)}},
      {"PodLevelResourcesWithInitContainers",
       [] {
         PodBuilder builder = ResourcePod({{1, 1}});
         builder.PodLevelRequests({{"cpu", "3m"}, {"memory", "2"}});
         return WithInit(builder, {{1, 1}}).Build();
       }(),
       {on_node({{5, 19}})}, node, kUnschedulable, {Insufficient("memory")}},
      // The DRA rows with the gate off or without a DeviceClass behave as plain extended
      // resources.
      {"ExtendedResourceNotBackedByDraEnforced",
       pod({{1, 1, 0, {{"extended.resource.dra.io/something", 1}}}}), {on_node({{}})}, node,
       kUnresolvable, {Insufficient("extended.resource.dra.io/something")}},
      // ---- TestStorageRequests ----
      {"EmptyStorageRequestedPodFits", pod({{1, 1}}), {on_node({{2, 10}})}, node, kSuccess},
      {"EphemeralStorageRequestExceedsAllocatable", pod({{0, 0, 25}}), {on_node({{2, 2}})}, node,
       kUnresolvable, {Insufficient("ephemeral-storage")}},
      {"EphemeralStorageSufficient", InitPod({{0, 0, 5}}, {}), {on_node({{2, 2, 10}})}, node,
       kSuccess},
      {"EphemeralStoragePodFits", pod({{0, 0, 10}}), {on_node({{2, 2}})}, node, kSuccess},
      {"EphemeralStorageBeyondFreeIsUnschedulable", pod({{0, 0, 11}}), {on_node({{2, 2, 10}})},
       node, kUnschedulable, {Insufficient("ephemeral-storage")}},
      // ---- Unresolvable is per resource: any request above allocatable makes it so ----
      {"MixedResolvableAndUnresolvableIsUnresolvable", pod({{2, 1, 0, {{kExtendedB, 1}}}}),
       {on_node({{9, 5}})}, node, kUnresolvable, {Insufficient("cpu"), Insufficient(kExtendedB)}},
      {"CpuAboveAllocatableIsUnresolvable", pod({{11, 1}}), {}, node, kUnresolvable,
       {Insufficient("cpu")}},
      {"AllFourNativeReasons", pod({{11, 21, 21}}), {}, NodeAllocatable(10, 20, 0, 0, 20, 0),
       kUnresolvable,
       {"Too many pods", Insufficient("cpu"), Insufficient("memory"),
        Insufficient("ephemeral-storage")}},
      // Only extended resources can be ignored; hugepages are checked whatever the options say.
      {"IgnoredResourcesDoNotApplyToHugepages",
       pod({{0, 0, 0, {{kHugePageA, 10}}}}),
       {},
       node,
       kUnresolvable,
       {Insufficient(kHugePageA)},
       {kHugePageA},
       {"hugepages-2Mi"}},
      {"IgnoredResourceGroupMatchesWholePrefixOnly",
       pod({{0, 0, 0, {{kExtendedB, 1}}}}),
       {},
       node,
       kUnresolvable,
       {Insufficient(kExtendedB)},
       {},
       {"example"}},
      // Sidecars (restartable init containers): an init container after a sidecar runs beside it.
      {"InitContainerAfterSidecarAddsSidecar",
       PodBuilder("default", "p")
           .Container({{"cpu", "1m"}})
           .Sidecar({{"cpu", "1m"}})
           .InitContainer({{"cpu", "2m"}})
           .Build(),
       {on_node({{8, 0}})}, node, kUnschedulable, {Insufficient("cpu")}},
      {"SidecarAfterInitContainerDoesNotAdd",
       PodBuilder("default", "p")
           .Container({{"cpu", "1m"}})
           .InitContainer({{"cpu", "2m"}})
           .Sidecar({{"cpu", "1m"}})
           .Build(),
       {on_node({{8, 0}})}, node, kSuccess},
      // Bound pods that finished hold nothing.
      {"SucceededPodOnNodeHoldsNothing", pod({{10, 20}}),
       {PodBuilder(ResourcePod({{10, 20}})).Phase("Succeeded").Build()}, node, kSuccess},
  };
}

INSTANTIATE_TEST_SUITE_P(EnoughRequests, NodeResourcesFitFilterTest,
                         ::testing::ValuesIn(EnoughRequestsCases()),
                         [](const ::testing::TestParamInfo<FitCase>& info) {
                           return info.param.name;
                         });

std::vector<FitCase> NotEnoughRequestsCases() {
  const ResourceList node = NodeAllocatable(10, 20, 1, 0, 0, 0);
  auto on_node = [](std::vector<Usage> usages) { return ResourcePod(std::move(usages)).Build(); };
  return {
      {"NoRequestsStillNeedPodSlot", PodBuilder("default", "p").Build(), {on_node({{10, 20}})},
       node, kUnschedulable, {"Too many pods"}},
      {"ResourcesFitButNoPodSlot", ResourcePod({{1, 1}}).Build(), {on_node({{5, 5}})}, node,
       kUnschedulable, {"Too many pods"}},
      {"EqualEdgeCaseButNoPodSlot", ResourcePod({{5, 1}}).Build(), {on_node({{5, 19}})}, node,
       kUnschedulable, {"Too many pods"}},
      {"EqualEdgeCaseInitContainerButNoPodSlot", InitPod({{5, 1}}, {{5, 1}}),
       {on_node({{5, 19}})}, node, kUnschedulable, {"Too many pods"}},
      {"NodeWithoutPodsAllocatableTakesNoPod", PodBuilder("default", "p").Build(), {},
       NodeAllocatable(10, 20, 0, 0, 0, 0), kUnschedulable, {"Too many pods"}},
  };
}

INSTANTIATE_TEST_SUITE_P(NotEnoughRequests, NodeResourcesFitFilterTest,
                         ::testing::ValuesIn(NotEnoughRequestsCases()),
                         [](const ::testing::TestParamInfo<FitCase>& info) {
                           return info.param.name;
                         });

// TestRestartableInitContainers: node allocatable cpu 2m, memory 0, one pod.
std::vector<FitCase> RestartableInitContainerCases() {
  const ResourceList node = NodeAllocatable(2, 0, 1, 0, 0, 0);
  auto with_sidecar = [](testutil::ResourceLiterals request, testutil::ResourceLiterals sidecar) {
    return PodBuilder("default", "p").Container(request).Sidecar(sidecar).Build();
  };
  return {
      {"AllowPodWithoutRestartableInitContainers", PodBuilder("default", "p").Container({}).Build(),
       {}, node, kSuccess},
      {"AllowPodWithRestartableInitContainers", with_sidecar({}, {}), {}, node, kSuccess},
      {"AllowPodWhenTotalDoesNotExceedAllocatable", with_sidecar({{"cpu", "1m"}}, {{"cpu", "1m"}}),
       {}, node, kSuccess},
      {"RejectPodWhenTotalExceedsAllocatable", with_sidecar({{"cpu", "1m"}}, {{"cpu", "2m"}}), {},
       node, kUnresolvable, {Insufficient("cpu")}},
  };
}

INSTANTIATE_TEST_SUITE_P(RestartableInitContainers, NodeResourcesFitFilterTest,
                         ::testing::ValuesIn(RestartableInitContainerCases()),
                         [](const ::testing::TestParamInfo<FitCase>& info) {
                           return info.param.name;
                         });

// The mask bits NodeVerdict documents: 0 pods, 1 cpu, 2 memory, 3 ephemeral-storage, 4+i scalars.
TEST(NodeResourcesFitTest, MaskBitsFollowVerdictLayout) {
  auto state = MakeState({NodeBuilder("node").AllocatableList(NodeAllocatable(10, 20, 0, 5, 20, 5))
                              .Build()});
  Pod pod = ResourcePod({{11, 21, 21, {{kExtendedA, 6}, {kHugePageA, 6}}}}).Build();
  FitPreFilterState pre = NodeResourcesFitPreFilter(pod, state->resources(), ProfileOptions{});
  ASSERT_EQ(pre.scalars.size(), 2u);
  EXPECT_EQ(pre.scalars[0].name, kExtendedA);
  EXPECT_EQ(pre.scalars[1].name, kHugePageA);
  FitFilterResult result = NodeResourcesFitFilter(pre, NodeInfoFor(*state, "node"));
  EXPECT_EQ(result.mask, 0b111111u);
}

// ---- Score: LeastAllocated, MostAllocated, RequestedToCapacityRatio ----

// st.MakeNode().Capacity(...): pods 32 plus the given quantities.
Node CapNode(const std::string& name, testutil::ResourceLiterals resources) {
  ResourceList list = testutil::Resources(resources);
  list.try_emplace(kResourcePods, Q("32"));
  return NodeBuilder(name).AllocatableList(std::move(list)).Build();
}

// util_test.go makeNode: cpu in millis, memory in bytes, extended resources as integers.
Node MakeNode(const std::string& name, int64_t milli_cpu, int64_t memory,
              std::map<std::string, int64_t> extended = {}) {
  ResourceList list = {{kResourceCpu, Quantity::FromMilli(milli_cpu)},
                       {kResourceMemory, Quantity::FromInt(memory, Quantity::Format::kBinarySI)}};
  for (const auto& [resource, value] : extended) list[resource] = Quantity::FromInt(value);
  return NodeBuilder(name).AllocatableList(std::move(list)).Build();
}

// st.MakePod().Node(node).Req(...)...: a bound pod with one container per request list.
Pod OnNode(const std::string& node, std::vector<ResourceList> containers,
           std::vector<ResourceList> sidecars = {}) {
  static int counter = 0;
  PodBuilder builder("default", "existing-" + std::to_string(counter++));
  for (ResourceList& requests : containers) builder.ContainerList(std::move(requests));
  Pod pod = builder.NodeName(node).Build();
  for (ResourceList& requests : sidecars) {
    Container sidecar;
    sidecar.name = "sidecar-" + std::to_string(pod.init_containers.size());
    sidecar.requests = std::move(requests);
    sidecar.restart_policy = "Always";
    pod.init_containers.push_back(std::move(sidecar));
  }
  return pod;
}

// st.MakePod().Req(...).Req(...): the pod being scored.
Pod Requesting(std::vector<ResourceList> containers) {
  PodBuilder builder("default", "incoming");
  for (ResourceList& requests : containers) builder.ContainerList(std::move(requests));
  return builder.Build();
}

ResourceList R(testutil::ResourceLiterals items) { return testutil::Resources(items); }

struct ScoreCase {
  std::string name;
  Pod pod;
  std::vector<Node> nodes;
  std::vector<Pod> existing;
  ScoringStrategy strategy;
  std::vector<int64_t> want;
};

// gtest names the failing row instead of dumping its bytes.
void PrintTo(const ScoreCase& c, std::ostream* os) { *os << c.name; }

class NodeResourcesFitScoreTest : public ::testing::TestWithParam<ScoreCase> {};

TEST_P(NodeResourcesFitScoreTest, MatchesUpstream) {
  const ScoreCase& c = GetParam();
  auto state = MakeState(c.nodes, c.existing);
  ResourceAllocationPreScoreState pre = ResourceAllocationPreScore(
      c.pod, c.strategy.resources, state->resources(), /*use_requested=*/false);
  std::vector<int64_t> scores;
  for (const Node& node : c.nodes) {
    scores.push_back(NodeResourcesFitScore(pre, c.strategy, NodeInfoFor(*state, node.name)));
  }
  EXPECT_EQ(scores, c.want);
}

ScoringStrategy Strategy(ScoringStrategyType type, std::vector<ResourceSpec> resources = {
                                                       {"cpu", 1}, {"memory", 1}}) {
  ScoringStrategy strategy;
  strategy.type = type;
  strategy.resources = std::move(resources);
  return strategy;
}

ScoringStrategy Ratio(std::vector<UtilizationShapePoint> shape,
                      std::vector<ResourceSpec> resources = {{"cpu", 1}, {"memory", 1}}) {
  ScoringStrategy strategy = Strategy(ScoringStrategyType::kRequestedToCapacityRatio,
                                      std::move(resources));
  strategy.shape = std::move(shape);
  return strategy;
}

constexpr char kExtendedRes[] = "abc.com/xyz";
const std::vector<ResourceSpec> kExtendedResourceSet = {
    {"cpu", 1}, {"memory", 1}, {kExtendedRes, 1}};

std::vector<ScoreCase> LeastAllocatedCases() {
  const ScoringStrategy least = Strategy(ScoringStrategyType::kLeastAllocated);
  const auto two_containers = [] {
    return Requesting({R({{"cpu", "1000"}, {"memory", "2000"}}),
                       R({{"cpu", "2000"}, {"memory", "3000"}})});
  };
  return {
      {"NothingScheduledNothingRequested",
       Requesting({}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "4000"}, {"memory", "10000"}})},
       {},
       least,
       {100, 100}},
      {"NothingScheduledResourcesRequestedDifferentlySizedNodes",
       two_containers(),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}})},
       {},
       least,
       {37, 50}},
      {"NoResourcesRequestedPodsScheduled",
       Requesting({}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "4000"}, {"memory", "10000"}})},
       {OnNode("node1", {}), OnNode("node1", {}), OnNode("node2", {}), OnNode("node2", {})},
       least,
       {100, 100}},
      {"NoResourcesRequestedPodsScheduledWithResources",
       Requesting({}),
       {CapNode("node1", {{"cpu", "10000"}, {"memory", "20000"}}),
        CapNode("node2", {{"cpu", "10000"}, {"memory", "20000"}})},
       {OnNode("node1", {R({{"cpu", "3000"}, {"memory", "0"}})}),
        OnNode("node1", {R({{"cpu", "3000"}, {"memory", "0"}})}),
        OnNode("node2", {R({{"cpu", "3000"}, {"memory", "0"}})}),
        OnNode("node2", {R({{"cpu", "3000"}, {"memory", "5000"}})})},
       least,
       {70, 57}},
      {"ResourcesRequestedPodsScheduledWithResources",
       two_containers(),
       {CapNode("node1", {{"cpu", "10000"}, {"memory", "20000"}}),
        CapNode("node2", {{"cpu", "10000"}, {"memory", "20000"}})},
       {OnNode("node1", {R({{"cpu", "3000"}, {"memory", "0"}})}),
        OnNode("node2", {R({{"cpu", "3000"}, {"memory", "5000"}})})},
       least,
       {57, 45}},
      {"ResourcesRequestedPodsScheduledDifferentlySizedNodes",
       two_containers(),
       {CapNode("node1", {{"cpu", "10000"}, {"memory", "20000"}}),
        CapNode("node2", {{"cpu", "10000"}, {"memory", "50000"}})},
       {OnNode("node1", {R({{"cpu", "3000"}, {"memory", "0"}})}),
        OnNode("node2", {R({{"cpu", "3000"}, {"memory", "5000"}})})},
       least,
       {57, 60}},
      {"RequestedResourcesExceedNodeCapacity",
       Requesting({R({{"cpu", "3000"}, {"memory", "0"}})}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "4000"}, {"memory", "10000"}})},
       {OnNode("node1", {R({{"cpu", "3000"}, {"memory", "0"}})}),
        OnNode("node2", {R({{"cpu", "3000"}, {"memory", "5000"}})})},
       least,
       {50, 25}},
      {"ZeroNodeResourcesPodsScheduledWithResources",
       Requesting({}),
       {NodeBuilder("node1").Build(), NodeBuilder("node2").Build()},
       {OnNode("node1", {R({{"cpu", "3000"}, {"memory", "0"}})}),
        OnNode("node2", {R({{"cpu", "3000"}, {"memory", "5000"}})})},
       least,
       {0, 0}},
      {"DifferentWeightsOnCpuAndMemory",
       two_containers(),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}})},
       {},
       Strategy(ScoringStrategyType::kLeastAllocated, {{"memory", 2}, {"cpu", 1}}),
       {41, 50}},
      {"BypassExtendedResourceNotRequested",
       two_containers(),
       {CapNode("node1", {{"cpu", "6000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}, {kExtendedRes, "4"}})},
       {},
       Strategy(ScoringStrategyType::kLeastAllocated, kExtendedResourceSet),
       {50, 50}},
      {"HonorExtendedResourceRequested",
       Requesting({R({{"cpu", "3000"}, {"memory", "5000"}, {kExtendedRes, "2"}})}),
       {CapNode("node1", {{"cpu", "6000"}, {"memory", "10000"}, {kExtendedRes, "4"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}, {kExtendedRes, "10"}})},
       {},
       Strategy(ScoringStrategyType::kLeastAllocated, kExtendedResourceSet),
       {50, 60}},
      {"NodeWithoutResourceSkipsIt",
       Requesting({R({{"cpu", "3000"}, {"memory", "4000"}})}),
       {CapNode("node1", {{"cpu", "6000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}, {kExtendedRes, "4"}})},
       {},
       Strategy(ScoringStrategyType::kLeastAllocated,
                {{kExtendedRes, 2}, {"cpu", 1}, {"memory", 1}}),
       {55, 55}},
      // ---- TestFitScore, LeastAllocated ----
      {"FitScoreLeastAllocated",
       Requesting({R({{"cpu", "1000"}, {"memory", "2000"}})}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}})},
       {OnNode("node1", {R({{"cpu", "2000"}, {"memory", "4000"}})}),
        OnNode("node2", {R({{"cpu", "1000"}, {"memory", "2000"}})})},
       least,
       {32, 63}},
      {"FitScoreLeastAllocatedWithSidecar",
       Requesting({R({{"cpu", "1000"}, {"memory", "2000"}})}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "4000"}, {"memory", "10000"}})},
       {OnNode("node1", {R({{"cpu", "1000"}, {"memory", "2000"}})},
               {R({{"cpu", "1000"}, {"memory", "2000"}})}),
        OnNode("node2", {R({{"cpu", "1000"}, {"memory", "2000"}})})},
       least,
       {32, 55}},
      // Requestless containers count 100m cpu and 200Mi memory (non-zero requests).
      {"RequestlessContainersUseScoringDefaults",
       PodBuilder("default", "incoming").Container({}).Build(),
       {CapNode("node1", {{"cpu", "1"}, {"memory", "1000Mi"}})},
       {OnNode("node1", {R({})})},
       least,
       {70}},
  };
}

INSTANTIATE_TEST_SUITE_P(LeastAllocated, NodeResourcesFitScoreTest,
                         ::testing::ValuesIn(LeastAllocatedCases()),
                         [](const ::testing::TestParamInfo<ScoreCase>& info) {
                           return info.param.name;
                         });

std::vector<ScoreCase> MostAllocatedCases() {
  const ScoringStrategy most = Strategy(ScoringStrategyType::kMostAllocated);
  const auto two_containers = [] {
    return Requesting({R({{"cpu", "1000"}, {"memory", "2000"}}),
                       R({{"cpu", "2000"}, {"memory", "3000"}})});
  };
  return {
      {"NothingScheduledNothingRequested",
       Requesting({}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "4000"}, {"memory", "10000"}})},
       {},
       most,
       {0, 0}},
      {"NothingScheduledResourcesRequestedDifferentlySizedNodes",
       two_containers(),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}})},
       {},
       most,
       {62, 50}},
      {"NoResourcesRequestedPodsScheduledWithResources",
       Requesting({}),
       {CapNode("node1", {{"cpu", "10000"}, {"memory", "20000"}}),
        CapNode("node2", {{"cpu", "10000"}, {"memory", "20000"}})},
       {OnNode("node1", {R({{"cpu", "3000"}, {"memory", "0"}})}),
        OnNode("node1", {R({{"cpu", "3000"}, {"memory", "0"}})}),
        OnNode("node2", {R({{"cpu", "3000"}, {"memory", "0"}})}),
        OnNode("node2", {R({{"cpu", "3000"}, {"memory", "5000"}})})},
       most,
       {30, 42}},
      {"ResourcesRequestedPodsScheduledWithResources",
       two_containers(),
       {CapNode("node1", {{"cpu", "10000"}, {"memory", "20000"}}),
        CapNode("node2", {{"cpu", "10000"}, {"memory", "20000"}})},
       {OnNode("node1", {R({{"cpu", "3000"}, {"memory", "0"}})}),
        OnNode("node2", {R({{"cpu", "3000"}, {"memory", "5000"}})})},
       most,
       {42, 55}},
      {"ResourcesRequestedEqualNodeCapacity",
       Requesting({R({{"cpu", "2000"}, {"memory", "4000"}}),
                   R({{"cpu", "3000"}, {"memory", "5000"}})}),
       {CapNode("node1", {{"cpu", "5000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "10000"}, {"memory", "9000"}})},
       {},
       most,
       {95, 75}},
      {"DifferentWeightsOnCpuAndMemory",
       two_containers(),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}})},
       {},
       Strategy(ScoringStrategyType::kMostAllocated, {{"memory", 2}, {"cpu", 1}}),
       {58, 50}},
      {"NonzeroRequestForRequestlessContainers",
       PodBuilder("default", "incoming").Container({}).Build(),
       {CapNode("node1", {{"cpu", "250m"}, {"memory", "1000Mi"}}),
        CapNode("node2", {{"cpu", "250m"}, {"memory", "1000Mi"}})},
       {OnNode("node1", {R({})}), OnNode("node1", {R({})})},
       most,
       {80, 30}},
      {"BypassExtendedResourceNotRequested",
       two_containers(),
       {CapNode("node1", {{"cpu", "6000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}, {kExtendedRes, "4"}})},
       {},
       Strategy(ScoringStrategyType::kMostAllocated, kExtendedResourceSet),
       {50, 50}},
      {"HonorExtendedResourceRequested",
       Requesting({R({{"cpu", "3000"}, {"memory", "5000"}, {kExtendedRes, "2"}})}),
       {CapNode("node1", {{"cpu", "6000"}, {"memory", "10000"}, {kExtendedRes, "4"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}, {kExtendedRes, "10"}})},
       {},
       Strategy(ScoringStrategyType::kMostAllocated, kExtendedResourceSet),
       {50, 40}},
      {"NodeWithoutResourceSkipsIt",
       Requesting({R({{"cpu", "3000"}, {"memory", "4000"}})}),
       {CapNode("node1", {{"cpu", "6000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}, {kExtendedRes, "4"}})},
       {},
       Strategy(ScoringStrategyType::kMostAllocated,
                {{kExtendedRes, 2}, {"cpu", 1}, {"memory", 1}}),
       {45, 45}},
      // ---- TestFitScore, MostAllocated ----
      {"FitScoreMostAllocated",
       Requesting({R({{"cpu", "1000"}, {"memory", "2000"}})}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}})},
       {OnNode("node1", {R({{"cpu", "2000"}, {"memory", "4000"}})}),
        OnNode("node2", {R({{"cpu", "1000"}, {"memory", "2000"}})})},
       most,
       {67, 36}},
      {"FitScoreMostAllocatedWithSidecar",
       Requesting({R({{"cpu", "1000"}, {"memory", "2000"}})}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "4000"}, {"memory", "10000"}})},
       {OnNode("node1", {R({{"cpu", "1000"}, {"memory", "2000"}})},
               {R({{"cpu", "1000"}, {"memory", "2000"}})}),
        OnNode("node2", {R({{"cpu", "1000"}, {"memory", "2000"}})})},
       most,
       {67, 45}},
  };
}

INSTANTIATE_TEST_SUITE_P(MostAllocated, NodeResourcesFitScoreTest,
                         ::testing::ValuesIn(MostAllocatedCases()),
                         [](const ::testing::TestParamInfo<ScoreCase>& info) {
                           return info.param.name;
                         });

std::vector<ScoreCase> RequestedToCapacityRatioCases() {
  const ScoringStrategy least_shape = Ratio({{0, 10}, {100, 0}});
  const std::vector<UtilizationShapePoint> bin_packing = {{0, 0}, {100, 1}};
  const int64_t mi = 1024 * 1024;
  return {
      // ---- TestRequestedToCapacityRatioScoringStrategy ----
      {"NothingScheduledNothingRequested",
       Requesting({}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "4000"}, {"memory", "10000"}})},
       {OnNode("node1", {}), OnNode("node1", {})},
       least_shape,
       {100, 100}},
      {"NothingScheduledResourcesRequestedDifferentlySizedNodes",
       Requesting({R({{"cpu", "1000"}, {"memory", "2000"}}),
                   R({{"cpu", "2000"}, {"memory", "3000"}})}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}})},
       {OnNode("node1", {}), OnNode("node1", {})},
       least_shape,
       {38, 50}},
      {"NoResourcesRequestedPodsScheduledWithResources",
       Requesting({}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}})},
       {OnNode("node1", {R({{"cpu", "3000"}, {"memory", "5000"}})}),
        OnNode("node2", {R({{"cpu", "3000"}, {"memory", "5000"}})})},
       least_shape,
       {38, 50}},
      // ---- TestFitScore, RequestedToCapacityRatio ----
      {"FitScoreRatioCase1",
       Requesting({R({{"cpu", "3000"}, {"memory", "5000"}})}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}})},
       {OnNode("node1", {R({{"cpu", "2000"}, {"memory", "4000"}})}),
        OnNode("node2", {R({{"cpu", "1000"}, {"memory", "2000"}})})},
       least_shape,
       {10, 32}},
      {"FitScoreRatioCase2",
       Requesting({R({{"cpu", "3000"}, {"memory", "5000"}})}),
       {CapNode("node1", {{"cpu", "4000"}, {"memory", "10000"}}),
        CapNode("node2", {{"cpu", "6000"}, {"memory", "10000"}})},
       {OnNode("node1", {R({{"cpu", "2000"}, {"memory", "4000"}})}),
        OnNode("node2", {R({{"cpu", "1000"}, {"memory", "2000"}})})},
       Ratio({{0, 0}, {100, 10}}),
       {95, 68}},
      // ---- TestResourceBinPackingSingleExtended ----
      {"SingleExtendedNothingRequested",
       Requesting({}),
       {MakeNode("node1", 4000, 10000 * mi, {{"intel.com/foo", 8}}),
        MakeNode("node2", 4000, 10000 * mi, {{"intel.com/foo", 4}})},
       {},
       Ratio(bin_packing, {{"intel.com/foo", 1}}),
       {0, 0}},
      {"SingleExtendedRequestedLessResources",
       Requesting({R({{"intel.com/foo", "2"}})}),
       {MakeNode("node1", 4000, 10000 * mi, {{"intel.com/foo", 8}}),
        MakeNode("node2", 4000, 10000 * mi, {{"intel.com/foo", 4}})},
       {},
       Ratio(bin_packing, {{"intel.com/foo", 1}}),
       {2, 5}},
      {"SingleExtendedOnNodeWithExistingPod",
       Requesting({R({{"intel.com/foo", "2"}})}),
       {MakeNode("node1", 4000, 10000 * mi, {{"intel.com/foo", 8}}),
        MakeNode("node2", 4000, 10000 * mi, {{"intel.com/foo", 4}})},
       {OnNode("node2", {R({{"intel.com/foo", "2"}})})},
       Ratio(bin_packing, {{"intel.com/foo", 1}}),
       {2, 10}},
      {"SingleExtendedRequestedMoreResources",
       Requesting({R({{"intel.com/foo", "4"}})}),
       {MakeNode("node1", 4000, 10000 * mi, {{"intel.com/foo", 8}}),
        MakeNode("node2", 4000, 10000 * mi, {{"intel.com/foo", 4}})},
       {},
       Ratio(bin_packing, {{"intel.com/foo", 1}}),
       {5, 10}},
      // ---- TestResourceBinPackingMultipleExtended ----
      {"MultipleExtendedNothingRequested",
       Requesting({}),
       {MakeNode("node1", 4000, 10000 * mi, {{"intel.com/foo", 8}, {"intel.com/bar", 4}}),
        MakeNode("node2", 4000, 10000 * mi, {{"intel.com/foo", 4}, {"intel.com/bar", 8}})},
       {},
       Ratio(bin_packing, {{"intel.com/foo", 3}, {"intel.com/bar", 5}}),
       {0, 0}},
      {"MultipleExtendedRequestedLessResources",
       Requesting({R({{"intel.com/foo", "2"}, {"intel.com/bar", "2"}})}),
       {MakeNode("node1", 4000, 10000 * mi, {{"intel.com/foo", 8}, {"intel.com/bar", 4}}),
        MakeNode("node2", 4000, 10000 * mi, {{"intel.com/foo", 4}, {"intel.com/bar", 8}})},
       {},
       Ratio(bin_packing, {{"intel.com/foo", 3}, {"intel.com/bar", 5}}),
       {4, 3}},
      {"MultipleExtendedOnNodeWithExistingPod",
       Requesting({R({{"intel.com/foo", "2"}, {"intel.com/bar", "2"}})}),
       {MakeNode("node1", 4000, 10000 * mi, {{"intel.com/foo", 8}, {"intel.com/bar", 4}}),
        MakeNode("node2", 4000, 10000 * mi, {{"intel.com/foo", 4}, {"intel.com/bar", 8}})},
       {OnNode("node2", {R({{"intel.com/foo", "4"}, {"intel.com/bar", "2"}})})},
       Ratio(bin_packing, {{"intel.com/foo", 3}, {"intel.com/bar", 5}}),
       {4, 7}},
      {"MultipleExtendedRequestedMoreResources",
       Requesting({R({{"intel.com/foo", "4"}, {"intel.com/bar", "2"}})}),
       {MakeNode("node1", 4000, 10000 * mi, {{"intel.com/foo", 8}, {"intel.com/bar", 4}}),
        MakeNode("node2", 4000, 10000 * mi, {{"intel.com/foo", 4}, {"intel.com/bar", 8}})},
       {},
       Ratio(bin_packing, {{"intel.com/foo", 3}, {"intel.com/bar", 5}}),
       {5, 5}},
      // ---- helper.BuildBrokenLinearFunction through a single cpu resource (0..100 cores) ----
      // TestBrokenLinearFunction case 1 scaled by 10: points (10, 1) and (90, 9).
      {"BrokenLinearBelowFirstPointIsFirstScore",
       Requesting({R({{"cpu", "5"}})}),
       {CapNode("node1", {{"cpu", "100"}})},
       {},
       Ratio({{10, 1}, {90, 9}}, {{"cpu", 1}}),
       {10}},
      {"BrokenLinearInterpolatesBetweenPoints",
       Requesting({R({{"cpu", "50"}})}),
       {CapNode("node1", {{"cpu", "100"}})},
       {},
       Ratio({{10, 1}, {90, 9}}, {{"cpu", 1}}),
       {50}},
      {"BrokenLinearAboveLastPointIsLastScore",
       Requesting({R({{"cpu", "99"}})}),
       {CapNode("node1", {{"cpu", "100"}})},
       {},
       Ratio({{10, 1}, {90, 9}}, {{"cpu", 1}}),
       {90}},
      // TestBrokenLinearFunction case 2: (0, 2), (40, 10), (100, 0) at 20, 30 and 70.
      {"BrokenLinearRisingSegment",
       Requesting({R({{"cpu", "30"}})}),
       {CapNode("node1", {{"cpu", "100"}})},
       {},
       Ratio({{0, 2}, {40, 10}, {100, 0}}, {{"cpu", 1}}),
       {80}},
      {"BrokenLinearFallingSegment",
       Requesting({R({{"cpu", "70"}})}),
       {CapNode("node1", {{"cpu", "100"}})},
       {},
       Ratio({{0, 2}, {40, 10}, {100, 0}}, {{"cpu", 1}}),
       {50}},
      // Over capacity counts as 100% utilization; a zero score drops the resource from the mean.
      {"OverCapacityIsFullUtilization",
       Requesting({R({{"cpu", "150"}, {"memory", "1"}})}),
       {CapNode("node1", {{"cpu", "100"}, {"memory", "100"}})},
       {},
       Ratio({{0, 10}, {100, 0}}),
       {99}},
      // Mean over resources rounds to nearest: (30 + 45) / 2 = 37.5 -> 38.
      {"RatioMeanRoundsHalfUp",
       Requesting({R({{"cpu", "70"}, {"memory", "55"}})}),
       {CapNode("node1", {{"cpu", "100"}, {"memory", "100"}})},
       {},
       Ratio({{0, 10}, {100, 0}}),
       {38}},
  };
}

INSTANTIATE_TEST_SUITE_P(RequestedToCapacityRatio, NodeResourcesFitScoreTest,
                         ::testing::ValuesIn(RequestedToCapacityRatioCases()),
                         [](const ::testing::TestParamInfo<ScoreCase>& info) {
                           return info.param.name;
                         });

// ---- TestResourceAllocationScorerCalculateRequests (non-zero requests for scoring) ----

struct RequestCase {
  std::string name;
  Pod pod;
  int64_t want_milli_cpu;
  int64_t want_memory;
};

// gtest names the failing row instead of dumping its bytes.
void PrintTo(const RequestCase& c, std::ostream* os) { *os << c.name; }

class NodeResourcesFitScoreRequestTest : public ::testing::TestWithParam<RequestCase> {};

TEST_P(NodeResourcesFitScoreRequestTest, MatchesUpstream) {
  const RequestCase& c = GetParam();
  ClusterState state;
  ResourceAllocationPreScoreState pre = ResourceAllocationPreScore(
      c.pod, {{"cpu", 1}, {"memory", 1}}, state.resources(), /*use_requested=*/false);
  ASSERT_EQ(pre.pod_requests.size(), 2u);
  EXPECT_EQ(pre.pod_requests[0], c.want_milli_cpu);
  EXPECT_EQ(pre.pod_requests[1], c.want_memory);
}

std::vector<RequestCase> RequestCases() {
  constexpr int64_t kOneMi = 1048576;
  constexpr int64_t kDefaultCpu = 100;
  constexpr int64_t kDefaultMemory = 200 * kOneMi;
  auto p = [] { return PodBuilder("default", "p"); };
  return {
      {"OverheadOnly", p().Overhead({{"cpu", "1"}, {"memory", "1Mi"}}).Build(), 1000, kOneMi},
      {"OneRequestlessContainer", p().Container({}).Build(), kDefaultCpu, kDefaultMemory},
      {"TwoRequestlessContainers", p().Container({}).Container({}).Build(), 2 * kDefaultCpu,
       2 * kDefaultMemory},
      {"RequestContainerPlusRequestlessContainer",
       p().Container({{"cpu", "1"}, {"memory", "1Mi"}}).Container({}).Build(), 1000 + kDefaultCpu,
       kOneMi + kDefaultMemory},
      {"ContainerPlusRequestlessContainerPlusOverhead",
       p().Overhead({{"cpu", "1"}, {"memory", "1Mi"}})
           .Container({{"cpu", "1"}, {"memory", "1Mi"}})
           .Container({})
           .Build(),
       2000 + kDefaultCpu, 2 * kOneMi + kDefaultMemory},
      {"InitContainerPlusContainersPlusOverhead",
       p().Overhead({{"cpu", "1"}, {"memory", "1Mi"}})
           .InitContainer({{"cpu", "3"}})
           .Container({{"cpu", "1"}, {"memory", "1Mi"}})
           .Container({})
           .Build(),
       4000, 2 * kOneMi + kDefaultMemory},
      {"RequestlessInitContainerPlusSmallContainers",
       p().InitContainer({})
           .InitContainer({{"cpu", "1m"}, {"memory", "1"}})
           .Container({{"cpu", "3m"}, {"memory", "3"}})
           .Build(),
       kDefaultCpu, kDefaultMemory},
      {"RequestlessInitContainerPlusSmallAndRequestlessContainers",
       p().InitContainer({})
           .InitContainer({{"cpu", "1m"}, {"memory", "1"}})
           .Container({{"cpu", "3m"}, {"memory", "3"}})
           .Container({})
           .Build(),
       3 + kDefaultCpu, 3 + kDefaultMemory},
      // An explicit zero is a request: no default is substituted.
      {"ExplicitZeroRequestIsKept", p().Container({{"cpu", "0"}, {"memory", "0"}}).Build(), 0, 0},
      {"NoContainersRequestsNothing", p().Build(), 0, 0},
  };
}

INSTANTIATE_TEST_SUITE_P(CalculateRequests, NodeResourcesFitScoreRequestTest,
                         ::testing::ValuesIn(RequestCases()),
                         [](const ::testing::TestParamInfo<RequestCase>& info) {
                           return info.param.name;
                         });

// ---- NodeResourcesFitArgs validation (validation_pluginargs.go) ----

TEST(NodeResourcesFitTest, ValidationRejectsOutOfRangeWeights) {
  for (int64_t weight : {-1, 0, 101}) {
    ProfileOptions options;
    options.fit_scoring.resources = {{"memory", 1}, {"cpu", weight}};
    absl::Status status = ValidateProfileOptions(options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << weight;
    EXPECT_NE(status.message().find("scoringStrategy.resources[1].weight"), absl::string_view::npos)
        << status;
  }
  ProfileOptions options;
  options.fit_scoring.resources = {{"memory", 100}, {"cpu", 1}};
  EXPECT_TRUE(ValidateProfileOptions(options).ok());
}

TEST(NodeResourcesFitTest, ValidationRequiresSortedShape) {
  ProfileOptions options;
  options.fit_scoring = Ratio({{50, 1}, {50, 2}});
  EXPECT_EQ(ValidateProfileOptions(options).code(), absl::StatusCode::kInvalidArgument);
  options.fit_scoring = Ratio({});
  EXPECT_EQ(ValidateProfileOptions(options).code(), absl::StatusCode::kInvalidArgument);
  options.fit_scoring = Ratio({{0, 11}});
  EXPECT_EQ(ValidateProfileOptions(options).code(), absl::StatusCode::kInvalidArgument);
  options.fit_scoring = Ratio({{0, 10}, {100, 0}});
  EXPECT_TRUE(ValidateProfileOptions(options).ok());
}

}  // namespace
}  // namespace sextant
