// The `sextant` command: replay a recorded snapshot, generate synthetic snapshots.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "sextant/generator.h"
#include "sextant/replay.h"
#include "sextant/snapshot.h"

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

  std::string preset = "default", generate_out;
  int nodes = 5000;
  uint64_t seed = 0;
  auto* generate = app.add_subcommand("generate", "Write a synthetic snapshot");
  generate->add_option("--preset", preset, "default (the bundled snapshot) or large");
  generate->add_option("--nodes", nodes, "Node count of the large preset");
  generate->add_option("--seed", seed, "Seed (0: the preset's own)");
  generate->add_option("--out", generate_out, "Output file")->required();

  CLI11_PARSE(app, argc, argv);
  if (replay->parsed()) {
    if (strategy == "MostAllocated") {
      replay_options.profile.fit_scoring.type = sextant::ScoringStrategyType::kMostAllocated;
    }
    return sextant::RunReplay(snapshot_path, out_path, replay_options);
  }
  if (generate->parsed()) return sextant::RunGenerate(preset, nodes, seed, generate_out);
  return 0;
}
