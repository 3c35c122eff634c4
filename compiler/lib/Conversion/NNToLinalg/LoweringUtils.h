// What the nn lowerings share: the builders of linalg.generic and of the
// tensors they read and write (defined, with their comments, in
// LoweringUtils.cpp), and the functions that add each family's patterns.
#pragma once

#include "nnc/Conversion/Passes.h"
#include "nnc/Dialect/NN/IR/NNOps.h"

#include "mlir/IR/PatternMatch.h"

namespace nnc::nn_to_linalg {

using BodyFn = mlir::function_ref<void(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

mlir::RankedTensorType tensorType(mlir::Value v);
mlir::Value fill(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType t, float v);
mlir::Value empty(mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType t);
mlir::Value cst(mlir::OpBuilder &b, mlir::Location loc, double v);
mlir::SmallVector<mlir::utils::IteratorType> parallel(size_t n);
mlir::ValueRange generic(mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange ins,
                         mlir::ValueRange outs, mlir::ArrayRef<mlir::AffineMap> maps,
                         mlir::ArrayRef<mlir::utils::IteratorType> iters, BodyFn body);
mlir::Value elementwise(
    mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType resultType, mlir::ValueRange ins,
    mlir::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)> fn);
mlir::Value reduceLast(
    mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange ins, float init,
    mlir::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)> fn,
    mlir::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::Value, mlir::Value)>
        combine);
mlir::Value reduceAxis(
    mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange ins, int64_t axis, float init,
    mlir::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)> fn,
    mlir::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::Value, mlir::Value)>
        combine);
mlir::AffineMap dropAxisMap(mlir::MLIRContext *ctx, int64_t r, int64_t axis);
mlir::Value addf(mlir::OpBuilder &b, mlir::Location l, mlir::Value x, mlir::Value y);
mlir::Value maxf(mlir::OpBuilder &b, mlir::Location l, mlir::Value x, mlir::Value y);
mlir::Value reshape(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                    mlir::RankedTensorType to);

// One function per family of ops, each in its own file.
void populateElementwisePatterns(mlir::RewritePatternSet &patterns);
void populateMatmulPatterns(mlir::RewritePatternSet &patterns);
void populateReductionPatterns(mlir::RewritePatternSet &patterns);
void populateRandomPatterns(mlir::RewritePatternSet &patterns);
void populateOptimizerPatterns(mlir::RewritePatternSet &patterns);
void populateSequencePatterns(mlir::RewritePatternSet &patterns);
void populateScanPatterns(mlir::RewritePatternSet &patterns);
void populateTransformerPatterns(mlir::RewritePatternSet &patterns);

} // namespace nnc::nn_to_linalg
