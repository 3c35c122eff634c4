// A translated model cut into units that LLVM compiles apart, on several
// threads, and that the object cache keeps by their content.
#pragma once

#include "nnc/CodeGen/ObjectEmitter.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <string>
#include <vector>

namespace llvm {
class Module;
}
namespace mlir {
class ModuleOp;
}

namespace nnc {

struct CodeGenOptions;
class ObjectCache;

// Names each kernel of nnc-outline-kernels by its content key
// (`nnc_k_<nn.key>`), and turns those whose object `cache` holds into
// declarations, their objects appended to `reused`: lowering and LLVM then
// see only the kernels that changed.
void reuseCachedKernels(mlir::ModuleOp module, const ObjectCache &cache, llvm::StringRef salt,
                        std::vector<KernelObject> &reused);

struct CompileUnit {
  // Names the unit's object in the cache: a hash of the salt and of the
  // kernel's name (its content key) or the entry points' IR.
  std::string key;
  llvm::SmallVector<char, 0> bitcode;
  bool kernel = false; // a kernel's unit, or the entry points' (the last)
  std::string name;    // the kernel's function
};

// One unit per kernel defined in `m` (an `nnc_k_<key>` function, with the
// local functions and constants it uses: OpenMP's outlined bodies, constant
// tables), then one for everything else (entry points, the model table).
// Each kernel becomes a hidden weak_odr function in a comdat: the entry
// points call it across objects, and an app that links two models with the
// same kernel keeps one copy. `m` is changed: its kernels become
// declarations.
std::vector<CompileUnit> splitIntoUnits(llvm::Module &m, llvm::StringRef salt);

} // namespace nnc
