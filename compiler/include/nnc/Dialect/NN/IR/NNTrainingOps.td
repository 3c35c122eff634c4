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

#endif
