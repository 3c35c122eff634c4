// Loads a compiled model's object file into this process (nnc train and
// predict run the same object that `nnc compile` writes).
#include "nnc/CodeGen/Pipeline.h"

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

using namespace llvm;

namespace nnc {
namespace {

class JITModel : public LoadedModel {
public:
  std::unique_ptr<orc::LLJIT> jit;
  const nnrt_model *table = nullptr;
  const nnrt_model *model() const override { return table; }
};

} // namespace

std::unique_ptr<LoadedModel> loadObject(ArrayRef<char> object,
                                        const std::string &prefix,
                                        std::string &error) {
  InitializeNativeTarget();
  InitializeNativeTargetAsmPrinter();
  auto jit = orc::LLJITBuilder().create();
  if (!jit) {
    error = toString(jit.takeError());
    return nullptr;
  }
  // libm (expf, powf, ...) and the C library come from this process.
  auto gen = orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!gen) {
    error = toString(gen.takeError());
    return nullptr;
  }
  (*jit)->getMainJITDylib().addGenerator(std::move(*gen));
  auto buf = MemoryBuffer::getMemBufferCopy(StringRef(object.data(), object.size()),
                                            prefix + ".o");
  if (Error e = (*jit)->addObjectFile(std::move(buf))) {
    error = toString(std::move(e));
    return nullptr;
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
