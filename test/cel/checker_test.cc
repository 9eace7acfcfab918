// The checker: upstream's static typing of `device` (attributes dyn, capacities quantities),
// overload errors, and functions outside the subset named as such.
#include <string>

#include "gtest/gtest.h"
#include "sextant/cel.h"

namespace sextant::cel {
namespace {

void ExpectCompiles(const std::string& expression) {
  absl::StatusOr<Program> program = Program::Compile(expression);
  EXPECT_TRUE(program.ok()) << expression << ": " << program.status();
}

void ExpectError(const std::string& expression, const std::string& message) {
  absl::StatusOr<Program> program = Program::Compile(expression);
  ASSERT_FALSE(program.ok()) << expression << " compiles";
  EXPECT_EQ(std::string(program.status().message()), message) << expression;
}

TEST(CelCheckerTest, AttributesAreDynSoAnyComparisonCompiles) {
  for (const char* e : {
           R"(device.attributes["d"].x == 1)",
           R"(device.attributes["d"].x == "s")",
           R"(device.attributes["d"].x < 1.5)",
           R"(device.attributes["d"].x.startsWith("a"))",
           R"(device.attributes["d"].x.compareTo(semver("1.0.0")) > 0)",
           R"(device.attributes["d"].x)",
           R"(device.attributes["d"].x in ["a", "b"])",
           R"("x" in device.attributes["d"])",
           R"(device.attributes["d"].x ? true : false)",
           R"(device.attributes["d"].x + 1 > 2)",
       }) {
    ExpectCompiles(e);
  }
}

TEST(CelCheckerTest, TypeErrors) {
  ExpectError("device.driver == 1",
              "no matching overload for '==' applied to (string, int) at column 15");
  ExpectError("1 == 1.0", "no matching overload for '==' applied to (int, double) at column 3");
  ExpectError(R"(device.capacity["d"].memory > quantity("1"))",
              "no matching overload for '>' applied to (kubernetes.Quantity, kubernetes.Quantity) "
              "at column 29");
  ExpectError(
      R"(device.capacity["d"].memory == "1Gi")",
      "no matching overload for '==' applied to (kubernetes.Quantity, string) at column 29");
  ExpectError(R"(device.attributes["d"].v > semver("1.0.0"))",
              "no matching overload for '>' applied to (dyn, kubernetes.Semver) at column 26");
  ExpectError(R"(device.attributes["d"].x.startsWith(1))",
              "no matching overload for 'startsWith' (method) applied to (dyn, int) at column 26");
  ExpectError(R"(1 in device.attributes["d"])",
              "no matching overload for 'in' applied to (int, map(string, dyn)) at column 3");
  ExpectError(R"(device.driver in ["a", 1])",
              "list elements must share one type: expected string but found int at column 24");
  ExpectError("1 < 2 < 3", "no matching overload for '<' applied to (bool, int) at column 7");
  ExpectError("true ? 1 == 1 : \"x\"",
              "no matching overload for '?:' applied to (bool, bool, string) at column 6");
  ExpectError(
      R"(device["driver"] == "x")",
      "no matching overload for '[]' applied to (kubernetes.DRADevice, string) at column 7");
}

TEST(CelCheckerTest, NamesAndFields) {
  ExpectError("device.foo == 1", "undefined field \"foo\" of device at column 8");
  ExpectError("gpu.model == 1",
              "undeclared reference to \"gpu\" (only `device` is declared) at column 1");
  ExpectError("device.driver.x == 1", "type string does not support field selection at column 15");
}

TEST(CelCheckerTest, ResultMustBeBool) {
  ExpectError("device.driver", "must evaluate to bool, not string");
  ExpectError("1", "must evaluate to bool, not int");
  ExpectError(R"(device.capacity["d"].m.compareTo(quantity("1")))",
              "must evaluate to bool, not int");
  ExpectError("device", "must evaluate to bool, not kubernetes.DRADevice");
}

TEST(CelCheckerTest, InvalidConstantRegexIsACompileError) {
  absl::StatusOr<Program> program = Program::Compile(R"(device.driver.matches("["))");
  ASSERT_FALSE(program.ok());
  EXPECT_EQ(program.status().message().rfind("invalid regular expression: ", 0), 0u)
      << program.status();
  EXPECT_NE(program.status().message().find("at column 23"), std::string::npos) << program.status();
}

TEST(CelCheckerTest, FunctionsOutsideTheSubsetAreNamed) {
  ExpectError("foo(device.driver)", "unsupported function \"foo\" at column 1");
  ExpectError("device.driver.foo()", "unsupported function \"foo\" at column 15");
  ExpectError(R"(device.attributes["d"].exists(k, k == "x"))",
              "unsupported function \"exists\" at column 24");
  ExpectError("math.greatest(1, 2) == 2", "unsupported function \"math.greatest\" at column 6");
  ExpectError(R"(device.driver.split(".")[0] == "gpu")",
              "unsupported function \"split\" at column 15");
  ExpectError(R"(int(device.attributes["d"].x) > 0)", "unsupported function \"int\" at column 1");
  ExpectError(R"(quantity("1").add(quantity("1")) == quantity("2"))",
              "unsupported function \"add\" at column 15");
  ExpectError("[1, 2] == [1, 2]",
              "unsupported: list literals are part of Sextant's CEL subset only as the right "
              "operand of 'in' at column 1");
}

TEST(CelCheckerTest, CallerAddsTheObject) {
  // How a caller reports a selector: the object and field, then the compile error.
  absl::StatusOr<Program> program = Program::Compile(R"(device.driver == "a" && foo(1))");
  ASSERT_FALSE(program.ok());
  const std::string reported =
      "DeviceClass \"gpu.example.com\" spec.selectors[0].cel.expression: " +
      std::string(program.status().message());
  EXPECT_EQ(reported,
            "DeviceClass \"gpu.example.com\" spec.selectors[0].cel.expression: unsupported "
            "function \"foo\" at column 25");
}

}  // namespace
}  // namespace sextant::cel
