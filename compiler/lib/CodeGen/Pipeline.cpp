// The pass pipeline from a checked .nn graph to an object file.
#include "nnc/CodeGen/Pipeline.h"
#include "CompileUnits.h"
#include "nnc/CodeGen/ObjectCache.h"
#include "nnc/CodeGen/ObjectEmitter.h"
#include "nnc/CodeGen/Timing.h"
#include "nnc/Conversion/Passes.h"
#include "nnc/Conversion/Pipelines.h"
#include "nnc/Dialect/NN/IR/NNOps.h"
#include "nnc/Dialect/NN/Transforms/Passes.h"
#include "nnc/MLIRGen/MLIRGen.h"
#include "nnc/Optimizers/Optimizers.h"
#include "nnrt/nnrt_abi.h"

#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Host.h"

#include <cctype>

using namespace mlir;

namespace nnc {

namespace {

ModelABI::Tensor abiTensor(StringRef name, int role, Type type, bool batched, int64_t offset) {
  auto t = type.cast<RankedTensorType>();
  ModelABI::Tensor out;
  out.name = name.str();
  out.role = role;
  out.dtype = t.getElementType().isInteger(32) ? NNRT_I32 : NNRT_F32;
  ArrayRef<int64_t> shape = batched ? t.getShape().drop_front() : t.getShape();
  out.shape.assign(shape.begin(), shape.end());
  out.offset = offset;
  out.size = 1;
  for (int64_t d : shape)
    out.size *= d;
  return out;
}

StringRef nameOf(func::FuncOp fn, unsigned i, bool result) {
  auto a = result ? fn.getResultAttrOfType<StringAttr>(i, "nn.name")
                  : fn.getArgAttrOfType<StringAttr>(i, "nn.name");
  return a ? a.getValue() : StringRef();
}

} // namespace

// The first rows of the optimizer table are the runtime's named kinds.
static_assert(optim::optimizerIndex("sgd") == NNRT_OPT_SGD &&
              optim::optimizerIndex("adam") == NNRT_OPT_ADAM &&
              optim::optimizerIndex("rmsprop") == NNRT_OPT_RMSPROP);

FailureOr<ModelABI> describeModule(ModuleOp module, const CodeGenOptions &opts) {
  ModelABI abi;
  auto model = module->getAttrOfType<StringAttr>("nn.model");
  auto fwd = module.lookupSymbol<func::FuncOp>("forward");
  auto ni = fwd ? fwd->getAttrOfType<IntegerAttr>("nn.num_inputs") : IntegerAttr();
  auto nt = fwd ? fwd->getAttrOfType<IntegerAttr>("nn.num_targets") : IntegerAttr();
  if (!model || !fwd || !ni || !nt) {
    module.emitError("not an nn module of nnc: it needs the nn.model attribute and a "
                     "@forward function with nn.num_inputs and nn.num_targets (print one "
                     "with nnc compile --emit=nn)");
    return failure();
  }
  abi.name = model.getValue().str();
  for (char c : abi.name)
    abi.prefix += char(std::tolower((unsigned char)c));
  unsigned numIn = ni.getInt(), numTgt = nt.getInt();
  // The batch is in the types: the weights argument is [B].
  abi.batch = fwd.getArgument(numIn + numTgt).getType().cast<RankedTensorType>().getDimSize(0);
  // A stack of copies is one tensor per copy in the table (its checkpoint
  // names), at consecutive offsets.
  for (auto p : module.getOps<nn::ParameterOp>()) {
    SmallVector<StringRef> names{p.getSymName()};
    Type t = p.getType();
    if (auto copies = p.getCopies()) {
      names.clear();
      for (Attribute n : *copies)
        names.push_back(n.cast<StringAttr>().getValue());
      t = nn::stepType(t, 0);
    }
    for (StringRef name : names)
      abi.numParams +=
          (abi.tensors.emplace_back(abiTensor(name, NNRT_PARAM, t, false, abi.numParams)),
           abi.tensors.back().size);
  }
  for (unsigned i = 0; i < numIn + numTgt; ++i)
    abi.tensors.push_back(abiTensor(nameOf(fwd, i, false), i < numIn ? NNRT_INPUT : NNRT_TARGET,
                                    fwd.getArgument(i).getType(), true, 0));
  for (unsigned i = 1; i < fwd.getNumResults(); ++i)
    abi.tensors.push_back(
        abiTensor(nameOf(fwd, i, true), NNRT_OUTPUT, fwd.getFunctionType().getResult(i), true, 0));
  // The model table's optimizer is the row's index (nnrt_abi.h).
  int opt = optim::optimizerIndex(opts.optimizer.name);
  if (opt < 0) {
    module.emitError("unknown optimizer '")
        << opts.optimizer.name << "'; expected " << optim::optimizerNames();
    return failure();
  }
  abi.optimizer = opt;
  abi.optStateSize = optim::kOptimizers[opt].stateSlots * abi.numParams;
  auto loss = fwd->getAttrOfType<StringAttr>("nn.loss");
  abi.loss = !loss                                ? NNRT_LOSS_NONE
             : loss.getValue() == "cross_entropy" ? NNRT_LOSS_CROSS_ENTROPY
             : loss.getValue() == "mse"           ? NNRT_LOSS_MSE
                                                  : NNRT_LOSS_NONE;
  if (auto step = module.lookupSymbol<func::FuncOp>("step_forward")) {
    // Arguments: inputs, then states; results: outputs, then the states.
    abi.hasStep = true;
    unsigned stepIn = step->getAttrOfType<IntegerAttr>("nn.num_inputs").getInt();
    unsigned states = step.getNumArguments() - stepIn;
    abi.stepBatch = step.getArgument(0).getType().cast<RankedTensorType>().getDimSize(0);
    for (unsigned i = 0; i < step.getNumArguments(); ++i)
      abi.stepTensors.push_back(abiTensor(nameOf(step, i, false),
                                          i < stepIn ? NNRT_INPUT : NNRT_STATE,
                                          step.getArgument(i).getType(), true, 0));
    if (auto c = step->getAttrOfType<IntegerAttr>("nn.context"))
      abi.stepContext = c.getInt();
    for (unsigned i = 0; i + states < step.getNumResults(); ++i)
      abi.stepTensors.push_back(abiTensor(nameOf(step, i, true), NNRT_OUTPUT,
                                          step.getFunctionType().getResult(i), true, 0));
  }
  return abi;
}

namespace {

LogicalResult runPipeline(ModuleOp module, llvm::StringRef text, llvm::StringRef name) {
  PassManager pm(module.getContext(), ModuleOp::getOperationName());
  if (failed(parsePassPipeline(text, pm, llvm::errs())))
    return failure();
  // NNC_TIMING=1: pass by pass, under the pipeline's name.
  TimingScope timing = nnc::compileTiming().nest(name);
  pm.enableTiming(timing);
  return pm.run(module);
}

// Floats in one vector register of the target: 16 with AVX-512, else 8.
int vectorWidth(const CodeGenOptions &opts) {
  if (!opts.targetCPU.empty())
    return opts.targetFeatures.find("+avx512f") != std::string::npos ? 16 : 8;
  llvm::StringMap<bool> features;
  if (llvm::sys::getHostCPUFeatures(features) && features.lookup("avx512f"))
    return 16;
  return 8;
}

// The entry points get the model's C prefix: iris_train_step etc.
void prefixEntryPoints(ModuleOp module, const std::string &prefix) {
  for (auto f : module.getOps<func::FuncOp>())
    f.setSymName(prefix + "_" + f.getSymName().str());
}

void printModule(ModuleOp m, llvm::raw_ostream &os) {
  OpPrintingFlags flags;
  // Not the pretty form: the dump must parse again with nnc-opt.
  flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
  m->print(os, flags);
  os << "\n";
}

} // namespace

namespace {

// An MLIRContext with every dialect and pass nnc uses, whose errors are
// printed with the .nn line they came from.
struct CompileContext {
  CompileContext() : ctx(makeRegistry()), handler(&ctx, print) { ctx.loadAllAvailableDialects(); }

  static DialectRegistry makeRegistry() {
    static bool registered = [] {
      registerAllPasses();
      nn::registerNNPasses();
      registerNNConversionPasses();
      return true;
    }();
    (void)registered;
    DialectRegistry registry;
    registerAllDialects(registry);
    registry.insert<nn::NNDialect>();
    registerLLVMDialectTranslation(registry);
    registerOpenMPDialectTranslation(registry);
    return registry;
  }
  static LogicalResult print(Diagnostic &d) {
    std::string loc;
    if (auto fl = d.getLocation().dyn_cast<FileLineColLoc>())
      loc = (fl.getFilename().getValue() + ":" + llvm::Twine(fl.getLine()) + ":" +
             llvm::Twine(fl.getColumn()) + ": ")
                .str();
    const char *sev = d.getSeverity() == DiagnosticSeverity::Error     ? "error"
                      : d.getSeverity() == DiagnosticSeverity::Warning ? "warning"
                                                                       : "note";
    llvm::errs() << loc << sev << ": " << d.str() << "\n";
    return success();
  }

  MLIRContext ctx;
  ScopedDiagnosticHandler handler;
};

LogicalResult compileNN(ModuleOp module, const CodeGenOptions &opts, Stage stop,
                        llvm::raw_ostream *dump, llvm::SmallVectorImpl<char> *object,
                        ModelABI *abiOut, llvm::function_ref<bool(llvm::StringRef)> reuse);

} // namespace

LogicalResult compileModel(const dsl::Graph &graph, const CodeGenOptions &opts, Stage stop,
                           llvm::raw_ostream *dump, llvm::SmallVectorImpl<char> *object,
                           ModelABI *abiOut, llvm::function_ref<bool(llvm::StringRef)> reuse) {
  CompileContext cc;
  TimingScope nnTiming = compileTiming().nest("nn module from the graph");
  OwningOpRef<ModuleOp> module =
      generateNN(cc.ctx, graph, opts.batch, opts.stepGraph, opts.stepBatch);
  nnTiming.stop();
  if (!module)
    return failure();
  return compileNN(*module, opts, stop, dump, object, abiOut, reuse);
}

LogicalResult compileModuleFile(const std::string &path, const CodeGenOptions &opts, Stage stop,
                                llvm::raw_ostream *dump, llvm::SmallVectorImpl<char> *object,
                                ModelABI *abiOut) {
  CompileContext cc;
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(path, &cc.ctx);
  if (!module)
    return failure(); // the parser reported where
  return compileNN(*module, opts, stop, dump, object, abiOut, nullptr);
}

namespace {

LogicalResult compileNN(ModuleOp module, const CodeGenOptions &opts, Stage stop,
                        llvm::raw_ostream *dump, llvm::SmallVectorImpl<char> *object,
                        ModelABI *abiOut, llvm::function_ref<bool(llvm::StringRef)> reuse) {
  if (failed(verify(module)))
    return failure();
  FailureOr<ModelABI> described = describeModule(module, opts);
  if (failed(described))
    return failure();
  if (abiOut)
    *abiOut = *described;
  if (stop == Stage::NN) {
    if (dump)
      printModule(module, *dump);
    return success();
  }
  if (reuse) {
    std::string text;
    llvm::raw_string_ostream os(text);
    printModule(module, os);
    if (reuse(os.str()))
      return success();
  }
  const OptimizerConfig &o = opts.optimizer;
  const optim::Optimizer *row = optim::findOptimizer(o.name);
  if (failed(runPipeline(module, trainPipeline(o.name, optim::compiledValues(*row, o.args)),
                         "nn: autodiff, optimizer, entry points")))
    return failure();
  if (stop == Stage::NNTrain) {
    printModule(module, *dump);
    return success();
  }
  if (failed(runPipeline(module, linalgPipeline(), "nn to linalg")))
    return failure();
  ModelABI abi = *described;
  countFlops(module, abi);
  if (abiOut)
    *abiOut = abi;
  if (stop == Stage::Linalg) {
    if (dump)
      printModule(module, *dump);
    return success();
  }
  prefixEntryPoints(module, abi.prefix);
  if (failed(runPipeline(module, bufferizePipeline(vectorWidth(opts)),
                         "schedule, bufferize, plan memory, kernels")))
    return failure();
  if (auto ws = module->getAttrOfType<IntegerAttr>("nn.workspace_bytes"))
    abi.workspaceBytes = ws.getInt();
  if (abiOut)
    *abiOut = abi;
  if (stop == Stage::Buffers) {
    if (dump)
      printModule(module, *dump);
    return success();
  }
  // Kernels whose objects the cache holds are not lowered or compiled again.
  std::string salt = cacheSalt(opts);
  std::vector<KernelObject> reused;
  if (stop == Stage::Object) {
    TimingScope timing = compileTiming().nest("kernels from the cache");
    reuseCachedKernels(module, ObjectCache(salt.empty() ? "" : opts.objectCacheDir), salt, reused);
  }
  if (failed(runPipeline(module, llvmPipeline(), "to the LLVM dialect")))
    return failure();
  if (stop == Stage::LLVMDialect) {
    printModule(module, *dump);
    return success();
  }
  llvm::LLVMContext llctx;
  TimingScope translateTiming = compileTiming().nest("LLVM dialect to LLVM IR");
  std::unique_ptr<llvm::Module> llmod = translateModuleToLLVMIR(module, llctx, abi.prefix);
  translateTiming.stop();
  if (!llmod) {
    llvm::errs() << "nnc: internal error: translation to LLVM IR failed\n";
    return failure();
  }
  std::string err;
  if (!emitNative(*llmod, abi, opts, salt, std::move(reused), stop, dump, object, err)) {
    llvm::errs() << "nnc: " << err << "\n";
    return failure();
  }
  if (abiOut)
    *abiOut = abi;
  return success();
}

} // namespace

} // namespace nnc
