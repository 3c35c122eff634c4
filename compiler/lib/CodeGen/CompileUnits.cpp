// Cutting a translated model into separately compiled, content-keyed units.
#include "CompileUnits.h"
#include "nnc/CodeGen/ObjectCache.h"
#include "nnc/CodeGen/Pipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Host.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <algorithm>
#include <array>
#include <functional>

using namespace llvm;

namespace nnc {
namespace {

// The local definitions `root` reaches through its instructions and the
// initializers of what it reaches, in depth-first order, root first. Sets
// `foreign` when it reaches a definition that other objects see (a unit
// could not take that along).
SetVector<GlobalValue *> closureOf(Function *root, bool &foreign) {
  SetVector<GlobalValue *> closure;
  SmallPtrSet<Constant *, 32> seenConstants;
  SmallVector<GlobalValue *> work{root};
  closure.insert(root);
  std::function<void(Value *)> visit = [&](Value *v) {
    if (auto *g = dyn_cast<GlobalValue>(v)) {
      if (g->isDeclaration())
        return;
      if (!g->hasLocalLinkage()) {
        foreign = true;
        return;
      }
      if (closure.insert(g))
        work.push_back(g);
      return;
    }
    if (auto *c = dyn_cast<Constant>(v))
      if (seenConstants.insert(c).second)
        for (Value *op : c->operands())
          visit(op);
  };
  while (!work.empty()) {
    GlobalValue *g = work.pop_back_val();
    if (auto *f = dyn_cast<Function>(g)) {
      for (Instruction &inst : instructions(*f))
        for (Value *op : inst.operands())
          visit(op);
    } else if (auto *var = dyn_cast<GlobalVariable>(g)) {
      if (var->hasInitializer())
        visit(var->getInitializer());
    }
  }
  return closure;
}

// Drops what no one uses: declarations, and local definitions (repeatedly:
// a dead function frees the constants only it used), `keep` aside.
void dropUnused(Module &m, const GlobalValue *keep = nullptr) {
  for (bool changed = true; changed;) {
    changed = false;
    SmallVector<GlobalValue *> dead;
    for (GlobalValue &g : m.global_values()) {
      g.removeDeadConstantUsers(); // the initializers of erased globals
      if ((g.isDeclaration() || g.hasLocalLinkage()) && g.use_empty() && &g != keep)
        dead.push_back(&g);
    }
    for (GlobalValue *g : dead)
      g->eraseFromParent();
    changed = !dead.empty();
  }
}

void writeBitcode(const Module &m, SmallVector<char, 0> &out) {
  raw_svector_ostream os(out);
  WriteBitcodeToFile(m, os);
}

// The kernel `closure[0]` and what it uses, alone in a module.
std::unique_ptr<Module> kernelModule(const Module &m, const SetVector<GlobalValue *> &closure) {
  ValueToValueMapTy map;
  auto unit = CloneModule(m, map, [&](const GlobalValue *g) {
    return closure.count(const_cast<GlobalValue *>(g)) != 0;
  });
  unit->setModuleIdentifier("nnc.kernel");
  unit->setSourceFileName("nnc.kernel");
  dropUnused(*unit, cast<GlobalValue>(map[closure[0]]));
  return unit;
}

constexpr StringLiteral kKernelPrefix = "nnc_k_";

} // namespace

static std::string unitKey(StringRef salt, StringRef content) {
  SHA256 h;
  h.update(salt);
  h.update("\n");
  h.update(content);
  std::array<uint8_t, 32> digest = h.final();
  return toHex(ArrayRef<uint8_t>(digest).take_front(16), /*LowerCase=*/true);
}

void reuseCachedKernels(mlir::ModuleOp module, const ObjectCache &cache, StringRef salt,
                        std::vector<KernelObject> &reused) {
  // Renamed in one walk: kernels are called by func.call only.
  llvm::StringMap<mlir::StringAttr> renamed;
  std::vector<mlir::func::FuncOp> kernels;
  for (auto fn : module.getOps<mlir::func::FuncOp>())
    if (auto key = fn->getAttrOfType<mlir::StringAttr>("nn.key"); key && !fn.isExternal()) {
      auto name = mlir::StringAttr::get(module.getContext(), kKernelPrefix + key.getValue());
      renamed[fn.getSymName()] = name;
      kernels.push_back(fn);
    }
  module.walk([&](mlir::func::CallOp call) {
    if (auto it = renamed.find(call.getCallee()); it != renamed.end())
      call.setCalleeAttr(mlir::FlatSymbolRefAttr::get(it->second));
  });
  for (mlir::func::FuncOp fn : kernels) {
    std::string name = renamed[fn.getSymName()].str();
    fn.setSymName(name);
    SmallVector<char, 0> object;
    if (salt.empty() || !cache.load(unitKey(salt, name), object))
      continue;
    fn.eraseBody();
    fn->removeAttr("llvm.linkage");
    fn->removeAttr("passthrough");
    reused.push_back(KernelObject{name, std::move(object)});
  }
}

std::vector<CompileUnit> splitIntoUnits(Module &m, StringRef salt) {
  std::vector<std::pair<Function *, SetVector<GlobalValue *>>> kernels;
  for (Function &f : m) {
    // (Not OpenMP's bodies outlined from a kernel: `nnc_k_<key>..omp_par`.)
    if (!f.getName().startswith(kKernelPrefix) || f.getName().contains('.'))
      continue;
    f.setVisibility(GlobalValue::HiddenVisibility); // declarations too
    if (f.isDeclaration())
      continue;
    bool foreign = false;
    SetVector<GlobalValue *> closure = closureOf(&f, foreign);
    if (!foreign) // stays with the entry points: correct, only not cached apart
      kernels.emplace_back(&f, std::move(closure));
  }
  std::vector<CompileUnit> units;
  for (auto &[f, closure] : kernels) {
    std::unique_ptr<Module> unit = kernelModule(m, closure);
    StringRef name = f->getName();
    Function *k = unit->getFunction(name);
    k->setLinkage(GlobalValue::WeakODRLinkage);
    k->setVisibility(GlobalValue::HiddenVisibility);
    k->setComdat(unit->getOrInsertComdat(name));
    CompileUnit u;
    u.key = unitKey(salt, name);
    u.kernel = true;
    u.name = name.str();
    writeBitcode(*unit, u.bitcode);
    units.push_back(std::move(u));
    // In the entry points' unit, a declaration.
    f->deleteBody();
  }
  // Declarations print alike whether the kernel came from the cache (it was
  // declared before lowering) or not: the entry points' key stays the same.
  for (Function &f : m)
    if (f.isDeclaration() && f.getName().startswith(kKernelPrefix)) {
      f.setAttributes(AttributeList());
      f.setCallingConv(CallingConv::C);
      f.setUnnamedAddr(GlobalValue::UnnamedAddr::None);
    }
  dropUnused(m);
  std::string text;
  raw_string_ostream os(text);
  m.print(os, nullptr);
  CompileUnit rest;
  rest.key = unitKey(salt, os.str());
  writeBitcode(m, rest.bitcode);
  units.push_back(std::move(rest));
  return units;
}

} // namespace nnc
