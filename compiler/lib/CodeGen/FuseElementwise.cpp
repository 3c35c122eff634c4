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

// A copy whose only work is a permutation: out[i] = in[perm(i)].
// Returns the input's map (loops -> input indices), or null.
AffineMap permutationCopy(linalg::GenericOp g) {
  if (!g || g.getNumDpsInputs() != 1 || g.getNumDpsInits() != 1 ||
      g.getNumParallelLoops() != g.getNumLoops() || !g.hasTensorSemantics())
    return {};
  AffineMap in = g.getIndexingMapsArray()[0], out = g.getIndexingMapsArray()[1];
  auto yield = cast<linalg::YieldOp>(g.getBody()->getTerminator());
  if (!out.isIdentity() || !in.isPermutation() || yield.getNumOperands() != 1 ||
      yield.getOperand(0) != g.getBody()->getArgument(0))
    return {};
  return in;
}

// A generic marked kReadThroughPermutations reads each permuted input from
// the permutation's source, through the composed map: reading in[P(M(l))]
// where it read out[M(l)] with out = in permuted by P.
struct ReadThroughPermutations : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp op, PatternRewriter &r) const override {
    if (!op->hasAttr(nnc::kReadThroughPermutations))
      return failure();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    bool changed = false;
    for (OpOperand *in : op.getDpsInputOperands()) {
      auto producer = in->get().getDefiningOp<linalg::GenericOp>();
      AffineMap perm = permutationCopy(producer);
      if (!perm)
        continue;
      unsigned i = in->getOperandNumber();
      r.updateRootInPlace(op, [&] { in->set(producer.getDpsInputOperand(0)->get()); });
      maps[i] = perm.compose(maps[i]);
      changed = true;
    }
    if (!changed)
      return failure();
    r.updateRootInPlace(op, [&] { op.setIndexingMapsAttr(r.getAffineMapArrayAttr(maps)); });
    return success();
  }
};

struct FuseElementwisePass : public nnc::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *operand) {
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
    patterns.add<ReadThroughPermutations>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

std::unique_ptr<Pass> nnc::createFuseElementwisePass() {
  return std::make_unique<FuseElementwisePass>();
}
