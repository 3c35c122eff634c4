// Shapes, batching and attributes of the attention shape primitives in the
// checked graph (issue 4): batched a @ b, transpose, permute, reshape with
// -1, concat(axis = k) and dot, on the memory network of the course and on
// one multi-head attention step.
#include "DslTestUtil.h"

using namespace nnc::dsl;
using namespace nnc::dsl::test;

namespace {

const Node &named(const Graph &g, const std::string &name) {
  for (const Node &n : g.nodes)
    if (n.name == name)
      return n;
  FAIL("no node named " << name);
  return g.nodes.front();
}

using Shape = std::vector<int64_t>;

} // namespace

TEST_CASE("attention primitives: the memory network's shapes", "[dsl][attention]") {
  const char *src = R"(import std.rnn

model MemNet(story S = 10, vocab V = 20) {
  input  story: int[S]
  input  question: int[6]
  target answer: int
  m = Embedding(V, 64)(story)
  c = Embedding(V, 6)(story)
  u = Embedding(V, 64)(question)
  match = softmax(dot(m, u, 1, 1))
  response = permute(match + c, 1, 0)
  joined = concat(response, u)
  rows = concat(m, u, axis = 0)
  rows2 = concat(m, u, axis = -2)
  h = LSTM(32).last(joined)
  logits = Dense(V)(h)
  loss cross_entropy(logits, answer)
}
)";
  auto r = buildSource(src);
  INFO(r.output);
  REQUIRE(r.graph);
  const Graph &g = *r.graph;
  const Node &match = g.nodes[size_t(named(g, "match").operands[0])];
  CHECK(match.op == OpKind::BatchMatMul);
  CHECK(match.shape == Shape{10, 6});
  CHECK(match.batched);
  // dot(m, u, 1, 1) contracts the second axes: m @ u^T.
  CHECK(!match.transposeA);
  CHECK(match.transposeB);
  const Node &resp = named(g, "response");
  CHECK(resp.op == OpKind::Transpose);
  CHECK(resp.perm == Shape{1, 0});
  CHECK(resp.shape == Shape{6, 10});
  const Node &joined = named(g, "joined");
  CHECK(joined.op == OpKind::Concat);
  CHECK(joined.shape == Shape{6, 74});
  CHECK(joined.concatAxis == 1);
  CHECK(named(g, "rows").shape == Shape{16, 64});
  CHECK(named(g, "rows").concatAxis == 0);
  CHECK(named(g, "rows2").concatAxis == 0);
}

TEST_CASE("attention primitives: multi-head reshapes and batched products", "[dsl][attention]") {
  const char *src = R"(model Heads(window T = 8) {
  input  x: float[T, 12]
  target t: float[T, 12]
  param Wq[12, 12], Wk[12, 12], Wv[12, 12]
  q = permute(reshape(x @ Wq, T, 3, 4), 1, 0, 2)
  k = permute(reshape(x @ Wk, T, 3, -1), 1, 0, 2)
  v = permute(reshape(x @ Wv, T, 3, 4), 1, 0, 2)
  kt = transpose(k)
  s = q @ kt
  o = softmax(s) @ v
  back = reshape(permute(o, 1, 0, 2), T, -1)
  g = dot(x, t, 0, 0)
  loss mse(back, t)
}
)";
  auto r = buildSource(src);
  INFO(r.output);
  REQUIRE(r.graph);
  const Graph &g = *r.graph;
  CHECK(named(g, "q").shape == Shape{3, 8, 4});
  CHECK(named(g, "k").shape == Shape{3, 8, 4});
  CHECK(g.nodes[size_t(named(g, "k").operands[0])].op == OpKind::Reshape);
  CHECK(g.nodes[size_t(named(g, "k").operands[0])].shape == Shape{8, 3, 4});
  CHECK(named(g, "kt").perm == Shape{0, 2, 1});
  CHECK(named(g, "kt").shape == Shape{3, 4, 8});
  CHECK(named(g, "s").op == OpKind::BatchMatMul);
  CHECK(named(g, "s").shape == Shape{3, 8, 8});
  CHECK(named(g, "o").shape == Shape{3, 8, 4});
  CHECK(named(g, "back").shape == Shape{8, 12});
  // dot over the time axis: x^T t, [12, 12].
  CHECK(named(g, "g").shape == Shape{12, 12});
  CHECK(named(g, "g").transposeA);
  CHECK(!named(g, "g").transposeB);
  // The plain x @ W with an unbatched 2-D weight is still one MatMul.
  CHECK(g.nodes[size_t(g.nodes[size_t(named(g, "q").operands[0])].operands[0])].op ==
        OpKind::MatMul);
}

TEST_CASE("attention primitives: errors point at the argument", "[dsl][attention]") {
  auto r = buildSource("model M {\n"
                       "  input x: float[2, 3]\n"
                       "  y = reshape(x, 4, 2)\n"
                       "  loss mse(x, x)\n"
                       "}\n");
  CHECK(firstError(r) == "3:7: reshape of 'x' (shape [2, 3], 6 elements) to [4, 2] (8 elements): "
                         "the number of elements must stay the same");
  r = buildSource("model M {\n"
                  "  input x: float[2, 3]\n"
                  "  y = concat(x, x, axis = 2)\n"
                  "  loss mse(x, x)\n"
                  "}\n");
  CHECK(firstError(r) ==
        "3:27: the axis of concat must be in [-2, 2) for 'x' of shape [2, 3], got 2");
}
