#pragma once

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace nnc {
// On a linalg.generic: its inputs may be read through the permutations that
// produce them (nnc-fuse-elementwise folds a transposing copy into the
// generic's indexing map instead of materializing it). Set by
// convert-nn-to-linalg on products that no register tile will schedule.
constexpr llvm::StringLiteral kReadThroughPermutations = "nnc.read_through_permutations";
// On an scf.for: its iterations may run on the threads (nnc-schedule-matmuls
// and convert-nn-to-linalg mark loops, nnc-parallelize-loops makes them
// scf.parallel).
constexpr llvm::StringLiteral kParallelAttr = "nnc.parallel";
// With kParallelAttr: only when there are several threads (a loop of a few
// microseconds, which a one-thread OpenMP region would slow down).
constexpr llvm::StringLiteral kParallelIfThreadsAttr = "nnc.parallel_if_threads";
// On an scf.for: the loop over the copies of a repeated layer (a stacked
// nn.scan). nnc-outline-kernels keeps it in the entry point and makes each
// loop nest of its body a kernel, so that the body is not one function that
// grows with the layer.
constexpr llvm::StringLiteral kRepeatLoopAttr = "nnc.repeat_loop";

std::unique_ptr<mlir::Pass> createConvertNNToLinalgPass();
std::unique_ptr<mlir::Pass> createScheduleMatmulsPass();
std::unique_ptr<mlir::Pass> createFuseElementwisePass();
std::unique_ptr<mlir::Pass> createPromoteSmallBuffersPass();
std::unique_ptr<mlir::Pass> createHoistLoopInvariantsPass();
std::unique_ptr<mlir::Pass> createParallelizeLoopsPass();
std::unique_ptr<mlir::Pass> createPlanMemoryPass();
std::unique_ptr<mlir::Pass> createOutlineKernelsPass();
std::unique_ptr<mlir::Pass> createUnshareInitsPass();
std::unique_ptr<mlir::Pass> createPackArgumentsPass();
std::unique_ptr<mlir::Pass> createLowerVectorsPass();

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc
