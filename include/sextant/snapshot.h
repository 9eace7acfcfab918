// Recorded cluster snapshots: the Kubernetes `List` that
//   kubectl get nodes,pods,namespaces,priorityclasses,poddisruptionbudgets,deviceclasses,
//       resourceslices,resourceclaims -A -o json  (one line)
// prints, read into plain model values. Unknown kinds and unknown fields are ignored; a malformed
// object is rejected with an error naming the object and the field. Thread-compatible.
#ifndef SEXTANT_SNAPSHOT_H_
#define SEXTANT_SNAPSHOT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sextant/dra.h"
#include "sextant/model.h"

namespace sextant {

struct Snapshot {
  std::vector<Node> nodes;
  std::vector<Pod> pods;  // with spec.nodeName: running; without: pending
  std::vector<PriorityClass> priority_classes;
  std::vector<PodDisruptionBudget> pod_disruption_budgets;
  std::vector<Namespace> namespaces;  // optional: their labels serve pod affinity namespaceSelectors
  // Dynamic resource allocation (resource.k8s.io/v1).
  std::vector<DeviceClass> device_classes;
  std::vector<ResourceSlice> resource_slices;
  std::vector<ResourceClaim> resource_claims;
};

// Parses a snapshot from JSON text. Errors are InvalidArgument and read like
//   Pod "default/web-0": spec.containers[0].resources.requests.cpu: quantities must match ...
// Objects whose kind the engine does not model are skipped. Pods whose phase is Succeeded or
// Failed are dropped (they hold no resources, as upstream's scheduler cache ignores them).
absl::StatusOr<Snapshot> ParseSnapshot(std::string_view json_text);

// Reads and parses a snapshot file; a missing or unreadable file is NotFound / Internal.
absl::StatusOr<Snapshot> ReadSnapshotFile(const std::string& path);

}  // namespace sextant

#endif  // SEXTANT_SNAPSHOT_H_
