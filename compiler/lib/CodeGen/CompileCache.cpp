// CompileCache.cpp: the key is a SHA-256 of the model's nn-dialect module
// (the .nn files, imports and locations included), the options, the host
// CPU when no target is given, and this nnc executable itself (any change
// to the compiler is a new key); the 64 used last are kept. A failed compile
// leaves nothing behind, so errors are reported again every time.
#include "nnc/CodeGen/CompileCache.h"
#include "nnc/CodeGen/ObjectCache.h"
#include "nnc/Optimizers/Optimizers.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <iostream>
#include <sstream>

namespace nnc {

namespace {

// The cache keeps the kCacheEntries models used last (a hit refreshes an
// entry's time); storing one more removes the oldest, so the directory
// stays bounded without a size setting.
constexpr size_t kCacheEntries = 64;

// The model's key from its nn module's text, "" for no cache.
std::string cacheKey(llvm::StringRef nnModule, const CodeGenOptions &o) {
  std::string salt = cacheSalt(o);
  if (salt.empty())
    return ""; // no way to tell this compiler from another: no cache
  llvm::SHA256 h;
  h.update(nnModule);
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
  std::string dir = cacheDir();
  std::string key;
  llvm::SmallVector<char, 0> obj;
  // The nn module is generated once: hashed here, and on a miss compiled on.
  auto reuse = [&](llvm::StringRef nnModule) {
    key = dir.empty() ? "" : cacheKey(nnModule, o);
    ObjectCache cache(key.empty() ? "" : dir, ".o");
    if (cache.load(key, obj) && (c.loaded = loadObject(obj, c.abi.prefix, err)))
      return true;
    if (!obj.empty()) // damaged: compile again and replace it
      cache.remove(key);
    obj.clear();
    return false;
  };
  if (mlir::failed(compileModel(g, o, Stage::Object, nullptr, &obj, &c.abi, reuse)))
    return std::nullopt;
  if (!c.loaded) {
    ObjectCache cache(key.empty() ? "" : dir, ".o");
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

} // namespace nnc
