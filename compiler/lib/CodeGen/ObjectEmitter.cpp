// The generated code's ABI glue and native code emission.
#include "nnc/CodeGen/ObjectEmitter.h"
#include "CompileUnits.h"
#include "nnc/CodeGen/ObjectCache.h"
#include "nnc/CodeGen/Timing.h"
#include "nnrt/nnrt_abi.h"

#include "mlir/ExecutionEngine/OptUtils.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Host.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

using namespace llvm;

namespace nnc {
namespace {

// Several objects in one blob: the magic, a count and each object's size
// before its bytes (little-endian 64-bit, as this host writes them).
const char kBundleMagic[8] = {'N', 'N', 'C', 'O', 'B', 'J', 'S', '1'};
// A model's units: its distinct kernels and the entry points (a GPT has
// about 150 kernels).
constexpr uint64_t kMaxBundled = 1 << 16;
// The cache keeps the units used last: a few dozen models' kernels.
constexpr size_t kCachedUnits = 8192;

// `float name_io(fixed..., void *const *io, void *workspace)`: unpacks the io
// array into the typed entry point, so the runtime can call any model through
// one type. The entry point's last parameter is the workspace (nnc-plan-memory).
bool addIOWrapper(Module &m, const std::string &implName, unsigned numFixed, std::string &error) {
  Function *impl = m.getFunction(implName);
  if (!impl) {
    error = "internal error: no generated function '" + implName + "'";
    return false;
  }
  LLVMContext &ctx = m.getContext();
  FunctionType *ft = impl->getFunctionType();
  for (Type *t : ft->params())
    if (!t->isPointerTy() && !t->isIntegerTy(64)) {
      error = "internal error: unexpected parameter type in '" + implName + "'";
      return false;
    }
  SmallVector<Type *> params;
  for (unsigned i = 0; i < numFixed; ++i)
    params.push_back(ft->getParamType(i));
  PointerType *ptr = PointerType::getUnqual(ctx);
  params.push_back(ptr);
  params.push_back(ptr);
  auto *wt = FunctionType::get(ft->getReturnType(), params, false);
  Function *w = Function::Create(wt, GlobalValue::ExternalLinkage, implName + "_io", m);
  IRBuilder<> b(BasicBlock::Create(ctx, "entry", w));
  SmallVector<Value *> args;
  for (unsigned i = 0; i < numFixed; ++i)
    args.push_back(w->getArg(i));
  Value *io = w->getArg(numFixed);
  for (unsigned i = numFixed; i + 1 < ft->getNumParams(); ++i) {
    Value *slot = b.CreateConstGEP1_64(ptr, io, i - numFixed);
    args.push_back(b.CreateLoad(ptr, slot));
  }
  args.push_back(w->getArg(numFixed + 1));
  CallInst *call = b.CreateCall(impl, args);
  if (ft->getReturnType()->isVoidTy())
    b.CreateRetVoid();
  else
    b.CreateRet(call);
  return true;
}

// The `nnrt_model` table and its tensor metadata, laid out as nnrt_abi.h.
void addModelTable(Module &m, const ModelABI &abi) {
  LLVMContext &ctx = m.getContext();
  Type *i32 = Type::getInt32Ty(ctx), *i64 = Type::getInt64Ty(ctx);
  PointerType *ptr = PointerType::getUnqual(ctx);
  auto *shapeT = ArrayType::get(i64, NNRT_MAX_RANK);
  auto *infoT =
      StructType::create(ctx, {ptr, i32, i32, i32, i32, shapeT, i64, i64}, "nnrt_tensor_info");
  IRBuilder<> b(ctx);
  auto str = [&](const std::string &s) -> Constant * {
    auto *init = ConstantDataArray::getString(ctx, s);
    auto *g =
        new GlobalVariable(m, init->getType(), true, GlobalValue::PrivateLinkage, init, ".str");
    g->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    return g;
  };
  auto table = [&](const std::vector<ModelABI::Tensor> &ts, const std::string &name) -> Constant * {
    std::vector<Constant *> infos;
    for (const ModelABI::Tensor &t : ts) {
      std::vector<Constant *> dims;
      for (int i = 0; i < NNRT_MAX_RANK; ++i)
        dims.push_back(ConstantInt::get(i64, i < (int)t.shape.size() ? t.shape[i] : 0));
      infos.push_back(ConstantStruct::get(
          infoT, {str(t.name), ConstantInt::get(i32, t.role), ConstantInt::get(i32, t.dtype),
                  ConstantInt::get(i32, t.shape.size()), ConstantInt::get(i32, 0),
                  ConstantArray::get(shapeT, dims), ConstantInt::get(i64, t.offset),
                  ConstantInt::get(i64, t.size)}));
    }
    if (infos.empty())
      return ConstantPointerNull::get(ptr);
    auto *arrT = ArrayType::get(infoT, infos.size());
    return new GlobalVariable(m, arrT, true, GlobalValue::PrivateLinkage,
                              ConstantArray::get(arrT, infos), name);
  };
  Constant *tensors = table(abi.tensors, abi.prefix + "_tensors");
  Constant *stepTensors = table(abi.stepTensors, abi.prefix + "_step_tensors");
  Function *step = abi.hasStep ? m.getFunction(abi.prefix + "_step_io") : nullptr;
  auto *modelT =
      StructType::create(ctx, {i32, i32, i32, i32, ptr, i64, i64, i64, i64, i64, i64, ptr,
                               ptr, ptr, ptr, ptr, i64, i32, i32, ptr, ptr, ptr, ptr},
                         "nnrt_model");
  const std::string &p = abi.prefix;
  auto *model =
      ConstantStruct::get(modelT, {ConstantInt::get(i32, NNRT_ABI_VERSION),
                                   ConstantInt::get(i32, abi.optimizer),
                                   ConstantInt::get(i32, abi.loss),
                                   ConstantInt::get(i32, abi.tensors.size()),
                                   str(abi.name),
                                   ConstantInt::get(i64, abi.batch),
                                   ConstantInt::get(i64, abi.numParams),
                                   ConstantInt::get(i64, abi.optStateSize),
                                   ConstantInt::get(i64, abi.workspaceBytes),
                                   ConstantInt::get(i64, abi.predictFlops),
                                   ConstantInt::get(i64, abi.trainFlops),
                                   tensors,
                                   m.getFunction(p + "_init"),
                                   m.getFunction(p + "_predict_io"),
                                   m.getFunction(p + "_train_step_io"),
                                   m.getFunction(p + "_eval_step_io"),
                                   ConstantInt::get(i64, abi.stepBatch),
                                   ConstantInt::get(i32, abi.stepTensors.size()),
                                   ConstantInt::get(i32, abi.stepContext),
                                   stepTensors,
                                   step ? (Constant *)step : ConstantPointerNull::get(ptr),
                                   m.getFunction(p + "_grad_step_io"),
                                   m.getFunction(p + "_apply_step")});
  new GlobalVariable(m, modelT, true, GlobalValue::ExternalLinkage, model, p + "_model");
}

std::unique_ptr<TargetMachine> makeTargetMachine(const CodeGenOptions &opts, std::string &error) {
  static bool init = [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
    InitializeNativeTargetAsmParser();
    return true;
  }();
  (void)init;
  std::string triple = sys::getProcessTriple();
  const Target *target = TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::string cpu = opts.targetCPU, features = opts.targetFeatures;
  if (cpu.empty()) {
    cpu = sys::getHostCPUName().str();
    StringMap<bool> host;
    if (sys::getHostCPUFeatures(host))
      for (auto &f : host)
        features +=
            (features.empty() ? "" : ",") + std::string(f.second ? "+" : "-") + f.first().str();
  } else if (!std::unique_ptr<MCSubtargetInfo>(target->createMCSubtargetInfo(triple, cpu, ""))
                  ->isCPUStringValid(cpu)) {
    error = "unknown target CPU '" + cpu + "' (try e.g. x86-64-v3, znver4, skylake-avx512)";
    return nullptr;
  }
  TargetOptions to;
  std::unique_ptr<TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, to, Reloc::PIC_, std::nullopt, CodeGenOpt::Aggressive));
  if (!tm)
    error = "cannot create a target machine for " + triple;
  return tm;
}

bool optimize(Module &m, TargetMachine &tm, std::string &error,
              mlir::TimingScope &parent = compileTiming()) {
  mlir::TimingScope timing = parent.nest("LLVM -O3");
  // LLVM's full unrolling at -O3 unrolls loops of a cost up to 300; the
  // kernels' small loops that pay for it (memnet's softmax over 6 sentences:
  // 13% of its step) cost far less, and the loops between 200 and 300 cost
  // half of the word LSTM's compile time (5.2 s against 2.7 s) for no speed
  // we could measure. The threshold is LLVM's own option; once per process.
  static bool thresholdSet = [] {
    auto &options = cl::getRegisteredOptions();
    auto it = options.find("unroll-threshold-aggressive");
    if (it != options.end() && it->second->getNumOccurrences() == 0)
      static_cast<cl::opt<unsigned> *>(it->second)->setValue(200);
    return true;
  }();
  (void)thresholdSet;
  auto transform = mlir::makeOptimizingTransformer(3, 0, &tm);
  if (Error e = transform(&m)) {
    error = "LLVM optimization failed: " + toString(std::move(e));
    return false;
  }
  return true;
}

bool codegen(Module &m, TargetMachine &tm, CodeGenFileType kind, SmallVectorImpl<char> &out,
             std::string &error, mlir::TimingScope &parent = compileTiming()) {
  mlir::TimingScope timing = parent.nest("LLVM code generation");
  raw_svector_ostream os(out);
  legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, kind)) {
    error = "the target cannot emit this file type";
    return false;
  }
  pm.run(m);
  return true;
}

std::unique_ptr<Module> parseBitcode(ArrayRef<char> bitcode, LLVMContext &ctx, std::string &error) {
  auto m =
      parseBitcodeFile(MemoryBufferRef(StringRef(bitcode.data(), bitcode.size()), "part"), ctx);
  if (!m) {
    error = "internal error: " + toString(m.takeError());
    return nullptr;
  }
  return std::move(*m);
}

// The module cut into units (splitIntoUnits); those the cache does not hold
// are optimized and compiled on `opts.codegenThreads` threads, each in its
// own LLVMContext, and stored. The objects are packed into one bundle (the
// entry points' last), or returned alone when there is one.
bool emitUnits(Module &m, const CodeGenOptions &opts, const std::string &salt,
               std::vector<KernelObject> reused, SmallVectorImpl<char> &out, std::string &error) {
  std::vector<CompileUnit> units;
  {
    mlir::TimingScope timing = compileTiming().nest("LLVM: kernels into units");
    units = splitIntoUnits(m, salt);
  }
  ObjectCache cache(salt.empty() ? "" : opts.objectCacheDir);
  size_t n = units.size();
  std::vector<SmallVector<char, 0>> objects(n);
  std::vector<size_t> todo;
  for (size_t i = 0; i < n; ++i)
    if (!cache.load(units[i].key, objects[i]))
      todo.push_back(i);
  // The largest first (the entry points): the threads finish together.
  llvm::stable_sort(
      todo, [&](size_t a, size_t b) { return units[a].bitcode.size() > units[b].bitcode.size(); });
  std::vector<std::string> errors(n);
  std::atomic<size_t> next{0};
  unsigned threads = std::max(1u, std::min<unsigned>(opts.codegenThreads, todo.size()));
  // Timers are told apart by an address: one per thread.
  static const char threadIds[64] = {};
  auto work = [&](unsigned t) {
    mlir::TimingScope timing = compileTiming().nest(
        &threadIds[t % 64], [t] { return "LLVM, thread " + std::to_string(t); });
    std::string tmError;
    std::unique_ptr<TargetMachine> tm = makeTargetMachine(opts, tmError);
    for (size_t j; (j = next++) < todo.size();) {
      size_t i = todo[j];
      if (!tm) {
        errors[i] = tmError;
        continue;
      }
      // A context per unit: named types an earlier unit left in a shared
      // one would rename this unit's (the same model must give the same
      // library on any number of threads).
      LLVMContext ctx;
      std::unique_ptr<Module> unit = parseBitcode(units[i].bitcode, ctx, errors[i]);
      if (unit && optimize(*unit, *tm, errors[i], timing) &&
          codegen(*unit, *tm, CGFT_ObjectFile, objects[i], errors[i], timing))
        cache.store(units[i].key, objects[i]);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t)
    pool.emplace_back(work, t);
  work(0);
  for (std::thread &t : pool)
    t.join();
  for (const std::string &e : errors)
    if (!e.empty()) {
      error = e;
      return false;
    }
  if (!todo.empty())
    cache.prune(kCachedUnits);
  // NNC_TIMING=1 (as for the MLIR passes): how much the cache saved.
  if (std::getenv("NNC_TIMING"))
    errs() << "nnc: " << reused.size() + n << " units (" << reused.size() + n - 1
           << " kernels and the entry points): " << reused.size() + n - todo.size()
           << " from the cache, " << todo.size() << " compiled on " << threads << " threads\n";
  // Kernels by name, then the entry points: the same bundle whether a
  // kernel came from the cache or was compiled now.
  std::vector<KernelObject> kernels = std::move(reused);
  for (size_t i = 0; i + 1 < n; ++i)
    kernels.push_back(KernelObject{units[i].name, std::move(objects[i])});
  llvm::sort(kernels, [](const KernelObject &a, const KernelObject &b) { return a.name < b.name; });
  SmallVector<char, 0> entry = std::move(objects[n - 1]);
  objects.clear();
  for (KernelObject &k : kernels)
    objects.push_back(std::move(k.bytes));
  objects.push_back(std::move(entry));
  n = objects.size();
  if (n == 1) {
    out.assign(objects[0].begin(), objects[0].end());
    return true;
  }
  auto put64 = [&](uint64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);
    out.append(b, b + 8);
  };
  out.assign(kBundleMagic, kBundleMagic + sizeof kBundleMagic);
  put64(n);
  for (auto &o : objects) {
    put64(o.size());
    out.append(o.begin(), o.end());
  }
  return true;
}

} // namespace

bool emitNative(Module &m, const ModelABI &abi, const CodeGenOptions &opts, const std::string &salt,
                std::vector<KernelObject> reused, Stage stop, raw_ostream *dump,
                SmallVectorImpl<char> *object, std::string &error) {
  const std::string &p = abi.prefix;
  if (!addIOWrapper(m, p + "_predict", 1, error) || !addIOWrapper(m, p + "_train_step", 3, error) ||
      !addIOWrapper(m, p + "_eval_step", 1, error) ||
      !addIOWrapper(m, p + "_grad_step", 3, error) ||
      (abi.hasStep && !addIOWrapper(m, p + "_step", 1, error)))
    return false;
  if (!m.getFunction(p + "_init") || !m.getFunction(p + "_apply_step")) {
    error = "internal error: no generated init or apply_step";
    return false;
  }
  addModelTable(m, abi);
  std::unique_ptr<TargetMachine> tm = makeTargetMachine(opts, error);
  if (!tm)
    return false;
  m.setDataLayout(tm->createDataLayout());
  m.setTargetTriple(tm->getTargetTriple().str());
  // Every function gets the target's CPU and features so the vectorizer and
  // the backend use AVX-512 where the CPU has it.
  for (Function &f : m)
    if (!f.isDeclaration()) {
      f.addFnAttr("target-cpu", tm->getTargetCPU());
      f.addFnAttr("target-features", tm->getTargetFeatureString());
    }
  if (verifyModule(m, &errs())) {
    error = "internal error: generated LLVM IR does not verify";
    return false;
  }
  if (stop == Stage::Object)
    return emitUnits(m, opts, salt, std::move(reused), *object, error);
  if (!optimize(m, *tm, error))
    return false;
  if (stop == Stage::LLVMIR) {
    m.print(*dump, nullptr);
    return true;
  }
  SmallVector<char, 0> buf;
  if (!codegen(m, *tm, stop == Stage::Asm ? CGFT_AssemblyFile : CGFT_ObjectFile, buf, error))
    return false;
  if (stop == Stage::Asm)
    *dump << StringRef(buf.data(), buf.size());
  else
    object->assign(buf.begin(), buf.end());
  return true;
}

bool splitObjectBundle(ArrayRef<char> blob, std::vector<ArrayRef<char>> &objects) {
  objects.clear();
  if (blob.size() < sizeof kBundleMagic ||
      std::memcmp(blob.data(), kBundleMagic, sizeof kBundleMagic) != 0) {
    objects.push_back(blob);
    return true;
  }
  size_t at = sizeof kBundleMagic;
  auto read64 = [&](uint64_t &v) {
    if (blob.size() - at < 8)
      return false;
    std::memcpy(&v, blob.data() + at, 8);
    at += 8;
    return true;
  };
  uint64_t count = 0;
  if (!read64(count) || count == 0 || count > kMaxBundled)
    return false;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t size = 0;
    if (!read64(size) || size > blob.size() - at)
      return false;
    objects.push_back(blob.slice(at, size));
    at += size;
  }
  return at == blob.size();
}

bool writeStaticLibrary(const std::string &path, const std::string &prefix, ArrayRef<char> bundle,
                        std::string &error) {
  std::vector<ArrayRef<char>> objects;
  if (!splitObjectBundle(bundle, objects)) {
    error = "internal error: a damaged bundle of objects";
    return false;
  }
  std::vector<std::string> names;
  for (size_t i = 0; i + 1 < objects.size(); ++i)
    names.push_back(prefix + ".k" + std::to_string(i) + ".o");
  names.push_back(prefix + ".o");
  std::vector<NewArchiveMember> members;
  for (size_t i = 0; i < objects.size(); ++i)
    members.emplace_back(
        MemoryBufferRef(StringRef(objects[i].data(), objects[i].size()), names[i]));
  if (Error e = writeArchive(path, members, /*WriteSymtab=*/true, object::Archive::K_GNU,
                             /*Deterministic=*/true,
                             /*Thin=*/false)) {
    error = toString(std::move(e));
    return false;
  }
  return true;
}

} // namespace nnc
