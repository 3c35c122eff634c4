// Frontend.cpp: loading a .nn file and its imports, then checking and
// expanding one model into a Graph.
#include "nnc/dsl/Frontend.h"
#include "nnc/dsl/AST.h"
#include "nnc/dsl/Parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace nnc::dsl {

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

namespace {

constexpr int64_t kMaxDim = int64_t(1) << 31;
constexpr int64_t kMaxElements = int64_t(1) << 34;
constexpr int kMaxLayerDepth = 32;
constexpr size_t kMaxNodes = 200000;
constexpr size_t kMaxFileSize = size_t(64) << 20;

// ---------------------------------------------------------------------------
// Built-in functions
// ---------------------------------------------------------------------------

const std::map<std::string, OpKind> &unaryFunctions() {
  static const std::map<std::string, OpKind> m = {
      {"relu", OpKind::Relu},       {"sigmoid", OpKind::Sigmoid}, {"tanh", OpKind::Tanh},
      {"exp", OpKind::Exp},         {"log", OpKind::Log},         {"sqrt", OpKind::Sqrt},
      {"softmax", OpKind::Softmax}, {"log_softmax", OpKind::LogSoftmax},
      {"neg", OpKind::Neg},
      // Transformer primitives (issue 4):
      {"gelu", OpKind::Gelu},
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
  return s == "glorot_uniform" || s == "glorot" || s == "he_uniform" || s == "he" ||
         s == "zeros" || s == "ones" || s == "constant" || s == "uniform" || s == "normal";
}

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

bool readFile(const std::string &path, std::string &out, std::string &why) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    why = "file not found";
    return false;
  }
  if (fs::is_directory(path, ec)) {
    why = "it is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot open the file";
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  if (out.size() > kMaxFileSize) {
    why = "the file is too large";
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Loading: a file and everything it imports
// ---------------------------------------------------------------------------

struct Program {
  std::string mainFile;
  std::vector<std::unique_ptr<FileAST>> files; // files[0] is the main file
  std::map<std::string, const LayerDecl *> layers;
};

std::string importPath(const std::string &module, const std::string &importer,
                       const FrontendOptions &opts, bool &isStd) {
  std::string rel;
  std::string rest = module;
  isStd = module.rfind("std.", 0) == 0;
  if (isStd)
    rest = module.substr(4);
  for (char c : rest)
    rel += c == '.' ? '/' : c;
  rel += ".nn";
  if (isStd)
    return (fs::path(opts.stdlibDir.empty() ? "." : opts.stdlibDir) / rel).lexically_normal().string();
  fs::path base = fs::path(importer).parent_path();
  return (base / rel).lexically_normal().string();
}

std::string canonicalKey(const std::string &path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  if (ec)
    return fs::path(path).lexically_normal().string();
  return p.string();
}

std::unique_ptr<Program> loadProgram(const std::string &source, const std::string &fileName,
                                     const FrontendOptions &opts, DiagnosticEngine &diag) {
  auto prog = std::make_unique<Program>();
  prog->mainFile = fileName;
  diag.addSource(fileName, source);
  prog->files.push_back(parseFile(fileName, source, diag));
  std::set<std::string> loaded = {canonicalKey(fileName)};
  for (size_t fi = 0; fi < prog->files.size(); ++fi) {
    // copy: prog->files grows while we iterate
    std::vector<ImportDecl> imports;
    for (const ImportDecl &imp : prog->files[fi]->imports)
      imports.push_back(imp);
    std::string importer = prog->files[fi]->path;
    for (const ImportDecl &imp : imports) {
      bool isStd = false;
      std::string path = importPath(imp.module, importer, opts, isStd);
      std::string key = canonicalKey(path);
      if (loaded.count(key))
        continue;
      std::string text, why;
      if (isStd && opts.stdlibDir.empty()) {
        diag.error(imp.loc, fmt::format("cannot import '{}': file not found (no standard library "
                                        "directory is configured)",
                                        imp.module));
        continue;
      }
      if (!readFile(path, text, why)) {
        diag.error(imp.loc, fmt::format("cannot import '{}': {} (looked for '{}')", imp.module, why,
                                        path));
        continue;
      }
      loaded.insert(key);
      diag.addSource(path, text);
      prog->files.push_back(parseFile(path, text, diag));
    }
  }
  // the layer table: imported files first, so that a clash is reported in
  // the importing file
  for (auto fit = prog->files.rbegin(); fit != prog->files.rend(); ++fit) {
    const auto &f = *fit;
    for (const LayerDecl &l : f->layers) {
      if (isBuiltinFunction(l.name)) {
        diag.error(l.loc, fmt::format("'{}' is a built-in function and cannot be a layer name", l.name));
        continue;
      }
      auto it = prog->layers.find(l.name);
      if (it != prog->layers.end()) {
        diag.error(l.loc, fmt::format("layer '{}' is already defined", l.name));
        diag.note(it->second->loc, "the first definition is here");
        continue;
      }
      prog->layers[l.name] = &l;
    }
  }
  return prog;
}

// ---------------------------------------------------------------------------
// Checking and expansion
// ---------------------------------------------------------------------------

struct Value {
  enum Kind { Error, Tensor, Int, Float, Func, String } kind = Error;
  int node = -1;
  int64_t i = 0;
  double f = 0;
  std::string s; // Func: the function name; String: the text
  // Tensor: `node` indexes Graph::nodes even while a scan body is built (a
  // tensor argument of a cell); using it in the body makes a ScanCapture.
  bool outer = false;

  static Value error() { return Value{}; }
  static Value tensor(int n) {
    Value v;
    v.kind = Tensor;
    v.node = n;
    return v;
  }
  static Value integer(int64_t x) {
    Value v;
    v.kind = Int;
    v.i = x;
    v.f = double(x);
    return v;
  }
  static Value real(double x) {
    Value v;
    v.kind = Float;
    v.f = x;
    return v;
  }
  static Value func(const std::string &name) {
    Value v;
    v.kind = Func;
    v.s = name;
    return v;
  }
  static Value string(const std::string &text) {
    Value v;
    v.kind = String;
    v.s = text;
    return v;
  }
  bool isNumber() const { return kind == Int || kind == Float; }
};

struct Scope {
  std::string prefix; // "" for the model, "h1." inside instance h1
  std::map<std::string, Value> env;
  std::map<std::string, int> counters; // auto names per layer kind
  std::set<std::string> instances;
  bool isModel = false;
};

struct Frame {
  const LayerDecl *layer;
  std::string instance; // full dotted name
  Loc callLoc;
};

class Checker {
public:
  Checker(const Program &prog, const FrontendOptions &opts, DiagnosticEngine &diag,
          bool findTimeParam = true)
      : prog_(prog), opts_(opts), diag_(diag), findTimeParam_(findTimeParam) {}

  std::optional<Graph> run(const std::string &modelName) {
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

private:
  // ---- diagnostics --------------------------------------------------------
  // Errors inside a layer defined in another file (the standard library)
  // are reported at the layer call in the user's file, with a note pointing
  // into the library.
  static const char *kindWord(const LayerDecl *l) { return l && l->isCell ? "cell" : "layer"; }
  void error(const Loc &loc, const std::string &msg) {
    if (override_ && loc.file != prog_.mainFile) {
      const LayerDecl *l = frames_.empty() ? nullptr : frames_.back().layer;
      diag_.error(*override_, fmt::format("{} (in {} {} '{}')", msg, l ? l->name : "",
                                          kindWord(l),
                                          frames_.empty() ? "" : frames_.back().instance));
      diag_.note(loc, fmt::format("in the body of {} '{}'", kindWord(l), l ? l->name : ""));
      return;
    }
    diag_.error(loc, msg);
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it)
      diag_.note(it->callLoc, fmt::format("in {} '{}' ({}) applied here", kindWord(it->layer),
                                          it->instance, it->layer->name));
  }
  Loc nodeLoc(const Loc &l) const { return override_ ? *override_ : l; }

  // The source text of an expression, for messages ('x @ W').
  std::string text(const Expr &e) const {
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

  std::string describe(const Value &v) const {
    switch (v.kind) {
    case Value::Tensor: {
      const Node &n = v.outer ? g_.nodes[size_t(v.node)] : node(v);
      return fmt::format("a {} tensor {}", n.dtype == DType::I32 ? "int" : "float",
                         formatShape(n.shape));
    }
    case Value::Int: return fmt::format("the integer {}", v.i);
    case Value::Float: return fmt::format("the number {}", v.f);
    case Value::Func: return fmt::format("the function '{}'", v.s);
    case Value::String: return "a string";
    case Value::Error: return "an invalid value";
    }
    return "a value";
  }

  // ---- graph building -----------------------------------------------------
  int addNode(OpKind op, std::vector<int> operands, std::vector<int64_t> shape, DType dt,
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
  // The node of a tensor value: in the graph being built (the model's, or
  // the body of the scan being built).
  const Node &node(const Value &v) const { return (*nodes_)[size_t(v.node)]; }
  Node &mutNode(int n) { return (*nodes_)[size_t(n)]; }

  // A number used where a tensor is needed becomes a scalar Constant node.
  Value asTensor(const Value &v, const Expr &e) {
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

  // ---- models -------------------------------------------------------------
  Graph checkModel(const ModelDecl &m) {
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
      error(m.loc, fmt::format("model '{}' has no input: add a line such as 'input x: float[4]'",
                               m.name));
    if (!lossSeen_ && !m.hasLossStmt)
      error(m.loc, fmt::format("model '{}' has no loss: add a line such as "
                               "'loss cross_entropy(logits, y)'",
                               m.name));
    return std::move(g_);
  }

  // ---- statements ---------------------------------------------------------
  void declare(Scope &scope, const std::string &name, const Loc &loc, Value v, bool redefinable) {
    auto it = scope.env.find(name);
    if (it != scope.env.end() && !redefinable) {
      error(loc, fmt::format("'{}' is already defined", name));
      return;
    }
    scope.env[name] = v;
  }

  void nameNode(const Value &v, const std::string &name) {
    if (v.kind != Value::Tensor)
      return;
    Node &n = mutNode(v.node);
    if (n.op == OpKind::Param || n.op == OpKind::Input || n.op == OpKind::Target ||
        n.op == OpKind::ScanState || n.op == OpKind::ScanInput || n.op == OpKind::ScanCapture)
      return;
    n.name = name;
  }

  void exec(const Stmt &s, Scope &scope) {
    if (s.bad) {
      if (!s.name.empty())
        scope.env[s.name] = Value::error();
      return;
    }
    switch (s.kind) {
    case StmtKind::Input:
    case StmtKind::Target: {
      bool isInput = s.kind == StmtKind::Input;
      std::vector<int64_t> shape;
      bool ok = true;
      for (const ExprPtr &d : s.dims) {
        auto v = evalDim(*d, scope);
        ok &= v.has_value();
        shape.push_back(v.value_or(1));
      }
      if (ok)
        ok = checkSize(shape, s.nameLoc, s.name);
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
        error(s.loc, "'output' is only allowed in a model; a layer returns the value named after '->'");
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
        error(s.nameLoc, fmt::format("output '{}' must be a tensor, but it is {}", s.name, describe(v)));
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

  bool checkSize(const std::vector<int64_t> &shape, const Loc &loc, const std::string &what) {
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

  std::optional<int64_t> evalDim(const Expr &e, Scope &scope) {
    Value v = eval(e, scope);
    switch (v.kind) {
    case Value::Error: return std::nullopt;
    case Value::Int:
      if (v.i <= 0) {
        error(e.loc, fmt::format("a dimension must be a positive integer, but '{}' is {}", text(e), v.i));
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

  void createParam(const Stmt &s, Scope &scope) {
    std::vector<int64_t> shape;
    bool ok = true;
    for (const ExprPtr &d : s.dims) {
      auto v = evalDim(*d, scope);
      ok &= v.has_value();
      shape.push_back(v.value_or(1));
    }
    std::string full = scope.prefix + s.name;
    if (ok)
      ok = checkSize(shape, s.nameLoc, full);
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

  bool checkInit(const Stmt &s, Scope &scope, Param &p) {
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
                                          "constant", "uniform", "normal"};
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
              fmt::format("the value of initializer '{}' must be a number, but it is {}", n, describe(v)));
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
      error(e.loc, fmt::format("invalid initializer: '{}' is {}; {}", text(e), describe(v), expected));
      return false;
    }
    p.init = "constant";
    p.initValue = v.f;
    return true;
  }

  // ---- expressions --------------------------------------------------------
  void unknownName(const std::string &name, const Loc &loc, const Scope &scope) {
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

  Value eval(const Expr &e, Scope &scope, const std::string &nameHint = "") {
    switch (e.kind) {
    case ExprKind::Error: return Value::error();
    case ExprKind::Ellipsis:
      error(e.loc, "'...' is only allowed as the first dimension of a call signature, as in "
                   "'call(x[..., in])'");
      return Value::error();
    case ExprKind::Int: return Value::integer(e.intValue);
    case ExprKind::Float: return Value::real(e.floatValue);
    case ExprKind::String: return Value::string(e.text);
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
      case Value::Error: return v;
      case Value::Int:
        if (v.i == INT64_MIN) {
          error(e.loc, "integer overflow");
          return Value::error();
        }
        return Value::integer(-v.i);
      case Value::Float: return Value::real(-v.f);
      case Value::Tensor: return unaryOp(OpKind::Neg, "-", v, e, *e.lhs);
      default:
        error(e.loc, fmt::format("cannot negate '{}': it is {}", text(*e.lhs), describe(v)));
        return Value::error();
      }
    }
    case ExprKind::Binary: return binary(e, scope);
    case ExprKind::Call: return call(e, scope, nameHint);
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

  Value foldNumbers(char op, const Value &a, const Value &b, const Expr &e) {
    if (a.kind == Value::Int && b.kind == Value::Int) {
      int64_t r = 0;
      bool overflow = false;
      switch (op) {
      case '+': overflow = __builtin_add_overflow(a.i, b.i, &r); break;
      case '-': overflow = __builtin_sub_overflow(a.i, b.i, &r); break;
      case '*': overflow = __builtin_mul_overflow(a.i, b.i, &r); break;
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
    case '+': r = x + y; break;
    case '-': r = x - y; break;
    case '*': r = x * y; break;
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

  Value binary(const Expr &e, Scope &scope) {
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
    OpKind op = e.op == '+' ? OpKind::Add : e.op == '-' ? OpKind::Sub : e.op == '*' ? OpKind::Mul : OpKind::Div;
    int n = addNode(op, {a.node, b.node}, shape, DType::F32, na.batched || nb.batched, e.loc);
    return Value::tensor(n);
  }

  bool broadcast(const Node &a, const Node &b, const Expr &e, std::vector<int64_t> &out) {
    auto mismatch = [&](const std::string &why) {
      error(e.loc, fmt::format("shape mismatch in '{}': {} {} {} ({})", text(e), formatShape(a.shape),
                               e.op, formatShape(b.shape), why));
      return false;
    };
    // Broadcasting is per example: the batch dimension of a batched operand
    // lines up with the batch dimension of the result, and the per-example
    // dimensions line up from the right (numpy rules).
    size_t r = std::max(a.shape.size(), b.shape.size());
    out.assign(r, 1);
    for (size_t i = 0; i < r; ++i) {
      int64_t da = i < a.shape.size() ? a.shape[a.shape.size() - 1 - i] : 1;
      int64_t db = i < b.shape.size() ? b.shape[b.shape.size() - 1 - i] : 1;
      if (da != db && da != 1 && db != 1)
        return mismatch(fmt::format("dimensions {} and {} differ", da, db));
      out[r - 1 - i] = da == 1 ? db : da;
    }
    return true;
  }

  Value matmul(const Value &a, const Value &b, const Expr &e) {
    const Node &na = node(a), &nb = node(b);
    auto fail = [&](const std::string &why) {
      error(e.loc, fmt::format("shape mismatch in '{}': {} @ {} ({})", text(e), formatShape(na.shape),
                               formatShape(nb.shape), why));
      return Value::error();
    };
    if (na.dtype != DType::F32 || nb.dtype != DType::F32) {
      const Expr &bad = na.dtype != DType::F32 ? *e.lhs : *e.rhs;
      error(bad.loc, fmt::format("operator '@' needs float operands, but '{}' is an int tensor", text(bad)));
      return Value::error();
    }
    if (nb.batched)
      return batchMatmul(a, b, e);
    if (nb.shape.size() != 2)
      return fail(fmt::format("the right operand must have 2 dimensions, it has {}", nb.shape.size()));
    if (na.shape.empty())
      return fail("the left operand must have at least 1 dimension");
    if (na.shape.back() != nb.shape[0])
      return fail(fmt::format("inner dimensions {} and {} differ", na.shape.back(), nb.shape[0]));
    std::vector<int64_t> shape = na.shape;
    shape.back() = nb.shape[1];
    return Value::tensor(addNode(OpKind::MatMul, {a.node, b.node}, shape, DType::F32, na.batched, e.loc));
  }

  // Attention shape primitives (issue 4).

  // a[..., M, K] @ b[..., K, N] with a per-example right operand: one product
  // per leading index (attention's q @ transpose(k), p @ v).
  Value batchMatmul(const Value &a, const Value &b, const Expr &e) {
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
      return fail(fmt::format("the leading dimensions {} and {} differ",
                              formatShape(lead),
                              formatShape(std::vector<int64_t>(nb.shape.begin(), nb.shape.end() - 2))));
    if (na.shape[r - 1] != nb.shape[r - 2])
      return fail(fmt::format("inner dimensions {} and {} differ", na.shape[r - 1], nb.shape[r - 2]));
    std::vector<int64_t> shape = lead;
    shape.push_back(na.shape[r - 2]);
    shape.push_back(nb.shape[r - 1]);
    if (!checkSize(shape, e.loc, text(e)))
      return Value::error();
    return Value::tensor(addNode(OpKind::BatchMatMul, {a.node, b.node}, shape, DType::F32, true, e.loc));
  }

  Value unaryOp(OpKind op, const std::string &fname, const Value &v, const Expr &e, const Expr &arg) {
    const Node &n = node(v);
    if (n.dtype != DType::F32) {
      error(arg.loc, fmt::format("{} needs a float tensor, but '{}' is an int tensor", fname == "-" ? "negation" : fname, text(arg)));
      return Value::error();
    }
    if ((op == OpKind::Softmax || op == OpKind::LogSoftmax) && n.shape.empty()) {
      error(arg.loc, fmt::format("{} works over the last dimension, but '{}' is a scalar", fname, text(arg)));
      return Value::error();
    }
    return Value::tensor(addNode(op, {v.node}, n.shape, DType::F32, n.batched, e.loc));
  }

  // f(args) for a built-in function f
  Value callBuiltin(const std::string &f, const Expr &e, Scope &scope) {
    if (isTensorBuiltin(f))
      return callTensorBuiltin(f, e, scope);
    if (isTransformerBuiltin(f))
      return callTransformerBuiltin(f, e, scope);
    // softmax(x, axis = k): only the one-argument form is an activation.
    if ((f == "softmax" || f == "log_softmax") &&
        (e.args.size() != 1 || !e.args[0].name.empty()))
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
    for (const Arg &a : e.args) {
      Value v = eval(*a.value, scope);
      if (v.kind == Value::Error)
        return v;
      if (v.kind != Value::Tensor && !v.isNumber()) {
        error(a.value->loc, fmt::format("the argument of {} must be a tensor, but '{}' is {}", f,
                                        text(*a.value), describe(v)));
        return Value::error();
      }
      vals.push_back(v);
    }
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
      return Value::tensor(addNode(OpKind::CrossEntropy, {a.node, b.node}, {}, DType::F32, false, e.loc));
    }
    // mse
    for (const auto &[n, sub] : {std::pair<const Node &, const Expr &>{na, ea}, {nb, eb}})
      if (n.dtype != DType::F32) {
        error(sub.loc, fmt::format("mse expects float tensors, but '{}' is an int tensor", text(sub)));
        return Value::error();
      }
    if (na.shape != nb.shape || na.batched != nb.batched) {
      error(e.loc, fmt::format("mse expects two tensors of the same shape, but '{}' is {} and '{}' is {}",
                               text(ea), formatShape(na.shape), text(eb), formatShape(nb.shape)));
      return Value::error();
    }
    return Value::tensor(addNode(OpKind::MSE, {a.node, b.node}, {}, DType::F32, false, e.loc));
  }

  static std::string builtinExample(const std::string &f) {
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
  Value callTensorBuiltin(const std::string &f, const Expr &e, Scope &scope) {
    if (f == "cache")
      return callCache(e, scope);
    // concat(a, b, axis = k): the one named argument of a built-in.
    std::optional<Value> concatAxis;
    const Arg *concatAxisArg = nullptr;
    std::vector<Arg> positional;
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
    for (const Arg &a : e.args) {
      if (&a == concatAxisArg)
        continue;
      Value v = eval(*a.value, scope);
      if (v.kind == Value::Error)
        return v;
      vals.push_back(v);
    }
    auto needTensor = [&](size_t i, const char *what) {
      if (vals[i].kind == Value::Tensor)
        return true;
      error(e.args[i].value->loc, fmt::format("the {} of {} must be a tensor, but '{}' is {}", what, f,
                                              text(*e.args[i].value), describe(vals[i])));
      return false;
    };
    auto needInt = [&](size_t i, const char *what, int64_t min) -> std::optional<int64_t> {
      const Value &v = vals[i];
      if (v.kind != Value::Int || v.i < min) {
        error(e.args[i].value->loc,
              fmt::format("the {} of {} must be an integer >= {}, but '{}' is {}", what, f, min,
                          text(*e.args[i].value), v.kind == Value::Int ? std::to_string(v.i) : describe(v)));
        return std::nullopt;
      }
      return v.i;
    };
    if (f == "concat") {
      const Node *first = nullptr;
      const Expr *firstExpr = nullptr;
      std::vector<int> operands;
      std::vector<int64_t> shape;
      bool batched = false;
      int64_t axis = -1; // per-example, non-negative once the first operand is seen
      for (size_t i = 0; i < vals.size(); ++i) {
        if (!needTensor(i, "arguments"))
          return Value::error();
        const Node &n = node(vals[i]);
        const Expr &ex = *e.args[i].value;
        if (n.shape.empty()) {
          error(ex.loc, fmt::format("concat joins along the last dimension, but '{}' is a scalar",
                                    text(ex)));
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
            error(ex.loc, fmt::format("shape mismatch in concat: '{}' has shape {} but '{}' has "
                                      "shape {}; concat joins along {}, so the "
                                      "other dimensions must agree",
                                      text(*firstExpr), formatShape(first->shape), text(ex),
                                      formatShape(n.shape),
                                      last ? std::string("the last dimension")
                                           : fmt::format("axis {}", axis)));
            return Value::error();
          }
          if (n.dtype != first->dtype) {
            error(ex.loc, fmt::format("concat needs arguments of one type, but '{}' is {} and "
                                      "'{}' is {}",
                                      text(*firstExpr), describe(vals[0]), text(ex),
                                      describe(vals[i])));
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
    if (f == "slice") {
      if (!needTensor(0, "first argument"))
        return Value::error();
      const Node &n = node(vals[0]);
      const Expr &ex = *e.args[0].value;
      if (n.shape.empty()) {
        error(ex.loc, fmt::format("slice works on the last dimension, but '{}' is a scalar", text(ex)));
        return Value::error();
      }
      auto begin = needInt(1, "begin", 0);
      auto size = needInt(2, "size", 1);
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
    if (f == "embedding") {
      if (!needTensor(0, "table") || !needTensor(1, "ids"))
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
      return Value::tensor(addNode(OpKind::Embedding, {vals[0].node, vals[1].node}, shape,
                                   DType::F32, ids.batched, e.loc));
    }
    // dropout(x, rate)
    if (!needTensor(0, "first argument"))
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
  Value callCache(const Expr &e, Scope &scope) {
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

  int addStepState(const std::string &name, const std::vector<int64_t> &shape, const Loc &loc) {
    int n = addNode(OpKind::StepState, {}, shape, DType::F32, true, loc);
    mutNode(n).ioIndex = int(g_.stepStates.size());
    g_.stepStates.push_back(Graph::StepState{name, shape, n, -1});
    return n;
  }

  // The step's position (float [1] per example: how many positions came
  // before), made on first use; the step adds 1 to it.
  int positionNode(const Loc &loc) {
    if (positionNode_ >= 0)
      return positionNode_;
    positionNode_ = addStepState("position", {1}, loc);
    int one = addNode(OpKind::Constant, {}, {}, DType::F32, false, loc);
    mutNode(one).value = 1;
    int next = addNode(OpKind::Add, {positionNode_, one}, {1}, DType::F32, true, loc);
    g_.stepStates[size_t(node(Value::tensor(positionNode_)).ioIndex)].update = next;
    return positionNode_;
  }

  // ---- transformer primitives (issue 4) -----------------------------------

  // Binds the arguments of built-in `f` (by position, then by name) to its
  // parameters `params`, of which the first `required` must be given.
  // Returns one expression per parameter (null when not given), or nullopt
  // after an error.
  std::optional<std::vector<const Expr *>> bindBuiltinArgs(const std::string &f, const Expr &e,
                                                           const std::vector<std::string> &params,
                                                           size_t required,
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
  Value callTransformerBuiltin(const std::string &f, const Expr &e, Scope &scope) {
    std::vector<std::string> params;
    size_t required = 1;
    std::string example;
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
    auto bound = bindBuiltinArgs(f, e, params, required, example);
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
        error(args[i]->loc,
              want == DType::F32
                  ? fmt::format("{} needs a float tensor, but '{}' is an int tensor", f,
                                text(*args[i]))
                  : fmt::format("{} needs an int tensor (token ids), but '{}' is a float tensor",
                                f, text(*args[i])));
        return nullptr;
      }
      return &n;
    };
    if (f == "positions") {
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
        error(args[0]->loc, fmt::format("positions expects a length (an integer >= 1) or a "
                                        "sequence x[T, ...] of each example, but '{}' is {}",
                                        text(*args[0]),
                                        t.kind == Value::Int ? std::to_string(t.i) : describe(t)));
        return Value::error();
      }
      if (!checkSize({t.i}, e.loc, "positions(...)"))
        return Value::error();
      int r = addNode(OpKind::Positions, {}, {t.i}, DType::I32, false, e.loc);
      mutNode(r).size = t.i;
      return Value::tensor(r);
    }
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
      int r = addNode(f == "softmax" ? OpKind::Softmax : OpKind::LogSoftmax, {vals[0].node},
                      x->shape, DType::F32, x->batched, e.loc);
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
    bool fits = keep->shape.size() <= x->shape.size();
    for (size_t i = 0; fits && i < keep->shape.size(); ++i) {
      int64_t dk = keep->shape[keep->shape.size() - 1 - i];
      fits = dk == 1 || dk == x->shape[x->shape.size() - 1 - i];
    }
    if (!fits) {
      error(ke.loc, fmt::format("mask: the keep tensor '{}' of shape {} does not broadcast to the "
                                "shape {} of '{}' (numpy rules, per example)",
                                text(ke), formatShape(keep->shape), formatShape(x->shape),
                                text(ex)));
      return Value::error();
    }
    return Value::tensor(addNode(OpKind::Mask, {vals[0].node, vals[1].node}, x->shape, DType::F32,
                                 x->batched || keep->batched, e.loc));
  }

  // transpose, permute, reshape and dot (attention shape primitives, issue 4).
  // Axes are per example and 0-based, as for slice.
  Value callShapeBuiltin(const std::string &f, const Expr &e, Scope &scope) {
    size_t nTensors = f == "dot" ? 2 : 1;
    bool exact = f == "transpose" || f == "dot";
    size_t want = f == "transpose" ? 1 : f == "dot" ? 4 : 2;
    if (exact ? e.args.size() != want : e.args.size() < want) {
      const Loc &l = exact && e.args.size() > want ? e.args[want].value->loc : e.loc;
      error(l, fmt::format("{} expects {}{} arguments, got {}, as in '{}'", f, exact ? "" : "at least ",
                           want, e.args.size(), builtinExample(f)));
      return Value::error();
    }
    std::vector<Value> vals;
    for (const Arg &a : e.args) {
      Value v = eval(*a.value, scope);
      if (v.kind == Value::Error)
        return v;
      vals.push_back(v);
    }
    for (size_t i = 0; i < nTensors; ++i) {
      const Expr &ex = *e.args[i].value;
      if (vals[i].kind != Value::Tensor || node(vals[i]).dtype != DType::F32) {
        error(ex.loc, fmt::format("{} needs a float tensor, but '{}' is {}", f, text(ex),
                                  vals[i].kind == Value::Tensor ? "an int tensor" : describe(vals[i])));
        return Value::error();
      }
    }
    std::vector<int64_t> ints;
    for (size_t i = nTensors; i < vals.size(); ++i) {
      if (vals[i].kind != Value::Int) {
        error(e.args[i].value->loc, fmt::format("the arguments of {} after the tensor{} must be "
                                                "integers, but '{}' is {}",
                                                f, nTensors > 1 ? "s" : "", text(*e.args[i].value),
                                                describe(vals[i])));
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
          error(e.loc, fmt::format("permute of '{}' (shape {}) needs {} axes, a permutation of 0..{}, "
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
    if (f == "reshape") {
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
      return Value::tensor(addNode(OpKind::Reshape, {vals[0].node}, shape, DType::F32, x.batched, e.loc));
    }
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

  std::vector<std::string> callableNames() const {
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

  std::string cellMethodError(const LayerDecl &cell, const std::string &method) const {
    return fmt::format("cell '{}' has no method '{}'; use '.sequence(x)' for the output of every "
                       "step or '.last(x)' for the output of the last step{}",
                       cell.name, method, suggest(method, {"sequence", "last"}));
  }

  Value call(const Expr &e, Scope &scope, const std::string &nameHint) {
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
          error(e.loc, fmt::format("layer '{}' must be applied to an input, as in '{}(...)(x)'", f, f));
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
      if (hint.empty() && !prog_.layers.count(f) && f.size() > 0 && std::isupper(static_cast<unsigned char>(f[0])))
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

  // ---- cells ----------------------------------------------------------------
  // The scan whose body is being built (nodes_ points at its body).
  struct ScanBuild {
    Scan scan;
    std::map<int, int> captureOf; // outer node -> its ScanCapture body node
  };

  // An outer tensor used in a scan body: a ScanCapture node (one per value).
  Value capture(const Value &v) {
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
  void createState(const Stmt &s, Scope &scope) {
    std::vector<int64_t> shape;
    bool ok = true;
    for (const ExprPtr &d : s.dims) {
      auto v = evalDim(*d, scope);
      ok &= v.has_value();
      shape.push_back(v.value_or(1));
    }
    std::string full = scope.prefix + s.name;
    if (ok)
      ok = checkSize(shape, s.nameLoc, full);
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
  static const Stmt *lastAssign(const LayerDecl &cell, const std::string &name) {
    const Stmt *found = nullptr;
    for (const Stmt &s : cell.body)
      if (s.kind == StmtKind::Assign && s.name == name)
        found = &s;
    return found;
  }

  // The model parameter that is the time dimension: setting it to another
  // value changes the length of every scan of that length. Found by building
  // the model again with the candidate changed (quietly).
  std::string timeParam(const ModelDecl &m, const Graph &g) {
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

  // ---- layers and cells ------------------------------------------------------
  enum class Apply { Layer, Sequence, Last };

  // repeat(N, Layer(args))(x): N copies of a layer applied one after the
  // other, each with its own parameters, named as PyTorch names a
  // ModuleList's: `blocks.0.attn.Wq` ... `blocks.<N-1>.attn.Wq` for
  // `blocks = repeat(N, TransformerBlock(H))(x)`. Each copy's output is the
  // next one's input, so the layer must keep its input's shape.
  Value applyRepeat(const Expr &rep, const Expr &app, Scope &scope, const std::string &nameHint) {
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
    Value out = in;
    for (int64_t i = 0; i < count.i; ++i) {
      scope.env[carried] = out;
      out = applyLayer(*layer, ctor, chained, scope, fmt::format("{}.{}", name, i));
      scope.env.erase(carried);
      if (out.kind == Value::Error)
        return out;
      if (out.kind != Value::Tensor || (in.kind == Value::Tensor &&
                                        node(out).shape != node(in).shape)) {
        error(app.loc, fmt::format("repeat chains each copy's output into the next, but {} maps "
                                   "'{}' ({}) to {}; it must keep its input's shape",
                                   layer->name, text(*app.args[0].value), describe(in),
                                   describe(out)));
        return Value::error();
      }
    }
    return out;
  }

  // Layer(ctorArgs)(inputs): instantiate and apply. A cell:
  // Cell(ctorArgs).sequence(inputs) / .last(inputs): instantiate, build its
  // step as the body of a Scan, and apply it to the sequences.
  Value applyLayer(const LayerDecl &layer, const Expr &ctor, const Expr &app, Scope &scope,
                   const std::string &nameHint, Apply mode = Apply::Layer) {
    const std::string &kind = layer.name;
    bool cell = mode != Apply::Layer;
    const char *method = mode == Apply::Sequence ? "sequence" : "last";
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
      error(ctor.loc, fmt::format("cell '{}' cannot be applied inside the step of another cell",
                                  kind));
      return Value::error();
    }
    Scope inst;
    // ---- constructor arguments
    bool ok = true;
    std::vector<bool> given(layer.params.size(), false);
    std::vector<Value> values(layer.params.size());
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
      return Value::error();
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
          error(a.nameLoc, fmt::format("{} has no parameter named '{}'{}{}", kind, a.name,
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
                                        layer.params[idx].label, kind, text(*a.value),
                                        describe(v), kind, text(*a.value)));
        ok = false;
        continue;
      }
      values[idx] = v;
    }
    if (!ok)
      return Value::error();
    for (size_t i = 0; i < layer.params.size(); ++i)
      if (!given[i] && !layer.params[i].defaultValue) {
        error(ctor.loc, fmt::format("missing argument '{}' of {}", layer.params[i].label, kind));
        ok = false;
      }
    if (!ok)
      return Value::error();
    // ---- instance name (chosen before the inputs are evaluated, as Keras does)
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
      return Value::error();
    }
    scope.instances.insert(name);
    inst.prefix = scope.prefix + name + ".";
    // ---- inputs (evaluated in the caller's scope)
    std::vector<Value> inputs;
    for (const Arg &a : app.args) {
      if (!a.name.empty()) {
        error(a.nameLoc, cell ? fmt::format("the input of cell {} is passed by position, as in "
                                            "'{}(...).{}(x)'",
                                            kind, kind, method)
                              : fmt::format("the input of layer {} is passed by position, as in "
                                            "'{}(...)(x)'",
                                            kind, kind));
        return Value::error();
      }
      Value v = eval(*a.value, scope);
      if (v.kind == Value::Error)
        return v;
      if (v.kind != Value::Tensor) {
        error(a.value->loc, fmt::format("the input of {} must be a tensor, but '{}' is {}", kind,
                                        text(*a.value), describe(v)));
        return Value::error();
      }
      inputs.push_back(v);
    }
    if (inputs.size() != layer.callArgs.size()) {
      const Loc &l = inputs.size() > layer.callArgs.size() ? app.args[layer.callArgs.size()].value->loc : app.loc;
      error(l, fmt::format("{} takes {} input{}, got {}", kind, layer.callArgs.size(),
                           layer.callArgs.size() == 1 ? "" : "s", inputs.size()));
      return Value::error();
    }
    // The shapes the signature sees: a layer's inputs, or one step of a
    // cell's sequences (the first per-example dimension is time).
    std::vector<std::vector<int64_t>> shapes;
    int64_t length = 0;
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
        return Value::error();
      }
      if (n.shape.empty()) {
        error(argExpr.loc, fmt::format("{}(...).{} runs over the first dimension (time) of its "
                                       "input, but '{}' is a scalar per example: it has no time "
                                       "dimension",
                                       kind, method, text(argExpr)));
        return Value::error();
      }
      if (i > 0 && n.shape[0] != length) {
        error(argExpr.loc, fmt::format("the sequences of {}(...).{} must have the same length, but "
                                       "'{}' has {} steps and '{}' has {}",
                                       kind, method, text(*app.args[0].value), length,
                                       text(argExpr), n.shape[0]));
        return Value::error();
      }
      length = n.shape[0];
      shapes.emplace_back(n.shape.begin() + 1, n.shape.end());
    }
    auto sigText = [&](const SigArg &sa) {
      std::string sig;
      for (size_t d = 0; d < sa.dims.size(); ++d)
        sig += (d ? ", " : "") + exprToString(*sa.dims[d]);
      return fmt::format("{}[{}]", sa.name, sig);
    };
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
                            kind, method, text(argExpr), formatShape(n.shape),
                            formatShape(shapes[i]), sigText(sa), ellipsis ? "at least " : "", fixed,
                            fixed == 1 ? "" : "s",
                            rank < fixed ? fmt::format("; does '{}' have a time dimension?",
                                                       text(argExpr))
                                         : ""));
        else
          error(argExpr.loc, fmt::format("{} expects an input {} with {}{} dimension{}, but '{}' has shape {}",
                                         kind, sigText(sa), ellipsis ? "at least " : "", fixed,
                                         fixed == 1 ? "" : "s", text(argExpr),
                                         formatShape(n.shape)));
        return Value::error();
      }
    }
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
          error(p.defaultValue->loc, fmt::format("a {} parameter's default must be a number or a function",
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
    Value result;
    auto it = inst.env.find(layer.result);
    if (it == inst.env.end()) {
      if (diag_.errorCount() == errorsBefore)
        error(layer.resultLoc,
              cell ? fmt::format("the step of cell '{}' never assigns its output '{}' (it is "
                                 "neither a state nor a value computed in the step)",
                                 kind, layer.result)
                   : fmt::format("the call block of layer '{}' never assigns its result '{}'",
                                 kind, layer.result));
      result = Value::error();
    } else {
      result = it->second;
      if (result.kind != Value::Tensor && result.kind != Value::Error) {
        error(layer.resultLoc, fmt::format("the {} '{}' of {} '{}' must be a tensor, but it is {}",
                                           cell ? "output" : "result", layer.result,
                                           kindWord(&layer), kind, describe(result)));
        result = Value::error();
      } else if (cell && result.kind == Value::Tensor && !node(result).batched) {
        error(layer.resultLoc, fmt::format("the output '{}' of cell '{}' must be computed from "
                                           "the step's input or state, but it is the same for "
                                           "every example",
                                           layer.result, kind));
        result = Value::error();
      }
    }
    if (!cell) {
      leave();
    } else {
      // ---- the states after one step
      Scan &scan = sb.scan;
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
                                valueExpr ? fmt::format(" '{}'", text(*valueExpr)) : "",
                                describe(v)));
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

  // ---- train blocks -------------------------------------------------------
  // `g`: the model the train block belongs to (null for another model's).
  TrainConfig checkTrain(const TrainDecl &t, const Graph *g) {
    TrainConfig cfg;
    cfg.present = true;
    cfg.loc = t.loc;
    std::set<std::string> seen;
    Scope empty;
    Loc sampleLoc;
    std::string sampleKey;
    for (const TrainSetting &s : t.settings) {
      if (seen.count(s.key)) {
        diag_.error(s.loc, fmt::format("train setting '{}' is given twice", s.key));
        continue;
      }
      seen.insert(s.key);
      const Expr &v = *s.value;
      if (s.key == "data") {
        checkData(v, cfg, g);
      } else if (s.key == "optimizer") {
        checkOptimizer(v, cfg);
      } else if (s.key == "batch" || s.key == "epochs") {
        auto n = positiveInt(v, s.key);
        if (n)
          (s.key == "batch" ? cfg.batch : cfg.epochs) = *n;
      } else if (s.key == "sample_every" || s.key == "sample_length") {
        auto n = positiveInt(v, s.key);
        if (n)
          (s.key == "sample_every" ? cfg.sampleEvery : cfg.sampleLength) = *n;
        sampleLoc = s.loc;
        sampleKey = s.key;
      } else if (s.key == "seed") {
        auto n = number(v, s.key);
        if (n && (n->kind != Value::Int || n->i < 0))
          diag_.error(v.loc, fmt::format("seed must be a non-negative integer, got {}", text(v)));
        else if (n)
          cfg.seed = uint64_t(n->i);
      } else if (s.key == "test_split" || s.key == "validation_split") {
        auto n = number(v, s.key);
        if (n && (n->f < 0 || n->f >= 1))
          diag_.error(v.loc, fmt::format("{} must be in [0, 1), got {}", s.key, text(v)));
        else if (n)
          (s.key == "test_split" ? cfg.testSplit : cfg.validationSplit) = n->f;
      } else if (s.key == "validation_data") {
        if (v.kind == ExprKind::Name && v.text == "test") {
          cfg.validateOnTest = true;
          cfg.validationDataLoc = s.loc;
        } else {
          diag_.error(v.loc, fmt::format("validation_data must be 'test' (the test set, checked "
                                         "after every epoch as Keras's validation_data), got '{}'",
                                         text(v)));
        }
      } else if (s.key == "scale") {
        if (v.kind == ExprKind::Name && (v.text == "minmax" || v.text == "none"))
          cfg.scale = v.text == "minmax";
        else
          diag_.error(v.loc, fmt::format("unknown scaling '{}'; expected 'minmax' or 'none'", text(v)));
      } else {
        std::vector<std::string> keys = {"data",       "optimizer",        "batch",
                                         "epochs",     "test_split",       "validation_split",
                                         "validation_data", "seed",        "scale",
                                         "sample_every", "sample_length"};
        diag_.error(s.loc, fmt::format("unknown train setting '{}'; expected one of data, "
                                       "optimizer, batch, epochs, test_split, validation_split, "
                                       "validation_data, seed, scale, sample_every, "
                                       "sample_length{}",
                                       s.key, suggest(s.key, keys)));
      }
    }
    if (cfg.dataArgs.count("test") && seen.count("test_split"))
      diag_.error(cfg.dataArgs["test"].loc, "babi data with a test file is tested on that file: remove "
                                            "test_split, or the test file");
    if (cfg.validateOnTest && cfg.validationSplit > 0)
      diag_.error(cfg.validationDataLoc, "validation_data test and validation_split both choose "
                                         "the validation rows: remove one of them");
    else if (cfg.validateOnTest && !cfg.dataArgs.count("test") && cfg.testSplit <= 0)
      diag_.error(cfg.validationDataLoc,
                  "validation_data test needs a test set: set test_split, or give babi data a "
                  "test file (babi(\"train\", test = \"test\"))");
    if (!sampleKey.empty() && cfg.dataKind != "text" && !cfg.dataKind.empty())
      diag_.error(sampleLoc, fmt::format("{} generates text, so it needs text data, as in "
                                         "'data text(\"corpus.txt\", tokens = words, window = 25)'",
                                         sampleKey));
    return cfg;
  }

  std::optional<Value> number(const Expr &e, const std::string &what) {
    Scope empty;
    if (e.kind == ExprKind::Name) {
      diag_.error(e.loc, fmt::format("{} must be a number, got '{}'", what, e.text));
      return std::nullopt;
    }
    Value v = eval(e, empty);
    if (v.kind == Value::Error)
      return std::nullopt;
    if (!v.isNumber()) {
      diag_.error(e.loc, fmt::format("{} must be a number, got {}", what, describe(v)));
      return std::nullopt;
    }
    return v;
  }
  std::optional<int64_t> positiveInt(const Expr &e, const std::string &what) {
    auto v = number(e, what);
    if (!v)
      return std::nullopt;
    if (v->kind != Value::Int || v->i <= 0) {
      diag_.error(e.loc, fmt::format("{} must be a positive integer, got {}", what, text(e)));
      return std::nullopt;
    }
    return v->i;
  }

  std::optional<TrainValue> trainValue(const Expr &e) {
    TrainValue tv;
    tv.loc = e.loc;
    if (e.kind == ExprKind::String) {
      tv.string = e.text;
      return tv;
    }
    if (e.kind == ExprKind::Name) {
      tv.string = e.text;
      return tv;
    }
    Scope empty;
    Value v = eval(e, empty);
    if (v.kind == Value::Error)
      return std::nullopt;
    if (!v.isNumber()) {
      diag_.error(e.loc, fmt::format("expected a number, a string or a name, got '{}'", text(e)));
      return std::nullopt;
    }
    tv.number = v.f;
    return tv;
  }

  void checkData(const Expr &e, TrainConfig &cfg, const Graph *g) {
    if (e.kind != ExprKind::Call || !e.lhs || e.lhs->kind != ExprKind::Name) {
      diag_.error(e.loc, "expected a data source such as 'csv(\"data/iris.csv\", label = \"species\")'");
      return;
    }
    const std::string &kind = e.lhs->text;
    if (kind != "csv" && kind != "text" && kind != "babi") {
      diag_.error(e.lhs->loc, fmt::format("unknown data source '{}'; expected csv(...), text(...) or babi(...){}",
                                          kind, suggest(kind, {"csv", "text", "babi"})));
      return;
    }
    cfg.dataKind = kind;
    cfg.dataLoc = e.loc;
    bool havePath = false;
    for (const Arg &a : e.args) {
      if (a.name.empty()) {
        if (havePath || a.value->kind != ExprKind::String) {
          diag_.error(a.value->loc, havePath ? fmt::format("{}(...) takes one path; name the other arguments, as in 'label = \"species\"'", kind)
                                             : fmt::format("expected the data file path as a string, as in {}(\"data/file.csv\")", kind));
          continue;
        }
        havePath = true;
        const std::string &p = a.value->text;
        fs::path fp(p);
        if (fp.is_absolute())
          cfg.dataPath = p;
        else
          cfg.dataPath = (fs::path(prog_.mainFile).parent_path() / fp).lexically_normal().string();
        continue;
      }
      if (cfg.dataArgs.count(a.name)) {
        diag_.error(a.nameLoc, fmt::format("argument '{}' of {} is given twice", a.name, kind));
        continue;
      }
      if (kind == "text" && !checkTextOption(a))
        continue;
      if (kind == "babi" && !checkBabiOption(a, cfg))
        continue;
      auto tv = trainValue(*a.value);
      if (tv)
        cfg.dataArgs[a.name] = *tv;
    }
    if (!havePath)
      diag_.error(e.loc, fmt::format("{}(...) needs the path of the data file, as in {}(\"data/file.csv\")", kind, kind));
    if (kind == "text")
      finishTextData(e, cfg, g);
    if (kind == "babi")
      finishBabiData(e, cfg, g);
  }

  // babi("train.txt", test = "test.txt", task = answer|masked): the test
  // file is resolved like the data path (relative to the .nn file); task
  // masked is BERT's masked-token pretraining on the same examples.
  bool checkBabiOption(const Arg &a, TrainConfig &cfg) {
    const Expr &v = *a.value;
    if (a.name == "task") {
      if (v.kind == ExprKind::Name && (v.text == "answer" || v.text == "masked"))
        return true;
      diag_.error(v.loc, fmt::format("task of babi data must be answer (predict the answer) or masked "
                                     "(predict masked tokens of [story; question]), got '{}'{}",
                                     text(v), v.kind == ExprKind::Name
                                                  ? suggest(v.text, {"answer", "masked"}) : ""));
      return false;
    }
    if (a.name != "test") {
      diag_.error(a.nameLoc, fmt::format("babi data has no option '{}'; its options are test (the "
                                         "file of test questions, as in babi(\"train.txt\", test = "
                                         "\"test.txt\")) and task (answer or masked){}",
                                         a.name, suggest(a.name, {"test", "task"})));
      return false;
    }
    if (v.kind != ExprKind::String) {
      diag_.error(v.loc, fmt::format("test of babi data must be a file path in quotes, got '{}'", text(v)));
      return false;
    }
    fs::path fp(v.text);
    TrainValue tv;
    tv.loc = v.loc;
    tv.string = fp.is_absolute() ? v.text
                                 : (fs::path(prog_.mainFile).parent_path() / fp).lexically_normal().string();
    cfg.dataArgs["test"] = tv;
    return false; // stored here, resolved
  }

  // bAbI examples are (story ids, question ids) -> answer id: the model's
  // inputs and target must have those shapes.
  void finishBabiData(const Expr &e, const TrainConfig &cfg, const Graph *g) {
    if (!g)
      return;
    auto task = cfg.dataArgs.find("task");
    bool masked = task != cfg.dataArgs.end() && task->second.string == std::string("masked");
    auto dt = [](DType d) { return d == DType::I32 ? "int" : "float"; };
    if (g->inputs.size() != 2) {
      diag_.error(e.loc, fmt::format("babi data gives each example a story and a question, so the model "
                                     "needs two inputs, 'input story: int[S]' and 'input question: "
                                     "int[Q]', but it has {}",
                                     g->inputs.size()));
      return;
    }
    for (const IO &in : g->inputs) {
      if (in.dtype != DType::I32 || in.shape.size() != 1) {
        diag_.error(e.loc, fmt::format("babi data gives token ids, so the model's input '{}' must be "
                                       "'int[N]', but it is {} {}",
                                       in.name, dt(in.dtype), formatShape(in.shape)));
        diag_.note(in.loc, "the input is declared here");
      }
    }
    if (masked) {
      int64_t len = 0;
      for (const IO &in : g->inputs)
        len += in.shape.size() == 1 ? in.shape[0] : 0;
      if (g->targets.size() != 1 || g->targets[0].dtype != DType::I32 ||
          g->targets[0].shape != std::vector<int64_t>{len}) {
        diag_.error(e.loc, fmt::format("babi data with task = masked gives a label per position of "
                                       "[story; question] (-1 where nothing is predicted), so the "
                                       "model needs one target 'int[{}]' (story + question)",
                                       len));
        if (!g->targets.empty())
          diag_.note(g->targets[0].loc, "the target is declared here");
      }
    } else if (g->targets.size() != 1 || g->targets[0].dtype != DType::I32 || !g->targets[0].shape.empty()) {
      diag_.error(e.loc, "babi data gives one answer (a token id) per example, so the model needs one "
                         "target 'target answer: int'");
      if (!g->targets.empty())
        diag_.note(g->targets[0].loc, "the target is declared here");
    }
  }

  // text("corpus.txt", tokens = words|chars, window = N, mode = next|sequence)
  bool checkTextOption(const Arg &a) {
    const Expr &v = *a.value;
    auto oneOf = [&](std::initializer_list<const char *> names) {
      std::string list;
      for (const char *n : names) {
        if (v.kind == ExprKind::Name && v.text == n)
          return true;
        list += fmt::format("{}{}", list.empty() ? "" : " or ", n);
      }
      std::vector<std::string> cands(names.begin(), names.end());
      diag_.error(v.loc, fmt::format("{} of text data must be {}, got '{}'{}", a.name, list,
                                     text(v), v.kind == ExprKind::Name ? suggest(v.text, cands) : ""));
      return false;
    };
    if (a.name == "tokens")
      return oneOf({"words", "chars"});
    if (a.name == "mode")
      return oneOf({"next", "sequence"});
    if (a.name == "window")
      return positiveInt(v, "window of text data").has_value();
    diag_.error(a.nameLoc, fmt::format("text data has no option '{}'; its options are tokens "
                                       "(words or chars), window (the number of tokens per "
                                       "example) and mode (next or sequence){}",
                                       a.name, suggest(a.name, {"tokens", "window", "mode"})));
    return false;
  }

  // Defaults of text data, and the shapes the model needs for it.
  void finishTextData(const Expr &e, TrainConfig &cfg, const Graph *g) {
    auto setDefault = [&](const std::string &key, TrainValue v) {
      if (cfg.dataArgs.count(key))
        return;
      v.loc = e.loc;
      cfg.dataArgs[key] = v;
    };
    TrainValue words, next;
    words.string = "words";
    next.string = "next";
    setDefault("tokens", words);
    setDefault("mode", next);
    bool sequence = *cfg.dataArgs["mode"].string == "sequence";
    if (!g)
      return;
    // the token ids go to the first input: int[T]
    if (g->inputs.empty())
      return;
    const IO &in = g->inputs[0];
    if (in.dtype != DType::I32 || in.shape.size() != 1) {
      diag_.error(e.loc, fmt::format("text data gives each example a window of token ids, so the "
                                     "model's input must be 'int[T]', but '{}' is {} {}",
                                     in.name, in.dtype == DType::I32 ? "int" : "float",
                                     formatShape(in.shape)));
      diag_.note(in.loc, "the input is declared here");
      return;
    }
    if (!cfg.dataArgs.count("window")) {
      TrainValue w;
      w.number = double(in.shape[0]);
      setDefault("window", w);
    }
    if (g->targets.empty())
      return;
    const IO &tg = g->targets[0];
    bool ok = tg.dtype == DType::I32 && tg.shape.size() == (sequence ? 1u : 0u);
    if (!ok) {
      diag_.error(e.loc,
                  sequence ? fmt::format("mode = sequence predicts the token after every "
                                         "position of the window, so the target must be "
                                         "'int[T]', but '{}' is {} {}",
                                         tg.name, tg.dtype == DType::I32 ? "int" : "float",
                                         formatShape(tg.shape))
                           : fmt::format("mode = next predicts the token after the window, so "
                                         "the target must be 'int' (one token id), but '{}' is "
                                         "{} {}",
                                         tg.name, tg.dtype == DType::I32 ? "int" : "float",
                                         formatShape(tg.shape)));
      diag_.note(tg.loc, "the target is declared here");
    }
  }

  void checkOptimizer(const Expr &e, TrainConfig &cfg) {
    static const std::map<std::string, std::vector<std::string>> opts = {
        {"sgd", {"lr", "momentum"}},
        {"adam", {"lr", "beta1", "beta2", "epsilon"}},
        {"rmsprop", {"lr", "rho", "epsilon", "momentum"}},
    };
    const Expr *callee = &e;
    if (e.kind == ExprKind::Call)
      callee = e.lhs.get();
    if (!callee || callee->kind != ExprKind::Name) {
      diag_.error(e.loc, "expected an optimizer such as 'adam(lr = 0.01)'");
      return;
    }
    auto it = opts.find(callee->text);
    if (it == opts.end()) {
      diag_.error(callee->loc, fmt::format("unknown optimizer '{}'; expected sgd, adam or rmsprop{}",
                                           callee->text,
                                           suggest(callee->text, {"sgd", "adam", "rmsprop"})));
      return;
    }
    cfg.optimizer = it->first;
    cfg.optimizerLoc = e.loc;
    const auto &names = it->second;
    size_t pos = 0;
    if (e.kind != ExprKind::Call)
      return;
    for (const Arg &a : e.args) {
      std::string key;
      Loc kloc = a.name.empty() ? a.value->loc : a.nameLoc;
      if (a.name.empty()) {
        if (pos >= names.size()) {
          diag_.error(a.value->loc, fmt::format("{} expects at most {} arguments, got {}", it->first,
                                                names.size(), e.args.size()));
          return;
        }
        key = names[pos++];
      } else {
        key = a.name;
        if (std::find(names.begin(), names.end(), key) == names.end()) {
          std::string list;
          for (const std::string &n : names)
            list += (list.empty() ? "" : ", ") + n;
          diag_.error(kloc, fmt::format("{} has no argument '{}'; its arguments are {}{}", it->first,
                                        key, list, suggest(key, names)));
          continue;
        }
      }
      if (cfg.optimizerArgs.count(key)) {
        diag_.error(kloc, fmt::format("argument '{}' of {} is given twice", key, it->first));
        continue;
      }
      auto v = number(*a.value, fmt::format("argument '{}' of {}", key, it->first));
      if (!v)
        continue;
      if (v->f < 0 || (key == "lr" && v->f == 0)) {
        diag_.error(a.value->loc, fmt::format("argument '{}' of {} must be {}, got {}", key, it->first,
                                              key == "lr" ? "positive" : "non-negative", text(*a.value)));
        continue;
      }
      TrainValue tv;
      tv.number = v->f;
      tv.loc = a.value->loc;
      cfg.optimizerArgs[key] = tv;
    }
  }

  const Program &prog_;
  const FrontendOptions &opts_;
  DiagnosticEngine &diag_;
  Graph g_;
  std::vector<Frame> frames_;
  std::optional<Loc> override_;
  bool lossSeen_ = false;
  bool reportedTooLarge_ = false;
  Loc lossLoc_;
  bool findTimeParam_ = true;
  std::vector<Node> *nodes_ = &g_.nodes; // where addNode appends
  ScanBuild *scan_ = nullptr;            // the scan whose body is being built
  int dropouts_ = 0;                     // seed streams handed out
  int positionNode_ = -1;                // cacheStep: the position state's node
  std::vector<std::pair<const ParamDecl *, Value>> modelParams_;
};

std::optional<Graph> build(const std::string &source, const std::string &fileName,
                           const FrontendOptions &opts, DiagnosticEngine &diag,
                           const std::string &modelName) {
  int before = diag.errorCount();
  auto prog = loadProgram(source, fileName, opts, diag);
  Checker checker(*prog, opts, diag);
  auto g = checker.run(modelName);
  if (diag.errorCount() > before)
    return std::nullopt;
  return g;
}

} // namespace

std::optional<Graph> buildGraphFromSource(const std::string &source, const std::string &fileName,
                                          const FrontendOptions &opts, DiagnosticEngine &diag,
                                          const std::string &modelName) {
  return build(source, fileName, opts, diag, modelName);
}

std::optional<Graph> buildGraph(const std::string &path, const FrontendOptions &opts,
                                DiagnosticEngine &diag, const std::string &modelName) {
  std::string text, why;
  if (!readFile(path, text, why)) {
    diag.error(Loc{path, 0, 0}, fmt::format("cannot read '{}': {}", path, why));
    return std::nullopt;
  }
  return build(text, path, opts, diag, modelName);
}

bool dumpASTFromSource(const std::string &source, const std::string &fileName,
                       const FrontendOptions &, DiagnosticEngine &diag, std::ostream &os) {
  int before = diag.errorCount();
  diag.addSource(fileName, source);
  auto file = parseFile(fileName, source, diag);
  if (diag.errorCount() > before)
    return false;
  printAST(*file, os);
  return true;
}

bool dumpAST(const std::string &path, const FrontendOptions &opts, DiagnosticEngine &diag,
             std::ostream &os) {
  std::string text, why;
  if (!readFile(path, text, why)) {
    diag.error(Loc{path, 0, 0}, fmt::format("cannot read '{}': {}", path, why));
    return false;
  }
  return dumpASTFromSource(text, path, opts, diag, os);
}

std::vector<std::string> listModels(const std::string &path, DiagnosticEngine &diag) {
  std::string text, why;
  if (!readFile(path, text, why))
    return {};
  DiagnosticEngine quiet;
  auto file = parseFile(path, text, quiet);
  (void)diag;
  std::vector<std::string> names;
  for (const ModelDecl &m : file->models)
    names.push_back(m.name);
  return names;
}

} // namespace nnc::dsl
