// FLOPs of each entry point, counted on the linalg form of the model: two per
// multiply-add of every contraction (dense layers, attention's batched
// products, the recurrent products), times the trip counts of the loops it
// sits in (a scan's time steps). Elementwise work and reductions without a
// product are not counted, as in the usual "model FLOPs" convention, so that
// FLOPs per second against the machine's sgemm rate says how close the
// products are to the machine's limit.
#include "nnc/CodeGen/Pipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

namespace nnc {

namespace {

// Times the op runs per call: the product of its enclosing loops' constant
// trip counts.
int64_t repeats(Operation *op) {
  int64_t n = 1;
  for (auto loop = op->getParentOfType<scf::ForOp>(); loop;
       loop = loop->getParentOfType<scf::ForOp>()) {
    auto lb = getConstantIntValue(loop.getLowerBound());
    auto ub = getConstantIntValue(loop.getUpperBound());
    auto st = getConstantIntValue(loop.getStep());
    if (lb && ub && st && *st > 0 && *ub > *lb)
      n *= (*ub - *lb + *st - 1) / *st;
  }
  return n;
}

int64_t functionFlops(func::FuncOp fn) {
  int64_t total = 0;
  fn.walk([&](linalg::LinalgOp op) {
    if (!linalg::isaContractionOpInterface(op))
      return;
    int64_t n = 2;
    for (int64_t r : op.getStaticLoopRanges())
      n *= ShapedType::isDynamic(r) ? 1 : r;
    total += n * repeats(op);
  });
  return total;
}

} // namespace

void countFlops(ModuleOp module, ModelABI &abi) {
  for (auto fn : module.getOps<func::FuncOp>()) {
    llvm::StringRef name = fn.getSymName();
    if (name.endswith("predict"))
      abi.predictFlops = functionFlops(fn);
    else if (name.endswith("train_step"))
      abi.trainFlops = functionFlops(fn);
  }
}

} // namespace nnc
