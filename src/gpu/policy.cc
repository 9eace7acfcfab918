// Policy names and the dispatch to the scorers.
#include <cctype>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gpu/scorers.h"
#include "sextant/gpu.h"

namespace sextant {

absl::string_view GpuPolicyName(GpuPolicy policy) {
  switch (policy) {
    case GpuPolicy::kRandom:
      return "Random";
    case GpuPolicy::kDotProduct:
      return "DotProduct";
    case GpuPolicy::kGpuClustering:
      return "GpuClustering";
    case GpuPolicy::kGpuPacking:
      return "GpuPacking";
    case GpuPolicy::kBestFit:
      return "BestFit";
    case GpuPolicy::kFgd:
      return "FGD";
    case GpuPolicy::kSextant:
      return "Sextant";
  }
  return "?";
}

absl::StatusOr<GpuPolicy> ParseGpuPolicy(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  std::string names;
  for (GpuPolicy policy : kAllGpuPolicies) {
    if (absl::AsciiStrToLower(GpuPolicyName(policy)) == lower) return policy;
    absl::StrAppend(&names, names.empty() ? "" : ", ", GpuPolicyName(policy));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown GPU policy \"", name, "\" (one of: ", names, ")"));
}

GpuPlacement ScoreGpuNode(GpuPolicy policy, const GpuDemand& demand, const GpuNodeView& node,
                          const GpuScoreContext& context) {
  using namespace gpu_internal;  // NOLINT: the scorers of this module
  switch (policy) {
    case GpuPolicy::kRandom:
      return RandomScore(demand, node, context.random_draw);
    case GpuPolicy::kDotProduct:
      return DotProductScore(demand, node);
    case GpuPolicy::kGpuClustering:
      return GpuClusteringScore(demand, node);
    case GpuPolicy::kGpuPacking:
      return GpuPackingScore(demand, node);
    case GpuPolicy::kBestFit:
      return BestFitScore(demand, node);
    case GpuPolicy::kFgd:
      return FgdScore(demand, node, *context.workload);
    case GpuPolicy::kSextant:
      return SextantGpuScore(demand, node, *context.workload);
  }
  return {};
}

}  // namespace sextant
