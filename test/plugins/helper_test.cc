// Cases ported from pkg/scheduler/framework/plugins/helper/normalize_score_test.go (v1.37)
// TestDefaultNormalizeScore.
#include "plugins/helper.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sextant {
namespace {

struct Case {
  std::string name;
  int64_t max_priority;
  bool reverse;
  std::vector<int64_t> scores;
  std::vector<int64_t> want;
};

// gtest names the failing row instead of dumping its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class DefaultNormalizeScoreTest : public ::testing::TestWithParam<Case> {};

TEST_P(DefaultNormalizeScoreTest, MatchesUpstream) {
  const Case& c = GetParam();
  std::vector<int64_t> scores = c.scores;
  DefaultNormalizeScore(c.max_priority, c.reverse, scores);
  EXPECT_EQ(scores, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, DefaultNormalizeScoreTest,
    ::testing::Values(
        Case{"ScalesToHighest", 100, false, {1, 2, 3, 4}, {25, 50, 75, 100}},
        Case{"ReverseScalesToHighest", 100, true, {1, 2, 3, 4}, {75, 50, 25, 0}},
        Case{"IntegerDivisionTruncates", 100, false, {1000, 10, 20, 30}, {100, 1, 2, 3}},
        Case{"ReverseIntegerDivisionTruncates", 100, true, {1000, 10, 20, 30}, {0, 99, 98, 97}},
        Case{"EqualScoresAllMax", 100, false, {1, 1, 1, 1}, {100, 100, 100, 100}},
        Case{"SmallScoresTruncateToZero", 100, false, {1000, 1, 1, 1}, {100, 0, 0, 0}},
        Case{"ReverseZeroBecomesMax", 100, true, {0, 1, 1, 1}, {100, 0, 0, 0}},
        Case{"AllZeroStayZero", 100, false, {0, 0, 0, 0}, {0, 0, 0, 0}},
        Case{"ReverseAllZeroBecomeMax", 100, true, {0, 0, 0, 0}, {100, 100, 100, 100}},
        // Beyond upstream's table.
        Case{"EmptyListIsNoOp", 100, false, {}, {}},
        Case{"ReverseEmptyListIsNoOp", 100, true, {}, {}},
        Case{"OtherMaxPriority", 10, false, {3, 6, 9}, {3, 6, 10}},
        Case{"ReverseOtherMaxPriority", 10, true, {0, 0}, {10, 10}},
        // Negative scores do not raise the maximum; all non-positive behaves as all zero.
        Case{"NegativeScoresWithZeroMax", 100, true, {-5, 0}, {100, 100}},
        Case{"NegativeScoreScaledByPositiveMax", 100, false, {-2, 4}, {-50, 100}}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(NormalizeScoreTest, MaxNodeScoreIs100) { EXPECT_EQ(kMaxNodeScore, 100); }

}  // namespace
}  // namespace sextant
