// Lowers the optimizer updates (SGD, Adam, RMSProp).
#include "LoweringUtils.h"

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn_to_linalg;

namespace {

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

} // namespace

void nnc::nn_to_linalg::populateOptimizerPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerSGD, LowerAdam, LowerRMSProp>(patterns.getContext());
}
