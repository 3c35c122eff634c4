// Reverse-mode automatic differentiation on the nn dialect.
#include "nnc/Dialect/NN/IR/NNOps.h"
#include "nnc/Dialect/NN/Transforms/Autodiff.h"
#include "nnc/Dialect/NN/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace nnc::nn {
#define GEN_PASS_DEF_GENERATEBACKWARD
#include "nnc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nnc::nn

using namespace mlir;
using namespace nnc::nn;

DenseSet<Value> nnc::nn::activeValues(ArrayRef<Operation *> ops, ArrayRef<Value> roots) {
  DenseSet<Value> active(roots.begin(), roots.end());
  for (Operation *op : ops) {
    bool isActive = isa<ParamOp>(op) ||
                    llvm::any_of(op->getOperands(), [&](Value v) { return active.count(v); });
    if (isActive)
      for (Value r : op->getResults())
        active.insert(r);
  }
  return active;
}

LogicalResult nnc::nn::backpropagate(OpBuilder &b, ArrayRef<Operation *> ops,
                                     const DenseSet<Value> &active, DenseMap<Value, Value> &grads,
                                     llvm::StringMap<Value> *paramGrads) {
  auto accumulate = [&](Value &slot, Value g, Location loc) {
    slot = slot ? b.create<AddOp>(loc, g.getType(), slot, g).getResult() : g;
  };
  for (Operation *op : llvm::reverse(ops)) {
    SmallVector<Value> resultGrads;
    bool any = false;
    for (Value r : op->getResults()) {
      Value g = grads.lookup(r);
      resultGrads.push_back(g);
      any |= bool(g);
    }
    if (!any)
      continue;
    if (auto p = dyn_cast<ParamOp>(op)) {
      if (paramGrads)
        accumulate((*paramGrads)[p.getName()], resultGrads[0], op->getLoc());
      continue;
    }
    if (llvm::none_of(op->getOperands(), [&](Value v) { return active.count(v); }))
      continue;
    auto vjp = dyn_cast<VJPOpInterface>(op);
    if (!vjp)
      return op->emitError("cannot differentiate '")
             << op->getName() << "': it has no vector-Jacobian product";
    // VJPs see a gradient for every result; a result nothing depends on
    // contributes zeros.
    for (auto [r, g] : llvm::zip(op->getResults(), resultGrads))
      if (!g)
        g = b.create<ConstantOp>(op->getLoc(), r.getType(), b.getF32FloatAttr(0.0f));
    SmallVector<Value> operandGrads = vjp.buildVJP(b, resultGrads);
    if (operandGrads.size() != op->getNumOperands())
      return op->emitError("internal error: the vector-Jacobian product gave ")
             << operandGrads.size() << " gradients for " << op->getNumOperands() << " operands";
    for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads))
      if (g && active.count(operand))
        accumulate(grads[operand], g, op->getLoc());
  }
  return success();
}

namespace {

struct GenerateBackwardPass : public nnc::nn::impl::GenerateBackwardBase<GenerateBackwardPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (!forward) {
      module.emitError("nn-generate-backward: no @forward function");
      return signalPassFailure();
    }
    if (failed(differentiate(module, forward)))
      signalPassFailure();
  }

  LogicalResult differentiate(ModuleOp module, func::FuncOp forward) {
    if (!forward.getBody().hasOneBlock())
      return forward.emitError("@forward must have a single block");
    auto ret = cast<func::ReturnOp>(forward.getBody().front().getTerminator());
    if (ret.getNumOperands() == 0 ||
        ret.getOperand(0).getType() != RankedTensorType::get({}, Float32Type::get(&getContext())))
      return forward.emitError("@forward's first result must be the scalar "
                               "loss, tensor<f32>");

    OpBuilder b(module.getContext());
    b.setInsertionPointAfter(forward);
    auto grad = cast<func::FuncOp>(b.clone(*forward));
    grad.setSymName("forward_grad");
    Block &body = grad.getBody().front();
    auto gradRet = cast<func::ReturnOp>(body.getTerminator());

    SmallVector<Operation *> ops;
    for (Operation &op : body.without_terminator())
      ops.push_back(&op);
    // Only values that depend on a parameter need a gradient; inputs and
    // targets are constants of the loss.
    DenseSet<Value> active = activeValues(ops, {});

    b.setInsertionPoint(gradRet);
    Value loss = gradRet.getOperand(0);
    DenseMap<Value, Value> grads;
    grads[loss] = b.create<ConstantOp>(loss.getLoc(), loss.getType(), b.getF32FloatAttr(1.0f));
    llvm::StringMap<Value> paramGrads;
    if (failed(backpropagate(b, ops, active, grads, &paramGrads)))
      return failure();

    SmallVector<Value> results(gradRet.getOperands());
    SmallVector<Type> types(grad.getFunctionType().getResults());
    for (ParameterOp p : module.getOps<ParameterOp>()) {
      Value g = paramGrads.lookup(p.getSymName());
      if (!g)
        g = b.create<ConstantOp>(p.getLoc(), p.getType(), b.getF32FloatAttr(0.0f));
      results.push_back(g);
      types.push_back(p.getType());
    }
    b.create<func::ReturnOp>(gradRet.getLoc(), results);
    gradRet.erase();
    // More results than @forward's: its result attributes (MLIRGen's output
    // names) would no longer line up.
    grad.removeResAttrsAttr();
    grad.setFunctionType(b.getFunctionType(grad.getFunctionType().getInputs(), types));
    return success();
  }
};

} // namespace

std::unique_ptr<Pass> nnc::nn::createGenerateBackwardPass() {
  return std::make_unique<GenerateBackwardPass>();
}
