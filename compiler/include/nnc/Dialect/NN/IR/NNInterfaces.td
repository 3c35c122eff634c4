#ifndef NN_INTERFACES_TD
#define NN_INTERFACES_TD

include "mlir/IR/OpBase.td"

def NN_VJPOpInterface : OpInterface<"VJPOpInterface"> {
  let description = [{
    An op that reverse-mode automatic differentiation can go through. The
    vector-Jacobian product is declared beside the op (in NNOps.cpp), so
    adding an op and its derivative is a local change.
  }];
  let cppNamespace = "::nnc::nn";
  let methods = [
    InterfaceMethod<[{
        Builds the vector-Jacobian product at the builder's insertion point.
        `resultGrads` holds, for each result, the gradient of the loss with
        respect to it (a null Value when that gradient is zero). Returns one
        Value per operand: the gradient of the loss with respect to that
        operand, or a null Value when the operand is not differentiable
        (integer labels, weights) or receives no gradient.
      }],
      "::llvm::SmallVector<::mlir::Value>", "buildVJP",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ArrayRef<::mlir::Value>":$resultGrads)>
  ];
}

#endif
