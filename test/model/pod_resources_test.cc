// Cases ported from k8s.io/component-helpers/resource/helpers_test.go and
// k8s.io/kubernetes/pkg/apis/core/v1/helper/qos/qos_test.go (v1.37), named as upstream names them.
#include "sextant/pod_resources.h"

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "sextant/model.h"
#include "sextant/quantity.h"

namespace sextant {
namespace {

// {{"cpu", "1"}, {"memory", "1Gi"}} as a ResourceList.
ResourceList Res(std::initializer_list<std::pair<const char*, const char*>> items) {
  ResourceList list;
  for (const auto& [name, text] : items) {
    absl::StatusOr<Quantity> quantity = Quantity::Parse(text);
    EXPECT_TRUE(quantity.ok()) << text << ": " << quantity.status();
    list.insert_or_assign(name, quantity.value_or(Quantity()));
  }
  return list;
}

std::string Dump(const ResourceList& list) {
  return absl::StrCat("{",
                      absl::StrJoin(list, ", ",
                                    [](std::string* out, const auto& entry) {
                                      absl::StrAppend(out, entry.first, ": ",
                                                      entry.second.ToString());
                                    }),
                      "}");
}

Container MakeContainer(std::string name, ResourceList requests, ResourceList limits) {
  Container container;
  container.name = std::move(name);
  container.requests = std::move(requests);
  container.limits = std::move(limits);
  return container;
}

// A container status; nullopt leaves the field out as the kubelet would.
ContainerStatus Reported(std::string name, std::optional<ResourceList> allocated,
                         std::optional<ResourceList> actual_requests = std::nullopt,
                         std::optional<ResourceList> actual_limits = std::nullopt) {
  ContainerStatus status;
  status.name = std::move(name);
  status.allocated_resources = std::move(allocated);
  status.resource_requests = std::move(actual_requests);
  status.resource_limits = std::move(actual_limits);
  return status;
}

class PodBuilder {
 public:
  PodBuilder& WithContainer(std::string name, ResourceList requests, ResourceList limits = {}) {
    pod_.containers.push_back(
        MakeContainer(std::move(name), std::move(requests), std::move(limits)));
    return *this;
  }
  PodBuilder& WithInit(std::string name, ResourceList requests, ResourceList limits = {}) {
    pod_.init_containers.push_back(
        MakeContainer(std::move(name), std::move(requests), std::move(limits)));
    return *this;
  }
  // A restartable init container (restartPolicy: Always).
  PodBuilder& WithSidecar(std::string name, ResourceList requests, ResourceList limits = {}) {
    WithInit(std::move(name), std::move(requests), std::move(limits));
    pod_.init_containers.back().restart_policy = "Always";
    return *this;
  }
  PodBuilder& WithOverhead(ResourceList overhead) {
    pod_.overhead = std::move(overhead);
    return *this;
  }
  PodBuilder& WithPodResources(ResourceList requests, ResourceList limits = {}) {
    pod_.resources = PodResources{std::move(requests), std::move(limits)};
    return *this;
  }
  PodBuilder& WithStatus(ContainerStatus status) {
    pod_.container_statuses.push_back(std::move(status));
    return *this;
  }
  PodBuilder& WithInitStatus(ContainerStatus status) {
    pod_.init_container_statuses.push_back(std::move(status));
    return *this;
  }
  Pod Build() const { return pod_; }

 private:
  Pod pod_;
};

// Upstream's zero-valued PodResourcesOptions{}; ours defaults to the scheduler's settings.
PodResourcesOptions ZeroOpts() {
  PodResourcesOptions options;
  options.use_status_resources = false;
  options.skip_pod_level_resources = false;
  options.exclude_overhead = false;
  return options;
}

PodResourcesOptions StatusOpts() {
  PodResourcesOptions options = ZeroOpts();
  options.use_status_resources = true;
  return options;
}

PodResourcesOptions NoOverheadOpts() {
  PodResourcesOptions options = ZeroOpts();
  options.exclude_overhead = true;
  return options;
}

PodResourcesOptions SkipPodLevelOpts() {
  PodResourcesOptions options = ZeroOpts();
  options.skip_pod_level_resources = true;
  return options;
}

PodResourcesOptions NonMissingOpts(ResourceList non_missing) {
  PodResourcesOptions options = ZeroOpts();
  options.non_missing_container_requests = std::move(non_missing);
  return options;
}

struct ResourcesCase {
  std::string name = "";
  Pod pod = {};
  PodResourcesOptions options = ZeroOpts();
  // nullopt: the upstream table does not check this side.
  std::optional<ResourceList> want_requests = std::nullopt;
  std::optional<ResourceList> want_limits = std::nullopt;
};

void RunCases(const std::vector<ResourcesCase>& cases) {
  for (const ResourcesCase& tc : cases) {
    SCOPED_TRACE(tc.name);
    if (tc.want_requests.has_value()) {
      const ResourceList got = PodRequests(tc.pod, tc.options);
      EXPECT_TRUE(got == *tc.want_requests)
          << "requests: got " << Dump(got) << ", want " << Dump(*tc.want_requests);
    }
    if (tc.want_limits.has_value()) {
      const ResourceList got = PodLimits(tc.pod, tc.options);
      EXPECT_TRUE(got == *tc.want_limits)
          << "limits: got " << Dump(got) << ", want " << Dump(*tc.want_limits);
    }
  }
}

// Upstream getPod: one container and one init container with the same resources, plus overhead.
struct GetPodResources {
  const char* cpu_request = nullptr;
  const char* cpu_limit = nullptr;
  const char* memory_request = nullptr;
  const char* memory_limit = nullptr;
  const char* cpu_overhead = nullptr;
  const char* memory_overhead = nullptr;
};

Pod GetPod(const std::string& name, const GetPodResources& r) {
  ResourceList requests;
  ResourceList limits;
  ResourceList overhead;
  auto set = [](ResourceList& list, const char* resource, const char* text) {
    if (text != nullptr) list.insert_or_assign(resource, Res({{resource, text}}).at(resource));
  };
  set(limits, kResourceCpu, r.cpu_limit);
  set(limits, kResourceMemory, r.memory_limit);
  set(requests, kResourceCpu, r.cpu_request);
  set(requests, kResourceMemory, r.memory_request);
  set(overhead, kResourceCpu, r.cpu_overhead);
  set(overhead, kResourceMemory, r.memory_overhead);
  return PodBuilder()
      .WithContainer(name, requests, limits)
      .WithInit("init-" + name, requests, limits)
      .WithOverhead(overhead)
      .Build();
}

// ---- TestPodRequestsAndLimits ----

TEST(PodRequestsTest, RequestsAndLimitsWithOverhead) {
  RunCases({
      {.name = "just-limit-no-overhead",
       .pod = GetPod("foo", {.cpu_limit = "9"}),
       .want_requests = ResourceList{},
       .want_limits = Res({{"cpu", "9"}})},
      {.name = "just-overhead",
       .pod = GetPod("foo", {.cpu_overhead = "5", .memory_overhead = "5"}),
       .want_requests = Res({{"cpu", "5"}, {"memory", "5"}}),
       .want_limits = ResourceList{}},
      {.name = "req-and-overhead",
       .pod = GetPod("foo", {.cpu_request = "1",
                             .memory_request = "10",
                             .cpu_overhead = "5",
                             .memory_overhead = "5"}),
       .want_requests = Res({{"cpu", "6"}, {"memory", "15"}}),
       .want_limits = ResourceList{}},
      {.name = "all-req-lim-and-overhead",
       .pod = GetPod("foo", {.cpu_request = "1",
                             .cpu_limit = "2",
                             .memory_request = "10",
                             .memory_limit = "12",
                             .cpu_overhead = "5",
                             .memory_overhead = "5"}),
       .want_requests = Res({{"cpu", "6"}, {"memory", "15"}}),
       .want_limits = Res({{"cpu", "7"}, {"memory", "17"}})},
      {.name = "req-some-lim-and-overhead",
       .pod = GetPod("foo", {.cpu_request = "1",
                             .cpu_limit = "2",
                             .memory_request = "10",
                             .cpu_overhead = "5",
                             .memory_overhead = "5"}),
       .want_requests = Res({{"cpu", "6"}, {"memory", "15"}}),
       .want_limits = Res({{"cpu", "7"}})},
  });
}

// ---- TestPodRequestsAndLimitsWithoutOverhead ----

TEST(PodRequestsTest, RequestsAndLimitsWithoutOverhead) {
  const auto two_containers = [] {
    return PodBuilder()
        .WithContainer("foobar", Res({{"cpu", "1"}, {"memory", "5"}}),
                       Res({{"cpu", "2"}, {"memory", "10"}}))
        .WithContainer("foobar2", Res({{"cpu", "4"}, {"memory", "12"}}),
                       Res({{"cpu", "8"}, {"memory", "24"}}));
  };
  RunCases({
      {.name = "two container no overhead - should just be sum of containers",
       .pod = two_containers().Build(),
       .options = NoOverheadOpts(),
       .want_requests = Res({{"cpu", "5"}, {"memory", "17"}}),
       .want_limits = Res({{"cpu", "10"}, {"memory", "34"}})},
      {.name = "two container with overhead - shouldn't consider overhead",
       .pod = two_containers().WithOverhead(Res({{"cpu", "3"}, {"memory", "8"}})).Build(),
       .options = NoOverheadOpts(),
       .want_requests = Res({{"cpu", "5"}, {"memory", "17"}}),
       .want_limits = Res({{"cpu", "10"}, {"memory", "34"}})},
      {.name = "two container with overhead, massive init - should just be the largest init",
       .pod = two_containers()
                  .WithOverhead(Res({{"cpu", "3"}, {"memory", "8"}}))
                  .WithInit("small-init", Res({{"cpu", "1"}, {"memory", "5"}}),
                            Res({{"cpu", "1"}, {"memory", "5"}}))
                  .WithInit("big-init", Res({{"cpu", "40"}, {"memory", "120"}}),
                            Res({{"cpu", "80"}, {"memory", "240"}}))
                  .Build(),
       .options = NoOverheadOpts(),
       .want_requests = Res({{"cpu", "40"}, {"memory", "120"}}),
       .want_limits = Res({{"cpu", "80"}, {"memory", "240"}})},
  });
}

// ---- TestPodResourceRequests ----
// Not ported: "resized, infeasible", "resized, infeasible & in-progress" and "resized, restartable
// init container, infeasible" need the PodResizePending condition, which the model lacks.

TEST(PodRequestsTest, ResourceRequests) {
  RunCases({
      {.name = "nil options, larger init container",
       .pod = PodBuilder()
                  .WithInit("", Res({{"cpu", "4"}}))
                  .WithContainer("", Res({{"cpu", "1"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "4"}})},
      {.name = "nil options, larger containers",
       .pod = PodBuilder()
                  .WithInit("", Res({{"cpu", "2"}}))
                  .WithContainer("", Res({{"cpu", "2"}}))
                  .WithContainer("", Res({{"cpu", "3"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "5"}})},
      {.name = "pod overhead excluded",
       .pod = PodBuilder()
                  .WithOverhead(Res({{"cpu", "1"}}))
                  .WithInit("", Res({{"cpu", "2"}}))
                  .WithContainer("", Res({{"cpu", "2"}}))
                  .WithContainer("", Res({{"cpu", "3"}}))
                  .Build(),
       .options = NoOverheadOpts(),
       .want_requests = Res({{"cpu", "5"}})},
      {.name = "pod overhead included",
       .pod = PodBuilder()
                  .WithOverhead(Res({{"cpu", "1"}, {"memory", "1Gi"}}))
                  .WithInit("", Res({{"cpu", "2"}}), Res({{"cpu", "2"}}))
                  .WithContainer("", Res({{"cpu", "2"}}))
                  .WithContainer("", Res({{"cpu", "3"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "6"}, {"memory", "1Gi"}})},
      {.name = "resized, no resize status",
       .pod = PodBuilder()
                  .WithContainer("container-1", Res({{"cpu", "4"}}))
                  .WithStatus(Reported("container-1", std::nullopt, Res({{"cpu", "2"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = Res({{"cpu", "4"}})},
      {.name = "resized: per-resource 3-way maximum",
       .pod = PodBuilder()
                  .WithContainer(
                      "container-1",
                      Res({{"cpu", "30m"}, {"memory", "20M"}, {"ephemeral-storage", "10G"}}))
                  .WithStatus(Reported(
                      "container-1",
                      Res({{"cpu", "20m"}, {"memory", "10M"}, {"ephemeral-storage", "30G"}}),
                      Res({{"cpu", "10m"}, {"memory", "30M"}, {"ephemeral-storage", "20G"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = Res({{"cpu", "30m"}, {"memory", "30M"}, {"ephemeral-storage", "30G"}})},
      // Upstream's "resized, infeasible, but don't use status", less the condition it cannot carry.
      {.name = "resized, but don't use status",
       .pod = PodBuilder()
                  .WithContainer("container-1", Res({{"cpu", "4"}}))
                  .WithStatus(Reported("container-1", std::nullopt, Res({{"cpu", "2"}})))
                  .Build(),
       .want_requests = Res({{"cpu", "4"}})},
      {.name = "resized, restartable init container, no resize status",
       .pod = PodBuilder()
                  .WithSidecar("restartable-init-1", Res({{"cpu", "4"}}))
                  .WithInitStatus(Reported("restartable-init-1", std::nullopt, Res({{"cpu", "2"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = Res({{"cpu", "4"}})},
      {.name = "resized, restartable init container, but don't use status",
       .pod = PodBuilder()
                  .WithSidecar("restartable-init-1", Res({{"cpu", "4"}}))
                  .WithInitStatus(Reported("restartable-init-1", std::nullopt, Res({{"cpu", "2"}})))
                  .Build(),
       .want_requests = Res({{"cpu", "4"}})},
      {.name = "restartable init container",
       .pod = PodBuilder()
                  .WithSidecar("restartable-init-1", Res({{"cpu", "1"}}))
                  .WithContainer("container-1", Res({{"cpu", "1"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "2"}})},
      // max(5, restartable init containers(3+2+1) + regular(1)) = 7
      {.name = "multiple restartable init containers",
       .pod = PodBuilder()
                  .WithInit("init-1", Res({{"cpu", "5"}}))
                  .WithSidecar("restartable-init-1", Res({{"cpu", "1"}}))
                  .WithSidecar("restartable-init-2", Res({{"cpu", "2"}}))
                  .WithSidecar("restartable-init-3", Res({{"cpu", "3"}}))
                  .WithContainer("container-1", Res({{"cpu", "1"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "7"}})},
      // init-2 needs 5 + the sidecars started before it (1+2) = 8.
      {.name = "multiple restartable and regular init containers",
       .pod = PodBuilder()
                  .WithInit("init-1", Res({{"cpu", "5"}}))
                  .WithSidecar("restartable-init-1", Res({{"cpu", "1"}}))
                  .WithSidecar("restartable-init-2", Res({{"cpu", "2"}}))
                  .WithInit("init-2", Res({{"cpu", "5"}}))
                  .WithSidecar("restartable-init-3", Res({{"cpu", "3"}}))
                  .WithContainer("container-1", Res({{"cpu", "1"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "8"}})},
      // Only restartPolicy Always makes a sidecar.
      {.name = "init container with another restart policy is not a sidecar",
       .pod =
           [] {
             Pod pod = PodBuilder()
                           .WithInit("init-1", Res({{"cpu", "2"}}))
                           .WithContainer("container-1", Res({{"cpu", "1"}}))
                           .Build();
             pod.init_containers[0].restart_policy = "OnFailure";
             return pod;
           }(),
       .want_requests = Res({{"cpu", "2"}})},
      {.name = "restartable-init, init and regular",
       .pod = PodBuilder()
                  .WithSidecar("restartable-init-1", Res({{"cpu", "10"}}))
                  .WithInit("init-1", Res({{"cpu", "200"}}))
                  .WithContainer("container-1", Res({{"cpu", "100"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "210"}})},
      {.name = "aggregate request resolves max of sums instead of sum of maxes",
       .pod = PodBuilder()
                  .WithContainer("c1", Res({{"cpu", "1"}}))
                  .WithContainer("c2", Res({{"cpu", "2"}}))
                  .WithStatus(Reported("c1", Res({{"cpu", "2"}})))
                  .WithStatus(Reported("c2", Res({{"cpu", "1"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = Res({{"cpu", "3"}})},
  });
}

// ---- TestPodResourceLimits ----

TEST(PodRequestsTest, ResourceLimits) {
  RunCases({
      {.name = "nil options, larger init container",
       .pod = PodBuilder()
                  .WithInit("", {}, Res({{"cpu", "4"}}))
                  .WithContainer("", {}, Res({{"cpu", "1"}}))
                  .Build(),
       .want_limits = Res({{"cpu", "4"}})},
      {.name = "nil options, larger containers",
       .pod = PodBuilder()
                  .WithInit("", {}, Res({{"cpu", "2"}}))
                  .WithContainer("", {}, Res({{"cpu", "2"}}))
                  .WithContainer("", {}, Res({{"cpu", "3"}}))
                  .Build(),
       .want_limits = Res({{"cpu", "5"}})},
      {.name = "pod overhead excluded",
       .pod = PodBuilder()
                  .WithOverhead(Res({{"cpu", "1"}}))
                  .WithInit("", {}, Res({{"cpu", "2"}}))
                  .WithContainer("", {}, Res({{"cpu", "2"}}))
                  .WithContainer("", {}, Res({{"cpu", "3"}}))
                  .Build(),
       .options = NoOverheadOpts(),
       .want_limits = Res({{"cpu", "5"}})},
      // Overhead goes only onto non-zero limits: no memory limit appears.
      {.name = "pod overhead included",
       .pod = PodBuilder()
                  .WithOverhead(Res({{"cpu", "1"}, {"memory", "1Gi"}}))
                  .WithInit("", {}, Res({{"cpu", "2"}}))
                  .WithContainer("", {}, Res({{"cpu", "2"}}))
                  .WithContainer("", {}, Res({{"cpu", "3"}}))
                  .Build(),
       .want_limits = Res({{"cpu", "6"}})},
      {.name = "no limited containers should result in no limits for the pod",
       .pod = PodBuilder().WithContainer("", {}).Build(),
       .want_limits = ResourceList{}},
      {.name = "one limited and one unlimited container should result in the limited "
               "container's limits for the pod",
       .pod = PodBuilder()
                  .WithContainer("", {}, Res({{"cpu", "2"}, {"memory", "2Gi"}}))
                  .WithContainer("", {})
                  .Build(),
       .want_limits = Res({{"cpu", "2"}, {"memory", "2Gi"}})},
      {.name = "one limited and one unlimited init container should result in the limited init "
               "container's limits for the pod",
       .pod = PodBuilder()
                  .WithInit("", {}, Res({{"cpu", "2"}, {"memory", "2Gi"}}))
                  .WithInit("", {})
                  .WithContainer("", {}, Res({{"cpu", "1"}, {"memory", "1Gi"}}))
                  .Build(),
       .want_limits = Res({{"cpu", "2"}, {"memory", "2Gi"}})},
      {.name = "restartable init container",
       .pod = PodBuilder()
                  .WithSidecar("restartable-init-1", {}, Res({{"cpu", "1"}}))
                  .WithContainer("container-1", {}, Res({{"cpu", "1"}}))
                  .Build(),
       .want_limits = Res({{"cpu", "2"}})},
      {.name = "multiple restartable init containers",
       .pod = PodBuilder()
                  .WithInit("init-1", {}, Res({{"cpu", "5"}}))
                  .WithSidecar("restartable-init-1", {}, Res({{"cpu", "1"}}))
                  .WithSidecar("restartable-init-2", {}, Res({{"cpu", "2"}}))
                  .WithSidecar("restartable-init-3", {}, Res({{"cpu", "3"}}))
                  .WithContainer("container-1", {}, Res({{"cpu", "1"}}))
                  .Build(),
       .want_limits = Res({{"cpu", "7"}})},
      {.name = "multiple restartable and regular init containers",
       .pod = PodBuilder()
                  .WithInit("init-1", {}, Res({{"cpu", "5"}}))
                  .WithSidecar("restartable-init-1", {}, Res({{"cpu", "1"}}))
                  .WithSidecar("restartable-init-2", {}, Res({{"cpu", "2"}}))
                  .WithInit("init-2", {}, Res({{"cpu", "5"}}))
                  .WithSidecar("restartable-init-3", {}, Res({{"cpu", "3"}}))
                  .WithContainer("container-1", {}, Res({{"cpu", "1"}}))
                  .Build(),
       .want_limits = Res({{"cpu", "8"}})},
      {.name = "restartable-init, init and regular",
       .pod = PodBuilder()
                  .WithSidecar("restartable-init-1", {}, Res({{"cpu", "10"}}))
                  .WithInit("init-1", {}, Res({{"cpu", "200"}}))
                  .WithContainer("container-1", {}, Res({{"cpu", "100"}}))
                  .Build(),
       .want_limits = Res({{"cpu", "210"}})},
      {.name = "pod scaled up",
       .pod = PodBuilder()
                  .WithContainer("container-1", {}, Res({{"memory", "2Gi"}}))
                  .WithStatus(
                      Reported("container-1", std::nullopt, std::nullopt, Res({{"memory", "1Gi"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_limits = Res({{"memory", "2Gi"}})},
      {.name = "pod scaled down",
       .pod = PodBuilder()
                  .WithContainer("container-1", {}, Res({{"memory", "1Gi"}}))
                  .WithStatus(
                      Reported("container-1", std::nullopt, std::nullopt, Res({{"memory", "2Gi"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_limits = Res({{"memory", "2Gi"}})},
      {.name = "pod scaled down, don't use status",
       .pod = PodBuilder()
                  .WithContainer("container-1", {}, Res({{"memory", "1Gi"}}))
                  .WithStatus(
                      Reported("container-1", std::nullopt, std::nullopt, Res({{"memory", "2Gi"}})))
                  .Build(),
       .want_limits = Res({{"memory", "1Gi"}})},
      {.name = "pod scaled up with restartable init containers",
       .pod = PodBuilder()
                  .WithSidecar("restartable-init-1", {}, Res({{"memory", "2Gi"}}))
                  .WithInitStatus(Reported("restartable-init-1", std::nullopt, std::nullopt,
                                           Res({{"memory", "1Gi"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_limits = Res({{"memory", "2Gi"}})},
      {.name = "pod scaled down with restartable init containers",
       .pod = PodBuilder()
                  .WithSidecar("restartable-init-1", {}, Res({{"memory", "1Gi"}}))
                  .WithInitStatus(Reported("restartable-init-1", std::nullopt, std::nullopt,
                                           Res({{"memory", "2Gi"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_limits = Res({{"memory", "2Gi"}})},
      {.name = "pod scaled down with restartable init containers, don't use status",
       .pod = PodBuilder()
                  .WithSidecar("restartable-init-1", {}, Res({{"memory", "1Gi"}}))
                  .WithInitStatus(Reported("restartable-init-1", std::nullopt, std::nullopt,
                                           Res({{"memory", "2Gi"}})))
                  .Build(),
       .want_limits = Res({{"memory", "1Gi"}})},
      {.name = "aggregate limit resolves max of sums instead of sum of maxes",
       .pod = PodBuilder()
                  .WithContainer("c1", {}, Res({{"cpu", "1"}}))
                  .WithContainer("c2", {}, Res({{"cpu", "2"}}))
                  .WithStatus(Reported("c1", std::nullopt, std::nullopt, Res({{"cpu", "2"}})))
                  .WithStatus(Reported("c2", std::nullopt, std::nullopt, Res({{"cpu", "1"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_limits = Res({{"cpu", "3"}})},
  });
}

// ---- TestPodLevelResourceRequests ----

TEST(PodRequestsTest, PodLevelResourceRequests) {
  const auto container_and_init = [] {
    return PodBuilder()
        .WithContainer("", Res({{"memory", "3Mi"}, {"cpu", "2m"}}))
        .WithInit("", Res({{"memory", "5Mi"}, {"cpu", "4m"}}));
  };
  const auto container_sidecar_and_init = [] {
    return PodBuilder()
        .WithContainer("", Res({{"memory", "3Mi"}, {"cpu", "2m"}}))
        .WithSidecar("", Res({{"memory", "5Mi"}, {"cpu", "4m"}}))
        .WithInit("", Res({{"memory", "6Mi"}, {"cpu", "8m"}}));
  };
  RunCases({
      {.name = "nil",
       .pod = PodBuilder().WithPodResources({}).Build(),
       .want_requests = ResourceList{}},
      {.name = "pod level memory resource with SkipPodLevelResources true",
       .pod = PodBuilder().WithPodResources(Res({{"memory", "2Mi"}})).Build(),
       .options = SkipPodLevelOpts(),
       .want_requests = ResourceList{}},
      {.name = "pod level memory resource with SkipPodLevelResources false",
       .pod = PodBuilder().WithPodResources(Res({{"memory", "2Mi"}})).Build(),
       .want_requests = Res({{"memory", "2Mi"}})},
      {.name = "pod level memory and container level cpu resources with SkipPodLevelResources "
               "false",
       .pod = PodBuilder()
                  .WithPodResources(Res({{"memory", "2Mi"}}))
                  .WithContainer("", Res({{"cpu", "2m"}}))
                  .Build(),
       .want_requests = Res({{"memory", "2Mi"}, {"cpu", "2m"}})},
      {.name = "pod level unsupported resources set at both pod-level and container-level with "
               "SkipPodLevelResources false",
       .pod = PodBuilder()
                  .WithPodResources(Res({{"storage", "2Mi"}}))
                  .WithContainer("", Res({{"storage", "3Mi"}}))
                  .Build(),
       .want_requests = Res({{"storage", "3Mi"}})},
      {.name = "pod level unsupported resources set at pod-level with SkipPodLevelResources false",
       .pod = PodBuilder()
                  .WithPodResources(Res({{"storage", "2Mi"}}))
                  .WithContainer("", Res({{"memory", "3Mi"}}))
                  .Build(),
       .want_requests = Res({{"memory", "3Mi"}})},
      {.name = "only container level resources set with SkipPodLevelResources false",
       .pod = PodBuilder()
                  .WithPodResources({})
                  .WithContainer("", Res({{"memory", "3Mi"}, {"cpu", "2m"}}))
                  .Build(),
       .want_requests = Res({{"memory", "3Mi"}, {"cpu", "2m"}})},
      {.name = "both container-level and pod-level resources set with SkipPodLevelResources false",
       .pod = PodBuilder()
                  .WithPodResources(Res({{"memory", "6Mi"}, {"cpu", "8m"}}))
                  .WithContainer("", Res({{"memory", "3Mi"}, {"cpu", "2m"}}))
                  .Build(),
       .want_requests = Res({{"memory", "6Mi"}, {"cpu", "8m"}})},
      {.name = "container-level resources and init container set with SkipPodLevelResources false",
       .pod = container_and_init().WithPodResources({}).Build(),
       .want_requests = Res({{"memory", "5Mi"}, {"cpu", "4m"}})},
      {.name = "container-level resources and init container set with SkipPodLevelResources true",
       .pod = container_and_init().WithPodResources({}).Build(),
       .options = SkipPodLevelOpts(),
       .want_requests = Res({{"memory", "5Mi"}, {"cpu", "4m"}})},
      {.name = "container-level resources and sidecar container set with SkipPodLevelResources "
               "false",
       .pod = PodBuilder()
                  .WithPodResources({})
                  .WithContainer("", Res({{"memory", "3Mi"}, {"cpu", "2m"}}))
                  .WithSidecar("", Res({{"memory", "5Mi"}, {"cpu", "4m"}}))
                  .Build(),
       .want_requests = Res({{"memory", "8Mi"}, {"cpu", "6m"}})},
      {.name = "container-level resources, init and sidecar container set with "
               "SkipPodLevelResources false",
       .pod = container_sidecar_and_init().WithPodResources({}).Build(),
       .want_requests = Res({{"memory", "11Mi"}, {"cpu", "12m"}})},
      {.name = "pod-level resources, container-level resources, init and sidecar container set "
               "with SkipPodLevelResources false",
       .pod = container_sidecar_and_init()
                  .WithPodResources(Res({{"memory", "15Mi"}, {"cpu", "18m"}}))
                  .Build(),
       .want_requests = Res({{"memory", "15Mi"}, {"cpu", "18m"}})},
      {.name = "pod-level resources, hugepage request/limit single page size",
       .pod = PodBuilder()
                  .WithPodResources(Res({{"memory", "10Mi"}, {"hugepages-2Mi", "2Mi"}}),
                                    Res({{"hugepages-2Mi", "2Mi"}}))
                  .Build(),
       .want_requests = Res({{"memory", "10Mi"}, {"hugepages-2Mi", "2Mi"}})},
      {.name = "pod-level resources, hugepage request/limit multiple page sizes",
       .pod = PodBuilder()
                  .WithPodResources(
                      Res({{"cpu", "1"}, {"hugepages-2Mi", "2Mi"}, {"hugepages-1Gi", "1Gi"}}),
                      Res({{"hugepages-2Mi", "2Mi"}, {"hugepages-1Gi", "1Gi"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "1"}, {"hugepages-2Mi", "2Mi"}, {"hugepages-1Gi", "1Gi"}})},
      {.name = "pod-level resources, container-level resources, hugepage request/limit single page "
               "size",
       .pod =
           PodBuilder()
               .WithPodResources(Res({{"cpu", "1"}, {"hugepages-2Mi", "10Mi"}}),
                                 Res({{"hugepages-2Mi", "10Mi"}}))
               .WithContainer("", Res({{"hugepages-2Mi", "6Mi"}}), Res({{"hugepages-2Mi", "6Mi"}}))
               .Build(),
       .want_requests = Res({{"cpu", "1"}, {"hugepages-2Mi", "10Mi"}})},
      {.name = "pod-level resources, container-level resources, hugepage request/limit multiple "
               "page sizes",
       .pod = PodBuilder()
                  .WithPodResources(
                      Res({{"cpu", "1"}, {"hugepages-2Mi", "10Mi"}, {"hugepages-1Gi", "2Gi"}}),
                      Res({{"hugepages-2Mi", "10Mi"}, {"hugepages-1Gi", "2Gi"}}))
                  .WithContainer("", Res({{"cpu", "1"}, {"hugepages-1Gi", "2Gi"}}),
                                 Res({{"hugepages-1Gi", "2Gi"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "1"}, {"hugepages-2Mi", "10Mi"}, {"hugepages-1Gi", "2Gi"}})},
      {.name = "pod-level resources, container-level resources, hugepage request/limit multiple "
               "page sizes between pod-level and container-level",
       .pod = PodBuilder()
                  .WithPodResources(Res({{"cpu", "1"}, {"hugepages-2Mi", "10Mi"}}),
                                    Res({{"hugepages-2Mi", "10Mi"}}))
                  .WithContainer("", Res({{"memory", "4Mi"}, {"hugepages-1Gi", "1Gi"}}),
                                 Res({{"hugepages-1Gi", "1Gi"}}))
                  .Build(),
       .want_requests = Res(
           {{"cpu", "1"}, {"memory", "4Mi"}, {"hugepages-2Mi", "10Mi"}, {"hugepages-1Gi", "1Gi"}})},
  });
}

// ---- TestIsSupportedPodLevelResource, observed through PodRequests ----

TEST(PodRequestsTest, SupportedPodLevelResources) {
  struct Case {
    const char* resource = "";
    bool supported = false;
  };
  for (const Case& tc : std::vector<Case>{{"cpu", true},
                                          {"memory", true},
                                          {"ephemeral-storage", false},
                                          {"hugepages-2Mi", true},
                                          {"hugepages-1Gi", true}}) {
    SCOPED_TRACE(tc.resource);
    const Pod pod = PodBuilder()
                        .WithPodResources(Res({{tc.resource, "5Mi"}}))
                        .WithContainer("", Res({{tc.resource, "1Mi"}}))
                        .Build();
    const ResourceList got = PodRequests(pod, ZeroOpts());
    const ResourceList want = Res({{tc.resource, tc.supported ? "5Mi" : "1Mi"}});
    EXPECT_TRUE(got == want) << "got " << Dump(got) << ", want " << Dump(want);
  }
}

// ---- Pod-level limits (PodLimits with IsPodLevelResourcesSet) ----

TEST(PodRequestsTest, PodLevelResourceLimits) {
  RunCases({
      // From TestPodRequestsAndLimitsWithDRA, less the claim the model does not carry.
      {.name = "Pod Level Resources overrides the claim request/limit",
       .pod = PodBuilder()
                  .WithPodResources(Res({{"cpu", "2"}}), Res({{"cpu", "2"}}))
                  .WithContainer("c1", Res({{"cpu", "1"}, {"memory", "1Gi"}}),
                                 Res({{"cpu", "1"}, {"memory", "1Gi"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "2"}, {"memory", "1Gi"}}),
       .want_limits = Res({{"cpu", "2"}, {"memory", "1Gi"}})},
      {.name = "pod-level requests only keep the container limits",
       .pod = PodBuilder()
                  .WithPodResources(Res({{"cpu", "4"}}))
                  .WithContainer("c1", Res({{"cpu", "1"}}), Res({{"cpu", "3"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "4"}}),
       .want_limits = Res({{"cpu", "3"}})},
      {.name = "pod-level limits with unsupported resource only are ignored",
       .pod = PodBuilder()
                  .WithPodResources({}, Res({{"ephemeral-storage", "9Gi"}}))
                  .WithContainer("c1", {}, Res({{"ephemeral-storage", "1Gi"}}))
                  .Build(),
       .want_limits = Res({{"ephemeral-storage", "1Gi"}})},
      {.name = "unsupported pod-level limit beside a supported one is ignored",
       .pod = PodBuilder()
                  .WithPodResources({}, Res({{"memory", "2Gi"}, {"ephemeral-storage", "9Gi"}}))
                  .WithContainer("c1", {}, Res({{"memory", "1Gi"}, {"ephemeral-storage", "1Gi"}}))
                  .Build(),
       .want_limits = Res({{"memory", "2Gi"}, {"ephemeral-storage", "1Gi"}})},
      {.name = "overhead is added to pod-level limits",
       .pod = PodBuilder()
                  .WithPodResources(Res({{"cpu", "1"}}), Res({{"cpu", "2"}}))
                  .WithOverhead(Res({{"cpu", "250m"}, {"memory", "100Mi"}}))
                  .WithContainer("c1", {})
                  .Build(),
       .want_requests = Res({{"cpu", "1250m"}, {"memory", "100Mi"}}),
       .want_limits = Res({{"cpu", "2250m"}})},
      {.name = "pod-level limits skipped with SkipPodLevelResources",
       .pod = PodBuilder()
                  .WithPodResources(Res({{"cpu", "2"}}), Res({{"cpu", "2"}}))
                  .WithContainer("c1", Res({{"cpu", "1"}}), Res({{"cpu", "1"}}))
                  .Build(),
       .options = SkipPodLevelOpts(),
       .want_requests = Res({{"cpu", "1"}}),
       .want_limits = Res({{"cpu", "1"}})},
  });
}

// ---- TestAggregateContainerRequestsAndLimits (no pod-level spec or overhead, so PodRequests and
// PodLimits equal the aggregates) ----
// Not ported: "aggregate container request/limit resolves directly from pod status when PLR
// vertical scaling enabled" needs pod-level status.allocatedResources / status.resources.

TEST(PodRequestsTest, AggregateContainerRequestsAndLimits) {
  RunCases({
      {.name = "one container with limits",
       .pod = PodBuilder().WithContainer("", {}, Res({{"cpu", "9"}})).Build(),
       .want_requests = ResourceList{},
       .want_limits = Res({{"cpu", "9"}})},
      {.name = "two containers with limits",
       .pod = PodBuilder()
                  .WithContainer("", {}, Res({{"cpu", "9"}}))
                  .WithContainer("", {}, Res({{"cpu", "9"}}))
                  .Build(),
       .want_requests = ResourceList{},
       .want_limits = Res({{"cpu", "18"}})},
      {.name = "one container with requests",
       .pod = PodBuilder().WithContainer("", Res({{"cpu", "9"}})).Build(),
       .want_requests = Res({{"cpu", "9"}}),
       .want_limits = ResourceList{}},
      {.name = "two containers with requests",
       .pod = PodBuilder()
                  .WithContainer("", Res({{"cpu", "9"}}))
                  .WithContainer("", Res({{"cpu", "9"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "18"}}),
       .want_limits = ResourceList{}},
      {.name = "regular and init containers with requests",
       .pod = PodBuilder()
                  .WithContainer("", Res({{"cpu", "9"}}))
                  .WithInit("", Res({{"cpu", "9"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "9"}}),
       .want_limits = ResourceList{}},
      {.name = "regular, init and sidecar containers with requests",
       .pod = PodBuilder()
                  .WithContainer("", Res({{"cpu", "9"}}))
                  .WithSidecar("", Res({{"cpu", "8"}}))
                  .WithInit("", Res({{"cpu", "6"}}))
                  .Build(),
       .want_requests = Res({{"cpu", "17"}}),
       .want_limits = ResourceList{}},
      {.name = "regular and init containers with limits",
       .pod = PodBuilder()
                  .WithContainer("", {}, Res({{"cpu", "9"}}))
                  .WithInit("", {}, Res({{"cpu", "9"}}))
                  .Build(),
       .want_requests = ResourceList{},
       .want_limits = Res({{"cpu", "9"}})},
      {.name = "regular, init and sidecar containers with limits",
       .pod = PodBuilder()
                  .WithContainer("", {}, Res({{"cpu", "9"}}))
                  .WithSidecar("", {}, Res({{"cpu", "8"}}))
                  .WithInit("", {}, Res({{"cpu", "6"}}))
                  .Build(),
       .want_requests = ResourceList{},
       .want_limits = Res({{"cpu", "17"}})},
      {.name = "regularcontainers with empty requests, but status with non-empty requests",
       .pod = PodBuilder()
                  .WithContainer("container-1", {})
                  .WithStatus(Reported("container-1", std::nullopt, Res({{"cpu", "2"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = Res({{"cpu", "2"}}),
       .want_limits = ResourceList{}},
      {.name = "always-restart init containers with empty requests, but status with non-empty "
               "requests",
       .pod = PodBuilder()
                  .WithSidecar("container-1", {})
                  .WithInitStatus(Reported("container-1", std::nullopt, Res({{"cpu", "2"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = Res({{"cpu", "2"}}),
       .want_limits = ResourceList{}},
      {.name = "aggregate container request resolves max of sums instead of sum of maxes",
       .pod = PodBuilder()
                  .WithContainer("c1", Res({{"cpu", "1"}}))
                  .WithContainer("c2", Res({{"cpu", "2"}}))
                  .WithStatus(Reported("c1", Res({{"cpu", "2"}})))
                  .WithStatus(Reported("c2", Res({{"cpu", "1"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = Res({{"cpu", "3"}}),
       .want_limits = ResourceList{}},
      {.name = "aggregate container limit resolves max of sums instead of sum of maxes",
       .pod = PodBuilder()
                  .WithContainer("c1", {}, Res({{"cpu", "1"}}))
                  .WithContainer("c2", {}, Res({{"cpu", "2"}}))
                  .WithStatus(Reported("c1", std::nullopt, std::nullopt, Res({{"cpu", "2"}})))
                  .WithStatus(Reported("c2", std::nullopt, std::nullopt, Res({{"cpu", "1"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = ResourceList{},
       .want_limits = Res({{"cpu", "3"}})},
      // Requests: max(spec 1, actual 5, allocated 6); limits: max(spec 2, actual 7).
      {.name = "falls back to container status aggregation when PLR vertical scaling enabled but "
               "podAllocatedResources is nil",
       .pod = PodBuilder()
                  .WithContainer("c1", Res({{"cpu", "1"}}), Res({{"cpu", "2"}}))
                  .WithStatus(
                      Reported("c1", Res({{"cpu", "6"}}), Res({{"cpu", "5"}}), Res({{"cpu", "7"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = Res({{"cpu", "6"}}),
       .want_limits = Res({{"cpu", "7"}})},
      {.name = "falls back to container status aggregation when PLR vertical scaling enabled but "
               "podResources is nil",
       .pod = PodBuilder()
                  .WithContainer("c1", Res({{"cpu", "1"}}), Res({{"cpu", "2"}}))
                  .WithStatus(
                      Reported("c1", Res({{"cpu", "6"}}), Res({{"cpu", "5"}}), Res({{"cpu", "8"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = Res({{"cpu", "6"}}),
       .want_limits = Res({{"cpu", "8"}})},
  });
}

// ---- Status resources (in-place resize), beyond upstream's tables ----

TEST(PodRequestsTest, StatusResources) {
  RunCases({
      // Actual requests win over allocated ones when both are reported.
      {.name = "actuated requests preferred over allocated for the actuated sum",
       .pod = PodBuilder()
                  .WithContainer("c1", Res({{"cpu", "1"}}))
                  .WithContainer("c2", Res({{"cpu", "1"}}))
                  .WithStatus(Reported("c1", Res({{"cpu", "4"}}), Res({{"cpu", "2"}})))
                  .WithStatus(Reported("c2", std::nullopt, Res({{"cpu", "6"}})))
                  .Build(),
       .options = StatusOpts(),
       // spec 2, allocated 4+1 = 5, actuated 2+6 = 8.
       .want_requests = Res({{"cpu", "8"}})},
      {.name = "allocated sum above spec and actuated",
       .pod = PodBuilder()
                  .WithContainer("c1", Res({{"cpu", "1"}}))
                  .WithContainer("c2", Res({{"cpu", "1"}}))
                  .WithStatus(Reported("c1", Res({{"cpu", "4"}}), Res({{"cpu", "2"}})))
                  .WithStatus(Reported("c2", Res({{"cpu", "3"}}), Res({{"cpu", "1"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = Res({{"cpu", "7"}})},
      {.name = "status of an unknown container is ignored",
       .pod = PodBuilder()
                  .WithContainer("c1", Res({{"cpu", "1"}}))
                  .WithStatus(Reported("other", Res({{"cpu", "9"}}), Res({{"cpu", "9"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = Res({{"cpu", "1"}})},
      // An explicitly empty actual-requests list is set; it does not fall back to allocated.
      {.name = "empty actual requests do not fall back to allocated",
       .pod = PodBuilder()
                  .WithContainer("c1", Res({{"cpu", "1"}}))
                  .WithContainer("c2", Res({{"cpu", "1"}}))
                  .WithStatus(Reported("c1", Res({{"cpu", "1"}}), ResourceList{}))
                  .WithStatus(Reported("c2", Res({{"cpu", "1"}}), Res({{"cpu", "3"}})))
                  .Build(),
       .options = StatusOpts(),
       // spec 2, allocated 2, actuated 0+3 = 3.
       .want_requests = Res({{"cpu", "3"}})},
      {.name = "status of a non-restartable init container counts in its own slot",
       .pod = PodBuilder()
                  .WithInit("i1", Res({{"cpu", "1"}}))
                  .WithContainer("c1", Res({{"cpu", "1"}}))
                  .WithInitStatus(Reported("i1", Res({{"cpu", "5"}})))
                  .Build(),
       .options = StatusOpts(),
       .want_requests = Res({{"cpu", "5"}})},
      // The scheduler's defaults: status resources on, pod-level resources on, overhead in.
      {.name = "default options use status and pod-level resources",
       .pod = PodBuilder()
                  .WithContainer("c1", Res({{"cpu", "1"}, {"memory", "1Gi"}}))
                  .WithStatus(Reported("c1", Res({{"cpu", "2"}, {"memory", "1Gi"}})))
                  .WithPodResources(Res({{"memory", "2Gi"}}))
                  .WithOverhead(Res({{"memory", "1Mi"}}))
                  .Build(),
       .options = PodResourcesOptions{},
       .want_requests = Res({{"cpu", "2"}, {"memory", "2049Mi"}})},
  });
}

// ---- NonMissingContainerRequests (TestPodRequestsAndLimitsVerticalScalingWrappers and the
// scorers' use of cpu 100m / memory 200Mi) ----

TEST(PodRequestsTest, NonMissingContainerRequests) {
  const ResourceList scorer_defaults = Res({{"cpu", "100m"}, {"memory", "200Mi"}});
  RunCases({
      {.name = "non missing container requests applied to init container",
       .pod = PodBuilder().WithInit("i1", Res({{"cpu", "1"}})).Build(),
       .options = NonMissingOpts(Res({{"memory", "100Mi"}})),
       .want_requests = Res({{"cpu", "1"}, {"memory", "100Mi"}}),
       .want_limits = ResourceList{}},
      {.name = "non missing container requests applied to regular container",
       .pod = PodBuilder().WithContainer("c1", Res({{"cpu", "1"}})).Build(),
       .options = NonMissingOpts(Res({{"memory", "100Mi"}})),
       .want_requests = Res({{"cpu", "1"}, {"memory", "100Mi"}}),
       .want_limits = ResourceList{}},
      {.name = "each container without a request gets the default",
       .pod = PodBuilder().WithContainer("c1", {}).WithContainer("c2", Res({{"cpu", "1"}})).Build(),
       .options = NonMissingOpts(scorer_defaults),
       .want_requests = Res({{"cpu", "1100m"}, {"memory", "400Mi"}})},
      {.name = "an explicit zero request is kept",
       .pod = PodBuilder().WithContainer("c1", Res({{"cpu", "0"}, {"memory", "0"}})).Build(),
       .options = NonMissingOpts(scorer_defaults),
       .want_requests = Res({{"cpu", "0"}, {"memory", "0"}})},
      {.name = "defaults count in the sidecar formula",
       .pod = PodBuilder()
                  .WithSidecar("s1", {})
                  .WithInit("i1", Res({{"cpu", "150m"}}))
                  .WithContainer("c1", {})
                  .Build(),
       .options = NonMissingOpts(scorer_defaults),
       // Regular + sidecar: 200m / 400Mi; init i1 with the sidecar: 250m / 400Mi.
       .want_requests = Res({{"cpu", "250m"}, {"memory", "400Mi"}})},
      {.name = "defaults never reach the limits",
       .pod = PodBuilder().WithContainer("c1", {}, Res({{"cpu", "1"}})).Build(),
       .options = NonMissingOpts(scorer_defaults),
       .want_requests = scorer_defaults,
       .want_limits = Res({{"cpu", "1"}})},
      {.name = "pod-level requests override the defaults",
       .pod = PodBuilder().WithPodResources(Res({{"cpu", "2"}})).WithContainer("c1", {}).Build(),
       .options = NonMissingOpts(scorer_defaults),
       .want_requests = Res({{"cpu", "2"}, {"memory", "200Mi"}})},
      {.name = "defaults apply to the status lists too",
       .pod = PodBuilder()
                  .WithContainer("c1", Res({{"cpu", "1"}, {"memory", "100Mi"}}))
                  .WithStatus(Reported("c1", Res({{"cpu", "2"}})))
                  .Build(),
       .options =
           [&] {
             PodResourcesOptions options = NonMissingOpts(scorer_defaults);
             options.use_status_resources = true;
             return options;
           }(),
       // The allocated list lacks memory, so it counts 200Mi, above the spec's 100Mi.
       .want_requests = Res({{"cpu", "2"}, {"memory", "200Mi"}})},
  });
}

// ---- QoS: TestComputePodQOS ----

ResourceList CpuMem(const char* cpu, const char* memory) {
  return Res({{"cpu", cpu}, {"memory", memory}});
}

struct Requirements {
  ResourceList requests;
  ResourceList limits;
};

struct QosCase {
  std::string name = "";
  Pod pod = {};
  QosClass want = QosClass::kBestEffort;
};

Pod PodOf(const std::vector<Requirements>& containers,
          const std::vector<Requirements>& init_containers = {}) {
  PodBuilder builder;
  for (const Requirements& r : containers) builder.WithContainer("", r.requests, r.limits);
  for (const Requirements& r : init_containers) builder.WithInit("", r.requests, r.limits);
  return builder.Build();
}

void RunQosCases(const std::vector<QosCase>& cases) {
  for (const QosCase& tc : cases) {
    SCOPED_TRACE(tc.name);
    EXPECT_STREQ(QosClassName(ComputeQosClass(tc.pod)), QosClassName(tc.want));
  }
}

// The PodLevelResources and PodLevelResourcesFixKubeletQOSClass gates are on in the reference
// release; upstream's gate-off variants ("-pod-no-plr", "-old-behavior", "-fix-disabled") are not
// ported. Neither is "guaranteed-ephemeral": the model has no ephemeral containers.
TEST(QosClassTest, ComputePodQos) {
  const Requirements guaranteed = {
      // An ephemeral-storage request does not affect QoS.
      Res({{"cpu", "100m"}, {"memory", "100Mi"}, {"ephemeral-storage", "10Gi"}}),
      CpuMem("100m", "100Mi")};
  const std::vector<Requirements> best_effort = {
      {{}, {}},
      {CpuMem("0", "0"), {}},
      {CpuMem("0", "0"), CpuMem("0", "0")},
      {Res({{"cpu", "0"}, {"memory", "0"}}), {}},
      {Res({{"ephemeral-storage", "10Gi"}}), {}},
      {Res({{"ephemeral-storage", "10Gi"}}), Res({{"ephemeral-storage", "10Gi"}})},
  };
  const std::vector<Requirements> burstable = {
      {CpuMem("100m", "100Mi"), CpuMem("200m", "200Mi")},
      {CpuMem("100m", "100Mi"), CpuMem("100m", "200Mi")},
      {CpuMem("100m", "100Mi"), CpuMem("200m", "100Mi")},
      {CpuMem("100m", "100Mi"), {}},
      {CpuMem("100m", "100Mi"), Res({{"cpu", "100m"}})},
  };

  struct Single {
    std::string name;
    Requirements requirements;
    QosClass want;
  };
  std::vector<Single> singles = {{"guaranteed", guaranteed, QosClass::kGuaranteed}};
  for (size_t i = 0; i < best_effort.size(); ++i) {
    singles.push_back({absl::StrCat("best-effort-", i), best_effort[i], QosClass::kBestEffort});
  }
  for (size_t i = 0; i < burstable.size(); ++i) {
    singles.push_back({absl::StrCat("burstable-", i), burstable[i], QosClass::kBurstable});
  }

  std::vector<QosCase> cases;
  for (const Single& s : singles) {
    cases.push_back({.name = s.name, .pod = PodOf({s.requirements}), .want = s.want});
  }

  struct Pair {
    std::string name;
    Requirements first;
    Requirements second;
    QosClass want;
  };
  std::vector<Pair> pairs = {
      {"2c-guaranteed", guaranteed, guaranteed, QosClass::kGuaranteed},
      {"2c-best-effort", best_effort[0], best_effort[1], QosClass::kBestEffort},
      {"2c-burstable", burstable[0], burstable[1], QosClass::kBurstable},
  };
  const std::vector<Requirements> firsts = {guaranteed, best_effort[0], burstable[0]};
  const std::vector<Requirements> seconds = {guaranteed, best_effort[1], burstable[1]};
  for (size_t i = 0; i < firsts.size(); ++i) {
    for (size_t j = 0; j < seconds.size(); ++j) {
      if (i == j) continue;
      pairs.push_back({absl::StrCat("2c-mixed-burstable-", i, "-", j), firsts[i], seconds[j],
                       QosClass::kBurstable});
    }
  }
  for (const Pair& p : pairs) {
    cases.push_back({.name = p.name, .pod = PodOf({p.first, p.second}), .want = p.want});
    // The second container as an init container gives the same class.
    cases.push_back(
        {.name = p.name + "-init", .pod = PodOf({p.first}, {p.second}), .want = p.want});
  }

  // Variant 1: a guaranteed container with the single case's requirements at pod level; pod-level
  // resources decide only when they set cpu, memory or hugepages.
  for (const Single& s : singles) {
    Pod pod = PodOf({guaranteed});
    pod.resources = PodResources{s.requirements.requests, s.requirements.limits};
    bool pod_level_set = false;
    for (const ResourceList* list : {&s.requirements.requests, &s.requirements.limits}) {
      pod_level_set = pod_level_set || list->contains("cpu") || list->contains("memory");
    }
    cases.push_back({.name = "pod-" + s.name + "-plr" + (pod_level_set ? "" : "-fallback"),
                     .pod = pod,
                     .want = pod_level_set ? s.want : QosClass::kGuaranteed});
  }

  const Requirements guaranteed_container = {CpuMem("100m", "100Mi"), CpuMem("100m", "100Mi")};
  auto with_pod_level = [&](std::optional<Requirements> pod_level,
                            Requirements container = Requirements{}) {
    Pod pod = PodOf({container});
    if (pod_level.has_value()) pod.resources = PodResources{pod_level->requests, pod_level->limits};
    return pod;
  };
  cases.push_back({.name = "empty-pod-level-resources-should-fallback-to-containers",
                   .pod = with_pod_level(Requirements{}, guaranteed_container),
                   .want = QosClass::kGuaranteed});
  cases.push_back({.name = "nil-pod-level-resources-should-fallback-to-containers",
                   .pod = with_pod_level(std::nullopt, guaranteed_container),
                   .want = QosClass::kGuaranteed});
  cases.push_back({.name = "zero-pod-level-resources-should-not-fallback-to-containers",
                   .pod = with_pod_level(Requirements{CpuMem("0", "0"), CpuMem("0", "0")},
                                         guaranteed_container),
                   .want = QosClass::kBestEffort});
  cases.push_back({.name = "guaranteed-with-pod-level-resources-and-hugepages",
                   .pod = with_pod_level(Requirements{
                       Res({{"cpu", "10m"}, {"memory", "100Mi"}, {"hugepages-2Mi", "100Mi"}}),
                       Res({{"cpu", "10m"}, {"memory", "100Mi"}, {"hugepages-2Mi", "100Mi"}})}),
                   .want = QosClass::kGuaranteed});
  cases.push_back(
      {.name = "burstable-with-pod-level-resources-and-hugepages",
       .pod = with_pod_level(Requirements{Res({{"cpu", "10m"}, {"hugepages-2Mi", "100Mi"}}),
                                          Res({{"hugepages-2Mi", "100Mi"}})}),
       .want = QosClass::kBurstable});
  // Hugepages alone count as pod-level resources set, and hugepages do not count for QoS.
  cases.push_back({.name = "hugepages-only-pod-level-resources-do-not-fallback",
                   .pod = with_pod_level(Requirements{Res({{"hugepages-2Mi", "100Mi"}}),
                                                      Res({{"hugepages-2Mi", "100Mi"}})},
                                         guaranteed_container),
                   .want = QosClass::kBestEffort});
  cases.push_back({.name = "no-containers", .pod = Pod{}, .want = QosClass::kBestEffort});

  RunQosCases(cases);
}

// ---- TestIsPodLevelResourcesSet, observed through ComputeQosClass: a guaranteed container
// decides unless pod-level resources set a supported resource ----

TEST(QosClassTest, PodLevelResourcesSet) {
  const ResourceList guaranteed = CpuMem("100m", "100Mi");
  auto pod = [&](std::optional<PodResources> pod_level) {
    Pod p = PodBuilder().WithContainer("c", guaranteed, guaranteed).Build();
    p.resources = std::move(pod_level);
    return p;
  };
  RunQosCases({
      {.name = "nil resources struct", .pod = pod(std::nullopt), .want = QosClass::kGuaranteed},
      {.name = "empty resources struct", .pod = pod(PodResources{}), .want = QosClass::kGuaranteed},
      {.name = "only unsupported resource requests set",
       .pod = pod(PodResources{Res({{"ephemeral-storage", "1Mi"}}), {}}),
       .want = QosClass::kGuaranteed},
      {.name = "only unsupported resource limits set",
       .pod = pod(PodResources{{}, Res({{"ephemeral-storage", "1Mi"}})}),
       .want = QosClass::kGuaranteed},
      {.name = "unsupported and suported resources requests set",
       .pod = pod(PodResources{Res({{"ephemeral-storage", "1Mi"}, {"cpu", "1m"}}), {}}),
       .want = QosClass::kBurstable},
      {.name = "unsupported and suported resources limits set",
       .pod = pod(PodResources{{}, Res({{"ephemeral-storage", "1Mi"}, {"cpu", "1m"}})}),
       .want = QosClass::kBurstable},
  });
}

TEST(QosClassTest, Names) {
  EXPECT_STREQ(QosClassName(QosClass::kGuaranteed), "Guaranteed");
  EXPECT_STREQ(QosClassName(QosClass::kBurstable), "Burstable");
  EXPECT_STREQ(QosClassName(QosClass::kBestEffort), "BestEffort");
}

}  // namespace
}  // namespace sextant
