// Lowers the vector ops that the schedule produced: transfers hoisted out of
// the k loops (the accumulators stay in registers), contractions as outer
// products (broadcast + FMA), transcendental functions as polynomials (so
// they vectorize instead of calling libm per element).
#include "nnc/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace nnc {
#define GEN_PASS_DEF_LOWERVECTORS
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

struct LowerVectorsPass : public nnc::impl::LowerVectorsBase<LowerVectorsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Strided memref.copy would lower to a call into MLIR's C runner
    // library; as linalg.copy it becomes plain loops, so the object needs
    // only libc/libm.
    module.walk([](memref::CopyOp copy) {
      OpBuilder b(copy);
      b.create<linalg::CopyOp>(copy.getLoc(), copy.getSource(), copy.getTarget());
      copy.erase();
    });
    module.walk([](func::FuncOp f) { linalg::hoistRedundantVectorTransfers(f); });
    RewritePatternSet patterns(&getContext());
    vector::VectorTransformsOptions vopts;
    vopts.setVectorTransformsOptions(vector::VectorContractLowering::OuterProduct);
    vector::populateVectorContractLoweringPatterns(patterns, vopts);
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorTransposeLoweringPatterns(patterns, vopts);
    vector::populateVectorBroadcastLoweringPatterns(patterns);
    populateMathPolynomialApproximationPatterns(patterns);
    (void)applyPatternsAndFoldGreedily(module, std::move(patterns));
  }
};

} // namespace

std::unique_ptr<Pass> nnc::createLowerVectorsPass() { return std::make_unique<LowerVectorsPass>(); }
