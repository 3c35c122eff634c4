// Parser.cpp: the top level of a .nn file (imports, layers, cells, models,
// train blocks), with the token access, diagnostics and error recovery
// that the rest of the parser shares. Statements and expressions are in
// ParseExpressions.cpp.
#include "ParserImpl.h"

#include <fmt/format.h>

namespace nnc::dsl::detail {

namespace {

bool isTopKeyword(const std::string &s) {
  return s == "import" || s == "layer" || s == "cell" || s == "model" || s == "train";
}

} // namespace

Parser::Parser(const std::string &path, const std::string &text, DiagnosticEngine &diag)
    : path_(path), diag_(diag) {
  toks_ = lex(path, text, lexErrors_);
}

std::unique_ptr<FileAST> Parser::run() {
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

// Lexer errors are reported when the parser gets to them, so that all
// errors come out in source order.
void Parser::flushLexErrors(const Loc &upTo) {
  while (lexNext_ < lexErrors_.size()) {
    const Diagnostic &d = lexErrors_[lexNext_];
    if (d.loc.line > upTo.line || (d.loc.line == upTo.line && d.loc.col > upTo.col))
      break;
    diag_.error(d.loc, d.message);
    ++lexNext_;
  }
}

void Parser::err(const Loc &loc, const std::string &msg) {
  flushLexErrors(loc);
  diag_.error(loc, msg);
}

// Where to point for "expected X": at the current token, or just after
// the previous token when the current one is on a later line.
Loc Parser::expectLoc() const {
  if (pos_ > 0 && (tok().startOfLine || tok().kind == Tok::Eof))
    return prevEndLoc_;
  return tok().loc;
}

void Parser::errorExpected(const std::string &msg) {
  if (tok().kind == Tok::Error)
    return; // already diagnosed by the lexer
  err(expectLoc(), msg);
}

bool Parser::expect(Tok k, const std::string &msg) {
  if (is(k)) {
    advance();
    return true;
  }
  errorExpected(msg);
  return false;
}

bool Parser::expectIdent(std::string &out, Loc &loc, const std::string &msg) {
  if (is(Tok::Ident)) {
    out = tok().text;
    loc = tok().loc;
    advance();
    return true;
  }
  errorExpected(msg);
  return false;
}

std::string Parser::describe(const Token &t) const {
  switch (t.kind) {
  case Tok::Ident:
    return fmt::format("'{}'", t.text);
  case Tok::Int:
  case Tok::Float:
    return fmt::format("number '{}'", t.text);
  case Tok::String:
    return "a string";
  case Tok::Eof:
    return "end of file";
  default:
    return tokName(t.kind);
  }
}

// Skips the rest of a statement that failed to parse: up to the first
// token of the next line, a '}' closing the enclosing block, or the end.
void Parser::sync(size_t stmtStart) {
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
void Parser::syncTop() {
  parenDepth_ = 0;
  advance();
  while (!is(Tok::Eof) && !(tok().startOfLine && is(Tok::Ident) && isTopKeyword(tok().text)))
    advance();
}

bool Parser::endStatement(size_t stmtStart) {
  if (atStmtEnd())
    return true;
  if (tok().kind != Tok::Error)
    err(tok().loc,
        fmt::format("expected end of line after the statement, found {}", describe(tok())));
  sync(stmtStart);
  return false;
}

void Parser::parseTopLevel() {
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

void Parser::parseImport() {
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

bool Parser::parseParamDecls(std::vector<ParamDecl> &out, const std::string &owner) {
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
bool Parser::recoverToBrace() {
  parenDepth_ = 0;
  while (!is(Tok::Eof) && !is(Tok::LBrace) &&
         !(tok().startOfLine && is(Tok::Ident) && isTopKeyword(tok().text)))
    advance();
  return is(Tok::LBrace);
}

// A `{` ... `}` block, each item parsed by `parseItem`. Sets `hadErrors`
// (it never clears it) when an error is reported inside the block or when
// it has no '{'.
template <typename F>
void Parser::parseBlock(const std::string &what, F &&parseItem, bool &hadErrors) {
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
      err(tok().loc,
          fmt::format("expected end of line after the statement, found {}", describe(tok())));
      sync(pos_);
      continue;
    }
    parseItem();
  }
  if (diag_.errorCount() > errorsBefore)
    hadErrors = true;
}

void Parser::parseLayer(bool isCell) {
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
  parseBlock(
      what, [&] { parseLayerItem(layer); }, layer.hadErrors);
  if (!layer.hasCall && !layer.hadErrors) {
    if (isCell)
      err(layer.loc,
          fmt::format("cell '{}' has no 'step(x[...]) -> h {{ ... }}' block", layer.name));
    else
      err(layer.loc,
          fmt::format("layer '{}' has no 'call(x[...]) -> y {{ ... }}' block", layer.name));
    layer.hadErrors = true;
  }
  file_->order.push_back({'l', int(file_->layers.size())});
  file_->layers.push_back(std::move(layer));
}

void Parser::parseLayerItem(LayerDecl &layer) {
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
    parseBlock(
        fmt::format("the {} block of {} '{}'", block, kw, layer.name),
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

void Parser::skipBlockIfAny() {
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

bool Parser::parseSignature(LayerDecl &layer) {
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

void Parser::parseModel() {
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
  parseBlock(
      fmt::format("model '{}'", model.name), [&] { parseStmt(model.body, true); }, model.hadErrors);
  curModel_ = nullptr;
  file_->order.push_back({'m', int(file_->models.size())});
  file_->models.push_back(std::move(model));
}

void Parser::parseTrain() {
  TrainDecl train;
  train.loc = tok().loc;
  advance(); // train
  if (!expectIdent(train.model, train.modelLoc,
                   "expected the name of a model after 'train', as in 'train Iris { ... }'")) {
    syncTop();
    return;
  }
  bool err = false;
  parseBlock(
      fmt::format("the train block of '{}'", train.model),
      [&] {
        size_t start = pos_;
        TrainSetting s;
        if (!expectIdent(s.key, s.loc, "expected a train setting such as 'epochs 10'")) {
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
} // namespace nnc::dsl::detail

namespace nnc::dsl {

std::unique_ptr<FileAST> parseFile(const std::string &path, const std::string &text,
                                   DiagnosticEngine &diag) {
  return detail::Parser(path, text, diag).run();
}

} // namespace nnc::dsl
