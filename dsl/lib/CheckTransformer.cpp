// CheckTransformer.cpp: the transformer primitives (issue 4): layer_norm,
// softmax with an axis, masks, positions, and the attention shape
// primitives transpose, permute, reshape and dot.
#include "Checker.h"

#include <fmt/format.h>

#include <algorithm>

namespace nnc::dsl::detail {

namespace {

// The parameters of a transformer primitive, the first `required` of them
// needed, and a call to quote in messages.
struct BuiltinSignature {
  std::vector<std::string> params;
  size_t required = 1;
  std::string example;
};

BuiltinSignature transformerSignature(const std::string &f) {
  BuiltinSignature sig;
  std::vector<std::string> &params = sig.params;
  size_t &required = sig.required;
  std::string &example = sig.example;
  if (f == "layer_norm") {
    params = {"x", "eps"};
    example = "layer_norm(x, 1e-5)";
  } else if (f == "softmax" || f == "log_softmax") {
    params = {"x", "axis"};
    example = f + "(x, axis = -1)";
  } else if (f == "causal_mask") {
    params = {"s"};
    example = "causal_mask(q @ k)";
  } else if (f == "mask") {
    params = {"s", "keep"};
    required = 2;
    example = "mask(s, not_padding(ids))";
  } else if (f == "not_padding") {
    params = {"ids"};
    example = "not_padding(ids)";
  } else {
    params = {"T"};
    example = "positions(T)";
  }
  return sig;
}

} // namespace

// Binds the arguments of built-in `f` (by position, then by name) to its
// parameters `params`, of which the first `required` must be given.
// Returns one expression per parameter (null when not given), or nullopt
// after an error.
std::optional<std::vector<const Expr *>>
Checker::bindBuiltinArgs(const std::string &f, const Expr &e,
                         const std::vector<std::string> &params, size_t required,
                         const std::string &example) {
  std::vector<const Expr *> bound(params.size(), nullptr);
  bool named = false;
  for (size_t i = 0; i < e.args.size(); ++i) {
    const Arg &a = e.args[i];
    if (a.name.empty()) {
      if (named) {
        error(a.value->loc, fmt::format("a positional argument of {} follows a named one", f));
        return std::nullopt;
      }
      if (i >= params.size()) {
        error(a.value->loc, fmt::format("{} expects {} argument{}, got {}, as in '{}'", f,
                                        required == params.size()
                                            ? std::to_string(required)
                                            : fmt::format("{} to {}", required, params.size()),
                                        params.size() == 1 ? "" : "s", e.args.size(), example));
        return std::nullopt;
      }
      bound[i] = a.value.get();
      continue;
    }
    named = true;
    auto it = std::find(params.begin(), params.end(), a.name);
    if (it == params.end()) {
      std::string list;
      for (const std::string &p : params)
        list += (list.empty() ? "" : ", ") + p;
      error(a.nameLoc, fmt::format("{} has no parameter named '{}'; its parameters are {}{}", f,
                                   a.name, list, suggest(a.name, params)));
      return std::nullopt;
    }
    size_t k = size_t(it - params.begin());
    if (bound[k]) {
      error(a.nameLoc, fmt::format("argument '{}' of {} is given twice", a.name, f));
      return std::nullopt;
    }
    bound[k] = a.value.get();
  }
  for (size_t k = 0; k < required; ++k)
    if (!bound[k]) {
      error(e.loc, fmt::format("missing argument '{}' of {}, as in '{}'", params[k], f, example));
      return std::nullopt;
    }
  return bound;
}

// layer_norm(x, eps), softmax/log_softmax(x, axis), causal_mask(s),
// mask(s, keep), not_padding(ids), positions(T).
Value Checker::callTransformerBuiltin(const std::string &f, const Expr &e, Scope &scope) {
  BuiltinSignature sig = transformerSignature(f);
  auto bound = bindBuiltinArgs(f, e, sig.params, sig.required, sig.example);
  if (!bound)
    return Value::error();
  std::vector<Value> vals;
  for (const Expr *a : *bound) {
    if (!a) {
      vals.push_back(Value::error());
      continue;
    }
    Value v = eval(*a, scope);
    if (v.kind == Value::Error)
      return v;
    vals.push_back(v);
  }
  const std::vector<const Expr *> &args = *bound;
  // The first argument of all but positions is a tensor (a number becomes
  // a scalar constant).
  auto tensorArg = [&](size_t i, DType want, const char *what) -> const Node * {
    Value v = vals[i].isNumber() && want == DType::F32 ? asTensor(vals[i], *args[i]) : vals[i];
    if (v.kind != Value::Tensor) {
      error(args[i]->loc, fmt::format("the {} of {} must be a{} tensor, but '{}' is {}", what, f,
                                      want == DType::F32 ? " float" : "n int", text(*args[i]),
                                      describe(vals[i])));
      return nullptr;
    }
    vals[i] = v;
    const Node &n = node(v);
    if (n.dtype != want) {
      error(
          args[i]->loc,
          want == DType::F32
              ? fmt::format("{} needs a float tensor, but '{}' is an int tensor", f, text(*args[i]))
              : fmt::format("{} needs an int tensor (token ids), but '{}' is a float tensor", f,
                            text(*args[i])));
      return nullptr;
    }
    return &n;
  };
  if (f == "positions")
    return callPositions(e, args, vals);
  if (f == "not_padding") {
    const Node *n = tensorArg(0, DType::I32, "argument");
    if (!n)
      return Value::error();
    return Value::tensor(
        addNode(OpKind::NotPadding, {vals[0].node}, n->shape, DType::F32, n->batched, e.loc));
  }
  const Node *x = tensorArg(0, DType::F32, "first argument");
  if (!x)
    return Value::error();
  const Expr &ex = *args[0];
  if (f == "layer_norm") {
    if (x->shape.empty()) {
      error(ex.loc, fmt::format("layer_norm normalizes over the last dimension, but '{}' is a "
                                "scalar",
                                text(ex)));
      return Value::error();
    }
    double eps = 1e-5; // PyTorch's default
    if (args[1]) {
      const Value &v = vals[1];
      if (!v.isNumber() || !(v.f > 0)) {
        error(args[1]->loc, fmt::format("the eps of layer_norm must be a number > 0, but '{}' "
                                        "is {}",
                                        text(*args[1]), describe(v)));
        return Value::error();
      }
      eps = v.f;
    }
    int r = addNode(OpKind::LayerNorm, {vals[0].node}, x->shape, DType::F32, x->batched, e.loc);
    mutNode(r).value = eps;
    return Value::tensor(r);
  }
  if (f == "softmax" || f == "log_softmax") {
    if (x->shape.empty()) {
      error(ex.loc, fmt::format("{} works over an axis, but '{}' is a scalar", f, text(ex)));
      return Value::error();
    }
    int64_t rank = int64_t(x->shape.size()), axis = -1;
    if (args[1]) {
      const Value &v = vals[1];
      if (v.kind != Value::Int || v.i < -rank || v.i >= rank) {
        error(args[1]->loc,
              fmt::format("the axis of {} must be an integer in [{}, {}] (an axis of '{}', "
                          "shape {} per example), but '{}' is {}",
                          f, -rank, rank - 1, text(ex), formatShape(x->shape), text(*args[1]),
                          v.kind == Value::Int ? std::to_string(v.i) : describe(v)));
        return Value::error();
      }
      axis = v.i < 0 ? v.i : v.i - rank;
    }
    int r = addNode(f == "softmax" ? OpKind::Softmax : OpKind::LogSoftmax, {vals[0].node}, x->shape,
                    DType::F32, x->batched, e.loc);
    mutNode(r).axis = int(axis);
    return Value::tensor(r);
  }
  if (f == "causal_mask") {
    if (x->shape.size() < 2) {
      error(ex.loc, fmt::format("causal_mask needs scores [..., T, T'] with at least 2 "
                                "dimensions per example, but '{}' has shape {}",
                                text(ex), formatShape(x->shape)));
      return Value::error();
    }
    // The step of a cached model has one query, at the step's position.
    std::vector<int> operands{vals[0].node};
    if (opts_.cacheStep)
      operands.push_back(positionNode(e.loc));
    return Value::tensor(
        addNode(OpKind::CausalMask, operands, x->shape, DType::F32, x->batched, e.loc));
  }
  // mask(s, keep)
  const Node *keep = tensorArg(1, DType::F32, "keep argument");
  if (!keep)
    return Value::error();
  const Expr &ke = *args[1];
  if (!broadcastsTo(keep->shape, x->shape)) {
    error(ke.loc, fmt::format("mask: the keep tensor '{}' of shape {} does not broadcast to the "
                              "shape {} of '{}' (numpy rules, per example)",
                              text(ke), formatShape(keep->shape), formatShape(x->shape), text(ex)));
    return Value::error();
  }
  return Value::tensor(addNode(OpKind::Mask, {vals[0].node, vals[1].node}, x->shape, DType::F32,
                               x->batched || keep->batched, e.loc));
}

// transpose, permute, reshape and dot (attention shape primitives, issue 4).
// Axes are per example and 0-based, as for slice.

// positions(T), or positions(x) of a sequence x.
Value Checker::callPositions(const Expr &e, const std::vector<const Expr *> &args,
                             const std::vector<Value> &vals) {
  Value t = vals[0];
  // positions(x): the positions of a sequence x[T, ...] (its first
  // dimension), which is what the step of a cached model needs.
  if (t.kind == Value::Tensor && node(t).batched && !node(t).shape.empty())
    t = Value::integer(node(t).shape[0]);
  if (opts_.cacheStep && t.kind == Value::Int && t.i >= 1) {
    // One position: the step's.
    int pos = positionNode(e.loc);
    int r = addNode(OpKind::Positions, {pos}, {1}, DType::I32, false, e.loc);
    mutNode(r).size = 1;
    return Value::tensor(r);
  }
  if (t.kind != Value::Int || t.i < 1) {
    error(args[0]->loc,
          fmt::format("positions expects a length (an integer >= 1) or a "
                      "sequence x[T, ...] of each example, but '{}' is {}",
                      text(*args[0]), t.kind == Value::Int ? std::to_string(t.i) : describe(t)));
    return Value::error();
  }
  if (!checkSize({t.i}, e.loc, "positions(...)"))
    return Value::error();
  int r = addNode(OpKind::Positions, {}, {t.i}, DType::I32, false, e.loc);
  mutNode(r).size = t.i;
  return Value::tensor(r);
}

Value Checker::callShapeBuiltin(const std::string &f, const Expr &e, Scope &scope) {
  size_t nTensors = f == "dot" ? 2 : 1;
  bool exact = f == "transpose" || f == "dot";
  size_t want = f == "transpose" ? 1 : f == "dot" ? 4 : 2;
  if (exact ? e.args.size() != want : e.args.size() < want) {
    const Loc &l = exact && e.args.size() > want ? e.args[want].value->loc : e.loc;
    error(l, fmt::format("{} expects {}{} arguments, got {}, as in '{}'", f,
                         exact ? "" : "at least ", want, e.args.size(), builtinExample(f)));
    return Value::error();
  }
  std::vector<Value> vals;
  if (!evalArgs(e, scope, vals))
    return Value::error();
  for (size_t i = 0; i < nTensors; ++i) {
    const Expr &ex = *e.args[i].value;
    if (vals[i].kind != Value::Tensor || node(vals[i]).dtype != DType::F32) {
      error(ex.loc,
            fmt::format("{} needs a float tensor, but '{}' is {}", f, text(ex),
                        vals[i].kind == Value::Tensor ? "an int tensor" : describe(vals[i])));
      return Value::error();
    }
  }
  std::vector<int64_t> ints;
  for (size_t i = nTensors; i < vals.size(); ++i) {
    if (vals[i].kind != Value::Int) {
      error(e.args[i].value->loc,
            fmt::format("the arguments of {} after the tensor{} must be "
                        "integers, but '{}' is {}",
                        f, nTensors > 1 ? "s" : "", text(*e.args[i].value), describe(vals[i])));
      return Value::error();
    }
    ints.push_back(vals[i].i);
  }
  const Node &x = node(vals[0]);
  const Expr &ex = *e.args[0].value;
  int64_t rank = int64_t(x.shape.size());
  if (f == "transpose" || f == "permute") {
    std::vector<int64_t> perm;
    if (f == "transpose") {
      if (rank < 2) {
        error(ex.loc, fmt::format("transpose swaps the last two dimensions, but '{}' has shape {}",
                                  text(ex), formatShape(x.shape)));
        return Value::error();
      }
      for (int64_t i = 0; i < rank; ++i)
        perm.push_back(i);
      std::swap(perm[size_t(rank - 2)], perm[size_t(rank - 1)]);
    } else {
      if (int64_t(ints.size()) != rank) {
        error(e.loc,
              fmt::format("permute of '{}' (shape {}) needs {} axes, a permutation of 0..{}, "
                          "got {}",
                          text(ex), formatShape(x.shape), rank, rank - 1, ints.size()));
        return Value::error();
      }
      std::vector<bool> seen(size_t(rank), false);
      for (size_t i = 0; i < ints.size(); ++i) {
        int64_t p = ints[i];
        if (p < 0 || p >= rank || seen[size_t(p)]) {
          error(e.args[i + 1].value->loc,
                fmt::format("permute of '{}' (shape {}) needs a permutation of the axes 0..{}, "
                            "but axis {} is {}",
                            text(ex), formatShape(x.shape), rank - 1, p,
                            p < 0 || p >= rank ? "out of range" : "listed twice"));
          return Value::error();
        }
        seen[size_t(p)] = true;
        perm.push_back(p);
      }
    }
    std::vector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(x.shape[size_t(p)]);
    int r = addNode(OpKind::Transpose, {vals[0].node}, shape, DType::F32, x.batched, e.loc);
    mutNode(r).perm = perm;
    return Value::tensor(r);
  }
  if (f == "reshape")
    return callReshape(e, vals, ints);
  // dot(a, b, i, j): contracts per-example axis i of a[., .] with axis j of
  // b[., .] (Keras's dot(axes=(i + 1, j + 1)) on the batched tensors).
  const Node &y = node(vals[1]);
  const Expr &ey = *e.args[1].value;
  for (const auto &[n, sub] : {std::pair<const Node &, const Expr &>{x, ex}, {y, ey}})
    if (n.shape.size() != 2) {
      error(sub.loc, fmt::format("dot needs per-example 2-D operands such as [S, E], but '{}' "
                                 "has shape {}",
                                 text(sub), formatShape(n.shape)));
      return Value::error();
    }
  for (size_t i = 0; i < 2; ++i)
    if (ints[i] < 0 || ints[i] > 1) {
      error(e.args[i + 2].value->loc,
            fmt::format("the axes of dot are 0 or 1 (per example, 0-based), got {}", ints[i]));
      return Value::error();
    }
  int64_t ia = ints[0], ib = ints[1];
  if (x.shape[size_t(ia)] != y.shape[size_t(ib)]) {
    error(e.loc, fmt::format("shape mismatch in '{}': axis {} of '{}' (shape {}) has size {} but "
                             "axis {} of '{}' (shape {}) has size {}",
                             text(e), ia, text(ex), formatShape(x.shape), x.shape[size_t(ia)], ib,
                             text(ey), formatShape(y.shape), y.shape[size_t(ib)]));
    return Value::error();
  }
  std::vector<int64_t> shape{x.shape[size_t(1 - ia)], y.shape[size_t(1 - ib)]};
  // As a product a' @ b' with a' [M, K] and b' [K, N]: a is read
  // transposed when it contracts its first axis, b when its second.
  int r = addNode(OpKind::BatchMatMul, {vals[0].node, vals[1].node}, shape, DType::F32,
                  x.batched || y.batched, e.loc);
  mutNode(r).transposeA = ia == 0;
  mutNode(r).transposeB = ib == 1;
  return Value::tensor(r);
}

// reshape(x, d1, ..., dn), with at most one di = -1 (inferred).
Value Checker::callReshape(const Expr &e, const std::vector<Value> &vals,
                           const std::vector<int64_t> &ints) {
  const Node &x = node(vals[0]);
  const Expr &ex = *e.args[0].value;
  int64_t total = 1, known = 1;
  for (int64_t d : x.shape)
    total *= d;
  int unknown = -1;
  for (size_t i = 0; i < ints.size(); ++i) {
    const Loc &l = e.args[i + 1].value->loc;
    if (ints[i] == -1 && unknown < 0) {
      unknown = int(i);
      continue;
    }
    if (ints[i] <= 0) {
      error(l, fmt::format("the dimensions of reshape must be positive, or one of them -1 "
                           "(inferred), got {}",
                           ints[i]));
      return Value::error();
    }
    if (ints[i] >= kMaxDim || known > kMaxDim * kMaxDim / ints[i]) {
      error(l, fmt::format("reshape dimension {} is too large", ints[i]));
      return Value::error();
    }
    known *= ints[i];
  }
  std::vector<int64_t> shape = ints;
  if (unknown >= 0) {
    if (total % known != 0) {
      error(e.loc, fmt::format("reshape of '{}' (shape {}, {} elements): {} elements are not a "
                               "multiple of the {} the other dimensions hold",
                               text(ex), formatShape(x.shape), total, total, known));
      return Value::error();
    }
    shape[size_t(unknown)] = total / known;
  } else if (known != total) {
    error(e.loc, fmt::format("reshape of '{}' (shape {}, {} elements) to {} ({} elements): the "
                             "number of elements must stay the same",
                             text(ex), formatShape(x.shape), total, formatShape(shape), known));
    return Value::error();
  }
  if (!checkSize(shape, e.loc, text(e)))
    return Value::error();
  return Value::tensor(
      addNode(OpKind::Reshape, {vals[0].node}, shape, DType::F32, x.batched, e.loc));
}

} // namespace nnc::dsl::detail
