#include "nnc/dsl/Parser.h"
#include "nnc/dsl/Lexer.h"

#include <fmt/format.h>

#include <algorithm>

namespace nnc::dsl {

namespace {

bool isTopKeyword(const std::string &s) {
  return s == "import" || s == "layer" || s == "cell" || s == "model" || s == "train";
}

class Parser {
public:
  Parser(const std::string &path, const std::string &text, DiagnosticEngine &diag)
      : path_(path), diag_(diag) {
    toks_ = lex(path, text, lexErrors_);
  }

  std::unique_ptr<FileAST> run() {
    auto file = std::make_unique<FileAST>();
    file->path = path_;
    if (!toks_.empty())
      flushLexErrors(toks_[0].loc);
    file_ = file.get();
    while (tok().kind != Tok::Eof)
      parseTopLevel();
    flushLexErrors(Loc{path_, INT32_MAX, INT32_MAX});
    return file;
  }

private:
  // Lexer errors are reported when the parser gets to them, so that all
  // errors come out in source order.
  void flushLexErrors(const Loc &upTo) {
    while (lexNext_ < lexErrors_.size()) {
      const Diagnostic &d = lexErrors_[lexNext_];
      if (d.loc.line > upTo.line || (d.loc.line == upTo.line && d.loc.col > upTo.col))
        break;
      diag_.error(d.loc, d.message);
      ++lexNext_;
    }
  }
  void err(const Loc &loc, const std::string &msg) {
    flushLexErrors(loc);
    diag_.error(loc, msg);
  }

  // ---- token access -------------------------------------------------------
  const Token &tok() const { return toks_[pos_]; }
  const Token &peekTok(size_t n = 1) const {
    return toks_[std::min(pos_ + n, toks_.size() - 1)];
  }
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

  // Where to point for "expected X": at the current token, or just after
  // the previous token when the current one is on a later line.
  Loc expectLoc() const {
    if (pos_ > 0 && (tok().startOfLine || tok().kind == Tok::Eof))
      return prevEndLoc_;
    return tok().loc;
  }
  void errorExpected(const std::string &msg) {
    if (tok().kind == Tok::Error)
      return; // already diagnosed by the lexer
    err(expectLoc(), msg);
  }
  bool expect(Tok k, const std::string &msg) {
    if (is(k)) {
      advance();
      return true;
    }
    errorExpected(msg);
    return false;
  }
  bool expectIdent(std::string &out, Loc &loc, const std::string &msg) {
    if (is(Tok::Ident)) {
      out = tok().text;
      loc = tok().loc;
      advance();
      return true;
    }
    errorExpected(msg);
    return false;
  }
  std::string describe(const Token &t) const {
    switch (t.kind) {
    case Tok::Ident: return fmt::format("'{}'", t.text);
    case Tok::Int:
    case Tok::Float: return fmt::format("number '{}'", t.text);
    case Tok::String: return "a string";
    case Tok::Eof: return "end of file";
    default: return tokName(t.kind);
    }
  }

  // Skips the rest of a statement that failed to parse: up to the first
  // token of the next line, a '}' closing the enclosing block, or the end.
  void sync(size_t stmtStart) {
    parenDepth_ = 0;
    if (pos_ == stmtStart && !is(Tok::Eof) && !is(Tok::RBrace))
      advance();
    int braces = 0;
    while (!is(Tok::Eof)) {
      if (braces == 0 && (is(Tok::RBrace) || tok().startOfLine))
        break;
      if (is(Tok::LBrace))
        ++braces;
      else if (is(Tok::RBrace))
        --braces;
      advance();
    }
  }
  // At top level: skip to the next line starting with import/layer/model/train.
  void syncTop() {
    parenDepth_ = 0;
    advance();
    while (!is(Tok::Eof) && !(tok().startOfLine && is(Tok::Ident) && isTopKeyword(tok().text)))
      advance();
  }
  bool endStatement(size_t stmtStart) {
    if (atStmtEnd())
      return true;
    if (tok().kind != Tok::Error)
      err(tok().loc, fmt::format("expected end of line after the statement, found {}",
                                         describe(tok())));
    sync(stmtStart);
    return false;
  }

  // ---- top level ----------------------------------------------------------
  void parseTopLevel() {
    parenDepth_ = 0;
    if (is(Tok::Ident) && tok().text == "import") {
      size_t start = pos_;
      parseImport();
      endStatement(start);
      return;
    }
    if (is(Tok::Ident) && (tok().text == "layer" || tok().text == "cell")) {
      parseLayer(tok().text == "cell");
      return;
    }
    if (is(Tok::Ident) && tok().text == "model") {
      parseModel();
      return;
    }
    if (is(Tok::Ident) && tok().text == "train") {
      parseTrain();
      return;
    }
    if (tok().kind != Tok::Error)
      err(tok().loc, fmt::format("expected 'import', 'layer', 'cell', 'model' or 'train', found {}",
                                         describe(tok())));
    syncTop();
  }

  void parseImport() {
    ImportDecl imp;
    imp.loc = tok().loc;
    advance(); // import
    std::string part;
    Loc l;
    if (!expectIdent(part, l, "expected a module name after 'import', as in 'import std.layers'"))
      return;
    imp.module = part;
    while (is(Tok::Dot) && continues()) {
      advance();
      if (!expectIdent(part, l, "expected a name after '.' in the module name"))
        return;
      imp.module += "." + part;
    }
    file_->order.push_back({'i', int(file_->imports.size())});
    file_->imports.push_back(std::move(imp));
  }

  bool parseParamDecls(std::vector<ParamDecl> &out, const std::string &owner) {
    // '(' already current
    advance();
    ++parenDepth_;
    while (!is(Tok::RParen)) {
      ParamDecl p;
      std::string first;
      Loc firstLoc;
      if (!expectIdent(first, firstLoc,
                       fmt::format("expected a parameter name in the parameters of {}", owner)))
        return false;
      p.loc = firstLoc;
      p.label = p.name = first;
      if (is(Tok::Ident)) {
        p.name = tok().text;
        p.loc = tok().loc;
        advance();
      }
      if (is(Tok::Assign)) {
        advance();
        p.defaultValue = parseExpr();
        if (!p.defaultValue)
          return false;
      }
      for (const ParamDecl &q : out)
        if (q.name == p.name || q.label == p.label)
          err(p.loc, fmt::format("duplicate parameter '{}' of {}",
                                         q.name == p.name ? p.name : p.label, owner));
      out.push_back(std::move(p));
      if (is(Tok::Comma)) {
        advance();
        continue;
      }
      if (!is(Tok::RParen)) {
        errorExpected(fmt::format("expected ',' or ')' after a parameter of {}", owner));
        return false;
      }
    }
    --parenDepth_;
    advance(); // ')'
    return true;
  }

  // Skips a header that failed to parse up to its '{' (or the next top-level
  // line); returns true if a '{' was found.
  bool recoverToBrace() {
    parenDepth_ = 0;
    while (!is(Tok::Eof) && !is(Tok::LBrace) &&
           !(tok().startOfLine && is(Tok::Ident) && isTopKeyword(tok().text)))
      advance();
    return is(Tok::LBrace);
  }

  // A `{` ... `}` block of statements. Returns false if it was not closed.
  template <typename F>
  void parseBlock(const std::string &what, F &&parseItem, bool &hadErrors) {
    Loc open = tok().loc;
    int errorsBefore = diag_.errorCount();
    if (!is(Tok::LBrace)) {
      errorExpected(fmt::format("expected '{{' to start the body of {}", what));
      if (!recoverToBrace()) {
        hadErrors = true;
        return;
      }
      open = tok().loc;
    }
    advance(); // '{'
    while (true) {
      parenDepth_ = 0;
      if (is(Tok::RBrace)) {
        advance();
        break;
      }
      if (is(Tok::Eof)) {
        err(expectLoc(), fmt::format("expected '}}' at the end of {}", what));
        diag_.note(open, "the body starts here");
        break;
      }
      if (tok().startOfLine && is(Tok::Ident) && isTopKeyword(tok().text) &&
          peekTok().kind == Tok::Ident && tok().loc.col == 1) {
        err(expectLoc(), fmt::format("expected '}}' at the end of {}", what));
        diag_.note(open, "the body starts here");
        break;
      }
      if (!tok().startOfLine && pos_ > 0 && toks_[pos_ - 1].kind != Tok::LBrace) {
        // two statements on one line
        err(tok().loc, fmt::format("expected end of line after the statement, found {}",
                                           describe(tok())));
        sync(pos_);
        continue;
      }
      parseItem();
    }
    if (diag_.errorCount() > errorsBefore)
      hadErrors = true;
  }

  void parseLayer(bool isCell) {
    LayerDecl layer;
    layer.file = path_;
    layer.isCell = isCell;
    const char *kw = isCell ? "cell" : "layer";
    advance(); // layer / cell
    if (!expectIdent(layer.name, layer.loc, fmt::format("expected a {} name after '{}'", kw, kw))) {
      syncTop();
      return;
    }
    std::string what = fmt::format("{} '{}'", kw, layer.name);
    if (is(Tok::LParen) && !parseParamDecls(layer.params, layer.name)) {
      layer.hadErrors = true;
      if (!recoverToBrace()) {
        file_->order.push_back({'l', int(file_->layers.size())});
        file_->layers.push_back(std::move(layer));
        return;
      }
    }
    parseBlock(what, [&] { parseLayerItem(layer); }, layer.hadErrors);
    if (!layer.hasCall && !layer.hadErrors) {
      if (isCell)
        err(layer.loc, fmt::format("cell '{}' has no 'step(x[...]) -> h {{ ... }}' block",
                                   layer.name));
      else
        err(layer.loc, fmt::format("layer '{}' has no 'call(x[...]) -> y {{ ... }}' block",
                                   layer.name));
      layer.hadErrors = true;
    }
    file_->order.push_back({'l', int(file_->layers.size())});
    file_->layers.push_back(std::move(layer));
  }

  void parseLayerItem(LayerDecl &layer) {
    size_t start = pos_;
    const char *kw = layer.isCell ? "cell" : "layer";
    const char *block = layer.isCell ? "step" : "call";
    if (isIdent("param") && peekTok().kind == Tok::Ident) {
      if (parseParamStmt(layer.paramStmts))
        endStatement(start);
      else
        sync(start);
      return;
    }
    if (isIdent("state") && peekTok().kind == Tok::Ident) {
      if (!layer.isCell) {
        err(tok().loc, fmt::format("only a cell has state; declare '{}' as 'cell {}' to give it "
                                   "'state' and a 'step' block",
                                   layer.name, layer.name));
        sync(start);
        return;
      }
      if (parseParamStmt(layer.stateStmts, StmtKind::State))
        endStatement(start);
      else
        sync(start);
      return;
    }
    if ((isIdent("call") || isIdent("step")) && peekTok().kind == Tok::LParen) {
      if (tok().text != block) {
        err(tok().loc, layer.isCell
                           ? fmt::format("a cell has a 'step(x[...]) -> h {{ ... }}' block, not "
                                         "'call'")
                           : fmt::format("only a cell has a 'step' block; a layer has "
                                         "'call(x[...]) -> y {{ ... }}'"));
        sync(start);
        skipBlockIfAny();
        layer.hadErrors = true;
        return;
      }
      if (layer.hasCall)
        err(tok().loc, fmt::format("{} '{}' has more than one {} block", kw, layer.name, block));
      layer.hasCall = true;
      layer.callLoc = tok().loc;
      advance();
      if (!parseSignature(layer)) {
        sync(start);
        if (is(Tok::LBrace) || !is(Tok::RBrace))
          skipBlockIfAny();
        return;
      }
      bool err = false;
      parseBlock(fmt::format("the {} block of {} '{}'", block, kw, layer.name),
                 [&] { parseStmt(layer.body, false); }, err);
      if (err)
        layer.hadErrors = true;
      return;
    }
    if (tok().kind != Tok::Error)
      err(tok().loc,
          layer.isCell
              ? fmt::format("expected 'state', 'param' or 'step(...)' in the body of cell '{}', "
                            "found {}",
                            layer.name, describe(tok()))
              : fmt::format("expected 'param' or 'call(...)' in the body of layer '{}', found {}",
                            layer.name, describe(tok())));
    sync(start);
  }

  void skipBlockIfAny() {
    // after a broken call signature, skip a following { ... } block
    if (!is(Tok::LBrace))
      return;
    int depth = 0;
    while (!is(Tok::Eof)) {
      if (is(Tok::LBrace))
        ++depth;
      else if (is(Tok::RBrace) && --depth == 0) {
        advance();
        return;
      }
      advance();
    }
  }

  bool parseSignature(LayerDecl &layer) {
    // call ( x[in], ... ) -> y      (a cell: step ( x[in] ) -> h)
    const char *block = layer.isCell ? "step" : "call";
    advance(); // (
    ++parenDepth_;
    while (!is(Tok::RParen)) {
      SigArg a;
      if (!expectIdent(a.name, a.loc,
                       fmt::format("expected an input name in the {} signature, as in '{}(x[in])'",
                                   block, block)))
        return false;
      if (is(Tok::LBracket)) {
        a.hasDims = true;
        if (!parseDims(a.dims, /*allowEllipsis=*/true))
          return false;
      }
      layer.callArgs.push_back(std::move(a));
      if (is(Tok::Comma)) {
        advance();
        continue;
      }
      if (!is(Tok::RParen)) {
        errorExpected(fmt::format("expected ',' or ')' in the {} signature", block));
        return false;
      }
    }
    --parenDepth_;
    advance(); // )
    if (!is(Tok::Arrow)) {
      errorExpected(layer.isCell
                        ? "expected '->' and the name of the step's output after the step "
                          "signature, as in 'step(x[in]) -> h'"
                        : "expected '->' and the name of the result after the call signature, as "
                          "in 'call(x[in]) -> y'");
      return false;
    }
    advance();
    if (!expectIdent(layer.result, layer.resultLoc, "expected the name of the result after '->'"))
      return false;
    return true;
  }

  void parseModel() {
    ModelDecl model;
    advance(); // model
    if (!expectIdent(model.name, model.loc, "expected a model name after 'model'")) {
      syncTop();
      return;
    }
    if (is(Tok::LParen) && !parseParamDecls(model.params, fmt::format("model '{}'", model.name))) {
      model.hadErrors = true;
      if (!recoverToBrace()) {
        file_->order.push_back({'m', int(file_->models.size())});
        file_->models.push_back(std::move(model));
        return;
      }
    }
    curModel_ = &model;
    parseBlock(fmt::format("model '{}'", model.name), [&] { parseStmt(model.body, true); },
               model.hadErrors);
    curModel_ = nullptr;
    file_->order.push_back({'m', int(file_->models.size())});
    file_->models.push_back(std::move(model));
  }

  void parseTrain() {
    TrainDecl train;
    train.loc = tok().loc;
    advance(); // train
    if (!expectIdent(train.model, train.modelLoc,
                     "expected the name of a model after 'train', as in 'train Iris { ... }'")) {
      syncTop();
      return;
    }
    bool err = false;
    parseBlock(fmt::format("the train block of '{}'", train.model),
               [&] {
                 size_t start = pos_;
                 TrainSetting s;
                 if (!expectIdent(s.key, s.loc,
                                  "expected a train setting such as 'epochs 10'")) {
                   sync(start);
                   return;
                 }
                 if (atStmtEnd()) {
                   errorExpected(fmt::format("expected a value after '{}'", s.key));
                   return;
                 }
                 s.value = parseExpr();
                 if (!s.value) {
                   sync(start);
                   return;
                 }
                 train.settings.push_back(std::move(s));
                 endStatement(start);
               },
               err);
    file_->order.push_back({'t', int(file_->trains.size())});
    file_->trains.push_back(std::move(train));
  }

  // ---- statements ---------------------------------------------------------
  bool isEllipsis() const {
    return is(Tok::Dot) && peekTok(1).kind == Tok::Dot && peekTok(2).kind == Tok::Dot;
  }

  bool parseDims(std::vector<ExprPtr> &dims, bool allowEllipsis = false) {
    // '[' current
    advance();
    ++parenDepth_;
    while (!is(Tok::RBracket)) {
      if (isEllipsis()) {
        auto e = std::make_unique<Expr>();
        e->kind = ExprKind::Ellipsis;
        e->loc = tok().loc;
        e->begin = tok().offset;
        advance();
        advance();
        e->end = tok().endOffset;
        advance();
        if (!allowEllipsis || !dims.empty()) {
          err(e->loc, "'...' is only allowed as the first dimension of a call signature, as in "
                      "'call(x[..., in])'");
          return false;
        }
        dims.push_back(std::move(e));
        if (is(Tok::Comma)) {
          advance();
          continue;
        }
        if (!is(Tok::RBracket)) {
          errorExpected("expected ',' or ']' after a dimension");
          return false;
        }
        continue;
      }
      ExprPtr d = parseExpr();
      if (!d)
        return false;
      dims.push_back(std::move(d));
      if (is(Tok::Comma)) {
        advance();
        continue;
      }
      if (!is(Tok::RBracket)) {
        errorExpected("expected ',' or ']' after a dimension");
        return false;
      }
    }
    --parenDepth_;
    advance(); // ]
    return true;
  }

  // param W[in, N] = glorot_uniform, b[N] = zeros
  // state h[H] = 0, c[H] = 0            (kind State)
  bool parseParamStmt(std::vector<Stmt> &out, StmtKind kind = StmtKind::Param) {
    Loc kwLoc = tok().loc;
    advance(); // param / state
    while (true) {
      Stmt s;
      s.kind = kind;
      s.loc = kwLoc;
      if (!expectIdent(s.name, s.nameLoc,
                       kind == StmtKind::State ? "expected a state name after 'state'"
                                               : "expected a parameter name after 'param'"))
        return false;
      auto fail = [&] {
        s.bad = true;
        s.dims.clear();
        s.value.reset();
        out.push_back(std::move(s));
        return false;
      };
      if (is(Tok::LBracket) && continues()) {
        s.hasDims = true;
        if (!parseDims(s.dims))
          return fail();
      }
      if (is(Tok::Assign) && continues()) {
        advance();
        s.value = parseExpr();
        if (!s.value)
          return fail();
      }
      out.push_back(std::move(s));
      if (is(Tok::Comma) && continues()) {
        advance();
        kwLoc = tok().loc;
        continue;
      }
      return true;
    }
  }

  void parseStmt(std::vector<Stmt> &out, bool inModel) {
    size_t start = pos_;
    if (!parseStmtInner(out, inModel)) {
      sync(start);
      return;
    }
    endStatement(start);
  }

  bool parseStmtInner(std::vector<Stmt> &out, bool inModel) {
    const Token &t = tok();
    if (t.kind != Tok::Ident) {
      if (t.kind != Tok::Error)
        err(t.loc, fmt::format("expected a statement (such as 'name = expression'), found {}",
                                       describe(t)));
      return false;
    }
    bool nextIsName = peekTok().kind == Tok::Ident && !peekTok().startOfLine;
    if (t.text == "input" && curModel_)
      curModel_->hasInputStmt = true;
    if (t.text == "loss" && curModel_)
      curModel_->hasLossStmt = true;
    if ((t.text == "input" || t.text == "target") && nextIsName) {
      Stmt s;
      s.kind = t.text == "input" ? StmtKind::Input : StmtKind::Target;
      s.loc = t.loc;
      std::string kw = t.text;
      if (!inModel)
        err(t.loc, fmt::format("'{}' is only allowed in a model", kw));
      advance();
      expectIdent(s.name, s.nameLoc, "");
      // on a syntax error below, the name is still declared (as invalid) so
      // that its uses do not cascade into "unknown name" errors
      auto fail = [&] {
        if (inModel) {
          s.bad = true;
          s.dims.clear();
          out.push_back(std::move(s));
        }
        return false;
      };
      if (!is(Tok::Colon)) {
        errorExpected(fmt::format("expected ':' and a type after '{} {}', as in '{} {}: float[4]'",
                                  kw, s.name, kw, s.name));
        return fail();
      }
      advance();
      if (!is(Tok::Ident) || (tok().text != "float" && tok().text != "int")) {
        errorExpected("expected a type 'float' or 'int', as in 'float[4]'");
        return fail();
      }
      s.dtype = tok().text;
      s.dtypeLoc = tok().loc;
      advance();
      if (is(Tok::LBracket) && continues()) {
        s.hasDims = true;
        if (!parseDims(s.dims))
          return fail();
      }
      if (inModel)
        out.push_back(std::move(s));
      return true;
    }
    if (t.text == "output" && nextIsName) {
      Stmt s;
      s.kind = StmtKind::Output;
      s.loc = t.loc;
      advance();
      expectIdent(s.name, s.nameLoc, "");
      if (is(Tok::Assign) && continues()) {
        advance();
        s.value = parseExpr();
        if (!s.value) {
          // still declare the name so later uses do not cascade
          s.value = errorExpr(s.nameLoc);
          out.push_back(std::move(s));
          return false;
        }
      }
      out.push_back(std::move(s));
      return true;
    }
    if (t.text == "loss" && peekTok().kind != Tok::Assign && !peekTok().startOfLine) {
      Stmt s;
      s.kind = StmtKind::Loss;
      s.loc = t.loc;
      advance();
      s.value = parseExpr();
      if (!s.value) {
        s.value = errorExpr(s.loc);
        out.push_back(std::move(s));
        return false;
      }
      out.push_back(std::move(s));
      return true;
    }
    if (t.text == "param" && nextIsName)
      return parseParamStmt(out);
    // name = expr
    Stmt s;
    s.kind = StmtKind::Assign;
    s.loc = t.loc;
    s.name = t.text;
    s.nameLoc = t.loc;
    advance();
    if (!is(Tok::Assign)) {
      if (tok().kind != Tok::Error) {
        if (is(Tok::LParen) || is(Tok::Dot))
          err(s.loc, fmt::format("expected a statement such as 'name = {}(...)'; "
                                         "an expression cannot stand alone", s.name));
        else
          errorExpected(fmt::format("expected '=' after '{}'", s.name));
      }
      return false;
    }
    advance();
    if (atStmtEnd()) {
      errorExpected(fmt::format("expected an expression after '{} ='", s.name));
      s.value = errorExpr(s.loc);
      out.push_back(std::move(s));
      return false;
    }
    s.value = parseExpr();
    bool ok = s.value != nullptr;
    if (!ok)
      s.value = errorExpr(s.loc); // the name is still defined: no cascades
    out.push_back(std::move(s));
    return ok;
  }

  ExprPtr errorExpr(const Loc &loc) {
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::Error;
    e->loc = loc;
    return e;
  }

  // ---- expressions --------------------------------------------------------
  struct DepthGuard {
    Parser &p;
    explicit DepthGuard(Parser &p) : p(p) { ++p.depth_; }
    ~DepthGuard() { --p.depth_; }
  };
  bool tooDeep() {
    if (depth_ <= kMaxExprDepth)
      return false;
    if (!reportedDeep_)
      err(tok().loc, fmt::format("expression is nested too deeply (more than {} levels)",
                                         kMaxExprDepth));
    reportedDeep_ = true;
    return true;
  }
  ExprPtr finishNode(ExprPtr e) {
    if (e->depth > kMaxExprDepth) {
      err(e->loc, fmt::format("expression is too deeply nested (more than {} levels)",
                                      kMaxExprDepth));
      return nullptr;
    }
    return e;
  }

public:
  ExprPtr parseExpr() {
    reportedDeep_ = false;
    return parseAdditive();
  }

private:
  ExprPtr parseAdditive() {
    ExprPtr lhs = parseMultiplicative();
    while (lhs && (is(Tok::Plus) || is(Tok::Minus)) && continues()) {
      char op = tok().kind == Tok::Plus ? '+' : '-';
      advance();
      ExprPtr rhs = parseMultiplicative();
      if (!rhs)
        return nullptr;
      lhs = makeBinary(op, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  ExprPtr parseMultiplicative() {
    ExprPtr lhs = parseUnary();
    while (lhs && (is(Tok::Star) || is(Tok::Slash) || is(Tok::At)) && continues()) {
      char op = is(Tok::Star) ? '*' : is(Tok::Slash) ? '/' : '@';
      advance();
      ExprPtr rhs = parseUnary();
      if (!rhs)
        return nullptr;
      lhs = makeBinary(op, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  ExprPtr makeBinary(char op, ExprPtr lhs, ExprPtr rhs) {
    if (!lhs || !rhs)
      return nullptr;
    auto e = std::make_unique<Expr>();
    e->kind = ExprKind::Binary;
    e->op = op;
    e->loc = lhs->loc;
    e->begin = lhs->begin;
    e->end = rhs->end;
    e->depth = std::max(lhs->depth, rhs->depth) + 1;
    e->lhs = std::move(lhs);
    e->rhs = std::move(rhs);
    return finishNode(std::move(e));
  }

  ExprPtr parseUnary() {
    DepthGuard g(*this);
    if (tooDeep())
      return nullptr;
    if (is(Tok::Minus)) {
      auto e = std::make_unique<Expr>();
      e->kind = ExprKind::Unary;
      e->op = '-';
      e->loc = tok().loc;
      e->begin = tok().offset;
      advance();
      e->lhs = parseUnary();
      if (!e->lhs)
        return nullptr;
      e->end = e->lhs->end;
      e->depth = e->lhs->depth + 1;
      return finishNode(std::move(e));
    }
    if (is(Tok::Plus)) { // unary plus: accepted, no node
      advance();
      return parseUnary();
    }
    return parsePostfix();
  }

  ExprPtr parsePostfix() {
    ExprPtr e = parsePrimary();
    while (e && continues()) {
      if (is(Tok::LParen)) {
        auto call = std::make_unique<Expr>();
        call->kind = ExprKind::Call;
        call->loc = e->loc;
        call->begin = e->begin;
        bool wasBad = badArgs_;
        badArgs_ = false;
        if (!parseArgs(call->args))
          return nullptr;
        if (badArgs_) // already diagnosed: the call evaluates to an error
          call->kind = ExprKind::Error;
        badArgs_ = wasBad;
        call->end = prevEnd_;
        int d = e->depth;
        for (const Arg &a : call->args)
          d = std::max(d, a.value->depth);
        call->depth = d + 1;
        call->lhs = std::move(e);
        e = finishNode(std::move(call));
      } else if (is(Tok::Dot)) {
        advance();
        auto m = std::make_unique<Expr>();
        m->kind = ExprKind::Member;
        m->loc = e->loc;
        m->begin = e->begin;
        Loc l;
        if (!expectIdent(m->text, l, "expected a name after '.'"))
          return nullptr;
        m->end = prevEnd_;
        m->depth = e->depth + 1;
        m->lhs = std::move(e);
        e = finishNode(std::move(m));
      } else {
        break;
      }
    }
    return e;
  }

  bool parseArgs(std::vector<Arg> &args) {
    Loc open = tok().loc;
    advance(); // (
    ++parenDepth_;
    bool sawNamed = false;
    while (!is(Tok::RParen)) {
      Arg a;
      if (is(Tok::Ident) && peekTok().kind == Tok::Assign) {
        a.name = tok().text;
        a.nameLoc = tok().loc;
        advance();
        advance();
        sawNamed = true;
      } else if (sawNamed && !is(Tok::Eof)) {
        err(tok().loc, "positional argument after a named argument");
        badArgs_ = true;
      }
      if (is(Tok::Eof)) {
        errorExpected("expected ')' after arguments");
        diag_.note(open, "to match this '('");
        return false;
      }
      a.value = parseExpr();
      if (!a.value)
        return false;
      args.push_back(std::move(a));
      if (is(Tok::Comma)) {
        advance();
        continue;
      }
      if (!is(Tok::RParen)) {
        errorExpected("expected ')' after arguments");
        if (tok().kind != Tok::Error)
          diag_.note(open, "to match this '('");
        return false;
      }
    }
    --parenDepth_;
    advance(); // )
    return true;
  }

  ExprPtr parsePrimary() {
    const Token &t = tok();
    auto e = std::make_unique<Expr>();
    e->loc = t.loc;
    e->begin = t.offset;
    e->end = t.endOffset;
    switch (t.kind) {
    case Tok::Int:
      e->kind = ExprKind::Int;
      e->intValue = t.intValue;
      e->floatValue = t.floatValue;
      e->text = t.text;
      advance();
      return e;
    case Tok::Float:
      e->kind = ExprKind::Float;
      e->floatValue = t.floatValue;
      e->text = t.text;
      advance();
      return e;
    case Tok::String:
      e->kind = ExprKind::String;
      e->text = t.text;
      advance();
      return e;
    case Tok::Ident:
      e->kind = ExprKind::Name;
      e->text = t.text;
      advance();
      return e;
    case Tok::LParen: {
      Loc open = t.loc;
      advance();
      ++parenDepth_;
      ExprPtr inner = parseAdditive();
      if (!inner)
        return nullptr;
      if (!is(Tok::RParen)) {
        errorExpected("expected ')' to close the parenthesis");
        if (tok().kind != Tok::Error)
          diag_.note(open, "to match this '('");
        return nullptr;
      }
      --parenDepth_;
      advance();
      inner->begin = e->begin;
      inner->end = prevEnd_;
      return inner;
    }
    case Tok::Error:
      advance();
      return nullptr; // already diagnosed
    default:
      errorExpected(fmt::format("expected an expression, found {}", describe(t)));
      return nullptr;
    }
  }

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

} // namespace

std::unique_ptr<FileAST> parseFile(const std::string &path, const std::string &text,
                                   DiagnosticEngine &diag) {
  return Parser(path, text, diag).run();
}

} // namespace nnc::dsl
