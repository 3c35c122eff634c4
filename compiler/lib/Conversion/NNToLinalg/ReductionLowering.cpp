// Lowers the ops that reduce along an axis: softmax and its gradients, the
// losses (cross-entropy, MSE) and layer norm.
#include "LoweringUtils.h"

#include <cmath>

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn_to_linalg;

namespace {

// The max of each row of x [..., C]. A max has no order to relax (unlike a
// sum), and LLVM 16 does not vectorize a maxnum reduction, so rows of C = 16k
// are first reduced to 16 partial maxima per row, an elementwise max over
// vectors of 16 ([..., C/16, 16] -> [..., 16]), and those 16 then to one:
// the attention softmax's row max ran as a scalar loop, 4% of the tiny GPT's
// train step.
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
  Value partial = generic(
      b, loc, x3, fill(b, loc, partialT, -INFINITY),
      {AffineMap::getMultiDimIdentityMap(r + 1, ctx), AffineMap::get(r + 1, 0, outDims, ctx)},
      iters, [](OpBuilder &nb, Location l, ValueRange a) {
        nb.create<linalg::YieldOp>(l, maxf(nb, l, a[1], a[0]));
      })[0];
  return reduceLast(b, loc, partial, -INFINITY, takeIt, maxf);
}

// Sum of the weights of a batch, as a 0-d tensor, floored so that an
// all-padding batch divides 0 by a positive number.
Value weightSum(OpBuilder &b, Location loc, Value w) {
  MLIRContext *ctx = b.getContext();
  auto scalarT = RankedTensorType::get({}, b.getF32Type());
  Value s = generic(b, loc, w, fill(b, loc, scalarT, 0.0f),
                    {AffineMap::getMultiDimIdentityMap(1, ctx), AffineMap::get(1, 0, {}, ctx)},
                    {utils::IteratorType::reduction}, [](OpBuilder &nb, Location l, ValueRange a) {
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

// ---- reductions along any axis (softmax with an axis, issue 4) ----------

// Reads per-row tensors broadcast over `t`: `full` elementwise, `rows` as
// statistics reduced along `axis` (indexed by the other dimensions, which
// broadcastMap would misalign), `scalars` as 0-d tensors.
Value alongAxis(OpBuilder &b, Location loc, RankedTensorType t, ValueRange full, ValueRange rows,
                ValueRange scalars, int64_t axis,
                function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = t.getRank();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  SmallVector<AffineMap> maps;
  SmallVector<Value> ins;
  auto add = [&](ValueRange vs, AffineMap map) {
    for (Value v : vs) {
      maps.push_back(map);
      ins.push_back(v);
    }
  };
  add(full, id);
  add(rows, dropAxisMap(ctx, rank, axis));
  add(scalars, AffineMap::get(rank, 0, {}, ctx));
  maps.push_back(id);
  return generic(b, loc, ins, empty(b, loc, t), maps, parallel(rank),
                 [&](OpBuilder &nb, Location l, ValueRange a) {
                   nb.create<linalg::YieldOp>(l, fn(nb, l, a.drop_back()));
                 })[0];
}

// alongAxis over the last axis: rows of [..., C] and their statistics [...].
Value rowwise(OpBuilder &b, Location loc, RankedTensorType t, ValueRange full, ValueRange rows,
              ValueRange scalars, function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  return alongAxis(b, loc, t, full, rows, scalars, t.getRank() - 1, fn);
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

// Row statistics of logits [..., C]: the max and the sum of exp(x - max).
std::pair<Value, Value> softmaxStats(OpBuilder &b, Location loc, Value x) {
  return softmaxStatsAxis(b, loc, x, tensorType(x).getRank() - 1);
}

struct LowerSoftmax : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    int64_t axis = op.getAxisIndex();
    auto [mx, se] = softmaxStatsAxis(r, loc, op.getInput(), axis);
    Value v = alongAxis(r, loc, tensorType(op.getResult()), op.getInput(), ValueRange{mx, se}, {},
                        axis, [](OpBuilder &b, Location l, ValueRange a) -> Value {
                          Value e =
                              b.create<math::ExpOp>(l, b.create<arith::SubFOp>(l, a[0], a[1]));
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
    Value v = alongAxis(r, loc, tensorType(op.getResult()), op.getInput(), ValueRange{mx, se}, {},
                        axis, [](OpBuilder &b, Location l, ValueRange a) -> Value {
                          Value s = b.create<arith::SubFOp>(l, a[0], a[1]);
                          return b.create<arith::SubFOp>(l, s, b.create<math::LogOp>(l, a[2]));
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
    Value v =
        alongAxis(r, loc, tensorType(op.getResult()), ValueRange{op.getOutput(), op.getGrad()}, dot,
                  {}, axis, [](OpBuilder &b, Location l, ValueRange a) -> Value {
                    return b.create<arith::MulFOp>(l, a[0], b.create<arith::SubFOp>(l, a[1], a[2]));
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
        r, loc, op.getGrad(), axis, 0.0f, [](OpBuilder &, Location, ValueRange a) { return a[0]; },
        addf);
    Value v =
        alongAxis(r, loc, tensorType(op.getResult()), ValueRange{op.getOutput(), op.getGrad()}, sum,
                  {}, axis, [](OpBuilder &b, Location l, ValueRange a) -> Value {
                    Value e = b.create<math::ExpOp>(l, a[0]);
                    return b.create<arith::SubFOp>(l, a[1], b.create<arith::MulFOp>(l, e, a[2]));
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
        Value c =
            nb.create<arith::IndexCastOp>(l, nb.getI32Type(), nb.create<linalg::IndexOp>(l, 1));
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
                       Value ignored =
                           nb.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, a[1],
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
                                  Value lse = addf(b, l, a[0], b.create<math::LogOp>(l, a[1]));
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
  LogicalResult matchAndRewrite(CrossEntropyGradOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto [mx, se] = softmaxStats(r, loc, op.getLogits());
    Value w = labelledWeights(r, loc, op.getWeights(), op.getLabels());
    Value den = weightSum(r, loc, w);
    Value v = rowwise(
        r, loc, tensorType(op.getResult()), op.getLogits(), ValueRange{mx, se, op.getLabels(), w},
        ValueRange{den, op.getGrad()}, [](OpBuilder &b, Location l, ValueRange a) -> Value {
          // a: x, max, sumexp, label, w, den, dloss
          Value p = b.create<arith::DivFOp>(
              l, b.create<math::ExpOp>(l, b.create<arith::SubFOp>(l, a[0], a[1])), a[2]);
          Value c =
              b.create<arith::IndexCastOp>(l, b.getI32Type(), b.create<linalg::IndexOp>(l, 1));
          Value hit = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, c, a[3]);
          p = b.create<arith::SubFOp>(
              l, p, b.create<arith::SelectOp>(l, hit, cst(b, l, 1.0), cst(b, l, 0.0)));
          Value scale = b.create<arith::DivFOp>(l, b.create<arith::MulFOp>(l, a[4], a[6]), a[5]);
          return b.create<arith::MulFOp>(l, p, scale);
        });
    r.replaceOp(op, v);
    return success();
  }
};

// The denominator the losses' means divide by (weightSum's floor included).
struct LowerLossWeight : OpRewritePattern<LossWeightOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LossWeightOp op, PatternRewriter &r) const override {
    Value w = op.getWeights();
    if (Value labels = op.getLabels())
      w = labelledWeights(r, op.getLoc(), w, labels);
    r.replaceOp(op, weightSum(r, op.getLoc(), w));
    return success();
  }
};

// [N, ...] -> [N, F] so that per-row reductions are over the last axis.
Value rowsOf(OpBuilder &b, Location loc, Value x) {
  auto t = tensorType(x);
  int64_t n = t.getDimSize(0);
  return reshape(b, loc, x, RankedTensorType::get({n, t.getNumElements() / n}, t.getElementType()));
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
    Value g = rowwise(r, loc, rt, ValueRange{p, t}, op.getWeights(), ValueRange{den, op.getGrad()},
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
  Value rstd = generic(
      b, loc, sq, empty(b, loc, rowT), {id, id}, parallel(rowT.getRank()),
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value var = nb.create<arith::MulFOp>(l, a[0], cst(nb, l, inv));
        Value s = nb.create<math::SqrtOp>(l, nb.create<arith::AddFOp>(l, var, cst(nb, l, eps)));
        nb.create<linalg::YieldOp>(l, nb.create<arith::DivFOp>(l, cst(nb, l, 1.0), s).getResult());
      })[0];
  return {mean, rstd};
}

struct LowerLayerNorm : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op, PatternRewriter &r) const override {
    Location loc = op.getLoc();
    auto [mean, rstd] = layerNormStats(r, loc, op.getInput(), op.getEpsilon().convertToFloat());
    Value v =
        rowwise(r, loc, tensorType(op.getResult()), op.getInput(), ValueRange{mean, rstd}, {},
                [](OpBuilder &b, Location l, ValueRange a) -> Value {
                  return b.create<arith::MulFOp>(l, b.create<arith::SubFOp>(l, a[0], a[1]), a[2]);
                });
    r.replaceOp(op, v);
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

} // namespace

void nnc::nn_to_linalg::populateReductionPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerSoftmax, LowerLogSoftmax, LowerSoftmaxGrad, LowerLogSoftmaxGrad,
               LowerCrossEntropy, LowerCrossEntropyGrad, LowerLossWeight, LowerMSE, LowerMSEGrad,
               LowerLayerNorm, LowerLayerNormGrad>(patterns.getContext());
}
