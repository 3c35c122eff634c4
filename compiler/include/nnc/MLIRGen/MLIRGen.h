#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "nnc/dsl/Graph.h"

namespace nnc {
// Emits the nn dialect for a checked model: one nn.parameter per parameter
// (in declaration order) and @forward(inputs..., targets..., weights[batch])
// -> (loss, outputs...), with the batch dimension made explicit and every op
// located at its .nn source. Returns null (after emitting an error) if the
// graph uses something the compiler cannot generate.
//
// With `stepGraph` (the same model built with one time step), also emits
// @step_forward(inputs..., states...) -> (outputs..., new states...) at
// `stepBatch` rows, from which the generation entry point is made.
mlir::OwningOpRef<mlir::ModuleOp> generateNN(mlir::MLIRContext &ctx, const dsl::Graph &graph,
                                             int64_t batch, const dsl::Graph *stepGraph = nullptr,
                                             int64_t stepBatch = 1);
} // namespace nnc
