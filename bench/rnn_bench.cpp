// bench-rnn: training throughput and generation latency of the recurrent
// models nnc compiled at build time (compile time excluded), on synthetic
// token data of the model's vocabulary.
//
//   bench-rnn --case word|char128|char512 [--train-steps N] [--train-blocks K]
//             [--gen-tokens N] [--gen-blocks K]
//
// Cases (bench/CMakeLists.txt compiles the models):
//   word     examples/textgen/moby.nn: Embedding(2728, 25) -> LSTM(150)
//            .sequence -> LSTM(150).last -> Dense(150, relu) -> Dense(2728),
//            window 25, batch 128, Adam. Throughput in samples/s.
//   char128  bench/models/char_lstm.nn: Embedding(65, 64) -> LSTM(128)
//            .sequence x2 -> Dense(65) at every step, window 100, batch 32,
//            cross-entropy over the 100 steps. Throughput in tokens/s
//            (32 x 100 per train step).
//   char512  bench/models/char_lstm512.nn: the same with H = 512.
//
// Training: `train_step` on random ids in [0, V) (inputs and targets), all
// row weights 1, lr 0.001; one warm-up step, then K blocks of N steps; the
// median block gives the time per step.
// Generation: one token per call at batch 1 with the states carried, the
// next token the argmax of the previous step's probabilities (greedy). With
// the model table's `step` (the `_step` entry point) when the library has
// one; else with the step model of bench/models/lstm2_step.nn (the same
// arithmetic with the states as inputs/outputs, through `predict` at batch
// 1). Before timing, the step model is checked against the full model:
// `predict` over a window and the step model run over the same tokens give
// the same probabilities for the last position.
//
// Prints the blocks, then a machine-readable line
//   RESULT case=<c> train_step_ms=<median> train_min_ms=<min>
//          train_cpu_ms=<median CPU> throughput=<units/s> unit=<samples|tokens>
//          gen_us=<median us/token> gen_min_us=<min> gen_path=<step|step-model>
// Threads: the generated code runs its large matrix products on OpenMP
// threads (OMP_NUM_THREADS); nnrt uses none. Throughput is from wall time.
#include "bench_common.h"
#include "charlstm.h"
#include "charlstm512.h"
#include "charstep.h"
#include "charstep512.h"
#include "textgen.h"
#include "wordstep.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

static int fail(const std::string &msg) {
  std::fprintf(stderr, "bench-rnn: error: %s\n", msg.c_str());
  return 1;
}

struct Case {
  const char *name;
  const nnrt_model *train;     // the full model (train_step, predict, maybe step)
  const nnrt_model *stepModel; // lstm2_step.nn's model for the same network
  int64_t vocab, window, hidden;
  bool perToken; // targets at every step (char) or one per window (word)
};

static const Case kCases[] = {
    {"word", &textgen_model, &wordstep_model, 2728, 25, 150, false},
    {"char128", &charlstm_model, &charstep_model, 65, 100, 128, true},
    {"char512", &charlstm512_model, &charstep512_model, 65, 100, 512, true},
};

// Generation through the step model (lstm2_step.nn): io = token, s1, s2
// (inputs), s1n, s2n, probs (outputs).
struct StepModelGen {
  const nnrt_model *m;
  int64_t H, V;
  int32_t tok = 0;
  std::vector<float> s1, s2, s1n, s2n, probs;
  void *io[6];
  Workspace ws;
  StepModelGen(const nnrt_model *m, int64_t H, int64_t V)
      : m(m), H(H), V(V), s1(2 * H), s2(2 * H), s1n(2 * H), s2n(2 * H), probs(V), ws(m) {
    io[0] = &tok;
    io[1] = s1.data();
    io[2] = s2.data();
    io[3] = s1n.data();
    io[4] = s2n.data();
    io[5] = probs.data();
  }
  void reset(int32_t t) {
    tok = t;
    std::fill(s1.begin(), s1.end(), 0.0f);
    std::fill(s2.begin(), s2.end(), 0.0f);
  }
  const float *step(const float *params) {
    m->predict(params, io, ws.p);
    std::memcpy(s1.data(), s1n.data(), s1.size() * sizeof(float));
    std::memcpy(s2.data(), s2n.data(), s2.size() * sizeof(float));
    return probs.data();
  }
};

int main(int argc, char **argv) {
  BenchArgs args{"word", 3, 5, 200, 7};
  if (!parseBenchArgs(argc, argv, args))
    return fail("usage: bench-rnn --case word|char128|char512 [--train-steps N] "
                "[--train-blocks K] [--gen-tokens N] [--gen-blocks K]");
  const Case *c = findCase(kCases, args.which);
  if (!c)
    return fail("unknown --case '" + args.which + "' (word, char128, char512)");

  const nnrt_model *m = c->train;
  const int64_t B = m->batch, T = c->window, V = c->vocab;
  const int64_t tgtPerRow = c->perToken ? T : 1;
  Floats params(m->num_params), opt(m->opt_state_size);
  m->init(params.data(), 42);

  // Synthetic data: uniform random ids (a fresh batch would not change the
  // work; one batch is reused).
  std::mt19937 rng(42);
  std::uniform_int_distribution<int32_t> id(0, int32_t(V - 1));
  std::vector<int32_t> x(size_t(B * T)), y(size_t(B * tgtPerRow));
  for (auto &v : x)
    v = id(rng);
  for (auto &v : y)
    v = id(rng);
  std::vector<float> w(size_t(B), 1.0f), probs(size_t(B * tgtPerRow * V));

  // Check the step model against the full model (same parameter layout).
  const nnrt_model *sm = c->stepModel;
  if (sm->num_params != m->num_params)
    return fail("the step model's parameters do not match the model's");
  {
    void *pio[] = {x.data(), probs.data()};
    m->predict(params.data(), pio, nullptr);
    StepModelGen g(sm, c->hidden, V);
    g.reset(x[0]);
    const float *p = nullptr;
    for (int64_t t = 0; t < T; ++t) {
      g.tok = x[size_t(t)];
      p = g.step(params.data());
    }
    const float *ref = probs.data() + (c->perToken ? (T - 1) * V : 0); // row 0
    double d = 0;
    for (int64_t v = 0; v < V; ++v)
      d = std::max(d, double(std::fabs(p[v] - ref[v])));
    std::printf("step model check: max |p_step - p_predict| = %.3g over %lld steps\n", d,
                (long long)T);
    if (!(d < 1e-4))
      return fail("the step model does not reproduce the model's predictions");
  }

  // Training.
  float hyper[NNRT_HYPER_COUNT] = {0};
  hyper[NNRT_HYPER_LR] = 0.001f;
  void *io[] = {x.data(), y.data(), w.data(), probs.data()};
  Workspace ws(m);
  int64_t step = 0;
  auto trainOnce = [&] {
    hyper[NNRT_HYPER_STEP] = float(++step);
    return m->train_step(params.data(), opt.data(), hyper, io, ws.p);
  };
  const double unitsPerStep = double(B * (c->perToken ? T : 1));
  const char *unit = c->perToken ? "tokens" : "samples";
  std::printf("%s: batch %lld, window %lld, vocab %lld, %lld params; train: %d blocks of %d "
              "steps + 1 warm-up\n",
              c->name, (long long)B, (long long)T, (long long)V, (long long)m->num_params,
              args.trainBlocks, args.trainSteps);
  TrainTiming tt = timeTraining(trainOnce, args.trainSteps, args.trainBlocks, unitsPerStep, unit);
  if (!tt.learned())
    return fail("the training loss did not go down (a broken benchmark, not a fast one)");
  const std::vector<double> &ms = tt.ms, &cpu = tt.cpu;
  double med = median(ms);
  StepCosts costs = measureStepCosts(m, trainOnce, med);
  std::printf("per steady-state step: %.0f allocations, %.0f page faults; %.1f GFLOP/s; peak "
              "memory %.0f MB\n",
              costs.allocs, costs.faults, costs.gflops, costs.maxrssMB);

  // Generation at batch 1 with state.
  std::vector<double> us;
  const char *path;
  if (m->step && m->step_batch == 1) {
    path = "step";
    TableStepGen g(m);
    timeGeneration(g, params.data(), V, args.genTokens, args.genBlocks, us);
  } else {
    path = "step-model";
    StepModelGen g(sm, c->hidden, V);
    timeGeneration(g, params.data(), V, args.genTokens, args.genBlocks, us);
  }
  std::printf("median: %.2f ms/train step (%.0f %s/s), %.2f us/token generation (%s)\n", med,
              unitsPerStep / med * 1e3, unit, median(us), path);
  std::printf("RESULT case=%s train_step_ms=%.3f train_min_ms=%.3f train_cpu_ms=%.3f "
              "throughput=%.1f unit=%s gen_us=%.2f gen_min_us=%.2f gen_path=%s%s\n",
              c->name, med, *std::min_element(ms.begin(), ms.end()), median(cpu),
              unitsPerStep / med * 1e3, unit, median(us), *std::min_element(us.begin(), us.end()),
              path, costs.fields().c_str());
  return 0;
}
