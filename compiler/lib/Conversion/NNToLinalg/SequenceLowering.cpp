// Lowers the ops that cut and join tensors or index them by id: concat,
// slice, embedding lookup and its gradient, and the KV-cache write.
#include "LoweringUtils.h"

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn_to_linalg;

namespace {

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
    r.replaceOpWithNewOp<tensor::ExtractSliceOp>(op, rt, op.getInput(), indexAttrs(r, offsets),
                                                 indexAttrs(r, rt.getShape()),
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
    r.replaceOpWithNewOp<tensor::InsertSliceOp>(op, op.getGrad(), z, indexAttrs(r, offsets),
                                                indexAttrs(r, gt.getShape()),
                                                indexAttrs(r, strides));
    return success();
  }
};

// Clamps an id into [0, V) and says whether it was inside.
std::pair<Value, Value> clampId(OpBuilder &b, Location l, Value id, int64_t v) {
  Value zero = b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(0));
  Value top = b.create<arith::ConstantOp>(l, b.getI32IntegerAttr(int32_t(v - 1)));
  Value ok =
      b.create<arith::AndIOp>(l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, id, zero),
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
        r, op.getLoc(), op.getIds(), empty(r, op.getLoc(), rt), {id.getMajorSubMap(rank - 1), id},
        parallel(rank), [&](OpBuilder &b, Location l, ValueRange a) {
          auto [row, ok] = clampId(b, l, a[0], v);
          Value col = b.create<linalg::IndexOp>(l, rank - 1);
          Value x = b.create<tensor::ExtractOp>(l, table, ValueRange{row, col});
          b.create<linalg::YieldOp>(l, Value(b.create<arith::SelectOp>(l, ok, x, cst(b, l, 0.0))));
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
    Value result =
        r.create<tensor::InsertSliceOp>(loc, row, op.getCache(), offsets, sizes, strides);
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
    Value ids = reshape(r, loc, op.getIds(), RankedTensorType::get({n}, it.getElementType()));
    Value dy = reshape(r, loc, op.getGrad(), RankedTensorType::get({n, e}, r.getF32Type()));
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
              l, rowT, iter[0], SmallVector<OpFoldResult>{row, b.getIndexAttr(0)}, sizes, one2);
          Value sum =
              elementwise(b, l, rowT, ValueRange{cur, g},
                          [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                            return addf(nb, nl, a[0], nb.create<arith::MulFOp>(nl, a[1], scale));
                          });
          Value next = b.create<tensor::InsertSliceOp>(
              l, sum, iter[0], SmallVector<OpFoldResult>{row, b.getIndexAttr(0)}, sizes, one2);
          b.create<scf::YieldOp>(l, next);
        });
    r.replaceOp(op, loop.getResult(0));
    return success();
  }
};

} // namespace

void nnc::nn_to_linalg::populateSequencePatterns(RewritePatternSet &patterns) {
  patterns.add<LowerConcat, LowerSlice, LowerSliceGrad, LowerEmbedding, LowerEmbeddingGrad,
               LowerCacheWrite>(patterns.getContext());
}
