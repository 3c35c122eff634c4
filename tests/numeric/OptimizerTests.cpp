// Optimizer updates: three train_steps of each optimizer (with non-default
// constants, so a hard-coded default shows) against the update formula in
// double. The gradient at each step comes from the same model compiled with
// plain SGD (p' = p - lr * g, lr = 2^10; see GradientTests.cpp), evaluated
// at the optimizer's current parameters.
//   sgd:     v = momentum * v - lr * g;  p += v
//   adam:    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//            p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)   (t = hyper step)
//   rmsprop: ms = rho ms + (1 - rho) g^2;  v = momentum v + lr g / (sqrt(ms) + eps);  p -= v
// The learning rate comes from hyper at every step (it changes at step 3).
//
// The optimizers that follow PyTorch (adamw, nesterov) are checked against
// torch.optim itself: reference/optimizers.py ran three steps of
// torch.optim.AdamW and SGD(nesterov=True) on the same model, batch and
// parameters in float64 and wrote reference/optimizers.txt.
#include "NumericHelpers.h"
#include "Reference.h"

#include "nnc/Optimizers/Optimizers.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <iostream>

using namespace nnc;
using namespace nnc::numtest;

namespace {

const char *const kModel = R"(model Opt {
  input x: float[4]
  target t: float[3]
  param A[4, 3] = uniform(0.5)
  param c[3] = uniform(0.5)
  output y = tanh(x @ A + c)
  loss mse(y, t)
}
)";

struct Setup {
  Compiled oracle = compileSource(kModel, sgdOptions(4), "opt.nn");
  std::vector<float> p0;
  IOBuffers io{*oracle.m};

  Setup() {
    Rng rng(2024);
    p0.resize(size_t(oracle.m->num_params));
    for (float &v : p0)
      v = float(rng.uniform(-0.7, 0.7));
    for (float &v : io.inputs[0].floats)
      v = float(rng.uniform(-1, 1));
    for (float &v : io.targets[0].floats)
      v = float(rng.uniform(-0.8, 0.8));
    io.weights = {1, 0.5, 2, 0};
  }

  std::vector<double> grad(const std::vector<float> &p) {
    const double lr = 1024;
    std::vector<float> q = p, state(size_t(oracle.m->opt_state_size), 0.0f);
    float hyper[NNRT_HYPER_COUNT] = {float(lr), 1, 0, 0};
    auto tio = io.trainIO();
    oracle.m->train_step(q.data(), state.data(), hyper, tio.data(), numtest::workspace(oracle.m));
    std::vector<double> g(p.size());
    for (size_t i = 0; i < p.size(); ++i)
      g[i] = (double(p[i]) - double(q[i])) / lr;
    return g;
  }
};

enum class Kind { SGD, Adam, RMSprop };

// A compiled-in hyperparameter as the generated code has it: the value
// given, else the table's default, rounded to float (0 where the optimizer
// has none).
float hyper(const OptimizerConfig &c, const char *name) {
  auto it = c.args.find(name);
  if (it != c.args.end())
    return float(it->second);
  const optim::Hyperparameter *h = optim::findHyper(*optim::findOptimizer(c.name), name);
  return h ? float(h->value) : 0.0f;
}

struct Hyper {
  float momentum, beta1, beta2, epsilon, rho;
};

void runOptimizer(Kind kind, const CodeGenOptions &opts) {
  Setup s;
  Compiled c = compileSource(kModel, opts, "opt.nn");
  REQUIRE(c.m->num_params == s.oracle.m->num_params);
  REQUIRE(c.m->optimizer == (kind == Kind::SGD    ? NNRT_OPT_SGD
                             : kind == Kind::Adam ? NNRT_OPT_ADAM
                                                  : NNRT_OPT_RMSPROP));
  const OptimizerConfig &cfg = opts.optimizer;
  Hyper o{hyper(cfg, "momentum"), hyper(cfg, "beta1"), hyper(cfg, "beta2"), hyper(cfg, "epsilon"),
          hyper(cfg, "rho")};
  size_t n = s.p0.size();
  std::vector<float> p = s.p0, state(size_t(c.m->opt_state_size), 0.0f);
  std::vector<double> m1(n, 0.0), m2(n, 0.0); // the formula's state
  auto tio = s.io.trainIO();
  const float lrs[3] = {0.05f, 0.05f, 0.02f};
  double maxErr = 0, minMove = 1e30;
  for (int t = 1; t <= 3; ++t) {
    INFO("step " << t);
    std::vector<double> g = s.grad(p);
    std::vector<double> want(n);
    double lr = lrs[t - 1];
    for (size_t i = 0; i < n; ++i) {
      double pi = p[i];
      switch (kind) {
      case Kind::SGD:
        m1[i] = o.momentum * m1[i] - lr * g[i];
        want[i] = pi + m1[i];
        break;
      case Kind::Adam: {
        m1[i] = o.beta1 * m1[i] + (1 - double(o.beta1)) * g[i];
        m2[i] = o.beta2 * m2[i] + (1 - double(o.beta2)) * g[i] * g[i];
        double mhat = m1[i] / (1 - std::pow(double(o.beta1), t));
        double vhat = m2[i] / (1 - std::pow(double(o.beta2), t));
        want[i] = pi - lr * mhat / (std::sqrt(vhat) + o.epsilon);
        break;
      }
      case Kind::RMSprop:
        m1[i] = o.rho * m1[i] + (1 - double(o.rho)) * g[i] * g[i];
        m2[i] = o.momentum * m2[i] + lr * g[i] / (std::sqrt(m1[i]) + o.epsilon);
        want[i] = pi - m2[i];
        break;
      }
    }
    double before = c.m->eval_step(p.data(), tio.data(), numtest::workspace(c.m));
    std::vector<float> prev = p;
    float hyper[NNRT_HYPER_COUNT] = {lrs[t - 1], float(t), 0, 0};
    double loss =
        c.m->train_step(p.data(), state.data(), hyper, tio.data(), numtest::workspace(c.m));
    CHECK(loss == Approx(before).epsilon(1e-6));
    int bad = 0;
    for (size_t i = 0; i < n; ++i) {
      double err = std::fabs(double(p[i]) - want[i]);
      maxErr = std::max(maxErr, err);
      minMove = std::min(minMove, std::fabs(want[i] - double(prev[i])));
      if (!(err <= 2e-6 + 1e-5 * std::fabs(want[i]))) {
        if (++bad <= 5)
          UNSCOPED_INFO("param " << i << ": nnc " << p[i] << ", formula " << want[i] << ", before "
                                 << prev[i] << ", grad " << g[i]);
      }
    }
    CHECK(bad == 0);
  }
  std::cout << "optimizer " << cfg.name << ": max |nnc - formula| " << maxErr
            << ", smallest update " << minMove << "\n";
  CHECK(minMove > 1e-4); // every parameter moves: the comparison has teeth
}

} // namespace

TEST_CASE("optimizer: sgd with momentum", "[optimizer]") {
  runOptimizer(Kind::SGD, sgdOptions(4, 0.9f));
}

TEST_CASE("optimizer: sgd without momentum", "[optimizer]") {
  runOptimizer(Kind::SGD, sgdOptions(4, 0.0f));
}

TEST_CASE("optimizer: adam with non-default betas and epsilon", "[optimizer]") {
  runOptimizer(Kind::Adam, adamOptions(4, 0.8f, 0.95f, 1e-3f));
}

TEST_CASE("optimizer: rmsprop with momentum", "[optimizer]") {
  CodeGenOptions o;
  o.batch = 4;
  o.optimizer = {"rmsprop", {{"rho", 0.8f}, {"momentum", 0.5f}, {"epsilon", 1e-3f}}};
  runOptimizer(Kind::RMSprop, o);
}

TEST_CASE("optimizer: rmsprop without momentum", "[optimizer]") {
  CodeGenOptions o;
  o.batch = 4;
  o.optimizer = {"rmsprop", {{"rho", 0.9f}, {"momentum", 0.0f}, {"epsilon", 1e-7f}}};
  runOptimizer(Kind::RMSprop, o);
}

namespace {

// Three train_steps of `opt` from reference/optimizers.txt's parameters and
// batch, each against torch.optim's parameters after the same step. With
// `maxNorm`, the gradient is clipped (hyper[NNRT_HYPER_CLIP_NORM]) and the
// norm the step reports is checked against clip_grad_norm_'s; with
// `halves`, each step is grad_step + apply_step instead (data-parallel
// training's, which clips the summed gradient).
void runTorchCase(const std::string &kase, const OptimizerConfig &opt, float maxNorm = 0,
                  bool halves = false) {
  static const Reference r = readReference(sourcePath("tests/numeric/reference/optimizers.txt"));
  CodeGenOptions opts;
  opts.batch = 4;
  opts.optimizer = opt;
  Compiled c = compileSource(kModel, opts, "opt_" + kase + ".nn");
  REQUIRE(c.m->optimizer == optim::optimizerIndex(opt.name));
  REQUIRE(c.m->opt_state_size == optim::findOptimizer(opt.name)->stateSlots * c.m->num_params);
  const RefTensor &p0 = refTensor(r, "params");
  REQUIRE(int64_t(p0.values.size()) == c.m->num_params);
  std::vector<float> p(p0.values.begin(), p0.values.end());
  std::vector<float> state(size_t(c.m->opt_state_size), 0.0f);
  IOBuffers io(*c.m);
  const RefTensor &x = refTensor(r, "x"), &t = refTensor(r, "t");
  REQUIRE(x.values.size() == io.inputs[0].floats.size());
  REQUIRE(t.values.size() == io.targets[0].floats.size());
  std::copy(x.values.begin(), x.values.end(), io.inputs[0].floats.begin());
  std::copy(t.values.begin(), t.values.end(), io.targets[0].floats.begin());
  io.weights = {1, 1, 1, 1};
  auto tio = io.trainIO();
  const float lrs[3] = {0.05f, 0.05f, 0.02f}; // optimizers.py's LRS
  // float32 against float64 after three steps: about 2e-7 relative at most.
  Compare cmp(2e-6);
  for (int step = 1; step <= 3; ++step) {
    float hyper[NNRT_HYPER_COUNT] = {lrs[step - 1], float(step), 0, maxNorm};
    double loss;
    if (halves) {
      std::vector<float> grads(size_t(c.m->num_params + 1), 0.0f);
      loss = c.m->grad_step(p.data(), hyper, grads.data(), tio.data(), numtest::workspace(c.m));
      loss /= grads.back();
      c.m->apply_step(p.data(), state.data(), hyper, grads.data(), numtest::workspace(c.m));
    } else {
      loss = c.m->train_step(p.data(), state.data(), hyper, tio.data(), numtest::workspace(c.m));
    }
    if (step == 1)
      cmp.run(kase + "/loss1", refTensor(r, kase + "/loss1"), [&](size_t) { return loss; });
    if (maxNorm > 0) {
      std::string key = kase + "/norm" + std::to_string(step);
      cmp.run(key, refTensor(r, key), [&](size_t) { return hyper[NNRT_HYPER_GRAD_NORM]; });
    }
    std::string key = kase + "/step" + std::to_string(step);
    cmp.run(key, refTensor(r, key), [&](size_t i) { return double(p[i]); });
  }
  std::cout << "optimizer " << kase << " against torch.optim: max abs err " << cmp.maxAbs
            << ", max rel err " << cmp.maxRel << "\n";
  INFO("mismatches (first 16 of " << cmp.bad << "):\n" << cmp.report.str());
  CHECK(cmp.bad == 0);
  // Every parameter moved at every step by several times the tolerance:
  // the comparison has teeth (a missing weight decay, or plain momentum
  // for Nesterov's, would be off by 1e-4 or more).
  for (int step = 1; step <= 3; ++step) {
    const RefTensor &a = step == 1 ? p0 : refTensor(r, kase + "/step" + std::to_string(step - 1));
    const RefTensor &b = refTensor(r, kase + "/step" + std::to_string(step));
    for (size_t i = 0; i < a.values.size(); ++i)
      CHECK(std::fabs(b.values[i] - a.values[i]) > 2e-5);
  }
}

} // namespace

TEST_CASE("optimizer: adamw matches torch.optim.AdamW over three steps", "[optimizer]") {
  runTorchCase(
      "adamw",
      {"adamw", {{"beta1", 0.8}, {"beta2", 0.95}, {"epsilon", 1e-3}, {"weight_decay", 0.1}}});
}

TEST_CASE("optimizer: adamw with the table's defaults matches torch's", "[optimizer]") {
  runTorchCase("adamw_defaults", {"adamw", {}});
}

TEST_CASE("optimizer: nesterov matches torch.optim.SGD(nesterov=True) over three steps",
          "[optimizer]") {
  runTorchCase("nesterov", {"nesterov", {}}); // momentum 0.9, the table's default
  runTorchCase("nesterov_half", {"nesterov", {{"momentum", 0.5}}});
}

// Gradient clipping as torch.nn.utils.clip_grad_norm_ before each step: to
// 0.05, below every step's norm (0.2-0.4), and to 10, above them.
TEST_CASE("optimizer: clipping matches torch.nn.utils.clip_grad_norm_", "[optimizer]") {
  runTorchCase("nesterov_clip", {"nesterov", {}}, 0.05f);
  runTorchCase("adamw_clip", {"adamw", {}}, 0.05f);
  runTorchCase("adamw_clip_loose", {"adamw", {}}, 10.0f);
}

TEST_CASE("optimizer: grad_step + apply_step clip as train_step does", "[optimizer]") {
  runTorchCase("nesterov_clip", {"nesterov", {}}, 0.05f, /*halves=*/true);
  runTorchCase("adamw_clip_loose", {"adamw", {}}, 10.0f, /*halves=*/true);
}
