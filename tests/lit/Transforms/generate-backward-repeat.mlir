// RUN: %nnc-opt %s --nn-generate-backward --canonicalize | FileCheck %s
// RUN: %nnc-opt %s --nn-generate-backward | %nnc-opt -verify-each

// The gradient of a stacked scan (repeat(2, Layer(...)) kept as a loop;
// ScanVJP.cpp): the forward scan runs again saving the state at the start of
// every copy and keeping the values the backward step reads (here tanh's
// result: `residuals = 1`, stacked [N, ...] like the saved states). The
// backward scan walks the copies in reverse and reads them instead of
// recomputing the layer: its body has no forward product, only the two of
// the gradient. The stacked weights' gradient leaves per copy ([N, 3, 3])
// and concat's VJP slices it back into each copy's parameter.

nn.parameter @W0 : tensor<3x3xf32> {init = "glorot_uniform", fan_in = 3 : i64, fan_out = 3 : i64}
nn.parameter @W1 : tensor<3x3xf32> {init = "glorot_uniform", fan_in = 3 : i64, fan_out = 3 : i64}

// CHECK-LABEL: func.func @forward_grad
// CHECK: %[[WS:.*]] = nn.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : tensor<1x3x3xf32>, tensor<1x3x3xf32> -> tensor<2x3x3xf32>
// CHECK: %[[F:.*]]:3 = nn.scan inits(%{{.*}}) sequences(%[[WS]]) captures() {residuals = 1 : i64, save_states, stacked} : (tensor<2x3xf32>, tensor<2x3x3xf32>) -> (tensor<2x3xf32>, tensor<2x2x3xf32>, tensor<2x2x3xf32>)
// CHECK: %[[TH:.*]] = nn.tanh
// CHECK: nn.yield %{{.*}}, %[[TH]]
// CHECK: %[[G:.*]] = nn.mse_grad %[[F]]#0
// CHECK: %[[B:.*]]:2 = nn.scan inits(%[[G]]) sequences(%[[F]]#1, %[[WS]], %[[F]]#2) captures() {return_sequence, reverse, stacked} : (tensor<2x3xf32>, tensor<2x2x3xf32>, tensor<2x3x3xf32>, tensor<2x2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3x3xf32>)
// CHECK-NEXT: ^bb0(%[[DH:.*]]: tensor<2x3xf32>, %[[H:.*]]: tensor<2x3xf32>, %[[W:.*]]: tensor<3x3xf32>, %[[T:.*]]: tensor<2x3xf32>):
// CHECK-NOT: nn.tanh
// CHECK: nn.mul %[[T]], %[[T]]
// CHECK: %[[DM:.*]] = nn.mul %[[DH]]
// CHECK: nn.matmul %[[DM]], %[[W]] {transpose_b}
// CHECK: %[[DW:.*]] = nn.matmul %[[H]], %[[DM]] {transpose_a}
// CHECK: nn.yield %{{.*}}, %[[DW]] : tensor<2x3xf32>, tensor<3x3xf32>
// CHECK: nn.slice %[[B]]#1 {axis = 0 : i64, begin = 0 : i64} : tensor<2x3x3xf32> -> tensor<1x3x3xf32>
// CHECK: nn.slice %[[B]]#1 {axis = 0 : i64, begin = 1 : i64} : tensor<2x3x3xf32> -> tensor<1x3x3xf32>
func.func @forward(%x: tensor<2x3xf32>, %t: tensor<2x3xf32>, %wt: tensor<2xf32>)
    -> tensor<f32> attributes {nn.num_inputs = 1 : i64} {
  %w0 = nn.param @W0 : tensor<3x3xf32>
  %w1 = nn.param @W1 : tensor<3x3xf32>
  %a = nn.reshape %w0 : tensor<3x3xf32> -> tensor<1x3x3xf32>
  %c = nn.reshape %w1 : tensor<3x3xf32> -> tensor<1x3x3xf32>
  %ws = nn.concat %a, %c {axis = 0 : i64} : tensor<1x3x3xf32>, tensor<1x3x3xf32> -> tensor<2x3x3xf32>
  %y = nn.scan inits(%x) sequences(%ws) captures() {stacked}
      : (tensor<2x3xf32>, tensor<2x3x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %w: tensor<3x3xf32>):
    %m = nn.matmul %h, %w : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
    %th = nn.tanh %m : tensor<2x3xf32>
    %h1 = nn.add %h, %th : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    nn.yield %h1 : tensor<2x3xf32>
  }
  %l = nn.mse %y, %t, %wt : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32> -> tensor<f32>
  return %l : tensor<f32>
}
