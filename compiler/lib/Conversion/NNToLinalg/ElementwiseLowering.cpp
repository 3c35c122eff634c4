// Lowers constants, elementwise ops (read broadcast), sum_to and reshape.
// The unary functions bring their scalar bodies (ElementwiseOpInterface);
// the binary operators and the gradient helpers have theirs here.
#include "LoweringUtils.h"

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn_to_linalg;

namespace {

struct LowerConstant : OpRewritePattern<ConstantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConstantOp op, PatternRewriter &r) const override {
    auto attr = DenseElementsAttr::get(tensorType(op.getResult()), op.getValueAttr());
    r.replaceOpWithNewOp<arith::ConstantOp>(op, attr);
    return success();
  }
};

template <typename Op> struct LowerElementwise : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  virtual Value compute(OpBuilder &b, Location l, ValueRange a) const = 0;
  LogicalResult matchAndRewrite(Op op, PatternRewriter &r) const override {
    Value v =
        elementwise(r, op.getLoc(), tensorType(op.getResult()).template cast<RankedTensorType>(),
                    op->getOperands(),
                    [&](OpBuilder &b, Location l, ValueRange a) { return compute(b, l, a); });
    r.replaceOp(op, v);
    return success();
  }
};

#define NN_ELEMENTWISE(NAME, OP, EXPR)                                                             \
  struct NAME : LowerElementwise<OP> {                                                             \
    using LowerElementwise::LowerElementwise;                                                      \
    Value compute(OpBuilder &b, Location l, ValueRange a) const override { return EXPR; }          \
  };

NN_ELEMENTWISE(LowerAdd, AddOp, b.create<arith::AddFOp>(l, a[0], a[1]))
NN_ELEMENTWISE(LowerSub, SubOp, b.create<arith::SubFOp>(l, a[0], a[1]))
NN_ELEMENTWISE(LowerMul, MulOp, b.create<arith::MulFOp>(l, a[0], a[1]))
NN_ELEMENTWISE(LowerDiv, DivOp, b.create<arith::DivFOp>(l, a[0], a[1]))
NN_ELEMENTWISE(LowerBroadcastTo, BroadcastToOp, a[0])
NN_ELEMENTWISE(LowerReluGrad, ReluGradOp,
               b.create<arith::SelectOp>(l,
                                         b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, a[0],
                                                                 cst(b, l, 0.0)),
                                         a[1], cst(b, l, 0.0)))
#undef NN_ELEMENTWISE

// Every op with ElementwiseOpInterface (the unary functions of
// NNArithmeticOps.td): a generic over the result's shape whose body is the
// op's own buildScalar, so a new op of the kind needs no pattern here.
struct LowerElementwiseInterface : OpInterfaceRewritePattern<ElementwiseOpInterface> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;
  LogicalResult matchAndRewrite(ElementwiseOpInterface op, PatternRewriter &r) const override {
    Operation *o = op.getOperation();
    Value v = elementwise(
        r, o->getLoc(), tensorType(o->getResult(0)), o->getOperands(),
        [&](OpBuilder &b, Location l, ValueRange a) { return op.buildScalar(b, l, a); });
    r.replaceOp(o, v);
    return success();
  }
};

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

} // namespace

void nnc::nn_to_linalg::populateElementwisePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerConstant, LowerAdd, LowerSub, LowerMul, LowerDiv, LowerElementwiseInterface,
               LowerBroadcastTo, LowerReluGrad, LowerSumTo, LowerReshape>(patterns.getContext());
}
