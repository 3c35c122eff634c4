// AST.h: the parsed form of a .nn file, before names and shapes are checked.
#pragma once

#include "nnc/dsl/Graph.h"

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace nnc::dsl {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  Int,      // 42
  Float,    // 0.5
  String,   // "text"
  Name,     // x
  Unary,    // -x            (op '-')
  Binary,   // a + b         (op '+', '-', '*', '/', '@')
  Call,     // f(args)       (callee is a Name, a Call, or a Member)
  Member,   // e.name        (methods of cells: LSTM(150).sequence)
  Ellipsis, // `...` as the first dimension of a call signature: any leading dims
  Error,    // a sub-expression that failed to parse (already diagnosed)
};

struct Arg {
  std::string name; // empty for a positional argument
  Loc nameLoc;
  ExprPtr value;
};

struct Expr {
  ExprKind kind = ExprKind::Error;
  Loc loc;
  size_t begin = 0, end = 0; // byte range in the source (for messages)
  int depth = 1;             // height of the tree (bounded by the parser)
  int64_t intValue = 0;
  double floatValue = 0;
  std::string text;      // Name / Member: the name; String: the value
  char op = 0;           // Unary / Binary
  ExprPtr lhs, rhs;      // Binary: both; Unary: lhs; Call: lhs = callee; Member: lhs
  std::vector<Arg> args; // Call
};

// `units N = 8`: label `units` (used by named call arguments), local name N.
struct ParamDecl {
  std::string label; // == name when no label was written
  std::string name;
  Loc loc;
  ExprPtr defaultValue; // may be null
};

enum class StmtKind {
  Assign, // name = expr
  Output, // output name [= expr]
  Loss,   // loss expr
  Param,  // param name[dims] [= init]
  Input,  // input name: float[dims]
  Target, // target name: int[dims]
  State,  // state name[dims] [= init]   (cells only)
};

struct Stmt {
  StmtKind kind = StmtKind::Assign;
  Loc loc; // the statement's first token
  std::string name;
  Loc nameLoc;
  ExprPtr value; // Assign/Output/Loss: the expression; Param/State: the initializer
  // Param / State / Input / Target: the dimensions (hasDims false: a scalar per example)
  std::vector<ExprPtr> dims;
  bool hasDims = false;
  std::string dtype; // Input/Target: "float" or "int"
  Loc dtypeLoc;
  bool bad = false; // a syntax error was reported: declares `name` as invalid
};

// An argument of a call signature: `x[in]` (dims may bind shape variables).
struct SigArg {
  std::string name;
  Loc loc;
  std::vector<ExprPtr> dims;
  bool hasDims = false; // `x` without brackets: any shape
};

// A layer, or a recurrent cell (`isCell`): a cell has `state` declarations
// and a `step(x[in]) -> h { ... }` block, kept in callArgs/result/body.
struct LayerDecl {
  std::string name;
  bool isCell = false;
  Loc loc; // the name
  std::string file;
  std::vector<ParamDecl> params;
  std::vector<Stmt> paramStmts; // `param` statements of the layer body
  std::vector<Stmt> stateStmts; // `state` statements of a cell
  bool hasCall = false;         // the call block (a cell: the step block)
  Loc callLoc;
  std::vector<SigArg> callArgs;
  std::string result;
  Loc resultLoc;
  std::vector<Stmt> body; // statements of call(...) { ... }
  bool hadErrors = false; // the parser reported errors inside this layer
};

struct ModelDecl {
  std::string name;
  Loc loc;
  std::vector<ParamDecl> params;
  std::vector<Stmt> body;
  bool hadErrors = false;
  // The body has a line starting with `input` / `loss` (even one that failed
  // to parse): no "has no input/loss" error then.
  bool hasInputStmt = false, hasLossStmt = false;
};

// `optimizer adam(lr = 0.01)`: key and its value expression.
struct TrainSetting {
  std::string key;
  Loc loc;
  ExprPtr value;
};

struct TrainDecl {
  std::string model;
  Loc loc;      // the `train` keyword
  Loc modelLoc; // the model name
  std::vector<TrainSetting> settings;
};

struct ImportDecl {
  std::string module; // "std.layers"
  Loc loc;
};

struct FileAST {
  std::string path;
  std::vector<ImportDecl> imports;
  std::vector<LayerDecl> layers;
  std::vector<ModelDecl> models;
  std::vector<TrainDecl> trains;
  // Declarations in source order, for the AST dump: (kind, index) with
  // kind 'i' import, 'l' layer or cell, 'm' model, 't' train.
  std::vector<std::pair<char, int>> order;
};

// Writes the AST as an indented tree, one node per line with line:col.
void printAST(const FileAST &file, std::ostream &os);
void printExpr(const Expr &e, std::ostream &os, int indent);

// Writes an expression back as source text (normalised spacing).
std::string exprToString(const Expr &e);

} // namespace nnc::dsl
