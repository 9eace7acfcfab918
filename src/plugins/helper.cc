#include "plugins/helper.h"

#include <algorithm>

namespace sextant {

void DefaultNormalizeScore(int64_t max_priority, bool reverse, std::span<int64_t> scores) {
  int64_t max_count = 0;
  for (int64_t s : scores) max_count = std::max(max_count, s);
  for (int64_t& s : scores) s = NormalizeScore(max_priority, reverse, s, max_count);
}

}  // namespace sextant
