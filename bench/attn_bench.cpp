// bench-attn: training throughput and generation latency of the attention
// models nnc compiled at build time (compile time excluded), on synthetic
// token data of the model's vocabulary.
//
//   bench-attn --case gpt|gpt2|memnet [--train-steps N] [--train-blocks K]
//              [--gen-tokens N] [--gen-blocks K]
//
// Cases (bench/CMakeLists.txt compiles the models):
//   gpt     examples/gpt/tiny.nn: a character-level GPT, vocab 65, 4
//           pre-LayerNorm blocks of 4 heads, width 128, context 128, batch 32,
//           Adam, cross-entropy at every position. Throughput in tokens/s
//           (32 x 128 per train step).
//   gpt2    examples/gpt/gpt2_small.nn: the same at GPT-2 small's size, 12
//           blocks of 12 heads, width 768, context 256, batch 8, Adam (85M
//           parameters). Throughput in tokens/s (8 x 256 per train step).
//   memnet  examples/qa/memnet.nn: the course's memory network (story 156,
//           question 6, vocab 38, LSTM(32), dropout), RMSprop, batch 32.
//           Throughput in samples/s. No generation (two inputs: no step).
//
// Training: `train_step` on random ids in [0, V) for every int input and
// target, all row weights 1, lr 0.001 (gpt2: 0.0003); one warm-up step, then K blocks of N
// steps; the median block gives the time per step.
// Generation (gpt): the model table's `step` (the `_step` entry point, batch
// 1, keys and values of earlier positions kept in its cache states), one
// token per call from all-zero states, the next token the argmax of the
// previous step's probabilities (greedy); a block is N tokens from position
// 0 (N <= the context), as bench/attn_torch.py does. Before timing, the step
// is checked against the full model: `predict` over a window and the step
// run over the same tokens give the same probabilities at every position.
//
// Prints the blocks, then a machine-readable line
//   RESULT case=<c> train_step_ms=<median> train_min_ms=<min>
//          train_cpu_ms=<median CPU> throughput=<units/s> unit=<samples|tokens>
//          [gen_us=<median us/token> gen_min_us=<min> gen_path=step]
// Threads: the generated code runs its large matrix products and elementwise
// ops on OpenMP threads (OMP_NUM_THREADS); nnrt uses none. Throughput is
// from wall time.
#include "bench_common.h"
#include "gpt2small.h"
#include "memnet.h"
#include "tinygpt.h"

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
  std::fprintf(stderr, "bench-attn: error: %s\n", msg.c_str());
  return 1;
}

struct Case {
  const char *name;
  const nnrt_model *model;
  int64_t vocab;
  const char *unit; // what the throughput counts
  bool perToken;    // units per row: the first input's length (gpt) or 1
  float lr;         // the train block's (and attn_torch.py's)
};

static const Case kCases[] = {
    {"gpt", &tinygpt_model, 65, "tokens", true, 0.001f},
    {"gpt2", &gpt2small_model, 65, "tokens", true, 0.0003f},
    {"memnet", &memnet_model, 38, "samples", false, 0.001f},
};

int main(int argc, char **argv) {
  BenchArgs args{"gpt", 2, 5, 128, 7};
  if (!parseBenchArgs(argc, argv, args))
    return fail("usage: bench-attn --case gpt|gpt2|memnet [--train-steps N] "
                "[--train-blocks K] [--gen-tokens N] [--gen-blocks K]");
  const Case *c = findCase(kCases, args.which);
  if (!c)
    return fail("unknown --case '" + args.which + "' (gpt, gpt2, memnet)");

  const nnrt_model *m = c->model;
  const int64_t B = m->batch, V = c->vocab;
  Floats params(m->num_params), opt(m->opt_state_size);
  m->init(params.data(), 42);

  // Synthetic data: uniform random ids for every int input and target, one
  // batch reused (a fresh batch would not change the work). io follows the
  // table: inputs, targets, weights, outputs.
  std::mt19937 rng(42);
  std::uniform_int_distribution<int32_t> id(0, int32_t(V - 1));
  std::vector<std::vector<int32_t>> ints;
  std::vector<std::vector<float>> outs;
  std::vector<float> w(size_t(B), 1.0f);
  std::vector<const nnrt_tensor_info *> ins, tgts, outInfo;
  for (int i = 0; i < m->num_tensors; ++i) {
    const nnrt_tensor_info &t = m->tensors[i];
    if (t.role == NNRT_INPUT)
      ins.push_back(&t);
    else if (t.role == NNRT_TARGET)
      tgts.push_back(&t);
    else if (t.role == NNRT_OUTPUT)
      outInfo.push_back(&t);
  }
  std::vector<void *> io, pio;
  ints.reserve(ins.size() + tgts.size());
  outs.reserve(outInfo.size());
  for (auto *group : {&ins, &tgts})
    for (const nnrt_tensor_info *t : *group) {
      if (t->dtype != NNRT_I32)
        return fail(std::string("bench-attn feeds int ids; '") + t->name + "' is not int");
      ints.emplace_back(size_t(B * t->size));
      for (auto &v : ints.back())
        v = id(rng);
      io.push_back(ints.back().data());
      if (group == &ins)
        pio.push_back(ints.back().data());
    }
  io.push_back(w.data());
  for (const nnrt_tensor_info *t : outInfo) {
    outs.emplace_back(size_t(B * t->size));
    io.push_back(outs.back().data());
    pio.push_back(outs.back().data());
  }
  const int64_t T = ins[0]->size;
  const double unitsPerStep = double(B * (c->perToken ? T : 1));

  // Check the step against the full model (same parameters): the step run
  // over row 0's tokens gives predict's probabilities at every position.
  if (c->perToken) {
    if (!m->step || m->step_batch != 1)
      return fail("the gpt library has no batch-1 step (no key/value cache compiled in)");
    if (m->step_context < T)
      return fail("the step's cache holds fewer positions than the window");
    m->predict(params.data(), pio.data(), nullptr);
    TableStepGen g(m);
    g.reset(0);
    const int32_t *x = ints[0].data();
    const float *ref = outs[0].data(); // row 0: [T, V]
    double d = 0;
    for (int64_t t = 0; t < T; ++t) {
      g.tok = x[t];
      const float *p = g.step(params.data());
      for (int64_t v = 0; v < V; ++v)
        d = std::max(d, double(std::fabs(p[v] - ref[t * V + v])));
    }
    std::printf("step check: max |p_step - p_predict| = %.3g over %lld positions\n", d,
                (long long)T);
    if (!(d < 1e-4))
      return fail("the step does not reproduce the model's predictions");
  }

  // Training.
  float hyper[NNRT_HYPER_COUNT] = {0};
  hyper[NNRT_HYPER_LR] = c->lr;
  Workspace ws(m);
  int64_t step = 0;
  auto trainOnce = [&] {
    hyper[NNRT_HYPER_STEP] = float(++step);
    return m->train_step(params.data(), opt.data(), hyper, io.data(), ws.p);
  };
  std::printf("%s: batch %lld, window %lld, vocab %lld, %lld params; train: %d blocks of %d "
              "steps + 1 warm-up\n",
              c->name, (long long)B, (long long)T, (long long)V, (long long)m->num_params,
              args.trainBlocks, args.trainSteps);
  TrainTiming tt =
      timeTraining(trainOnce, args.trainSteps, args.trainBlocks, unitsPerStep, c->unit);
  if (!tt.learned())
    return fail("the training loss did not go down (a broken benchmark, not a fast one)");
  const std::vector<double> &ms = tt.ms, &cpu = tt.cpu;
  double med = median(ms);
  std::printf("median: %.2f ms/train step (%.0f %s/s)\n", med, unitsPerStep / med * 1e3, c->unit);
  std::string line = "RESULT case=" + std::string(c->name);
  char buf[512];
  std::snprintf(buf, sizeof buf,
                " train_step_ms=%.3f train_min_ms=%.3f train_cpu_ms=%.3f throughput=%.1f unit=%s",
                med, *std::min_element(ms.begin(), ms.end()), median(cpu), unitsPerStep / med * 1e3,
                c->unit);
  line += buf;
  StepCosts costs = measureStepCosts(m, trainOnce, med);
  std::printf("per steady-state step: %.0f allocations, %.0f page faults; %.1f GFLOP/s; peak "
              "memory %.0f MB\n",
              costs.allocs, costs.faults, costs.gflops, costs.maxrssMB);

  // Generation at batch 1 with the key/value cache.
  if (c->perToken) {
    if (args.genTokens > m->step_context)
      return fail("--gen-tokens is more than the step's context (" +
                  std::to_string(m->step_context) + ")");
    std::vector<double> us;
    TableStepGen g(m);
    timeGeneration(g, params.data(), V, args.genTokens, args.genBlocks, us);
    std::printf("median: %.2f us/token generation (step)\n", median(us));
    std::snprintf(buf, sizeof buf, " gen_us=%.2f gen_min_us=%.2f gen_path=step", median(us),
                  *std::min_element(us.begin(), us.end()));
    line += buf;
  }
  line += costs.fields();
  std::printf("%s\n", line.c_str());
  return 0;
}
