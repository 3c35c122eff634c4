// Every nn op parses and prints back in its custom form, and the printed
// form parses again to the same thing.
// RUN: %nnc-opt %s | FileCheck %s
// RUN: %nnc-opt %s | %nnc-opt | FileCheck %s
// RUN: %nnc-opt %s -mlir-print-op-generic | %nnc-opt | FileCheck %s

// CHECK: nn.parameter @h1.W : tensor<4x8xf32> {fan_in = 4 : i64, fan_out = 8 : i64, init = "glorot_uniform"}
nn.parameter @"h1.W" : tensor<4x8xf32> {init = "glorot_uniform", fan_in = 4 : i64, fan_out = 8 : i64}
// CHECK: nn.parameter @h1.b : tensor<8xf32> {init = "zeros"}
nn.parameter @"h1.b" : tensor<8xf32> {init = "zeros"}
// CHECK: nn.parameter @c : tensor<2x2xf32> {init = "constant", init_value = 5.000000e-01 : f64}
nn.parameter @c : tensor<2x2xf32> {init = "constant", init_value = 0.5 : f64}
// CHECK: nn.parameter @he : tensor<3xf32> {fan_in = 3 : i64, init = "he_uniform"}
nn.parameter @he : tensor<3xf32> {init = "he_uniform", fan_in = 3 : i64}
// CHECK: nn.parameter @o : tensor<1xf32> {init = "ones"}
nn.parameter @o : tensor<1xf32> {init = "ones"}
// CHECK: nn.parameter @u : tensor<1xf32> {init = "uniform", init_value = 1.000000e-01 : f64}
nn.parameter @u : tensor<1xf32> {init = "uniform", init_value = 0.1 : f64}
// CHECK: nn.parameter @n : tensor<1xf32> {init = "normal", init_value = 2.000000e-02 : f64}
nn.parameter @n : tensor<1xf32> {init = "normal", init_value = 0.02 : f64}
// A stack of copies (repeat): one name and one random stream per copy.
// CHECK: nn.parameter @"blocks.*.W" : tensor<3x4x8xf32> {copies = ["blocks.0.W", "blocks.1.W", "blocks.2.W"], fan_in = 4 : i64, fan_out = 8 : i64, init = "glorot_uniform", streams = array<i64: 3, 5, 7>}
nn.parameter @"blocks.*.W" : tensor<3x4x8xf32> {init = "glorot_uniform", fan_in = 4 : i64, fan_out = 8 : i64, copies = ["blocks.0.W", "blocks.1.W", "blocks.2.W"], streams = array<i64: 3, 5, 7>}

// CHECK-LABEL: func.func @params
func.func @params() -> (tensor<4x8xf32>, tensor<8xf32>) {
  // CHECK: nn.param @h1.W : tensor<4x8xf32>
  %w = nn.param @"h1.W" : tensor<4x8xf32>
  // CHECK: nn.param @h1.b : tensor<8xf32>
  %b = nn.param @"h1.b" : tensor<8xf32>
  return %w, %b : tensor<4x8xf32>, tensor<8xf32>
}

// CHECK-LABEL: func.func @shapes
// CHECK-SAME: (%[[B:.*]]: tensor<8xf32>, %[[X:.*]]: tensor<8x4xf32>)
func.func @shapes(%b: tensor<8xf32>, %x: tensor<8x4xf32>)
    -> (tensor<8x3xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<32xf32>) {
  // CHECK: nn.constant 1.000000e+00 : tensor<8x3xf32>
  %c = nn.constant 1.0 : tensor<8x3xf32>
  // CHECK: %[[BC:.*]] = nn.broadcast_to %[[B]] : tensor<8xf32> -> tensor<4x8xf32>
  %y = nn.broadcast_to %b : tensor<8xf32> -> tensor<4x8xf32>
  // CHECK: nn.sum_to %[[BC]] : tensor<4x8xf32> -> tensor<8xf32>
  %s = nn.sum_to %y : tensor<4x8xf32> -> tensor<8xf32>
  // CHECK: nn.reshape %[[X]] : tensor<8x4xf32> -> tensor<32xf32>
  %r = nn.reshape %x : tensor<8x4xf32> -> tensor<32xf32>
  return %c, %y, %s, %r : tensor<8x3xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<32xf32>
}

// CHECK-LABEL: func.func @matmuls
func.func @matmuls(%x: tensor<8x4xf32>, %w: tensor<4x8xf32>, %dy: tensor<8x8xf32>)
    -> (tensor<8x8xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<4x4xf32>) {
  // CHECK: nn.matmul %{{.*}}, %{{.*}} : tensor<8x4xf32>, tensor<4x8xf32> -> tensor<8x8xf32>
  %y = nn.matmul %x, %w : tensor<8x4xf32>, tensor<4x8xf32> -> tensor<8x8xf32>
  // CHECK: nn.matmul %{{.*}}, %{{.*}} {transpose_b} : tensor<8x8xf32>, tensor<4x8xf32> -> tensor<8x4xf32>
  %dx = nn.matmul %dy, %w {transpose_b} : tensor<8x8xf32>, tensor<4x8xf32> -> tensor<8x4xf32>
  // CHECK: nn.matmul %{{.*}}, %{{.*}} {transpose_a} : tensor<8x4xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  %dw = nn.matmul %x, %dy {transpose_a} : tensor<8x4xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
  // CHECK: nn.matmul %{{.*}}, %{{.*}} {transpose_a, transpose_b} : tensor<8x4xf32>, tensor<4x8xf32> -> tensor<4x4xf32>
  %tt = nn.matmul %x, %w {transpose_a, transpose_b} : tensor<8x4xf32>, tensor<4x8xf32> -> tensor<4x4xf32>
  return %y, %dx, %dw, %tt : tensor<8x8xf32>, tensor<8x4xf32>, tensor<4x8xf32>, tensor<4x4xf32>
}

// CHECK-LABEL: func.func @binary
func.func @binary(%a: tensor<8x3xf32>, %b: tensor<3xf32>, %c: tensor<8x1xf32>)
    -> (tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>) {
  // CHECK: nn.add %{{.*}}, %{{.*}} : tensor<8x3xf32>, tensor<3xf32> -> tensor<8x3xf32>
  %0 = nn.add %a, %b : tensor<8x3xf32>, tensor<3xf32> -> tensor<8x3xf32>
  // CHECK: nn.sub %{{.*}}, %{{.*}} : tensor<3xf32>, tensor<8x3xf32> -> tensor<8x3xf32>
  %1 = nn.sub %b, %0 : tensor<3xf32>, tensor<8x3xf32> -> tensor<8x3xf32>
  // CHECK: nn.mul %{{.*}}, %{{.*}} : tensor<8x3xf32>, tensor<8x1xf32> -> tensor<8x3xf32>
  %2 = nn.mul %1, %c : tensor<8x3xf32>, tensor<8x1xf32> -> tensor<8x3xf32>
  // CHECK: nn.div %{{.*}}, %{{.*}} : tensor<8x1xf32>, tensor<3xf32> -> tensor<8x3xf32>
  %3 = nn.div %c, %b : tensor<8x1xf32>, tensor<3xf32> -> tensor<8x3xf32>
  return %0, %1, %2, %3 : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>
}

// CHECK-LABEL: func.func @unary
func.func @unary(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  // CHECK: nn.neg %{{.*}} : tensor<8x8xf32>
  %0 = nn.neg %x : tensor<8x8xf32>
  // CHECK: nn.relu %{{.*}} : tensor<8x8xf32>
  %1 = nn.relu %0 : tensor<8x8xf32>
  // CHECK: nn.sigmoid %{{.*}} : tensor<8x8xf32>
  %2 = nn.sigmoid %1 : tensor<8x8xf32>
  // CHECK: nn.tanh %{{.*}} : tensor<8x8xf32>
  %3 = nn.tanh %2 : tensor<8x8xf32>
  // CHECK: nn.exp %{{.*}} : tensor<8x8xf32>
  %4 = nn.exp %3 : tensor<8x8xf32>
  // CHECK: nn.log %{{.*}} : tensor<8x8xf32>
  %5 = nn.log %4 : tensor<8x8xf32>
  // CHECK: nn.sqrt %{{.*}} : tensor<8x8xf32>
  %6 = nn.sqrt %5 : tensor<8x8xf32>
  // CHECK: nn.softplus %{{.*}} : tensor<8x8xf32>
  %s = nn.softplus %6 : tensor<8x8xf32>
  // CHECK: nn.softmax %{{.*}} : tensor<8x8xf32>
  %7 = nn.softmax %s : tensor<8x8xf32>
  // CHECK: nn.log_softmax %{{.*}} : tensor<8x8xf32>
  %8 = nn.log_softmax %7 : tensor<8x8xf32>
  return %8 : tensor<8x8xf32>
}

// CHECK-LABEL: func.func @losses
func.func @losses(%logits: tensor<8x3xf32>, %y: tensor<8xi32>, %w: tensor<8xf32>,
                  %t: tensor<8x3xf32>) -> (tensor<f32>, tensor<f32>) {
  // CHECK: nn.cross_entropy %{{.*}}, %{{.*}}, %{{.*}} : tensor<8x3xf32>, tensor<8xi32>, tensor<8xf32> -> tensor<f32>
  %ce = nn.cross_entropy %logits, %y, %w : tensor<8x3xf32>, tensor<8xi32>, tensor<8xf32> -> tensor<f32>
  // CHECK: nn.mse %{{.*}}, %{{.*}}, %{{.*}} : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8xf32> -> tensor<f32>
  %mse = nn.mse %logits, %t, %w : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8xf32> -> tensor<f32>
  return %ce, %mse : tensor<f32>, tensor<f32>
}

// CHECK-LABEL: func.func @loss_weights
func.func @loss_weights(%y: tensor<8xi32>, %w: tensor<8xf32>) -> (tensor<f32>, tensor<f32>) {
  // CHECK: nn.loss_weight %{{.*}}, %{{.*}} : tensor<8xf32>, tensor<8xi32> -> tensor<f32>
  %a = nn.loss_weight %w, %y : tensor<8xf32>, tensor<8xi32> -> tensor<f32>
  // CHECK: nn.loss_weight %{{.*}} : tensor<8xf32> -> tensor<f32>
  %b = nn.loss_weight %w : tensor<8xf32> -> tensor<f32>
  return %a, %b : tensor<f32>, tensor<f32>
}

// CHECK-LABEL: func.func @grads
func.func @grads(%x: tensor<8x3xf32>, %dy: tensor<8x3xf32>, %y: tensor<8xi32>,
                 %w: tensor<8xf32>, %dl: tensor<f32>)
    -> (tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>) {
  // CHECK: nn.relu_grad %{{.*}}, %{{.*}} : tensor<8x3xf32>
  %0 = nn.relu_grad %x, %dy : tensor<8x3xf32>
  // CHECK: nn.softmax_grad %{{.*}}, %{{.*}} : tensor<8x3xf32>
  %1 = nn.softmax_grad %x, %dy : tensor<8x3xf32>
  // CHECK: nn.log_softmax_grad %{{.*}}, %{{.*}} : tensor<8x3xf32>
  %2 = nn.log_softmax_grad %x, %dy : tensor<8x3xf32>
  // CHECK: nn.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<8x3xf32>, tensor<8xi32>, tensor<8xf32>, tensor<f32> -> tensor<8x3xf32>
  %3 = nn.cross_entropy_grad %x, %y, %w, %dl : tensor<8x3xf32>, tensor<8xi32>, tensor<8xf32>, tensor<f32> -> tensor<8x3xf32>
  // CHECK: nn.mse_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8xf32>, tensor<f32> -> tensor<8x3xf32>
  %4 = nn.mse_grad %x, %dy, %w, %dl : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8xf32>, tensor<f32> -> tensor<8x3xf32>
  return %0, %1, %2, %3, %4 : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>, tensor<8x3xf32>
}

// CHECK-LABEL: func.func @random
func.func @random(%seed: i64) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  // CHECK: nn.random_uniform %{{.*}} {high = 5.000000e-01 : f32, low = -5.000000e-01 : f32, stream = 3 : i64} : tensor<4x8xf32>
  %u = nn.random_uniform %seed {low = -0.5 : f32, high = 0.5 : f32, stream = 3 : i64} : tensor<4x8xf32>
  // CHECK: nn.random_normal %{{.*}} {mean = 0.000000e+00 : f32, stddev = 2.000000e-02 : f32, stream = 4 : i64} : tensor<4x8xf32>
  %n = nn.random_normal %seed {mean = 0.0 : f32, stddev = 0.02 : f32, stream = 4 : i64} : tensor<4x8xf32>
  return %u, %n : tensor<4x8xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @updates
// CHECK-SAME: (%[[P:.*]]: tensor<139xf32>, %[[G:.*]]: tensor<139xf32>, %[[M:.*]]: tensor<139xf32>, %[[V:.*]]: tensor<139xf32>, %[[LR:.*]]: f32, %[[T:.*]]: f32, %[[S:.*]]: f32)
func.func @updates(%p: tensor<139xf32>, %g: tensor<139xf32>, %m: tensor<139xf32>,
                   %v: tensor<139xf32>, %lr: f32, %t: f32, %s: f32)
    -> (tensor<139xf32>, tensor<139xf32>, tensor<139xf32>) {
  // CHECK: %[[P1:[a-z0-9_]+]], %[[V1:[a-z0-9_]+]] = nn.optimizer_update "sgd" %[[P]], %[[G]], [%[[V]]], %[[LR]], %[[T]], %[[S]] {momentum = 0.899999976 : f32} : tensor<139xf32>, [tensor<139xf32>]
  %p1, %v1 = nn.optimizer_update "sgd" %p, %g, [%v], %lr, %t, %s {momentum = 0.9 : f32} : tensor<139xf32>, [tensor<139xf32>]
  // CHECK: %[[P2:[a-z0-9_]+]], %[[S2:[a-z0-9_]+]]:2 = nn.optimizer_update "adam" %[[P1]], %[[G]], [%[[M]], %[[V1]]], %[[LR]], %[[T]], %[[S]] {beta1 = 0.899999976 : f32, beta2 = 9.990000e-01 : f32, epsilon = 1.000000e-07 : f32} : tensor<139xf32>, [tensor<139xf32>, tensor<139xf32>]
  %p2, %m2, %v2 = nn.optimizer_update "adam" %p1, %g, [%m, %v1], %lr, %t, %s {beta1 = 0.9 : f32, beta2 = 0.999 : f32, epsilon = 1.0e-07 : f32} : tensor<139xf32>, [tensor<139xf32>, tensor<139xf32>]
  // CHECK: %[[P3:[a-z0-9_]+]], %[[S3:[a-z0-9_]+]]:2 = nn.optimizer_update "rmsprop" %[[P2]], %[[G]], [%[[S2]]#0, %[[S2]]#1], %[[LR]], %[[T]], %[[S]] {epsilon = 1.000000e-07 : f32, momentum = 0.000000e+00 : f32, rho = 0.899999976 : f32} : tensor<139xf32>, [tensor<139xf32>, tensor<139xf32>]
  %p3, %s3, %v3 = nn.optimizer_update "rmsprop" %p2, %g, [%m2, %v2], %lr, %t, %s {rho = 0.9 : f32, epsilon = 1.0e-07 : f32, momentum = 0.0 : f32} : tensor<139xf32>, [tensor<139xf32>, tensor<139xf32>]
  // CHECK: %[[P4:[a-z0-9_]+]], %{{.*}} = nn.optimizer_update "nesterov" %[[P3]], %[[G]], [%[[S3]]#1], %[[LR]], %[[T]], %[[S]] {momentum = 5.000000e-01 : f32} : tensor<139xf32>, [tensor<139xf32>]
  %p4, %b4 = nn.optimizer_update "nesterov" %p3, %g, [%v3], %lr, %t, %s {momentum = 0.5 : f32} : tensor<139xf32>, [tensor<139xf32>]
  // CHECK: %[[P5:[a-z0-9_]+]], %[[S5:[a-z0-9_]+]]:2 = nn.optimizer_update "adamw" %[[P4]], %[[G]], [%[[S3]]#0, %[[S3]]#1], %[[LR]], %[[T]], %[[S]] {beta1 = 0.899999976 : f32, beta2 = 9.990000e-01 : f32, epsilon = 9.99999993E-9 : f32, weight_decay = 0.00999999977 : f32} : tensor<139xf32>, [tensor<139xf32>, tensor<139xf32>]
  %p5, %m5, %v5 = nn.optimizer_update "adamw" %p4, %g, [%s3, %v3], %lr, %t, %s {beta1 = 0.9 : f32, beta2 = 0.999 : f32, epsilon = 1.0e-08 : f32, weight_decay = 0.01 : f32} : tensor<139xf32>, [tensor<139xf32>, tensor<139xf32>]
  // CHECK: return %[[P5]], %[[S5]]#0, %[[S5]]#1
  return %p5, %m5, %v5 : tensor<139xf32>, tensor<139xf32>, tensor<139xf32>
}

// CHECK-LABEL: func.func @global_norm
// CHECK: nn.global_norm %{{.*}}, %{{.*}} : tensor<12xf32>, tensor<3x2xf32> -> tensor<f32>
func.func @global_norm(%a: tensor<12xf32>, %b: tensor<3x2xf32>) -> tensor<f32> {
  %n = nn.global_norm %a, %b : tensor<12xf32>, tensor<3x2xf32> -> tensor<f32>
  return %n : tensor<f32>
}
