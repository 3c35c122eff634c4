// Lowers the ops that draw random numbers (nn.random_uniform, nn.random_normal,
// nn.dropout) from a counter-based hash, so that a draw depends only on its
// seed, stream and element.
#include "LoweringUtils.h"

#include <cmath>

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn_to_linalg;

namespace {

// The flat row-major index of the current element of a generic, as i64,
// over its loops `first`.. (of sizes `shape`).
Value linearIndex(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, unsigned first = 0) {
  Value idx = b.create<arith::ConstantIndexOp>(loc, 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    Value d = b.create<linalg::IndexOp>(loc, first + i);
    Value n = b.create<arith::ConstantIndexOp>(loc, shape[i]);
    idx = b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, idx, n), d);
  }
  return b.create<arith::IndexCastOp>(loc, b.getI64Type(), idx);
}

constexpr uint64_t kStreamMul = 0xD1B54A32D192ED03ull;

// A uniform float in [0, 1) from a hash of (seed, stream, counter):
// splitmix64's finalizer, which passes BigCrush on a counter. `stream` is
// the stream's term of the hash, stream * kStreamMul (streamTerm).
Value uniform01(OpBuilder &b, Location loc, Value seed, Value stream, Value counter) {
  auto c = [&](uint64_t v) {
    return b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(int64_t(v)));
  };
  Value x = b.create<arith::MulIOp>(loc, seed, c(0x9E3779B97F4A7C15ull));
  x = b.create<arith::AddIOp>(loc, x, stream);
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

Value streamTerm(OpBuilder &b, Location loc, int64_t stream) {
  return b.create<arith::ConstantOp>(loc,
                                     b.getI64IntegerAttr(int64_t(uint64_t(stream) * kStreamMul)));
}

template <typename Op> struct LowerRandom : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  LogicalResult matchAndRewrite(Op op, PatternRewriter &r) const override {
    auto t = tensorType(op.getResult()).template cast<RankedTensorType>();
    MLIRContext *ctx = r.getContext();
    Value seed = op.getSeed();
    int64_t stream = op.getStream();
    std::optional<uint64_t> step = op.getStreamStep();
    Value v = generic(
        r, op.getLoc(), ValueRange{}, empty(r, op.getLoc(), t),
        {AffineMap::getMultiDimIdentityMap(t.getRank(), ctx)}, parallel(t.getRank()),
        [&](OpBuilder &b, Location l, ValueRange) {
          Value s = streamTerm(b, l, stream), i;
          if (step && t.getRank() >= 1) {
            // Slice k: stream + k * step, counted within the slice.
            Value k =
                b.create<arith::IndexCastOp>(l, b.getI64Type(), b.create<linalg::IndexOp>(l, 0));
            Value perSlice =
                b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(int64_t(*step * kStreamMul)));
            s = b.create<arith::AddIOp>(l, s, b.create<arith::MulIOp>(l, k, perSlice));
            i = linearIndex(b, l, t.getShape().drop_front(), 1);
          } else {
            i = linearIndex(b, l, t.getShape());
          }
          b.create<linalg::YieldOp>(l, sample(op, b, l, seed, s, i));
        })[0];
    r.replaceOp(op, v);
    return success();
  }
  static Value sample(RandomUniformOp op, OpBuilder &b, Location l, Value seed, Value stream,
                      Value i) {
    Value u = uniform01(b, l, seed, stream, i);
    double lo = op.getLow().convertToFloat(), hi = op.getHigh().convertToFloat();
    return addf(b, l, cst(b, l, lo), b.create<arith::MulFOp>(l, u, cst(b, l, hi - lo)));
  }
  static Value sample(RandomNormalOp op, OpBuilder &b, Location l, Value seed, Value stream,
                      Value i) {
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

struct LowerDropout : OpRewritePattern<DropoutOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DropoutOp op, PatternRewriter &r) const override {
    auto t = tensorType(op.getResult());
    double rate = op.getRate().convertToFloat();
    int64_t stream = op.getStream();
    // key: the step in the low 40 bits, the batch's first row above (0 for
    // a whole batch, as before row offsets existed).
    Location loc = op.getLoc();
    auto i64c = [&](int64_t v) { return r.create<arith::ConstantOp>(loc, r.getI64IntegerAttr(v)); };
    Value key = r.create<arith::AndIOp>(loc, op.getKey(), i64c((int64_t(1) << 40) - 1));
    Value rowOffset = r.create<arith::ShRUIOp>(loc, op.getKey(), i64c(40));
    int64_t rowElems = t.getRank() ? t.getNumElements() / t.getDimSize(0) : 1;
    Value shift = r.create<arith::MulIOp>(loc, rowOffset, i64c(rowElems));
    Value v =
        elementwise(r, loc, t, op.getInput(), [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value i = b.create<arith::AddIOp>(l, linearIndex(b, l, t.getShape()), shift);
          Value u = uniform01(b, l, key, streamTerm(b, l, stream), i);
          Value keep = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGE, u, cst(b, l, rate));
          Value scaled = b.create<arith::MulFOp>(l, a[0], cst(b, l, 1.0 / (1.0 - rate)));
          return b.create<arith::SelectOp>(l, keep, scaled, cst(b, l, 0.0));
        });
    r.replaceOp(op, v);
    return success();
  }
};

} // namespace

void nnc::nn_to_linalg::populateRandomPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerRandom<RandomUniformOp>, LowerRandom<RandomNormalOp>, LowerDropout>(
      patterns.getContext());
}
