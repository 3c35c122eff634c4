// Products, elementwise arithmetic and activations, softmax.
#ifndef NN_ARITHMETIC_OPS_TD
#define NN_ARITHMETIC_OPS_TD

include "nnc/Dialect/NN/IR/NNBase.td"
include "nnc/Dialect/NN/IR/NNInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Arithmetic
//===----------------------------------------------------------------------===//

def NN_MatMulOp : NN_Op<"matmul", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "matrix product, optionally with transposed operands";
  let description = [{
    `[M, K] x [K, N] -> [M, N]`. `transpose_a` reads lhs as `[K, M]`,
    `transpose_b` reads rhs as `[N, K]`: the backward pass uses them instead
    of materialising transposes.

    ```mlir
    %y = nn.matmul %x, %w : tensor<8x4xf32>, tensor<4x8xf32> -> tensor<8x8xf32>
    %dx = nn.matmul %dy, %w {transpose_b} : tensor<8x8xf32>, tensor<4x8xf32> -> tensor<8x4xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$lhs, NN_F32Tensor:$rhs,
                       UnitAttr:$transpose_a, UnitAttr:$transpose_b);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

class NN_BinaryOp<string mnemonic, string what> : NN_Op<mnemonic, [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "elementwise " # what # " with numpy broadcasting";
  let description = [{
    Trailing dimensions are aligned; a dimension of size 1 or a missing
    leading dimension is broadcast. The result has the broadcast shape.

    ```mlir
    %y = nn.}] # mnemonic # [{ %a, %b : tensor<8x3xf32>, tensor<3xf32> -> tensor<8x3xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$lhs, NN_F32Tensor:$rhs);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

def NN_AddOp : NN_BinaryOp<"add", "addition"> {
  // Sums of slice gradients that tile a range become one slice gradient of
  // a concatenation (backward of an LSTM's joined gate product).
  let hasCanonicalizer = 1;
}
def NN_SubOp : NN_BinaryOp<"sub", "subtraction">;
def NN_MulOp : NN_BinaryOp<"mul", "multiplication">;
def NN_DivOp : NN_BinaryOp<"div", "division">;

class NN_UnaryOp<string mnemonic, string what, list<Trait> traits = []>
    : NN_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType,
        DeclareOpInterfaceMethods<NN_VJPOpInterface>], traits)> {
  let summary = what;
  let description = [{
    ```mlir
    %y = nn.}] # mnemonic # [{ %x : tensor<8x8xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def NN_NegOp : NN_UnaryOp<"neg", "elementwise negation">;
def NN_ReluOp : NN_UnaryOp<"relu", "rectified linear unit, max(x, 0)">;
def NN_SigmoidOp : NN_UnaryOp<"sigmoid", "logistic sigmoid, 1 / (1 + exp(-x))">;
def NN_TanhOp : NN_UnaryOp<"tanh", "hyperbolic tangent">;
def NN_ExpOp : NN_UnaryOp<"exp", "elementwise exponential">;
def NN_LogOp : NN_UnaryOp<"log", "elementwise natural logarithm">;
def NN_SqrtOp : NN_UnaryOp<"sqrt", "elementwise square root">;
// `axis` (default -1, negative counts from the end) picks the axis the
// softmax normalizes: attention normalizes the last axis of [B, H, T, T'].
def NN_SoftmaxOp : NN_UnaryOp<"softmax", "softmax over an axis (the last by default)"> {
  let description = [{
    ```mlir
    %y = nn.softmax %x : tensor<8x8xf32>
    %p = nn.softmax %s {axis = 1 : i64} : tensor<2x4x3xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, OptionalAttr<I64Attr>:$axis);
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    // The normalized axis, in [0, rank).
    int64_t getAxisIndex();
  }];
}
def NN_LogSoftmaxOp : NN_UnaryOp<"log_softmax", "log of the softmax over an axis (the last by default)"> {
  let description = [{
    ```mlir
    %y = nn.log_softmax %x : tensor<8x8xf32>
    %p = nn.log_softmax %s {axis = -2 : i64} : tensor<2x4x3xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, OptionalAttr<I64Attr>:$axis);
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getAxisIndex();
  }];
}

#endif
