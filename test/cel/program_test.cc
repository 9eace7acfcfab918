// Program: every construct of the subset evaluated against one device, and the error semantics
// that decide whether a device matches, fails the allocation, or does not match.
#include <string>

#include "cel/test_devices.h"
#include "gtest/gtest.h"
#include "sextant/cel.h"

namespace sextant::cel {
namespace {

using testing::Gpu;

enum class Want { kMatch, kNoMatch, kRuntimeError };

struct Case {
  const char* expression;
  Want want;
  const char* error = "";  // a substring of the runtime error
};

void Expect(const Case& c) {
  absl::StatusOr<Program> program = Program::Compile(c.expression);
  ASSERT_TRUE(program.ok()) << c.expression << ": " << program.status();
  absl::StatusOr<bool> got = program->Matches(Gpu());
  switch (c.want) {
    case Want::kMatch:
      EXPECT_TRUE(got.ok() && *got)
          << c.expression << ": " << (got.ok() ? "no match" : got.status().ToString());
      break;
    case Want::kNoMatch:
      EXPECT_TRUE(got.ok() && !*got)
          << c.expression << ": " << (got.ok() ? "match" : got.status().ToString());
      break;
    case Want::kRuntimeError:
      ASSERT_FALSE(got.ok()) << c.expression << " evaluated to " << *got;
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(got.status().message().find(c.error), std::string::npos)
          << c.expression << ": " << got.status().message() << " lacks " << c.error;
      break;
  }
}

TEST(CelProgramTest, DeviceFields) {
  for (const Case& c : {
           Case{R"(device.driver == "gpu.example.com")", Want::kMatch},
           Case{R"(device.driver != "gpu.example.com")", Want::kNoMatch},
           Case{"device.allowMultipleAllocations", Want::kNoMatch},
           Case{R"(device.attributes["gpu.example.com"].model == "H100")", Want::kMatch},
           Case{R"(device.attributes["gpu.example.com"]["model"] == "H100")", Want::kMatch},
           Case{R"(device.attributes["dra.net"].numaNode == 1)", Want::kMatch},
           Case{R"(device.attributes[device.driver].index == 0)", Want::kMatch},
           Case{R"(device.capacity["gpu.example.com"].memory == quantity("80Gi"))", Want::kMatch},
       }) {
    Expect(c);
  }
}

TEST(CelProgramTest, MissingAttributeIsARuntimeErrorAndAbsentDomainAnEmptyMap) {
  for (const Case& c : {
           Case{R"(device.attributes["gpu.example.com"].missing == "x")", Want::kRuntimeError,
                "no such key: missing"},
           Case{R"(device.attributes["other.example.com"].model == "x")", Want::kRuntimeError,
                "no such key: model"},
           Case{R"(device.capacity["gpu.example.com"].missing.isInteger())", Want::kRuntimeError,
                "no such key"},
           Case{R"(size(device.attributes["other.example.com"]) == 0)", Want::kMatch},
           Case{R"(has(device.attributes["gpu.example.com"].model))", Want::kMatch},
           Case{R"(has(device.attributes["gpu.example.com"].missing))", Want::kNoMatch},
           Case{R"(has(device.attributes["other"].model))", Want::kNoMatch},
           Case{R"(has(device.attributes["gpu.example.com"].model.x))", Want::kNoMatch},
           Case{R"("model" in device.attributes["gpu.example.com"])", Want::kMatch},
           Case{R"("dra.net" in device.attributes)", Want::kMatch},
           Case{R"("other" in device.attributes)", Want::kNoMatch},
           Case{R"("memory" in device.capacity["gpu.example.com"])", Want::kMatch},
       }) {
    Expect(c);
  }
}

TEST(CelProgramTest, LogicalOperatorsAbsorbErrors) {
  const std::string missing = R"(device.attributes["gpu.example.com"].missing == 1)";
  for (const Case& c : {
           Case{"true || MISSING", Want::kMatch},
           Case{"MISSING || true", Want::kMatch},
           Case{"false && MISSING", Want::kNoMatch},
           Case{"MISSING && false", Want::kNoMatch},
           Case{"MISSING && true", Want::kRuntimeError, "no such key"},
           Case{"true && MISSING", Want::kRuntimeError, "no such key"},
           Case{"MISSING || false", Want::kRuntimeError, "no such key"},
           Case{"!(MISSING)", Want::kRuntimeError, "no such key"},
           Case{"MISSING ? true : false", Want::kRuntimeError, "no such key"},
           Case{"true ? true : MISSING", Want::kMatch},
           // A non-bool operand is absorbed like an error, and fails like one otherwise.
           Case{R"(device.attributes["gpu.example.com"].model || true)", Want::kMatch},
           Case{R"(device.attributes["gpu.example.com"].model && true)", Want::kRuntimeError,
                "no such overload"},
           Case{R"(!device.attributes["gpu.example.com"].model)", Want::kRuntimeError,
                "no such overload"},
           Case{R"(device.attributes["gpu.example.com"].model ? true : false)", Want::kRuntimeError,
                "no such overload"},
       }) {
    std::string expression = c.expression;
    for (size_t at; (at = expression.find("MISSING")) != std::string::npos;)
      expression.replace(at, 7, missing);
    Expect(Case{expression.c_str(), c.want, c.error});
  }
}

TEST(CelProgramTest, ComparisonsAcrossTypes) {
  for (const Case& c : {
           Case{R"(device.attributes["gpu.example.com"].index < 1)", Want::kMatch},
           Case{R"(device.attributes["gpu.example.com"].index <= 0.0)", Want::kMatch},
           Case{R"(device.attributes["gpu.example.com"].index == 0.0)", Want::kMatch},
           Case{R"(device.attributes["gpu.example.com"].index == "0")", Want::kNoMatch},
           Case{R"(device.attributes["gpu.example.com"].index < "1")", Want::kRuntimeError,
                "no such overload"},
           Case{R"(device.attributes["gpu.example.com"].model > "A100")", Want::kMatch},
           Case{R"(device.attributes["gpu.example.com"].ecc > false)", Want::kMatch},
           Case{R"(device.attributes["gpu.example.com"].index < 0.0 / 0.0)", Want::kRuntimeError,
                "NaN"},
           // A version on the left of == fails on a value of another type; on the right it is
           // unequal.
           Case{R"(device.attributes["gpu.example.com"].driverVersion == "535.104.5")",
                Want::kRuntimeError, "no such overload"},
           Case{R"("535.104.5" == device.attributes["gpu.example.com"].driverVersion)",
                Want::kNoMatch},
           Case{
               R"(device.attributes["gpu.example.com"].driverVersion == semver("535.104.5+other"))",
               Want::kMatch},
       }) {
    Expect(c);
  }
}

TEST(CelProgramTest, ListMembership) {
  for (
      const Case& c : {
          Case{R"(device.attributes["gpu.example.com"].model in ["A100", "H100"])", Want::kMatch},
          Case{R"(device.attributes["gpu.example.com"].index in [0.0, 2.0])", Want::kMatch},
          Case{R"(device.attributes["gpu.example.com"].index in [1, 2])", Want::kNoMatch},
          // Empty constant list: false before the left side is looked at.
          Case{R"(device.attributes["gpu.example.com"].missing in [])", Want::kNoMatch},
          Case{R"(device.attributes["gpu.example.com"].driverVersion in ["535.104.5"])",
               Want::kRuntimeError, "unhashable"},
          Case{R"(device.attributes["gpu.example.com"].driverVersion in [semver("535.104.5")])",
               Want::kMatch},
          Case{
              R"(device.attributes["gpu.example.com"].model in [device.attributes["gpu.example.com"].missing])",
              Want::kRuntimeError, "no such key"},
      }) {
    Expect(c);
  }
}

TEST(CelProgramTest, StringFunctions) {
  for (const Case& c : {
           Case{R"(device.driver.startsWith("gpu.") && device.driver.endsWith(".com"))",
                Want::kMatch},
           Case{R"(device.driver.contains("example"))", Want::kMatch},
           Case{R"(device.driver.matches("^gpu\\.example"))", Want::kMatch},
           Case{R"(matches(device.driver, "^net"))", Want::kNoMatch},
           Case{R"(device.attributes["gpu.example.com"].model.matches("[" + ""))",
                Want::kRuntimeError, "error parsing regexp"},
           Case{R"(device.attributes["gpu.example.com"].model.lowerAscii() == "h100")",
                Want::kMatch},
           Case{R"("Ünï".upperAscii() == "ÜNï")", Want::kMatch},
           Case{R"(size("名前") == 2 && "abc".size() == 3)", Want::kMatch},
           Case{R"(size(device.attributes["gpu.example.com"]) == 5)", Want::kMatch},
           Case{R"(device.attributes["gpu.example.com"].index.startsWith("0"))",
                Want::kRuntimeError, "no such overload"},
           Case{R"(device.attributes["gpu.example.com"].model + "x" == "H100x")", Want::kMatch},
       }) {
    Expect(c);
  }
}

TEST(CelProgramTest, QuantityAndSemverFunctions) {
  const std::string memory = R"(device.capacity["gpu.example.com"].memory)";
  const std::string version = R"(device.attributes["gpu.example.com"].driverVersion)";
  for (const std::pair<std::string, Want>& c : std::vector<std::pair<std::string, Want>>{
           {memory + R"(.compareTo(quantity("40Gi")) > 0)", Want::kMatch},
           {memory + R"(.isGreaterThan(quantity("80Gi")))", Want::kNoMatch},
           {memory + R"(.isLessThan(quantity("81Gi")))", Want::kMatch},
           {memory + ".asInteger() == 85899345920", Want::kMatch},
           {"sign(" + memory + ") == 1", Want::kMatch},
           {R"(device.capacity["gpu.example.com"].cpu.isInteger())", Want::kNoMatch},
           {R"(device.capacity["gpu.example.com"].cpu.asInteger() == 1)", Want::kRuntimeError},
           {R"(quantity("1.5k").asInteger() == 1500 && isQuantity("1Ki") && !isQuantity("1 Ki"))",
            Want::kMatch},
           {R"(quantity("bogus").isInteger())", Want::kRuntimeError},
           {version + R"(.isGreaterThan(semver("530.0.0")))", Want::kMatch},
           {version + R"(.compareTo(semver("535.104.5")) == 0)", Want::kMatch},
           {version + ".major() == 535 && " + version + ".minor() == 104 && " + version +
                ".patch() == 5",
            Want::kMatch},
           {R"(semver("1.0.0-rc.1").isLessThan(semver("1.0.0")))", Want::kMatch},
           {R"(semver("1.0.0-alpha.10").isGreaterThan(semver("1.0.0-alpha.9")))", Want::kMatch},
           {R"(semver("v1.2", true).minor() == 2 && isSemver("1.2.3") && !isSemver("1.2"))",
            Want::kMatch},
           {R"(semver("1.2").major() == 1)", Want::kRuntimeError},
           {R"(device.attributes["gpu.example.com"].model.isGreaterThan(semver("1.0.0")))",
            Want::kRuntimeError},
       }) {
    Expect(Case{c.first.c_str(), c.second, ""});
  }
}

TEST(CelProgramTest, IntegerArithmeticOverflowsAtRunTime) {
  for (const Case& c : {
           Case{R"(device.attributes["gpu.example.com"].maxInt + 1 > 0)", Want::kRuntimeError,
                "integer overflow"},
           Case{R"(device.attributes["gpu.example.com"].maxInt * 2 > 0)", Want::kRuntimeError,
                "integer overflow"},
           Case{R"(-9223372036854775808 - 1 < 0)", Want::kRuntimeError, "integer overflow"},
           Case{R"(device.attributes["gpu.example.com"].index / 0 == 0)", Want::kRuntimeError,
                "division by zero"},
           Case{"7 % 0 == 1", Want::kRuntimeError, "modulus by zero"},
           Case{"7 % 2 == 1 && 7 / 2 == 3 && -7 / 2 == -3", Want::kMatch},
       }) {
    Expect(c);
  }
}

TEST(CelProgramTest, BindNamesAValueForTheBody) {
  for (
      const Case& c : {
          Case{
              R"(cel.bind(gpu, device.attributes["gpu.example.com"], gpu.model == "H100" && gpu.ecc))",
              Want::kMatch},
          Case{
              R"(cel.bind(m, device.capacity["gpu.example.com"].memory, m.isGreaterThan(quantity("1Gi"))))",
              Want::kMatch},
          // The value is an error only if the body reads it.
          Case{R"(cel.bind(x, device.attributes["gpu.example.com"].missing, true))", Want::kMatch},
          Case{R"(cel.bind(x, device.attributes["gpu.example.com"].missing, false || x == 1))",
               Want::kRuntimeError, "no such key: missing"},
          Case{R"(cel.bind(x, 1, cel.bind(y, x + 1, y == 2)))", Want::kMatch},
          Case{R"(cel.bind(x, 1, cel.bind(x, "s", x == "s")) && cel.bind(x, 2, x == 2))",
               Want::kMatch},
          Case{R"(cel.bind(device, 1, device == 1))", Want::kMatch},
      }) {
    Expect(c);
  }
  absl::StatusOr<Program> out_of_scope = Program::Compile("cel.bind(x, 1, x == 1) && x == 1");
  ASSERT_FALSE(out_of_scope.ok());
  EXPECT_EQ(std::string(out_of_scope.status().message()),
            "undeclared reference to \"x\" (only `device` is declared) at column 27");
}

TEST(CelProgramTest, LongChainsWithinTheApiLengthLimit) {
  // Selectors are at most 10 Ki characters; a chain of that length nests one level per operator.
  std::string e = R"(device.attributes["gpu.example.com"].index == 0)";
  while (e.size() < 10 * 1024) e += R"( && device.driver == "gpu.example.com")";
  Expect(Case{e.c_str(), Want::kMatch});
  e += " && false";
  Expect(Case{e.c_str(), Want::kNoMatch});
}

TEST(CelProgramTest, NonBoolResultIsARuntimeError) {
  Expect(Case{R"(device.attributes["gpu.example.com"].model)", Want::kRuntimeError, "not a bool"});
  Expect(Case{R"(device.attributes["gpu.example.com"].ecc)", Want::kMatch});
}

TEST(CelProgramTest, ProgramIsReusableAcrossDevices) {
  absl::StatusOr<Program> program =
      Program::Compile(R"(device.attributes["gpu.example.com"].model == "H100")");
  ASSERT_TRUE(program.ok());
  absl::StatusOr<Device> other =
      Device::Create("gpu.example.com", false, {{"model", testing::Str("A100")}}, {});
  ASSERT_TRUE(other.ok());
  Device gpu = Gpu();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(*program->Matches(gpu), true);
    EXPECT_EQ(*program->Matches(*other), false);
  }
  Program copy = *program;
  EXPECT_EQ(copy.expression(), program->expression());
  EXPECT_EQ(*copy.Matches(gpu), true);
}

}  // namespace
}  // namespace sextant::cel
