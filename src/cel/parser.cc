// Recursive-descent parser for the CEL grammar, precedence from loosest to tightest:
//   ?:   ||   &&   == != < <= > >= in   + -   * / %   ! - (unary)   . [] () (member)
#include "cel/internal/parser.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "cel/internal/ast.h"
#include "cel/internal/strings.h"
#include "common/status_macros.h"

namespace sextant::cel::internal {
namespace {

// Deeper nesting is rejected; selectors are short, and the evaluator recurses once per level.
constexpr int kMaxDepth = 64;

enum class Tok : uint8_t {
  kEnd,
  kIdent,
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
  kDot,
  kComma,
  kColon,
  kQuestion,
  kNot,
  kMinus,
  kPlus,
  kStar,
  kSlash,
  kPercent,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t offset = 0;  // byte offset of the first character
  std::string text;   // identifier name, decoded string, or number text
};

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  Parser(std::string_view text, CompiledExpression* out) : text_(text), out_(out) {}

  absl::Status Run() {
    RETURN_IF_ERROR(Next());
    ASSIGN_OR_RETURN(int32_t root, Expr(0));
    if (tok_.kind != Tok::kEnd) return Unexpected("end of expression");
    out_->root = root;
    return absl::OkStatus();
  }

 private:
  // 1-based line and column, counting characters (UTF-8 continuation bytes do not count).
  Position At(size_t offset) const {
    Position p;
    for (size_t i = 0; i < offset && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++p.line;
        p.column = 1;
      } else if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) {
        ++p.column;
      }
    }
    return p;
  }

  absl::Status Error(size_t offset, std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(Sv(what), " ", AtPosition(At(offset))));
  }

  std::string Describe(const Token& t) const {
    switch (t.kind) {
      case Tok::kEnd:
        return "end of expression";
      case Tok::kIdent:
        return absl::StrCat("\"", t.text, "\"");
      case Tok::kString:
        return "string literal";
      case Tok::kInt:
      case Tok::kUint:
      case Tok::kDouble:
        return absl::StrCat("number ", t.text);
      default:
        return absl::StrCat("'", Sv(text_.substr(t.offset, TokenLength(t))), "'");
    }
  }

  size_t TokenLength(const Token& t) const {
    switch (t.kind) {
      case Tok::kEq:
      case Tok::kNe:
      case Tok::kLe:
      case Tok::kGe:
      case Tok::kAnd:
      case Tok::kOr:
        return 2;
      default:
        return 1;
    }
  }

  absl::Status Unexpected(std::string_view expected) const {
    return Error(tok_.offset,
                 absl::StrCat("syntax error: expected ", Sv(expected), ", found ", Describe(tok_)));
  }

  // ---- lexer ----

  absl::Status Next() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r' || text_[pos_] == '\f')) {
      ++pos_;
    }
    // Line comments, as CEL allows them.
    if (pos_ + 1 < text_.size() && text_[pos_] == '/' && text_[pos_ + 1] == '/') {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      return Next();
    }
    tok_ = Token{};
    tok_.offset = pos_;
    if (pos_ >= text_.size()) return absl::OkStatus();
    const char c = text_[pos_];
    const char n = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    auto one = [&](Tok kind) {
      tok_.kind = kind;
      pos_ += 1;
      return absl::OkStatus();
    };
    auto two = [&](Tok kind) {
      tok_.kind = kind;
      pos_ += 2;
      return absl::OkStatus();
    };
    switch (c) {
      case '(':
        return one(Tok::kLParen);
      case ')':
        return one(Tok::kRParen);
      case '[':
        return one(Tok::kLBracket);
      case ']':
        return one(Tok::kRBracket);
      case '{':
        return one(Tok::kLBrace);
      case '}':
        return one(Tok::kRBrace);
      case ',':
        return one(Tok::kComma);
      case ':':
        return one(Tok::kColon);
      case '?':
        return one(Tok::kQuestion);
      case '+':
        return one(Tok::kPlus);
      case '-':
        return one(Tok::kMinus);
      case '*':
        return one(Tok::kStar);
      case '/':
        return one(Tok::kSlash);
      case '%':
        return one(Tok::kPercent);
      case '!':
        return n == '=' ? two(Tok::kNe) : one(Tok::kNot);
      case '<':
        return n == '=' ? two(Tok::kLe) : one(Tok::kLt);
      case '>':
        return n == '=' ? two(Tok::kGe) : one(Tok::kGt);
      case '=':
        if (n == '=') return two(Tok::kEq);
        return Error(pos_, "syntax error: '=' is not an operator (use '==')");
      case '&':
        if (n == '&') return two(Tok::kAnd);
        return Error(pos_, "syntax error: '&' is not an operator (use '&&')");
      case '|':
        if (n == '|') return two(Tok::kOr);
        return Error(pos_, "syntax error: '|' is not an operator (use '||')");
      case '.':
        if (IsDigit(n)) return LexNumber();
        return one(Tok::kDot);
      case '"':
      case '\'':
        return LexString(/*raw=*/false, /*bytes=*/false, pos_);
      default:
        break;
    }
    if (IsDigit(c)) return LexNumber();
    if (IsIdentStart(c)) {
      // String prefixes: r/R raw, b/B bytes, in either order.
      size_t p = pos_;
      bool raw = false, bytes = false;
      for (int i = 0; i < 2 && p < text_.size(); ++i) {
        const char q = text_[p];
        if ((q == 'r' || q == 'R') && !raw) {
          raw = true;
        } else if ((q == 'b' || q == 'B') && !bytes) {
          bytes = true;
        } else {
          break;
        }
        ++p;
        if (p < text_.size() && (text_[p] == '"' || text_[p] == '\'')) {
          const size_t start = pos_;
          pos_ = p;
          return LexString(raw, bytes, start);
        }
      }
      size_t end = pos_;
      while (end < text_.size() && (IsIdentStart(text_[end]) || IsDigit(text_[end]))) ++end;
      tok_.kind = Tok::kIdent;
      tok_.text = std::string(text_.substr(pos_, end - pos_));
      pos_ = end;
      return absl::OkStatus();
    }
    return Error(pos_, absl::StrCat("syntax error: unexpected character '",
                                    Sv(text_.substr(pos_, Utf8Length(pos_))), "'"));
  }

  size_t Utf8Length(size_t at) const {
    const unsigned char c = static_cast<unsigned char>(text_[at]);
    size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return std::min(len, text_.size() - at);
  }

  absl::Status LexNumber() {
    const size_t start = pos_;
    size_t p = pos_;
    bool is_double = false;
    if (text_[p] == '0' && p + 1 < text_.size() && (text_[p + 1] == 'x' || text_[p + 1] == 'X')) {
      p += 2;
      const size_t digits = p;
      while (p < text_.size() && IsHex(text_[p])) ++p;
      if (p == digits) return Error(start, "syntax error: hexadecimal literal without digits");
    } else {
      while (p < text_.size() && IsDigit(text_[p])) ++p;
      if (p + 1 < text_.size() && text_[p] == '.' && IsDigit(text_[p + 1])) {
        is_double = true;
        ++p;
        while (p < text_.size() && IsDigit(text_[p])) ++p;
      }
      if (p < text_.size() && (text_[p] == 'e' || text_[p] == 'E')) {
        size_t q = p + 1;
        if (q < text_.size() && (text_[q] == '+' || text_[q] == '-')) ++q;
        if (q < text_.size() && IsDigit(text_[q])) {
          is_double = true;
          while (q < text_.size() && IsDigit(text_[q])) ++q;
          p = q;
        }
      }
    }
    tok_.text = std::string(text_.substr(start, p - start));
    tok_.kind = is_double ? Tok::kDouble : Tok::kInt;
    if (!is_double && p < text_.size() && (text_[p] == 'u' || text_[p] == 'U')) {
      tok_.kind = Tok::kUint;
      ++p;
    }
    pos_ = p;
    return absl::OkStatus();
  }

  // pos_ is at the opening quote; start is where the token (with its prefix) begins.
  absl::Status LexString(bool raw, bool bytes, size_t start) {
    const char quote = text_[pos_];
    const bool triple =
        pos_ + 2 < text_.size() && text_[pos_ + 1] == quote && text_[pos_ + 2] == quote;
    pos_ += triple ? 3 : 1;
    std::string value;
    while (true) {
      if (pos_ >= text_.size()) return Error(start, "syntax error: unterminated string literal");
      const char c = text_[pos_];
      if (triple) {
        if (c == quote && pos_ + 2 < text_.size() && text_[pos_ + 1] == quote &&
            text_[pos_ + 2] == quote) {
          pos_ += 3;
          break;
        }
      } else {
        if (c == quote) {
          ++pos_;
          break;
        }
        if (c == '\n' || c == '\r')
          return Error(start, "syntax error: unterminated string literal");
      }
      if (c != '\\' || raw) {
        value.push_back(c);
        ++pos_;
        continue;
      }
      RETURN_IF_ERROR(LexEscape(&value));
    }
    tok_.kind = bytes ? Tok::kBytes : Tok::kString;
    tok_.offset = start;
    tok_.text = std::move(value);
    return absl::OkStatus();
  }

  // pos_ is at the backslash.
  absl::Status LexEscape(std::string* value) {
    const size_t at = pos_;
    if (pos_ + 1 >= text_.size()) return Error(at, "syntax error: unterminated string literal");
    const char e = text_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case 'a':
        value->push_back('\a');
        return absl::OkStatus();
      case 'b':
        value->push_back('\b');
        return absl::OkStatus();
      case 'f':
        value->push_back('\f');
        return absl::OkStatus();
      case 'n':
        value->push_back('\n');
        return absl::OkStatus();
      case 'r':
        value->push_back('\r');
        return absl::OkStatus();
      case 't':
        value->push_back('\t');
        return absl::OkStatus();
      case 'v':
        value->push_back('\v');
        return absl::OkStatus();
      case '\\':
      case '\'':
      case '"':
      case '`':
      case '?':
        value->push_back(e);
        return absl::OkStatus();
      default:
        break;
    }
    int digits = 0;
    if (e == 'x' || e == 'X') digits = 2;
    if (e == 'u') digits = 4;
    if (e == 'U') digits = 8;
    if (digits > 0) {
      uint32_t cp = 0;
      for (int i = 0; i < digits; ++i, ++pos_) {
        if (pos_ >= text_.size() || !IsHex(text_[pos_]))
          return Error(at, "syntax error: invalid escape sequence");
        cp = cp * 16 + static_cast<uint32_t>(HexValue(text_[pos_]));
      }
      if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return Error(at, "syntax error: escape sequence is not a valid code point");
      }
      AppendUtf8(cp, value);
      return absl::OkStatus();
    }
    if (e >= '0' && e <= '3') {
      uint32_t cp = static_cast<uint32_t>(e - '0');
      for (int i = 0; i < 2; ++i, ++pos_) {
        if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '7') {
          return Error(at, "syntax error: invalid escape sequence");
        }
        cp = cp * 8 + static_cast<uint32_t>(text_[pos_] - '0');
      }
      AppendUtf8(cp, value);
      return absl::OkStatus();
    }
    return Error(at,
                 absl::StrCat("syntax error: invalid escape sequence '\\", std::string(1, e), "'"));
  }

  // ---- grammar ----

  int32_t Add(Node node) {
    out_->nodes.push_back(std::move(node));
    return static_cast<int32_t>(out_->nodes.size() - 1);
  }

  Node Make(NodeKind kind, size_t offset, std::vector<int32_t> children = {}) const {
    Node n;
    n.kind = kind;
    n.position = At(offset);
    n.children = std::move(children);
    return n;
  }

  absl::StatusOr<int32_t> Expr(int depth) {
    if (depth > kMaxDepth) return Error(tok_.offset, "expression nests too deeply");
    ASSIGN_OR_RETURN(int32_t cond, Or(depth));
    if (tok_.kind != Tok::kQuestion) return cond;
    const size_t at = tok_.offset;
    RETURN_IF_ERROR(Next());
    ASSIGN_OR_RETURN(int32_t yes, Or(depth + 1));
    if (tok_.kind != Tok::kColon) return Unexpected("':'");
    RETURN_IF_ERROR(Next());
    ASSIGN_OR_RETURN(int32_t no, Expr(depth + 1));
    return Add(Make(NodeKind::kTernary, at, {cond, yes, no}));
  }

  absl::StatusOr<int32_t> Or(int depth) {
    ASSIGN_OR_RETURN(int32_t left, And(depth));
    while (tok_.kind == Tok::kOr) {
      const size_t at = tok_.offset;
      RETURN_IF_ERROR(Next());
      ASSIGN_OR_RETURN(int32_t right, And(depth + 1));
      left = Add(Make(NodeKind::kOr, at, {left, right}));
    }
    return left;
  }

  absl::StatusOr<int32_t> And(int depth) {
    ASSIGN_OR_RETURN(int32_t left, Relation(depth));
    while (tok_.kind == Tok::kAnd) {
      const size_t at = tok_.offset;
      RETURN_IF_ERROR(Next());
      ASSIGN_OR_RETURN(int32_t right, Relation(depth + 1));
      left = Add(Make(NodeKind::kAnd, at, {left, right}));
    }
    return left;
  }

  bool RelationOp(BinaryOp* op) const {
    switch (tok_.kind) {
      case Tok::kEq:
        *op = BinaryOp::kEq;
        return true;
      case Tok::kNe:
        *op = BinaryOp::kNe;
        return true;
      case Tok::kLt:
        *op = BinaryOp::kLt;
        return true;
      case Tok::kLe:
        *op = BinaryOp::kLe;
        return true;
      case Tok::kGt:
        *op = BinaryOp::kGt;
        return true;
      case Tok::kGe:
        *op = BinaryOp::kGe;
        return true;
      case Tok::kIdent:
        if (tok_.text == "in") {
          *op = BinaryOp::kIn;
          return true;
        }
        return false;
      default:
        return false;
    }
  }

  absl::StatusOr<int32_t> Binary(size_t at, BinaryOp op, int32_t left, int32_t right) {
    Node n = Make(NodeKind::kBinary, at, {left, right});
    n.op = op;
    return Add(std::move(n));
  }

  absl::StatusOr<int32_t> Relation(int depth) {
    ASSIGN_OR_RETURN(int32_t left, Additive(depth));
    BinaryOp op;
    while (RelationOp(&op)) {
      const size_t at = tok_.offset;
      RETURN_IF_ERROR(Next());
      ASSIGN_OR_RETURN(int32_t right, Additive(depth + 1));
      ASSIGN_OR_RETURN(left, Binary(at, op, left, right));
    }
    return left;
  }

  absl::StatusOr<int32_t> Additive(int depth) {
    ASSIGN_OR_RETURN(int32_t left, Multiplicative(depth));
    while (tok_.kind == Tok::kPlus || tok_.kind == Tok::kMinus) {
      const BinaryOp op = tok_.kind == Tok::kPlus ? BinaryOp::kAdd : BinaryOp::kSub;
      const size_t at = tok_.offset;
      RETURN_IF_ERROR(Next());
      ASSIGN_OR_RETURN(int32_t right, Multiplicative(depth + 1));
      ASSIGN_OR_RETURN(left, Binary(at, op, left, right));
    }
    return left;
  }

  absl::StatusOr<int32_t> Multiplicative(int depth) {
    ASSIGN_OR_RETURN(int32_t left, Unary(depth));
    while (tok_.kind == Tok::kStar || tok_.kind == Tok::kSlash || tok_.kind == Tok::kPercent) {
      const BinaryOp op = tok_.kind == Tok::kStar    ? BinaryOp::kMul
                          : tok_.kind == Tok::kSlash ? BinaryOp::kDiv
                                                     : BinaryOp::kMod;
      const size_t at = tok_.offset;
      RETURN_IF_ERROR(Next());
      ASSIGN_OR_RETURN(int32_t right, Unary(depth + 1));
      ASSIGN_OR_RETURN(left, Binary(at, op, left, right));
    }
    return left;
  }

  absl::StatusOr<int32_t> Unary(int depth) {
    if (depth > kMaxDepth) return Error(tok_.offset, "expression nests too deeply");
    if (tok_.kind == Tok::kNot) {
      const size_t at = tok_.offset;
      RETURN_IF_ERROR(Next());
      ASSIGN_OR_RETURN(int32_t operand, Unary(depth + 1));
      return Add(Make(NodeKind::kNot, at, {operand}));
    }
    if (tok_.kind == Tok::kMinus) {
      const size_t at = tok_.offset;
      RETURN_IF_ERROR(Next());
      // A minus sign directly before a number is part of the literal, so the most negative
      // int64 can be written.
      if (tok_.kind == Tok::kInt || tok_.kind == Tok::kDouble) return Member(depth, at);
      ASSIGN_OR_RETURN(int32_t operand, Unary(depth + 1));
      return Add(Make(NodeKind::kNegate, at, {operand}));
    }
    return Member(depth, std::string_view::npos);
  }

  absl::StatusOr<std::vector<int32_t>> Arguments(int depth, Tok close) {
    std::vector<int32_t> args;
    RETURN_IF_ERROR(Next());
    if (tok_.kind == close) {
      RETURN_IF_ERROR(Next());
      return args;
    }
    while (true) {
      ASSIGN_OR_RETURN(int32_t arg, Expr(depth + 1));
      args.push_back(arg);
      if (tok_.kind == Tok::kComma) {
        RETURN_IF_ERROR(Next());
        if (tok_.kind == close) break;  // trailing comma
        continue;
      }
      if (tok_.kind == close) break;
      return Unexpected(close == Tok::kRParen ? "',' or ')'" : "',' or ']'");
    }
    RETURN_IF_ERROR(Next());
    return args;
  }

  // minus_offset: where a leading minus sign folded into a number literal starts.
  absl::StatusOr<int32_t> Member(int depth, size_t minus_offset) {
    ASSIGN_OR_RETURN(int32_t node, Primary(depth, minus_offset));
    while (true) {
      if (tok_.kind == Tok::kDot) {
        RETURN_IF_ERROR(Next());
        if (tok_.kind == Tok::kQuestion) {
          return Error(
              tok_.offset,
              "unsupported: optional field selection '.?' is not part of Sextant's CEL subset");
        }
        if (tok_.kind != Tok::kIdent) return Unexpected("a field or method name");
        Token name = tok_;
        RETURN_IF_ERROR(Next());
        if (tok_.kind == Tok::kLParen) {
          ASSIGN_OR_RETURN(std::vector<int32_t> args, Arguments(depth, Tok::kRParen));
          if (name.text == "bind" && out_->nodes[node].kind == NodeKind::kIdent &&
              out_->nodes[node].text == "cel") {
            ASSIGN_OR_RETURN(node, Bind(name.offset, args));
            continue;
          }
          Node call = Make(NodeKind::kCall, name.offset);
          call.member = true;
          call.text = name.text;
          call.children.push_back(node);
          call.children.insert(call.children.end(), args.begin(), args.end());
          node = Add(std::move(call));
        } else {
          Node select = Make(NodeKind::kSelect, name.offset, {node});
          select.text = name.text;
          node = Add(std::move(select));
        }
      } else if (tok_.kind == Tok::kLBracket) {
        const size_t at = tok_.offset;
        RETURN_IF_ERROR(Next());
        if (tok_.kind == Tok::kQuestion) {
          return Error(tok_.offset,
                       "unsupported: optional index '[?' is not part of Sextant's CEL subset");
        }
        ASSIGN_OR_RETURN(int32_t key, Expr(depth + 1));
        if (tok_.kind != Tok::kRBracket) return Unexpected("']'");
        RETURN_IF_ERROR(Next());
        node = Add(Make(NodeKind::kIndex, at, {node, key}));
      } else if (tok_.kind == Tok::kLBrace) {
        return Error(tok_.offset,
                     "unsupported: message construction is not part of Sextant's CEL subset");
      } else {
        return node;
      }
    }
  }

  absl::StatusOr<int32_t> Primary(int depth, size_t minus_offset) {
    const bool negative = minus_offset != std::string_view::npos;
    const size_t at = negative ? minus_offset : tok_.offset;
    switch (tok_.kind) {
      case Tok::kInt: {
        Node n = Make(NodeKind::kInt, at);
        RETURN_IF_ERROR(ParseInt(tok_.text, negative, at, &n.int_value));
        RETURN_IF_ERROR(Next());
        return Add(std::move(n));
      }
      case Tok::kDouble: {
        Node n = Make(NodeKind::kDouble, at);
        errno = 0;
        n.double_value = std::strtod(tok_.text.c_str(), nullptr);
        if (errno == ERANGE && std::abs(n.double_value) > 1) {
          return Error(at, "invalid double literal");
        }
        if (negative) n.double_value = -n.double_value;
        RETURN_IF_ERROR(Next());
        return Add(std::move(n));
      }
      case Tok::kUint:
        return Error(at,
                     "unsupported: unsigned integer literals are not part of Sextant's CEL subset");
      case Tok::kBytes:
        return Error(at, "unsupported: bytes literals are not part of Sextant's CEL subset");
      case Tok::kString: {
        Node n = Make(NodeKind::kString, at);
        n.text = tok_.text;
        RETURN_IF_ERROR(Next());
        return Add(std::move(n));
      }
      case Tok::kLParen: {
        RETURN_IF_ERROR(Next());
        ASSIGN_OR_RETURN(int32_t inner, Expr(depth + 1));
        if (tok_.kind != Tok::kRParen) return Unexpected("')'");
        RETURN_IF_ERROR(Next());
        return inner;
      }
      case Tok::kLBracket: {
        ASSIGN_OR_RETURN(std::vector<int32_t> elements, Arguments(depth, Tok::kRBracket));
        return Add(Make(NodeKind::kList, at, std::move(elements)));
      }
      case Tok::kLBrace:
        return Error(at, "unsupported: map literals are not part of Sextant's CEL subset");
      case Tok::kDot:
        return Error(
            at, "unsupported: leading '.' (root-scoped names) is not part of Sextant's CEL subset");
      case Tok::kIdent: {
        Token name = tok_;
        if (name.text == "true" || name.text == "false") {
          Node n = Make(NodeKind::kBool, at);
          n.bool_value = name.text == "true";
          RETURN_IF_ERROR(Next());
          return Add(std::move(n));
        }
        if (name.text == "null") {
          return Error(at, "unsupported: null is not part of Sextant's CEL subset");
        }
        if (name.text == "in") return Unexpected("an expression");
        RETURN_IF_ERROR(Next());
        if (tok_.kind == Tok::kLParen) {
          ASSIGN_OR_RETURN(std::vector<int32_t> args, Arguments(depth, Tok::kRParen));
          if (name.text == "has") return Has(name.offset, args);
          Node call = Make(NodeKind::kCall, name.offset, std::move(args));
          call.text = name.text;
          return Add(std::move(call));
        }
        Node n = Make(NodeKind::kIdent, name.offset);
        n.text = name.text;
        return Add(std::move(n));
      }
      default:
        return Unexpected("an expression");
    }
  }

  absl::StatusOr<int32_t> Bind(size_t at, const std::vector<int32_t>& args) {
    if (args.size() != 3 || out_->nodes[args[0]].kind != NodeKind::kIdent) {
      return Error(at, "cel.bind takes a variable name, a value and an expression");
    }
    Node bind = Make(NodeKind::kBind, at, {args[1], args[2]});
    bind.text = out_->nodes[args[0]].text;
    return Add(std::move(bind));
  }

  absl::StatusOr<int32_t> Has(size_t at, const std::vector<int32_t>& args) {
    if (args.size() != 1 || out_->nodes[args[0]].kind != NodeKind::kSelect) {
      return Error(
          at, "has() takes one field selection, as in has(device.attributes[\"domain\"].name)");
    }
    // Turn the select into a presence test on the same operand and field.
    Node& select = out_->nodes[args[0]];
    select.kind = NodeKind::kHas;
    select.position = At(at);
    return args[0];
  }

  absl::Status ParseInt(const std::string& text, bool negative, size_t at, int64_t* out) const {
    const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    unsigned __int128 magnitude = 0;
    const unsigned __int128 limit =
        static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max()) + 1;
    for (size_t i = hex ? 2 : 0; i < text.size(); ++i) {
      magnitude = magnitude * (hex ? 16 : 10) + static_cast<unsigned>(HexValue(text[i]));
      if (magnitude > limit) return Error(at, "invalid int literal (out of the int64 range)");
    }
    if (!negative && magnitude == limit)
      return Error(at, "invalid int literal (out of the int64 range)");
    *out = negative ? static_cast<int64_t>(-static_cast<__int128>(magnitude))
                    : static_cast<int64_t>(magnitude);
    return absl::OkStatus();
  }

  std::string_view text_;
  CompiledExpression* out_;
  size_t pos_ = 0;
  Token tok_;
};

}  // namespace

std::string AtPosition(Position p) {
  if (p.line == 1) return absl::StrCat("at column ", p.column);
  return absl::StrCat("at line ", p.line, ", column ", p.column);
}

absl::Status Parse(std::string_view expression, CompiledExpression* out) {
  Parser parser(expression, out);
  return parser.Run();
}

}  // namespace sextant::cel::internal
