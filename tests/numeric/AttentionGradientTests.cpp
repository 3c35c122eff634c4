// Gradient checks of the attention shape primitives (issue 4) against central
// finite differences (GradCheck.h), and their forward values against plain
// double loops written here: batched products (per-example rank 2 and the
// rank-3 [H, T, D] operands of multi-head attention, transpose flags from
// transpose(k) and from dot), transpose and permute, reshape with -1, concat
// on a non-last axis, dot with every pair of axes, and the memory network
// fragment of the course (embeddings -> dot -> softmax -> + -> permute ->
// concat). A wrong permutation or slice would keep finite differences and
// the analytic gradient consistent with each other, so every case also
// checks its forward values.
#include "GradCheck.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

using namespace nnc;
using namespace nnc::numtest;

namespace {

using Vec = std::vector<double>;
using Shape = std::vector<size_t>;

size_t numel(const Shape &s) {
  return std::accumulate(s.begin(), s.end(), size_t(1), std::multiplies<size_t>());
}

// Products of L matrix pairs: a [L, M, K] (or [L, K, M] with ta) times
// b [L, K, N] (or [L, N, K] with tb); L counts every leading index of every
// example.
Vec bmm(const Vec &a, const Vec &b, size_t M, size_t K, size_t N, bool ta = false,
        bool tb = false) {
  size_t L = a.size() / (M * K);
  Vec y(L * M * N, 0.0);
  for (size_t l = 0; l < L; ++l)
    for (size_t i = 0; i < M; ++i)
      for (size_t j = 0; j < N; ++j) {
        double s = 0;
        for (size_t k = 0; k < K; ++k)
          s += a[l * M * K + (ta ? k * M + i : i * K + k)] *
               b[l * K * N + (tb ? j * K + k : k * N + j)];
        y[l * M * N + i * N + j] = s;
      }
  return y;
}

// Every example of x (per-example shape `s`) with its axes permuted: result
// axis i is axis perm[i].
Vec permute(const Vec &x, const Shape &s, const Shape &perm) {
  size_t n = numel(s), r = s.size();
  Shape os(r), strides(r, 1);
  for (size_t i = r - 1; i > 0; --i)
    strides[i - 1] = strides[i] * s[i];
  for (size_t i = 0; i < r; ++i)
    os[i] = s[perm[i]];
  Vec y(x.size());
  for (size_t e = 0; e < x.size() / n; ++e)
    for (size_t o = 0; o < n; ++o) {
      // o's multi-index in the result shape, read back from the input.
      size_t rem = o, in = 0;
      for (size_t i = r; i-- > 0;) {
        in += (rem % os[i]) * strides[perm[i]];
        rem /= os[i];
      }
      y[e * n + o] = x[e * n + in];
    }
  return y;
}

// Every example of a (per-example [A, R...]) and b ([B, R...]) joined on
// the first axis; an unbatched b (a single example) joins every example.
Vec concat0(const Vec &a, size_t na, const Vec &b, size_t nb) {
  Vec y;
  for (size_t e = 0; e < a.size() / na; ++e) {
    y.insert(y.end(), a.begin() + long(e * na), a.begin() + long((e + 1) * na));
    size_t eb = b.size() == nb ? 0 : e;
    y.insert(y.end(), b.begin() + long(eb * nb), b.begin() + long((eb + 1) * nb));
  }
  return y;
}

// Rows of n joined row by row with rows of m.
Vec concatLast(const Vec &a, size_t n, const Vec &b, size_t m) {
  Vec y;
  for (size_t r = 0; r < a.size() / n; ++r) {
    y.insert(y.end(), a.begin() + long(r * n), a.begin() + long((r + 1) * n));
    y.insert(y.end(), b.begin() + long(r * m), b.begin() + long((r + 1) * m));
  }
  return y;
}

Vec softmaxRows(Vec x, size_t n) {
  for (size_t r = 0; r < x.size() / n; ++r) {
    double mx = -INFINITY, s = 0;
    for (size_t j = 0; j < n; ++j)
      mx = std::max(mx, x[r * n + j]);
    for (size_t j = 0; j < n; ++j)
      s += std::exp(x[r * n + j] - mx);
    for (size_t j = 0; j < n; ++j)
      x[r * n + j] = std::exp(x[r * n + j] - mx) / s;
  }
  return x;
}

Vec add(Vec a, const Vec &b) {
  for (size_t i = 0; i < a.size(); ++i)
    a[i] += b[i];
  return a;
}

} // namespace

TEST_CASE("gradient: batched matmul, per-example [T, D] and [H, T, D] operands",
          "[gradient][attention]") {
  GradCase g;
  g.name = "batch_matmul";
  // One head (per-example rank 2) and two heads (rank 3, a rank-4 product
  // with the batch): scores q @ transpose(k) (a transpose flag), then the
  // scores times v (no flag), and a product whose left operand is an
  // explicit transpose, so both flags and both VJP forms are exercised.
  g.body = "  input x: float[3, 4]\n"
           "  input xh: float[2, 3, 4]\n"
           "  target ts: float[3, 3]\n"
           "  target to: float[2, 3, 4]\n"
           "  target tt: float[4, 4]\n"
           "  param A[4, 4] = uniform(0.6)\n"
           "  param B[4, 4] = uniform(0.6)\n"
           "  param C[4, 4] = uniform(0.6)\n"
           "  q = x @ A\n"
           "  k = x @ B\n"
           "  output s = q @ transpose(k)\n"
           "  output o = (xh @ A @ transpose(xh @ B)) @ (xh @ C)\n"
           "  output tq = transpose(q) @ k\n"
           "  loss mse(s, ts) + mse(o, to) + mse(tq, tt)\n";
  g.weights = {1, 0.5, 0, 2};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref R{c, io, p};
    Vec A = R.param("A"), B = R.param("B"), C = R.param("C");
    Vec q = Ref::mm(R.input("x"), A, 4, 4), k = Ref::mm(R.input("x"), B, 4, 4);
    Vec xh = R.input("xh");
    Vec sh = bmm(Ref::mm(xh, A, 4, 4), Ref::mm(xh, B, 4, 4), 3, 4, 3, false, true);
    return std::map<std::string, Vec>{{"s", bmm(q, k, 3, 4, 3, false, true)},
                                      {"o", bmm(sh, Ref::mm(xh, C, 4, 4), 3, 3, 4)},
                                      {"tq", bmm(q, k, 4, 3, 4, true, false)}};
  };
  runGradCheck(g);
}

TEST_CASE("gradient: transpose and permute (rank 3)", "[gradient][attention]") {
  GradCase g;
  g.name = "permute";
  g.body = "  input x: float[2, 3, 4]\n"
           "  target tp: float[4, 2, 3]\n"
           "  target tq: float[3, 2, 4]\n"
           "  target tt: float[2, 4, 3]\n"
           "  param A[4, 4] = uniform(0.6)\n"
           "  param W[3, 2] = uniform(0.6)\n"
           "  y = x @ A\n"
           "  output p = permute(y, 2, 0, 1)\n"
           "  output pq = permute(y, 1, 0, 2)\n"
           "  output t = transpose(y)\n"
           "  output tw = transpose(y) @ W\n"
           "  loss mse(p, tp) + mse(pq, tq) + mse(t, tt) + mse(tw, slice(tt, 0, 2))\n";
  g.weights = {1, 0.5, 0, 2};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref R{c, io, p};
    Vec y = Ref::mm(R.input("x"), R.param("A"), 4, 4);
    Vec t = permute(y, {2, 3, 4}, {0, 2, 1});
    return std::map<std::string, Vec>{{"p", permute(y, {2, 3, 4}, {2, 0, 1})},
                                      {"pq", permute(y, {2, 3, 4}, {1, 0, 2})},
                                      {"t", t},
                                      {"tw", Ref::mm(t, R.param("W"), 3, 2)}};
  };
  runGradCheck(g);
}

TEST_CASE("gradient: reshape to [T, H, D] and back, with -1", "[gradient][attention]") {
  GradCase g;
  g.name = "reshape";
  g.body = "  input x: float[3, 4]\n"
           "  target th: float[2, 3, 2]\n"
           "  target tf: float[12]\n"
           "  target tb: float[3, 3]\n"
           "  param A[4, 4] = uniform(0.6)\n"
           "  param W[4, 3] = uniform(0.6)\n"
           "  y = x @ A\n"
           "  h = permute(reshape(y, 3, 2, 2), 1, 0, 2)\n"
           "  output hw = h\n"
           "  output f = reshape(h, -1)\n"
           "  output back = reshape(permute(h, 1, 0, 2), 3, -1) @ W\n"
           "  loss mse(hw, th) + mse(f, tf) + mse(back, tb)\n";
  g.weights = {1, 0.5, 0, 2};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref R{c, io, p};
    Vec y = Ref::mm(R.input("x"), R.param("A"), 4, 4);
    Vec h = permute(y, {3, 2, 2}, {1, 0, 2});
    return std::map<std::string, Vec>{
        {"hw", h}, {"f", h}, {"back", Ref::mm(y, R.param("W"), 4, 3)}};
  };
  runGradCheck(g);
}

TEST_CASE("gradient: concat along a non-last axis", "[gradient][attention]") {
  GradCase g;
  g.name = "concat_axis";
  // Axis 0 of [2, 3] values (with an unbatched parameter), axis -2 (the
  // same), a concat of concats (flattened by the canonicalizer only when
  // the axes agree) and a last-axis concat of the result.
  g.body = "  input x: float[2, 3]\n"
           "  target t0: float[5, 3]\n"
           "  target t2: float[7, 3]\n"
           "  target tl: float[7, 6]\n"
           "  param A[3, 3] = uniform(0.6)\n"
           "  param P[1, 3] = uniform(0.6)\n"
           "  y = x @ A\n"
           "  output c0 = concat(y, x, P, axis = 0)\n"
           "  output c2 = concat(concat(y, P, axis = -2), concat(x, y, axis = 0), axis = 0)\n"
           "  output cl = concat(c2, c2)\n"
           "  loss mse(c0, t0) + mse(c2, t2) + mse(cl, tl)\n";
  g.weights = {1, 0.5, 0, 2};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref R{c, io, p};
    Vec x = R.input("x"), y = Ref::mm(x, R.param("A"), 3, 3), P = R.param("P");
    Vec c0 = concat0(concat0(y, 6, x, 6), 12, P, 3);
    Vec c2 = concat0(concat0(y, 6, P, 3), 9, concat0(x, 6, y, 6), 12);
    return std::map<std::string, Vec>{{"c0", c0}, {"c2", c2}, {"cl", concatLast(c2, 3, c2, 3)}};
  };
  runGradCheck(g);
}

TEST_CASE("gradient: dot with every pair of axes", "[gradient][attention]") {
  GradCase g;
  g.name = "dot";
  g.body = "  input a: float[4, 3]\n"
           "  input b: float[2, 3]\n"
           "  target t11: float[4, 2]\n"
           "  target t00: float[3, 2]\n"
           "  target t01: float[4, 4]\n"
           "  target t10: float[4, 4]\n"
           "  param A[3, 3] = uniform(0.6)\n"
           "  param B[3, 3] = uniform(0.6)\n"
           "  param P[4, 2] = uniform(0.6)\n"
           "  m = a @ A\n"
           "  u = b @ B\n"
           "  output d11 = dot(m, u, 1, 1)\n"
           "  output d00 = dot(m, P, 0, 0)\n"
           "  output d01 = dot(m, a, 1, 1)\n"
           "  output d10 = dot(m, transpose(a @ B), 1, 0)\n"
           "  loss mse(d11, t11) + mse(d00, t00) + mse(transpose(d01), t01) + mse(d10, t10)\n";
  g.weights = {1, 0.5, 0, 2};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref R{c, io, p};
    Vec a = R.input("a"), m = Ref::mm(a, R.param("A"), 3, 3);
    Vec u = Ref::mm(R.input("b"), R.param("B"), 3, 3);
    Vec P = R.param("P"), Pb;
    for (int e = 0; e < 4; ++e)
      Pb.insert(Pb.end(), P.begin(), P.end());
    Vec aB = Ref::mm(a, R.param("B"), 3, 3);
    return std::map<std::string, Vec>{{"d11", bmm(m, u, 4, 3, 2, false, true)},
                                      {"d00", bmm(m, Pb, 3, 4, 2, true, false)},
                                      {"d01", bmm(m, a, 4, 3, 4, false, true)},
                                      {"d10", bmm(m, aB, 4, 3, 4, false, true)}};
  };
  runGradCheck(g);
}

// The course's memory network (bAbI), per example, without dropout:
//   match = softmax(dot(m, u, 1, 1)); response = permute(match + c, 1, 0);
//   answer = concat(response, u)
TEST_CASE("forward and gradient: the memory network fragment", "[gradient][attention][memnet]") {
  GradCase g;
  g.name = "memnet";
  g.body = "  input story: int[5]\n"
           "  input question: int[3]\n"
           "  target t: float[3, 9]\n"
           "  param Tm[6, 4] = uniform(0.8)\n"
           "  param Tc[6, 3] = uniform(0.8)\n"
           "  param Tu[6, 4] = uniform(0.8)\n"
           "  m = embedding(Tm, story)\n"
           "  c = embedding(Tc, story)\n"
           "  u = embedding(Tu, question)\n"
           "  match = softmax(dot(m, u, 1, 1))\n"
           "  response = permute(match + c, 1, 0)\n"
           "  output answer = concat(response, u)\n"
           "  loss mse(answer, t)\n";
  g.idRange["story"] = {0, 6};
  g.idRange["question"] = {0, 6};
  // Every id appears somewhere, so no table row has a zero gradient.
  g.adjustRow = [](const Compiled &c, IOBuffers &io, int64_t row) {
    if (row != 0)
      return;
    auto &s = io.inputs[size_t(ioIndex(c, NNRT_INPUT, "story"))].ints;
    auto &q = io.inputs[size_t(ioIndex(c, NNRT_INPUT, "question"))].ints;
    for (int i = 0; i < 5; ++i)
      s[size_t(i)] = i;
    q[0] = 5;
  };
  // Match scores large enough that the softmax passes a clear gradient to Tm.
  g.defaultParamRange = {-1.5, 1.5};
  g.targetRange = {-2, 2};
  g.searchDraws = 20;
  g.weights = {1, 0.5, 1, 2};
  g.expectedOutputs = [](const Compiled &c, IOBuffers &io, const std::vector<float> &p) {
    Ref R{c, io, p};
    auto embed = [&](const std::string &table, size_t e, const std::string &ids) {
      Vec t = R.param(table), y;
      for (int32_t id : R.ids(ids))
        y.insert(y.end(), t.begin() + long(size_t(id) * e), t.begin() + long((size_t(id) + 1) * e));
      return y;
    };
    Vec m = embed("Tm", 4, "story"), cc = embed("Tc", 3, "story"), u = embed("Tu", 4, "question");
    Vec match = softmaxRows(bmm(m, u, 5, 4, 3, false, true), 3);
    Vec response = permute(add(match, cc), {5, 3}, {1, 0});
    return std::map<std::string, Vec>{{"answer", concatLast(response, 5, u, 4)}};
  };
  runGradCheck(g);
}
