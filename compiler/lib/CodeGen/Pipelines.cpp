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
    "nn-fuse-scan-matmuls,nn-generate-backward,nn-generate-entry-points{optimizer=%s beta1=%g "
    "beta2=%g epsilon=%g momentum=%g rho=%g},canonicalize,cse";

const char *kLinalg =
    "convert-nn-to-linalg,canonicalize,nnc-fuse-elementwise,"
    "canonicalize,cse,nnc-hoist-loop-invariants";

const char *kBufferize =
    "func.func(nnc-schedule-matmuls{vector-width=%d}),canonicalize,cse,"
    "func.func(nnc-unshare-inits),eliminate-empty-tensors,empty-tensor-to-alloc-tensor,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "drop-equivalent-buffer-results,nnc-pack-arguments,func.func(buffer-hoisting),"
    "func.func(nnc-promote-small-buffers{max-bytes=131072 max-total-bytes=2097152}),"
    "func.func(buffer-deallocation),func.func(nnc-parallelize-loops),nnc-plan-memory,"
    "canonicalize,cse,nnc-outline-kernels,canonicalize,cse";

// Allocations go through nnrt's _mlir_memref_to_llvm_alloc/free (generic
// functions), which keep a step's large temporaries for the next step
// instead of page-faulting them in again (runtime/src/alloc.c).
// Passes that work function by function are nested in func.func (or
// llvm.func) so that MLIR runs them on all cores, kernel by kernel.
const char *kLLVM =
    "nnc-lower-vectors,func.func(convert-linalg-to-loops),convert-scf-to-openmp,func.func(canonicalize),"
    "convert-math-to-llvm,"
    "convert-math-to-libm,func.func(convert-vector-to-scf{full-unroll=true}),"
    "func.func(lower-affine,convert-scf-to-cf,canonicalize,cse),"
    "convert-vector-to-llvm{reassociate-fp-reductions=true},"
    "func.func(convert-math-to-llvm,expand-strided-metadata,lower-affine),"
    "convert-memref-to-llvm{use-generic-functions=1},func.func(convert-arith-to-llvm),"
    "convert-index-to-llvm,"
    "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},convert-cf-to-llvm,"
    "convert-openmp-to-llvm,reconcile-unrealized-casts,llvm.func(canonicalize,cse)";

template <typename... Args>
std::string format(const char *fmt, Args... args) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::format(fmt, args...);
  return os.str();
}

struct TrainOptions : public PassPipelineOptions<TrainOptions> {
  Option<std::string> optimizer{*this, "optimizer", llvm::cl::desc("sgd, adam or rmsprop"),
                                llvm::cl::init("adam")};
  Option<double> beta1{*this, "beta1", llvm::cl::init(0.9)};
  Option<double> beta2{*this, "beta2", llvm::cl::init(0.999)};
  Option<double> epsilon{*this, "epsilon", llvm::cl::init(1e-7)};
  Option<double> momentum{*this, "momentum", llvm::cl::init(0.0)};
  Option<double> rho{*this, "rho", llvm::cl::init(0.9)};
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

std::string trainPipeline(const std::string &optimizer, double beta1, double beta2,
                          double epsilon, double momentum, double rho) {
  return format(kTrain, optimizer.c_str(), beta1, beta2, epsilon, momentum, rho);
}
std::string linalgPipeline() { return kLinalg; }
std::string bufferizePipeline(int vectorWidth) { return format(kBufferize, vectorWidth); }
std::string llvmPipeline() { return kLLVM; }

void registerNNCPipelines() {
  PassPipelineRegistration<TrainOptions>(
      "nnc-train", "autodiff, the optimizer's update and the entry points (nn to nn)",
      [](OpPassManager &pm, const TrainOptions &o) {
        parseInto(pm, trainPipeline(o.optimizer, o.beta1, o.beta2, o.epsilon, o.momentum, o.rho));
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
