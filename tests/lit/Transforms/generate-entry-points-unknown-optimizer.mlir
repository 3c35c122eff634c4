// RUN: not %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=adagrad" 2>&1 | FileCheck %s

// CHECK: error: unknown optimizer 'adagrad'

nn.parameter @p : tensor<2xf32> {init = "zeros"}
func.func @forward(%t: tensor<1x2xf32>, %w: tensor<1xf32>) -> tensor<f32> attributes {nn.num_inputs = 0 : i64} {
  %p = nn.param @p : tensor<2xf32>
  %0 = nn.add %t, %p : tensor<1x2xf32>, tensor<2xf32> -> tensor<1x2xf32>
  %1 = nn.mse %0, %t, %w : tensor<1x2xf32>, tensor<1x2xf32>, tensor<1xf32> -> tensor<f32>
  return %1 : tensor<f32>
}
