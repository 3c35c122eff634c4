// CheckStatements.cpp: the statements of a model or layer body: input,
// target, param (with its initializer), assignments, output and loss.
#include "Checker.h"

#include <fmt/format.h>

namespace nnc::dsl::detail {

void Checker::declare(Scope &scope, const std::string &name, const Loc &loc, Value v,
                      bool redefinable) {
  auto it = scope.env.find(name);
  if (it != scope.env.end() && !redefinable) {
    error(loc, fmt::format("'{}' is already defined", name));
    return;
  }
  scope.env[name] = v;
}

void Checker::nameNode(const Value &v, const std::string &name) {
  if (v.kind != Value::Tensor)
    return;
  Node &n = mutNode(v.node);
  if (n.op == OpKind::Param || n.op == OpKind::Input || n.op == OpKind::Target ||
      n.op == OpKind::ScanState || n.op == OpKind::ScanInput || n.op == OpKind::ScanCapture)
    return;
  n.name = name;
}

void Checker::exec(const Stmt &s, Scope &scope) {
  if (s.bad) {
    if (!s.name.empty())
      scope.env[s.name] = Value::error();
    return;
  }
  switch (s.kind) {
  case StmtKind::Input:
  case StmtKind::Target: {
    bool isInput = s.kind == StmtKind::Input;
    bool ok;
    std::vector<int64_t> shape = declShape(s, scope, s.name, ok);
    if (!ok) {
      declare(scope, s.name, s.nameLoc, Value::error(), true);
      return;
    }
    // The step of a cached model takes one position: the first dimension
    // is the time, and its full length is what a cache holds.
    if (opts_.cacheStep && !shape.empty()) {
      if (g_.context == 0)
        g_.context = shape[0];
      shape[0] = 1;
    }
    DType dt = s.dtype == "int" ? DType::I32 : DType::F32;
    auto &list = isInput ? g_.inputs : g_.targets;
    int n = addNode(isInput ? OpKind::Input : OpKind::Target, {}, shape, dt, true, s.nameLoc);
    mutNode(n).ioIndex = int(list.size());
    mutNode(n).name = s.name;
    if (scope.env.count(s.name)) {
      error(s.nameLoc, fmt::format("'{}' is already defined", s.name));
      return;
    }
    for (const IO &io : g_.inputs)
      if (io.name == s.name) {
        error(s.nameLoc, fmt::format("'{}' is already defined", s.name));
        return;
      }
    list.push_back(IO{s.name, n, shape, dt, s.nameLoc});
    scope.env[s.name] = Value::tensor(n);
    return;
  }
  case StmtKind::Param:
    createParam(s, scope);
    return;
  case StmtKind::State: // only in a cell's stateStmts
    return;
  case StmtKind::Assign: {
    Value v = eval(*s.value, scope, s.name);
    if (v.kind == Value::Tensor)
      nameNode(v, scope.prefix + s.name);
    declare(scope, s.name, s.nameLoc, v, true);
    return;
  }
  case StmtKind::Output: {
    if (!scope.isModel) {
      error(s.loc,
            "'output' is only allowed in a model; a layer returns the value named after '->'");
      return;
    }
    Value v;
    if (s.value) {
      v = eval(*s.value, scope, s.name);
      if (v.kind == Value::Tensor)
        nameNode(v, s.name);
      declare(scope, s.name, s.nameLoc, v, true);
    } else {
      auto it = scope.env.find(s.name);
      if (it == scope.env.end()) {
        unknownName(s.name, s.nameLoc, scope);
        return;
      }
      v = it->second;
    }
    if (v.kind == Value::Error)
      return;
    if (v.kind != Value::Tensor) {
      error(s.nameLoc,
            fmt::format("output '{}' must be a tensor, but it is {}", s.name, describe(v)));
      return;
    }
    for (const IO &io : g_.outputs)
      if (io.name == s.name) {
        error(s.nameLoc, fmt::format("output '{}' is declared twice", s.name));
        return;
      }
    const Node &n = node(v);
    g_.outputs.push_back(IO{s.name, v.node, n.shape, n.dtype, s.nameLoc});
    return;
  }
  case StmtKind::Loss: {
    if (!scope.isModel) {
      error(s.loc, "'loss' is only allowed in a model");
      return;
    }
    bool first = !lossSeen_;
    if (!first) {
      error(s.loc, "the model already has a loss; combine them in one expression, as in "
                   "'loss a + b'");
      diag_.note(lossLoc_, "the first loss is here");
    } else {
      lossSeen_ = true;
      lossLoc_ = s.loc;
    }
    Value v = eval(*s.value, scope);
    if (v.kind == Value::Error || !first)
      return;
    if (v.kind != Value::Tensor) {
      error(s.value->loc, fmt::format("the loss must be a scalar tensor, but '{}' is {}",
                                      text(*s.value), describe(v)));
      return;
    }
    const Node &n = node(v);
    if (!n.shape.empty() || n.batched) {
      error(s.value->loc,
            fmt::format("the loss must be a scalar, but '{}' has shape {}{}; use a loss "
                        "function such as cross_entropy or mse, which average over the batch",
                        text(*s.value), formatShape(n.shape), n.batched ? " per example" : ""));
      return;
    }
    if (n.dtype != DType::F32) {
      error(s.value->loc, "the loss must be a float value");
      return;
    }
    g_.lossNode = v.node;
    return;
  }
  }
}

bool Checker::checkSize(const std::vector<int64_t> &shape, const Loc &loc,
                        const std::string &what) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(n, d, &n) || n > kMaxElements) {
      error(loc, fmt::format("'{}' is too large: {} has more than {} elements", what,
                             formatShape(shape), kMaxElements));
      return false;
    }
  }
  return true;
}

std::optional<int64_t> Checker::evalDim(const Expr &e, Scope &scope) {
  Value v = eval(e, scope);
  switch (v.kind) {
  case Value::Error:
    return std::nullopt;
  case Value::Int:
    if (v.i <= 0) {
      error(e.loc,
            fmt::format("a dimension must be a positive integer, but '{}' is {}", text(e), v.i));
      return std::nullopt;
    }
    if (v.i > kMaxDim) {
      error(e.loc, fmt::format("dimension {} is too large (the limit is {})", v.i, kMaxDim));
      return std::nullopt;
    }
    return v.i;
  default:
    error(e.loc, fmt::format("a dimension must be a positive integer, but '{}' is {}", text(e),
                             describe(v)));
    return std::nullopt;
  }
}

// The shape of a declaration's dimensions (s.dims), each one that does not
// evaluate taken as 1 so that checking goes on; ok is false when one did not
// or the size is too large for `what` (both reported).
std::vector<int64_t> Checker::declShape(const Stmt &s, Scope &scope, const std::string &what,
                                        bool &ok) {
  std::vector<int64_t> shape;
  ok = true;
  for (const ExprPtr &d : s.dims) {
    auto v = evalDim(*d, scope);
    ok &= v.has_value();
    shape.push_back(v.value_or(1));
  }
  if (ok)
    ok = checkSize(shape, s.nameLoc, what);
  return shape;
}

void Checker::createParam(const Stmt &s, Scope &scope) {
  std::string full = scope.prefix + s.name;
  bool ok;
  std::vector<int64_t> shape = declShape(s, scope, full, ok);
  Param p;
  p.name = full;
  p.shape = shape;
  p.loc = nodeLoc(s.nameLoc);
  if (!checkInit(s, scope, p))
    ok = false;
  if (!ok) {
    declare(scope, s.name, s.nameLoc, Value::error(), true);
    return;
  }
  if (scope.env.count(s.name)) {
    error(s.nameLoc, fmt::format("'{}' is already defined", s.name));
    return;
  }
  for (const Param &q : g_.params)
    if (q.name == full) {
      error(s.nameLoc, fmt::format("parameter '{}' is already defined", full));
      return;
    }
  if (shape.size() >= 2) {
    p.fanIn = shape[shape.size() - 2];
    p.fanOut = shape.back();
    for (size_t i = 0; i + 2 < shape.size(); ++i) { // receptive field
      p.fanIn *= shape[i];
      p.fanOut *= shape[i];
    }
  } else {
    p.fanIn = p.fanOut = numElements(shape);
  }
  // The Param node is always in the model's graph (Param::node); inside a
  // scan body the parameter gets a second Param node in the body.
  std::vector<Node> *saved = nodes_;
  nodes_ = &g_.nodes;
  int n = addNode(OpKind::Param, {}, shape, DType::F32, false, s.nameLoc);
  mutNode(n).paramIndex = int(g_.params.size());
  mutNode(n).name = full;
  nodes_ = saved;
  p.node = n;
  if (scan_) {
    n = addNode(OpKind::Param, {}, shape, DType::F32, false, s.nameLoc);
    mutNode(n).paramIndex = int(g_.params.size());
    mutNode(n).name = full;
  }
  g_.params.push_back(p);
  scope.env[s.name] = Value::tensor(n);
}

bool Checker::checkInit(const Stmt &s, Scope &scope, Param &p) {
  const char *expected = "expected glorot_uniform, he_uniform, zeros, ones, constant(v), "
                         "uniform(v), normal(v) or a number";
  if (!s.value) {
    p.init = p.shape.size() >= 2 ? "glorot_uniform" : "zeros";
    return true;
  }
  const Expr &e = *s.value;
  if (e.kind == ExprKind::Name && !scope.env.count(e.text)) {
    const std::string &n = e.text;
    if (n == "glorot_uniform" || n == "glorot")
      p.init = "glorot_uniform";
    else if (n == "he_uniform" || n == "he")
      p.init = "he_uniform";
    else if (n == "zeros")
      p.init = "zeros";
    else if (n == "ones")
      p.init = "ones";
    else if (n == "constant" || n == "uniform" || n == "normal") {
      error(e.loc, fmt::format("initializer '{}' needs a value, as in '{}(0.05)'", n, n));
      return false;
    } else {
      std::vector<std::string> names = {"glorot_uniform", "he_uniform", "zeros", "ones",
                                        "constant",       "uniform",    "normal"};
      error(e.loc, fmt::format("unknown initializer '{}'; {}{}", n, expected, suggest(n, names)));
      return false;
    }
    return true;
  }
  if (e.kind == ExprKind::Call && e.lhs && e.lhs->kind == ExprKind::Name &&
      !scope.env.count(e.lhs->text)) {
    const std::string &n = e.lhs->text;
    if (n != "constant" && n != "uniform" && n != "normal") {
      error(e.loc, fmt::format("unknown initializer '{}(...)'; {}", n, expected));
      return false;
    }
    if (e.args.size() != 1 || !e.args[0].name.empty()) {
      error(e.loc, fmt::format("initializer '{}' takes one value, as in '{}(0.05)'", n, n));
      return false;
    }
    Value v = eval(*e.args[0].value, scope);
    if (v.kind == Value::Error)
      return false;
    if (!v.isNumber()) {
      error(e.args[0].value->loc,
            fmt::format("the value of initializer '{}' must be a number, but it is {}", n,
                        describe(v)));
      return false;
    }
    if (n != "constant" && v.f < 0) {
      error(e.args[0].value->loc,
            fmt::format("the value of initializer '{}' must not be negative", n));
      return false;
    }
    p.init = n;
    p.initValue = v.f;
    return true;
  }
  Value v = eval(e, scope);
  if (v.kind == Value::Error)
    return false;
  if (!v.isNumber()) {
    error(e.loc,
          fmt::format("invalid initializer: '{}' is {}; {}", text(e), describe(v), expected));
    return false;
  }
  p.init = "constant";
  p.initValue = v.f;
  return true;
}

} // namespace nnc::dsl::detail
