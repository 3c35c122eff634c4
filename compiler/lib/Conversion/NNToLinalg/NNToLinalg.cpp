// The pass that lowers nn ops to linalg.generic (and tensor, arith, math, scf)
// on tensors; the patterns live in a file per family of ops.
#include "LoweringUtils.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace nnc {
#define GEN_PASS_DEF_CONVERTNNTOLINALG
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn_to_linalg;

namespace {

struct ConvertNNToLinalgPass : public nnc::impl::ConvertNNToLinalgBase<ConvertNNToLinalgPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    RewritePatternSet patterns(&getContext());
    // Each pattern has a root op of its own, or (LowerElementwiseInterface)
    // an interface that no op with a pattern of its own implements, and the
    // greedy driver tries on an op only the patterns that match its name or
    // its interfaces: the order of the families does not change which
    // pattern rewrites an op (nor the IR).
    populateElementwisePatterns(patterns);
    populateMatmulPatterns(patterns);
    populateReductionPatterns(patterns);
    populateRandomPatterns(patterns);
    populateOptimizerPatterns(patterns);
    populateSequencePatterns(patterns);
    populateScanPatterns(patterns);
    populateTransformerPatterns(patterns);
    GreedyRewriteConfig config;
    config.enableRegionSimplification = false;
    if (failed(applyPatternsAndFoldGreedily(module, std::move(patterns), config)))
      return signalPassFailure();
    for (auto p : llvm::make_early_inc_range(module.getOps<ParameterOp>()))
      p.erase();
    WalkResult res = module.walk([&](Operation *op) {
      if (isa<NNDialect>(op->getDialect())) {
        op->emitError("convert-nn-to-linalg: no lowering for this op");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (res.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> nnc::createConvertNNToLinalgPass() {
  return std::make_unique<ConvertNNToLinalgPass>();
}
