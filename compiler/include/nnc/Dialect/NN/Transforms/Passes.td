#ifndef NN_TRANSFORMS_PASSES_TD
#define NN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def GenerateBackward : Pass<"nn-generate-backward", "mlir::ModuleOp"> {
  let summary = "reverse-mode automatic differentiation of the forward function";
  let description = [{
    For the function `@forward`, whose first result is the scalar loss,
    builds `@forward_grad`: the same forward computation followed by the
    backward sweep, returning the forward results and then the gradient of
    the loss with respect to every `nn.parameter`, in declaration order.
    Each op contributes its vector-Jacobian product through
    `VJPOpInterface`; gradients of values used several times (and of
    parameters read several times) are summed.

    ```mlir
    // before
    func.func @forward(%x: tensor<8x4xf32>, ...) -> (tensor<f32>, ...) {
      %w = nn.param @"h1.W" : tensor<4x8xf32>
      %h = nn.matmul %x, %w : ...
      ...
    }
    // after: also
    func.func @forward_grad(%x: tensor<8x4xf32>, ...)
        -> (tensor<f32>, ..., tensor<4x8xf32>, ...) {
      ...
      %dw = nn.matmul %x, %dh {transpose_a} : ...
      return %loss, ..., %dw, ...
    }
    ```
  }];
  let constructor = "nnc::nn::createGenerateBackwardPass()";
  let dependentDialects = ["mlir::func::FuncDialect"];
}

def FuseScanMatmuls : Pass<"nn-fuse-scan-matmuls", "mlir::ModuleOp"> {
  let summary = "joins the products of one step value with several captured matrices into one";
  let description = [{
    An LSTM step multiplies the same `concat(h, x)` by four gate matrices,
    a GRU by two or three. Four products of `[B, K] x [K, H]` keep the
    multiply-add units busier as one of `[B, K] x [K, 4H]`, and backward
    through time then forms one gate gradient and one weight gradient
    instead of four. Inside every `nn.scan` over at least two steps, the
    products (without transposes) of one value with captured matrices are
    replaced by one product with the matrices joined along their columns
    (an `nn.concat` before the scan, a new capture) and an `nn.slice` per
    original product. The one-step scans of the `step` entry point are left
    alone: there the join would copy the weights for every token.

    ```mlir
    // before
    ^bb0(%h: tensor<8x16xf32>, %x: tensor<8x4xf32>, %wf: tensor<20x16xf32>, %wi: tensor<20x16xf32>):
      %z = nn.concat %h, %x : ...
      %f = nn.matmul %z, %wf : tensor<8x20xf32>, tensor<20x16xf32> -> tensor<8x16xf32>
      %i = nn.matmul %z, %wi : tensor<8x20xf32>, tensor<20x16xf32> -> tensor<8x16xf32>
    // after: %w = nn.concat %Wf, %Wi before the scan, captured as %w
      %fi = nn.matmul %z, %w : tensor<8x20xf32>, tensor<20x32xf32> -> tensor<8x32xf32>
      %f = nn.slice %fi {begin = 0 : i64} : tensor<8x32xf32> -> tensor<8x16xf32>
      %i = nn.slice %fi {begin = 16 : i64} : tensor<8x32xf32> -> tensor<8x16xf32>
    ```
  }];
  let constructor = "nnc::nn::createFuseScanMatmulsPass()";
}

def GenerateEntryPoints : Pass<"nn-generate-entry-points", "mlir::ModuleOp"> {
  let summary = "builds init, predict, eval_step, train_step, grad_step and apply_step over a flat parameter buffer";
  let description = [{
    Turns `@forward` and `@forward_grad` into the entry points of the
    generated library. Parameters become slices of one flat `tensor<Pxf32>`
    (at the offsets of the `nn.parameter` ops, in declaration order), the
    gradients are gathered into one flat tensor, and the optimizer's
    update (`nn.optimizer_update` of a row of
    `nnc/Optimizers/Optimizers.def`) runs on each parameter, e.g.
    `nn-generate-entry-points{optimizer=adam hyper=beta1=0.8,epsilon=1e-3}`.
    The generated functions are

    ```mlir
    func.func @init(%params: tensor<Pxf32>, %seed: i64) -> tensor<Pxf32>
    func.func @predict(%params: tensor<Pxf32>, %inputs...) -> (%outputs...)
    func.func @eval_step(%params, %inputs..., %targets..., %weights) -> (f32, %outputs...)
    func.func @train_step(%params, %opt_state, %hyper: tensor<4xf32>,
                          %inputs..., %targets..., %weights)
        -> (tensor<Pxf32>, tensor<Sxf32>, f32, %outputs...)
    func.func @grad_step(%params, %hyper, %grads: tensor<(P+1)xf32>,
                         %inputs..., %targets..., %weights)
        -> (tensor<(P+1)xf32>, f32, %outputs...)
    func.func @apply_step(%params, %opt_state, %hyper, %grads: tensor<(P+1)xf32>)
        -> (tensor<Pxf32>, tensor<Sxf32>)
    ```

    `grad_step` is `train_step` without the update: it adds to `%grads` the
    gradient of the loss's weighted sum (the mean times `nn.loss_weight`)
    and, in its last element, that weight, and returns the weighted sum;
    `apply_step` makes `train_step`'s update with `%grads` divided by its
    last element. Buffers summed over calls or processes keep that form
    (gradient accumulation, data-parallel training).

    The module gets `nn.num_params` and `nn.opt_state_size` attributes, and
    every entry point but `init` an `nn.workspace` attribute: it runs on a
    workspace the caller passes (`nnc-plan-memory`).
  }];
  let constructor = "nnc::nn::createGenerateEntryPointsPass()";
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect"];
  let options = [
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"adam\"",
           "a row of nnc/Optimizers/Optimizers.def (sgd, adam, ...)">,
    ListOption<"hyper", "hyper", "std::string",
               "compiled-in hyperparameters as name=value, comma-separated "
               "(the others take the table's defaults)">,
  ];
}

#endif
