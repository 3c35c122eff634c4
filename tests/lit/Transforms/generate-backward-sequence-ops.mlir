// RUN: %nnc-opt %s --nn-generate-backward | FileCheck %s
// RUN: %nnc-opt %s --nn-generate-backward | %nnc-opt -verify-each

// The vector-Jacobian products of the sequence ops other than nn.scan, on
// one chain from the parameters to the loss:
//   embedding -> embedding_grad of the table (the ids get none),
//   dropout   -> the same dropout (key, rate, stream) of the gradient,
//   concat    -> one nn.slice of the gradient per operand,
//   slice     -> nn.slice_grad at the same begin.

nn.parameter @table : tensor<20x4xf32> {init = "uniform", init_value = 0.05 : f64}
nn.parameter @v : tensor<2x3xf32> {init = "ones"}

func.func @forward(%ids: tensor<2xi32>, %key: i64, %t: tensor<2x3xf32>, %wt: tensor<2xf32>)
    -> tensor<f32> attributes {nn.num_inputs = 2 : i64} {
  %table = nn.param @table : tensor<20x4xf32>
  %v = nn.param @v : tensor<2x3xf32>
  %e = nn.embedding %table, %ids : tensor<20x4xf32>, tensor<2xi32> -> tensor<2x4xf32>
  %d = nn.dropout %e, %key {rate = 0.25 : f32, stream = 5 : i64} : tensor<2x4xf32>
  %z = nn.concat %v, %d : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
  %s = nn.slice %z {begin = 2 : i64} : tensor<2x7xf32> -> tensor<2x3xf32>
  %loss = nn.mse %s, %t, %wt : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: %[[IDS:[a-z0-9]+]]: tensor<2xi32>, %[[KEY:[a-z0-9]+]]: i64, %[[T:[a-z0-9]+]]: tensor<2x3xf32>, %[[WT:[a-z0-9]+]]: tensor<2xf32>)
// CHECK-SAME: -> (tensor<f32>, tensor<20x4xf32>, tensor<2x3xf32>)
// CHECK: %[[TABLE:.*]] = nn.param @table
// CHECK: %[[V:.*]] = nn.param @v
// CHECK: %[[E:.*]] = nn.embedding %[[TABLE]], %[[IDS]]
// CHECK: %[[D:.*]] = nn.dropout %[[E]], %[[KEY]] {rate = 2.500000e-01 : f32, stream = 5 : i64} : tensor<2x4xf32>
// CHECK: %[[Z:.*]] = nn.concat %[[V]], %[[D]]
// CHECK: %[[S:.*]] = nn.slice %[[Z]] {begin = 2 : i64}
// CHECK: %[[LOSS:.*]] = nn.mse %[[S]], %[[T]], %[[WT]]
// CHECK: %[[DS:.*]] = nn.mse_grad %[[S]], %[[T]], %[[WT]], %{{.*}} : {{.*}} -> tensor<2x3xf32>
// CHECK: %[[DZ:.*]] = nn.slice_grad %[[DS]] {begin = 2 : i64} : tensor<2x3xf32> -> tensor<2x7xf32>
// CHECK-NEXT: %[[DV:.*]] = nn.slice %[[DZ]] {begin = 0 : i64} : tensor<2x7xf32> -> tensor<2x3xf32>
// CHECK-NEXT: %[[DD:.*]] = nn.slice %[[DZ]] {begin = 3 : i64} : tensor<2x7xf32> -> tensor<2x4xf32>
// CHECK-NEXT: %[[DE:.*]] = nn.dropout %[[DD]], %[[KEY]] {rate = 2.500000e-01 : f32, stream = 5 : i64} : tensor<2x4xf32>
// CHECK-NEXT: %[[DT:.*]] = nn.embedding_grad %[[IDS]], %[[DE]] : tensor<2xi32>, tensor<2x4xf32> -> tensor<20x4xf32>
// CHECK-NEXT: return %[[LOSS]], %[[DT]], %[[DV]] : tensor<f32>, tensor<20x4xf32>, tensor<2x3xf32>
