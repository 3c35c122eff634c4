// Dropout. Its mask is only active in train_step (a finite-difference check
// through eval_step cannot see it), so instead:
//
// (a) predict, eval_step and the generation step function ignore dropout:
//     their results are bitwise those of the same model without it;
//     train_step's loss does differ (dropout acts while training).
// (b) In train_step the expected fraction of elements is dropped and the kept
//     ones are scaled by 1 / (1 - rate). Observed through a model whose loss
//     and gradient expose the mask: y = dropout(x * w, rate), loss
//     mse(y, 0), with x = 1 and w = 1, row b of the batch non-zero only in
//     its own block of columns. Then element j of w has the gradient
//     2 m s^2 / (B N) (m the mask bit of its row, s = 1 / (1 - rate)), so
//     the mask of every element is read from the gradient, the scale from
//     its value, and the loss is (kept count) s^2 / (B N): the forward and
//     the backward pass must use the same mask. Tolerances on the fraction:
//     5 standard deviations of a binomial count (the masks are a fixed hash,
//     so the outcome is deterministic; the bound only says what a correct
//     hash gives). Neighbouring elements must be independent (the fraction
//     of equal neighbour pairs is rate^2 + (1 - rate)^2, likewise).
// (c) The mask is the same for the same step (hyper[NNRT_HYPER_STEP]) and
//     differs between steps 1, 2 and 3, and between two dropouts of one
//     model (each has its own stream), by the fraction independent masks
//     give.
#include "GradCheck.h"
#include "NumericHelpers.h"

#include "nnc/dsl/Frontend.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <iostream>
#include <sstream>
#include <tuple>

using namespace nnc;
using namespace nnc::numtest;

namespace {

// Tolerance of a binomial fraction of n draws with probability p.
double binomialTol(double p, double n) { return 5.0 * std::sqrt(p * (1 - p) / n); }

struct MaskObservation {
  std::vector<int> mask; // per column of w: 1 kept, 0 dropped
  double loss = 0;
  std::vector<float> outputs; // train_step's outputs (y), all rows
  double maxScaleErr = 0;     // relative error of a kept gradient vs 2 s^2 / (B N)
  int odd = 0;                // gradients that are neither 0 nor the expected value
};

constexpr int64_t kBatch = 4, kCols = 2048; // 512 columns per row

std::string fractionModel(double rate, bool twoDropouts) {
  std::string r = std::to_string(rate);
  std::string s = "model DropFrac {\n"
                  "  input x: float[" +
                  std::to_string(kCols) +
                  "]\n"
                  "  target t: float[" +
                  std::to_string(kCols) +
                  "]\n"
                  "  param w[" +
                  std::to_string(kCols) + "] = ones\n";
  if (twoDropouts)
    s += "  param v[" + std::to_string(kCols) +
         "] = ones\n"
         "  output y = dropout(x * w, " +
         r +
         ")\n"
         "  output y2 = dropout(x * v, " +
         r +
         ")\n"
         "  loss mse(y, t) + mse(y2, t)\n";
  else
    s += "  output y = dropout(x * w, " + r +
         ")\n"
         "  loss mse(y, t)\n";
  return s + "}\n";
}

// One train_step at `step` from w = 1 (and v = 1); the mask of parameter
// `param` read from its gradient.
MaskObservation observe(const Compiled &c, double rate, float step, const std::string &param) {
  const nnrt_model &m = *c.m;
  std::vector<float> p(size_t(m.num_params), 1.0f), st(size_t(m.opt_state_size), 0.0f);
  IOBuffers io(m);
  int64_t per = kCols / kBatch;
  for (int64_t b = 0; b < kBatch; ++b)
    for (int64_t j = b * per; j < (b + 1) * per; ++j)
      io.inputs[0].floats[size_t(b * kCols + j)] = 1.0f;
  auto tio = io.trainIO();
  const double lr = 1024.0;
  float hyper[NNRT_HYPER_COUNT] = {float(lr), step, 0, 0};
  std::vector<float> p1 = p;
  MaskObservation o;
  o.loss = m.train_step(p1.data(), st.data(), hyper, tio.data(), numtest::workspace(&m));
  o.outputs = io.outputs[0].floats;
  const nnrt_tensor_info &t = c.tensor(param);
  double s = 1.0 / (1.0 - rate);
  double want = 2.0 * s * s / double(kBatch * kCols);
  for (int64_t j = 0; j < t.size; ++j) {
    size_t i = size_t(t.offset + j);
    double g = (double(p[i]) - double(p1[i])) / lr;
    if (g == 0) {
      o.mask.push_back(0);
    } else {
      o.mask.push_back(1);
      double e = std::fabs(g - want) / want;
      o.maxScaleErr = std::max(o.maxScaleErr, e);
      if (e > 1e-4)
        ++o.odd;
    }
  }
  return o;
}

double agreement(const std::vector<int> &a, const std::vector<int> &b) {
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i)
    same += a[i] == b[i];
  return double(same) / double(a.size());
}

} // namespace

// ---- (a) -------------------------------------------------------------------------

TEST_CASE("dropout: predict and eval_step ignore it, train_step does not", "[dropout]") {
  auto model = [](bool withDropout) {
    return std::string("import std.layers\n"
                       "model D {\n"
                       "  input x: float[6]\n"
                       "  target t: float[3]\n"
                       "  param A[6, 5] = uniform(0.5)\n"
                       "  param B[5, 3] = uniform(0.5)\n"
                       "  h = tanh(x @ A)\n") +
           (withDropout ? "  d = Dropout(0.5)(dropout(h, 0.3))\n" : "  d = h\n") +
           "  output y = d @ B\n"
           "  loss mse(y, t)\n"
           "}\n";
  };
  Compiled with = compileSource(model(true), sgdOptions(4), "dropout_on.nn");
  Compiled without = compileSource(model(false), sgdOptions(4), "dropout_off.nn");
  REQUIRE(with.m->num_params == without.m->num_params);
  std::vector<float> p(size_t(with.m->num_params));
  with.m->init(p.data(), 3);
  IOBuffers a(*with.m), b(*without.m);
  Rng rng(11);
  for (size_t i = 0; i < a.inputs[0].floats.size(); ++i)
    a.inputs[0].floats[i] = b.inputs[0].floats[i] = float(rng.uniform(-1, 1));
  for (size_t i = 0; i < a.targets[0].floats.size(); ++i)
    a.targets[0].floats[i] = b.targets[0].floats[i] = float(rng.uniform(-1, 1));
  a.weights = b.weights = {1, 0.5, 0, 2};
  auto pa = a.predictIO(), pb = b.predictIO();
  with.m->predict(p.data(), pa.data(), numtest::workspace(with.m));
  without.m->predict(p.data(), pb.data(), numtest::workspace(without.m));
  CHECK(a.outputs[0].floats == b.outputs[0].floats);
  auto ta = a.trainIO(), tb = b.trainIO();
  float la = with.m->eval_step(p.data(), ta.data(), numtest::workspace(with.m));
  float lb = without.m->eval_step(p.data(), tb.data(), numtest::workspace(without.m));
  CHECK(la == lb);
  // While training, dropout acts: the loss differs.
  std::vector<float> p1 = p, st(size_t(with.m->opt_state_size), 0.0f);
  float hyper[NNRT_HYPER_COUNT] = {0.0f, 1.0f, 0, 0};
  float lt = with.m->train_step(p1.data(), st.data(), hyper, ta.data(), numtest::workspace(with.m));
  INFO("train_step loss with dropout " << lt << ", eval_step loss " << la);
  CHECK(std::fabs(lt - la) > 1e-3 * std::fabs(la));
}

TEST_CASE("dropout: after recurrent cells, predict, eval_step and step ignore it",
          "[dropout][rnn]") {
  auto model = [](bool withDropout) {
    return std::string("import std.rnn\n"
                       "model TextGen(vocab V = 9, window T = 5) {\n"
                       "  input  words: int[T]\n"
                       "  target next:  int\n"
                       "  e      = Embedding(V, 4)(words)\n"
                       "  h1     = LSTM(6).sequence(e)\n") +
           (withDropout ? "  d1     = Dropout(0.4)(h1)\n" : "  d1     = h1\n") +
           "  h2     = GRU(5).last(d1)\n" +
           (withDropout ? "  d      = Dropout(0.2)(h2)\n" : "  d      = h2\n") +
           "  logits = Dense(V)(d)\n"
           "  output probs = softmax(logits)\n"
           "  loss   cross_entropy(logits, next)\n"
           "}\n";
  };
  Compiled with = compileWithStep(model(true), sgdOptions(3), "textgen_dropout_on.nn");
  Compiled without = compileWithStep(model(false), sgdOptions(3), "textgen_dropout_off.nn");
  REQUIRE(with.m->num_params == without.m->num_params);
  std::vector<float> p(size_t(with.m->num_params));
  with.m->init(p.data(), 5);
  IOBuffers a(*with.m), b(*without.m);
  for (size_t i = 0; i < a.inputs[0].ints.size(); ++i)
    a.inputs[0].ints[i] = b.inputs[0].ints[i] = int32_t((i * 7 + 3) % 9);
  for (size_t i = 0; i < a.targets[0].ints.size(); ++i)
    a.targets[0].ints[i] = b.targets[0].ints[i] = int32_t((i * 5 + 1) % 9);
  auto pa = a.predictIO(), pb = b.predictIO();
  with.m->predict(p.data(), pa.data(), numtest::workspace(with.m));
  without.m->predict(p.data(), pb.data(), numtest::workspace(without.m));
  CHECK(a.outputs[0].floats == b.outputs[0].floats);
  auto ta = a.trainIO(), tb = b.trainIO();
  CHECK(with.m->eval_step(p.data(), ta.data(), numtest::workspace(with.m)) ==
        without.m->eval_step(p.data(), tb.data(), numtest::workspace(without.m)));

  // The generation step function: same tensors, same results.
  REQUIRE(with.m->step != nullptr);
  REQUIRE(without.m->step != nullptr);
  REQUIRE(with.m->num_step_tensors == without.m->num_step_tensors);
  auto stepBuffers = [](const nnrt_model &m) {
    std::vector<std::vector<float>> bufs; // int buffers as floats of the same size
    for (int i = 0; i < m.num_step_tensors; ++i)
      bufs.emplace_back(size_t(m.step_tensors[i].size * m.step_batch), 0.0f);
    return bufs;
  };
  auto sa = stepBuffers(*with.m), sb = stepBuffers(*without.m);
  std::vector<void *> ia, ib;
  for (int i = 0; i < with.m->num_step_tensors; ++i) {
    REQUIRE(std::string(with.m->step_tensors[i].name) == without.m->step_tensors[i].name);
    ia.push_back(sa[size_t(i)].data());
    ib.push_back(sb[size_t(i)].data());
  }
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < with.m->num_step_tensors; ++i)
      if (with.m->step_tensors[i].role == NNRT_INPUT && with.m->step_tensors[i].dtype == NNRT_I32)
        for (size_t k = 0; k < sa[size_t(i)].size(); ++k) {
          int32_t id = int32_t((t * 3 + int(k)) % 9);
          std::memcpy(&sa[size_t(i)][k], &id, 4);
          std::memcpy(&sb[size_t(i)][k], &id, 4);
        }
    with.m->step(p.data(), ia.data(), numtest::workspace(with.m));
    without.m->step(p.data(), ib.data(), numtest::workspace(without.m));
    for (int i = 0; i < with.m->num_step_tensors; ++i) {
      INFO("step " << t << ", tensor " << with.m->step_tensors[i].name);
      CHECK(sa[size_t(i)] == sb[size_t(i)]);
    }
  }
}

// ---- (b) ---------------------------------------------------------------------------

TEST_CASE("dropout: train_step drops the expected fraction and scales the rest", "[dropout]") {
  for (double rate : {0.2, 0.5, 0.75}) {
    INFO("rate " << rate);
    Compiled c = compileSource(fractionModel(rate, false), sgdOptions(kBatch), "dropfrac.nn");
    MaskObservation o = observe(c, rate, 1.0f, "w");
    REQUIRE(o.mask.size() == size_t(kCols));
    double s = 1.0 / (1.0 - rate);
    size_t kept = 0;
    for (int v : o.mask)
      kept += size_t(v);
    double frac = double(kept) / double(kCols);
    std::cout << "dropout rate " << rate << ": kept " << kept << " of " << kCols
              << ", max relative error of the scale " << o.maxScaleErr << "\n";
    {
      INFO("kept fraction " << frac << ", expected " << 1 - rate);
      CHECK(std::fabs(frac - (1 - rate)) <= binomialTol(1 - rate, double(kCols)));
    }
    // Every row of the batch (its own block of columns) keeps about as much.
    int64_t per = kCols / kBatch;
    for (int64_t b = 0; b < kBatch; ++b) {
      size_t k = 0;
      for (int64_t j = b * per; j < (b + 1) * per; ++j)
        k += size_t(o.mask[size_t(j)]);
      INFO("row " << b << ": kept " << k << " of " << per);
      CHECK(std::fabs(double(k) / double(per) - (1 - rate)) <= binomialTol(1 - rate, double(per)));
    }
    // Kept elements scaled by exactly 1 / (1 - rate) (their gradient
    // 2 s^2 / (B N) says so), dropped ones exactly 0.
    {
      INFO("gradients of kept elements that are not 2 s^2 / (B N): "
           << o.odd << " (max relative error " << o.maxScaleErr << ")");
      CHECK(o.odd == 0);
    }
    // The loss saw the same mask: (kept) s^2 / (B N).
    double wantLoss = double(kept) * s * s / double(kBatch * kCols);
    {
      INFO("loss " << o.loss << ", from the gradient's mask " << wantLoss);
      CHECK(o.loss == Approx(wantLoss).epsilon(1e-5));
    }
    // train_step's output y is the dropped-out value at every row: x * w
    // where the row's block is, scaled or zeroed by the same mask.
    {
      int bad = 0;
      for (int64_t b = 0; b < kBatch; ++b)
        for (int64_t j = b * per; j < (b + 1) * per; ++j) {
          double want = o.mask[size_t(j)] ? s : 0.0;
          if (std::fabs(double(o.outputs[size_t(b * kCols + j)]) - want) > 1e-6 * s)
            ++bad;
        }
      INFO("train_step outputs that do not match the gradient's mask and scale");
      CHECK(bad == 0);
    }
    // Neighbours independent: the fraction of equal adjacent pairs.
    size_t same = 0;
    for (size_t j = 1; j < o.mask.size(); ++j)
      same += o.mask[j] == o.mask[j - 1];
    double pSame = rate * rate + (1 - rate) * (1 - rate);
    double fracSame = double(same) / double(o.mask.size() - 1);
    INFO("equal neighbouring mask bits " << fracSame << ", independent bits give " << pSame);
    CHECK(std::fabs(fracSame - pSame) <= binomialTol(pSame, double(o.mask.size() - 1)));
  }
}

// ---- (c) ---------------------------------------------------------------------------

TEST_CASE("dropout: the mask is the same for the same step and differs between steps",
          "[dropout]") {
  const double rate = 0.5;
  Compiled c = compileSource(fractionModel(rate, false), sgdOptions(kBatch), "dropsteps.nn");
  MaskObservation s1 = observe(c, rate, 1.0f, "w");
  MaskObservation s1again = observe(c, rate, 1.0f, "w");
  MaskObservation s2 = observe(c, rate, 2.0f, "w");
  MaskObservation s3 = observe(c, rate, 3.0f, "w");
  CHECK(s1.mask == s1again.mask);
  CHECK(s1.loss == s1again.loss);
  CHECK(s1.outputs == s1again.outputs);
  double pSame = rate * rate + (1 - rate) * (1 - rate), tol = binomialTol(pSame, double(kCols));
  for (auto [name, a, b] :
       {std::tuple{"steps 1 and 2", &s1, &s2}, std::tuple{"steps 1 and 3", &s1, &s3},
        std::tuple{"steps 2 and 3", &s2, &s3}}) {
    double agree = agreement(a->mask, b->mask);
    INFO(name << ": mask bits equal " << agree << ", independent masks give " << pSame);
    CHECK(std::fabs(agree - pSame) <= tol);
  }
  // A model compiled again gives the same mask at the same step.
  Compiled c2 = compileSource(fractionModel(rate, false), sgdOptions(kBatch), "dropsteps2.nn");
  CHECK(observe(c2, rate, 2.0f, "w").mask == s2.mask);
}

TEST_CASE("dropout: two dropouts of one model have different masks", "[dropout]") {
  const double rate = 0.5;
  Compiled c = compileSource(fractionModel(rate, true), sgdOptions(kBatch), "droptwo.nn");
  MaskObservation a = observe(c, rate, 1.0f, "w"), b = observe(c, rate, 1.0f, "v");
  CHECK(a.odd == 0);
  CHECK(b.odd == 0);
  double pSame = rate * rate + (1 - rate) * (1 - rate);
  double agree = agreement(a.mask, b.mask);
  INFO("mask bits of the two dropouts equal " << agree << ", independent masks give " << pSame);
  CHECK(std::fabs(agree - pSame) <= binomialTol(pSame, double(kCols)));
}
