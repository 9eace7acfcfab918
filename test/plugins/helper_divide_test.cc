#include <cstdint>
#include <random>

#include "gtest/gtest.h"
#include "plugins/helper.h"

namespace sextant {
namespace {

TEST(DivideNonNegativeTest, EqualsIntegerDivisionAtTheEdges) {
  const int64_t kLimit = int64_t{1} << 53;
  const int64_t values[] = {0, 1, 2, 3, 7, 99, 100, 101, 1000, 1023, 1024, 1025,
                            (int64_t{1} << 31) - 1, int64_t{1} << 31, (int64_t{1} << 32) + 1,
                            kLimit - 3, kLimit - 2, kLimit - 1, kLimit, kLimit + 1,
                            INT64_MAX / 100, INT64_MAX - 1, INT64_MAX};
  for (int64_t a : values) {
    for (int64_t b : values) {
      if (b == 0) continue;
      EXPECT_EQ(DivideNonNegative(a, b), a / b) << a << " / " << b;
    }
  }
}

TEST(DivideNonNegativeTest, EqualsIntegerDivisionOnScorerShapedOperands) {
  // (capacity - requested) * 100 / capacity with byte-sized memory and milli cpu, and quotients
  // just below an integer, where a rounded double division would be one too high.
  std::mt19937_64 random(42);
  for (int i = 0; i < 2000000; ++i) {
    int64_t capacity = static_cast<int64_t>(random() % (int64_t{1} << 45)) + 1;
    int64_t requested = static_cast<int64_t>(random() % static_cast<uint64_t>(capacity + 1));
    int64_t a = (capacity - requested) * 100;
    ASSERT_EQ(DivideNonNegative(a, capacity), a / capacity) << a << " / " << capacity;
    int64_t k = static_cast<int64_t>(random() % 100) + 1;
    int64_t below = k * capacity - 1;  // quotient k - tiny
    ASSERT_EQ(DivideNonNegative(below, capacity), below / capacity) << below << " / " << capacity;
  }
}

}  // namespace
}  // namespace sextant
