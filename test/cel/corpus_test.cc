// The differential corpus (test/data/cel/corpus.json): every expression against every device,
// with the outcomes upstream's evaluator gives (plugin-shim/pkg/celcorpus keeps them current).
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "sextant/cel.h"

namespace sextant::cel {
namespace {

using json = nlohmann::json;

json LoadCorpus() {
  std::ifstream in(std::string(SEXTANT_SOURCE_DIR) + "/test/data/cel/corpus.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
}

absl::StatusOr<Device> DeviceFromJson(const json& d) {
  std::vector<std::pair<std::string, AttributeValue>> attributes;
  if (d.contains("attributes")) {
    for (const auto& [name, value] : d["attributes"].items()) {
      if (value.contains("int")) {
        attributes.emplace_back(
            name, AttributeValue(std::in_place_index<0>, value["int"].get<int64_t>()));
      } else if (value.contains("bool")) {
        attributes.emplace_back(name,
                                AttributeValue(std::in_place_index<1>, value["bool"].get<bool>()));
      } else if (value.contains("string")) {
        attributes.emplace_back(
            name, AttributeValue(std::in_place_index<2>, value["string"].get<std::string>()));
      } else if (value.contains("version")) {
        absl::StatusOr<Semver> v = Semver::Parse(value["version"].get<std::string>());
        if (!v.ok()) return v.status();
        attributes.emplace_back(name, AttributeValue(std::in_place_index<3>, *v));
      } else {
        return absl::InvalidArgumentError("attribute " + name + " has no supported value");
      }
    }
  }
  std::vector<std::pair<std::string, CapacityValue>> capacity;
  if (d.contains("capacity")) {
    for (const auto& [name, value] : d["capacity"].items()) {
      absl::StatusOr<CapacityValue> q = CapacityValue::Parse(value["value"].get<std::string>());
      if (!q.ok()) return q.status();
      capacity.emplace_back(name, *q);
    }
  }
  return Device::Create(d["driver"].get<std::string>(), d.value("allowMultipleAllocations", false),
                        std::move(attributes), std::move(capacity));
}

TEST(CelCorpusTest, AgreesWithUpstreamOnEveryEntry) {
  const json corpus = LoadCorpus();
  ASSERT_FALSE(corpus.is_discarded()) << "test/data/cel/corpus.json does not parse";
  std::vector<std::pair<std::string, Device>> devices;
  for (const json& d : corpus["devices"]) {
    absl::StatusOr<Device> device = DeviceFromJson(d);
    ASSERT_TRUE(device.ok()) << d["name"] << ": " << device.status();
    devices.emplace_back(d["name"].get<std::string>(), *std::move(device));
  }
  ASSERT_GE(devices.size(), 5u);

  int pairs = 0, compile_errors = 0, outside = 0;
  for (const json& e : corpus["expressions"]) {
    const std::string expression = e["expression"].get<std::string>();
    const std::string outside_subset = e.value("outside_subset", "");
    absl::StatusOr<Program> program = Program::Compile(expression);
    if (e["compile"] == "compile_error") {
      ++compile_errors;
      EXPECT_FALSE(program.ok()) << "upstream rejects " << expression << " ("
                                 << e.value("compile_message", "") << ") but Sextant compiles it";
      continue;
    }
    if (!outside_subset.empty()) {
      ++outside;
      EXPECT_FALSE(program.ok()) << expression << " is marked outside the subset but compiles";
      if (!program.ok()) {
        EXPECT_NE(program.status().message().find("unsupported"), std::string::npos)
            << expression << ": rejected without saying it is unsupported: " << program.status();
      }
      continue;
    }
    ASSERT_TRUE(program.ok()) << "upstream compiles " << expression
                              << " but Sextant: " << program.status();
    for (const auto& [name, device] : devices) {
      const std::string want = e["results"][name].get<std::string>();
      absl::StatusOr<bool> got = program->Matches(device);
      const std::string got_text = !got.ok() ? "runtime_error" : *got ? "match" : "no_match";
      EXPECT_EQ(got_text, want) << expression << " on " << name
                                << (got.ok() ? ""
                                             : " (" + std::string(got.status().message()) + ")")
                                << (e.contains("errors") && e["errors"].contains(name)
                                        ? " upstream: " + e["errors"][name].get<std::string>()
                                        : "");
      ++pairs;
    }
  }
  EXPECT_GE(pairs, 1000);
  EXPECT_GE(compile_errors, 20);
  // The subset is meant to cover what selectors use; keep this list short.
  EXPECT_LE(outside, 25);
}

}  // namespace
}  // namespace sextant::cel
