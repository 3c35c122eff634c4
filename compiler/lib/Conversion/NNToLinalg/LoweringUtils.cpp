// The builders that every nn lowering shares.
#include "LoweringUtils.h"

using namespace mlir;

namespace nnc::nn_to_linalg {

RankedTensorType tensorType(Value v) { return v.getType().cast<RankedTensorType>(); }

Value fill(OpBuilder &b, Location loc, RankedTensorType t, float v) {
  Value empty = b.create<tensor::EmptyOp>(loc, t.getShape(), t.getElementType());
  Value c = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(v));
  return b.create<linalg::FillOp>(loc, c, empty).getResult(0);
}

Value empty(OpBuilder &b, Location loc, RankedTensorType t) {
  return b.create<tensor::EmptyOp>(loc, t.getShape(), t.getElementType());
}

Value cst(OpBuilder &b, Location loc, double v) {
  return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(float(v)));
}

namespace {
// The indexing map that reads an operand of shape `s` broadcast (numpy
// rules, trailing dimensions aligned) into an iteration space of shape `r`.
AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> s, ArrayRef<int64_t> r) {
  SmallVector<AffineExpr> exprs;
  size_t off = r.size() - s.size();
  for (size_t i = 0; i < s.size(); ++i)
    exprs.push_back(s[i] == 1 && r[i + off] != 1 ? getAffineConstantExpr(0, ctx)
                                                 : getAffineDimExpr(i + off, ctx));
  return AffineMap::get(r.size(), 0, exprs, ctx);
}
} // namespace

SmallVector<utils::IteratorType> parallel(size_t n) {
  return SmallVector<utils::IteratorType>(n, utils::IteratorType::parallel);
}

// One generic over the shape of `outs[0]` (or the given iteration space).
ValueRange generic(OpBuilder &b, Location loc, ValueRange ins, ValueRange outs,
                   ArrayRef<AffineMap> maps, ArrayRef<utils::IteratorType> iters, BodyFn body) {
  SmallVector<Type> types;
  for (Value o : outs)
    types.push_back(o.getType());
  auto op = b.create<linalg::GenericOp>(loc, types, ins, outs, maps, iters, body);
  // A sum may be computed in any order (fastmath reassoc on the add into the
  // accumulator), as XLA and PyTorch sum: that lets LLVM vectorize the row
  // sums of softmax, layer norm and cross-entropy, which a strict
  // left-to-right order keeps scalar (12% of the tiny GPT's train step).
  // A running maximum (softmax's, logsumexp's and cross-entropy's row
  // maxima) is vectorized by LLVM only when it may assume no NaN (nnan on
  // maxnum): a NaN in the row still reaches the result through the sum of
  // exp(x - max) that follows, and maxnum ignored it before anyway. Scalar,
  // the word LSTM's row maximum over 2728 logits was 9% of a generated word.
  if (llvm::is_contained(iters, utils::IteratorType::reduction)) {
    auto reassoc = arith::FastMathFlagsAttr::get(b.getContext(), arith::FastMathFlags::reassoc);
    auto nnan = arith::FastMathFlagsAttr::get(b.getContext(), arith::FastMathFlags::nnan);
    Block &blk = op.getRegion().front();
    for (BlockArgument acc : blk.getArguments().take_back(outs.size()))
      for (Operation *u : acc.getUsers()) {
        if (auto add = dyn_cast<arith::AddFOp>(u))
          add.setFastmathAttr(reassoc);
        if (auto max = dyn_cast<arith::MaxFOp>(u))
          max.setFastmathAttr(nnan);
      }
  }
  return op.getResults();
}

// Elementwise over `resultType`, reading inputs broadcast.
Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType, ValueRange ins,
                  function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value v : ins)
    maps.push_back(broadcastMap(ctx, tensorType(v).getShape(), resultType.getShape()));
  maps.push_back(AffineMap::getMultiDimIdentityMap(resultType.getRank(), ctx));
  return generic(b, loc, ins, empty(b, loc, resultType), maps, parallel(resultType.getRank()),
                 [&](OpBuilder &nb, Location l, ValueRange args) {
                   nb.create<linalg::YieldOp>(l, fn(nb, l, args.drop_back()));
                 })[0];
}

// Reduces `axis` of `x` ([..., C, ...] -> [..., ...]) after mapping each
// element through `fn(x, index)`; `combine` folds into the accumulator.
// Inputs of the full rank are read elementwise; rank - 1 ones as per-row
// statistics (the tensor reduced along `axis`).
Value reduceAxis(OpBuilder &b, Location loc, ValueRange ins, int64_t axis, float init,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> fn,
                 function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  MLIRContext *ctx = b.getContext();
  auto xt = tensorType(ins[0]);
  int64_t r = xt.getRank();
  SmallVector<int64_t> outShape(xt.getShape());
  outShape.erase(outShape.begin() + axis);
  auto outT = RankedTensorType::get(outShape, xt.getElementType());
  SmallVector<AffineMap> maps;
  for (Value v : ins)
    maps.push_back(tensorType(v).getRank() == r ? AffineMap::getMultiDimIdentityMap(r, ctx)
                                                : dropAxisMap(ctx, r, axis));
  maps.push_back(dropAxisMap(ctx, r, axis));
  auto iters = parallel(r);
  iters[axis] = utils::IteratorType::reduction;
  return generic(b, loc, ins, fill(b, loc, outT, init), maps, iters,
                 [&](OpBuilder &nb, Location l, ValueRange args) {
                   Value v = fn(nb, l, args.drop_back());
                   nb.create<linalg::YieldOp>(l, combine(nb, l, args.back(), v));
                 })[0];
}

// reduceAxis along the last axis ([..., C] -> [...]).
Value reduceLast(OpBuilder &b, Location loc, ValueRange ins, float init,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> fn,
                 function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  return reduceAxis(b, loc, ins, tensorType(ins[0]).getRank() - 1, init, fn, combine);
}

// The identity map of rank `r` without dimension `axis`: how a per-row
// statistic (the tensor reduced along `axis`) is read in the full space.
AffineMap dropAxisMap(MLIRContext *ctx, int64_t r, int64_t axis) {
  return AffineMap::getMultiDimIdentityMap(r, ctx).dropResult(axis);
}

Value addf(OpBuilder &b, Location l, Value x, Value y) { return b.create<arith::AddFOp>(l, x, y); }
Value maxf(OpBuilder &b, Location l, Value x, Value y) { return b.create<arith::MaxFOp>(l, x, y); }

// Reshape through a 1-d tensor, which tensor.collapse/expand_shape always allow.
Value reshape(OpBuilder &b, Location loc, Value x, RankedTensorType to) {
  auto from = tensorType(x);
  auto flatT = RankedTensorType::get({from.getNumElements()}, from.getElementType());
  auto all = [](int64_t r) {
    ReassociationIndices idx;
    for (int64_t i = 0; i < r; ++i)
      idx.push_back(i);
    return SmallVector<ReassociationIndices>{idx};
  };
  Value flat = x;
  if (from.getRank() == 0)
    flat = b.create<tensor::ExpandShapeOp>(loc, flatT, x, SmallVector<ReassociationIndices>{});
  else if (from.getRank() > 1)
    flat = b.create<tensor::CollapseShapeOp>(loc, flatT, x, all(from.getRank()));
  if (to.getRank() == 0)
    return b.create<tensor::CollapseShapeOp>(loc, to, flat, SmallVector<ReassociationIndices>{});
  if (to.getRank() > 1)
    return b.create<tensor::ExpandShapeOp>(loc, to, flat, all(to.getRank()));
  return flat;
}

} // namespace nnc::nn_to_linalg
