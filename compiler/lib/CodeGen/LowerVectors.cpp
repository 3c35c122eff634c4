// Lowers the vector ops that the schedule produced: transfers hoisted out of
// the k loops (the accumulators stay in registers), contractions as outer
// products (broadcast + FMA), transcendental functions as polynomials (so
// they vectorize instead of calling libm per element).
#include "nnc/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace nnc {
#define GEN_PASS_DEF_LOWERVECTORS
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

// The longest row a copy moves with vector loads and stores. As plain
// loops, LLVM recognizes each row as a memcpy call, whose overhead is more
// than the copy itself for short rows: the word LSTM's scans copy rows of
// 25 and 150 floats (a step's input and state into the concatenated
// [x, h]) and spent 9% of a training step in memcpy. Longer rows keep the
// call (its bulk copy is fast, and wide vectors would slow compilation).
constexpr int64_t kMaxVectorRow = 256;

// `copy` as one vector transfer per row, when its shape is static and its
// rows short.
void vectorizeRows(IRRewriter &rw, linalg::CopyOp copy) {
  auto t = copy.getOutputs()[0].getType().dyn_cast<MemRefType>();
  if (!t || !t.hasStaticShape() || t.getRank() == 0 || t.getShape().back() > kMaxVectorRow)
    return;
  // Rows must be contiguous on both sides (a vector load, not a gather).
  for (Value v : {copy.getInputs()[0], copy.getOutputs()[0]}) {
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(getStridesAndOffset(v.getType().cast<MemRefType>(), strides, offset)) ||
        strides.back() != 1)
      return;
  }
  SmallVector<int64_t> sizes(t.getRank(), 1);
  sizes.back() = 0; // the whole row
  rw.setInsertionPoint(copy);
  FailureOr<linalg::TiledLinalgOp> tiled =
      linalg::tileLinalgOp(rw, copy, linalg::LinalgTilingOptions().setTileSizes(sizes));
  if (failed(tiled))
    return;
  (void)linalg::vectorize(rw, tiled->op);
  rw.eraseOp(copy);
}

struct LowerVectorsPass : public nnc::impl::LowerVectorsBase<LowerVectorsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Strided memref.copy would lower to a call into MLIR's C runner
    // library; as linalg.copy it becomes plain loops, so the object needs
    // only libc/libm.
    IRRewriter rw(&getContext());
    module.walk([&](memref::CopyOp copy) {
      rw.setInsertionPoint(copy);
      auto lc = rw.create<linalg::CopyOp>(copy.getLoc(), copy.getSource(), copy.getTarget());
      rw.eraseOp(copy);
      vectorizeRows(rw, lc);
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
