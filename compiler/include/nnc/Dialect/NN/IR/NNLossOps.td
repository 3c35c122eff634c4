// Losses and the gradient kernels of the backward pass.
#ifndef NN_LOSS_OPS_TD
#define NN_LOSS_OPS_TD

include "nnc/Dialect/NN/IR/NNBase.td"
include "nnc/Dialect/NN/IR/NNInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

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

def NN_LossWeightOp : NN_Op<"loss_weight", [Pure]> {
  let summary = "the total weight a loss's mean divides by";
  let description = [{
    `weights: [N]`, and `labels: [N]` for a cross-entropy: `sum_n w[n]`,
    over the rows with a label >= 0 when labels are given (the
    denominator of `nn.cross_entropy` and `nn.mse`). A mean loss times
    this weight is its weighted sum, which adds up across batches and
    processes: `grad_step` returns gradients so scaled. No gradient flows
    through it.

    ```mlir
    %d = nn.loss_weight %w, %y : tensor<8xf32>, tensor<8xi32> -> tensor<f32>
    %e = nn.loss_weight %w : tensor<8xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$weights, Optional<NN_I32Tensor>:$labels);
  let results = (outs NN_ScalarF32Tensor:$result);
  let assemblyFormat = "$weights (`,` $labels^)? attr-dict `:` type($weights) (`,` type($labels)^)? `->` type($result)";
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

#endif
