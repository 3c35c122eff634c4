// grad_step and apply_step, training in two halves (nnrt_abi.h): the
// gradient buffer holds the gradient of the loss's weighted sum and, last,
// that sum's weight, so that buffers add up across calls (or processes)
// and apply_step divides the weight out.
//
// (a) One grad_step and one apply_step make train_step's update and loss:
//     an MLP with dropout and padding rows (cross-entropy), a per-position
//     cross-entropy with masked labels (-1: rows the mean leaves out), a
//     repeat run as one loop over stacked parameters, and a regression
//     (MSE); with SGD, where the update is the gradient itself,
//     and with Adam, whose state apply_step updates too.
// (b) The batch split by its weights into two parts of different weight,
//     one grad_step each into one buffer, then one apply_step: the same
//     update as train_step on the whole batch. This is what N processes
//     that sum their buffers (MPI_Allreduce) compute.
#include "NumericHelpers.h"
#include "nnrt/nnrt.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace nnc;
using namespace nnc::numtest;

namespace {

struct Case {
  std::string name, source;
};

const Case kCases[] = {
    {"mlp_dropout", "import std.layers\n"
                    "model M {\n"
                    "  input x: float[6]\n"
                    "  target y: int\n"
                    "  h = Dense(8, relu)(x)\n"
                    "  d = dropout(h, 0.25)\n"
                    "  logits = Dense(3)(d)\n"
                    "  output p = softmax(logits)\n"
                    "  loss cross_entropy(logits, y)\n"
                    "}\n"},
    {"positions_masked", "import std.layers\n"
                         "model S {\n"
                         "  input x: int[5]\n"
                         "  target y: int[5]\n"
                         "  e = Embedding(12, 4)(x)\n"
                         "  logits = Dense(7)(e)\n"
                         "  loss cross_entropy(logits, y)\n"
                         "}\n"},
    {"repeat_loop", "import std.layers\n"
                    "model L {\n"
                    "  input x: float[4]\n"
                    "  target t: float[4]\n"
                    "  output y = repeat(3, Dense(4, tanh))(x)\n"
                    "  loss mse(y, t)\n"
                    "}\n"},
    {"regression", "import std.layers\n"
                   "model R {\n"
                   "  input x: float[4]\n"
                   "  target t: float[2]\n"
                   "  output y = Dense(2)(Dense(5, tanh)(x))\n"
                   "  loss mse(y, t)\n"
                   "}\n"},
};

constexpr int64_t kBatch = 6;

// Deterministic data: inputs, targets (some labels -1 in the masked case),
// and weights with a padding row and unequal weights.
void fill(const Compiled &c, IOBuffers &io, uint64_t seed) {
  Rng rng(seed);
  for (auto &b : io.inputs) {
    for (float &v : b.floats)
      v = float(rng.uniform(-1, 1));
    for (int32_t &v : b.ints)
      v = int32_t(rng.next() % 12);
  }
  for (auto &b : io.targets) {
    for (float &v : b.floats)
      v = float(rng.uniform(-1, 1));
    for (size_t i = 0; i < b.ints.size(); ++i)
      b.ints[i] = i % 4 == 3 ? -1 : int32_t(rng.next() % 3);
  }
  io.weights = {1, 0.5f, 0, 2, 1, 1};
  (void)c;
}

// The largest difference between two updates (after - before), relative to
// the largest update.
double updateError(const std::vector<float> &before, const std::vector<float> &a,
                   const std::vector<float> &b) {
  double maxUpdate = 0, maxDiff = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    maxUpdate = std::max(maxUpdate, std::fabs(double(a[i]) - before[i]));
    maxDiff = std::max(maxDiff, std::fabs(double(a[i]) - double(b[i])));
  }
  REQUIRE(maxUpdate > 0);
  return maxDiff / maxUpdate;
}

struct Halves {
  std::vector<float> params, state;
  float loss = 0;
};

// train_step on the whole batch from `p0`.
Halves trainStep(const Compiled &c, const std::vector<float> &p0, IOBuffers &io, float *hyper) {
  Halves r{p0, std::vector<float>(size_t(c.m->opt_state_size), 0.0f)};
  auto tio = io.trainIO();
  r.loss = c.m->train_step(r.params.data(), r.state.data(), hyper, tio.data(), workspace(c.m));
  return r;
}

// grad_step once per weight vector of `parts` into one buffer, then
// apply_step; the loss is the summed weighted loss over the summed weight.
Halves gradThenApply(const Compiled &c, const std::vector<float> &p0, IOBuffers &io, float *hyper,
                     const std::vector<std::vector<float>> &parts) {
  Halves r{p0, std::vector<float>(size_t(c.m->opt_state_size), 0.0f)};
  std::vector<float> grads(size_t(c.m->num_params + 1), 0.0f);
  double sum = 0;
  std::vector<float> whole = io.weights;
  for (const auto &w : parts) {
    io.weights = w;
    auto tio = io.trainIO();
    sum += c.m->grad_step(r.params.data(), hyper, grads.data(), tio.data(), workspace(c.m));
  }
  io.weights = whole;
  c.m->apply_step(r.params.data(), r.state.data(), hyper, grads.data(), workspace(c.m));
  r.loss = float(sum / grads.back());
  return r;
}

void checkSame(const Compiled &c, const std::vector<float> &p0, const Halves &one,
               const Halves &two) {
  CHECK(two.loss == Approx(one.loss).epsilon(1e-5));
  CHECK(updateError(p0, one.params, two.params) < 1e-5);
  for (size_t i = 0; i < one.state.size(); ++i)
    CHECK(two.state[i] == Approx(one.state[i]).epsilon(1e-4).margin(1e-9));
  (void)c;
}

} // namespace

TEST_CASE("grad_step then apply_step is train_step", "[grad_step]") {
  for (const Case &k : kCases)
    for (bool adam : {false, true}) {
      DYNAMIC_SECTION(k.name << (adam ? " adam" : " sgd")) {
        Compiled c = compileSource(k.source, adam ? adamOptions(kBatch) : sgdOptions(kBatch),
                                   k.name + ".nn");
        std::vector<float> p0(size_t(c.m->num_params));
        c.m->init(p0.data(), 5);
        IOBuffers io(*c.m);
        fill(c, io, 17);
        float hyper[NNRT_HYPER_COUNT] = {0.1f, 3.0f, 0, 0};
        Halves one = trainStep(c, p0, io, hyper);
        Halves two = gradThenApply(c, p0, io, hyper, {io.weights});
        checkSame(c, p0, one, two);
      }
    }
}

TEST_CASE("grad_step buffers add up: a batch in two parts is the whole batch", "[grad_step]") {
  for (const Case &k : kCases) {
    DYNAMIC_SECTION(k.name) {
      Compiled c = compileSource(k.source, sgdOptions(kBatch), k.name + "_parts.nn");
      std::vector<float> p0(size_t(c.m->num_params));
      c.m->init(p0.data(), 9);
      IOBuffers io(*c.m);
      fill(c, io, 23);
      float hyper[NNRT_HYPER_COUNT] = {0.1f, 2.0f, 0, 0};
      // Rows 0-1 and rows 2-5: weights 1.5 and 4 (the padding row in the
      // second part), so an average of the two means would differ.
      std::vector<float> a(io.weights.size(), 0.0f), b = a;
      for (size_t i = 0; i < io.weights.size(); ++i)
        (i < 2 ? a : b)[i] = io.weights[i];
      Halves one = trainStep(c, p0, io, hyper);
      Halves two = gradThenApply(c, p0, io, hyper, {a, b});
      checkSame(c, p0, one, two);
      // The parts' weights matter: averaging the two parts' own updates
      // (the mean of their means) is another update.
      Halves pa = gradThenApply(c, p0, io, hyper, {a}), pb = gradThenApply(c, p0, io, hyper, {b});
      std::vector<float> mean(p0.size());
      for (size_t i = 0; i < p0.size(); ++i)
        mean[i] = 0.5f * (pa.params[i] + pb.params[i]);
      CHECK(updateError(p0, one.params, mean) > 1e-3);
    }
  }
}

// (c) What N processes do: a model compiled for a third of the batch, each
// third's grad_step with its first row's position (NNRT_HYPER_ROW_OFFSET)
// into one buffer, then apply_step: the update of train_step on the whole
// batch, dropout included (its masks are keyed by row position).
TEST_CASE("grad_step on a batch's thirds, with row offsets, is the whole batch", "[grad_step]") {
  for (const Case &k : kCases) {
    DYNAMIC_SECTION(k.name) {
      constexpr int64_t kParts = 3, kLocal = kBatch / kParts;
      Compiled whole = compileSource(k.source, sgdOptions(kBatch), k.name + "_whole.nn");
      Compiled part = compileSource(k.source, sgdOptions(kLocal), k.name + "_third.nn");
      REQUIRE(part.m->num_params == whole.m->num_params);
      std::vector<float> p0(size_t(whole.m->num_params));
      whole.m->init(p0.data(), 13);
      IOBuffers io(*whole.m), local(*part.m);
      fill(whole, io, 31);
      float hyper[NNRT_HYPER_COUNT] = {0.1f, 4.0f, 0, 0};
      Halves one = trainStep(whole, p0, io, hyper);

      std::vector<float> p = p0, state(size_t(part.m->opt_state_size), 0.0f);
      std::vector<float> grads(size_t(part.m->num_params + 1), 0.0f);
      double sum = 0;
      auto rows = [&](auto &from, auto &to, int64_t first) {
        size_t per = from.size() / size_t(kBatch);
        std::copy(from.begin() + first * per, from.begin() + (first + kLocal) * per, to.begin());
      };
      for (int64_t r = 0; r < kParts; ++r) {
        for (size_t i = 0; i < io.inputs.size(); ++i) {
          rows(io.inputs[i].floats, local.inputs[i].floats, r * kLocal);
          rows(io.inputs[i].ints, local.inputs[i].ints, r * kLocal);
        }
        for (size_t i = 0; i < io.targets.size(); ++i) {
          rows(io.targets[i].floats, local.targets[i].floats, r * kLocal);
          rows(io.targets[i].ints, local.targets[i].ints, r * kLocal);
        }
        rows(io.weights, local.weights, r * kLocal);
        float h[NNRT_HYPER_COUNT] = {hyper[0], hyper[1], float(r * kLocal), 0};
        auto tio = local.trainIO();
        sum += part.m->grad_step(p.data(), h, grads.data(), tio.data(), workspace(part.m));
      }
      part.m->apply_step(p.data(), state.data(), hyper, grads.data(), workspace(part.m));
      CHECK(float(sum / grads.back()) == Approx(one.loss).epsilon(1e-5));
      CHECK(updateError(p0, one.params, p) < 1e-5);
    }
  }
}

namespace {

// An all-reduce between threads (what MPI_Allreduce does between
// processes): each adds its buffer into a shared sum; the last to arrive
// releases the others, and all copy the sum out before the next round.
struct ThreadWorld {
  int size;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<double> sum;
  int arrived = 0, leaving = 0;
  uint64_t round = 0;

  static int allreduce(void *self, float *buf, int64_t n) {
    auto *w = static_cast<ThreadWorld *>(self);
    std::unique_lock<std::mutex> lock(w->mu);
    w->cv.wait(lock, [&] { return w->leaving == 0; }); // the last round has emptied
    if (w->arrived == 0)
      w->sum.assign(size_t(n), 0.0);
    for (int64_t i = 0; i < n; ++i)
      w->sum[size_t(i)] += buf[i];
    uint64_t mine = w->round;
    if (++w->arrived == w->size) {
      w->arrived = 0;
      w->leaving = w->size;
      ++w->round;
      w->cv.notify_all();
    } else {
      w->cv.wait(lock, [&] { return w->round != mine; });
    }
    for (int64_t i = 0; i < n; ++i)
      buf[i] = float(w->sum[size_t(i)]);
    if (--w->leaving == 0)
      w->cv.notify_all();
    return 0;
  }
};

} // namespace

// (d) nnrt_fit's data-parallel mode (nnrt_fit_config.world), ranks as
// threads: two ranks on a model compiled for half the batch train the same
// parameters, bitwise, and match one process on the whole batch over three
// shuffled epochs of 20 rows (a last global batch of 2 rows: rank 1 gets
// none), dropout included.
TEST_CASE("nnrt_fit on two ranks trains what one process trains", "[grad_step][fit]") {
  const Case &k = kCases[0]; // the MLP with dropout
  constexpr int64_t kGlobal = 6, kRows = 20;
  Compiled whole = compileSource(k.source, sgdOptions(kGlobal), "dp_whole.nn");
  Compiled half = compileSource(k.source, sgdOptions(kGlobal / 2), "dp_half.nn");
  nnrt_error e{};
  nnrt_dataset ds{};
  REQUIRE(nnrt_dataset_alloc_for_model(&ds, whole.m, kRows, 1, &e) == 0);
  Rng rng(5);
  for (int64_t i = 0; i < kRows * 6; ++i)
    static_cast<float *>(ds.fields[0].data)[i] = float(rng.uniform(-1, 1));
  for (int64_t i = 0; i < kRows; ++i)
    static_cast<int32_t *>(ds.fields[1].data)[i] = int32_t(rng.next() % 3);
  std::vector<float> p0(size_t(whole.m->num_params));
  whole.m->init(p0.data(), 21);
  nnrt_fit_config cfg{};
  cfg.epochs = 3;
  cfg.learning_rate = 0.2f;
  cfg.seed = 8;
  cfg.shuffle = 1;

  std::vector<float> one = p0, oneState(size_t(whole.m->opt_state_size), 0.0f);
  nnrt_history h1{};
  REQUIRE(nnrt_fit(whole.m, one.data(), oneState.data(), &ds, nullptr, &cfg, &h1, nullptr, &e) ==
          0);

  ThreadWorld world{2};
  std::vector<std::vector<float>> params(2, p0), states(2);
  std::vector<nnrt_history> hist(2);
  std::vector<int> rcs(2, -1);
  std::vector<std::thread> ranks;
  for (int r = 0; r < 2; ++r)
    ranks.emplace_back([&, r] {
      nnrt_fit_config c = cfg;
      c.rank = r;
      c.world = 2;
      c.allreduce = ThreadWorld::allreduce;
      c.comm = &world;
      states[size_t(r)].assign(size_t(half.m->opt_state_size), 0.0f);
      nnrt_error re{};
      hist[size_t(r)] = nnrt_history{};
      rcs[size_t(r)] = nnrt_fit(half.m, params[size_t(r)].data(), states[size_t(r)].data(), &ds,
                                nullptr, &c, &hist[size_t(r)], nullptr, &re);
    });
  for (auto &t : ranks)
    t.join();
  CHECK(rcs[0] == 0);
  CHECK(rcs[1] == 0);
  CHECK(params[0] == params[1]);
  CHECK(updateError(p0, one, params[0]) < 1e-5);
  REQUIRE(hist[0].count == 3);
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    CHECK(hist[0].loss[epoch] == Approx(h1.loss[epoch]).epsilon(1e-5));
    CHECK(hist[0].accuracy[epoch] == Approx(h1.accuracy[epoch]).epsilon(1e-5));
  }
  CHECK(hist[0].last_step == h1.last_step);
  for (auto &h : hist)
    nnrt_history_free(&h);
  nnrt_history_free(&h1);
  nnrt_dataset_free(&ds);
}
