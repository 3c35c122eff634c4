// std.attention's layers against PyTorch in float64: reference/attention.py
// wrote reference/attention.txt (torch.nn.MultiheadAttention with a causal
// attn_mask or a key_padding_mask, and a pre-LayerNorm transformer block of
// torch.nn.LayerNorm, MultiheadAttention, Linear and GELU(approximate='tanh'),
// their weights mapped onto ours as docs/language.md says). See the script
// for the cases.
//
// Each case is the model
//     input x: float[5, 8]; input pos: int[5]; (input keep: float[5])
//     target t: float[5, 8]; param D[20, 8] = zeros
//     NAME = LAYER(x + embedding(D, pos) (, keep)); output y = NAME
//     loss mse(y, t)
// at batch 4 with row weights (1, 0.5, 0, 2). D is zero and pos holds
// b * 5 + t for row b, so the layer sees exactly x, and D's gradient (row
// b * 5 + t) is d loss / d x[b, t].
// Compared: the output (predict and train_step), the loss (eval_step and
// train_step), the gradient of every parameter (one SGD train_step with
// lr = 2^10, as in GradientTests.cpp) and of x, within 1e-5 * (|ref| +
// scale) (Reference.h); the key bias's gradient is zero in exact arithmetic
// (softmax cancels it), so every tensor's scale is at least 1e-2.
#include "GradCheck.h"
#include "Reference.h"

#include <catch2/catch.hpp>

using namespace nnc;
using namespace nnc::numtest;

namespace {

constexpr int64_t kB = 4;

const Reference &reference() {
  static const Reference r = readReference(sourcePath("tests/numeric/reference/attention.txt"));
  return r;
}

// caseName: the reference's; layer: the call; instance: our name of it (its
// parameters are INSTANCE.P for the reference's refPrefix + P).
void runAttentionCase(const std::string &caseName, const std::string &layer, bool keep,
                      const std::string &instance, const std::string &refPrefix) {
  LayerCase lc;
  lc.name = caseName;
  lc.source = "import std.attention\n"
              "model Ref {\n"
              "  input x: float[5, 8]\n"
              "  input pos: int[5]\n" +
              std::string(keep ? "  input keep: float[5]\n" : "") +
              "  target t: float[5, 8]\n"
              "  param D[20, 8] = zeros\n"
              "  " +
              instance + " = " + layer + "(x + embedding(D, pos)" + (keep ? ", keep" : "") +
              ")\n"
              "  output y = " +
              instance +
              "\n"
              "  loss mse(y, t)\n"
              "}\n";
  lc.out = "y";
  lc.ourName = [&](const std::string &p) { return instance + "." + p.substr(refPrefix.size()); };
  if (keep)
    lc.floatInputs = {"keep"};
  lc.batch = kB;
  lc.floor = 1e-2;
  runLayerCase(reference(), lc);
}

} // namespace

TEST_CASE("reference: CausalSelfAttention against torch.nn.MultiheadAttention with a causal mask",
          "[reference][attention]") {
  runAttentionCase("causal_attention", "CausalSelfAttention(2)", false, "attn", "attn.");
}
TEST_CASE("reference: SelfAttention with a padding mask against torch.nn.MultiheadAttention's "
          "key_padding_mask",
          "[reference][attention]") {
  runAttentionCase("masked_attention", "SelfAttention(2)", true, "attn", "attn.");
}
TEST_CASE("reference: TransformerBlock against a pre-LayerNorm block of torch modules",
          "[reference][attention]") {
  runAttentionCase("transformer_block", "TransformerBlock(2)", false, "block", "");
}
