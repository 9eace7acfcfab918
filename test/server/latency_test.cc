// Evaluate round-trip time over a unix socket, for the bundled snapshot and a generated 5,000-node
// one. A measurement, not a check; run it by hand:
//   build/sextant_tests --gtest_also_run_disabled_tests --gtest_filter='ServiceLatencyTest.*'
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/convert.h"
#include "server/server.h"
#include "sextant/generator.h"
#include "sextant/snapshot.h"
#include "spdlog/spdlog.h"

namespace sextant::server {
namespace {

struct Percentiles {
  double median_us = 0, p90_us = 0, p99_us = 0;
};

Percentiles Summarise(std::vector<absl::Duration> samples) {
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    return absl::ToDoubleMicroseconds(samples[static_cast<size_t>(q * (samples.size() - 1))]);
  };
  return {at(0.5), at(0.9), at(0.99)};
}

void Measure(const std::string& name, const Snapshot& snapshot, int calls) {
  EngineOptions engine_options;  // parallelism 0 (every core), as `sextant serve` runs
  engine_options.epoch = "latency";
  Engine engine(engine_options);
  ServerOptions options;
  options.listen = absl::StrCat("unix:", ::testing::TempDir(), "sx-latency-", getpid(), ".sock");
  absl::StatusOr<std::unique_ptr<EngineServer>> server = EngineServer::Start(&engine, options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
  auto stub = v1::Engine::NewStub(channel);

  v1::SyncRequest full;
  full.mutable_full()->set_sequence(1);
  std::vector<v1::Pod> pending;
  for (const Node& n : snapshot.nodes)
    ToProto(ClusterChange(n), full.mutable_full()->add_objects());
  for (const Pod& p : snapshot.pods) {
    ToProto(ClusterChange(p), full.mutable_full()->add_objects());
    if (p.node_name.empty()) ToProto(p, &pending.emplace_back());
  }
  for (const PriorityClass& pc : snapshot.priority_classes) {
    ToProto(ClusterChange(pc), full.mutable_full()->add_objects());
  }
  ASSERT_FALSE(pending.empty());
  const absl::Time sync_start = absl::Now();
  {
    grpc::ClientContext context;
    auto stream = stub->Sync(&context);
    ASSERT_TRUE(stream->Write(full));
    v1::SyncResponse response;
    ASSERT_TRUE(stream->Read(&response));
    ASSERT_EQ(response.applied_sequence(), 1u);
    stream->WritesDone();
    ASSERT_TRUE(stream->Finish().ok());
  }
  const absl::Duration sync_time = absl::Now() - sync_start;

  std::vector<absl::Duration> round_trips, in_process, serialize, parse;
  size_t response_bytes = 0;
  for (int i = -20; i < calls; ++i) {  // 20 warm-up calls
    v1::EvaluateRequest request;
    *request.mutable_pod() = pending[(i + 20) % pending.size()];
    request.set_min_sequence(1);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    v1::EvaluateResponse response;
    const absl::Time start = absl::Now();
    grpc::Status status = stub->Evaluate(&context, request, &response);
    const absl::Duration elapsed = absl::Now() - start;
    ASSERT_TRUE(status.ok()) << status.error_message();
    if (i < 0) continue;
    round_trips.push_back(elapsed);
    response_bytes += response.ByteSizeLong();

    // The same evaluation in process, with and without encoding, to show what gRPC adds.
    absl::StatusOr<Pod> pod = FromProto(request.pod());
    ASSERT_TRUE(pod.ok());
    const absl::Time local_start = absl::Now();
    v1::EvaluateResponse local;
    ASSERT_TRUE(
        engine
            .Evaluate(*pod, 1, "", absl::ZeroDuration(),
                      [&](const Evaluation& e, const ClusterState& s) { ToProto(e, s, &local); })
            .ok());
    in_process.push_back(absl::Now() - local_start);
    // What the wire adds at both ends: encoding the answer and decoding it.
    std::string bytes;
    const absl::Time serialize_start = absl::Now();
    local.SerializeToString(&bytes);
    serialize.push_back(absl::Now() - serialize_start);
    v1::EvaluateResponse decoded;
    const absl::Time parse_start = absl::Now();
    decoded.ParseFromString(bytes);
    parse.push_back(absl::Now() - parse_start);
  }
  // Baseline: a call that does no work (Preempt answers UNIMPLEMENTED at once).
  std::vector<absl::Duration> empty_calls;
  for (int i = 0; i < calls; ++i) {
    grpc::ClientContext context;
    v1::PreemptRequest request;
    v1::PreemptResponse response;
    const absl::Time start = absl::Now();
    stub->Preempt(&context, request, &response);
    empty_calls.push_back(absl::Now() - start);
  }
  const Percentiles rt = Summarise(round_trips);
  const Percentiles local = Summarise(in_process);
  std::printf(
      "%s: %zu nodes, %zu pods; full snapshot %.1f MiB synced in %.0f ms\n"
      "  Evaluate round trip over unix socket (%d calls): median %.0f us, p90 %.0f us, p99 %.0f "
      "us; "
      "response %.0f KiB\n"
      "  in process (Engine::Evaluate + ToProto, no gRPC): median %.0f us, p90 %.0f us\n"
      "  response serialisation median %.0f us, parsing median %.0f us; an empty call's round "
      "trip median %.0f us\n",
      name.c_str(), snapshot.nodes.size(), snapshot.pods.size(), full.ByteSizeLong() / 1048576.0,
      absl::ToDoubleMilliseconds(sync_time), calls, rt.median_us, rt.p90_us, rt.p99_us,
      response_bytes / 1024.0 / calls, local.median_us, local.p90_us,
      Summarise(serialize).median_us, Summarise(parse).median_us, Summarise(empty_calls).median_us);
  (*server)->Shutdown(absl::ZeroDuration());
}

TEST(ServiceLatencyTest, DISABLED_EvaluateRoundTrip) {
  spdlog::set_level(spdlog::level::warn);
  absl::StatusOr<Snapshot> bundled =
      ReadSnapshotFile(std::string(SEXTANT_SOURCE_DIR) + "/test/data/snapshots/default.json");
  ASSERT_TRUE(bundled.ok()) << bundled.status();
  Measure("default.json", *bundled, 2000);
  absl::StatusOr<Snapshot> large =
      ParseSnapshot(GenerateSnapshot(LargeSnapshotOptions(5000)).dump());
  ASSERT_TRUE(large.ok()) << large.status();
  Measure("LargeSnapshotOptions(5000)", *large, 1000);
}

}  // namespace
}  // namespace sextant::server
