// Pods the engine benchmarks share, so their figures compare like with like.
#ifndef SEXTANT_BENCH_BENCH_PODS_H_
#define SEXTANT_BENCH_BENCH_PODS_H_

#include "sextant/model.h"

namespace sextant {

// A basic pod: one container, Burstable (500m / 1Gi requested, 1 / 2Gi limits), no selectors,
// no tolerations.
inline Pod BasicBenchPod(const std::string& name_space = "bench") {
  Pod pod;
  pod.name_space = name_space;
  pod.name = "basic";
  Container c;
  c.name = "app";
  c.requests = {{"cpu", Quantity::FromMilli(500)}, {"memory", Quantity::FromInt(1LL << 30)}};
  c.limits = {{"cpu", Quantity::FromInt(1)}, {"memory", Quantity::FromInt(2LL << 30)}};
  pod.containers.push_back(c);
  return pod;
}

}  // namespace sextant

#endif  // SEXTANT_BENCH_BENCH_PODS_H_
