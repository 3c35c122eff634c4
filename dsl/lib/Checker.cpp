// Checker.cpp: the checker's entry (run), its diagnostics, graph building
// and models.
#include "Checker.h"

#include <fmt/format.h>

#include <algorithm>

namespace nnc::dsl::detail {

namespace {

size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

} // namespace

std::string suggest(const std::string &name, const std::vector<std::string> &candidates) {
  std::string best;
  size_t bestD = 3;
  if (name.size() < 2)
    return "";
  for (const std::string &c : candidates) {
    if (c == name || c.empty())
      continue;
    size_t d = editDistance(name, c);
    size_t limit = std::min<size_t>(2, std::max<size_t>(1, name.size() / 3));
    if (d <= limit && d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}

std::optional<Graph> Checker::run(const std::string &modelName) {
  const FileAST &main = *prog_.files[0];
  // train blocks that name no model
  for (const TrainDecl &t : main.trains) {
    bool found = false;
    for (const ModelDecl &m : main.models)
      found |= m.name == t.model;
    if (!found) {
      std::vector<std::string> names;
      for (const ModelDecl &m : main.models)
        names.push_back(m.name);
      diag_.error(t.modelLoc, fmt::format("train block for unknown model '{}'{}", t.model,
                                          suggest(t.model, names)));
    }
  }
  // duplicate models
  for (size_t i = 0; i < main.models.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (main.models[i].name == main.models[j].name) {
        diag_.error(main.models[i].loc,
                    fmt::format("model '{}' is already defined", main.models[i].name));
        diag_.note(main.models[j].loc, "the first definition is here");
      }
  const ModelDecl *model = nullptr;
  if (!modelName.empty()) {
    for (const auto &f : prog_.files)
      for (const ModelDecl &m : f->models)
        if (!model && m.name == modelName)
          model = &m;
    if (!model) {
      std::vector<std::string> names;
      for (const ModelDecl &m : main.models)
        names.push_back(m.name);
      std::string avail;
      for (const std::string &n : names)
        avail += (avail.empty() ? "" : ", ") + n;
      diag_.error(Loc{prog_.mainFile, 0, 0},
                  fmt::format("no model named '{}'{}", modelName,
                              avail.empty() ? std::string(" (the file defines no model)")
                                            : fmt::format(" (the file defines: {})", avail)));
      return std::nullopt;
    }
  } else if (main.models.empty()) {
    if (!diag_.hasErrors())
      diag_.error(Loc{prog_.mainFile, 0, 0},
                  "the file defines no model; add one such as 'model Name { ... }'");
    return std::nullopt;
  } else if (main.models.size() > 1) {
    std::string names;
    for (const ModelDecl &m : main.models)
      names += (names.empty() ? "" : ", ") + m.name;
    diag_.error(main.models[1].loc,
                fmt::format("the file defines several models ({}); choose one by name", names));
    return std::nullopt;
  } else {
    model = &main.models[0];
  }

  Graph g = checkModel(*model);
  if (findTimeParam_ && !diag_.hasErrors() && !g.scans.empty())
    g.timeParam = timeParam(*model, g);
  for (const TrainDecl &t : main.trains) {
    TrainConfig cfg = checkTrain(t, t.model == model->name ? &g : nullptr);
    if (t.model == model->name) {
      if (g.train.present) {
        diag_.error(t.loc, fmt::format("model '{}' has more than one train block", t.model));
        diag_.note(g.train.loc, "the first train block is here");
      } else {
        g.train = cfg;
      }
    }
  }
  if (diag_.hasErrors())
    return std::nullopt;
  return g;
}

void Checker::error(const Loc &loc, const std::string &msg) {
  if (override_ && loc.file != prog_.mainFile) {
    const LayerDecl *l = frames_.empty() ? nullptr : frames_.back().layer;
    diag_.error(*override_, fmt::format("{} (in {} {} '{}')", msg, l ? l->name : "", kindWord(l),
                                        frames_.empty() ? "" : frames_.back().instance));
    diag_.note(loc, fmt::format("in the body of {} '{}'", kindWord(l), l ? l->name : ""));
    return;
  }
  diag_.error(loc, msg);
  for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
    diag_.note(it->callLoc, fmt::format("in {} '{}' ({}) applied here", kindWord(it->layer),
                                        it->instance, it->layer->name));
}

std::string Checker::text(const Expr &e) const {
  const std::string *src = diag_.source(e.loc.file);
  std::string s;
  if (src && e.end > e.begin && e.end <= src->size()) {
    bool space = false;
    for (size_t i = e.begin; i < e.end; ++i) {
      char c = (*src)[i];
      if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
        space = true;
        continue;
      }
      if (c == '#') { // a comment inside a multi-line expression
        while (i < e.end && (*src)[i] != '\n')
          ++i;
        space = true;
        continue;
      }
      if (space && !s.empty())
        s += ' ';
      space = false;
      s += c;
    }
  } else {
    s = exprToString(e);
  }
  if (s.size() > 60)
    s = s.substr(0, 57) + "...";
  return s;
}

std::string Checker::describe(const Value &v) const {
  switch (v.kind) {
  case Value::Tensor: {
    const Node &n = v.outer ? g_.nodes[size_t(v.node)] : node(v);
    return fmt::format("a {} tensor {}", n.dtype == DType::I32 ? "int" : "float",
                       formatShape(n.shape));
  }
  case Value::Int:
    return fmt::format("the integer {}", v.i);
  case Value::Float:
    return fmt::format("the number {}", v.f);
  case Value::Func:
    return fmt::format("the function '{}'", v.s);
  case Value::String:
    return "a string";
  case Value::Error:
    return "an invalid value";
  }
  return "a value";
}

int Checker::addNode(OpKind op, std::vector<int> operands, std::vector<int64_t> shape, DType dt,
                     bool batched, const Loc &loc) {
  Node n;
  n.op = op;
  n.operands = std::move(operands);
  n.shape = std::move(shape);
  n.dtype = dt;
  n.batched = batched;
  n.loc = nodeLoc(loc);
  nodes_->push_back(std::move(n));
  return int(nodes_->size()) - 1;
}

Value Checker::asTensor(const Value &v, const Expr &e) {
  if (v.kind == Value::Tensor || v.kind == Value::Error)
    return v;
  if (v.isNumber()) {
    int n = addNode(OpKind::Constant, {}, {}, DType::F32, false, e.loc);
    mutNode(n).value = v.kind == Value::Int ? double(v.i) : v.f;
    return Value::tensor(n);
  }
  error(e.loc, fmt::format("expected a tensor or a number, but '{}' is {}", text(e), describe(v)));
  return Value::error();
}

Graph Checker::checkModel(const ModelDecl &m) {
  g_ = Graph{};
  positionNode_ = -1;
  g_.modelName = m.name;
  g_.file = prog_.mainFile;
  Scope top;
  top.isModel = true;
  modelParams_.clear();
  for (const auto &[key, value] : opts_.overrides) {
    bool found = false;
    std::vector<std::string> names;
    std::string list;
    for (const ParamDecl &p : m.params) {
      found |= p.name == key || p.label == key;
      names.push_back(p.name);
      list += (list.empty() ? "" : ", ") +
              (p.label == p.name ? p.name : fmt::format("{} {}", p.label, p.name));
    }
    if (!found)
      error(m.loc, fmt::format("cannot set '{}' = {}: model '{}' has no parameter '{}'{}{}", key,
                               value, m.name, key,
                               list.empty() ? std::string(" (it has no parameters)")
                                            : fmt::format("; its parameters are {}", list),
                               suggest(key, names)));
  }
  for (const ParamDecl &p : m.params) {
    auto ov = opts_.overrides.find(p.name);
    if (ov == opts_.overrides.end())
      ov = opts_.overrides.find(p.label);
    if (ov != opts_.overrides.end()) {
      top.env[p.name] = Value::integer(ov->second);
      modelParams_.push_back({&p, top.env[p.name]});
      continue;
    }
    if (!p.defaultValue) {
      error(p.loc, fmt::format("model parameter '{}' needs a default value, as in '{} {} = 10'",
                               p.name, p.label, p.name));
      top.env[p.name] = Value::error();
      continue;
    }
    Value v = eval(*p.defaultValue, top);
    if (v.kind == Value::Tensor) {
      error(p.defaultValue->loc,
            fmt::format("model parameter '{}' must be a number or a function", p.name));
      v = Value::error();
    }
    top.env[p.name] = v;
    modelParams_.push_back({&p, v});
  }
  for (const Stmt &s : m.body)
    exec(s, top);
  if (g_.inputs.empty() && !m.hasInputStmt)
    error(m.loc,
          fmt::format("model '{}' has no input: add a line such as 'input x: float[4]'", m.name));
  if (!lossSeen_ && !m.hasLossStmt)
    error(m.loc, fmt::format("model '{}' has no loss: add a line such as "
                             "'loss cross_entropy(logits, y)'",
                             m.name));
  return std::move(g_);
}

std::string Checker::timeParam(const ModelDecl &m, const Graph &g) {
  int64_t length = g.scans[0].length;
  for (const auto &[p, v] : modelParams_) {
    if (v.kind != Value::Int || v.i != length || length >= kMaxDim)
      continue;
    FrontendOptions opts = opts_;
    opts.overrides.erase(p->label);
    opts.overrides[p->name] = length + 1;
    DiagnosticEngine quiet(nullptr);
    Checker probe(prog_, opts, quiet, /*findTimeParam=*/false);
    auto g2 = probe.run(m.name);
    if (!g2 || g2->scans.size() != g.scans.size())
      continue;
    bool all = true;
    for (size_t i = 0; i < g.scans.size(); ++i)
      if (g.scans[i].length == length && g2->scans[i].length != length + 1)
        all = false;
    if (all)
      return p->name;
  }
  return "";
}

} // namespace nnc::dsl::detail
