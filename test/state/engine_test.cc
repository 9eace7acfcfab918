#include "sextant/engine.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "state/node_info.h"

namespace sextant {
namespace {

Quantity Q(const char* text) { return *Quantity::Parse(text); }

Node MakeNode(const std::string& name, const char* cpu) {
  Node node;
  node.name = name;
  node.allocatable = {{"cpu", Q(cpu)}, {"memory", Q("16Gi")}, {"pods", Q("110")}};
  return node;
}

Pod MakePod(const std::string& name, const char* cpu, const std::string& node_name = "") {
  Pod pod;
  pod.name_space = "default";
  pod.name = name;
  pod.node_name = node_name;
  pod.phase = node_name.empty() ? "Pending" : "Running";
  Container c;
  c.name = "c";
  c.requests["cpu"] = Q(cpu);
  pod.containers.push_back(c);
  return pod;
}

EngineOptions Options() {
  EngineOptions options;
  options.epoch = "e1";
  options.profile.parallelism = 1;
  return options;
}

// The chosen node name, or the FitError text.
std::string Place(Engine& engine, const Pod& pod, uint64_t min_sequence = 0) {
  std::string out;
  absl::Status status = engine.Evaluate(pod, min_sequence, "", absl::ZeroDuration(),
                                        [&](const Evaluation& e, const ClusterState& state) {
                                          out = e.chosen ? state.node(e.verdicts[*e.chosen].node).node->name
                                                         : e.FitErrorMessage();
                                        });
  if (!status.ok()) return std::string(status.message());
  return out;
}

TEST(EngineTest, EvaluateBeforeAnySnapshotIsUnavailable) {
  Engine engine(Options());
  absl::Status status = engine.Evaluate(MakePod("p", "1"), 0, "", absl::ZeroDuration(),
                                        [](const Evaluation&, const ClusterState&) {});
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(engine.synced());
}

TEST(EngineTest, DeltasApplyOnlyInSequence) {
  Engine engine(Options());
  ASSERT_TRUE(engine.ApplySnapshot(10, {MakeNode("a", "1")}).ok());
  EXPECT_EQ(engine.applied_sequence(), 10u);
  EXPECT_EQ(Place(engine, MakePod("p", "2")), "0/1 nodes are available: 1 Insufficient cpu.");

  // A gap and a duplicate are refused and change nothing.
  EXPECT_EQ(engine.ApplyDelta(12, {MakeNode("b", "4")}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine.ApplyDelta(10, {MakeNode("b", "4")}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine.applied_sequence(), 10u);
  EXPECT_EQ(Place(engine, MakePod("p", "2")), "0/1 nodes are available: 1 Insufficient cpu.");

  ASSERT_TRUE(engine.ApplyDelta(11, {MakeNode("b", "4")}).ok());
  EXPECT_EQ(engine.applied_sequence(), 11u);
  EXPECT_EQ(Place(engine, MakePod("p", "2")), "b");
}

TEST(EngineTest, InvalidDeltaAppliesNothing) {
  Engine engine(Options());
  ASSERT_TRUE(engine.ApplySnapshot(1, {MakeNode("a", "4")}).ok());
  Pod nameless = MakePod("", "1", "a");
  absl::Status status = engine.ApplyDelta(2, {MakePod("first", "3", "a"), nameless});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("metadata.name"), std::string::npos);
  EXPECT_EQ(engine.applied_sequence(), 1u);
  // "first" was not applied either: 4 cpus are still free.
  EXPECT_EQ(Place(engine, MakePod("p", "4")), "a");
}

TEST(EngineTest, DeletesOfUnknownObjectsAreHarmless) {
  Engine engine(Options());
  ASSERT_TRUE(engine.ApplySnapshot(1, {MakeNode("a", "4")}).ok());
  ASSERT_TRUE(engine.ApplyDelta(2, {DeleteObject{DeleteObject::Kind::kPod, "default/ghost"},
                                    DeleteObject{DeleteObject::Kind::kNode, "ghost"}})
                  .ok());
  EXPECT_EQ(engine.applied_sequence(), 2u);
}

TEST(EngineTest, SnapshotRejectsDeletes) {
  Engine engine(Options());
  EXPECT_EQ(engine.ApplySnapshot(1, {DeleteObject{DeleteObject::Kind::kNode, "a"}}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(engine.synced());
}

TEST(EngineTest, StaleEvaluateWaitsThenAnswers) {
  Engine engine(Options());
  ASSERT_TRUE(engine.ApplySnapshot(1, {MakeNode("a", "1")}).ok());
  EXPECT_NE(Place(engine, MakePod("p", "2"), 2).find("stale"), std::string::npos);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(engine.ApplyDelta(2, {MakeNode("b", "4")}).ok());
  });
  std::string placed;
  absl::Status status = engine.Evaluate(MakePod("p", "2"), 2, "", absl::Seconds(10),
                                        [&](const Evaluation& e, const ClusterState& state) {
                                          ASSERT_TRUE(e.chosen);
                                          placed = state.node(e.verdicts[*e.chosen].node).node->name;
                                        });
  writer.join();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(placed, "b");
}

TEST(EngineTest, WrongEpochIsRefused) {
  Engine engine(Options());
  ASSERT_TRUE(engine.ApplySnapshot(1, {MakeNode("a", "4")}).ok());
  absl::Status status = engine.Evaluate(MakePod("p", "1"), 0, "old-epoch", absl::ZeroDuration(),
                                        [](const Evaluation&, const ClusterState&) {});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine.Assume(MakePod("p", "1"), "a", "old-epoch").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(Engine(EngineOptions{}).epoch(), Engine(EngineOptions{}).epoch());
}

TEST(EngineTest, AssumedPodsHoldResourcesUntilForgotten) {
  Engine engine(Options());
  ASSERT_TRUE(engine.ApplySnapshot(1, {MakeNode("a", "4")}).ok());
  ASSERT_TRUE(engine.Assume(MakePod("p", "3"), "a", "e1").ok());
  EXPECT_EQ(Place(engine, MakePod("q", "2")), "0/1 nodes are available: 1 Insufficient cpu.");
  ASSERT_TRUE(engine.Forget("default/p", "e1").ok());
  EXPECT_EQ(Place(engine, MakePod("q", "2")), "a");
}

TEST(EngineTest, ResyncKeepsInFlightAssumptions) {
  Engine engine(Options());
  ASSERT_TRUE(engine.ApplySnapshot(1, {MakeNode("a", "4")}).ok());
  ASSERT_TRUE(engine.Assume(MakePod("p", "3"), "a", "").ok());
  // A resync that does not yet show the binding keeps the assumption.
  ASSERT_TRUE(engine.ApplySnapshot(5, {MakeNode("a", "4")}).ok());
  EXPECT_EQ(Place(engine, MakePod("q", "2")), "0/1 nodes are available: 1 Insufficient cpu.");
  // One that shows it bound replaces the assumption, counted once.
  ASSERT_TRUE(engine.ApplySnapshot(6, {MakeNode("a", "4"), MakePod("p", "3", "a")}).ok());
  EXPECT_EQ(Place(engine, MakePod("q", "1")), "a");
  EXPECT_EQ(Place(engine, MakePod("q", "2")), "0/1 nodes are available: 1 Insufficient cpu.");
}

TEST(EngineTest, SnapshotScoringStrategyReplacesTheProfile) {
  Engine engine(Options());
  ScoringStrategy most;
  most.type = ScoringStrategyType::kMostAllocated;
  // A fuller node wins under MostAllocated, an emptier one under LeastAllocated.
  std::vector<ClusterChange> objects = {MakeNode("full", "4"), MakeNode("empty", "4"),
                                        MakePod("running", "3", "full")};
  ASSERT_TRUE(engine.ApplySnapshot(1, objects).ok());
  EXPECT_EQ(Place(engine, MakePod("p", "500m")), "empty");
  ASSERT_TRUE(engine.ApplySnapshot(2, objects, most).ok());
  EXPECT_EQ(Place(engine, MakePod("p", "500m")), "full");
  ScoringStrategy invalid;
  invalid.resources.clear();
  EXPECT_EQ(engine.ApplySnapshot(3, objects, invalid).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine.applied_sequence(), 2u);
}

TEST(EngineTest, ConcurrentEvaluationsDuringDeltas) {
  Engine engine(Options());
  std::vector<ClusterChange> nodes;
  for (int i = 0; i < 50; ++i) nodes.push_back(MakeNode("n" + std::to_string(i), "4"));
  ASSERT_TRUE(engine.ApplySnapshot(1, nodes).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        absl::Status s = engine.Evaluate(MakePod("p", "1"), 0, "", absl::ZeroDuration(),
                                         [&](const Evaluation& e, const ClusterState&) {
                                           EXPECT_TRUE(e.chosen.has_value());
                                         });
        EXPECT_TRUE(s.ok()) << s;
        ++answered;
      }
    });
  }
  while (answered == 0) std::this_thread::yield();  // readers are running before writes start
  for (uint64_t seq = 2; seq < 200; ++seq) {
    ASSERT_TRUE(engine.ApplyDelta(seq, {MakePod("r" + std::to_string(seq), "10m",
                                                "n" + std::to_string(seq % 50))})
                    .ok());
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(answered.load(), 0);
  EXPECT_EQ(engine.applied_sequence(), 199u);
}

}  // namespace
}  // namespace sextant
