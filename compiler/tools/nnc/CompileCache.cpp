// CompileCache.cpp: the key is a SHA-256 of the model's nn-dialect module
// (the .nn files, imports and locations included), the options, the host
// CPU when no target is given, and this nnc executable itself (any change
// to the compiler is a new key); the 64 used last are kept. A failed compile
// leaves nothing behind, so errors are reported again every time.
#include "CompileCache.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Host.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <vector>

namespace nnc::tool {

namespace {

// The object's path in the cache, "" for no cache. Sets `failed` when
// building the module already fails (reported then).
std::string cachePath(const dsl::Graph &g, const CodeGenOptions &o, bool &failed) {
  std::string dir = cacheDir();
  if (dir.empty())
    return "";
  std::string text;
  llvm::raw_string_ostream os(text);
  // The module is generated here to hash it and again by the compile on a
  // miss: compileModel takes a graph, not a module.
  if (mlir::failed(compileModel(g, o, Stage::NN, &os, nullptr))) {
    failed = true;
    return "";
  }
  llvm::SHA256 h;
  h.update(os.str());
  const OptimizerConfig &opt = o.optimizer;
  std::ostringstream k;
  k.precision(9);
  k << '|' << o.batch << '|' << o.stepBatch << '|' << opt.name << '|' << opt.beta1 << '|'
    << opt.beta2 << '|' << opt.epsilon << '|' << opt.momentum << '|' << opt.rho << '|'
    << o.targetCPU << '|' << o.targetFeatures << '|';
  h.update(k.str());
  if (o.targetCPU.empty()) {
    h.update(llvm::sys::getHostCPUName());
    llvm::StringMap<bool> features;
    if (llvm::sys::getHostCPUFeatures(features))
      for (const auto &f : features)
        h.update(f.getKey().str() + (f.getValue() ? "+" : "-"));
  }
  auto self = llvm::MemoryBuffer::getFile("/proc/self/exe");
  if (!self)
    return ""; // no way to tell this compiler from another: no cache
  h.update((*self)->getBuffer());
  return dir + "/" + llvm::toHex(h.final(), /*LowerCase=*/true) + ".o";
}

// The cache keeps the kCacheEntries objects used last (a hit refreshes an
// object's time); storing one more removes the oldest, so the directory
// stays bounded without a size setting.
constexpr size_t kCacheEntries = 64;

void pruneCache(llvm::StringRef dir) {
  std::vector<std::pair<llvm::sys::TimePoint<>, std::string>> objects;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec)) {
    llvm::sys::fs::file_status st;
    if (llvm::StringRef(it->path()).endswith(".o") && !llvm::sys::fs::status(it->path(), st))
      objects.emplace_back(st.getLastModificationTime(), it->path());
  }
  if (objects.size() <= kCacheEntries)
    return;
  std::sort(objects.begin(), objects.end());
  for (size_t i = 0; i + kCacheEntries < objects.size(); ++i)
    llvm::sys::fs::remove(objects[i].second);
}

// Writes `obj` to the cache as `path`, aside and then renamed: a reader
// never sees half an object. Failing to write only loses the cache entry.
void storeCached(const std::string &path, llvm::ArrayRef<char> obj) {
  llvm::SmallString<256> tmp;
  int fd = -1;
  if (llvm::sys::fs::create_directories(llvm::sys::path::parent_path(path)) ||
      llvm::sys::fs::createUniqueFile(path + ".%%%%%%.tmp", fd, tmp))
    return;
  llvm::raw_fd_ostream out(fd, /*shouldClose=*/true);
  out.write(obj.data(), obj.size());
  out.close();
  if (out.has_error() || llvm::sys::fs::rename(tmp, path)) {
    out.clear_error();
    llvm::sys::fs::remove(tmp);
    return;
  }
  pruneCache(llvm::sys::path::parent_path(path));
}

// A damaged entry is removed (and compiled again); a good one has its time
// refreshed, so pruning keeps it.
std::unique_ptr<LoadedModel> loadCached(const std::string &path, const ModelABI &abi,
                                        std::string &err) {
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf)
    return nullptr;
  llvm::ArrayRef<char> obj((*buf)->getBufferStart(), (*buf)->getBufferSize());
  std::unique_ptr<LoadedModel> loaded = loadObject(obj, abi.prefix, err);
  if (!loaded) {
    llvm::sys::fs::remove(path);
  } else if (int fd; !llvm::sys::fs::openFileForWrite(path, fd, llvm::sys::fs::CD_OpenExisting,
                                                      llvm::sys::fs::OF_Append)) {
    llvm::sys::fs::setLastAccessAndModificationTime(fd, std::chrono::system_clock::now());
    llvm::sys::Process::SafelyCloseFileDescriptor(fd);
  }
  return loaded;
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
  c.abi = describeModel(g, o);
  std::string err;
  bool failed = false;
  const std::string cached = cachePath(g, o, failed);
  if (failed)
    return std::nullopt;
  if (!cached.empty())
    c.loaded = loadCached(cached, c.abi, err);
  if (!c.loaded) {
    llvm::SmallVector<char, 0> obj;
    if (mlir::failed(compileModel(g, o, Stage::Object, nullptr, &obj)))
      return std::nullopt;
    if (!cached.empty())
      storeCached(cached, obj);
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
