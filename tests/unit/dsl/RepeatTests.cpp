// repeat(N, Layer(...)): kept as one loop over the copies' stacked
// parameters (Graph::repeats), so that the graph handed to the compiler does
// not grow with N, while parameters and summary rows stay per copy.
#include "DslTestUtil.h"

using namespace nnc::dsl;
using namespace nnc::dsl::test;

namespace {

std::string gpt(int blocks) {
  return "import std.attention\n"
         "model G(vocab V = 11, context T = 6, width C = 8) {\n"
         "  input  ids: int[T]\n"
         "  target next: int[T]\n"
         "  x = Embedding(V, C)(ids)\n"
         "  blocks = repeat(" +
         std::to_string(blocks) +
         ", TransformerBlock(2))(x)\n"
         "  logits = Dense(V)(blocks)\n"
         "  loss cross_entropy(logits, next)\n"
         "}\n";
}

} // namespace

TEST_CASE("repeat: one loop whose graph does not grow with the count", "[dsl][repeat]") {
  BuildResult four = buildSource(gpt(4)), twelve = buildSource(gpt(12));
  REQUIRE(four.graph);
  REQUIRE(twelve.graph);
  const Graph &g4 = *four.graph, &g12 = *twelve.graph;
  REQUIRE(g12.repeats.size() == 1);
  const Scan &rp = g12.repeats[0];
  CHECK(rp.length == 12);
  CHECK(rp.name == "blocks");
  CHECK(rp.states.size() == 1);
  // The same nodes at any depth: the model's and the loop body's.
  CHECK(g4.nodes.size() == g12.nodes.size());
  CHECK(g4.repeats[0].body.size() == rp.body.size());
  // Each body parameter stands for its 12 copies, in the unrolled order.
  REQUIRE(!rp.copies.empty());
  size_t perCopy = rp.copies.size();
  for (const auto &[p0, copies] : rp.copies) {
    REQUIRE(copies.size() == 12);
    for (size_t i = 0; i < copies.size(); ++i) {
      const Param &p = g12.params[size_t(copies[i])];
      CHECK(copies[i] == int(size_t(p0) + i * perCopy));
      CHECK(p.name.rfind("blocks." + std::to_string(i) + ".", 0) == 0);
      CHECK(p.shape == g12.params[size_t(p0)].shape);
    }
  }
  CHECK(g12.params.size() == g4.params.size() + 8 * perCopy);
  // The summary still lists every copy.
  int rows = 0;
  for (const Graph::LayerRow &r : g12.layers)
    rows += r.name.rfind("blocks.", 0) == 0;
  CHECK(rows == 12);
}

TEST_CASE("repeat: unrolled where a copy differs in more than its parameters", "[dsl][repeat]") {
  // Dropout draws a stream of its own in each copy: the copies are written
  // out, as before.
  std::string src = "import std.layers\n"
                    "layer Block(units N) {\n"
                    "  call(x[N]) -> y {\n"
                    "    y = x + Dropout(0.1)(Dense(N, tanh)(x))\n"
                    "  }\n"
                    "}\n"
                    "model M {\n"
                    "  input x: float[4]\n"
                    "  target t: float[4]\n"
                    "  y = repeat(3, Block(4))(x)\n"
                    "  loss mse(y, t)\n"
                    "}\n";
  BuildResult r = buildSource(src);
  REQUIRE(r.graph);
  CHECK(r.graph->repeats.empty());
  int dense = 0;
  for (const Param &p : r.graph->params)
    dense += p.name.find(".W") != std::string::npos;
  CHECK(dense == 3);
}
