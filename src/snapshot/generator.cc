// Synthetic snapshot generator. Everything random comes from one std::mt19937_64 through Rng, whose
// distributions are implemented here (std distributions differ between standard libraries).
// Running pods are placed by tracking each node's used resources, so no node is overcommitted.
#include "sextant/generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <random>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sextant {
namespace {

using nlohmann::json;

constexpr int64_t kKi = 1024;
constexpr int64_t kMi = 1024 * kKi;
constexpr int kDefaultMaxPods = 110;
constexpr int kGpusPerNode = 8;

constexpr char kPoolLabel[] = "sextant.io/pool";
constexpr char kGpuResource[] = "nvidia.com/gpu";
constexpr char kGpuProductLabel[] = "nvidia.com/gpu.product";
constexpr char kZoneLabel[] = "topology.kubernetes.io/zone";
constexpr char kHostnameLabel[] = "kubernetes.io/hostname";
constexpr char kArchLabel[] = "kubernetes.io/arch";
constexpr char kH100[] = "NVIDIA-H100-80GB-HBM3";
constexpr char kA100[] = "NVIDIA-A100-SXM4-80GB";

// ---- randomness ----

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  uint64_t Next() { return engine_(); }

  // Uniform in [0, n) for n > 0, by rejection so every value is equally likely.
  uint64_t Below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    uint64_t x = engine_();
    while (x < threshold) x = engine_();
    return x % n;
  }

  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }

  // True with probability p, resolved to parts per million.
  bool Chance(double p) { return Below(1000000) < static_cast<uint64_t>(std::lround(p * 1e6)); }

  // An index drawn with the given non-negative weights; -1 when they sum to zero.
  template <size_t N>
  int Weighted(const std::array<int, N>& weights) {
    int64_t total = 0;
    for (int w : weights) total += std::max(w, 0);
    if (total == 0) return -1;
    int64_t x = static_cast<int64_t>(Below(static_cast<uint64_t>(total)));
    for (size_t i = 0; i < N; ++i) {
      x -= std::max(weights[i], 0);
      if (x < 0) return static_cast<int>(i);
    }
    return static_cast<int>(N - 1);
  }

  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& values) {
    return values[Below(N)];
  }

  // A random RFC 4122 version 4 UUID, as the API server assigns metadata.uid.
  std::string Uuid() {
    uint64_t hi = engine_();
    uint64_t lo = engine_();
    hi = (hi & ~uint64_t{0xF000}) | 0x4000;
    lo = (lo & ~(uint64_t{0xC} << 60)) | (uint64_t{0x8} << 60);
    std::string hex(32, '0');
    constexpr char kDigits[] = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) {
      hex[15 - i] = kDigits[(hi >> (4 * i)) & 0xF];
      hex[31 - i] = kDigits[(lo >> (4 * i)) & 0xF];
    }
    return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                        hex.substr(16, 4), "-", hex.substr(20, 12));
  }

  // Random characters from the alphabet Kubernetes uses for generated name suffixes.
  std::string Suffix(int length) {
    constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    std::string out(length, 'b');
    for (char& c : out) c = kAlphabet[Below(sizeof(kAlphabet) - 1)];
    return out;
  }

 private:
  std::mt19937_64 engine_;
};

// ---- time ----

// RFC 3339 in UTC with second precision, as the API server writes timestamps.
std::string FormatTime(int64_t unix_seconds) {
  int64_t days = unix_seconds / 86400;
  int64_t secs = unix_seconds % 86400;
  if (secs < 0) {
    secs += 86400;
    days -= 1;
  }
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[96];  // room for any int64 fields, which keeps -Wformat-truncation quiet
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
                static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day), static_cast<long long>(secs / 3600),
                static_cast<long long>((secs / 60) % 60), static_cast<long long>(secs % 60));
  return buf;
}

// ---- quantities ----

// A quantity as written in the JSON and its value (cpu in millis, bytes, or a count).
struct Qty {
  int64_t value = 0;
  std::string text;
  bool set() const { return !text.empty(); }
};

Qty CpuMillis(int64_t millis) {
  return {millis, millis % 1000 == 0 ? absl::StrCat(millis / 1000) : absl::StrCat(millis, "m")};
}
Qty MemMi(int64_t mebibytes) {
  return {mebibytes * kMi, mebibytes % 1024 == 0 ? absl::StrCat(mebibytes / 1024, "Gi")
                                                 : absl::StrCat(mebibytes, "Mi")};
}
Qty MemKi(int64_t kibibytes) { return {kibibytes * kKi, absl::StrCat(kibibytes, "Ki")}; }
// Decimal megabytes: "1500M", "3G".
Qty MemMega(int64_t megabytes) {
  return {megabytes * 1000000, megabytes % 1000 == 0 ? absl::StrCat(megabytes / 1000, "G")
                                                     : absl::StrCat(megabytes, "M")};
}
Qty Bytes(int64_t bytes) { return {bytes, absl::StrCat(bytes)}; }
Qty Count(int64_t n) { return {n, absl::StrCat(n)}; }

// The same kind of quantity scaled by num/den (for limits derived from requests).
Qty ScaleMem(const Qty& q, int64_t num, int64_t den) {
  if (q.text.ends_with("M") || q.text.ends_with("G")) return MemMega(q.value / 1000000 * num / den);
  return MemMi(q.value / kMi * num / den);
}

// Members default-initialised so designated initialisers may name only some of them.
struct Resources {
  Qty cpu{};
  Qty memory{};
  Qty ephemeral{};
  Qty gpu{};
};

json ResourcesJson(const Resources& r) {
  json out = json::object();
  if (r.cpu.set()) out["cpu"] = r.cpu.text;
  if (r.memory.set()) out["memory"] = r.memory.text;
  if (r.ephemeral.set()) out["ephemeral-storage"] = r.ephemeral.text;
  if (r.gpu.set()) out[kGpuResource] = r.gpu.text;
  return out;
}

// Amounts of the tracked resources.
struct Amount {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  int64_t ephemeral_bytes = 0;
  int64_t gpus = 0;

  static Amount Of(const Resources& r) {
    return {r.cpu.value, r.memory.value, r.ephemeral.value, r.gpu.value};
  }
  Amount& operator+=(const Amount& o) {
    cpu_millis += o.cpu_millis;
    memory_bytes += o.memory_bytes;
    ephemeral_bytes += o.ephemeral_bytes;
    gpus += o.gpus;
    return *this;
  }
  friend Amount operator+(Amount a, const Amount& b) { return a += b; }
  static Amount Max(const Amount& a, const Amount& b) {
    return {std::max(a.cpu_millis, b.cpu_millis), std::max(a.memory_bytes, b.memory_bytes),
            std::max(a.ephemeral_bytes, b.ephemeral_bytes), std::max(a.gpus, b.gpus)};
  }
};

// ---- pods ----

struct Container {
  std::string name{};
  std::string image{};
  Resources requests{};
  Resources limits{};
  bool sidecar = false;  // an init container with restartPolicy Always
};

json ContainerJson(const Container& c) {
  json resources = json::object();
  json requests = ResourcesJson(c.requests);
  json limits = ResourcesJson(c.limits);
  if (!requests.empty()) resources["requests"] = std::move(requests);
  if (!limits.empty()) resources["limits"] = std::move(limits);
  json out = {{"name", c.name},
              {"image", c.image},
              {"imagePullPolicy", "IfNotPresent"},
              {"resources", std::move(resources)}};
  if (c.sidecar) out["restartPolicy"] = "Always";
  return out;
}

enum class Kind { kInference, kAgent, kBatch, kTraining, kDaemon, kFiller, kMisfit };
enum class Pool { kGpu, kShared, kAny };

// Where a pod may run, mirrored in the spec's selectors; used to place running pods.
struct Placement {
  Pool pool = Pool::kShared;
  bool tolerates_gpu_taint = false;
  std::string gpu_product;              // required nvidia.com/gpu.product, empty for any
  std::string arch;                     // required kubernetes.io/arch, empty for any
  bool hostname_anti_affinity = false;  // required podAntiAffinity on the app label
  bool zone_spread_required = false;    // zone spread with DoNotSchedule
};

// One Deployment, Job or DaemonSet: the pod template its pods share.
struct Workload {
  Kind kind = Kind::kBatch;
  std::string name_space;
  std::string app;         // the "app" label and the stem of pod names
  std::string pod_stem;    // pod name without the random suffix, e.g. "planner-7d4b9c8f6"
  std::string owner_kind;  // ReplicaSet, Job, DaemonSet
  std::string owner_api;
  std::string owner_name;
  std::string owner_uid;
  json labels;
  std::vector<Container> init_containers;
  std::vector<Container> containers;
  Resources overhead;
  std::string runtime_class;
  std::string priority_class;
  int64_t priority = 0;
  bool preempt_never = false;
  std::string restart_policy = "Always";
  json node_selector;
  json affinity;
  json tolerations;
  json spread;
  bool indexed = false;  // indexed Job: pods carry a completion index
  bool gpu_workload =
      false;  // running pods were bound by sextant rather than the default scheduler
  Placement placement;

  // Derived by Finish().
  Amount request;
  std::string qos;
  json spec;

  // Bookkeeping.
  int running = 0;
  int pending = 0;
  std::unordered_set<int> hosts;  // nodes holding a replica (for required anti-affinity)
};

// Effective requests as upstream computes them: max(containers + sidecars, each init container
// plus the sidecars started before it), plus overhead.
Amount EffectiveRequest(const Workload& w) {
  Amount regular;
  for (const Container& c : w.containers) regular += Amount::Of(c.requests);
  Amount sidecars;
  Amount init_peak;
  for (const Container& c : w.init_containers) {
    Amount r = Amount::Of(c.requests);
    if (c.sidecar) {
      regular += r;
      sidecars += r;
      init_peak = Amount::Max(init_peak, sidecars);
    } else {
      init_peak = Amount::Max(init_peak, r + sidecars);
    }
  }
  return Amount::Max(regular, init_peak) + Amount::Of(w.overhead);
}

// The QoS class as upstream computes it from cpu and memory.
std::string QosClass(const Workload& w) {
  bool any = false;
  bool guaranteed = true;
  auto visit = [&](const Container& c) {
    for (auto [req, lim] : {std::pair{&c.requests.cpu, &c.limits.cpu},
                            std::pair{&c.requests.memory, &c.limits.memory}}) {
      if (req->set() || lim->set()) any = true;
      if (!lim->set() || (req->set() && req->value != lim->value)) guaranteed = false;
    }
  };
  for (const Container& c : w.init_containers) visit(c);
  for (const Container& c : w.containers) visit(c);
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

json DefaultTolerations() {
  return json::array({{{"key", "node.kubernetes.io/not-ready"},
                       {"operator", "Exists"},
                       {"effect", "NoExecute"},
                       {"tolerationSeconds", 300}},
                      {{"key", "node.kubernetes.io/unreachable"},
                       {"operator", "Exists"},
                       {"effect", "NoExecute"},
                       {"tolerationSeconds", 300}}});
}

json GpuToleration() {
  return {{"key", kGpuResource}, {"operator", "Exists"}, {"effect", "NoSchedule"}};
}

json AppSelector(const std::string& app) { return {{"matchLabels", {{"app", app}}}}; }

// ---- nodes ----

struct InstanceType {
  const char* name;
  const char* arch;
  int cpus;
  int64_t allocatable_cpu_millis;
  int64_t memory_gib;
  int gpus;
  int weight;  // relative frequency within its pool
};

constexpr std::array<InstanceType, 9> kSharedTypes = {{
    {"m7i.2xlarge", "amd64", 8, 7910, 32, 0, 14},
    {"c7i.4xlarge", "amd64", 16, 15890, 32, 0, 12},
    {"m7i.4xlarge", "amd64", 16, 15890, 64, 0, 22},
    {"c7i.8xlarge", "amd64", 32, 31850, 64, 0, 12},
    {"r7i.8xlarge", "amd64", 32, 31850, 256, 0, 8},
    {"m7i.12xlarge", "amd64", 48, 47810, 192, 0, 8},
    {"m7i.16xlarge", "amd64", 64, 63770, 256, 0, 6},
    {"m7g.4xlarge", "arm64", 16, 15890, 64, 0, 0},
    {"m7g.8xlarge", "arm64", 32, 31850, 128, 0, 0},
}};

struct NodeState {
  std::string name;
  std::string ip;
  std::string zone;
  std::string arch;
  std::string instance_type;
  std::string gpu_product;
  bool gpu = false;
  bool cordoned = false;
  bool prefer_no_schedule = false;
  int max_pods = kDefaultMaxPods;
  int64_t created = 0;
  Qty capacity_cpu, capacity_memory, capacity_ephemeral;
  Qty allocatable_cpu, allocatable_memory, allocatable_ephemeral;
  Amount allocatable;
  Amount used;
  int pods = 0;
};

// ---- the generator ----

struct PodRecord {
  int workload = 0;
  std::string name;
  std::string uid;
  int node = -1;
  int64_t created = 0;
  int64_t started = 0;
  int completion_index = -1;
};

enum class Misfit { kUntoleratedTaint, kAffinityMismatch, kTooManyPods, kCordoned };

double Clamp01(double x) { return std::isnan(x) ? 0 : std::clamp(x, 0.0, 1.0); }

class Generator {
 public:
  explicit Generator(const GeneratorOptions& options)
      : o_(options), rng_(options.seed), dra_rng_(options.seed ^ 0xd7a0d7a0d7a0ULL) {
    o_.zones = std::clamp(o_.zones, 1, 26);
    for (int* n : {&o_.gpu_nodes, &o_.shared_nodes, &o_.pod_capped_nodes, &o_.running_pods,
                   &o_.pending_pods, &o_.pod_disruption_budgets, &o_.dra_gpu_nodes,
                   &o_.dra_pending_pods}) {
      *n = std::max(*n, 0);
    }
    o_.daemonset_pods_per_node = std::clamp(o_.daemonset_pods_per_node, 0, 3);
    // Room for the DaemonSet pods, which run on every node.
    o_.capped_node_max_pods =
        std::clamp(o_.capped_node_max_pods, o_.daemonset_pods_per_node + 1, kDefaultMaxPods);
    for (double* f :
         {&o_.gpu_h100_fraction, &o_.shared_arm64_fraction, &o_.cordoned_fraction,
          &o_.prefer_no_schedule_fraction, &o_.shared_fill_fraction, &o_.gpu_fill_fraction,
          &o_.agent_guaranteed_fraction, &o_.batch_best_effort_fraction, &o_.low_priority_fraction,
          &o_.init_container_fraction, &o_.sidecar_fraction, &o_.overhead_fraction,
          &o_.spread_fraction, &o_.anti_affinity_fraction, &o_.pending_misfit_fraction,
          &o_.pending_scale_up_fraction, &o_.dra_fill_fraction}) {
      *f = Clamp01(*f);
    }
    for (int z = 0; z < o_.zones; ++z) zones_.push_back(o_.region + static_cast<char>('a' + z));
  }

  json Run() {
    MakeNodes();
    PlaceDaemonSets();
    int budget = o_.running_pods;
    FillCappedNodes(budget);
    PlaceRunning(budget);
    MakePending();
    MakeDraPool();
    return Assemble();
  }

 private:
  // ---- nodes ----

  void MakeNodes() {
    const int total = o_.gpu_nodes + o_.shared_nodes;
    const int h100 = static_cast<int>(std::lround(o_.gpu_h100_fraction * o_.gpu_nodes));
    const int arm = static_cast<int>(std::lround(o_.shared_arm64_fraction * o_.shared_nodes));
    std::array<int, kSharedTypes.size()> amd_weights{};
    std::array<int, kSharedTypes.size()> arm_weights{};
    for (size_t i = 0; i < kSharedTypes.size(); ++i) {
      const bool is_arm = std::string_view(kSharedTypes[i].arch) == "arm64";
      (is_arm ? arm_weights : amd_weights)[i] = is_arm ? 1 : kSharedTypes[i].weight;
    }
    for (int i = 0; i < total; ++i) {
      NodeState n;
      n.gpu = i < o_.gpu_nodes;
      n.zone = zones_[i % o_.zones];
      // EKS-style names from a private address unique up to 256,000 nodes:
      // 10.<zone, pool, i / 64000>.<i / 250 % 256>.<i % 250 + 4>.
      n.ip = absl::StrCat("10.", 16 + 9 * (i % o_.zones) + (n.gpu ? 0 : 4) + i / 64000, ".",
                          i / 250 % 256, ".", i % 250 + 4);
      n.name = absl::StrCat("ip-", n.ip, ".ec2.internal");
      std::replace(n.name.begin(), n.name.end() - 13, '.', '-');
      n.created = o_.now_unix_seconds - rng_.Between(2 * 86400, 400 * 86400);
      if (n.gpu) {
        const bool is_h100 = i < h100;
        n.instance_type = is_h100 ? "p5.48xlarge" : "p4de.24xlarge";
        n.gpu_product = is_h100 ? kH100 : kA100;
        n.arch = "amd64";
        n.capacity_cpu = CpuMillis(is_h100 ? 192000 : 96000);
        n.allocatable_cpu = CpuMillis(is_h100 ? 190000 : 95500);
        n.capacity_memory = MemKi(is_h100 ? 2113424436 : 1219724412);
        n.allocatable_memory = MemMi(is_h100 ? 2015 * 1024 : 1120 * 1024);
        n.capacity_ephemeral = MemMega(is_h100 ? 3750000 : 7500000);
        n.allocatable_ephemeral = MemMega(is_h100 ? 3500000 : 7000000);
        n.allocatable.gpus = kGpusPerNode;
      } else {
        const bool is_arm = i - o_.gpu_nodes < arm;
        const InstanceType& t = kSharedTypes[rng_.Weighted(is_arm ? arm_weights : amd_weights)];
        n.instance_type = t.name;
        n.arch = t.arch;
        n.capacity_cpu = CpuMillis(t.cpus * 1000);
        n.allocatable_cpu = CpuMillis(t.allocatable_cpu_millis);
        const int64_t capacity_ki = t.memory_gib * 1024 * 1024 - t.memory_gib * 6210;
        n.capacity_memory = MemKi(capacity_ki);
        n.allocatable_memory = MemKi(capacity_ki * 93 / 100);
        n.capacity_ephemeral = MemKi(104845292);
        n.allocatable_ephemeral = Bytes(95551679124);
      }
      n.allocatable.cpu_millis = n.allocatable_cpu.value;
      n.allocatable.memory_bytes = n.allocatable_memory.value;
      n.allocatable.ephemeral_bytes = n.allocatable_ephemeral.value;
      nodes_.push_back(std::move(n));
      (nodes_.back().gpu ? gpu_nodes_ : shared_nodes_).push_back(i);
    }
    // Distinct random nodes for each marking.
    std::vector<int> order(total);
    for (int i = 0; i < total; ++i) order[i] = i;
    for (int i = total - 1; i > 0; --i) std::swap(order[i], order[rng_.Below(i + 1)]);
    const int cordoned = static_cast<int>(std::lround(o_.cordoned_fraction * total));
    const int prefer = static_cast<int>(std::lround(o_.prefer_no_schedule_fraction * total));
    int next = 0;
    for (int k = 0; k < cordoned && next < total; ++k) nodes_[order[next++]].cordoned = true;
    for (int k = 0; k < prefer && next < total; ++k) {
      nodes_[order[next++]].prefer_no_schedule = true;
    }
    for (int k = 0; k < o_.pod_capped_nodes && next < total; ++next) {
      NodeState& n = nodes_[order[next]];
      if (n.gpu) continue;
      n.max_pods = o_.capped_node_max_pods;
      capped_nodes_.push_back(order[next]);
      ++k;
    }
  }

  json NodeJson(const NodeState& n) {
    json labels = {{"beta.kubernetes.io/arch", n.arch},
                   {"beta.kubernetes.io/os", "linux"},
                   {kArchLabel, n.arch},
                   {kHostnameLabel, n.name},
                   {"kubernetes.io/os", "linux"},
                   {"node.kubernetes.io/instance-type", n.instance_type},
                   {"topology.kubernetes.io/region", o_.region},
                   {kZoneLabel, n.zone},
                   {kPoolLabel, n.gpu ? "gpu" : "shared"},
                   {"eks.amazonaws.com/nodegroup",
                    n.gpu ? "gpu-" + n.instance_type : "shared-" + n.instance_type}};
    json capacity = {{"cpu", n.capacity_cpu.text},
                     {"memory", n.capacity_memory.text},
                     {"ephemeral-storage", n.capacity_ephemeral.text},
                     {"hugepages-1Gi", "0"},
                     {"hugepages-2Mi", "0"},
                     {"pods", absl::StrCat(n.max_pods)}};
    json allocatable = capacity;
    allocatable["cpu"] = n.allocatable_cpu.text;
    allocatable["memory"] = n.allocatable_memory.text;
    allocatable["ephemeral-storage"] = n.allocatable_ephemeral.text;
    json taints = json::array();
    if (n.gpu) {
      labels[kGpuProductLabel] = n.gpu_product;
      labels["nvidia.com/gpu.count"] = absl::StrCat(kGpusPerNode);
      labels["nvidia.com/gpu.memory"] = "81559";
      capacity[kGpuResource] = absl::StrCat(kGpusPerNode);
      allocatable[kGpuResource] = absl::StrCat(kGpusPerNode);
      taints.push_back({{"key", kGpuResource}, {"value", "present"}, {"effect", "NoSchedule"}});
    }
    if (n.prefer_no_schedule) {
      taints.push_back({{"key", "DeletionCandidateOfClusterAutoscaler"},
                        {"value", absl::StrCat(o_.now_unix_seconds - 900)},
                        {"effect", "PreferNoSchedule"}});
    }
    const std::string instance_id = rng_.Uuid().substr(0, 8);
    const std::string instance_id_tail = rng_.Uuid().substr(24, 9);
    json spec = {
        {"providerID", absl::StrCat("aws:///", n.zone, "/i-0", instance_id, instance_id_tail)}};
    if (n.cordoned) {
      spec["unschedulable"] = true;
      taints.push_back({{"key", "node.kubernetes.io/unschedulable"},
                        {"effect", "NoSchedule"},
                        {"timeAdded", FormatTime(o_.now_unix_seconds - 3600)}});
    }
    if (!taints.empty()) spec["taints"] = std::move(taints);
    const std::string heartbeat = FormatTime(o_.now_unix_seconds - 20);
    return {{"apiVersion", "v1"},
            {"kind", "Node"},
            {"metadata",
             {{"name", n.name},
              {"uid", rng_.Uuid()},
              {"creationTimestamp", FormatTime(n.created)},
              {"labels", std::move(labels)}}},
            {"spec", std::move(spec)},
            {"status",
             {{"capacity", std::move(capacity)},
              {"allocatable", std::move(allocatable)},
              {"addresses", json::array({{{"type", "InternalIP"}, {"address", n.ip}},
                                         {{"type", "Hostname"}, {"address", n.name}}})},
              {"conditions", json::array({{{"type", "Ready"},
                                           {"status", "True"},
                                           {"reason", "KubeletReady"},
                                           {"message", "kubelet is posting ready status"},
                                           {"lastHeartbeatTime", heartbeat},
                                           {"lastTransitionTime", FormatTime(n.created + 60)}}})},
              {"nodeInfo",
               {{"architecture", n.arch},
                {"containerRuntimeVersion", "containerd://1.7.27"},
                {"kernelVersion", "6.1.141-155.222.amzn2023.x86_64"},
                {"kubeletVersion", "v1.33.4-eks-1a2b3c4"},
                {"operatingSystem", "linux"},
                {"osImage", "Amazon Linux 2023.8.20250721"}}}}}};
  }

  // ---- workloads ----

  // A name unique among the apps generated so far: the base, then base-2, base-3, ...
  std::string UniqueApp(const std::string& name_space, const std::string& base) {
    int& n = app_names_[name_space + "/" + base];
    ++n;
    return n == 1 ? base : absl::StrCat(base, "-", n);
  }

  Workload& NewDeployment(Kind kind, const std::string& name_space, const std::string& base) {
    Workload& w = workloads_.emplace_back();
    w.kind = kind;
    w.name_space = name_space;
    w.app = UniqueApp(name_space, base);
    const std::string hash = rng_.Suffix(rng_.Between(9, 10));
    w.pod_stem = absl::StrCat(w.app, "-", hash);
    w.owner_kind = "ReplicaSet";
    w.owner_api = "apps/v1";
    w.owner_name = w.pod_stem;
    w.owner_uid = rng_.Uuid();
    w.labels = {{"app", w.app}, {"app.kubernetes.io/name", w.app}, {"pod-template-hash", hash}};
    return w;
  }

  Workload& NewJob(Kind kind, const std::string& name_space, const std::string& base) {
    Workload& w = workloads_.emplace_back();
    w.kind = kind;
    w.name_space = name_space;
    w.app = UniqueApp(name_space, absl::StrCat(base, "-", 29400000 + rng_.Below(600000)));
    w.pod_stem = w.app;
    w.owner_kind = "Job";
    w.owner_api = "batch/v1";
    w.owner_name = w.app;
    w.owner_uid = rng_.Uuid();
    w.labels = {{"app", w.app},
                {"batch.kubernetes.io/controller-uid", w.owner_uid},
                {"batch.kubernetes.io/job-name", w.app},
                {"controller-uid", w.owner_uid},
                {"job-name", w.app}};
    w.restart_policy = rng_.Chance(0.5) ? "Never" : "OnFailure";
    return w;
  }

  void SetPriority(Workload& w, const std::string& priority_class) {
    static const std::unordered_map<std::string, int64_t> kValues = {
        {"system-node-critical", 2000001000},
        {"inference-critical", 1000000},
        {"agent-service", 100000},
        {"batch-default", 1000},
        {"batch-low", 100}};
    w.priority_class = priority_class;
    w.priority = kValues.at(priority_class);
    w.preempt_never = priority_class == "batch-low";
  }

  // A GPU toleration and a selector on the GPU pool, as nodeSelector or required node affinity.
  void PinToGpuPool(Workload& w, const std::string& product, bool tolerate) {
    w.placement.pool = Pool::kGpu;
    w.placement.gpu_product = product;
    w.placement.tolerates_gpu_taint = tolerate;
    w.gpu_workload = true;
    if (tolerate) w.tolerations.push_back(GpuToleration());
    if (rng_.Chance(0.5)) {
      w.node_selector = {{kPoolLabel, "gpu"}};
      if (!product.empty()) w.node_selector[kGpuProductLabel] = product;
    } else {
      json expressions = json::array(
          {{{"key", kPoolLabel}, {"operator", "In"}, {"values", json::array({"gpu"})}}});
      if (!product.empty()) {
        expressions.push_back(
            {{"key", kGpuProductLabel}, {"operator", "In"}, {"values", json::array({product})}});
      }
      w.affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
          {"nodeSelectorTerms", json::array({{{"matchExpressions", std::move(expressions)}}})}};
    }
  }

  // Topology spread and pod anti-affinity for a service app.
  void AddServiceSpreading(Workload& w) {
    if (rng_.Chance(o_.spread_fraction)) {
      const bool required = rng_.Chance(0.3);
      w.placement.zone_spread_required = required;
      w.spread.push_back({{"maxSkew", 1},
                          {"topologyKey", kZoneLabel},
                          {"whenUnsatisfiable", required ? "DoNotSchedule" : "ScheduleAnyway"},
                          {"labelSelector", AppSelector(w.app)}});
      if (rng_.Chance(0.4)) {
        w.spread.push_back({{"maxSkew", 2},
                            {"topologyKey", kHostnameLabel},
                            {"whenUnsatisfiable", "ScheduleAnyway"},
                            {"labelSelector", AppSelector(w.app)},
                            {"matchLabelKeys", json::array({"pod-template-hash"})}});
      }
    }
    if (rng_.Chance(o_.anti_affinity_fraction)) {
      json term = {{"labelSelector", AppSelector(w.app)}, {"topologyKey", kHostnameLabel}};
      if (rng_.Below(3) == 0) {
        w.placement.hostname_anti_affinity = true;
        w.affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] =
            json::array({std::move(term)});
      } else {
        w.affinity["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] =
            json::array({{{"weight", 100}, {"podAffinityTerm", std::move(term)}}});
      }
    }
  }

  int MakeInference() {
    static constexpr std::array<const char*, 10> kApps = {
        "llama-3-70b-chat", "llama-3-8b-instruct", "mixtral-8x7b", "qwen2-72b",
        "bge-embed",        "rerank-v2",           "whisper-asr",  "sdxl-render",
        "code-assist",      "guard-classifier"};
    Workload& w = NewDeployment(Kind::kInference, "inference", rng_.Pick(kApps));
    SetPriority(w, "inference-critical");
    const int64_t gpus =
        std::array<int64_t, 4>{1, 2, 4, 8}[rng_.Weighted(std::array{40, 25, 20, 15})];
    const int64_t cpu = gpus * rng_.Pick(std::array<int64_t, 4>{4000, 6000, 8000, 11000});
    const int64_t mem_mi = gpus * rng_.Pick(std::array<int64_t, 4>{32768, 65536, 98304, 122880});
    Container server{.name = "server",
                     .image = rng_.Chance(0.6) ? "vllm/vllm-openai:v0.9.2"
                                               : "nvcr.io/nvidia/tritonserver:25.04-py3"};
    server.requests = {.cpu = CpuMillis(cpu), .memory = MemMi(mem_mi), .gpu = Count(gpus)};
    server.limits = server.requests;
    w.containers.push_back(std::move(server));
    if (rng_.Chance(0.5)) {
      Container metrics{.name = "metrics-exporter", .image = "prom/statsd-exporter:v0.28.0"};
      metrics.requests = {.cpu = CpuMillis(100), .memory = MemMi(128)};
      metrics.limits = metrics.requests;
      w.containers.push_back(std::move(metrics));
    }
    PinToGpuPool(w, rng_.Chance(0.3) ? kH100 : "", true);
    AddServiceSpreading(w);
    return Finish(w);
  }

  int MakeAgent() {
    static constexpr std::array<const char*, 10> kApps = {
        "planner",     "retriever",    "tool-router",     "memory-store", "browser-agent",
        "code-runner", "eval-harness", "session-gateway", "vector-cache", "workflow-engine"};
    Workload& w = NewDeployment(Kind::kAgent, "agents", rng_.Pick(kApps));
    SetPriority(w, "agent-service");
    const bool guaranteed = rng_.Chance(o_.agent_guaranteed_fraction);
    const int64_t cpu = std::array<int64_t, 5>{250, 500, 1000, 2000,
                                               4000}[rng_.Weighted(std::array{20, 30, 25, 17, 8})];
    const int64_t mem_mi = rng_.Pick(std::array<int64_t, 6>{512, 1024, 1536, 2048, 4096, 8192});
    Container agent{.name = "agent",
                    .image = absl::StrCat("ghcr.io/example/", w.app, ":1.", rng_.Below(40))};
    agent.requests = {.cpu = CpuMillis(cpu), .memory = MemMi(mem_mi)};
    if (guaranteed) {
      agent.limits = agent.requests;
    } else {
      if (rng_.Chance(0.5)) agent.limits.cpu = CpuMillis(2 * cpu);
      agent.limits.memory = rng_.Chance(0.5) ? MemMi(2 * mem_mi) : MemMi(mem_mi);
      if (!agent.limits.cpu.set() && agent.limits.memory.value == agent.requests.memory.value) {
        agent.limits.memory = MemMi(mem_mi * 3 / 2);
      }
    }
    w.containers.push_back(std::move(agent));
    if (rng_.Chance(o_.sidecar_fraction)) {
      Container envoy{.name = "envoy", .image = "envoyproxy/envoy:v1.34.1", .sidecar = true};
      envoy.requests = {.cpu = CpuMillis(100), .memory = MemMi(128)};
      envoy.limits = guaranteed ? envoy.requests : Resources{.memory = MemMi(256)};
      w.init_containers.push_back(std::move(envoy));
    }
    if (rng_.Chance(0.6)) {
      w.affinity["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] =
          json::array({{{"weight", 50},
                        {"preference",
                         {{"matchExpressions",
                           json::array({{{"key", kZoneLabel},
                                         {"operator", "In"},
                                         {"values", json::array({PickFrom(zones_)})}}})}}}}});
    }
    AddServiceSpreading(w);
    return Finish(w);
  }

  // Batch priority, init container and sidecar choices shared by batch and training jobs.
  void AddJobExtras(Workload& w, bool best_effort, const Resources& init_request,
                    const Resources& sidecar_request) {
    SetPriority(w, rng_.Chance(o_.low_priority_fraction) ? "batch-low" : "batch-default");
    if (rng_.Chance(o_.init_container_fraction)) {
      Container init{.name = w.kind == Kind::kTraining ? "download-checkpoint" : "fetch-inputs",
                     .image = "amazon/aws-cli:2.27.50"};
      if (!best_effort) {
        init.requests = init_request;
        init.limits = init_request;
      }
      w.init_containers.push_back(std::move(init));
    }
    if (rng_.Chance(o_.sidecar_fraction)) {
      Container sidecar{.name = "log-shipper", .image = "fluent/fluent-bit:4.0.3", .sidecar = true};
      if (!best_effort) {
        sidecar.requests = sidecar_request;
        sidecar.limits = {.memory = ScaleMem(sidecar_request.memory, 4, 1)};
      }
      // Before or after the plain init container: order decides the init peak.
      auto at = rng_.Chance(0.5) ? w.init_containers.begin() : w.init_containers.end();
      w.init_containers.insert(at, std::move(sidecar));
    }
  }

  int MakeBatch() {
    static constexpr std::array<const char*, 8> kJobs = {
        "etl-ingest", "feature-build", "embedding-backfill", "log-compact",
        "report-gen", "data-validate", "dedup-shards",       "tokenize-corpus"};
    Workload& w = NewJob(Kind::kBatch, "batch", rng_.Pick(kJobs));
    const bool best_effort = rng_.Chance(o_.batch_best_effort_fraction);
    Container main{.name = "main", .image = "python:3.12-slim"};
    if (!best_effort) {
      const int64_t cpu = rng_.Pick(std::array<int64_t, 5>{500, 1000, 2000, 4000, 8000});
      main.requests.cpu = CpuMillis(cpu);
      main.limits.cpu = CpuMillis(2 * cpu);
      main.requests.memory =
          rng_.Chance(0.25)
              ? MemMega(rng_.Pick(std::array<int64_t, 4>{1500, 3000, 6000, 12000}))
              : MemMi(rng_.Pick(std::array<int64_t, 6>{1024, 2048, 4096, 8192, 16384, 32768}));
      main.limits.memory = ScaleMem(main.requests.memory, 3, 2);
      if (rng_.Chance(0.2)) {
        main.requests.ephemeral = rng_.Chance(0.5) ? MemMi(10 * 1024) : MemMega(20000);
        main.limits.ephemeral = main.requests.ephemeral;
      }
    }
    w.containers.push_back(std::move(main));
    // Drawn one by one: the order in which function arguments are evaluated is unspecified.
    const int64_t init_cpu = rng_.Pick(std::array<int64_t, 3>{500, 1000, 2000});
    const int64_t init_mem_mi = rng_.Pick(std::array<int64_t, 3>{512, 2048, 4096});
    AddJobExtras(w, best_effort, {.cpu = CpuMillis(init_cpu), .memory = MemMi(init_mem_mi)},
                 {.cpu = CpuMillis(50), .memory = MemMi(64)});
    if (rng_.Chance(o_.overhead_fraction)) {
      w.runtime_class = "kata-qemu";
      w.overhead = {.cpu = CpuMillis(250), .memory = MemMi(160)};
    }
    if (rng_.Chance(0.3)) {
      w.node_selector = {{kArchLabel, "amd64"}};
      w.placement.arch = "amd64";
    }
    return Finish(w);
  }

  int MakeTraining() {
    static constexpr std::array<const char*, 6> kJobs = {
        "pretrain-7b", "finetune-llama", "rlhf-ppo", "distill-small", "sft-code", "reward-model"};
    Workload& w = NewJob(Kind::kTraining, "training", rng_.Pick(kJobs));
    w.indexed = true;
    w.labels["training.kubeflow.org/job-role"] = "worker";
    const int64_t gpus = rng_.Chance(0.7) ? 8 : 4;
    const int64_t cpu = gpus * rng_.Pick(std::array<int64_t, 4>{4000, 6000, 8000, 11000});
    const int64_t mem_mi = gpus * rng_.Pick(std::array<int64_t, 3>{32768, 65536, 114688});
    Container trainer{.name = "pytorch", .image = "nvcr.io/nvidia/pytorch:25.04-py3"};
    trainer.requests = {.cpu = CpuMillis(cpu), .memory = MemMi(mem_mi), .gpu = Count(gpus)};
    trainer.limits = {.cpu = CpuMillis(cpu * 3 / 2), .memory = MemMi(mem_mi), .gpu = Count(gpus)};
    if (rng_.Chance(0.5)) {
      trainer.requests.ephemeral = MemMega(100000);
      trainer.limits.ephemeral = MemMega(200000);
    }
    w.containers.push_back(std::move(trainer));
    AddJobExtras(w, false, {.cpu = CpuMillis(2000), .memory = MemMi(8192)},
                 {.cpu = CpuMillis(100), .memory = MemMi(256)});
    const int product = static_cast<int>(rng_.Below(4));
    PinToGpuPool(w, product == 0 ? kH100 : product == 1 ? kA100 : "", true);
    return Finish(w);
  }

  int MakeDaemonSet(int which) {
    struct Spec {
      const char* name_space;
      const char* name;
      const char* image;
      Resources requests;
      Resources limits;
    };
    const std::array<Spec, 3> kDaemons = {{
        {"kube-system",
         "kube-proxy",
         "602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:v1.33.0",
         {.cpu = CpuMillis(100)},
         {}},
        {"monitoring",
         "node-exporter",
         "quay.io/prometheus/node-exporter:v1.9.1",
         {.cpu = CpuMillis(100), .memory = MemMi(180)},
         {.cpu = CpuMillis(250), .memory = MemMi(300)}},
        {"logging",
         "fluent-bit",
         "fluent/fluent-bit:4.0.3",
         {.cpu = CpuMillis(50), .memory = MemMi(64)},
         {.memory = MemMi(256)}},
    }};
    const Spec& s = kDaemons[which];
    Workload& w = workloads_.emplace_back();
    w.kind = Kind::kDaemon;
    w.name_space = s.name_space;
    w.app = s.name;
    w.pod_stem = s.name;
    w.owner_kind = "DaemonSet";
    w.owner_api = "apps/v1";
    w.owner_name = s.name;
    w.owner_uid = rng_.Uuid();
    w.labels = {{"app", w.app},
                {"controller-revision-hash", rng_.Suffix(10)},
                {"pod-template-generation", "1"}};
    SetPriority(w, "system-node-critical");
    w.placement.pool = Pool::kAny;
    w.placement.tolerates_gpu_taint = true;
    w.tolerations = json::array({{{"operator", "Exists"}}});
    w.containers.push_back(
        {.name = s.name, .image = s.image, .requests = s.requests, .limits = s.limits});
    return Finish(w);
  }

  // Small agent pods that fill the pod-capped nodes to their pod limit.
  int MakeFiller() {
    Workload& w = NewDeployment(Kind::kFiller, "agents", "tool-sandbox");
    SetPriority(w, "agent-service");
    w.containers.push_back({.name = "sandbox",
                            .image = "ghcr.io/example/tool-sandbox:0.7",
                            .requests = {.cpu = CpuMillis(50), .memory = MemMi(64)},
                            .limits = {.cpu = CpuMillis(500), .memory = MemMi(256)}});
    return Finish(w);
  }

  int MakeMisfit(Misfit misfit) {
    switch (misfit) {
      case Misfit::kUntoleratedTaint: {
        // A GPU notebook whose author forgot the GPU toleration.
        Workload& w = NewDeployment(Kind::kMisfit, "training", "jupyter-gpu");
        SetPriority(w, "batch-default");
        w.containers.push_back(
            {.name = "notebook",
             .image = "quay.io/jupyter/pytorch-notebook:cuda12-2025-07-14",
             .requests = {.cpu = CpuMillis(4000), .memory = MemMi(32768), .gpu = Count(1)},
             .limits = {.memory = MemMi(32768), .gpu = Count(1)}});
        PinToGpuPool(w, "", false);
        return Finish(w);
      }
      case Misfit::kAffinityMismatch: {
        if (rng_.Chance(0.5)) {
          // Training that asks for a GPU product the cluster does not have.
          Workload& w = NewJob(Kind::kMisfit, "training", "pretrain-b200");
          SetPriority(w, "batch-default");
          w.containers.push_back(
              {.name = "pytorch",
               .image = "nvcr.io/nvidia/pytorch:25.04-py3",
               .requests = {.cpu = CpuMillis(64000), .memory = MemMi(524288), .gpu = Count(8)},
               .limits = {.memory = MemMi(524288), .gpu = Count(8)}});
          PinToGpuPool(w, "NVIDIA-B200", true);
          w.node_selector = nullptr;
          w.affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
              {"nodeSelectorTerms",
               json::array({{{"matchExpressions",
                              json::array({{{"key", kGpuProductLabel},
                                            {"operator", "In"},
                                            {"values", json::array({"NVIDIA-B200"})}}})}}})}};
          return Finish(w);
        }
        // An agent pinned to a zone the cluster does not span.
        Workload& w = NewDeployment(Kind::kMisfit, "agents", "edge-relay");
        SetPriority(w, "agent-service");
        w.containers.push_back({.name = "relay",
                                .image = "ghcr.io/example/edge-relay:2.3",
                                .requests = {.cpu = CpuMillis(500), .memory = MemMi(1024)},
                                .limits = {.cpu = CpuMillis(500), .memory = MemMi(1024)}});
        w.node_selector = {{kZoneLabel, o_.region + "z"}};
        return Finish(w);
      }
      case Misfit::kTooManyPods: {
        // A cache that uses local storage of one node, which is full.
        Workload& w = NewDeployment(Kind::kMisfit, "agents", "local-cache");
        SetPriority(w, "agent-service");
        w.containers.push_back({.name = "cache",
                                .image = "redis:7.4-alpine",
                                .requests = {.cpu = CpuMillis(100), .memory = MemMi(256)},
                                .limits = {.memory = MemMi(512)}});
        w.node_selector = {{kHostnameLabel, nodes_[PickFrom(full_capped_nodes_)].name}};
        return Finish(w);
      }
      case Misfit::kCordoned: {
        // A reader of a local volume on a node that is being drained.
        Workload& w = NewJob(Kind::kMisfit, "batch", "local-pv-reader");
        SetPriority(w, "batch-default");
        w.tolerations.push_back(GpuToleration());
        w.containers.push_back({.name = "reader",
                                .image = "busybox:1.37",
                                .requests = {.cpu = CpuMillis(200), .memory = MemMi(256)},
                                .limits = {.cpu = CpuMillis(500), .memory = MemMi(256)}});
        w.affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
            {"nodeSelectorTerms",
             json::array(
                 {{{"matchExpressions",
                    json::array({{{"key", kHostnameLabel},
                                  {"operator", "In"},
                                  {"values",
                                   json::array({nodes_[PickFrom(cordoned_nodes_)].name})}}})}}})}};
        return Finish(w);
      }
    }
    return -1;
  }

  template <typename T>
  const T& PickFrom(const std::vector<T>& v) {
    return v[rng_.Below(v.size())];
  }

  // Computes the derived fields and the shared pod spec; returns the workload's index.
  int Finish(Workload& w) {
    w.request = EffectiveRequest(w);
    w.qos = QosClass(w);
    json spec = {{"dnsPolicy", "ClusterFirst"},
                 {"preemptionPolicy", w.preempt_never ? "Never" : "PreemptLowerPriority"},
                 {"priority", w.priority},
                 {"priorityClassName", w.priority_class},
                 {"restartPolicy", w.restart_policy},
                 {"serviceAccountName", "default"},
                 {"terminationGracePeriodSeconds", 30}};
    json containers = json::array();
    for (const Container& c : w.containers) containers.push_back(ContainerJson(c));
    spec["containers"] = std::move(containers);
    if (!w.init_containers.empty()) {
      json init = json::array();
      for (const Container& c : w.init_containers) init.push_back(ContainerJson(c));
      spec["initContainers"] = std::move(init);
    }
    json tolerations = w.tolerations.is_array() ? w.tolerations : json::array();
    for (json& t : DefaultTolerations()) tolerations.push_back(std::move(t));
    spec["tolerations"] = std::move(tolerations);
    if (!w.node_selector.is_null()) spec["nodeSelector"] = w.node_selector;
    if (!w.affinity.is_null()) spec["affinity"] = w.affinity;
    if (!w.spread.is_null()) spec["topologySpreadConstraints"] = w.spread;
    if (!w.runtime_class.empty()) {
      spec["runtimeClassName"] = w.runtime_class;
      spec["overhead"] = ResourcesJson(w.overhead);
    }
    w.spec = std::move(spec);
    return static_cast<int>(workloads_.size()) - 1;
  }

  // ---- placement of running pods ----

  bool Admits(int node_index, const Workload& w, int fill_permille, const std::string& zone) const {
    const NodeState& n = nodes_[node_index];
    const Placement& p = w.placement;
    if ((p.pool == Pool::kGpu && !n.gpu) || (p.pool == Pool::kShared && n.gpu)) return false;
    if (n.gpu && !p.tolerates_gpu_taint) return false;
    if (!p.gpu_product.empty() && p.gpu_product != n.gpu_product) return false;
    if (!p.arch.empty() && p.arch != n.arch) return false;
    if (!zone.empty() && zone != n.zone) return false;
    if (p.hostname_anti_affinity && w.hosts.contains(node_index)) return false;
    if (n.pods + 1 > n.max_pods) return false;
    const Amount after = n.used + w.request;
    if (after.ephemeral_bytes > n.allocatable.ephemeral_bytes) return false;
    // Within fill_permille / 1000 of allocatable for cpu, memory and GPUs (which implies <= 1).
    auto within = [fill_permille](int64_t used, int64_t allocatable) {
      return static_cast<__int128>(used) * 1000 <=
             static_cast<__int128>(allocatable) * fill_permille;
    };
    return within(after.cpu_millis, n.allocatable.cpu_millis) &&
           within(after.memory_bytes, n.allocatable.memory_bytes) &&
           within(after.gpus, n.allocatable.gpus);
  }

  // A node for one more running replica of w, or -1: random probes, then a scan from a random
  // start; first within the pool's fill fraction, then up to allocatable.
  int FindNode(const Workload& w) {
    const std::vector<int>& pool = w.placement.pool == Pool::kGpu ? gpu_nodes_ : shared_nodes_;
    if (pool.empty()) return -1;
    const double fill =
        w.placement.pool == Pool::kGpu ? o_.gpu_fill_fraction : o_.shared_fill_fraction;
    const std::string zone =
        w.placement.zone_spread_required ? zones_[w.running % zones_.size()] : std::string();
    for (int pass = 0; pass < 2; ++pass) {
      const int permille = pass == 0 ? static_cast<int>(std::lround(fill * 1000)) : 1000;
      const std::string& pass_zone = pass == 0 ? zone : kNoZone;
      for (int probe = 0; probe < 32; ++probe) {
        const int candidate = PickFrom(pool);
        if (Admits(candidate, w, permille, pass_zone)) return candidate;
      }
      const size_t start = rng_.Below(pool.size());
      for (size_t k = 0; k < pool.size(); ++k) {
        const int candidate = pool[(start + k) % pool.size()];
        if (Admits(candidate, w, permille, pass_zone)) return candidate;
      }
    }
    return -1;
  }

  void Bind(int workload, int node, int completion_index = -1) {
    Workload& w = workloads_[workload];
    NodeState& n = nodes_[node];
    n.used += w.request;
    n.pods += 1;
    w.hosts.insert(node);
    w.running += 1;
    PodRecord pod = NewPod(workload, completion_index);
    pod.node = node;
    pod.created = o_.now_unix_seconds - rng_.Between(600, 20 * 86400);
    pod.created = std::max(pod.created, n.created + 60);
    pod.started = pod.created + rng_.Between(1, 30);
    pods_.push_back(std::move(pod));
  }

  PodRecord NewPod(int workload, int completion_index) {
    const Workload& w = workloads_[workload];
    PodRecord pod;
    pod.workload = workload;
    pod.completion_index = completion_index;
    const std::string stem =
        completion_index >= 0 ? absl::StrCat(w.pod_stem, "-", completion_index) : w.pod_stem;
    do {
      pod.name = absl::StrCat(stem, "-", rng_.Suffix(5));
    } while (!pod_names_.insert(absl::StrCat(w.name_space, "/", pod.name)).second);
    pod.uid = rng_.Uuid();
    return pod;
  }

  void PlaceDaemonSets() {
    for (int d = 0; d < o_.daemonset_pods_per_node; ++d) {
      const int w = MakeDaemonSet(d);
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (Admits(static_cast<int>(i), workloads_[w], 1000, kNoZone)) Bind(w, static_cast<int>(i));
      }
    }
  }

  void FillCappedNodes(int& budget) {
    if (capped_nodes_.empty() || budget == 0) return;
    const int w = MakeFiller();
    for (int node : capped_nodes_) {
      while (budget > 0 && Admits(node, workloads_[w], 1000, kNoZone)) {
        Bind(w, node);
        --budget;
      }
      if (nodes_[node].pods == nodes_[node].max_pods) full_capped_nodes_.push_back(node);
    }
  }

  int MakeKind(int kind) {
    switch (kind) {
      case 0:
        return MakeInference();
      case 1:
        return MakeAgent();
      case 2:
        return MakeBatch();
      default:
        return MakeTraining();
    }
  }

  static std::array<int, 4> Weights(const WorkloadMix& mix) {
    return {mix.inference, mix.agent, mix.batch, mix.training};
  }

  void PlaceRunning(int budget) {
    std::array<int, 4> weights = Weights(o_.running_mix);
    if (gpu_nodes_.empty()) weights[0] = weights[3] = 0;
    if (shared_nodes_.empty()) weights[1] = weights[2] = 0;
    // Consecutive workloads of a kind that could not place a single replica.
    std::array<int, 4> failures{};
    while (budget > 0) {
      const int kind = rng_.Weighted(weights);
      if (kind < 0) break;
      const int replicas = static_cast<int>(std::min<int64_t>(budget, ReplicaCount(kind)));
      const int w = MakeKind(kind);
      for (int r = 0; r < replicas; ++r) {
        const int node = FindNode(workloads_[w]);
        if (node < 0) break;
        Bind(w, node, workloads_[w].indexed ? r : -1);
        --budget;
      }
      if (workloads_[w].running == 0) {
        workloads_.pop_back();  // nothing refers to it yet
        if (++failures[kind] >= 20) weights[kind] = 0;
      } else {
        failures[kind] = 0;
      }
    }
  }

  int64_t ReplicaCount(int kind) {
    switch (kind) {
      case 0:
        return rng_.Between(1, 6);
      case 1:
        return rng_.Between(1, 6);
      case 2:
        return rng_.Chance(0.5) ? 1 : rng_.Between(2, 8);
      default:
        return rng_.Chance(0.4) ? 1 : rng_.Between(2, 4);
    }
  }

  // ---- pending pods ----

  void AddPending(int workload, int completion_index) {
    PodRecord pod = NewPod(workload, completion_index);
    pending_clock_ += rng_.Between(1, 4);
    pod.created = pending_clock_;
    workloads_[workload].pending += 1;
    pods_.push_back(std::move(pod));
  }

  void MakePending() {
    pending_clock_ = o_.now_unix_seconds - 4 * static_cast<int64_t>(o_.pending_pods) - 60;
    for (int i = 0; i < static_cast<int>(nodes_.size()); ++i) {
      if (nodes_[i].cordoned) cordoned_nodes_.push_back(i);
    }
    std::vector<Misfit> scenarios = {Misfit::kAffinityMismatch};
    if (!gpu_nodes_.empty()) scenarios.insert(scenarios.begin(), Misfit::kUntoleratedTaint);
    if (!full_capped_nodes_.empty()) scenarios.push_back(Misfit::kTooManyPods);
    if (!cordoned_nodes_.empty()) scenarios.push_back(Misfit::kCordoned);
    const int misfits = static_cast<int>(std::lround(o_.pending_misfit_fraction * o_.pending_pods));
    // Running service apps a pending pod may scale up, by kind.
    std::array<std::vector<int>, 2> services;
    for (size_t i = 0; i < workloads_.size(); ++i) {
      if (workloads_[i].kind == Kind::kInference) services[0].push_back(static_cast<int>(i));
      if (workloads_[i].kind == Kind::kAgent) services[1].push_back(static_cast<int>(i));
    }
    std::array<int, 4> weights = Weights(o_.pending_mix);
    int left = o_.pending_pods - misfits;
    int misfit_next = 0;
    int misfits_left = misfits;
    while (left > 0 || misfits_left > 0) {
      // Interleave the misfits evenly with the regular pods.
      if (misfits_left > 0 && (left == 0 || rng_.Below(static_cast<uint64_t>(left + misfits_left)) <
                                                static_cast<uint64_t>(misfits_left))) {
        AddPending(MakeMisfit(scenarios[misfit_next++ % scenarios.size()]), -1);
        --misfits_left;
        continue;
      }
      int kind = rng_.Weighted(weights);
      if (kind < 0) kind = 2;
      const int count = static_cast<int>(std::min<int64_t>(left, ReplicaCount(kind)));
      int w = -1;
      if (kind <= 1 && !services[kind].empty() && rng_.Chance(o_.pending_scale_up_fraction)) {
        w = PickFrom(services[kind]);
      } else {
        w = MakeKind(kind);
      }
      for (int r = 0; r < count; ++r) {
        AddPending(w, workloads_[w].indexed ? r : -1);
      }
      left -= count;
    }
  }

  // ---- output ----

  json PodJson(const PodRecord& p) {
    const Workload& w = workloads_[p.workload];
    json labels = w.labels;
    json spec = w.spec;
    if (p.completion_index >= 0) {
      labels["batch.kubernetes.io/job-completion-index"] = absl::StrCat(p.completion_index);
      spec["hostname"] = absl::StrCat(w.pod_stem, "-", p.completion_index);
    }
    json status = {{"phase", p.node >= 0 ? "Running" : "Pending"}, {"qosClass", w.qos}};
    if (p.node >= 0) {
      const NodeState& n = nodes_[p.node];
      spec["nodeName"] = n.name;
      spec["schedulerName"] = w.gpu_workload ? "sextant" : "default-scheduler";
      if (w.kind == Kind::kDaemon) {
        spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
            {"nodeSelectorTerms",
             json::array({{{"matchFields", json::array({{{"key", "metadata.name"},
                                                         {"operator", "In"},
                                                         {"values", json::array({n.name})}}})}}})}};
      }
      status["startTime"] = FormatTime(p.started);
      status["hostIP"] = n.ip;
    } else {
      spec["schedulerName"] = "sextant";
    }
    json owner = {{"apiVersion", w.owner_api}, {"kind", w.owner_kind},
                  {"name", w.owner_name},      {"uid", w.owner_uid},
                  {"controller", true},        {"blockOwnerDeletion", true}};
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata",
             {{"name", p.name},
              {"namespace", w.name_space},
              {"uid", p.uid},
              {"creationTimestamp", FormatTime(p.created)},
              {"labels", std::move(labels)},
              {"ownerReferences", json::array({std::move(owner)})}}},
            {"spec", std::move(spec)},
            {"status", std::move(status)}};
  }

  json PriorityClasses() {
    struct Class {
      const char* name;
      int64_t value;
      bool global_default;
      bool never;
      const char* description;
    };
    constexpr std::array<Class, 6> kClasses = {{
        {"agent-service", 100000, false, false, "Agent services: interactive, below inference."},
        {"batch-default", 1000, true, false, "Default for batch and training jobs."},
        {"batch-low", 100, false, true, "Opportunistic work that never preempts."},
        {"inference-critical", 1000000, false, false, "Latency-critical model serving."},
        {"system-cluster-critical", 2000000000, false, false,
         "Used for system critical pods that must run in the cluster, but can be moved to another "
         "node if necessary."},
        {"system-node-critical", 2000001000, false, false,
         "Used for system critical pods that must not be moved from their current node."},
    }};
    json out = json::array();
    for (const Class& c : kClasses) {
      json pc = {{"apiVersion", "scheduling.k8s.io/v1"},
                 {"kind", "PriorityClass"},
                 {"metadata",
                  {{"name", c.name},
                   {"uid", rng_.Uuid()},
                   {"creationTimestamp", FormatTime(o_.now_unix_seconds - 400 * 86400)}}},
                 {"value", c.value},
                 {"description", c.description},
                 {"preemptionPolicy", c.never ? "Never" : "PreemptLowerPriority"}};
      if (c.global_default) pc["globalDefault"] = true;
      out.push_back(std::move(pc));
    }
    return out;
  }

  json DisruptionBudgets() {
    json out = json::array();
    int made = 0;
    for (const Workload& w : workloads_) {
      if (made >= o_.pod_disruption_budgets) break;
      if ((w.kind != Kind::kInference && w.kind != Kind::kAgent) || w.running < 2) continue;
      const bool min_available = made % 2 == 0;
      const int desired = w.running - 1;  // minAvailable n-1 and maxUnavailable 1 agree
      json spec = {{"selector", AppSelector(w.app)}};
      if (min_available) {
        spec["minAvailable"] = desired;
      } else {
        spec["maxUnavailable"] = 1;
      }
      out.push_back({{"apiVersion", "policy/v1"},
                     {"kind", "PodDisruptionBudget"},
                     {"metadata",
                      {{"name", absl::StrCat(w.app, "-pdb")},
                       {"namespace", w.name_space},
                       {"uid", rng_.Uuid()},
                       {"creationTimestamp", FormatTime(o_.now_unix_seconds - 30 * 86400)},
                       {"generation", 1}}},
                     {"spec", std::move(spec)},
                     {"status",
                      {{"currentHealthy", w.running},
                       {"desiredHealthy", desired},
                       {"disruptionsAllowed", std::max(0, w.running - desired)},
                       {"expectedPods", w.running},
                       {"observedGeneration", 1}}}});
      ++made;
    }
    std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
      return std::tie(a["metadata"]["namespace"].get_ref<const std::string&>(),
                      a["metadata"]["name"].get_ref<const std::string&>()) <
             std::tie(b["metadata"]["namespace"].get_ref<const std::string&>(),
                      b["metadata"]["name"].get_ref<const std::string&>());
    });
    return out;
  }

  // Objects of one kind in kubectl's order: by namespace, then name.
  static void SortByKey(std::vector<json>& objects) {
    auto key = [](const json& o) {
      const json& m = o["metadata"];
      return std::make_pair(m.value("namespace", std::string()),
                            m["name"].get_ref<const std::string&>());
    };
    std::stable_sort(objects.begin(), objects.end(),
                     [&](const json& a, const json& b) { return key(a) < key(b); });
  }

  json Assemble() {
    json items = json::array();
    items.get_ref<json::array_t&>().reserve(nodes_.size() + pods_.size() + 8);
    std::vector<int> node_order(nodes_.size());
    for (size_t i = 0; i < nodes_.size(); ++i) node_order[i] = static_cast<int>(i);
    std::sort(node_order.begin(), node_order.end(),
              [this](int a, int b) { return nodes_[a].name < nodes_[b].name; });
    std::vector<json> nodes;
    for (int i : node_order) nodes.push_back(NodeJson(nodes_[i]));
    for (json& n : dra_nodes_json_) nodes.push_back(std::move(n));
    SortByKey(nodes);
    for (json& n : nodes) items.push_back(std::move(n));
    std::vector<int> pod_order(pods_.size());
    for (size_t i = 0; i < pods_.size(); ++i) pod_order[i] = static_cast<int>(i);
    std::sort(pod_order.begin(), pod_order.end(), [this](int a, int b) {
      return std::tie(workloads_[pods_[a].workload].name_space, pods_[a].name) <
             std::tie(workloads_[pods_[b].workload].name_space, pods_[b].name);
    });
    std::vector<json> pods;
    for (int i : pod_order) pods.push_back(PodJson(pods_[i]));
    for (json& p : dra_pods_json_) pods.push_back(std::move(p));
    SortByKey(pods);
    for (json& p : pods) items.push_back(std::move(p));
    for (json& pc : PriorityClasses()) items.push_back(std::move(pc));
    for (json& pdb : DisruptionBudgets()) items.push_back(std::move(pdb));
    for (std::vector<json>* kind : {&dra_classes_json_, &dra_slices_json_, &dra_claims_json_}) {
      SortByKey(*kind);
      for (json& o : *kind) items.push_back(std::move(o));
    }
    return {{"apiVersion", "v1"},
            {"kind", "List"},
            {"items", std::move(items)},
            {"metadata", {{"resourceVersion", ""}}}};
  }

  // ---- the DRA GPU pool ----

  static constexpr char kDraDriver[] = "gpu.nvidia.com";
  static constexpr int kDraGpusPerNuma = 4;

  struct DraNode {
    std::string name;
    std::array<bool, kGpusPerNode> used{};
    int64_t free_cpu_millis = 0;
  };

  // GPUs on one NUMA node of `node` for a request of `count` (1, 2, 4 or 8), the first free
  // ones in device order, or empty.
  std::vector<int> DraPick(const DraNode& node, int count) {
    if (count == kGpusPerNode) {
      for (bool u : node.used) {
        if (u) return {};
      }
      std::vector<int> all(kGpusPerNode);
      for (int i = 0; i < kGpusPerNode; ++i) all[i] = i;
      return all;
    }
    for (int numa = 0; numa < kGpusPerNode / kDraGpusPerNuma; ++numa) {
      std::vector<int> picked;
      for (int i = numa * kDraGpusPerNuma; i < (numa + 1) * kDraGpusPerNuma; ++i) {
        if (!node.used[i] && static_cast<int>(picked.size()) < count) picked.push_back(i);
      }
      if (static_cast<int>(picked.size()) == count) return picked;
    }
    return {};
  }

  json DraClaimSpec(int count) {
    json request = {{"name", "gpu"},
                    {"exactly",
                     {{"deviceClassName", kDraDriver},
                      {"allocationMode", "ExactCount"},
                      {"count", count}}}};
    json devices = {{"requests", json::array({request})}};
    if (count > 1 && count < kGpusPerNode) {
      devices["constraints"] = json::array(
          {{{"requests", json::array({"gpu"})},
            {"matchAttribute", absl::StrCat(kDraDriver, "/numa")}}});
    }
    return {{"devices", devices}};
  }

  // A claim (named, or made for `pod_uid` from a template) in `ns`; allocated when `node` is
  // given, with the pod in reservedFor.
  json DraClaim(const std::string& ns, const std::string& name, int count,
                const std::string& owner_pod, const std::string& owner_uid, const DraNode* node,
                const std::vector<int>& gpus, const std::string& pod, const std::string& pod_uid,
                int64_t created) {
    json metadata = {{"name", name},
                     {"namespace", ns},
                     {"uid", dra_rng_.Uuid()},
                     {"creationTimestamp", FormatTime(created)}};
    if (!owner_pod.empty()) {
      metadata["ownerReferences"] = json::array({{{"apiVersion", "v1"},
                                                  {"kind", "Pod"},
                                                  {"name", owner_pod},
                                                  {"uid", owner_uid},
                                                  {"controller", true},
                                                  {"blockOwnerDeletion", true}}});
      metadata["annotations"] = {{"resource.kubernetes.io/pod-claim-name", "gpu"}};
    }
    json claim = {{"apiVersion", "resource.k8s.io/v1"},
                  {"kind", "ResourceClaim"},
                  {"metadata", std::move(metadata)},
                  {"spec", DraClaimSpec(count)}};
    if (node != nullptr) {
      claim["metadata"]["finalizers"] = json::array({"resource.kubernetes.io/delete-protection"});
      json results = json::array();
      for (int g : gpus) {
        results.push_back({{"request", "gpu"},
                           {"driver", kDraDriver},
                           {"pool", node->name},
                           {"device", absl::StrCat("gpu-", g)}});
      }
      claim["status"] = {
          {"allocation",
           {{"devices", {{"results", std::move(results)}}},
            {"nodeSelector",
             {{"nodeSelectorTerms",
               json::array({{{"matchFields", json::array({{{"key", "metadata.name"},
                                                           {"operator", "In"},
                                                           {"values", json::array({node->name})}}})}}})}}},
            {"allocationTimestamp", FormatTime(created + 5)}}},
          {"reservedFor",
           json::array({{{"resource", "pods"}, {"name", pod}, {"uid", pod_uid}}})}};
    }
    return claim;
  }

  json DraPod(const std::string& ns, const std::string& name, const std::string& uid,
              const std::string& app, bool training, int gpus, const json& pod_claim,
              const json& claim_status, const DraNode* node, int64_t created) {
    const int64_t cpu_millis = gpus * (training ? 12000 : 8000);
    const int64_t memory_mi = gpus * (training ? 98304 : 65536);
    json resources = {{"cpu", CpuMillis(cpu_millis).text}, {"memory", MemMi(memory_mi).text}};
    json container = {{"name", training ? "trainer" : "server"},
                      {"image", training ? "registry.example.com/train/llm:2.4"
                                         : "registry.example.com/serve/vllm:0.9"},
                      {"resources", {{"requests", resources}, {"limits", resources}}}};
    json spec = {{"containers", json::array({container})},
                 {"nodeSelector", {{kPoolLabel, "gpu-dra"}}},
                 {"tolerations", DefaultTolerations()},
                 {"priorityClassName", training ? "batch-default" : "inference-critical"},
                 {"priority", training ? 1000 : 1000000},
                 {"preemptionPolicy", "PreemptLowerPriority"},
                 {"schedulerName", "sextant"},
                 {"resourceClaims", json::array({pod_claim})}};
    spec["tolerations"].push_back(GpuToleration());
    json status = {{"phase", node != nullptr ? "Running" : "Pending"}, {"qosClass", "Guaranteed"}};
    if (node != nullptr) {
      spec["nodeName"] = node->name;
      status["startTime"] = FormatTime(created + 10);
    }
    if (!claim_status.is_null()) status["resourceClaimStatuses"] = json::array({claim_status});
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata",
             {{"name", name},
              {"namespace", ns},
              {"uid", uid},
              {"creationTimestamp", FormatTime(created)},
              {"labels", {{"app", app}, {"sextant.io/gpu-api", "dra"}}}}},
            {"spec", std::move(spec)},
            {"status", std::move(status)}};
  }

  // One pod of the DRA pool with its claim: inference asks 1 or 2 GPUs by claim name, training
  // 4 (one NUMA node) or 8 (the whole node) from a template. Bound to `node` when given.
  void DraWorkload(bool training, int gpus, DraNode* node, const std::vector<int>& picked,
                   int64_t created) {
    const std::string ns = training ? "ml-training" : "inference";
    const std::string app = training ? absl::StrCat("finetune-", gpus, "g")
                                     : absl::StrCat("llm-serve-dra-", gpus, "g");
    const std::string name = absl::StrCat(app, "-", dra_rng_.Suffix(5));
    const std::string uid = dra_rng_.Uuid();
    json pod_claim;
    json claim_status;
    std::string claim_name;
    if (training) {
      claim_name = absl::StrCat(name, "-gpu-", dra_rng_.Suffix(5));
      pod_claim = {{"name", "gpu"}, {"resourceClaimTemplateName", absl::StrCat(app, "-gpus")}};
      claim_status = {{"name", "gpu"}, {"resourceClaimName", claim_name}};
    } else {
      claim_name = absl::StrCat(name, "-gpus");
      pod_claim = {{"name", "gpu"}, {"resourceClaimName", claim_name}};
    }
    dra_claims_json_.push_back(DraClaim(ns, claim_name, gpus, training ? name : "",
                                        training ? uid : "", node, picked, name, uid, created));
    dra_pods_json_.push_back(
        DraPod(ns, name, uid, app, training, gpus, pod_claim, claim_status, node, created));
    if (node != nullptr) {
      for (int g : picked) node->used[g] = true;
      node->free_cpu_millis -= gpus * (training ? 12000 : 8000);
    }
  }

  void MakeDraPool() {
    if (o_.dra_gpu_nodes == 0) return;
    Rng& rng = dra_rng_;
    std::vector<DraNode> nodes;
    for (int i = 0; i < o_.dra_gpu_nodes; ++i) {
      const std::string zone = zones_[i % o_.zones];
      const std::string ip =
          absl::StrCat("10.", 16 + 9 * (i % o_.zones) + 2, ".", i / 250 % 256, ".", i % 250 + 4);
      std::string name = absl::StrCat("ip-", ip, ".ec2.internal");
      std::replace(name.begin(), name.end() - 13, '.', '-');
      const int64_t created = o_.now_unix_seconds - rng.Between(2 * 86400, 200 * 86400);
      json labels = {{"beta.kubernetes.io/arch", "amd64"},
                     {"beta.kubernetes.io/os", "linux"},
                     {kArchLabel, "amd64"},
                     {kHostnameLabel, name},
                     {"kubernetes.io/os", "linux"},
                     {"node.kubernetes.io/instance-type", "p5.48xlarge"},
                     {"topology.kubernetes.io/region", o_.region},
                     {kZoneLabel, zone},
                     {kPoolLabel, "gpu-dra"},
                     {"eks.amazonaws.com/nodegroup", "gpu-dra-p5.48xlarge"},
                     {kGpuProductLabel, kH100},
                     {"nvidia.com/gpu.present", "true"}};
      json capacity = {{"cpu", "192"},
                       {"memory", "2113424436Ki"},
                       {"ephemeral-storage", "3750000M"},
                       {"hugepages-1Gi", "0"},
                       {"hugepages-2Mi", "0"},
                       {"pods", absl::StrCat(kDefaultMaxPods)}};
      json allocatable = capacity;
      allocatable["cpu"] = "190";
      allocatable["memory"] = MemMi(2015 * 1024).text;
      allocatable["ephemeral-storage"] = "3500000M";
      dra_nodes_json_.push_back(
          {{"apiVersion", "v1"},
           {"kind", "Node"},
           {"metadata",
            {{"name", name},
             {"uid", rng.Uuid()},
             {"creationTimestamp", FormatTime(created)},
             {"labels", std::move(labels)}}},
           {"spec",
            {{"providerID", absl::StrCat("aws:///", zone, "/i-0", rng.Uuid().substr(0, 8))},
             {"taints", json::array({{{"key", kGpuResource},
                                      {"value", "present"},
                                      {"effect", "NoSchedule"}}})}}},
           {"status",
            {{"capacity", std::move(capacity)},
             {"allocatable", std::move(allocatable)},
             {"addresses", json::array({{{"type", "InternalIP"}, {"address", ip}},
                                        {{"type", "Hostname"}, {"address", name}}})}}}});
      // The driver publishes one slice per node: its pool is the node.
      json devices = json::array();
      for (int g = 0; g < kGpusPerNode; ++g) {
        devices.push_back(
            {{"name", absl::StrCat("gpu-", g)},
             {"attributes",
              {{"productName", {{"string", "NVIDIA H100 80GB HBM3"}}},
               {"architecture", {{"string", "Hopper"}}},
               {"brand", {{"string", "Nvidia"}}},
               {"numa", {{"int", g / kDraGpusPerNuma}}},
               {"pcieRoot", {{"string", absl::StrCat("pci0000:", 16 * (g / 2) + 0x18)}}},
               {"driverVersion", {{"version", "570.133.20"}}},
               {"uuid", {{"string", absl::StrCat("GPU-", rng.Uuid())}}}}},
             {"capacity", {{"memory", {{"value", "80Gi"}}}}}});
      }
      dra_slices_json_.push_back(
          {{"apiVersion", "resource.k8s.io/v1"},
           {"kind", "ResourceSlice"},
           {"metadata",
            {{"name", absl::StrCat(name, "-", kDraDriver, "-", rng.Suffix(5))},
             {"uid", rng.Uuid()},
             {"creationTimestamp", FormatTime(created + 120)}}},
           {"spec",
            {{"driver", kDraDriver},
             {"nodeName", name},
             {"pool", {{"name", name}, {"generation", 1}, {"resourceSliceCount", 1}}},
             {"devices", std::move(devices)}}}});
      nodes.push_back(DraNode{std::move(name), {}, 190000});
    }
    dra_classes_json_.push_back(
        {{"apiVersion", "resource.k8s.io/v1"},
         {"kind", "DeviceClass"},
         {"metadata",
          {{"name", kDraDriver},
           {"uid", rng.Uuid()},
           {"creationTimestamp", FormatTime(o_.now_unix_seconds - 300 * 86400)}}},
         {"spec",
          {{"selectors",
            json::array({{{"cel", {{"expression", absl::StrCat("device.driver == \"",
                                                               kDraDriver, "\"")}}}}})}}}});
    // Running pods: fill the pool to dra_fill_fraction of its GPUs. Training workers' claims are
    // made from a template by the claim controller before the scheduler sees the pod, so pending
    // workers have theirs already (status.resourceClaimStatuses).
    const int target =
        static_cast<int>(std::lround(o_.dra_fill_fraction * o_.dra_gpu_nodes * kGpusPerNode));
    int placed = 0;
    for (int attempt = 0; attempt < 4 * target && placed < target; ++attempt) {
      const bool training = rng.Chance(0.25);
      const int gpus = training ? 4 : (rng.Chance(0.6) ? 1 : 2);
      DraNode& node = nodes[rng.Below(nodes.size())];
      std::vector<int> picked = DraPick(node, gpus);
      if (picked.empty()) continue;
      const int64_t created = o_.now_unix_seconds - rng.Between(3600, 20 * 86400);
      DraWorkload(training, gpus, &node, picked, created);
      placed += gpus;
    }
    // Pending pods, created in the last minutes; the last one wants more than a node has.
    for (int i = 0; i < o_.dra_pending_pods; ++i) {
      const int64_t created = o_.now_unix_seconds - 600 + i * 7;
      if (i + 1 == o_.dra_pending_pods && o_.dra_pending_pods > 1) {
        // 16 GPUs on one node: no node has them.
        const std::string name = absl::StrCat("llm-serve-dra-16g-", rng.Suffix(5));
        const std::string uid = rng.Uuid();
        const std::string claim = absl::StrCat(name, "-gpus");
        dra_claims_json_.push_back(DraClaim("inference", claim, 16, "", "", nullptr, {}, name, uid,
                                            created));
        dra_pods_json_.push_back(DraPod("inference", name, uid, "llm-serve-dra-16g", false, 16,
                                        {{"name", "gpu"}, {"resourceClaimName", claim}},
                                        json(), nullptr, created));
        continue;
      }
      const bool training = rng.Chance(0.3);
      const int gpus = training ? (rng.Chance(0.7) ? 4 : 8) : (rng.Chance(0.5) ? 1 : 2);
      DraWorkload(training, gpus, nullptr, {}, created);
    }
  }

  inline static const std::string kNoZone;

  GeneratorOptions o_;
  Rng rng_;
  Rng dra_rng_;
  std::vector<json> dra_nodes_json_;
  std::vector<json> dra_pods_json_;
  std::vector<json> dra_classes_json_;
  std::vector<json> dra_slices_json_;
  std::vector<json> dra_claims_json_;
  std::vector<std::string> zones_;
  std::vector<NodeState> nodes_;
  std::vector<int> gpu_nodes_;
  std::vector<int> shared_nodes_;
  std::vector<int> capped_nodes_;
  std::vector<int> full_capped_nodes_;
  std::vector<int> cordoned_nodes_;
  std::deque<Workload> workloads_;  // a deque: references stay valid as it grows
  std::vector<PodRecord> pods_;
  std::unordered_set<std::string> pod_names_;
  std::unordered_map<std::string, int> app_names_;
  int64_t pending_clock_ = 0;
};

}  // namespace

GeneratorOptions DefaultSnapshotOptions() {
  GeneratorOptions o;
  o.seed = 20260101;
  o.dra_gpu_nodes = 12;
  o.dra_pending_pods = 24;
  return o;
}

GeneratorOptions LargeSnapshotOptions(int nodes) {
  nodes = std::max(nodes, 0);
  GeneratorOptions o;
  o.seed = 15000 + static_cast<uint64_t>(nodes);
  o.gpu_nodes = nodes / 5;
  o.shared_nodes = nodes - o.gpu_nodes;
  o.pod_capped_nodes = std::max(2, nodes / 1000);
  o.daemonset_pods_per_node = 1;
  o.running_pods = 5 * nodes;
  o.pending_pods = nodes / 3;
  o.pod_disruption_budgets = std::max(2, nodes / 500);
  return o;
}

nlohmann::json GenerateSnapshot(const GeneratorOptions& options) {
  return Generator(options).Run();
}

absl::Status WriteSnapshotFile(const nlohmann::json& snapshot, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::InternalError(absl::StrCat("cannot open ", path, " for writing"));
  auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  if (!snapshot.is_object()) {
    out << dump(snapshot) << "\n";
  } else {
    out << "{";
    bool first = true;
    for (const auto& [key, value] : snapshot.items()) {
      if (!first) out << ",";
      first = false;
      out << dump(nlohmann::json(key)) << ":";
      if (key == "items" && value.is_array()) {
        out << "[";
        for (size_t i = 0; i < value.size(); ++i) {
          out << (i == 0 ? "\n" : ",\n") << dump(value[i]);
        }
        out << "\n]";
      } else {
        out << dump(value);
      }
    }
    out << "}\n";
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace sextant
