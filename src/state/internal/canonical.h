// A canonical byte encoding of the model values ClusterState holds, for the state digest: every
// field in declaration order, strings and containers length-prefixed, integers as 8 little-endian
// bytes, quantities as their exact exponent form and their format, maps in key order. Two values
// encode to the same bytes exactly when every field is equal.
#ifndef SEXTANT_STATE_INTERNAL_CANONICAL_H_
#define SEXTANT_STATE_INTERNAL_CANONICAL_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "sextant/dra.h"
#include "sextant/model.h"

namespace sextant::internal {

class CanonicalWriter {
 public:
  // With exact_quantities (the digest), a quantity is its exact value and its format. Without,
  // it is the text it prints as, the form the API (and the proto edge) carries: "1.1Ki" and
  // "1126400m" encode alike, and so do "2000E" and "2" (String() has no suffix past E).
  explicit CanonicalWriter(bool exact_quantities = true) : exact_quantities_(exact_quantities) {}

  void Int(int64_t value);
  void Bool(bool value) { Int(value ? 1 : 0); }
  void String(absl::string_view text);
  // A section or field marker; keeps different layouts with equal bytes apart.
  void Tag(absl::string_view tag) { String(tag); }

  void Write(const Quantity& quantity);
  void Write(const ResourceList& list);
  void Write(const Labels& labels);
  void Write(const Taint& taint);
  void Write(const Toleration& toleration);
  void Write(const SelectorRequirement& requirement);
  void Write(const NodeSelectorTerm& term);
  void Write(const NodeAffinity& affinity);
  void Write(const LabelSelector& selector);
  void Write(const PodAffinityTerm& term);
  void Write(const PodAffinity& affinity);
  void Write(const Affinity& affinity);
  void Write(const TopologySpreadConstraint& constraint);
  void Write(const Container& container);
  void Write(const ContainerStatus& status);
  void Write(const Pod& pod);
  void Write(const Node& node);
  void Write(const Namespace& ns);
  void Write(const PriorityClass& priority_class);
  void Write(const PodDisruptionBudget& pdb);
  void Write(const PodResourceClaim& claim);
  void Write(const PodResourceClaimStatus& status);
  void Write(const NodeSelector& selector);
  void Write(const DeviceClass& device_class);
  void Write(const ResourceSlice& slice);
  void Write(const ResourceClaim& claim);
  void Write(const AllocationResult& allocation);

  const std::string& bytes() const { return bytes_; }

 private:
  template <typename T>
  void Optional(const std::optional<T>& value);
  template <typename T>
  void Sequence(const std::vector<T>& values);
  void Write(const DeviceSelector& selector);
  void Write(const DeviceAttributeValue& value);
  void Write(const CapacityRequestPolicy& policy);
  void Write(const DeviceTaint& taint);
  void Write(const DeviceToleration& toleration);
  void Write(const Device& device);
  void Write(const DeviceRequestSpec& spec);
  void Write(const DeviceRequest& request);
  void Write(const DeviceConstraint& constraint);
  void Write(const DeviceRequestAllocationResult& result);

  const bool exact_quantities_;
  std::string bytes_;
};

// A 128-bit digest of `bytes` as 32 hex digits (two independent 64-bit hashes; it detects
// change, it is not a cryptographic hash).
std::string Digest128(absl::string_view bytes);

}  // namespace sextant::internal

#endif  // SEXTANT_STATE_INTERNAL_CANONICAL_H_
