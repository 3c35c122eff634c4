// RUN: %nnc-opt %s -split-input-file --nn-generate-backward | FileCheck %s
// RUN: %nnc-opt %s -split-input-file --nn-generate-backward | %nnc-opt -split-input-file -verify-each

// The transformer primitives (issue 4) differentiate through their VJPs:
// layer_norm -> layer_norm_grad (same epsilon), gelu -> gelu_grad,
// causal_mask and mask -> the same mask with fill 0 on the gradient (keep
// gets none), softmax with an axis -> softmax_grad with that axis.

nn.parameter @W : tensor<4x4xf32> {init = "zeros"}

func.func @forward(%x: tensor<2x3x4xf32>, %keep: tensor<2x1x4xf32>, %t: tensor<2x3x4xf32>, %w: tensor<2xf32>)
    -> (tensor<f32>) attributes {nn.num_inputs = 2 : i64} {
  %W = nn.param @W : tensor<4x4xf32>
  %x2 = nn.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %m = nn.matmul %x2, %W : tensor<6x4xf32>, tensor<4x4xf32> -> tensor<6x4xf32>
  %m3 = nn.reshape %m : tensor<6x4xf32> -> tensor<2x3x4xf32>
  %ln = nn.layer_norm %m3 {epsilon = 1.0e-03 : f32} : tensor<2x3x4xf32>
  %g = nn.gelu %ln : tensor<2x3x4xf32>
  %c = nn.causal_mask %g {fill = -1.0e+30 : f32} : tensor<2x3x4xf32>
  %k = nn.mask %c, %keep {fill = -1.0e+30 : f32} : tensor<2x3x4xf32>, tensor<2x1x4xf32>
  %p = nn.softmax %k {axis = 1 : i64} : tensor<2x3x4xf32>
  %loss = nn.mse %p, %t, %w : tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[KEEP:[a-z0-9]+]]: tensor<2x1x4xf32>
// CHECK: %[[LN:.*]] = nn.layer_norm %[[M3:.*]] {epsilon = 1.000000e-03 : f32}
// CHECK: %[[G:.*]] = nn.gelu %[[LN]]
// CHECK: %[[C:.*]] = nn.causal_mask %[[G]] {fill = -1.000000e+30 : f32}
// CHECK: %[[K:.*]] = nn.mask %[[C]], %[[KEEP]] {fill = -1.000000e+30 : f32}
// CHECK: %[[P:.*]] = nn.softmax %[[K]] {axis = 1 : i64}
// CHECK: %[[DP:.*]] = nn.mse_grad %[[P]]
// CHECK: %[[DK:.*]] = nn.softmax_grad %[[P]], %[[DP]] {axis = 1 : i64}
// CHECK: %[[DC:.*]] = nn.mask %[[DK]], %[[KEEP]] {fill = 0.000000e+00 : f32}
// CHECK: %[[DG:.*]] = nn.causal_mask %[[DC]] {fill = 0.000000e+00 : f32}
// CHECK: %[[DLN:.*]] = nn.gelu_grad %[[LN]], %[[DG]]
// CHECK: %[[DM3:.*]] = nn.layer_norm_grad %[[M3]], %[[DLN]] {epsilon = 1.000000e-03 : f32}
// CHECK: nn.matmul %{{.*}}, %{{.*}} {transpose_a}
// CHECK: return

// -----

// The offset of a causal mask is an integer: it gets no gradient and is
// passed on to the gradient's mask.
nn.parameter @S : tensor<2x1x6xf32> {init = "zeros"}

func.func @forward(%pos: i64, %t: tensor<2x1x6xf32>, %w: tensor<2xf32>)
    -> (tensor<f32>) attributes {nn.num_inputs = 1 : i64} {
  %s = nn.param @S : tensor<2x1x6xf32>
  %c = nn.causal_mask %s offset %pos {fill = -1.0e+30 : f32} : tensor<2x1x6xf32>
  %loss = nn.mse %c, %t, %w : tensor<2x1x6xf32>, tensor<2x1x6xf32>, tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: %[[POS:[a-z0-9]+]]: i64
// CHECK: %[[D:.*]] = nn.mse_grad
// CHECK: nn.causal_mask %[[D]] offset %[[POS]] {fill = 0.000000e+00 : f32}
