// Random initialisation and the optimizer updates.
#ifndef NN_TRAINING_OPS_TD
#define NN_TRAINING_OPS_TD

include "nnc/Dialect/NN/IR/NNBase.td"
include "nnc/Dialect/NN/IR/NNInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

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

    With `stream_step`, slice i of the leading axis is a draw of its own
    from stream `stream + i * stream_step`, its elements counted within the
    slice: the copies of a stacked parameter, initialised in one op as they
    are one by one when written out.

    ```mlir
    %ws = nn.random_uniform %seed {low = -0.5 : f32, high = 0.5 : f32, stream = 3 : i64, stream_step = 2 : i64} : tensor<3x4x8xf32>
    ```
  }];
  let arguments = (ins I64:$seed, F32Attr:$low, F32Attr:$high, I64Attr:$stream,
                       OptionalAttr<I64Attr>:$stream_step);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$seed attr-dict `:` type($result)";
}

def NN_RandomNormalOp : NN_Op<"random_normal", [Pure]> {
  let summary = "seeded normal random values (Box-Muller over the uniform hash)";
  let description = [{
    `stream_step` as nn.random_uniform's.

    ```mlir
    %w = nn.random_normal %seed {mean = 0.0 : f32, stddev = 0.02 : f32, stream = 3 : i64} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins I64:$seed, F32Attr:$mean, F32Attr:$stddev, I64Attr:$stream,
                       OptionalAttr<I64Attr>:$stream_step);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$seed attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Optimizer updates (one parameter at a time)
//===----------------------------------------------------------------------===//

def NN_OptimizerUpdateOp : NN_Op<"optimizer_update", [Pure,
    AllTypesMatch<["param", "grad"]>, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "one optimizer's update of a parameter and its state";
  let description = [{
    The update of the optimizer `kind`, a row of
    `compiler/include/nnc/Optimizers/Optimizers.def`: `state` holds its
    state slots (as many as the row says, each shaped as the parameter),
    `hyper` its compiled-in hyperparameters (every one, by name), `lr` the
    learning rate of this step, `step` the 1-based step count and `scale`
    a factor of the gradient (gradient clipping's; 1 without it). The
    results are the new parameter and the new state, in the same order.
    The formula of each kind is `update_<kind>` in
    `compiler/lib/Conversion/NNToLinalg/OptimizerUpdates.cpp`.

    ```mlir
    %p1, %m1, %v1 = nn.optimizer_update "adam" %p, %g, [%m, %v], %lr, %t, %scale {beta1 = 0.9 : f32, beta2 = 0.999 : f32, epsilon = 1.0e-07 : f32} : tensor<139xf32>, [tensor<139xf32>, tensor<139xf32>]
    ```
  }];
  let arguments = (ins StrAttr:$kind, NN_F32Tensor:$param, NN_F32Tensor:$grad,
                       Variadic<NN_F32Tensor>:$state, F32:$lr, F32:$step,
                       F32:$grad_scale, DictionaryAttr:$hyper);
  let results = (outs NN_F32Tensor:$new_param, Variadic<NN_F32Tensor>:$new_state);
  let assemblyFormat = [{
    $kind $param `,` $grad `,` `[` $state `]` `,` $lr `,` $step `,` $grad_scale $hyper attr-dict
    `:` type($param) `,` `[` type($state) `]`
  }];
  let hasVerifier = 1;
}

def NN_GlobalNormOp : NN_Op<"global_norm", [Pure]> {
  let summary = "the L2 norm of several tensors taken as one vector";
  let description = [{
    `sqrt(sum over every input x of sum(x^2))`: the total norm of
    `torch.nn.utils.clip_grad_norm_`, taken over the gradients of every
    parameter in train_step and apply_step to clip them and to check that
    they are finite.

    ```mlir
    %n = nn.global_norm %ga, %gb : tensor<12xf32>, tensor<3xf32> -> tensor<f32>
    ```
  }];
  let arguments = (ins Variadic<NN_F32Tensor>:$inputs);
  let results = (outs NN_ScalarF32Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
}

#endif
