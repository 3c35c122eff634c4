// CheckExpressions.cpp: expressions: names, arithmetic, @, and calls
// (dispatched to built-ins, layers, cells and repeat).
#include "Checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>

namespace nnc::dsl::detail {

void Checker::unknownName(const std::string &name, const Loc &loc, const Scope &scope) {
  std::vector<std::string> names;
  for (const auto &[k, v] : scope.env)
    names.push_back(k);
  if (prog_.layers.count(name)) {
    error(loc, fmt::format("layer '{}' cannot be used as a value; apply it to an input, as in "
                           "'h = {}(...)(x)'",
                           name, name));
    return;
  }
  if (isLossFunction(name)) {
    error(loc, fmt::format("'{}' must be called, as in '{}(a, b)'", name, name));
    return;
  }
  if (isTensorBuiltin(name)) {
    error(loc, fmt::format("'{}' must be called, as in '{}'", name, builtinExample(name)));
    return;
  }
  if (isInitializerName(name)) {
    error(loc, fmt::format("'{}' is an initializer; it can only follow '=' in a param "
                           "declaration",
                           name));
    return;
  }
  error(loc, fmt::format("unknown name '{}'{}", name, suggest(name, names)));
}

// Evaluates the arguments of call e in order (all but `skip`) into vals,
// each then passed to `fits` (when given), which reports why it does not
// fit; false at the first that does not evaluate (reported by eval) or fit.
bool Checker::evalArgs(const Expr &e, Scope &scope, std::vector<Value> &vals, const Arg *skip,
                       const std::function<bool(const Arg &, const Value &)> &fits) {
  for (const Arg &a : e.args) {
    if (&a == skip)
      continue;
    Value v = eval(*a.value, scope);
    if (v.kind == Value::Error || (fits && !fits(a, v)))
      return false;
    vals.push_back(v);
  }
  return true;
}

Value Checker::eval(const Expr &e, Scope &scope, const std::string &nameHint) {
  switch (e.kind) {
  case ExprKind::Error:
    return Value::error();
  case ExprKind::Ellipsis:
    error(e.loc, "'...' is only allowed as the first dimension of a call signature, as in "
                 "'call(x[..., in])'");
    return Value::error();
  case ExprKind::Int:
    return Value::integer(e.intValue);
  case ExprKind::Float:
    return Value::real(e.floatValue);
  case ExprKind::String:
    return Value::string(e.text);
  case ExprKind::Name: {
    auto it = scope.env.find(e.text);
    if (it != scope.env.end()) {
      if (it->second.kind == Value::Tensor && it->second.outer)
        return capture(it->second);
      return it->second;
    }
    if (isActivation(e.text))
      return Value::func(e.text);
    unknownName(e.text, e.loc, scope);
    return Value::error();
  }
  case ExprKind::Unary: {
    Value v = eval(*e.lhs, scope);
    switch (v.kind) {
    case Value::Error:
      return v;
    case Value::Int:
      if (v.i == INT64_MIN) {
        error(e.loc, "integer overflow");
        return Value::error();
      }
      return Value::integer(-v.i);
    case Value::Float:
      return Value::real(-v.f);
    case Value::Tensor:
      return unaryOp(OpKind::Neg, "-", v, e, *e.lhs);
    default:
      error(e.loc, fmt::format("cannot negate '{}': it is {}", text(*e.lhs), describe(v)));
      return Value::error();
    }
  }
  case ExprKind::Binary:
    return binary(e, scope);
  case ExprKind::Call:
    return call(e, scope, nameHint);
  case ExprKind::Member:
    if (e.lhs && e.lhs->kind == ExprKind::Call && e.lhs->lhs &&
        e.lhs->lhs->kind == ExprKind::Name && prog_.layers.count(e.lhs->lhs->text)) {
      const LayerDecl &l = *prog_.layers.at(e.lhs->lhs->text);
      if (!l.isCell)
        error(e.loc, fmt::format("layer '{}' has no method '{}'; apply it directly, as in "
                                 "'{}(...)(x)'",
                                 l.name, e.text, l.name));
      else if (e.text == "sequence" || e.text == "last")
        error(e.loc, fmt::format("'.{}' must be applied to the input sequence, as in "
                                 "'{}(...).{}(x)'",
                                 e.text, l.name, e.text));
      else
        error(e.loc, cellMethodError(l, e.text));
    } else if (e.lhs && e.lhs->kind == ExprKind::Name && prog_.layers.count(e.lhs->text) &&
               !scope.env.count(e.lhs->text)) {
      const LayerDecl &l = *prog_.layers.at(e.lhs->text);
      if (l.isCell)
        error(e.loc, fmt::format("cell '{}' must be created with its arguments before '.{}', "
                                 "as in '{}(...).{}(x)'",
                                 l.name, e.text, l.name, e.text == "last" ? "last" : "sequence"));
      else
        error(e.loc, fmt::format("layer '{}' has no method '{}'; apply it directly, as in "
                                 "'{}(...)(x)'",
                                 l.name, e.text, l.name));
    } else
      error(e.loc, fmt::format("'{}': member access is not supported", text(e)));
    return Value::error();
  }
  return Value::error();
}

Value Checker::foldNumbers(char op, const Value &a, const Value &b, const Expr &e) {
  if (a.kind == Value::Int && b.kind == Value::Int) {
    int64_t r = 0;
    bool overflow = false;
    switch (op) {
    case '+':
      overflow = __builtin_add_overflow(a.i, b.i, &r);
      break;
    case '-':
      overflow = __builtin_sub_overflow(a.i, b.i, &r);
      break;
    case '*':
      overflow = __builtin_mul_overflow(a.i, b.i, &r);
      break;
    case '/':
      if (b.i == 0) {
        error(e.loc, fmt::format("division by zero in '{}'", text(e)));
        return Value::error();
      }
      if (a.i == INT64_MIN && b.i == -1) {
        overflow = true;
        break;
      }
      if (a.i % b.i == 0)
        return Value::integer(a.i / b.i);
      return Value::real(double(a.i) / double(b.i));
    }
    if (overflow) {
      error(e.loc, fmt::format("integer overflow in '{}'", text(e)));
      return Value::error();
    }
    return Value::integer(r);
  }
  double x = a.f, y = b.f, r = 0;
  switch (op) {
  case '+':
    r = x + y;
    break;
  case '-':
    r = x - y;
    break;
  case '*':
    r = x * y;
    break;
  case '/':
    if (y == 0) {
      error(e.loc, fmt::format("division by zero in '{}'", text(e)));
      return Value::error();
    }
    r = x / y;
    break;
  }
  if (!std::isfinite(r)) {
    error(e.loc, fmt::format("'{}' is out of range", text(e)));
    return Value::error();
  }
  return Value::real(r);
}

Value Checker::binary(const Expr &e, Scope &scope) {
  Value a = eval(*e.lhs, scope);
  Value b = eval(*e.rhs, scope);
  if (a.kind == Value::Error || b.kind == Value::Error)
    return Value::error();
  for (const auto &[v, sub] : {std::pair<const Value &, const Expr &>{a, *e.lhs}, {b, *e.rhs}})
    if (v.kind == Value::Func || v.kind == Value::String) {
      error(sub.loc, fmt::format("operator '{}' cannot be applied to '{}': it is {}", e.op,
                                 text(sub), describe(v)));
      return Value::error();
    }
  if (e.op == '@') {
    if (a.kind != Value::Tensor || b.kind != Value::Tensor) {
      const Expr &bad = a.kind != Value::Tensor ? *e.lhs : *e.rhs;
      error(bad.loc, fmt::format("operator '@' needs tensors, but '{}' is {}", text(bad),
                                 describe(a.kind != Value::Tensor ? a : b)));
      return Value::error();
    }
    return matmul(a, b, e);
  }
  if (a.isNumber() && b.isNumber())
    return foldNumbers(e.op, a, b, e);
  a = asTensor(a, *e.lhs);
  b = asTensor(b, *e.rhs);
  if (a.kind == Value::Error || b.kind == Value::Error)
    return Value::error();
  const Node &na = node(a), &nb = node(b);
  for (const auto &[n, sub] : {std::pair<const Node &, const Expr &>{na, *e.lhs}, {nb, *e.rhs}})
    if (n.dtype != DType::F32) {
      error(sub.loc, fmt::format("operator '{}' needs float operands, but '{}' is an int tensor",
                                 e.op, text(sub)));
      return Value::error();
    }
  std::vector<int64_t> shape;
  if (!broadcast(na, nb, e, shape))
    return Value::error();
  OpKind op = e.op == '+'   ? OpKind::Add
              : e.op == '-' ? OpKind::Sub
              : e.op == '*' ? OpKind::Mul
                            : OpKind::Div;
  int n = addNode(op, {a.node, b.node}, shape, DType::F32, na.batched || nb.batched, e.loc);
  return Value::tensor(n);
}

bool Checker::broadcast(const Node &a, const Node &b, const Expr &e, std::vector<int64_t> &out) {
  auto mismatch = [&](const std::string &why) {
    error(e.loc, fmt::format("shape mismatch in '{}': {} {} {} ({})", text(e), formatShape(a.shape),
                             e.op, formatShape(b.shape), why));
    return false;
  };
  // Broadcasting is per example: the batch dimension of a batched operand
  // lines up with the batch dimension of the result, and the per-example
  // dimensions line up from the right (numpy rules, the nn ops' verifiers'
  // own: Shapes.h).
  int64_t da = 0, db = 0;
  if (!broadcastShapes(a.shape, b.shape, out, &da, &db))
    return mismatch(fmt::format("dimensions {} and {} differ", da, db));
  return true;
}

Value Checker::matmul(const Value &a, const Value &b, const Expr &e) {
  const Node &na = node(a), &nb = node(b);
  auto fail = [&](const std::string &why) {
    error(e.loc, fmt::format("shape mismatch in '{}': {} @ {} ({})", text(e), formatShape(na.shape),
                             formatShape(nb.shape), why));
    return Value::error();
  };
  if (na.dtype != DType::F32 || nb.dtype != DType::F32) {
    const Expr &bad = na.dtype != DType::F32 ? *e.lhs : *e.rhs;
    error(bad.loc,
          fmt::format("operator '@' needs float operands, but '{}' is an int tensor", text(bad)));
    return Value::error();
  }
  if (nb.batched)
    return batchMatmul(a, b, e);
  if (nb.shape.size() != 2)
    return fail(
        fmt::format("the right operand must have 2 dimensions, it has {}", nb.shape.size()));
  if (na.shape.empty())
    return fail("the left operand must have at least 1 dimension");
  if (na.shape.back() != nb.shape[0])
    return fail(fmt::format("inner dimensions {} and {} differ", na.shape.back(), nb.shape[0]));
  std::vector<int64_t> shape = na.shape;
  shape.back() = nb.shape[1];
  return Value::tensor(
      addNode(OpKind::MatMul, {a.node, b.node}, shape, DType::F32, na.batched, e.loc));
}

// a[..., M, K] @ b[..., K, N] with a per-example right operand: one product
// per leading index (attention's q @ transpose(k), p @ v).
Value Checker::batchMatmul(const Value &a, const Value &b, const Expr &e) {
  const Node &na = node(a), &nb = node(b);
  auto fail = [&](const std::string &why) {
    error(e.loc, fmt::format("shape mismatch in '{}': {} @ {} ({})", text(e), formatShape(na.shape),
                             formatShape(nb.shape), why));
    return Value::error();
  };
  size_t r = nb.shape.size();
  // A per-example vector cannot be the right side of any product.
  if (r < 2)
    return fail("the right operand must be an unbatched 2-D value such as a parameter, or "
                "per example at least 2-D for a batched product");
  if (na.shape.size() != r)
    return fail(fmt::format("a per-example right operand needs two operands of one rank, at "
                            "least 2, as in a[..., M, K] @ b[..., K, N]; an unbatched 2-D "
                            "right operand (a parameter) multiplies the last dimension"));
  std::vector<int64_t> lead(na.shape.begin(), na.shape.end() - 2);
  if (!std::equal(lead.begin(), lead.end(), nb.shape.begin()))
    return fail(
        fmt::format("the leading dimensions {} and {} differ", formatShape(lead),
                    formatShape(std::vector<int64_t>(nb.shape.begin(), nb.shape.end() - 2))));
  if (na.shape[r - 1] != nb.shape[r - 2])
    return fail(fmt::format("inner dimensions {} and {} differ", na.shape[r - 1], nb.shape[r - 2]));
  std::vector<int64_t> shape = lead;
  shape.push_back(na.shape[r - 2]);
  shape.push_back(nb.shape[r - 1]);
  if (!checkSize(shape, e.loc, text(e)))
    return Value::error();
  return Value::tensor(
      addNode(OpKind::BatchMatMul, {a.node, b.node}, shape, DType::F32, true, e.loc));
}

Value Checker::unaryOp(OpKind op, const std::string &fname, const Value &v, const Expr &e,
                       const Expr &arg) {
  const Node &n = node(v);
  if (n.dtype != DType::F32) {
    error(arg.loc, fmt::format("{} needs a float tensor, but '{}' is an int tensor",
                               fname == "-" ? "negation" : fname, text(arg)));
    return Value::error();
  }
  if ((op == OpKind::Softmax || op == OpKind::LogSoftmax) && n.shape.empty()) {
    error(arg.loc,
          fmt::format("{} works over the last dimension, but '{}' is a scalar", fname, text(arg)));
    return Value::error();
  }
  return Value::tensor(addNode(op, {v.node}, n.shape, DType::F32, n.batched, e.loc));
}

std::vector<std::string> Checker::callableNames() const {
  std::vector<std::string> names;
  for (const auto &[k, v] : prog_.layers)
    names.push_back(k);
  for (const auto &[k, v] : unaryFunctions())
    names.push_back(k);
  for (const char *f : {"cross_entropy", "mse", "linear", "concat", "slice", "embedding", "dropout",
                        "transpose", "permute", "reshape", "dot"})
    names.push_back(f);
  for (const char *f : {"layer_norm", "causal_mask", "mask", "not_padding", "positions", "repeat"})
    names.push_back(f);
  return names;
}

std::string Checker::cellMethodError(const LayerDecl &cell, const std::string &method) const {
  return fmt::format("cell '{}' has no method '{}'; use '.sequence(x)' for the output of every "
                     "step or '.last(x)' for the output of the last step{}",
                     cell.name, method, suggest(method, {"sequence", "last"}));
}

Value Checker::call(const Expr &e, Scope &scope, const std::string &nameHint) {
  const Expr &callee = *e.lhs;
  if (callee.kind == ExprKind::Name) {
    const std::string &f = callee.text;
    auto it = scope.env.find(f);
    if (it != scope.env.end()) {
      if (it->second.kind == Value::Func)
        return callBuiltin(it->second.s, e, scope);
      if (it->second.kind == Value::Error)
        return Value::error();
      error(callee.loc, fmt::format("'{}' is not a function: it is {}", f, describe(it->second)));
      return Value::error();
    }
    if (isBuiltinFunction(f))
      return callBuiltin(f, e, scope);
    if (prog_.layers.count(f)) {
      if (prog_.layers.at(f)->isCell)
        error(e.loc, fmt::format("cell '{}' must be applied to a sequence, as in "
                                 "'{}(...).sequence(x)' or '{}(...).last(x)'",
                                 f, f, f));
      else
        error(e.loc,
              fmt::format("layer '{}' must be applied to an input, as in '{}(...)(x)'", f, f));
      return Value::error();
    }
    if (f == "repeat") {
      error(e.loc, "repeat(N, Layer(...)) must be applied to an input, as in "
                   "'repeat(N, Layer(...))(x)'");
      return Value::error();
    }
    if (isInitializerName(f)) {
      error(callee.loc, fmt::format("'{}' is an initializer; it can only follow '=' in a param "
                                    "declaration",
                                    f));
      return Value::error();
    }
    std::string hint = suggest(f, callableNames());
    if (hint.empty() && !prog_.layers.count(f) && f.size() > 0 &&
        std::isupper(static_cast<unsigned char>(f[0])))
      hint = " (did you forget an import such as 'import std.layers'?)";
    error(callee.loc, fmt::format("unknown layer or function '{}'{}", f, hint));
    return Value::error();
  }
  // Cell(args).sequence(x) / Cell(args).last(x)
  if (callee.kind == ExprKind::Member && callee.lhs && callee.lhs->kind == ExprKind::Call &&
      callee.lhs->lhs && callee.lhs->lhs->kind == ExprKind::Name &&
      !scope.env.count(callee.lhs->lhs->text)) {
    auto it = prog_.layers.find(callee.lhs->lhs->text);
    if (it != prog_.layers.end() && it->second->isCell) {
      if (callee.text != "sequence" && callee.text != "last") {
        error(callee.loc, cellMethodError(*it->second, callee.text));
        return Value::error();
      }
      return applyLayer(*it->second, *callee.lhs, e, scope, nameHint,
                        callee.text == "sequence" ? Apply::Sequence : Apply::Last);
    }
  }
  if (callee.kind == ExprKind::Call && callee.lhs && callee.lhs->kind == ExprKind::Name &&
      callee.lhs->text == "repeat" && !scope.env.count("repeat") && !prog_.layers.count("repeat"))
    return applyRepeat(callee, e, scope, nameHint);
  if (callee.kind == ExprKind::Call && callee.lhs && callee.lhs->kind == ExprKind::Name &&
      !scope.env.count(callee.lhs->text)) {
    auto it = prog_.layers.find(callee.lhs->text);
    if (it != prog_.layers.end()) {
      if (it->second->isCell) {
        const std::string &c = it->second->name;
        error(e.loc, fmt::format("cell '{}' is applied with '.sequence(x)' (the output of every "
                                 "step) or '.last(x)' (the output of the last step), as in "
                                 "'{}(...).last(x)'",
                                 c, c));
        return Value::error();
      }
      return applyLayer(*it->second, callee, e, scope, nameHint);
    }
  }
  Value c = eval(callee, scope);
  if (c.kind == Value::Error)
    return c;
  if (c.kind == Value::Func)
    return callBuiltin(c.s, e, scope);
  error(callee.loc, fmt::format("'{}' cannot be called: it is {}", text(callee), describe(c)));
  return Value::error();
}

} // namespace nnc::dsl::detail
