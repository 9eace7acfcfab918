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

// Exactly a / b for 0 <= a and 0 < b (truncating, as Go's and C++'s integer division). The
// scorers divide once per node and resource, and a 64-bit integer division stalls for tens of
// cycles on the Xeons we run on; a double division plus a one-step correction is exact whenever
// both operands are below 2^53 (the quotient is then off by at most one before correction).
inline int64_t DivideNonNegative(int64_t a, int64_t b) {
  constexpr int64_t kExactDouble = int64_t{1} << 53;
  if (a >= kExactDouble || b >= kExactDouble) return a / b;
  int64_t q = static_cast<int64_t>(static_cast<double>(a) / static_cast<double>(b));
  if (q * b > a) {
    --q;
  } else if ((q + 1) * b <= a) {
    ++q;
  }
  return q;
}

// One score of DefaultNormalizeScore, given the highest score of the list.
inline int64_t NormalizeScore(int64_t max_priority, bool reverse, int64_t score, int64_t max_score) {
  if (max_score == 0) return reverse ? max_priority : score;
  score = max_priority * score / max_score;
  return reverse ? max_priority - score : score;
}

}  // namespace sextant

#endif  // SEXTANT_PLUGINS_HELPER_H_
