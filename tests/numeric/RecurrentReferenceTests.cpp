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

using namespace nnc;
using namespace nnc::numtest;

namespace {

constexpr int64_t kB = 4;

const Reference &reference() {
  static const Reference r = readReference(sourcePath("tests/numeric/reference/rnn_cells.txt"));
  return r;
}

void runReferenceCase(const std::string &caseName, const std::string &cell) {
  LayerCase lc;
  lc.name = caseName;
  lc.source = "import std.rnn\n"
              "model Ref {\n"
              "  input x: float[6, 3]\n"
              "  input pos: int[6]\n"
              "  target t: float[6, 4]\n"
              "  param D[24, 3] = zeros\n"
              "  output h = " +
              cell +
              "(4).sequence(x + embedding(D, pos))\n"
              "  loss mse(h, t)\n"
              "}\n";
  lc.out = "h";
  lc.ourName = [](const std::string &p) { return p; };
  lc.batch = kB;
  runLayerCase(reference(), lc);
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
