// The optimizer and its hyperparameters are checked against the optimizer
// table (nnc/Optimizers/Optimizers.def), by the pass and by --nnc-train.
// RUN: not %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=adagrad" 2>&1 | FileCheck %s
// RUN: not %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=adam hyper=momentum=0.5" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=adam hyper=lr=0.5" 2>&1 | FileCheck %s --check-prefix=RUNTIME
// RUN: not %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=adam hyper=beta2=1.5" 2>&1 | FileCheck %s --check-prefix=RANGE
// RUN: not %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=sgd hyper=momentum=fast" 2>&1 | FileCheck %s --check-prefix=NUMBER
// RUN: not %nnc-opt %s --nnc-train="optimizer=sgd hyper=momentum=-1" 2>&1 | FileCheck %s --check-prefix=TRAIN

// CHECK: error: unknown optimizer 'adagrad'; expected sgd, adam
// UNKNOWN: error: adam has no compiled-in hyperparameter 'momentum'; expected beta1, beta2 or epsilon
// RUNTIME: error: adam has no compiled-in hyperparameter 'lr'; expected beta1, beta2 or epsilon ('lr' is set at run time, in train_step's hyper)
// RANGE: error: hyperparameter 'beta2' of adam must be in [0, 1), got 1.5
// NUMBER: error: hyperparameter 'momentum' expects a number, got 'fast'
// TRAIN: error: hyperparameter 'momentum' of sgd must be non-negative, got -1

nn.parameter @p : tensor<2xf32> {init = "zeros"}
func.func @forward(%t: tensor<1x2xf32>, %w: tensor<1xf32>) -> tensor<f32> attributes {nn.num_inputs = 0 : i64} {
  %p = nn.param @p : tensor<2xf32>
  %0 = nn.add %t, %p : tensor<1x2xf32>, tensor<2xf32> -> tensor<1x2xf32>
  %1 = nn.mse %0, %t, %w : tensor<1x2xf32>, tensor<1x2xf32>, tensor<1xf32> -> tensor<f32>
  return %1 : tensor<f32>
}
