// Backpropagation through time: the vector-Jacobian product of nn.scan.
//
// The gradient is another nn.scan, run backwards over the states the forward
// scan saved at the start of every step. Its body recomputes one forward step
// from the saved state and differentiates it with the same reverse sweep as
// the whole model (nested autodiff), carrying the gradient of the state from
// step t+1 to step t and summing the gradients of the captured values (the
// weights) over all steps.
#include "nnc/Dialect/NN/IR/NNOps.h"
#include "nnc/Dialect/NN/Transforms/Autodiff.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace nnc::nn;

namespace {

RankedTensorType tensorOf(Value v) { return v.getType().cast<RankedTensorType>(); }

Value zeros(OpBuilder &b, Location loc, Type t) {
  return b.create<ConstantOp>(loc, t, b.getF32FloatAttr(0.0f));
}

ScanOp createScan(OpBuilder &b, Location loc, TypeRange results, ValueRange inits,
                  ValueRange sequences, ValueRange captures, bool returnSequence,
                  bool saveStates, bool reverse) {
  OperationState state(loc, ScanOp::getOperationName());
  state.addOperands(inits);
  state.addOperands(sequences);
  state.addOperands(captures);
  state.addAttribute(ScanOp::getOperandSegmentSizesAttrName(state.name),
                     b.getDenseI32ArrayAttr({int32_t(inits.size()),
                                             int32_t(sequences.size()),
                                             int32_t(captures.size())}));
  if (returnSequence)
    state.addAttribute(ScanOp::getReturnSequenceAttrName(state.name), b.getUnitAttr());
  if (saveStates)
    state.addAttribute(ScanOp::getSaveStatesAttrName(state.name), b.getUnitAttr());
  if (reverse)
    state.addAttribute(ScanOp::getReverseAttrName(state.name), b.getUnitAttr());
  state.addTypes(results);
  state.addRegion();
  return cast<ScanOp>(b.create(state));
}

// [B, T, ...] zeros with `g` ([B, ...]) at step t.
Value atStep(OpBuilder &b, Location loc, Value g, RankedTensorType seqType, int64_t t) {
  Value z = zeros(b, loc, seqType);
  int64_t rank = seqType.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), strides(rank, b.getIndexAttr(1)),
      sizes;
  offsets[1] = b.getIndexAttr(t);
  for (int64_t i = 0; i < rank; ++i)
    sizes.push_back(b.getIndexAttr(i == 1 ? 1 : seqType.getDimSize(i)));
  return b.create<tensor::InsertSliceOp>(loc, g, z, offsets, sizes, strides);
}

} // namespace

SmallVector<Value> ScanOp::buildVJP(OpBuilder &b, ArrayRef<Value> resultGrads) {
  Location loc = getLoc();
  unsigned S = getNumStates(), K = getNumOutputs(), N = getSequences().size(),
           C = getCaptures().size();
  int64_t T = getLength();

  // The states at the start of every step; a scan that did not save them
  // is run again with save_states (recomputation instead of memory).
  SmallVector<Value> saved;
  if (getSaveStates()) {
    saved.append(getSavedStates().begin(), getSavedStates().end());
  } else {
    SmallVector<Type> types(getResultTypes());
    for (Value init : getInits()) {
      auto it = tensorOf(init);
      SmallVector<int64_t> s{it.getDimSize(0), T};
      s.append(it.getShape().begin() + 1, it.getShape().end());
      types.push_back(RankedTensorType::get(s, it.getElementType()));
    }
    ScanOp again = createScan(b, loc, types, getInits(), getSequences(), getCaptures(),
                              getReturnSequence(), true, getReverse());
    IRMapping map;
    getBody().cloneInto(&again.getBody(), map);
    auto r = again.getSavedStates();
    saved.append(r.begin(), r.end());
  }

  // Gradients of the per-step outputs as sequences.
  Block &fwdBody = getBody().front();
  auto fwdYield = cast<YieldOp>(fwdBody.getTerminator());
  SmallVector<Value> dys;
  for (unsigned k = 0; k < K; ++k) {
    Value g = resultGrads[S + k];
    if (!getReturnSequence()) {
      auto seqT = tensorOf(saved.empty() ? getSequences()[0] : saved[0]);
      auto stepT = tensorOf(fwdYield.getValues()[S + k]);
      SmallVector<int64_t> s{seqT.getDimSize(0), T};
      s.append(stepT.getShape().begin() + 1, stepT.getShape().end());
      g = atStep(b, loc, g, RankedTensorType::get(s, stepT.getElementType()),
                 getReverse() ? 0 : T - 1);
    }
    dys.push_back(g);
  }

  SmallVector<Value> inits, seqs;
  for (unsigned i = 0; i < S; ++i)
    inits.push_back(resultGrads[i]);
  for (Value c : getCaptures())
    inits.push_back(zeros(b, loc, c.getType()));
  seqs.append(saved);
  seqs.append(getSequences().begin(), getSequences().end());
  seqs.append(dys);
  SmallVector<Type> types;
  for (Value v : inits)
    types.push_back(v.getType());
  for (Value x : getSequences())
    types.push_back(x.getType());
  ScanOp rev = createScan(b, loc, types, inits, seqs, getCaptures(),
                          /*returnSequence=*/true, /*saveStates=*/false,
                          /*reverse=*/!getReverse());

  // Body arguments: dstates, dcaptures (carried); s_t, x_t, dy_t (steps);
  // captures.
  Block *body = new Block();
  rev.getBody().push_back(body);
  SmallVector<Location> locs;
  auto addArgs = [&](ValueRange vs, bool step) {
    for (Value v : vs)
      body->addArgument(step ? Type(RankedTensorType::get(
                                   [&] {
                                     auto t = tensorOf(v);
                                     SmallVector<int64_t> s{t.getDimSize(0)};
                                     s.append(t.getShape().begin() + 2, t.getShape().end());
                                     return s;
                                   }(),
                                   tensorOf(v).getElementType()))
                             : v.getType(),
                        loc);
  };
  addArgs(inits, false);
  addArgs(seqs, true);
  addArgs(getCaptures(), false);
  auto args = body->getArguments();
  auto dState = args.take_front(S);
  auto dCap = args.slice(S, C);
  auto sT = args.slice(S + C, S);
  auto xT = args.slice(S + C + S, N);
  auto dyT = args.slice(S + C + S + N, K);
  auto caps = args.take_back(C);

  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(body);
  IRMapping map;
  for (unsigned i = 0; i < S; ++i)
    map.map(fwdBody.getArgument(i), sT[i]);
  for (unsigned i = 0; i < N; ++i)
    map.map(fwdBody.getArgument(S + i), xT[i]);
  for (unsigned i = 0; i < C; ++i)
    map.map(fwdBody.getArgument(S + N + i), caps[i]);
  SmallVector<Operation *> ops;
  for (Operation &op : fwdBody.without_terminator())
    ops.push_back(b.clone(op, map));

  SmallVector<Value> roots(sT.begin(), sT.end());
  roots.append(xT.begin(), xT.end());
  roots.append(caps.begin(), caps.end());
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
    return SmallVector<Value>(getNumOperands(), Value());

  SmallVector<Value> yields;
  for (Value s : sT) {
    Value g = grads.lookup(s);
    yields.push_back(g ? g : zeros(b, loc, s.getType()));
  }
  for (unsigned j = 0; j < C; ++j) {
    Value g = grads.lookup(caps[j]);
    yields.push_back(g ? b.create<AddOp>(loc, g.getType(), dCap[j], g).getResult()
                       : Value(dCap[j]));
  }
  for (Value x : xT) {
    Value g = grads.lookup(x);
    yields.push_back(g ? g : zeros(b, loc, x.getType()));
  }
  b.create<YieldOp>(loc, yields);

  SmallVector<Value> result;
  for (unsigned i = 0; i < S; ++i)
    result.push_back(rev.getResult(i));
  for (unsigned n = 0; n < N; ++n)
    result.push_back(rev.getResult(S + C + n));
  for (unsigned j = 0; j < C; ++j)
    result.push_back(rev.getResult(S + j));
  return result;
}
