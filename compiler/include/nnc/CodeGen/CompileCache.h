// CompileCache.h: the compile driver's whole-model cache. `nnc train/predict/
// generate/chat` (and any app that compiles in process) compile the model
// every time, which is minutes for a GPT; the object file is kept
// under cacheDir(), named by a SHA-256 of everything it depends on, so a
// second run with the same model loads it instead.
#pragma once

#include "nnc/CodeGen/Pipeline.h"
#include "nnc/dsl/Graph.h"
#include "nnrt/nnrt.h"

#include <memory>
#include <optional>
#include <string>

namespace nnc {

// $NNC_CACHE_DIR, else $XDG_CACHE_HOME/nnc, else ~/.cache/nnc; "" when
// NNC_CACHE=0 or there is no home to put it in. Other caches (per kernel)
// live under it too, so that one variable moves or turns off all of them.
std::string cacheDir();

struct Compiled {
  ModelABI abi;
  std::unique_ptr<LoadedModel> loaded;
  const nnrt_model *m = nullptr;
};

// The model's code loaded into this process, from the cache when it has it;
// compiled (and stored) otherwise. Errors are reported.
std::optional<Compiled> compileAndLoad(const dsl::Graph &g, const CodeGenOptions &o);

} // namespace nnc
