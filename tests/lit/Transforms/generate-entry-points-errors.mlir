// RUN: %nnc-opt %s -split-input-file --nn-generate-entry-points -verify-diagnostics

// expected-error @+1 {{nn-generate-entry-points needs @forward and @forward_grad (run nn-generate-backward first)}}
module {
  func.func @forward(%l: tensor<f32>) -> tensor<f32> attributes {nn.num_inputs = 0 : i64} {
    return %l : tensor<f32>
  }
}

// -----

module {
  // expected-error @+1 {{@forward needs an nn.num_inputs attribute}}
  func.func @forward(%l: tensor<f32>) -> tensor<f32> {
    return %l : tensor<f32>
  }
  func.func @forward_grad(%l: tensor<f32>) -> tensor<f32> {
    return %l : tensor<f32>
  }
}
