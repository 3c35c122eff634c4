#pragma once

#include "nnc/CodeGen/Pipeline.h"

namespace llvm {
class Module;
}

namespace nnc {
// Adds the nnrt ABI to a translated model (the io-array wrappers and the
// `<prefix>_model` table), optimizes it for the target CPU and prints it
// (Stage::LLVMIR, Stage::Asm) or emits an object file (Stage::Object; with
// opts.codegenThreads > 1, optimized in parts on that many threads, and with
// opts.objectBundle a bundle of objects compiled on them too).
bool emitNative(llvm::Module &module, const ModelABI &abi,
                const CodeGenOptions &opts, Stage stop, llvm::raw_ostream *dump,
                llvm::SmallVectorImpl<char> *object, std::string &error);
} // namespace nnc
