// CheckLayers.cpp: applying layers and cells (a step built as the body of a
// Scan).
#include "Checker.h"

#include <fmt/format.h>

#include <cctype>

namespace nnc::dsl::detail {

// An outer tensor used in a scan body: a ScanCapture node (one per value).
Value Checker::capture(const Value &v) {
  if (!scan_)
    return Value::tensor(v.node);
  auto it = scan_->captureOf.find(v.node);
  if (it != scan_->captureOf.end())
    return Value::tensor(it->second);
  const Node &outer = g_.nodes[size_t(v.node)];
  std::vector<int64_t> shape = outer.shape;
  DType dt = outer.dtype;
  bool batched = outer.batched;
  Loc loc = outer.loc;
  int n = addNode(OpKind::ScanCapture, {}, shape, dt, batched, loc);
  mutNode(n).ioIndex = int(scan_->scan.captures.size());
  scan_->scan.captures.push_back(v.node);
  scan_->captureOf[v.node] = n;
  return Value::tensor(n);
}

// state h[H] = 0 in cell instance `scope`.
void Checker::createState(const Stmt &s, Scope &scope) {
  std::string full = scope.prefix + s.name;
  bool ok;
  std::vector<int64_t> shape = declShape(s, scope, full, ok);
  double init = 0;
  if (s.value) {
    Value v = eval(*s.value, scope);
    if (v.kind == Value::Error) {
      ok = false;
    } else if (!v.isNumber()) {
      error(s.value->loc, fmt::format("the initial value of state '{}' must be a number, as in "
                                      "'state {}[...] = 0', but '{}' is {}",
                                      s.name, s.name, text(*s.value), describe(v)));
      ok = false;
    } else {
      init = v.f;
    }
  }
  if (scope.env.count(s.name)) {
    error(s.nameLoc, fmt::format("'{}' is already defined", s.name));
    return;
  }
  if (!ok) {
    scope.env[s.name] = Value::error();
    return;
  }
  Scan::State st;
  st.name = full;
  st.shape = shape;
  st.init = init;
  int n = addNode(OpKind::ScanState, {}, shape, DType::F32, true, s.nameLoc);
  mutNode(n).ioIndex = int(scan_->scan.states.size());
  mutNode(n).name = full;
  scan_->scan.states.push_back(st);
  scope.env[s.name] = Value::tensor(n);
}

// The last `name = ...` of a step body (null if none).
const Stmt *Checker::lastAssign(const LayerDecl &cell, const std::string &name) {
  const Stmt *found = nullptr;
  for (const Stmt &s : cell.body)
    if (s.kind == StmtKind::Assign && s.name == name)
      found = &s;
  return found;
}

namespace {

// `x[B, T]`, as the signature reads: for messages.
std::string sigText(const SigArg &sa) {
  std::string sig;
  for (size_t d = 0; d < sa.dims.size(); ++d)
    sig += (d ? ", " : "") + exprToString(*sa.dims[d]);
  return fmt::format("{}[{}]", sa.name, sig);
}

} // namespace

// Layer(ctorArgs)(inputs): instantiate and apply. A cell:
// Cell(ctorArgs).sequence(inputs) / .last(inputs): instantiate, build its
// step as the body of a Scan, and apply it to the sequences.
Value Checker::applyLayer(const LayerDecl &layer, const Expr &ctor, const Expr &app, Scope &scope,
                          const std::string &nameHint, Apply mode) {
  const std::string &kind = layer.name;
  bool cell = mode != Apply::Layer;
  if (layer.hadErrors)
    return Value::error(); // its syntax errors were reported already
  if (g_.nodes.size() + (scan_ ? nodes_->size() : 0) > kMaxNodes) {
    if (!reportedTooLarge_)
      error(ctor.loc, fmt::format("the expanded model has more than {} nodes; this {} call is "
                                  "not expanded",
                                  kMaxNodes, kindWord(&layer)));
    reportedTooLarge_ = true;
    return Value::error();
  }
  if (int(frames_.size()) >= kMaxLayerDepth) {
    error(ctor.loc, fmt::format("layers are nested more than {} deep; is {} '{}' recursive?",
                                kMaxLayerDepth, kindWord(&layer), kind));
    return Value::error();
  }
  if (cell && scan_) {
    error(ctor.loc,
          fmt::format("cell '{}' cannot be applied inside the step of another cell", kind));
    return Value::error();
  }
  Scope inst;
  // ---- constructor arguments
  std::vector<bool> given(layer.params.size(), false);
  std::vector<Value> values(layer.params.size());
  if (!layerArgs(layer, ctor, scope, cell, given, values))
    return Value::error();
  bool ok = true;
  // ---- instance name (chosen before the inputs are evaluated, as Keras does)
  std::optional<std::string> instName = instanceName(layer, ctor, scope, nameHint);
  if (!instName)
    return Value::error();
  const std::string &name = *instName;
  scope.instances.insert(name);
  inst.prefix = scope.prefix + name + ".";
  // ---- inputs (evaluated in the caller's scope)
  std::vector<Value> inputs;
  std::vector<std::vector<int64_t>> shapes;
  int64_t length = 0;
  if (!layerInputs(layer, app, scope, mode, inputs, shapes, length))
    return Value::error();
  // ---- enter the layer (a cell: start building the scan body)
  frames_.push_back(Frame{&layer, scope.prefix + name, ctor.loc});
  std::optional<Loc> savedOverride = override_;
  if (!override_ && layer.file != prog_.mainFile)
    override_ = ctor.loc;
  ScanBuild sb;
  if (cell) {
    sb.scan.name = scope.prefix + name;
    sb.scan.kind = kind;
    sb.scan.length = length;
    sb.scan.returnSequence = mode == Apply::Sequence;
    for (const Value &v : inputs)
      sb.scan.sequences.push_back(v.node);
    scan_ = &sb;
    nodes_ = &sb.scan.body;
  }
  auto leave = [&] {
    frames_.pop_back();
    override_ = savedOverride;
    if (cell) {
      scan_ = nullptr;
      nodes_ = &g_.nodes;
    }
  };
  // defaults are evaluated in the layer (they may use earlier parameters)
  for (size_t i = 0; i < layer.params.size(); ++i) {
    const ParamDecl &p = layer.params[i];
    if (!given[i]) {
      values[i] = eval(*p.defaultValue, inst);
      if (values[i].kind == Value::Tensor) {
        error(p.defaultValue->loc,
              fmt::format("a {} parameter's default must be a number or a function",
                          kindWord(&layer)));
        values[i] = Value::error();
      }
      if (values[i].kind == Value::Error)
        ok = false;
    }
    inst.env[p.name] = values[i];
  }
  // ---- bind the call signature
  std::string mismatch;
  Loc mismatchLoc;
  if (ok)
    ok = bindSignature(layer, app, cell, inputs, shapes, inst, mismatch, mismatchLoc);
  if (!ok || !mismatch.empty()) {
    leave();
    if (!mismatch.empty())
      error(mismatchLoc, mismatch);
    return Value::error();
  }
  size_t paramsBefore = g_.params.size();
  // ---- states, parameters and body
  int errorsBefore = diag_.errorCount();
  for (const Stmt &s : layer.stateStmts)
    createState(s, inst);
  for (const Stmt &s : layer.paramStmts)
    createParam(s, inst);
  for (const Stmt &s : layer.body)
    exec(s, inst);
  Value result = layerResult(layer, inst, cell, errorsBefore);
  if (!cell) {
    leave();
  } else {
    // ---- the states after one step
    Scan &scan = sb.scan;
    checkStateUpdates(layer, inst, scan, errorsBefore, result);
    if (result.kind == Value::Tensor)
      scan.output = result.node;
    std::vector<int64_t> outShape;
    DType outType = DType::F32;
    if (result.kind == Value::Tensor) {
      outShape = node(result).shape;
      outType = node(result).dtype;
    }
    leave();
    if (result.kind == Value::Tensor) {
      std::vector<int> operands = scan.sequences;
      operands.insert(operands.end(), scan.captures.begin(), scan.captures.end());
      std::vector<int64_t> shape;
      if (mode == Apply::Sequence)
        shape.push_back(length);
      shape.insert(shape.end(), outShape.begin(), outShape.end());
      if (!checkSize(shape, app.loc, scope.prefix + name))
        return Value::error();
      int n = addNode(OpKind::Scan, operands, shape, outType, true, app.loc);
      mutNode(n).scanIndex = int(g_.scans.size());
      g_.scans.push_back(std::move(sb.scan));
      result = Value::tensor(n);
    }
  }
  if (result.kind == Value::Tensor && frames_.empty()) {
    Graph::LayerRow row;
    row.name = name;
    row.kind = kind;
    row.outputShape = node(result).shape;
    for (size_t i = paramsBefore; i < g_.params.size(); ++i)
      row.numParams += numElements(g_.params[i].shape);
    g_.layers.push_back(row);
  }
  return result;
}

// The constructor arguments of a layer or cell, by position then by label,
// evaluated in the caller's scope; false after an error.
bool Checker::layerArgs(const LayerDecl &layer, const Expr &ctor, Scope &scope, bool cell,
                        std::vector<bool> &given, std::vector<Value> &values) {
  const std::string &kind = layer.name;
  bool ok = true;
  size_t npos = 0;
  for (const Arg &a : ctor.args)
    if (a.name.empty())
      ++npos;
  if (npos > layer.params.size()) {
    size_t idx = 0, seen = 0;
    for (; idx < ctor.args.size(); ++idx)
      if (ctor.args[idx].name.empty() && seen++ == layer.params.size())
        break;
    error(ctor.args[idx].value->loc,
          fmt::format("{} expects at most {} argument{}, got {}", kind, layer.params.size(),
                      layer.params.size() == 1 ? "" : "s", npos));
    return false;
  }
  size_t pi = 0;
  for (const Arg &a : ctor.args) {
    size_t idx;
    if (a.name.empty()) {
      idx = pi++;
    } else {
      idx = layer.params.size();
      for (size_t i = 0; i < layer.params.size(); ++i)
        if (layer.params[i].label == a.name)
          idx = i;
      if (idx == layer.params.size()) {
        std::vector<std::string> labels;
        std::string list;
        for (const ParamDecl &p : layer.params) {
          labels.push_back(p.label);
          list += (list.empty() ? "" : ", ") + p.label;
        }
        error(a.nameLoc,
              fmt::format("{} has no parameter named '{}'{}{}", kind, a.name,
                          list.empty() ? "" : fmt::format("; its parameters are {}", list),
                          suggest(a.name, labels)));
        ok = false;
        continue;
      }
      if (given[idx]) {
        error(a.nameLoc, fmt::format("argument '{}' of {} is given twice", a.name, kind));
        ok = false;
        continue;
      }
    }
    given[idx] = true;
    Value v = eval(*a.value, scope);
    if (v.kind == Value::Error) {
      ok = false;
      continue;
    }
    if (v.kind == Value::Tensor && cell) {
      // a tensor argument of a cell: the same value at every step (a capture)
      v.outer = true;
    } else if (v.kind == Value::Tensor) {
      error(a.value->loc, fmt::format("argument '{}' of {} must be a number or a function, but "
                                      "'{}' is {}; the input goes in the second parentheses, as "
                                      "in '{}(...)({})'",
                                      layer.params[idx].label, kind, text(*a.value), describe(v),
                                      kind, text(*a.value)));
      ok = false;
      continue;
    }
    values[idx] = v;
  }
  if (!ok)
    return false;
  for (size_t i = 0; i < layer.params.size(); ++i)
    if (!given[i] && !layer.params[i].defaultValue) {
      error(ctor.loc, fmt::format("missing argument '{}' of {}", layer.params[i].label, kind));
      ok = false;
    }
  return ok;
}

// The instance name: the assigned name, or the kind's next free `kind_<n>`;
// nullopt after an error.
std::optional<std::string> Checker::instanceName(const LayerDecl &layer, const Expr &ctor,
                                                 Scope &scope, const std::string &nameHint) {
  const std::string &kind = layer.name;
  std::string name = nameHint;
  if (name.empty()) {
    std::string base;
    for (char c : kind)
      base += char(std::tolower(static_cast<unsigned char>(c)));
    do
      name = fmt::format("{}_{}", base, ++scope.counters[kind]);
    while (scope.instances.count(name));
  } else if (scope.instances.count(name)) {
    error(ctor.loc, fmt::format("{} instance name '{}' is already used; every {} "
                                "instance needs its own name (its parameters are '{}{}.*')",
                                kindWord(&layer), name, kindWord(&layer), scope.prefix, name));
    return std::nullopt;
  }
  return name;
}

// The inputs (evaluated in the caller's scope), and the shapes the
// signature sees; for a cell, `length` is the sequences' length. False
// after an error.
bool Checker::layerInputs(const LayerDecl &layer, const Expr &app, Scope &scope, Apply mode,
                          std::vector<Value> &inputs, std::vector<std::vector<int64_t>> &shapes,
                          int64_t &length) {
  const std::string &kind = layer.name;
  bool cell = mode != Apply::Layer;
  const char *method = mode == Apply::Sequence ? "sequence" : "last";
  for (const Arg &a : app.args) {
    if (!a.name.empty()) {
      error(a.nameLoc, cell ? fmt::format("the input of cell {} is passed by position, as in "
                                          "'{}(...).{}(x)'",
                                          kind, kind, method)
                            : fmt::format("the input of layer {} is passed by position, as in "
                                          "'{}(...)(x)'",
                                          kind, kind));
      return false;
    }
    Value v = eval(*a.value, scope);
    if (v.kind == Value::Error)
      return false;
    if (v.kind != Value::Tensor) {
      error(a.value->loc, fmt::format("the input of {} must be a tensor, but '{}' is {}", kind,
                                      text(*a.value), describe(v)));
      return false;
    }
    inputs.push_back(v);
  }
  if (inputs.size() != layer.callArgs.size()) {
    const Loc &l = inputs.size() > layer.callArgs.size()
                       ? app.args[layer.callArgs.size()].value->loc
                       : app.loc;
    error(l, fmt::format("{} takes {} input{}, got {}", kind, layer.callArgs.size(),
                         layer.callArgs.size() == 1 ? "" : "s", inputs.size()));
    return false;
  }
  // The shapes the signature sees: a layer's inputs, or one step of a
  // cell's sequences (the first per-example dimension is time).
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Node &n = node(inputs[i]);
    const Expr &argExpr = *app.args[i].value;
    if (!cell) {
      shapes.push_back(n.shape);
      continue;
    }
    if (!n.batched) {
      error(argExpr.loc, fmt::format("{}(...).{} runs over a sequence of each example, but '{}' "
                                     "is the same for every example (it is not computed from an "
                                     "input)",
                                     kind, method, text(argExpr)));
      return false;
    }
    if (n.shape.empty()) {
      error(argExpr.loc, fmt::format("{}(...).{} runs over the first dimension (time) of its "
                                     "input, but '{}' is a scalar per example: it has no time "
                                     "dimension",
                                     kind, method, text(argExpr)));
      return false;
    }
    if (i > 0 && n.shape[0] != length) {
      error(argExpr.loc,
            fmt::format("the sequences of {}(...).{} must have the same length, but "
                        "'{}' has {} steps and '{}' has {}",
                        kind, method, text(*app.args[0].value), length, text(argExpr), n.shape[0]));
      return false;
    }
    length = n.shape[0];
    shapes.emplace_back(n.shape.begin() + 1, n.shape.end());
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const SigArg &sa = layer.callArgs[i];
    const Node &n = node(inputs[i]);
    const Expr &argExpr = *app.args[i].value;
    bool ellipsis = sa.hasDims && !sa.dims.empty() && sa.dims[0]->kind == ExprKind::Ellipsis;
    size_t fixed = sa.dims.size() - (ellipsis ? 1 : 0);
    size_t rank = shapes[i].size();
    if (sa.hasDims && (ellipsis ? rank < fixed : rank != fixed)) {
      if (cell)
        error(argExpr.loc,
              fmt::format("{}(...).{} runs over the first dimension (time) of '{}', which has "
                          "shape {}, so each step gets a value of shape {}; but step({}) expects "
                          "{}{} dimension{}{}",
                          kind, method, text(argExpr), formatShape(n.shape), formatShape(shapes[i]),
                          sigText(sa), ellipsis ? "at least " : "", fixed, fixed == 1 ? "" : "s",
                          rank < fixed
                              ? fmt::format("; does '{}' have a time dimension?", text(argExpr))
                              : ""));
      else
        error(argExpr.loc,
              fmt::format("{} expects an input {} with {}{} dimension{}, but '{}' has shape {}",
                          kind, sigText(sa), ellipsis ? "at least " : "", fixed,
                          fixed == 1 ? "" : "s", text(argExpr), formatShape(n.shape)));
      return false;
    }
  }
  return true;
}

// Binds the signature's dimensions and inputs in `inst`. A dimension that
// does not match is returned in `mismatch`, to be reported once the layer
// is left. False after any other error.
bool Checker::bindSignature(const LayerDecl &layer, const Expr &app, bool cell,
                            const std::vector<Value> &inputs,
                            const std::vector<std::vector<int64_t>> &shapes, Scope &inst,
                            std::string &mismatch, Loc &mismatchLoc) {
  const std::string &kind = layer.name;
  bool ok = true;
  for (size_t i = 0; i < inputs.size() && ok && mismatch.empty(); ++i) {
    const SigArg &sa = layer.callArgs[i];
    const Node &n = cell ? g_.nodes[size_t(inputs[i].node)] : node(inputs[i]);
    const std::vector<int64_t> &shape = shapes[i];
    const Expr &argExpr = *app.args[i].value;
    bool ellipsis = sa.hasDims && !sa.dims.empty() && sa.dims[0]->kind == ExprKind::Ellipsis;
    size_t skip = ellipsis ? shape.size() - (sa.dims.size() - 1) : 0; // dims matched by `...`
    for (size_t d = ellipsis ? 1 : 0; sa.hasDims && d < sa.dims.size(); ++d) {
      const Expr &de = *sa.dims[d];
      int64_t actual = shape[ellipsis ? skip + d - 1 : d];
      if (de.kind == ExprKind::Name && !inst.env.count(de.text)) {
        inst.env[de.text] = Value::integer(actual);
        continue;
      }
      Value dv = eval(de, inst);
      if (dv.kind == Value::Error) {
        ok = false;
        break;
      }
      if (dv.kind != Value::Int || dv.i != actual) {
        mismatchLoc = argExpr.loc;
        mismatch = fmt::format("{} expects {} {} with {} = {}, but '{}' has shape {}{}", kind,
                               cell ? "steps" : "an input", sigText(sa), exprToString(de),
                               dv.kind == Value::Int ? std::to_string(dv.i) : describe(dv),
                               text(argExpr), formatShape(n.shape),
                               cell ? fmt::format(" (steps of shape {})", formatShape(shape)) : "");
        break;
      }
    }
    if (cell) {
      int s = addNode(OpKind::ScanInput, {}, shape, n.dtype, true, argExpr.loc);
      mutNode(s).ioIndex = int(i);
      mutNode(s).name = inst.prefix + sa.name;
      inst.env[sa.name] = Value::tensor(s);
    } else {
      inst.env[sa.name] = inputs[i];
    }
  }
  return ok;
}

// The layer's result, or the cell's step output, once its body is checked.
Value Checker::layerResult(const LayerDecl &layer, Scope &inst, bool cell, int errorsBefore) {
  const std::string &kind = layer.name;
  Value result;
  auto it = inst.env.find(layer.result);
  if (it == inst.env.end()) {
    if (diag_.errorCount() == errorsBefore)
      error(layer.resultLoc,
            cell ? fmt::format("the step of cell '{}' never assigns its output '{}' (it is "
                               "neither a state nor a value computed in the step)",
                               kind, layer.result)
                 : fmt::format("the call block of layer '{}' never assigns its result '{}'", kind,
                               layer.result));
    result = Value::error();
  } else {
    result = it->second;
    if (result.kind != Value::Tensor && result.kind != Value::Error) {
      error(layer.resultLoc, fmt::format("the {} '{}' of {} '{}' must be a tensor, but it is {}",
                                         cell ? "output" : "result", layer.result, kindWord(&layer),
                                         kind, describe(result)));
      result = Value::error();
    } else if (cell && result.kind == Value::Tensor && !node(result).batched) {
      error(layer.resultLoc, fmt::format("the output '{}' of cell '{}' must be computed from "
                                         "the step's input or state, but it is the same for "
                                         "every example",
                                         layer.result, kind));
      result = Value::error();
    }
  }
  return result;
}

// The states after one step: each state's last assignment becomes its
// update; an invalid one makes `result` an error.
void Checker::checkStateUpdates(const LayerDecl &layer, Scope &inst, Scan &scan, int errorsBefore,
                                Value &result) {
  const std::string &kind = layer.name;
  for (Scan::State &st : scan.states) {
    std::string local = st.name.substr(inst.prefix.size());
    const Stmt *decl = nullptr;
    for (const Stmt &s : layer.stateStmts)
      if (s.name == local)
        decl = &s;
    const Stmt *assign = lastAssign(layer, local);
    Value v = inst.env[local];
    if (v.kind == Value::Error) {
      result = Value::error();
      continue;
    }
    const Expr *valueExpr = assign ? assign->value.get() : nullptr;
    Loc at = assign ? assign->nameLoc : decl->nameLoc;
    if (v.kind != Value::Tensor) {
      error(at, fmt::format("the new value of state '{}' must be a tensor, but it is {}", local,
                            describe(v)));
      result = Value::error();
      continue;
    }
    const Node &n = node(v);
    if (n.shape != st.shape || n.dtype != DType::F32) {
      error(at, fmt::format("state '{}' is declared with shape {}, but its new value{} is {}",
                            local, formatShape(st.shape),
                            valueExpr ? fmt::format(" '{}'", text(*valueExpr)) : "", describe(v)));
      result = Value::error();
      continue;
    }
    if (!n.batched) {
      error(at, fmt::format("the new value of state '{}'{} must be computed from the step's "
                            "input or state, but it is the same for every example",
                            local, valueExpr ? fmt::format(" ('{}')", text(*valueExpr)) : ""));
      result = Value::error();
      continue;
    }
    st.update = v.node;
    if (!assign && n.op == OpKind::ScanState && diag_.errorCount() == errorsBefore) {
      diag_.warning(nodeLoc(decl->nameLoc),
                    fmt::format("state '{}' of cell '{}' is never assigned in the step, so it "
                                "keeps its initial value",
                                local, kind));
    }
  }
}

} // namespace nnc::dsl::detail
