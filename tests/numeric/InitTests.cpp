// init: deterministic for a seed, different across seeds and across
// parameters, every initializer within its range with roughly the right
// spread, constants exact, and every float of the buffer written.
#include "NumericHelpers.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

using namespace nnc;
using namespace nnc::numtest;

namespace {

const char *const kInitModel = R"(import std.layers
model Inits {
  input x: float[20]
  target t: float[30]
  param W[20, 30] = glorot_uniform
  param W2[20, 30] = glorot
  param Wd[20, 30]
  param H[40, 10] = he_uniform
  param u[2000] = uniform(0.3)
  param n[4000] = normal(0.5)
  param z[7] = zeros
  param o[5] = ones
  param k[3] = constant(2.5)
  param k2[3] = -1.25
  param bd[30]
  d = Dense(30)(x)
  y = x @ W + x @ W2 + x @ Wd + d + bd
  loss mse(y, t)
}
)";

struct Moments {
  double mean = 0, sd = 0, min = 1e30, max = -1e30;
  int64_t n = 0;
};

Moments moments(const float *v, int64_t n) {
  Moments m;
  m.n = n;
  double s = 0, s2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    s += v[i];
    s2 += double(v[i]) * v[i];
    m.min = std::min(m.min, double(v[i]));
    m.max = std::max(m.max, double(v[i]));
  }
  m.mean = s / double(n);
  m.sd = std::sqrt(std::max(0.0, s2 / double(n) - m.mean * m.mean));
  return m;
}

// Values of U(-limit, limit): inside, filling the range, mean ~0, sd ~limit/sqrt(3),
// and each of 10 equal bins holding its share (within 50%).
void checkUniform(const std::string &name, const float *v, int64_t n, double limit) {
  INFO(name << ": U(-" << limit << ", " << limit << ") with " << n << " values");
  Moments m = moments(v, n);
  CHECK(m.min >= -limit);
  CHECK(m.max <= limit);
  CHECK(m.min < -0.9 * limit);
  CHECK(m.max > 0.9 * limit);
  double sd = limit / std::sqrt(3.0);
  CHECK(std::fabs(m.mean) < 4 * sd / std::sqrt(double(n)));
  CHECK(m.sd == Approx(sd).epsilon(0.1));
  int bins[10] = {};
  for (int64_t i = 0; i < n; ++i)
    bins[std::min(9, int((double(v[i]) + limit) / (2 * limit) * 10))]++;
  for (int b = 0; b < 10; ++b) {
    INFO("bin " << b);
    CHECK(bins[b] > 0.5 * double(n) / 10);
    CHECK(bins[b] < 1.5 * double(n) / 10);
  }
}

} // namespace

TEST_CASE("init: initializers' ranges, spreads and constants", "[init]") {
  Compiled c = compileSource(kInitModel, sgdOptions(4), "inits.nn");
  const nnrt_model &m = *c.m;
  std::vector<float> p(size_t(m.num_params), std::nanf(""));
  m.init(p.data(), 1234);
  for (size_t i = 0; i < p.size(); ++i) {
    INFO("element " << i << " of the parameter buffer");
    REQUIRE(std::isfinite(p[i])); // init writes every parameter
  }
  auto at = [&](const char *name) { return p.data() + c.tensor(name).offset; };
  auto size = [&](const char *name) { return c.tensor(name).size; };

  const double glorot = std::sqrt(6.0 / (20 + 30));
  checkUniform("W (glorot_uniform)", at("W"), size("W"), glorot);
  checkUniform("W2 (glorot)", at("W2"), size("W2"), glorot);
  checkUniform("Wd (default for a matrix: glorot_uniform)", at("Wd"), size("Wd"), glorot);
  checkUniform("d.W (Dense's W, glorot_uniform)", at("d.W"), size("d.W"), glorot);
  checkUniform("H (he_uniform)", at("H"), size("H"), std::sqrt(6.0 / 40));
  checkUniform("u (uniform(0.3))", at("u"), size("u"), 0.3);

  {
    INFO("n: normal(0.5)");
    Moments mo = moments(at("n"), size("n"));
    CHECK(std::fabs(mo.mean) < 4 * 0.5 / std::sqrt(double(mo.n)));
    CHECK(mo.sd == Approx(0.5).epsilon(0.05));
    int64_t within1 = 0, within2 = 0;
    for (int64_t i = 0; i < mo.n; ++i) {
      within1 += std::fabs(at("n")[i]) < 0.5;
      within2 += std::fabs(at("n")[i]) < 1.0;
    }
    CHECK(double(within1) / double(mo.n) == Approx(0.6827).margin(0.03));
    CHECK(double(within2) / double(mo.n) == Approx(0.9545).margin(0.015));
    CHECK(mo.max < 0.5 * 6); // no wild values
    CHECK(mo.min > -0.5 * 6);
  }
  for (int64_t i = 0; i < size("z"); ++i)
    CHECK(at("z")[i] == 0.0f);
  for (int64_t i = 0; i < size("bd"); ++i)
    CHECK(at("bd")[i] == 0.0f); // the default for a vector: zeros
  for (int64_t i = 0; i < size("d.b"); ++i)
    CHECK(at("d.b")[i] == 0.0f);
  for (int64_t i = 0; i < size("o"); ++i)
    CHECK(at("o")[i] == 1.0f);
  for (int64_t i = 0; i < size("k"); ++i)
    CHECK(at("k")[i] == 2.5f);
  for (int64_t i = 0; i < size("k2"); ++i)
    CHECK(at("k2")[i] == -1.25f);
}

TEST_CASE("init: deterministic for a seed, different across seeds and parameters", "[init]") {
  Compiled c = compileSource(kInitModel, sgdOptions(4), "inits.nn");
  const nnrt_model &m = *c.m;
  size_t n = size_t(m.num_params);
  std::vector<float> a(n, 7.0f), b(n, -3.0f), s2(n), s3(n);
  m.init(a.data(), 42);
  m.init(b.data(), 42);
  CHECK(std::memcmp(a.data(), b.data(), n * sizeof(float)) == 0);
  m.init(s2.data(), 43);
  m.init(s3.data(), -1);

  for (const char *name : {"W", "W2", "Wd", "H", "u", "n", "d.W"}) {
    INFO("random parameter " << name);
    const nnrt_tensor_info &t = c.tensor(name);
    int64_t same43 = 0, sameNeg = 0;
    for (int64_t i = 0; i < t.size; ++i) {
      same43 += a[size_t(t.offset + i)] == s2[size_t(t.offset + i)];
      sameNeg += a[size_t(t.offset + i)] == s3[size_t(t.offset + i)];
    }
    CHECK(same43 <= t.size / 100); // seeds 42 and 43 give different values
    CHECK(sameNeg <= t.size / 100);
  }
  for (const char *name : {"z", "o", "k", "k2", "bd", "d.b"}) {
    INFO("constant parameter " << name);
    const nnrt_tensor_info &t = c.tensor(name);
    for (int64_t i = 0; i < t.size; ++i)
      CHECK(a[size_t(t.offset + i)] == s2[size_t(t.offset + i)]);
  }
  // Two parameters with the same shape and initializer do not get the same values.
  int64_t same = 0;
  const nnrt_tensor_info &w = c.tensor("W"), &w2 = c.tensor("W2");
  for (int64_t i = 0; i < w.size; ++i)
    same += a[size_t(w.offset + i)] == a[size_t(w2.offset + i)];
  CHECK(same <= w.size / 100);
  // Nor are the elements of one tensor a short repeating pattern.
  const float *u = a.data() + c.tensor("u").offset;
  int64_t repeats = 0;
  for (int64_t i = 1; i < c.tensor("u").size; ++i)
    repeats += u[i] == u[i - 1];
  CHECK(repeats <= 2);
}
