// The verifiers of the transformer primitives (issue 4) reject bad IR with
// their message.
// RUN: %nnc-opt %s -split-input-file -verify-diagnostics

func.func @f(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{epsilon must be > 0, got 0}}
  %y = nn.layer_norm %x {epsilon = 0.0 : f32} : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @f(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{epsilon must be > 0, got -1}}
  %y = nn.layer_norm_grad %x, %x {epsilon = -1.0 : f32} : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @f(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{the operand needs at least one dimension}}
  %y = nn.layer_norm %x {epsilon = 1.0e-05 : f32} : tensor<f32>
  return %y : tensor<f32>
}

// -----

func.func @f(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{requires attribute 'epsilon'}}
  %y = nn.layer_norm %x : tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @f(%x: tensor<2x8xi32>) -> tensor<2x8xi32> {
  // expected-error @+1 {{must be ranked tensor of 32-bit float values}}
  %y = nn.gelu %x : tensor<2x8xi32>
  return %y : tensor<2x8xi32>
}

// -----

func.func @f(%x: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{needs scores [..., T, T'] of rank >= 2, got [8]}}
  %y = nn.causal_mask %x {fill = -1.0e+30 : f32} : tensor<8xf32>
  return %y : tensor<8xf32>
}

// -----

func.func @f(%x: tensor<2x4x4xf32>, %k: tensor<2x3xf32>) -> tensor<2x4x4xf32> {
  // expected-error @+1 {{keep [2, 3] does not broadcast to the input [2, 4, 4]}}
  %y = nn.mask %x, %k {fill = -1.0e+30 : f32} : tensor<2x4x4xf32>, tensor<2x3xf32>
  return %y : tensor<2x4x4xf32>
}

// -----

func.func @f(%ids: tensor<2x4xi32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{result must have the shape of the ids [2, 4]}}
  %y = nn.not_padding %ids : tensor<2x4xi32> -> tensor<2x5xf32>
  return %y : tensor<2x5xf32>
}

// -----

func.func @f() -> tensor<2x4xi32> {
  // expected-error @+1 {{result must be 1-d [T], got [2, 4]}}
  %y = nn.range : tensor<2x4xi32>
  return %y : tensor<2x4xi32>
}

// -----

func.func @f(%x: tensor<2x4x3xf32>) -> tensor<2x4x3xf32> {
  // expected-error @+1 {{axis 3 is out of range for rank 3}}
  %y = nn.softmax %x {axis = 3 : i64} : tensor<2x4x3xf32>
  return %y : tensor<2x4x3xf32>
}

// -----

func.func @f(%x: tensor<2x4x3xf32>) -> tensor<2x4x3xf32> {
  // expected-error @+1 {{axis -4 is out of range for rank 3}}
  %y = nn.log_softmax %x {axis = -4 : i64} : tensor<2x4x3xf32>
  return %y : tensor<2x4x3xf32>
}

// -----

func.func @f(%x: tensor<2x4x3xf32>) -> tensor<2x4x3xf32> {
  // expected-error @+1 {{axis 5 is out of range for rank 3}}
  %y = nn.softmax_grad %x, %x {axis = 5 : i64} : tensor<2x4x3xf32>
  return %y : tensor<2x4x3xf32>
}

// -----

func.func @f(%x: tensor<2x4x3xf32>) -> tensor<2x4x3xf32> {
  // expected-error @+1 {{axis -9 is out of range for rank 3}}
  %y = nn.log_softmax_grad %x, %x {axis = -9 : i64} : tensor<2x4x3xf32>
  return %y : tensor<2x4x3xf32>
}
