// RUN: %nnc-opt %s -split-input-file --nn-generate-backward | FileCheck %s
// RUN: %nnc-opt %s -split-input-file --nn-generate-backward | %nnc-opt -split-input-file -verify-each
// RUN: %nnc-opt %s -split-input-file --nn-generate-backward --canonicalize | FileCheck %s --check-prefix=CANON

// Backpropagation through time (ScanVJP.cpp) of an Elman cell,
// h' = tanh(concat(h, x) @ W + b), run over the whole sequence.
//
// The forward scan is replaced by one that also saves the state at the
// start of every step and keeps the product with the captured matrix
// (`residuals = 1`). The gradient is a reverse scan over the saved states,
// the inputs, the output gradients and the kept products: its step reads
// the product instead of recomputing it (no forward nn.matmul with W, only
// the {transpose_b} one for the gradient of concat(h, x)), carries the bias
// gradient (sum_to added into a carried state) and emits concat(h, x) per
// step. The weight gradient is one product of [B*T, 7]^T and [B*T, 3] after
// the reverse scan.

nn.parameter @W : tensor<7x3xf32> {init = "glorot_uniform", fan_in = 7 : i64, fan_out = 3 : i64}
nn.parameter @b : tensor<3xf32> {init = "zeros"}

func.func @forward(%xs: tensor<2x3x4xf32>, %t: tensor<2x3x3xf32>, %wt: tensor<2xf32>)
    -> tensor<f32> attributes {nn.num_inputs = 1 : i64} {
  %w = nn.param @W : tensor<7x3xf32>
  %b = nn.param @b : tensor<3xf32>
  %h0 = nn.constant 0.0 : tensor<2x3xf32>
  %hT, %ys = nn.scan inits(%h0) sequences(%xs) captures(%w, %b) {return_sequence}
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>, tensor<3xf32>)
      -> (tensor<2x3xf32>, tensor<2x3x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %wa: tensor<7x3xf32>, %ba: tensor<3xf32>):
    %z = nn.concat %h, %x : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
    %m = nn.matmul %z, %wa : tensor<2x7xf32>, tensor<7x3xf32> -> tensor<2x3xf32>
    %a = nn.add %m, %ba : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
    %h1 = nn.tanh %a : tensor<2x3xf32>
    nn.yield %h1, %h1 : tensor<2x3xf32>, tensor<2x3xf32>
  }
  %loss = nn.mse %ys, %t, %wt : tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// @forward itself is unchanged.
// CHECK-LABEL: func.func @forward(
// CHECK: nn.scan inits(%{{.*}}) sequences(%{{.*}}) captures(%{{.*}}, %{{.*}}) {return_sequence} :
// CHECK: nn.yield %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: return

// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: %[[XS:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[T:[a-z0-9]+]]: tensor<2x3x3xf32>, %[[WT:[a-z0-9]+]]: tensor<2xf32>)
// CHECK-SAME: -> (tensor<f32>, tensor<7x3xf32>, tensor<3xf32>)
// CHECK: %[[W:.*]] = nn.param @W : tensor<7x3xf32>
// CHECK: %[[B:.*]] = nn.param @b : tensor<3xf32>
// CHECK: %[[H0:.*]] = nn.constant 0.000000e+00 : tensor<2x3xf32>
// The forward scan again: final state, outputs, saved states, products.
// CHECK: %[[FWD:.*]]:4 = nn.scan inits(%[[H0]]) sequences(%[[XS]]) captures(%[[W]], %[[B]]) {residuals = 1 : i64, return_sequence, save_states} : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
// CHECK-NEXT: ^bb0(%[[FH:[a-z0-9]+]]: tensor<2x3xf32>, %[[FX:[a-z0-9]+]]: tensor<2x4xf32>, %[[FW:[a-z0-9]+]]: tensor<7x3xf32>, %[[FB:[a-z0-9]+]]: tensor<3xf32>):
// CHECK-NEXT: %[[FZ:.*]] = nn.concat %[[FH]], %[[FX]]
// CHECK-NEXT: %[[FM:.*]] = nn.matmul %[[FZ]], %[[FW]] : tensor<2x7xf32>, tensor<7x3xf32> -> tensor<2x3xf32>
// CHECK-NEXT: %[[FA:.*]] = nn.add %[[FM]], %[[FB]]
// CHECK-NEXT: %[[FH1:.*]] = nn.tanh %[[FA]]
// CHECK-NEXT: nn.yield %[[FH1]], %[[FH1]], %[[FM]] : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
// The loss reads the new scan's outputs.
// CHECK: %[[LOSS:.*]] = nn.mse %[[FWD]]#1, %[[T]], %[[WT]]
// CHECK: %[[DYS:.*]] = nn.mse_grad %[[FWD]]#1, %[[T]], %[[WT]], %{{.*}} : {{.*}} -> tensor<2x3x3xf32>
// The initial state gradient and the carried bias gradient start at zero.
// CHECK: %[[DH0:.*]] = nn.constant 0.000000e+00 : tensor<2x3xf32>
// CHECK: %[[DB0:.*]] = nn.constant 0.000000e+00 : tensor<3xf32>
// Sequences: saved states, inputs, output gradients, products. Captures:
// W, b, and W again as the kept product's matrix.
// CHECK: %[[REV:.*]]:5 = nn.scan inits(%[[DH0]], %[[DB0]]) sequences(%[[FWD]]#2, %[[XS]], %[[DYS]], %[[FWD]]#3) captures(%[[W]], %[[B]], %[[W]]) {return_sequence, reverse} : (tensor<2x3xf32>, tensor<3xf32>, tensor<2x3x3xf32>, tensor<2x3x4xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<7x3xf32>, tensor<3xf32>, tensor<7x3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<2x3x4xf32>, tensor<2x3x3xf32>, tensor<2x3x7xf32>) {
// CHECK-NEXT: ^bb0(%[[DH:[a-z0-9]+]]: tensor<2x3xf32>, %[[DB:[a-z0-9]+]]: tensor<3xf32>, %[[HT:[a-z0-9]+]]: tensor<2x3xf32>, %[[XT:[a-z0-9]+]]: tensor<2x4xf32>, %[[DYT:[a-z0-9]+]]: tensor<2x3xf32>, %[[MT:[a-z0-9]+]]: tensor<2x3xf32>, %[[WC:[a-z0-9]+]]: tensor<7x3xf32>, %[[BC:[a-z0-9]+]]: tensor<3xf32>, %[[WM:[a-z0-9]+]]: tensor<7x3xf32>):
// CHECK-NEXT: %[[Z:.*]] = nn.concat %[[HT]], %[[XT]] : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
// The kept product is read, not recomputed.
// CHECK-NOT: nn.matmul %{{[a-z0-9]+}}, %{{[a-z0-9]+}} :
// CHECK: %[[A:.*]] = nn.add %[[MT]], %[[BC]] : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
// CHECK-NOT: nn.matmul %{{[a-z0-9]+}}, %{{[a-z0-9]+}} :
// CHECK: %[[Y:.*]] = nn.tanh %[[A]]
// The state's gradient: from the next step plus this step's output.
// CHECK: %[[G:.*]] = nn.add %[[DH]], %[[DYT]] : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: %[[DA:.*]] = nn.mul %[[G]], %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK-NOT: nn.matmul %{{[a-z0-9]+}}, %{{[a-z0-9]+}} :
// CHECK: %[[DBSTEP:.*]] = nn.sum_to %[[DA]] : tensor<2x3xf32> -> tensor<3xf32>
// CHECK-NOT: nn.matmul %{{[a-z0-9]+}}, %{{[a-z0-9]+}} :
// CHECK: %[[DZ:.*]] = nn.matmul %[[DA]], %[[WM]] {transpose_b} : tensor<2x3xf32>, tensor<7x3xf32> -> tensor<2x7xf32>
// CHECK-NOT: nn.matmul %{{[a-z0-9]+}}, %{{[a-z0-9]+}} :
// CHECK: %[[DHP:.*]] = nn.slice %[[DZ]] {begin = 0 : i64} : tensor<2x7xf32> -> tensor<2x3xf32>
// CHECK: %[[DX:.*]] = nn.slice %[[DZ]] {begin = 3 : i64} : tensor<2x7xf32> -> tensor<2x4xf32>
// CHECK-NOT: nn.matmul %{{[a-z0-9]+}}, %{{[a-z0-9]+}} :
// CHECK: %[[DBN:.*]] = nn.add %[[DB]], %[[DBSTEP]] : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
// Yields: the state gradient, the carried bias gradient, the input
// gradient, the product gradient and the product's left operand.
// CHECK-NEXT: nn.yield %[[DHP]], %[[DBN]], %[[DX]], %[[DA]], %[[Z]] : tensor<2x3xf32>, tensor<3xf32>, tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x7xf32>
// CHECK-NEXT: }
// dW = concat(h, x)^T @ dproduct over all B*T rows.
// CHECK-NEXT: %[[DM:.*]] = nn.reshape %[[REV]]#3 : tensor<2x3x3xf32> -> tensor<6x3xf32>
// CHECK-NEXT: %[[ZS:.*]] = nn.reshape %[[REV]]#4 : tensor<2x3x7xf32> -> tensor<6x7xf32>
// CHECK-NEXT: %[[DW:.*]] = nn.matmul %[[ZS]], %[[DM]] {transpose_a} : tensor<6x7xf32>, tensor<6x3xf32> -> tensor<7x3xf32>
// CHECK-NEXT: return %[[LOSS]], %[[DW]], %[[REV]]#1 : tensor<f32>, tensor<7x3xf32>, tensor<3xf32>

// After canonicalization the replaced forward scan and the dead per-step
// weight gradient are gone: one forward scan, and the reverse scan's only
// product is the {transpose_b} one.
// CANON-LABEL: func.func @forward_grad(
// CANON: nn.scan {{.*}} {residuals = 1 : i64, return_sequence, save_states}
// CANON-NOT: nn.scan {{.*}} {return_sequence} :
// CANON: nn.scan {{.*}} {return_sequence, reverse}
// CANON-NOT: nn.matmul
// CANON: nn.matmul %{{.*}}, %{{.*}} {transpose_b} : tensor<2x3xf32>, tensor<7x3xf32> -> tensor<2x7xf32>
// CANON-NOT: nn.matmul
// CANON: nn.yield
// CANON: nn.matmul %{{.*}}, %{{.*}} {transpose_a} : tensor<6x7xf32>, tensor<6x3xf32> -> tensor<7x3xf32>
// CANON-NEXT: return

// -----

// The same cell, only the last output used (`.last`, no return_sequence):
// the gradient of the output enters the reverse scan at step T-1, as a
// tensor.insert_slice of the [B, H] gradient into a zero [B, T, H] sequence.

nn.parameter @W : tensor<7x3xf32> {init = "glorot_uniform", fan_in = 7 : i64, fan_out = 3 : i64}
nn.parameter @b : tensor<3xf32> {init = "zeros"}

func.func @forward(%xs: tensor<2x3x4xf32>, %y: tensor<2xi32>, %wt: tensor<2xf32>)
    -> tensor<f32> attributes {nn.num_inputs = 1 : i64} {
  %w = nn.param @W : tensor<7x3xf32>
  %b = nn.param @b : tensor<3xf32>
  %h0 = nn.constant 0.0 : tensor<2x3xf32>
  %hT, %last = nn.scan inits(%h0) sequences(%xs) captures(%w, %b)
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>, tensor<3xf32>)
      -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %wa: tensor<7x3xf32>, %ba: tensor<3xf32>):
    %z = nn.concat %h, %x : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
    %m = nn.matmul %z, %wa : tensor<2x7xf32>, tensor<7x3xf32> -> tensor<2x3xf32>
    %a = nn.add %m, %ba : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
    %h1 = nn.tanh %a : tensor<2x3xf32>
    nn.yield %h1, %h1 : tensor<2x3xf32>, tensor<2x3xf32>
  }
  %loss = nn.cross_entropy %last, %y, %wt : tensor<2x3xf32>, tensor<2xi32>, tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: %[[XS:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[Y:[a-z0-9]+]]: tensor<2xi32>, %[[WT:[a-z0-9]+]]: tensor<2xf32>)
// CHECK: %[[W:.*]] = nn.param @W
// CHECK: %[[B:.*]] = nn.param @b
// The outputs stay [B, H]; the saved states and products are sequences.
// CHECK: %[[FWD:.*]]:4 = nn.scan inits(%{{.*}}) sequences(%[[XS]]) captures(%[[W]], %[[B]]) {residuals = 1 : i64, save_states} : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
// CHECK: nn.yield %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: %[[LOSS:.*]] = nn.cross_entropy %[[FWD]]#1, %[[Y]], %[[WT]]
// CHECK: %[[DLAST:.*]] = nn.cross_entropy_grad %[[FWD]]#1, %[[Y]], %[[WT]], %{{.*}} : {{.*}} -> tensor<2x3xf32>
// CHECK: %[[DH0:.*]] = nn.constant 0.000000e+00 : tensor<2x3xf32>
// CHECK: %[[ZEROS:.*]] = nn.constant 0.000000e+00 : tensor<2x3x3xf32>
// CHECK: %[[DYS:.*]] = tensor.insert_slice %[[DLAST]] into %[[ZEROS]][0, 2, 0] [2, 1, 3] [1, 1, 1] : tensor<2x3xf32> into tensor<2x3x3xf32>
// CHECK: %[[DB0:.*]] = nn.constant 0.000000e+00 : tensor<3xf32>
// CHECK: %[[REV:.*]]:5 = nn.scan inits(%[[DH0]], %[[DB0]]) sequences(%[[FWD]]#2, %[[XS]], %[[DYS]], %[[FWD]]#3) captures(%[[W]], %[[B]], %[[W]]) {return_sequence, reverse}
// CHECK: nn.sum_to
// CHECK: nn.matmul %{{.*}}, %{{.*}} {transpose_b} : tensor<2x3xf32>, tensor<7x3xf32> -> tensor<2x7xf32>
// CHECK: nn.yield
// CHECK: %[[DM:.*]] = nn.reshape %[[REV]]#3 : tensor<2x3x3xf32> -> tensor<6x3xf32>
// CHECK: %[[ZS:.*]] = nn.reshape %[[REV]]#4 : tensor<2x3x7xf32> -> tensor<6x7xf32>
// CHECK: %[[DW:.*]] = nn.matmul %[[ZS]], %[[DM]] {transpose_a} : tensor<6x7xf32>, tensor<6x3xf32> -> tensor<7x3xf32>
// CHECK: return %[[LOSS]], %[[DW]], %[[REV]]#1 : tensor<f32>, tensor<7x3xf32>, tensor<3xf32>

// CANON-LABEL: func.func @forward_grad(
// CANON: tensor.insert_slice %{{.*}} into %{{.*}}[0, 2, 0] [2, 1, 3] [1, 1, 1]
// CANON: nn.scan {{.*}} {return_sequence, reverse}
// CANON-NOT: nn.matmul
// CANON: nn.matmul %{{.*}}, %{{.*}} {transpose_b}
// CANON-NOT: nn.matmul
// CANON: nn.yield

// -----

// A scan walked backwards (`reverse`) with two products whose left operands
// are the state and the sequence step, h' = tanh(x @ Wx + h @ Wh), `.last`:
// two residuals; the `.last` gradient enters at step 0 (the reversed scan's
// last step) and the gradient scan runs forwards. The weight gradients read
// their left operands from the input sequence and the saved states, so the
// reverse scan emits nothing for them.

nn.parameter @Wx : tensor<4x3xf32> {init = "glorot_uniform", fan_in = 4 : i64, fan_out = 3 : i64}
nn.parameter @Wh : tensor<3x3xf32> {init = "glorot_uniform", fan_in = 3 : i64, fan_out = 3 : i64}

func.func @forward(%xs: tensor<2x3x4xf32>, %y: tensor<2xi32>, %wt: tensor<2xf32>)
    -> tensor<f32> attributes {nn.num_inputs = 1 : i64} {
  %wx = nn.param @Wx : tensor<4x3xf32>
  %wh = nn.param @Wh : tensor<3x3xf32>
  %h0 = nn.constant 0.0 : tensor<2x3xf32>
  %hT, %last = nn.scan inits(%h0) sequences(%xs) captures(%wx, %wh) {reverse}
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<4x3xf32>, tensor<3x3xf32>)
      -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %wxa: tensor<4x3xf32>, %wha: tensor<3x3xf32>):
    %p = nn.matmul %x, %wxa : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
    %q = nn.matmul %h, %wha : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
    %a = nn.add %p, %q : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %h1 = nn.tanh %a : tensor<2x3xf32>
    nn.yield %h1, %h1 : tensor<2x3xf32>, tensor<2x3xf32>
  }
  %loss = nn.cross_entropy %last, %y, %wt : tensor<2x3xf32>, tensor<2xi32>, tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: %[[XS:[a-z0-9]+]]: tensor<2x3x4xf32>
// CHECK-SAME: -> (tensor<f32>, tensor<4x3xf32>, tensor<3x3xf32>)
// CHECK: %[[WX:.*]] = nn.param @Wx
// CHECK: %[[WH:.*]] = nn.param @Wh
// CHECK: %[[FWD:.*]]:5 = nn.scan inits(%{{.*}}) sequences(%[[XS]]) captures(%[[WX]], %[[WH]]) {residuals = 2 : i64, reverse, save_states}
// CHECK: %[[P:.*]] = nn.matmul
// CHECK: %[[Q:.*]] = nn.matmul
// CHECK: nn.yield %{{.*}}, %{{.*}}, %[[P]], %[[Q]] : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: %[[DLAST:.*]] = nn.cross_entropy_grad
// CHECK: %[[DYS:.*]] = tensor.insert_slice %[[DLAST]] into %{{.*}}[0, 0, 0] [2, 1, 3] [1, 1, 1] : tensor<2x3xf32> into tensor<2x3x3xf32>
// No capture is carried (both are only products' matrices): one init, no
// bias gradient; the outputs are dh0, dxs and the two product gradients.
// CHECK: %[[REV:.*]]:4 = nn.scan inits(%{{.*}}) sequences(%[[FWD]]#2, %[[XS]], %[[DYS]], %[[FWD]]#3, %[[FWD]]#4) captures(%[[WX]], %[[WH]], %[[WX]], %[[WH]]) {return_sequence} : ({{.*}}) -> (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
// CHECK-NOT: nn.matmul %{{[a-z0-9]+}}, %{{[a-z0-9]+}} :
// CHECK: nn.yield
// CHECK-NEXT: }
// dWx = xs^T @ dp, dWh = saved_states^T @ dq.
// CHECK-NEXT: %[[DP:.*]] = nn.reshape %[[REV]]#2 : tensor<2x3x3xf32> -> tensor<6x3xf32>
// CHECK-NEXT: %[[X2:.*]] = nn.reshape %[[XS]] : tensor<2x3x4xf32> -> tensor<6x4xf32>
// CHECK-NEXT: %[[DWX:.*]] = nn.matmul %[[X2]], %[[DP]] {transpose_a} : tensor<6x4xf32>, tensor<6x3xf32> -> tensor<4x3xf32>
// CHECK-NEXT: %[[DQ:.*]] = nn.reshape %[[REV]]#3 : tensor<2x3x3xf32> -> tensor<6x3xf32>
// CHECK-NEXT: %[[HS:.*]] = nn.reshape %[[FWD]]#2 : tensor<2x3x3xf32> -> tensor<6x3xf32>
// CHECK-NEXT: %[[DWH:.*]] = nn.matmul %[[HS]], %[[DQ]] {transpose_a} : tensor<6x3xf32>, tensor<6x3xf32> -> tensor<3x3xf32>
// CHECK-NEXT: return %{{.*}}, %[[DWX]], %[[DWH]] : tensor<f32>, tensor<4x3xf32>, tensor<3x3xf32>

// CANON-LABEL: func.func @forward_grad(
// CANON: nn.scan {{.*}} {residuals = 2 : i64, reverse, save_states}
// CANON: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0] [2, 1, 3] [1, 1, 1]
// CANON: nn.scan {{.*}} {return_sequence} :
// CANON-NOT: nn.matmul
// CANON: nn.matmul %{{.*}}, %{{.*}} {transpose_b} : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
// CANON-NOT: nn.matmul
// CANON: nn.matmul %{{.*}}, %{{.*}} {transpose_b} : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<2x4xf32>
// CANON-NOT: nn.matmul
// CANON: nn.yield

// -----

// A scan that already saves its states and multiplies by no captured
// matrix: the forward scan is kept as it is (no residuals, no second
// forward scan) and the reverse scan reads its saved states. The captured
// vector u (an elementwise weight, like a peephole) has its gradient
// carried from step to step.

nn.parameter @u : tensor<3xf32> {init = "ones"}

func.func @forward(%xs: tensor<2x3x3xf32>, %t: tensor<2x3xf32>, %wt: tensor<2xf32>)
    -> tensor<f32> attributes {nn.num_inputs = 1 : i64} {
  %u = nn.param @u : tensor<3xf32>
  %h0 = nn.constant 0.0 : tensor<2x3xf32>
  %r:3 = nn.scan inits(%h0) sequences(%xs) captures(%u) {save_states}
      : (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<3xf32>)
      -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x3xf32>, %ua: tensor<3xf32>):
    %m = nn.mul %h, %ua : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
    %a = nn.add %m, %x : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %h1 = nn.tanh %a : tensor<2x3xf32>
    nn.yield %h1, %h1 : tensor<2x3xf32>, tensor<2x3xf32>
  }
  %loss = nn.mse %r#1, %t, %wt : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: %[[XS:[a-z0-9]+]]: tensor<2x3x3xf32>
// CHECK: %[[U:.*]] = nn.param @u
// CHECK: %[[FWD:.*]]:3 = nn.scan inits(%{{.*}}) sequences(%[[XS]]) captures(%[[U]]) {save_states} :
// CHECK-NOT: nn.scan
// CHECK: %[[DLAST:.*]] = nn.mse_grad %[[FWD]]#1
// CHECK: %[[DYS:.*]] = tensor.insert_slice %[[DLAST]] into %{{.*}}[0, 2, 0] [2, 1, 3] [1, 1, 1]
// CHECK: %[[DU0:.*]] = nn.constant 0.000000e+00 : tensor<3xf32>
// CHECK: %[[REV:.*]]:3 = nn.scan inits(%{{.*}}, %[[DU0]]) sequences(%[[FWD]]#2, %[[XS]], %[[DYS]]) captures(%[[U]]) {return_sequence, reverse} : (tensor<2x3xf32>, tensor<3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<2x3x3xf32>) {
// CHECK-NEXT: ^bb0(%[[DH:[a-z0-9]+]]: tensor<2x3xf32>, %[[DU:[a-z0-9]+]]: tensor<3xf32>, %[[HT:[a-z0-9]+]]: tensor<2x3xf32>, %[[XT:[a-z0-9]+]]: tensor<2x3xf32>, %[[DYT:[a-z0-9]+]]: tensor<2x3xf32>, %[[UA:[a-z0-9]+]]: tensor<3xf32>):
// The step is recomputed from the saved state.
// CHECK-NEXT: %[[M:.*]] = nn.mul %[[HT]], %[[UA]]
// CHECK: %[[G:.*]] = nn.add %[[DH]], %[[DYT]] : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: %[[DA:.*]] = nn.mul %[[G]], %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
// dh = da * u, du = sum_to(da * h), added to the carried du.
// CHECK-NEXT: %[[DHP:.*]] = nn.mul %[[DA]], %[[UA]] : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
// CHECK-NEXT: %[[P:.*]] = nn.mul %[[DA]], %[[HT]] : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK-NEXT: %[[S:.*]] = nn.sum_to %[[P]] : tensor<2x3xf32> -> tensor<3xf32>
// CHECK-NEXT: %[[DUN:.*]] = nn.add %[[DU]], %[[S]] : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
// CHECK-NEXT: nn.yield %[[DHP]], %[[DUN]], %[[DA]] : tensor<2x3xf32>, tensor<3xf32>, tensor<2x3xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return %{{.*}}, %[[REV]]#1 : tensor<f32>, tensor<3xf32>
