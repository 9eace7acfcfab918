// Saturating resource arithmetic. Every amount enters the accounting clamped to
// +-kMaxResourceValue (8 PiB in bytes, 9e12 cores in millis: far above any machine), and sums
// saturate at +-kMaxResourceSum, so that the sums over a node's pods, the filters' request +
// requested and the scorers' products (x100) never overflow int64, whatever quantities a client
// sends.
#ifndef SEXTANT_STATE_INTERNAL_SATURATING_H_
#define SEXTANT_STATE_INTERNAL_SATURATING_H_

#include <algorithm>
#include <cstdint>

namespace sextant::internal {

inline constexpr int64_t kMaxResourceValue = int64_t{1} << 53;
inline constexpr int64_t kMaxResourceSum = int64_t{1} << 62;

inline int64_t ClampResource(int64_t value) {
  return std::clamp(value, -kMaxResourceValue, kMaxResourceValue);
}

// Both operands are clamped to +-2^62 first, so the addition itself cannot overflow.
inline int64_t AddResource(int64_t sum, int64_t value) {
  return std::clamp(std::clamp(sum, -kMaxResourceSum, kMaxResourceSum) +
                        std::clamp(value, -kMaxResourceSum, kMaxResourceSum),
                    -kMaxResourceSum, kMaxResourceSum);
}

}  // namespace sextant::internal

#endif  // SEXTANT_STATE_INTERNAL_SATURATING_H_
