// Tests of the synthetic snapshot generator. Resource sums and QoS classes are recomputed here from
// the JSON alone (own quantity parser, upstream's request rules), independent of the generator.
#include "sextant/generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace sextant {
namespace {

using nlohmann::json;
using Milli = __int128;  // quantities in thousandths of a unit

// Parses the quantity forms the generator writes ("500m", "2", "1536Mi", "3G", "95551679124",
// "1.5Gi") into thousandths, rounding up. Fails the test on anything else.
Milli ParseMilli(const std::string& text) {
  size_t i = 0;
  Milli mantissa = 0;
  int fraction_digits = 0;
  bool seen_point = false;
  for (; i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.');
       ++i) {
    if (text[i] == '.') {
      seen_point = true;
      continue;
    }
    mantissa = mantissa * 10 + (text[i] - '0');
    if (seen_point) ++fraction_digits;
  }
  const std::string suffix = text.substr(i);
  static const std::map<std::string, std::pair<int, int>> kSuffixes = {
      // suffix -> (base, exponent)
      {"", {10, 0}},   {"m", {10, -3}}, {"k", {10, 3}},  {"M", {10, 6}},  {"G", {10, 9}},
      {"T", {10, 12}}, {"Ki", {2, 10}}, {"Mi", {2, 20}}, {"Gi", {2, 30}}, {"Ti", {2, 40}}};
  auto it = kSuffixes.find(suffix);
  EXPECT_TRUE(i > 0 && it != kSuffixes.end()) << "unexpected quantity " << text;
  if (i == 0 || it == kSuffixes.end()) return 0;
  Milli numerator = mantissa * 1000;
  Milli denominator = 1;
  for (int k = 0; k < fraction_digits; ++k) denominator *= 10;
  auto [base, exponent] = it->second;
  if (base == 2) {
    numerator <<= exponent;
  } else {
    for (int k = 0; k < exponent; ++k) numerator *= 10;
    for (int k = 0; k > exponent; --k) denominator *= 10;
  }
  return (numerator + denominator - 1) / denominator;
}

using ResourceMap = std::map<std::string, Milli>;

ResourceMap ParseResources(const json& object) {
  ResourceMap out;
  if (!object.is_object()) return out;
  for (const auto& [name, value] : object.items()) out[name] = ParseMilli(value.get<std::string>());
  return out;
}

void AddTo(ResourceMap& into, const ResourceMap& add) {
  for (const auto& [name, value] : add) into[name] += value;
}

void MaxInto(ResourceMap& into, const ResourceMap& other) {
  for (const auto& [name, value] : other) into[name] = std::max(into[name], value);
}

const json& Requests(const json& container) {
  static const json kEmpty = json::object();
  const auto resources = container.find("resources");
  if (resources == container.end()) return kEmpty;
  const auto requests = resources->find("requests");
  return requests == resources->end() ? kEmpty : *requests;
}

// Upstream PodRequests: max(regular + sidecars, each init container plus earlier sidecars) +
// overhead.
ResourceMap PodRequests(const json& pod) {
  const json& spec = pod["spec"];
  ResourceMap regular;
  for (const json& c : spec["containers"]) AddTo(regular, ParseResources(Requests(c)));
  ResourceMap sidecars;
  ResourceMap init_peak;
  if (spec.contains("initContainers")) {
    for (const json& c : spec["initContainers"]) {
      ResourceMap r = ParseResources(Requests(c));
      if (c.value("restartPolicy", "") == "Always") {
        AddTo(regular, r);
        AddTo(sidecars, r);
        MaxInto(init_peak, sidecars);
      } else {
        AddTo(r, sidecars);
        MaxInto(init_peak, r);
      }
    }
  }
  MaxInto(regular, init_peak);
  if (spec.contains("overhead")) AddTo(regular, ParseResources(spec["overhead"]));
  return regular;
}

// Upstream ComputePodQOS from cpu and memory.
std::string QosClass(const json& pod) {
  ResourceMap requests;
  ResourceMap limits;
  bool guaranteed = true;
  auto visit = [&](const json& c) {
    const json resources = c.value("resources", json::object());
    ResourceMap r = ParseResources(resources.value("requests", json::object()));
    ResourceMap l = ParseResources(resources.value("limits", json::object()));
    for (const char* name : {"cpu", "memory"}) {
      if (r.count(name) && r[name] > 0) requests[name] += r[name];
      if (l.count(name) && l[name] > 0) limits[name] += l[name];
      if (!l.count(name)) guaranteed = false;
    }
  };
  for (const char* field : {"initContainers", "containers"}) {
    if (pod["spec"].contains(field)) {
      for (const json& c : pod["spec"][field]) visit(c);
    }
  }
  if (requests.empty() && limits.empty()) return "BestEffort";
  if (guaranteed && requests == limits) return "Guaranteed";
  return "Burstable";
}

// The list's items of one kind, by reference (copying 100,000 pods would dominate the test).
std::vector<std::reference_wrapper<const json>> ItemsOfKind(const json& list,
                                                            const std::string& kind) {
  std::vector<std::reference_wrapper<const json>> out;
  for (const json& item : list["items"]) {
    if (item["kind"] == kind) out.push_back(item);
  }
  return out;
}

GeneratorOptions SmallOptions() {
  GeneratorOptions o;
  o.seed = 7;
  o.gpu_nodes = 12;
  o.shared_nodes = 38;
  o.daemonset_pods_per_node = 2;
  o.running_pods = 250;
  o.pending_pods = 90;
  o.cordoned_fraction = 0.04;
  o.prefer_no_schedule_fraction = 0.04;
  o.pending_misfit_fraction = 0.1;
  o.pod_disruption_budgets = 3;
  return o;
}

// Every running pod fits its node: per resource, the sum of the effective requests is at most
// allocatable, and the pod count is at most allocatable pods.
void ExpectNoOvercommit(const json& snapshot) {
  std::map<std::string, ResourceMap> allocatable;
  for (const json& node : ItemsOfKind(snapshot, "Node")) {
    allocatable[node["metadata"]["name"]] = ParseResources(node["status"]["allocatable"]);
  }
  std::map<std::string, ResourceMap> used;
  std::map<std::string, int> pods;
  for (const json& pod : ItemsOfKind(snapshot, "Pod")) {
    if (!pod["spec"].contains("nodeName")) continue;
    const std::string node = pod["spec"]["nodeName"];
    ASSERT_TRUE(allocatable.count(node)) << pod["metadata"]["name"] << " on unknown node " << node;
    AddTo(used[node], PodRequests(pod));
    ++pods[node];
  }
  ASSERT_FALSE(used.empty());
  for (const auto& [node, resources] : used) {
    for (const auto& [name, value] : resources) {
      const Milli limit = allocatable[node].count(name) ? allocatable[node][name] : 0;
      EXPECT_LE(value, limit) << node << " overcommitted on " << name;
    }
    EXPECT_LE(pods[node] * Milli{1000}, allocatable[node]["pods"]) << node << " has too many pods";
  }
}

TEST(GeneratorTest, SameSeedGivesIdenticalJson) {
  EXPECT_EQ(GenerateSnapshot(SmallOptions()).dump(), GenerateSnapshot(SmallOptions()).dump());
}

TEST(GeneratorTest, DifferentSeedsDiffer) {
  GeneratorOptions other = SmallOptions();
  other.seed = 8;
  EXPECT_NE(GenerateSnapshot(SmallOptions()).dump(), GenerateSnapshot(other).dump());
}

TEST(GeneratorTest, IsAKubectlList) {
  const json snapshot = GenerateSnapshot(SmallOptions());
  EXPECT_EQ(snapshot["apiVersion"], "v1");
  EXPECT_EQ(snapshot["kind"], "List");
  std::set<std::string> uids;
  for (const json& item : snapshot["items"]) {
    EXPECT_TRUE(item["metadata"].contains("creationTimestamp")) << item["metadata"]["name"];
    EXPECT_TRUE(uids.insert(item["metadata"]["uid"].get<std::string>()).second)
        << "duplicate uid on " << item["metadata"]["name"];
    const std::string kind = item["kind"];
    const std::string expected_api = kind == "PriorityClass"         ? "scheduling.k8s.io/v1"
                                     : kind == "PodDisruptionBudget" ? "policy/v1"
                                                                     : "v1";
    EXPECT_EQ(item["apiVersion"], expected_api) << kind;
  }
}

TEST(GeneratorTest, CountsMatchOptions) {
  const GeneratorOptions o = SmallOptions();
  const json snapshot = GenerateSnapshot(o);
  const int total_nodes = o.gpu_nodes + o.shared_nodes;
  int gpu = 0, shared = 0, cordoned = 0, prefer = 0;
  for (const json& node : ItemsOfKind(snapshot, "Node")) {
    const std::string pool = node["metadata"]["labels"]["sextant.io/pool"];
    (pool == "gpu" ? gpu : shared) += 1;
    if (pool == "gpu") {
      EXPECT_EQ(node["status"]["allocatable"]["nvidia.com/gpu"], "8");
      bool tainted = false;
      for (const json& t : node["spec"]["taints"]) {
        tainted |= t["key"] == "nvidia.com/gpu" && t["effect"] == "NoSchedule";
      }
      EXPECT_TRUE(tainted) << node["metadata"]["name"];
    }
    if (node["spec"].value("unschedulable", false)) ++cordoned;
    for (const json& t : node["spec"].value("taints", json::array())) {
      if (t["effect"] == "PreferNoSchedule") ++prefer;
    }
  }
  EXPECT_EQ(gpu, o.gpu_nodes);
  EXPECT_EQ(shared, o.shared_nodes);
  EXPECT_EQ(cordoned, std::lround(o.cordoned_fraction * total_nodes));
  EXPECT_EQ(prefer, std::lround(o.prefer_no_schedule_fraction * total_nodes));

  int running = 0, pending = 0;
  std::set<std::string> pending_times;
  for (const json& pod : ItemsOfKind(snapshot, "Pod")) {
    if (pod["spec"].contains("nodeName")) {
      ++running;
      EXPECT_EQ(pod["status"]["phase"], "Running");
      EXPECT_TRUE(pod["status"].contains("startTime"));
    } else {
      ++pending;
      EXPECT_EQ(pod["status"]["phase"], "Pending");
      EXPECT_EQ(pod["spec"]["schedulerName"], "sextant");
      pending_times.insert(pod["metadata"]["creationTimestamp"].get<std::string>());
    }
  }
  EXPECT_EQ(running, total_nodes * o.daemonset_pods_per_node + o.running_pods);
  EXPECT_EQ(pending, o.pending_pods);
  EXPECT_EQ(pending_times.size(), static_cast<size_t>(o.pending_pods))
      << "pending pods must have distinct, increasing creation times";
  EXPECT_EQ(ItemsOfKind(snapshot, "PodDisruptionBudget").size(),
            static_cast<size_t>(o.pod_disruption_budgets));

  std::map<std::string, int64_t> classes;
  int global_default = 0;
  for (const json& pc : ItemsOfKind(snapshot, "PriorityClass")) {
    classes[pc["metadata"]["name"]] = pc["value"];
    global_default += pc.value("globalDefault", false) ? 1 : 0;
  }
  EXPECT_EQ(classes["inference-critical"], 1000000);
  EXPECT_EQ(classes["agent-service"], 100000);
  EXPECT_EQ(classes["batch-default"], 1000);
  EXPECT_EQ(classes["batch-low"], 100);
  EXPECT_EQ(global_default, 1);
}

TEST(GeneratorTest, RunningPodsNeverOvercommitANode) {
  ExpectNoOvercommit(GenerateSnapshot(SmallOptions()));
}

TEST(GeneratorTest, CrowdedClusterStillNeverOvercommits) {
  GeneratorOptions o = SmallOptions();
  o.running_pods = 3000;  // more than fits: the generator places what it can
  o.shared_fill_fraction = 1;
  o.gpu_fill_fraction = 1;
  const json snapshot = GenerateSnapshot(o);
  ExpectNoOvercommit(snapshot);
}

TEST(GeneratorTest, QosClassMatchesResources) {
  std::map<std::string, int> seen;
  const json snapshot = GenerateSnapshot(DefaultSnapshotOptions());
  for (const json& pod : ItemsOfKind(snapshot, "Pod")) {
    EXPECT_EQ(pod["status"]["qosClass"], QosClass(pod)) << pod["metadata"]["name"];
    ++seen[pod["status"]["qosClass"]];
  }
  EXPECT_GT(seen["Guaranteed"], 0);
  EXPECT_GT(seen["Burstable"], 0);
  EXPECT_GT(seen["BestEffort"], 0);
}

// Running pods respect their nodeSelector and tolerate the node's NoSchedule taints (other than
// the cordon taint, which came after them).
TEST(GeneratorTest, RunningPodsRespectSelectorsAndTaints) {
  const json snapshot = GenerateSnapshot(DefaultSnapshotOptions());
  std::map<std::string, json> nodes;
  for (const json& node : ItemsOfKind(snapshot, "Node")) nodes[node["metadata"]["name"]] = node;
  for (const json& pod : ItemsOfKind(snapshot, "Pod")) {
    if (!pod["spec"].contains("nodeName")) continue;
    const json& node = nodes[pod["spec"]["nodeName"]];
    const json selector = pod["spec"].value("nodeSelector", json::object());
    for (const auto& [key, value] : selector.items()) {
      EXPECT_EQ(node["metadata"]["labels"].value(key, ""), value) << pod["metadata"]["name"];
    }
    for (const json& taint : node["spec"].value("taints", json::array())) {
      if (taint["effect"] != "NoSchedule" || taint["key"] == "node.kubernetes.io/unschedulable") {
        continue;
      }
      bool tolerated = false;
      for (const json& t : pod["spec"]["tolerations"]) {
        tolerated |= (t.value("key", "") == "" && t["operator"] == "Exists") ||
                     (t.value("key", "") == taint["key"] && t.value("effect", "") != "NoExecute");
      }
      EXPECT_TRUE(tolerated) << pod["metadata"]["name"] << " on tainted "
                             << node["metadata"]["name"];
    }
  }
}

TEST(GeneratorTest, DefaultSnapshotHasTheAdvertisedShape) {
  const GeneratorOptions o = DefaultSnapshotOptions();
  const json snapshot = GenerateSnapshot(o);
  EXPECT_EQ(ItemsOfKind(snapshot, "Node").size(), 312u);
  int running = 0, pending = 0, sidecars = 0, overhead = 0, spread = 0, anti = 0, dra = 0;
  for (const json& pod : ItemsOfKind(snapshot, "Pod")) {
    if (pod["spec"].contains("resourceClaims")) {
      ++dra;
      continue;
    }
    (pod["spec"].contains("nodeName") ? running : pending) += 1;
    for (const json& c : pod["spec"].value("initContainers", json::array())) {
      sidecars += c.value("restartPolicy", "") == "Always" ? 1 : 0;
    }
    overhead += pod["spec"].contains("overhead") ? 1 : 0;
    spread += pod["spec"].contains("topologySpreadConstraints") ? 1 : 0;
    anti += pod["spec"].contains("affinity") && pod["spec"]["affinity"].contains("podAntiAffinity");
  }
  EXPECT_EQ(running, 1500);
  EXPECT_EQ(pending, 400);
  EXPECT_EQ(dra, 52);  // 28 running, 24 pending
  EXPECT_EQ(ItemsOfKind(snapshot, "ResourceSlice").size(), 12u);
  EXPECT_GT(sidecars, 0);
  EXPECT_GT(overhead, 0);
  EXPECT_GT(spread, 0);
  EXPECT_GT(anti, 0);
}

TEST(GeneratorTest, LargePresetScales) {
  const GeneratorOptions o = LargeSnapshotOptions(5000);
  EXPECT_EQ(o.gpu_nodes + o.shared_nodes, 5000);
  const json snapshot = GenerateSnapshot(o);
  EXPECT_EQ(ItemsOfKind(snapshot, "Node").size(), 5000u);
  EXPECT_EQ(
      ItemsOfKind(snapshot, "Pod").size(),
      static_cast<size_t>(5000 * o.daemonset_pods_per_node + o.running_pods + o.pending_pods));
  ExpectNoOvercommit(snapshot);
}

TEST(GeneratorTest, WriteSnapshotFileRoundTrips) {
  const json snapshot = GenerateSnapshot(SmallOptions());
  const std::string path = ::testing::TempDir() + "/generator_test_snapshot.json";
  ASSERT_TRUE(WriteSnapshotFile(snapshot, path).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(json::parse(text.str(), nullptr, false), snapshot);
  EXPECT_FALSE(WriteSnapshotFile(snapshot, "/nonexistent-dir/x.json").ok());
}

// The DRA pool: a slice of eight GPUs per node, the class, claims for running pods allocated on
// their node (each device once) and reserved for them, claims of pending pods unallocated, and
// template claims owned by their pods.
TEST(GeneratorTest, DraPoolIsConsistent) {
  GeneratorOptions options = SmallOptions();
  options.dra_gpu_nodes = 4;
  options.dra_pending_pods = 6;
  const json snapshot = GenerateSnapshot(options);
  const auto slices = ItemsOfKind(snapshot, "ResourceSlice");
  ASSERT_EQ(slices.size(), 4u);
  for (const json& slice : slices) EXPECT_EQ(slice["spec"]["devices"].size(), 8u);
  EXPECT_EQ(ItemsOfKind(snapshot, "DeviceClass").size(), 1u);
  std::map<std::string, json> pods;
  for (const json& pod : ItemsOfKind(snapshot, "Pod")) {
    if (pod["spec"].contains("resourceClaims")) pods[pod["metadata"]["name"]] = pod;
  }
  std::set<std::string> devices;
  int allocated = 0, pending = 0;
  for (const json& claim : ItemsOfKind(snapshot, "ResourceClaim")) {
    if (!claim.contains("status")) {
      ++pending;
      continue;
    }
    ++allocated;
    const json& reserved = claim["status"]["reservedFor"][0];
    ASSERT_TRUE(pods.contains(reserved["name"])) << claim.dump();
    const json& pod = pods[reserved["name"]];
    EXPECT_EQ(reserved["uid"], pod["metadata"]["uid"]);
    const std::string node = pod["spec"]["nodeName"];
    for (const json& r : claim["status"]["allocation"]["devices"]["results"]) {
      EXPECT_EQ(r["pool"], node);
      const std::string id = r["pool"].get<std::string>() + "/" + r["device"].get<std::string>();
      EXPECT_TRUE(devices.insert(id).second) << "allocated twice: " << id;
    }
  }
  EXPECT_GT(allocated, 0);
  EXPECT_EQ(pending, 6);
  EXPECT_EQ(ItemsOfKind(snapshot, "Node").size(), 54u);
}

TEST(GeneratorTest, BundledDefaultSnapshotIsCurrent) {
  const std::string path = std::string(SEXTANT_SOURCE_DIR) + "/test/data/snapshots/default.json";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  const json bundled = json::parse(text.str(), nullptr, false);
  ASSERT_FALSE(bundled.is_discarded()) << path << " is not valid JSON";
  EXPECT_TRUE(bundled == GenerateSnapshot(DefaultSnapshotOptions()))
      << path << " differs from GenerateSnapshot(DefaultSnapshotOptions()); regenerate it with the "
      << "command at the top of include/sextant/generator.h";
}

}  // namespace
}  // namespace sextant
