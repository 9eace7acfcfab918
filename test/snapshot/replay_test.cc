#include "sextant/replay.h"

#include <cstdio>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "testing/dra_builders.h"

namespace sextant {
namespace {

using ::testing::HasSubstr;

Quantity Q(const char* text) { return *Quantity::Parse(text); }

Node MakeNode(const std::string& name, const char* cpu) {
  Node node;
  node.name = name;
  node.allocatable = {{"cpu", Q(cpu)}, {"memory", Q("16Gi")}, {"pods", Q("110")}};
  return node;
}

Pod Pending(const std::string& name, const char* cpu, int32_t priority, int64_t created) {
  Pod pod;
  pod.name_space = "default";
  pod.name = name;
  pod.phase = "Pending";
  pod.priority = priority;
  pod.creation_unix_nanos = created;
  Container c;
  c.name = "c";
  c.requests["cpu"] = Q(cpu);
  pod.containers.push_back(c);
  return pod;
}

TEST(ReplayTest, QueueOrderIsPriorityThenCreationThenInput) {
  std::vector<Pod> pods = {Pending("low-old", "1", 10, 1), Pending("high-new", "1", 100, 9),
                           Pending("low-new", "1", 10, 5), Pending("high-old", "1", 100, 2),
                           Pending("low-old-2", "1", 10, 1)};
  SortByQueueOrder(pods);
  std::vector<std::string> names;
  for (const Pod& p : pods) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"high-old", "high-new", "low-old", "low-old-2",
                                             "low-new"}));
}

TEST(ReplayTest, BindsEachPodBeforeTheNext) {
  Snapshot snapshot;
  snapshot.nodes = {MakeNode("a", "2"), MakeNode("b", "2")};
  // Three 1.5-cpu pods on two 2-cpu nodes: the third cannot fit once the first two are bound.
  snapshot.pods = {Pending("p1", "1500m", 0, 1), Pending("p2", "1500m", 0, 2),
                   Pending("p3", "1500m", 0, 3)};
  auto report = Replay(snapshot, ReplayOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->placed, 2);
  EXPECT_EQ(report->unschedulable, 1);
  EXPECT_NE(report->outcomes[0].node, report->outcomes[1].node);
  // Upstream's FitError with PostFilter's message: equal priorities leave nothing to preempt.
  const std::string message =
      "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: "
      "2 No preemption victims found for incoming pod.";
  EXPECT_EQ(report->outcomes[2].message, message);
  EXPECT_EQ(report->unschedulable_messages.at(message), 1);
  EXPECT_TRUE(report->preemptions.empty());
}

// A pod whose claim does not exist waits with upstream's reason, and nothing is preempted for it
// (DynamicResources' PreFilter rejection is unresolvable).
TEST(ReplayTest, PodWithMissingClaimWaitsWithReason) {
  Snapshot snapshot;
  snapshot.nodes = {MakeNode("a", "2"), MakeNode("b", "2")};
  snapshot.pods = {Pending("plain", "1", 0, 1), Pending("trainer", "1", 1000, 2)};
  snapshot.pods[1].resource_claims = {PodResourceClaim{"gpus", "gpus-claim", std::nullopt}};
  auto report = Replay(snapshot, ReplayOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->placed, 1);
  EXPECT_EQ(report->unschedulable, 1);
  const auto& refused = report->outcomes[0].pod_key == "default/trainer" ? report->outcomes[0]
                                                                      : report->outcomes[1];
  EXPECT_TRUE(refused.node.empty());
  EXPECT_EQ(refused.message,
            "0/2 nodes are available: could not find ResourceClaim \"default/gpus-claim\". "
            "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.");
  EXPECT_TRUE(report->preemptions.empty());
}

// Claims are allocated where their pods land, and the devices they take are gone for the next
// pod: two pods asking for 3 of a node's 4 GPUs end up on different nodes; a third waits.
TEST(ReplayTest, ClaimsAreAllocatedOnThePodsNode) {
  Snapshot snapshot;
  snapshot.nodes = {MakeNode("a", "8"), MakeNode("b", "8")};
  snapshot.device_classes = {testutil::DriverClass("gpu")};
  snapshot.resource_slices = {testutil::GpuSlice("a", 4), testutil::GpuSlice("b", 4)};
  for (int i = 0; i < 3; ++i) {
    std::string name = absl::StrCat("trainer-", i);
    snapshot.resource_claims.push_back(testutil::GpuClaim("default", name + "-gpus", 3));
    Pod pod = Pending(name, "1", 0, i);
    pod.uid = name;
    pod.resource_claims = {testutil::ClaimRef("gpus", name + "-gpus")};
    snapshot.pods.push_back(pod);
  }
  auto report = Replay(snapshot, ReplayOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->outcomes.size(), 3u);
  EXPECT_EQ(report->placed, 2);
  EXPECT_NE(report->outcomes[0].node, report->outcomes[1].node);
  for (int i = 0; i < 2; ++i) {
    const PodOutcome& o = report->outcomes[i];
    ASSERT_EQ(o.devices.size(), 3u) << o.pod_key;
    EXPECT_EQ(o.devices[0], absl::StrCat("default/trainer-", i, "-gpus: gpu.example.com/", o.node,
                                         "/gpu-0"));
  }
  EXPECT_EQ(report->outcomes[2].message,
            "0/2 nodes are available: 2 cannot allocate all claims. preemption: 0/2 nodes are "
            "available: 2 Preemption is not helpful for scheduling.");
}

// The seeds' case: low-priority pods fill the cluster, then a high-priority Guaranteed pod
// arrives, evicts exactly one pod and takes its place; the report lists the preemption.
TEST(ReplayTest, HighPriorityGuaranteedPodPreemptsExactlyOne) {
  Snapshot snapshot;
  snapshot.nodes = {MakeNode("a", "2"), MakeNode("b", "2")};
  for (int i = 0; i < 4; ++i) snapshot.pods.push_back(Pending("batch-" + std::to_string(i), "1", 0, i));
  Pod critical = Pending("inference", "1", 1000, 10);
  critical.containers[0].requests["memory"] = Q("1Gi");
  critical.containers[0].limits = critical.containers[0].requests;
  snapshot.pods.push_back(critical);
  // Queue order puts the critical pod first; make it arrive last by giving the batch pods
  // the cluster before the replay: bind them.
  for (int i = 0; i < 4; ++i) {
    snapshot.pods[i].node_name = i < 2 ? "a" : "b";
    snapshot.pods[i].phase = "Running";
    snapshot.pods[i].start_unix_nanos = 100 + i;
  }
  auto report = Replay(snapshot, ReplayOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->placed, 1);
  ASSERT_EQ(report->preemptions.size(), 1u);
  const PreemptionRecord& p = report->preemptions[0];
  EXPECT_EQ(p.preemptor, "default/inference");
  ASSERT_EQ(p.victims.size(), 1u);
  // Both nodes tie on every criterion but the start time of their victims: b's started later.
  EXPECT_EQ(p.node, "b");
  EXPECT_EQ(p.victims[0], "default/batch-3");
  EXPECT_EQ(report->outcomes[0].node, "b");
  EXPECT_EQ(report->evicted, 1);
  EXPECT_THAT(FormatReplaySummary(*report),
              HasSubstr("default/inference (priority 1000) -> b, evicting default/batch-3"));
  auto json = nlohmann::json::parse(ReplayReportJson(*report));
  EXPECT_EQ(json["preemptions"][0]["victims"][0], "default/batch-3");

  ReplayOptions off;
  off.preemption = false;
  report = Replay(snapshot, off);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->placed, 0);
  EXPECT_EQ(report->outcomes[0].message, "0/2 nodes are available: 2 Insufficient cpu.");
}

TEST(ReplayTest, ResolvesPriorityFromPriorityClasses) {
  Snapshot snapshot;
  snapshot.nodes = {MakeNode("a", "1")};
  snapshot.priority_classes = {{"critical", 1000, false}, {"default", 5, true}};
  Pod by_class = Pending("by-class", "1", 0, 2);
  by_class.priority.reset();
  by_class.priority_class_name = "critical";
  Pod by_default = Pending("by-default", "1", 0, 1);
  by_default.priority.reset();
  snapshot.pods = {by_default, by_class};
  auto report = Replay(snapshot, ReplayOptions{});
  ASSERT_TRUE(report.ok()) << report.status();
  // Only one fits: the critical one goes first although it was created later.
  EXPECT_EQ(report->outcomes[0].pod_key, "default/by-class");
  EXPECT_EQ(report->outcomes[0].priority, 1000);
  EXPECT_EQ(report->outcomes[0].node, "a");
  EXPECT_EQ(report->outcomes[1].priority, 5);
  EXPECT_TRUE(report->outcomes[1].node.empty());
}

TEST(ReplayTest, SchedulerNameRestrictsThePods) {
  Snapshot snapshot;
  snapshot.nodes = {MakeNode("a", "4")};
  Pod mine = Pending("mine", "1", 0, 1);
  mine.scheduler_name = "sextant";
  snapshot.pods = {mine, Pending("other", "1", 0, 2)};
  ReplayOptions options;
  options.scheduler_name = "sextant";
  auto report = Replay(snapshot, options);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->outcomes.size(), 1u);
  EXPECT_EQ(report->outcomes[0].pod_key, "default/mine");
}

TEST(ReplayTest, InvalidProfileIsRejected) {
  ReplayOptions options;
  options.profile.fit_scoring.resources.clear();
  EXPECT_EQ(Replay(Snapshot{}, options).status().code(), absl::StatusCode::kInvalidArgument);
}

class BundledSnapshotTest : public ::testing::Test {
 protected:
  static std::string Path() {
    return std::string(SEXTANT_SOURCE_DIR) + "/test/data/snapshots/default.json";
  }
};

TEST_F(BundledSnapshotTest, ReplayIsDeterministicAndExplainsPendingPods) {
  auto snapshot = ReadSnapshotFile(Path());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ReplayOptions options;
  options.seed = 7;
  auto first = Replay(*snapshot, options);
  options.profile.parallelism = 2;
  options.profile.min_nodes_for_parallelism = 1;
  auto second = Replay(*snapshot, options);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_EQ(first->outcomes.size(), second->outcomes.size());
  for (size_t i = 0; i < first->outcomes.size(); ++i) {
    EXPECT_EQ(first->outcomes[i].node, second->outcomes[i].node) << first->outcomes[i].pod_key;
  }
  EXPECT_GE(first->nodes, 250);
  EXPECT_GT(first->placed, first->pending_pods / 2);
  EXPECT_GT(first->unschedulable, 0);
  std::string all_messages;
  for (const auto& [message, count] : first->unschedulable_messages) all_messages += message;
  EXPECT_THAT(all_messages, HasSubstr("node(s) had untolerated taint(s)"));
  EXPECT_THAT(all_messages, HasSubstr("node(s) didn't match Pod's node affinity/selector"));
  // No node ends over its allocatable.
  for (const NodeUtilisation& u : first->utilisation) {
    EXPECT_LE(u.cpu_requested_millis, u.cpu_allocatable_millis) << u.name;
    EXPECT_LE(u.memory_requested_bytes, u.memory_allocatable_bytes) << u.name;
    EXPECT_LE(u.pods, u.allowed_pods) << u.name;
    for (const auto& [name, values] : u.scalars) EXPECT_LE(values.first, values.second) << u.name;
  }
}

TEST_F(BundledSnapshotTest, CommandWritesSummaryAndJsonReport) {
  std::string out = ::testing::TempDir() + "/replay-report.json";
  std::string command = std::string(SEXTANT_BINARY) + " replay " + Path() + " --out " + out +
                        " > " + ::testing::TempDir() + "/replay-stdout.txt";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::ifstream in(out);
  nlohmann::json report = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(report.is_discarded());
  EXPECT_EQ(report["placed"].get<int64_t>() + report["unschedulable"].get<int64_t>(),
            report["pendingPods"].get<int64_t>());
  EXPECT_EQ(report["pods"].size(), report["pendingPods"].get<size_t>());
  EXPECT_TRUE(report["pods"][0].contains("qosClass"));
  std::ifstream summary(::testing::TempDir() + "/replay-stdout.txt");
  std::string text((std::istreambuf_iterator<char>(summary)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("pods/s"));
  EXPECT_THAT(text, HasSubstr("unschedulable pods by reason"));
}

TEST_F(BundledSnapshotTest, CommandRejectsMalformedSnapshotNamingTheField) {
  std::string bad = ::testing::TempDir() + "/bad-snapshot.json";
  std::ofstream(bad) << R"({"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1",
      "kind":"Node","metadata":{"name":"n1"},"status":{"allocatable":{"cpu":"lots"}}}]})";
  std::string err = ::testing::TempDir() + "/bad-stderr.txt";
  std::string command = std::string(SEXTANT_BINARY) + " replay " + bad + " 2> " + err;
  int rc = std::system(command.c_str());
  EXPECT_NE(rc, 0);
  std::ifstream in(err);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("Node \"n1\""));
  EXPECT_THAT(text, HasSubstr("status.allocatable.cpu"));
}

}  // namespace
}  // namespace sextant
