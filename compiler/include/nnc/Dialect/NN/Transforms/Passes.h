#pragma once

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace nnc::nn {
std::unique_ptr<mlir::Pass> createFuseScanMatmulsPass();
std::unique_ptr<mlir::Pass> createGenerateBackwardPass();
std::unique_ptr<mlir::Pass> createGenerateEntryPointsPass();

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "nnc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nnc::nn
