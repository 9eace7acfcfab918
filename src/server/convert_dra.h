// proto <-> model for the DRA objects (resource.k8s.io/v1): DeviceClass, ResourceSlice,
// ResourceClaim and allocation results. Errors name the object and the Kubernetes field path, as
// the rest of convert.h does. Pure functions; thread-safe.
#ifndef SEXTANT_SERVER_CONVERT_DRA_H_
#define SEXTANT_SERVER_CONVERT_DRA_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sextant/dra.h"
#include "sextant/v1/engine.pb.h"

namespace sextant::server {

// `location` says where an object without a name sits ("changes[3]"); may be empty.
absl::StatusOr<DeviceClass> DecodeDeviceClass(const v1::DeviceClass& in,
                                              absl::string_view location);
absl::StatusOr<ResourceSlice> DecodeResourceSlice(const v1::ResourceSlice& in,
                                                  absl::string_view location);
absl::StatusOr<ResourceClaim> DecodeResourceClaim(const v1::ResourceClaim& in,
                                                  absl::string_view location);
// `path` is the field the result sits in ("status.allocation").
absl::Status DecodeAllocationResult(const v1::AllocationResult& in, absl::string_view path,
                                    AllocationResult* out);

void ToProto(const DeviceClass& in, v1::DeviceClass* out);
void ToProto(const ResourceSlice& in, v1::ResourceSlice* out);
void ToProto(const ResourceClaim& in, v1::ResourceClaim* out);
void ToProto(const AllocationResult& in, v1::AllocationResult* out);

}  // namespace sextant::server

#endif  // SEXTANT_SERVER_CONVERT_DRA_H_
