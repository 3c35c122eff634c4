// std.rnn's cells against independent implementations in float64:
// reference/rnn_cells.py wrote reference/rnn_cells.txt (PyTorch's nn.LSTM,
// nn.GRU and nn.RNN with their weights mapped onto ours as docs/language.md
// says, and the course's GRU and the peephole LSTM written out as equations,
// differentiated by torch.autograd). See the script for the cases.
//
// Each case is the model
//     input x: float[6, 3]; input pos: int[6]; target t: float[6, 4]
//     param D[24, 3]
//     output h = CELL(4).sequence(x + embedding(D, pos))
//     loss mse(h, t)
// at batch 4 with row weights (1, 0.5, 0, 2). D is all zeros and pos holds
// b * 6 + t for row b, so the cell sees exactly x, and D's gradient (row
// b * 6 + t) is d loss / d x[b, t]: the input's gradient, per example.
// Compared: the forward output h (through predict, and as train_step wrote
// it), the loss (eval_step and train_step), the gradient of every parameter
// (one SGD train_step with lr = 2^10, as in GradientTests.cpp) and of x.
//
// Tolerance (as IrisStepTests.cpp): |nnc - ref| <= 1e-5 * (|ref| + max |ref|
// of the tensor): ~1e-5 relative, float32 against float64, where the
// tensor's scale keeps values that come out of a cancellation from demanding
// more than float32 can give.
#include "GradCheck.h"
#include "Reference.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

using namespace nnc;
using namespace nnc::numtest;

namespace {

constexpr int64_t kB = 4, kT = 6, kIn = 3, kH = 4;

const Reference &reference() {
  static const Reference r =
      readReference(sourcePath("tests/numeric/reference/rnn_cells.txt"));
  return r;
}

const RefTensor &refT(const std::string &name) {
  auto it = reference().find(name);
  if (it == reference().end())
    throw std::runtime_error("reference has no '" + name + "'");
  return it->second;
}

void runReferenceCase(const std::string &caseName, const std::string &cell) {
  std::string src = "import std.rnn\n"
                    "model Ref {\n"
                    "  input x: float[6, 3]\n"
                    "  input pos: int[6]\n"
                    "  target t: float[6, 4]\n"
                    "  param D[24, 3] = zeros\n"
                    "  output h = " + cell + "(4).sequence(x + embedding(D, pos))\n"
                    "  loss mse(h, t)\n"
                    "}\n";
  INFO("case " << caseName << ", model:\n" << src);
  Compiled c = compileSource(src, sgdOptions(kB), caseName + ".nn");
  const nnrt_model &m = *c.m;

  // Parameters: exactly the reference's (names and shapes), and D.
  const std::string prefix = caseName + "/params/";
  std::set<std::string> refNames;
  for (const auto &[name, t] : reference())
    if (name.compare(0, prefix.size(), prefix) == 0)
      refNames.insert(name.substr(prefix.size()));
  REQUIRE(!refNames.empty());
  std::set<std::string> ours;
  for (const nnrt_tensor_info *t : c.withRole(NNRT_PARAM))
    if (std::string(t->name) != "D")
      ours.insert(t->name);
  REQUIRE(ours == refNames);
  std::vector<float> params(size_t(m.num_params), 0.0f);
  for (const std::string &n : refNames) {
    const nnrt_tensor_info &t = c.tensor(n);
    const RefTensor &want = refT(prefix + n);
    INFO("parameter " << n);
    REQUIRE(std::vector<int64_t>(t.shape, t.shape + t.rank) == want.shape);
    for (int64_t j = 0; j < t.size; ++j)
      params[size_t(t.offset + j)] = float(want.values[size_t(j)]);
    for (int64_t j = 0; j < t.size; ++j) // exact in float32 by construction
      REQUIRE(double(params[size_t(t.offset + j)]) == want.values[size_t(j)]);
  }

  // Inputs, targets, row weights.
  IOBuffers io(m);
  const RefTensor &x = refT(caseName + "/x"), &tg = refT(caseName + "/t"), &w = refT(caseName + "/w");
  REQUIRE(x.values.size() == size_t(kB * kT * kIn));
  REQUIRE(tg.values.size() == size_t(kB * kT * kH));
  auto &xb = io.inputs[size_t(ioIndex(c, NNRT_INPUT, "x"))].floats;
  auto &pos = io.inputs[size_t(ioIndex(c, NNRT_INPUT, "pos"))].ints;
  for (size_t i = 0; i < xb.size(); ++i)
    xb[i] = float(x.values[i]);
  for (size_t i = 0; i < pos.size(); ++i)
    pos[i] = int32_t(i); // row b, step t: b * 6 + t
  for (size_t i = 0; i < io.targets[0].floats.size(); ++i)
    io.targets[0].floats[i] = float(tg.values[i]);
  for (size_t i = 0; i < w.values.size(); ++i)
    io.weights[i] = float(w.values[i]);

  Compare cmp;
  std::cout << "reference " << caseName << " (" << cell << "):\n";
  // Forward through predict.
  auto pio = io.predictIO();
  m.predict(params.data(), pio.data());
  std::vector<float> hPredict = io.outputs[0].floats;
  cmp.run("h (predict)", refT(caseName + "/h"), [&](size_t i) { return double(hPredict[i]); });

  // Loss, and the gradients through one SGD step.
  auto tio = io.trainIO();
  const double lr = 1024.0;
  double loss = m.eval_step(params.data(), tio.data());
  std::vector<float> stepped = params, state(size_t(m.opt_state_size), 0.0f);
  float hyper[NNRT_HYPER_COUNT] = {float(lr), 1.0f, 0, 0};
  double trainLoss = m.train_step(stepped.data(), state.data(), hyper, tio.data());
  RefTensor lossRef = refT(caseName + "/loss");
  cmp.run("loss (eval_step)", lossRef, [&](size_t) { return loss; });
  cmp.run("loss (train_step)", lossRef, [&](size_t) { return trainLoss; });
  cmp.run("h (train_step)", refT(caseName + "/h"),
          [&](size_t i) { return double(io.outputs[0].floats[i]); });
  auto grad = [&](size_t i) { return (double(params[i]) - double(stepped[i])) / lr; };
  for (const std::string &n : refNames) {
    const nnrt_tensor_info &t = c.tensor(n);
    cmp.run("d loss / d " + n, refT(caseName + "/grad/" + n),
            [&](size_t j) { return grad(size_t(t.offset) + j); });
  }
  const nnrt_tensor_info &D = c.tensor("D");
  cmp.run("d loss / d x", refT(caseName + "/dx"), [&](size_t j) { return grad(size_t(D.offset) + j); });

  std::cout << "reference " << caseName << ": max |nnc - ref| " << cmp.maxAbs
            << ", max relative to (|ref| + scale) " << cmp.maxRel << "\n";
  INFO("values outside 1e-5 * (|ref| + max |ref|) (first 16 of " << cmp.bad << "):\n"
                                                                  << cmp.report.str());
  CHECK(cmp.bad == 0);
}

} // namespace

TEST_CASE("reference: LSTM against torch.nn.LSTM (the docs' weight mapping)", "[reference][rnn]") {
  runReferenceCase("lstm", "LSTM");
}
TEST_CASE("reference: GRUResetAfter against torch.nn.GRU (the docs' weight mapping)",
          "[reference][rnn]") {
  runReferenceCase("gru_reset_after", "GRUResetAfter");
}
TEST_CASE("reference: SimpleRNN against torch.nn.RNN (the docs' weight mapping)",
          "[reference][rnn]") {
  runReferenceCase("simple_rnn", "SimpleRNN");
}
TEST_CASE("reference: the course's GRU against its equations in float64", "[reference][rnn]") {
  runReferenceCase("gru", "GRU");
}
TEST_CASE("reference: PeepholeLSTM against its equations in float64", "[reference][rnn]") {
  runReferenceCase("peephole_lstm", "PeepholeLSTM");
}
