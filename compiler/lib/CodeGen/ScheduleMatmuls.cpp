// Tiles matrix products to a register block and vectorizes them.
#include "nnc/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace nnc {
#define GEN_PASS_DEF_SCHEDULEMATMULS
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

// The largest candidate that divides `n`; a dimension no larger than the
// biggest candidate is taken whole (a full-dimension tile needs no
// divisibility, and a vector<8x3xf32> beats eight scalar loops).
int64_t pickTile(int64_t n, ArrayRef<int64_t> candidates) {
  if (n <= candidates.front())
    return n;
  for (int64_t c : candidates)
    if (n % c == 0)
      return c;
  return 1;
}

struct ScheduleMatmulsPass
    : public nnc::impl::ScheduleMatmulsBase<ScheduleMatmulsPass> {
  using ScheduleMatmulsBase::ScheduleMatmulsBase;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    SmallVector<linalg::GenericOp> matmuls;
    fn.walk([&](linalg::GenericOp op) {
      if (op.getNumLoops() == 3 && op.getNumReductionLoops() == 1 &&
          op.hasTensorSemantics() && linalg::isaContractionOpInterface(op) &&
          llvm::all_of(op.getStaticLoopRanges(),
                       [](int64_t d) { return !ShapedType::isDynamic(d); }))
        matmuls.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : matmuls) {
      // Loops are (m, n, k) as NNToLinalg builds them; the register block
      // is mr rows by nr columns (a multiple of the vector width when it
      // can be), one k at a time: mr*nr/16 accumulators, mr broadcasts and
      // mr*nr/16 FMAs per k step.
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      int64_t vw = vectorWidth;
      int64_t mr = pickTile(ranges[0], {8, 6, 4, 2, 1});
      int64_t nr = pickTile(ranges[1], {2 * vw, vw, vw / 2, vw / 4, 2, 1});
      scf::SCFTilingOptions options;
      options.setTileSizes({mr, nr, 1});
      rewriter.setInsertionPoint(op);
      auto tiled = scf::tileUsingSCFForOp(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled))
        continue; // the untiled op still lowers to loops
      rewriter.replaceOp(op, tiled->replacements);
      for (Operation *t : tiled->tiledOps)
        if (auto l = dyn_cast<linalg::LinalgOp>(t))
          (void)linalg::vectorize(rewriter, l);
    }
    // The vectorizer writes a product as broadcast reads, a multiply and a
    // multi_reduction; fold that back into vector.contract, whose lowering
    // to outer products gives the broadcast + FMA micro-kernel.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorReductionToContractPatterns(patterns);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, &getContext());
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, &getContext());
    (void)applyPatternsAndFoldGreedily(fn, std::move(patterns));
  }
};

} // namespace

std::unique_ptr<Pass> nnc::createScheduleMatmulsPass() {
  return std::make_unique<ScheduleMatmulsPass>();
}
