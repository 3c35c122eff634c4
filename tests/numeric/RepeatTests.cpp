// repeat(N, Layer(...)) kept as a loop over stacked parameters (nn.scan
// {stacked}): its gradient against finite differences (GradCheck.h), and its
// training against the same model written out as N copies, which must agree
// to rounding: same parameters, same loss, same updates, same predictions.
#include "GradCheck.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <map>

using namespace nnc;
using namespace nnc::numtest;

namespace {

const char *kBlocks = "import std.attention\n"
                      "model R(vocab V = 7, context T = 5, width C = 8) {\n"
                      "  input  ids: int[T]\n"
                      "  target next: int[T]\n"
                      "  x = Embedding(V, C)(ids)\n"
                      "  blocks = repeat(3, TransformerBlock(2))(x)\n"
                      "  logits = Dense(V)(LayerNorm()(blocks))\n"
                      "  output probs = softmax(logits)\n"
                      "  loss cross_entropy(logits, next)\n"
                      "}\n";

struct Trained {
  std::vector<float> params, probs, losses;
};

// Three SGD steps on fixed random data, then eval_step and predict. (Not
// Adam: it scales a gradient that is 0 up to rounding, such as the keys'
// bias's, to a full step, so rounding would decide the comparison.)
Trained train(const Compiled &c) {
  Trained r;
  r.params.assign(size_t(c.m->num_params), 0.0f);
  c.m->init(r.params.data(), 11);
  std::vector<float> state(size_t(c.m->opt_state_size), 0.0f);
  IOBuffers io(*c.m);
  Rng rng(5);
  for (int step = 1; step <= 3; ++step) {
    for (int32_t &w : io.inputs[0].ints)
      w = int32_t(rng.next() % 7);
    for (int32_t &t : io.targets[0].ints)
      t = int32_t(rng.next() % 7);
    std::fill(io.weights.begin(), io.weights.end(), 1.0f);
    float hyper[NNRT_HYPER_COUNT] = {0.1f, float(step), 0, 0};
    auto tio = io.trainIO();
    r.losses.push_back(
        c.m->train_step(r.params.data(), state.data(), hyper, tio.data(), workspace(c.m)));
  }
  auto tio = io.trainIO();
  r.losses.push_back(c.m->eval_step(r.params.data(), tio.data(), workspace(c.m)));
  auto pio = io.predictIO();
  c.m->predict(r.params.data(), pio.data(), workspace(c.m));
  r.probs = io.outputs[0].floats;
  return r;
}

// The parameters by name: the loop's stacks lie parameter by parameter
// ([N, ...] each), the copies written out copy by copy.
std::map<std::string, std::vector<float>> byName(const Compiled &c, const std::vector<float> &p) {
  std::map<std::string, std::vector<float>> out;
  for (const nnrt_tensor_info *t : c.withRole(NNRT_PARAM))
    out[t->name].assign(p.begin() + t->offset, p.begin() + t->offset + t->size);
  return out;
}

void checkClose(const std::vector<float> &a, const std::vector<float> &b, const char *what) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])) / (1 + std::fabs(double(b[i]))));
  INFO(what << ": largest relative difference " << worst);
  CHECK(worst <= 2e-5);
}

} // namespace

TEST_CASE("gradient: repeat(3, TransformerBlock) as one loop over stacked parameters",
          "[gradient][repeat]") {
  GradCase g;
  g.name = "repeat_blocks";
  g.prelude = "import std.attention\n";
  g.body = "  input x: float[3, 4]\n"
           "  target t: float[3, 4]\n"
           "  output y = repeat(3, TransformerBlock(2))(x)\n"
           "  loss mse(y, t)\n";
  g.weights = {1, 0.5, 0, 2};
  g.searchDraws = 20;
  // LayerNorm's scale near 1, so that every copy passes a real gradient on.
  // The keys' bias adds the same q . bk to every score of a row, which
  // softmax takes back: its gradient is 0.
  for (int i = 0; i < 3; ++i) {
    for (const char *ln : {"n1", "n2"})
      g.paramRange["y." + std::to_string(i) + "." + ln + ".gamma"] = {0.5, 1.5};
    g.zeroGradParams.push_back("y." + std::to_string(i) + ".attn.bk");
  }
  runGradCheck(g);
}

TEST_CASE("repeat: the loop trains as the copies written out", "[repeat]") {
  CodeGenOptions o = forTestTarget(sgdOptions(4));
  Compiled loop = compileSource(kBlocks, o, "repeat_loop.nn", /*loopRepeats=*/true);
  Compiled unrolled = compileSource(kBlocks, o, "repeat_unrolled.nn", /*loopRepeats=*/false);
  REQUIRE(loop.m->num_params == unrolled.m->num_params);
  Trained a = train(loop), b = train(unrolled);
  checkClose(a.losses, b.losses, "losses");
  auto pa = byName(loop, a.params), pb = byName(unrolled, b.params);
  REQUIRE(pa.size() == pb.size());
  for (const auto &[name, values] : pb) {
    INFO("parameter " << name);
    REQUIRE(pa.count(name));
    checkClose(pa[name], values, "parameters after three SGD steps");
  }
  checkClose(a.probs, b.probs, "predictions");
}

// The cached step loops over the copies too, their keys and values stacked
// in one state per cache ([N, T, C] per example, written in place): fed
// the tokens one by one, it gives predict's probabilities at every
// position.
TEST_CASE("repeat: the cached step over stacked caches gives predict's probabilities", "[repeat]") {
  Compiled c = compileWithStep(kBlocks, sgdOptions(4), "repeat_step.nn");
  const nnrt_model &m = *c.m;
  REQUIRE(m.step);
  REQUIRE(m.step_batch == 1);
  std::vector<float> params(size_t(m.num_params));
  m.init(params.data(), 7);
  IOBuffers io(m);
  Rng rng(9);
  for (int32_t &w : io.inputs[0].ints)
    w = int32_t(rng.next() % 7);
  auto pio = io.predictIO();
  m.predict(params.data(), pio.data(), workspace(&m));

  std::vector<std::vector<float>> bufs;
  std::vector<void *> sio;
  int input = -1, output = -1, stacked = 0;
  for (int i = 0; i < m.num_step_tensors; ++i) {
    const nnrt_tensor_info &t = m.step_tensors[i];
    bufs.emplace_back(size_t(t.size * m.step_batch), 0.0f);
    input = t.role == NNRT_INPUT ? i : input;
    output = t.role == NNRT_OUTPUT ? i : output;
    if (t.role == NNRT_STATE && std::string(t.name).rfind("blocks.attn.cache_", 0) == 0) {
      CHECK(t.shape[0] == 3); // the copies' caches, stacked
      ++stacked;
    }
  }
  CHECK(stacked == 2); // keys and values
  REQUIRE(input >= 0);
  REQUIRE(output >= 0);
  for (auto &b : bufs)
    sio.push_back(b.data());
  const int64_t T = 5, V = 7;
  double worst = 0;
  for (int64_t t = 0; t < T; ++t) {
    int32_t id = io.inputs[0].ints[size_t(t)];
    std::memcpy(bufs[size_t(input)].data(), &id, 4);
    m.step(params.data(), sio.data(), workspace(&m));
    for (int64_t v = 0; v < V; ++v)
      worst = std::max(worst, std::fabs(double(bufs[size_t(output)][size_t(v)]) -
                                        double(io.outputs[0].floats[size_t(t * V + v)])));
  }
  INFO("largest difference between step and predict: " << worst);
  CHECK(worst <= 1e-5);
}
