// No input may crash the front end: random bytes, truncated and mutated
// valid files, deep nesting, huge numbers. Each run must end with either a
// graph or at least one error.
#include "DslTestUtil.h"

#include <random>

using namespace nnc::dsl;
using namespace nnc::dsl::test;

namespace {

const char *kValid = R"(import std.layers

layer Block(units N, activation act = relu) {
  param W[in, N] = he_uniform
  param b[N] = 0.1
  call(x[in]) -> y {
    y = act(x @ W + b) * 2 - Dense(N)(x) / 3
  }
}

model Iris(hidden H = 8) {
  input  x: float[4]
  target y: int
  h1 = Block(H)(x)
  h2 = Dense(units = H, activation = tanh)(h1)
  logits = Dense(3)(h2)
  output probs = softmax(logits)
  loss cross_entropy(logits, y) + 0.001 * mse(h1, h1)
}

train Iris {
  data csv("data/iris.csv", label = "species")
  optimizer rmsprop(lr = 0.01, rho = 0.9, epsilon = 1e-7, momentum = 0)
  batch 8
  epochs 150
  test_split 0.25
  seed 42
  scale none
}
)";

void runOne(const std::string &src) {
  std::ostringstream os, ast;
  DiagnosticEngine diag(os);
  FrontendOptions opts{NNC_STDLIB_DIR};
  auto g = buildGraphFromSource(src, "fuzz.nn", opts, diag);
  // either a graph or an error, never both, never neither
  CHECK((g.has_value() != (diag.errorCount() > 0)));
  if (g) {
    bool ordered = true;
    for (size_t i = 0; i < g->nodes.size(); ++i)
      for (int op : g->nodes[i].operands)
        ordered &= op >= 0 && op < int(i);
    CHECK(ordered);
    CHECK(g->lossNode >= 0);
  }
  DiagnosticEngine diag2(os);
  dumpASTFromSource(src, "fuzz.nn", opts, diag2, ast);
}

} // namespace

TEST_CASE("the valid fuzz seed builds", "[dsl][fuzz]") {
  auto r = buildSource(kValid);
  INFO(r.output);
  REQUIRE(r.graph);
  CHECK(r.graph->train.optimizer == "rmsprop");
  CHECK_FALSE(r.graph->train.scale);
}

TEST_CASE("random bytes and mutations never crash the front end", "[dsl][fuzz]") {
  std::mt19937 rng(1234);
  std::string valid = kValid;
  // random bytes
  for (int i = 0; i < 200; ++i) {
    std::string s(rng() % 300, '\0');
    for (char &c : s)
      c = char(rng() % 256);
    runOne(s);
  }
  // random tokens of the language
  const char *pieces[] = {"model", "layer", "train", "import",     "input", "target", "output",
                          "loss",  "param", "call",  "(",          ")",     "[",      "]",
                          "{",     "}",     ",",     ":",          ".",     "=",      "->",
                          "+",     "-",     "*",     "/",          "@",     "x",      "y",
                          "Dense", "relu",  "8",     "0.5",        "\"s\"", "\n",     "\n",
                          " ",     "float", "int",   "std.layers", "#c\n",  "1e999"};
  for (int i = 0; i < 300; ++i) {
    std::string s;
    int n = int(rng() % 80);
    for (int k = 0; k < n; ++k)
      s += std::string(pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))]) + " ";
    runOne(s);
  }
  // every prefix of a valid file
  for (size_t len = 0; len <= valid.size(); len += 3)
    runOne(valid.substr(0, len));
  // single-byte mutations, deletions and insertions
  for (int i = 0; i < 400; ++i) {
    std::string s = valid;
    size_t pos = rng() % s.size();
    switch (rng() % 3) {
    case 0:
      s[pos] = char(rng() % 128);
      break;
    case 1:
      s.erase(pos, 1 + rng() % 10);
      break;
    case 2:
      s.insert(pos, 1, "()[]{},=@\n\"#x9"[rng() % 15]);
      break;
    }
    runOne(s);
  }
}

TEST_CASE("pathological inputs", "[dsl][fuzz]") {
  auto wrap = [](const std::string &expr) {
    return "model M {\n  input x: float[4]\n  h = " + expr + "\n  loss mse(x, x)\n}\n";
  };
  runOne(wrap(std::string(100000, '(')));
  runOne(wrap(std::string(100000, '-') + "x"));
  runOne(wrap(std::string(100000, '[')));
  std::string chain = "x";
  for (int i = 0; i < 20000; ++i)
    chain += " * x";
  runOne(wrap(chain));
  std::string calls;
  for (int i = 0; i < 5000; ++i)
    calls += "relu(";
  runOne(wrap(calls + "x" + std::string(5000, ')')));
  runOne(wrap("Dense(3)" + std::string(1000, '.') + "(x)"));
  runOne(std::string(100000, '{'));
  runOne(std::string(100000, '}'));
  runOne(std::string(100000, '\n'));
  runOne(std::string(50000, '"'));
  runOne("model M {\n  input x: float[" + std::string(5000, '9') + "]\n}\n");
  runOne("model M {\n  input x: float[1" + std::string(400, '0') + ".5]\n}\n");
  runOne("model M {\n  input x: float[2]\n  param W[65536, 65536, 65536]\n  loss mse(x, x)\n}\n");
  runOne("model M {\n  input x: float[-9223372036854775807 - 1]\n  loss mse(x, x)\n}\n");
  runOne(std::string("\0\0\0model\0M", 10));
  runOne("");
  runOne("\xef\xbb\xbfmodel M {\n}\n"); // a byte-order mark
  // many errors: reported up to the limit, without crashing
  std::string many = "model M {\n  input x: float[4]\n";
  for (int i = 0; i < 1000; ++i)
    many += "  h" + std::to_string(i) + " = x @ x\n";
  runOne(many + "  loss mse(x, x)\n}\n");
  // a recursive layer is stopped
  runOne("layer A {\n  call(x) -> y {\n    y = B()(x)\n  }\n}\nlayer B {\n  call(x) -> y {\n"
         "    y = A()(x)\n  }\n}\nmodel M {\n  input x: float[4]\n  h = A()(x)\n  loss mse(h, "
         "h)\n}\n");
  // exponential blow-up through nested layers is bounded by the depth limit
  std::string layers;
  for (int i = 0; i < 40; ++i)
    layers += "layer L" + std::to_string(i) + " {\n  call(x) -> y {\n    y = L" +
              std::to_string(i + 1) + "()(x) + L" + std::to_string(i + 1) + "()(x)\n  }\n}\n";
  layers += "layer L40 {\n  call(x) -> y {\n    y = x\n  }\n}\n";
  auto big =
      buildSource(layers + "model M {\n  input x: float[4]\n  h = L20()(x)\n  loss mse(h, h)\n}\n");
  CHECK(big.output.find("the expanded model has more than") != std::string::npos);
}

namespace {

const char *kRecurrent = R"(import std.rnn

cell Mine(units H, ctx) {
  state h[H] = 0, c[H] = 0.5
  param W[H + in + 2, H] = glorot, b[H] = 1
  step(x[in]) -> h {
    z = concat(h, x, ctx)
    c = sigmoid(z @ W + b) * c + dropout(slice(z, 0, H), 0.1)
    h = tanh(c)
  }
}

model TextGen(vocab V = 50, window T = 6) {
  input  words: int[T]
  input  ctx: float[2]
  target next: int
  e  = Embedding(V, 5)(words)
  h1 = GRU(4).sequence(e)
  h2 = Mine(4, ctx).sequence(h1)
  h3 = PeepholeLSTM(3).last(concat(h2, e))
  logits = Dense(V)(Dropout(0.2)(h3))
  output probs = softmax(logits)
  loss cross_entropy(logits, next)
}

train TextGen {
  data text("t.txt", tokens = chars, window = 6, mode = next)
  sample_every 2
  sample_length 20
}
)";

} // namespace

TEST_CASE("mutations of a recurrent model never crash the front end", "[dsl][fuzz][rnn]") {
  auto r = buildSource(kRecurrent);
  INFO(r.output);
  REQUIRE(r.graph);
  CHECK(r.graph->scans.size() == 3);
  CHECK(r.graph->timeParam == "T");
  std::mt19937 rng(4321);
  std::string valid = kRecurrent;
  auto checkScans = [](const std::string &src) {
    std::ostringstream os;
    DiagnosticEngine diag(os);
    FrontendOptions opts{NNC_STDLIB_DIR};
    auto g = buildGraphFromSource(src, "fuzz.nn", opts, diag);
    CHECK((g.has_value() != (diag.errorCount() > 0)));
    if (!g)
      return;
    for (const Scan &s : g->scans) {
      bool ok = s.output >= 0 && size_t(s.output) < s.body.size();
      for (size_t i = 0; i < s.body.size(); ++i)
        for (int op : s.body[i].operands)
          ok &= op >= 0 && size_t(op) < i;
      for (const Scan::State &st : s.states)
        ok &= st.update >= 0 && size_t(st.update) < s.body.size();
      for (int q : s.sequences)
        ok &= q >= 0 && size_t(q) < g->nodes.size();
      CHECK(ok);
    }
  };
  for (size_t len = 0; len <= valid.size(); len += 7)
    checkScans(valid.substr(0, len));
  for (int i = 0; i < 300; ++i) {
    std::string s = valid;
    size_t pos = rng() % s.size();
    switch (rng() % 3) {
    case 0:
      s[pos] = char(rng() % 128);
      break;
    case 1:
      s.erase(pos, 1 + rng() % 10);
      break;
    case 2:
      s.insert(pos, 1, "()[]{},=@.\n\"#x9"[rng() % 16]);
      break;
    }
    checkScans(s);
  }
  // a cell applied inside a layer, applied many times: bounded
  std::string many = "import std.rnn\nlayer Twice {\n  call(x[t, n]) -> y {\n"
                     "    y = LSTM(n).sequence(x) + GRU(n).sequence(x)\n  }\n}\n"
                     "model M {\n  input x: float[3, 2]\n  h = x\n";
  for (int i = 0; i < 50; ++i)
    many += "  h = Twice()(h) * 1\n";
  auto m = buildSource(many + "  loss mse(h, h)\n}\n");
  INFO(m.output);
  REQUIRE(m.graph);
  CHECK(m.graph->scans.size() == 100);
  CHECK(m.graph->scans[0].name == "twice_1.lstm_1");
  CHECK(m.graph->scans[0].states[0].name == "twice_1.lstm_1.h");
}
