// Shared helpers of the numeric tests: compile .nn source (or a file) to a
// model loaded into this process, and the io buffers its entry points take.
#pragma once

#include "nnc/CodeGen/Pipeline.h"
#include "nnrt/nnrt_abi.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nnc::numtest {

// A workspace for `m`'s entry points (nnrt_abi.h), kept for the process and
// grown when a later model needs more: the calls of the tests run on a
// caller's workspace, as an app's do.
void *workspace(const nnrt_model *m);

// A compiled and loaded model. Compilation problems throw std::runtime_error
// carrying the front end's diagnostics (Catch2 reports them as a failure).
struct Compiled {
  ModelABI abi;
  std::unique_ptr<LoadedModel> loaded;
  const nnrt_model *m = nullptr;

  // The table entry of tensor `name` (throws if absent).
  const nnrt_tensor_info &tensor(const std::string &name) const;
  // The table's tensors of one role, in table order.
  std::vector<const nnrt_tensor_info *> withRole(int role) const;
};

// `o` for the target the tests run for: NNC_TEST_TARGET_CPU (ctest runs the
// suite a second time with haswell, an AVX2 CPU) unless `o` names one.
// compileSource, compileFile and compileWithStep apply it themselves.
CodeGenOptions forTestTarget(CodeGenOptions o);

CodeGenOptions sgdOptions(int64_t batch, float momentum = 0.0f);
CodeGenOptions adamOptions(int64_t batch, float beta1 = 0.9f, float beta2 = 0.999f,
                           float epsilon = 1e-7f);

// .nn source text -> loaded model. `fileName` names it in diagnostics;
// `loopRepeats` false writes repeat(N, ...) out as N copies
// (FrontendOptions::loopRepeats), to compare the two.
Compiled compileSource(const std::string &source, const CodeGenOptions &opts,
                       const std::string &fileName = "numeric_test.nn", bool loopRepeats = true);
// A .nn file (imports and data paths resolve relative to it).
Compiled compileFile(const std::string &path, const CodeGenOptions &opts);
// compileSource with the one-time-step graph too, so that the model has the
// generation entry point `step` (as `nnc generate` builds it).
Compiled compileWithStep(const std::string &source, const CodeGenOptions &opts,
                         const std::string &fileName);

// Path of a file in the source tree.
std::string sourcePath(const std::string &relative);

// One buffer per io slot of train_step/eval_step: inputs, targets, the row
// weights, outputs (predict uses inputs then outputs). Sized from the table;
// int tensors live in `ints`, float ones in `floats`.
struct IOBuffers {
  struct Buf {
    int dtype = NNRT_F32;
    std::vector<float> floats;
    std::vector<int32_t> ints;
    void *data() { return dtype == NNRT_I32 ? (void *)ints.data() : (void *)floats.data(); }
  };
  std::vector<Buf> inputs, targets, outputs;
  std::vector<float> weights;

  explicit IOBuffers(const nnrt_model &m);
  std::vector<void *> trainIO();   // inputs, targets, weights, outputs
  std::vector<void *> predictIO(); // inputs, outputs
};

// A small deterministic generator (the tests must not depend on libc's rand).
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * double(next() >> 11) * 0x1.0p-53; }
};

// Position of io tensor `name` among the tensors of its role.
int ioIndex(const Compiled &c, int role, const std::string &name);

// A case's inputs and parameters as the double-precision expectations of
// the tests read them (expectedOutputs / expectedLoss).
struct Ref {
  const Compiled &c;
  IOBuffers &io;
  const std::vector<float> &p;

  std::vector<double> input(const std::string &n) const;
  const std::vector<int32_t> &ids(const std::string &n) const;
  std::vector<double> param(const std::string &n) const;
  // rows of x ([..., K], flattened) times W [K, N]
  static std::vector<double> mm(const std::vector<double> &x, const std::vector<double> &W,
                                size_t K, size_t N);
  // rows of x times the parameter W
  std::vector<double> mm(const std::vector<double> &x, const std::string &W) const;
  // rows of the input x times the parameter W
  std::vector<double> mm(const std::string &x, const std::string &W) const;
};

} // namespace nnc::numtest
