// Parameters, constants and the ops that only reshape or broadcast.
#ifndef NN_CORE_OPS_TD
#define NN_CORE_OPS_TD

include "nnc/Dialect/NN/IR/NNBase.td"
include "nnc/Dialect/NN/IR/NNInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

def NN_ParameterOp : NN_Op<"parameter", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "a trainable parameter of the model";
  let description = [{
    Declares a parameter (weights, biases) with its shape and how it is
    initialised. Its name is the dotted `.nn` name, which is also the tensor
    name in checkpoints. Functions read it with `nn.param`.

    ```mlir
    nn.parameter @"h1.W" : tensor<4x8xf32> {init = "glorot_uniform", fan_in = 4 : i64, fan_out = 8 : i64}
    ```

    With `copies`, the parameter is the stack `[N, ...]` of the N copies of
    one parameter of a repeated layer (`repeat(N, Layer(...))`, read whole by
    the loop over the copies): copy i has its own name, `copies[i]`, in the
    model table and checkpoints, and is initialised as a parameter of its
    own (shape, fans and init are a copy's) from random stream `streams[i]`,
    the stream it has when the copies are written out.

    ```mlir
    nn.parameter @"blocks.fc.W" : tensor<3x4x8xf32> {init = "glorot_uniform", fan_in = 4 : i64, fan_out = 8 : i64,
        copies = ["blocks.0.fc.W", "blocks.1.fc.W", "blocks.2.fc.W"], streams = array<i64: 3, 5, 7>}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttr:$type,
                       StrAttr:$init,
                       DefaultValuedAttr<F64Attr, "0.0">:$init_value,
                       DefaultValuedAttr<I64Attr, "0">:$fan_in,
                       DefaultValuedAttr<I64Attr, "0">:$fan_out,
                       OptionalAttr<StrArrayAttr>:$copies,
                       OptionalAttr<DenseI64ArrayAttr>:$streams);
  let assemblyFormat = "$sym_name `:` $type attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return getType().cast<::mlir::RankedTensorType>();
    }
  }];
}

def NN_ParamOp : NN_Op<"param", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "reads a parameter";
  let description = [{
    The current value of a parameter declared with `nn.parameter`. Automatic
    differentiation accumulates the gradients of all reads of one parameter.

    ```mlir
    %w = nn.param @"h1.W" : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$name);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Constants and shape ops
//===----------------------------------------------------------------------===//

def NN_ConstantOp : NN_Op<"constant", [Pure]> {
  let summary = "a tensor filled with one value";
  let description = [{
    ```mlir
    %c = nn.constant 1.0 : tensor<8x3xf32>
    ```
  }];
  let arguments = (ins F32Attr:$value);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$value attr-dict `:` type($result)";
}

def NN_BroadcastToOp : NN_Op<"broadcast_to", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "numpy-style broadcast to a larger shape";
  let description = [{
    Trailing dimensions are aligned; an input dimension is either equal to
    the result's or 1, and missing leading dimensions are added.

    ```mlir
    %y = nn.broadcast_to %b : tensor<8xf32> -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NN_SumToOp : NN_Op<"sum_to", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "sums over broadcast dimensions (the adjoint of broadcast_to)";
  let description = [{
    Reduces a tensor to a shape it could have been broadcast from: the
    gradient of a broadcast operand.

    ```mlir
    %db = nn.sum_to %dy : tensor<4x8xf32> -> tensor<8xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NN_ReshapeOp : NN_Op<"reshape", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "reinterprets a tensor with another shape of equal size";
  let description = [{
    ```mlir
    %y = nn.reshape %x : tensor<8x4xf32> -> tensor<32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

#endif
