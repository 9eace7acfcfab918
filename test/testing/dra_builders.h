// DRA objects for tests: a device class, a node's slice of GPUs, and claims asking for them.
// Inline: small value builders, tests only.
#ifndef SEXTANT_TEST_TESTING_DRA_BUILDERS_H_
#define SEXTANT_TEST_TESTING_DRA_BUILDERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sextant/dra.h"
#include "sextant/model.h"

namespace sextant::testutil {

inline constexpr char kGpuDriver[] = "gpu.example.com";

// A class selecting the devices of `driver`.
inline DeviceClass DriverClass(std::string name, const std::string& driver = kGpuDriver) {
  DeviceClass c;
  c.name = std::move(name);
  c.selectors.push_back(DeviceSelector{absl::StrCat("device.driver == \"", driver, "\"")});
  return c;
}

// A slice on `node` (its own pool, named after the node) of `gpus` devices gpu-0..gpu-N-1 with
// attributes model (string) and numa (int, two per NUMA node).
inline ResourceSlice GpuSlice(const std::string& node, int gpus, const std::string& model = "h100",
                              const std::string& driver = kGpuDriver) {
  ResourceSlice s;
  s.name = absl::StrCat(node, "-", driver);
  s.driver = driver;
  s.pool = ResourcePool{node, 1, 1};
  s.node_name = node;
  for (int i = 0; i < gpus; ++i) {
    Device d;
    d.name = absl::StrCat("gpu-", i);
    d.attributes["model"] = std::string(model);
    d.attributes["numa"] = int64_t{i / 2};
    s.devices.push_back(std::move(d));
  }
  return s;
}

// A claim in `ns` for `count` devices of `device_class` (request "gpu").
inline ResourceClaim GpuClaim(std::string ns, std::string name, int64_t count = 1,
                              std::string device_class = "gpu") {
  ResourceClaim c;
  c.name_space = std::move(ns);
  c.name = std::move(name);
  c.uid = absl::StrCat("uid-", c.name);
  DeviceRequest r;
  r.name = "gpu";
  r.exactly.emplace();
  r.exactly->device_class_name = std::move(device_class);
  r.exactly->count = count;
  c.requests.push_back(std::move(r));
  return c;
}

// The pod entry naming an existing claim.
inline PodResourceClaim ClaimRef(std::string entry, std::string claim) {
  return PodResourceClaim{std::move(entry), std::move(claim), std::nullopt};
}

// An allocation of `devices` (of kGpuDriver's pool `node`) reachable from `node` only.
inline AllocationResult AllocationOn(const std::string& node, std::vector<std::string> devices,
                                     const std::string& request = "gpu") {
  AllocationResult a;
  for (std::string& d : devices) {
    DeviceRequestAllocationResult r;
    r.request = request;
    r.driver = kGpuDriver;
    r.pool = node;
    r.device = std::move(d);
    a.devices.push_back(std::move(r));
  }
  NodeSelectorTerm term;
  term.match_fields.push_back(SelectorRequirement{"metadata.name", SelectorOperator::kIn, {node}});
  a.node_selector = NodeSelector{{term}};
  return a;
}

}  // namespace sextant::testutil

#endif  // SEXTANT_TEST_TESTING_DRA_BUILDERS_H_
