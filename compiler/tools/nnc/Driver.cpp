// Driver.cpp: the helpers several commands share.
#include "Driver.h"
#include "nnc/CodeGen/CompileCache.h"

#include "nnc/CodeGen/Timing.h"
#include "nnc/Optimizers/Optimizers.h"
#include "nnc/dsl/Frontend.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace nnc::tool {

int fail(const std::string &msg) {
  std::cerr << "nnc: error: " << msg << "\n";
  return 1;
}

Floats::Floats(int64_t n) : p_(nnrt_alloc_floats(n)) {
  if (!p_) {
    fail("out of memory for " + std::to_string(n) + " floats");
    std::exit(1);
  }
}

namespace {

// <prefix>/`rel` when this nnc is <prefix>/bin/nnc and <prefix>/`rel`/`file`
// exists (an installed, relocatable nnc), else `built`.
std::string besideInstalled(const char *rel, const char *file, const char *built) {
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable(nullptr, &anchor);
  llvm::SmallString<256> p(llvm::sys::path::parent_path(llvm::sys::path::parent_path(exe)));
  llvm::sys::path::append(p, rel);
  llvm::SmallString<256> probe(p);
  llvm::sys::path::append(probe, file);
  return !exe.empty() && llvm::sys::fs::exists(probe) ? std::string(p) : std::string(built);
}

} // namespace

std::string stdlibDir() {
  const char *env = std::getenv("NNC_STDLIB");
  return env ? env : besideInstalled("share/nnc/std", "layers.nn", NNC_STDLIB_DIR);
}

std::string runtimeIncludeDir() {
  return besideInstalled("include", "nnrt/nnrt_abi.h", NNC_RUNTIME_INCLUDE_DIR);
}

namespace {

dsl::FrontendOptions frontendOptions() {
  dsl::FrontendOptions fo;
  fo.stdlibDir = stdlibDir();
  const char *unroll = std::getenv("NNC_UNROLL_REPEATS");
  fo.loopRepeats = !unroll || std::string(unroll) != "1";
  return fo;
}

// NNC_COMPILE_THREADS=N, else the cores there are (at most 8).
unsigned compileThreads() {
  if (const char *env = std::getenv("NNC_COMPILE_THREADS")) {
    unsigned n = 0;
    if (!llvm::StringRef(env).getAsInteger(10, n) && n >= 1 && n <= 64)
      return n;
    std::cerr << "nnc: warning: NNC_COMPILE_THREADS='" << env
              << "' is not a number from 1 to 64; using the cores there are\n";
  }
  return std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
}

} // namespace

std::optional<dsl::Graph> loadGraph(const Args &a, bool withStep) {
  if (a.file.empty()) {
    std::cerr << "nnc: error: no model file given\nusage: nnc " << a.command
              << " MODEL.nn [flags] (nnc " << a.command << " --help lists them)\n";
    return std::nullopt;
  }
  mlir::TimingScope timing = compileTiming().nest("front end");
  dsl::DiagnosticEngine diag(std::cerr);
  dsl::FrontendOptions fo = frontendOptions();
  fo.buildStep = withStep;
  return dsl::buildGraph(a.file, fo, diag, a.get("model"));
}

std::optional<CodeGenOptions> codegenOptions(const Args &a, const dsl::Graph &g, std::string &err) {
  CodeGenOptions o;
  const dsl::TrainConfig &t = g.train;
  o.batch = t.present ? t.batch : 32;
  o.optimizer.name = t.present ? t.optimizer : "adam";
  if (a.has("batch")) {
    auto b = parseInt("batch", a.get("batch"), 1, err);
    if (!b)
      return std::nullopt;
    o.batch = *b;
  }
  if (a.has("optimizer")) {
    std::string n = a.get("optimizer");
    if (!optim::findOptimizer(n)) {
      err = "--optimizer expects " + optim::optimizerNames() + ", got '" + n + "'";
      return std::nullopt;
    }
    o.optimizer.name = n;
  }
  // The train block's compiled-in hyperparameters that this optimizer has
  // (with --optimizer, another one may take some: momentum, epsilon).
  const optim::Optimizer &opt = *optim::findOptimizer(o.optimizer.name);
  for (const auto &[k, v] : t.optimizerArgs)
    if (const optim::Hyperparameter *h = optim::findHyper(opt, k);
        h && h->when == optim::When::Compiled && v.number)
      o.optimizer.args[k] = *v.number;
  o.targetCPU = a.get("target-cpu");
  o.codegenThreads = compileThreads();
  // Kernels by their content, below the whole models (CompileCache.h).
  if (std::string dir = cacheDir(); !dir.empty())
    o.objectCacheDir = dir + "/units";
  return o;
}

bool checkVocabulary(const nnrt_model *m, const nnrt_vocab &v, const std::string &path,
                     nnrt_error &e) {
  int first = -1;
  if (nnrt_model_count(m, NNRT_OUTPUT, &first) < 1)
    return true;
  const nnrt_tensor_info &out = m->tensors[first];
  int64_t size = out.rank ? out.shape[out.rank - 1] : 1;
  if (size < v.size) {
    std::snprintf(e.msg, sizeof e.msg,
                  "%s has a vocabulary of %d tokens but model '%s' predicts %lld: "
                  "set the model's vocabulary parameter to %d",
                  path.c_str(), v.size, m->name, (long long)size, v.size);
    return false;
  }
  return true;
}

std::unique_ptr<Trained> loadTrained(const Args &a, const dsl::Graph &g, const CodeGenOptions &o) {
  auto c = compileAndLoad(g, o);
  if (!c)
    return nullptr;
  auto t = std::make_unique<Trained>();
  t->c = std::move(*c);
  t->m = t->c.m;
  t->params = Floats(t->m->num_params);
  nnrt_error e{};
  if (nnrt_checkpoint_load(a.get("checkpoint").c_str(), t->m, t->params.data(), nullptr, nullptr,
                           &t->md, &e)) {
    fail(e.msg);
    return nullptr;
  }
  return t;
}

std::unique_ptr<Trained> loadGraphAndTrained(const Args &a, std::optional<dsl::Graph> &g,
                                             std::optional<int64_t> batch) {
  g = loadGraph(a);
  if (!g)
    return nullptr;
  std::string err;
  auto o = codegenOptions(a, *g, err);
  if (!o) {
    fail(err);
    return nullptr;
  }
  if (batch)
    o->batch = *batch;
  return loadTrained(a, *g, *o);
}

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

} // namespace nnc::tool
