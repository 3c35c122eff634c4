// Lowers the elementwise transformer primitives (issue 4): GELU, masks,
// padding and position ranges.
#include "LoweringUtils.h"

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn_to_linalg;

namespace {

// GELU's tanh approximation: sqrt(2 / pi) and the cubic's coefficient.
constexpr double kGeluK = 0.7978845608028654;
constexpr double kGeluC = 0.044715;

// tanh(sqrt(2/pi) * (x + c x^3))
Value geluTanh(OpBuilder &b, Location l, Value x) {
  Value x2 = b.create<arith::MulFOp>(l, x, x);
  Value inner =
      b.create<arith::AddFOp>(l, cst(b, l, 1.0), b.create<arith::MulFOp>(l, x2, cst(b, l, kGeluC)));
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
          Value right = b.create<arith::MulFOp>(l, b.create<arith::MulFOp>(l, half, x),
                                                b.create<arith::MulFOp>(l, sech2, du));
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
            return b.create<arith::IndexCastOp>(l, b.getI64Type(), b.create<linalg::IndexOp>(l, d));
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
    Value v = elementwise(
        r, op.getLoc(), tensorType(op.getResult()), ValueRange{op.getInput(), op.getKeep()},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value keep = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNE, a[1], cst(b, l, 0.0));
          return b.create<arith::SelectOp>(l, keep, a[0], cst(b, l, fillValue));
        });
    r.replaceOp(op, v);
    return success();
  }
};

struct LowerNotPadding : OpRewritePattern<NotPaddingOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(NotPaddingOp op, PatternRewriter &r) const override {
    Value v =
        elementwise(r, op.getLoc(), tensorType(op.getResult()), op.getIds(),
                    [](OpBuilder &b, Location l, ValueRange a) -> Value {
                      Value zero = b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(0));
                      Value pad = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, a[0], zero);
                      return b.create<arith::SelectOp>(l, pad, cst(b, l, 0.0), cst(b, l, 1.0));
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
    Value v = generic(
        r, op.getLoc(), ValueRange{}, empty(r, op.getLoc(), t),
        {AffineMap::getMultiDimIdentityMap(1, ctx)}, parallel(1),
        [&](OpBuilder &b, Location l, ValueRange) {
          Value i =
              b.create<arith::IndexCastOp>(l, b.getI64Type(), b.create<linalg::IndexOp>(l, 0));
          if (offset)
            i = b.create<arith::AddIOp>(l, i, offset);
          b.create<linalg::YieldOp>(l, b.create<arith::TruncIOp>(l, b.getI32Type(), i).getResult());
        })[0];
    r.replaceOp(op, v);
    return success();
  }
};

} // namespace

void nnc::nn_to_linalg::populateTransformerPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerGelu, LowerGeluGrad, LowerCausalMask, LowerMask, LowerNotPadding, LowerRange>(
      patterns.getContext());
}
