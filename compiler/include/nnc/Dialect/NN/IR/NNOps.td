#ifndef NN_OPS_TD
#define NN_OPS_TD

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
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttr:$type,
                       StrAttr:$init,
                       DefaultValuedAttr<F64Attr, "0.0">:$init_value,
                       DefaultValuedAttr<I64Attr, "0">:$fan_in,
                       DefaultValuedAttr<I64Attr, "0">:$fan_out);
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

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def NN_CrossEntropyOp : NN_Op<"cross_entropy", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "weighted mean softmax cross-entropy of logits and class indices";
  let description = [{
    `logits: [N, C]`, `labels: [N]` (class indices), `weights: [N]`. The
    result is `sum_n w[n] * (logsumexp(logits[n]) - logits[n, labels[n]]) /
    sum_n w[n]`: rows of weight 0 (the padding of a partial batch) count for
    nothing. A negative label (PyTorch's `ignore_index`, -1 for the
    positions a masked-token model does not predict) gives its row weight 0
    as well: the mean runs over the rows with a label >= 0 (0 when there are
    none). A label >= C contributes `logsumexp` only.

    ```mlir
    %loss = nn.cross_entropy %logits, %y, %w : tensor<8x3xf32>, tensor<8xi32>, tensor<8xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$logits, NN_I32Tensor:$labels, NN_F32Tensor:$weights);
  let results = (outs NN_ScalarF32Tensor:$result);
  let assemblyFormat = "$logits `,` $labels `,` $weights attr-dict `:` type($logits) `,` type($labels) `,` type($weights) `->` type($result)";
  let hasVerifier = 1;
}

def NN_MSEOp : NN_Op<"mse", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "weighted mean squared error";
  let description = [{
    `pred, target: [N, ...]`, `weights: [N]`. Each row's error is the mean of
    its squared differences; rows are averaged with their weights.

    ```mlir
    %loss = nn.mse %p, %t, %w : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$pred, NN_F32Tensor:$target, NN_F32Tensor:$weights);
  let results = (outs NN_ScalarF32Tensor:$result);
  let assemblyFormat = "$pred `,` $target `,` $weights attr-dict `:` type($pred) `,` type($target) `,` type($weights) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Gradient kernels (made by the backward pass; not differentiated again)
//===----------------------------------------------------------------------===//

def NN_ReluGradOp : NN_Op<"relu_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "dy where x > 0, else 0";
  let description = [{
    ```mlir
    %dx = nn.relu_grad %x, %dy : tensor<8x8xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$grad);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input `,` $grad attr-dict `:` type($result)";
}

def NN_SoftmaxGradOp : NN_Op<"softmax_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "vector-Jacobian product of softmax: y * (dy - sum(dy * y))";
  let description = [{
    `y` is the softmax output; sums run over `axis` (the last by default).

    ```mlir
    %dx = nn.softmax_grad %y, %dy : tensor<8x3xf32>
    %ds = nn.softmax_grad %p, %dp {axis = 1 : i64} : tensor<2x4x3xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$output, NN_F32Tensor:$grad, OptionalAttr<I64Attr>:$axis);
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getAxisIndex();
  }];
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$output `,` $grad attr-dict `:` type($result)";
}

def NN_LogSoftmaxGradOp : NN_Op<"log_softmax_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "vector-Jacobian product of log_softmax: dy - exp(y) * sum(dy)";
  let description = [{
    `y` is the log_softmax output; sums run over `axis` (the last by default).

    ```mlir
    %dx = nn.log_softmax_grad %y, %dy : tensor<8x3xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$output, NN_F32Tensor:$grad, OptionalAttr<I64Attr>:$axis);
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    int64_t getAxisIndex();
  }];
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$output `,` $grad attr-dict `:` type($result)";
}

def NN_CrossEntropyGradOp : NN_Op<"cross_entropy_grad", [Pure]> {
  let summary = "gradient of nn.cross_entropy with respect to the logits";
  let description = [{
    `dloss * w[n] / sum(w) * (softmax(logits[n]) - onehot(labels[n]))`,
    with `w[n] = 0` where `labels[n] < 0` (as in nn.cross_entropy).

    ```mlir
    %dl = nn.cross_entropy_grad %logits, %y, %w, %dloss : tensor<8x3xf32>, tensor<8xi32>, tensor<8xf32>, tensor<f32> -> tensor<8x3xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$logits, NN_I32Tensor:$labels,
                       NN_F32Tensor:$weights, NN_ScalarF32Tensor:$grad);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$logits `,` $labels `,` $weights `,` $grad attr-dict `:` type($logits) `,` type($labels) `,` type($weights) `,` type($grad) `->` type($result)";
}

def NN_MSEGradOp : NN_Op<"mse_grad", [Pure]> {
  let summary = "gradient of nn.mse with respect to the prediction";
  let description = [{
    `dloss * w[n] / sum(w) * 2 * (pred - target) / (elements per row)`.

    ```mlir
    %dp = nn.mse_grad %p, %t, %w, %dloss : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8xf32>, tensor<f32> -> tensor<8x3xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$pred, NN_F32Tensor:$target,
                       NN_F32Tensor:$weights, NN_ScalarF32Tensor:$grad);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$pred `,` $target `,` $weights `,` $grad attr-dict `:` type($pred) `,` type($target) `,` type($weights) `,` type($grad) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Initialisation
//===----------------------------------------------------------------------===//

def NN_RandomUniformOp : NN_Op<"random_uniform", [Pure]> {
  let summary = "seeded uniform random values in [low, high)";
  let description = [{
    A counter-based generator: element `i` is a hash of `(seed, stream, i)`,
    so values do not depend on the order of evaluation and every parameter
    gets its own stream.

    ```mlir
    %w = nn.random_uniform %seed {low = -0.5 : f32, high = 0.5 : f32, stream = 3 : i64} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins I64:$seed, F32Attr:$low, F32Attr:$high, I64Attr:$stream);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$seed attr-dict `:` type($result)";
}

def NN_RandomNormalOp : NN_Op<"random_normal", [Pure]> {
  let summary = "seeded normal random values (Box-Muller over the uniform hash)";
  let description = [{
    ```mlir
    %w = nn.random_normal %seed {mean = 0.0 : f32, stddev = 0.02 : f32, stream = 3 : i64} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins I64:$seed, F32Attr:$mean, F32Attr:$stddev, I64Attr:$stream);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$seed attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Optimizer updates (on the flat parameter buffer)
//===----------------------------------------------------------------------===//

def NN_SGDUpdateOp : NN_Op<"sgd_update", [Pure,
    AllTypesMatch<["param", "grad", "velocity", "new_param", "new_velocity"]>]> {
  let summary = "stochastic gradient descent with momentum (Keras form)";
  let description = [{
    `v' = momentum * v - lr * g; p' = p + v'` (with momentum 0: `p - lr * g`).

    ```mlir
    %p1, %v1 = nn.sgd_update %p, %g, %v, %lr {momentum = 0.9 : f32} : tensor<139xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$param, NN_F32Tensor:$grad,
                       NN_F32Tensor:$velocity, F32:$lr, F32Attr:$momentum);
  let results = (outs NN_F32Tensor:$new_param, NN_F32Tensor:$new_velocity);
  let assemblyFormat = "$param `,` $grad `,` $velocity `,` $lr attr-dict `:` type($param)";
}

def NN_AdamUpdateOp : NN_Op<"adam_update", [Pure,
    AllTypesMatch<["param", "grad", "m", "v", "new_param", "new_m", "new_v"]>]> {
  let summary = "Adam with bias correction";
  let description = [{
    `m' = b1 m + (1-b1) g; v' = b2 v + (1-b2) g^2;
     p' = p - lr * (m' / (1-b1^t)) / (sqrt(v' / (1-b2^t)) + eps)`
    where `t` is the 1-based step.

    ```mlir
    %p1, %m1, %v1 = nn.adam_update %p, %g, %m, %v, %lr, %t {beta1 = 0.9 : f32, beta2 = 0.999 : f32, epsilon = 1.0e-07 : f32} : tensor<139xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$param, NN_F32Tensor:$grad,
                       NN_F32Tensor:$m, NN_F32Tensor:$v, F32:$lr, F32:$step,
                       F32Attr:$beta1, F32Attr:$beta2, F32Attr:$epsilon);
  let results = (outs NN_F32Tensor:$new_param, NN_F32Tensor:$new_m, NN_F32Tensor:$new_v);
  let assemblyFormat = "$param `,` $grad `,` $m `,` $v `,` $lr `,` $step attr-dict `:` type($param)";
}

def NN_RMSPropUpdateOp : NN_Op<"rmsprop_update", [Pure,
    AllTypesMatch<["param", "grad", "mean_square", "velocity", "new_param", "new_mean_square", "new_velocity"]>]> {
  let summary = "RMSprop (Keras form), with optional momentum";
  let description = [{
    `s' = rho s + (1-rho) g^2; v' = momentum v + lr g / (sqrt(s') + eps); p' = p - v'`.

    ```mlir
    %p1, %s1, %v1 = nn.rmsprop_update %p, %g, %s, %v, %lr {rho = 0.9 : f32, epsilon = 1.0e-07 : f32, momentum = 0.0 : f32} : tensor<139xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$param, NN_F32Tensor:$grad,
                       NN_F32Tensor:$mean_square, NN_F32Tensor:$velocity, F32:$lr,
                       F32Attr:$rho, F32Attr:$epsilon, F32Attr:$momentum);
  let results = (outs NN_F32Tensor:$new_param, NN_F32Tensor:$new_mean_square,
                      NN_F32Tensor:$new_velocity);
  let assemblyFormat = "$param `,` $grad `,` $mean_square `,` $velocity `,` $lr attr-dict `:` type($param)";
}

//===----------------------------------------------------------------------===//
// Sequences and recurrence
//===----------------------------------------------------------------------===//

def NN_ConcatOp : NN_Op<"concat", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "joins tensors along an axis (the last one by default)";
  let description = [{
    All operands agree on every dimension but `axis` (an axis of the full
    tensor, batch included; absent: the last one, which is what recurrent
    cells join), and on the element type (f32, or i32 for token ids).

    ```mlir
    %z = nn.concat %h, %x : tensor<8x150xf32>, tensor<8x25xf32> -> tensor<8x175xf32>
    %r = nn.concat %a, %b {axis = 1 : i64} : tensor<8x6x4xf32>, tensor<8x2x4xf32> -> tensor<8x8x4xf32>
    ```
  }];
  // i32 as well: token ids are joined ([story; question] of a BERT-style
  // model); such a concat is never differentiated (ids are not active).
  let arguments = (ins Variadic<NN_F32OrI32Tensor>:$inputs, OptionalAttr<I64Attr>:$axis);
  // Without an axis: the last one, as recurrent cells join.
  let builders = [OpBuilder<(ins "::mlir::Type":$result, "::mlir::ValueRange":$inputs), [{
    build($_builder, $_state, result, inputs, ::mlir::IntegerAttr());
  }]>];
  let results = (outs NN_F32OrI32Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    // The joined axis, non-negative (the last one when `axis` is absent).
    int64_t getJoinAxis();
  }];
}

def NN_SliceOp : NN_Op<"slice", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "a contiguous range of one axis (the last one by default)";
  let description = [{
    `axis` is an axis of the full tensor (absent: the last one); the result
    has the input's shape but on that axis.

    ```mlir
    %f = nn.slice %gates {begin = 150 : i64} : tensor<8x600xf32> -> tensor<8x150xf32>
    %g = nn.slice %r {begin = 6 : i64, axis = 1 : i64} : tensor<8x8x4xf32> -> tensor<8x2x4xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, I64Attr:$begin, OptionalAttr<I64Attr>:$axis);
  let builders = [OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input,
                                 "::mlir::IntegerAttr":$begin), [{
    build($_builder, $_state, result, input, begin, ::mlir::IntegerAttr());
  }]>];
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    // The sliced axis, non-negative (the last one when `axis` is absent).
    int64_t getSliceAxis();
  }];
}

def NN_SliceGradOp : NN_Op<"slice_grad", [Pure]> {
  let summary = "places a gradient into zeros at a range of one axis (adjoint of nn.slice)";
  let description = [{
    `axis` as for nn.slice (absent: the last one).

    ```mlir
    %dg = nn.slice_grad %df {begin = 150 : i64} : tensor<8x150xf32> -> tensor<8x600xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, I64Attr:$begin, OptionalAttr<I64Attr>:$axis);
  let builders = [OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$grad,
                                 "::mlir::IntegerAttr":$begin), [{
    build($_builder, $_state, result, grad, begin, ::mlir::IntegerAttr());
  }]>];
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
  let hasFolder = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    // The sliced axis, non-negative (the last one when `axis` is absent).
    int64_t getSliceAxis();
  }];
}

def NN_EmbeddingOp : NN_Op<"embedding", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "rows of a table selected by integer ids";
  let description = [{
    `table: [V, E]`, `ids: [...]` -> `[..., E]`. An id outside `[0, V)` reads
    zeros.

    ```mlir
    %e = nn.embedding %table, %ids : tensor<2700x25xf32>, tensor<128x25xi32> -> tensor<128x25x25xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$table, NN_I32Tensor:$ids);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$table `,` $ids attr-dict `:` type($table) `,` type($ids) `->` type($result)";
  let hasVerifier = 1;
}

def NN_EmbeddingGradOp : NN_Op<"embedding_grad", [Pure]> {
  let summary = "gradient of the table of nn.embedding: rows of dy added at their ids";
  let description = [{
    ```mlir
    %dt = nn.embedding_grad %ids, %dy : tensor<128x25xi32>, tensor<128x25x25xf32> -> tensor<2700x25xf32>
    ```
  }];
  let arguments = (ins NN_I32Tensor:$ids, NN_F32Tensor:$grad);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$ids `,` $grad attr-dict `:` type($ids) `,` type($grad) `->` type($result)";
  let hasVerifier = 1;
}

def NN_DropoutOp : NN_Op<"dropout", [Pure, AllTypesMatch<["input", "result"]>,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "inverted dropout with a mask derived from a key";
  let description = [{
    `x * mask / (1 - rate)` where `mask` keeps each element with probability
    `1 - rate`; the mask is a hash of `(key, stream, element)`, so the
    backward pass recomputes the same mask (the VJP is the same dropout of
    the gradient) and each training step gets a new one. Entry points that
    do not train replace the op by its input.

    ```mlir
    %y = nn.dropout %x, %key {rate = 2.0e-01 : f32, stream = 1 : i64} : tensor<8x150xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, I64:$key, F32Attr:$rate, I64Attr:$stream);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input `,` $key attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def NN_ScanOp : NN_Op<"scan", [Pure, IsolatedFromAbove,
    AttrSizedOperandSegments, SingleBlockImplicitTerminator<"YieldOp">,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "runs a recurrent step over the time axis, carrying state";
  let description = [{
    Operands: the initial states (`inits`, each `[B, ...]`), the sequences
    iterated over (`sequences`, each `[B, T, ...]`; the step sees `[B, ...]`)
    and values every step sees unchanged (`captures`). The body's arguments
    are the states, one step of each sequence, then the captures; it yields
    the new states and then its per-step outputs. Results: the final states,
    then each output as a sequence `[B, T, ...]` (`return_sequence`) or its
    last step's value `[B, ...]`, then, with `save_states`, the state at the
    start of every step `[B, T, ...]` (what backpropagation through time
    needs). `reverse` walks t = T-1 down to 0 (outputs still indexed by t).
    With `residuals = R`, the body yields R more values after its outputs,
    returned last as sequences `[B, T, ...]`: intermediate values of the step
    that backpropagation through time reads instead of recomputing them.

    ```mlir
    %hT, %ys, %hs = nn.scan inits(%h0) sequences(%xs) captures(%W)
        {return_sequence, save_states}
        : (tensor<8x16xf32>, tensor<8x5x4xf32>, tensor<20x16xf32>)
        -> (tensor<8x16xf32>, tensor<8x5x16xf32>, tensor<8x5x16xf32>) {
    ^bb0(%h: tensor<8x16xf32>, %x: tensor<8x4xf32>, %w: tensor<20x16xf32>):
      %z = nn.concat %h, %x : tensor<8x16xf32>, tensor<8x4xf32> -> tensor<8x20xf32>
      %m = nn.matmul %z, %w : tensor<8x20xf32>, tensor<20x16xf32> -> tensor<8x16xf32>
      %h1 = nn.tanh %m : tensor<8x16xf32>
      nn.yield %h1, %h1 : tensor<8x16xf32>, tensor<8x16xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<NN_F32Tensor>:$inits,
                       Variadic<NN_F32Tensor>:$sequences,
                       Variadic<NN_F32Tensor>:$captures,
                       UnitAttr:$return_sequence, UnitAttr:$save_states,
                       UnitAttr:$reverse, OptionalAttr<I64Attr>:$residuals);
  let results = (outs Variadic<NN_F32Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `inits` `(` $inits `)` `sequences` `(` $sequences `)` `captures` `(` $captures `)`
    attr-dict `:` functional-type(operands, results) $body
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    unsigned getNumStates() { return getInits().size(); }
    unsigned getNumResiduals() { return getResiduals() ? unsigned(*getResiduals()) : 0u; }
    // Per-step outputs: the body yields states, outputs, then residuals.
    unsigned getNumOutputs();
    int64_t getLength();
    ::mlir::ValueRange getFinalStates() { return getResults().take_front(getNumStates()); }
    ::mlir::ValueRange getOutputs() {
      return getResults().slice(getNumStates(), getNumOutputs());
    }
    ::mlir::ValueRange getSavedStates() {
      return getResults().drop_front(getNumStates() + getNumOutputs())
          .drop_back(getNumResiduals());
    }
    ::mlir::ValueRange getResidualSequences() {
      return getResults().take_back(getNumResiduals());
    }
  }];
}

def NN_YieldOp : NN_Op<"yield", [Pure, Terminator, HasParent<"ScanOp">]> {
  let summary = "ends a scan step: the new states, then the step's outputs";
  let description = [{
    ```mlir
    nn.yield %h1, %c1, %h1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
    ```
  }];
  let arguments = (ins Variadic<NN_F32Tensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ }]>];
}

//===----------------------------------------------------------------------===//
// Generation with a key/value cache (issue 4)
//===----------------------------------------------------------------------===//

def NN_CacheWriteOp : NN_Op<"cache_write", [Pure,
    AllTypesMatch<["cache", "result"]>]> {
  let summary = "writes one position into a key/value cache";
  let description = [{
    `cache: [B, N, ...]`, `value: [B, 1, ...]`: the result is the cache with
    position `position` of every row replaced by the value, the other
    positions unchanged (a position outside [0, N) changes nothing). The
    one-position `step` of a model with attention keeps the keys and values
    of earlier positions this way; it is not differentiated.

    ```mlir
    %k2 = nn.cache_write %k into %cache at %pos : tensor<1x1x128xf32> into tensor<1x128x128xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$value, NN_F32Tensor:$cache, I64:$position);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$value `into` $cache `at` $position attr-dict `:` type($value) `into` type($cache)";
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins "::mlir::Value":$cache, "::mlir::Value":$value,
                                 "::mlir::Value":$position), [{
    build($_builder, $_state, cache.getType(), value, cache, position);
  }]>];
}

//===----------------------------------------------------------------------===//
// Transformer primitives (issue 4)
//===----------------------------------------------------------------------===//

def NN_LayerNormOp : NN_Op<"layer_norm", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "normalizes the last axis to mean 0 and variance 1 (no affine part)";
  let description = [{
    `(x - mean) / sqrt(var + epsilon)` with the mean and the biased variance
    of the last axis, as PyTorch's `LayerNorm` without its weight and bias
    (the `.nn` layer `LayerNorm` adds those as ordinary parameters).

    ```mlir
    %y = nn.layer_norm %x {epsilon = 1.0e-05 : f32} : tensor<8x16x64xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, F32Attr:$epsilon);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def NN_LayerNormGradOp : NN_Op<"layer_norm_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "vector-Jacobian product of nn.layer_norm";
  let description = [{
    `dx = rstd * (dy - mean(dy) - xhat * mean(dy * xhat))` over the last
    axis, with `xhat = (x - mean(x)) * rstd` and `rstd = 1 / sqrt(var(x) +
    epsilon)` recomputed from `x` (two cheap row reductions instead of two
    saved tensors).

    ```mlir
    %dx = nn.layer_norm_grad %x, %dy {epsilon = 1.0e-05 : f32} : tensor<8x16x64xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$grad, F32Attr:$epsilon);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input `,` $grad attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def NN_GeluOp : NN_UnaryOp<"gelu",
    "GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))">;

def NN_GeluGradOp : NN_Op<"gelu_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "dy times the derivative of nn.gelu at x";
  let description = [{
    With `u = sqrt(2/pi) (x + 0.044715 x^3)` and `t = tanh(u)`:
    `dy * (0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2))`.

    ```mlir
    %dx = nn.gelu_grad %x, %dy : tensor<8x8xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$grad);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input `,` $grad attr-dict `:` type($result)";
}

def NN_CausalMaskOp : NN_Op<"causal_mask", [Pure, AllTypesMatch<["input", "result"]>,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "replaces the scores above a diagonal by a fill value";
  let description = [{
    `input: [..., T, T']`. Element `[..., i, j]` becomes `fill` where
    `j > i + offset`, the other elements are the input's. `offset` is 0
    when absent; a step function over a key/value cache passes the position
    of its first query (T = 1, T' = the cache length). The fill of attention
    scores is large and negative (-1e30) but finite, so a fully masked row
    still has a finite softmax. The VJP is the same mask with fill 0 on dy.

    ```mlir
    %m = nn.causal_mask %s {fill = -1.0e+30 : f32} : tensor<8x4x16x16xf32>
    %m1 = nn.causal_mask %s1 offset %pos {fill = -1.0e+30 : f32} : tensor<8x4x1x64xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, Optional<I64>:$offset, F32Attr:$fill);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input (`offset` $offset^)? attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def NN_MaskOp : NN_Op<"mask", [Pure, AllTypesMatch<["input", "result"]>,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "input where keep != 0, else a fill value";
  let description = [{
    `keep` broadcasts to the input (numpy rules), e.g. a padding mask
    `[B, 1, 1, T']` over scores `[B, H, T, T']`. `keep` gets no gradient;
    the input's is the same mask with fill 0 on dy.

    ```mlir
    %m = nn.mask %s, %keep {fill = -1.0e+30 : f32} : tensor<8x4x16x16xf32>, tensor<8x1x1x16xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, NN_F32Tensor:$keep, F32Attr:$fill);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input `,` $keep attr-dict `:` type($input) `,` type($keep)";
  let hasVerifier = 1;
}

def NN_NotPaddingOp : NN_Op<"not_padding", [Pure]> {
  let summary = "1.0 where an id is not 0 (padding), else 0.0";
  let description = [{
    Token ids to a float keep-mask of the same shape, for `nn.mask` over a
    pre-padded sequence (padding id 0). Its operand is an integer tensor, so
    no gradient passes through it.

    ```mlir
    %k = nn.not_padding %ids : tensor<8x16xi32> -> tensor<8x16xf32>
    ```
  }];
  let arguments = (ins NN_I32Tensor:$ids);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$ids attr-dict `:` type($ids) `->` type($result)";
  let hasVerifier = 1;
}

def NN_RangeOp : NN_Op<"range", [Pure]> {
  let summary = "the integers offset, offset + 1, ..., offset + T - 1";
  let description = [{
    A 1-d int tensor `[T]`: the positions of a sequence, for learned
    positional embeddings (`nn.embedding` of a `[T_max, C]` table). `offset`
    is 0 when absent; a step function over a key/value cache passes the
    current position.

    ```mlir
    %p = nn.range : tensor<16xi32>
    %p1 = nn.range offset %pos : tensor<1xi32>
    ```
  }];
  let arguments = (ins Optional<I64>:$offset);
  let results = (outs NN_I32Tensor:$result);
  let assemblyFormat = "(`offset` $offset^)? attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention shape primitives (issue 4)
//===----------------------------------------------------------------------===//

def NN_BatchMatMulOp : NN_Op<"batch_matmul", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "matrix products batched over the leading dimensions";
  let description = [{
    `[..., M, K] x [..., K, N] -> [..., M, N]`: operands and result have the
    same rank (at least 3) and the same leading dimensions (the batch, then
    e.g. the heads), one product per leading index. `transpose_a` reads
    each lhs matrix as `[K, M]`, `transpose_b` each rhs matrix as `[N, K]`,
    as for `nn.matmul`: attention's `q k^T` and the backward pass need no
    materialised transposes.

    ```mlir
    %s = nn.batch_matmul %q, %k {transpose_b} : tensor<8x4x16x32xf32>, tensor<8x4x16x32xf32> -> tensor<8x4x16x16xf32>
    %o = nn.batch_matmul %p, %v : tensor<8x4x16x16xf32>, tensor<8x4x16x32xf32> -> tensor<8x4x16x32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$lhs, NN_F32Tensor:$rhs,
                       UnitAttr:$transpose_a, UnitAttr:$transpose_b);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

def NN_TransposeOp : NN_Op<"transpose", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "permutes the axes of a tensor";
  let description = [{
    Result axis `i` is input axis `permutation[i]`; the permutation covers
    every axis, the batch included (the front end keeps it first). The VJP
    is the inverse permutation.

    ```mlir
    %y = nn.transpose %x {permutation = array<i64: 0, 2, 1, 3>} : tensor<8x16x4x32xf32> -> tensor<8x4x16x32xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

#endif
