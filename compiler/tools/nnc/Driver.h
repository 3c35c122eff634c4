// Driver.h: what several commands share: the model's graph, the code
// generation options from the train block and the flags, a compiled model
// with a checkpoint's parameters, and the commands themselves.
#pragma once

#include "Options.h"
#include "nnc/CodeGen/CompileCache.h"
#include "nnc/CodeGen/Pipeline.h"
#include "nnc/dsl/Graph.h"
#include "nnrt/nnrt.h"

#include <memory>
#include <optional>
#include <string>

namespace nnc::tool {

// "nnc: error: msg" on stderr; returns 1, the exit status.
int fail(const std::string &msg);

// Parameters and optimizer state, from nnrt_alloc_floats (zeroed; huge pages
// for large models, so the products that stream the weights miss the TLB
// less).
class Floats {
public:
  Floats() = default;
  explicit Floats(int64_t n);
  Floats(Floats &&o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Floats &operator=(Floats &&o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  Floats(const Floats &) = delete;
  Floats &operator=(const Floats &) = delete;
  ~Floats() { nnrt_free_floats(p_); }
  float *data() const { return p_; }

private:
  float *p_ = nullptr;
};

// Where `import std.x` finds the std library: $NNC_STDLIB, else beside an
// installed nnc (<prefix>/share/nnc/std for <prefix>/bin/nnc), else the
// source tree nnc was built from.
std::string stdlibDir();
// Where nnrt's headers are, found the same way (<prefix>/include).
std::string runtimeIncludeDir();

// The model of a.file (--model picks one of several); errors reported.
// withStep: with its one-step graph for generation (Graph::step) when it
// has one, from the same parse.
std::optional<dsl::Graph> loadGraph(const Args &a, bool withStep = false);

// The train block's batch and optimizer, then --batch, --optimizer and
// --target-cpu; nullopt with the message in err.
std::optional<CodeGenOptions> codegenOptions(const Args &a, const dsl::Graph &g, std::string &err);

// The model's vocabulary (the last dimension of its first output) must hold
// every token id of v; false with the message in e.
bool checkVocabulary(const nnrt_model *m, const nnrt_vocab &v, const std::string &path,
                     nnrt_error &e);

// A compiled model with a checkpoint's parameters and metadata: where
// predict, generate and chat start.
struct Trained {
  Compiled c;
  const nnrt_model *m = nullptr;
  Floats params;
  nnrt_metadata md{};
  ~Trained() { nnrt_metadata_free(&md); }
};

// Compiles (or loads from the cache) and reads --checkpoint; errors reported.
std::unique_ptr<Trained> loadTrained(const Args &a, const dsl::Graph &g, const CodeGenOptions &o);

// loadGraph, codegenOptions and loadTrained in a row, for the commands that
// run a checkpoint as it is (predict, chat); `batch`, when given, replaces
// the options' batch. The graph is left in g; errors reported, nullptr then.
std::unique_ptr<Trained> loadGraphAndTrained(const Args &a, std::optional<dsl::Graph> &g,
                                             std::optional<int64_t> batch = std::nullopt);

std::string trim(const std::string &s);

// The commands, one file each (CmdTrain.cpp, ...).
int cmdTrain(const Args &a);
int cmdPlot(const Args &a);
int cmdPredict(const Args &a);
int cmdGenerate(const Args &a);
int cmdChat(const Args &a);
int cmdCompile(const Args &a);
int cmdSummary(const Args &a);

} // namespace nnc::tool
