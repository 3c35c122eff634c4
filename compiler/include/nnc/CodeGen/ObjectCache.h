// Compiled code kept on disk by a key: the units of a compile (kernels by
// their content, CodeGenOptions::objectCacheDir) and whole models (the nnc
// tool's compile cache). One file per key, written aside and renamed.
#pragma once

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace nnc {

struct CodeGenOptions;

class ObjectCache {
public:
  // `dir` empty: off (every load misses, stores do nothing). Entries are
  // `<dir>/<key><extension>`.
  explicit ObjectCache(std::string dir, std::string extension = ".obj")
      : dir_(std::move(dir)), ext_(std::move(extension)) {}
  // An object or a bundle of them (splitObjectBundle). A hit refreshes the
  // entry's time (what pruning keeps); a damaged entry is removed and misses.
  bool load(llvm::StringRef key, llvm::SmallVectorImpl<char> &object) const;
  // Aside and then renamed: a reader never sees half an object. Failing to
  // write only loses the entry. Safe to call from several threads.
  void store(llvm::StringRef key, llvm::ArrayRef<char> object) const;
  // For an entry that loads but does not work (the caller found it bad).
  void remove(llvm::StringRef key) const;
  // Keeps the `keep` entries used last.
  void prune(size_t keep) const;

private:
  std::string path(llvm::StringRef key) const;
  std::string dir_, ext_;
};

// What, besides its input, decides a compile's objects: this compiler's
// build (a hash of the running executable and LLVM's version) and the
// target CPU and features (the host's when none is given). Empty when the
// executable cannot be read: nothing is cached then.
std::string cacheSalt(const CodeGenOptions &opts);

} // namespace nnc
