// std.layers' LayerNorm followed by gelu against PyTorch in float64:
// reference/transformer_ops.py wrote reference/transformer_ops.txt
// (torch.nn.LayerNorm(8, eps=1e-5) with our gamma and beta as its weight and
// bias, then torch.nn.GELU(approximate='tanh')). See the script for the
// model and the values.
//
// Compared: the forward output (predict and train_step), the loss (eval_step
// and train_step), and the gradients of gamma, beta and of D, a zero
// parameter added to the input (the input's gradient summed over the
// batch), from one SGD train_step with lr = 2^10 as in GradientTests.cpp.
// Tolerance as RecurrentReferenceTests.cpp: |nnc - ref| <= 1e-5 * (|ref| +
// max |ref| of the tensor).
#include "GradCheck.h"
#include "NumericHelpers.h"
#include "Reference.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

using namespace nnc;
using namespace nnc::numtest;

namespace {

constexpr int64_t kB = 4;
} // namespace

TEST_CASE("reference: LayerNorm + gelu against torch.nn.LayerNorm and GELU(approximate='tanh')",
          "[reference][transformer]") {
  auto ref = readReference(sourcePath("tests/numeric/reference/transformer_ops.txt"));
  auto refT = [&](const std::string &n) -> const RefTensor & {
    auto it = ref.find("ln_gelu/" + n);
    if (it == ref.end())
      throw std::runtime_error("reference has no 'ln_gelu/" + n + "'");
    return it->second;
  };
  const std::string src = "import std.layers\n"
                          "model Ref {\n"
                          "  input x: float[3, 8]\n"
                          "  target t: float[3, 8]\n"
                          "  param D[3, 8] = zeros\n"
                          "  h = LayerNorm()(x + D)\n"
                          "  output y = gelu(h)\n"
                          "  loss mse(y, t)\n"
                          "}\n";
  Compiled c = compileSource(src, sgdOptions(kB), "ln_gelu.nn");
  const nnrt_model &m = *c.m;
  std::vector<float> params(size_t(m.num_params), 0.0f);
  for (const char *n : {"h.gamma", "h.beta"}) {
    const nnrt_tensor_info &t = c.tensor(n);
    const RefTensor &want = refT(std::string("params/") + n);
    REQUIRE(std::vector<int64_t>(t.shape, t.shape + t.rank) == want.shape);
    for (int64_t j = 0; j < t.size; ++j)
      params[size_t(t.offset + j)] = float(want.values[size_t(j)]);
  }
  IOBuffers io(m);
  auto &xb = io.inputs[0].floats;
  const RefTensor &x = refT("x"), &tg = refT("t"), &w = refT("w");
  REQUIRE(xb.size() == x.values.size());
  REQUIRE(io.targets[0].floats.size() == tg.values.size());
  for (size_t i = 0; i < xb.size(); ++i)
    xb[i] = float(x.values[i]);
  for (size_t i = 0; i < tg.values.size(); ++i)
    io.targets[0].floats[i] = float(tg.values[i]);
  for (size_t i = 0; i < w.values.size(); ++i)
    io.weights[i] = float(w.values[i]);

  Compare cmp;

  auto pio = io.predictIO();
  m.predict(params.data(), pio.data(), numtest::workspace(&m));
  std::vector<float> yPredict = io.outputs[0].floats;
  cmp.run("y (predict)", refT("y"), [&](size_t i) { return double(yPredict[i]); });

  auto tio = io.trainIO();
  const double lr = 1024.0;
  double loss = m.eval_step(params.data(), tio.data(), numtest::workspace(&m));
  std::vector<float> stepped = params, state(size_t(m.opt_state_size), 0.0f);
  float hyper[NNRT_HYPER_COUNT] = {float(lr), 1.0f, 0, 0};
  double trainLoss =
      m.train_step(stepped.data(), state.data(), hyper, tio.data(), numtest::workspace(&m));
  cmp.run("loss (eval_step)", refT("loss"), [&](size_t) { return loss; });
  cmp.run("loss (train_step)", refT("loss"), [&](size_t) { return trainLoss; });
  cmp.run("y (train_step)", refT("y"), [&](size_t i) { return double(io.outputs[0].floats[i]); });
  for (const char *n : {"h.gamma", "h.beta", "D"}) {
    const nnrt_tensor_info &t = c.tensor(n);
    cmp.run(std::string("d loss / d ") + n, refT(std::string("grad/") + n), [&](size_t j) {
      size_t i = size_t(t.offset) + j;
      return (double(params[i]) - double(stepped[i])) / lr;
    });
  }
  INFO("values outside 1e-5 * (|ref| + max |ref|) (first 16 of " << cmp.bad << "):\n"
                                                                 << cmp.report.str());
  CHECK(cmp.bad == 0);
}
