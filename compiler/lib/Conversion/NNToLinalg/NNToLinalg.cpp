// Lowers nn ops to linalg.generic (and tensor, arith, math) on tensors.
#include "nnc/Conversion/Passes.h"
#include "nnc/Dialect/NN/IR/NNOps.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace nnc {
#define GEN_PASS_DEF_CONVERTNNTOLINALG
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;
using namespace nnc::nn;

namespace {

using BodyFn = function_ref<void(OpBuilder &, Location, ValueRange)>;

RankedTensorType tensorType(Value v) {
  return v.getType().cast<RankedTensorType>();
}

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

// The indexing map that reads an operand of shape `s` broadcast (numpy
// rules, trailing dimensions aligned) into an iteration space of shape `r`.
AffineMap broadcastMap(MLIRContext *ctx, ArrayRef<int64_t> s,
                       ArrayRef<int64_t> r) {
  SmallVector<AffineExpr> exprs;
  size_t off = r.size() - s.size();
  for (size_t i = 0; i < s.size(); ++i)
    exprs.push_back(s[i] == 1 && r[i + off] != 1
                        ? getAffineConstantExpr(0, ctx)
                        : getAffineDimExpr(i + off, ctx));
  return AffineMap::get(r.size(), 0, exprs, ctx);
}

SmallVector<utils::IteratorType> parallel(size_t n) {
  return SmallVector<utils::IteratorType>(n, utils::IteratorType::parallel);
}

// One generic over the shape of `outs[0]` (or the given iteration space).
ValueRange generic(OpBuilder &b, Location loc, ValueRange ins, ValueRange outs,
                   ArrayRef<AffineMap> maps,
                   ArrayRef<utils::IteratorType> iters, BodyFn body) {
  SmallVector<Type> types;
  for (Value o : outs)
    types.push_back(o.getType());
  auto op = b.create<linalg::GenericOp>(loc, types, ins, outs, maps, iters,
                                        body);
  // A sum may be computed in any order (fastmath reassoc on the add into the
  // accumulator), as XLA and PyTorch sum: that lets LLVM vectorize the row
  // sums of softmax, layer norm and cross-entropy, which a strict
  // left-to-right order keeps scalar (12% of the tiny GPT's train step).
  if (llvm::is_contained(iters, utils::IteratorType::reduction)) {
    auto reassoc = arith::FastMathFlagsAttr::get(b.getContext(), arith::FastMathFlags::reassoc);
    Block &blk = op.getRegion().front();
    for (BlockArgument acc : blk.getArguments().take_back(outs.size()))
      for (Operation *u : acc.getUsers())
        if (auto add = dyn_cast<arith::AddFOp>(u))
          add.setFastmathAttr(reassoc);
  }
  return op.getResults();
}

// Elementwise over `resultType`, reading inputs broadcast.
Value elementwise(OpBuilder &b, Location loc, RankedTensorType resultType,
                  ValueRange ins,
                  function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value v : ins)
    maps.push_back(
        broadcastMap(ctx, tensorType(v).getShape(), resultType.getShape()));
  maps.push_back(AffineMap::getMultiDimIdentityMap(resultType.getRank(), ctx));
  return generic(b, loc, ins, empty(b, loc, resultType), maps,
                 parallel(resultType.getRank()),
                 [&](OpBuilder &nb, Location l, ValueRange args) {
                   nb.create<linalg::YieldOp>(
                       l, fn(nb, l, args.drop_back()));
                 })[0];
}

// Reduces the last axis of `x` ([..., C] -> [...]) after mapping each element
// through `fn(x, index)`; `combine` folds into the accumulator.
Value reduceLast(OpBuilder &b, Location loc, ValueRange ins, float init,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> fn,
                 function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  MLIRContext *ctx = b.getContext();
  auto xt = tensorType(ins[0]);
  int64_t r = xt.getRank();
  auto outT = RankedTensorType::get(xt.getShape().drop_back(), xt.getElementType());
  SmallVector<AffineMap> maps;
  for (Value v : ins) {
    auto s = tensorType(v).getShape();
    // Inputs of the full rank are read elementwise; rank - 1 ones per row.
    if ((int64_t)s.size() == r)
      maps.push_back(AffineMap::getMultiDimIdentityMap(r, ctx));
    else
      maps.push_back(AffineMap::getMultiDimIdentityMap(r, ctx).getMajorSubMap(
          r - 1));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(r, ctx).getMajorSubMap(r - 1));
  auto iters = parallel(r);
  iters.back() = utils::IteratorType::reduction;
  return generic(b, loc, ins, fill(b, loc, outT, init), maps, iters,
                 [&](OpBuilder &nb, Location l, ValueRange args) {
                   Value v = fn(nb, l, args.drop_back());
                   nb.create<linalg::YieldOp>(l, combine(nb, l, args.back(), v));
                 })[0];
}

Value addf(OpBuilder &b, Location l, Value x, Value y) {
  return b.create<arith::AddFOp>(l, x, y);
}
Value maxf(OpBuilder &b, Location l, Value x, Value y) {
  return b.create<arith::MaxFOp>(l, x, y);
}

// The max of each row of x [..., C]. A max has no order to relax (unlike a
// sum), and LLVM 16 does not vectorize a maxnum reduction, so rows of C = 16k
// are first reduced to 16 partial maxima per row, an elementwise max over
// vectors of 16 ([..., C/16, 16] -> [..., 16]), and those 16 then to one:
// the attention softmax's row max ran as a scalar loop, 4% of the tiny GPT's
// train step.
Value reshape(OpBuilder &b, Location loc, Value x, RankedTensorType to);

Value rowMax(OpBuilder &b, Location loc, Value x) {
  auto takeIt = [](OpBuilder &, Location, ValueRange a) { return a[0]; };
  auto xt = tensorType(x);
  int64_t r = xt.getRank(), c = xt.getShape().back();
  constexpr int64_t lanes = 16;
  if (c < 2 * lanes || c % lanes != 0)
    return reduceLast(b, loc, x, -INFINITY, takeIt, maxf);
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> split(xt.getShape().drop_back()), partialShape = split;
  split.append({c / lanes, lanes});
  partialShape.push_back(lanes);
  Value x3 = reshape(b, loc, x, RankedTensorType::get(split, xt.getElementType()));
  auto partialT = RankedTensorType::get(partialShape, xt.getElementType());
  SmallVector<AffineExpr> outDims;
  for (int64_t d = 0; d < r - 1; ++d)
    outDims.push_back(getAffineDimExpr(d, ctx));
  outDims.push_back(getAffineDimExpr(r, ctx));
  auto iters = parallel(r + 1);
  iters[r - 1] = utils::IteratorType::reduction;
  Value partial = generic(b, loc, x3, fill(b, loc, partialT, -INFINITY),
                          {AffineMap::getMultiDimIdentityMap(r + 1, ctx),
                           AffineMap::get(r + 1, 0, outDims, ctx)},
                          iters, [](OpBuilder &nb, Location l, ValueRange a) {
                            nb.create<linalg::YieldOp>(l, maxf(nb, l, a[1], a[0]));
                          })[0];
  return reduceLast(b, loc, partial, -INFINITY, takeIt, maxf);
}

// Row statistics of logits [..., C]: the max and the sum of exp(x - max).
std::pair<Value, Value> softmaxStats(OpBuilder &b, Location loc, Value x) {
  Value mx = rowMax(b, loc, x);
  Value se = reduceLast(
      b, loc, ValueRange{x, mx}, 0.0f,
      [](OpBuilder &nb, Location l, ValueRange a) -> Value {
        return nb.create<math::ExpOp>(l, nb.create<arith::SubFOp>(l, a[0], a[1]));
      },
      addf);
  return {mx, se};
}

// Sum of the weights of a batch, as a 0-d tensor, floored so that an
// all-padding batch divides 0 by a positive number.
Value weightSum(OpBuilder &b, Location loc, Value w) {
  MLIRContext *ctx = b.getContext();
  auto scalarT = RankedTensorType::get({}, b.getF32Type());
  Value s = generic(b, loc, w, fill(b, loc, scalarT, 0.0f),
                    {AffineMap::getMultiDimIdentityMap(1, ctx),
                     AffineMap::get(1, 0, {}, ctx)},
                    {utils::IteratorType::reduction},
                    [](OpBuilder &nb, Location l, ValueRange a) {
                      nb.create<linalg::YieldOp>(l, addf(nb, l, a[0], a[1]));
                    })[0];
  return generic(b, loc, ValueRange{}, s, {AffineMap::get(0, 0, {}, ctx)}, {},
                 [](OpBuilder &nb, Location l, ValueRange a) {
                   nb.create<linalg::YieldOp>(l, maxf(nb, l, a[0], cst(nb, l, 1e-30)));
                 })[0];
}

// sum_n w[n] * rowLoss[n] / den, as a 0-d tensor.
Value weightedMean(OpBuilder &b, Location loc, Value rowLoss, Value w, Value den) {
  MLIRContext *ctx = b.getContext();
  auto scalarT = RankedTensorType::get({}, b.getF32Type());
  AffineMap id = AffineMap::getMultiDimIdentityMap(1, ctx);
  AffineMap scalar = AffineMap::get(1, 0, {}, ctx);
  return generic(b, loc, ValueRange{rowLoss, w, den}, fill(b, loc, scalarT, 0.0f),
                 {id, id, scalar, scalar}, {utils::IteratorType::reduction},
                 [](OpBuilder &nb, Location l, ValueRange a) {
                   Value t = nb.create<arith::MulFOp>(l, a[0], a[1]);
                   t = nb.create<arith::DivFOp>(l, t, a[2]);
                   nb.create<linalg::YieldOp>(l, addf(nb, l, a[3], t));
                 })[0];
}

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
    flat = b.create<tensor::ExpandShapeOp>(loc, flatT, x,
                                           SmallVector<ReassociationIndices>{});
  else if (from.getRank() > 1)
    flat = b.create<tensor::CollapseShapeOp>(loc, flatT, x, all(from.getRank()));
  if (to.getRank() == 0)
    return b.create<tensor::CollapseShapeOp>(loc, to, flat,
                                             SmallVector<ReassociationIndices>{});
  if (to.getRank() > 1)
    return b.create<tensor::ExpandShapeOp>(loc, to, flat, all(to.getRank()));
  return flat;
}

// The flat row-major index of the current element of a generic, as i64.
Value linearIndex(OpBuilder &b, Location loc, ArrayRef<int64_t> shape) {
  Value idx = b.create<arith::ConstantIndexOp>(loc, 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    Value d = b.create<linalg::IndexOp>(loc, i);
    Value n = b.create<arith::ConstantIndexOp>(loc, shape[i]);
    idx = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, idx, n), d);
  }
  return b.create<arith::IndexCastOp>(loc, b.getI64Type(), idx);
}

// A uniform float in [0, 1) from a hash of (seed, stream, counter):
// splitmix64's finalizer, which passes BigCrush on a counter.
Value uniform01(OpBuilder &b, Location loc, Value seed, int64_t stream,
                Value counter) {
  auto c = [&](uint64_t v) {
    return b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(int64_t(v)));
  };
  Value x = b.create<arith::MulIOp>(loc, seed, c(0x9E3779B97F4A7C15ull));
  x = b.create<arith::AddIOp>(
      loc, x, c(uint64_t(stream) * 0xD1B54A32D192ED03ull));
  x = b.create<arith::AddIOp>(loc, x, counter);
  auto mix = [&](uint64_t shift, uint64_t mul) {
    x = b.create<arith::XOrIOp>(loc, x, b.create<arith::ShRUIOp>(loc, x, c(shift)));
    if (mul)
      x = b.create<arith::MulIOp>(loc, x, c(mul));
  };
  mix(30, 0xBF58476D1CE4E5B9ull);
  mix(27, 0x94D049BB133111EBull);
  mix(31, 0);
  Value top = b.create<arith::ShRUIOp>(loc, x, c(40));
  Value f = b.create<arith::UIToFPOp>(loc, b.getF32Type(), top);
  return b.create<arith::MulFOp>(loc, f, cst(b, loc, 1.0 / 16777216.0));
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

struct LowerConstant : OpRewritePattern<ConstantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConstantOp op, PatternRewriter &r) const override {
    auto attr = DenseElementsAttr::get(tensorType(op.getResult()), op.getValueAttr());
    r.replaceOpWithNewOp<arith::ConstantOp>(op, attr);
    return success();
  }
};

template <typename Op>
struct LowerElementwise : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  virtual Value compute(OpBuilder &b, Location l, ValueRange a) const = 0;
  LogicalResult matchAndRewrite(Op op, PatternRewriter &r) const override {
    Value v = elementwise(r, op.getLoc(), tensorType(op.getResult()).template cast<RankedTensorType>(),
                          op->getOperands(),
                          [&](OpBuilder &b, Location l, ValueRange a) {
                            return compute(b, l, a);
                          });
    r.replaceOp(op, v);
    return success();
  }
};

#define NN_ELEMENTWISE(NAME, OP, EXPR)                                        \
  struct NAME : LowerElementwise<OP> {                                        \
    using LowerElementwise::LowerElementwise;                                 \
    Value compute(OpBuilder &b, Location l, ValueRange a) const override {   \
      return EXPR;                                                            \
    }                                                                         \
  };

NN_ELEMENTWISE(LowerAdd, AddOp, b.create<arith::AddFOp>(l, a[0], a[1]))
NN_ELEMENTWISE(LowerSub, SubOp, b.create<arith::SubFOp>(l, a[0], a[1]))
NN_ELEMENTWISE(LowerMul, MulOp, b.create<arith::MulFOp>(l, a[0], a[1]))
NN_ELEMENTWISE(LowerDiv, DivOp, b.create<arith::DivFOp>(l, a[0], a[1]))
NN_ELEMENTWISE(LowerNeg, NegOp, b.create<arith::NegFOp>(l, a[0]))
NN_ELEMENTWISE(LowerRelu, ReluOp, maxf(b, l, a[0], cst(b, l, 0.0)))
NN_ELEMENTWISE(LowerTanh, TanhOp, b.create<math::TanhOp>(l, a[0]))
NN_ELEMENTWISE(LowerExp, ExpOp, b.create<math::ExpOp>(l, a[0]))
NN_ELEMENTWISE(LowerLog, LogOp, b.create<math::LogOp>(l, a[0]))
NN_ELEMENTWISE(LowerSqrt, SqrtOp, b.create<math::SqrtOp>(l, a[0]))
NN_ELEMENTWISE(LowerBroadcastTo, BroadcastToOp, a[0])
NN_ELEMENTWISE(LowerSigmoid, SigmoidOp,
               b.create<arith::DivFOp>(
                   l, cst(b, l, 1.0),
                   addf(b, l, cst(b, l, 1.0),
                        b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, a[0])))))
NN_ELEMENTWISE(LowerReluGrad, ReluGradOp,
               b.create<arith::SelectOp>(
                   l,
                   b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, a[0],
                                           cst(b, l, 0.0)),
                   a[1], cst(b, l, 0.0)))
#undef NN_ELEMENTWISE

struct LowerSumTo : OpRewritePattern<SumToOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SumToOp op, PatternRewriter &r) const override {
    MLIRContext *ctx = r.getContext();
    auto in = tensorType(op.getInput()).getShape();
    auto out = tensorType(op.getResult()).getShape();
    size_t off = in.size() - out.size();
    SmallVector<utils::IteratorType> iters(in.size(), utils::IteratorType::reduction);
    SmallVector<AffineExpr> exprs;
    for (size_t j = 0; j < out.size(); ++j) {
      if (out[j] == 1 && in[j + off] != 1) {
        exprs.push_back(getAffineConstantExpr(0, ctx));
      } else {
        exprs.push_back(getAffineDimExpr(j + off, ctx));
        iters[j + off] = utils::IteratorType::parallel;
      }
    }
    Value v = generic(r, op.getLoc(), op.getInput(),
                      fill(r, op.getLoc(), tensorType(op.getResult()), 0.0f),
                      {AffineMap::getMultiDimIdentityMap(in.size(), ctx),
                       AffineMap::get(in.size(), 0, exprs, ctx)},
                      iters, [](OpBuilder &b, Location l, ValueRange a) {
                        b.create<linalg::YieldOp>(l, addf(b, l, a[0], a[1]));
                      })[0];
    r.replaceOp(op, v);
    return success();
  }
};

struct LowerReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &r) const override {
    r.replaceOp(op, reshape(r, op.getLoc(), op.getInput(), tensorType(op.getResult())));
    return success();
  }
};

// A transposed copy of a matrix: the backward pass's transposed operands
// are materialised so every product is a plain row-major contraction (a
// transposed read inside the register tile would be a gather); the copy is
// O(K N) against the product's O(M N K).
Value transpose2D(OpBuilder &b, Location loc, Value x) {
  MLIRContext *ctx = b.getContext();
  auto t = tensorType(x);
  auto outT = RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)},
                                    t.getElementType());
  AffineExpr i = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx);
  return generic(b, loc, x, empty(b, loc, outT),
                 {AffineMap::get(2, 0, {j, i}, ctx),
                  AffineMap::getMultiDimIdentityMap(2, ctx)},
                 parallel(2), [](OpBuilder &nb, Location l, ValueRange a) {
                   nb.create<linalg::YieldOp>(l, a[0]);
                 })[0];
}

struct LowerMatMul : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp op, PatternRewriter &r) const override {
    MLIRContext *ctx = r.getContext();
    Location loc = op.getLoc();
    Value a = op.getLhs(), bm = op.getRhs();
    // A^T is read in place (map (k, m)): the register tile broadcasts A's
    // elements one by one, and A^T's mr elements of one k are contiguous.
    // B^T is copied: its tile row would be a strided gather.
    if (op.getTransposeB())
      bm = transpose2D(r, loc, bm);
    AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
               k = getAffineDimExpr(2, ctx);
    auto map = [&](AffineExpr x, AffineExpr y) {
      return AffineMap::get(3, 0, {x, y}, ctx);
    };
    Value v = generic(
        r, loc, ValueRange{a, bm},
        fill(r, loc, tensorType(op.getResult()), 0.0f),
        {op.getTransposeA() ? map(k, m) : map(m, k), map(k, n), map(m, n)},
        {utils::IteratorType::parallel, utils::IteratorType::parallel,
         utils::IteratorType::reduction},
        [](OpBuilder &b, Location l, ValueRange args) {
          Value p = b.create<arith::MulFOp>(l, args[0], args[1]);
          b.create<linalg::YieldOp>(l, addf(b, l, args[2], p));
        })[0];
    r.replaceOp(op, v);
    return success();
  }
};

// Reads per-row tensors [...] broadcast over [..., C]: the row statistics are
// indexed by the leading dimensions, which broadcastMap would misalign.
Value rowwise(OpBuilder &b, Location loc, RankedTensorType t, ValueRange full,
              ValueRange rows, ValueRange scalars,
              function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = t.getRank();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  SmallVector<AffineMap> maps;
  SmallVector<Value> ins;
  for (Value v : full) {
    maps.push_back(id);
    ins.push_back(v);
  }
  for (Value v : rows) {
    maps.push_back(id.getMajorSubMap(rank - 1));
    ins.push_back(v);
  }
  for (Value v : scalars) {
    maps.push_back(AffineMap::get(rank, 0, {}, ctx));
    ins.push_back(v);
  }
  maps.push_back(id);
  return generic(b, loc, ins, empty(b, loc, t), maps, parallel(rank),
                 [&](OpBuilder &nb, Location l, ValueRange a) {
                   nb.create<linalg::YieldOp>(l, fn(nb, l, a.drop_back()));
                 })[0];
}

// ---- reductions along any axis (softmax with an axis, issue 4) ----------

// The identity map of rank `r` without dimension `axis`: how a per-row
// statistic (the tensor reduced along `axis`) is read in the full space.
AffineMap dropAxisMap(MLIRContext *ctx, int64_t r, int64_t axis) {
  return AffineMap::getMultiDimIdentityMap(r, ctx).dropResult(axis);
}

// reduceLast along `axis`: full-rank inputs are read elementwise, rank - 1
// ones as per-row statistics.
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

// rowwise along `axis`: `rows` are statistics reduced along it.
Value alongAxis(OpBuilder &b, Location loc, RankedTensorType t, ValueRange full, ValueRange rows,
                int64_t axis, function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = t.getRank();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  SmallVector<AffineMap> maps;
  SmallVector<Value> ins;
  for (Value v : full) {
    maps.push_back(id);
    ins.push_back(v);
  }
  for (Value v : rows) {
    maps.push_back(dropAxisMap(ctx, rank, axis));
    ins.push_back(v);
  }
  maps.push_back(id);
  return generic(b, loc, ins, empty(b, loc, t), maps, parallel(rank),
                 [&](OpBuilder &nb, Location l, ValueRange a) {
                   nb.create<linalg::YieldOp>(l, fn(nb, l, a.drop_back()));
                 })[0];
}

// softmaxStats along `axis`: the max and the sum of exp(x - max).
std::pair<Value, Value> softmaxStatsAxis(OpBuilder &b, Location loc, Value x, int64_t axis) {
  Value mx = axis == tensorType(x).getRank() - 1
                 ? rowMax(b, loc, x)
                 : reduceAxis(
                       b, loc, x, axis, -INFINITY,
                       [](OpBuilder &, Location, ValueRange a) { return a[0]; }, maxf);
  Value se = reduceAxis(
      b, loc, ValueRange{x, mx}, axis, 0.0f,
      [](OpBuilder &nb, Location l, ValueRange a) -> Value {
        return nb.create<math::ExpOp>(l, nb.create<arith::SubFOp>(l, a[0], a[1]));
      },
      addf);
  return {mx, se};
}

struct LowerSoftmax : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    int64_t axis = op.getAxisIndex();
    auto [mx, se] = softmaxStatsAxis(r, loc, op.getInput(), axis);
    Value v = alongAxis(r, loc, tensorType(op.getResult()), op.getInput(),
                          ValueRange{mx, se}, axis,
                          [](OpBuilder &b, Location l, ValueRange a) -> Value {
                            Value e = b.create<math::ExpOp>(
                                l, b.create<arith::SubFOp>(l, a[0], a[1]));
                            return b.create<arith::DivFOp>(l, e, a[2]);
                          });
    r.replaceOp(op, v);
    return success();
  }
};

struct LowerLogSoftmax : OpRewritePattern<LogSoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LogSoftmaxOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    int64_t axis = op.getAxisIndex();
    auto [mx, se] = softmaxStatsAxis(r, loc, op.getInput(), axis);
    Value v = alongAxis(r, loc, tensorType(op.getResult()), op.getInput(), ValueRange{mx, se}, axis,
                      [](OpBuilder &b, Location l, ValueRange a) -> Value {
                        Value s = b.create<arith::SubFOp>(l, a[0], a[1]);
                        return b.create<arith::SubFOp>(
                            l, s, b.create<math::LogOp>(l, a[2]));
                      });
    r.replaceOp(op, v);
    return success();
  }
};

struct LowerSoftmaxGrad : OpRewritePattern<SoftmaxGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxGradOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    int64_t axis = op.getAxisIndex();
    Value dot = reduceAxis(
        r, loc, ValueRange{op.getOutput(), op.getGrad()}, axis, 0.0f,
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return b.create<arith::MulFOp>(l, a[0], a[1]);
        },
        addf);
    Value v = alongAxis(r, loc, tensorType(op.getResult()), ValueRange{op.getOutput(), op.getGrad()},
                      dot, axis, [](OpBuilder &b, Location l, ValueRange a) -> Value {
                        return b.create<arith::MulFOp>(
                            l, a[0], b.create<arith::SubFOp>(l, a[1], a[2]));
                      });
    r.replaceOp(op, v);
    return success();
  }
};

struct LowerLogSoftmaxGrad : OpRewritePattern<LogSoftmaxGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LogSoftmaxGradOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    int64_t axis = op.getAxisIndex();
    Value sum = reduceAxis(
        r, loc, op.getGrad(), axis, 0.0f,
        [](OpBuilder &, Location, ValueRange a) { return a[0]; }, addf);
    Value v = alongAxis(r, loc, tensorType(op.getResult()), ValueRange{op.getOutput(), op.getGrad()},
                      sum, axis, [](OpBuilder &b, Location l, ValueRange a) -> Value {
                        Value e = b.create<math::ExpOp>(l, a[0]);
                        return b.create<arith::SubFOp>(
                            l, a[1], b.create<arith::MulFOp>(l, e, a[2]));
                      });
    r.replaceOp(op, v);
    return success();
  }
};

// logits[n, labels[n]], computed as a masked sum so it stays a plain
// reduction (no gather in the loop body).
Value pickLabel(OpBuilder &b, Location loc, Value logits, Value labels) {
  return reduceLast(
      b, loc, ValueRange{logits, labels}, 0.0f,
      [](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value c = nb.create<arith::IndexCastOp>(l, nb.getI32Type(),
                                                nb.create<linalg::IndexOp>(l, 1));
        Value hit = nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, c, a[1]);
        return nb.create<arith::SelectOp>(l, hit, a[0], cst(nb, l, 0.0));
      },
      addf);
}

// The weight of each row with the rows of a negative label (PyTorch's
// ignore_index: a masked-token model predicts a few positions of each
// sequence and labels the others -1) set to 0, so that the mean runs over
// the labelled rows only and those rows get no gradient.
Value labelledWeights(OpBuilder &b, Location loc, Value w, Value labels) {
  return elementwise(b, loc, tensorType(w), ValueRange{w, labels},
                     [](OpBuilder &nb, Location l, ValueRange a) -> Value {
                       Value ignored = nb.create<arith::CmpIOp>(
                           l, arith::CmpIPredicate::slt, a[1],
                           nb.create<arith::ConstantIntOp>(l, 0, 32));
                       return nb.create<arith::SelectOp>(l, ignored, cst(nb, l, 0.0), a[0]);
                     });
}

struct LowerCrossEntropy : OpRewritePattern<CrossEntropyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CrossEntropyOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto [mx, se] = softmaxStats(r, loc, op.getLogits());
    Value picked = pickLabel(r, loc, op.getLogits(), op.getLabels());
    auto rowT = tensorType(mx);
    Value rowLoss = elementwise(r, loc, rowT, ValueRange{mx, se, picked},
                                [](OpBuilder &b, Location l, ValueRange a) -> Value {
                                  Value lse = addf(b, l, a[0],
                                                   b.create<math::LogOp>(l, a[1]));
                                  return b.create<arith::SubFOp>(l, lse, a[2]);
                                });
    // A batch without labelled rows has den = 1e-30 (weightSum's floor)
    // and a loss of 0, not NaN.
    Value w = labelledWeights(r, loc, op.getWeights(), op.getLabels());
    Value den = weightSum(r, loc, w);
    r.replaceOp(op, weightedMean(r, loc, rowLoss, w, den));
    return success();
  }
};

struct LowerCrossEntropyGrad : OpRewritePattern<CrossEntropyGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CrossEntropyGradOp op,
                                PatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto [mx, se] = softmaxStats(r, loc, op.getLogits());
    Value w = labelledWeights(r, loc, op.getWeights(), op.getLabels());
    Value den = weightSum(r, loc, w);
    Value v = rowwise(
        r, loc, tensorType(op.getResult()), op.getLogits(),
        ValueRange{mx, se, op.getLabels(), w},
        ValueRange{den, op.getGrad()},
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          // a: x, max, sumexp, label, w, den, dloss
          Value p = b.create<arith::DivFOp>(
              l, b.create<math::ExpOp>(l, b.create<arith::SubFOp>(l, a[0], a[1])),
              a[2]);
          Value c = b.create<arith::IndexCastOp>(l, b.getI32Type(),
                                                 b.create<linalg::IndexOp>(l, 1));
          Value hit = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, c, a[3]);
          p = b.create<arith::SubFOp>(
              l, p, b.create<arith::SelectOp>(l, hit, cst(b, l, 1.0), cst(b, l, 0.0)));
          Value scale = b.create<arith::DivFOp>(
              l, b.create<arith::MulFOp>(l, a[4], a[6]), a[5]);
          return b.create<arith::MulFOp>(l, p, scale);
        });
    r.replaceOp(op, v);
    return success();
  }
};

// [N, ...] -> [N, F] so that per-row reductions are over the last axis.
Value rowsOf(OpBuilder &b, Location loc, Value x) {
  auto t = tensorType(x);
  int64_t n = t.getDimSize(0);
  return reshape(b, loc, x,
                 RankedTensorType::get({n, t.getNumElements() / n},
                                       t.getElementType()));
}

struct LowerMSE : OpRewritePattern<MSEOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MSEOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    Value p = rowsOf(r, loc, op.getPred()), t = rowsOf(r, loc, op.getTarget());
    double f = tensorType(p).getDimSize(1);
    Value sq = reduceLast(
        r, loc, ValueRange{p, t}, 0.0f,
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value d = b.create<arith::SubFOp>(l, a[0], a[1]);
          return b.create<arith::MulFOp>(l, d, d);
        },
        addf);
    Value rowLoss = elementwise(r, loc, tensorType(sq), sq,
                                [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                                  return b.create<arith::DivFOp>(l, a[0], cst(b, l, f));
                                });
    Value den = weightSum(r, loc, op.getWeights());
    r.replaceOp(op, weightedMean(r, loc, rowLoss, op.getWeights(), den));
    return success();
  }
};

struct LowerMSEGrad : OpRewritePattern<MSEGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MSEGradOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    Value p = rowsOf(r, loc, op.getPred()), t = rowsOf(r, loc, op.getTarget());
    auto rt = tensorType(p);
    double f = rt.getDimSize(1);
    Value den = weightSum(r, loc, op.getWeights());
    Value g = rowwise(r, loc, rt, ValueRange{p, t}, op.getWeights(),
                      ValueRange{den, op.getGrad()},
                      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                        // a: p, t, w, den, dloss
                        Value d = b.create<arith::SubFOp>(l, a[0], a[1]);
                        Value s = b.create<arith::MulFOp>(l, a[2], a[4]);
                        s = b.create<arith::DivFOp>(l, s, a[3]);
                        s = b.create<arith::MulFOp>(l, s, cst(b, l, 2.0 / f));
                        return b.create<arith::MulFOp>(l, d, s);
                      });
    r.replaceOp(op, reshape(r, loc, g, tensorType(op.getResult())));
    return success();
  }
};

template <typename Op>
struct LowerRandom : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  LogicalResult matchAndRewrite(Op op, PatternRewriter &r) const override {
    auto t = tensorType(op.getResult()).template cast<RankedTensorType>();
    MLIRContext *ctx = r.getContext();
    Value seed = op.getSeed();
    int64_t stream = op.getStream();
    Value v = generic(
        r, op.getLoc(), ValueRange{}, empty(r, op.getLoc(), t),
        {AffineMap::getMultiDimIdentityMap(t.getRank(), ctx)}, parallel(t.getRank()),
        [&](OpBuilder &b, Location l, ValueRange) {
          Value i = linearIndex(b, l, t.getShape());
          b.create<linalg::YieldOp>(l, sample(op, b, l, seed, stream, i));
        })[0];
    r.replaceOp(op, v);
    return success();
  }
  static Value sample(RandomUniformOp op, OpBuilder &b, Location l, Value seed,
                      int64_t stream, Value i) {
    Value u = uniform01(b, l, seed, stream, i);
    double lo = op.getLow().convertToFloat(), hi = op.getHigh().convertToFloat();
    return addf(b, l, cst(b, l, lo), b.create<arith::MulFOp>(l, u, cst(b, l, hi - lo)));
  }
  static Value sample(RandomNormalOp op, OpBuilder &b, Location l, Value seed,
                      int64_t stream, Value i) {
    // Box-Muller on two draws of the element's own counters.
    Value two = b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(2));
    Value one = b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(1));
    Value i2 = b.create<arith::MulIOp>(l, i, two);
    Value u1 = uniform01(b, l, seed, stream, i2);
    Value u2 = uniform01(b, l, seed, stream, b.create<arith::AddIOp>(l, i2, one));
    u1 = b.create<arith::SubFOp>(l, cst(b, l, 1.0), u1); // (0, 1]
    Value rad = b.create<math::SqrtOp>(
        l, b.create<arith::MulFOp>(l, cst(b, l, -2.0), b.create<math::LogOp>(l, u1)));
    Value ang = b.create<arith::MulFOp>(l, u2, cst(b, l, 2.0 * M_PI));
    Value z = b.create<arith::MulFOp>(l, rad, b.create<math::CosOp>(l, ang));
    return addf(b, l, cst(b, l, op.getMean().convertToFloat()),
                b.create<arith::MulFOp>(l, z, cst(b, l, op.getStddev().convertToFloat())));
  }
};

// Optimizer updates: one loop over the flat buffers, writing the parameters
// and the state in place (they are the generic's outputs, not inputs).
ValueRange updateLoop(OpBuilder &b, Location loc, Value grad, ValueRange state,
                      function_ref<SmallVector<Value>(OpBuilder &, Location, Value,
                                                      ValueRange)> fn) {
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps(1 + state.size(),
                              AffineMap::getMultiDimIdentityMap(1, ctx));
  return generic(b, loc, grad, state, maps, parallel(1),
                 [&](OpBuilder &nb, Location l, ValueRange a) {
                   nb.create<linalg::YieldOp>(l, fn(nb, l, a[0], a.drop_front()));
                 });
}

struct LowerSGD : OpRewritePattern<SGDUpdateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SGDUpdateOp op, PatternRewriter &r) const override {
    double mom = op.getMomentum().convertToFloat();
    Value lr = op.getLr();
    auto res = updateLoop(
        r, op.getLoc(), op.getGrad(), ValueRange{op.getParam(), op.getVelocity()},
        [&](OpBuilder &b, Location l, Value g, ValueRange s) -> SmallVector<Value> {
          Value v = b.create<arith::SubFOp>(
              l, b.create<arith::MulFOp>(l, s[1], cst(b, l, mom)),
              b.create<arith::MulFOp>(l, g, lr));
          return {addf(b, l, s[0], v), v};
        });
    r.replaceOp(op, res);
    return success();
  }
};

struct LowerAdam : OpRewritePattern<AdamUpdateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AdamUpdateOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    double b1 = op.getBeta1().convertToFloat(), b2 = op.getBeta2().convertToFloat(),
           eps = op.getEpsilon().convertToFloat();
    // Bias corrections 1 - beta^t, once per step outside the loop.
    Value bc1 = r.create<arith::SubFOp>(
        loc, cst(r, loc, 1.0), r.create<math::PowFOp>(loc, cst(r, loc, b1), op.getStep()));
    Value bc2 = r.create<arith::SubFOp>(
        loc, cst(r, loc, 1.0), r.create<math::PowFOp>(loc, cst(r, loc, b2), op.getStep()));
    Value lr = op.getLr();
    auto res = updateLoop(
        r, loc, op.getGrad(), ValueRange{op.getParam(), op.getM(), op.getV()},
        [&](OpBuilder &b, Location l, Value g, ValueRange s) -> SmallVector<Value> {
          Value m = addf(b, l, b.create<arith::MulFOp>(l, s[1], cst(b, l, b1)),
                         b.create<arith::MulFOp>(l, g, cst(b, l, 1 - b1)));
          Value g2 = b.create<arith::MulFOp>(l, g, g);
          Value v = addf(b, l, b.create<arith::MulFOp>(l, s[2], cst(b, l, b2)),
                         b.create<arith::MulFOp>(l, g2, cst(b, l, 1 - b2)));
          Value mhat = b.create<arith::DivFOp>(l, m, bc1);
          Value vhat = b.create<arith::DivFOp>(l, v, bc2);
          Value den = addf(b, l, b.create<math::SqrtOp>(l, vhat), cst(b, l, eps));
          Value upd = b.create<arith::MulFOp>(l, lr, b.create<arith::DivFOp>(l, mhat, den));
          return {b.create<arith::SubFOp>(l, s[0], upd), m, v};
        });
    r.replaceOp(op, res);
    return success();
  }
};

struct LowerRMSProp : OpRewritePattern<RMSPropUpdateOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RMSPropUpdateOp op, PatternRewriter &r) const override {
    double rho = op.getRho().convertToFloat(), eps = op.getEpsilon().convertToFloat(),
           mom = op.getMomentum().convertToFloat();
    Value lr = op.getLr();
    auto res = updateLoop(
        r, op.getLoc(), op.getGrad(),
        ValueRange{op.getParam(), op.getMeanSquare(), op.getVelocity()},
        [&](OpBuilder &b, Location l, Value g, ValueRange s) -> SmallVector<Value> {
          Value ms = addf(b, l, b.create<arith::MulFOp>(l, s[1], cst(b, l, rho)),
                          b.create<arith::MulFOp>(
                              l, b.create<arith::MulFOp>(l, g, g), cst(b, l, 1 - rho)));
          Value den = addf(b, l, b.create<math::SqrtOp>(l, ms), cst(b, l, eps));
          Value step = b.create<arith::DivFOp>(l, b.create<arith::MulFOp>(l, lr, g), den);
          Value v = addf(b, l, b.create<arith::MulFOp>(l, s[2], cst(b, l, mom)), step);
          return {b.create<arith::SubFOp>(l, s[0], v), ms, v};
        });
    r.replaceOp(op, res);
    return success();
  }
};


//===----------------------------------------------------------------------===//
// Sequences and recurrence
//===----------------------------------------------------------------------===//

SmallVector<OpFoldResult> indexAttrs(OpBuilder &b, ArrayRef<int64_t> v) {
  SmallVector<OpFoldResult> r;
  for (int64_t x : v)
    r.push_back(b.getIndexAttr(x));
  return r;
}

struct LowerConcat : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op, PatternRewriter &r) const override {
    auto rt = tensorType(op.getResult());
    Value acc = empty(r, op.getLoc(), rt);
    int64_t begin = 0, rank = rt.getRank(), axis = op.getJoinAxis();
    for (Value v : op.getInputs()) {
      auto s = tensorType(v).getShape();
      SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
      offsets[axis] = begin;
      acc = r.create<tensor::InsertSliceOp>(op.getLoc(), v, acc, indexAttrs(r, offsets),
                                            indexAttrs(r, s), indexAttrs(r, strides));
      begin += s[axis];
    }
    r.replaceOp(op, acc);
    return success();
  }
};

struct LowerSlice : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceOp op, PatternRewriter &r) const override {
    auto rt = tensorType(op.getResult());
    int64_t rank = rt.getRank();
    SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
    offsets[op.getSliceAxis()] = op.getBegin();
    r.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, rt, op.getInput(), indexAttrs(r, offsets), indexAttrs(r, rt.getShape()),
        indexAttrs(r, strides));
    return success();
  }
};

struct LowerSliceGrad : OpRewritePattern<SliceGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SliceGradOp op, PatternRewriter &r) const override {
    auto gt = tensorType(op.getGrad());
    int64_t rank = gt.getRank();
    SmallVector<int64_t> offsets(rank, 0), strides(rank, 1);
    offsets[op.getSliceAxis()] = op.getBegin();
    Value z = fill(r, op.getLoc(), tensorType(op.getResult()), 0.0f);
    r.replaceOpWithNewOp<tensor::InsertSliceOp>(op, op.getGrad(), z,
                                                indexAttrs(r, offsets),
                                                indexAttrs(r, gt.getShape()),
                                                indexAttrs(r, strides));
    return success();
  }
};

// Clamps an id into [0, V) and says whether it was inside.
std::pair<Value, Value> clampId(OpBuilder &b, Location l, Value id, int64_t v) {
  Value zero = b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(0));
  Value top = b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(int32_t(v - 1)));
  Value ok = b.create<arith::AndIOp>(
      l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, id, zero),
      b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sle, id, top));
  Value c = b.create<arith::MinSIOp>(l, b.create<arith::MaxSIOp>(l, id, zero), top);
  return {b.create<arith::IndexCastOp>(l, b.getIndexType(), c), ok};
}

struct LowerEmbedding : OpRewritePattern<EmbeddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbeddingOp op, PatternRewriter &r) const override {
    MLIRContext *ctx = r.getContext();
    auto rt = tensorType(op.getResult());
    int64_t rank = rt.getRank();
    Value table = op.getTable();
    int64_t v = tensorType(table).getDimSize(0);
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    Value res = generic(
        r, op.getLoc(), op.getIds(), empty(r, op.getLoc(), rt),
        {id.getMajorSubMap(rank - 1), id}, parallel(rank),
        [&](OpBuilder &b, Location l, ValueRange a) {
          auto [row, ok] = clampId(b, l, a[0], v);
          Value col = b.create<linalg::IndexOp>(l, rank - 1);
          Value x = b.create<tensor::ExtractOp>(l, table, ValueRange{row, col});
          b.create<linalg::YieldOp>(
              l, Value(b.create<arith::SelectOp>(l, ok, x, cst(b, l, 0.0))));
        })[0];
    r.replaceOp(op, res);
    return success();
  }
};

// Every position of the cache is read and written (no in-place update of a
// function argument), the one at `position` from the value: [B, N, C] of a
// few hundred KB per step, small beside the weights a step reads.
// The value inserted at its position, in place: one-shot bufferization
// writes it into the cache buffer the step was given, and nothing else of
// the cache is read or written (a generic over the whole cache copied all of
// it, twice, for every layer and token). A position outside [0, N) changes
// nothing, as the op says: the row at the clamped position is written back
// as it was (no scf.if, whose yielded buffers bufferization would copy).
struct LowerCacheWrite : OpRewritePattern<CacheWriteOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CacheWriteOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto ct = tensorType(op.getCache());
    auto vt = tensorType(op.getValue());
    int64_t rank = ct.getRank();
    Value pos = r.create<arith::IndexCastOp>(loc, r.getIndexType(), op.getPosition());
    Value zero = r.create<arith::ConstantIndexOp>(loc, 0);
    Value last = r.create<arith::ConstantIndexOp>(loc, ct.getDimSize(1) - 1);
    Value inRange = r.create<arith::AndIOp>(
        loc, r.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, pos, zero),
        r.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, pos, last));
    Value at = r.create<arith::MinSIOp>(loc, r.create<arith::MaxSIOp>(loc, pos, zero), last);
    SmallVector<OpFoldResult> offsets(rank, r.getIndexAttr(0)), strides(rank, r.getIndexAttr(1));
    SmallVector<OpFoldResult> sizes;
    for (int64_t d : vt.getShape())
      sizes.push_back(r.getIndexAttr(d));
    offsets[1] = at;
    Value old = r.create<tensor::ExtractSliceOp>(loc, vt, op.getCache(), offsets, sizes, strides);
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, r.getContext());
    Value row = generic(r, loc, ValueRange{op.getValue(), old}, empty(r, loc, vt), {id, id, id},
                        parallel(rank), [&](OpBuilder &b, Location l, ValueRange a) {
                          b.create<linalg::YieldOp>(
                              l, Value(b.create<arith::SelectOp>(l, inRange, a[0], a[1])));
                        })[0];
    Value result = r.create<tensor::InsertSliceOp>(loc, row, op.getCache(), offsets, sizes, strides);
    // The step's copy of the new cache into the cache it was given (its
    // state, updated in place) is the write itself now.
    for (Operation *user : llvm::make_early_inc_range(op->getUsers()))
      if (auto copy = dyn_cast<linalg::CopyOp>(user))
        if (copy.getInputs().size() == 1 && copy.getInputs()[0] == op.getResult() &&
            copy.getOutputs()[0] == op.getCache())
          r.replaceOp(copy, result);
    r.replaceOp(op, result);
    return success();
  }
};

// Rows of dy added into a zero table at their ids: a loop, since several
// positions may hold the same id.
struct LowerEmbeddingGrad : OpRewritePattern<EmbeddingGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(EmbeddingGradOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto tt = tensorType(op.getResult());
    int64_t v = tt.getDimSize(0), e = tt.getDimSize(1);
    auto it = tensorType(op.getIds());
    int64_t n = it.getNumElements();
    Value ids = reshape(r, loc, op.getIds(),
                        RankedTensorType::get({n}, it.getElementType()));
    Value dy = reshape(r, loc, op.getGrad(),
                       RankedTensorType::get({n, e}, r.getF32Type()));
    Value init = fill(r, loc, tt, 0.0f);
    Value lb = r.create<arith::ConstantIndexOp>(loc, 0);
    Value ub = r.create<arith::ConstantIndexOp>(loc, n);
    Value one = r.create<arith::ConstantIndexOp>(loc, 1);
    auto rowT = RankedTensorType::get({e}, r.getF32Type());
    auto loop = r.create<scf::ForOp>(
        loc, lb, ub, one, ValueRange{init},
        [&](OpBuilder &b, Location l, Value i, ValueRange iter) {
          Value id = b.create<tensor::ExtractOp>(l, ids, ValueRange{i});
          auto [row, ok] = clampId(b, l, id, v);
          Value scale = b.create<arith::SelectOp>(l, ok, cst(b, l, 1.0), cst(b, l, 0.0));
          SmallVector<OpFoldResult> one2{b.getIndexAttr(1), b.getIndexAttr(1)};
          SmallVector<OpFoldResult> sizes{b.getIndexAttr(1), b.getIndexAttr(e)};
          Value g = b.create<tensor::ExtractSliceOp>(
              l, rowT, dy, SmallVector<OpFoldResult>{i, b.getIndexAttr(0)}, sizes, one2);
          Value cur = b.create<tensor::ExtractSliceOp>(
              l, rowT, iter[0], SmallVector<OpFoldResult>{row, b.getIndexAttr(0)}, sizes,
              one2);
          Value sum = elementwise(b, l, rowT, ValueRange{cur, g},
                                  [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                                    return addf(nb, nl, a[0],
                                                nb.create<arith::MulFOp>(nl, a[1], scale));
                                  });
          Value next = b.create<tensor::InsertSliceOp>(
              l, sum, iter[0], SmallVector<OpFoldResult>{row, b.getIndexAttr(0)}, sizes,
              one2);
          b.create<scf::YieldOp>(l, next);
        });
    r.replaceOp(op, loop.getResult(0));
    return success();
  }
};

struct LowerDropout : OpRewritePattern<DropoutOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DropoutOp op, PatternRewriter &r) const override {
    auto t = tensorType(op.getResult());
    double rate = op.getRate().convertToFloat();
    int64_t stream = op.getStream();
    Value key = op.getKey();
    Value v = elementwise(r, op.getLoc(), t, op.getInput(),
                          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                            Value i = linearIndex(b, l, t.getShape());
                            Value u = uniform01(b, l, key, stream, i);
                            Value keep = b.create<arith::CmpFOp>(
                                l, arith::CmpFPredicate::OGE, u, cst(b, l, rate));
                            Value scaled = b.create<arith::MulFOp>(
                                l, a[0], cst(b, l, 1.0 / (1.0 - rate)));
                            return b.create<arith::SelectOp>(l, keep, scaled,
                                                             cst(b, l, 0.0));
                          });
    r.replaceOp(op, v);
    return success();
  }
};

// The slice of a [B, T, ...] sequence at time step t (a rank-reducing
// slice: the step is [B, ...]).
struct StepSlice {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  RankedTensorType stepType;
};
StepSlice stepSlice(OpBuilder &b, Value seq, Value t) {
  auto st = tensorType(seq);
  int64_t rank = st.getRank();
  StepSlice r;
  SmallVector<int64_t> shape{st.getDimSize(0)};
  shape.append(st.getShape().begin() + 2, st.getShape().end());
  r.stepType = RankedTensorType::get(shape, st.getElementType());
  for (int64_t i = 0; i < rank; ++i) {
    r.offsets.push_back(i == 1 ? OpFoldResult(t) : OpFoldResult(b.getIndexAttr(0)));
    r.sizes.push_back(b.getIndexAttr(i == 1 ? 1 : st.getDimSize(i)));
    r.strides.push_back(b.getIndexAttr(1));
  }
  return r;
}

Value extractStep(OpBuilder &b, Location l, Value seq, Value t) {
  StepSlice s = stepSlice(b, seq, t);
  return b.create<tensor::ExtractSliceOp>(l, s.stepType, seq, s.offsets, s.sizes,
                                          s.strides);
}

Value insertStep(OpBuilder &b, Location l, Value step, Value seq, Value t) {
  StepSlice s = stepSlice(b, seq, t);
  return b.create<tensor::InsertSliceOp>(l, step, seq, s.offsets, s.sizes, s.strides);
}

// nn.scan as an scf.for over time carrying the states (and the output and
// saved-state sequences being filled); the body's nn ops are cloned into the
// loop and lowered by the other patterns.
struct LowerScan : OpRewritePattern<ScanOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScanOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    unsigned S = op.getNumStates(), K = op.getNumOutputs(), N = op.getSequences().size();
    int64_t T = op.getLength();
    bool seqOut = op.getReturnSequence(), save = op.getSaveStates(), rev = op.getReverse();
    Block &body = op.getBody().front();
    auto yield = cast<YieldOp>(body.getTerminator());
    // The loop writes the states in place, so each starts in a buffer of
    // its own (an init may be a constant or a value used elsewhere).
    SmallVector<Value> iters;
    for (Value init : op.getInits())
      iters.push_back(r.create<linalg::CopyOp>(loc, init, empty(r, loc, tensorType(init)))
                          .getResult(0));
    for (unsigned k = 0; k < K; ++k) {
      auto rt = tensorType(op.getResult(S + k));
      iters.push_back(seqOut ? empty(r, loc, rt) : fill(r, loc, rt, 0.0f));
    }
    if (save)
      for (unsigned i = 0; i < S; ++i)
        iters.push_back(empty(r, loc, tensorType(op.getResult(S + K + i))));
    unsigned R = op.getNumResiduals();
    for (Value res : op.getResidualSequences())
      iters.push_back(empty(r, loc, tensorType(res)));
    Value lb = r.create<arith::ConstantIndexOp>(loc, 0);
    Value ub = r.create<arith::ConstantIndexOp>(loc, T);
    Value one = r.create<arith::ConstantIndexOp>(loc, 1);
    auto loop = r.create<scf::ForOp>(
        loc, lb, ub, one, iters, [&](OpBuilder &b, Location l, Value i, ValueRange it) {
          Value t = i;
          if (rev)
            t = b.create<arith::SubIOp>(l, b.create<arith::ConstantIndexOp>(l, T - 1), i);
          // The state at the start of the step is saved before the step
          // overwrites it.
          SmallVector<Value> savedNext;
          if (save)
            for (unsigned s = 0; s < S; ++s)
              savedNext.push_back(insertStep(b, l, it[s], it[S + K + s], t));
          IRMapping map;
          for (unsigned s = 0; s < S; ++s)
            map.map(body.getArgument(s), it[s]);
          for (unsigned n = 0; n < N; ++n)
            map.map(body.getArgument(S + n), extractStep(b, l, op.getSequences()[n], t));
          for (unsigned c = 0; c < op.getCaptures().size(); ++c)
            map.map(body.getArgument(S + N + c), op.getCaptures()[c]);
          for (Operation &o : body.without_terminator())
            b.clone(o, map);
          // New states are copied into the loop-carried buffers: MLIR 16's
          // bufferization needs every yielded value to be its iter_arg's
          // buffer, and the copy comes after the step's last read of it.
          auto carry = [&](Value v, Value into) {
            return b.create<linalg::CopyOp>(l, v, into).getResult(0);
          };
          SmallVector<Value> next;
          for (unsigned s = 0; s < S; ++s)
            next.push_back(carry(map.lookupOrDefault(yield.getValues()[s]), it[s]));
          for (unsigned k = 0; k < K; ++k) {
            Value y = map.lookupOrDefault(yield.getValues()[S + k]);
            next.push_back(seqOut ? insertStep(b, l, y, it[S + k], t) : carry(y, it[S + k]));
          }
          next.append(savedNext);
          unsigned firstRes = S + K + (save ? S : 0);
          for (unsigned q = 0; q < R; ++q)
            next.push_back(insertStep(b, l, map.lookupOrDefault(yield.getValues()[S + K + q]),
                                      it[firstRes + q], t));
          b.create<scf::YieldOp>(l, next);
        });
    r.replaceOp(op, loop.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Transformer primitives (issue 4)
//===----------------------------------------------------------------------===//

// Per-row mean and 1 / sqrt(var + eps) of x [..., C] over the last axis.
// The variance is the mean of squared deviations from the mean (two passes),
// not E[x^2] - E[x]^2, which cancels badly for rows far from 0.
std::pair<Value, Value> layerNormStats(OpBuilder &b, Location loc, Value x, float eps) {
  double inv = 1.0 / double(tensorType(x).getShape().back());
  Value sum = reduceLast(
      b, loc, x, 0.0f, [](OpBuilder &, Location, ValueRange a) { return a[0]; }, addf);
  auto rowT = tensorType(sum);
  MLIRContext *ctx = b.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rowT.getRank(), ctx);
  Value mean = generic(b, loc, sum, empty(b, loc, rowT), {id, id}, parallel(rowT.getRank()),
                       [&](OpBuilder &nb, Location l, ValueRange a) {
                         nb.create<linalg::YieldOp>(
                             l, nb.create<arith::MulFOp>(l, a[0], cst(nb, l, inv)).getResult());
                       })[0];
  Value sq = reduceLast(
      b, loc, ValueRange{x, mean}, 0.0f,
      [](OpBuilder &nb, Location l, ValueRange a) -> Value {
        Value d = nb.create<arith::SubFOp>(l, a[0], a[1]);
        return nb.create<arith::MulFOp>(l, d, d);
      },
      addf);
  Value rstd = generic(b, loc, sq, empty(b, loc, rowT), {id, id}, parallel(rowT.getRank()),
                       [&](OpBuilder &nb, Location l, ValueRange a) {
                         Value var = nb.create<arith::MulFOp>(l, a[0], cst(nb, l, inv));
                         Value s = nb.create<math::SqrtOp>(
                             l, nb.create<arith::AddFOp>(l, var, cst(nb, l, eps)));
                         nb.create<linalg::YieldOp>(
                             l, nb.create<arith::DivFOp>(l, cst(nb, l, 1.0), s).getResult());
                       })[0];
  return {mean, rstd};
}

struct LowerLayerNorm : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto [mean, rstd] =
        layerNormStats(r, loc, op.getInput(), op.getEpsilon().convertToFloat());
    Value v = rowwise(r, loc, tensorType(op.getResult()), op.getInput(),
                      ValueRange{mean, rstd}, {},
                      [](OpBuilder &b, Location l, ValueRange a) -> Value {
                        return b.create<arith::MulFOp>(
                            l, b.create<arith::SubFOp>(l, a[0], a[1]), a[2]);
                      });
    r.replaceOp(op, v);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Attention shape primitives (issue 4)
//===----------------------------------------------------------------------===//

// A copy with permuted axes: result axis i is input axis perm[i].
Value permuteAxes(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> perm) {
  MLIRContext *ctx = b.getContext();
  auto t = tensorType(x);
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(t.getDimSize(p));
  auto outT = RankedTensorType::get(shape, t.getElementType());
  // Iterating over the result, input axis perm[i] is loop i.
  SmallVector<AffineExpr> in(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    in[perm[i]] = getAffineDimExpr(i, ctx);
  int64_t rank = int64_t(perm.size());
  return generic(b, loc, x, empty(b, loc, outT),
                 {AffineMap::get(rank, 0, in, ctx), AffineMap::getMultiDimIdentityMap(rank, ctx)},
                 parallel(rank), [](OpBuilder &nb, Location l, ValueRange a) {
                   nb.create<linalg::YieldOp>(l, a[0]);
                 })[0];
}

struct LowerTranspose : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &r) const override {
    r.replaceOp(op, permuteAxes(r, op.getLoc(), op.getInput(), op.getPermutation()));
    return success();
  }
};

// dx = rstd * (dy - mean(dy) - xhat * mean(dy * xhat)), xhat recomputed.
struct LowerLayerNormGrad : OpRewritePattern<LayerNormGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormGradOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    Value x = op.getInput(), dy = op.getGrad();
    double inv = 1.0 / double(tensorType(x).getShape().back());
    auto [mean, rstd] = layerNormStats(r, loc, x, op.getEpsilon().convertToFloat());
    Value sumDy = reduceLast(
        r, loc, dy, 0.0f, [](OpBuilder &, Location, ValueRange a) { return a[0]; }, addf);
    // sum(dy * xhat): x, dy elementwise; mean, rstd per row.
    Value sumDyXhat = reduceLast(
        r, loc, ValueRange{x, dy, mean, rstd}, 0.0f,
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value xhat = b.create<arith::MulFOp>(l, b.create<arith::SubFOp>(l, a[0], a[2]), a[3]);
          return b.create<arith::MulFOp>(l, a[1], xhat);
        },
        addf);
    Value v = rowwise(r, loc, tensorType(op.getResult()), ValueRange{x, dy},
                      ValueRange{mean, rstd, sumDy, sumDyXhat}, {},
                      [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                        Value xhat = b.create<arith::MulFOp>(
                            l, b.create<arith::SubFOp>(l, a[0], a[2]), a[3]);
                        Value mdy = b.create<arith::MulFOp>(l, a[4], cst(b, l, inv));
                        Value mdyx = b.create<arith::MulFOp>(l, a[5], cst(b, l, inv));
                        Value t = b.create<arith::SubFOp>(l, a[1], mdy);
                        t = b.create<arith::SubFOp>(l, t, b.create<arith::MulFOp>(l, xhat, mdyx));
                        return b.create<arith::MulFOp>(l, a[3], t);
                      });
    r.replaceOp(op, v);
    return success();
  }
};

// GELU's tanh approximation: sqrt(2 / pi) and the cubic's coefficient.
constexpr double kGeluK = 0.7978845608028654;
constexpr double kGeluC = 0.044715;

// tanh(sqrt(2/pi) * (x + c x^3))
Value geluTanh(OpBuilder &b, Location l, Value x) {
  Value x2 = b.create<arith::MulFOp>(l, x, x);
  Value inner = b.create<arith::AddFOp>(
      l, cst(b, l, 1.0), b.create<arith::MulFOp>(l, x2, cst(b, l, kGeluC)));
  Value u = b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, x, inner), cst(b, l, kGeluK));
  return b.create<math::TanhOp>(l, u);
}

struct LowerGelu : OpRewritePattern<GeluOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GeluOp op, PatternRewriter &r) const override {
    Value v = elementwise(r, op.getLoc(), tensorType(op.getResult()), op.getInput(),
                          [](OpBuilder &b, Location l, ValueRange a) -> Value {
                            Value t = geluTanh(b, l, a[0]);
                            Value hx = b.create<arith::MulFOp>(l, a[0], cst(b, l, 0.5));
                            return b.create<arith::MulFOp>(
                                l, hx, b.create<arith::AddFOp>(l, cst(b, l, 1.0), t));
                          });
    r.replaceOp(op, v);
    return success();
  }
};

// dy * (0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2))
struct LowerGeluGrad : OpRewritePattern<GeluGradOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GeluGradOp op, PatternRewriter &r) const override {
    Value v = elementwise(
        r, op.getLoc(), tensorType(op.getResult()), ValueRange{op.getInput(), op.getGrad()},
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value x = a[0];
          Value t = geluTanh(b, l, x);
          Value half = cst(b, l, 0.5), one = cst(b, l, 1.0);
          Value left = b.create<arith::MulFOp>(l, half, b.create<arith::AddFOp>(l, one, t));
          Value sech2 = b.create<arith::SubFOp>(l, one, b.create<arith::MulFOp>(l, t, t));
          Value x2 = b.create<arith::MulFOp>(l, x, x);
          Value du = b.create<arith::MulFOp>(
              l, cst(b, l, kGeluK),
              b.create<arith::AddFOp>(l, one,
                                      b.create<arith::MulFOp>(l, x2, cst(b, l, 3 * kGeluC))));
          Value right = b.create<arith::MulFOp>(
              l, b.create<arith::MulFOp>(l, half, x), b.create<arith::MulFOp>(l, sech2, du));
          return b.create<arith::MulFOp>(l, a[1], b.create<arith::AddFOp>(l, left, right));
        });
    r.replaceOp(op, v);
    return success();
  }
};

struct LowerCausalMask : OpRewritePattern<CausalMaskOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CausalMaskOp op, PatternRewriter &r) const override {
    auto t = tensorType(op.getResult());
    int64_t rank = t.getRank();
    Value offset = op.getOffset();
    float fillValue = op.getFill().convertToFloat();
    // x: [..., T, T']; masked where j > i + offset.
    Value v = elementwise(
        r, op.getLoc(), t, op.getInput(), [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          auto idx = [&](int64_t d) -> Value {
            return b.create<arith::IndexCastOp>(l, b.getI64Type(),
                                                b.create<linalg::IndexOp>(l, d));
          };
          Value i = idx(rank - 2), j = idx(rank - 1);
          if (offset)
            i = b.create<arith::AddIOp>(l, i, offset);
          Value masked = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, j, i);
          return b.create<arith::SelectOp>(l, masked, cst(b, l, fillValue), a[0]);
        });
    r.replaceOp(op, v);
    return success();
  }
};

struct LowerMask : OpRewritePattern<MaskOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MaskOp op, PatternRewriter &r) const override {
    float fillValue = op.getFill().convertToFloat();
    Value v = elementwise(r, op.getLoc(), tensorType(op.getResult()),
                          ValueRange{op.getInput(), op.getKeep()},
                          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                            Value keep = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNE,
                                                                 a[1], cst(b, l, 0.0));
                            return b.create<arith::SelectOp>(l, keep, a[0],
                                                             cst(b, l, fillValue));
                          });
    r.replaceOp(op, v);
    return success();
  }
};

struct LowerNotPadding : OpRewritePattern<NotPaddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(NotPaddingOp op, PatternRewriter &r) const override {
    Value v = elementwise(r, op.getLoc(), tensorType(op.getResult()), op.getIds(),
                          [](OpBuilder &b, Location l, ValueRange a) -> Value {
                            Value zero = b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(0));
                            Value pad = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq,
                                                                a[0], zero);
                            return b.create<arith::SelectOp>(l, pad, cst(b, l, 0.0),
                                                             cst(b, l, 1.0));
                          });
    r.replaceOp(op, v);
    return success();
  }
};

struct LowerRange : OpRewritePattern<RangeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RangeOp op, PatternRewriter &r) const override {
    MLIRContext *ctx = r.getContext();
    auto t = tensorType(op.getResult());
    Value offset = op.getOffset();
    Value v = generic(r, op.getLoc(), ValueRange{}, empty(r, op.getLoc(), t),
                      {AffineMap::getMultiDimIdentityMap(1, ctx)}, parallel(1),
                      [&](OpBuilder &b, Location l, ValueRange) {
                        Value i = b.create<arith::IndexCastOp>(
                            l, b.getI64Type(), b.create<linalg::IndexOp>(l, 0));
                        if (offset)
                          i = b.create<arith::AddIOp>(l, i, offset);
                        b.create<linalg::YieldOp>(
                            l, b.create<arith::TruncIOp>(l, b.getI32Type(), i).getResult());
                      })[0];
    r.replaceOp(op, v);
    return success();
  }
};

// One product per leading index, each the canonical (m,k),(k,n),(m,n)
// generic that nnc-schedule-matmuls tiles into AVX register blocks: an
// scf.for over the flattened leading dimensions slices [M, K] and [K, N]
// out of [L, M, K] and [L, K, N] and inserts [M, N] into [L, M, N].
// Transposed operands are handled as for nn.matmul: A^T read in place, B^T
// copied.
struct LowerBatchMatMul : OpRewritePattern<BatchMatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchMatMulOp op, PatternRewriter &r) const override {
    MLIRContext *ctx = r.getContext();
    Location loc = op.getLoc();
    auto rt = tensorType(op.getResult());
    int64_t rank = rt.getRank();
    int64_t lead = 1;
    for (int64_t d : rt.getShape().drop_back(2))
      lead *= d;
    auto flat3 = [&](Value v, bool transposed) {
      auto t = tensorType(v);
      int64_t rows = t.getDimSize(rank - 2), cols = t.getDimSize(rank - 1);
      v = reshape(r, loc, v, RankedTensorType::get({lead, rows, cols}, t.getElementType()));
      if (transposed)
        v = permuteAxes(r, loc, v, {0, 2, 1});
      return v;
    };
    bool ta = op.getTransposeA();
    Value a = flat3(op.getLhs(), false); // [L, K, M] when ta
    Value bm = flat3(op.getRhs(), op.getTransposeB());
    int64_t m = rt.getDimSize(rank - 2), n = rt.getDimSize(rank - 1);
    int64_t k = tensorType(a).getDimSize(ta ? 1 : 2);
    auto f32 = r.getF32Type();
    auto accT = RankedTensorType::get({lead, m, n}, f32);
    auto aT = ta ? RankedTensorType::get({k, m}, f32) : RankedTensorType::get({m, k}, f32),
         bT = RankedTensorType::get({k, n}, f32),
         cT = RankedTensorType::get({m, n}, f32);
    Value lb = r.create<arith::ConstantIndexOp>(loc, 0);
    Value ub = r.create<arith::ConstantIndexOp>(loc, lead);
    Value one = r.create<arith::ConstantIndexOp>(loc, 1);
    AffineExpr dm = getAffineDimExpr(0, ctx), dn = getAffineDimExpr(1, ctx),
               dk = getAffineDimExpr(2, ctx);
    auto map = [&](AffineExpr x, AffineExpr y) { return AffineMap::get(3, 0, {x, y}, ctx); };
    auto loop = r.create<scf::ForOp>(
        loc, lb, ub, one, ValueRange{empty(r, loc, accT)},
        [&](OpBuilder &b, Location l, Value i, ValueRange it) {
          auto slice3 = [&](int64_t rows, int64_t cols) {
            return std::make_tuple(
                SmallVector<OpFoldResult>{i, b.getIndexAttr(0), b.getIndexAttr(0)},
                SmallVector<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(rows),
                                          b.getIndexAttr(cols)},
                SmallVector<OpFoldResult>(3, b.getIndexAttr(1)));
          };
          auto [ao, as, ast] = ta ? slice3(k, m) : slice3(m, k);
          Value ai = b.create<tensor::ExtractSliceOp>(l, aT, a, ao, as, ast);
          auto [bo, bs, bst] = slice3(k, n);
          Value bi = b.create<tensor::ExtractSliceOp>(l, bT, bm, bo, bs, bst);
          Value ci = generic(b, l, ValueRange{ai, bi}, fill(b, l, cT, 0.0f),
                             {ta ? map(dk, dm) : map(dm, dk), map(dk, dn), map(dm, dn)},
                             {utils::IteratorType::parallel, utils::IteratorType::parallel,
                              utils::IteratorType::reduction},
                             [](OpBuilder &nb, Location nl, ValueRange args) {
                               Value p = nb.create<arith::MulFOp>(nl, args[0], args[1]);
                               nb.create<linalg::YieldOp>(nl, addf(nb, nl, args[2], p));
                             })[0];
          auto [co, cs, cst2] = slice3(m, n);
          Value next = b.create<tensor::InsertSliceOp>(l, ci, it[0], co, cs, cst2);
          b.create<scf::YieldOp>(l, next);
        });
    // The slices write disjoint [M, N] blocks: when each slice is too small
    // for nnc-schedule-matmuls to split it between threads (under 2^20
    // multiply-adds: attention's [T, D] x [D, T] per head) but all of them
    // together are not, the loop over slices is the threads' share
    // (nnc-parallelize-loops, after bufferization). A per-slice product that
    // is marked itself keeps this loop sequential: one level of threads.
    constexpr int64_t kMinParallelWork = int64_t(1) << 20;
    if (m * n * k < kMinParallelWork && lead * m * n * k >= kMinParallelWork && lead >= 2)
      loop->setAttr("nnc.parallel", r.getUnitAttr());
    r.replaceOp(op, reshape(r, loc, loop.getResult(0), rt));
    return success();
  }
};

struct ConvertNNToLinalgPass
    : public nnc::impl::ConvertNNToLinalgBase<ConvertNNToLinalgPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerConstant, LowerAdd, LowerSub, LowerMul, LowerDiv, LowerNeg,
                 LowerRelu, LowerSigmoid, LowerTanh, LowerExp, LowerLog,
                 LowerSqrt, LowerBroadcastTo, LowerReluGrad, LowerSumTo,
                 LowerReshape, LowerMatMul, LowerSoftmax, LowerLogSoftmax,
                 LowerSoftmaxGrad, LowerLogSoftmaxGrad, LowerCrossEntropy,
                 LowerCrossEntropyGrad, LowerMSE, LowerMSEGrad,
                 LowerRandom<RandomUniformOp>, LowerRandom<RandomNormalOp>,
                 LowerSGD, LowerAdam, LowerRMSProp, LowerConcat, LowerSlice,
                 LowerSliceGrad, LowerEmbedding, LowerEmbeddingGrad, LowerDropout,
                 LowerScan>(&getContext());
    patterns.add<LowerCacheWrite>(&getContext());
    // Transformer primitives (issue 4):
    patterns.add<LowerLayerNorm, LowerLayerNormGrad, LowerGelu, LowerGeluGrad,
                 LowerCausalMask, LowerMask, LowerNotPadding, LowerRange>(&getContext());
    // Attention shape primitives (issue 4).
    patterns.add<LowerBatchMatMul, LowerTranspose>(&getContext());
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
