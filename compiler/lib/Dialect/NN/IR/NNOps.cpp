// The nn ops' classes (from ODS), and the verifiers and vector-Jacobian
// products of the core, arithmetic and loss ops; the other families are in
// NNSequenceOps.cpp and NNTransformerOps.cpp. The elementwise unary ops
// (NN_ElementwiseUnaryOp) have their scalar bodies and vector-Jacobian
// products in their ODS definitions, compiled here through NNOps.cpp.inc.
#include "NNOpsUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"

#include "nnc/Optimizers/Optimizers.h"

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn::detail;

#include "nnc/Dialect/NN/IR/NNInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "nnc/Dialect/NN/IR/NNOps.cpp.inc"

// The front end's rule (Shapes.h), so that the verifiers accept exactly the
// broadcasts the checker does.
std::optional<SmallVector<int64_t>> nnc::nn::broadcastShapes(ArrayRef<int64_t> a,
                                                             ArrayRef<int64_t> b) {
  std::vector<int64_t> out;
  if (!dsl::broadcastShapes({a.data(), a.size()}, {b.data(), b.size()}, out))
    return std::nullopt;
  return SmallVector<int64_t>(out.begin(), out.end());
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
  if (getCopies().has_value() != getStreams().has_value())
    return emitOpError("copies and streams go together");
  if (getCopies() && (t.getRank() < 1 || int64_t(getCopies()->size()) != t.getDimSize(0) ||
                      int64_t(getStreams()->size()) != t.getDimSize(0)))
    return emitOpError("a stack of copies is [N, ...] with N names and N streams");
  if (auto st = getStreams())
    for (size_t i = 2; i < st->size(); ++i)
      if ((*st)[i] - (*st)[i - 1] != (*st)[1] - (*st)[0])
        return emitOpError("the streams of a stack's copies must step evenly");
  return success();
}

LogicalResult ParamOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto param = symbolTable.lookupNearestSymbolFrom<ParameterOp>(*this, getNameAttr());
  if (!param)
    return emitOpError("'") << getName() << "' is not an nn.parameter";
  if (param.getType() != getType())
    return emitOpError("type ") << getType() << " does not match parameter type "
                                << param.getType();
  return success();
}

// The row of Optimizers.def says how many state slots and which
// hyperparameters an update has; the lowering trusts what is checked here.
LogicalResult OptimizerUpdateOp::verify() {
  const nnc::optim::Optimizer *o = nnc::optim::findOptimizer(getKind().str());
  if (!o)
    return emitOpError("unknown optimizer '")
           << getKind() << "'; expected " << nnc::optim::optimizerNames();
  Type t = getParam().getType();
  if (int64_t(getState().size()) != o->stateSlots)
    return emitOpError() << getKind() << " keeps " << o->stateSlots << " state slot(s), got "
                         << getState().size();
  for (Value s : getState())
    if (s.getType() != t)
      return emitOpError("state type ") << s.getType() << " differs from the parameter's " << t;
  size_t numCompiled = 0;
  for (const nnc::optim::Hyperparameter &h : *o) {
    if (h.when != nnc::optim::When::Compiled)
      continue;
    ++numCompiled;
    auto v = getHyper().getAs<FloatAttr>(h.name);
    if (!v || !v.getType().isF32())
      return emitOpError() << getKind() << " needs an f32 '" << h.name << "' in hyper";
  }
  if (getHyper().size() != numCompiled)
    return emitOpError() << getKind() << " takes " << numCompiled
                         << " compiled-in hyperparameter(s), got " << getHyper().size();
  return success();
}

LogicalResult OptimizerUpdateOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                                  ValueRange operands, DictionaryAttr, RegionRange,
                                                  SmallVectorImpl<Type> &inferred) {
  // The parameter and every state slot, all of the parameter's type
  // (operands: param, grad, state..., lr, step, grad_scale).
  if (operands.size() < 5)
    return failure();
  inferred.assign(operands.size() - 4, operands[0].getType());
  return success();
}

LogicalResult BroadcastToOp::verify() {
  if (!broadcastsTo(tensorType(getInput()).getShape(), getType().getShape()))
    return emitOpError("cannot broadcast ") << shapeStr(tensorType(getInput()).getShape()) << " to "
                                            << shapeStr(getType().getShape());
  return success();
}

LogicalResult SumToOp::verify() {
  if (!broadcastsTo(getType().getShape(), tensorType(getInput()).getShape()))
    return emitOpError("cannot sum ")
           << shapeStr(tensorType(getInput()).getShape()) << " to "
           << shapeStr(getType().getShape()) << ": the result must broadcast to the input";
  return success();
}

LogicalResult ReshapeOp::verify() {
  if (tensorType(getInput()).getNumElements() != getType().getNumElements())
    return emitOpError("cannot reshape ")
           << shapeStr(tensorType(getInput()).getShape()) << " to "
           << shapeStr(getType().getShape()) << ": element counts differ";
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
    return emitOpError("result must be ")
           << shapeStr({m, n}) << ", got " << shapeStr(getType().getShape());
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
    return emitOpError("labels must be [")
           << l.getDimSize(0) << "], got " << shapeStr(y.getShape());
  if (w.getRank() != 1 || w.getDimSize(0) != l.getDimSize(0))
    return emitOpError("weights must be [")
           << l.getDimSize(0) << "], got " << shapeStr(w.getShape());
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

LogicalResult LossWeightOp::verify() {
  auto w = tensorType(getWeights());
  if (w.getRank() != 1)
    return emitOpError("weights must be [N], got ") << shapeStr(w.getShape());
  if (Value y = getLabels())
    if (tensorType(y).getShape() != w.getShape())
      return emitOpError("labels must be [")
             << w.getDimSize(0) << "], got " << shapeStr(tensorType(y).getShape());
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

SmallVector<Value> BroadcastToOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<SumToOp>(getLoc(), getInput().getType(), dys[0])};
}

SmallVector<Value> SumToOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<BroadcastToOp>(getLoc(), getInput().getType(), dys[0])};
}

SmallVector<Value> ReshapeOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  return {b.create<ReshapeOp>(getLoc(), getInput().getType(), dys[0])};
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
  return {sumToType(b, loc, da, getLhs().getType()), sumToType(b, loc, db, getRhs().getType())};
}

SmallVector<Value> DivOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  // y = a / b: da = dy / b, db = -dy * y / b.
  Location loc = getLoc();
  Type t = getType();
  Value da = b.create<DivOp>(loc, t, dys[0], getRhs());
  Value dyy = b.create<MulOp>(loc, t, dys[0], getResult());
  Value db = b.create<NegOp>(loc, b.create<DivOp>(loc, t, dyy, getRhs()));
  return {sumToType(b, loc, da, getLhs().getType()), sumToType(b, loc, db, getRhs().getType())};
}

SmallVector<Value> CrossEntropyOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  Value dl = b.create<CrossEntropyGradOp>(getLoc(), getLogits().getType(), getLogits(), getLabels(),
                                          getWeights(), dys[0]);
  return {dl, Value(), Value()};
}

SmallVector<Value> MSEOp::buildVJP(OpBuilder &b, ArrayRef<Value> dys) {
  Value dp = b.create<MSEGradOp>(getLoc(), getPred().getType(), getPred(), getTarget(),
                                 getWeights(), dys[0]);
  Value dt = b.create<NegOp>(getLoc(), dp);
  return {dp, dt, Value()};
}
