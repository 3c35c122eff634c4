#include "nnc/dsl/AST.h"

#include <fmt/format.h>

namespace nnc::dsl {

static std::string pos(const Loc &l) { return fmt::format("{}:{}", l.line, l.col); }
static std::string ind(int n) { return std::string(size_t(n) * 2, ' '); }

static std::string quote(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out + "\"";
}

void printExpr(const Expr &e, std::ostream &os, int indent) {
  os << ind(indent);
  switch (e.kind) {
  case ExprKind::Int:
    os << "Int " << e.intValue;
    break;
  case ExprKind::Float:
    os << "Float " << e.text;
    break;
  case ExprKind::String:
    os << "String " << quote(e.text);
    break;
  case ExprKind::Name:
    os << "Name " << e.text;
    break;
  case ExprKind::Unary:
    os << "Unary '" << e.op << "'";
    break;
  case ExprKind::Binary:
    os << "Binary '" << e.op << "'";
    break;
  case ExprKind::Call:
    os << "Call";
    break;
  case ExprKind::Member:
    os << "Member ." << e.text;
    break;
  case ExprKind::Ellipsis:
    os << "Ellipsis";
    break;
  case ExprKind::Error:
    os << "Error";
    break;
  }
  os << " " << pos(e.loc) << "\n";
  if (e.kind == ExprKind::Call) {
    if (e.lhs) {
      os << ind(indent + 1) << "callee\n";
      printExpr(*e.lhs, os, indent + 2);
    }
    for (const Arg &a : e.args) {
      if (a.name.empty())
        os << ind(indent + 1) << "arg\n";
      else
        os << ind(indent + 1) << "arg " << a.name << " " << pos(a.nameLoc) << "\n";
      if (a.value)
        printExpr(*a.value, os, indent + 2);
    }
    return;
  }
  if (e.lhs)
    printExpr(*e.lhs, os, indent + 1);
  if (e.rhs)
    printExpr(*e.rhs, os, indent + 1);
}

static void printDims(const std::vector<ExprPtr> &dims, std::ostream &os, int indent) {
  for (const ExprPtr &d : dims) {
    os << ind(indent) << "dim\n";
    printExpr(*d, os, indent + 1);
  }
}

static void printParams(const std::vector<ParamDecl> &params, std::ostream &os, int indent) {
  for (const ParamDecl &p : params) {
    os << ind(indent) << "Parameter ";
    if (p.label != p.name)
      os << p.label << " ";
    os << p.name << " " << pos(p.loc) << "\n";
    if (p.defaultValue) {
      os << ind(indent + 1) << "default\n";
      printExpr(*p.defaultValue, os, indent + 2);
    }
  }
}

static void printStmt(const Stmt &s, std::ostream &os, int indent) {
  os << ind(indent);
  switch (s.kind) {
  case StmtKind::Assign:
    os << "Assign " << s.name;
    break;
  case StmtKind::Output:
    os << "Output " << s.name;
    break;
  case StmtKind::Loss:
    os << "Loss";
    break;
  case StmtKind::Param:
    os << "Param " << s.name;
    break;
  case StmtKind::Input:
    os << "Input " << s.name << ": " << s.dtype;
    break;
  case StmtKind::Target:
    os << "Target " << s.name << ": " << s.dtype;
    break;
  case StmtKind::State:
    os << "State " << s.name;
    break;
  }
  os << " " << pos(s.loc) << "\n";
  printDims(s.dims, os, indent + 1);
  if (s.value) {
    bool init = s.kind == StmtKind::Param || s.kind == StmtKind::State;
    if (init)
      os << ind(indent + 1) << "init\n";
    printExpr(*s.value, os, indent + 1 + init);
  }
}

void printAST(const FileAST &file, std::ostream &os) {
  os << "File " << file.path << "\n";
  for (auto [kind, idx] : file.order) {
    switch (kind) {
    case 'i': {
      const ImportDecl &d = file.imports[size_t(idx)];
      os << "  Import " << d.module << " " << pos(d.loc) << "\n";
      break;
    }
    case 'l': {
      const LayerDecl &d = file.layers[size_t(idx)];
      os << (d.isCell ? "  Cell " : "  Layer ") << d.name << " " << pos(d.loc) << "\n";
      printParams(d.params, os, 2);
      for (const Stmt &s : d.stateStmts)
        printStmt(s, os, 2);
      for (const Stmt &s : d.paramStmts)
        printStmt(s, os, 2);
      if (d.hasCall) {
        os << (d.isCell ? "    Step -> " : "    Call -> ") << d.result << " " << pos(d.callLoc)
           << "\n";
        for (const SigArg &a : d.callArgs) {
          os << "      Input " << a.name << (a.hasDims ? "" : " (any shape)") << " " << pos(a.loc)
             << "\n";
          printDims(a.dims, os, 4);
        }
        for (const Stmt &s : d.body)
          printStmt(s, os, 3);
      }
      break;
    }
    case 'm': {
      const ModelDecl &d = file.models[size_t(idx)];
      os << "  Model " << d.name << " " << pos(d.loc) << "\n";
      printParams(d.params, os, 2);
      for (const Stmt &s : d.body)
        printStmt(s, os, 2);
      break;
    }
    case 't': {
      const TrainDecl &d = file.trains[size_t(idx)];
      os << "  Train " << d.model << " " << pos(d.loc) << "\n";
      for (const TrainSetting &s : d.settings) {
        os << "    Setting " << s.key << " " << pos(s.loc) << "\n";
        if (s.value)
          printExpr(*s.value, os, 3);
      }
      break;
    }
    }
  }
}

static int prec(const Expr &e) {
  if (e.kind == ExprKind::Binary)
    return e.op == '+' || e.op == '-' ? 1 : 2;
  if (e.kind == ExprKind::Unary)
    return 3;
  return 4;
}

std::string exprToString(const Expr &e) {
  switch (e.kind) {
  case ExprKind::Int:
    return std::to_string(e.intValue);
  case ExprKind::Float:
    return e.text.empty() ? fmt::format("{}", e.floatValue) : e.text;
  case ExprKind::String:
    return quote(e.text);
  case ExprKind::Name:
    return e.text;
  case ExprKind::Unary: {
    std::string s = e.lhs ? exprToString(*e.lhs) : "?";
    if (e.lhs && prec(*e.lhs) < 3)
      s = "(" + s + ")";
    return "-" + s;
  }
  case ExprKind::Binary: {
    std::string l = e.lhs ? exprToString(*e.lhs) : "?";
    std::string r = e.rhs ? exprToString(*e.rhs) : "?";
    if (e.lhs && prec(*e.lhs) < prec(e))
      l = "(" + l + ")";
    if (e.rhs && prec(*e.rhs) <= prec(e))
      r = "(" + r + ")";
    return l + " " + e.op + " " + r;
  }
  case ExprKind::Call: {
    std::string s = (e.lhs ? exprToString(*e.lhs) : "?") + "(";
    for (size_t i = 0; i < e.args.size(); ++i) {
      if (i)
        s += ", ";
      if (!e.args[i].name.empty())
        s += e.args[i].name + " = ";
      s += e.args[i].value ? exprToString(*e.args[i].value) : "?";
    }
    return s + ")";
  }
  case ExprKind::Member:
    return (e.lhs ? exprToString(*e.lhs) : "?") + "." + e.text;
  case ExprKind::Ellipsis:
    return "...";
  case ExprKind::Error:
    return "<error>";
  }
  return "?";
}

} // namespace nnc::dsl
