// Loads a compiled model's object file into this process (nnc train and
// predict run the same object that `nnc compile` writes).
#include "nnc/CodeGen/Pipeline.h"

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

using namespace llvm;

// Generated code allocates through nnrt's caching allocator (alloc.c), which
// is linked into this process but not exported from it.
extern "C" void *_mlir_memref_to_llvm_alloc(size_t);
extern "C" void _mlir_memref_to_llvm_free(void *);

namespace nnc {
namespace {

class JITModel : public LoadedModel {
public:
  std::unique_ptr<orc::LLJIT> jit;
  const nnrt_model *table = nullptr;
  const nnrt_model *model() const override { return table; }
};

} // namespace

std::unique_ptr<LoadedModel> loadObject(ArrayRef<char> object, const std::string &prefix,
                                        std::string &error) {
  InitializeNativeTarget();
  InitializeNativeTargetAsmPrinter();
  auto jit = orc::LLJITBuilder().create();
  if (!jit) {
    error = toString(jit.takeError());
    return nullptr;
  }
  // Parallel products call the OpenMP runtime (__kmpc_fork_call, ...).
  static std::string ompError;
  static bool ompLoaded = !sys::DynamicLibrary::LoadLibraryPermanently(NNC_OMP_LIBRARY, &ompError);
  if (!ompLoaded) {
    error = "cannot load the OpenMP runtime " NNC_OMP_LIBRARY ": " + ompError;
    return nullptr;
  }
  // libm (expf, powf, ...), the C library and libomp come from this process.
  auto gen = orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!gen) {
    error = toString(gen.takeError());
    return nullptr;
  }
  (*jit)->getMainJITDylib().addGenerator(std::move(*gen));
  orc::SymbolMap allocator;
  allocator[(*jit)->mangleAndIntern("_mlir_memref_to_llvm_alloc")] = JITEvaluatedSymbol(
      pointerToJITTargetAddress(&_mlir_memref_to_llvm_alloc), JITSymbolFlags::Exported);
  allocator[(*jit)->mangleAndIntern("_mlir_memref_to_llvm_free")] = JITEvaluatedSymbol(
      pointerToJITTargetAddress(&_mlir_memref_to_llvm_free), JITSymbolFlags::Exported);
  if (Error e = (*jit)->getMainJITDylib().define(orc::absoluteSymbols(std::move(allocator)))) {
    error = toString(std::move(e));
    return nullptr;
  }
  std::vector<ArrayRef<char>> objects;
  if (!splitObjectBundle(object, objects)) {
    error = "damaged object bundle";
    return nullptr;
  }
  for (size_t i = 0; i < objects.size(); ++i) {
    auto buf = MemoryBuffer::getMemBufferCopy(
        StringRef(objects[i].data(), objects[i].size()),
        prefix + (objects.size() > 1 ? "." + std::to_string(i) : std::string()) + ".o");
    if (Error e = (*jit)->addObjectFile(std::move(buf))) {
      error = toString(std::move(e));
      return nullptr;
    }
  }
  auto sym = (*jit)->lookup(prefix + "_model");
  if (!sym) {
    error = toString(sym.takeError());
    return nullptr;
  }
  auto m = std::make_unique<JITModel>();
  m->table = sym->toPtr<const nnrt_model *>();
  m->jit = std::move(*jit);
  return m;
}

} // namespace nnc
