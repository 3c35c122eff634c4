// Gradient checks of the sequence ops and recurrent cells against central
// finite differences of the model's own eval_step (GradCheck.h: the method
// and tolerances of GradientTests.cpp). Each case checks every parameter
// element, the embedding tables included.
//
// - concat and slice: every operand form (batched, an unbatched parameter,
//   per-example [2, k] values), overlapping slices and an operand used twice
//   (gradients must accumulate), and both inside a cell (a context vector
//   captured by the scan, an LSTM with one fused gate matrix cut by slices).
// - embedding: ids repeated within and across rows; ids outside [0, V) (-1,
//   V, a large one) must read zeros and must not touch any gradient (the
//   table is placed between two other parameters, so a stray write of its
//   gradient would show up in a neighbour); a table row no id selects has a
//   gradient of exactly 0.
// - every cell of std.rnn over T = 6 steps, batch 4 (with a padding row and
//   row weights for .sequence), with .sequence feeding mse against a target
//   [T, H], with .sequence feeding a Dense + cross_entropy at every step, and
//   with .last feeding Dense + cross_entropy; two stacked LSTMs; the course's
//   text generator (Embedding -> LSTM.sequence -> LSTM.last -> Dense ->
//   cross_entropy) at small sizes.
//
// A cell's gate parameters can have tiny gradients for some data (a
// saturated gate, a small cell state), too small for the check to say much.
// The cell cases therefore take the first draw of a fixed sequence in which
// every parameter tensor has a clear gradient (GradCase::searchDraws; the
// draw used is printed), and use ranges (weights in [-1, 1], inputs in
// [-2, 2]) where the gates are neither linear nor saturated.
#include "GradCheck.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace nnc;
using namespace nnc::numtest;

namespace {

const char *const kRnn = "import std.rnn\n";

// Rows of length n of a, then rows of length m of b, ... joined row by row
// (the rows are the same in number).
std::vector<double> concatRows(const std::vector<std::pair<std::vector<double>, size_t>> &parts) {
  size_t rows = parts[0].first.size() / parts[0].second;
  std::vector<double> y;
  for (size_t r = 0; r < rows; ++r)
    for (const auto &[v, n] : parts) {
      size_t rr = v.size() / n == 1 ? 0 : r; // an unbatched operand: the same row
      y.insert(y.end(), v.begin() + long(rr * n), v.begin() + long((rr + 1) * n));
    }
  return y;
}

std::vector<double> sliceRows(const std::vector<double> &v, size_t n, size_t begin, size_t size) {
  std::vector<double> y;
  for (size_t r = 0; r < v.size() / n; ++r)
    y.insert(y.end(), v.begin() + long(r * n + begin), v.begin() + long(r * n + begin + size));
  return y;
}

} // namespace

// ---- concat -------------------------------------------------------------------

TEST_CASE("gradient: concat, batched operands of every rank", "[gradient][sequence]") {
  GradCase g;
  g.name = "concat";
  // Two and three batched operands, per-example [2, k] values, one value
  // used twice, unbatched parameters joined with each other, and concats
  // feeding a matmul (so their gradient is split back by rows).
  g.body = "  input x: float[3]\n"
           "  input x2: float[2, 3]\n"
           "  target t4: float[4]\n"
           "  target t7: float[7]\n"
           "  target t2: float[2, 5]\n"
           "  param A[3, 2] = uniform(0.5)\n"
           "  param B[3, 3] = uniform(0.5)\n"
           "  param C[3, 2] = uniform(0.5)\n"
           "  param P[3, 2] = uniform(0.5)\n"
           "  param R[3, 3] = uniform(0.5)\n"
           "  param Q[5, 4] = uniform(0.5)\n"
           "  param S[6, 2] = uniform(0.5)\n"
           "  a = x @ A\n"
           "  b = x @ B\n"
           "  output y = concat(a, b) @ Q\n"
           "  output y3 = concat(a, x @ C, b)\n"
           "  output y2 = concat(x2 @ P, x2 @ R)\n"
           "  output yt = concat(b, b) @ S\n"
           "  output yq = concat(a, b) @ concat(Q, Q)\n"
           "  loss mse(y, t4) + mse(y3, t7) + mse(y2, t2) + mse(yt, slice(t4, 1, 2)) +\n"
           "       mse(yq, concat(t4, t4))\n";
  g.weights = {1, 0.5, 0, 2};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref R{c, io, p};
    auto a = R.mm("x", "A"), b = R.mm("x", "B");
    std::map<std::string, std::vector<double>> out;
    out["y"] = Ref::mm(concatRows({{a, 2}, {b, 3}}), R.param("Q"), 5, 4);
    out["y3"] = concatRows({{a, 2}, {R.mm("x", "C"), 2}, {b, 3}});
    out["y2"] = concatRows({{R.mm("x2", "P"), 2}, {R.mm("x2", "R"), 3}});
    out["yt"] = Ref::mm(concatRows({{b, 3}, {b, 3}}), R.param("S"), 6, 2);
    auto Q = R.param("Q");
    out["yq"] = Ref::mm(concatRows({{a, 2}, {b, 3}}), concatRows({{Q, 4}, {Q, 4}}), 5, 8);
    return out;
  };
  runGradCheck(g);
}

// docs/language.md, built-ins: "concat(a, b, ...) joins along the last
// dimension; the other dimensions must agree (an unbatched operand is the
// same for every example)". (MLIRGen rejected this until 76de4a0: "concat:
// batched and unbatched operands cannot be joined".)
TEST_CASE("gradient: concat of batched values with an unbatched parameter (documented)",
          "[gradient][sequence][concat-unbatched]") {
  GradCase g;
  g.name = "concat_unbatched";
  g.body = "  input x: float[3]\n"
           "  target t7: float[7]\n"
           "  param A[3, 2] = uniform(0.5)\n"
           "  param B[3, 3] = uniform(0.5)\n"
           "  param c[2] = uniform(0.5)\n"
           "  a = x @ A\n"
           "  b = x @ B\n"
           "  output y3 = concat(a, c, b)\n"
           "  loss mse(y3, t7)\n";
  g.weights = {1, 0.5, 0, 2};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref R{c, io, p};
    return std::map<std::string, std::vector<double>>{
        {"y3", concatRows({{R.mm("x", "A"), 2}, {R.param("c"), 2}, {R.mm("x", "B"), 3}})}};
  };
  runGradCheck(g);
}

TEST_CASE("gradient: concat of a state with an unbatched parameter inside a cell (documented)",
          "[gradient][rnn][concat-unbatched]") {
  GradCase g;
  g.name = "concat_unbatched_in_cell";
  g.searchDraws = 50;
  g.prelude = "import std.layers\n"
              "cell Biased(units H) {\n"
              "  state h[H] = 0\n"
              "  param W[H + in + 2, H] = glorot, e[2] = zeros\n"
              "  step(x[in]) -> h {\n"
              "    h = tanh(concat(h, x, e) @ W)\n"
              "  }\n"
              "}\n";
  g.body = "  input x: float[5, 3]\n"
           "  target t: float[5, 4]\n"
           "  output r = Biased(4).sequence(x)\n"
           "  loss mse(r, t)\n";
  g.defaultParamRange = {-1, 1};
  g.targetRange = {-1, 1};
  g.weights = {1, 0.5, 0, 2};
  runGradCheck(g);
}

// ---- slice ----------------------------------------------------------------------

TEST_CASE("gradient: slice, overlapping ranges and every operand form", "[gradient][sequence]") {
  GradCase g;
  g.name = "slice";
  // Overlapping slices of one value (their gradients add up in it), a slice
  // of per-example [2, 5] values, a slice of an unbatched parameter, the
  // whole range, and single elements at both ends.
  g.body = "  input x: float[4]\n"
           "  input x2: float[2, 4]\n"
           "  target t2: float[2]\n"
           "  target t3: float[3]\n"
           "  target t6: float[6]\n"
           "  target tm: float[2, 3]\n"
           "  param A[4, 6] = uniform(0.5)\n"
           "  param B[4, 5] = uniform(0.5)\n"
           "  param C[4, 5] = uniform(0.5)\n"
           "  g = x @ A\n"
           "  output s1 = slice(g, 0, 2)\n"
           "  output s2 = slice(g, 1, 3)\n"
           "  output s3 = slice(g, 3, 3)\n"
           "  output sm = slice(x2 @ B, 1, 3)\n"
           "  output su = x @ slice(C, 2, 3)\n"
           "  output sa = slice(g, 0, 6)\n"
           "  output e0 = slice(g, 0, 1) * slice(g, 5, 1)\n"
           "  loss mse(s1, t2) + mse(s2, t3) + mse(s3, t3) + mse(sm, tm) + mse(su, t3) +\n"
           "       mse(sa, t6) + mse(e0, slice(t3, 2, 1))\n";
  g.weights = {1, 2, 0.5, 0};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref R{c, io, p};
    auto gx = R.mm("x", "A");
    std::map<std::string, std::vector<double>> out;
    out["s1"] = sliceRows(gx, 6, 0, 2);
    out["s2"] = sliceRows(gx, 6, 1, 3);
    out["s3"] = sliceRows(gx, 6, 3, 3);
    out["sm"] = sliceRows(R.mm("x2", "B"), 5, 1, 3);
    out["su"] = Ref::mm(R.input("x"), sliceRows(R.param("C"), 5, 2, 3), 4, 3);
    out["sa"] = gx;
    std::vector<double> e0;
    for (size_t r = 0; r < gx.size() / 6; ++r)
      e0.push_back(gx[r * 6] * gx[r * 6 + 5]);
    out["e0"] = e0;
    return out;
  };
  runGradCheck(g);
}

// ---- concat and slice inside cells ---------------------------------------------

TEST_CASE("gradient: concat inside a cell, with a captured context vector", "[gradient][rnn]") {
  GradCase g;
  g.name = "concat_in_cell";
  g.searchDraws = 50;
  // The context is computed from a parameter (P), so its gradient flows back
  // through the scan's capture; the concat joins state, two step inputs and
  // the context.
  g.prelude = "import std.layers\n"
              "cell Ctx(units H, context ctx) {\n"
              "  state h[H] = 0\n"
              "  param W[H + a + b + 2, H] = glorot, bw[H] = zeros\n"
              "  step(x[a], y[b]) -> h {\n"
              "    h = tanh(concat(h, x, y, ctx) @ W + bw)\n"
              "  }\n"
              "}\n";
  g.body = "  input xs: float[5, 3]\n"
           "  input ys: float[5, 2]\n"
           "  input topic: float[3]\n"
           "  target t: float[5, 4]\n"
           "  param P[3, 2] = uniform(0.5)\n"
           "  output r = Ctx(4, tanh(topic @ P)).sequence(xs, ys)\n"
           "  loss mse(r, t)\n";
  g.weights = {1, 0.5, 0, 2};
  runGradCheck(g);
}

TEST_CASE("gradient: slice inside a cell (an LSTM with one fused gate matrix)", "[gradient][rnn]") {
  GradCase g;
  g.name = "slice_in_cell";
  g.searchDraws = 50;
  g.prelude = "import std.layers\n"
              "cell FusedLSTM(units H) {\n"
              "  state h[H] = 0, c[H] = 0\n"
              "  param W[H + in, 4 * H] = glorot, b[4 * H] = zeros\n"
              "  step(x[in]) -> h {\n"
              "    gates = concat(h, x) @ W + b\n"
              "    i = sigmoid(slice(gates, 0, H))\n"
              "    f = sigmoid(slice(gates, H, H))\n"
              "    g = tanh(slice(gates, 2 * H, H))\n"
              "    o = sigmoid(slice(gates, 3 * H, H))\n"
              "    c = f * c + i * g\n"
              "    h = o * tanh(c)\n"
              "  }\n"
              "}\n";
  g.body = "  input x: float[6, 3]\n"
           "  target t: float[6, 4]\n"
           "  output h = FusedLSTM(4).sequence(x)\n"
           "  loss mse(h, t)\n";
  g.targetRange = {-1, 1};
  g.weights = {1, 0.5, 0, 2};
  runGradCheck(g);
}

// ---- embedding ------------------------------------------------------------------

TEST_CASE("gradient: embedding, repeated ids and ids out of range", "[gradient][sequence]") {
  GradCase g;
  g.name = "embedding";
  // ids: per example [5] and [2, 3] and a scalar id. `before` and `after`
  // sit on both sides of `table` in the parameter buffer.
  g.body = "  input ids: int[5]\n"
           "  input ids2: int[2, 3]\n"
           "  input one: int\n"
           "  target t: float[5, 3]\n"
           "  target t2: float[2, 3, 2]\n"
           "  target t1: float[3]\n"
           "  param before[3] = uniform(0.5)\n"
           "  param table[6, 3] = uniform(0.5)\n"
           "  param after[3] = uniform(0.5)\n"
           "  param table2[4, 3] = uniform(0.5)\n"
           "  param A[3, 2] = uniform(0.5)\n"
           "  output e = embedding(table, ids)\n"
           "  output e2 = embedding(table2, ids2) @ A\n"
           "  output e1 = embedding(table, one) * after + before\n"
           "  loss mse(e, t) + mse(e2, t2) + mse(e1, t1)\n";
  // Row 5 of `table` is never selected: ids in [0, 5), and out-of-range ids
  // placed by hand (-1, 6 = V, 100000) in rows 0, 1 and 3. Row 2 is padding.
  g.idRange["ids"] = {0, 5};
  g.idRange["ids2"] = {0, 4};
  g.idRange["one"] = {0, 5};
  g.adjustRow = [](const Compiled &c, IOBuffers &io, int64_t row) {
    auto &ids = io.inputs[size_t(ioIndex(c, NNRT_INPUT, "ids"))].ints;
    auto &ids2 = io.inputs[size_t(ioIndex(c, NNRT_INPUT, "ids2"))].ints;
    auto &one = io.inputs[size_t(ioIndex(c, NNRT_INPUT, "one"))].ints;
    int32_t *r = &ids[size_t(row * 5)];
    int32_t *r2 = &ids2[size_t(row * 6)];
    if (row == 0) {
      r[1] = -1, r[2] = r[0], r[4] = r[0]; // a repeat within the row
      r2[3] = 4;                           // = V of table2
      one[size_t(row)] = 6;                // = V
    } else if (row == 1) {
      r[3] = 6, r[0] = 1;
      r2[0] = -7, r2[5] = r2[1];
      one[size_t(row)] = 1; // the same id as r[0] and row 3's
    } else if (row == 3) {
      r[0] = 100000, r[1] = 1, r[2] = 1;
      r2[2] = 100000;
      one[size_t(row)] = -1;
    }
  };
  g.weights = {1, 0.5, 0, 2};
  auto rowsOf = [](const std::vector<double> &table, const std::vector<int32_t> &ids, size_t V,
                   size_t E) {
    std::vector<double> y;
    for (int32_t id : ids)
      for (size_t j = 0; j < E; ++j)
        y.push_back(id >= 0 && size_t(id) < V ? table[size_t(id) * E + j] : 0.0);
    return y;
  };
  g.expectedOutputs = [rowsOf](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref R{c, io, p};
    std::map<std::string, std::vector<double>> out;
    out["e"] = rowsOf(R.param("table"), R.ids("ids"), 6, 3);
    out["e2"] = Ref::mm(rowsOf(R.param("table2"), R.ids("ids2"), 4, 3), R.param("A"), 3, 2);
    auto e1 = rowsOf(R.param("table"), R.ids("one"), 6, 3);
    auto af = R.param("after"), bf = R.param("before");
    for (size_t i = 0; i < e1.size(); ++i)
      e1[i] = e1[i] * af[i % 3] + bf[i % 3];
    out["e1"] = e1;
    return out;
  };
  GradCheckResult r = runGradCheck(g);
  // Nothing selects row 5 of `table` (only an out-of-range id could reach
  // it): its gradient is exactly 0.
  REQUIRE(r.offsets.count("table") == 1);
  size_t row5 = size_t(r.offsets["table"]) + 5 * 3;
  for (size_t j = 0; j < 3; ++j) {
    INFO("table[5][" << j << "] (no id selects it)");
    CHECK(r.grad[row5 + j] == 0.0);
  }
}

// ---- cells ------------------------------------------------------------------------

namespace {

// `cell` over x[6, 3] with 3 units: .sequence into mse against t[6, 3]
// (3 units rather than 4: mse averages over T * H values, and fewer of them
// keep every parameter's gradient well above the check's noise floor).
GradCase cellSequenceCase(const std::string &name, const std::string &cell) {
  GradCase g;
  g.searchDraws = 50;
  g.name = name + "_sequence";
  g.prelude = kRnn;
  g.body = "  input x: float[6, 3]\n"
           "  target t: float[6, 3]\n"
           "  output h = " +
           cell +
           "(3).sequence(x)\n"
           "  loss mse(h, t)\n";
  g.defaultParamRange = {-1, 1};
  g.inputRange["x"] = {-2, 2};
  g.targetRange = {-2, 2};
  g.weights = {1, 0.5, 0, 2}; // row 2 is padding
  return g;
}

// .last into Dense + cross_entropy.
GradCase cellLastCase(const std::string &name, const std::string &cell) {
  GradCase g;
  g.searchDraws = 50;
  g.name = name + "_last";
  g.prelude = kRnn;
  g.body = "  input x: float[6, 3]\n"
           "  target label: int\n"
           "  hl = " +
           cell +
           "(4).last(x)\n"
           "  output logits = Dense(3)(hl)\n"
           "  loss cross_entropy(logits, label)\n";
  g.defaultParamRange = {-1, 1};
  g.inputRange["x"] = {-1.5, 1.5};
  g.paramRange["logits.W"] = {-2, 2};
  g.weights = {1, 1, 1, 1};
  return g;
}

// .sequence into a Dense at every step and cross_entropy over the steps.
GradCase cellSequenceLogitsCase(const std::string &name, const std::string &cell) {
  GradCase g;
  g.searchDraws = 50;
  g.name = name + "_sequence_logits";
  g.prelude = kRnn;
  g.body = "  input x: float[6, 3]\n"
           "  target next: int[6]\n"
           "  hs = " +
           cell +
           "(4).sequence(x)\n"
           "  output logits = Dense(3)(hs)\n"
           "  loss cross_entropy(logits, next)\n";
  g.defaultParamRange = {-1, 1};
  g.inputRange["x"] = {-1.5, 1.5};
  g.paramRange["logits.W"] = {-2, 2};
  g.weights = {0.5, 1, 2, 1};
  return g;
}

} // namespace

TEST_CASE("gradient: SimpleRNN .sequence", "[gradient][rnn]") {
  runGradCheck(cellSequenceCase("simple_rnn", "SimpleRNN"));
}
TEST_CASE("gradient: SimpleRNN .sequence, Dense and cross_entropy at every step",
          "[gradient][rnn]") {
  runGradCheck(cellSequenceLogitsCase("simple_rnn", "SimpleRNN"));
}
TEST_CASE("gradient: SimpleRNN .last", "[gradient][rnn]") {
  runGradCheck(cellLastCase("simple_rnn", "SimpleRNN"));
}
TEST_CASE("gradient: LSTM .sequence", "[gradient][rnn]") {
  runGradCheck(cellSequenceCase("lstm", "LSTM"));
}
TEST_CASE("gradient: LSTM .last", "[gradient][rnn]") { runGradCheck(cellLastCase("lstm", "LSTM")); }
TEST_CASE("gradient: LSTM .sequence, Dense and cross_entropy at every step", "[gradient][rnn]") {
  runGradCheck(cellSequenceLogitsCase("lstm", "LSTM"));
}
TEST_CASE("gradient: PeepholeLSTM .sequence", "[gradient][rnn]") {
  runGradCheck(cellSequenceCase("peephole_lstm", "PeepholeLSTM"));
}
TEST_CASE("gradient: PeepholeLSTM .sequence, Dense and cross_entropy at every step",
          "[gradient][rnn]") {
  runGradCheck(cellSequenceLogitsCase("peephole_lstm", "PeepholeLSTM"));
}
TEST_CASE("gradient: PeepholeLSTM .last", "[gradient][rnn]") {
  runGradCheck(cellLastCase("peephole_lstm", "PeepholeLSTM"));
}
TEST_CASE("gradient: GRU .sequence", "[gradient][rnn]") {
  runGradCheck(cellSequenceCase("gru", "GRU"));
}
TEST_CASE("gradient: GRU .sequence, Dense and cross_entropy at every step", "[gradient][rnn]") {
  runGradCheck(cellSequenceLogitsCase("gru", "GRU"));
}
TEST_CASE("gradient: GRU .last", "[gradient][rnn]") { runGradCheck(cellLastCase("gru", "GRU")); }
TEST_CASE("gradient: GRUResetAfter .sequence", "[gradient][rnn]") {
  runGradCheck(cellSequenceCase("gru_reset_after", "GRUResetAfter"));
}
TEST_CASE("gradient: GRUResetAfter .last", "[gradient][rnn]") {
  runGradCheck(cellLastCase("gru_reset_after", "GRUResetAfter"));
}
TEST_CASE("gradient: GRUResetAfter .sequence, Dense and cross_entropy at every step",
          "[gradient][rnn]") {
  runGradCheck(cellSequenceLogitsCase("gru_reset_after", "GRUResetAfter"));
}
TEST_CASE("gradient: SimpleRNN with a sigmoid activation .sequence", "[gradient][rnn]") {
  GradCase g = cellSequenceCase("simple_rnn_sigmoid", "SimpleRNN");
  g.body = "  input x: float[6, 3]\n"
           "  target t: float[6, 3]\n"
           "  output h = SimpleRNN(3, sigmoid).sequence(x)\n"
           "  loss mse(h, t)\n";
  g.targetRange = {0, 1};
  runGradCheck(g);
}

TEST_CASE("gradient: two stacked LSTMs", "[gradient][rnn]") {
  GradCase g;
  g.name = "stacked_lstm";
  g.searchDraws = 50;
  g.prelude = kRnn;
  // Dense + cross_entropy at every step on top (mse over T * H values would
  // leave the lower LSTM's gradients too small to check well).
  g.body = "  input x: float[6, 3]\n"
           "  target next: int[6]\n"
           "  h1 = LSTM(4).sequence(x)\n"
           "  h2 = LSTM(3).sequence(h1)\n"
           "  output logits = Dense(3)(h2)\n"
           "  loss cross_entropy(logits, next)\n";
  g.defaultParamRange = {-1.5, 1.5};
  g.inputRange["x"] = {-1, 1};
  g.paramRange["logits.W"] = {-3, 3};
  g.weights = {1, 0.5, 0, 2};
  runGradCheck(g);
}

TEST_CASE("gradient: the text generator, Embedding -> LSTM.sequence -> LSTM.last -> Dense",
          "[gradient][rnn]") {
  GradCase g;
  g.name = "textgen";
  g.searchDraws = 50;
  g.prelude = kRnn;
  g.body = "  input words: int[6]\n"
           "  target next: int\n"
           "  e = Embedding(7, 3)(words)\n"
           "  h1 = LSTM(5).sequence(e)\n"
           "  h2 = LSTM(4).last(h1)\n"
           "  output logits = Dense(7)(h2)\n"
           "  loss cross_entropy(logits, next)\n";
  g.numClasses = 7;
  g.idRange["words"] = {0, 7};
  g.defaultParamRange = {-1, 1};
  g.paramRange["e.table"] = {-2, 2};
  g.paramRange["logits.W"] = {-2, 2};
  g.weights = {1, 0.5, 0, 2};
  runGradCheck(g);
}
