#pragma once

#include "nnc/CodeGen/Pipeline.h"

#include <vector>

namespace nnc {
// A kernel's compiled object, by the kernel's name (nnc_k_<key>).
struct KernelObject {
  std::string name;
  llvm::SmallVector<char, 0> bytes;
};
} // namespace nnc

namespace llvm {
class Module;
}

namespace nnc {
// Adds the nnrt ABI to a translated model (the io-array wrappers and the
// `<prefix>_model` table), optimizes it for the target CPU and prints it
// (Stage::LLVMIR, Stage::Asm) or emits a bundle of objects (Stage::Object:
// one per kernel and one for the entry points, compiled on
// opts.codegenThreads threads and kept in opts.objectCacheDir under keys
// salted with `salt` (cacheSalt)). `reused`: the objects of the kernels that
// `module` only declares (reuseCachedKernels). The bundle holds the kernels
// ordered by name, then the entry points: the same bytes whatever the cache held.
bool emitNative(llvm::Module &module, const ModelABI &abi, const CodeGenOptions &opts,
                const std::string &salt, std::vector<KernelObject> reused, Stage stop,
                llvm::raw_ostream *dump, llvm::SmallVectorImpl<char> *object, std::string &error);
} // namespace nnc
