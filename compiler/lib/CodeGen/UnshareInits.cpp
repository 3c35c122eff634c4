// Every destination gets a tensor of its own before bufferization.
//
// CSE makes one `tensor.empty` (or one zero fill, or one splat constant) of
// each shape and serves it to every op that writes a result of that shape:
// hundreds of ops in a GPT's train step. One-shot bufferization must then
// decide, for each of them, whether writing in place conflicts with any
// other use of the shared value, and walks their use-def chains to find
// out: compile time that grew with the cube of the depth (72 s of 77 for a
// 12-block GPT of width 128). And it answers "out of place" for all but one,
// so every accumulator was a copy of a shared zero buffer. With a fresh
// empty tensor, fill or splat per destination, each op writes in place and
// the analysis has nothing to compare.
#include "nnc/Conversion/Passes.h"

#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/Builders.h"

namespace nnc {
#define GEN_PASS_DEF_UNSHAREINITS
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

// The operands an op writes its results into: linalg's outs, the
// destination of tensor.insert_slice, the initial values of scf.for.
SmallVector<OpOperand *> destinations(Operation *op) {
  SmallVector<OpOperand *> out;
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(op)) {
    for (OpOperand *o : dps.getDpsInitOperands())
      out.push_back(o);
  } else if (auto loop = dyn_cast<scf::ForOp>(op)) {
    for (OpOperand &o : loop.getIterOpOperands())
      out.push_back(&o);
  }
  return out;
}

// A value whose every copy is as good as the value: an empty tensor, a fill
// of one, a splat constant.
bool recomputable(Value v) {
  if (!v.getType().isa<RankedTensorType>())
    return false;
  Operation *d = v.getDefiningOp();
  if (isa_and_nonnull<tensor::EmptyOp>(d))
    return true;
  if (auto fill = dyn_cast_or_null<linalg::FillOp>(d))
    return isa_and_nonnull<tensor::EmptyOp>(fill.getOutputs()[0].getDefiningOp());
  if (auto c = dyn_cast_or_null<arith::ConstantOp>(d))
    if (auto dense = c.getValue().dyn_cast<DenseElementsAttr>())
      return dense.isSplat() && dense.getElementType().isIntOrFloat();
  return false;
}

// A fresh copy of `v` (recomputable) ahead of `at`.
Value fresh(OpBuilder &b, Value v) {
  Operation *d = v.getDefiningOp();
  Location loc = d->getLoc();
  auto t = v.getType().cast<RankedTensorType>();
  Value empty = b.create<tensor::EmptyOp>(loc, t.getShape(), t.getElementType());
  if (isa<tensor::EmptyOp>(d))
    return empty;
  Value scalar;
  if (auto fill = dyn_cast<linalg::FillOp>(d))
    scalar = fill.getInputs()[0];
  else
    scalar = b.create<arith::ConstantOp>(
        loc,
        cast<arith::ConstantOp>(d).getValue().cast<DenseElementsAttr>().getSplatValue<TypedAttr>());
  return b.create<linalg::FillOp>(loc, scalar, empty).getResult(0);
}

struct UnshareInitsPass : public nnc::impl::UnshareInitsBase<UnshareInitsPass> {
  void runOnOperation() override {
    SmallVector<OpOperand *> shared;
    getOperation()->walk([&](Operation *op) {
      for (OpOperand *o : destinations(op)) {
        Value v = o->get();
        // One use in the same block is already the op's own; a use in a
        // loop is a new destination every iteration.
        if (recomputable(v) && (!v.hasOneUse() || v.getParentBlock() != op->getBlock() ||
                                isa_and_nonnull<arith::ConstantOp>(v.getDefiningOp())))
          shared.push_back(o);
      }
    });
    for (OpOperand *o : shared) {
      OpBuilder b(o->getOwner());
      o->set(fresh(b, o->get()));
    }
  }
};

} // namespace

std::unique_ptr<Pass> nnc::createUnshareInitsPass() { return std::make_unique<UnshareInitsPass>(); }
