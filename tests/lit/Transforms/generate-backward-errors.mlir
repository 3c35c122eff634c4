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

// -----

// A loss that reads a scan's saved states: their gradient has no way back
// into the steps, so differentiation stops with an error.
nn.parameter @u : tensor<3xf32> {init = "ones"}

func.func @forward(%xs: tensor<2x3x3xf32>, %wt: tensor<2xf32>)
    -> tensor<f32> attributes {nn.num_inputs = 1 : i64} {
  %u = nn.param @u : tensor<3xf32>
  %h0 = nn.constant 0.0 : tensor<2x3xf32>
  // expected-error @+2 {{cannot differentiate through the saved states or residuals of a scan (result #2)}}
  // expected-error @+1 {{internal error: the vector-Jacobian product gave 0 gradients for 3 operands}}
  %r:3 = nn.scan inits(%h0) sequences(%xs) captures(%u) {save_states}
      : (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<3xf32>)
      -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x3xf32>, %ua: tensor<3xf32>):
    %m = nn.mul %h, %ua : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
    %a = nn.add %m, %x : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %h1 = nn.tanh %a : tensor<2x3xf32>
    nn.yield %h1, %h1 : tensor<2x3xf32>, tensor<2x3xf32>
  }
  %sv = nn.reshape %r#2 : tensor<2x3x3xf32> -> tensor<2x9xf32>
  %loss = nn.mse %sv, %sv, %wt : tensor<2x9xf32>, tensor<2x9xf32>, tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}
