// Shared pieces of the upstream plugin helpers (framework/plugins/helper).
#ifndef SEXTANT_PLUGINS_HELPER_H_
#define SEXTANT_PLUGINS_HELPER_H_

#include <cstdint>
#include <span>

namespace sextant {

inline constexpr int64_t kMaxNodeScore = 100;

// helper.DefaultNormalizeScore: scales to 0..max_priority by the highest score; reverse flips.
// When every score is 0, reverse gives all max_priority and forward leaves all 0.
void DefaultNormalizeScore(int64_t max_priority, bool reverse, std::span<int64_t> scores);

// One score of DefaultNormalizeScore, given the highest score of the list.
inline int64_t NormalizeScore(int64_t max_priority, bool reverse, int64_t score, int64_t max_score) {
  if (max_score == 0) return reverse ? max_priority : score;
  score = max_priority * score / max_score;
  return reverse ? max_priority - score : score;
}

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_HELPER_H_
