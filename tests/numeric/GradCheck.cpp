#include "GradCheck.h"
#include "NumericHelpers.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <sstream>

namespace nnc::numtest {

namespace {

constexpr double kLr = 1024.0;
constexpr double kH = 2e-2;
constexpr double kAtol = 1e-4; // times max(1, |loss|)
constexpr double kRtol = 2e-3;
constexpr double kMinMaxGrad = 1e-2;

uint64_t hashName(const std::string &s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s)
    h = (h ^ uint8_t(c)) * 1099511628211ull;
  return h;
}

void fillRow(const Compiled &c, IOBuffers &io, const GradCase &gc, Rng &rng, int64_t row) {
  auto ins = c.withRole(NNRT_INPUT);
  for (size_t k = 0; k < ins.size(); ++k) {
    int64_t n = ins[k]->size;
    if (ins[k]->dtype == NNRT_I32) {
      std::pair<int, int> r{0, gc.numClasses};
      if (auto it = gc.idRange.find(ins[k]->name); it != gc.idRange.end())
        r = it->second;
      for (int64_t j = 0; j < n; ++j)
        io.inputs[k].ints[size_t(row * n + j)] =
            int32_t(r.first + int64_t(rng.next() % uint64_t(r.second - r.first)));
      continue;
    }
    Range r{-1, 1};
    if (auto it = gc.inputRange.find(ins[k]->name); it != gc.inputRange.end())
      r = it->second;
    for (int64_t j = 0; j < n; ++j)
      io.inputs[k].floats[size_t(row * n + j)] = float(rng.uniform(r.first, r.second));
  }
  auto tgs = c.withRole(NNRT_TARGET);
  for (size_t k = 0; k < tgs.size(); ++k) {
    int64_t n = tgs[k]->size;
    for (int64_t j = 0; j < n; ++j) {
      if (tgs[k]->dtype == NNRT_I32)
        io.targets[k].ints[size_t(row * n + j)] = int32_t(rng.next() % uint64_t(gc.numClasses));
      else
        io.targets[k].floats[size_t(row * n + j)] =
            float(rng.uniform(gc.targetRange.first, gc.targetRange.second));
    }
  }
  if (gc.adjustRow)
    gc.adjustRow(c, io, row);
}

struct Stats {
  double maxAbsErr = 0, maxRelErr = 0, maxGrad = 0;
  int checked = 0;
};

} // namespace

std::string gradModelName(const std::string &caseName) {
  std::string n = "G";
  bool up = true;
  for (char c : caseName) {
    if (c == '_') {
      up = true;
      continue;
    }
    n += up ? char(std::toupper(c)) : c;
    up = false;
  }
  return n;
}

GradCheckResult runGradCheck(const GradCase &gc) {
  GradCheckResult res;
  std::string src = gc.prelude + "model " + gradModelName(gc.name) + " {\n" + gc.body + "}\n";
  INFO("case " << gc.name << ", model source:\n" << src);
  Compiled c = compileSource(src, sgdOptions(int64_t(gc.weights.size())), gc.name + ".nn");
  const nnrt_model &m = *c.m;
  REQUIRE(m.optimizer == NNRT_OPT_SGD);
  REQUIRE(gc.weights.size() == size_t(m.batch));

  std::vector<float> params(size_t(m.num_params), 0.0f);
  IOBuffers io(m);
  auto fillAll = [&](uint64_t salt) {
    Rng rng(hashName(gc.name) + salt);
    for (const nnrt_tensor_info *t : c.withRole(NNRT_PARAM)) {
      Range r = gc.defaultParamRange;
      if (auto it = gc.paramRange.find(t->name); it != gc.paramRange.end())
        r = it->second;
      for (int64_t j = 0; j < t->size; ++j)
        params[size_t(t->offset + j)] = float(rng.uniform(r.first, r.second));
    }
    for (int64_t row = 0; row < m.batch; ++row)
      fillRow(c, io, gc, rng, row);
    std::copy(gc.weights.begin(), gc.weights.end(), io.weights.begin()); // tio keeps pointing at it
  };
  std::vector<void *> tio = io.trainIO();
  float hyper[NNRT_HYPER_COUNT] = {float(kLr), 1.0f, 0.0f, 0.0f};
  uint64_t salt = 0;
  fillAll(salt);
  if (gc.searchDraws > 0) {
    // The smallest per-tensor max |analytic gradient| at the current data.
    auto smallestMax = [&]() {
      std::vector<float> s = params, st(size_t(m.opt_state_size), 0.0f);
      m.train_step(s.data(), st.data(), hyper, tio.data(), numtest::workspace(&m));
      double smallest = 1e30;
      for (const nnrt_tensor_info *t : c.withRole(NNRT_PARAM)) {
        if (std::find(gc.zeroGradParams.begin(), gc.zeroGradParams.end(), std::string(t->name)) !=
            gc.zeroGradParams.end())
          continue;
        double mx = 0;
        for (int64_t j = 0; j < t->size; ++j) {
          size_t i = size_t(t->offset + j);
          mx = std::max(mx, std::fabs((double(params[i]) - double(s[i])) / kLr));
        }
        smallest = std::min(smallest, mx);
      }
      return smallest;
    };
    while (int(salt) < gc.searchDraws && !(smallestMax() >= 1.5e-2))
      fillAll(++salt);
    if (int(salt) == gc.searchDraws)
      fillAll(salt = 0);
    std::cout << "gradcheck " << gc.name << ": data of draw " << salt << "\n";
  }

  // Analytic gradient: one SGD step.
  const double loss0 = m.eval_step(params.data(), tio.data(), numtest::workspace(&m));
  REQUIRE(std::isfinite(loss0));
  std::vector<float> stepped = params, state(size_t(m.opt_state_size), 0.0f);
  const double trainLoss =
      m.train_step(stepped.data(), state.data(), hyper, tio.data(), numtest::workspace(&m));
  CHECK(trainLoss == Approx(loss0).epsilon(1e-6));
  std::vector<double> grad(params.size());
  for (size_t i = 0; i < params.size(); ++i)
    grad[i] = (double(params[i]) - double(stepped[i])) / kLr;

  if (gc.expectedOutputs) {
    // train_step wrote the outputs at the un-updated parameters.
    for (const auto &[name, want] : gc.expectedOutputs(c, io, params)) {
      const std::vector<float> &got = io.outputs[size_t(ioIndex(c, NNRT_OUTPUT, name))].floats;
      REQUIRE(got.size() == want.size());
      double maxErr = 0;
      size_t worst = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        double err = std::fabs(double(got[i]) - want[i]) / (1e-5 * std::fabs(want[i]) + 2e-6);
        if (err > maxErr)
          maxErr = err, worst = i;
      }
      INFO("forward output '" << name << "'[" << worst << "]: nnc " << got[worst]
                              << ", reference (double) " << want[worst]
                              << " (tolerance 1e-5 relative + 2e-6)");
      CHECK(maxErr <= 1.0);
    }
  }
  if (gc.expectedLoss) {
    double want = gc.expectedLoss(c, io, params);
    INFO("loss from the forward outputs, computed in double");
    CHECK(loss0 == Approx(want).epsilon(1e-5).margin(1e-6));
  }

  // Numeric gradient of every parameter element.
  std::vector<float> q = params;
  auto lossAt = [&](size_t i, double delta, double &actualDelta) {
    q[i] = float(double(params[i]) + delta);
    actualDelta = double(q[i]) - double(params[i]);
    double l = m.eval_step(q.data(), tio.data(), numtest::workspace(&m));
    q[i] = params[i];
    return l;
  };
  auto central = [&](size_t i, double h) {
    double dp, dm;
    double lp = lossAt(i, h, dp), lm = lossAt(i, -h, dm);
    return (lp - lm) / (dp - dm);
  };
  const double atol = kAtol * std::max(1.0, std::fabs(loss0));
  int failures = 0;
  std::ostringstream report;
  Stats all;
  std::vector<double> numeric(params.size(), 0.0);
  for (const nnrt_tensor_info *t : c.withRole(NNRT_PARAM)) {
    Stats s;
    for (int64_t j = 0; j < t->size; ++j) {
      size_t i = size_t(t->offset + j);
      double n = (4.0 * central(i, kH / 2) - central(i, kH)) / 3.0;
      numeric[i] = n;
      double a = grad[i];
      double err = std::fabs(a - n);
      s.maxAbsErr = std::max(s.maxAbsErr, err);
      s.maxRelErr = std::max(s.maxRelErr, err / std::max(std::fabs(n), 1e-2));
      s.maxGrad = std::max(s.maxGrad, std::fabs(n));
      ++s.checked;
      if (!(err <= atol + kRtol * std::fabs(n))) {
        if (++failures <= 12)
          report << "  " << t->name << "[" << j << "]: analytic " << a << ", numeric " << n
                 << ", |diff| " << err << "\n";
      }
    }
    bool zeroOk = std::find(gc.zeroGradParams.begin(), gc.zeroGradParams.end(),
                            std::string(t->name)) != gc.zeroGradParams.end();
    if (!zeroOk) {
      INFO("parameter " << t->name << ": max |numeric grad| " << s.maxGrad
                        << " (the check needs a real gradient to mean something)");
      CHECK(s.maxGrad >= kMinMaxGrad);
    }
    all.maxAbsErr = std::max(all.maxAbsErr, s.maxAbsErr);
    all.maxRelErr = std::max(all.maxRelErr, s.maxRelErr);
    all.maxGrad = std::max(all.maxGrad, s.maxGrad);
    all.checked += s.checked;
  }
  std::cout << "gradcheck " << gc.name << ": " << all.checked << " elements, loss " << loss0
            << ", max|g| " << all.maxGrad << ", max|a-n| " << all.maxAbsErr << ", max rel "
            << all.maxRelErr << "\n";
  INFO("analytic vs numeric gradient mismatches (first 12 of " << failures << "):\n"
                                                               << report.str());
  CHECK(failures == 0);

  // Padding rows (weight 0) must not matter: new inputs and targets in them
  // change neither the loss nor the gradient.
  if (std::count(gc.weights.begin(), gc.weights.end(), 0.0f) > 0) {
    Rng other((hashName(gc.name) + salt) ^ 0xABCDEFull);
    for (int64_t row = 0; row < m.batch; ++row)
      if (io.weights[size_t(row)] == 0)
        fillRow(c, io, gc, other, row);
    std::vector<float> stepped2 = params, state2(size_t(m.opt_state_size), 0.0f);
    double loss2 =
        m.train_step(stepped2.data(), state2.data(), hyper, tio.data(), numtest::workspace(&m));
    INFO("changing only the padding rows (weight 0)");
    CHECK(loss2 == Approx(loss0).epsilon(1e-6));
    double maxDiff = 0;
    for (size_t i = 0; i < params.size(); ++i)
      maxDiff =
          std::max(maxDiff, std::fabs((double(params[i]) - double(stepped2[i])) / kLr - grad[i]));
    CHECK(maxDiff <= 1e-6);
  }
  res.loss = loss0;
  res.params = std::move(params);
  res.grad = std::move(grad);
  res.numeric = std::move(numeric);
  for (const nnrt_tensor_info *t : c.withRole(NNRT_PARAM))
    res.offsets[t->name] = t->offset;
  return res;
}

} // namespace nnc::numtest
