// CSV reader of the trace's node and pod lists. Errors name file, line and column.
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sextant/gpu_trace.h"

namespace sextant {
namespace {

struct Table {
  std::string file;
  std::vector<std::string> header;
  std::map<std::string, int, std::less<>> column;  // name -> index
};

absl::string_view StripCr(absl::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

absl::Status LineError(const Table& table, int line, absl::string_view column,
                       absl::string_view message) {
  auto it = table.column.find(column);
  std::string where =
      it == table.column.end() ? std::string() : absl::StrCat(" (column ", it->second + 1, ")");
  return absl::InvalidArgumentError(
      absl::StrCat(table.file, ":", line, ": column \"", column, "\"", where, ": ", message));
}

// Splits the text into rows of fields; checks that every required column is in the header.
absl::StatusOr<std::vector<std::vector<absl::string_view>>> SplitCsv(
    absl::string_view text, Table& table, const std::vector<absl::string_view>& required) {
  std::vector<std::vector<absl::string_view>> rows;
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.empty() || StripCr(lines[0]).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(table.file, ":1: empty file, no header"));
  }
  std::vector<absl::string_view> header = absl::StrSplit(StripCr(lines[0]), ',');
  for (size_t i = 0; i < header.size(); ++i) {
    table.header.emplace_back(header[i]);
    table.column.emplace(std::string(header[i]), static_cast<int>(i));
  }
  for (absl::string_view name : required) {
    if (table.column.find(name) == table.column.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(table.file, ":1: missing column \"", name, "\""));
    }
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    absl::string_view line = StripCr(lines[i]);
    if (line.empty()) {
      rows.emplace_back();  // kept so line numbers stay right; skipped by the callers
      continue;
    }
    std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
    if (fields.size() < header.size()) {
      return absl::InvalidArgumentError(absl::StrCat(table.file, ":", i + 1, ": ", fields.size(),
                                                     " fields, the header has ", header.size()));
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

// The field of `column` in `row`, or "" when the column is absent (optional columns).
absl::string_view Field(const Table& table, const std::vector<absl::string_view>& row,
                        absl::string_view column) {
  auto it = table.column.find(column);
  return it == table.column.end() ? absl::string_view() : row[it->second];
}

absl::StatusOr<int64_t> NonNegative(const Table& table, const std::vector<absl::string_view>& row,
                                    int line, absl::string_view column) {
  absl::string_view text = Field(table, row, column);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return LineError(table, line, column,
                     absl::StrCat("\"", text, "\" is not a non-negative integer"));
  }
  if (value < 0) {
    return LineError(table, line, column, absl::StrCat("negative value ", value));
  }
  // Far above any machine (a billion cores in millis, an exbibyte in MiB), and low enough that
  // MiB convert to bytes and the replay's sums over millions of pods stay within int64.
  constexpr int64_t kMaxValue = int64_t{1} << 40;
  if (value > kMaxValue) {
    return LineError(table, line, column, absl::StrCat(value, " is more than 2^40"));
  }
  return value;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr int64_t kMib = 1024 * 1024;

}  // namespace

absl::StatusOr<std::vector<GpuNodeSpec>> ParseGpuNodeCsv(absl::string_view text,
                                                         absl::string_view file_name) {
  Table table{std::string(file_name), {}, {}};
  auto rows = SplitCsv(text, table, {"sn", "cpu_milli", "memory_mib", "gpu", "model"});
  if (!rows.ok()) return rows.status();
  std::vector<GpuNodeSpec> nodes;
  std::map<std::string, int> first_line;  // node name -> line
  for (size_t i = 0; i < rows->size(); ++i) {
    const auto& row = (*rows)[i];
    if (row.empty()) continue;
    const int line = static_cast<int>(i) + 2;
    GpuNodeSpec node;
    node.name = std::string(Field(table, row, "sn"));
    if (node.name.empty()) return LineError(table, line, "sn", "empty node name");
    if (auto [it, fresh] = first_line.emplace(node.name, line); !fresh) {
      return LineError(table, line, "sn",
                       absl::StrCat("duplicate node name \"", node.name, "\" (first on line ",
                                    it->second, ")"));
    }
    auto cpu = NonNegative(table, row, line, "cpu_milli");
    if (!cpu.ok()) return cpu.status();
    auto memory = NonNegative(table, row, line, "memory_mib");
    if (!memory.ok()) return memory.status();
    auto gpus = NonNegative(table, row, line, "gpu");
    if (!gpus.ok()) return gpus.status();
    if (*gpus > kMaxGpusPerNode) {
      return LineError(table, line, "gpu",
                       absl::StrCat(*gpus, " GPUs, at most ", kMaxGpusPerNode, " per node"));
    }
    node.cpu_milli = *cpu;
    node.memory_bytes = *memory * kMib;
    node.gpu_count = static_cast<int>(*gpus);
    absl::string_view model = Field(table, row, "model");
    if (node.gpu_count > 0) {
      if (model.empty()) return LineError(table, line, "model", "empty model of a GPU node");
      auto id = ParseGpuModel(model);
      if (!id.ok()) return LineError(table, line, "model", id.status().message());
      node.model = *id;
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

absl::StatusOr<std::vector<GpuPodSpec>> ParseGpuPodCsv(absl::string_view text,
                                                       absl::string_view file_name) {
  Table table{std::string(file_name), {}, {}};
  auto rows = SplitCsv(text, table, {"name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"});
  if (!rows.ok()) return rows.status();
  std::vector<GpuPodSpec> pods;
  std::map<std::string, int> first_line;  // pod name -> line
  for (size_t i = 0; i < rows->size(); ++i) {
    const auto& row = (*rows)[i];
    if (row.empty()) continue;
    const int line = static_cast<int>(i) + 2;
    GpuPodSpec pod;
    pod.name = std::string(Field(table, row, "name"));
    if (pod.name.empty()) return LineError(table, line, "name", "empty pod name");
    if (auto [it, fresh] = first_line.emplace(pod.name, line); !fresh) {
      return LineError(table, line, "name",
                       absl::StrCat("duplicate pod name \"", pod.name, "\" (first on line ",
                                    it->second, ")"));
    }
    auto cpu = NonNegative(table, row, line, "cpu_milli");
    if (!cpu.ok()) return cpu.status();
    auto memory = NonNegative(table, row, line, "memory_mib");
    if (!memory.ok()) return memory.status();
    auto num_gpu = NonNegative(table, row, line, "num_gpu");
    if (!num_gpu.ok()) return num_gpu.status();
    auto gpu_milli = NonNegative(table, row, line, "gpu_milli");
    if (!gpu_milli.ok()) return gpu_milli.status();
    if (*gpu_milli > kGpuMilli) {
      return LineError(table, line, "gpu_milli",
                       absl::StrCat(*gpu_milli, " is more than one GPU (1000 per device)"));
    }
    if (*num_gpu > kMaxGpusPerNode) {
      return LineError(table, line, "num_gpu",
                       absl::StrCat(*num_gpu, " GPUs, at most ", kMaxGpusPerNode, " per pod"));
    }
    if (*num_gpu > 1 && *gpu_milli > 0 && *gpu_milli < kGpuMilli) {
      return LineError(table, line, "gpu_milli",
                       "a shared (fractional) request must ask for one GPU (num_gpu 1)");
    }
    auto models = ParseGpuModelSpec(Field(table, row, "gpu_spec"));
    if (!models.ok()) return LineError(table, line, "gpu_spec", models.status().message());
    pod.cpu_milli = *cpu;
    pod.memory_bytes = *memory * kMib;
    pod.num_gpu = static_cast<int>(*num_gpu);
    pod.gpu_milli = *gpu_milli;
    pod.models = *models;
    pods.push_back(std::move(pod));
  }
  return pods;
}

absl::StatusOr<std::vector<GpuNodeSpec>> ReadGpuNodeCsv(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseGpuNodeCsv(*text, path);
}

absl::StatusOr<std::vector<GpuPodSpec>> ReadGpuPodCsv(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseGpuPodCsv(*text, path);
}

}  // namespace sextant
