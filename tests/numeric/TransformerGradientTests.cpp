// Gradient checks of the transformer primitives (issue 4) against central
// finite differences of the model's own eval_step (GradCheck.h: the method
// and tolerances of GradientTests.cpp), with forward values computed in
// double here:
//
// - layer_norm (default and given eps) and std.layers' LayerNorm (gamma,
//   beta) on per-example [2, 6] values;
// - gelu, as a function and as Dense's activation;
// - causal_mask and mask (a keep mask from not_padding of int ids, some of
//   them 0) feeding softmax over per-example [T, T] scores;
// - softmax / log_softmax with an axis on rank-3 per-example values, and
//   cross_entropy over rank-3 logits;
// - positions + embedding: a learned positional table [T, C] (unbatched)
//   added to batched token embeddings, whose gradient sums over the batch.
#include "GradCheck.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace nnc;
using namespace nnc::numtest;

namespace {

// (x - mean) / sqrt(var + eps) over rows of n.
std::vector<double> layerNorm(const std::vector<double> &x, size_t n, double eps) {
  std::vector<double> y(x.size());
  for (size_t r = 0; r < x.size() / n; ++r) {
    double m = 0, v = 0;
    for (size_t j = 0; j < n; ++j)
      m += x[r * n + j];
    m /= double(n);
    for (size_t j = 0; j < n; ++j)
      v += (x[r * n + j] - m) * (x[r * n + j] - m);
    v /= double(n);
    for (size_t j = 0; j < n; ++j)
      y[r * n + j] = (x[r * n + j] - m) / std::sqrt(v + eps);
  }
  return y;
}

double gelu(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

// softmax over rows of n, after replacing the elements `masked(row, j)` by -1e30.
template <typename F>
std::vector<double> maskedSoftmax(const std::vector<double> &x, size_t n, F masked) {
  std::vector<double> y(x.size());
  for (size_t r = 0; r < x.size() / n; ++r) {
    double mx = -INFINITY, s = 0;
    std::vector<double> v(n);
    for (size_t j = 0; j < n; ++j) {
      v[j] = masked(r, j) ? -1e30 : x[r * n + j];
      mx = std::max(mx, v[j]);
    }
    for (size_t j = 0; j < n; ++j)
      s += std::exp(v[j] - mx);
    for (size_t j = 0; j < n; ++j)
      y[r * n + j] = std::exp(v[j] - mx) / s;
  }
  return y;
}

} // namespace

TEST_CASE("gradient: layer_norm and the LayerNorm layer", "[gradient][transformer]") {
  GradCase g;
  g.name = "layer_norm";
  g.prelude = "import std.layers\n";
  g.body = "  input x: float[2, 6]\n"
           "  target t: float[2, 6]\n"
           "  param A[6, 6] = uniform(0.5)\n"
           "  param B[6, 6] = uniform(0.5)\n"
           "  output y = layer_norm(x @ A)\n"
           "  output z = layer_norm(x @ B, 0.5)\n"
           "  ln = LayerNorm(1e-3)(x @ B)\n"
           "  output u = ln\n"
           "  loss mse(y, t) + mse(z * y, t) + mse(u, t)\n";
  g.weights = {1, 0.5, 0, 2};
  g.paramRange = {{"ln.gamma", {0.5, 1.5}}};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref V{c, io, p};
    std::map<std::string, std::vector<double>> out;
    auto x = V.input("x");
    out["y"] = layerNorm(V.mm(x, "A"), 6, 1e-5);
    out["z"] = layerNorm(V.mm(x, "B"), 6, 0.5);
    auto u = layerNorm(V.mm(x, "B"), 6, 1e-3);
    auto gamma = V.param("ln.gamma"), beta = V.param("ln.beta");
    for (size_t i = 0; i < u.size(); ++i)
      u[i] = u[i] * gamma[i % 6] + beta[i % 6];
    out["u"] = u;
    return out;
  };
  runGradCheck(g);
}

TEST_CASE("gradient: gelu, as a function and as Dense's activation", "[gradient][transformer]") {
  GradCase g;
  g.name = "gelu";
  g.prelude = "import std.layers\n";
  g.body = "  input x: float[5]\n"
           "  target t: float[5]\n"
           "  target t4: float[4]\n"
           "  param A[5, 5] = uniform(0.5)\n"
           "  output y = gelu(x @ A * 3)\n"
           "  output d = Dense(4, activation = gelu)(x)\n"
           "  loss mse(y, t) + mse(d, t4)\n";
  g.inputRange = {{"x", {-2, 2}}};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref V{c, io, p};
    std::map<std::string, std::vector<double>> out;
    auto y = V.mm(V.input("x"), "A");
    for (double &v : y)
      v = gelu(3 * v);
    out["y"] = y;
    auto d = V.mm(V.input("x"), "d.W");
    auto b = V.param("d.b");
    for (size_t i = 0; i < d.size(); ++i)
      d[i] = gelu(d[i] + b[i % 4]);
    out["d"] = d;
    return out;
  };
  runGradCheck(g);
}

TEST_CASE("gradient: causal_mask and mask feeding softmax", "[gradient][transformer]") {
  // Scores [T, T] = x[T, 3] @ A per example (the products of attention are
  // another issue's); keys are the last axis.
  GradCase g;
  g.name = "attention_masks";
  g.body = "  input x: float[4, 3]\n"
           "  input ids: int[4]\n"
           "  target t: float[4, 4]\n"
           "  param A[3, 4] = uniform(1)\n"
           "  param B[3, 4] = uniform(1)\n"
           "  s = x @ A * 2\n"
           "  output pc = softmax(causal_mask(s))\n"
           "  output pm = softmax(mask(x @ B * 2, not_padding(ids)))\n"
           "  loss mse(pc, t) + mse(pm, t)\n";
  g.idRange = {{"ids", {0, 3}}};
  g.adjustRow = [](const Compiled &c, IOBuffers &io, int64_t row) {
    // Every row keeps its first key and pads its second, so each row has
    // both kinds whatever the draw.
    auto &ids = io.inputs[size_t(ioIndex(c, NNRT_INPUT, "ids"))].ints;
    ids[size_t(row * 4)] = 2;
    ids[size_t(row * 4 + 1)] = 0;
  };
  g.weights = {1, 0.5, 0, 2};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref V{c, io, p};
    std::map<std::string, std::vector<double>> out;
    auto s = V.mm(V.input("x"), "A");
    for (double &v : s)
      v *= 2;
    // rows r = b * 4 + i: masked where j > i
    out["pc"] = maskedSoftmax(s, 4, [](size_t r, size_t j) { return j > r % 4; });
    auto sm = V.mm(V.input("x"), "B");
    for (double &v : sm)
      v *= 2;
    const auto &ids = V.ids("ids");
    out["pm"] = maskedSoftmax(sm, 4, [&](size_t r, size_t j) { return ids[(r / 4) * 4 + j] == 0; });
    return out;
  };
  runGradCheck(g);
}

TEST_CASE("gradient: softmax and log_softmax along an axis of rank-3 values, and "
          "cross_entropy over rank-3 logits",
          "[gradient][transformer]") {
  GradCase g;
  g.name = "softmax_axis";
  g.body = "  input x: float[2, 3, 4]\n"
           "  target t: float[2, 3, 5]\n"
           "  target y: int[2, 3]\n"
           "  param A[4, 5] = uniform(1)\n"
           "  s = x @ A\n"
           "  output p1 = softmax(s, axis = 1)\n"
           "  output p0 = softmax(s, axis = -3)\n"
           "  output pl = softmax(s)\n"
           "  l = log_softmax(s, 1)\n"
           "  loss mse(p1, t) + mse(p0 * pl, t) + mse(l, t) + cross_entropy(s, y)\n";
  g.numClasses = 5;
  g.weights = {1, 0.5, 0, 2};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref V{c, io, p};
    auto s = V.mm(V.input("x"), "A"); // [B, 2, 3, 5]
    auto at = [&](size_t b, size_t i, size_t j, size_t k) { return ((b * 2 + i) * 3 + j) * 5 + k; };
    std::vector<double> p1(s.size()), p0(s.size());
    for (size_t b = 0; b < 4; ++b) {
      for (size_t i = 0; i < 2; ++i)
        for (size_t k = 0; k < 5; ++k) { // softmax over j
          double sum = 0;
          for (size_t j = 0; j < 3; ++j)
            sum += std::exp(s[at(b, i, j, k)]);
          for (size_t j = 0; j < 3; ++j)
            p1[at(b, i, j, k)] = std::exp(s[at(b, i, j, k)]) / sum;
        }
      for (size_t j = 0; j < 3; ++j)
        for (size_t k = 0; k < 5; ++k) { // softmax over i
          double sum = 0;
          for (size_t i = 0; i < 2; ++i)
            sum += std::exp(s[at(b, i, j, k)]);
          for (size_t i = 0; i < 2; ++i)
            p0[at(b, i, j, k)] = std::exp(s[at(b, i, j, k)]) / sum;
        }
    }
    std::map<std::string, std::vector<double>> out;
    out["p1"] = p1;
    out["p0"] = p0;
    out["pl"] = maskedSoftmax(s, 5, [](size_t, size_t) { return false; });
    return out;
  };
  runGradCheck(g);
}

TEST_CASE("gradient: positions + embedding (a learned positional table)",
          "[gradient][transformer]") {
  GradCase g;
  g.name = "positions";
  g.body = "  input ids: int[4]\n"
           "  target t: float[4, 3]\n"
           "  param E[5, 3] = uniform(0.5)\n"
           "  param P[4, 3] = uniform(0.5)\n"
           "  output y = tanh(embedding(E, ids) + embedding(P, positions(4)))\n"
           "  loss mse(y, t)\n";
  g.idRange = {{"ids", {0, 5}}};
  g.weights = {1, 0.5, 0, 2};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref V{c, io, p};
    auto E = V.param("E"), P = V.param("P");
    const auto &ids = V.ids("ids");
    std::vector<double> y;
    for (size_t b = 0; b < 4; ++b)
      for (size_t i = 0; i < 4; ++i)
        for (size_t k = 0; k < 3; ++k)
          y.push_back(std::tanh(E[size_t(ids[b * 4 + i]) * 3 + k] + P[i * 3 + k]));
    return std::map<std::string, std::vector<double>>{{"y", y}};
  };
  runGradCheck(g);
}

TEST_CASE("gradient: cross_entropy ignores labels < 0 (masked-token training)", "[gradient]") {
  // PyTorch's ignore_index: rows labelled -1 count for nothing, the mean runs
  // over the others. Row 1 has every label ignored; row 3 is padding.
  GradCase g;
  g.name = "cross_entropy_ignore";
  g.body = "  input x: float[3, 4]\n"
           "  target label: int[3]\n"
           "  param A[4, 3] = uniform(0.5)\n"
           "  param c[3] = uniform(0.5)\n"
           "  output z = x @ A + c\n"
           "  loss cross_entropy(z, label)\n";
  g.paramRange["A"] = {-1.5, 1.5};
  g.weights = {1, 1, 0.5, 0};
  g.adjustRow = [](const Compiled &c, IOBuffers &io, int64_t row) {
    auto &y = io.targets[size_t(ioIndex(c, NNRT_TARGET, "label"))].ints;
    if (row == 1)
      for (int j = 0; j < 3; ++j)
        y[size_t(row * 3 + j)] = -1;
    else
      y[size_t(row * 3 + row % 3)] = -1;
  };
  g.expectedLoss = [](const Compiled &c, IOBuffers &io, const std::vector<float> &) {
    const auto &zb = io.outputs[size_t(ioIndex(c, NNRT_OUTPUT, "z"))].floats;
    const auto &lb = io.targets[size_t(ioIndex(c, NNRT_TARGET, "label"))].ints;
    double num = 0, den = 0;
    for (int64_t r = 0; r < c.m->batch * 3; ++r) {
      if (lb[size_t(r)] < 0)
        continue;
      double mx = -1e300, se = 0;
      for (int64_t j = 0; j < 3; ++j)
        mx = std::max(mx, double(zb[size_t(r * 3 + j)]));
      for (int64_t j = 0; j < 3; ++j)
        se += std::exp(double(zb[size_t(r * 3 + j)]) - mx);
      double w = io.weights[size_t(r / 3)];
      num += w * (mx + std::log(se) - double(zb[size_t(r * 3 + lb[size_t(r)])]));
      den += w;
    }
    return num / den;
  };
  runGradCheck(g);
}
