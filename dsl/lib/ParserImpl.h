// ParserImpl.h: the parser of the front end, private to dsl/lib. One class
// whose members are defined by concern, as with Checker.h: Parser.cpp
// (token access, diagnostics and recovery, files, imports, layers, cells,
// models, train blocks) and ParseExpressions.cpp (statements and
// expressions).
#pragma once

#include "nnc/dsl/Lexer.h"
#include "nnc/dsl/Parser.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace nnc::dsl::detail {

class Parser {
public:
  Parser(const std::string &path, const std::string &text, DiagnosticEngine &diag);

  std::unique_ptr<FileAST> run();

  ExprPtr parseExpr();

private:
  // ---- diagnostics (Parser.cpp) --------------------------------------------
  void flushLexErrors(const Loc &upTo);
  void err(const Loc &loc, const std::string &msg);

  // ---- token access -------------------------------------------------------
  // Inline here: both files call these on every token.
  const Token &tok() const { return toks_[pos_]; }
  const Token &peekTok(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  bool is(Tok k) const { return tok().kind == k; }
  bool isIdent(const char *s) const { return tok().kind == Tok::Ident && tok().text == s; }
  void advance() {
    if (pos_ + 1 < toks_.size()) {
      prevEnd_ = toks_[pos_].endOffset;
      prevEndLoc_ = Loc{path_, toks_[pos_].endLine, toks_[pos_].endCol};
      ++pos_;
      flushLexErrors(toks_[pos_].loc);
    }
  }
  // The current token continues the current statement (it is not the start
  // of the next line, unless we are inside brackets).
  bool continues() const {
    if (tok().kind == Tok::Eof)
      return false;
    return parenDepth_ > 0 || !tok().startOfLine;
  }
  bool atStmtEnd() const {
    return tok().kind == Tok::Eof || tok().kind == Tok::RBrace ||
           (tok().startOfLine && parenDepth_ == 0);
  }

  // ---- expected tokens and recovery (Parser.cpp) --------------------------
  Loc expectLoc() const;
  void errorExpected(const std::string &msg);
  bool expect(Tok k, const std::string &msg);
  bool expectIdent(std::string &out, Loc &loc, const std::string &msg);
  std::string describe(const Token &t) const;
  void sync(size_t stmtStart);
  void syncTop();
  bool endStatement(size_t stmtStart);

  // ---- top level (Parser.cpp) ---------------------------------------------
  void parseTopLevel();
  void parseImport();
  bool parseParamDecls(std::vector<ParamDecl> &out, const std::string &owner);
  bool recoverToBrace();
  // Defined in Parser.cpp, which holds all of its callers.
  template <typename F> void parseBlock(const std::string &what, F &&parseItem, bool &hadErrors);
  void parseLayer(bool isCell);
  void parseLayerItem(LayerDecl &layer);
  void skipBlockIfAny();
  bool parseSignature(LayerDecl &layer);
  void parseModel();
  void parseTrain();

  // ---- statements (ParseExpressions.cpp) ----------------------------------
  bool isEllipsis() const;
  bool parseDims(std::vector<ExprPtr> &dims, bool allowEllipsis = false);
  bool parseParamStmt(std::vector<Stmt> &out, StmtKind kind = StmtKind::Param);
  void parseStmt(std::vector<Stmt> &out, bool inModel);
  bool parseStmtInner(std::vector<Stmt> &out, bool inModel);
  ExprPtr errorExpr(const Loc &loc);
  bool pushStmt(std::vector<Stmt> &out, Stmt &s, ExprPtr value, const Loc &errLoc);

  // ---- expressions (ParseExpressions.cpp) ---------------------------------
  struct DepthGuard {
    Parser &p;
    explicit DepthGuard(Parser &p) : p(p) { ++p.depth_; }
    ~DepthGuard() { --p.depth_; }
  };
  bool tooDeep();
  ExprPtr finishNode(ExprPtr e);
  ExprPtr parseAdditive();
  ExprPtr parseMultiplicative();
  ExprPtr makeBinary(char op, ExprPtr lhs, ExprPtr rhs);
  ExprPtr parseUnary();
  ExprPtr parsePostfix();
  bool parseArgs(std::vector<Arg> &args);
  ExprPtr parsePrimary();

  std::string path_;
  DiagnosticEngine &diag_;
  std::vector<Token> toks_;
  std::vector<Diagnostic> lexErrors_;
  size_t lexNext_ = 0;
  size_t pos_ = 0;
  size_t prevEnd_ = 0;
  Loc prevEndLoc_;
  int parenDepth_ = 0;
  int depth_ = 0;
  bool reportedDeep_ = false;
  FileAST *file_ = nullptr;
  ModelDecl *curModel_ = nullptr;
  bool badArgs_ = false;
};

} // namespace nnc::dsl::detail
