// Compiled units kept on disk by their content key (CompileUnit::key), so
// that a model edited in one layer recompiles only the kernels that changed.
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace nnc {

class ObjectCache {
public:
  // `dir` empty: off (every load misses, stores do nothing).
  explicit ObjectCache(std::string dir) : dir_(std::move(dir)) {}
  // A hit refreshes the object's time (what pruning keeps); a damaged entry
  // is removed and misses.
  bool load(llvm::StringRef key, llvm::SmallVectorImpl<char> &object) const;
  // Aside and then renamed: a reader never sees half an object. Failing to
  // write only loses the entry. Safe to call from several threads.
  void store(llvm::StringRef key, llvm::ArrayRef<char> object) const;
  // Keeps the `keep` objects used last.
  void prune(size_t keep) const;

private:
  std::string path(llvm::StringRef key) const;
  std::string dir_;
};

// What makes this compiler's objects differ from another build's: a hash of
// the running executable and LLVM's version. Part of every unit's key;
// empty (no cache) when the executable cannot be read.
const std::string &compilerIdentity();

} // namespace nnc
