// Verifiers and vector-Jacobian products of the transformer primitives and
// attention shape ops (issue 4).
#include "NNOpsUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace nnc::nn;
using namespace nnc::nn::detail;

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
LogicalResult LogSoftmaxOp::verify() { return verifyAxis(*this, getAxis(), getType().getRank()); }
LogicalResult SoftmaxGradOp::verify() { return verifyAxis(*this, getAxis(), getType().getRank()); }
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
  SmallVector<Value> grads{
      b.create<CausalMaskOp>(getLoc(), getType(), dys[0], getOffset(), b.getF32FloatAttr(0.0f))};
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
    return emitOpError("result must be ")
           << shapeStr(expected) << ", got " << shapeStr(getType().getShape());
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
