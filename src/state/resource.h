// Integer resource accounting as the scheduler keeps it (framework.Resource): cpu in millis,
// memory and ephemeral storage in bytes, the pod count, and scalar (extended, hugepages,
// attachable-volume, prefixed native) resources by interned id. Value types; thread-compatible.
#ifndef SEXTANT_STATE_RESOURCE_H_
#define SEXTANT_STATE_RESOURCE_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "sextant/model.h"

namespace sextant {

using ResourceId = uint32_t;

// Interns scalar resource names. Ids are dense and never reused. Mutated only on the state's
// update path; lookups from Evaluate run under the same reader lock as the rest of the state.
class ResourceRegistry {
 public:
  static constexpr ResourceId kUnknown = UINT32_MAX;
  ResourceId Intern(absl::string_view name);
  ResourceId Find(absl::string_view name) const;  // kUnknown when never seen
  const std::string& Name(ResourceId id) const { return names_[id]; }

 private:
  absl::flat_hash_map<std::string, ResourceId> ids_;
  std::vector<std::string> names_;
};

// schedutil.IsScalarResourceName: extended, hugepages-*, attachable-volumes-*, or a name in the
// kubernetes.io/ namespace with a prefix. Plain unprefixed names other than the four native ones
// are neither native-tracked nor scalar, and the scheduler ignores them.
bool IsScalarResourceName(absl::string_view name);
bool IsExtendedResourceName(absl::string_view name);

struct Resource {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  int64_t allowed_pod_number = 0;
  // Sorted by id; zero entries may be present.
  absl::InlinedVector<std::pair<ResourceId, int64_t>, 2> scalars;

  int64_t Scalar(ResourceId id) const;
  void AddScalar(ResourceId id, int64_t value);
  // framework.Resource.Add: cpu MilliValue, others Value, non-scalar names ignored.
  void AddList(const ResourceList& list, ResourceRegistry& registry);
  void Add(const Resource& other, int64_t sign);
};

// What a pod holds on its node: its effective requests (status resources included, as the
// scheduler cache accounts running pods) and the non-zero cpu/memory used by scoring.
struct PodResource {
  Resource requests;
  int64_t non0_milli_cpu = 0;
  int64_t non0_memory = 0;
};

// framework.PodInfo.CalculateResource.
PodResource ComputePodResource(const Pod& pod, ResourceRegistry& registry);

}  // namespace sextant

#endif  // SEXTANT_STATE_RESOURCE_H_
