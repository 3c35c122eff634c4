// The matrix-product schedule's paths for large shapes, which the small
// models of the other numeric tests never reach, checked against a float64
// LSTM written out in this file:
// - reductions longer than 256 run in blocks whose A is packed as a
//   contiguous A^T and whose B strips are copied contiguously;
// - a B that is invariant in the scan's loop (the cell's joined gate
//   weights, forward; their transpose, backward) is packed into panels once
//   before the loop, and every step reads its strips from the panels.
// LSTM(72) over 34 steps of 200 features, batch 8: the step products are
// [8, 272] x [272, 288] (K = 272 > 256, 8 rows = two 4-row tiles), the
// backward step's [8, 288] x [288, 272], and the weight gradient sums over
// B * T = 272 rows. A sample of 12 elements of each parameter is compared
// with a central difference of the float64 loss.
#include "NumericHelpers.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace nnc;
using namespace nnc::numtest;

namespace {

constexpr int64_t kB = 8, kT = 34, kIn = 200, kH = 72;

struct Lstm {
  // [H + in, H] each, state rows first (concat(h, x)), and [H] biases.
  std::vector<double> W[4], b[4]; // f, i, c, o
};

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// All steps' h for every row: [B, T, H].
std::vector<double> forward(const Lstm &p, const std::vector<double> &x) {
  const int64_t K = kH + kIn;
  std::vector<double> out(size_t(kB * kT * kH));
  for (int64_t r = 0; r < kB; ++r) {
    std::vector<double> h(kH, 0.0), c(kH, 0.0), z(static_cast<size_t>(K), 0.0);
    for (int64_t t = 0; t < kT; ++t) {
      for (int64_t j = 0; j < kH; ++j)
        z[size_t(j)] = h[size_t(j)];
      for (int64_t j = 0; j < kIn; ++j)
        z[size_t(kH + j)] = x[size_t((r * kT + t) * kIn + j)];
      std::vector<double> g[4];
      for (int q = 0; q < 4; ++q) {
        g[q] = p.b[q];
        for (int64_t k = 0; k < K; ++k)
          for (int64_t j = 0; j < kH; ++j)
            g[q][size_t(j)] += z[size_t(k)] * p.W[q][size_t(k * kH + j)];
      }
      for (int64_t j = 0; j < kH; ++j) {
        size_t u = size_t(j);
        double f = sigmoid(g[0][u]), i = sigmoid(g[1][u]), cc = std::tanh(g[2][u]),
               o = sigmoid(g[3][u]);
        c[u] = f * c[u] + i * cc;
        h[u] = o * std::tanh(c[u]);
        out[size_t((r * kT + t) * kH + j)] = h[u];
      }
    }
  }
  return out;
}

// mse(h, t) with unit row weights: the mean over rows of each row's mean
// square.
double loss(const std::vector<double> &h, const std::vector<float> &target) {
  double s = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    double d = h[i] - double(target[i]);
    s += d * d;
  }
  return s / double(kT * kH) / double(kB);
}

void fillUniform(std::vector<float> &v, Rng &rng, double lo, double hi) {
  for (float &x : v)
    x = float(rng.uniform(lo, hi));
}

// Parameters, the input and the target drawn uniformly from the given
// ranges (in that order), and every row weight 1; returns the parameters.
std::vector<float> drawData(const nnrt_model &m, IOBuffers &io, Rng &rng, double param,
                            double input, double target) {
  std::vector<float> params(size_t(m.num_params));
  fillUniform(params, rng, -param, param);
  fillUniform(io.inputs[0].floats, rng, -input, input);
  fillUniform(io.targets[0].floats, rng, -target, target);
  std::fill(io.weights.begin(), io.weights.end(), 1.0f);
  return params;
}

// The parameters after one SGD step with lr = kLr, whose difference from
// `params` is kLr times the analytic gradient; sets `loss`.
constexpr double kLr = 1024;
std::vector<float> sgdStep(const nnrt_model &m, const std::vector<float> &params,
                           std::vector<void *> &tio, double *loss = nullptr) {
  float hyper[NNRT_HYPER_COUNT] = {float(kLr), 1.0f, 0.0f, 0.0f};
  std::vector<float> stepped = params, state(size_t(m.opt_state_size), 0.0f);
  double l = m.train_step(stepped.data(), state.data(), hyper, tio.data(), numtest::workspace(&m));
  if (loss)
    *loss = l;
  return stepped;
}

} // namespace

TEST_CASE("schedule: an LSTM past the blocked, packed and paneled products matches float64",
          "[schedule][rnn]") {
  const std::string src = "import std.rnn\n"
                          "model GBigLstm {\n"
                          "  input x: float[34, 200]\n"
                          "  target t: float[34, 72]\n"
                          "  output h = LSTM(72).sequence(x)\n"
                          "  loss mse(h, t)\n"
                          "}\n";
  Compiled c = compileSource(src, sgdOptions(kB));
  const nnrt_model &m = *c.m;
  IOBuffers io(m);
  Rng rng(7);
  // Small weights keep the gates between linear and saturated over 272 inputs.
  const std::vector<float> params = drawData(m, io, rng, 0.12, 1, 2);

  const char *gate[4] = {"f", "i", "c", "o"};
  Lstm ref;
  for (int q = 0; q < 4; ++q) {
    for (const char *kind : {"W", "b"}) {
      const nnrt_tensor_info &t = c.tensor(std::string("h.") + kind + gate[q]);
      std::vector<double> &dst = kind[0] == 'W' ? ref.W[q] : ref.b[q];
      dst.assign(params.begin() + t.offset, params.begin() + t.offset + t.size);
    }
  }
  std::vector<double> x(io.inputs[0].floats.begin(), io.inputs[0].floats.end());
  const std::vector<float> &target = io.targets[0].floats;

  // Forward: every step's h.
  std::vector<void *> tio = io.trainIO();
  const double l = m.eval_step(params.data(), tio.data(), numtest::workspace(&m));
  const std::vector<double> want = forward(ref, x);
  const std::vector<float> &got = io.outputs[0].floats;
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, std::fabs(double(got[i]) - want[i]));
  INFO("max |h - h_float64| = " << worst);
  CHECK(worst < 2e-5);
  CHECK(l == Approx(loss(want, target)).epsilon(1e-5));

  // Gradients: one SGD step gives (p - p') / kLr.
  const std::vector<float> stepped = sgdStep(m, params, tio);
  for (int q = 0; q < 4; ++q) {
    for (const char *kind : {"W", "b"}) {
      const nnrt_tensor_info &t = c.tensor(std::string("h.") + kind + gate[q]);
      std::vector<double> &pv = kind[0] == 'W' ? ref.W[q] : ref.b[q];
      std::vector<double> analytic, numeric;
      for (int s = 0; s < 12; ++s) {
        int64_t j = int64_t(rng.next() % uint64_t(t.size));
        size_t i = size_t(t.offset + j);
        analytic.push_back((double(params[i]) - double(stepped[i])) / kLr);
        const double h = 1e-4, keep = pv[size_t(j)];
        pv[size_t(j)] = keep + h;
        double up = loss(forward(ref, x), target);
        pv[size_t(j)] = keep - h;
        double down = loss(forward(ref, x), target);
        pv[size_t(j)] = keep;
        numeric.push_back((up - down) / (2 * h));
      }
      // Relative to the sample's scale: float32 sums of 272 terms.
      double scale = 0, err = 0;
      for (size_t s = 0; s < numeric.size(); ++s) {
        scale = std::max(scale, std::fabs(numeric[s]));
        err = std::max(err, std::fabs(analytic[s] - numeric[s]));
      }
      INFO(t.name << ": max |analytic - float64| " << err << ", max |float64| " << scale);
      CHECK(scale > 1e-6); // the sample carries real gradients
      CHECK(err <= 1e-3 * scale);
    }
  }
}

// One-row products (batch 1, as in generation) wide enough to stream B row
// after row: x [1024] @ W1 [1024, 512] (2^19 multiply-adds: split into two
// halves of rows, partial sums added) and h [512] @ W2 [512, 256] (2^17: one
// stream); the backward step's dy @ W2^T is another one-row product. Outputs
// and every gradient element against float64.
TEST_CASE("schedule: one-row products streamed by rows of B match float64", "[schedule]") {
  const std::string src = "model GOneRow {\n"
                          "  input x: float[1024]\n"
                          "  target t: float[256]\n"
                          "  param W1[1024, 512] = zeros, W2[512, 256] = zeros\n"
                          "  h = tanh(x @ W1)\n"
                          "  output y = h @ W2\n"
                          "  loss mse(y, t)\n"
                          "}\n";
  Compiled c = compileSource(src, sgdOptions(1));
  const nnrt_model &m = *c.m;
  IOBuffers io(m);
  Rng rng(11);
  const std::vector<float> params = drawData(m, io, rng, 0.05, 1, 1);
  const nnrt_tensor_info &w1 = c.tensor("W1"), &w2 = c.tensor("W2");
  const std::vector<float> &x = io.inputs[0].floats, &t = io.targets[0].floats;

  // Float64: h, y, and the loss's gradients.
  std::vector<double> h(512), y(256), dy(256), dh(512);
  for (int64_t j = 0; j < 512; ++j) {
    double s = 0;
    for (int64_t k = 0; k < 1024; ++k)
      s += double(x[size_t(k)]) * double(params[size_t(w1.offset + k * 512 + j)]);
    h[size_t(j)] = std::tanh(s);
  }
  double l = 0;
  for (int64_t j = 0; j < 256; ++j) {
    double s = 0;
    for (int64_t k = 0; k < 512; ++k)
      s += h[size_t(k)] * double(params[size_t(w2.offset + k * 256 + j)]);
    y[size_t(j)] = s;
    double d = s - double(t[size_t(j)]);
    l += d * d / 256;
    dy[size_t(j)] = 2 * d / 256;
  }
  for (int64_t k = 0; k < 512; ++k) {
    double s = 0;
    for (int64_t j = 0; j < 256; ++j)
      s += dy[size_t(j)] * double(params[size_t(w2.offset + k * 256 + j)]);
    dh[size_t(k)] = s * (1 - h[size_t(k)] * h[size_t(k)]);
  }

  std::vector<void *> tio = io.trainIO();
  double got = 0;
  const std::vector<float> stepped = sgdStep(m, params, tio, &got);
  CHECK(got == Approx(l).epsilon(1e-5));
  double worst = 0, scale = 0;
  for (int64_t j = 0; j < 256; ++j) {
    worst = std::max(worst, std::fabs(double(io.outputs[0].floats[size_t(j)]) - y[size_t(j)]));
    scale = std::max(scale, std::fabs(y[size_t(j)]));
  }
  INFO("max |y - y_float64| " << worst << ", max |y| " << scale);
  CHECK(worst <= 1e-5 * std::max(1.0, scale));
  // dW1 = x^T dh, dW2 = h^T dy: every element.
  auto check = [&](const nnrt_tensor_info &w, int64_t rows, int64_t cols, auto left, auto right) {
    double err = 0, big = 0;
    for (int64_t k = 0; k < rows; ++k)
      for (int64_t j = 0; j < cols; ++j) {
        size_t i = size_t(w.offset + k * cols + j);
        double want = left(k) * right(j), have = (double(params[i]) - double(stepped[i])) / kLr;
        err = std::max(err, std::fabs(have - want));
        big = std::max(big, std::fabs(want));
      }
    INFO(w.name << ": max |analytic - float64| " << err << ", max |float64| " << big);
    CHECK(big > 1e-6);
    CHECK(err <= 1e-3 * big);
  };
  check(
      w1, 1024, 512, [&](int64_t k) { return double(x[size_t(k)]); },
      [&](int64_t j) { return dh[size_t(j)]; });
  check(
      w2, 512, 256, [&](int64_t k) { return h[size_t(k)]; },
      [&](int64_t j) { return dy[size_t(j)]; });
}
