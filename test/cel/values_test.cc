// Semver parsing and precedence, capacity values (with upstream's exact-int64 reading), and the
// device view.
#include <string>

#include "cel/test_devices.h"
#include "gtest/gtest.h"
#include "sextant/cel.h"

namespace sextant::cel {
namespace {

TEST(CelSemverTest, ParsesStrictSemver) {
  absl::StatusOr<Semver> v = Semver::Parse("1.2.3-rc.1+build.5");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->major, 1u);
  EXPECT_EQ(v->minor, 2u);
  EXPECT_EQ(v->patch, 3u);
  EXPECT_EQ(v->prerelease, (std::vector<std::string>{"rc", "1"}));
  EXPECT_EQ(v->build, (std::vector<std::string>{"build", "5"}));
  for (const char* bad : {"", "1.2", "v1.2.3", "01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3-01",
                          "1.2.3-a..b", "1.2.3+", "1.2.3-x_y", "1.2.x", "1.2.3.4"}) {
    EXPECT_FALSE(Semver::Parse(bad).ok()) << bad;
  }
  EXPECT_TRUE(Semver::Parse("0.0.0-0").ok());
  EXPECT_TRUE(Semver::Parse("1.2.3-0a").ok());
}

TEST(CelSemverTest, NormalizedParse) {
  EXPECT_EQ(Semver::ParseNormalized("v1.02")->minor, 2u);
  EXPECT_EQ(Semver::ParseNormalized("1")->major, 1u);
  EXPECT_FALSE(Semver::ParseNormalized("1.2-rc.1").ok());
  EXPECT_EQ(Semver::ParseNormalized("v1.2.3-rc.1")->prerelease.size(), 2u);
}

TEST(CelSemverTest, Precedence) {
  const char* ordered[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                           "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                           "1.0.0-rc.1",  "1.0.0",         "1.0.1",
                           "1.1.0",       "2.0.0",         "10.0.0"};
  for (size_t i = 0; i + 1 < std::size(ordered); ++i) {
    Semver a = *Semver::Parse(ordered[i]), b = *Semver::Parse(ordered[i + 1]);
    EXPECT_EQ(a.Compare(b), -1) << ordered[i] << " < " << ordered[i + 1];
    EXPECT_EQ(b.Compare(a), 1);
    EXPECT_EQ(a.Compare(a), 0);
  }
  EXPECT_EQ(Semver::Parse("1.0.0+a")->Compare(*Semver::Parse("1.0.0+b")), 0);
}

TEST(CelCapacityTest, ExactInt64FollowsHowTheQuantityWasWritten) {
  struct Case {
    const char* text;
    std::optional<int64_t> want;
  };
  for (const Case& c : {
           Case{"0", 0},
           Case{"1", 1},
           Case{"007", 7},
           Case{"+3", 3},
           Case{"-3k", -3000},
           Case{"1.5k", 1500},
           Case{"12e2", 1200},
           Case{"10Gi", 10737418240},
           Case{"1Ti", 1099511627776},
           Case{"123456789012345678", 123456789012345678},
           Case{"1000m", std::nullopt},  // kept at scale -3, never reduced
           Case{"0.5", std::nullopt},
           Case{"1e-2", std::nullopt},
           Case{"1Pi", std::nullopt},    // binary suffix too large for the exact path
           Case{"1.5Gi", std::nullopt},  // binary with a fraction
           Case{"1234567890123456789", std::nullopt},
           Case{"8Ei", std::nullopt},
       }) {
    absl::StatusOr<CapacityValue> v = CapacityValue::Parse(c.text);
    ASSERT_TRUE(v.ok()) << c.text << ": " << v.status();
    EXPECT_EQ(v->as_int64, c.want) << c.text;
  }
  EXPECT_FALSE(CapacityValue::Parse("10 Gi").ok());
  EXPECT_EQ(CapacityValue::FromQuantity(*Quantity::Parse("1000m")).as_int64, 1);
}

TEST(CelDeviceTest, GroupsNamesByDomain) {
  absl::StatusOr<Device> d = Device::Create(
      "gpu.example.com", true, {{"model", testing::Str("x")}, {"dra.net/numa", testing::Int(1)}},
      {{"memory", testing::Cap("1Gi")}});
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_EQ(d->attribute_domains().size(), 2u);
  EXPECT_EQ(d->attribute_domains()[0].name, "dra.net");
  EXPECT_EQ(d->attribute_domains()[1].name, "gpu.example.com");
  EXPECT_EQ(d->attribute_domains()[1].entries[0].first, "model");
  EXPECT_TRUE(d->allow_multiple_allocations());
}

TEST(CelDeviceTest, RejectsANameGivenTwice) {
  absl::StatusOr<Device> d = Device::Create(
      "gpu.example.com", false,
      {{"model", testing::Str("x")}, {"gpu.example.com/model", testing::Str("y")}}, {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(std::string(d.status().message()),
            "attribute \"gpu.example.com/model\" is given twice");
}

}  // namespace
}  // namespace sextant::cel
