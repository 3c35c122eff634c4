// CheckBuiltins.cpp: the built-in function tables and the calls of
// activations, losses, concat, slice, embedding, dropout and cache.
#include "Checker.h"

#include <fmt/format.h>

namespace nnc::dsl::detail {

const std::map<std::string, OpKind> &unaryFunctions() {
  static const std::map<std::string, OpKind> m = {
#define NN_UNARY_OP(Kind, name, OpClass) {name, OpKind::Kind},
#include "nnc/dsl/Ops.def"
      // Not elementwise: over an axis (callBuiltin sends the axis = k form
      // to callTransformerBuiltin).
      {"softmax", OpKind::Softmax},
      {"log_softmax", OpKind::LogSoftmax},
  };
  return m;
}
bool isActivation(const std::string &s) { return s == "linear" || unaryFunctions().count(s); }
bool isLossFunction(const std::string &s) { return s == "cross_entropy" || s == "mse"; }
// Built-ins with their own argument rules (see callTensorBuiltin).
bool isTensorBuiltin(const std::string &s) {
  return s == "concat" || s == "slice" || s == "embedding" || s == "dropout" || s == "cache" ||
         // Attention shape primitives (issue 4):
         s == "transpose" || s == "permute" || s == "reshape" || s == "dot";
}
// Transformer primitives (issue 4), with named arguments (see
// callTransformerBuiltin).
bool isTransformerBuiltin(const std::string &s) {
  return s == "layer_norm" || s == "causal_mask" || s == "mask" || s == "not_padding" ||
         s == "positions";
}
bool isBuiltinFunction(const std::string &s) {
  return isActivation(s) || isLossFunction(s) || isTensorBuiltin(s) || isTransformerBuiltin(s);
}
bool isInitializerName(const std::string &s) {
  return s == "glorot_uniform" || s == "glorot" || s == "he_uniform" || s == "he" || s == "zeros" ||
         s == "ones" || s == "constant" || s == "uniform" || s == "normal";
}

// f(args) for a built-in function f
Value Checker::callBuiltin(const std::string &f, const Expr &e, Scope &scope) {
  if (isTensorBuiltin(f))
    return callTensorBuiltin(f, e, scope);
  if (isTransformerBuiltin(f))
    return callTransformerBuiltin(f, e, scope);
  // softmax(x, axis = k): only the one-argument form is an activation.
  if ((f == "softmax" || f == "log_softmax") && (e.args.size() != 1 || !e.args[0].name.empty()))
    return callTransformerBuiltin(f, e, scope);
  for (const Arg &a : e.args)
    if (!a.name.empty()) {
      error(a.nameLoc, fmt::format("{} does not take named arguments", f));
      return Value::error();
    }
  size_t want = isLossFunction(f) ? 2 : 1;
  if (e.args.size() != want) {
    const Loc &l = e.args.size() > want ? e.args[want].value->loc : e.loc;
    error(l, fmt::format("{} expects {} argument{}, got {}", f, want, want == 1 ? "" : "s",
                         e.args.size()));
    return Value::error();
  }
  std::vector<Value> vals;
  if (!evalArgs(e, scope, vals, nullptr, [&](const Arg &a, const Value &v) {
        if (v.kind == Value::Tensor || v.isNumber())
          return true;
        error(a.value->loc, fmt::format("the argument of {} must be a tensor, but '{}' is {}", f,
                                        text(*a.value), describe(v)));
        return false;
      }))
    return Value::error();
  if (f == "linear")
    return vals[0];
  if (!isLossFunction(f)) {
    Value v = asTensor(vals[0], *e.args[0].value);
    if (v.kind == Value::Error)
      return v;
    return unaryOp(unaryFunctions().at(f), f, v, e, *e.args[0].value);
  }
  const Expr &ea = *e.args[0].value, &eb = *e.args[1].value;
  Value a = asTensor(vals[0], ea), b = asTensor(vals[1], eb);
  if (a.kind == Value::Error || b.kind == Value::Error)
    return Value::error();
  const Node &na = node(a), &nb = node(b);
  if (f == "cross_entropy") {
    if (na.dtype != DType::F32) {
      error(ea.loc, fmt::format("cross_entropy expects float logits as its first argument, but "
                                "'{}' is an int tensor",
                                text(ea)));
      return Value::error();
    }
    if (nb.dtype != DType::I32) {
      error(eb.loc, fmt::format("cross_entropy expects integer class labels as its second "
                                "argument, but '{}' is a float tensor; declare the target as "
                                "'target {}: int'",
                                text(eb), text(eb)));
      return Value::error();
    }
    if (na.shape.empty()) {
      error(ea.loc, fmt::format("cross_entropy expects logits with a class dimension, but '{}' "
                                "is a scalar",
                                text(ea)));
      return Value::error();
    }
    std::vector<int64_t> want(na.shape.begin(), na.shape.end() - 1);
    if (nb.shape != want || na.batched != nb.batched) {
      error(eb.loc, fmt::format("cross_entropy: the labels '{}' have shape {}{}, but logits of "
                                "shape {} need labels of shape {}{}",
                                text(eb), formatShape(nb.shape), nb.batched ? "" : " (unbatched)",
                                formatShape(na.shape), formatShape(want),
                                na.batched ? "" : " (unbatched)"));
      return Value::error();
    }
    return Value::tensor(
        addNode(OpKind::CrossEntropy, {a.node, b.node}, {}, DType::F32, false, e.loc));
  }
  // mse
  for (const auto &[n, sub] : {std::pair<const Node &, const Expr &>{na, ea}, {nb, eb}})
    if (n.dtype != DType::F32) {
      error(sub.loc,
            fmt::format("mse expects float tensors, but '{}' is an int tensor", text(sub)));
      return Value::error();
    }
  if (na.shape != nb.shape || na.batched != nb.batched) {
    error(e.loc,
          fmt::format("mse expects two tensors of the same shape, but '{}' is {} and '{}' is {}",
                      text(ea), formatShape(na.shape), text(eb), formatShape(nb.shape)));
    return Value::error();
  }
  return Value::tensor(addNode(OpKind::MSE, {a.node, b.node}, {}, DType::F32, false, e.loc));
}

std::string Checker::builtinExample(const std::string &f) {
  if (f == "concat")
    return "concat(a, b)";
  if (f == "slice")
    return "slice(x, 0, 4)";
  if (f == "embedding")
    return "embedding(table, ids)";
  if (f == "dropout")
    return "dropout(x, 0.2)";
  if (f == "cache")
    return "cache(k)";
  if (f == "permute")
    return "permute(x, 1, 0)";
  if (f == "reshape")
    return "reshape(x, T, H, D)";
  if (f == "dot")
    return "dot(a, b, 1, 1)";
  return f + "(x)";
}

// concat, slice, embedding and dropout.
Value Checker::callTensorBuiltin(const std::string &f, const Expr &e, Scope &scope) {
  if (f == "cache")
    return callCache(e, scope);
  // concat(a, b, axis = k): the one named argument of a built-in.
  std::optional<Value> concatAxis;
  const Arg *concatAxisArg = nullptr;
  for (const Arg &a : e.args)
    if (!a.name.empty()) {
      if (f != "concat" || a.name != "axis" || concatAxisArg) {
        error(a.nameLoc, f == "concat"
                             ? fmt::format("concat takes one named argument, 'axis', as in "
                                           "'concat(a, b, axis = 0)'")
                             : fmt::format("{} does not take named arguments", f));
        return Value::error();
      }
      concatAxisArg = &a;
    }
  if (concatAxisArg && concatAxisArg != &e.args.back()) {
    error(concatAxisArg->nameLoc, "the named argument 'axis' of concat must come last, as in "
                                  "'concat(a, b, axis = 0)'");
    return Value::error();
  }
  if (concatAxisArg) {
    Value v = eval(*concatAxisArg->value, scope);
    if (v.kind == Value::Error)
      return v;
    if (v.kind != Value::Int) {
      error(concatAxisArg->value->loc,
            fmt::format("the axis of concat must be an integer, but '{}' is {}",
                        text(*concatAxisArg->value), describe(v)));
      return Value::error();
    }
    concatAxis = v;
  }
  if (f == "transpose" || f == "permute" || f == "reshape" || f == "dot")
    return callShapeBuiltin(f, e, scope);
  size_t want = f == "slice" ? 3 : 2;
  if (f == "concat" ? e.args.size() - (concatAxisArg ? 1 : 0) < 2 : e.args.size() != want) {
    const Loc &l = f != "concat" && e.args.size() > want ? e.args[want].value->loc : e.loc;
    error(l, f == "concat"
                 ? fmt::format("concat expects at least 2 arguments, got {}", e.args.size())
                 : fmt::format("{} expects {} arguments, got {}, as in '{}'", f, want,
                               e.args.size(), builtinExample(f)));
    return Value::error();
  }
  std::vector<Value> vals;
  if (!evalArgs(e, scope, vals, concatAxisArg))
    return Value::error();
  if (f == "concat")
    return callConcat(f, e, vals, concatAxis, concatAxisArg);
  if (f == "slice")
    return callSlice(f, e, vals);
  if (f == "embedding")
    return callEmbedding(f, e, vals);
  return callDropout(f, e, vals);
}

// The i-th argument of built-in `f`, with its value vals[i], must be a tensor.
bool Checker::needTensor(const std::string &f, const Expr &e, const std::vector<Value> &vals,
                         size_t i, const char *what) {
  if (vals[i].kind == Value::Tensor)
    return true;
  error(e.args[i].value->loc, fmt::format("the {} of {} must be a tensor, but '{}' is {}", what, f,
                                          text(*e.args[i].value), describe(vals[i])));
  return false;
}

std::optional<int64_t> Checker::needInt(const std::string &f, const Expr &e,
                                        const std::vector<Value> &vals, size_t i, const char *what,
                                        int64_t min) {
  const Value &v = vals[i];
  if (v.kind != Value::Int || v.i < min) {
    error(e.args[i].value->loc,
          fmt::format("the {} of {} must be an integer >= {}, but '{}' is {}", what, f, min,
                      text(*e.args[i].value),
                      v.kind == Value::Int ? std::to_string(v.i) : describe(v)));
    return std::nullopt;
  }
  return v.i;
}

// concat(a, b, ..., axis = k); `concatAxisArg` is the axis argument, if given.
Value Checker::callConcat(const std::string &f, const Expr &e, const std::vector<Value> &vals,
                          const std::optional<Value> &concatAxis, const Arg *concatAxisArg) {
  const Node *first = nullptr;
  const Expr *firstExpr = nullptr;
  std::vector<int> operands;
  std::vector<int64_t> shape;
  bool batched = false;
  int64_t axis = -1; // per-example, non-negative once the first operand is seen
  for (size_t i = 0; i < vals.size(); ++i) {
    if (!needTensor(f, e, vals, i, "arguments"))
      return Value::error();
    const Node &n = node(vals[i]);
    const Expr &ex = *e.args[i].value;
    if (n.shape.empty()) {
      error(ex.loc,
            fmt::format("concat joins along the last dimension, but '{}' is a scalar", text(ex)));
      return Value::error();
    }
    if (!first) {
      first = &n;
      firstExpr = &ex;
      shape = n.shape;
      int64_t rank = int64_t(n.shape.size());
      axis = concatAxis ? concatAxis->i : -1;
      if (axis < -rank || axis >= rank) {
        error(concatAxisArg->value->loc,
              fmt::format("the axis of concat must be in [{}, {}) for '{}' of shape {}, got {}",
                          -rank, rank, text(ex), formatShape(n.shape), axis));
        return Value::error();
      }
      if (axis < 0)
        axis += rank;
    } else {
      bool same = n.shape.size() == shape.size();
      for (size_t d = 0; same && d < shape.size(); ++d)
        same = int64_t(d) == axis || n.shape[d] == shape[d];
      if (!same) {
        bool last = axis == int64_t(shape.size()) - 1;
        error(ex.loc,
              fmt::format("shape mismatch in concat: '{}' has shape {} but '{}' has "
                          "shape {}; concat joins along {}, so the "
                          "other dimensions must agree",
                          text(*firstExpr), formatShape(first->shape), text(ex),
                          formatShape(n.shape),
                          last ? std::string("the last dimension") : fmt::format("axis {}", axis)));
        return Value::error();
      }
      if (n.dtype != first->dtype) {
        error(ex.loc,
              fmt::format("concat needs arguments of one type, but '{}' is {} and "
                          "'{}' is {}",
                          text(*firstExpr), describe(vals[0]), text(ex), describe(vals[i])));
        return Value::error();
      }
      shape[size_t(axis)] += n.shape[size_t(axis)];
    }
    batched |= n.batched;
    operands.push_back(vals[i].node);
  }
  if (!checkSize(shape, e.loc, "concat(...)"))
    return Value::error();
  int r = addNode(OpKind::Concat, operands, shape, first->dtype, batched, e.loc);
  mutNode(r).concatAxis = axis;
  return Value::tensor(r);
}

// slice(x, begin, size) on the last dimension.
Value Checker::callSlice(const std::string &f, const Expr &e, const std::vector<Value> &vals) {
  if (!needTensor(f, e, vals, 0, "first argument"))
    return Value::error();
  const Node &n = node(vals[0]);
  const Expr &ex = *e.args[0].value;
  if (n.shape.empty()) {
    error(ex.loc, fmt::format("slice works on the last dimension, but '{}' is a scalar", text(ex)));
    return Value::error();
  }
  auto begin = needInt(f, e, vals, 1, "begin", 0);
  auto size = needInt(f, e, vals, 2, "size", 1);
  if (!begin || !size)
    return Value::error();
  if (*begin + *size > n.shape.back()) {
    error(e.loc, fmt::format("slice({}, {}, {}) is out of range: the last dimension of '{}' "
                             "has size {}",
                             text(ex), *begin, *size, text(ex), n.shape.back()));
    return Value::error();
  }
  std::vector<int64_t> shape = n.shape;
  shape.back() = *size;
  int r = addNode(OpKind::Slice, {vals[0].node}, shape, n.dtype, n.batched, e.loc);
  mutNode(r).begin = *begin;
  mutNode(r).size = *size;
  return Value::tensor(r);
}

// embedding(table, ids): a row of the table per token id.
Value Checker::callEmbedding(const std::string &f, const Expr &e, const std::vector<Value> &vals) {
  if (!needTensor(f, e, vals, 0, "table") || !needTensor(f, e, vals, 1, "ids"))
    return Value::error();
  const Node &t = node(vals[0]), &ids = node(vals[1]);
  const Expr &te = *e.args[0].value, &ie = *e.args[1].value;
  if (t.dtype != DType::F32 || t.shape.size() != 2 || t.batched) {
    error(te.loc, fmt::format("embedding expects a float table [V, E] that is the same for "
                              "every example (a parameter) as its first argument, but '{}' "
                              "is {}{}",
                              text(te), describe(vals[0]), t.batched ? " per example" : ""));
    return Value::error();
  }
  if (ids.dtype != DType::I32) {
    error(ie.loc, fmt::format("embedding expects integer token ids as its second argument, "
                              "but '{}' is {}; token ids come from an int input, as in "
                              "'input words: int[T]'",
                              text(ie), describe(vals[1])));
    return Value::error();
  }
  std::vector<int64_t> shape = ids.shape;
  shape.push_back(t.shape[1]);
  if (!checkSize(shape, e.loc, "embedding(...)"))
    return Value::error();
  return Value::tensor(addNode(OpKind::Embedding, {vals[0].node, vals[1].node}, shape, DType::F32,
                               ids.batched, e.loc));
}

// dropout(x, rate)
Value Checker::callDropout(const std::string &f, const Expr &e, const std::vector<Value> &vals) {
  if (!needTensor(f, e, vals, 0, "first argument"))
    return Value::error();
  const Node &n = node(vals[0]);
  const Expr &ex = *e.args[0].value, &re = *e.args[1].value;
  if (n.dtype != DType::F32) {
    error(ex.loc, fmt::format("dropout needs a float tensor, but '{}' is an int tensor", text(ex)));
    return Value::error();
  }
  if (!vals[1].isNumber() || vals[1].f < 0 || vals[1].f >= 1) {
    error(re.loc, vals[1].isNumber()
                      ? fmt::format("the rate of dropout must be in [0, 1), got {}", vals[1].f)
                      : fmt::format("the rate of dropout must be a number in [0, 1), but '{}' "
                                    "is {}",
                                    text(re), describe(vals[1])));
    return Value::error();
  }
  int r = addNode(OpKind::Dropout, {vals[0].node}, n.shape, DType::F32, n.batched, e.loc);
  mutNode(r).value = vals[1].f;
  mutNode(r).seedStream = dropouts_++;
  return Value::tensor(r);
}

// cache(x): x[T, ...] itself, except in the step of a cached model, where
// x is one position [1, ...] and the result is every position so far
// [context, ...]: a step state that x is written into at the current
// position (a key/value cache of attention).
Value Checker::callCache(const Expr &e, Scope &scope) {
  if (e.args.size() != 1 || !e.args[0].name.empty()) {
    error(e.args.size() == 1 ? e.args[0].nameLoc : e.loc,
          fmt::format("cache expects one tensor argument, as in 'cache(k)', got {}",
                      e.args.size() == 1 ? "a named argument" : std::to_string(e.args.size())));
    return Value::error();
  }
  const Expr &ex = *e.args[0].value;
  Value v = eval(ex, scope);
  if (v.kind == Value::Error)
    return v;
  if (v.kind != Value::Tensor || node(v).dtype != DType::F32 || !node(v).batched ||
      node(v).shape.empty()) {
    error(ex.loc, fmt::format("cache keeps a float sequence [T, ...] of each example, with "
                              "the time first, but '{}' is {}{}",
                              text(ex), describe(v),
                              v.kind == Value::Tensor && !node(v).batched
                                  ? " that is the same for every example"
                                  : ""));
    return Value::error();
  }
  if (nodes_ != &g_.nodes) {
    error(e.loc, "cache cannot be used in a recurrent cell's step: a cell carries its own state");
    return Value::error();
  }
  g_.usesCache = true;
  if (!opts_.cacheStep)
    return v;
  const Node &n = node(v);
  if (n.shape[0] != 1 || g_.context <= 0) {
    error(ex.loc, fmt::format("cache: in the one-position step, '{}' has {} positions; its "
                              "first dimension must be the input's time",
                              text(ex), n.shape[0]));
    return Value::error();
  }
  std::vector<int64_t> shape = n.shape;
  shape[0] = g_.context;
  int pos = positionNode(e.loc);
  std::string name = fmt::format("{}cache_{}", scope.prefix, ++scope.counters["cache"]);
  int st = addStepState(name, shape, e.loc);
  int w = addNode(OpKind::CacheWrite, {st, v.node, pos}, shape, DType::F32, true, e.loc);
  g_.stepStates[size_t(node(Value::tensor(st)).ioIndex)].update = w;
  return Value::tensor(w);
}

int Checker::addStepState(const std::string &name, const std::vector<int64_t> &shape,
                          const Loc &loc) {
  int n = addNode(OpKind::StepState, {}, shape, DType::F32, true, loc);
  mutNode(n).ioIndex = int(g_.stepStates.size());
  g_.stepStates.push_back(Graph::StepState{name, shape, n, -1});
  return n;
}

// The step's position (float [1] per example: how many positions came
// before), made on first use; the step adds 1 to it.
int Checker::positionNode(const Loc &loc) {
  if (positionNode_ >= 0)
    return positionNode_;
  positionNode_ = addStepState("position", {1}, loc);
  int one = addNode(OpKind::Constant, {}, {}, DType::F32, false, loc);
  mutNode(one).value = 1;
  int next = addNode(OpKind::Add, {positionNode_, one}, {1}, DType::F32, true, loc);
  g_.stepStates[size_t(node(Value::tensor(positionNode_)).ioIndex)].update = next;
  return positionNode_;
}

} // namespace nnc::dsl::detail
