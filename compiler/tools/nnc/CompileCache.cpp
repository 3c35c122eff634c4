// CompileCache.cpp: the key is a SHA-256 of the model's nn-dialect module
// (the .nn files, imports and locations included), the options, the host
// CPU when no target is given, and this nnc executable itself (any change
// to the compiler is a new key); the 64 used last are kept. A failed compile
// leaves nothing behind, so errors are reported again every time.
#include "CompileCache.h"
#include "nnc/CodeGen/ObjectCache.h"
#include "nnc/Optimizers/Optimizers.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <iostream>
#include <sstream>

namespace nnc::tool {

namespace {

// The cache keeps the kCacheEntries models used last (a hit refreshes an
// entry's time); storing one more removes the oldest, so the directory
// stays bounded without a size setting.
constexpr size_t kCacheEntries = 64;

// The model's key, "" for no cache. Sets `failed` when building the module
// already fails (reported then).
std::string cacheKey(const dsl::Graph &g, const CodeGenOptions &o, ModelABI &abi,
                     bool &failed) {
  std::string salt = cacheSalt(o);
  if (salt.empty())
    return ""; // no way to tell this compiler from another: no cache
  std::string text;
  llvm::raw_string_ostream os(text);
  // The module is generated here to hash it and again by the compile on a
  // miss: compileModel takes a graph, not a module.
  if (mlir::failed(compileModel(g, o, Stage::NN, &os, nullptr, &abi))) {
    failed = true;
    return "";
  }
  llvm::SHA256 h;
  h.update(os.str());
  const OptimizerConfig &opt = o.optimizer;
  std::ostringstream k;
  k.precision(9);
  k << '|' << o.batch << '|' << o.stepBatch << '|' << opt.name << '|';
  // Every compiled-in value, defaults included: what the code depends on.
  if (const optim::Optimizer *row = optim::findOptimizer(opt.name))
    for (const auto &[n, v] : optim::compiledValues(*row, opt.args))
      k << n << '=' << float(v) << '|';
  h.update(k.str());
  h.update(salt);
  return llvm::toHex(h.final(), /*LowerCase=*/true);
}

} // namespace

std::string cacheDir() {
  const char *off = std::getenv("NNC_CACHE");
  if (off && std::string(off) == "0")
    return "";
  if (const char *d = std::getenv("NNC_CACHE_DIR"); d && *d)
    return d;
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::string(x) + "/nnc";
  if (const char *h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.cache/nnc";
  return "";
}

std::optional<Compiled> compileAndLoad(const dsl::Graph &g, const CodeGenOptions &o) {
  Compiled c;
  std::string err;
  bool failed = false;
  std::string dir = cacheDir();
  const std::string key = dir.empty() ? "" : cacheKey(g, o, c.abi, failed);
  if (failed)
    return std::nullopt;
  ObjectCache cache(key.empty() ? "" : dir, ".o");
  llvm::SmallVector<char, 0> obj;
  if (cache.load(key, obj)) {
    c.loaded = loadObject(obj, c.abi.prefix, err);
    if (!c.loaded) // damaged: compile again and replace it
      cache.remove(key);
  }
  if (!c.loaded) {
    obj.clear();
    if (mlir::failed(compileModel(g, o, Stage::Object, nullptr, &obj, &c.abi)))
      return std::nullopt;
    cache.store(key, obj);
    cache.prune(kCacheEntries);
    c.loaded = loadObject(obj, c.abi.prefix, err);
  }
  if (!c.loaded) {
    std::cerr << "nnc: error: cannot load the generated code: " << err << "\n";
    return std::nullopt;
  }
  c.m = c.loaded->model();
  return c;
}

} // namespace nnc::tool
