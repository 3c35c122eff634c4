// Backpropagation through time: the vector-Jacobian product of nn.scan.
//
// The gradient is another nn.scan, run backwards over the states the forward
// scan saved at the start of every step. Its body recomputes one forward step
// from the saved state and differentiates it with the same reverse sweep as
// the whole model (nested autodiff), carrying the gradient of the state from
// step t+1 to step t and summing the gradients of the captured values (the
// weights) over all steps.
//
// A stacked scan (the copies of a repeated layer) differs in one way: its
// step is a whole layer, so recomputing it would cost another forward pass.
// Its forward scan keeps every value the backward step reads instead, as an
// unrolled model does (keepForwardValues).
#include "nnc/Dialect/NN/IR/NNOps.h"
#include "nnc/Dialect/NN/Transforms/Autodiff.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace nnc::nn;

namespace {

RankedTensorType tensorOf(Value v) { return v.getType().cast<RankedTensorType>(); }

Value zeros(OpBuilder &b, Location loc, Type t) {
  return b.create<ConstantOp>(loc, t, b.getF32FloatAttr(0.0f));
}

ScanOp createScan(OpBuilder &b, Location loc, TypeRange results, ValueRange inits,
                  ValueRange sequences, ValueRange captures, bool returnSequence, bool saveStates,
                  bool reverse, bool stacked, unsigned residuals = 0) {
  return b.create<ScanOp>(loc, results, inits, sequences, captures, returnSequence, saveStates,
                          reverse, stacked, residuals);
}

// [B, T, ...] to [B * T, ...]: the steps of a sequence as rows.
Value flattenSteps(OpBuilder &b, Location loc, Value seq) {
  auto st = tensorOf(seq);
  SmallVector<int64_t> s{st.getDimSize(0) * st.getDimSize(1)};
  s.append(st.getShape().begin() + 2, st.getShape().end());
  return b.create<ReshapeOp>(loc, RankedTensorType::get(s, st.getElementType()), seq);
}

// Zeros of a sequence type with `g` (one step) at step t of `axis`.
Value atStep(OpBuilder &b, Location loc, Value g, RankedTensorType seqType, int64_t t,
             int64_t axis) {
  Value z = zeros(b, loc, seqType);
  int64_t rank = seqType.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), strides(rank, b.getIndexAttr(1)),
      sizes;
  offsets[axis] = b.getIndexAttr(t);
  for (int64_t i = 0; i < rank; ++i)
    sizes.push_back(b.getIndexAttr(i == axis ? 1 : seqType.getDimSize(i)));
  return b.create<tensor::InsertSliceOp>(loc, g, z, offsets, sizes, strides);
}

// One vector-Jacobian product of a scan, built step by step: each method
// is one step of ScanOp::buildVJP, and the members carry what a step finds
// to the steps after it.
struct ScanVJPBuilder {
  ScanOp scan;
  OpBuilder &b;
  ArrayRef<Value> resultGrads;
  Location loc;
  unsigned S, K, N, C;
  int64_t T, axis;
  Block &fwdBody;
  YieldOp fwdYield;

  SmallVector<MatMulOp> products; // the kept products
  unsigned R = 0;
  SmallVector<Value> saved, residuals;
  SmallVector<Value> dys;
  SmallVector<bool> carried;
  SmallVector<Value> lhsSeq;
  SmallVector<Value> emitLhs; // forward values, each once
  SmallVector<unsigned> lhsIndex;

  // The backward scan's operands, and its body.
  SmallVector<Value> inits, seqs, caps;
  unsigned Cc = 0;
  IRMapping map;
  SmallVector<Operation *> ops;
  SmallVector<MatMulOp> productClones;

  ScanVJPBuilder(ScanOp scan, OpBuilder &b, ArrayRef<Value> resultGrads)
      : scan(scan), b(b), resultGrads(resultGrads), loc(scan.getLoc()), S(scan.getNumStates()),
        K(scan.getNumOutputs()), N(scan.getSequences().size()), C(scan.getCaptures().size()),
        T(scan.getLength()), axis(scan.getScanAxis()), fwdBody(scan.getBody().front()),
        fwdYield(cast<YieldOp>(fwdBody.getTerminator())) {}

  SmallVector<Value> build();
  LogicalResult checkResultGrads();
  int captureIndex(Value v);
  void keepProducts();
  void forwardAgain();
  ScanOp runAgain(ArrayRef<Value> kept);
  ScanOp keepForwardValues(ScanOp rev);
  void outputGradients();
  void findCarried();
  ScanOp createBackwardScan();
  LogicalResult buildBackwardBody(ScanOp rev);
  void cloneForwardStep(Block *body);
  SmallVector<Value> weightGradients(ScanOp rev);
};

SmallVector<Value> ScanVJPBuilder::build() {
  if (failed(checkResultGrads()))
    return {}; // backpropagate reports the failure
  keepProducts();
  forwardAgain();
  outputGradients();
  findCarried();
  ScanOp rev = createBackwardScan();
  OpBuilder::InsertionGuard guard(b);
  if (failed(buildBackwardBody(rev)))
    return {}; // backpropagate reports the failure
  if (scan.getStacked())
    rev = keepForwardValues(rev);
  return weightGradients(rev);
}

LogicalResult ScanVJPBuilder::checkResultGrads() {
  // Saved states and residuals exist for backpropagation; a loss that reads
  // them would need their gradient to flow back into the steps.
  for (unsigned i = S + K; i < scan.getNumResults(); ++i)
    if (resultGrads[i] && !resultGrads[i].getDefiningOp<ConstantOp>()) {
      scan.emitError("cannot differentiate through the saved states or residuals "
                     "of a scan (result #")
          << i << ")";
      return failure();
    }
  return success();
}

int ScanVJPBuilder::captureIndex(Value v) {
  auto a = v.dyn_cast<BlockArgument>();
  if (!a || a.getOwner() != &fwdBody || a.getArgNumber() < S + N)
    return -1;
  return int(a.getArgNumber() - S - N);
}

void ScanVJPBuilder::keepProducts() {
  // Products of a step value with a captured matrix (the cell's weights):
  // the forward scan keeps them (residuals), so the backward step does not
  // recompute them, and their weight gradients become one matrix product
  // over all steps after the backward scan, instead of a small product per
  // step added into a carried sum.
  if (scan.getNumResiduals() == 0 && !scan.getStacked())
    for (auto mm : fwdBody.getOps<MatMulOp>())
      if (!mm.getTransposeA() && !mm.getTransposeB() && captureIndex(mm.getRhs()) >= 0 &&
          captureIndex(mm.getLhs()) < 0)
        products.push_back(mm);
  R = products.size();
}

void ScanVJPBuilder::forwardAgain() {
  // The forward scan again, now saving the state at the start of every step
  // and the products; it replaces this one (which is then dead).
  if (scan.getSaveStates() && R == 0) {
    saved.append(scan.getSavedStates().begin(), scan.getSavedStates().end());
    return;
  }
  SmallVector<Value> kept;
  for (MatMulOp mm : products)
    kept.push_back(mm.getResult());
  ScanOp again = runAgain(kept);
  for (unsigned i = 0; i < S + K; ++i)
    scan.getResult(i).replaceAllUsesWith(again.getResult(i));
  if (scan.getSaveStates())
    for (auto [o, n] : llvm::zip(scan.getSavedStates(), again.getSavedStates()))
      o.replaceAllUsesWith(n);
  saved.append(again.getSavedStates().begin(), again.getSavedStates().end());
  residuals.append(again.getResidualSequences().begin(), again.getResidualSequences().end());
}

// The forward scan, saving its states and yielding `kept` (values of its
// body) as residual sequences.
ScanOp ScanVJPBuilder::runAgain(ArrayRef<Value> kept) {
  SmallVector<Type> types;
  for (Value r : scan.getResults().take_front(S + K))
    types.push_back(r.getType());
  for (Value init : scan.getInits())
    types.push_back(sequenceType(init.getType(), T, axis));
  for (Value v : kept)
    types.push_back(sequenceType(v.getType(), T, axis));
  OpBuilder fb(scan.getOperation());
  ScanOp again =
      createScan(fb, loc, types, scan.getInits(), scan.getSequences(), scan.getCaptures(),
                 scan.getReturnSequence(), true, scan.getReverse(), scan.getStacked(), kept.size());
  IRMapping cloned;
  scan.getBody().cloneInto(&again.getBody(), cloned);
  auto y = cast<YieldOp>(again.getBody().front().getTerminator());
  SmallVector<Value> ys(y.getValues().take_front(S + K));
  for (Value v : kept)
    ys.push_back(cloned.lookupOrDefault(v));
  y->setOperands(ys);
  return again;
}

// A stacked scan's backward step reads the forward values it needs from
// residuals instead of recomputing the layer: the values of the recomputed
// step that a gradient op reads (through views, which are recomputed) become
// sequences the forward scan yields. Returns the backward scan that reads
// them (it replaces `rev`).
ScanOp ScanVJPBuilder::keepForwardValues(ScanOp rev) {
  Block *body = &rev.getBody().front();
  DenseSet<Operation *> forward(ops.begin(), ops.end());
  DenseMap<Value, Value> original; // recomputed value -> the forward body's
  for (Operation &op : fwdBody.without_terminator())
    for (Value r : op.getResults())
      if (Value c = map.lookupOrNull(r))
        original[c] = r;
  auto recomputed = [&](Value v) {
    Operation *d = v.getDefiningOp();
    return d && forward.count(d) && !isa<ConstantOp, ReshapeOp>(d);
  };
  SetVector<Value> keep;
  SmallVector<Value> work;
  for (Operation *op : ops)
    for (Value r : op->getResults())
      if (llvm::any_of(r.getUsers(), [&](Operation *u) { return !forward.count(u); }))
        work.push_back(r);
  while (!work.empty()) {
    Value v = work.pop_back_val();
    Operation *d = v.getDefiningOp();
    if (recomputed(v))
      keep.insert(v);
    else if (d && forward.count(d))
      work.append(d->getOperands().begin(), d->getOperands().end());
  }
  if (keep.empty())
    return rev;
  SmallVector<Value> kept;
  for (Value v : keep)
    kept.push_back(original.lookup(v));
  // The forward scan again, with the kept values.
  ScanOp old = saved.front().getDefiningOp<ScanOp>();
  ScanOp again = runAgain(kept);
  old->replaceAllUsesWith(again.getResults().take_front(old->getNumResults()));
  if (old != scan) // the caller's sweep still holds `scan`; dead, it is removed later
    old->erase();
  // The backward scan with them as sequences, before its captures.
  SmallVector<Value> operands(rev.getSequences());
  operands.append(again.getResidualSequences().begin(), again.getResidualSequences().end());
  OpBuilder rb(rev.getOperation());
  ScanOp rev2 =
      createScan(rb, loc, rev.getResultTypes(), rev.getInits(), operands, rev.getCaptures(),
                 /*returnSequence=*/true, /*saveStates=*/false,
                 /*reverse=*/!scan.getReverse(), /*stacked=*/true);
  rev2.getBody().takeBody(rev.getBody());
  unsigned at = rev.getInits().size() + rev.getSequences().size();
  for (auto [i, v] : llvm::enumerate(keep))
    v.replaceAllUsesWith(body->insertArgument(at + i, v.getType(), loc));
  rev.replaceAllUsesWith(rev2.getResults());
  rev.erase();
  seqs = operands;
  saved.clear();
  return rev2;
}

void ScanVJPBuilder::outputGradients() {
  // Gradients of the per-step outputs as sequences.
  for (unsigned k = 0; k < K; ++k) {
    Value g = resultGrads[S + k];
    if (!scan.getReturnSequence()) {
      auto stepT = tensorOf(fwdYield.getValues()[S + k]);
      g = atStep(b, loc, g, sequenceType(stepT, T, axis), scan.getReverse() ? 0 : T - 1, axis);
    }
    dys.push_back(g);
  }
}

void ScanVJPBuilder::findCarried() {
  // A capture needs a gradient carried from step to step only when the step
  // uses it other than as the matrix of a kept product (a bias, a peephole).
  carried.assign(C, false);
  for (unsigned j = 0; j < C; ++j)
    for (OpOperand &use : fwdBody.getArgument(S + N + j).getUses()) {
      auto mm = dyn_cast<MatMulOp>(use.getOwner());
      if (!mm || use.getOperandNumber() != 1 || !llvm::is_contained(products, mm))
        carried[j] = true;
    }
  // Where the left operand of a kept product is a state or a sequence step,
  // the saved states or the sequence already hold it; other left operands
  // are emitted by the backward step.
  lhsSeq.assign(R, Value());
  lhsIndex.assign(R, 0);
  for (unsigned q = 0; q < R; ++q) {
    Value lhs = products[q].getLhs();
    auto a = lhs.dyn_cast<BlockArgument>();
    if (a && a.getOwner() == &fwdBody && a.getArgNumber() < S) {
      lhsSeq[q] = saved[a.getArgNumber()];
    } else if (a && a.getOwner() == &fwdBody && a.getArgNumber() < S + N) {
      lhsSeq[q] = scan.getSequences()[a.getArgNumber() - S];
    } else {
      lhsIndex[q] = llvm::find(emitLhs, lhs) - emitLhs.begin();
      if (lhsIndex[q] == emitLhs.size())
        emitLhs.push_back(lhs);
    }
  }
}

ScanOp ScanVJPBuilder::createBackwardScan() {
  for (unsigned i = 0; i < S; ++i)
    inits.push_back(resultGrads[i]);
  for (unsigned j = 0; j < C; ++j)
    if (carried[j])
      inits.push_back(zeros(b, loc, scan.getCaptures()[j].getType()));
  seqs.append(saved);
  seqs.append(scan.getSequences().begin(), scan.getSequences().end());
  seqs.append(dys);
  seqs.append(residuals);
  caps.append(scan.getCaptures().begin(), scan.getCaptures().end());
  // The kept products' matrices again, as arguments that are not
  // differentiated: their gradient is formed after the scan.
  for (MatMulOp mm : products)
    caps.push_back(scan.getCaptures()[captureIndex(mm.getRhs())]);
  SmallVector<Type> types;
  for (Value v : inits)
    types.push_back(v.getType());
  for (Value x : scan.getSequences())
    types.push_back(x.getType());
  for (MatMulOp mm : products)
    types.push_back(sequenceType(mm.getType(), T, axis));
  for (Value v : emitLhs)
    types.push_back(sequenceType(v.getType(), T, axis));
  return createScan(b, loc, types, inits, seqs, caps,
                    /*returnSequence=*/true, /*saveStates=*/false,
                    /*reverse=*/!scan.getReverse(), scan.getStacked());
}

LogicalResult ScanVJPBuilder::buildBackwardBody(ScanOp rev) {
  // Body arguments: dstates, carried dcaptures; s_t, x_t, dy_t, residual_t
  // (steps); captures, the kept products' matrices.
  Block *body = new Block();
  rev.getBody().push_back(body);
  for (Value v : inits)
    body->addArgument(v.getType(), loc);
  for (Value v : seqs)
    body->addArgument(stepType(v.getType(), axis), loc);
  for (Value v : caps)
    body->addArgument(v.getType(), loc);
  Cc = inits.size() - S;
  auto args = body->getArguments();
  auto dState = args.take_front(S);
  auto dCap = args.slice(S, Cc);
  auto sT = args.slice(S + Cc, S);
  auto xT = args.slice(S + Cc + S, N);
  auto dyT = args.slice(S + Cc + S + N, K);
  auto resT = args.slice(S + Cc + S + N + K, R);
  auto capArgs = args.slice(S + Cc + S + N + K + R, C);

  b.setInsertionPointToStart(body);
  cloneForwardStep(body);

  SmallVector<Value> roots(sT.begin(), sT.end());
  roots.append(xT.begin(), xT.end());
  roots.append(capArgs.begin(), capArgs.end());
  for (MatMulOp c : productClones)
    roots.push_back(c.getResult());
  DenseSet<Value> active = activeValues(ops, roots);
  DenseMap<Value, Value> grads;
  auto seed = [&](Value v, Value g) {
    Value &slot = grads[v];
    slot = slot ? b.create<AddOp>(loc, g.getType(), slot, g).getResult() : g;
  };
  for (unsigned i = 0; i < S; ++i)
    seed(map.lookupOrDefault(fwdYield.getValues()[i]), dState[i]);
  for (unsigned k = 0; k < K; ++k)
    seed(map.lookupOrDefault(fwdYield.getValues()[S + k]), dyT[k]);
  if (failed(backpropagate(b, ops, active, grads, nullptr)))
    return failure();

  SmallVector<Value> yields;
  for (Value s : sT) {
    Value g = grads.lookup(s);
    yields.push_back(g ? g : zeros(b, loc, s.getType()));
  }
  for (unsigned j = 0, c = 0; j < C; ++j) {
    if (!carried[j])
      continue;
    Value g = grads.lookup(capArgs[j]);
    yields.push_back(g ? b.create<AddOp>(loc, g.getType(), dCap[c], g).getResult()
                       : Value(dCap[c]));
    ++c;
  }
  for (Value x : xT) {
    Value g = grads.lookup(x);
    yields.push_back(g ? g : zeros(b, loc, x.getType()));
  }
  for (MatMulOp c : productClones) {
    Value g = grads.lookup(c.getResult());
    yields.push_back(g ? g : zeros(b, loc, c.getType()));
  }
  for (Value v : emitLhs)
    yields.push_back(map.lookup(v));
  b.create<YieldOp>(loc, yields);
  // The backward step reads the kept products instead of computing them.
  for (unsigned q = 0; q < R; ++q) {
    productClones[q].getResult().replaceAllUsesWith(resT[q]);
    productClones[q].erase();
  }
  return success();
}

// One forward step recomputed in the backward body from the step's
// arguments, its kept products reading the matrices passed for them.
void ScanVJPBuilder::cloneForwardStep(Block *body) {
  auto args = body->getArguments();
  auto sT = args.slice(S + Cc, S);
  auto xT = args.slice(S + Cc + S, N);
  auto capArgs = args.slice(S + Cc + S + N + K + R, C);
  auto matArgs = args.take_back(R);
  for (unsigned i = 0; i < S; ++i)
    map.map(fwdBody.getArgument(i), sT[i]);
  for (unsigned i = 0; i < N; ++i)
    map.map(fwdBody.getArgument(S + i), xT[i]);
  for (unsigned i = 0; i < C; ++i)
    map.map(fwdBody.getArgument(S + N + i), capArgs[i]);
  for (Operation &op : fwdBody.without_terminator()) {
    Operation *c = b.clone(op, map);
    ops.push_back(c);
    if (auto mm = dyn_cast<MatMulOp>(op); mm && llvm::is_contained(products, mm)) {
      unsigned q = llvm::find(products, mm) - products.begin();
      c->setOperand(1, matArgs[q]);
      productClones.push_back(cast<MatMulOp>(c));
    }
  }
}

SmallVector<Value> ScanVJPBuilder::weightGradients(ScanOp rev) {
  // Weight gradients: sum over steps and examples of lhs^T @ dproduct, as
  // one product of [B * T, k]^T and [B * T, n].
  b.setInsertionPointAfter(rev);
  unsigned firstProductGrad = S + Cc + N;
  for (unsigned q = 0; q < R; ++q)
    if (!lhsSeq[q])
      lhsSeq[q] = rev.getResult(firstProductGrad + R + lhsIndex[q]);
  SmallVector<Value> dCaps(C);
  for (unsigned j = 0, c = 0; j < C; ++j)
    if (carried[j])
      dCaps[j] = rev.getResult(S + c++);
  for (unsigned q = 0; q < R; ++q) {
    unsigned j = captureIndex(products[q].getRhs());
    Value dw =
        b.create<MatMulOp>(loc, scan.getCaptures()[j].getType(), flattenSteps(b, loc, lhsSeq[q]),
                           flattenSteps(b, loc, rev.getResult(firstProductGrad + q)),
                           /*transpose_a=*/true, /*transpose_b=*/false);
    dCaps[j] = dCaps[j] ? b.create<AddOp>(loc, dw.getType(), dCaps[j], dw).getResult() : dw;
  }

  SmallVector<Value> result;
  for (unsigned i = 0; i < S; ++i)
    result.push_back(rev.getResult(i));
  for (unsigned n = 0; n < N; ++n)
    result.push_back(rev.getResult(S + Cc + n));
  for (unsigned j = 0; j < C; ++j)
    result.push_back(dCaps[j] ? dCaps[j] : zeros(b, loc, scan.getCaptures()[j].getType()));
  return result;
}

} // namespace

SmallVector<Value> ScanOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads) {
  return ScanVJPBuilder(*this, b, resultGrads).build();
}
