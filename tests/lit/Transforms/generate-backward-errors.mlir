// RUN: %nnc-opt %s -split-input-file --nn-generate-backward -verify-diagnostics

// expected-error @+1 {{nn-generate-backward: no @forward function}}
module {
  func.func @model(%x: tensor<f32>) -> tensor<f32> {
    return %x : tensor<f32>
  }
}

// -----

module {
  // expected-error @+1 {{@forward's first result must be the scalar loss, tensor<f32>}}
  func.func @forward(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}

// -----

module {
  // expected-error @+1 {{@forward's first result must be the scalar loss, tensor<f32>}}
  func.func @forward() {
    return
  }
}

// -----

// Gradient kernels are not differentiated again.
module {
  nn.parameter @p : tensor<1x2xf32> {init = "zeros"}
  func.func @forward(%t: tensor<1x2xf32>, %w: tensor<1xf32>) -> tensor<f32> {
    %p = nn.param @p : tensor<1x2xf32>
    // expected-error @+1 {{cannot differentiate 'nn.relu_grad': it has no vector-Jacobian product}}
    %0 = nn.relu_grad %p, %t : tensor<1x2xf32>
    %1 = nn.mse %0, %t, %w : tensor<1x2xf32>, tensor<1x2xf32>, tensor<1xf32> -> tensor<f32>
    return %1 : tensor<f32>
  }
}
