// The named pipelines of a compile, in the order compileModel runs them (it
// also generates the module, prefixes the entry points, takes kernels from
// the compile cache and translates to LLVM IR between them). nnc-opt runs
// them by name on a module that `nnc compile --emit=nn` printed:
//   nnc-opt M.mlir --nnc-train='optimizer=sgd' --nnc-to-linalg \
//     --nnc-to-buffers='vector-width=16' --nnc-to-llvm
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace nnc {

// Autodiff, the optimizer's update and the entry points (nn to nn). The
// optimizer is a row of nnc/Optimizers/Optimizers.def; `hyper` its
// compiled-in hyperparameters as "name=value" items (missing ones take the
// table's defaults; nn-generate-entry-points checks them).
std::string trainPipeline(const std::string &optimizer, const std::vector<std::string> &hyper);
std::string trainPipeline(const std::string &optimizer,
                          const std::vector<std::pair<std::string, double>> &hyper);
// nn to linalg on tensors, elementwise chains fused.
std::string linalgPipeline();
// Products scheduled for `vectorWidth` floats per register, bufferized,
// memory planned and outlined into kernels.
std::string bufferizePipeline(int vectorWidth);
// Vector ops lowered, then everything to the LLVM dialect.
std::string llvmPipeline();

// Registers --nnc-train, --nnc-to-linalg, --nnc-to-buffers and --nnc-to-llvm.
void registerNNCPipelines();

} // namespace nnc
