// CheckRepeat.cpp: repeat(N, Layer(...))(x), N copies of a layer, kept as
// one loop over the copies' stacked parameters where it can be (so that a
// model's size in the compiler does not grow with N), else unrolled.
#include "Checker.h"

#include <fmt/format.h>

namespace nnc::dsl::detail {

namespace {

// `name` with its prefix `from` replaced by `to` (the names of copy 0's
// parameters and layers become copy i's).
std::string renamed(const std::string &name, const std::string &from, const std::string &to) {
  return name.compare(0, from.size(), from) == 0 ? to + name.substr(from.size()) : name;
}

} // namespace

// repeat(N, Layer(args))(x): N copies of a layer applied one after the
// other, each with its own parameters, named as PyTorch names a
// ModuleList's: `blocks.0.attn.Wq` ... `blocks.<N-1>.attn.Wq` for
// `blocks = repeat(N, TransformerBlock(H))(x)`. Each copy's output is the
// next one's input, so the layer must keep its input's shape.
Value Checker::applyRepeat(const Expr &rep, const Expr &app, Scope &scope,
                           const std::string &nameHint) {
  constexpr int64_t kMaxRepeat = 4096;
  const char *form = "repeat(N, Layer(...))(x)";
  if (rep.args.size() != 2 || !rep.args[0].name.empty() || !rep.args[1].name.empty()) {
    error(rep.loc, fmt::format("repeat takes a count and a layer, as in '{}'", form));
    return Value::error();
  }
  Value count = eval(*rep.args[0].value, scope);
  if (count.kind == Value::Error)
    return count;
  if (count.kind != Value::Int || count.i < 1 || count.i > kMaxRepeat) {
    error(rep.args[0].value->loc,
          fmt::format("the count of repeat must be an integer from 1 to {}, but '{}' is {}",
                      kMaxRepeat, text(*rep.args[0].value), describe(count)));
    return Value::error();
  }
  const Expr &ctor = *rep.args[1].value;
  const LayerDecl *layer = nullptr;
  if (ctor.kind == ExprKind::Call && ctor.lhs && ctor.lhs->kind == ExprKind::Name)
    if (auto it = prog_.layers.find(ctor.lhs->text); it != prog_.layers.end())
      layer = it->second;
  if (!layer || layer->isCell) {
    error(ctor.loc, fmt::format("the second argument of repeat must be a layer with its "
                                "arguments, as in '{}'{}",
                                form, layer ? "; a cell already repeats over time" : ""));
    return Value::error();
  }
  if (app.args.size() != 1 || !app.args[0].name.empty()) {
    error(app.loc, fmt::format("repeat(...) takes one input, as in '{}'", form));
    return Value::error();
  }
  std::string name = nameHint;
  if (name.empty())
    name = fmt::format("repeat_{}", ++scope.counters["repeat"]);
  if (!scope.instances.insert(name).second) {
    error(rep.loc, fmt::format("instance name '{}' is already used", name));
    return Value::error();
  }
  Value in = eval(*app.args[0].value, scope);
  if (in.kind == Value::Error)
    return in;
  // Each copy takes its input through a name no source can spell (the
  // messages still quote the input as written).
  const std::string carried = "\x01repeat";
  Expr input;
  input.kind = ExprKind::Name;
  input.text = carried;
  input.loc = app.args[0].value->loc;
  input.begin = app.args[0].value->begin;
  input.end = app.args[0].value->end;
  Expr chained;
  chained.kind = ExprKind::Call;
  chained.loc = app.loc;
  chained.begin = app.begin;
  chained.end = app.end;
  chained.args.push_back(Arg{"", Loc{}, std::make_unique<Expr>(std::move(input))});
  // The cached step's position is the model's, not a copy's: made before
  // copy 0 (which would otherwise make it on first use), the loop captures it.
  if (opts_.cacheStep && opts_.loopRepeats)
    positionNode(app.loc);
  RepeatMarks marks{g_.nodes.size(), g_.params.size(),     g_.layers.size(),
                    g_.scans.size(), g_.stepStates.size(), scope.prefix + name};
  Value out = in;
  for (int64_t i = 0; i < count.i; ++i) {
    scope.env[carried] = out;
    out = applyLayer(*layer, ctor, chained, scope, fmt::format("{}.{}", name, i));
    scope.env.erase(carried);
    if (out.kind == Value::Error)
      return out;
    if (out.kind != Value::Tensor ||
        (in.kind == Value::Tensor && node(out).shape != node(in).shape)) {
      error(app.loc,
            fmt::format("repeat chains each copy's output into the next, but {} maps "
                        "'{}' ({}) to {}; it must keep its input's shape",
                        layer->name, text(*app.args[0].value), describe(in), describe(out)));
      return Value::error();
    }
    if (i == 0 && count.i > 1 && loopable(marks, in, out))
      return loopCopies(marks, in, out, count.i, layer->name, app.loc);
  }
  return out;
}

// Whether copy 0 of a repeat (the nodes and parameters added since `m`) can
// be the body of a loop: it is in the model's graph, has parameters of its
// own, and holds nothing that differs from copy to copy but the parameters
// and the attention caches of a cached step (not a dropout's random stream,
// a cell, or the step's position, which the model has once).
bool Checker::loopable(const RepeatMarks &m, const Value &in, const Value &out) const {
  if (!opts_.loopRepeats || nodes_ != &g_.nodes || scan_ || in.kind != Value::Tensor ||
      !g_.nodes[size_t(in.node)].batched || g_.nodes[size_t(in.node)].dtype != DType::F32 ||
      g_.params.size() == m.params || g_.scans.size() != m.scans || size_t(out.node) < m.nodes ||
      positionNode_ >= int(m.nodes))
    return false;
  for (size_t s = m.stepStates; s < g_.stepStates.size(); ++s) {
    const Graph::StepState &st = g_.stepStates[s];
    if (size_t(st.node) < m.nodes || st.update < 0 || size_t(st.update) < m.nodes ||
        g_.nodes[size_t(st.update)].op != OpKind::CacheWrite)
      return false;
  }
  for (size_t k = m.nodes; k < g_.nodes.size(); ++k) {
    const Node &n = g_.nodes[k];
    if (n.op == OpKind::Dropout || n.op == OpKind::Input || n.op == OpKind::Target ||
        n.op == OpKind::Repeat || n.op == OpKind::RepeatOutput ||
        (n.op == OpKind::StepState && size_t(n.ioIndex) < m.stepStates))
      return false;
    for (int o : n.operands) // the loop captures outer values as f32 tensors
      if (size_t(o) < m.nodes && g_.nodes[size_t(o)].dtype != DType::F32)
        return false;
  }
  return true;
}

// Copy 0's nodes become the body of a Repeat node (Graph::repeats), its
// input the state and other outer values captures; copies 1..N-1 are
// their parameters (and summary rows) only, named as the unrolled copies'.
Value Checker::loopCopies(const RepeatMarks &m, const Value &in, const Value &out, int64_t count,
                          const std::string &kind, const Loc &loc) {
  Scan rp;
  rp.name = m.prefix;
  rp.kind = kind;
  rp.length = count;
  const Node &x = g_.nodes[size_t(in.node)];
  Node state;
  state.op = OpKind::ScanState;
  state.ioIndex = 0;
  state.shape = x.shape;
  state.batched = true;
  state.loc = x.loc;
  rp.body.push_back(state);
  std::map<int, int> captureOf;
  std::vector<int> at(g_.nodes.size() - m.nodes);
  for (size_t k = m.nodes; k < g_.nodes.size(); ++k) {
    Node n = std::move(g_.nodes[k]);
    for (int &o : n.operands) {
      if (size_t(o) >= m.nodes) {
        o = at[size_t(o) - m.nodes];
      } else if (o == in.node) {
        o = 0;
      } else {
        auto [it, fresh] = captureOf.try_emplace(o, int(rp.body.size()));
        if (fresh) {
          Node c = g_.nodes[size_t(o)];
          c.op = OpKind::ScanCapture;
          c.operands.clear();
          c.paramIndex = -1;
          c.ioIndex = int(rp.captures.size());
          rp.captures.push_back(o);
          rp.body.push_back(std::move(c));
        }
        o = it->second;
      }
    }
    if (n.op == OpKind::StepState) { // copy i's slice of a stacked cache
      n.op = OpKind::ScanInput;
      n.ioIndex -= int(m.stepStates);
    }
    at[k - m.nodes] = int(rp.body.size());
    rp.body.push_back(std::move(n));
  }
  g_.nodes.resize(m.nodes);
  Scan::State st;
  st.name = m.prefix;
  st.shape = x.shape;
  st.update = at[size_t(out.node) - m.nodes];
  st.initNode = in.node;
  rp.states.push_back(st);
  // The copies' parameters, copy by copy as unrolled copies would add them.
  size_t perCopy = g_.params.size() - m.params;
  for (int64_t i = 1; i < count; ++i)
    for (size_t j = 0; j < perCopy; ++j) {
      Param p = g_.params[m.params + j];
      p.name = renamed(p.name, m.prefix + ".0.", fmt::format("{}.{}.", m.prefix, i));
      g_.params.push_back(std::move(p));
    }
  for (size_t j = 0; j < perCopy; ++j) {
    g_.params[m.params + j].node = -1;
    for (int64_t i = 0; i < count; ++i)
      rp.copies[int(m.params + j)].push_back(int(m.params + size_t(i) * perCopy + j));
  }
  size_t rowsPerCopy = g_.layers.size() - m.layers;
  for (int64_t i = 1; i < count; ++i)
    for (size_t r = m.layers; r < m.layers + rowsPerCopy; ++r) {
      Graph::LayerRow row = g_.layers[r];
      row.name = renamed(row.name, m.prefix + ".0", fmt::format("{}.{}", m.prefix, i));
      g_.layers.push_back(row);
    }
  // A cached step's caches: one step state per cache of the layer, holding
  // the copies' caches stacked ([N, ...] per example).
  for (size_t s = m.stepStates; s < g_.stepStates.size(); ++s) {
    Graph::StepState &cs = g_.stepStates[s];
    rp.outputs.push_back(at[size_t(cs.update) - m.nodes]);
    cs.name = renamed(cs.name, m.prefix + ".0.", m.prefix + ".");
    cs.shape.insert(cs.shape.begin(), count);
    cs.node = addNode(OpKind::StepState, {}, cs.shape, DType::F32, true, loc);
    mutNode(cs.node).ioIndex = int(s);
    mutNode(cs.node).name = cs.name;
    rp.sequences.push_back(cs.node);
  }
  std::vector<int> operands{in.node};
  operands.insert(operands.end(), rp.captures.begin(), rp.captures.end());
  operands.insert(operands.end(), rp.sequences.begin(), rp.sequences.end());
  int n = addNode(OpKind::Repeat, operands, x.shape, DType::F32, true, loc);
  mutNode(n).scanIndex = int(g_.repeats.size());
  mutNode(n).name = m.prefix;
  g_.repeats.push_back(std::move(rp));
  for (size_t s = m.stepStates; s < g_.stepStates.size(); ++s) {
    Graph::StepState &cs = g_.stepStates[s];
    int o = addNode(OpKind::RepeatOutput, {n}, cs.shape, DType::F32, true, loc);
    mutNode(o).ioIndex = int(s - m.stepStates);
    cs.update = o;
  }
  return Value::tensor(n);
}

} // namespace nnc::dsl::detail
