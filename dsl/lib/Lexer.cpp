#include "nnc/dsl/Lexer.h"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace nnc::dsl {

const char *tokName(Tok t) {
  switch (t) {
  case Tok::Eof:
    return "end of file";
  case Tok::Ident:
    return "identifier";
  case Tok::Int:
    return "integer";
  case Tok::Float:
    return "number";
  case Tok::String:
    return "string";
  case Tok::LParen:
    return "'('";
  case Tok::RParen:
    return "')'";
  case Tok::LBracket:
    return "'['";
  case Tok::RBracket:
    return "']'";
  case Tok::LBrace:
    return "'{'";
  case Tok::RBrace:
    return "'}'";
  case Tok::Comma:
    return "','";
  case Tok::Colon:
    return "':'";
  case Tok::Dot:
    return "'.'";
  case Tok::Assign:
    return "'='";
  case Tok::Arrow:
    return "'->'";
  case Tok::Plus:
    return "'+'";
  case Tok::Minus:
    return "'-'";
  case Tok::Star:
    return "'*'";
  case Tok::Slash:
    return "'/'";
  case Tok::At:
    return "'@'";
  case Tok::Error:
    return "invalid token";
  }
  return "token";
}

namespace {

bool isIdentStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool isIdentChar(unsigned char c) { return isIdentStart(c) || isDigit(c); }

// The length of the UTF-8 sequence that starts at s[pos] (1 for ASCII), or
// 0 when the bytes there are not UTF-8: a stray continuation byte, a lead
// byte that never occurs (0xC0, 0xC1, 0xF5..0xFF), a sequence cut short, an
// overlong form, a UTF-16 surrogate or a code point past U+10FFFF.
size_t utf8Length(const std::string &s, size_t pos) {
  unsigned char c = s[pos];
  if (c < 0x80)
    return 1;
  size_t n;
  unsigned v, min;
  if (c >= 0xC2 && c <= 0xDF)
    n = 2, v = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3, v = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4, v = c & 0x07, min = 0x10000;
  else
    return 0;
  if (s.size() - pos < n)
    return 0;
  for (size_t i = 1; i < n; ++i) {
    unsigned char b = s[pos + i];
    if ((b & 0xC0) != 0x80)
      return 0;
    v = (v << 6) | (b & 0x3F);
  }
  if (v < min || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF)
    return 0;
  return n;
}

class Lexer {
public:
  Lexer(const std::string &file, const std::string &text, std::vector<Diagnostic> &diag)
      : file_(file), text_(text), diag_{diag} {}

  std::vector<Token> run() {
    std::vector<Token> toks;
    bool sol = true;
    bool lastWasInvalid = false;
    while (true) {
      // skip blanks and comments
      while (pos_ < text_.size()) {
        char c = text_[pos_];
        if (c == '\n') {
          sol = true;
          advance();
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
          advance();
        } else if (c == '#') {
          // a comment may hold any text, but it must be UTF-8 like the rest
          bool reported = false;
          while (pos_ < text_.size() && text_[pos_] != '\n')
            if (!skipChar(reported, "a comment"))
              reported = true;
        } else {
          break;
        }
      }
      Token t;
      t.loc = Loc{file_, line_, col_};
      t.offset = pos_;
      t.startOfLine = sol;
      if (pos_ >= text_.size()) {
        t.kind = Tok::Eof;
        finish(t);
        toks.push_back(t);
        break;
      }
      bool invalid = !lexOne(t, lastWasInvalid);
      if (invalid && lastWasInvalid) {
        // extend the previous error token over a run of garbage
        toks.back().endOffset = pos_;
        toks.back().endLine = line_;
        toks.back().endCol = col_;
        continue;
      }
      lastWasInvalid = invalid;
      if (invalid)
        t.kind = Tok::Error;
      sol = false;
      finish(t);
      toks.push_back(std::move(t));
    }
    return toks;
  }

private:
  void advance() {
    if (pos_ >= text_.size())
      return;
    if (text_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }
  // Moves past one character of a comment or a string: a whole UTF-8
  // sequence, or one byte that is not UTF-8, which is reported (where)
  // unless `quiet` (one error per comment or string is enough). Returns
  // false for such a byte.
  bool skipChar(bool quiet, const char *where) {
    // a NUL byte is UTF-8, but no text has one (and a string with one would
    // be cut short where it becomes a path)
    size_t n = text_[pos_] == '\0' ? 0 : utf8Length(text_, pos_);
    if (n == 0) {
      if (!quiet)
        diag_.error(Loc{file_, line_, col_},
                    notUtf8(static_cast<unsigned char>(text_[pos_]), where));
      advance();
      return false;
    }
    for (size_t i = 0; i < n; ++i)
      advance();
    return true;
  }

  static std::string notUtf8(unsigned char c, const char *where) {
    if (c == 0)
      return fmt::format("invalid character 0x00{}{} (a NUL byte: the file is not text)",
                         *where ? " in " : "", where);
    return fmt::format("invalid byte 0x{:02X}{}{} (the file is not valid UTF-8 text)", unsigned(c),
                       *where ? " in " : "", where);
  }

  void finish(Token &t) {
    t.endOffset = pos_;
    t.endLine = line_;
    t.endCol = col_;
    if (t.kind != Tok::String && t.kind != Tok::Eof)
      t.text = text_.substr(t.offset, pos_ - t.offset);
  }

  // Returns false for an invalid character (reported unless the previous
  // character was invalid too, so a run of garbage gives one error).
  bool lexOne(Token &t, bool lastWasInvalid) {
    unsigned char c = text_[pos_];
    if (isIdentStart(c)) {
      while (pos_ < text_.size() && isIdentChar(text_[pos_]))
        advance();
      t.kind = Tok::Ident;
      return true;
    }
    if (isDigit(c) || (c == '.' && pos_ + 1 < text_.size() && isDigit(text_[pos_ + 1]))) {
      lexNumber(t);
      return true;
    }
    if (c == '"') {
      lexString(t);
      return true;
    }
    auto single = [&](Tok k) {
      t.kind = k;
      advance();
      return true;
    };
    switch (c) {
    case '(':
      return single(Tok::LParen);
    case ')':
      return single(Tok::RParen);
    case '[':
      return single(Tok::LBracket);
    case ']':
      return single(Tok::RBracket);
    case '{':
      return single(Tok::LBrace);
    case '}':
      return single(Tok::RBrace);
    case ',':
      return single(Tok::Comma);
    case ':':
      return single(Tok::Colon);
    case '.':
      return single(Tok::Dot);
    case '=':
      return single(Tok::Assign);
    case '+':
      return single(Tok::Plus);
    case '*':
      return single(Tok::Star);
    case '/':
      return single(Tok::Slash);
    case '@':
      return single(Tok::At);
    case '-':
      if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '>') {
        advance();
        return single(Tok::Arrow);
      }
      return single(Tok::Minus);
    default:
      break;
    }
    // invalid character
    Loc loc{file_, line_, col_};
    std::string what;
    if (c >= 0x80) {
      // a UTF-8 sequence: skip all of it and show it as written; a byte
      // that is not UTF-8 is shown as a number
      size_t start = pos_;
      bool validUtf8 = skipChar(true, "");
      std::string seq = text_.substr(start, pos_ - start);
      if (validUtf8)
        what = fmt::format("invalid character '{}' (U+{:04X})", seq, decode(seq));
      else
        what = notUtf8(c, "");
    } else {
      advance();
      if (c >= 0x20 && c < 0x7f)
        what = fmt::format("invalid character '{}'", char(c));
      else
        what = fmt::format("invalid character 0x{:02X}", unsigned(c));
    }
    if (!lastWasInvalid)
      diag_.error(loc, what);
    return false;
  }

  static unsigned decode(const std::string &s) {
    unsigned char c = s[0];
    unsigned v = s.size() == 2 ? (c & 0x1F) : s.size() == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t i = 1; i < s.size(); ++i)
      v = (v << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
    return v;
  }

  void lexNumber(Token &t) {
    Loc loc{file_, line_, col_};
    size_t start = pos_;
    bool isFloat = false;
    while (pos_ < text_.size() && isDigit(text_[pos_]))
      advance();
    if (pos_ < text_.size() && text_[pos_] == '.' &&
        (pos_ + 1 >= text_.size() || !isIdentStart(text_[pos_ + 1]))) {
      isFloat = true;
      advance();
      while (pos_ < text_.size() && isDigit(text_[pos_]))
        advance();
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < text_.size() && (text_[p] == '+' || text_[p] == '-'))
        ++p;
      if (p < text_.size() && isDigit(text_[p])) {
        isFloat = true;
        while (pos_ < p)
          advance();
        while (pos_ < text_.size() && isDigit(text_[pos_]))
          advance();
      }
    }
    std::string s = text_.substr(start, pos_ - start);
    // letters glued to a number: 12abc
    if (pos_ < text_.size() && isIdentChar(text_[pos_])) {
      while (pos_ < text_.size() && isIdentChar(text_[pos_]))
        advance();
      std::string bad = text_.substr(start, pos_ - start);
      if (bad.size() > 40)
        bad = bad.substr(0, 40) + "...";
      diag_.error(loc, fmt::format("invalid number '{}'", bad));
      t.kind = Tok::Error;
      return;
    }
    if (isFloat) {
      errno = 0;
      double v = std::strtod(s.c_str(), nullptr);
      if (errno == ERANGE && std::isinf(v)) {
        diag_.error(loc, fmt::format("number '{}' is out of range",
                                     s.size() > 40 ? s.substr(0, 40) + "..." : s));
        t.kind = Tok::Error;
        return;
      }
      t.kind = Tok::Float;
      t.floatValue = v;
      return;
    }
    errno = 0;
    long long v = std::strtoll(s.c_str(), nullptr, 10);
    if (errno == ERANGE || s.size() > 19) {
      diag_.error(loc, fmt::format("integer '{}' is out of range (the largest is {})",
                                   s.size() > 40 ? s.substr(0, 40) + "..." : s, INT64_MAX));
      t.kind = Tok::Error;
      return;
    }
    t.kind = Tok::Int;
    t.intValue = v;
    t.floatValue = double(v);
  }

  void lexString(Token &t) {
    Loc loc{file_, line_, col_};
    advance(); // opening quote
    std::string value;
    bool badUtf8 = false;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') {
        diag_.error(loc, "unterminated string: expected '\"' before the end of the line");
        t.kind = Tok::Error;
        return;
      }
      char c = text_[pos_];
      if (c == '"') {
        advance();
        break;
      }
      if (static_cast<unsigned char>(c) >= 0x80 || c == '\0') {
        // a string holds UTF-8 text, which is kept as written
        size_t start = pos_;
        if (skipChar(badUtf8, "a string"))
          value += text_.substr(start, pos_ - start);
        else
          badUtf8 = true;
        continue;
      }
      if (c == '\\') {
        Loc eloc{file_, line_, col_};
        advance();
        if (pos_ >= text_.size() || text_[pos_] == '\n')
          continue; // reported as unterminated
        char e = text_[pos_];
        advance();
        switch (e) {
        case 'n':
          value += '\n';
          break;
        case 't':
          value += '\t';
          break;
        case '\\':
          value += '\\';
          break;
        case '"':
          value += '"';
          break;
        default:
          diag_.error(eloc, fmt::format("unknown escape sequence '\\{}' in string", e));
          value += e;
        }
        continue;
      }
      value += c;
      advance();
    }
    t.kind = Tok::String;
    t.text = value;
  }

  const std::string &file_;
  const std::string &text_;
  struct Sink {
    std::vector<Diagnostic> &out;
    void error(const Loc &l, const std::string &m) {
      out.push_back(Diagnostic{Severity::Error, l, m});
    }
  } diag_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
};

} // namespace

std::vector<Token> lex(const std::string &file, const std::string &text,
                       std::vector<Diagnostic> &errors) {
  return Lexer(file, text, errors).run();
}

std::vector<Token> lex(const std::string &file, const std::string &text, DiagnosticEngine &diag) {
  std::vector<Diagnostic> errors;
  auto toks = lex(file, text, errors);
  for (const Diagnostic &d : errors)
    diag.error(d.loc, d.message);
  return toks;
}

} // namespace nnc::dsl
