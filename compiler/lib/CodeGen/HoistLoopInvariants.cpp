// Moves tensor computations that are the same in every iteration (the
// transposed weights of backpropagation through time) out of scf.for.
#include "nnc/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

namespace nnc {
#define GEN_PASS_DEF_HOISTLOOPINVARIANTS
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

// Value semantics, no side effects: safe to compute once instead of once
// per iteration (and even when the loop runs zero times).
bool isPureTensorOp(Operation *op) {
  if (auto l = dyn_cast<linalg::LinalgOp>(op))
    return l.hasTensorSemantics();
  if (isa<tensor::EmptyOp, tensor::ExtractSliceOp, tensor::InsertSliceOp, tensor::CollapseShapeOp,
          tensor::ExpandShapeOp, arith::ConstantOp>(op))
    return true;
  return false;
}

struct HoistLoopInvariantsPass
    : public nnc::impl::HoistLoopInvariantsBase<HoistLoopInvariantsPass> {
  void runOnOperation() override {
    // Innermost loops first, so that what leaves an inner loop can leave
    // the outer one too.
    getOperation().walk([](scf::ForOp loop) {
      moveLoopInvariantCode(
          &loop.getRegion(), [&](Value v, Region *) { return loop.isDefinedOutsideOfLoop(v); },
          [](Operation *op, Region *) { return isPureTensorOp(op); },
          [&](Operation *op, Region *) { loop.moveOutOfLoop(op); });
    });
  }
};

} // namespace

std::unique_ptr<Pass> nnc::createHoistLoopInvariantsPass() {
  return std::make_unique<HoistLoopInvariantsPass>();
}
