// The named pipelines of a compile (Pipelines.h), defined once for
// compileModel and for nnc-opt.
#include "nnc/Conversion/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace nnc {
namespace {

const char *kTrain =
    "nn-fuse-scan-matmuls,nn-generate-backward,nn-generate-entry-points{optimizer=%s%s},"
    "canonicalize,cse";

const char *kLinalg = "convert-nn-to-linalg,canonicalize,nnc-fuse-elementwise,"
                      "canonicalize,cse,nnc-hoist-loop-invariants";

const char *kBufferize =
    "func.func(nnc-schedule-matmuls{vector-width=%d}),canonicalize,cse,"
    "func.func(nnc-unshare-inits),eliminate-empty-tensors,empty-tensor-to-alloc-tensor,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "drop-equivalent-buffer-results,nnc-pack-arguments,func.func(buffer-hoisting),"
    "func.func(nnc-promote-small-buffers{max-bytes=131072 max-total-bytes=2097152}),"
    "func.func(buffer-deallocation),nnc-parallelize-loops,nnc-plan-memory,"
    "canonicalize,cse,nnc-outline-kernels,canonicalize,cse";

// Allocations go through nnrt's _mlir_memref_to_llvm_alloc/free (generic
// functions), which keep a step's large temporaries for the next step
// instead of page-faulting them in again (runtime/src/alloc.c).
// Passes that work function by function are nested in func.func (or
// llvm.func) so that MLIR runs them on all cores, kernel by kernel.
const char *kLLVM =
    "nnc-lower-vectors,func.func(convert-linalg-to-loops),convert-scf-to-openmp,func.func("
    "canonicalize),"
    "convert-math-to-llvm,"
    "convert-math-to-libm,func.func(convert-vector-to-scf{full-unroll=true}),"
    "func.func(lower-affine,convert-scf-to-cf,canonicalize,cse),"
    "convert-vector-to-llvm{reassociate-fp-reductions=true},"
    "func.func(convert-math-to-llvm,expand-strided-metadata,lower-affine),"
    "convert-memref-to-llvm{use-generic-functions=1},func.func(convert-arith-to-llvm),"
    "convert-index-to-llvm,"
    "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},convert-cf-to-llvm,"
    "convert-openmp-to-llvm,reconcile-unrealized-casts,llvm.func(canonicalize,cse)";

template <typename... Args> std::string format(const char *fmt, Args... args) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format(fmt, args...);
  return os.str();
}

// As nn-generate-entry-points's options, which check them against the table.
struct TrainOptions : public PassPipelineOptions<TrainOptions> {
  Option<std::string> optimizer{*this, "optimizer",
                                llvm::cl::desc("a row of nnc/Optimizers/Optimizers.def"),
                                llvm::cl::init("adam")};
  ListOption<std::string> hyper{
      *this, "hyper", llvm::cl::desc("compiled-in hyperparameters as name=value, comma-separated")};
};

struct BufferizeOptions : public PassPipelineOptions<BufferizeOptions> {
  Option<int> vectorWidth{*this, "vector-width",
                          llvm::cl::desc("floats per vector register: 16 (AVX-512) or 8"),
                          llvm::cl::init(8)};
};

void parseInto(OpPassManager &pm, const std::string &text) {
  if (failed(parsePassPipeline(text, pm, llvm::errs())))
    llvm::report_fatal_error("nnc: a built-in pipeline does not parse");
}

} // namespace

std::string trainPipeline(const std::string &optimizer, const std::vector<std::string> &hyper) {
  std::string list;
  for (const std::string &item : hyper)
    list += (list.empty() ? " hyper=" : ",") + item;
  return format(kTrain, optimizer.c_str(), list.c_str());
}

std::string trainPipeline(const std::string &optimizer,
                          const std::vector<std::pair<std::string, double>> &hyper) {
  // %.9g: a float's value survives the round trip through text.
  std::vector<std::string> items;
  for (const auto &[name, value] : hyper)
    items.push_back(name + "=" + format("%.9g", value));
  return trainPipeline(optimizer, items);
}
std::string linalgPipeline() { return kLinalg; }
std::string bufferizePipeline(int vectorWidth) { return format(kBufferize, vectorWidth); }
std::string llvmPipeline() { return kLLVM; }

void registerNNCPipelines() {
  PassPipelineRegistration<TrainOptions>(
      "nnc-train", "autodiff, the optimizer's update and the entry points (nn to nn)",
      [](OpPassManager &pm, const TrainOptions &o) {
        parseInto(pm, trainPipeline(o.optimizer,
                                    std::vector<std::string>(o.hyper.begin(), o.hyper.end())));
      });
  PassPipelineRegistration<>("nnc-to-linalg", "nn to linalg on tensors, elementwise fused",
                             [](OpPassManager &pm) { parseInto(pm, linalgPipeline()); });
  PassPipelineRegistration<BufferizeOptions>(
      "nnc-to-buffers", "products scheduled, bufferized, memory planned, kernels outlined",
      [](OpPassManager &pm, const BufferizeOptions &o) {
        parseInto(pm, bufferizePipeline(o.vectorWidth));
      });
  PassPipelineRegistration<>("nnc-to-llvm", "vector ops lowered, then the LLVM dialect",
                             [](OpPassManager &pm) { parseInto(pm, llvmPipeline()); });
}

} // namespace nnc
