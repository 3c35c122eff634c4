// Verifiers of the nn ops and their vector-Jacobian products.
#include "nnc/Dialect/NN/IR/NNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace nnc::nn;

#include "nnc/Dialect/NN/IR/NNInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "nnc/Dialect/NN/IR/NNOps.cpp.inc"

std::optional<SmallVector<int64_t>>
nnc::nn::broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

static std::string shapeStr(ArrayRef<int64_t> s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

static RankedTensorType tensorType(Value v) {
  return v.getType().cast<RankedTensorType>();
}

// `from` can be broadcast to `to`.
static bool broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  auto b = broadcastShapes(from, to);
  return b && ArrayRef<int64_t>(*b) == to;
}

//===----------------------------------------------------------------------===//
// Verifiers
//===----------------------------------------------------------------------===//

LogicalResult ParameterOp::verify() {
  auto t = getType().dyn_cast<RankedTensorType>();
  if (!t || !t.getElementType().isF32() || !t.hasStaticShape())
    return emitOpError("parameter type must be a statically shaped f32 tensor");
  static const char *inits[] = {"glorot_uniform", "he_uniform", "zeros", "ones",
                                "constant",       "uniform",    "normal"};
  if (llvm::find(inits, getInit()) == std::end(inits))
    return emitOpError("unknown initializer '") << getInit() << "'";
  return success();
}

LogicalResult ParamOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto param =
      symbolTable.lookupNearestSymbolFrom<ParameterOp>(*this, getNameAttr());
  if (!param)
    return emitOpError("'") << getName() << "' is not an nn.parameter";
  if (param.getType() != getType())
    return emitOpError("type ") << getType() << " does not match parameter type "
                                << param.getType();
  return success();
}

LogicalResult BroadcastToOp::verify() {
  if (!broadcastsTo(tensorType(getInput()).getShape(),
                    getType().getShape()))
    return emitOpError("cannot broadcast ")
           << shapeStr(tensorType(getInput()).getShape()) << " to "
           << shapeStr(getType().getShape());
  return success();
}

LogicalResult SumToOp::verify() {
  if (!broadcastsTo(getType().getShape(),
                    tensorType(getInput()).getShape()))
    return emitOpError("cannot sum ")
           << shapeStr(tensorType(getInput()).getShape()) << " to "
           << shapeStr(getType().getShape())
           << ": the result must broadcast to the input";
  return success();
}

LogicalResult ReshapeOp::verify() {
  if (tensorType(getInput()).getNumElements() != getType().getNumElements())
    return emitOpError("cannot reshape ")
           << shapeStr(tensorType(getInput()).getShape()) << " to "
           << shapeStr(getType().getShape())
           << ": element counts differ";
  return success();
}

LogicalResult MatMulOp::verify() {
  auto a = tensorType(getLhs()), b = tensorType(getRhs());
  if (a.getRank() != 2 || b.getRank() != 2 || getType().getRank() != 2)
    return emitOpError("expects rank-2 operands and result");
  int64_t m = getTransposeA() ? a.getDimSize(1) : a.getDimSize(0);
  int64_t ka = getTransposeA() ? a.getDimSize(0) : a.getDimSize(1);
  int64_t kb = getTransposeB() ? b.getDimSize(1) : b.getDimSize(0);
  int64_t n = getTransposeB() ? b.getDimSize(0) : b.getDimSize(1);
  if (ka != kb)
    return emitOpError("inner dimensions differ: ") << ka << " and " << kb;
  if (getType().getDimSize(0) != m || getType().getDimSize(1) != n)
    return emitOpError("result must be ") << shapeStr({m, n}) << ", got "
                                          << shapeStr(getType().getShape());
  return success();
}

template <typename Op> static LogicalResult verifyBinary(Op op) {
  auto a = tensorType(op.getLhs()).getShape();
  auto b = tensorType(op.getRhs()).getShape();
  auto r = broadcastShapes(a, b);
  if (!r)
    return op.emitOpError("operand shapes ")
           << shapeStr(a) << " and " << shapeStr(b) << " do not broadcast";
  if (ArrayRef<int64_t>(*r) != op.getType().getShape())
    return op.emitOpError("result must have the broadcast shape ")
           << shapeStr(*r) << ", got " << shapeStr(op.getType().getShape());
  return success();
}
LogicalResult AddOp::verify() { return verifyBinary(*this); }
LogicalResult SubOp::verify() { return verifyBinary(*this); }
LogicalResult MulOp::verify() { return verifyBinary(*this); }
LogicalResult DivOp::verify() { return verifyBinary(*this); }

LogicalResult CrossEntropyOp::verify() {
  auto l = tensorType(getLogits());
  auto y = tensorType(getLabels());
  auto w = tensorType(getWeights());
  if (l.getRank() != 2)
    return emitOpError("logits must be [N, C], got ") << shapeStr(l.getShape());
  if (y.getRank() != 1 || y.getDimSize(0) != l.getDimSize(0))
    return emitOpError("labels must be [") << l.getDimSize(0) << "], got "
                                           << shapeStr(y.getShape());
  if (w.getRank() != 1 || w.getDimSize(0) != l.getDimSize(0))
    return emitOpError("weights must be [") << l.getDimSize(0) << "], got "
                                            << shapeStr(w.getShape());
  return success();
}

LogicalResult MSEOp::verify() {
  auto p = tensorType(getPred());
  if (p != tensorType(getTarget()))
    return emitOpError("prediction and target types differ");
  auto w = tensorType(getWeights());
  if (p.getRank() < 1 || w.getRank() != 1 || w.getDimSize(0) != p.getDimSize(0))
    return emitOpError("weights must be one per row of the prediction");
  return success();
}

//===----------------------------------------------------------------------===//
// Vector-Jacobian products
//===----------------------------------------------------------------------===//

// The gradient of a broadcast operand: sum the result-shaped gradient over
// the dimensions that were broadcast.
static Value sumToType(OpBuilder &b, Location loc, Value grad, Type type) {
  if (grad.getType() == type)
    return grad;
  return b.create<SumToOp>(loc, type, grad);
}

static Value constantLike(OpBuilder &b, Location loc, Value like, float v) {
  return b.create<ConstantOp>(loc, like.getType(), b.getF32FloatAttr(v));
}

SmallVector<Value> BroadcastToOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<SumToOp>(getLoc(), getInput().getType(), dys[0])};
}

SmallVector<Value> SumToOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<BroadcastToOp>(getLoc(), getInput().getType(), dys[0])};
}

SmallVector<Value> ReshapeOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<ReshapeOp>(getLoc(), getInput().getType(), dys[0])};
}

// C = op_a(A) op_b(B): dop_a(A) = dC op_b(B)^T, dop_b(B) = op_a(A)^T dC,
// each written as one product with transpose flags instead of a transpose
// (for nn.batch_matmul, per leading index).
template <typename MM> static SmallVector<Value> productVJP(MM op, OpBuilder &b, Value dc) {
  Value a = op.getLhs(), bm = op.getRhs();
  bool ta = op.getTransposeA(), tb = op.getTransposeB();
  Location loc = op.getLoc();
  auto mm = [&](Value x, Value y, bool tx, bool ty, Type t) -> Value {
    auto p = b.create<MM>(loc, t, x, y);
    if (tx)
      p.setTransposeA(true);
    if (ty)
      p.setTransposeB(true);
    return p;
  };
  Value da = ta ? mm(bm, dc, tb, true, a.getType())
                : mm(dc, bm, false, !tb, a.getType());
  Value db = tb ? mm(dc, a, true, ta, bm.getType())
                : mm(a, dc, !ta, false, bm.getType());
  return {da, db};
}

SmallVector<Value> MatMulOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return productVJP(*this, b, dys[0]);
}

SmallVector<Value> AddOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {sumToType(b, getLoc(), dys[0], getLhs().getType()),
          sumToType(b, getLoc(), dys[0], getRhs().getType())};
}

SmallVector<Value> SubOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  Value neg = b.create<NegOp>(getLoc(), dys[0]);
  return {sumToType(b, getLoc(), dys[0], getLhs().getType()),
          sumToType(b, getLoc(), neg, getRhs().getType())};
}

SmallVector<Value> MulOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  Location loc = getLoc();
  Type t = getType();
  Value da = b.create<MulOp>(loc, t, dys[0], getRhs());
  Value db = b.create<MulOp>(loc, t, dys[0], getLhs());
  return {sumToType(b, loc, da, getLhs().getType()),
          sumToType(b, loc, db, getRhs().getType())};
}

SmallVector<Value> DivOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  // y = a / b: da = dy / b, db = -dy * y / b.
  Location loc = getLoc();
  Type t = getType();
  Value da = b.create<DivOp>(loc, t, dys[0], getRhs());
  Value dyy = b.create<MulOp>(loc, t, dys[0], getResult());
  Value db = b.create<NegOp>(loc, b.create<DivOp>(loc, t, dyy, getRhs()));
  return {sumToType(b, loc, da, getLhs().getType()),
          sumToType(b, loc, db, getRhs().getType())};
}

SmallVector<Value> NegOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<NegOp>(getLoc(), dys[0])};
}

SmallVector<Value> ReluOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<ReluGradOp>(getLoc(), getType(), getInput(), dys[0])};
}

SmallVector<Value> SigmoidOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  // dy * y * (1 - y)
  Location loc = getLoc();
  Type t = getType();
  Value y = getResult();
  Value oneMinus = b.create<SubOp>(loc, t, constantLike(b, loc, y, 1.0f), y);
  Value s = b.create<MulOp>(loc, t, y, oneMinus);
  return {b.create<MulOp>(loc, t, dys[0], s)};
}

SmallVector<Value> TanhOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  // dy * (1 - y^2)
  Location loc = getLoc();
  Type t = getType();
  Value y = getResult();
  Value y2 = b.create<MulOp>(loc, t, y, y);
  Value s = b.create<SubOp>(loc, t, constantLike(b, loc, y, 1.0f), y2);
  return {b.create<MulOp>(loc, t, dys[0], s)};
}

SmallVector<Value> ExpOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<MulOp>(getLoc(), getType(), dys[0], getResult())};
}

SmallVector<Value> LogOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<DivOp>(getLoc(), getType(), dys[0], getInput())};
}

SmallVector<Value> SqrtOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  // dy / (2 sqrt(x))
  Location loc = getLoc();
  Type t = getType();
  Value half = b.create<MulOp>(loc, t, dys[0],
                               constantLike(b, loc, getResult(), 0.5f));
  return {b.create<DivOp>(loc, t, half, getResult())};
}

SmallVector<Value> CrossEntropyOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  Value dl = b.create<CrossEntropyGradOp>(getLoc(), getLogits().getType(),
                                          getLogits(), getLabels(),
                                          getWeights(), dys[0]);
  return {dl, Value(), Value()};
}

SmallVector<Value> MSEOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  Value dp = b.create<MSEGradOp>(getLoc(), getPred().getType(), getPred(),
                                 getTarget(), getWeights(), dys[0]);
  Value dt = b.create<NegOp>(getLoc(), dp);
  return {dp, dt, Value()};
}

//===----------------------------------------------------------------------===//
// Sequences and recurrence
//===----------------------------------------------------------------------===//

// A non-negative axis: `axis` if given, else the last one.
static int64_t axisOrLast(std::optional<uint64_t> axis, int64_t rank) {
  return axis ? int64_t(*axis) : rank - 1;
}

int64_t ConcatOp::getJoinAxis() {
  return axisOrLast(getAxis(), getType().getRank());
}
int64_t SliceOp::getSliceAxis() {
  return axisOrLast(getAxis(), tensorType(getInput()).getRank());
}
int64_t SliceGradOp::getSliceAxis() {
  return axisOrLast(getAxis(), getType().getRank());
}

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
             << (axis == rank - 1 ? std::string("the last")
                                  : "axis " + std::to_string(axis))
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
static LogicalResult verifyAxisRange(Operation *op, ArrayRef<int64_t> whole,
                                     ArrayRef<int64_t> part, uint64_t rawBegin,
                                     int64_t axis, StringRef partName) {
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
    return op->emitOpError("result must have the ")
           << partName << "'s shape but " << where;
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
  return verifyAxisRange(*this, tensorType(getInput()).getShape(), getType().getShape(),
                         getBegin(), getSliceAxis(), "input");
}

LogicalResult SliceGradOp::verify() {
  return verifyAxisRange(*this, getType().getShape(), tensorType(getGrad()).getShape(),
                         getBegin(), getSliceAxis(), "gradient");
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

int64_t ScanOp::getLength() {
  return tensorType(getSequences()[0]).getDimSize(1);
}

RankedTensorType nnc::nn::stepType(Type seqType) {
  auto seq = seqType.cast<RankedTensorType>();
  SmallVector<int64_t> s{seq.getDimSize(0)};
  s.append(seq.getShape().begin() + 2, seq.getShape().end());
  return RankedTensorType::get(s, seq.getElementType());
}

RankedTensorType nnc::nn::sequenceType(Type stepT, int64_t t) {
  auto step = stepT.cast<RankedTensorType>();
  SmallVector<int64_t> s{step.getDimSize(0), t};
  s.append(step.getShape().begin() + 1, step.getShape().end());
  return RankedTensorType::get(s, step.getElementType());
}

LogicalResult ScanOp::verify() {
  if (getSequences().empty())
    return emitOpError("needs at least one sequence to scan");
  int64_t t = -1;
  for (Value s : getSequences()) {
    auto st = tensorType(s);
    if (st.getRank() < 2)
      return emitOpError("sequences must be [B, T, ...]");
    if (t >= 0 && st.getDimSize(1) != t)
      return emitOpError("sequences have different lengths");
    t = st.getDimSize(1);
  }
  Block &body = getBody().front();
  unsigned S = getInits().size(), N = getSequences().size(), C = getCaptures().size();
  // Gradients leave a scan through its operands only.
  if (!body.getOps<ParamOp>().empty())
    return emitOpError("reads a parameter inside its body: read it outside "
                       "and pass it as a capture");
  if (body.getNumArguments() != S + N + C)
    return emitOpError("body must take ") << S + N + C
                                         << " arguments: states, sequence steps, captures";
  // Saved states become [B, T, ...]. (Other states need no batch: the
  // backward scan carries weight gradients as states.)
  if (getSaveStates())
    for (unsigned i = 0; i < S; ++i)
      if (tensorType(getInits()[i]).getRank() < 1)
        return emitOpError("saved states must be [B, ...]");
  int64_t batch = tensorType(getSequences()[0]).getDimSize(0);
  for (Value v : getSequences())
    if (tensorType(v).getDimSize(0) != batch)
      return emitOpError("sequences must have the same batch size ") << batch;
  for (unsigned i = 0; i < S; ++i)
    if (body.getArgument(i).getType() != getInits()[i].getType())
      return emitOpError("state #") << i << " argument type differs from its initial value";
  for (unsigned i = 0; i < N; ++i)
    if (body.getArgument(S + i).getType() != stepType(tensorType(getSequences()[i])))
      return emitOpError("sequence #") << i << " step argument must be "
                                       << stepType(tensorType(getSequences()[i]));
  for (unsigned i = 0; i < C; ++i)
    if (body.getArgument(S + N + i).getType() != getCaptures()[i].getType())
      return emitOpError("capture #") << i << " argument type differs";
  auto y = dyn_cast<YieldOp>(body.getTerminator());
  unsigned R = getNumResiduals();
  if (getResiduals() && int64_t(*getResiduals()) < 0)
    return emitOpError("residuals must not be negative");
  if (!y || y.getValues().size() < S + R)
    return emitOpError("body must yield the new states, the outputs and ")
           << R << " residuals";
  unsigned K = y.getValues().size() - S - R;
  for (unsigned i = 0; i < S; ++i)
    if (y.getValues()[i].getType() != getInits()[i].getType())
      return emitOpError("new state #") << i << " has type "
                                        << y.getValues()[i].getType();
  // Outputs and residuals become [B, T, ...] sequences: a step value needs
  // its batch dimension.
  for (unsigned k = S; k < S + K + R; ++k)
    if (tensorType(y.getValues()[k]).getRank() < 1)
      return emitOpError("step outputs and residuals must be [B, ...]");
  unsigned expected = S + K + (getSaveStates() ? S : 0) + R;
  if (getNumResults() != expected)
    return emitOpError("expects ") << expected << " results";
  for (unsigned i = 0; i < S; ++i)
    if (getResult(i).getType() != getInits()[i].getType())
      return emitOpError("final state #") << i << " type differs";
  for (unsigned k = 0; k < K; ++k) {
    auto st = tensorType(y.getValues()[S + k]);
    Type want = getReturnSequence() ? Type(sequenceType(st, t)) : Type(st);
    if (getResult(S + k).getType() != want)
      return emitOpError("output #") << k << " must be " << want;
  }
  if (getSaveStates())
    for (unsigned i = 0; i < S; ++i)
      if (getResult(S + K + i).getType() !=
          sequenceType(tensorType(getInits()[i]), t))
        return emitOpError("saved states #") << i << " must be [B, T, ...]";
  for (unsigned r = 0; r < R; ++r)
    if (getResult(expected - R + r).getType() !=
        sequenceType(tensorType(y.getValues()[S + K + r]), t))
      return emitOpError("residual #") << r << " must be "
                                       << sequenceType(tensorType(y.getValues()[S + K + r]), t);
  return success();
}

SmallVector<Value> ConcatOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  SmallVector<Value> grads;
  int64_t begin = 0, axis = getJoinAxis();
  for (Value v : getInputs()) {
    grads.push_back(b.create<SliceOp>(getLoc(), v.getType(), dys[0],
                                      b.getI64IntegerAttr(begin), getAxisAttr()));
    begin += tensorType(v).getDimSize(axis);
  }
  return grads;
}

SmallVector<Value> SliceOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<SliceGradOp>(getLoc(), getInput().getType(), dys[0],
                                getBeginAttr(), getAxisAttr())};
}

SmallVector<Value> EmbeddingOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<EmbeddingGradOp>(getLoc(), getTable().getType(), getIds(), dys[0]),
          Value()};
}

SmallVector<Value> DropoutOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  // Linear in x with the same mask: the VJP is the same dropout of dy.
  return {b.create<DropoutOp>(getLoc(), dys[0], getKey(), getRateAttr(),
                              getStreamAttr()),
          Value()};
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
    Value cat = r.create<ConcatOp>(op.getLoc(),
                                   RankedTensorType::get(shape, gt.getElementType()),
                                   ValueRange{lo.getGrad(), hi.getGrad()}, lo.getAxisAttr());
    r.replaceOpWithNewOp<SliceGradOp>(op, op.getType(), cat, lo.getBeginAttr(),
                                      lo.getAxisAttr());
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

//===----------------------------------------------------------------------===//
// Transformer primitives (issue 4)
//===----------------------------------------------------------------------===//

// An optional axis attribute: -1 (the last) when absent, negative counts
// from the end. Valid axes are [-rank, rank).
static LogicalResult verifyAxis(Operation *op, std::optional<uint64_t> raw, int64_t rank) {
  if (rank < 1)
    return op->emitOpError("needs an operand with at least one dimension");
  // (I64Attr's getter is unsigned: read it signed.)
  int64_t axis = raw ? int64_t(*raw) : -1;
  if (axis < -rank || axis >= rank)
    return op->emitOpError("axis ") << axis << " is out of range for rank " << rank;
  return success();
}
static int64_t axisIndex(std::optional<uint64_t> raw, int64_t rank) {
  int64_t axis = raw ? int64_t(*raw) : -1;
  return axis < 0 ? axis + rank : axis;
}

LogicalResult SoftmaxOp::verify() { return verifyAxis(*this, getAxis(), getType().getRank()); }
LogicalResult LogSoftmaxOp::verify() {
  return verifyAxis(*this, getAxis(), getType().getRank());
}
LogicalResult SoftmaxGradOp::verify() {
  return verifyAxis(*this, getAxis(), getType().getRank());
}
LogicalResult LogSoftmaxGradOp::verify() {
  return verifyAxis(*this, getAxis(), getType().getRank());
}
int64_t SoftmaxOp::getAxisIndex() { return axisIndex(getAxis(), getType().getRank()); }
int64_t LogSoftmaxOp::getAxisIndex() { return axisIndex(getAxis(), getType().getRank()); }
int64_t SoftmaxGradOp::getAxisIndex() { return axisIndex(getAxis(), getType().getRank()); }
int64_t LogSoftmaxGradOp::getAxisIndex() { return axisIndex(getAxis(), getType().getRank()); }

static LogicalResult verifyEpsilon(Operation *op, APFloat eps, int64_t rank) {
  if (rank < 1)
    return op->emitOpError("normalizes the last axis: the operand needs at least one dimension");
  // eps keeps 1 / sqrt(var + eps) finite for a constant row.
  if (!(eps.convertToDouble() > 0.0))
    return op->emitOpError("epsilon must be > 0, got ") << eps.convertToDouble();
  return success();
}
LogicalResult LayerNormOp::verify() {
  return verifyEpsilon(*this, getEpsilon(), getType().getRank());
}
LogicalResult LayerNormGradOp::verify() {
  return verifyEpsilon(*this, getEpsilon(), getType().getRank());
}

LogicalResult CausalMaskOp::verify() {
  if (getType().getRank() < 2)
    return emitOpError("needs scores [..., T, T'] of rank >= 2, got ")
           << shapeStr(getType().getShape());
  return success();
}

LogicalResult MaskOp::verify() {
  auto keep = tensorType(getKeep()).getShape();
  if (!broadcastsTo(keep, getType().getShape()))
    return emitOpError("keep ") << shapeStr(keep) << " does not broadcast to the input "
                                << shapeStr(getType().getShape());
  return success();
}

LogicalResult NotPaddingOp::verify() {
  if (tensorType(getIds()).getShape() != getType().getShape())
    return emitOpError("result must have the shape of the ids ")
           << shapeStr(tensorType(getIds()).getShape());
  return success();
}

LogicalResult RangeOp::verify() {
  if (getType().getRank() != 1)
    return emitOpError("result must be 1-d [T], got ") << shapeStr(getType().getShape());
  return success();
}

SmallVector<Value> SoftmaxOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<SoftmaxGradOp>(getLoc(), getType(), getResult(), dys[0], getAxisAttr())};
}

SmallVector<Value> LogSoftmaxOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<LogSoftmaxGradOp>(getLoc(), getType(), getResult(), dys[0], getAxisAttr())};
}

SmallVector<Value> LayerNormOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<LayerNormGradOp>(getLoc(), getType(), getInput(), dys[0], getEpsilonAttr())};
}

SmallVector<Value> GeluOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<GeluGradOp>(getLoc(), getType(), getInput(), dys[0])};
}

SmallVector<Value> CausalMaskOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  // The masked elements are constants: their gradient is 0, the others pass.
  SmallVector<Value> grads{b.create<CausalMaskOp>(getLoc(), getType(), dys[0], getOffset(),
                                                  b.getF32FloatAttr(0.0f))};
  if (getOffset())
    grads.push_back(Value()); // an integer position
  return grads;
}

SmallVector<Value> MaskOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<MaskOp>(getLoc(), getType(), dys[0], getKeep(), b.getF32FloatAttr(0.0f)),
          Value()};
}

//===----------------------------------------------------------------------===//
// Attention shape primitives (issue 4)
//===----------------------------------------------------------------------===//

LogicalResult BatchMatMulOp::verify() {
  auto a = tensorType(getLhs()), b = tensorType(getRhs());
  int64_t r = a.getRank();
  if (r < 3 || b.getRank() != r || getType().getRank() != r)
    return emitOpError("expects operands and result of one rank, at least 3, got ")
           << shapeStr(a.getShape()) << ", " << shapeStr(b.getShape()) << " -> "
           << shapeStr(getType().getShape());
  auto lead = a.getShape().drop_back(2);
  if (b.getShape().drop_back(2) != lead)
    return emitOpError("leading dimensions differ: ")
           << shapeStr(lead) << " and " << shapeStr(b.getShape().drop_back(2));
  int64_t m = a.getDimSize(r - (getTransposeA() ? 1 : 2));
  int64_t ka = a.getDimSize(r - (getTransposeA() ? 2 : 1));
  int64_t kb = b.getDimSize(r - (getTransposeB() ? 1 : 2));
  int64_t n = b.getDimSize(r - (getTransposeB() ? 2 : 1));
  if (ka != kb)
    return emitOpError("inner dimensions differ: ") << ka << " and " << kb;
  SmallVector<int64_t> expected(lead);
  expected.append({m, n});
  if (getType().getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("result must be ") << shapeStr(expected) << ", got "
                                          << shapeStr(getType().getShape());
  return success();
}

SmallVector<Value> BatchMatMulOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return productVJP(*this, b, dys[0]);
}

LogicalResult TransposeOp::verify() {
  auto in = tensorType(getInput()).getShape();
  ArrayRef<int64_t> perm = getPermutation();
  if (perm.size() != in.size())
    return emitOpError("permutation must list all ") << in.size() << " axes";
  SmallVector<bool> seen(in.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= int64_t(in.size()) || seen[p])
      return emitOpError("permutation is not a permutation of 0..") << in.size() - 1;
    seen[p] = true;
  }
  SmallVector<int64_t> expected;
  for (int64_t p : perm)
    expected.push_back(in[p]);
  if (getType().getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("result must be ") << shapeStr(expected);
  return success();
}

SmallVector<Value> TransposeOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  // y[i] = x[perm[i]]: dx is dy with axis perm[i] moved back to i.
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inverse[perm[i]] = int64_t(i);
  return {b.create<TransposeOp>(getLoc(), getInput().getType(), dys[0],
                                b.getDenseI64ArrayAttr(inverse))};
}
