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

// An elementwise unary op whose whole definition is here: set `scalar`, the
// C++ body that computes one element `x` (f32, with the builder `b` and the
// location `l`; it returns the element), and `vjp`, the C++ body of
// buildVJP (the op is `*this`, `dy` the gradient of its result; it returns
// the input's gradient). The op then lowers through the generic
// ElementwiseOpInterface pattern and differentiates through VJPOpInterface;
// the helpers the bodies use are in NNOpsUtils.h. A .nn builtin for it is
// one row of dsl/include/nnc/dsl/Ops.def.
class NN_ElementwiseUnaryOp<string mnemonic, string what>
    : NN_UnaryOp<mnemonic, what,
        [DeclareOpInterfaceMethods<NN_ElementwiseOpInterface>]> {
  code scalar = ?;
  code vjp = ?;
  let extraClassDefinition = [{
    ::mlir::Value $cppClass::buildScalar(::mlir::OpBuilder &b, ::mlir::Location l,
                                         ::mlir::ValueRange args) {
      ::mlir::Value x = args[0];
      }] # scalar # [{
    }
    ::llvm::SmallVector<::mlir::Value>
    $cppClass::buildVJP(::mlir::OpBuilder &b, ::llvm::ArrayRef<::mlir::Value> dys) {
      ::mlir::Value dy = dys[0];
      ::mlir::Location l = getLoc();
      [[maybe_unused]] ::mlir::Type t = getType();
      }] # vjp # [{
    }
  }];
}

def NN_NegOp : NN_ElementwiseUnaryOp<"neg", "elementwise negation"> {
  let scalar = [{ return b.create<arith::NegFOp>(l, x); }];
  let vjp = [{ return {b.create<NegOp>(l, dy)}; }];
}
def NN_ReluOp : NN_ElementwiseUnaryOp<"relu", "rectified linear unit, max(x, 0)"> {
  let scalar = [{ return b.create<arith::MaxFOp>(l, x, scalarConstant(b, l, 0.0)); }];
  let vjp = [{ return {b.create<ReluGradOp>(l, t, getInput(), dy)}; }];
}
def NN_SigmoidOp : NN_ElementwiseUnaryOp<"sigmoid", "logistic sigmoid, 1 / (1 + exp(-x))"> {
  let scalar = [{
    Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, x));
    Value d = b.create<arith::AddFOp>(l, scalarConstant(b, l, 1.0), e);
    return b.create<arith::DivFOp>(l, scalarConstant(b, l, 1.0), d);
  }];
  let vjp = [{
    // dy * y * (1 - y)
    Value y = getResult();
    Value oneMinus = b.create<SubOp>(l, t, constantLike(b, l, y, 1.0f), y);
    Value s = b.create<MulOp>(l, t, y, oneMinus);
    return {b.create<MulOp>(l, t, dy, s)};
  }];
}
def NN_TanhOp : NN_ElementwiseUnaryOp<"tanh", "hyperbolic tangent"> {
  let scalar = [{ return b.create<math::TanhOp>(l, x); }];
  let vjp = [{
    // dy * (1 - y^2)
    Value y = getResult();
    Value y2 = b.create<MulOp>(l, t, y, y);
    Value s = b.create<SubOp>(l, t, constantLike(b, l, y, 1.0f), y2);
    return {b.create<MulOp>(l, t, dy, s)};
  }];
}
def NN_ExpOp : NN_ElementwiseUnaryOp<"exp", "elementwise exponential"> {
  let scalar = [{ return b.create<math::ExpOp>(l, x); }];
  let vjp = [{ return {b.create<MulOp>(l, t, dy, getResult())}; }];
}
def NN_LogOp : NN_ElementwiseUnaryOp<"log", "elementwise natural logarithm"> {
  let scalar = [{ return b.create<math::LogOp>(l, x); }];
  let vjp = [{ return {b.create<DivOp>(l, t, dy, getInput())}; }];
}
def NN_SqrtOp : NN_ElementwiseUnaryOp<"sqrt", "elementwise square root"> {
  let scalar = [{ return b.create<math::SqrtOp>(l, x); }];
  let vjp = [{
    // dy / (2 sqrt(x))
    Value half = b.create<MulOp>(l, t, dy, constantLike(b, l, getResult(), 0.5f));
    return {b.create<DivOp>(l, t, half, getResult())};
  }];
}
def NN_SoftplusOp : NN_ElementwiseUnaryOp<"softplus", "softplus, log(1 + exp(x))"> {
  // log(1 + exp(x)) overflows to inf for x > 88 and loses everything below
  // 1 + exp(x)'s rounding for x < -17; max(x, 0) + log1p(exp(-|x|)) is the
  // same function and exact at both ends (PyTorch's and JAX's form).
  let scalar = [{
    Value m = b.create<arith::MaxFOp>(l, x, scalarConstant(b, l, 0.0));
    Value e = b.create<math::ExpOp>(l, b.create<arith::NegFOp>(l, b.create<math::AbsFOp>(l, x)));
    return b.create<arith::AddFOp>(l, m, b.create<math::Log1pOp>(l, e));
  }];
  // d/dx log(1 + exp(x)) = sigmoid(x).
  let vjp = [{ return {b.create<MulOp>(l, t, dy, b.create<SigmoidOp>(l, getInput()))}; }];
}
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
