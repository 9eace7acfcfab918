// Effective pod resource requests and limits, and the pod QoS class, computed exactly as upstream
// does (k8s.io/component-helpers/resource PodRequests/PodLimits and
// k8s.io/kubernetes/pkg/apis/core/v1/helper/qos). Pure functions of a Pod; thread-safe.
#ifndef SEXTANT_POD_RESOURCES_H_
#define SEXTANT_POD_RESOURCES_H_

#include <optional>

#include "sextant/model.h"

namespace sextant {

// Options of upstream resourcehelper.PodResourcesOptions that the scheduler sets.
struct PodResourcesOptions {
  // Use the larger of spec and status (allocated / actual) container resources, as the scheduler
  // does with InPlacePodVerticalScaling (GA, on).
  bool use_status_resources = true;
  // Ignore spec.resources (pod-level resources). The scheduler sets this only when the
  // PodLevelResources feature is off; it is on by default in the reference release.
  bool skip_pod_level_resources = false;
  // Leave spec.overhead out of the result.
  bool exclude_overhead = false;
  // For each container (and init container) that does not request one of these resources, count
  // this amount instead. The scorers pass cpu 100m and memory 200Mi here.
  std::optional<ResourceList> non_missing_container_requests;
};

// The pod's effective requests: max(sum of regular and sidecar containers, each init container
// plus the sidecars started before it), pod-level requests where set, plus overhead.
ResourceList PodRequests(const Pod& pod, const PodResourcesOptions& options = {});

// The pod's effective limits, computed the same way from limits.
ResourceList PodLimits(const Pod& pod, const PodResourcesOptions& options = {});

// The QoS class as upstream computes it (ComputePodQOS), pod-level resources included.
QosClass ComputeQosClass(const Pod& pod);

const char* QosClassName(QosClass qos);

}  // namespace sextant

#endif  // SEXTANT_POD_RESOURCES_H_
