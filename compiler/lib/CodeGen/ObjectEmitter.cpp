// The generated code's ABI glue and native code emission.
#include "nnc/CodeGen/ObjectEmitter.h"
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
#include "llvm/Linker/Linker.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Host.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/Transforms/Utils/SplitModule.h"

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

// `float name_io(fixed..., void *const *io, void *workspace)`: unpacks the io
// array into the typed entry point, so the runtime can call any model through
// one type. The entry point's last parameter is the workspace (nnc-plan-memory).
bool addIOWrapper(Module &m, const std::string &implName, unsigned numFixed,
                  std::string &error) {
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
  Function *w = Function::Create(wt, GlobalValue::ExternalLinkage,
                                 implName + "_io", m);
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
  auto *infoT = StructType::create(ctx, {ptr, i32, i32, i32, i32, shapeT, i64, i64},
                                   "nnrt_tensor_info");
  IRBuilder<> b(ctx);
  auto str = [&](const std::string &s) -> Constant * {
    auto *init = ConstantDataArray::getString(ctx, s);
    auto *g = new GlobalVariable(m, init->getType(), true,
                                 GlobalValue::PrivateLinkage, init, ".str");
    g->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    return g;
  };
  auto table = [&](const std::vector<ModelABI::Tensor> &ts,
                   const std::string &name) -> Constant * {
    std::vector<Constant *> infos;
    for (const ModelABI::Tensor &t : ts) {
      std::vector<Constant *> dims;
      for (int i = 0; i < NNRT_MAX_RANK; ++i)
        dims.push_back(ConstantInt::get(i64, i < (int)t.shape.size() ? t.shape[i] : 0));
      infos.push_back(ConstantStruct::get(
          infoT, {str(t.name), ConstantInt::get(i32, t.role),
                  ConstantInt::get(i32, t.dtype), ConstantInt::get(i32, t.shape.size()),
                  ConstantInt::get(i32, 0), ConstantArray::get(shapeT, dims),
                  ConstantInt::get(i64, t.offset), ConstantInt::get(i64, t.size)}));
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
  auto *modelT = StructType::create(
      ctx, {i32, i32, i32, i32, ptr, i64, i64, i64, i64, i64, i64, ptr, ptr, ptr, ptr, ptr,
            i64, i32, i32, ptr, ptr},
      "nnrt_model");
  const std::string &p = abi.prefix;
  auto *model = ConstantStruct::get(
      modelT,
      {ConstantInt::get(i32, NNRT_ABI_VERSION), ConstantInt::get(i32, abi.optimizer),
       ConstantInt::get(i32, abi.loss), ConstantInt::get(i32, abi.tensors.size()),
       str(abi.name), ConstantInt::get(i64, abi.batch),
       ConstantInt::get(i64, abi.numParams), ConstantInt::get(i64, abi.optStateSize),
       ConstantInt::get(i64, abi.workspaceBytes), ConstantInt::get(i64, abi.predictFlops),
       ConstantInt::get(i64, abi.trainFlops), tensors, m.getFunction(p + "_init"), m.getFunction(p + "_predict_io"),
       m.getFunction(p + "_train_step_io"), m.getFunction(p + "_eval_step_io"),
       ConstantInt::get(i64, abi.stepBatch),
       ConstantInt::get(i32, abi.stepTensors.size()), ConstantInt::get(i32, abi.stepContext),
       stepTensors, step ? (Constant *)step : ConstantPointerNull::get(ptr)});
  new GlobalVariable(m, modelT, true, GlobalValue::ExternalLinkage, model,
                     p + "_model");
}

std::unique_ptr<TargetMachine> makeTargetMachine(const CodeGenOptions &opts,
                                                 std::string &error) {
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
        features += (features.empty() ? "" : ",") +
                    std::string(f.second ? "+" : "-") + f.first().str();
  } else if (!std::unique_ptr<MCSubtargetInfo>(
                  target->createMCSubtargetInfo(triple, cpu, ""))
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

bool optimize(Module &m, TargetMachine &tm, std::string &error, int part = -1) {
  // Timers are told apart by an address: one per part.
  static const char partIds[65] = {};
  mlir::TimingScope timing = compileTiming().nest(&partIds[part < 0 ? 64 : part % 64], [part] {
    return part < 0 ? std::string("LLVM -O3") : "LLVM -O3, part " + std::to_string(part);
  });
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
             std::string &error) {
  mlir::TimingScope timing = compileTiming().nest("LLVM code generation");
  raw_svector_ostream os(out);
  legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, kind)) {
    error = "the target cannot emit this file type";
    return false;
  }
  pm.run(m);
  return true;
}

std::unique_ptr<Module> parseBitcode(ArrayRef<char> bitcode, LLVMContext &ctx,
                                     std::string &error) {
  auto m = parseBitcodeFile(MemoryBufferRef(StringRef(bitcode.data(), bitcode.size()), "part"),
                            ctx);
  if (!m) {
    error = "internal error: " + toString(m.takeError());
    return nullptr;
  }
  return std::move(*m);
}

// The module cut into `opts.codegenThreads` parts (SplitModule balances them
// by size: the train step's parts on one side, predict/eval/step on the
// other for a GPT), each optimized on its own thread in its own LLVMContext.
// Internal functions become hidden globals so that parts can call each
// other. With opts.objectBundle each part is compiled on its thread too and
// the objects are packed into one bundle (splitObjectBundle): for the JIT,
// which loads it into a process of its own. Otherwise the optimized parts are
// linked back into one module, the internal functions made internal again,
// and compiled as one object (`nnc compile`: an object that an app links
// beside others), so only -O3 runs on the threads.
bool emitParts(Module &m, TargetMachine &tm, const CodeGenOptions &opts,
               SmallVectorImpl<char> &out, std::string &error) {
  // For the link-back: local globals by name, private or internal (unnamed
  // ones, such as OpenMP's source location structs, get a name to be found by).
  StringMap<GlobalValue::LinkageTypes> locals;
  if (!opts.objectBundle)
    for (GlobalValue &g : m.global_values())
      if (g.hasLocalLinkage()) {
        if (!g.hasName())
          g.setName("nnc.local");
        locals[g.getName()] = g.getLinkage();
      }
  std::vector<SmallVector<char, 0>> bitcode;
  SplitModule(
      m, opts.codegenThreads,
      [&](std::unique_ptr<Module> part) {
        bitcode.emplace_back();
        raw_svector_ostream os(bitcode.back());
        WriteBitcodeToFile(*part, os);
      },
      /*PreserveLocals=*/false);
  size_t n = bitcode.size();
  std::vector<SmallVector<char, 0>> results(n);
  std::vector<std::string> errors(n);
  std::vector<double> seconds(n);
  auto work = [&](size_t i) {
    auto start = std::chrono::steady_clock::now();
    LLVMContext ctx;
    std::unique_ptr<Module> part = parseBitcode(bitcode[i], ctx, errors[i]);
    std::unique_ptr<TargetMachine> tm =
        part ? makeTargetMachine(opts, errors[i]) : nullptr;
    if (tm && optimize(*part, *tm, errors[i], int(i))) {
      if (opts.objectBundle) {
        codegen(*part, *tm, CGFT_ObjectFile, results[i], errors[i]);
      } else {
        raw_svector_ostream os(results[i]);
        WriteBitcodeToFile(*part, os);
      }
    }
    seconds[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < n; ++i)
    threads.emplace_back(work, i);
  work(0);
  for (std::thread &t : threads)
    t.join();
  // NNC_TIMING=1 (as for the MLIR passes): how the parts balance.
  if (std::getenv("NNC_TIMING"))
    for (size_t i = 0; i < n; ++i)
      errs() << "nnc: LLVM part " << i << ": " << bitcode[i].size() << " bytes of bitcode, "
             << format("%.2f", seconds[i]) << " s to optimize"
             << (opts.objectBundle ? " and compile" : "") << "\n";
  for (const std::string &e : errors)
    if (!e.empty()) {
      error = e;
      return false;
    }
  if (!opts.objectBundle) {
    std::unique_ptr<Module> whole;
    for (auto &bc : results) {
      std::unique_ptr<Module> part = parseBitcode(bc, m.getContext(), error);
      if (!part)
        return false;
      if (!whole)
        whole = std::move(part);
      else if (Linker::linkModules(*whole, std::move(part))) {
        error = "internal error: the optimized parts do not link";
        return false;
      }
    }
    for (GlobalValue &g : whole->global_values())
      if (auto it = locals.find(g.getName()); it != locals.end() && !g.isDeclaration()) {
        g.setVisibility(GlobalValue::DefaultVisibility);
        g.setLinkage(it->second);
      }
    return codegen(*whole, tm, CGFT_ObjectFile, out, error);
  }
  auto put64 = [&](uint64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);
    out.append(b, b + 8);
  };
  out.assign(kBundleMagic, kBundleMagic + sizeof kBundleMagic);
  put64(n);
  for (auto &o : results) {
    put64(o.size());
    out.append(o.begin(), o.end());
  }
  return true;
}

} // namespace

bool emitNative(Module &m, const ModelABI &abi, const CodeGenOptions &opts,
                Stage stop, raw_ostream *dump, SmallVectorImpl<char> *object,
                std::string &error) {
  const std::string &p = abi.prefix;
  if (!addIOWrapper(m, p + "_predict", 1, error) ||
      !addIOWrapper(m, p + "_train_step", 3, error) ||
      !addIOWrapper(m, p + "_eval_step", 1, error) ||
      (abi.hasStep && !addIOWrapper(m, p + "_step", 1, error)))
    return false;
  if (!m.getFunction(p + "_init")) {
    error = "internal error: no generated init";
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
  if (stop == Stage::Object && opts.codegenThreads > 1)
    return emitParts(m, *tm, opts, *object, error);
  if (!optimize(m, *tm, error))
    return false;
  if (stop == Stage::LLVMIR) {
    m.print(*dump, nullptr);
    return true;
  }
  SmallVector<char, 0> buf;
  if (!codegen(m, *tm, stop == Stage::Asm ? CGFT_AssemblyFile : CGFT_ObjectFile, buf,
               error))
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
  if (!read64(count) || count == 0 || count > 1024)
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

bool writeStaticLibrary(const std::string &path, const std::string &memberName,
                        ArrayRef<char> object, std::string &error) {
  std::vector<NewArchiveMember> members;
  members.emplace_back(
      MemoryBufferRef(StringRef(object.data(), object.size()), memberName));
  if (Error e = writeArchive(path, members, /*WriteSymtab=*/true,
                             object::Archive::K_GNU, /*Deterministic=*/true,
                             /*Thin=*/false)) {
    error = toString(std::move(e));
    return false;
  }
  return true;
}

} // namespace nnc
