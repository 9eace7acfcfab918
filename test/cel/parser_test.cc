// The parser: literals and escapes as CEL writes them, and syntax errors that say what was found
// where.
#include <string>

#include "cel/test_devices.h"
#include "gtest/gtest.h"
#include "sextant/cel.h"

namespace sextant::cel {
namespace {

void ExpectMatch(const std::string& expression) {
  absl::StatusOr<Program> program = Program::Compile(expression);
  ASSERT_TRUE(program.ok()) << expression << ": " << program.status();
  absl::StatusOr<bool> got = program->Matches(testing::Gpu());
  EXPECT_TRUE(got.ok() && *got) << expression << ": "
                                << (got.ok() ? "no match" : got.status().ToString());
}

void ExpectError(const std::string& expression, const std::string& message) {
  absl::StatusOr<Program> program = Program::Compile(expression);
  ASSERT_FALSE(program.ok()) << expression << " compiles";
  EXPECT_EQ(program.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(program.status().message()), message) << expression;
}

TEST(CelParserTest, Literals) {
  for (const char* e : {
           "0x10 == 16",
           "-9223372036854775808 < 0",
           "9223372036854775807 > 0",
           "-0x8000000000000000 < 0",
           "1.5 > 1",
           ".5 < 1.0",
           "1e3 == 1000.0",
           "2.5e-1 == 0.25",
           "- 1 == -1",
           "--1 == 1",
           "-(-1) == 1",
           "!!true",
           "true != false",
       }) {
    ExpectMatch(e);
  }
}

TEST(CelParserTest, StringEscapesAndRawStrings) {
  for (const char* e : {
           R"("a\tb".size() == 3)",
           R"("\x41" == "A")",
           R"("\X41" == "A")",
           R"("\101" == "A")",
           R"("\u00e9" == "é")",
           R"("\U0001F600".size() == 1)",
           R"('single' == "single")",
           R"("\"\'\\\?\`".size() == 5)",
           R"(r"\d" == "\\d")",
           R"(R'a\b' == 'a\\b')",
           R"("""tri"ple""" == "tri\"ple")",
           R"('''x''' == 'x')",
           "'''two\nlines'''.size() == 9",
       }) {
    ExpectMatch(e);
  }
}

TEST(CelParserTest, CommentsAndWhitespace) {
  ExpectMatch("device.driver ==\n  \"gpu.example.com\" // the driver");
  ExpectMatch("(device.driver == \"gpu.example.com\")\t&&\r\n(true)");
}

TEST(CelParserTest, SyntaxErrorsNameWhatAndWhere) {
  ExpectError("device.driver ==",
              "syntax error: expected an expression, found end of expression at column 17");
  ExpectError("(device.driver == \"x\"",
              "syntax error: expected ')', found end of expression at column 22");
  ExpectError("device.driver == \"x\")",
              "syntax error: expected end of expression, found ')' at column 21");
  ExpectError("device.driver = \"x\"",
              "syntax error: '=' is not an operator (use '==') at column 15");
  ExpectError("true &&& true", "syntax error: '&' is not an operator (use '&&') at column 8");
  ExpectError("true | false", "syntax error: '|' is not an operator (use '||') at column 6");
  ExpectError("\"unterminated", "syntax error: unterminated string literal at column 1");
  ExpectError("\"a\" == \"\\z\"", "syntax error: invalid escape sequence '\\z' at column 9");
  ExpectError("\"\\uD800\" == \"\"",
              "syntax error: escape sequence is not a valid code point at column 2");
  ExpectError("9223372036854775808 > 0",
              "invalid int literal (out of the int64 range) at column 1");
  ExpectError("\"é\" == # ", "syntax error: unexpected character '#' at column 8");
  ExpectError("1. == 1.0", "syntax error: expected a field or method name, found '==' at column 4");
  ExpectError("", "syntax error: expected an expression, found end of expression at column 1");
  ExpectError("device.driver == \"x\" &&\n  device.foo == 1",
              "undefined field \"foo\" of device at line 2, column 10");
  ExpectError("cel.bind(x.y, 1, true)",
              "cel.bind takes a variable name, a value and an expression at column 5");
  ExpectError("cel.bind(x, 1)",
              "cel.bind takes a variable name, a value and an expression at column 5");
  ExpectError(
      "has(device.attributes[\"d\"][\"x\"])",
      "has() takes one field selection, as in has(device.attributes[\"domain\"].name) at column 1");
}

TEST(CelParserTest, SyntaxOutsideTheSubsetSaysSo) {
  ExpectError(
      "1u == 1u",
      "unsupported: unsigned integer literals are not part of Sextant's CEL subset at column 1");
  ExpectError("b\"abc\" == b\"abc\"",
              "unsupported: bytes literals are not part of Sextant's CEL subset at column 1");
  ExpectError("null == null", "unsupported: null is not part of Sextant's CEL subset at column 1");
  ExpectError("{\"a\": 1}[\"a\"] == 1",
              "unsupported: map literals are not part of Sextant's CEL subset at column 1");
  ExpectError(
      "device.?driver == \"x\"",
      "unsupported: optional field selection '.?' is not part of Sextant's CEL subset at column 8");
}

TEST(CelParserTest, DeepNestingIsRejected) {
  std::string deep(200, '(');
  deep += "true";
  deep += std::string(200, ')');
  absl::StatusOr<Program> program = Program::Compile(deep);
  ASSERT_FALSE(program.ok());
  EXPECT_NE(program.status().message().find("nests too deeply"), std::string::npos)
      << program.status();
}

}  // namespace
}  // namespace sextant::cel
