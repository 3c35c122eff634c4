// nnrt training loop, evaluation and prediction, driven by a hand-written
// fake of a generated model: a linear softmax classifier (2 features, 2
// classes) with its gradient and SGD written out, batch 4, that records
// every call it gets.
#include <catch2/catch.hpp>

#include "rt_helpers.h"

#include <cmath>
#include <cstring>
#include <regex>
#include <set>

#include <pty.h>
#include <unistd.h>

using namespace rt_test;

namespace {

constexpr int64_t B = 4, F = 2, C = 2;

struct Calls {
  std::vector<float> steps, lrs, clips;
  // The step (1-based count of calls) whose gradient norm is reported as
  // NaN, as a generated step reports a non-finite gradient; 0: none.
  size_t nanGradAt = 0;
  std::vector<std::vector<float>> weights, xs;
  std::vector<std::vector<int32_t>> ys;
  void clear() { *this = Calls(); }
} calls;

// Softmax of x @ W + b per row; returns the weighted mean cross-entropy and,
// when grad is given, accumulates d(loss)/d(params) into it.
float forward(const float *p, const float *x, const int32_t *y, const float *w, float *probs,
              float *grad) {
  const float *W = p, *b = p + F * C;
  double wsum = 0, loss = 0;
  for (int64_t i = 0; i < B; i++)
    wsum += w ? w[i] : 1;
  for (int64_t i = 0; i < B; i++) {
    float z[C], mx = -1e30f, sum = 0;
    for (int64_t c = 0; c < C; c++) {
      z[c] = b[c];
      for (int64_t f = 0; f < F; f++)
        z[c] += x[i * F + f] * W[f * C + c];
      mx = std::max(mx, z[c]);
    }
    for (int64_t c = 0; c < C; c++)
      sum += (z[c] = std::exp(z[c] - mx));
    for (int64_t c = 0; c < C; c++)
      probs[i * C + c] = z[c] / sum;
    if (!y)
      continue;
    double wi = w ? w[i] : 1;
    loss -= wi * std::log(probs[i * C + y[i]]);
    if (!grad || wsum == 0)
      continue;
    for (int64_t c = 0; c < C; c++) {
      float d = float(wi / wsum) * (probs[i * C + c] - (c == y[i] ? 1.0f : 0.0f));
      for (int64_t f = 0; f < F; f++)
        grad[f * C + c] += x[i * F + f] * d;
      grad[F * C + c] += d;
    }
  }
  return wsum > 0 ? float(loss / wsum) : 0.0f;
}

float fake_train_step(float *params, float *opt_state, float *hyper, void *const *io, void *) {
  auto x = static_cast<const float *>(io[0]);
  auto y = static_cast<const int32_t *>(io[1]);
  auto w = static_cast<const float *>(io[2]);
  auto probs = static_cast<float *>(io[3]);
  calls.steps.push_back(hyper[NNRT_HYPER_STEP]);
  calls.lrs.push_back(hyper[NNRT_HYPER_LR]);
  calls.clips.push_back(hyper[NNRT_HYPER_CLIP_NORM]);
  hyper[NNRT_HYPER_GRAD_NORM] = calls.steps.size() == calls.nanGradAt ? NAN : 1.0f;
  calls.weights.emplace_back(w, w + B);
  calls.xs.emplace_back(x, x + B * F);
  calls.ys.emplace_back(y, y + B);
  float grad[F * C + C] = {0};
  float loss = forward(params, x, y, w, probs, grad);
  for (int64_t k = 0; k < F * C + C; k++)
    params[k] -= hyper[NNRT_HYPER_LR] * grad[k];
  opt_state[0] += 1; // proves the state buffer is passed through
  return loss;
}

float fake_eval_step(const float *params, void *const *io, void *) {
  return forward(params, static_cast<const float *>(io[0]), static_cast<const int32_t *>(io[1]),
                 static_cast<const float *>(io[2]), static_cast<float *>(io[3]), nullptr);
}

void fake_predict(const float *params, void *const *io, void *) {
  forward(params, static_cast<const float *>(io[0]), nullptr, nullptr, static_cast<float *>(io[1]),
          nullptr);
}

nnrt_tensor_info tensor(const char *name, int role, int dtype, std::vector<int64_t> shape,
                        int64_t offset = 0) {
  nnrt_tensor_info t{};
  t.name = name;
  t.role = role;
  t.dtype = dtype;
  t.rank = int32_t(shape.size());
  t.size = 1;
  for (size_t d = 0; d < shape.size(); d++)
    t.size *= (t.shape[d] = shape[d]);
  t.offset = offset;
  return t;
}

const nnrt_tensor_info fake_tensors[] = {
    tensor("W", NNRT_PARAM, NNRT_F32, {F, C}, 0), tensor("b", NNRT_PARAM, NNRT_F32, {C}, F *C),
    tensor("x", NNRT_INPUT, NNRT_F32, {F}),       tensor("y", NNRT_TARGET, NNRT_I32, {}),
    tensor("probs", NNRT_OUTPUT, NNRT_F32, {C}),
};

nnrt_model fake_model() {
  nnrt_model m{};
  m.abi_version = NNRT_ABI_VERSION;
  m.optimizer = NNRT_OPT_SGD;
  m.loss = NNRT_LOSS_CROSS_ENTROPY;
  m.num_tensors = 5;
  m.name = "Fake";
  m.batch = B;
  m.num_params = F * C + C;
  m.opt_state_size = 1;
  m.tensors = fake_tensors;
  m.train_step = fake_train_step;
  m.eval_step = fake_eval_step;
  m.predict = fake_predict;
  return m;
}

// 10 rows: x = (i / 9, 1 - i / 9), y = i >= 5. Row i is found again by x.
void make_data(nnrt_dataset *ds, int64_t n = 10) {
  nnrt_error err{};
  nnrt_model m = fake_model();
  REQUIRE(nnrt_dataset_alloc_for_model(ds, &m, n, 1, &err) == 0);
  auto x = static_cast<float *>(ds->fields[0].data);
  auto y = static_cast<int32_t *>(ds->fields[1].data);
  for (int64_t i = 0; i < n; i++) {
    x[2 * i] = float(i) / 9;
    x[2 * i + 1] = 1 - float(i) / 9;
    y[i] = i >= 5;
  }
  const char *names[2] = {"low", "high"};
  REQUIRE(nnrt_dataset_set_class_names(ds, names, 2, &err) == 0);
}

int row_of(const float *x) { return int(std::lround(x[0] * 9)); }

nnrt_fit_config config(int64_t epochs, float lr) {
  nnrt_fit_config cfg{};
  cfg.epochs = epochs;
  cfg.learning_rate = lr;
  cfg.seed = 1;
  cfg.shuffle = 1;
  return cfg;
}

} // namespace

TEST_CASE("fit: batches, padding, steps and history", "[runtime]") {
  nnrt_model m = fake_model();
  nnrt_dataset ds{};
  make_data(&ds);
  std::vector<float> params(m.num_params, 0.0f), opt(1, 0.0f);
  nnrt_history hist{};
  nnrt_error err{};
  calls.clear();
  nnrt_fit_config cfg = config(3, 0.1f);
  REQUIRE(nnrt_fit(&m, params.data(), opt.data(), &ds, nullptr, &cfg, &hist, nullptr, &err) == 0);

  CHECK(nnrt_steps_per_epoch(&m, 10) == 3);
  REQUIRE(calls.steps.size() == 9);
  for (int k = 0; k < 9; k++) {
    CHECK(calls.steps[k] == float(k + 1)); // 1-based global step
    CHECK(calls.lrs[k] == 0.1f);
  }
  CHECK(opt[0] == 9.0f);
  std::vector<std::vector<int>> orders;
  for (int e = 0; e < 3; e++) {
    std::vector<int> order;
    for (int s = 0; s < 3; s++) {
      int k = e * 3 + s;
      int real = s < 2 ? 4 : 2; // 10 rows: 4 + 4 + 2, the last batch padded
      for (int i = 0; i < B; i++) {
        const float *x = &calls.xs[k][i * F];
        if (i < real) {
          CHECK(calls.weights[k][i] == 1.0f);
          int r = row_of(x);
          CHECK(calls.ys[k][i] == (r >= 5));
          order.push_back(r);
        } else {
          CHECK(calls.weights[k][i] == 0.0f); // padding: weight 0, zero rows
          CHECK(x[0] == 0.0f);
          CHECK(x[1] == 0.0f);
          CHECK(calls.ys[k][i] == 0);
        }
      }
    }
    std::set<int> seen(order.begin(), order.end());
    CHECK(seen.size() == 10); // every row once per epoch
    orders.push_back(order);
  }
  CHECK(orders[0] != orders[1]); // reshuffled each epoch
  CHECK(orders[1] != orders[2]);

  REQUIRE(hist.count == 3);
  CHECK(hist.last_step == 9);
  for (int e = 0; e < 3; e++) {
    CHECK(std::isfinite(hist.loss[e]));
    CHECK(hist.accuracy[e] >= 0.0f);
    CHECK(hist.accuracy[e] <= 1.0f);
    CHECK(std::isnan(hist.val_loss[e]));
    CHECK(std::isnan(hist.val_accuracy[e]));
    CHECK(hist.seconds[e] >= 0);
  }
  // The first epoch starts from zero weights: every prediction is 50/50.
  CHECK(hist.loss[0] == Approx(std::log(2.0)).epsilon(0.05));

  // Without shuffling, rows come in file order.
  calls.clear();
  cfg.shuffle = 0;
  REQUIRE(nnrt_fit(&m, params.data(), opt.data(), &ds, nullptr, &cfg, nullptr, nullptr, &err) == 0);
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < (k < 2 ? 4 : 2); i++)
      CHECK(row_of(&calls.xs[k][i * F]) == k * 4 + i);
  nnrt_history_free(&hist);
  nnrt_dataset_free(&ds);
}

TEST_CASE("fit: loss decreases and the classifier learns", "[runtime]") {
  nnrt_model m = fake_model();
  nnrt_dataset ds{};
  make_data(&ds);
  std::vector<float> params(m.num_params, 0.0f), opt(1, 0.0f);
  nnrt_history hist{};
  nnrt_error err{};
  nnrt_fit_config cfg = config(200, 1.0f);
  REQUIRE(nnrt_fit(&m, params.data(), opt.data(), &ds, &ds, &cfg, &hist, nullptr, &err) == 0);
  REQUIRE(hist.count == 200);
  CHECK(hist.loss[199] < 0.5f * hist.loss[0]);
  CHECK(hist.loss[199] < hist.loss[100]);
  CHECK(hist.accuracy[199] == 1.0f);
  CHECK(hist.val_accuracy[199] == 1.0f);
  float loss = 0, acc = 0;
  REQUIRE(nnrt_evaluate(&m, params.data(), &ds, &loss, &acc, &err) == 0);
  CHECK(loss == hist.val_loss[199]);
  CHECK(acc == 1.0f);
  nnrt_history_free(&hist);
  nnrt_dataset_free(&ds);
}

TEST_CASE("fit and evaluate: loss and accuracy are the example-weighted means", "[runtime]") {
  nnrt_model m = fake_model();
  nnrt_dataset ds{};
  make_data(&ds);
  // Fixed weights (lr 0): class 1 iff x0 > 0.3, so rows 3 and 4 (x0 = 1/3,
  // 4/9) are wrong: accuracy 8/10.
  std::vector<float> params = {0, 1, 0, 0, 0, -0.3f}, opt(1, 0.0f);
  double want_loss = 0;
  int correct = 0;
  for (int i = 0; i < 10; i++) {
    float x0 = float(i) / 9, z1 = x0 - 0.3f; // z0 = 0
    double p1 = 1 / (1 + std::exp(-double(z1)));
    int y = i >= 5;
    want_loss -= std::log(y ? p1 : 1 - p1);
    correct += (z1 > 0) == (y == 1);
  }
  want_loss /= 10;
  REQUIRE(correct == 8);

  nnrt_history hist{};
  nnrt_error err{};
  nnrt_fit_config cfg = config(2, 0.0f);
  REQUIRE(nnrt_fit(&m, params.data(), opt.data(), &ds, &ds, &cfg, &hist, nullptr, &err) == 0);
  for (int e = 0; e < 2; e++) {
    CHECK(hist.loss[e] == Approx(want_loss).epsilon(1e-5));
    CHECK(hist.accuracy[e] == Approx(0.8));
    CHECK(hist.val_loss[e] == Approx(want_loss).epsilon(1e-5));
    CHECK(hist.val_accuracy[e] == Approx(0.8));
  }
  float loss = 0, acc = 0;
  REQUIRE(nnrt_evaluate(&m, params.data(), &ds, &loss, &acc, &err) == 0);
  CHECK(loss == Approx(want_loss).epsilon(1e-5));
  CHECK(acc == Approx(0.8));

  // Not a classifier: no accuracy.
  m.loss = NNRT_LOSS_MSE;
  REQUIRE(nnrt_evaluate(&m, params.data(), &ds, &loss, &acc, &err) == 0);
  CHECK(std::isnan(acc));
  nnrt_history_free(&hist);
  nnrt_dataset_free(&ds);
}

TEST_CASE("fit: a resumed run matches an uninterrupted one", "[runtime]") {
  nnrt_model m = fake_model();
  nnrt_dataset ds{};
  make_data(&ds);
  nnrt_error err{};
  std::vector<float> p1(m.num_params, 0.0f), o1(1, 0.0f), p2(m.num_params, 0.0f), o2(1, 0.0f);
  nnrt_fit_config cfg = config(4, 0.5f);
  REQUIRE(nnrt_fit(&m, p1.data(), o1.data(), &ds, nullptr, &cfg, nullptr, nullptr, &err) == 0);

  cfg.epochs = 2;
  REQUIRE(nnrt_fit(&m, p2.data(), o2.data(), &ds, nullptr, &cfg, nullptr, nullptr, &err) == 0);
  calls.clear();
  nnrt_history hist{};
  cfg.epochs = 4;
  cfg.initial_epoch = 2;
  cfg.start_step = 6;
  REQUIRE(nnrt_fit(&m, p2.data(), o2.data(), &ds, nullptr, &cfg, &hist, nullptr, &err) == 0);
  CHECK(hist.count == 2);
  CHECK(hist.last_step == 12);
  REQUIRE(calls.steps.size() == 6);
  CHECK(calls.steps.front() == 7.0f);
  CHECK(std::memcmp(p1.data(), p2.data(), p1.size() * 4) == 0);
  CHECK(o1 == o2);
  nnrt_history_free(&hist);
  nnrt_dataset_free(&ds);
}

TEST_CASE("fit: Keras-like log lines and early stop", "[runtime]") {
  nnrt_model m = fake_model();
  nnrt_dataset ds{};
  make_data(&ds);
  nnrt_error err{};
  std::vector<float> params(m.num_params, 0.0f), opt(1, 0.0f);
  FILE *log = tmpfile();
  REQUIRE(log);
  nnrt_fit_config cfg = config(5, 0.5f);
  cfg.verbose = 1;
  int seen = 0;
  cfg.user = &seen;
  cfg.on_epoch = [](void *user, const nnrt_epoch_stats *s) -> int {
    int *count = static_cast<int *>(user);
    ++*count;
    return s->epoch == 3; // stop after the third epoch
  };
  nnrt_history hist{};
  REQUIRE(nnrt_fit(&m, params.data(), opt.data(), &ds, &ds, &cfg, &hist, log, &err) == 0);
  CHECK(seen == 3);
  CHECK(hist.count == 3);
  rewind(log);
  char line[512];
  std::regex pat(
      R"(Epoch ([0-9]+)/5 - [0-9]+ms - loss: [0-9]+\.[0-9]{4} - accuracy: [01]\.[0-9]{4})"
      R"( - val_loss: [0-9]+\.[0-9]{4} - val_accuracy: [01]\.[0-9]{4}\n)");
  int lines = 0;
  while (fgets(line, sizeof line, log)) {
    std::cmatch mt;
    INFO(line);
    REQUIRE(std::regex_match(line, mt, pat));
    CHECK(mt[1] == std::to_string(++lines));
  }
  CHECK(lines == 3);
  fclose(log);
  nnrt_history_free(&hist);
  nnrt_dataset_free(&ds);
}

// Progress while an epoch trains. Not on a terminal: an indented plain line
// at most every progress_seconds (here: every step), which does not start
// with "Epoch" (scripts read those lines), then the epoch's line.
TEST_CASE("fit: plain progress lines when the log is not a terminal", "[runtime]") {
  nnrt_model m = fake_model();
  nnrt_dataset ds{};
  make_data(&ds);
  nnrt_error err{};
  std::vector<float> params(m.num_params, 0.0f), opt(1, 0.0f);
  for (double every : {1e-9, -1.0}) {
    FILE *log = tmpfile();
    REQUIRE(log);
    nnrt_fit_config cfg = config(2, 0.5f);
    cfg.verbose = 1;
    cfg.progress_seconds = every;
    REQUIRE(nnrt_fit(&m, params.data(), opt.data(), &ds, nullptr, &cfg, nullptr, log, &err) == 0);
    rewind(log);
    std::regex progress(R"(  ([1-3])/3 - [0-9]+m?s - ETA: [0-9]+s - loss: [0-9]+\.[0-9]{4})"
                        R"( - accuracy: [01]\.[0-9]{4} - [0-9]+ samples/s\n)");
    std::regex epoch(
        R"(Epoch [12]/2 - [0-9]+ms - loss: [0-9]+\.[0-9]{4} - accuracy: [01]\.[0-9]{4}\n)");
    char line[512];
    std::vector<int> steps;
    int epochs = 0;
    while (fgets(line, sizeof line, log)) {
      INFO(line);
      std::cmatch mt;
      if (std::regex_match(line, mt, progress))
        steps.push_back(std::stoi(mt[1]));
      else if (std::regex_match(line, epoch))
        epochs++;
      else
        FAIL("neither a progress nor an epoch line");
    }
    CHECK(epochs == 2);
    // 10 rows in batches of 4: 3 steps per epoch, each drawn but the last
    // (the epoch's line says it).
    CHECK(steps == (every > 0 ? std::vector<int>{1, 2, 1, 2} : std::vector<int>{}));
    fclose(log);
  }
  nnrt_dataset_free(&ds);
}

// On a terminal: one line redrawn in place (\r and erase-line) with a bar,
// the ETA and the running figures; erased before the epoch's line.
TEST_CASE("fit: a progress bar on a terminal", "[runtime]") {
  int master = -1, slave = -1;
  REQUIRE(openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
  FILE *tty = fdopen(slave, "w");
  REQUIRE(tty);
  nnrt_model m = fake_model();
  nnrt_dataset ds{};
  make_data(&ds);
  nnrt_error err{};
  std::vector<float> params(m.num_params, 0.0f), opt(1, 0.0f);
  nnrt_fit_config cfg = config(1, 0.5f);
  cfg.verbose = 1;
  REQUIRE(nnrt_fit(&m, params.data(), opt.data(), &ds, nullptr, &cfg, nullptr, tty, &err) == 0);
  fclose(tty);
  std::string out;
  char buf[4096];
  ssize_t got;
  while ((got = read(master, buf, sizeof buf)) > 0)
    out.append(buf, size_t(got));
  close(master);
  INFO(out);
  // The last step is always drawn (the first may be too: a redraw at most
  // every 0.1 s), then erased for the epoch's line.
  CHECK(out.find("\r\x1b[KEpoch 1/1 3/3 [==============================] - ETA: 0s - loss: ") !=
        std::string::npos);
  CHECK(std::regex_search(
      out,
      std::regex(
          R"(accuracy: [01]\.[0-9]{4} - [0-9]+ samples/s\r\x1b\[KEpoch 1/1 - [0-9]+ms - loss)")));
  nnrt_dataset_free(&ds);
}

TEST_CASE("fit: the clip norm reaches the step; a non-finite gradient stops the run", "[runtime]") {
  nnrt_model m = fake_model();
  nnrt_dataset ds{};
  make_data(&ds);
  nnrt_error err{};
  std::vector<float> params(m.num_params, 0.0f), opt(1, 0.0f);
  nnrt_fit_config cfg = config(3, 0.5f);
  cfg.clip_norm = 0.25f;
  calls.clear();
  REQUIRE(nnrt_fit(&m, params.data(), opt.data(), &ds, nullptr, &cfg, nullptr, nullptr, &err) == 0);
  REQUIRE(calls.clips.size() == 9);
  CHECK(std::set<float>(calls.clips.begin(), calls.clips.end()) == std::set<float>{0.25f});

  // Step 5 (epoch 2, batch 2) reports a NaN gradient norm with a finite
  // loss: the run stops there, back at the end of epoch 1.
  std::vector<float> afterOne(m.num_params, 0.0f), o1(1, 0.0f);
  cfg.epochs = 1;
  calls.clear();
  REQUIRE(nnrt_fit(&m, afterOne.data(), o1.data(), &ds, nullptr, &cfg, nullptr, nullptr, &err) ==
          0);
  std::fill(params.begin(), params.end(), 0.0f);
  opt[0] = 0;
  cfg.epochs = 3;
  calls.clear();
  calls.nanGradAt = 5;
  CHECK(nnrt_fit(&m, params.data(), opt.data(), &ds, nullptr, &cfg, nullptr, nullptr, &err) ==
        NNRT_FIT_NONFINITE);
  CHECK(calls.steps.size() == 5);
  CHECK(std::string(err.msg).find("epoch 2, step 5 (batch 2 of 3): the loss is finite but the "
                                  "gradient's norm is nan") == 0);
  CHECK(params == afterOne);
  CHECK(opt == o1);
  calls.clear();

  cfg.clip_norm = -1;
  CHECK(nnrt_fit(&m, params.data(), opt.data(), &ds, nullptr, &cfg, nullptr, nullptr, &err) != 0);
  CHECK(std::string(err.msg) == "clip norm -1 is not a non-negative number (0: no clipping)");
  nnrt_dataset_free(&ds);
}

TEST_CASE("fit: bad arguments are errors", "[runtime]") {
  nnrt_model m = fake_model();
  nnrt_dataset ds{};
  make_data(&ds);
  nnrt_error err{};
  std::vector<float> params(m.num_params, 0.0f), opt(1, 0.0f);
  nnrt_fit_config cfg = config(1, 0.1f);

  nnrt_model old = m;
  old.abi_version = 0;
  CHECK(nnrt_fit(&old, params.data(), opt.data(), &ds, nullptr, &cfg, nullptr, nullptr, &err) != 0);
  CHECK(std::string(err.msg) == "model 'Fake' was compiled for nnrt ABI 0, this runtime has ABI " +
                                    std::to_string(NNRT_ABI_VERSION));

  CHECK(nnrt_fit(&m, params.data(), nullptr, &ds, nullptr, &cfg, nullptr, nullptr, &err) != 0);
  CHECK(std::string(err.msg) == "model 'Fake' needs optimizer state");

  int32_t dtypes[2] = {NNRT_F32, NNRT_I32};
  int64_t sizes[2] = {3, 1};
  nnrt_dataset wrong{};
  REQUIRE(nnrt_dataset_alloc(&wrong, 4, 2, dtypes, sizes, &err) == 0);
  CHECK(nnrt_fit(&m, params.data(), opt.data(), &wrong, nullptr, &cfg, nullptr, nullptr, &err) !=
        0);
  CHECK(std::string(err.msg) == "training data field 0 is 3 x float32 per example, model 'Fake' "
                                "expects 2 x float32 for input 'x'");
  nnrt_dataset_free(&wrong);
  REQUIRE(nnrt_dataset_alloc(&wrong, 4, 1, dtypes, sizes, &err) == 0);
  CHECK(nnrt_evaluate(&m, params.data(), &wrong, nullptr, nullptr, &err) != 0);
  nnrt_dataset_free(&wrong);

  cfg.initial_epoch = 2;
  CHECK(nnrt_fit(&m, params.data(), opt.data(), &ds, nullptr, &cfg, nullptr, nullptr, &err) != 0);
  CHECK(std::string(err.msg) == "cannot train from epoch 2 to 1");
  cfg = config(1, std::nanf(""));
  CHECK(nnrt_fit(&m, params.data(), opt.data(), &ds, nullptr, &cfg, nullptr, nullptr, &err) != 0);

  nnrt_tensor_info bad[5];
  std::memcpy(bad, fake_tensors, sizeof bad);
  bad[1].offset = 5; // runs past the 6 floats
  nnrt_model mb = m;
  mb.tensors = bad;
  CHECK(nnrt_model_check(&mb, &err) != 0);
  CHECK(std::string(err.msg) == "model 'Fake': parameter 'b' lies outside the parameter buffer");
  nnrt_dataset_free(&ds);
}

TEST_CASE("predict: padded batches, per-row outputs, printing", "[runtime]") {
  nnrt_model m = fake_model();
  nnrt_dataset ds{}, out{};
  make_data(&ds);
  nnrt_error err{};
  std::vector<float> params = {0, 1, 0, 0, 0, -0.3f};
  REQUIRE(nnrt_predict(&m, params.data(), &ds, &out, &err) == 0);
  REQUIRE(out.n == 10);
  REQUIRE(out.num_fields == 1);
  REQUIRE(out.fields[0].size == 2);
  auto probs = static_cast<const float *>(out.fields[0].data);
  for (int i = 0; i < 10; i++) {
    float z1 = float(i) / 9 - 0.3f;
    CHECK(probs[2 * i + 1] == Approx(1 / (1 + std::exp(-z1))));
    CHECK(probs[2 * i] + probs[2 * i + 1] == Approx(1.0f));
  }
  REQUIRE(out.num_classes == 2);

  FILE *f = tmpfile();
  REQUIRE(f);
  float p[6] = {0.01f, 0.93f, 0.06f, 0.7f, 0.2f, 0.1f};
  const char *names[3] = {"setosa", "versicolor", "virginica"};
  nnrt_print_predictions(f, p, 2, 3, names, 3);
  nnrt_print_predictions(f, p, 1, 3, nullptr, 0);
  rewind(f);
  char buf[512] = {0};
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  CHECK(std::string(buf, n) == "versicolor  (setosa 0.010, versicolor 0.930, virginica 0.060)\n"
                               "setosa      (setosa 0.700, versicolor 0.200, virginica 0.100)\n"
                               "1  (0: 0.010, 1: 0.930, 2: 0.060)\n");
  nnrt_dataset_free(&out);
  nnrt_dataset_free(&ds);
}

namespace {

// A sequence classifier's eval_step: output [3 positions, 2 classes],
// target [3]. Row r predicts class 1 at positions p < r (as one-hot
// scores); targets are all 1, so row r is right at min(r, 3) of 3.
float seq_eval_step(const float *, void *const *io, void *) {
  auto out = static_cast<float *>(io[3]);
  for (int r = 0; r < B; r++)
    for (int pos = 0; pos < 3; pos++) {
      out[(r * 3 + pos) * 2] = pos < r ? 0.0f : 1.0f;
      out[(r * 3 + pos) * 2 + 1] = pos < r ? 1.0f : 0.0f;
    }
  return 1.0f;
}

} // namespace

TEST_CASE("evaluate: accuracy per position for sequence outputs", "[runtime]") {
  const nnrt_tensor_info t[] = {
      tensor("x", NNRT_INPUT, NNRT_F32, {1}),
      tensor("y", NNRT_TARGET, NNRT_I32, {3}),
      tensor("logits", NNRT_OUTPUT, NNRT_F32, {3, 2}),
  };
  nnrt_model m{};
  m.abi_version = NNRT_ABI_VERSION;
  m.loss = NNRT_LOSS_CROSS_ENTROPY;
  m.num_tensors = 3;
  m.name = "Seq";
  m.batch = B;
  m.tensors = t;
  m.eval_step = seq_eval_step;
  nnrt_dataset ds{};
  nnrt_error err{};
  REQUIRE(nnrt_dataset_alloc_for_model(&ds, &m, 4, 1, &err) == 0);
  auto y = static_cast<int32_t *>(ds.fields[1].data);
  for (int i = 0; i < 12; i++)
    y[i] = 1;
  float loss = 0, acc = 0;
  REQUIRE(nnrt_evaluate(&m, nullptr, &ds, &loss, &acc, &err) == 0);
  CHECK(loss == 1.0f);
  CHECK(acc == Approx((0 + 1 / 3.0 + 2 / 3.0 + 1) / 4));
  nnrt_dataset_free(&ds);
}
