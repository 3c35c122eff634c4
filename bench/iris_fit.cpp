// bench-iris: times the whole Iris fit with the model nnc compiled at build
// time (compile time excluded): 150 epochs at batch 8 over the 112 training
// rows of the same split as `nnc train examples/iris/iris.nn` (test 0.25,
// seed 42, min-max scaled), Adam lr 0.01, through nnrt_fit with verbose 0.
//
//   bench-iris [--reps N] [--data iris.csv]
//
// Prints every repetition, then the median, and a last machine-readable line
//   RESULT iris_fit_ms=<wall median> min_ms=<wall min> cpu_ms=<CPU median>
//          step_us=<wall median/steps> test_accuracy=<acc>
// One thread: nnrt and the generated code use no threads.
#include "bench_common.h"
#include "iris.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#ifndef IRIS_CSV
#define IRIS_CSV "examples/iris/data/iris.csv"
#endif

static int fail(const char *msg) {
  std::fprintf(stderr, "bench-iris: error: %s\n", msg);
  return 1;
}

int main(int argc, char **argv) {
  int reps = 7;
  std::string data = IRIS_CSV;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--data") && i + 1 < argc)
      data = argv[++i];
    else
      return fail("usage: bench-iris [--reps N] [--data iris.csv]");
  }
  if (reps < 1)
    return fail("--reps expects a positive integer");

  const nnrt_model *m = &iris_model;
  nnrt_error e{};
  nnrt_dataset all{}, train{}, test{};
  nnrt_scaler sc{};
  if (nnrt_csv_load(data.c_str(), "species", &all, &e) ||
      nnrt_split(&all, 0.25, 42, &train, &test, &e) || nnrt_scaler_fit(&sc, &train, 0, &e) ||
      nnrt_scaler_apply(&sc, &train, 0, &e) || nnrt_scaler_apply(&sc, &test, 0, &e))
    return fail(e.msg);
  if (train.n != 112 || test.n != 38)
    return fail("unexpected split (want 112 training and 38 test rows)");

  const int64_t epochs = 150;
  const int64_t steps = epochs * nnrt_steps_per_epoch(m, train.n);
  std::vector<float> params(m->num_params), state(m->opt_state_size);
  nnrt_fit_config cfg{};
  cfg.epochs = epochs;
  cfg.learning_rate = 0.01f;
  cfg.seed = 42;
  cfg.shuffle = 1;
  cfg.verbose = 0;

  std::vector<double> ms, cpu;
  float acc = NAN, loss = NAN;
  std::printf("Iris fit: %lld epochs x %lld steps (batch %lld, %lld rows), %d reps + 1 warm-up\n",
              (long long)epochs, (long long)(steps / epochs), (long long)m->batch,
              (long long)train.n, reps);
  for (int r = -1; r < reps; ++r) { // r = -1: warm-up, not counted
    m->init(params.data(), 42);
    std::fill(state.begin(), state.end(), 0.0f);
    nnrt_history hist{};
    double c0 = cpuSeconds(), t0 = nnrt_now_seconds();
    int rc = nnrt_fit(m, params.data(), state.data(), &train, nullptr, &cfg, &hist, nullptr, &e);
    double t = (nnrt_now_seconds() - t0) * 1e3, c = (cpuSeconds() - c0) * 1e3;
    int64_t done = hist.count;
    nnrt_history_free(&hist);
    if (rc)
      return fail(e.msg);
    if (done != epochs)
      return fail("nnrt_fit did not run every epoch");
    if (nnrt_evaluate(m, params.data(), &test, &loss, &acc, &e))
      return fail(e.msg);
    if (r >= 0) {
      ms.push_back(t);
      cpu.push_back(c);
      std::printf("  rep %d: %.3f ms wall, %.3f ms CPU (test accuracy %.4f)\n", r + 1, t, c, acc);
    }
  }
  double med = median(ms), cmed = median(cpu);
  double mn = *std::min_element(ms.begin(), ms.end()), mx = *std::max_element(ms.begin(), ms.end());
  std::printf("median %.3f ms wall (min %.3f, max %.3f), %.3f ms CPU; %.2f us per train step\n",
              med, mn, mx, cmed, med * 1e3 / double(steps));
  std::printf("RESULT iris_fit_ms=%.3f min_ms=%.3f cpu_ms=%.3f step_us=%.3f test_accuracy=%.4f\n",
              med, mn, cmed, med * 1e3 / double(steps), acc);
  nnrt_scaler_free(&sc);
  for (nnrt_dataset *d : {&all, &train, &test})
    nnrt_dataset_free(d);
  // A fit that does not learn is a broken benchmark, not a fast one.
  if (!(acc >= 0.9f))
    return fail("the trained model's test accuracy is below 0.9");
  return 0;
}
