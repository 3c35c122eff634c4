// Every verifier of the nn dialect (NNOps.cpp) and the ODS type constraints
// reject bad IR with their message.
// RUN: %nnc-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{parameter type must be a statically shaped f32 tensor}}
nn.parameter @w : tensor<4x8xf64> {init = "zeros"}

// -----

// expected-error @+1 {{a stack of copies is [N, ...] with N names and N streams}}
nn.parameter @w : tensor<3x4xf32> {init = "zeros", copies = ["a", "b"], streams = array<i64: 1, 2>}

// -----

// expected-error @+1 {{copies and streams go together}}
nn.parameter @w : tensor<2x4xf32> {init = "zeros", copies = ["a", "b"]}

// -----

// expected-error @+1 {{the streams of a stack's copies must step evenly}}
nn.parameter @w : tensor<3x4xf32> {init = "zeros", copies = ["a", "b", "c"], streams = array<i64: 1, 2, 4>}

// -----

// expected-error @+1 {{parameter type must be a statically shaped f32 tensor}}
nn.parameter @w : tensor<?x8xf32> {init = "zeros"}

// -----

// expected-error @+1 {{parameter type must be a statically shaped f32 tensor}}
nn.parameter @w : memref<4xf32> {init = "zeros"}

// -----

// expected-error @+1 {{unknown initializer 'xavier'}}
nn.parameter @w : tensor<4x8xf32> {init = "xavier"}

// -----

// expected-error @+1 {{requires attribute 'init'}}
nn.parameter @w : tensor<4x8xf32>

// -----

func.func @not_in_module() {
  // expected-error @+1 {{'nn.parameter' op expects parent op 'builtin.module'}}
  nn.parameter @w : tensor<4xf32> {init = "zeros"}
  return
}

// -----

func.func @undeclared() -> tensor<4xf32> {
  // expected-error @+1 {{'nn.param' op 'missing' is not an nn.parameter}}
  %0 = nn.param @missing : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @not_a_parameter() -> tensor<4xf32> {
  // expected-error @+1 {{'nn.param' op 'not_a_parameter' is not an nn.parameter}}
  %0 = nn.param @not_a_parameter : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

nn.parameter @w : tensor<4x8xf32> {init = "zeros"}
func.func @wrong_type() -> tensor<8x4xf32> {
  // expected-error @+1 {{'nn.param' op type 'tensor<8x4xf32>' does not match parameter type 'tensor<4x8xf32>'}}
  %0 = nn.param @w : tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @param_i32() -> tensor<4xi32> {
  // expected-error @+1 {{'nn.param' op result #0 must be ranked tensor of 32-bit float values}}
  %0 = nn.param @w : tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

func.func @constant_f64() -> tensor<4xf64> {
  // expected-error @+1 {{'nn.constant' op result #0 must be ranked tensor of 32-bit float values}}
  %0 = nn.constant 1.0 : tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @broadcast_bad(%x: tensor<3xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'nn.broadcast_to' op cannot broadcast [3] to [4, 8]}}
  %0 = nn.broadcast_to %x : tensor<3xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @broadcast_to_smaller_rank(%x: tensor<4x8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'nn.broadcast_to' op cannot broadcast [4, 8] to [8]}}
  %0 = nn.broadcast_to %x : tensor<4x8xf32> -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @broadcast_unranked(%x: tensor<*xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'nn.broadcast_to' op operand #0 must be ranked tensor of 32-bit float values}}
  %0 = nn.broadcast_to %x : tensor<*xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @sum_to_bad(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'nn.sum_to' op cannot sum [4, 8] to [4]: the result must broadcast to the input}}
  %0 = nn.sum_to %x : tensor<4x8xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @sum_to_larger(%x: tensor<8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'nn.sum_to' op cannot sum [8] to [4, 8]: the result must broadcast to the input}}
  %0 = nn.sum_to %x : tensor<8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @reshape_bad(%x: tensor<8x4xf32>) -> tensor<31xf32> {
  // expected-error @+1 {{'nn.reshape' op cannot reshape [8, 4] to [31]: element counts differ}}
  %0 = nn.reshape %x : tensor<8x4xf32> -> tensor<31xf32>
  return %0 : tensor<31xf32>
}

// -----

func.func @matmul_rank(%x: tensor<8xf32>, %w: tensor<8x4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'nn.matmul' op expects rank-2 operands and result}}
  %0 = nn.matmul %x, %w : tensor<8xf32>, tensor<8x4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @matmul_rank_result(%x: tensor<2x8xf32>, %w: tensor<8x4xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'nn.matmul' op expects rank-2 operands and result}}
  %0 = nn.matmul %x, %w : tensor<2x8xf32>, tensor<8x4xf32> -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @matmul_inner(%x: tensor<8x4xf32>, %w: tensor<5x8xf32>) -> tensor<8x8xf32> {
  // expected-error @+1 {{'nn.matmul' op inner dimensions differ: 4 and 5}}
  %0 = nn.matmul %x, %w : tensor<8x4xf32>, tensor<5x8xf32> -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}

// -----

// transpose_b reads rhs [N, K]: K is its second dimension.
func.func @matmul_inner_tb(%x: tensor<8x4xf32>, %w: tensor<4x8xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'nn.matmul' op inner dimensions differ: 4 and 8}}
  %0 = nn.matmul %x, %w {transpose_b} : tensor<8x4xf32>, tensor<4x8xf32> -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

// transpose_a reads lhs [K, M]: K is its first dimension.
func.func @matmul_inner_ta(%x: tensor<8x4xf32>, %w: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'nn.matmul' op inner dimensions differ: 8 and 4}}
  %0 = nn.matmul %x, %w {transpose_a} : tensor<8x4xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @matmul_result(%x: tensor<8x4xf32>, %w: tensor<4x3xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'nn.matmul' op result must be [8, 3], got [8, 4]}}
  %0 = nn.matmul %x, %w : tensor<8x4xf32>, tensor<4x3xf32> -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @matmul_result_transposed(%x: tensor<4x8xf32>, %w: tensor<3x4xf32>) -> tensor<3x8xf32> {
  // expected-error @+1 {{'nn.matmul' op result must be [8, 3], got [3, 8]}}
  %0 = nn.matmul %x, %w {transpose_a, transpose_b} : tensor<4x8xf32>, tensor<3x4xf32> -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

func.func @matmul_i32(%x: tensor<8x4xi32>, %w: tensor<4x3xf32>) -> tensor<8x3xf32> {
  // expected-error @+1 {{'nn.matmul' op operand #0 must be ranked tensor of 32-bit float values}}
  %0 = nn.matmul %x, %w : tensor<8x4xi32>, tensor<4x3xf32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// -----

func.func @add_no_broadcast(%a: tensor<8x3xf32>, %b: tensor<4xf32>) -> tensor<8x3xf32> {
  // expected-error @+1 {{'nn.add' op operand shapes [8, 3] and [4] do not broadcast}}
  %0 = nn.add %a, %b : tensor<8x3xf32>, tensor<4xf32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// -----

func.func @add_result(%a: tensor<8x3xf32>, %b: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'nn.add' op result must have the broadcast shape [8, 3], got [3]}}
  %0 = nn.add %a, %b : tensor<8x3xf32>, tensor<3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @sub_no_broadcast(%a: tensor<2x3xf32>, %b: tensor<3x3xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{'nn.sub' op operand shapes [2, 3] and [3, 3] do not broadcast}}
  %0 = nn.sub %a, %b : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @mul_result(%a: tensor<8x1xf32>, %b: tensor<3xf32>) -> tensor<8x1xf32> {
  // expected-error @+1 {{'nn.mul' op result must have the broadcast shape [8, 3], got [8, 1]}}
  %0 = nn.mul %a, %b : tensor<8x1xf32>, tensor<3xf32> -> tensor<8x1xf32>
  return %0 : tensor<8x1xf32>
}

// -----

func.func @div_no_broadcast(%a: tensor<5xf32>, %b: tensor<3xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{'nn.div' op operand shapes [5] and [3] do not broadcast}}
  %0 = nn.div %a, %b : tensor<5xf32>, tensor<3xf32> -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @div_result(%a: tensor<5xf32>, %b: tensor<5xf32>) -> tensor<1x5xf32> {
  // expected-error @+1 {{'nn.div' op result must have the broadcast shape [5], got [1, 5]}}
  %0 = nn.div %a, %b : tensor<5xf32>, tensor<5xf32> -> tensor<1x5xf32>
  return %0 : tensor<1x5xf32>
}

// -----

func.func @add_f16(%a: tensor<3xf16>, %b: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'nn.add' op operand #0 must be ranked tensor of 32-bit float values}}
  %0 = nn.add %a, %b : tensor<3xf16>, tensor<3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @unary_type_mismatch(%x: tensor<8x8xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'nn.relu' op requires the same type for all operands and results}}
  %0 = "nn.relu"(%x) : (tensor<8x8xf32>) -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @unary_f64(%x: tensor<8xf64>) -> tensor<8xf64> {
  // expected-error @+1 {{'nn.exp' op operand #0 must be ranked tensor of 32-bit float values}}
  %0 = nn.exp %x : tensor<8xf64>
  return %0 : tensor<8xf64>
}

// -----

func.func @softmax_type_mismatch(%x: tensor<8x3xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'nn.softmax' op requires the same type for all operands and results}}
  %0 = "nn.softmax"(%x) : (tensor<8x3xf32>) -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @ce_logits_rank(%l: tensor<8xf32>, %y: tensor<8xi32>, %w: tensor<8xf32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.cross_entropy' op logits must be [N, C], got [8]}}
  %0 = nn.cross_entropy %l, %y, %w : tensor<8xf32>, tensor<8xi32>, tensor<8xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @loss_weight_rank(%w: tensor<8x2xf32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.loss_weight' op weights must be [N], got [8, 2]}}
  %0 = nn.loss_weight %w : tensor<8x2xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @loss_weight_labels(%w: tensor<8xf32>, %y: tensor<4xi32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.loss_weight' op labels must be [8], got [4]}}
  %0 = nn.loss_weight %w, %y : tensor<8xf32>, tensor<4xi32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_labels(%l: tensor<8x3xf32>, %y: tensor<4xi32>, %w: tensor<8xf32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.cross_entropy' op labels must be [8], got [4]}}
  %0 = nn.cross_entropy %l, %y, %w : tensor<8x3xf32>, tensor<4xi32>, tensor<8xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_labels_rank(%l: tensor<8x3xf32>, %y: tensor<8x1xi32>, %w: tensor<8xf32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.cross_entropy' op labels must be [8], got [8, 1]}}
  %0 = nn.cross_entropy %l, %y, %w : tensor<8x3xf32>, tensor<8x1xi32>, tensor<8xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_weights(%l: tensor<8x3xf32>, %y: tensor<8xi32>, %w: tensor<3xf32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.cross_entropy' op weights must be [8], got [3]}}
  %0 = nn.cross_entropy %l, %y, %w : tensor<8x3xf32>, tensor<8xi32>, tensor<3xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_float_labels(%l: tensor<8x3xf32>, %y: tensor<8xf32>, %w: tensor<8xf32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.cross_entropy' op operand #1 must be ranked tensor of 32-bit signless integer values}}
  %0 = nn.cross_entropy %l, %y, %w : tensor<8x3xf32>, tensor<8xf32>, tensor<8xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @ce_non_scalar(%l: tensor<8x3xf32>, %y: tensor<8xi32>, %w: tensor<8xf32>) -> tensor<1xf32> {
  // expected-error @+1 {{'nn.cross_entropy' op result #0 must be 0D tensor of 32-bit float values}}
  %0 = nn.cross_entropy %l, %y, %w : tensor<8x3xf32>, tensor<8xi32>, tensor<8xf32> -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

// -----

func.func @mse_types(%p: tensor<8x3xf32>, %t: tensor<8x2xf32>, %w: tensor<8xf32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.mse' op prediction and target types differ}}
  %0 = nn.mse %p, %t, %w : tensor<8x3xf32>, tensor<8x2xf32>, tensor<8xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @mse_weights(%p: tensor<8x3xf32>, %t: tensor<8x3xf32>, %w: tensor<3xf32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.mse' op weights must be one per row of the prediction}}
  %0 = nn.mse %p, %t, %w : tensor<8x3xf32>, tensor<8x3xf32>, tensor<3xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @mse_scalar_pred(%p: tensor<f32>, %t: tensor<f32>, %w: tensor<1xf32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.mse' op weights must be one per row of the prediction}}
  %0 = nn.mse %p, %t, %w : tensor<f32>, tensor<f32>, tensor<1xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @mse_non_scalar(%p: tensor<8x3xf32>, %t: tensor<8x3xf32>, %w: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'nn.mse' op result #0 must be 0D tensor of 32-bit float values}}
  %0 = nn.mse %p, %t, %w : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8xf32> -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @relu_grad_types(%x: tensor<8x3xf32>, %dy: tensor<8x4xf32>) -> tensor<8x3xf32> {
  // expected-error @+1 {{'nn.relu_grad' op requires the same type for all operands and results}}
  %0 = "nn.relu_grad"(%x, %dy) : (tensor<8x3xf32>, tensor<8x4xf32>) -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// -----

func.func @softmax_grad_types(%y: tensor<8x3xf32>, %dy: tensor<8x3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'nn.softmax_grad' op requires the same type for all operands and results}}
  %0 = "nn.softmax_grad"(%y, %dy) : (tensor<8x3xf32>, tensor<8x3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @log_softmax_grad_types(%y: tensor<8x3xf32>, %dy: tensor<4x3xf32>) -> tensor<8x3xf32> {
  // expected-error @+1 {{'nn.log_softmax_grad' op requires the same type for all operands and results}}
  %0 = "nn.log_softmax_grad"(%y, %dy) : (tensor<8x3xf32>, tensor<4x3xf32>) -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// -----

func.func @ce_grad_scalar(%l: tensor<8x3xf32>, %y: tensor<8xi32>, %w: tensor<8xf32>, %d: tensor<1xf32>) -> tensor<8x3xf32> {
  // expected-error @+1 {{'nn.cross_entropy_grad' op operand #3 must be 0D tensor of 32-bit float values}}
  %0 = nn.cross_entropy_grad %l, %y, %w, %d : tensor<8x3xf32>, tensor<8xi32>, tensor<8xf32>, tensor<1xf32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// -----

func.func @mse_grad_scalar(%p: tensor<8x3xf32>, %t: tensor<8x3xf32>, %w: tensor<8xf32>, %d: tensor<8xf32>) -> tensor<8x3xf32> {
  // expected-error @+1 {{'nn.mse_grad' op operand #3 must be 0D tensor of 32-bit float values}}
  %0 = nn.mse_grad %p, %t, %w, %d : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8xf32>, tensor<8xf32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// -----

func.func @random_seed_i32(%s: i32) -> tensor<4xf32> {
  // expected-error @+1 {{'nn.random_uniform' op operand #0 must be 64-bit signless integer}}
  %0 = "nn.random_uniform"(%s) {low = 0.0 : f32, high = 1.0 : f32, stream = 1 : i64} : (i32) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @random_missing_attr(%s: i64) -> tensor<4xf32> {
  // expected-error @+1 {{'nn.random_uniform' op requires attribute 'stream'}}
  %0 = nn.random_uniform %s {low = 0.0 : f32, high = 1.0 : f32} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @random_normal_missing_attr(%s: i64) -> tensor<4xf32> {
  // expected-error @+1 {{'nn.random_normal' op requires attribute 'stddev'}}
  %0 = nn.random_normal %s {mean = 0.0 : f32, stream = 1 : i64} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @update_grad_type(%p: tensor<4xf32>, %g: tensor<5xf32>, %v: tensor<4xf32>, %lr: f32) -> tensor<4xf32> {
  // expected-error @+1 {{'nn.optimizer_update' op failed to verify that all of {param, grad} have same type}}
  %0:2 = "nn.optimizer_update"(%p, %g, %v, %lr, %lr, %lr) {kind = "sgd", hyper = {momentum = 0.0 : f32}} : (tensor<4xf32>, tensor<5xf32>, tensor<4xf32>, f32, f32, f32) -> (tensor<4xf32>, tensor<4xf32>)
  return %0#0 : tensor<4xf32>
}

// -----

func.func @update_lr_type(%p: tensor<4xf32>, %lr: f64, %t: f32) -> tensor<4xf32> {
  // expected-error @+1 {{'nn.optimizer_update' op operand #3 must be 32-bit float}}
  %0:2 = "nn.optimizer_update"(%p, %p, %p, %lr, %t, %t) {kind = "sgd", hyper = {momentum = 0.0 : f32}} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, f64, f32, f32) -> (tensor<4xf32>, tensor<4xf32>)
  return %0#0 : tensor<4xf32>
}

// -----

func.func @update_state_type(%p: tensor<4xf32>, %m: tensor<8xf32>, %lr: f32) -> tensor<4xf32> {
  // expected-error @+1 {{'nn.optimizer_update' op state type 'tensor<8xf32>' differs from the parameter's 'tensor<4xf32>'}}
  %0:3 = nn.optimizer_update "adam" %p, %p, [%m, %p], %lr, %lr, %lr {beta1 = 0.9 : f32, beta2 = 0.999 : f32, epsilon = 1.0e-07 : f32} : tensor<4xf32>, [tensor<8xf32>, tensor<4xf32>]
  return %0#0 : tensor<4xf32>
}

// -----

func.func @update_missing_hyper(%p: tensor<4xf32>, %lr: f32) -> tensor<4xf32> {
  // expected-error @+1 {{'nn.optimizer_update' op adam needs an f32 'epsilon' in hyper}}
  %0:3 = nn.optimizer_update "adam" %p, %p, [%p, %p], %lr, %lr, %lr {beta1 = 0.9 : f32, beta2 = 0.999 : f32} : tensor<4xf32>, [tensor<4xf32>, tensor<4xf32>]
  return %0#0 : tensor<4xf32>
}

// -----

func.func @update_extra_hyper(%p: tensor<4xf32>, %lr: f32) -> tensor<4xf32> {
  // expected-error @+1 {{'nn.optimizer_update' op sgd takes 1 compiled-in hyperparameter(s), got 2}}
  %0:2 = nn.optimizer_update "sgd" %p, %p, [%p], %lr, %lr, %lr {momentum = 0.0 : f32, rho = 0.9 : f32} : tensor<4xf32>, [tensor<4xf32>]
  return %0#0 : tensor<4xf32>
}

// -----

func.func @update_slots(%p: tensor<4xf32>, %lr: f32) -> tensor<4xf32> {
  // expected-error @+1 {{'nn.optimizer_update' op adam keeps 2 state slot(s), got 1}}
  %0:2 = nn.optimizer_update "adam" %p, %p, [%p], %lr, %lr, %lr {beta1 = 0.9 : f32, beta2 = 0.999 : f32, epsilon = 1.0e-07 : f32} : tensor<4xf32>, [tensor<4xf32>]
  return %0#0 : tensor<4xf32>
}

// -----

func.func @update_unknown(%p: tensor<4xf32>, %lr: f32) -> tensor<4xf32> {
  // expected-error @+1 {{'nn.optimizer_update' op unknown optimizer 'adagrad'; expected sgd, adam}}
  %0:2 = nn.optimizer_update "adagrad" %p, %p, [%p], %lr, %lr, %lr {} : tensor<4xf32>, [tensor<4xf32>]
  return %0#0 : tensor<4xf32>
}
