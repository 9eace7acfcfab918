// `sextant gpu-trace`: replay a GPU pod trace under one or more placement policies.
#ifndef SEXTANT_CLI_GPU_TRACE_COMMAND_H_
#define SEXTANT_CLI_GPU_TRACE_COMMAND_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace sextant {

struct GpuTraceArgs {
  std::string nodes_path;
  std::string pods_path;
  std::vector<std::string> policies;
  bool all = false;
  std::string seeds = "42-51";
  int threads = 0;
  double tune_ratio = 1.3;
  bool per_seed = false;
  bool breakdown = false;
  std::string csv_path;
  std::string svg_path;
  std::string title;
  // "default" or "policy-only": replay through the engine's live path (DRA objects, the
  // snapshot replay) with the default profile or with every other scorer at weight 0, next to
  // the trace replay; empty: the trace replay alone.
  std::string through_dra;
};

// Registers the subcommand on `app`; the options are written into `args`.
CLI::App* AddGpuTraceCommand(CLI::App& app, GpuTraceArgs& args);
// Runs it; the process exit code (0 ok, 1 output error, 2 bad input).
int RunGpuTrace(const GpuTraceArgs& args);

}  // namespace sextant

#endif  // SEXTANT_CLI_GPU_TRACE_COMMAND_H_
