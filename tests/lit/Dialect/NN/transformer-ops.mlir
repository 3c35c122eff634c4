// The transformer primitives (issue 4) parse and print back in their custom
// form, and the printed form parses again to the same thing.
// RUN: %nnc-opt %s | FileCheck %s
// RUN: %nnc-opt %s | %nnc-opt | FileCheck %s
// RUN: %nnc-opt %s -mlir-print-op-generic | %nnc-opt | FileCheck %s

// CHECK-LABEL: func.func @layer_norm
func.func @layer_norm(%x: tensor<2x5x8xf32>, %dy: tensor<2x5x8xf32>) -> (tensor<2x5x8xf32>, tensor<2x5x8xf32>) {
  // CHECK: nn.layer_norm %{{.*}} {epsilon = 9.99999974E-6 : f32} : tensor<2x5x8xf32>
  %y = nn.layer_norm %x {epsilon = 1.0e-05 : f32} : tensor<2x5x8xf32>
  // CHECK: nn.layer_norm_grad %{{.*}}, %{{.*}} {epsilon = 1.000000e-03 : f32} : tensor<2x5x8xf32>
  %dx = nn.layer_norm_grad %x, %dy {epsilon = 1.0e-03 : f32} : tensor<2x5x8xf32>
  return %y, %dx : tensor<2x5x8xf32>, tensor<2x5x8xf32>
}

// CHECK-LABEL: func.func @gelu
func.func @gelu(%x: tensor<4x8xf32>, %dy: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  // CHECK: nn.gelu %{{.*}} : tensor<4x8xf32>
  %y = nn.gelu %x : tensor<4x8xf32>
  // CHECK: nn.gelu_grad %{{.*}}, %{{.*}} : tensor<4x8xf32>
  %dx = nn.gelu_grad %x, %dy : tensor<4x8xf32>
  return %y, %dx : tensor<4x8xf32>, tensor<4x8xf32>
}

// CHECK-LABEL: func.func @masks
func.func @masks(%s: tensor<2x3x4x4xf32>, %s1: tensor<2x3x1x6xf32>, %pos: i64,
                 %keep: tensor<2x1x1x4xf32>, %ids: tensor<2x4xi32>)
    -> (tensor<2x3x4x4xf32>, tensor<2x3x1x6xf32>, tensor<2x3x4x4xf32>, tensor<2x4xf32>) {
  // CHECK: nn.causal_mask %{{.*}} {fill = -1.000000e+30 : f32} : tensor<2x3x4x4xf32>
  %m = nn.causal_mask %s {fill = -1.0e+30 : f32} : tensor<2x3x4x4xf32>
  // CHECK: nn.causal_mask %{{.*}} offset %{{.*}} {fill = 0.000000e+00 : f32} : tensor<2x3x1x6xf32>
  %m1 = nn.causal_mask %s1 offset %pos {fill = 0.0 : f32} : tensor<2x3x1x6xf32>
  // CHECK: nn.mask %{{.*}}, %{{.*}} {fill = -1.000000e+30 : f32} : tensor<2x3x4x4xf32>, tensor<2x1x1x4xf32>
  %k = nn.mask %s, %keep {fill = -1.0e+30 : f32} : tensor<2x3x4x4xf32>, tensor<2x1x1x4xf32>
  // CHECK: nn.not_padding %{{.*}} : tensor<2x4xi32> -> tensor<2x4xf32>
  %np = nn.not_padding %ids : tensor<2x4xi32> -> tensor<2x4xf32>
  return %m, %m1, %k, %np : tensor<2x3x4x4xf32>, tensor<2x3x1x6xf32>, tensor<2x3x4x4xf32>, tensor<2x4xf32>
}

// CHECK-LABEL: func.func @range
func.func @range(%pos: i64) -> (tensor<5xi32>, tensor<1xi32>) {
  // CHECK: nn.range : tensor<5xi32>
  %p = nn.range : tensor<5xi32>
  // CHECK: nn.range offset %{{.*}} : tensor<1xi32>
  %p1 = nn.range offset %pos : tensor<1xi32>
  return %p, %p1 : tensor<5xi32>, tensor<1xi32>
}

// CHECK-LABEL: func.func @softmax_axis
func.func @softmax_axis(%x: tensor<2x4x3xf32>, %dy: tensor<2x4x3xf32>)
    -> (tensor<2x4x3xf32>, tensor<2x4x3xf32>, tensor<2x4x3xf32>, tensor<2x4x3xf32>, tensor<2x4x3xf32>) {
  // CHECK: nn.softmax %{{.*}} : tensor<2x4x3xf32>
  %a = nn.softmax %x : tensor<2x4x3xf32>
  // CHECK: nn.softmax %{{.*}} {axis = 1 : i64} : tensor<2x4x3xf32>
  %b = nn.softmax %x {axis = 1 : i64} : tensor<2x4x3xf32>
  // CHECK: nn.log_softmax %{{.*}} {axis = -2 : i64} : tensor<2x4x3xf32>
  %c = nn.log_softmax %x {axis = -2 : i64} : tensor<2x4x3xf32>
  // CHECK: nn.softmax_grad %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<2x4x3xf32>
  %d = nn.softmax_grad %b, %dy {axis = 1 : i64} : tensor<2x4x3xf32>
  // CHECK: nn.log_softmax_grad %{{.*}}, %{{.*}} {axis = -2 : i64} : tensor<2x4x3xf32>
  %e = nn.log_softmax_grad %c, %dy {axis = -2 : i64} : tensor<2x4x3xf32>
  return %a, %b, %c, %d, %e : tensor<2x4x3xf32>, tensor<2x4x3xf32>, tensor<2x4x3xf32>, tensor<2x4x3xf32>, tensor<2x4x3xf32>
}
