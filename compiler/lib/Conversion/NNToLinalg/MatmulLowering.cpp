// Lowers nn.matmul, nn.batch_matmul and nn.transpose: the products are the
// canonical (m,k),(k,n),(m,n) generics that nnc-schedule-matmuls tiles.
#include "LoweringUtils.h"

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn_to_linalg;

namespace {

// A transposed copy of a matrix: the backward pass's transposed operands
// are materialised so every product is a plain row-major contraction (a
// transposed read inside the register tile would be a gather); the copy is
// O(K N) against the product's O(M N K).
Value transpose2D(OpBuilder &b, Location loc, Value x) {
  MLIRContext *ctx = b.getContext();
  auto t = tensorType(x);
  auto outT = RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)}, t.getElementType());
  AffineExpr i = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx);
  return generic(
      b, loc, x, empty(b, loc, outT),
      {AffineMap::get(2, 0, {j, i}, ctx), AffineMap::getMultiDimIdentityMap(2, ctx)}, parallel(2),
      [](OpBuilder &nb, Location l, ValueRange a) { nb.create<linalg::YieldOp>(l, a[0]); })[0];
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
    auto map = [&](AffineExpr x, AffineExpr y) { return AffineMap::get(3, 0, {x, y}, ctx); };
    Value v = generic(r, loc, ValueRange{a, bm}, fill(r, loc, tensorType(op.getResult()), 0.0f),
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
         bT = RankedTensorType::get({k, n}, f32), cT = RankedTensorType::get({m, n}, f32);
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
      loop->setAttr(nnc::kParallelAttr, r.getUnitAttr());
    r.replaceOp(op, reshape(r, loc, loop.getResult(0), rt));
    return success();
  }
};

// One row per slice (batch-1 generation: each head's one query against the
// key cache, then its weights against the value cache). The product is
// bound by reading B, which is as large as the whole product, so it is one
// generic over all slices that reads B where it lies: transposed B in (n, k)
// order with the reduction innermost over contiguous k, plain B in (k, n)
// order with n innermost. No transposed copy is made, and the permutation
// that splits the caches into heads is read through too
// (nnc-fuse-elementwise folds it into the maps of a generic marked
// kReadThroughPermutations). Costs the step of the tiny GPT three copies of
// each layer's 64 KB caches per token.
struct LowerBatchMatVec : OpRewritePattern<BatchMatMulOp> {
  LowerBatchMatVec(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(BatchMatMulOp op, PatternRewriter &r) const override {
    auto rt = tensorType(op.getResult());
    int64_t rank = rt.getRank();
    if (op.getTransposeA() || rt.getDimSize(rank - 2) != 1 ||
        tensorType(op.getLhs()).getRank() != rank || tensorType(op.getRhs()).getRank() != rank)
      return failure();
    MLIRContext *ctx = r.getContext();
    bool tb = op.getTransposeB();
    // Loops: the slices' axes, m, then (n, k) or (k, n).
    SmallVector<AffineExpr> lead;
    for (int64_t i = 0; i < rank - 2; ++i)
      lead.push_back(getAffineDimExpr(i, ctx));
    AffineExpr dm = getAffineDimExpr(rank - 2, ctx);
    AffineExpr dn = getAffineDimExpr(tb ? rank - 1 : rank, ctx);
    AffineExpr dk = getAffineDimExpr(tb ? rank : rank - 1, ctx);
    auto map = [&](AffineExpr x, AffineExpr y) {
      SmallVector<AffineExpr> e(lead);
      e.push_back(x);
      e.push_back(y);
      return AffineMap::get(rank + 1, 0, e, ctx);
    };
    SmallVector<utils::IteratorType> iters = parallel(rank + 1);
    iters[tb ? rank : rank - 1] = utils::IteratorType::reduction;
    Value v = generic(r, op.getLoc(), ValueRange{op.getLhs(), op.getRhs()},
                      fill(r, op.getLoc(), rt, 0.0f),
                      {map(dm, dk), tb ? map(dn, dk) : map(dk, dn), map(dm, dn)}, iters,
                      [](OpBuilder &b, Location l, ValueRange args) {
                        Value p = b.create<arith::MulFOp>(l, args[0], args[1]);
                        b.create<linalg::YieldOp>(l, addf(b, l, args[2], p));
                      })[0];
    v.getDefiningOp()->setAttr(nnc::kReadThroughPermutations, r.getUnitAttr());
    r.replaceOp(op, v);
    return success();
  }
};

} // namespace

void nnc::nn_to_linalg::populateMatmulPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerMatMul, LowerBatchMatMul, LowerBatchMatVec, LowerTranspose>(
      patterns.getContext());
}
