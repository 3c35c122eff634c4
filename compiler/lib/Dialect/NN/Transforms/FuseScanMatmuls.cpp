// Joins the products of one step value with several captured matrices (an
// LSTM's four gates) into one wider product.
#include "nnc/Dialect/NN/IR/NNOps.h"
#include "nnc/Dialect/NN/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace nnc::nn {
#define GEN_PASS_DEF_FUSESCANMATMULS
#include "nnc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nnc::nn

using namespace mlir;
using namespace nnc::nn;

namespace {

void fuseScan(ScanOp scan) {
  Block &body = scan.getBody().front();
  unsigned firstCapture = scan.getNumStates() + scan.getSequences().size();
  auto isCapture = [&](Value v) {
    auto a = v.dyn_cast<BlockArgument>();
    return a && a.getOwner() == &body && a.getArgNumber() >= firstCapture;
  };
  // Products by their left operand, in program order.
  llvm::MapVector<Value, SmallVector<MatMulOp>> groups;
  for (auto mm : body.getOps<MatMulOp>())
    if (!mm.getTransposeA() && !mm.getTransposeB() && isCapture(mm.getRhs()))
      groups[mm.getLhs()].push_back(mm);

  for (auto &[lhs, products] : groups) {
    if (products.size() < 2)
      continue;
    // [K, N1 + N2 + ...] before the scan, captured.
    SmallVector<Value> mats;
    int64_t n = 0;
    for (MatMulOp mm : products) {
      unsigned c = mm.getRhs().cast<BlockArgument>().getArgNumber() - firstCapture;
      mats.push_back(scan.getCaptures()[c]);
      n += mm.getType().cast<RankedTensorType>().getDimSize(1);
    }
    auto matT = mats[0].getType().cast<RankedTensorType>();
    auto joinedT = RankedTensorType::get({matT.getDimSize(0), n}, matT.getElementType());
    OpBuilder b(scan);
    Value joined = b.create<ConcatOp>(scan.getLoc(), joinedT, mats);
    scan.getCapturesMutable().append(joined);
    BlockArgument arg = body.addArgument(joinedT, scan.getLoc());

    // One product where the first one was (the left operand is defined
    // before all of them), then a slice for each.
    b.setInsertionPoint(products.front());
    auto lhsT = lhs.getType().cast<RankedTensorType>();
    auto prodT = RankedTensorType::get({lhsT.getDimSize(0), n}, lhsT.getElementType());
    Value prod = b.create<MatMulOp>(products.front().getLoc(), prodT, lhs, arg,
                                    /*transpose_a=*/false, /*transpose_b=*/false);
    // When every product is only used by adding a captured bias vector
    // (Dense-style gates), the biases are joined too: one broadcast add and
    // one bias gradient per step instead of one per gate.
    SmallVector<AddOp> biasAdds;
    SmallVector<Value> biases;
    for (MatMulOp mm : products) {
      if (!mm->hasOneUse())
        break;
      auto add = dyn_cast<AddOp>(*mm->getUsers().begin());
      if (!add || add.getLhs() != mm.getResult() || !isCapture(add.getRhs()) ||
          add.getRhs().getType().cast<RankedTensorType>().getShape() !=
              ArrayRef<int64_t>{mm.getType().cast<RankedTensorType>().getDimSize(1)} ||
          add.getType() != mm.getType())
        break;
      biasAdds.push_back(add);
      unsigned c = add.getRhs().cast<BlockArgument>().getArgNumber() - firstCapture;
      biases.push_back(scan.getCaptures()[c]);
    }
    if (biasAdds.size() == products.size()) {
      OpBuilder ob(scan);
      auto biasT = RankedTensorType::get({n}, matT.getElementType());
      Value joinedBias = ob.create<ConcatOp>(scan.getLoc(), biasT, biases);
      scan.getCapturesMutable().append(joinedBias);
      BlockArgument biasArg = body.addArgument(biasT, scan.getLoc());
      prod = b.create<AddOp>(biasAdds.front().getLoc(), prodT, prod, biasArg);
    }

    int64_t begin = 0;
    for (auto [i, mm] : llvm::enumerate(products)) {
      Value part = b.create<SliceOp>(mm.getLoc(), mm.getType(), prod, b.getI64IntegerAttr(begin));
      begin += mm.getType().cast<RankedTensorType>().getDimSize(1);
      if (biasAdds.size() == products.size())
        biasAdds[i].getResult().replaceAllUsesWith(part);
      else
        mm.getResult().replaceAllUsesWith(part);
    }
    // (Not in the loop above: the builder inserts before the first product.)
    for (AddOp add : biasAdds)
      if (add.use_empty())
        add.erase();
    for (MatMulOp mm : products)
      mm.erase();
  }
  // Matrices now read only through their joined copy are no longer
  // captured (backpropagation would carry a zero gradient for them).
  for (unsigned c = scan.getCaptures().size(); c-- > 0;)
    if (body.getArgument(firstCapture + c).use_empty()) {
      body.eraseArgument(firstCapture + c);
      scan.getCapturesMutable().erase(c);
    }
}

struct FuseScanMatmulsPass : public nnc::nn::impl::FuseScanMatmulsBase<FuseScanMatmulsPass> {
  void runOnOperation() override {
    SmallVector<ScanOp> scans;
    getOperation().walk([&](ScanOp s) {
      if (s.getLength() >= 2 && !s.getStacked())
        scans.push_back(s);
    });
    for (ScanOp s : scans)
      fuseScan(s);
  }
};

} // namespace

std::unique_ptr<Pass> nnc::nn::createFuseScanMatmulsPass() {
  return std::make_unique<FuseScanMatmulsPass>();
}
