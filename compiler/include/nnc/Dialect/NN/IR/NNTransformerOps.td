// Transformer primitives and attention shape ops (issue 4).
#ifndef NN_TRANSFORMER_OPS_TD
#define NN_TRANSFORMER_OPS_TD

include "nnc/Dialect/NN/IR/NNBase.td"
include "nnc/Dialect/NN/IR/NNInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
// nn.gelu is an NN_UnaryOp.
include "nnc/Dialect/NN/IR/NNArithmeticOps.td"

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
