// Verifiers, vector-Jacobian products and canonicalization of the sequence ops
// (concat, slice, embedding, dropout, the key/value cache) and nn.scan.
#include "NNOpsUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn::detail;

//===----------------------------------------------------------------------===//
// Sequences and recurrence
//===----------------------------------------------------------------------===//

// A non-negative axis: `axis` if given, else the last one.
static int64_t axisOrLast(std::optional<uint64_t> axis, int64_t rank) {
  return axis ? int64_t(*axis) : rank - 1;
}

int64_t ConcatOp::getJoinAxis() { return axisOrLast(getAxis(), getType().getRank()); }
int64_t SliceOp::getSliceAxis() { return axisOrLast(getAxis(), tensorType(getInput()).getRank()); }
int64_t SliceGradOp::getSliceAxis() { return axisOrLast(getAxis(), getType().getRank()); }

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one operand");
  auto first = tensorType(getInputs()[0]).getShape();
  int64_t rank = int64_t(first.size());
  int64_t axis = getJoinAxis();
  Type elem = getType().getElementType();
  for (Value v : getInputs()) {
    if (tensorType(v).getRank() == 0)
      return emitOpError("operands must have at least one dimension");
    if (tensorType(v).getElementType() != elem)
      return emitOpError("operands and result must have one element type");
  }
  if (axis < 0 || axis >= rank)
    return emitOpError("axis ") << axis << " is outside the operands' rank " << rank;
  int64_t joined = 0;
  for (Value v : getInputs()) {
    auto s = tensorType(v).getShape();
    bool same = s.size() == first.size();
    for (int64_t i = 0; same && i < rank; ++i)
      same = i == axis || s[i] == first[i];
    if (!same)
      return emitOpError("operands must agree on every dimension but ")
             << (axis == rank - 1 ? std::string("the last") : "axis " + std::to_string(axis))
             << ": " << shapeStr(first) << " and " << shapeStr(s);
    joined += s[axis];
  }
  SmallVector<int64_t> expected(first);
  expected[axis] = joined;
  if (getType().getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("result must be ") << shapeStr(expected);
  return success();
}

// nn.slice and its adjoint: `part` is `whole` but on `axis`, and
// [begin, begin + part[axis]) lies inside whole[axis].
static LogicalResult verifyAxisRange(Operation *op, ArrayRef<int64_t> whole, ArrayRef<int64_t> part,
                                     uint64_t rawBegin, int64_t axis, StringRef partName) {
  if (whole.empty())
    return op->emitOpError("result must have the ")
           << partName << "'s shape but the last dimension";
  if (axis < 0 || axis >= int64_t(whole.size()))
    return op->emitOpError("axis ") << axis << " is outside the rank " << whole.size();
  bool same = whole.size() == part.size();
  for (int64_t i = 0; same && i < int64_t(whole.size()); ++i)
    same = i == axis || whole[i] == part[i];
  bool last = axis == int64_t(whole.size()) - 1;
  std::string where = last ? "the last dimension" : "on axis " + std::to_string(axis);
  if (!same)
    return op->emitOpError("result must have the ") << partName << "'s shape but " << where;
  // (I64Attr's getter is unsigned: a negative begin must be read signed.)
  int64_t begin = int64_t(rawBegin);
  if (begin < 0 || begin + part[axis] > whole[axis]) {
    auto d = op->emitOpError("range [") << begin << ", " << begin + part[axis] << ") is outside ";
    if (last)
      return d << "the last dimension " << whole[axis];
    return d << "dimension " << axis << " of size " << whole[axis];
  }
  return success();
}

LogicalResult SliceOp::verify() {
  return verifyAxisRange(*this, tensorType(getInput()).getShape(), getType().getShape(), getBegin(),
                         getSliceAxis(), "input");
}

LogicalResult SliceGradOp::verify() {
  return verifyAxisRange(*this, getType().getShape(), tensorType(getGrad()).getShape(), getBegin(),
                         getSliceAxis(), "gradient");
}

LogicalResult DropoutOp::verify() {
  // The kept values are scaled by 1 / (1 - rate): rate 1 would divide by 0.
  double rate = getRate().convertToDouble();
  if (!(rate >= 0.0 && rate < 1.0))
    return emitOpError("rate must be in [0, 1), got ") << rate;
  return success();
}

LogicalResult CacheWriteOp::verify() {
  auto c = tensorType(getCache()).getShape();
  auto v = tensorType(getValue()).getShape();
  if (c.size() < 2)
    return emitOpError("cache must be [B, N, ...]");
  SmallVector<int64_t> expected(c.begin(), c.end());
  expected[1] = 1;
  if (SmallVector<int64_t>(v.begin(), v.end()) != expected)
    return emitOpError("value must be one position of the cache, ")
           << "[" << expected.size() << "-d with dimension 1 of size 1], got "
           << getValue().getType();
  return success();
}

LogicalResult EmbeddingGradOp::verify() {
  auto ids = tensorType(getIds()).getShape();
  auto g = tensorType(getGrad()).getShape();
  auto t = getType().getShape();
  if (t.size() != 2)
    return emitOpError("result must be a table [V, E]");
  SmallVector<int64_t> expected(ids.begin(), ids.end());
  expected.push_back(t[1]);
  if (g != ArrayRef<int64_t>(expected))
    return emitOpError("gradient must be ") << shapeStr(expected) << " (ids, then the row width)";
  return success();
}

LogicalResult EmbeddingOp::verify() {
  auto t = tensorType(getTable()).getShape();
  auto ids = tensorType(getIds()).getShape();
  if (t.size() != 2)
    return emitOpError("table must be [V, E]");
  SmallVector<int64_t> expected(ids.begin(), ids.end());
  expected.push_back(t[1]);
  if (getType().getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("result must be ") << shapeStr(expected);
  return success();
}

unsigned ScanOp::getNumOutputs() {
  auto y = cast<YieldOp>(getBody().front().getTerminator());
  return y.getValues().size() - getNumStates() - getNumResiduals();
}

int64_t ScanOp::getLength() { return tensorType(getSequences()[0]).getDimSize(getScanAxis()); }

RankedTensorType nnc::nn::stepType(Type seqType, int64_t axis) {
  auto seq = seqType.cast<RankedTensorType>();
  SmallVector<int64_t> s(seq.getShape());
  s.erase(s.begin() + axis);
  return RankedTensorType::get(s, seq.getElementType());
}

RankedTensorType nnc::nn::sequenceType(Type stepT, int64_t t, int64_t axis) {
  auto step = stepT.cast<RankedTensorType>();
  SmallVector<int64_t> s(step.getShape());
  s.insert(s.begin() + axis, t);
  return RankedTensorType::get(s, step.getElementType());
}

LogicalResult ScanOp::verify() {
  if (getSequences().empty())
    return emitOpError("needs at least one sequence to scan");
  // Time scans: [B, T, ...] (axis 1); stacked scans: [N, ...] (axis 0).
  int64_t axis = getScanAxis(), t = -1;
  const char *form = getStacked() ? "[N, ...]" : "[B, T, ...]";
  for (Value s : getSequences()) {
    auto st = tensorType(s);
    if (st.getRank() < axis + 1 || (!getStacked() && st.getRank() < 2))
      return emitOpError("sequences must be ") << form;
    if (t >= 0 && st.getDimSize(axis) != t)
      return emitOpError("sequences have different lengths");
    t = st.getDimSize(axis);
  }
  Block &body = getBody().front();
  unsigned S = getInits().size(), N = getSequences().size(), C = getCaptures().size();
  // Gradients leave a scan through its operands only.
  if (!body.getOps<ParamOp>().empty())
    return emitOpError("reads a parameter inside its body: read it outside "
                       "and pass it as a capture");
  if (body.getNumArguments() != S + N + C)
    return emitOpError("body must take ")
           << S + N + C << " arguments: states, sequence steps, captures";
  // Saved states become [B, T, ...]. (Other states need no batch: the
  // backward scan carries weight gradients as states.)
  if (getSaveStates() && !getStacked())
    for (unsigned i = 0; i < S; ++i)
      if (tensorType(getInits()[i]).getRank() < 1)
        return emitOpError("saved states must be [B, ...]");
  if (!getStacked()) {
    int64_t batch = tensorType(getSequences()[0]).getDimSize(0);
    for (Value v : getSequences())
      if (tensorType(v).getDimSize(0) != batch)
        return emitOpError("sequences must have the same batch size ") << batch;
  }
  for (unsigned i = 0; i < S; ++i)
    if (body.getArgument(i).getType() != getInits()[i].getType())
      return emitOpError("state #") << i << " argument type differs from its initial value";
  for (unsigned i = 0; i < N; ++i)
    if (body.getArgument(S + i).getType() != stepType(tensorType(getSequences()[i]), axis))
      return emitOpError("sequence #")
             << i << " step argument must be " << stepType(tensorType(getSequences()[i]), axis);
  for (unsigned i = 0; i < C; ++i)
    if (body.getArgument(S + N + i).getType() != getCaptures()[i].getType())
      return emitOpError("capture #") << i << " argument type differs";
  auto y = dyn_cast<YieldOp>(body.getTerminator());
  unsigned R = getNumResiduals();
  if (getResiduals() && int64_t(*getResiduals()) < 0)
    return emitOpError("residuals must not be negative");
  if (!y || y.getValues().size() < S + R)
    return emitOpError("body must yield the new states, the outputs and ") << R << " residuals";
  unsigned K = y.getValues().size() - S - R;
  for (unsigned i = 0; i < S; ++i)
    if (y.getValues()[i].getType() != getInits()[i].getType())
      return emitOpError("new state #") << i << " has type " << y.getValues()[i].getType();
  // Outputs and residuals become [B, T, ...] sequences: a step value needs
  // its batch dimension.
  for (unsigned k = S; k < S + K + R && !getStacked(); ++k)
    if (tensorType(y.getValues()[k]).getRank() < 1)
      return emitOpError("step outputs and residuals must be [B, ...]");
  unsigned expected = S + K + (getSaveStates() ? S : 0) + R;
  if (getNumResults() != expected)
    return emitOpError("expects ") << expected << " results";
  for (unsigned i = 0; i < S; ++i)
    if (getResult(i).getType() != getInits()[i].getType())
      return emitOpError("final state #") << i << " type differs";
  auto seqOf = [&](Value step) { return sequenceType(tensorType(step), t, axis); };
  for (unsigned k = 0; k < K; ++k) {
    Value st = y.getValues()[S + k];
    Type want = getReturnSequence() ? Type(seqOf(st)) : st.getType();
    if (getResult(S + k).getType() != want)
      return emitOpError("output #") << k << " must be " << want;
  }
  if (getSaveStates())
    for (unsigned i = 0; i < S; ++i)
      if (getResult(S + K + i).getType() != seqOf(getInits()[i]))
        return emitOpError("saved states #") << i << " must be " << seqOf(getInits()[i]);
  for (unsigned r = 0; r < R; ++r)
    if (getResult(expected - R + r).getType() != seqOf(y.getValues()[S + K + r]))
      return emitOpError("residual #") << r << " must be " << seqOf(y.getValues()[S + K + r]);
  return success();
}

SmallVector<Value> ConcatOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  SmallVector<Value> grads;
  int64_t begin = 0, axis = getJoinAxis();
  for (Value v : getInputs()) {
    grads.push_back(b.create<SliceOp>(getLoc(), v.getType(), dys[0], b.getI64IntegerAttr(begin),
                                      getAxisAttr()));
    begin += tensorType(v).getDimSize(axis);
  }
  return grads;
}

SmallVector<Value> SliceOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {
      b.create<SliceGradOp>(getLoc(), getInput().getType(), dys[0], getBeginAttr(), getAxisAttr())};
}

SmallVector<Value> EmbeddingOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<EmbeddingGradOp>(getLoc(), getTable().getType(), getIds(), dys[0]), Value()};
}

SmallVector<Value> DropoutOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  // Linear in x with the same mask: the VJP is the same dropout of dy.
  return {b.create<DropoutOp>(getLoc(), dys[0], getKey(), getRateAttr(), getStreamAttr()), Value()};
}

//===----------------------------------------------------------------------===//
// Canonicalization
//===----------------------------------------------------------------------===//

namespace {

int64_t dimAt(Value v, int64_t axis) {
  return v.getType().cast<RankedTensorType>().getDimSize(axis);
}

// slice_grad(a, b0) + slice_grad(c, b0 + |a|) -> slice_grad(concat(a, c), b0):
// one copy instead of two zero-filled tensors and their sum.
struct JoinSliceGrads : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op, PatternRewriter &r) const override {
    auto lo = op.getLhs().getDefiningOp<SliceGradOp>();
    auto hi = op.getRhs().getDefiningOp<SliceGradOp>();
    if (!lo || !hi || lo.getType() != op.getType() || hi.getType() != op.getType())
      return failure();
    // Ranges of different axes do not tile one range.
    int64_t axis = lo.getSliceAxis();
    if (hi.getSliceAxis() != axis)
      return failure();
    if (hi.getBegin() + dimAt(hi.getGrad(), axis) == lo.getBegin())
      std::swap(lo, hi);
    else if (lo.getBegin() + dimAt(lo.getGrad(), axis) != hi.getBegin())
      return failure();
    auto gt = lo.getGrad().getType().cast<RankedTensorType>();
    SmallVector<int64_t> shape(gt.getShape());
    shape[axis] += dimAt(hi.getGrad(), axis);
    Value cat = r.create<ConcatOp>(op.getLoc(), RankedTensorType::get(shape, gt.getElementType()),
                                   ValueRange{lo.getGrad(), hi.getGrad()}, lo.getAxisAttr());
    r.replaceOpWithNewOp<SliceGradOp>(op, op.getType(), cat, lo.getBeginAttr(), lo.getAxisAttr());
    return success();
  }
};

// concat(a, concat(b, c)) -> concat(a, b, c).
struct FlattenConcat : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op, PatternRewriter &r) const override {
    SmallVector<Value> inputs;
    bool changed = false;
    for (Value v : op.getInputs()) {
      // Only a concat along the same axis is part of this one.
      auto inner = v.getDefiningOp<ConcatOp>();
      if (inner && inner.getJoinAxis() == op.getJoinAxis()) {
        inputs.append(inner.getInputs().begin(), inner.getInputs().end());
        changed = true;
      } else {
        inputs.push_back(v);
      }
    }
    if (!changed)
      return failure();
    r.replaceOpWithNewOp<ConcatOp>(op, op.getType(), inputs, op.getAxisAttr());
    return success();
  }
};

} // namespace

void AddOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *ctx) {
  results.add<JoinSliceGrads>(ctx);
}

void ConcatOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *ctx) {
  results.add<FlattenConcat>(ctx);
}

// A slice gradient as wide as its input is the gradient itself.
OpFoldResult SliceGradOp::fold(FoldAdaptor) {
  if (getGrad().getType() == getType())
    return getGrad();
  return {};
}
