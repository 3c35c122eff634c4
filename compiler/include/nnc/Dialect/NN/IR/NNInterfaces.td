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

def NN_ElementwiseOpInterface : OpInterface<"ElementwiseOpInterface"> {
  let description = [{
    An op computed element by element (operands broadcast to the result's
    shape). Its scalar body is declared beside the op, with its
    vector-Jacobian product, so that one generic pattern of
    `convert-nn-to-linalg` lowers every such op to a `linalg.generic`:
    adding an elementwise op adds no lowering code.
  }];
  let cppNamespace = "::nnc::nn";
  let methods = [
    InterfaceMethod<[{
        Builds the result's element from the operands' elements `args` (f32
        scalars, one per operand) at the builder's insertion point, inside
        the body of the `linalg.generic` that computes the op.
      }],
      "::mlir::Value", "buildScalar",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::ValueRange":$args)>
  ];
}

#endif
