// Tiles matrix products to a register block and vectorizes them.
#include "nnc/Conversion/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace nnc {
#define GEN_PASS_DEF_SCHEDULEMATMULS
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

// The longest reduction run in one piece (see the blocking below), and the
// blocks a longer one runs in. With AVX-512 (32 columns a register tile) a
// [512, 32] strip of B streams from L2 fast enough that blocking costs more
// than it saves: 4096x512x128 (the tiny GPT's MLP down) ran at 120 GFLOP/s
// blocked and 248 in one piece on a Zen 5 core, 512^3 at 193 and 239
// (bench-products). Not when B's rows are a multiple of 4 KiB apart: then
// the strip's rows share a few cache sets (3200x512x2048: 186 blocked and
// packed, 115 in one piece), nor from K = 1024 on (1024^3: 179 against 111).
// AVX2 keeps 256, as measured on an AVX2 EPYC.
int64_t maxUnblockedK(int64_t vectorWidth, int64_t columns) {
  return vectorWidth >= 16 && columns % 1024 != 0 ? 512 : 256;
}
constexpr int64_t kMaxKBlock = 256;
// The most rows of A in one block of a blocked reduction: [mc, kc] floats
// (128 KiB) stay in L2.
constexpr int64_t kMaxMBlock = 128;
// Multiply-adds from which a product's tile loop runs on several threads.
constexpr int64_t kMinParallelWork = int64_t(1) << 20;
// Floats from which packing B into panels runs on several threads.
constexpr int64_t kMinParallelPack = int64_t(1) << 16;
using nnc::kParallelAttr;
// Marks the slice of a split product's result that a piece writes.
constexpr llvm::StringLiteral kSplitSlot = "nnc.split_slot";

// The largest candidate that divides `n`; a dimension no larger than the
// biggest candidate is taken whole (a full-dimension tile needs no
// divisibility; splitForTiles has made narrow column counts powers of two).
int64_t pickTile(int64_t n, ArrayRef<int64_t> candidates) {
  if (n <= candidates.front())
    return n;
  for (int64_t c : candidates)
    if (n % c == 0)
      return c;
  return 1;
}

// A product: C += A * B with A and B read as they are. MLIR 16's
// isaContractionOpInterface also takes a reduction whose multiply reads
// values computed in the body: layer_norm's sum of (x - mean)^2 over
// [B, T, C], fused by nnc-fuse-elementwise, which the register tiles would
// schedule as if x were a matrix (an invalid generic from B = 16).
bool isProduct(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(op))
    return false;
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = body.getArgument(2), a = body.getArgument(0), b = body.getArgument(1);
  Value other = add.getLhs() == out ? add.getRhs() : add.getRhs() == out ? add.getLhs() : Value();
  auto mul = other ? other.getDefiningOp<arith::MulFOp>() : arith::MulFOp();
  return mul &&
         ((mul.getLhs() == a && mul.getRhs() == b) || (mul.getLhs() == b && mul.getRhs() == a));
}

// Whether A is read transposed: map (k, m), A^T stored as [K, M].
bool transposedA(linalg::GenericOp op) {
  MLIRContext *ctx = op.getContext();
  return op.getIndexingMapsArray()[0] ==
         AffineMap::get(3, 0, {getAffineDimExpr(2, ctx), getAffineDimExpr(0, ctx)}, ctx);
}

// A packing buffer. Not a tensor.empty: CSE would make the packs of A and
// of B one value when their shapes agree, and bufferization would then copy
// one into the other.
Value newBuffer(IRRewriter &rw, Location loc, RankedTensorType t) {
  return rw.create<bufferization::AllocTensorOp>(loc, t, ValueRange{});
}

// Splits dimension `dim` (0: rows, 1: columns) of a canonical product
// C[m, n] += A[m, k] B[k, n] at `at`: two products on slices of A or B and C,
// written back into C's slices.
SmallVector<linalg::GenericOp, 2> splitAt(IRRewriter &rw, linalg::GenericOp op, int dim,
                                          int64_t at) {
  Location loc = op.getLoc();
  Value a = op.getDpsInputOperand(0)->get(), b = op.getDpsInputOperand(1)->get();
  Value c = op.getDpsInitOperand(0)->get();
  auto ct = c.getType().cast<RankedTensorType>();
  int64_t m = ct.getDimSize(0), n = ct.getDimSize(1);
  bool ta = transposedA(op);
  int64_t k = a.getType().cast<RankedTensorType>().getDimSize(ta ? 0 : 1);
  rw.setInsertionPoint(op);
  auto slice = [&](Value v, int64_t r0, int64_t rows, int64_t c0, int64_t cols) -> Value {
    return rw.create<tensor::ExtractSliceOp>(
        loc, v, ArrayRef<OpFoldResult>{rw.getIndexAttr(r0), rw.getIndexAttr(c0)},
        ArrayRef<OpFoldResult>{rw.getIndexAttr(rows), rw.getIndexAttr(cols)},
        ArrayRef<OpFoldResult>{rw.getIndexAttr(1), rw.getIndexAttr(1)});
  };
  // The pieces write zero-filled slices of one fresh result, in place:
  // never the original destination, which inside a scan's loop may be a
  // value from before the loop that MLIR 16's bufferization would write in
  // place across iterations, and not a tensor.empty, which CSE would merge
  // with an earlier one of its shape (nnc-unshare-inits then gave the
  // inserts a fresh one after the pieces, and every call copied the pieces
  // into it: a [128, 576] piece of the word LSTM's gates, every step of its
  // scan). A piece split again writes into its own slice (marked
  // kSplitSlot; any other slice may be of a value from before a loop).
  Value dest = c.getDefiningOp<linalg::FillOp>().getOutputs()[0];
  auto own = dest.getDefiningOp<tensor::ExtractSliceOp>();
  Value acc = own && own->hasAttr(kSplitSlot) ? dest : newBuffer(rw, loc, ct);
  Value zero = rw.create<arith::ConstantOp>(loc, rw.getZeroAttr(ct.getElementType()));
  SmallVector<linalg::GenericOp, 2> parts;
  for (int part = 0; part < 2; ++part) {
    int64_t lo = part == 0 ? 0 : at, hi = part == 0 ? at : (dim == 0 ? m : n);
    Value pa = dim != 0 ? a : ta ? slice(a, 0, k, lo, hi - lo) : slice(a, lo, hi - lo, 0, k);
    Value pb = dim == 1 ? slice(b, 0, k, lo, hi - lo) : b;
    Value slot = dim == 0 ? slice(acc, lo, hi - lo, 0, n) : slice(acc, 0, m, lo, hi - lo);
    slot.getDefiningOp()->setAttr(kSplitSlot, rw.getUnitAttr());
    Value pc = rw.create<linalg::FillOp>(loc, zero, slot).getResult(0);
    auto piece = rw.create<linalg::GenericOp>(loc, TypeRange{pc.getType()}, ValueRange{pa, pb},
                                              ValueRange{pc}, op.getIndexingMapsArray(),
                                              op.getIteratorTypesArray());
    rw.cloneRegionBefore(op.getRegion(), piece.getRegion(), piece.getRegion().begin());
    parts.push_back(piece);
    auto pt = pc.getType().cast<RankedTensorType>();
    acc = rw.create<tensor::InsertSliceOp>(
        loc, piece.getResult(0), acc,
        ArrayRef<OpFoldResult>{rw.getIndexAttr(dim == 0 ? lo : 0),
                               rw.getIndexAttr(dim == 1 ? lo : 0)},
        ArrayRef<OpFoldResult>{rw.getIndexAttr(pt.getDimSize(0)),
                               rw.getIndexAttr(pt.getDimSize(1))},
        ArrayRef<OpFoldResult>{rw.getIndexAttr(1), rw.getIndexAttr(1)});
  }
  rw.replaceOp(op, acc);
  return parts;
}

// A product in NNToLinalg's canonical form: maps (m,k) or (k,m), (k,n),
// (m,n).
bool isCanonical(linalg::GenericOp op) {
  MLIRContext *ctx = op.getContext();
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  auto maps = op.getIndexingMapsArray();
  // Split pieces start from zeros, so the product must too.
  auto fill = op.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  auto zero = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>();
  auto fz = zero ? zero.getValue().dyn_cast<FloatAttr>() : FloatAttr();
  if (!fz || !fz.getValue().isZero())
    return false;
  return op.getNumDpsInputs() == 2 && op.getNumDpsInits() == 1 && maps.size() == 3 &&
         (maps[0] == AffineMap::get(3, 0, {m, k}, ctx) || transposedA(op)) &&
         maps[1] == AffineMap::get(3, 0, {k, n}, ctx) &&
         maps[2] == AffineMap::get(3, 0, {m, n}, ctx);
}

// A contiguous copy of `src` ([rows, cols]), made one vectorized row at a
// time.
Value contiguousCopy(IRRewriter &rw, Location loc, Value src) {
  auto t = src.getType().cast<RankedTensorType>();
  Value empty = newBuffer(rw, loc, t);
  auto copy = rw.create<linalg::CopyOp>(loc, src, empty);
  scf::SCFTilingOptions rows;
  rows.setTileSizes(ArrayRef<int64_t>{1, 0});
  auto tiled = scf::tileUsingSCFForOp(rw, cast<TilingInterface>(copy.getOperation()), rows);
  if (failed(tiled))
    return copy.getResult(0); // the whole copy still lowers to loops
  rw.replaceOp(copy, tiled->replacements);
  for (Operation *c : tiled->tiledOps)
    if (auto l = dyn_cast<linalg::LinalgOp>(c))
      (void)linalg::vectorize(rw, l);
  return tiled->replacements[0];
}

// The outermost loop around `op` (a scan's steps) in which `v` is invariant,
// if it runs at least twice.
scf::ForOp outermostInvariantLoop(Operation *op, Value v) {
  scf::ForOp best;
  for (auto loop = op->getParentOfType<scf::ForOp>(); loop;
       loop = loop->getParentOfType<scf::ForOp>()) {
    if (!loop.isDefinedOutsideOfLoop(v))
      break;
    std::optional<int64_t> lb = getConstantIntValue(loop.getLowerBound()),
                           ub = getConstantIntValue(loop.getUpperBound()),
                           st = getConstantIntValue(loop.getStep());
    if (lb && ub && st && *st > 0 && (*ub - *lb) / *st >= 2)
      best = loop;
  }
  return best;
}

// Whether `op` is inside a loop the threads share: threads are one level.
bool insideParallelLoop(Operation *op) {
  for (Operation *p = op->getParentOp(); p; p = p->getParentOp())
    if (p->hasAttr(kParallelAttr))
      return true;
  return false;
}

// B [K, N] as panels Bp [N / nr, K, nr]: panel j holds columns j*nr.. of
// every row, contiguous. Made once before `loop`, whose every iteration then
// reads its column strips in place instead of copying them from rows N
// floats apart (an LSTM's weights in each of its 100 steps).
Value packPanels(IRRewriter &rw, Value b, int64_t nr, scf::ForOp loop) {
  Location loc = loop.getLoc();
  auto bt = b.getType().cast<RankedTensorType>();
  int64_t k = bt.getDimSize(0), n = bt.getDimSize(1);
  auto pt = RankedTensorType::get({n / nr, k, nr}, bt.getElementType());
  OpBuilder::InsertionGuard g(rw);
  rw.setInsertionPoint(loop);
  Value init = newBuffer(rw, loc, pt);
  Value c0 = rw.create<arith::ConstantIndexOp>(loc, 0);
  Value c1 = rw.create<arith::ConstantIndexOp>(loc, 1);
  Value cnr = rw.create<arith::ConstantIndexOp>(loc, nr);
  Value zero = rw.create<arith::ConstantOp>(loc, rw.getZeroAttr(bt.getElementType()));
  auto vt = VectorType::get({nr}, bt.getElementType());
  // Rows outside, panels inside: B is read row after row.
  scf::ForOp rows;
  rows = rw.create<scf::ForOp>(
      loc, c0, rw.create<arith::ConstantIndexOp>(loc, k), c1, ValueRange{init},
      [&](OpBuilder &ob, Location l, Value kk, ValueRange acc) {
        auto panels = ob.create<scf::ForOp>(
            l, c0, ob.create<arith::ConstantIndexOp>(l, n / nr), c1, acc,
            [&](OpBuilder &ib, Location il, Value j, ValueRange acc2) {
              Value col = ib.create<arith::MulIOp>(il, j, cnr);
              Value v = ib.create<vector::TransferReadOp>(il, vt, b, ValueRange{kk, col}, zero,
                                                          ArrayRef<bool>{true});
              Value w = ib.create<vector::TransferWriteOp>(il, v, acc2[0], ValueRange{j, kk, c0},
                                                           ArrayRef<bool>{true})
                            .getResult();
              ib.create<scf::YieldOp>(il, w);
            });
        ob.create<scf::YieldOp>(l, panels.getResult(0));
      });
  if (k * n >= kMinParallelPack && !insideParallelLoop(rows))
    rows->setAttr(kParallelAttr, rw.getUnitAttr());
  return rows.getResult(0);
}

// The strip `strip` (tiling's slices of `root`, unit strides) as a slice of
// root's panels `panels`: panel n0 / nr, rows k0.., where (k0, n0) are the
// strip's summed offsets in root. Null when `strip` is not such a slice.
Value stripOfPanels(IRRewriter &rw, Location loc, Value strip, Value root, Value panels,
                    int64_t nr) {
  SmallVector<OpFoldResult> offs{rw.getIndexAttr(0), rw.getIndexAttr(0)};
  auto st = strip.getType().cast<RankedTensorType>();
  Value v = strip;
  while (v != root) {
    auto s = v.getDefiningOp<tensor::ExtractSliceOp>();
    if (!s || s.getSourceType().getRank() != 2 || !s.hasUnitStride())
      return {};
    for (int d = 0; d < 2; ++d) {
      Value a = getValueOrCreateConstantIndexOp(rw, loc, offs[d]);
      Value o = getValueOrCreateConstantIndexOp(rw, loc, s.getMixedOffsets()[d]);
      offs[d] = rw.create<arith::AddIOp>(loc, a, o).getResult();
    }
    v = s.getSource();
  }
  Value j = rw.create<arith::DivUIOp>(loc, getValueOrCreateConstantIndexOp(rw, loc, offs[1]),
                                      rw.create<arith::ConstantIndexOp>(loc, nr));
  return rw.create<tensor::ExtractSliceOp>(
      loc, st, panels, ArrayRef<OpFoldResult>{j, offs[0], rw.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{rw.getIndexAttr(1), rw.getIndexAttr(st.getDimSize(0)),
                             rw.getIndexAttr(nr)},
      ArrayRef<OpFoldResult>{rw.getIndexAttr(1), rw.getIndexAttr(1), rw.getIndexAttr(1)});
}

void splitForTiles(IRRewriter &rw, linalg::GenericOp op, int64_t vw,
                   SmallVectorImpl<linalg::GenericOp> &out) {
  SmallVector<int64_t> r = op.getStaticLoopRanges();
  if (!isCanonical(op)) {
    out.push_back(op);
    return;
  }
  // AVX2: 6-row blocks (12 accumulators of the 16 registers) where the
  // rows are many; a small row count that 4 divides stays whole in 4-row
  // blocks rather than leaving a thin remainder.
  int64_t nr = 2 * vw, mr = vw >= 16 ? 8 : (r[0] < 48 && r[0] % 4 == 0 ? 4 : 6);
  if (r[1] > nr && r[1] % nr != 0) {
    for (linalg::GenericOp p : splitAt(rw, op, 1, r[1] - r[1] % nr))
      splitForTiles(rw, p, vw, out);
    return;
  }
  // A narrow remainder (175 columns: 160 and 15) is split into widths that
  // are powers of two (8, 4, 2, 1): a vector<6x15xf32> tile lowers to lane
  // shuffles and stack spills that cost more than the extra loops.
  if (r[1] < nr && r[1] > 1 && !llvm::isPowerOf2_64(r[1])) {
    for (linalg::GenericOp p : splitAt(rw, op, 1, int64_t(llvm::PowerOf2Floor(r[1]))))
      splitForTiles(rw, p, vw, out);
    return;
  }
  if (r[0] > mr && r[0] % mr != 0) {
    for (linalg::GenericOp p : splitAt(rw, op, 0, r[0] - r[0] % mr))
      splitForTiles(rw, p, vw, out);
    return;
  }
  out.push_back(op);
}

// Tiles `op` and vectorizes the tiles; an op that does not tile stays as it
// is (it still lowers to loops).
void tileAndVectorize(IRRewriter &rw, linalg::GenericOp op, const scf::SCFTilingOptions &tiles) {
  rw.setInsertionPoint(op);
  auto tiled = scf::tileUsingSCFForOp(rw, cast<TilingInterface>(op.getOperation()), tiles);
  if (failed(tiled))
    return;
  rw.replaceOp(op, tiled->replacements);
  for (Operation *t : tiled->tiledOps)
    if (auto l = dyn_cast<linalg::LinalgOp>(t))
      (void)linalg::vectorize(rw, l);
}

// Tiles a one-row product to loops (k, m, n): kb rows of B at a time, each
// swept across all of B's columns vw at a time, the row of C accumulating in
// L1. B is read in address order, whole rows at a time.
void streamRows(IRRewriter &rw, linalg::GenericOp op, int64_t vw, int64_t kb) {
  scf::SCFTilingOptions tiles;
  tiles.setTileSizes({1, vw, kb});
  tiles.setInterchange({2, 0, 1});
  tileAndVectorize(rw, op, tiles);
}

// A one-row product over wide rows (batch-1 generation of a large cell: a
// matrix-vector product bound by reading B) reads B in address order
// (streamRows), 16 rows at a time (fewer loads and stores of C's row per
// multiply-add than 4 or 8: H=512 generation 1.04 / 0.95 / 0.92 ms per
// character on one thread): with B on huge pages this core streams it at
// 17-19 GB/s, against 12 for the column tiles' 256-byte pieces of rows 2-8
// KiB apart. (Between threads, its rows are split first:
// splitRowsForThreads.)
// Returns false (nothing changed) when the shape does not fit.
bool scheduleRowStream(IRRewriter &rw, linalg::GenericOp op, int64_t vw) {
  SmallVector<int64_t> r = op.getStaticLoopRanges();
  if (r[0] != 1 || r[1] < 256 || r[1] % vw != 0 || transposedA(op))
    return false;
  int64_t kb = pickTile(r[2], {16, 8, 4, 2, 1});
  if (r[2] > 4 && kb < 2)
    return false;
  streamRows(rw, op, vw, kb);
  return true;
}

// A one-row product (batch-1 generation) is bound by reading B: 256 KB of
// B is ~2.4 us on one core from L3, and a second core reads its half at
// the same speed. It is split by rows of B into two halves, a loop the
// threads share, each half summing into its own row of partial results that
// are added at the end: each thread streams one contiguous half of B. Each
// half is then scheduled as a product of its own (the tiny GPT's MLP
// products, 128 x 512 and 512 x 128; the word LSTM's logits).
constexpr int64_t kMinOneRowSplit = int64_t(1) << 16;
linalg::GenericOp splitRowsForThreads(IRRewriter &rw, linalg::GenericOp op) {
  SmallVector<int64_t> r = op.getStaticLoopRanges();
  if (r[0] != 1 || r[1] * r[2] < kMinOneRowSplit || r[2] % 2 != 0 || transposedA(op))
    return op;
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  Value a = op.getDpsInputOperand(0)->get(), b = op.getDpsInputOperand(1)->get();
  auto ct = op.getDpsInitOperand(0)->get().getType().cast<RankedTensorType>();
  Type f = ct.getElementType();
  int64_t n = r[1], half = r[2] / 2;
  rw.setInsertionPoint(op);
  auto idx = [&](int64_t v) { return rw.create<arith::ConstantIndexOp>(loc, v); };
  auto partialsT = RankedTensorType::get({2, n}, f);
  Value init = rw.create<tensor::EmptyOp>(loc, partialsT.getShape(), f);
  linalg::GenericOp halfProduct;
  auto loop = rw.create<scf::ForOp>(
      loc, idx(0), idx(2), idx(1), ValueRange{init},
      [&](OpBuilder &lb, Location l, Value h, ValueRange acc) {
        Value k0 = lb.create<arith::MulIOp>(l, h, lb.create<arith::ConstantIndexOp>(l, half));
        auto slice = [&](Value v, OpFoldResult r0, OpFoldResult c0, int64_t rows,
                         int64_t cols) -> Value {
          return lb.create<tensor::ExtractSliceOp>(
              l, v, ArrayRef<OpFoldResult>{r0, c0},
              ArrayRef<OpFoldResult>{lb.getIndexAttr(rows), lb.getIndexAttr(cols)},
              ArrayRef<OpFoldResult>{lb.getIndexAttr(1), lb.getIndexAttr(1)});
        };
        Value ah = slice(a, lb.getIndexAttr(0), k0, 1, half);
        Value bh = slice(b, k0, lb.getIndexAttr(0), half, n);
        Value e = lb.create<tensor::EmptyOp>(l, ArrayRef<int64_t>{1, n}, f);
        Value z = lb.create<arith::ConstantOp>(l, lb.getZeroAttr(f));
        Value c = lb.create<linalg::FillOp>(l, z, e).getResult(0);
        halfProduct = lb.create<linalg::GenericOp>(l, TypeRange{c.getType()}, ValueRange{ah, bh},
                                                   ValueRange{c}, op.getIndexingMapsArray(),
                                                   op.getIteratorTypesArray());
        rw.cloneRegionBefore(op.getRegion(), halfProduct.getRegion(),
                             halfProduct.getRegion().begin());
        Value put = lb.create<tensor::InsertSliceOp>(
            l, halfProduct.getResult(0), acc[0], ArrayRef<OpFoldResult>{h, lb.getIndexAttr(0)},
            ArrayRef<OpFoldResult>{lb.getIndexAttr(1), lb.getIndexAttr(n)},
            ArrayRef<OpFoldResult>{lb.getIndexAttr(1), lb.getIndexAttr(1)});
        lb.create<scf::YieldOp>(l, put);
      });
  loop->setAttr(kParallelAttr, rw.getUnitAttr());
  loop->setAttr(nnc::kParallelIfThreadsAttr, rw.getUnitAttr());
  // C = partials[0] + partials[1].
  Value partials = loop.getResult(0);
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
  Value out = rw.create<tensor::EmptyOp>(loc, ct.getShape(), f);
  auto sum = rw.create<linalg::GenericOp>(
      loc, TypeRange{ct}, ValueRange{partials, partials}, ValueRange{out},
      ArrayRef<AffineMap>{AffineMap::get(2, 0, {rw.getAffineConstantExpr(0), d1}, ctx),
                          AffineMap::get(2, 0, {rw.getAffineConstantExpr(1), d1}, ctx),
                          AffineMap::get(2, 0, {d0, d1}, ctx)},
      ArrayRef<utils::IteratorType>{utils::IteratorType::parallel, utils::IteratorType::parallel},
      [](OpBuilder &bb, Location l, ValueRange args) {
        bb.create<linalg::YieldOp>(l, bb.create<arith::AddFOp>(l, args[0], args[1]).getResult());
      });
  rw.replaceOp(op, sum.getResult(0));
  return halfProduct;
}

// A product that reads its operands through permutations (one row per
// slice: batch-1 attention, convert-nn-to-linalg's kReadThroughPermutations)
// is vectorized from its last reduction loop inwards, every loop outside
// tiled to 1. The query against the keys, (.., n, k): each score is a
// vector dot product along the head (k, contiguous), summed as a tree
// (vector.reduction). The weights against the values, (.., k, n): a
// one-row register-tile product, broadcast weight times a row of values
// (vector.contract). Left to LLVM, the head's short loop is unrolled and
// the loop over the cache's rows vectorized instead, with a gather per
// element: the tiny GPT's query against its keys took 1.9 us a layer.
void scheduleReadThrough(IRRewriter &rw, linalg::GenericOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, [](int64_t d) { return ShapedType::isDynamic(d); }))
    return;
  auto iters = op.getIteratorTypesArray();
  size_t lastReduction = ranges.size() - 1;
  while (lastReduction > 0 && iters[lastReduction] != utils::IteratorType::reduction)
    --lastReduction;
  SmallVector<int64_t> sizes(ranges.size(), 0); // 0: not tiled, in the vector
  for (size_t i = 0; i < lastReduction; ++i)
    sizes[i] = 1;
  scf::SCFTilingOptions tiles;
  tiles.setTileSizes(sizes);
  tileAndVectorize(rw, op, tiles);
}

// Panels of loop-invariant B matrices, per matrix and strip width.
using PanelCache = DenseMap<std::pair<Value, int64_t>, Value>;

// Tiles a product to register blocks (after blocking a long reduction and
// packing B's strips where that pays) and vectorizes the blocks.
void scheduleRegisterTiles(IRRewriter &rw, linalg::GenericOp op, int64_t vw, PanelCache &panelsOf) {
  // Loops are (m, n, k) as NNToLinalg builds them; the register block
  // is mr rows by nr columns (a multiple of the vector width when it
  // can be), one k at a time: mr*nr/vw accumulators, mr broadcasts and
  // mr*nr/vw FMAs per k step.
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  // A long reduction (the weight gradient of a recurrent layer sums over
  // B * T rows) runs in blocks of at most kMaxKBlock: a block's columns of
  // B for one register tile stay in L1 while every row tile of A passes
  // over them (n tiles outside, m tiles inside), instead of streaming all
  // of B's rows from L2 for every tile.
  // AVX2 has 16 vector registers: 6 x 16 floats is 12 accumulators,
  // leaving room for the B row and the broadcast; AVX-512's 32 take 8 x 32.
  int64_t mr = vw >= 16 ? pickTile(ranges[0], {8, 6, 4, 2, 1}) : pickTile(ranges[0], {6, 4, 2, 1});
  // One row (batch-1 generation: a matrix-vector product, bound by
  // reading B): 8 vectors of columns per tile, so each row of B is read
  // as 256 contiguous bytes instead of 64.
  int64_t nr = ranges[0] == 1
                   ? pickTile(ranges[1], {8 * vw, 4 * vw, 2 * vw, vw, vw / 2, vw / 4, 2, 1})
                   : pickTile(ranges[1], {2 * vw, vw, vw / 2, vw / 4, 2, 1});
  // B invariant in a loop around the product (a scan's weights): its
  // panels are packed once before that loop (packPanels). Only products
  // whose strips are packed (blocked, several row tiles) use them; the
  // loop is found before tiling adds loops of its own.
  Value wholeB = op.getDpsInputOperand(1)->get();
  bool blocksK = ranges[2] > maxUnblockedK(vw, ranges[1]);
  bool packsStrips = blocksK && ranges[0] >= 2 * mr;
  scf::ForOp panelLoop =
      packsStrips && ranges[1] % nr == 0 ? outermostInvariantLoop(op, wholeB) : scf::ForOp();
  linalg::GenericOp inner = op;
  bool blocked = false;
  scf::ForOp rowBlockLoop;
  if (blocksK) {
    int64_t kc = kMaxKBlock;
    for (int64_t c = kMaxKBlock; c >= kMaxKBlock / 2; --c)
      if (ranges[2] % c == 0) {
        kc = c;
        break;
      }
    // Many rows: A's block [M, kc] would not stay in L2 while the column
    // tiles sweep it, so rows run in blocks of mc too (a multiple of the
    // register block that divides M, keeping every tile static, and at
    // least 64 rows: thinner blocks would reread B's block too often).
    int64_t mc = 0;
    if (ranges[0] > kMaxMBlock)
      for (int64_t c = kMaxMBlock - kMaxMBlock % mr; c >= kMaxMBlock / 2; c -= mr)
        if (ranges[0] % c == 0) {
          mc = c;
          break;
        }
    scf::SCFTilingOptions kopts;
    kopts.setTileSizes({mc, 0, kc});
    kopts.setInterchange({2, 0, 1});
    rw.setInsertionPoint(op);
    auto ktiled = scf::tileUsingSCFForOp(rw, cast<TilingInterface>(op.getOperation()), kopts);
    if (succeeded(ktiled) && ktiled->tiledOps.size() == 1 &&
        isa<linalg::GenericOp>(ktiled->tiledOps[0])) {
      rw.replaceOp(op, ktiled->replacements);
      inner = cast<linalg::GenericOp>(ktiled->tiledOps[0]);
      blocked = true;
      // Row blocks are the threads' share: one fork per block of rows
      // rather than per block and column tile.
      if (mc && ktiled->loops.size() == 2)
        rowBlockLoop = ktiled->loops[1];
      // Several row blocks would each copy B's strips again: B is packed
      // into panels once, before the reduction blocks, instead.
      if (mc && !panelLoop && packsStrips && ranges[1] % nr == 0)
        panelLoop = ktiled->loops.front();
    }
  }
  op = inner;
  // Packing B: in a reduction block every row tile of A reads the same
  // [kc, nr] strip of B, row after row. B's rows are N floats apart; when
  // that is a multiple of 4 KiB (2048 columns: an LSTM's four gates of
  // 512) every row of the strip falls into the same L1 set and the strip
  // is read from L3 again for every row tile. A contiguous copy of the
  // strip, made once per column tile, stays in L1 while the row tiles pass
  // over it. Worth it when there are several row tiles to share a copy.
  // A is read where it lies: a register tile's mr rows are mr sequential
  // streams the prefetcher follows. Copying each block of A transposed
  // (as BLIS packs it) cost more than it saved: the copy is a gather, and
  // 1024^3 ran at 167 GFLOP/s with it and 229 without on a Zen 5 core
  // (57 and 117 compiled for haswell).
  Operation *stripLoop = nullptr;
  if (blocked && packsStrips) {
    scf::SCFTilingOptions nopts;
    nopts.setTileSizes({0, nr, 0});
    rw.setInsertionPoint(op);
    auto ntiled = scf::tileUsingSCFForOp(rw, cast<TilingInterface>(op.getOperation()), nopts);
    if (succeeded(ntiled) && ntiled->tiledOps.size() == 1 && ntiled->loops.size() == 1 &&
        isa<linalg::GenericOp>(ntiled->tiledOps[0])) {
      rw.replaceOp(op, ntiled->replacements);
      op = cast<linalg::GenericOp>(ntiled->tiledOps[0]);
      stripLoop = ntiled->loops.front();
      rw.setInsertionPoint(op);
      Value strip = op.getDpsInputOperand(1)->get(), packed;
      if (panelLoop) {
        Value &panels = panelsOf[{wholeB, nr}];
        if (!panels)
          panels = packPanels(rw, wholeB, nr, panelLoop);
        packed = stripOfPanels(rw, op.getLoc(), strip, wholeB, panels, nr);
      }
      op->setOperand(1, packed ? packed : contiguousCopy(rw, op.getLoc(), strip));
    }
  }
  scf::SCFTilingOptions options;
  options.setTileSizes({mr, stripLoop ? 0 : nr, 1});
  if (blocked && !stripLoop)
    options.setInterchange({1, 0, 2});
  rw.setInsertionPoint(op);
  auto tiled = scf::tileUsingSCFForOp(rw, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return; // the untiled op still lowers to loops
  rw.replaceOp(op, tiled->replacements);
  // Big enough products split their outer tile loop between threads
  // (nnc-parallelize-loops, after bufferization): a million
  // multiply-adds is ~30 us on one core, against a few us to wake a
  // thread.
  // A one-row product (batch-1 generation) is bound by reading B, not
  // by multiply-adds: a quarter of the threshold is still 1 MB of B
  // (~80 us here), and two cores read it nearly twice as fast. Its
  // threads share the column tiles (the row loop has one iteration).
  bool oneRow = ranges[0] == 1;
  int64_t minWork = oneRow ? kMinParallelWork / 4 : kMinParallelWork;
  if (!tiled->loops.empty() && ranges[0] * ranges[1] * ranges[2] >= minWork &&
      !insideParallelLoop(tiled->loops.front())) {
    Operation *loop = rowBlockLoop ? rowBlockLoop.getOperation()
                      : stripLoop  ? stripLoop
                                   : tiled->loops.front().getOperation();
    if (oneRow && !blocked && tiled->loops.size() > 1)
      loop = tiled->loops[1].getOperation();
    loop->setAttr(kParallelAttr, rw.getUnitAttr());
  }
  for (Operation *t : tiled->tiledOps)
    if (auto l = dyn_cast<linalg::LinalgOp>(t))
      (void)linalg::vectorize(rw, l);
}

bool reducesInnermost(linalg::GenericOp op) {
  return op.getIteratorTypesArray().back() == utils::IteratorType::reduction;
}

struct ScheduleMatmulsPass : public nnc::impl::ScheduleMatmulsBase<ScheduleMatmulsPass> {
  using ScheduleMatmulsBase::ScheduleMatmulsBase;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    SmallVector<linalg::GenericOp> matmuls;
    fn.walk([&](linalg::GenericOp op) {
      if (op.getNumLoops() == 3 && op.getNumReductionLoops() == 1 && op.hasTensorSemantics() &&
          isProduct(op) && llvm::all_of(op.getStaticLoopRanges(), [](int64_t d) {
            return !ShapedType::isDynamic(d);
          }))
        matmuls.push_back(op);
    });
    // Read-through products along the rows go to vector.contract with the
    // others, dot products after them (below).
    SmallVector<linalg::GenericOp> rowProducts, dotProducts;
    fn.walk([&](linalg::GenericOp op) {
      if (op->hasAttr(nnc::kReadThroughPermutations) && op.hasTensorSemantics())
        (reducesInnermost(op) ? dotProducts : rowProducts).push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : rowProducts)
      scheduleReadThrough(rewriter, op);
    int64_t vw = vectorWidth;
    // Register tiles must divide the shape for the vectorizer, so a product
    // whose N (or M) is not a multiple of the tile is split into a main part
    // and a narrower remainder, each tiled on its own (150 columns: 144 with
    // 16-wide tiles, then 4 and 2, instead of 2-wide tiles throughout).
    SmallVector<linalg::GenericOp> pieces;
    for (linalg::GenericOp op : matmuls)
      splitForTiles(rewriter, splitRowsForThreads(rewriter, op), vw, pieces);
    PanelCache panelsOf;
    for (linalg::GenericOp op : pieces)
      if (!scheduleRowStream(rewriter, op, vw))
        scheduleRegisterTiles(rewriter, op, vw, panelsOf);
    // The vectorizer writes a product as broadcast reads, a multiply and a
    // multi_reduction; fold that back into vector.contract, whose lowering
    // to outer products gives the broadcast + FMA micro-kernel.
    RewritePatternSet patterns(&getContext());
    vector::populateVectorTransferPermutationMapLoweringPatterns(patterns);
    vector::populateVectorReductionToContractPatterns(patterns);
    vector::TransferReadOp::getCanonicalizationPatterns(patterns, &getContext());
    vector::TransferWriteOp::getCanonicalizationPatterns(patterns, &getContext());
    (void)applyPatternsAndFoldGreedily(fn, std::move(patterns));
    // After the products' folding into vector.contract, whose lowering
    // would sum a row one element after another: a multi_reduction becomes
    // vector.reduction, which LLVM sums as a tree (reassociated).
    if (dotProducts.empty())
      return;
    for (linalg::GenericOp op : dotProducts)
      scheduleReadThrough(rewriter, op);
    RewritePatternSet reductions(&getContext());
    vector::populateVectorMultiReductionLoweringPatterns(
        reductions, vector::VectorMultiReductionLowering::InnerReduction);
    vector::populateVectorTransferPermutationMapLoweringPatterns(reductions);
    vector::TransferReadOp::getCanonicalizationPatterns(reductions, &getContext());
    vector::TransferWriteOp::getCanonicalizationPatterns(reductions, &getContext());
    (void)applyPatternsAndFoldGreedily(fn, std::move(reductions));
  }
};

} // namespace

std::unique_ptr<Pass> nnc::createScheduleMatmulsPass() {
  return std::make_unique<ScheduleMatmulsPass>();
}
