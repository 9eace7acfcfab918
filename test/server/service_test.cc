// End-to-end tests of the gRPC service: a real EngineServer on a temporary unix socket, called
// through the generated stub.
#include "server/service.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/convert.h"
#include "server/health_client.h"
#include "server/server.h"
#include "spdlog/spdlog.h"
#include "testing/builders.h"
#include "testing/sync_requests.h"

namespace sextant::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testutil::Delete;
using testutil::Delta;
using testutil::Full;
using testutil::NodeBuilder;
using testutil::PodBuilder;
using testutil::PodChange;

constexpr char kEpoch[] = "test-epoch";

v1::Change NodeChange(const std::string& name, std::string_view cpu) {
  v1::Change change;
  ToProto(ClusterChange(NodeBuilder(name)
                            .Allocatable({{"cpu", cpu}, {"memory", "32Gi"}, {"pods", "110"}})
                            .Build()),
          &change);
  return change;
}

v1::Change DeleteNode(const std::string& name) { return Delete(v1::ObjectRef::NODE, "", name); }

v1::Pod PodProto(const std::string& name, std::string_view cpu, const std::string& node = "") {
  PodBuilder builder("default", name);
  builder.Container({{"cpu", cpu}, {"memory", "1Gi"}});
  if (!node.empty()) builder.NodeName(node).Phase("Running");
  v1::Pod pod;
  ToProto(builder.Build(), &pod);
  return pod;
}

// One Sync stream; each Send writes a request and reads its answer.
class SyncStream {
 public:
  explicit SyncStream(v1::Engine::Stub* stub) : stream_(Open(stub, &context_)) {}
  ~SyncStream() {
    if (finished_) return;
    stream_->WritesDone();
    v1::SyncResponse ignored;
    while (stream_->Read(&ignored)) {
    }
    stream_->Finish();
  }

  v1::SyncResponse Send(const v1::SyncRequest& request) {
    v1::SyncResponse response;
    EXPECT_TRUE(stream_->Write(request));
    EXPECT_TRUE(stream_->Read(&response)) << "the stream ended: " << Finish().error_message();
    return response;
  }

  // Sends a request the server must refuse; returns the status the stream ended with.
  grpc::Status SendAndFinish(const v1::SyncRequest& request) {
    stream_->Write(request);
    v1::SyncResponse response;
    if (stream_->Read(&response)) {
      ADD_FAILURE() << "unexpected answer " << response.ShortDebugString();
      context_.TryCancel();  // so that Finish returns rather than waits for the server
      while (stream_->Read(&response)) {
      }
    }
    return Finish();
  }

 private:
  // A deadline keeps a broken server from hanging the test.
  static std::unique_ptr<grpc::ClientReaderWriter<v1::SyncRequest, v1::SyncResponse>> Open(
      v1::Engine::Stub* stub, grpc::ClientContext* context) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return stub->Sync(context);
  }

  grpc::Status Finish() {
    finished_ = true;
    return stream_->Finish();
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SyncRequest, v1::SyncResponse>> stream_;
  bool finished_ = false;
};

struct EvaluateResult {
  grpc::Status status;
  v1::EvaluateResponse response;
  absl::Duration elapsed;

  // The chosen node, the fit error, or the status message.
  std::string Outcome() const {
    if (!status.ok()) return status.error_message();
    return response.chosen_node().empty() ? response.fit_error() : response.chosen_node();
  }
};

std::string TempSocketPath() {
  static std::atomic<int> counter{0};
  return absl::StrCat(::testing::TempDir(), "sx-service-", getpid(), "-", counter++, ".sock");
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    EngineOptions options;
    options.epoch = kEpoch;
    options.profile.parallelism = 1;
    engine_ = std::make_unique<Engine>(options);
    ServerOptions server_options;
    server_options.listen = "unix:" + TempSocketPath();
    absl::StatusOr<std::unique_ptr<EngineServer>> server =
        EngineServer::Start(engine_.get(), server_options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::Engine::NewStub(channel_);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(absl::ZeroDuration());
  }

  EvaluateResult Evaluate(const v1::Pod& pod, uint64_t min_sequence = 0,
                          const std::string& epoch = "",
                          absl::Duration deadline = absl::Seconds(5)) {
    v1::EvaluateRequest request;
    *request.mutable_pod() = pod;
    request.set_min_sequence(min_sequence);
    request.set_epoch(epoch);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    EvaluateResult result;
    const absl::Time start = absl::Now();
    result.status = stub_->Evaluate(&context, request, &result.response);
    result.elapsed = absl::Now() - start;
    return result;
  }

  // Two nodes: small (1 cpu) and big (4 cpu), at sequence 1.
  void SyncTwoNodes(SyncStream& sync) {
    v1::SyncResponse r = sync.Send(Full(1, {NodeChange("small", "1"), NodeChange("big", "4")}));
    ASSERT_EQ(r.applied_sequence(), 1u);
  }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<EngineServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Engine::Stub> stub_;
};

TEST_F(ServiceTest, FullSnapshotThenEvaluate) {
  SyncStream sync(stub_.get());
  v1::SyncResponse synced = sync.Send(Full(1, {NodeChange("small", "1"), NodeChange("big", "4"),
                                               PodChange(PodProto("running", "500m", "big"))}));
  EXPECT_EQ(synced.epoch(), kEpoch);
  EXPECT_EQ(synced.applied_sequence(), 1u);
  EXPECT_FALSE(synced.resync_required());

  EvaluateResult r = Evaluate(PodProto("web", "2"), 1, kEpoch);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.response.epoch(), kEpoch);
  EXPECT_EQ(r.response.applied_sequence(), 1u);
  EXPECT_EQ(r.response.chosen_node(), "big");
  EXPECT_EQ(r.response.feasible_nodes(), 1);
  EXPECT_EQ(r.response.qos_class(), "Burstable");
  ASSERT_EQ(r.response.nodes_size(), 2);
  EXPECT_EQ(r.response.nodes(0).node(), "small");
  // 2 cpu exceed small's allocatable: no preemption could help.
  EXPECT_EQ(r.response.nodes(0).code(), v1::UNSCHEDULABLE_AND_UNRESOLVABLE);
  EXPECT_EQ(r.response.nodes(0).plugin(), "NodeResourcesFit");
  EXPECT_THAT(r.response.reasons(), ElementsAre("Insufficient cpu"));
  EXPECT_THAT(r.response.nodes(0).reason_ids(), ElementsAre(0));
  EXPECT_EQ(r.response.nodes(1).node(), "big");
  EXPECT_EQ(r.response.nodes(1).code(), v1::SUCCESS);
  EXPECT_EQ(r.response.nodes(1).plugin_scores_size(), kNumScorePlugins);

  // 3.5 cpu is left on big after the running pod: 4 cpu fits nowhere.
  r = Evaluate(PodProto("huge", "4"));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.response.chosen_node(), "");
  EXPECT_EQ(r.response.fit_error(), "0/2 nodes are available: 2 Insufficient cpu.");
  EXPECT_EQ(r.response.nodes(1).code(), v1::UNSCHEDULABLE);  // preempting "running" would help
}

TEST_F(ServiceTest, DeltasInSequenceApply) {
  SyncStream sync(stub_.get());
  sync.Send(Full(1, {NodeChange("small", "1")}));
  EXPECT_EQ(Evaluate(PodProto("web", "2"), 1).Outcome(),
            "0/1 nodes are available: 1 Insufficient cpu.");

  v1::SyncResponse r = sync.Send(Delta(2, {NodeChange("big", "4")}));
  EXPECT_FALSE(r.resync_required());
  EXPECT_EQ(r.applied_sequence(), 2u);
  EXPECT_EQ(Evaluate(PodProto("web", "2"), 2).Outcome(), "big");

  r = sync.Send(Delta(3, {DeleteNode("big"), PodChange(PodProto("filler", "1", "small"))}));
  EXPECT_EQ(r.applied_sequence(), 3u);
  EXPECT_EQ(Evaluate(PodProto("web", "500m"), 3).Outcome(),
            "0/1 nodes are available: 1 Insufficient cpu.");
}

TEST_F(ServiceTest, GapRequiresResyncAndAppliesNothing) {
  SyncStream sync(stub_.get());
  sync.Send(Full(1, {NodeChange("small", "1")}));
  v1::SyncResponse r = sync.Send(Delta(3, {NodeChange("big", "4")}));
  EXPECT_TRUE(r.resync_required());
  EXPECT_EQ(r.applied_sequence(), 1u);
  EXPECT_EQ(r.epoch(), kEpoch);
  EXPECT_EQ(Evaluate(PodProto("web", "2")).Outcome(),
            "0/1 nodes are available: 1 Insufficient cpu.");

  // The stream stays open: the shim resyncs with a full snapshot, then deltas go on from it.
  r = sync.Send(Full(10, {NodeChange("small", "1"), NodeChange("big", "4")}));
  EXPECT_FALSE(r.resync_required());
  EXPECT_EQ(r.applied_sequence(), 10u);
  r = sync.Send(Delta(11, {DeleteNode("small")}));
  EXPECT_FALSE(r.resync_required());
  EXPECT_EQ(r.applied_sequence(), 11u);
  EXPECT_EQ(Evaluate(PodProto("web", "2"), 11).Outcome(), "big");
}

TEST_F(ServiceTest, DuplicateSequenceRequiresResyncAndAppliesNothing) {
  SyncStream sync(stub_.get());
  sync.Send(Full(1, {NodeChange("small", "1")}));
  EXPECT_FALSE(sync.Send(Delta(2, {NodeChange("medium", "2")})).resync_required());
  v1::SyncResponse r = sync.Send(Delta(2, {NodeChange("big", "4")}));
  EXPECT_TRUE(r.resync_required());
  EXPECT_EQ(r.applied_sequence(), 2u);
  EXPECT_EQ(Evaluate(PodProto("web", "3")).Outcome(),
            "0/2 nodes are available: 2 Insufficient cpu.");
}

TEST_F(ServiceTest, DeltaBeforeAnySnapshotRequiresResync) {
  SyncStream sync(stub_.get());
  v1::SyncResponse r = sync.Send(Delta(1, {NodeChange("big", "4")}));
  EXPECT_TRUE(r.resync_required());
  EXPECT_EQ(r.applied_sequence(), 0u);
}

TEST_F(ServiceTest, MalformedDeltaEndsStreamAndChangesNothing) {
  {
    SyncStream sync(stub_.get());
    SyncTwoNodes(sync);
    v1::Pod bad = PodProto("bad", "1");
    (*bad.mutable_containers(0)->mutable_requests()->mutable_items())["cpu"] = "1.5.5";
    // A valid change first: the delta is all or nothing.
    grpc::Status status = sync.SendAndFinish(
        Delta(2, {NodeChange("huge", "64"), DeleteNode("small"), PodChange(bad)}));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(
        status.error_message(),
        HasSubstr("delta 2: Pod \"default/bad\": spec.containers[0].resources.requests.cpu: "));
  }
  EXPECT_EQ(engine_->applied_sequence(), 1u);
  EvaluateResult r = Evaluate(PodProto("web", "500m"), 1);
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.response.nodes_size(), 2);  // no "huge", "small" still there
  EXPECT_EQ(r.response.nodes(0).node(), "small");
  EXPECT_EQ(r.response.nodes(1).node(), "big");

  // A new stream carries on from the applied sequence.
  SyncStream again(stub_.get());
  EXPECT_FALSE(again.Send(Delta(2, {NodeChange("huge", "64")})).resync_required());
  EXPECT_EQ(Evaluate(PodProto("web", "32"), 2).Outcome(), "huge");
}

TEST_F(ServiceTest, MalformedSnapshotEndsStreamAndChangesNothing) {
  {
    SyncStream sync(stub_.get());
    SyncTwoNodes(sync);
    v1::Change taint = NodeChange("tainted", "8");
    auto* t = taint.mutable_upsert_node()->add_taints();
    t->set_key("gpu");
    t->set_effect("NoScheduel");
    grpc::Status status = sync.SendAndFinish(Full(5, {NodeChange("other", "8"), taint}));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(),
              "full snapshot 5: Node \"tainted\": spec.taints[0].effect: unknown taint effect "
              "\"NoScheduel\"");
  }
  EXPECT_EQ(engine_->applied_sequence(), 1u);
  EXPECT_EQ(Evaluate(PodProto("web", "2")).Outcome(), "big");
}

TEST_F(ServiceTest, SnapshotWithDeleteOrEmptyMessageIsInvalid) {
  {
    SyncStream sync(stub_.get());
    grpc::Status status = sync.SendAndFinish(Full(1, {NodeChange("big", "4"), DeleteNode("x")}));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message(),
              "full snapshot 1: objects[1]: a full snapshot holds upserts only, not deletes");
  }
  {
    SyncStream sync(stub_.get());
    grpc::Status status = sync.SendAndFinish(v1::SyncRequest());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(status.error_message(), HasSubstr("SyncRequest: message"));
  }
  EXPECT_FALSE(engine_->synced());
}

TEST_F(ServiceTest, SnapshotScoringStrategy) {
  SyncStream sync(stub_.get());
  sync.Send(Full(1, {NodeChange("medium", "4"), NodeChange("big", "8")}));
  EXPECT_EQ(Evaluate(PodProto("web", "2")).Outcome(), "big");  // LeastAllocated

  v1::SyncRequest most = Full(2, {NodeChange("medium", "4"), NodeChange("big", "8")});
  most.mutable_full()->mutable_scoring_strategy()->set_type("MostAllocated");
  EXPECT_EQ(sync.Send(most).applied_sequence(), 2u);
  EXPECT_EQ(Evaluate(PodProto("web", "2")).Outcome(), "medium");

  // RequestedToCapacityRatio needs a shape: refused by the engine, nothing applied.
  v1::SyncRequest bad = Full(3, {NodeChange("other", "4")});
  bad.mutable_full()->mutable_scoring_strategy()->set_type("RequestedToCapacityRatio");
  grpc::Status status = sync.SendAndFinish(bad);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "full snapshot 3: scoringStrategy.requestedToCapacityRatio.shape: at least one point "
            "is required");
  EXPECT_EQ(engine_->applied_sequence(), 2u);
  EXPECT_EQ(Evaluate(PodProto("web", "2")).Outcome(), "medium");
}

TEST_F(ServiceTest, EvaluateBeforeSnapshotIsUnavailable) {
  EvaluateResult r = Evaluate(PodProto("web", "1"), 0, "", absl::Milliseconds(300));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(r.status.error_message(), HasSubstr("no snapshot yet"));
}

TEST_F(ServiceTest, StaleEvaluateIsUnavailableWithinTheDeadline) {
  SyncStream sync(stub_.get());
  SyncTwoNodes(sync);
  EvaluateResult r = Evaluate(PodProto("web", "1"), 5, "", absl::Milliseconds(500));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE) << r.status.error_message();
  EXPECT_THAT(r.status.error_message(), HasSubstr("stale"));
  EXPECT_LT(r.elapsed, absl::Milliseconds(500));
  EXPECT_GT(r.elapsed, absl::Milliseconds(300));  // it did wait for the sequence
}

TEST_F(ServiceTest, StaleWaitIsCappedAtTwoSeconds) {
  SyncStream sync(stub_.get());
  SyncTwoNodes(sync);
  EvaluateResult r = Evaluate(PodProto("web", "1"), 5, "", absl::Seconds(8));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_GE(r.elapsed, absl::Milliseconds(1900));
  EXPECT_LT(r.elapsed, absl::Seconds(3));
}

TEST_F(ServiceTest, EvaluateWaitsForMinSequence) {
  SyncStream sync(stub_.get());
  sync.Send(Full(1, {NodeChange("small", "1")}));
  std::future<EvaluateResult> pending =
      std::async(std::launch::async, [this] { return Evaluate(PodProto("web", "2"), 2); });
  absl::SleepFor(absl::Milliseconds(200));
  sync.Send(Delta(2, {NodeChange("big", "4")}));
  EvaluateResult r = pending.get();
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.response.chosen_node(), "big");
  EXPECT_EQ(r.response.applied_sequence(), 2u);
  EXPECT_GE(r.elapsed, absl::Milliseconds(150));
}

TEST_F(ServiceTest, WrongEpochIsFailedPrecondition) {
  SyncStream sync(stub_.get());
  SyncTwoNodes(sync);
  EvaluateResult r = Evaluate(PodProto("web", "1"), 1, "another-epoch");
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(r.status.error_message(), HasSubstr("resync required"));

  grpc::ClientContext assume_context;
  v1::AssumeRequest assume;
  *assume.mutable_pod() = PodProto("web", "1");
  assume.set_node("big");
  assume.set_epoch("another-epoch");
  v1::AssumeResponse assumed;
  EXPECT_EQ(stub_->Assume(&assume_context, assume, &assumed).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  grpc::ClientContext forget_context;
  v1::ForgetRequest forget;
  forget.set_namespace_("default");
  forget.set_name("web");
  forget.set_epoch("another-epoch");
  v1::ForgetResponse forgotten;
  EXPECT_EQ(stub_->Forget(&forget_context, forget, &forgotten).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ServiceTest, InvalidPodIsInvalidArgument) {
  SyncStream sync(stub_.get());
  SyncTwoNodes(sync);
  v1::Pod pod = PodProto("web", "1");
  pod.add_tolerations()->set_operator_("Equals");
  EvaluateResult r = Evaluate(pod);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(r.status.error_message(),
            "Pod \"default/web\": spec.tolerations[0].operator: unknown toleration operator "
            "\"Equals\"");
  EXPECT_EQ(r.response.ByteSizeLong(), 0u);  // no answer rides along with an error
}

TEST_F(ServiceTest, AssumeReservesAndForgetReleases) {
  SyncStream sync(stub_.get());
  sync.Send(Full(1, {NodeChange("big", "4")}));
  EXPECT_EQ(Evaluate(PodProto("second", "2"), 1).Outcome(), "big");

  grpc::ClientContext assume_context;
  v1::AssumeRequest assume;
  *assume.mutable_pod() = PodProto("first", "3");
  assume.set_node("big");
  assume.set_epoch(kEpoch);
  v1::AssumeResponse assumed;
  grpc::Status status = stub_->Assume(&assume_context, assume, &assumed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(assumed.epoch(), kEpoch);
  EXPECT_EQ(assumed.applied_sequence(), 1u);
  EXPECT_EQ(Evaluate(PodProto("second", "2"), 1).Outcome(),
            "0/1 nodes are available: 1 Insufficient cpu.");

  grpc::ClientContext forget_context;
  v1::ForgetRequest forget;
  forget.set_namespace_("default");
  forget.set_name("first");
  forget.set_epoch(kEpoch);
  v1::ForgetResponse forgotten;
  status = stub_->Forget(&forget_context, forget, &forgotten);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(forgotten.epoch(), kEpoch);
  EXPECT_EQ(Evaluate(PodProto("second", "2"), 1).Outcome(), "big");

  // Forgetting again: the engine no longer holds it.
  grpc::ClientContext again_context;
  EXPECT_EQ(stub_->Forget(&again_context, forget, &forgotten).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServiceTest, AssumeErrors) {
  SyncStream sync(stub_.get());
  sync.Send(Full(1, {NodeChange("big", "4")}));
  struct Case {
    std::string name;
    std::string node;
    v1::Pod pod;
    grpc::StatusCode code;
    std::string message;
  };
  v1::Pod unnamed = PodProto("x", "1");
  unnamed.clear_name();
  for (const Case& c : std::vector<Case>{
           {"NoNode", "", PodProto("p", "1"), grpc::StatusCode::INVALID_ARGUMENT,
            "node: required field is missing"},
           {"UnnamedPod", "big", unnamed, grpc::StatusCode::INVALID_ARGUMENT,
            "Pod: metadata.name: required field is missing"},
           {"UnknownNode", "nowhere", PodProto("p", "1"), grpc::StatusCode::INVALID_ARGUMENT, ""},
       }) {
    SCOPED_TRACE(c.name);
    grpc::ClientContext context;
    v1::AssumeRequest request;
    *request.mutable_pod() = c.pod;
    request.set_node(c.node);
    v1::AssumeResponse response;
    grpc::Status status = stub_->Assume(&context, request, &response);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    if (!c.message.empty()) {
      EXPECT_EQ(status.error_message(), c.message);
    }
  }
}

TEST_F(ServiceTest, PreemptNamesNodeAndVictims) {
  SyncStream sync(stub_.get());
  v1::Pod low = PodProto("batch", "1", "small");
  low.set_priority(0);
  low.set_uid("uid-batch");
  sync.Send(Full(1, {NodeChange("small", "1"), PodChange(low)}));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::PreemptRequest request;
  *request.mutable_pod() = PodProto("web", "1");
  request.mutable_pod()->set_priority(100);
  request.set_min_sequence(1);
  v1::PreemptResponse response;
  grpc::Status status = stub_->Preempt(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.nominated_node(), "small");
  ASSERT_EQ(response.victims_size(), 1);
  EXPECT_EQ(response.victims(0).name(), "batch");
  EXPECT_EQ(response.victims(0).uid(), "uid-batch");
  EXPECT_EQ(response.victims(0).qos_class(), "Burstable");
  EXPECT_EQ(response.candidates(), 1);
  EXPECT_EQ(response.applied_sequence(), 1u);

  // Equal priority: nothing to evict, and the message says why.
  grpc::ClientContext again;
  again.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  request.mutable_pod()->set_priority(0);
  v1::PreemptResponse none;
  status = stub_->Preempt(&again, request, &none);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(none.nominated_node(), "");
  EXPECT_EQ(none.message(),
            "preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.");
}

TEST_F(ServiceTest, HealthCheckIsServing) {
  std::string bytes;
  grpc::Status status = testing::CheckHealth(channel_, &bytes);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(bytes, testing::kServing);
}

// Four threads evaluate while a fifth streams deltas that add and remove the only node a pod
// fits on: every answer must describe one state or the other, never a mix.
TEST_F(ServiceTest, ConcurrentEvaluatesWhileDeltasStream) {
  SyncStream sync(stub_.get());
  sync.Send(Full(1, {NodeChange("a", "1"), NodeChange("b", "1"), NodeChange("c", "1")}));
  constexpr int kDeltas = 200;
  constexpr int kThreads = 4;
  std::atomic<uint64_t> sent{1};
  std::atomic<bool> done{false};
  std::atomic<int> with_extra{0}, without_extra{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      int i = 0;
      while (!done.load() || i < 20) {
        const uint64_t min_sequence = (i++ % 2 == 0) ? sent.load() : 0;
        EvaluateResult r = Evaluate(PodProto(absl::StrCat("p", t, "-", i), "6"), min_sequence);
        const v1::EvaluateResponse& e = r.response;
        bool consistent = r.status.ok() && e.applied_sequence() >= min_sequence;
        if (consistent && e.chosen_node() == "extra") {
          consistent = e.nodes_size() == 4 && e.feasible_nodes() == 1 && e.fit_error().empty();
          ++with_extra;
        } else if (consistent) {
          consistent = e.chosen_node().empty() && e.nodes_size() == 3 &&
                       e.fit_error() == "0/3 nodes are available: 3 Insufficient cpu.";
          ++without_extra;
        }
        for (const v1::NodeResult& n : e.nodes()) {
          for (uint32_t id : n.reason_ids()) consistent = consistent && id < 1u * e.reasons_size();
        }
        if (!consistent) {
          ++failures;
          ADD_FAILURE() << r.status.error_message() << "\n" << e.ShortDebugString();
          return;
        }
      }
    });
  }
  for (uint64_t seq = 2; seq < 2 + kDeltas; ++seq) {
    v1::SyncResponse r =
        sync.Send(Delta(seq, {seq % 2 == 0 ? NodeChange("extra", "8") : DeleteNode("extra")}));
    ASSERT_FALSE(r.resync_required());
    sent = seq;
  }
  done = true;
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(with_extra.load() + without_extra.load(), kThreads * 20);
  EXPECT_EQ(engine_->applied_sequence(), 1u + kDeltas);
}

}  // namespace
}  // namespace sextant::server
