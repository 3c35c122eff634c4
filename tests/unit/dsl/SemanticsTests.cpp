// Layer expansion, naming, shapes and batching of the checked graph.
#include "DslTestUtil.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

using namespace nnc::dsl;
using namespace nnc::dsl::test;
namespace fs = std::filesystem;

TEST_CASE("nested layers, auto names and user layers", "[dsl][sema]") {
  const char *src = R"(import std.layers

layer MLP(hidden H, out O = 2) {
  param scale[O] = constant(0.5)
  call(x[in]) -> y {
    h = Dense(2 * H, tanh)(x)
    y = Dense(O)(Dense(H)(h)) * scale
  }
}

model Net(width W = 6) {
  input x: float[W - 1]
  target t: float[2]
  param bias[2] = 1
  a = MLP(4)(x)
  b = Dense(2)(relu(Dense(3)(a))) + bias
  output b
  loss mse(b, t) + 0.01 * mse(a, t)
}
)";
  auto r = buildSource(src);
  INFO(r.output);
  REQUIRE(r.graph);
  const Graph &g = *r.graph;
  CHECK(g.inputs[0].shape == std::vector<int64_t>{5});
  std::vector<std::string> names;
  for (const Param &p : g.params)
    names.push_back(p.name);
  // Keras-style auto names: the outer Dense is created first (dense_1)
  CHECK(names == std::vector<std::string>{"bias", "a.scale", "a.h.W", "a.h.b", "a.dense_2.W",
                                          "a.dense_2.b", "a.dense_1.W", "a.dense_1.b", "dense_2.W",
                                          "dense_2.b", "dense_1.W", "dense_1.b"});
  CHECK(findParam(g, "a.h.W")->shape == std::vector<int64_t>{5, 8});
  CHECK(findParam(g, "a.dense_2.W")->shape == std::vector<int64_t>{8, 4});
  CHECK(findParam(g, "a.scale")->init == "constant");
  CHECK(findParam(g, "a.scale")->initValue == 0.5);
  CHECK(findParam(g, "bias")->init == "constant");
  CHECK(findParam(g, "bias")->initValue == 1);
  CHECK(findParam(g, "bias")->fanIn == 2);
  // summary rows: top-level instances only, in the order they complete
  REQUIRE(g.layers.size() == 3);
  CHECK(g.layers[0].name == "a");
  CHECK(g.layers[0].kind == "MLP");
  CHECK(g.layers[0].numParams == 2 + 5 * 8 + 8 + 8 * 4 + 4 + 4 * 2 + 2);
  CHECK(g.layers[1].name == "dense_2");
  CHECK(g.layers[1].outputShape == std::vector<int64_t>{3});
  CHECK(g.layers[2].name == "dense_1");
  // locations: nodes of a user layer keep their body location; nodes of a
  // std layer point at the call (in the user's file)
  const Node *h = findNode(g, "a.h");
  REQUIRE(h);
  CHECK(h->op == OpKind::Tanh);
  CHECK(h->loc.line == 6);
  CHECK(h->loc.col == 9);
  CHECK(findParam(g, "a.h.W")->loc.line == 6);
  CHECK(findParam(g, "a.scale")->loc.line == 4);
  for (const Node &n : g.nodes)
    CHECK(n.loc.file == "test.nn");
  // the loss: a sum of two scalar losses
  const Node &loss = g.nodes[size_t(g.lossNode)];
  CHECK(loss.op == OpKind::Add);
  CHECK(loss.shape.empty());
  CHECK_FALSE(loss.batched);
  REQUIRE(g.outputs.size() == 1);
  CHECK(g.outputs[0].name == "b");
  CHECK_FALSE(g.train.present);
}

TEST_CASE("primitive ops, constants and batching", "[dsl][sema]") {
  const char *src = R"(model M {
  input x: float[3, 4]
  input s: float     # a scalar per example
  target y: int[3]
  param W[4, 5]
  param v[5] = normal(0.02)
  param u[4] = uniform(0.05)
  param k = ones
  z = x @ W          # [3, 5], batched
  a = z * v - 2      # broadcast with an unbatched vector and a constant
  b = -a / sqrt(exp(log(sigmoid(a) + 1)))
  c = softmax(b) + log_softmax(b) + neg(b) + k
  w = W @ (W * 0 + 1)[0] if 0
  loss cross_entropy(c, y)
}
)";
  // (the `w` line is not valid syntax: it checks that the rest still builds
  // nothing, i.e. the graph is rejected)
  auto bad = buildSource(src);
  CHECK_FALSE(bad.graph);

  std::string good = src;
  good.erase(good.find("  w = W"), good.find("  loss") - good.find("  w = W"));
  auto r = buildSource(good);
  INFO(r.output);
  REQUIRE(r.graph);
  const Graph &g = *r.graph;
  const Node *z = findNode(g, "z");
  REQUIRE(z);
  CHECK(z->op == OpKind::MatMul);
  CHECK(z->shape == std::vector<int64_t>{3, 5});
  CHECK(z->batched);
  const Node *a = findNode(g, "a");
  REQUIRE(a);
  CHECK(a->op == OpKind::Sub);
  const Node &two = g.nodes[size_t(a->operands[1])];
  CHECK(two.op == OpKind::Constant);
  CHECK(two.value == 2);
  CHECK(two.shape.empty());
  CHECK_FALSE(two.batched);
  CHECK(findParam(g, "W")->init == "glorot_uniform"); // the default for a matrix
  CHECK(findParam(g, "W")->fanIn == 4);
  CHECK(findParam(g, "W")->fanOut == 5);
  CHECK(findParam(g, "v")->init == "normal");
  CHECK(findParam(g, "v")->initValue == Approx(0.02));
  CHECK(findParam(g, "u")->init == "uniform");
  CHECK(findParam(g, "k")->init == "ones");
  CHECK(findParam(g, "k")->shape.empty());
  const Node *c = findNode(g, "c");
  REQUIRE(c);
  CHECK(c->shape == std::vector<int64_t>{3, 5});
  CHECK(c->batched);
  // every op kind used above appears
  std::set<OpKind> ops;
  for (const Node &n : g.nodes)
    ops.insert(n.op);
  for (OpKind k :
       {OpKind::Param, OpKind::Input, OpKind::Target, OpKind::Constant, OpKind::MatMul, OpKind::Add,
        OpKind::Sub, OpKind::Mul, OpKind::Div, OpKind::Neg, OpKind::Sigmoid, OpKind::Exp,
        OpKind::Log, OpKind::Sqrt, OpKind::Softmax, OpKind::LogSoftmax, OpKind::CrossEntropy})
    CHECK(ops.count(k));
  // topological order
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (int op : g.nodes[i].operands)
      CHECK(op < int(i));
  CHECK(g.inputs.size() == 2);
  // broadcasting is per example: a batched scalar against a batched [3, 5],
  // a batched [5] against an unbatched [2, 3, 5]
  std::string more = good;
  more.replace(more.find("+ k\n"), 3, "+ s\n  param q[2, 3, 5]\n  d = x[0] if 0");
  more.erase(more.find("  d = x[0]"), more.find("  loss") - more.find("  d = x[0]"));
  more.replace(more.find("  loss"), 0, "  d = c * q + v\n");
  auto r2 = buildSource(more);
  INFO(r2.output);
  REQUIRE(r2.graph);
  CHECK(findNode(*r2.graph, "c")->shape == std::vector<int64_t>{3, 5});
  CHECK(findNode(*r2.graph, "d")->shape == std::vector<int64_t>{2, 3, 5});
  CHECK(findNode(*r2.graph, "d")->batched);
  CHECK(g.inputs[1].shape.empty());
  CHECK(g.targets[0].shape == std::vector<int64_t>{3});
}

TEST_CASE("model parameters, reassignment and constant folding", "[dsl][sema]") {
  const char *src = R"(model Seq(vocab V = 10, window T = 2 * 3, hidden H = V / 2 + 1) {
  input words: int[T]
  input e: float[T, H]
  target next: int[T]
  param Wo[H, V]
  h = tanh(e)
  h = h * 0.5      # names can be rebound
  logits = h @ Wo
  loss cross_entropy(logits, next)
}
)";
  auto r = buildSource(src);
  INFO(r.output);
  REQUIRE(r.graph);
  CHECK(r.graph->inputs[0].shape == std::vector<int64_t>{6});
  CHECK(r.graph->inputs[0].dtype == DType::I32);
  CHECK(r.graph->inputs[1].shape == std::vector<int64_t>{6, 6});
  CHECK(findParam(*r.graph, "Wo")->shape == std::vector<int64_t>{6, 10});
  CHECK(findNode(*r.graph, "logits")->shape == std::vector<int64_t>{6, 10});
}

TEST_CASE("Dense on a sequence: x[..., in]", "[dsl][sema]") {
  const char *src = R"(import std.layers
layer Pair {
  call(a[..., n, k], b[k]) -> y {
    y = a * b
  }
}
model M(T = 5) {
  input x: float[T, 3]
  target t: float[T, 2]
  h = Dense(4, relu)(x)
  p = Pair()(h, Dense(4)(x)[0] if 0)
  loss mse(Dense(2)(h), t)
}
)";
  std::string s = src;
  s.erase(s.find("  p = Pair"), s.find("  loss") - s.find("  p = Pair"));
  auto r = buildSource(s);
  INFO(r.output);
  REQUIRE(r.graph);
  CHECK(findNode(*r.graph, "h")->shape == std::vector<int64_t>{5, 4});
  CHECK(findParam(*r.graph, "h.W")->shape == std::vector<int64_t>{3, 4});
  CHECK(r.graph->layers[1].outputShape == std::vector<int64_t>{5, 2});
}

TEST_CASE("activation functions are values; linear is the identity", "[dsl][sema]") {
  const char *src = R"(layer Act(activation f = linear) {
  call(x) -> y {
    y = f(x)
  }
}
model M {
  input x: float[2]
  a = Act()(x)
  b = Act(sigmoid)(x)
  c = Act(activation = softmax)(x)
  loss mse(a + b, c)
}
)";
  auto r = buildSource(src);
  INFO(r.output);
  REQUIRE(r.graph);
  const Graph &g = *r.graph;
  CHECK(g.nodes[size_t(g.inputs[0].node)].name == "x");
  CHECK(findNode(g, "b")->op == OpKind::Sigmoid);
  CHECK(findNode(g, "c")->op == OpKind::Softmax);
  CHECK(g.layers.size() == 3);
  CHECK(g.layers[0].numParams == 0);
}

TEST_CASE("choosing a model by name", "[dsl][sema]") {
  const char *src = R"(model A {
  input x: float[1]
  loss mse(x, x)
}
model B {
  input x: int[2]
  target y: int[2]
  param table[10, 3] = uniform(0.05)
  loss cross_entropy(embedding(table, x), y)
}
train B {
  batch 4
  optimizer sgd(0.1, 0.9)
  data text("corpus.txt", tokens = chars, window = 25, mode = sequence)
}
)";
  auto a = buildSource(src, "A", "dir/two.nn");
  REQUIRE(a.graph);
  CHECK(a.graph->modelName == "A");
  CHECK_FALSE(a.graph->train.present);
  auto b = buildSource(src, "B", "dir/two.nn");
  REQUIRE(b.graph);
  CHECK(b.graph->inputs[0].shape == std::vector<int64_t>{2});
  const TrainConfig &t = b.graph->train;
  CHECK(t.present);
  CHECK(t.batch == 4);
  CHECK(t.epochs == 1); // the default
  CHECK(t.optimizer == "sgd");
  CHECK(*t.optimizerArgs.at("lr").number == Approx(0.1));
  CHECK(*t.optimizerArgs.at("momentum").number == Approx(0.9));
  CHECK(t.dataKind == "text");
  CHECK(t.dataPath == "dir/corpus.txt");
  CHECK(*t.dataArgs.at("tokens").string == "chars");
  CHECK(*t.dataArgs.at("mode").string == "sequence");
  CHECK(*t.dataArgs.at("window").number == 25);
}

TEST_CASE("imports: std, relative, cycles and duplicates", "[dsl][sema]") {
  fs::path dir = fs::temp_directory_path() / ("nnc-dsl-import-" + std::to_string(::getpid()));
  fs::create_directories(dir / "lib");
  auto write = [&](const fs::path &p, const std::string &text) { std::ofstream(p) << text; };
  write(dir / "lib" / "blocks.nn", "import std.layers\nimport lib.blocks\nimport main\n"
                                   "layer Twice(units N) {\n  call(x[n]) -> y {\n"
                                   "    y = Dense(N)(Dense(N)(x))\n  }\n}\n");
  // lib/blocks.nn imports `lib.blocks` relative to itself: lib/lib/blocks.nn
  write(dir / "lib" / "lib" / "blocks.nn", "# empty\n");
  fs::create_directories(dir / "lib" / "lib");
  write(dir / "lib" / "lib" / "blocks.nn", "# empty\n");
  write(dir / "lib" / "main.nn", "# a cycle back is harmless\nimport lib.blocks\n");
  write(dir / "main.nn",
        "import std.layers\nimport std.layers\nimport lib.blocks\n"
        "model M {\n  input x: float[3]\n  h = Twice(4)(x)\n  loss mse(h, h)\n}\n");
  std::ostringstream os;
  DiagnosticEngine diag(os);
  auto g = buildGraph((dir / "main.nn").string(), FrontendOptions{NNC_STDLIB_DIR}, diag);
  INFO(os.str());
  REQUIRE(g);
  CHECK(g->params.size() == 4);
  CHECK(g->params[0].name == "h.dense_1.W");
  CHECK(g->params[2].name == "h.y.W"); // the whole right-hand side of `y = ...`
  // nodes from the imported (non-main) layer point at the call in main.nn
  for (const Node &n : g->nodes)
    CHECK(n.loc.file == (dir / "main.nn").string());
  CHECK(g->nodes.back().loc.line == 7);

  // a file that does not exist
  std::ostringstream os2;
  DiagnosticEngine diag2(os2);
  CHECK_FALSE(buildGraph((dir / "nope.nn").string(), FrontendOptions{NNC_STDLIB_DIR}, diag2));
  CHECK(os2.str().find("nope.nn: error: cannot read") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("the AST dump", "[dsl][ast]") {
  const char *src = "import std.layers\n"
                    "layer L(units N = 2) {\n"
                    "  param W[in, N] = uniform(0.1)\n"
                    "  call(x[in]) -> y {\n"
                    "    y = x @ W\n"
                    "  }\n"
                    "}\n"
                    "model M {\n"
                    "  input x: float[4]\n"
                    "  output h = -L(units = 3)(x) + 1.5\n"
                    "  loss mse(h, h)\n"
                    "}\n"
                    "train M {\n"
                    "  data csv(\"a.csv\")\n"
                    "}\n";
  std::ostringstream out, errs;
  DiagnosticEngine diag(errs);
  REQUIRE(dumpASTFromSource(src, "t.nn", FrontendOptions{}, diag, out));
  CHECK(out.str() == R"(File t.nn
  Import std.layers 1:1
  Layer L 2:7
    Parameter units N 2:15
      default
        Int 2 2:19
    Param W 3:3
      dim
        Name in 3:11
      dim
        Name N 3:15
      init
        Call 3:20
          callee
            Name uniform 3:20
          arg
            Float 0.1 3:28
    Call -> y 4:3
      Input x 4:8
        dim
          Name in 4:10
      Assign y 5:5
        Binary '@' 5:9
          Name x 5:9
          Name W 5:13
  Model M 8:7
    Input x: float 9:3
      dim
        Int 4 9:18
    Output h 10:3
      Binary '+' 10:14
        Unary '-' 10:14
          Call 10:15
            callee
              Call 10:15
                callee
                  Name L 10:15
                arg units 10:17
                  Int 3 10:25
            arg
              Name x 10:28
        Float 1.5 10:33
    Loss 11:3
      Call 11:8
        callee
          Name mse 11:8
        arg
          Name h 11:12
        arg
          Name h 11:15
  Train M 13:1
    Setting data 14:3
      Call 14:8
        callee
          Name csv 14:8
        arg
          String "a.csv" 14:12
)");
  std::ostringstream out2, errs2;
  DiagnosticEngine diag2(errs2);
  CHECK_FALSE(
      dumpASTFromSource("model M {\n  x = (1\n}\n", "t.nn", FrontendOptions{}, diag2, out2));
  CHECK(diag2.errorCount() == 1);
}

// Ops.def is the front end's whole list of elementwise functions: each row
// is a built-in (and an activation) that makes a node of its OpKind with the
// operand's shape and batching.
TEST_CASE("every elementwise function of Ops.def is a built-in of its OpKind", "[dsl][sema]") {
  struct Row {
    OpKind kind;
    std::string name;
  };
  const std::vector<Row> rows = {
#define NN_UNARY_OP(Kind, name, OpClass) {OpKind::Kind, name},
#include "nnc/dsl/Ops.def"
  };
  REQUIRE(rows.size() >= 9);
  for (const Row &row : rows) {
    std::string src = "import std.layers\n"
                      "model M {\n"
                      "  input x: float[2, 3]\n"
                      "  target t: float[2, 3]\n"
                      "  output y = " +
                      row.name +
                      "(x)\n"
                      "  output z = Dense(3, activation = " +
                      row.name +
                      ")(x)\n"
                      "  loss mse(y, t) + mse(z, t)\n"
                      "}\n";
    auto r = buildSource(src);
    INFO(row.name << ": " << r.output);
    REQUIRE(r.graph);
    const Node *y = findNode(*r.graph, "y");
    REQUIRE(y);
    CHECK(y->op == row.kind);
    CHECK(y->shape == std::vector<int64_t>{2, 3});
    CHECK(y->batched);
    const Node *z = findNode(*r.graph, "z");
    REQUIRE(z);
    CHECK(z->op == row.kind);
  }
}
