// Learning-rate schedules (runtime/src/schedule.c) against the rates
// torch.optim.lr_scheduler gives: reference/schedules.py stepped each of
// torch's schedulers (per epoch, per step, or with a metric for
// ReduceLROnPlateau) and wrote reference/schedules.txt. No model is
// compiled: nnrt_fit asks nnrt_schedule_lr for each step's rate and
// nnrt_fit_state_epoch_end after each epoch, as these tests do.
#include "Reference.h"

#include "nnrt/nnrt.h"

#include <catch2/catch.hpp>

using namespace nnc::numtest;

namespace {

const Reference &reference() {
  static const Reference r = readReference(sourcePath("tests/numeric/reference/schedules.txt"));
  return r;
}

nnrt_schedule parse(const char *spec) {
  nnrt_schedule s;
  nnrt_error err{};
  INFO(spec);
  REQUIRE(nnrt_schedule_parse(&s, spec, &err) == 0);
  return s;
}

// The rate of every epoch (perStep: of every step of one-step epochs) of a
// run as long as the reference's, against it.
void checkRates(const std::string &kase, const char *spec, double lr, bool perStep) {
  const RefTensor &want = refTensor(reference(), kase + "/lr");
  nnrt_schedule s = parse(spec);
  nnrt_fit_state st{};
  nnrt_fit_state_start(&st, lr, NNRT_MONITOR_LOSS);
  int64_t n = int64_t(want.values.size());
  Compare cmp(1e-12);
  cmp.run(kase, want, [&](size_t i) {
    int64_t k = int64_t(i);
    return nnrt_schedule_lr(&s, &st, lr, perStep ? 0 : k, perStep ? k : k * 7,
                            n * (perStep ? 1 : 7));
  });
  INFO(cmp.report.str());
  CHECK(cmp.bad == 0);
}

// ReduceLROnPlateau: each epoch's rate, then the epoch's metric.
void checkPlateau(const std::string &kase, const char *spec, int monitor) {
  const RefTensor &want = refTensor(reference(), kase + "/lr");
  const RefTensor &metric = refTensor(reference(), kase + "/metric");
  nnrt_schedule s = parse(spec);
  nnrt_fit_state st{};
  nnrt_fit_state_start(&st, 0.1, monitor);
  std::vector<double> got;
  for (size_t e = 0; e < metric.values.size(); ++e) {
    got.push_back(nnrt_schedule_lr(&s, &st, 0.1, int64_t(e), int64_t(e), 100));
    nnrt_epoch_stats stats{};
    stats.epoch = int64_t(e) + 1;
    stats.loss = stats.val_loss = float(metric.values[e]);
    stats.accuracy = stats.val_accuracy = float(metric.values[e]);
    nnrt_fit_state_epoch_end(&st, &s, monitor, 0, &stats);
  }
  Compare cmp(1e-6); // the metrics pass through float
  cmp.run(kase, want, [&](size_t i) { return got[i]; });
  INFO(cmp.report.str());
  CHECK(cmp.bad == 0);
}

} // namespace

TEST_CASE("schedules: step and exponential match torch's StepLR and ExponentialLR", "[schedule]") {
  checkRates("step", "step(every = 3, gamma = 0.5)", 0.1, false);
  checkRates("exponential", "exponential(gamma=0.8)", 0.1, false);
}

TEST_CASE("schedules: cosine with warmup matches torch's LinearLR then CosineAnnealingLR",
          "[schedule]") {
  checkRates("cosine", "cosine(warmup = 3, min_lr = 0.001)", 0.01, true);
  checkRates("cosine0", "cosine", 0.01, true);
}

TEST_CASE("schedules: plateau matches torch's ReduceLROnPlateau", "[schedule]") {
  checkPlateau("plateau", "plateau(factor = 0.5, patience = 2, cooldown = 1, min_lr = 0.01)",
               NNRT_MONITOR_VAL_LOSS);
  checkPlateau("plateau_max", "plateau(factor = 0.5, patience = 1)", NNRT_MONITOR_VAL_ACCURACY);
}

TEST_CASE("schedules: specs are checked", "[schedule]") {
  nnrt_schedule s;
  nnrt_error err{};
  auto fails = [&](const char *spec) {
    INFO(spec);
    CHECK(nnrt_schedule_parse(&s, spec, &err) != 0);
    return std::string(err.msg);
  };
  CHECK(fails("cosin") == "unknown schedule 'cosin'; expected constant, step, exponential, "
                          "cosine or plateau");
  CHECK(fails("step(every = 2.5)") ==
        "argument 'every' of schedule step must be a non-negative integer, got 2.5");
  CHECK(fails("plateau(factor = 1)") ==
        "argument 'factor' of schedule plateau must be a number in (0, 1), got 1");
  CHECK(fails("exponential(decay = 0.9)") ==
        "schedule exponential has no argument 'decay'; its arguments are gamma");
  CHECK(fails("constant(gamma = 1)") ==
        "schedule constant has no argument 'gamma' (it takes none)");
  CHECK(fails("step(every 3)") == "schedule 'step(every 3)': expected 'name = value' at '3)'");
  CHECK(fails("step(every = 3") == "schedule 'step(every = 3': expected ')'");
  CHECK(fails("step x") == "schedule 'step x': unexpected 'x'");
  REQUIRE(nnrt_schedule_parse(&s, " step ( every = 4 , gamma = 0.25 ) ", &err) == 0);
  CHECK(s.kind == NNRT_SCHEDULE_STEP);
  CHECK(s.every == 4);
  CHECK(s.gamma == 0.25);
  CHECK(std::string(nnrt_schedule_name(&s)) == "step");
}
