// ParseExpressions.cpp: the statements of model, layer and cell bodies
// (input, target, param, state, output, loss, assignments, dimension
// lists) and the expressions in them, by recursive descent with a depth
// limit so that deeply nested input cannot overflow the stack.
#include "ParserImpl.h"

#include <fmt/format.h>

namespace nnc::dsl::detail {

bool Parser::isEllipsis() const {
  return is(Tok::Dot) && peekTok(1).kind == Tok::Dot && peekTok(2).kind == Tok::Dot;
}

bool Parser::parseDims(std::vector<ExprPtr> &dims, bool allowEllipsis) {
  // '[' current
  advance();
  ++parenDepth_;
  while (!is(Tok::RBracket)) {
    ExprPtr d;
    if (isEllipsis()) {
      d = std::make_unique<Expr>();
      d->kind = ExprKind::Ellipsis;
      d->loc = tok().loc;
      d->begin = tok().offset;
      advance();
      advance();
      d->end = tok().endOffset;
      advance();
      if (!allowEllipsis || !dims.empty()) {
        err(d->loc, "'...' is only allowed as the first dimension of a call signature, as in "
                    "'call(x[..., in])'");
        return false;
      }
    } else if (!(d = parseExpr())) {
      return false;
    }
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
bool Parser::parseParamStmt(std::vector<Stmt> &out, StmtKind kind) {
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

void Parser::parseStmt(std::vector<Stmt> &out, bool inModel) {
  size_t start = pos_;
  if (!parseStmtInner(out, inModel)) {
    sync(start);
    return;
  }
  endStatement(start);
}

bool Parser::parseStmtInner(std::vector<Stmt> &out, bool inModel) {
  const Token &t = tok();
  if (t.kind != Tok::Ident) {
    if (t.kind != Tok::Error)
      err(t.loc,
          fmt::format("expected a statement (such as 'name = expression'), found {}", describe(t)));
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
      return pushStmt(out, s, parseExpr(), s.nameLoc);
    }
    out.push_back(std::move(s));
    return true;
  }
  if (t.text == "loss" && peekTok().kind != Tok::Assign && !peekTok().startOfLine) {
    Stmt s;
    s.kind = StmtKind::Loss;
    s.loc = t.loc;
    advance();
    return pushStmt(out, s, parseExpr(), s.loc);
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
                               "an expression cannot stand alone",
                               s.name));
      else
        errorExpected(fmt::format("expected '=' after '{}'", s.name));
    }
    return false;
  }
  advance();
  if (atStmtEnd()) {
    errorExpected(fmt::format("expected an expression after '{} ='", s.name));
    return pushStmt(out, s, nullptr, s.loc);
  }
  return pushStmt(out, s, parseExpr(), s.loc);
}

// Moves s, with `value`, into out; a value that did not parse (null) becomes
// an error expression at errLoc, so that the name is still declared and its
// uses do not cascade into "unknown name" errors. Returns whether it parsed.
bool Parser::pushStmt(std::vector<Stmt> &out, Stmt &s, ExprPtr value, const Loc &errLoc) {
  bool ok = value != nullptr;
  s.value = ok ? std::move(value) : errorExpr(errLoc);
  out.push_back(std::move(s));
  return ok;
}

ExprPtr Parser::errorExpr(const Loc &loc) {
  auto e = std::make_unique<Expr>();
  e->kind = ExprKind::Error;
  e->loc = loc;
  return e;
}

bool Parser::tooDeep() {
  if (depth_ <= kMaxExprDepth)
    return false;
  if (!reportedDeep_)
    err(tok().loc,
        fmt::format("expression is nested too deeply (more than {} levels)", kMaxExprDepth));
  reportedDeep_ = true;
  return true;
}

ExprPtr Parser::finishNode(ExprPtr e) {
  if (e->depth > kMaxExprDepth) {
    err(e->loc,
        fmt::format("expression is too deeply nested (more than {} levels)", kMaxExprDepth));
    return nullptr;
  }
  return e;
}

ExprPtr Parser::parseExpr() {
  reportedDeep_ = false;
  return parseAdditive();
}

ExprPtr Parser::parseAdditive() {
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

ExprPtr Parser::parseMultiplicative() {
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

ExprPtr Parser::makeBinary(char op, ExprPtr lhs, ExprPtr rhs) {
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

ExprPtr Parser::parseUnary() {
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

ExprPtr Parser::parsePostfix() {
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

bool Parser::parseArgs(std::vector<Arg> &args) {
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

ExprPtr Parser::parsePrimary() {
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

} // namespace nnc::dsl::detail
