#pragma once

#include "nnc/CodeGen/Pipeline.h"

#include <vector>

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
// `module` only declares (reuseCachedKernels), bundled first.
bool emitNative(llvm::Module &module, const ModelABI &abi, const CodeGenOptions &opts,
                const std::string &salt, std::vector<llvm::SmallVector<char, 0>> reused,
                Stage stop, llvm::raw_ostream *dump,
                llvm::SmallVectorImpl<char> *object, std::string &error);
} // namespace nnc
