#include "plugins/node_resources_balanced_allocation.h"

#include <algorithm>
#include <cmath>

#include "plugins/helper.h"

namespace sextant {
namespace {

int64_t BalancedResourceScore(const int64_t* requested, const int64_t* allocatable, size_t n) {
  double fractions[16];
  size_t count = 0;
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    if (allocatable[i] == 0) continue;
    double fraction = static_cast<double>(requested[i]) / static_cast<double>(allocatable[i]);
    fraction = std::min(fraction, 1.0);
    total += fraction;
    fractions[count++] = fraction;
  }
  double std_dev = 0;
  if (count == 2) {
    std_dev = std::abs((fractions[0] - fractions[1]) / 2);
  } else if (count > 2) {
    double mean = total / static_cast<double>(count);
    double sum = 0;
    for (size_t i = 0; i < count; ++i) sum += (fractions[i] - mean) * (fractions[i] - mean);
    std_dev = std::sqrt(sum / static_cast<double>(count));
  }
  return static_cast<int64_t>((1 - std_dev) * static_cast<double>(kMaxNodeScore));
}

}  // namespace

bool BalancedAllocationSkips(const ResourceAllocationPreScoreState& state) {
  return std::all_of(state.pod_requests.begin(), state.pod_requests.end(),
                     [](int64_t r) { return r == 0; });
}

int64_t BalancedAllocationScore(const ResourceAllocationPreScoreState& state, const NodeInfo& node) {
  const size_t n = state.resources.size();
  int64_t requested[16], allocated[16], allocatable[16];
  if (n > 16) return 0;  // ValidateProfileOptions caps the list
  CalculateNodeAllocatableRequest(state, node, requested, allocated, allocatable);
  int64_t with_pod = BalancedResourceScore(requested, allocatable, n);
  int64_t without_pod = BalancedResourceScore(allocated, allocatable, n);
  return kMaxNodeScore / 2 + (kMaxNodeScore / 2 + with_pod - without_pod) / 2;
}

}  // namespace sextant
