// The whole Iris train_step (examples/iris/iris.nn, Adam) against an
// independent PyTorch computation in float64: reference/iris_step.py wrote
// reference/iris_step.txt (the loss, every parameter's gradient, the
// parameters after one and two Adam steps, the softmax output), for a batch of
// 8 rows with weight 1 ("full") and with the last 3 rows as padding ("pad").
//
// nnc computes in float32; the reference is float64. Tolerance per value:
// |got - ref| <= 1e-5 * (|ref| + max |ref| of the tensor), i.e. ~1e-5
// relative, where the tensor's scale keeps values that come out of a
// cancellation (a gradient that is small next to its summands) from demanding
// more than float32 can give.
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

const char *const kParams[] = {"h1.W", "h1.b", "h2.W", "h2.b", "logits.W", "logits.b"};

struct IrisFixture {
  Reference r = readReference(sourcePath("tests/numeric/reference/iris_step.txt"));

  void checkTable(const Compiled &c) {
    REQUIRE(c.m->batch == 8);
    REQUIRE(c.m->loss == NNRT_LOSS_CROSS_ENTROPY);
    for (const char *p : kParams) {
      const nnrt_tensor_info &t = c.tensor(p);
      CHECK(t.role == NNRT_PARAM);
      const RefTensor &want = refTensor(r, std::string("params/") + p);
      REQUIRE(std::vector<int64_t>(t.shape, t.shape + t.rank) == want.shape);
      REQUIRE(t.size == int64_t(want.values.size()));
    }
    REQUIRE(c.withRole(NNRT_PARAM).size() == 6);
    REQUIRE(c.m->num_params == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3);
    const nnrt_tensor_info &x = c.tensor("x");
    REQUIRE((x.role == NNRT_INPUT && x.dtype == NNRT_F32 && x.size == 4));
    const nnrt_tensor_info &y = c.tensor("y");
    REQUIRE((y.role == NNRT_TARGET && y.dtype == NNRT_I32 && y.size == 1));
    REQUIRE(c.withRole(NNRT_OUTPUT).size() == 1);
  }

  std::vector<float> initialParams(const Compiled &c) {
    std::vector<float> p(size_t(c.m->num_params), std::nanf(""));
    for (const char *name : kParams) {
      const nnrt_tensor_info &t = c.tensor(name);
      const RefTensor &v = refTensor(r, std::string("params/") + name);
      for (size_t i = 0; i < v.values.size(); ++i)
        p[size_t(t.offset) + i] = float(v.values[i]);
    }
    for (float f : p)
      REQUIRE(std::isfinite(f)); // the table's offsets cover the whole buffer
    return p;
  }

  IOBuffers batch(const Compiled &c, const std::string &kase) {
    IOBuffers io(*c.m);
    const RefTensor &x = refTensor(r, "x"), &y = refTensor(r, "y"),
                    &w = refTensor(r, kase + "/weights");
    for (size_t i = 0; i < x.values.size(); ++i)
      io.inputs[0].floats[i] = float(x.values[i]);
    for (size_t i = 0; i < y.values.size(); ++i)
      io.targets[0].ints[i] = int32_t(y.values[i]);
    for (size_t i = 0; i < w.values.size(); ++i)
      io.weights[i] = float(w.values[i]);
    return io;
  }

  void compareParams(const Compiled &c, const std::vector<float> &p, const std::string &prefix,
                     Compare &cmp) {
    for (const char *name : kParams) {
      const nnrt_tensor_info &t = c.tensor(name);
      cmp.run(prefix + name, refTensor(r, prefix + name),
              [&](size_t i) { return double(p[size_t(t.offset) + i]); });
    }
  }
};

} // namespace

TEST_CASE("iris: loss and gradients of train_step match PyTorch", "[iris]") {
  IrisFixture f;
  Compiled c = compileFile(sourcePath("examples/iris/iris.nn"), sgdOptions(8));
  f.checkTable(c);
  for (std::string kase : {"full", "pad"}) {
    INFO("case " << kase);
    std::vector<float> p0 = f.initialParams(c), p = p0;
    IOBuffers io = f.batch(c, kase);
    auto tio = io.trainIO();
    std::vector<float> state(size_t(c.m->opt_state_size), 0.0f);
    const double lr = 1024; // g = (p - p') / lr; see GradientTests.cpp
    float hyper[NNRT_HYPER_COUNT] = {float(lr), 1, 0, 0};
    double loss =
        c.m->train_step(p.data(), state.data(), hyper, tio.data(), numtest::workspace(c.m));
    Compare cmp;
    cmp.run("loss", refTensor(f.r, kase + "/loss"), [&](size_t) { return loss; });
    CHECK(c.m->eval_step(p0.data(), tio.data(), numtest::workspace(c.m)) ==
          Approx(loss).epsilon(1e-6));
    for (const char *name : kParams) {
      const nnrt_tensor_info &t = c.tensor(name);
      std::string key = kase + "/grad/" + name;
      cmp.run(key, refTensor(f.r, key), [&](size_t i) {
        size_t k = size_t(t.offset) + i;
        return (double(p0[k]) - double(p[k])) / lr;
      });
    }
    if (kase == "full") {
      // train_step's output is the softmax at the parameters before the update.
      cmp.run("probs", refTensor(f.r, "probs"),
              [&](size_t i) { return double(io.outputs[0].floats[i]); });
    }
    std::cout << "iris gradients (" << kase << "): max abs err " << cmp.maxAbs << ", max rel err "
              << cmp.maxRel << "\n";
    INFO("mismatches (first 12 of " << cmp.bad << "):\n" << cmp.report.str());
    CHECK(cmp.bad == 0);
  }
}

TEST_CASE("iris: two Adam train_steps match PyTorch's Adam", "[iris]") {
  IrisFixture f;
  Compiled c =
      compileFile(sourcePath("examples/iris/iris.nn"), adamOptions(8, 0.9f, 0.999f, 1e-7f));
  REQUIRE(c.m->optimizer == NNRT_OPT_ADAM);
  f.checkTable(c);
  for (std::string kase : {"full", "pad"}) {
    INFO("case " << kase);
    std::vector<float> p = f.initialParams(c);
    IOBuffers io = f.batch(c, kase);
    auto tio = io.trainIO();
    std::vector<float> state(size_t(c.m->opt_state_size), 0.0f);
    Compare cmp;
    float hyper[NNRT_HYPER_COUNT] = {0.01f, 1, 0, 0};
    double loss1 =
        c.m->train_step(p.data(), state.data(), hyper, tio.data(), numtest::workspace(c.m));
    cmp.run("loss", refTensor(f.r, kase + "/loss"), [&](size_t) { return loss1; });
    f.compareParams(c, p, kase + "/step1/", cmp);
    hyper[NNRT_HYPER_STEP] = 2;
    double loss2 =
        c.m->train_step(p.data(), state.data(), hyper, tio.data(), numtest::workspace(c.m));
    cmp.run("loss2", refTensor(f.r, kase + "/loss2"), [&](size_t) { return loss2; });
    f.compareParams(c, p, kase + "/step2/", cmp);
    std::cout << "iris adam (" << kase << "): max abs err " << cmp.maxAbs << ", max rel err "
              << cmp.maxRel << "\n";
    INFO("mismatches (first 12 of " << cmp.bad << "):\n" << cmp.report.str());
    CHECK(cmp.bad == 0);
  }
}

TEST_CASE("iris: predict gives the reference probabilities", "[iris]") {
  IrisFixture f;
  Compiled c = compileFile(sourcePath("examples/iris/iris.nn"), adamOptions(8));
  std::vector<float> p = f.initialParams(c);
  IOBuffers io = f.batch(c, "full");
  auto pio = io.predictIO();
  c.m->predict(p.data(), pio.data(), numtest::workspace(c.m));
  Compare cmp;
  cmp.run("probs", refTensor(f.r, "probs"),
          [&](size_t i) { return double(io.outputs[0].floats[i]); });
  INFO("mismatches:\n" << cmp.report.str());
  CHECK(cmp.bad == 0);
}
