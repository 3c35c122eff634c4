// Weights between PyTorch and nnc (tools/torch_weights.py), against
// committed fixtures, with no Python at test time: reference/convert_lm.py
// converted a seeded PyTorch LSTM language model's state_dict into
// convert_torch.safetensors, and an nnc-trained checkpoint of the same
// model (convert_nnc.safetensors) into a state_dict, and recorded the
// next-token probabilities PyTorch computes with each (convert_lm.txt).
// nnc's predict, with each checkpoint, must give those probabilities to
// 1e-5: the first checks the conversion into nnc, the second the
// conversion back. A third model (tiny_mix.nn) has every other module kind
// the converter knows: GRU, LayerNorm and MultiheadAttention.
#include "Reference.h"

#include "nnrt/nnrt.h"

#include <catch2/catch.hpp>

#include <iostream>

using namespace nnc;
using namespace nnc::numtest;

namespace {

void checkProbabilities(const std::string &model, const std::string &checkpoint,
                        const std::string &key) {
  static const Reference r = readReference(sourcePath("tests/numeric/reference/convert_lm.txt"));
  const RefTensor &ids = refTensor(r, "ids"), &want = refTensor(r, key);
  int64_t rows = ids.shape[0], window = ids.shape[1];
  CodeGenOptions o;
  o.batch = rows;
  Compiled c = compileFile(sourcePath("tests/numeric/reference/" + model), o);
  REQUIRE(c.m->batch == rows);
  std::vector<float> params(size_t(c.m->num_params));
  nnrt_error e{};
  nnrt_metadata md{};
  std::string path = sourcePath("tests/numeric/reference/" + checkpoint);
  INFO(path);
  REQUIRE(nnrt_checkpoint_load(path.c_str(), c.m, params.data(), nullptr, nullptr, &md, &e) == 0);
  CHECK(std::string(nnrt_metadata_get(&md, NNRT_META_MODEL)) == c.m->name);
  nnrt_metadata_free(&md);
  IOBuffers io(*c.m);
  REQUIRE(int64_t(io.inputs[0].ints.size()) == rows * window);
  for (size_t i = 0; i < ids.values.size(); ++i)
    io.inputs[0].ints[i] = int32_t(ids.values[i]);
  auto pio = io.predictIO();
  c.m->predict(params.data(), pio.data(), workspace(c.m));
  REQUIRE(io.outputs[0].floats.size() == want.values.size());
  Compare cmp(1e-5);
  cmp.run(key, want, [&](size_t i) { return io.outputs[0].floats[i]; });
  std::cout << checkpoint << ": max |nnc - torch| " << cmp.maxAbs << "\n";
  INFO(cmp.report.str());
  CHECK(cmp.bad == 0);
}

} // namespace

TEST_CASE("convert: a PyTorch LSTM language model's weights give torch's probabilities in nnc",
          "[convert]") {
  checkProbabilities("tiny_lm.nn", "convert_torch.safetensors", "torch/probs");
}

TEST_CASE("convert: nnc's weights converted to PyTorch give nnc's probabilities there",
          "[convert]") {
  checkProbabilities("tiny_lm.nn", "convert_nnc.safetensors", "nnc/probs");
}

TEST_CASE("convert: Embedding, GRU, LayerNorm, MultiheadAttention and Linear from PyTorch",
          "[convert]") {
  checkProbabilities("tiny_mix.nn", "convert_mix.safetensors", "mix/probs");
}
