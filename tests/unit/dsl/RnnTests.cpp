// Recurrent cells (std.rnn, user cells), scans, concat/slice/embedding/dropout,
// text data, model-parameter overrides and the time parameter.
#include "DslTestUtil.h"

#include <set>

using namespace nnc::dsl;
using namespace nnc::dsl::test;

namespace {

const char *kMoby = R"(import std.rnn

model TextGen(vocab V = 2700, window T = 25) {
  input  words: int[T]
  target next:  int
  e      = Embedding(V, 25)(words)       # [T, 25]
  h1     = LSTM(150).sequence(e)         # [T, 150]
  h2     = LSTM(150).last(h1)            # [150]
  d      = Dropout(0.2)(h2)
  logits = Dense(V)(relu(Dense(150)(d)))
  output probs = softmax(logits)
  loss   cross_entropy(logits, next)
}

train TextGen {
  data      text("data/moby.txt", tokens = words, window = 25)
  optimizer adam(lr = 0.001)
  batch 128
  epochs 300
  validation_split 0.1
  sample_every 10
  sample_length 40
}
)";

BuildResult buildWith(const std::string &src, std::map<std::string, int64_t> overrides) {
  std::ostringstream os;
  DiagnosticEngine diag(os);
  FrontendOptions opts{NNC_STDLIB_DIR};
  opts.overrides = std::move(overrides);
  BuildResult r;
  r.graph = buildGraphFromSource(src, "test.nn", opts, diag);
  r.output = os.str();
  r.errors = diag.errorCount();
  r.diags = diag.diagnostics();
  return r;
}

// A model applying `cell` (from std.rnn) to x: float[T, in].
std::string cellModel(const std::string &cell, int64_t in, const std::string &method = "sequence") {
  return "import std.rnn\n"
         "model M(window T = 7) {\n"
         "  input x: float[T, " +
         std::to_string(in) +
         "]\n"
         "  target y: float[" +
         std::string(method == "sequence" ? "T, " : "") +
         "4]\n"
         "  r = " +
         cell + "." + method +
         "(x)\n"
         "  loss mse(Dense(4)(r), y)\n"
         "}\n";
}

std::vector<OpKind> bodyOps(const Scan &s) {
  std::vector<OpKind> ops;
  for (const Node &n : s.body)
    ops.push_back(n.op);
  return ops;
}

std::vector<std::string> paramNames(const Graph &g, const std::string &prefix) {
  std::vector<std::string> names;
  for (const Param &p : g.params)
    if (p.name.rfind(prefix, 0) == 0)
      names.push_back(p.name);
  return names;
}

using Shape = std::vector<int64_t>;

// Checks the invariants the compiler relies on for every scan of a graph.
void checkScanInvariants(const Graph &g) {
  for (size_t si = 0; si < g.scans.size(); ++si) {
    const Scan &s = g.scans[si];
    INFO("scan " << s.name);
    // exactly one Scan node refers to it
    int refs = 0;
    for (const Node &n : g.nodes)
      if (n.op == OpKind::Scan && n.scanIndex == int(si)) {
        ++refs;
        CHECK(n.batched);
        std::vector<int> ops = s.sequences;
        ops.insert(ops.end(), s.captures.begin(), s.captures.end());
        CHECK(n.operands == ops);
        Shape out = s.body[size_t(s.output)].shape;
        if (s.returnSequence)
          out.insert(out.begin(), s.length);
        CHECK(n.shape == out);
      }
    CHECK(refs == 1);
    for (int q : s.sequences) {
      const Node &seq = g.nodes[size_t(q)];
      CHECK(seq.batched);
      REQUIRE_FALSE(seq.shape.empty());
      CHECK(seq.shape[0] == s.length);
    }
    REQUIRE(s.output >= 0);
    REQUIRE(size_t(s.output) < s.body.size());
    for (size_t i = 0; i < s.body.size(); ++i) {
      const Node &n = s.body[i];
      for (int o : n.operands)
        CHECK(size_t(o) < i); // topological
      switch (n.op) {
      case OpKind::ScanState:
        REQUIRE(size_t(n.ioIndex) < s.states.size());
        CHECK(n.shape == s.states[size_t(n.ioIndex)].shape);
        CHECK(n.batched);
        break;
      case OpKind::ScanInput: {
        REQUIRE(size_t(n.ioIndex) < s.sequences.size());
        const Node &seq = g.nodes[size_t(s.sequences[size_t(n.ioIndex)])];
        CHECK(n.shape == Shape(seq.shape.begin() + 1, seq.shape.end()));
        CHECK(n.dtype == seq.dtype);
        CHECK(n.batched);
        break;
      }
      case OpKind::ScanCapture: {
        REQUIRE(size_t(n.ioIndex) < s.captures.size());
        const Node &c = g.nodes[size_t(s.captures[size_t(n.ioIndex)])];
        CHECK(n.shape == c.shape);
        CHECK(n.batched == c.batched);
        break;
      }
      case OpKind::Param: {
        REQUIRE(size_t(n.paramIndex) < g.params.size());
        const Param &p = g.params[size_t(n.paramIndex)];
        CHECK(n.shape == p.shape);
        // Param::node is the parameter's node in the model's graph
        CHECK(g.nodes[size_t(p.node)].op == OpKind::Param);
        CHECK(g.nodes[size_t(p.node)].paramIndex == n.paramIndex);
        break;
      }
      case OpKind::Input:
      case OpKind::Target:
      case OpKind::Scan:
        FAIL("not allowed in a scan body");
        break;
      default:
        break;
      }
    }
    for (const Scan::State &st : s.states) {
      REQUIRE(st.update >= 0);
      const Node &u = s.body[size_t(st.update)];
      CHECK(u.shape == st.shape);
      CHECK(u.dtype == DType::F32);
      CHECK(u.batched);
    }
  }
}

struct Case {
  const char *name;
  std::string source;
  std::string expected; // "line:col: message" of the first error (prefix match)
};

void checkCase(const Case &c) {
  auto r = buildSource(c.source);
  INFO(c.name);
  INFO(r.output);
  CHECK_FALSE(r.graph);
  REQUIRE(r.errors >= 1);
  std::string first = firstError(r);
  CHECK(first.substr(0, c.expected.size()) == c.expected);
  std::string where = c.expected.substr(0, c.expected.find(": "));
  CHECK(r.output.find("test.nn:" + where + ": error: ") == 0);
}

} // namespace

TEST_CASE("an LSTM over a sequence is a scan", "[dsl][rnn]") {
  auto r = buildSource(kMoby);
  INFO(r.output);
  REQUIRE(r.graph);
  const Graph &g = *r.graph;
  checkScanInvariants(g);
  REQUIRE(g.scans.size() == 2);
  const Scan &s = g.scans[0];
  CHECK(s.name == "h1");
  CHECK(s.kind == "LSTM");
  CHECK(s.length == 25);
  CHECK(s.returnSequence);
  CHECK_FALSE(g.scans[1].returnSequence);
  CHECK(g.scans[1].name == "h2");
  // the outer nodes
  const Node *e = findNode(g, "e");
  REQUIRE(e);
  CHECK(e->op == OpKind::Embedding);
  CHECK(e->shape == Shape{25, 25});
  CHECK(e->batched);
  const Node *h1 = findNode(g, "h1");
  REQUIRE(h1);
  CHECK(h1->op == OpKind::Scan);
  CHECK(h1->shape == Shape{25, 150});
  CHECK(h1->operands == std::vector<int>{int(e - g.nodes.data())});
  CHECK(h1->loc.line == 7); // std library nodes point at the user's call
  CHECK(h1->loc.col == 12);
  const Node *h2 = findNode(g, "h2");
  REQUIRE(h2);
  CHECK(h2->op == OpKind::Scan);
  CHECK(h2->shape == Shape{150});
  CHECK(h2->operands == std::vector<int>{int(h1 - g.nodes.data())});
  CHECK(s.sequences == std::vector<int>{int(e - g.nodes.data())});
  CHECK(s.captures.empty());
  // states
  REQUIRE(s.states.size() == 2);
  CHECK(s.states[0].name == "h1.h");
  CHECK(s.states[1].name == "h1.c");
  CHECK(s.states[0].shape == Shape{150});
  CHECK(s.states[0].init == 0);
  CHECK(s.output == s.states[0].update); // -> h
  // parameters: h1.Wf [175, 150] (H + in = 150 + 25), ...
  CHECK(paramNames(g, "h1.") == std::vector<std::string>{"h1.Wf", "h1.bf", "h1.Wi", "h1.bi",
                                                         "h1.Wc", "h1.bc", "h1.Wo", "h1.bo"});
  const Param *wf = findParam(g, "h1.Wf");
  REQUIRE(wf);
  CHECK(wf->shape == Shape{175, 150});
  CHECK(wf->init == "glorot_uniform");
  CHECK(wf->fanIn == 175);
  CHECK(wf->fanOut == 150);
  CHECK(findParam(g, "h1.bf")->init == "constant");
  CHECK(findParam(g, "h1.bf")->initValue == 1);
  CHECK(findParam(g, "h1.bi")->initValue == 0);
  CHECK(findParam(g, "h2.Wf")->shape == Shape{300, 150});
  // the body: one step of the course's LSTM
  using K = OpKind;
  std::vector<K> want = {K::ScanInput, K::ScanState, K::ScanState, // x, h, c
                         K::Param,     K::Param,     K::Param,     K::Param,
                         K::Param,     K::Param,     K::Param,     K::Param,
                         K::Concat,                              // z
                         K::MatMul,    K::Add,       K::Sigmoid, // f
                         K::MatMul,    K::Add,       K::Sigmoid, // i
                         K::MatMul,    K::Add,       K::Tanh,    // g
                         K::Mul,       K::Mul,       K::Add,     // c
                         K::MatMul,    K::Add,       K::Sigmoid, // o
                         K::Tanh,      K::Mul};                  // h
  CHECK(bodyOps(s) == want);
  const Node &x = s.body[0];
  CHECK(x.shape == Shape{25});
  CHECK(x.ioIndex == 0);
  const Node &z = s.body[11];
  CHECK(z.operands == std::vector<int>{1, 0}); // concat(h, x)
  CHECK(z.shape == Shape{175});
  CHECK(z.name == "h1.z");
  // c = f * c + i * g reads the old c (the ScanState) and defines the new one
  const Node &fc = s.body[21];
  CHECK(fc.operands == std::vector<int>{14, 2});
  CHECK(s.states[1].update == 23);
  CHECK(s.body[23].name == "h1.c");
  // h = o * tanh(c) reads the new c
  CHECK(s.body[27].operands == std::vector<int>{23});
  for (const Node &n : s.body) {
    CHECK(n.loc.file == "test.nn");
    CHECK(n.loc.line == 7);
  }
}

TEST_CASE("the text-generation model: summary, dropout, train block", "[dsl][rnn]") {
  auto r = buildSource(kMoby);
  INFO(r.output);
  REQUIRE(r.graph);
  const Graph &g = *r.graph;
  REQUIRE(g.layers.size() == 6);
  std::vector<std::string> rows;
  int64_t total = 0;
  for (const auto &l : g.layers) {
    rows.push_back(l.name + " " + l.kind + " " + formatShape(l.outputShape) + " " +
                   std::to_string(l.numParams));
    total += l.numParams;
  }
  CHECK(rows == std::vector<std::string>{"e Embedding [25, 25] 67500", // 2700 * 25
                                         "h1 LSTM [25, 150] 105600",   // 4 * (175 * 150 + 150)
                                         "h2 LSTM [150] 180600",       // 4 * (300 * 150 + 150)
                                         "d Dropout [150] 0",
                                         "dense_1 Dense [150] 22650",    // 150 * 150 + 150
                                         "logits Dense [2700] 407700"}); // 150 * 2700 + 2700
  CHECK(total == 784050);
  int64_t fromParams = 0;
  for (const Param &p : g.params)
    fromParams += numElements(p.shape);
  CHECK(fromParams == total);
  CHECK(findParam(g, "e.table")->shape == Shape{2700, 25});
  CHECK(findParam(g, "e.table")->init == "uniform");
  CHECK(findParam(g, "e.table")->initValue == 0.05);
  const Node *d = findNode(g, "d");
  REQUIRE(d);
  CHECK(d->op == OpKind::Dropout);
  CHECK(d->value == 0.2);
  CHECK(g.timeParam == "T");
  // the train block
  const TrainConfig &t = g.train;
  CHECK(t.dataKind == "text");
  CHECK(t.dataPath == "data/moby.txt");
  CHECK(*t.dataArgs.at("tokens").string == "words");
  CHECK(*t.dataArgs.at("window").number == 25);
  CHECK(*t.dataArgs.at("mode").string == "next"); // the default
  CHECK(t.sampleEvery == 10);
  CHECK(t.sampleLength == 40);
  CHECK(t.batch == 128);
  CHECK(t.validationSplit == Approx(0.1));
}

TEST_CASE("overrides replace model-parameter defaults", "[dsl][rnn]") {
  // the one-step model used for generation
  auto r = buildWith(kMoby, {{"T", 1}});
  INFO(r.output);
  REQUIRE(r.graph);
  const Graph &g = *r.graph;
  checkScanInvariants(g);
  CHECK(g.inputs[0].shape == Shape{1});
  CHECK(g.scans[0].length == 1);
  CHECK(g.scans[1].length == 1);
  CHECK(findNode(g, "h1")->shape == Shape{1, 150});
  CHECK(g.timeParam == "T");
  // the parameters do not depend on T: a checkpoint of the full model fits
  auto full = buildSource(kMoby);
  REQUIRE(full.graph);
  REQUIRE(full.graph->params.size() == g.params.size());
  for (size_t i = 0; i < g.params.size(); ++i) {
    CHECK(g.params[i].name == full.graph->params[i].name);
    CHECK(g.params[i].shape == full.graph->params[i].shape);
  }
  // by label, several at once
  auto r2 = buildWith(kMoby, {{"vocab", 100}, {"window", 7}});
  INFO(r2.output);
  REQUIRE(r2.graph);
  CHECK(r2.graph->scans[0].length == 7);
  CHECK(findParam(*r2.graph, "e.table")->shape == Shape{100, 25});
  int64_t total = 0;
  for (const auto &l : r2.graph->layers)
    total += l.numParams;
  CHECK(total == 100 * 25 + 105600 + 180600 + 22650 + 150 * 100 + 100);
  // a parameter without a default may be given by an override
  auto r3 = buildWith("model M(n N) {\n  input x: float[N]\n  loss mse(x, x)\n}\n", {{"N", 3}});
  REQUIRE(r3.graph);
  CHECK(r3.graph->inputs[0].shape == Shape{3});
  // an unknown name
  auto r4 = buildWith(kMoby, {{"W", 3}});
  CHECK_FALSE(r4.graph);
  CHECK(firstError(r4) == "3:7: cannot set 'W' = 3: model 'TextGen' has no parameter 'W'; its "
                          "parameters are vocab V, window T");
  auto r5 = buildWith(kMoby, {{"vocab", 0}});
  CHECK_FALSE(r5.graph);
  CHECK(firstError(r5).find("a dimension must be a positive integer") != std::string::npos);
}

TEST_CASE("the time parameter", "[dsl][rnn]") {
  auto timeParam = [](const std::string &src) {
    auto r = buildSource(src);
    INFO(r.output);
    REQUIRE(r.graph);
    return r.graph->timeParam;
  };
  // no scans: empty
  CHECK(timeParam("model M(window T = 4) {\n  input x: float[T]\n  loss mse(x, x)\n}\n") == "");
  // the time dimension is a literal: empty, even with a parameter of that value
  CHECK(timeParam("import std.rnn\nmodel M(window T = 5) {\n  input x: float[5, 3]\n"
                  "  h = SimpleRNN(4).last(x)\n  loss mse(h, h)\n}\n") == "");
  // the parameter that is the length, not another one of the same value
  CHECK(timeParam("import std.rnn\nmodel M(units U = 5, window T = 5) {\n  input x: float[T, U]\n"
                  "  h = GRU(U).sequence(x)\n  loss mse(h, h)\n}\n") == "T");
  // through a Dense before the cell
  CHECK(timeParam("import std.rnn\nmodel M(window W = 5) {\n  input x: float[W, 3]\n"
                  "  h = SimpleRNN(4).last(Dense(6)(x))\n  loss mse(h, h)\n}\n") == "W");
  // a length computed from the parameter is not the parameter: W = 1 would
  // not give one step
  CHECK(timeParam("import std.rnn\nmodel M(window W = 5) {\n  input x: float[W + 1, 3]\n"
                  "  h = SimpleRNN(4).last(x)\n  loss mse(h, h)\n}\n") == "");
}

TEST_CASE("std.rnn cells: parameters and step bodies", "[dsl][rnn]") {
  using K = OpKind;
  SECTION("SimpleRNN") {
    auto r = buildSource(cellModel("SimpleRNN(4, relu)", 3));
    INFO(r.output);
    REQUIRE(r.graph);
    checkScanInvariants(*r.graph);
    const Scan &s = r.graph->scans[0];
    CHECK(s.kind == "SimpleRNN");
    CHECK(paramNames(*r.graph, "r.") == std::vector<std::string>{"r.W", "r.b"});
    CHECK(findParam(*r.graph, "r.W")->shape == Shape{7, 4});
    CHECK(bodyOps(s) == std::vector<K>{K::ScanInput, K::ScanState, K::Param, K::Param, K::Concat,
                                       K::MatMul, K::Add, K::Relu});
    CHECK(findNode(*r.graph, "r")->shape == Shape{7, 4});
    CHECK(r.graph->layers[0].numParams == 7 * 4 + 4);
  }
  SECTION("PeepholeLSTM") {
    auto r = buildSource(cellModel("PeepholeLSTM(4)", 3, "last"));
    INFO(r.output);
    REQUIRE(r.graph);
    const Graph &g = *r.graph;
    checkScanInvariants(g);
    CHECK(paramNames(g, "r.") == std::vector<std::string>{"r.Wf", "r.pf", "r.bf", "r.Wi", "r.pi",
                                                          "r.bi", "r.Wc", "r.bc", "r.Wo", "r.po",
                                                          "r.bo"});
    for (const char *p : {"r.pf", "r.pi", "r.po"}) {
      CHECK(findParam(g, p)->shape == Shape{4});
      CHECK(findParam(g, p)->init == "zeros");
    }
    CHECK(findParam(g, "r.Wo")->shape == Shape{7, 4});
    CHECK(g.layers[0].numParams == 4 * (7 * 4 + 4) + 3 * 4);
    CHECK(findNode(g, "r")->shape == Shape{4});
    // the peepholes: pf * c and pi * c read c(t-1), po * c reads c(t)
    const Scan &s = g.scans[0];
    int oldC = -1, newC = s.states[1].update;
    for (size_t i = 0; i < s.body.size(); ++i)
      if (s.body[i].op == K::ScanState && s.body[i].ioIndex == 1)
        oldC = int(i);
    auto peephole = [&](const std::string &name) {
      for (const Node &n : s.body)
        if (n.op == K::Mul && n.operands.size() == 2 &&
            s.body[size_t(n.operands[0])].op == K::Param &&
            g.params[size_t(s.body[size_t(n.operands[0])].paramIndex)].name == name)
          return n.operands[1];
      return -2;
    };
    CHECK(peephole("r.pf") == oldC);
    CHECK(peephole("r.pi") == oldC);
    CHECK(peephole("r.po") == newC);
  }
  SECTION("GRU (the course's form)") {
    auto r = buildSource(cellModel("GRU(4)", 3));
    INFO(r.output);
    REQUIRE(r.graph);
    const Graph &g = *r.graph;
    checkScanInvariants(g);
    CHECK(paramNames(g, "r.") ==
          std::vector<std::string>{"r.Wz", "r.bz", "r.Wr", "r.br", "r.Wh", "r.bh"});
    CHECK(findParam(g, "r.Wh")->shape == Shape{7, 4});
    CHECK(g.layers[0].numParams == 3 * (7 * 4 + 4));
    const Scan &s = g.scans[0];
    REQUIRE(s.states.size() == 1);
    // two concats: [h, x] and [r * h, x]
    int concats = 0;
    for (const Node &n : s.body)
      if (n.op == K::Concat) {
        ++concats;
        CHECK(n.shape == Shape{7});
        CHECK(n.operands[1] == 0); // x
      }
    CHECK(concats == 2);
    // h = (1 - z) * h + z * hc
    const Node &h = s.body[size_t(s.states[0].update)];
    CHECK(h.op == K::Add);
  }
  SECTION("GRUResetAfter (PyTorch's form)") {
    auto r = buildSource(cellModel("GRUResetAfter(4)", 3));
    INFO(r.output);
    REQUIRE(r.graph);
    const Graph &g = *r.graph;
    checkScanInvariants(g);
    CHECK(paramNames(g, "r.") == std::vector<std::string>{"r.Wr", "r.Ur", "r.br", "r.Wz", "r.Uz",
                                                          "r.bz", "r.Wn", "r.Un", "r.bn", "r.bun"});
    CHECK(findParam(g, "r.Wr")->shape == Shape{3, 4});
    CHECK(findParam(g, "r.Ur")->shape == Shape{4, 4});
    CHECK(findParam(g, "r.bun")->shape == Shape{4});
    CHECK(g.layers[0].numParams == 3 * (3 * 4 + 4 * 4 + 4) + 4);
    int concats = 0, matmuls = 0;
    for (const Node &n : g.scans[0].body) {
      concats += n.op == K::Concat;
      matmuls += n.op == K::MatMul;
    }
    CHECK(concats == 0);
    CHECK(matmuls == 6);
  }
}

TEST_CASE("user cells: several inputs, captures, layers in a step, dropout", "[dsl][rnn]") {
  const char *src = R"(import std.layers

# a cell conditioned on a context vector (a capture) with two input sequences
cell Cond(units H, ctx) {
  state h[H] = 0, n = 0
  param W[H + a + b + k, H]
  step(x[a], y[b]) -> out {
    k2 = k
    h = tanh(concat(h, x, y, ctx) @ W) + dropout(h, 0.1)
    n = n + 1
    out = Dense(2)(h) * n
  }
}

model M(window T = 6) {
  input  x: float[T, 3]
  input  y: float[T, 2]
  input  c: float[5]
  target t: float[T, 2]
  s = Cond(4, c).sequence(x, y)
  loss mse(dropout(s, 0.5), t)
}
)";
  // `k` is bound from ctx's shape only by the signature, so it is unknown:
  auto bad = buildSource(src);
  CHECK_FALSE(bad.graph);
  CHECK(firstError(bad).rfind("6:23: unknown name 'k'", 0) == 0);
  std::string fixed = src;
  fixed.replace(fixed.find("H + a + b + k"), 13, "H + a + b + 5");
  fixed.replace(fixed.find("    k2 = k\n"), 11, "");
  auto r = buildSource(fixed);
  INFO(r.output);
  REQUIRE(r.graph);
  const Graph &g = *r.graph;
  checkScanInvariants(g);
  REQUIRE(g.scans.size() == 1);
  const Scan &s = g.scans[0];
  CHECK(s.kind == "Cond");
  CHECK(s.sequences.size() == 2);
  REQUIRE(s.captures.size() == 1);
  CHECK(g.nodes[size_t(s.captures[0])].name == "c");
  REQUIRE(s.states.size() == 2);
  CHECK(s.states[1].name == "s.n");
  CHECK(s.states[1].shape.empty());
  CHECK(paramNames(g, "s.") == std::vector<std::string>{"s.W", "s.dense_1.W", "s.dense_1.b"});
  CHECK(findParam(g, "s.W")->shape == Shape{14, 4});
  CHECK(findNode(g, "s")->shape == Shape{6, 2});
  CHECK(findNode(g, "s")->operands.size() == 3);
  // every dropout has its own seed stream, inside the step too
  std::set<int> streams;
  int dropouts = 0;
  for (const Node &n : g.nodes)
    if (n.op == OpKind::Dropout) {
      streams.insert(n.seedStream);
      ++dropouts;
      CHECK(n.value == 0.5);
    }
  for (const Node &n : s.body)
    if (n.op == OpKind::Dropout) {
      streams.insert(n.seedStream);
      ++dropouts;
      CHECK(n.value == 0.1);
    }
  CHECK(dropouts == 2);
  CHECK(streams.size() == 2);
  CHECK(g.layers.size() == 1);
  CHECK(g.layers[0].numParams == 14 * 4 + 4 * 2 + 2);
}

TEST_CASE("concat, slice, embedding and dropout", "[dsl][rnn]") {
  const char *src = R"(import std.layers
model M(vocab V = 10) {
  input  ids: int[6]
  input  f: float[6, 3]
  target t: float[6, 2]
  param table[V, 4] = uniform(0.1)
  e = embedding(table, ids)
  a = concat(e, f, e)
  b = slice(a, 2, 5)
  c = dropout(b, 0.25)
  d = Dropout(0.5)(c)
  g = Dropout(0)(d)
  loss mse(Dense(2)(g), t)
}
)";
  auto r = buildSource(src);
  INFO(r.output);
  REQUIRE(r.graph);
  const Graph &g = *r.graph;
  const Node *e = findNode(g, "e");
  CHECK(e->shape == Shape{6, 4});
  CHECK(e->dtype == DType::F32);
  CHECK(e->batched);
  const Node *a = findNode(g, "a");
  CHECK(a->op == OpKind::Concat);
  CHECK(a->shape == Shape{6, 11});
  CHECK(a->operands.size() == 3);
  const Node *b = findNode(g, "b");
  CHECK(b->op == OpKind::Slice);
  CHECK(b->begin == 2);
  CHECK(b->size == 5);
  CHECK(b->shape == Shape{6, 5});
  std::vector<int> streams;
  for (const Node &n : g.nodes)
    if (n.op == OpKind::Dropout)
      streams.push_back(n.seedStream);
  CHECK(streams == std::vector<int>{0, 1, 2});
  CHECK(findNode(g, "c")->value == 0.25);
  CHECK(findNode(g, "d")->value == 0.5);
  CHECK(findNode(g, "g")->value == 0);
  CHECK(g.layers.size() == 3); // d, g (Dropout) and the Dense
  CHECK(g.layers[0].kind == "Dropout");
  CHECK(g.layers[0].numParams == 0);
  CHECK(g.timeParam.empty());
}

TEST_CASE("text data", "[dsl][rnn]") {
  auto withTrain = [](const std::string &data, const std::string &target = "int") {
    return "import std.rnn\n"          // 1
           "model M(window T = 8) {\n" // 2
           "  input w: int[T]\n"       // 3
           "  target n: " +
           target +
           "\n"                                        // 4
           "  h = LSTM(4).last(Embedding(20, 3)(w))\n" // 5
           "  loss cross_entropy(Dense(20)(h), n)\n"   // 6
           "}\n"                                       // 7
           "train M {\n"                               // 8
           "  data " +
           data +
           "\n" // 9
           "}\n";
  };
  SECTION("defaults") {
    auto r = buildSource(withTrain("text(\"t.txt\")"));
    INFO(r.output);
    REQUIRE(r.graph);
    const TrainConfig &t = r.graph->train;
    CHECK(*t.dataArgs.at("tokens").string == "words");
    CHECK(*t.dataArgs.at("mode").string == "next");
    CHECK(*t.dataArgs.at("window").number == 8); // the input's length
    CHECK(t.sampleEvery == 0);
    CHECK(t.sampleLength == 100);
  }
  SECTION("sequence mode") {
    std::string src = withTrain("text(\"t.txt\", tokens = chars, mode = sequence)", "int[T]");
    src.replace(src.find("LSTM(4).last"), 12, "LSTM(4).sequence");
    auto r = buildSource(src);
    INFO(r.output);
    REQUIRE(r.graph);
    CHECK(*r.graph->train.dataArgs.at("tokens").string == "chars");
    CHECK(*r.graph->train.dataArgs.at("mode").string == "sequence");
  }
  std::vector<Case> cases = {
      {"tokens", withTrain("text(\"t.txt\", tokens = bytes)"),
       "9:31: tokens of text data must be words or chars, got 'bytes'"},
      {"tokens typo", withTrain("text(\"t.txt\", tokens = word)"),
       "9:31: tokens of text data must be words or chars, got 'word' (did you mean 'words'?)"},
      {"window zero", withTrain("text(\"t.txt\", window = 0)"),
       "9:31: window of text data must be a positive integer, got 0"},
      {"window name", withTrain("text(\"t.txt\", window = T)"),
       "9:31: window of text data must be a number, got 'T'"},
      {"mode", withTrain("text(\"t.txt\", mode = all)"),
       "9:29: mode of text data must be next or sequence, got 'all'"},
      {"unknown option", withTrain("text(\"t.txt\", label = \"x\")"),
       "9:22: text data has no option 'label'; its options are tokens"},
      {"sequence mode needs int[T]", withTrain("text(\"t.txt\", mode = sequence)"),
       "9:8: mode = sequence predicts the token after every position of the window, so the "
       "target must be 'int[T]', but 'n' is int []"},
      {"next mode needs int",
       [&] {
         std::string src = withTrain("text(\"t.txt\")", "int[T]");
         src.replace(src.find("LSTM(4).last"), 12, "LSTM(4).sequence");
         return src;
       }(),
       "9:8: mode = next predicts the token after the window, so the target must be 'int'"},
      {"samples need text", withTrain("csv(\"a.csv\")\n  sample_every 5"),
       "10:3: sample_every generates text, so it needs text data"},
      {"sample_length", withTrain("text(\"t.txt\")\n  sample_length 0"),
       "10:17: sample_length must be a positive integer, got 0"},
      {"float input",
       "model M {\n  input x: float[4]\n  target y: int\n  param W[4, 3]\n"
       "  loss cross_entropy(x @ W, y)\n}\ntrain M {\n  data text(\"t.txt\")\n}\n",
       "8:8: text data gives each example a window of token ids, so the model's input must be "
       "'int[T]', but 'x' is float [4]"},
  };
  for (const Case &c : cases)
    checkCase(c);
}

TEST_CASE("cell errors", "[dsl][rnn][diag]") {
  auto model = [](const std::string &body) {
    return "import std.rnn\n"          // 1
           "model M(window T = 5) {\n" // 2
           "  input x: float[T, 3]\n"  // 3
           "  input v: float[3]\n"     // 4
           "  input i: int[T]\n"       // 5
           + body +                    // 6...
           "  loss mse(v, v)\n"
           "}\n";
  };
  // a user cell (lines 1-..) before the model
  auto withCell = [](const std::string &cell, const std::string &use) {
    return cell + "model M {\n  input x: float[5, 3]\n  h = " + use + "\n  loss mse(h, h)\n}\n";
  };
  std::vector<Case> cases = {
      {"plain call", model("  h = LSTM(4)(x)\n"),
       "6:7: cell 'LSTM' is applied with '.sequence(x)' (the output of every step) or '.last(x)' "
       "(the output of the last step), as in 'LSTM(...).last(x)'"},
      {"unknown method", model("  h = LSTM(4).seq(x)\n"),
       "6:7: cell 'LSTM' has no method 'seq'; use '.sequence(x)' for the output of every step or "
       "'.last(x)' for the output of the last step"},
      {"method not called", model("  h = LSTM(4).last\n"),
       "6:7: '.last' must be applied to the input sequence, as in 'LSTM(...).last(x)'"},
      {"cell not created", model("  h = LSTM.last(x)\n"),
       "6:7: cell 'LSTM' must be created with its arguments before '.last', as in "
       "'LSTM(...).last(x)'"},
      {"bare cell", model("  h = LSTM(x)\n"),
       "6:7: cell 'LSTM' must be applied to a sequence, as in 'LSTM(...).sequence(x)'"},
      {"no time dimension", model("  h = LSTM(4).sequence(v)\n"),
       "6:24: LSTM(...).sequence runs over the first dimension (time) of 'v', which has shape "
       "[3], so each step gets a value of shape []; but step(x[in]) expects 1 dimension; does 'v' "
       "have a time dimension?"},
      {"scalar per example", model("  s = mse(v, v)\n  h = LSTM(4).sequence(s)\n"),
       "7:24: LSTM(...).sequence runs over a sequence of each example, but 's' is the same for "
       "every example"},
      {"int sequence", model("  h = LSTM(4).last(i)\n"),
       "6:20: LSTM(...).last runs over the first dimension (time) of 'i', which has shape [5], so "
       "each step gets a value of shape []"},
      {"named input", model("  h = LSTM(4).last(x = x)\n"),
       "6:20: the input of cell LSTM is passed by position, as in 'LSTM(...).last(x)'"},
      {"too many sequences", model("  h = LSTM(4).last(x, x)\n"),
       "6:23: LSTM takes 1 input, got 2"},
      {"instance reused", model("  h = LSTM(4).last(x)\n  h = GRU(4).last(x)\n"),
       "7:7: cell instance name 'h' is already used"},
      {"state shape",
       withCell("cell C(units H) {\n  state h[H] = 0\n  step(x[in]) -> h {\n    h = x\n  }\n}\n",
                "C(4).last(x)"),
       "4:5: state 'h' is declared with shape [4], but its new value 'x' is a float tensor [3]"},
      {"state not per example",
       withCell("cell C(units H) {\n  state h[H] = 0\n  param b[H]\n  step(x[in]) -> y {\n    h = "
                "b\n    y = x * 2\n  }\n}\n",
                "C(4).last(x)"),
       "5:5: the new value of state 'h' ('b') must be computed from the step's input or state"},
      {"state init",
       withCell(
           "cell C(units H) {\n  state h[H] = zeros\n  step(x[in]) -> h {\n    h = h\n  }\n}\n",
           "C(4).last(x)"),
       "2:16: 'zeros' is an initializer"},
      {"state init tensor",
       withCell("cell C(units H) {\n  state h[H] = 0, g[H] = x\n  step(x[in]) -> h {\n    h = h + "
                "x\n  }\n}\n",
                "C(3).last(x)"),
       "2:26: the initial value of state 'g' must be a number, as in 'state g[...] = 0', but 'x' "
       "is a float tensor [3]"},
      {"state twice",
       withCell("cell C(units H) {\n  state h[H] = 0, h[H] = 1\n  step(x[in]) -> h {\n    h = h\n  "
                "}\n}\n",
                "C(4).last(x)"),
       "2:19: 'h' is already defined"},
      {"state named like the input",
       withCell("cell C(units H) {\n  state x[H] = 0\n  step(x[in]) -> x {\n    x = x\n  }\n}\n",
                "C(4).last(x)"),
       "2:9: 'x' is already defined"},
      {"unknown state",
       withCell("cell C(units H) {\n  state h[H] = 0\n  step(x[in]) -> h {\n    h = tanh(hh + x)\n "
                " }\n}\n",
                "C(3).last(x)"),
       "4:14: unknown name 'hh' (did you mean 'h'?)"},
      {"output never assigned",
       withCell(
           "cell C(units H) {\n  state h[H] = 0\n  step(x[in]) -> y {\n    h = h + x\n  }\n}\n",
           "C(3).last(x)"),
       "3:18: the step of cell 'C' never assigns its output 'y' (it is neither a state nor a value "
       "computed in the step)"},
      {"output not per example",
       withCell("cell C(units H) {\n  state h[H] = 0\n  param b[H]\n  step(x[in]) -> b {\n    h = "
                "h + x\n  }\n}\n",
                "C(3).last(x)"),
       "4:18: the output 'b' of cell 'C' must be computed from the step's input or state"},
      {"nested cell",
       withCell("cell C(units H) {\n  state h[H] = 0\n  step(x[in]) -> h {\n    h = C(H).last(x)\n "
                " }\n}\n",
                "C(3).last(x)"),
       "4:9: cell 'C' cannot be applied inside the step of another cell"},
      {"step signature",
       withCell("cell C(units H) {\n  state h[H] = 0\n  step(x[H]) -> h {\n    h = h + x\n  }\n}\n",
                "C(4).last(x)"),
       "9:17: C expects steps x[H] with H = 4, but 'x' has shape [5, 3] (steps of shape [3])"},
      {"cell with call", "cell C {\n  call(x[n]) -> y {\n    y = x\n  }\n}\n" + model(""),
       "2:3: a cell has a 'step(x[...]) -> h { ... }' block, not 'call'"},
      {"layer with step", "layer L {\n  step(x[n]) -> y {\n    y = x\n  }\n}\n" + model(""),
       "2:3: only a cell has a 'step' block"},
      {"layer with state",
       "layer L {\n  state h[2] = 0\n  call(x[n]) -> y {\n    y = x\n  }\n}\n" + model(""),
       "2:3: only a cell has state; declare 'L' as 'cell L'"},
      {"cell without step", "cell C(units H) {\n  state h[H] = 0\n}\n" + model(""),
       "1:6: cell 'C' has no 'step(x[...]) -> h { ... }' block"},
      {"step without arrow", "cell C {\n  step(x[n]) {\n    y = x\n  }\n}\n" + model(""),
       "2:14: expected '->' and the name of the step's output"},
      {"bad cell item", "cell C {\n  y = 3\n}\n" + model(""),
       "2:3: expected 'state', 'param' or 'step(...)' in the body of cell 'C', found 'y'"},
      {"cell named like a layer",
       "cell Dense {\n  state h[1] = 0\n  step(x[n]) -> h {\n    h = h\n  }\n}\n" + model(""),
       "1:6: layer 'Dense' is already defined"},
      {"concat shapes", model("  h = concat(x, v)\n"),
       "6:17: shape mismatch in concat: 'x' has shape [5, 3] but 'v' has shape [3]; concat joins "
       "along the last dimension, so the other dimensions must agree"},
      {"concat one", model("  h = concat(x)\n"), "6:7: concat expects at least 2 arguments, got 1"},
      {"concat number", model("  h = concat(x, 1)\n"),
       "6:17: the arguments of concat must be a tensor, but '1' is the integer 1"},
      {"concat int and float", model("  h = concat(i, v)\n"),
       "6:17: concat needs arguments of one type"},
      {"slice range", model("  h = slice(v, 2, 2)\n"),
       "6:7: slice(v, 2, 2) is out of range: the last dimension of 'v' has size 3"},
      {"slice begin", model("  h = slice(v, -1, 2)\n"),
       "6:16: the begin of slice must be an integer >= 0, but '-1' is -1"},
      {"slice size", model("  h = slice(v, 0, 1.5)\n"),
       "6:19: the size of slice must be an integer >= 1, but '1.5' is the number 1.5"},
      {"embedding float ids", model("  param t[10, 4]\n  h = embedding(t, v)\n"),
       "7:20: embedding expects integer token ids as its second argument, but 'v' is a float "
       "tensor [3]"},
      {"Embedding float ids", model("  h = Embedding(10, 4)(x)\n"),
       "6:7: embedding expects integer token ids as its second argument, but 'ids' is a float "
       "tensor [5, 3]"},
      {"embedding table", model("  h = embedding(x, i)\n"),
       "6:17: embedding expects a float table [V, E] that is the same for every example"},
      {"dropout rate", model("  h = dropout(v, 1)\n"),
       "6:18: the rate of dropout must be in [0, 1), got 1"},
      {"dropout rate negative", model("  h = Dropout(-0.1)(v)\n"),
       "6:7: the rate of dropout must be in [0, 1), got -0.1 (in Dropout layer 'h')"},
      {"dropout of ints", model("  h = dropout(i, 0.5)\n"),
       "6:15: dropout needs a float tensor, but 'i' is an int tensor"},
      {"builtin as value", model("  h = concat\n"),
       "6:7: 'concat' must be called, as in 'concat(a, b)'"},
      {"builtin arity", model("  h = dropout(v)\n"),
       "6:7: dropout expects 2 arguments, got 1, as in 'dropout(x, 0.2)'"},
      {"builtin named", model("  h = slice(v, begin = 0, size = 1)\n"),
       "6:16: slice does not take named arguments"},
  };
  for (const Case &c : cases)
    checkCase(c);
}

TEST_CASE("a never-assigned state is a warning", "[dsl][rnn][diag]") {
  auto r =
      buildSource("cell C(units H) {\n  state h[H] = 0, k[H] = 1\n  param b[H]\n"
                  "  step(x[in]) -> h {\n    h = b + k\n  }\n}\n"
                  "model M {\n  input x: float[5, 3]\n  h = C(4).last(x)\n  loss mse(h, h)\n}\n");
  INFO(r.output);
  REQUIRE(r.graph);
  CHECK(r.output.find("test.nn:2:19: warning: state 'k' of cell 'C' is never assigned in the "
                      "step, so it keeps its initial value") == 0);
  const Scan &s = r.graph->scans[0];
  CHECK(s.states[1].init == 1);
  CHECK(s.body[size_t(s.states[1].update)].op == OpKind::ScanState);
}

TEST_CASE("errors inside std.rnn point at the user's call", "[dsl][rnn][diag]") {
  auto r = buildSource("import std.rnn\nmodel M {\n  input x: float[5, 3]\n"
                       "  h = LSTM(0).last(x)\n  loss mse(h, h)\n}\n");
  CHECK_FALSE(r.graph);
  CHECK(firstError(r) ==
        "4:7: a dimension must be a positive integer, but 'H' is 0 (in LSTM cell 'h')");
  CHECK(r.output.find("rnn.nn:") != std::string::npos);
  CHECK(r.output.find(": note: in the body of cell 'LSTM'") != std::string::npos);
}

TEST_CASE("the AST of a cell", "[dsl][rnn]") {
  std::ostringstream os, err;
  DiagnosticEngine diag(err);
  REQUIRE(dumpASTFromSource("cell C(units H) {\n  state h[H] = 0\n  param W[H, H]\n"
                            "  step(x[in]) -> h {\n    h = LSTM(H).last(x)\n  }\n}\n",
                            "a.nn", FrontendOptions{}, diag, os));
  CHECK(os.str() == "File a.nn\n"
                    "  Cell C 1:6\n"
                    "    Parameter units H 1:14\n"
                    "    State h 2:3\n"
                    "      dim\n"
                    "        Name H 2:11\n"
                    "      init\n"
                    "        Int 0 2:16\n"
                    "    Param W 3:3\n"
                    "      dim\n"
                    "        Name H 3:11\n"
                    "      dim\n"
                    "        Name H 3:14\n"
                    "    Step -> h 4:3\n"
                    "      Input x 4:8\n"
                    "        dim\n"
                    "          Name in 4:10\n"
                    "      Assign h 5:5\n"
                    "        Call 5:9\n"
                    "          callee\n"
                    "            Member .last 5:9\n"
                    "              Call 5:9\n"
                    "                callee\n"
                    "                  Name LSTM 5:9\n"
                    "                arg\n"
                    "                  Name H 5:14\n"
                    "          arg\n"
                    "            Name x 5:22\n");
}
