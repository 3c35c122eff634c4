// The verifiers of the attention shape ops (issue 4) reject bad IR.
// RUN: %nnc-opt %s -split-input-file -verify-diagnostics

func.func @f(%a: tensor<8x3x4xf32>, %b: tensor<8x5x6xf32>) {
  // expected-error @+1 {{inner dimensions differ: 4 and 6}}
  %0 = nn.batch_matmul %a, %b {transpose_b} : tensor<8x3x4xf32>, tensor<8x5x6xf32> -> tensor<8x3x5xf32>
  return
}

// -----

func.func @f(%a: tensor<8x3x4xf32>, %b: tensor<7x4x6xf32>) {
  // expected-error @+1 {{leading dimensions differ: [8] and [7]}}
  %0 = nn.batch_matmul %a, %b : tensor<8x3x4xf32>, tensor<7x4x6xf32> -> tensor<8x3x6xf32>
  return
}

// -----

func.func @f(%a: tensor<3x4xf32>, %b: tensor<4x6xf32>) {
  // expected-error @+1 {{expects operands and result of one rank, at least 3}}
  %0 = nn.batch_matmul %a, %b : tensor<3x4xf32>, tensor<4x6xf32> -> tensor<3x6xf32>
  return
}

// -----

func.func @f(%a: tensor<8x3x4xf32>, %b: tensor<8x4x6xf32>) {
  // expected-error @+1 {{result must be [8, 3, 6], got [8, 6, 3]}}
  %0 = nn.batch_matmul %a, %b : tensor<8x3x4xf32>, tensor<8x4x6xf32> -> tensor<8x6x3xf32>
  return
}

// -----

func.func @f(%a: tensor<8x3x4xf32>) {
  // expected-error @+1 {{permutation is not a permutation of 0..2}}
  %0 = nn.transpose %a {permutation = array<i64: 0, 1, 1>} : tensor<8x3x4xf32> -> tensor<8x3x3xf32>
  return
}

// -----

func.func @f(%a: tensor<8x3x4xf32>) {
  // expected-error @+1 {{permutation must list all 3 axes}}
  %0 = nn.transpose %a {permutation = array<i64: 1, 0>} : tensor<8x3x4xf32> -> tensor<3x8x4xf32>
  return
}

// -----

func.func @f(%a: tensor<8x3x4xf32>) {
  // expected-error @+1 {{result must be [8, 4, 3]}}
  %0 = nn.transpose %a {permutation = array<i64: 0, 2, 1>} : tensor<8x3x4xf32> -> tensor<8x3x4xf32>
  return
}

// -----

func.func @f(%a: tensor<8x3x4xf32>, %b: tensor<8x2x5xf32>) {
  // expected-error @+1 {{operands must agree on every dimension but axis 1: [8, 3, 4] and [8, 2, 5]}}
  %0 = nn.concat %a, %b {axis = 1 : i64} : tensor<8x3x4xf32>, tensor<8x2x5xf32> -> tensor<8x5x4xf32>
  return
}

// -----

func.func @f(%a: tensor<8x3x4xf32>, %b: tensor<8x2x4xf32>) {
  // expected-error @+1 {{axis 3 is outside the operands' rank 3}}
  %0 = nn.concat %a, %b {axis = 3 : i64} : tensor<8x3x4xf32>, tensor<8x2x4xf32> -> tensor<8x5x4xf32>
  return
}

// -----

func.func @f(%a: tensor<8x3x4xf32>) {
  // expected-error @+1 {{range [2, 4) is outside dimension 1 of size 3}}
  %0 = nn.slice %a {begin = 2 : i64, axis = 1 : i64} : tensor<8x3x4xf32> -> tensor<8x2x4xf32>
  return
}

// -----

func.func @f(%a: tensor<8x2x4xf32>) {
  // expected-error @+1 {{result must have the gradient's shape but on axis 1}}
  %0 = nn.slice_grad %a {begin = 0 : i64, axis = 1 : i64} : tensor<8x2x4xf32> -> tensor<8x3x5xf32>
  return
}
