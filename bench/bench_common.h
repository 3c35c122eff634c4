// What the benchmark drivers share: CPU time and medians, the command line
// of bench-rnn and bench-attn, their timed training loop, and generation
// through a model table's `step`.
#ifndef NNC_BENCH_COMMON_H
#define NNC_BENCH_COMMON_H

#include "nnrt/nnrt.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <sys/resource.h>
#include <vector>

// CPU time of the process: on a shared, loaded machine it does not count the
// time slices other processes take, which wall time does.
inline double cpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline int64_t argmax(const float *p, int64_t n) { return int64_t(std::max_element(p, p + n) - p); }

// What steady-state train steps cost besides time: the generated code's
// allocations and the page faults per step (both should be 0: the memory
// plan), the process's peak memory, and the products' GFLOP/s from the
// FLOPs nnc counted for one train_step (the model table's train_flops).
struct StepCosts {
  double allocs = 0, faults = 0, maxrssMB = 0, gflops = 0;
  std::string fields() const {
    char b[160];
    std::snprintf(b, sizeof b,
                  " allocs_per_step=%g faults_per_step=%g maxrss_mb=%.0f train_gflops=%.1f", allocs,
                  faults, maxrssMB, gflops);
    return b;
  }
};
template <class Step>
StepCosts measureStepCosts(const nnrt_model *m, Step once, double stepMs, int steps = 3) {
  auto faults = [] {
    rusage u;
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_minflt + u.ru_majflt);
  };
  nnrt_alloc_stats a0, a1;
  nnrt_alloc_stats_get(&a0);
  double f0 = faults();
  for (int i = 0; i < steps; ++i)
    once();
  double f1 = faults();
  nnrt_alloc_stats_get(&a1);
  StepCosts c;
  c.allocs = double(a1.calls - a0.calls) / steps;
  c.faults = (f1 - f0) / steps;
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  c.maxrssMB = double(u.ru_maxrss) / 1024.0;
  c.gflops = double(m->train_flops) / stepMs / 1e6;
  return c;
}

// A model's workspace (nnrt_abi.h), allocated once as an app would.
struct Workspace {
  void *p;
  explicit Workspace(const nnrt_model *m) : p(nnrt_alloc_workspace(m)) {}
  ~Workspace() { nnrt_free_floats(static_cast<float *>(p)); }
  Workspace(const Workspace &) = delete;
  Workspace &operator=(const Workspace &) = delete;
};

// --case C [--train-steps N] [--train-blocks K] [--gen-tokens N] [--gen-blocks K]
struct BenchArgs {
  std::string which;
  int trainSteps, trainBlocks, genTokens, genBlocks;
};

// The entry of `cases` whose name is `name`, or null.
template <class Case, size_t N>
const Case *findCase(const Case (&cases)[N], const std::string &name) {
  for (const Case &c : cases)
    if (name == c.name)
      return &c;
  return nullptr;
}

// Fills `a` (holding the defaults) from argv; false on anything else.
inline bool parseBenchArgs(int argc, char **argv, BenchArgs &a) {
  for (int i = 1; i < argc; ++i) {
    auto num = [&](int &v) {
      if (i + 1 >= argc)
        return false;
      v = std::atoi(argv[++i]);
      return v > 0;
    };
    bool ok = true;
    if (!std::strcmp(argv[i], "--case") && i + 1 < argc)
      a.which = argv[++i];
    else if (!std::strcmp(argv[i], "--train-steps"))
      ok = num(a.trainSteps);
    else if (!std::strcmp(argv[i], "--train-blocks"))
      ok = num(a.trainBlocks);
    else if (!std::strcmp(argv[i], "--gen-tokens"))
      ok = num(a.genTokens);
    else if (!std::strcmp(argv[i], "--gen-blocks"))
      ok = num(a.genBlocks);
    else
      ok = false;
    if (!ok)
      return false;
  }
  return true;
}

// Per-step wall and CPU milliseconds of each block, and the loss before and
// after.
struct TrainTiming {
  std::vector<double> ms, cpu;
  float firstLoss = NAN, loss = NAN;
  // A benchmark whose loss does not go down is broken, not fast.
  bool learned() const { return std::isfinite(loss) && loss < firstLoss; }
};

// `trainOnce()` runs one train step and returns its loss: one warm-up step,
// then `blocks` blocks of `steps` steps, each block printed.
template <class Step>
TrainTiming timeTraining(Step trainOnce, int steps, int blocks, double unitsPerStep,
                         const char *unit) {
  TrainTiming r;
  r.firstLoss = r.loss = trainOnce();
  for (int b = 0; b < blocks; ++b) {
    double c0 = cpuSeconds(), t0 = nnrt_now_seconds();
    for (int i = 0; i < steps; ++i)
      r.loss = trainOnce();
    double t = (nnrt_now_seconds() - t0) * 1e3 / steps;
    double cc = (cpuSeconds() - c0) * 1e3 / steps;
    r.ms.push_back(t);
    r.cpu.push_back(cc);
    std::printf("  train block %d: %.2f ms/step wall, %.2f ms CPU (%.0f %s/s), loss %.4f\n", b + 1,
                t, cc, unitsPerStep / t * 1e3, unit, r.loss);
  }
  return r;
}

// Generation through the model table's `step` (states in place).
struct TableStepGen {
  const nnrt_model *m;
  int32_t tok = 0;
  std::vector<std::vector<float>> bufs; // states, then outputs
  std::vector<void *> io;
  const float *probs = nullptr;
  Workspace ws;
  explicit TableStepGen(const nnrt_model *m) : m(m), ws(m) {
    for (int i = 0; i < m->num_step_tensors; ++i) {
      const nnrt_tensor_info &t = m->step_tensors[i];
      if (t.role == NNRT_INPUT) {
        io.push_back(&tok);
        continue;
      }
      bufs.emplace_back(size_t(t.size * m->step_batch));
      io.push_back(nullptr);
    }
    // Pointers into bufs are stable once every vector has been created.
    for (size_t i = 0, b = 0; i < io.size(); ++i)
      if (io[i] != &tok)
        io[i] = bufs[b++].data();
    probs = bufs.back().data();
  }
  void reset(int32_t t) {
    tok = t;
    for (int i = 0, b = 0; i < m->num_step_tensors; ++i)
      if (m->step_tensors[i].role != NNRT_INPUT) {
        if (m->step_tensors[i].role == NNRT_STATE)
          std::fill(bufs[b].begin(), bufs[b].end(), 0.0f);
        ++b;
      }
  }
  const float *step(const float *params) {
    m->step(params, io.data(), ws.p);
    return probs;
  }
};

// A model's parameters or optimizer state, allocated as nnc's users get them
// (nnrt_alloc_floats: zeroed, on huge pages where the system has them).
struct Floats {
  float *p;
  explicit Floats(int64_t n) : p(nnrt_alloc_floats(n)) {
    if (!p) {
      std::fprintf(stderr, "bench: out of memory\n");
      std::exit(1);
    }
  }
  ~Floats() { nnrt_free_floats(p); }
  Floats(const Floats &) = delete;
  Floats &operator=(const Floats &) = delete;
  float *data() const { return p; }
};

// Greedy generation, `blocks` blocks of `tokens` tokens after a warm-up;
// appends each block's microseconds per token to `us`.
template <class Gen>
void timeGeneration(Gen &g, const float *params, int64_t V, int tokens, int blocks,
                    std::vector<double> &us) {
  g.reset(1);
  for (int i = 0; i < 20; ++i) // warm-up
    g.tok = int32_t(argmax(g.step(params), V));
  for (int b = 0; b < blocks; ++b) {
    g.reset(int32_t(1 + b));
    double t0 = nnrt_now_seconds();
    for (int i = 0; i < tokens; ++i)
      g.tok = int32_t(argmax(g.step(params), V));
    us.push_back((nnrt_now_seconds() - t0) * 1e6 / tokens);
    std::printf("  gen block %d: %.2f us/token\n", b + 1, us.back());
  }
}

#endif
