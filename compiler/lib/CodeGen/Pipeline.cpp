// The pass pipeline from a checked .nn graph to an object file.
#include "nnc/CodeGen/Pipeline.h"
#include "nnc/CodeGen/ObjectEmitter.h"
#include "nnc/CodeGen/Timing.h"
#include "CompileUnits.h"
#include "nnc/CodeGen/ObjectCache.h"
#include "nnc/Conversion/Passes.h"
#include "nnc/Conversion/Pipelines.h"
#include "nnc/Dialect/NN/IR/NNOps.h"
#include "nnc/Dialect/NN/Transforms/Passes.h"
#include "nnc/MLIRGen/MLIRGen.h"
#include "nnrt/nnrt_abi.h"

#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllPasses.h"
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

ModelABI describeModel(const dsl::Graph &g, const CodeGenOptions &opts) {
  ModelABI abi;
  abi.name = g.modelName;
  for (char c : g.modelName)
    abi.prefix += char(std::tolower((unsigned char)c));
  abi.batch = opts.batch;
  auto add = [&](const std::string &name, int role, dsl::DType dt,
                 const std::vector<int64_t> &shape, int64_t offset) {
    ModelABI::Tensor t;
    t.name = name;
    t.role = role;
    t.dtype = dt == dsl::DType::I32 ? NNRT_I32 : NNRT_F32;
    t.shape = shape;
    t.offset = offset;
    t.size = 1;
    for (int64_t d : shape)
      t.size *= d;
    abi.tensors.push_back(t);
    return t.size;
  };
  for (const dsl::Param &p : g.params)
    abi.numParams += add(p.name, NNRT_PARAM, dsl::DType::F32, p.shape, abi.numParams);
  for (const dsl::IO &io : g.inputs)
    add(io.name, NNRT_INPUT, io.dtype, io.shape, 0);
  for (const dsl::IO &io : g.targets)
    add(io.name, NNRT_TARGET, io.dtype, io.shape, 0);
  for (const dsl::IO &io : g.outputs)
    add(io.name, NNRT_OUTPUT, dsl::DType::F32, g.nodes[io.node].shape, 0);
  const std::string &opt = opts.optimizer.name;
  abi.optimizer = opt == "sgd" ? NNRT_OPT_SGD
                  : opt == "rmsprop" ? NNRT_OPT_RMSPROP
                                     : NNRT_OPT_ADAM;
  abi.optStateSize = opt == "sgd" ? abi.numParams : 2 * abi.numParams;
  if (const dsl::Graph *sg = opts.stepGraph) {
    abi.hasStep = true;
    abi.stepBatch = opts.stepBatch;
    auto addStep = [&](const std::string &name, int role, dsl::DType dt,
                       const std::vector<int64_t> &shape) {
      ModelABI::Tensor t;
      t.name = name;
      t.role = role;
      t.dtype = dt == dsl::DType::I32 ? NNRT_I32 : NNRT_F32;
      t.shape = shape;
      t.size = 1;
      for (int64_t d : shape)
        t.size *= d;
      abi.stepTensors.push_back(t);
    };
    for (const dsl::IO &io : sg->inputs)
      addStep(io.name, NNRT_INPUT, io.dtype, io.shape);
    for (const dsl::Scan &sc : sg->scans)
      for (const dsl::Scan::State &st : sc.states)
        addStep(st.name, NNRT_STATE, dsl::DType::F32, st.shape);
    for (const dsl::Graph::StepState &st : sg->stepStates)
      addStep(st.name, NNRT_STATE, dsl::DType::F32, st.shape);
    abi.stepContext = sg->context;
    for (const dsl::IO &io : sg->outputs)
      addStep(io.name, NNRT_OUTPUT, dsl::DType::F32, sg->nodes[io.node].shape);
  }
  abi.loss = NNRT_LOSS_NONE;
  if (g.lossNode >= 0) {
    dsl::OpKind k = g.nodes[g.lossNode].op;
    abi.loss = k == dsl::OpKind::CrossEntropy ? NNRT_LOSS_CROSS_ENTROPY
               : k == dsl::OpKind::MSE        ? NNRT_LOSS_MSE
                                              : NNRT_LOSS_NONE;
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

LogicalResult compileModel(const dsl::Graph &graph, const CodeGenOptions &opts,
                           Stage stop, llvm::raw_ostream *dump,
                           llvm::SmallVectorImpl<char> *object, ModelABI *abiOut) {
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
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  // Errors of the compiler itself point at the .nn line they came from.
  ScopedDiagnosticHandler handler(&ctx, [](Diagnostic &d) {
    std::string loc;
    if (auto fl = d.getLocation().dyn_cast<FileLineColLoc>())
      loc = (fl.getFilename().getValue() + ":" + llvm::Twine(fl.getLine()) + ":" +
             llvm::Twine(fl.getColumn()) + ": ")
                .str();
    const char *sev = d.getSeverity() == DiagnosticSeverity::Error ? "error"
                      : d.getSeverity() == DiagnosticSeverity::Warning
                          ? "warning"
                          : "note";
    llvm::errs() << loc << sev << ": " << d.str() << "\n";
    return success();
  });

  TimingScope nnTiming = compileTiming().nest("nn module from the graph");
  OwningOpRef<ModuleOp> module =
      generateNN(ctx, graph, opts.batch, opts.stepGraph, opts.stepBatch);
  nnTiming.stop();
  if (!module || failed(verify(*module)))
    return failure();
  if (stop == Stage::NN) {
    printModule(*module, *dump);
    return success();
  }
  const OptimizerConfig &o = opts.optimizer;
  if (failed(runPipeline(*module,
                         trainPipeline(o.name, o.beta1, o.beta2, o.epsilon, o.momentum, o.rho),
                         "nn: autodiff, optimizer, entry points")))
    return failure();
  if (stop == Stage::NNTrain) {
    printModule(*module, *dump);
    return success();
  }
  if (failed(runPipeline(*module, linalgPipeline(), "nn to linalg")))
    return failure();
  ModelABI abi = describeModel(graph, opts);
  countFlops(*module, abi);
  if (abiOut)
    *abiOut = abi;
  if (stop == Stage::Linalg) {
    if (dump)
      printModule(*module, *dump);
    return success();
  }
  prefixEntryPoints(*module, abi.prefix);
  if (failed(runPipeline(*module, bufferizePipeline(vectorWidth(opts)),
                         "schedule, bufferize, plan memory, kernels")))
    return failure();
  if (auto ws = (*module)->getAttrOfType<IntegerAttr>("nn.workspace_bytes"))
    abi.workspaceBytes = ws.getInt();
  if (abiOut)
    *abiOut = abi;
  if (stop == Stage::Buffers) {
    if (dump)
      printModule(*module, *dump);
    return success();
  }
  // Kernels whose objects the cache holds are not lowered or compiled again.
  std::string salt = cacheSalt(opts);
  std::vector<llvm::SmallVector<char, 0>> reused;
  if (stop == Stage::Object) {
    TimingScope timing = compileTiming().nest("kernels from the cache");
    reuseCachedKernels(*module, ObjectCache(salt.empty() ? "" : opts.objectCacheDir), salt,
                       reused);
  }
  if (failed(runPipeline(*module, llvmPipeline(), "to the LLVM dialect")))
    return failure();
  if (stop == Stage::LLVMDialect) {
    printModule(*module, *dump);
    return success();
  }
  llvm::LLVMContext llctx;
  TimingScope translateTiming = compileTiming().nest("LLVM dialect to LLVM IR");
  std::unique_ptr<llvm::Module> llmod = translateModuleToLLVMIR(*module, llctx, abi.prefix);
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

} // namespace nnc
