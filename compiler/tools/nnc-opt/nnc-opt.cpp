// nnc-opt: runs nn passes (and any upstream pass) on a .mlir file, for the
// lit tests and for looking at one stage of the pipeline; the compile's own
// pipelines by name (--nnc-train, --nnc-to-linalg, --nnc-to-buffers,
// --nnc-to-llvm: nnc/Conversion/Pipelines.h).
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

#include "nnc/Conversion/Passes.h"
#include "nnc/Conversion/Pipelines.h"
#include "nnc/Dialect/NN/IR/NNDialect.h"
#include "nnc/Dialect/NN/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  nnc::nn::registerNNPasses();
  nnc::registerNNConversionPasses();
  nnc::registerNNCPipelines();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  registry.insert<nnc::nn::NNDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "nnc optimizer driver\n", registry));
}
