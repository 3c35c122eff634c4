// RUN: %nnc-opt %s --nn-generate-backward | FileCheck %s
// RUN: %nnc-opt %s --nn-generate-backward | %nnc-opt -verify-each

// The vector-Jacobian products of the attention shape ops (issue 4):
//   batch_matmul {transpose_b} s = q k^T -> dq = ds k, dk = ds^T q: batched
//     products with transpose flags, never a materialised transpose,
//   transpose -> the inverse permutation of the gradient,
//   concat {axis} -> nn.slice with the same axis per operand.

nn.parameter @wq : tensor<2x3x4xf32> {init = "ones"}
nn.parameter @wk : tensor<2x3x4xf32> {init = "ones"}

func.func @forward(%t: tensor<2x6x3xf32>, %wt: tensor<2xf32>) -> tensor<f32>
    attributes {nn.num_inputs = 0 : i64} {
  %q = nn.param @wq : tensor<2x3x4xf32>
  %k = nn.param @wk : tensor<2x3x4xf32>
  %s = nn.batch_matmul %q, %k {transpose_b} : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x3x3xf32>
  %p = nn.transpose %s {permutation = array<i64: 0, 2, 1>} : tensor<2x3x3xf32> -> tensor<2x3x3xf32>
  %c = nn.concat %p, %s {axis = 1 : i64} : tensor<2x3x3xf32>, tensor<2x3x3xf32> -> tensor<2x6x3xf32>
  %l = nn.mse %c, %t, %wt : tensor<2x6x3xf32>, tensor<2x6x3xf32>, tensor<2xf32> -> tensor<f32>
  return %l : tensor<f32>
}

// CHECK-LABEL: func.func @forward_grad(
// CHECK: %[[DC:.*]] = nn.mse_grad
// CHECK-DAG: %[[DP:.*]] = nn.slice %[[DC]] {axis = 1 : i64, begin = 0 : i64} : tensor<2x6x3xf32> -> tensor<2x3x3xf32>
// CHECK-DAG: %[[DS1:.*]] = nn.slice %[[DC]] {axis = 1 : i64, begin = 3 : i64} : tensor<2x6x3xf32> -> tensor<2x3x3xf32>
// CHECK: %[[DS2:.*]] = nn.transpose %[[DP]] {permutation = array<i64: 0, 2, 1>}
// CHECK: %[[DS:.*]] = nn.add
// CHECK-DAG: nn.batch_matmul %[[DS]], %{{.*}} : tensor<2x3x3xf32>, tensor<2x3x4xf32> -> tensor<2x3x4xf32>
// CHECK-DAG: nn.batch_matmul %[[DS]], %{{.*}} {transpose_a} : tensor<2x3x3xf32>, tensor<2x3x4xf32> -> tensor<2x3x4xf32>
// CHECK-NOT: nn.transpose
// CHECK: return
