// Lexer.h: tokens of the .nn language.
//
// Newlines are not tokens: every token records whether it is the first on
// its line, and the parser ends a statement before a token that starts a
// line (unless it is inside parentheses or brackets).
#pragma once

#include "nnc/dsl/Diagnostics.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nnc::dsl {

enum class Tok {
  Eof,
  Ident,
  Int,    // 42
  Float,  // 0.5, 1e-3
  String, // "text" (value without quotes, escapes resolved)
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Comma,
  Colon,
  Dot,
  Assign,
  Arrow, // , : . = ->
  Plus,
  Minus,
  Star,
  Slash,
  At,    // + - * / @
  Error, // an invalid character or literal (already diagnosed)
};

const char *tokName(Tok t); // "')'", "identifier", ...

struct Token {
  Tok kind = Tok::Eof;
  std::string text; // the source text (for String: the decoded value)
  int64_t intValue = 0;
  double floatValue = 0;
  Loc loc;                          // first character
  int endLine = 0, endCol = 0;      // one past the last character
  size_t offset = 0, endOffset = 0; // byte offsets in the file
  bool startOfLine = false;         // first token on its line
};

// Splits `text` into tokens. Errors (invalid characters, unterminated
// strings, numbers out of range) are appended to `errors` in source order
// (the parser reports them interleaved with its own, in order); the
// offending text becomes one Tok::Error token. The result always ends with
// an Eof token.
std::vector<Token> lex(const std::string &file, const std::string &text,
                       std::vector<Diagnostic> &errors);

// The same, reporting errors straight to `diag`.
std::vector<Token> lex(const std::string &file, const std::string &text, DiagnosticEngine &diag);

} // namespace nnc::dsl
