// The `sextant` command: replay a recorded snapshot, generate synthetic snapshots, serve the
// engine over gRPC.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/gpu_trace_command.h"
#include "server/server.h"
#include "sextant/engine.h"
#include "sextant/generator.h"
#include "sextant/replay.h"
#include "sextant/snapshot.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace sextant {
namespace {

int RunReplay(const std::string& path, const std::string& out_path, ReplayOptions options) {
  auto snapshot = ReadSnapshotFile(path);
  if (!snapshot.ok()) {
    std::cerr << "sextant replay: " << path << ": " << snapshot.status().message() << "\n";
    return 2;
  }
  auto report = Replay(*snapshot, options);
  if (!report.ok()) {
    std::cerr << "sextant replay: " << path << ": " << report.status().message() << "\n";
    return 2;
  }
  std::cout << FormatReplaySummary(*report);
  if (!out_path.empty()) {
    std::ofstream out(out_path);
    out << ReplayReportJson(*report) << "\n";
    if (!out) {
      std::cerr << "sextant replay: cannot write " << out_path << "\n";
      return 1;
    }
    std::cout << "\nreport written to " << out_path << "\n";
  }
  return 0;
}

// --gpu-policy: a policy name (case-insensitive) or "off".
absl::Status ApplyGpuPolicyFlag(const std::string& value, GpuPlacementOptions* options) {
  if (absl::AsciiStrToLower(value) == "off") {
    options->enabled = false;
    return absl::OkStatus();
  }
  absl::StatusOr<GpuPolicy> policy = ParseGpuPolicy(value);
  if (!policy.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--gpu-policy: ", policy.status().message(), " or off"));
  }
  options->enabled = true;
  options->policy = *policy;
  return absl::OkStatus();
}

// The GPU placement flags of serve and replay.
void AddGpuPlacementFlags(CLI::App* command, std::string* policy, GpuPlacementOptions* options) {
  command->add_option("--gpu-policy", *policy,
                      "GPU placement policy for DRA GPU pods: Sextant, FGD, BestFit, GpuPacking, "
                      "GpuClustering, DotProduct, Random, or off (parity runs)")
      ->capture_default_str();
  command->add_option("--gpu-placement-weight", options->weight,
                      "Weight of the GPU policy's score (0: the policy decides, the other "
                      "scorers break its ties)")
      ->capture_default_str();
  command->add_option("--gpu-capacity-name", options->capacity_name,
                      "Consumable device capacity holding a GPU share in milli-GPU")
      ->capture_default_str();
  command->add_option("--gpu-score-cpu-pods", options->score_cpu_pods,
                      "Also score pods without resource claims on the nodes' GPUs (they keep "
                      "off nodes whose GPUs their cpu would strand)")
      ->capture_default_str();
}

int RunGenerate(const std::string& preset, int nodes, uint64_t seed, const std::string& out_path) {
  GeneratorOptions options;
  if (preset == "default") {
    options = DefaultSnapshotOptions();
  } else if (preset == "large") {
    options = LargeSnapshotOptions(nodes);
  } else {
    std::cerr << "sextant generate: unknown preset \"" << preset << "\" (default, large)\n";
    return 2;
  }
  if (seed != 0) options.seed = seed;
  auto status = WriteSnapshotFile(GenerateSnapshot(options), out_path);
  if (!status.ok()) {
    std::cerr << "sextant generate: " << status.message() << "\n";
    return 1;
  }
  return 0;
}

int RunServe(const server::ServerOptions& server_options, const EngineOptions& engine_options) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("sextant"));
  if (auto status = ValidateProfileOptions(engine_options.profile); !status.ok()) {
    spdlog::error("sextant serve: {}", std::string(status.message()));
    return 2;
  }
  // SIGINT and SIGTERM are blocked in every thread (the engine's and gRPC's inherit the mask)
  // and taken by one waiting thread, which shuts the server down.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Engine engine(engine_options);
  auto server = server::EngineServer::Start(&engine, server_options);
  if (!server.ok()) {
    spdlog::error("sextant serve: {}", std::string(server.status().message()));
    return 1;
  }
  spdlog::info("sextant engine listening on {}, epoch {}", (*server)->address(), engine.epoch());
  std::thread signal_waiter([&signals, &server] {
    int signal = 0;
    sigwait(&signals, &signal);
    spdlog::info("{}: shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
    (*server)->Shutdown(absl::Seconds(2));
  });
  (*server)->Wait();
  signal_waiter.join();
  spdlog::info("sextant engine stopped");
  return 0;
}

}  // namespace
}  // namespace sextant

int main(int argc, char** argv) {
  CLI::App app{"Sextant: a Kubernetes scheduler engine with upstream semantics"};
  app.require_subcommand(1);

  std::string snapshot_path, out_path, strategy = "LeastAllocated";
  sextant::ReplayOptions replay_options;
  auto* replay = app.add_subcommand("replay", "Schedule the pending pods of a recorded snapshot");
  replay->add_option("snapshot", snapshot_path, "kubectl get ... -o json List")->required();
  replay->add_option("--out", out_path, "Write the full report as JSON to this file");
  replay->add_option("--seed", replay_options.seed, "Seed of the tie-break among equal scores");
  replay->add_option("--scheduler-name", replay_options.scheduler_name,
                     "Schedule only pending pods with this spec.schedulerName (default: all)");
  replay->add_option("--scoring-strategy", strategy, "LeastAllocated or MostAllocated")
      ->check(CLI::IsMember({"LeastAllocated", "MostAllocated"}));
  replay->add_option("--parallelism", replay_options.profile.parallelism,
                     "Threads per evaluation (0: all cores)");
  std::string replay_gpu_policy = "Sextant";
  sextant::AddGpuPlacementFlags(replay, &replay_gpu_policy,
                                &replay_options.profile.gpu_placement);

  std::string preset = "default", generate_out;
  int nodes = 5000;
  uint64_t seed = 0;
  auto* generate = app.add_subcommand("generate", "Write a synthetic snapshot");
  generate->add_option("--preset", preset, "default (the bundled snapshot) or large");
  generate->add_option("--nodes", nodes, "Node count of the large preset");
  generate->add_option("--seed", seed, "Seed (0: the preset's own)");
  generate->add_option("--out", generate_out, "Output file")->required();

  sextant::server::ServerOptions server_options;
  sextant::EngineOptions engine_options;
  std::string serve_strategy = "LeastAllocated";
  auto* serve = app.add_subcommand("serve", "Serve the engine over gRPC (the sextant.v1 API)");
  serve->add_option("--listen", server_options.listen, "unix:///path, unix:path or host:port")
      ->capture_default_str();
  serve->add_option("--tls-cert", server_options.tls_cert_file,
                    "PEM certificate: the TCP listener uses TLS");
  serve->add_option("--tls-key", server_options.tls_key_file, "PEM private key of --tls-cert");
  serve->add_option("--tls-client-ca", server_options.tls_client_ca_file,
                    "PEM CA bundle: require and verify client certificates (mTLS)");
  serve->add_flag("--insecure-loopback", server_options.allow_insecure_loopback,
                  "Allow plaintext TCP on a loopback address (127.0.0.0/8, ::1, localhost); "
                  "other TCP addresses always need TLS");
  serve
      ->add_option("--scoring-strategy", serve_strategy,
                   "LeastAllocated or MostAllocated (a full snapshot may override it)")
      ->check(CLI::IsMember({"LeastAllocated", "MostAllocated"}));
  serve->add_option("--parallelism", engine_options.profile.parallelism,
                    "Threads per evaluation (0: all cores)");
  serve->add_option("--seed", engine_options.seed, "Seed of the tie-break among equal scores");
  std::string serve_gpu_policy = "Sextant";
  sextant::AddGpuPlacementFlags(serve, &serve_gpu_policy, &engine_options.profile.gpu_placement);
  serve
      ->add_option("--dra-binding-timeout", engine_options.profile.dra_binding_timeout_seconds,
                   "Seconds after which an allocated claim whose binding conditions are not met "
                   "is unavailable (the Sextant plugin's bindingTimeout; default 600)")
      ->check(CLI::PositiveNumber);

  sextant::GpuTraceArgs gpu_trace_args;
  auto* gpu_trace = sextant::AddGpuTraceCommand(app, gpu_trace_args);

  CLI11_PARSE(app, argc, argv);
  if (gpu_trace->parsed()) return sextant::RunGpuTrace(gpu_trace_args);
  if (replay->parsed()) {
    if (strategy == "MostAllocated") {
      replay_options.profile.fit_scoring.type = sextant::ScoringStrategyType::kMostAllocated;
    }
    if (auto status = sextant::ApplyGpuPolicyFlag(replay_gpu_policy,
                                                  &replay_options.profile.gpu_placement);
        !status.ok()) {
      std::cerr << "sextant replay: " << status.message() << "\n";
      return 2;
    }
    return sextant::RunReplay(snapshot_path, out_path, replay_options);
  }
  if (generate->parsed()) return sextant::RunGenerate(preset, nodes, seed, generate_out);
  if (serve->parsed()) {
    if (serve_strategy == "MostAllocated") {
      engine_options.profile.fit_scoring.type = sextant::ScoringStrategyType::kMostAllocated;
    }
    if (auto status = sextant::ApplyGpuPolicyFlag(serve_gpu_policy,
                                                  &engine_options.profile.gpu_placement);
        !status.ok()) {
      std::cerr << "sextant serve: " << status.message() << "\n";
      return 2;
    }
    return sextant::RunServe(server_options, engine_options);
  }
  return 0;
}
