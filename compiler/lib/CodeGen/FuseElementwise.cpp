// Elementwise fusion that leaves matrix products alone.
#include "nnc/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace nnc {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {
struct FuseElementwisePass
    : public nnc::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(
        patterns, [](OpOperand *operand) {
          auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
          if (consumer && linalg::isaContractionOpInterface(consumer))
            return false;
          // An optimizer update writes its parameter in place (its outs are
          // the entry point's arguments). A gradient fused into it would be
          // computed there, after the updates before it, from parameters
          // they have already overwritten (d(c * d)/dd = c): bufferization
          // would then copy instead of updating in place.
          if (consumer && llvm::any_of(consumer.getDpsInitOperands(), [](OpOperand *o) {
                return o->get().isa<BlockArgument>() &&
                       isa<func::FuncOp>(o->get().getParentBlock()->getParentOp());
              }))
            return false;
          // A producer read by several ops would be recomputed in each: the
          // GPT's residual stream was recomputed from the embedding in every
          // layer norm's statistics (and again in the backward pass), 30%
          // of a training step. Written once and read back is cheaper.
          return operand->get().hasOneUse();
        });
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

std::unique_ptr<Pass> nnc::createFuseElementwisePass() {
  return std::make_unique<FuseElementwisePass>();
}
