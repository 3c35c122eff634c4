#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "nnc/Dialect/NN/IR/NNDialect.h"

#include "nnc/Dialect/NN/IR/NNInterfaces.h.inc"

#define GET_OP_CLASSES
#include "nnc/Dialect/NN/IR/NNOps.h.inc"

namespace nnc::nn {
// The numpy broadcast of two shapes (trailing dimensions aligned), or
// nullopt when they are incompatible.
std::optional<llvm::SmallVector<int64_t>> broadcastShapes(llvm::ArrayRef<int64_t> a,
                                                          llvm::ArrayRef<int64_t> b);
// One step of a sequence scanned along `axis`: [B, T, ...] -> [B, ...]
// (axis 1, time), or [N, ...] -> [...] (axis 0, a stacked scan's copies).
mlir::RankedTensorType stepType(mlir::Type seq, int64_t axis = 1);
// The inverse: a step value with `t` steps inserted at `axis`.
mlir::RankedTensorType sequenceType(mlir::Type step, int64_t t, int64_t axis = 1);
} // namespace nnc::nn
