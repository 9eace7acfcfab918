#include "plugins/sextant_gpu.h"

#include <algorithm>
#include <limits>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "dra/inventory.h"
#include "gpu/placement_cache.h"
#include "sextant/pod_resources.h"

namespace sextant {
namespace {

// The entry of `map` for a qualified name: the name as written, or the same name written the
// other way in the driver's domain ("domain/id" and the bare "id"), as slices usually name their
// own capacities and attributes. A scan: these maps hold a few entries, and it allocates nothing.
template <typename Map>
auto FindQualified(const Map& map, absl::string_view name, absl::string_view driver) {
  const size_t slash = name.find('/');
  const absl::string_view domain =
      slash == absl::string_view::npos ? driver : name.substr(0, slash);
  const absl::string_view id = slash == absl::string_view::npos ? name : name.substr(slash + 1);
  for (auto it = map.begin(); it != map.end(); ++it) {
    const absl::string_view key = it->first;
    if (key == name) return it;
    if (domain != driver) continue;
    if (key == id) return it;
    if (key.size() == domain.size() + 1 + id.size() && absl::StartsWith(key, domain) &&
        key[domain.size()] == '/' && absl::EndsWith(key, id)) {
      return it;
    }
  }
  return map.end();
}

// The requested milli of a capacity request map: the milli capacity's value (by its full name or
// the bare id), nullopt when absent. Sets *other when the map names anything else.
std::optional<int64_t> RequestedMilli(const std::map<std::string, Quantity>& requests,
                                      absl::string_view capacity_name, bool* other) {
  const size_t slash = capacity_name.find('/');
  const absl::string_view id =
      slash == absl::string_view::npos ? capacity_name : capacity_name.substr(slash + 1);
  std::optional<int64_t> milli;
  for (const auto& [name, quantity] : requests) {
    if (name == capacity_name || name == id) {
      milli = quantity.Value();
    } else {
      *other = true;
    }
  }
  return milli;
}

// FNV-1a: a stable draw for Reserve's Random device choice (replay must repeat).
uint64_t StableHash(absl::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

double UnitDraw(uint64_t value) {
  // splitmix64's finaliser, then 53 bits.
  value += 0x9e3779b97f4a7c15ull;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ull;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebull;
  value ^= value >> 31;
  return static_cast<double>(value >> 11) * 0x1.0p-53;
}

// The device's "model" attribute as a known model id, else 0.
GpuModelId ModelOf(const ResourceSlice& slice, const Device& device) {
  auto it = FindQualified(device.attributes, "model", slice.driver);
  if (it == device.attributes.end()) return 0;
  const auto* name = std::get_if<std::string>(&it->second);
  if (name == nullptr) return 0;
  absl::StatusOr<GpuModelId> id = ParseGpuModel(*name);
  return id.ok() ? *id : 0;
}

// What is left of a device, in milli-GPU (see LiveGpuTable).
int64_t MilliLeft(const ResourceSlice& slice, const Device& device, bool dedicated, bool shared,
                  const std::map<std::string, Quantity>* consumed,
                  absl::string_view capacity_name) {
  if (dedicated) return 0;
  auto capacity = FindQualified(device.capacity, capacity_name, slice.driver);
  if (device.allow_multiple_allocations.value_or(false) && capacity != device.capacity.end()) {
    int64_t left = capacity->second.value.quantity.Value();
    if (consumed != nullptr) {
      if (auto used = consumed->find(capacity->first); used != consumed->end()) {
        left -= used->second.Value();
      }
    }
    return std::clamp<int64_t>(left, 0, kGpuMilli);
  }
  return shared || consumed != nullptr ? 0 : kGpuMilli;
}

// GpuClustering's count of GPU pods of each kind on the node.
std::array<int32_t, kGpuKinds> KindCounts(const ClusterState& state, const NodeInfo& node,
                                          absl::string_view capacity_name) {
  std::array<int32_t, kGpuKinds> counts{};
  for (const PodRecord* record : node.pods) {
    if (record->pod.resource_claims.empty()) continue;
    std::optional<GpuClaimRequest> request =
        GpuRequestOf(ExistingPodClaims(record->pod, state.dra()), capacity_name);
    if (!request) continue;
    GpuPodSpec spec;
    spec.num_gpu = request->count;
    spec.gpu_milli = request->gpu_milli;
    const int kind = GpuKindIndex(GpuDemand::Of(spec));
    if (kind >= 0) ++counts[kind];
  }
  return counts;
}

}  // namespace

std::optional<GpuClaimRequest> GpuRequestOf(const std::vector<const ResourceClaim*>& claims,
                                            absl::string_view capacity_name) {
  std::optional<GpuClaimRequest> out;
  for (const ResourceClaim* claim : claims) {
    for (size_t r = 0; r < claim->requests.size(); ++r) {
      if (out) return std::nullopt;  // a second request
      const DeviceRequest& request = claim->requests[r];
      if (!request.exactly || !request.first_available.empty()) return std::nullopt;
      const DeviceRequestSpec& spec = *request.exactly;
      if (spec.allocation_mode != "ExactCount" || spec.admin_access.value_or(false)) {
        return std::nullopt;
      }
      if (spec.count < 1 || spec.count > kMaxGpusPerNode) return std::nullopt;
      int64_t milli = kGpuMilli;
      if (spec.capacity) {
        bool other = false;
        std::optional<int64_t> requested =
            RequestedMilli(spec.capacity->requests, capacity_name, &other);
        if (other) return std::nullopt;
        if (requested) milli = *requested;
      }
      if (milli < 1 || milli > kGpuMilli || (milli < kGpuMilli && spec.count != 1)) {
        return std::nullopt;
      }
      out = GpuClaimRequest{claim, r, static_cast<int>(spec.count), milli};
    }
  }
  return out;
}

std::optional<GpuPodSpec> LiveGpuPodSpec(const Pod& pod, const DraInventory& dra,
                                         absl::string_view capacity_name) {
  if (pod.resource_claims.empty()) return std::nullopt;
  std::optional<GpuClaimRequest> request =
      GpuRequestOf(ExistingPodClaims(pod, dra), capacity_name);
  if (!request) return std::nullopt;
  const ResourceList requests = PodRequests(pod);
  GpuPodSpec spec;
  spec.name = pod.Key();
  if (auto it = requests.find(kResourceCpu); it != requests.end()) {
    spec.cpu_milli = it->second.MilliValue();
  }
  if (auto it = requests.find(kResourceMemory); it != requests.end()) {
    spec.memory_bytes = it->second.Value();
  }
  spec.num_gpu = request->count;
  spec.gpu_milli = request->gpu_milli;
  return spec;
}

std::shared_ptr<const GpuWorkload> LiveGpuWorkload(const ClusterState& state,
                                                   absl::string_view capacity_name) {
  return state.gpu_placement_cache().Workload(capacity_name, state.claim_pod_changes(), [&] {
    std::vector<GpuPodSpec> specs;
    for (const Pod* pod : state.pods()) {
      if (std::optional<GpuPodSpec> spec = LiveGpuPodSpec(*pod, state.dra(), capacity_name)) {
        specs.push_back(*std::move(spec));
      }
    }
    // A stable order: the estimate's tie rules do not depend on it, but it costs nothing.
    std::sort(specs.begin(), specs.end(),
              [](const GpuPodSpec& a, const GpuPodSpec& b) { return a.name < b.name; });
    GpuPlacementCache::Estimate estimate;
    estimate.pods = static_cast<int64_t>(specs.size());
    estimate.workload = std::make_shared<const GpuWorkload>(EstimateGpuWorkload(specs));
    return estimate;
  });
}

std::vector<DeviceId> LiveGpuTable::DeviceIds(GpuSet set) const {
  std::vector<DeviceId> out;
  for (int i = 0; i < gpus.count(); ++i) {
    if ((set >> i) & 1) {
      out.push_back(DeviceId{slices[i]->driver, slices[i]->pool.name, devices[i]->name});
    }
  }
  return out;
}

absl::StatusOr<LiveGpuTable> BuildLiveGpuTable(const Allocator& allocator, const Node& node,
                                               const GpuClaimRequest& request,
                                               absl::string_view capacity_name) {
  absl::StatusOr<std::vector<Allocator::Candidate>> candidates =
      allocator.Candidates(node, *request.claim, request.request);
  if (!candidates.ok()) return candidates.status();
  LiveGpuTable out;
  const int count = static_cast<int>(std::min<size_t>(candidates->size(), kMaxGpusPerNode));
  const GpuModelId model =
      count > 0 ? ModelOf(*(*candidates)[0].slice, *(*candidates)[0].device) : 0;
  out.gpus = GpuDeviceTable(model, count);
  for (int i = 0; i < count; ++i) {
    const Allocator::Candidate& c = (*candidates)[i];
    out.slices[i] = c.slice;
    out.devices[i] = c.device;
    out.gpus.Allocate(GpuSet{1} << i,
                      kGpuMilli - MilliLeft(*c.slice, *c.device, c.dedicated, c.shared,
                                            c.consumed, capacity_name));
  }
  return out;
}

LiveGpuTable NodeGpuTable(const DraInventory& dra, const Node& node,
                          absl::string_view capacity_name) {
  LiveGpuTable out;
  const std::vector<const SliceRecord*>& on_node = dra.SlicesOnNode(node.name);
  if (on_node.empty()) return out;
  // In slice name order (the inventory keeps them in no order); most nodes have one.
  absl::InlinedVector<const SliceRecord*, 2> slices(on_node.begin(), on_node.end());
  std::sort(slices.begin(), slices.end(), [](const SliceRecord* a, const SliceRecord* b) {
    return a->slice.name < b->slice.name;
  });
  int count = 0;
  for (const SliceRecord* record : slices) {
    for (const Device& device : record->slice.devices) {
      if (count == kMaxGpusPerNode) break;
      if (FindQualified(device.capacity, capacity_name, record->slice.driver) ==
          device.capacity.end()) {
        continue;
      }
      out.slices[count] = &record->slice;
      out.devices[count] = &device;
      ++count;
    }
  }
  out.gpus = GpuDeviceTable(count > 0 ? ModelOf(*out.slices[0], *out.devices[0]) : 0, count);
  const AllocatedDevices& allocated = dra.allocated();
  for (int i = 0; i < count; ++i) {
    const ResourceSlice& slice = *out.slices[i];
    const Device& device = *out.devices[i];
    const DeviceId id{slice.driver, slice.pool.name, device.name};
    auto consumed = allocated.consumed_capacity.find(id);
    out.gpus.Allocate(
        GpuSet{1} << i,
        kGpuMilli - MilliLeft(slice, device, allocated.dedicated.contains(id),
                              allocated.shared.contains(id),
                              consumed == allocated.consumed_capacity.end() ? nullptr
                                                                            : &consumed->second,
                              capacity_name));
  }
  return out;
}

std::shared_ptr<const std::vector<GpuDeviceTable>> NodeGpuTables(const ClusterState& state,
                                                                 absl::string_view capacity_name) {
  const DraInventory& dra = state.dra();
  return state.gpu_placement_cache().Tables(
      capacity_name, dra.devices_generation(), state.node_slots(), [&] {
        std::vector<GpuDeviceTable> tables(state.node_slots());
        for (uint32_t i = 0; i < tables.size(); ++i) {
          tables[i] = NodeGpuTable(dra, *state.node(i).node, capacity_name).gpus;
        }
        return tables;
      });
}

SextantGpuPreScoreState SextantGpuPreScore(const GpuPlacementOptions& options, const Pod& pod,
                                           const ClusterState& state,
                                           const DynamicResourcesState* dra,
                                           uint64_t random_value) {
  SextantGpuPreScoreState s;
  if (!options.enabled) return s;
  std::optional<GpuClaimRequest> request;
  if (pod.resource_claims.empty()) {
    // Without any ResourceSlice no node has GPUs: nothing to steer away from.
    if (!options.score_cpu_pods || state.dra().slices().empty()) return s;
    s.cpu_only = true;
  } else {
    if (dra == nullptr || dra->allocator == nullptr) return s;
    request = GpuRequestOf(dra->to_allocate, options.capacity_name);
    if (!request) return s;
    s.request = *request;
  }
  s.skip = false;
  s.policy = options.policy;
  s.capacity_name = options.capacity_name;
  GpuPodSpec spec;
  const ResourceList requests = PodRequests(pod);
  if (auto it = requests.find(kResourceCpu); it != requests.end()) {
    spec.cpu_milli = it->second.MilliValue();
  }
  if (request) {
    spec.num_gpu = request->count;
    spec.gpu_milli = request->gpu_milli;
  }
  s.demand = GpuDemand::Of(spec);
  if (s.policy == GpuPolicy::kFgd || s.policy == GpuPolicy::kSextant) {
    s.workload = LiveGpuWorkload(state, options.capacity_name);
  }
  s.random_draw = UnitDraw(random_value);
  if (s.cpu_only) {
    s.node_tables = NodeGpuTables(state, options.capacity_name);
  } else {
    s.allocator = dra->allocator.get();
  }
  return s;
}

SextantGpuNodeScore SextantGpuScore(const SextantGpuPreScoreState& s, const ClusterState& state,
                                    uint32_t index, const NodeInfo& node) {
  SextantGpuNodeScore out;
  static const GpuDeviceTable kNoGpus;
  absl::StatusOr<LiveGpuTable> table;
  const GpuDeviceTable* gpus = &kNoGpus;
  if (s.cpu_only) {
    if (index < s.node_tables->size()) gpus = &(*s.node_tables)[index];
  } else {
    table = BuildLiveGpuTable(*s.allocator, *node.node, s.request, s.capacity_name);
    // Filter allocated on this node, so listing cannot fail; a table that cannot take the
    // demand (more devices than it models) leaves the node at the bottom of the policy's scale.
    if (!table.ok() || !table->gpus.Fits(s.demand)) return out;
    gpus = &table->gpus;
  }
  out.gpus = gpus->count();
  std::array<int32_t, kGpuKinds> kinds{};
  GpuNodeView view;
  view.gpus = gpus;
  view.cpu_left_milli = node.allocatable.milli_cpu - node.requested.milli_cpu;
  view.cpu_capacity_milli = node.allocatable.milli_cpu;
  if (s.policy == GpuPolicy::kGpuClustering) {
    kinds = KindCounts(state, node, s.capacity_name);
    view.kind_counts = &kinds;
  }
  GpuScoreContext context;
  context.workload = s.workload.get();
  context.random_draw = s.random_draw;
  const GpuPlacement placement = ScoreGpuNode(s.policy, s.demand, view, context);
  out.score = placement.score;
  out.devices = placement.devices;
  if (!s.cpu_only) out.table = *std::move(table);
  return out;
}

void SextantGpuNormalize(GpuPolicy policy, std::vector<int64_t>& raw) {
  if (policy == GpuPolicy::kBestFit) {
    if (raw.empty()) return;
    const auto [lo, hi] = std::minmax_element(raw.begin(), raw.end());
    const int64_t low = *lo;
    const int64_t range = *hi - low;
    for (int64_t& score : raw) score = range == 0 ? 0 : (score - low) * 100 / range;
    return;
  }
  for (int64_t& score : raw) score = std::clamp<int64_t>(score, 0, 100);
}

std::vector<DeviceId> SextantGpuPreferredDevices(const ProfileOptions& options, const Pod& pod,
                                                 const ClusterState& state,
                                                 const DynamicResourcesState& dra,
                                                 uint32_t index) {
  if (!options.gpu_placement.enabled || pod.resource_claims.empty()) return {};
  SextantGpuPreScoreState s =
      SextantGpuPreScore(options.gpu_placement, pod, state, &dra, StableHash(pod.Key()));
  if (s.skip || s.cpu_only) return {};
  SextantGpuNodeScore score = SextantGpuScore(s, state, index, state.node(index));
  if (!score.table || score.devices == 0) return {};
  return score.table->DeviceIds(score.devices);
}

absl::StatusOr<std::vector<std::pair<const ResourceClaim*, AllocationResult>>>
SextantGpuReserve(const Pod& pod, const ClusterState& state, uint32_t index,
                  const ProfileOptions& options,
                  const Allocator::ShareIdGenerator& new_share_id) {
  return DynamicResourcesReserve(
      pod, state, index, options, new_share_id, [&](const DynamicResourcesState& dra) {
        return SextantGpuPreferredDevices(options, pod, state, dra, index);
      });
}

}  // namespace sextant
