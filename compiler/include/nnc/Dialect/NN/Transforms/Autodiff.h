#pragma once

#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"

namespace nnc::nn {

// The values among the results of `ops` (in program order) that depend on
// one of `roots`, or on a parameter read (nn.param), plus the roots.
llvm::DenseSet<mlir::Value> activeValues(llvm::ArrayRef<mlir::Operation *> ops,
                                         llvm::ArrayRef<mlir::Value> roots);

// The reverse sweep of reverse-mode differentiation over `ops` (one block,
// program order), emitting the backward ops at the builder's insertion
// point. `grads` holds the seeds on entry (gradients of some results) and,
// on return, the gradient of every active value that received one. Reads of
// parameters accumulate into `paramGrads` (may be null when there are none).
// Fails (with an error on the op) when an active op has no
// vector-Jacobian product.
mlir::LogicalResult backpropagate(mlir::OpBuilder &b, llvm::ArrayRef<mlir::Operation *> ops,
                                  const llvm::DenseSet<mlir::Value> &active,
                                  llvm::DenseMap<mlir::Value, mlir::Value> &grads,
                                  llvm::StringMap<mlir::Value> *paramGrads);

} // namespace nnc::nn
