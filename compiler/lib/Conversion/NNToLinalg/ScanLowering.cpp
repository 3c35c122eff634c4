// Lowers nn.scan (recurrence over time, or over a repeated layer's copies)
// to an scf.for.
#include "LoweringUtils.h"

#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn_to_linalg;

namespace {

// The slice of a sequence at step t of its scanned axis (a rank-reducing
// slice: a [B, T, ...] sequence's step is [B, ...], a stacked [N, ...]
// one's is [...]).
struct StepSlice {
  SmallVector<OpFoldResult> offsets, sizes, strides;
  RankedTensorType type;
};
StepSlice stepSlice(OpBuilder &b, Value seq, Value t, int64_t axis) {
  auto st = tensorType(seq);
  int64_t rank = st.getRank();
  StepSlice r;
  r.type = stepType(st, axis);
  for (int64_t i = 0; i < rank; ++i) {
    r.offsets.push_back(i == axis ? OpFoldResult(t) : OpFoldResult(b.getIndexAttr(0)));
    r.sizes.push_back(b.getIndexAttr(i == axis ? 1 : st.getDimSize(i)));
    r.strides.push_back(b.getIndexAttr(1));
  }
  return r;
}

Value extractStep(OpBuilder &b, Location l, Value seq, Value t, int64_t axis) {
  StepSlice s = stepSlice(b, seq, t, axis);
  return b.create<tensor::ExtractSliceOp>(l, s.type, seq, s.offsets, s.sizes, s.strides);
}

Value insertStep(OpBuilder &b, Location l, Value step, Value seq, Value t, int64_t axis) {
  StepSlice s = stepSlice(b, seq, t, axis);
  return b.create<tensor::InsertSliceOp>(l, step, seq, s.offsets, s.sizes, s.strides);
}

// The sequence whose step output k of a stacked scan updates in place: a
// cache of the copies, written at one position per step (nn.cache_write of
// the step), or -1. The loop then carries the sequence itself and hands
// the body its step from there: the same values (step t of the carried
// sequence is only written at step t), and bufferization can write it
// where it lies.
int updatedInPlace(ScanOp op, unsigned k) {
  if (!op.getStacked() || !op.getReturnSequence())
    return -1;
  Block &body = op.getBody().front();
  unsigned S = op.getNumStates(), N = op.getSequences().size();
  // The write, or its lowering (the other patterns may have come first).
  Value y = cast<YieldOp>(body.getTerminator()).getValues()[S + k], cache;
  if (auto write = y.getDefiningOp<CacheWriteOp>())
    cache = write.getCache();
  else if (auto insert = y.getDefiningOp<tensor::InsertSliceOp>())
    cache = insert.getDest();
  auto arg = cache.dyn_cast_or_null<BlockArgument>();
  if (!arg || arg.getOwner() != &body || arg.getArgNumber() < S || arg.getArgNumber() >= S + N)
    return -1;
  return int(arg.getArgNumber() - S);
}

// `v` without the reshapes that view it (nn.reshape, or their lowering).
Value underReshapes(Value v) {
  while (Operation *d = v.getDefiningOp()) {
    if (!isa<ReshapeOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp>(d))
      break;
    v = d->getOperand(0);
  }
  return v;
}

// The copy of an in-place output into the state it came from (the step's
// write of its new state) is the update itself: its users take the value,
// so that bufferization keeps the loop's writes in the state's buffer.
void dropCopyBack(PatternRewriter &r, Value result, Value sequence) {
  SmallVector<Value> views{result};
  for (size_t i = 0; i < views.size(); ++i)
    for (Operation *u : llvm::make_early_inc_range(views[i].getUsers())) {
      if (isa<ReshapeOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp>(u))
        views.push_back(u->getResult(0));
      auto copy = dyn_cast<linalg::CopyOp>(u);
      if (copy && copy.getInputs()[0] == views[i] &&
          underReshapes(copy.getOutputs()[0]) == underReshapes(sequence))
        r.replaceOp(copy, views[i]);
    }
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
    int64_t axis = op.getScanAxis();
    Block &body = op.getBody().front();
    auto yield = cast<YieldOp>(body.getTerminator());
    // The loop writes the states in place, so each starts in a buffer of
    // its own (an init may be a constant or a value used elsewhere).
    SmallVector<Value> iters;
    for (Value init : op.getInits())
      iters.push_back(
          r.create<linalg::CopyOp>(loc, init, empty(r, loc, tensorType(init))).getResult(0));
    // Outputs updated in place carry their sequence itself.
    SmallVector<int> inPlace(K);
    for (unsigned k = 0; k < K; ++k) {
      auto rt = tensorType(op.getResult(S + k));
      inPlace[k] = updatedInPlace(op, k);
      iters.push_back(inPlace[k] >= 0 ? op.getSequences()[inPlace[k]]
                      : seqOut        ? empty(r, loc, rt)
                                      : fill(r, loc, rt, 0.0f));
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
              savedNext.push_back(insertStep(b, l, it[s], it[S + K + s], t, axis));
          IRMapping map;
          for (unsigned s = 0; s < S; ++s)
            map.map(body.getArgument(s), it[s]);
          for (unsigned n = 0; n < N; ++n)
            map.map(body.getArgument(S + n), extractStep(b, l, op.getSequences()[n], t, axis));
          for (unsigned k = 0; k < K; ++k)
            if (inPlace[k] >= 0)
              map.map(body.getArgument(S + inPlace[k]), extractStep(b, l, it[S + k], t, axis));
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
            next.push_back(seqOut ? insertStep(b, l, y, it[S + k], t, axis) : carry(y, it[S + k]));
          }
          next.append(savedNext);
          unsigned firstRes = S + K + (save ? S : 0);
          for (unsigned q = 0; q < R; ++q)
            next.push_back(insertStep(b, l, map.lookupOrDefault(yield.getValues()[S + K + q]),
                                      it[firstRes + q], t, axis));
          b.create<scf::YieldOp>(l, next);
        });
    if (op.getStacked())
      loop->setAttr(nnc::kRepeatLoopAttr, r.getUnitAttr());
    for (unsigned k = 0; k < K; ++k)
      if (inPlace[k] >= 0)
        dropCopyBack(r, op.getResult(S + k), op.getSequences()[inPlace[k]]);
    r.replaceOp(op, loop.getResults());
    return success();
  }
};

} // namespace

void nnc::nn_to_linalg::populateScanPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerScan>(patterns.getContext());
}
