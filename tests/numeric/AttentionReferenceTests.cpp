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

#include <iostream>
#include <set>

using namespace nnc;
using namespace nnc::numtest;

namespace {

constexpr int64_t kB = 4, kT = 5, kC = 8;

const Reference &reference() {
  static const Reference r = readReference(sourcePath("tests/numeric/reference/attention.txt"));
  return r;
}

const RefTensor &refT(const std::string &name) { return refTensor(reference(), name); }

// caseName: the reference's; layer: the call; instance: our name of it (its
// parameters are INSTANCE.P, the reference's P or attn.P).
void runAttentionCase(const std::string &caseName, const std::string &layer, bool keep,
                      const std::string &instance, const std::string &refPrefix) {
  std::string src = "import std.attention\n"
                    "model Ref {\n"
                    "  input x: float[5, 8]\n"
                    "  input pos: int[5]\n" +
                    std::string(keep ? "  input keep: float[5]\n" : "") +
                    "  target t: float[5, 8]\n"
                    "  param D[20, 8] = zeros\n"
                    "  " + instance + " = " + layer + "(x + embedding(D, pos)" +
                    (keep ? ", keep" : "") + ")\n"
                    "  output y = " + instance + "\n"
                    "  loss mse(y, t)\n"
                    "}\n";
  INFO("case " << caseName << ", model:\n" << src);
  Compiled c = compileSource(src, sgdOptions(kB), caseName + ".nn");
  const nnrt_model &m = *c.m;

  // Parameters: exactly the reference's (names and shapes), and D.
  const std::string prefix = caseName + "/params/";
  std::map<std::string, std::string> ours; // our name -> the reference's
  for (const auto &[name, t] : reference())
    if (name.compare(0, prefix.size(), prefix) == 0) {
      std::string r = name.substr(prefix.size());
      ours[instance + "." + r.substr(refPrefix.size())] = r;
    }
  REQUIRE(!ours.empty());
  std::set<std::string> names, want;
  for (const nnrt_tensor_info *t : c.withRole(NNRT_PARAM))
    if (std::string(t->name) != "D")
      names.insert(t->name);
  for (const auto &[n, r] : ours)
    want.insert(n);
  REQUIRE(names == want);
  std::vector<float> params(size_t(m.num_params), 0.0f);
  for (const auto &[n, r] : ours) {
    const nnrt_tensor_info &t = c.tensor(n);
    const RefTensor &v = refT(prefix + r);
    INFO("parameter " << n);
    REQUIRE(std::vector<int64_t>(t.shape, t.shape + t.rank) == v.shape);
    for (int64_t j = 0; j < t.size; ++j)
      params[size_t(t.offset + j)] = float(v.values[size_t(j)]);
  }

  IOBuffers io(m);
  const RefTensor &x = refT(caseName + "/x"), &tg = refT(caseName + "/t"), &w = refT(caseName + "/w");
  auto &xb = io.inputs[size_t(ioIndex(c, NNRT_INPUT, "x"))].floats;
  auto &pos = io.inputs[size_t(ioIndex(c, NNRT_INPUT, "pos"))].ints;
  REQUIRE(xb.size() == size_t(kB * kT * kC));
  REQUIRE(x.values.size() == xb.size());
  for (size_t i = 0; i < xb.size(); ++i)
    xb[i] = float(x.values[i]);
  for (size_t i = 0; i < pos.size(); ++i)
    pos[i] = int32_t(i); // row b, position t: b * 5 + t
  if (keep) {
    auto &kb = io.inputs[size_t(ioIndex(c, NNRT_INPUT, "keep"))].floats;
    const RefTensor &k = refT(caseName + "/keep");
    REQUIRE(kb.size() == k.values.size());
    for (size_t i = 0; i < kb.size(); ++i)
      kb[i] = float(k.values[i]);
  }
  REQUIRE(io.targets[0].floats.size() == tg.values.size());
  for (size_t i = 0; i < tg.values.size(); ++i)
    io.targets[0].floats[i] = float(tg.values[i]);
  for (size_t i = 0; i < w.values.size(); ++i)
    io.weights[i] = float(w.values[i]);

  Compare cmp(1e-5, 1e-2);
  std::cout << "reference " << caseName << " (" << layer << "):\n";
  auto pio = io.predictIO();
  m.predict(params.data(), pio.data());
  std::vector<float> yPredict = io.outputs[0].floats;
  cmp.run("y (predict)", refT(caseName + "/y"), [&](size_t i) { return double(yPredict[i]); });

  auto tio = io.trainIO();
  const double lr = 1024.0;
  double loss = m.eval_step(params.data(), tio.data());
  std::vector<float> stepped = params, state(size_t(m.opt_state_size), 0.0f);
  float hyper[NNRT_HYPER_COUNT] = {float(lr), 1.0f, 0, 0};
  double trainLoss = m.train_step(stepped.data(), state.data(), hyper, tio.data());
  const RefTensor &lossRef = refT(caseName + "/loss");
  cmp.run("loss (eval_step)", lossRef, [&](size_t) { return loss; });
  cmp.run("loss (train_step)", lossRef, [&](size_t) { return trainLoss; });
  cmp.run("y (train_step)", refT(caseName + "/y"),
          [&](size_t i) { return double(io.outputs[0].floats[i]); });
  auto grad = [&](size_t i) { return (double(params[i]) - double(stepped[i])) / lr; };
  for (const auto &[n, r] : ours) {
    const nnrt_tensor_info &t = c.tensor(n);
    cmp.run("d loss / d " + n, refT(caseName + "/grad/" + r),
            [&](size_t j) { return grad(size_t(t.offset) + j); });
  }
  const nnrt_tensor_info &D = c.tensor("D");
  cmp.run("d loss / d x", refT(caseName + "/dx"), [&](size_t j) { return grad(size_t(D.offset) + j); });

  std::cout << "reference " << caseName << ": max |nnc - ref| " << cmp.maxAbs
            << ", max relative to (|ref| + scale) " << cmp.maxRel << "\n";
  INFO("values outside 1e-5 * (|ref| + scale) (first 16 of " << cmp.bad << "):\n"
                                                               << cmp.report.str());
  CHECK(cmp.bad == 0);
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
