// RUN: %nnc-opt %s -split-input-file --nn-generate-backward | FileCheck %s
// RUN: %nnc-opt %s -split-input-file --nn-generate-backward | %nnc-opt -split-input-file -verify-each

// A two-layer classifier (the iris model's shape): matmul, broadcast add,
// relu and softmax cross-entropy. @forward stays; @forward_grad returns the
// forward results and then one gradient per parameter, in declaration order.

nn.parameter @"h1.W" : tensor<4x8xf32> {init = "glorot_uniform", fan_in = 4 : i64, fan_out = 8 : i64}
nn.parameter @"h1.b" : tensor<8xf32> {init = "zeros"}
nn.parameter @"out.W" : tensor<8x3xf32> {init = "glorot_uniform", fan_in = 8 : i64, fan_out = 3 : i64}
nn.parameter @"out.b" : tensor<3xf32> {init = "zeros"}

func.func @forward(%x: tensor<2x4xf32>, %y: tensor<2xi32>, %w: tensor<2xf32>)
    -> (tensor<f32>, tensor<2x3xf32>) attributes {nn.num_inputs = 1 : i64} {
  %w1 = nn.param @"h1.W" : tensor<4x8xf32>
  %b1 = nn.param @"h1.b" : tensor<8xf32>
  %w2 = nn.param @"out.W" : tensor<8x3xf32>
  %b2 = nn.param @"out.b" : tensor<3xf32>
  %0 = nn.matmul %x, %w1 : tensor<2x4xf32>, tensor<4x8xf32> -> tensor<2x8xf32>
  %1 = nn.add %0, %b1 : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  %h = nn.relu %1 : tensor<2x8xf32>
  %2 = nn.matmul %h, %w2 : tensor<2x8xf32>, tensor<8x3xf32> -> tensor<2x3xf32>
  %logits = nn.add %2, %b2 : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %probs = nn.softmax %logits : tensor<2x3xf32>
  %loss = nn.cross_entropy %logits, %y, %w : tensor<2x3xf32>, tensor<2xi32>, tensor<2xf32> -> tensor<f32>
  return %loss, %probs : tensor<f32>, tensor<2x3xf32>
}

// The original is kept unchanged.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: -> (tensor<f32>, tensor<2x3xf32>)
// CHECK-NOT: _grad
// CHECK: return

// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x4xf32>, %[[Y:[a-z0-9]+]]: tensor<2xi32>, %[[W:[a-z0-9]+]]: tensor<2xf32>)
// CHECK-SAME: -> (tensor<f32>, tensor<2x3xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<8x3xf32>, tensor<3xf32>)
// CHECK-SAME: attributes {nn.num_inputs = 1 : i64}
// CHECK: %[[W1:.*]] = nn.param @h1.W
// CHECK: %[[W2:.*]] = nn.param @out.W
// CHECK: %[[MM1:.*]] = nn.matmul %[[X]], %[[W1]] :
// CHECK: %[[PRE:.*]] = nn.add %[[MM1]],
// CHECK: %[[H:.*]] = nn.relu %[[PRE]]
// CHECK: %[[LOGITS:.*]] = nn.add
// CHECK: %[[PROBS:.*]] = nn.softmax %[[LOGITS]]
// CHECK: %[[LOSS:.*]] = nn.cross_entropy %[[LOGITS]], %[[Y]], %[[W]]
// The seed of the backward sweep: dloss/dloss = 1.
// CHECK: %[[ONE:.*]] = nn.constant 1.000000e+00 : tensor<f32>
// CHECK: %[[DLOGITS:.*]] = nn.cross_entropy_grad %[[LOGITS]], %[[Y]], %[[W]], %[[ONE]] : tensor<2x3xf32>, tensor<2xi32>, tensor<2xf32>, tensor<f32> -> tensor<2x3xf32>
// The bias was broadcast over the batch: its gradient is summed back.
// CHECK: %[[DB2:.*]] = nn.sum_to %[[DLOGITS]] : tensor<2x3xf32> -> tensor<3xf32>
// dh = dlogits * W2^T, dW2 = h^T * dlogits, without transposes.
// CHECK: %[[DH:.*]] = nn.matmul %[[DLOGITS]], %[[W2]] {transpose_b} : tensor<2x3xf32>, tensor<8x3xf32> -> tensor<2x8xf32>
// CHECK: %[[DW2:.*]] = nn.matmul %[[H]], %[[DLOGITS]] {transpose_a} : tensor<2x8xf32>, tensor<2x3xf32> -> tensor<8x3xf32>
// CHECK: %[[DPRE:.*]] = nn.relu_grad %[[PRE]], %[[DH]] : tensor<2x8xf32>
// CHECK: %[[DB1:.*]] = nn.sum_to %[[DPRE]] : tensor<2x8xf32> -> tensor<8xf32>
// CHECK: %[[DW1:.*]] = nn.matmul %[[X]], %[[DPRE]] {transpose_a} : tensor<2x4xf32>, tensor<2x8xf32> -> tensor<4x8xf32>
// CHECK: return %[[LOSS]], %[[PROBS]], %[[DW1]], %[[DB1]], %[[DW2]], %[[DB2]] :
// The softmax output is not on the loss's path: no softmax_grad.
// CHECK-NOT: nn.softmax_grad

// -----

// A parameter read twice: the gradients of both reads are added.
nn.parameter @w : tensor<3xf32> {init = "ones"}

func.func @forward(%x: tensor<2x3xf32>, %t: tensor<2x3xf32>, %wt: tensor<2xf32>)
    -> tensor<f32> attributes {nn.num_inputs = 1 : i64} {
  %a = nn.param @w : tensor<3xf32>
  %0 = nn.mul %x, %a : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %b = nn.param @w : tensor<3xf32>
  %1 = nn.add %0, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %loss = nn.mse %1, %t, %wt : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3xf32>, %[[T:[a-z0-9]+]]: tensor<2x3xf32>, %[[WT:[a-z0-9]+]]: tensor<2xf32>)
// CHECK-SAME: -> (tensor<f32>, tensor<3xf32>)
// CHECK: %[[R1:.*]] = nn.param @w
// CHECK: %[[M:.*]] = nn.mul %[[X]], %[[R1]]
// CHECK: %[[R2:.*]] = nn.param @w
// CHECK: %[[SUM:.*]] = nn.add %[[M]], %[[R2]]
// CHECK: %[[LOSS:.*]] = nn.mse %[[SUM]], %[[T]], %[[WT]]
// CHECK: %[[ONE:.*]] = nn.constant 1.000000e+00 : tensor<f32>
// CHECK: %[[DP:.*]] = nn.mse_grad %[[SUM]], %[[T]], %[[WT]], %[[ONE]] : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32>, tensor<f32> -> tensor<2x3xf32>
// CHECK: %[[G2:.*]] = nn.sum_to %[[DP]] : tensor<2x3xf32> -> tensor<3xf32>
// CHECK: %[[DA:.*]] = nn.mul %[[DP]], %[[X]] : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: %[[G1:.*]] = nn.sum_to %[[DA]] : tensor<2x3xf32> -> tensor<3xf32>
// CHECK: %[[G:.*]] = nn.add %[[G2]], %[[G1]] : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
// CHECK: return %[[LOSS]], %[[G]] : tensor<f32>, tensor<3xf32>

// -----

// A parameter the loss does not depend on gets a zero gradient.
nn.parameter @used : tensor<2xf32> {init = "zeros"}
nn.parameter @unused : tensor<4xf32> {init = "zeros"}

func.func @forward(%x: tensor<1x2xf32>, %y: tensor<1xi32>, %wt: tensor<1xf32>)
    -> tensor<f32> attributes {nn.num_inputs = 1 : i64} {
  %p = nn.param @used : tensor<2xf32>
  %0 = nn.sub %x, %p : tensor<1x2xf32>, tensor<2xf32> -> tensor<1x2xf32>
  %loss = nn.cross_entropy %0, %y, %wt : tensor<1x2xf32>, tensor<1xi32>, tensor<1xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: -> (tensor<f32>, tensor<2xf32>, tensor<4xf32>)
// CHECK: %[[DL:.*]] = nn.cross_entropy_grad
// The subtrahend's gradient is negated, then summed over the batch.
// CHECK: %[[NEG:.*]] = nn.neg %[[DL]] : tensor<1x2xf32>
// CHECK: %[[DU:.*]] = nn.sum_to %[[NEG]] : tensor<1x2xf32> -> tensor<2xf32>
// CHECK: %[[ZERO:.*]] = nn.constant 0.000000e+00 : tensor<4xf32>
// CHECK: return %{{.*}}, %[[DU]], %[[ZERO]] : tensor<f32>, tensor<2xf32>, tensor<4xf32>

// -----

// The VJPs of the other differentiable ops, on one chain from a parameter
// to the loss.
nn.parameter @p : tensor<2x3xf32> {init = "ones"}

func.func @forward(%t: tensor<2x3xf32>, %wt: tensor<2xf32>)
    -> tensor<f32> attributes {nn.num_inputs = 0 : i64} {
  %p = nn.param @p : tensor<2x3xf32>
  %0 = nn.sigmoid %p : tensor<2x3xf32>
  %1 = nn.tanh %0 : tensor<2x3xf32>
  %2 = nn.exp %1 : tensor<2x3xf32>
  %3 = nn.log %2 : tensor<2x3xf32>
  %4 = nn.sqrt %3 : tensor<2x3xf32>
  %5 = nn.neg %4 : tensor<2x3xf32>
  %6 = nn.log_softmax %5 : tensor<2x3xf32>
  %7 = nn.reshape %6 : tensor<2x3xf32> -> tensor<6xf32>
  %8 = nn.reshape %7 : tensor<6xf32> -> tensor<2x3xf32>
  %9 = nn.sum_to %8 : tensor<2x3xf32> -> tensor<3xf32>
  %10 = nn.broadcast_to %9 : tensor<3xf32> -> tensor<2x3xf32>
  %11 = nn.div %10, %t : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
  %12 = nn.softmax %11 : tensor<2x3xf32>
  %loss = nn.mse %12, %t, %wt : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: -> (tensor<f32>, tensor<2x3xf32>)
// CHECK: %[[SIG:.*]] = nn.sigmoid
// CHECK: %[[TANH:.*]] = nn.tanh %[[SIG]]
// CHECK: %[[EXP:.*]] = nn.exp %[[TANH]]
// CHECK: %[[LOG:.*]] = nn.log %[[EXP]]
// CHECK: %[[SQRT:.*]] = nn.sqrt %[[LOG]]
// CHECK: %[[LSM:.*]] = nn.log_softmax
// CHECK: %[[DIV:.*]] = nn.div %[[BC:.*]], %[[T:.*]] :
// CHECK: %[[SM:.*]] = nn.softmax %[[DIV]]
// CHECK: nn.mse_grad
// mse's target is not active: no gradient is kept for it, but softmax's is.
// CHECK: %[[DSM:.*]] = nn.softmax_grad %[[SM]], %{{.*}} : tensor<2x3xf32>
// div: da = dy / b (db is not needed: %t is an input).
// CHECK: %[[DDIV:.*]] = nn.div %[[DSM]], %[[T]]
// broadcast_to <-> sum_to are each other's adjoints.
// CHECK: nn.sum_to %[[DDIV]] : tensor<2x3xf32> -> tensor<3xf32>
// CHECK: nn.broadcast_to %{{.*}} : tensor<3xf32> -> tensor<2x3xf32>
// CHECK: nn.reshape %{{.*}} : tensor<2x3xf32> -> tensor<6xf32>
// CHECK: nn.reshape %{{.*}} : tensor<6xf32> -> tensor<2x3xf32>
// CHECK: %[[DLSM:.*]] = nn.log_softmax_grad %[[LSM]], %{{.*}} : tensor<2x3xf32>
// CHECK: %[[DNEG:.*]] = nn.neg %[[DLSM]]
// sqrt: dy * 0.5 / sqrt(x)
// CHECK: %[[HALF:.*]] = nn.constant 5.000000e-01 : tensor<2x3xf32>
// CHECK: %[[T1:.*]] = nn.mul %[[DNEG]], %[[HALF]]
// CHECK: %[[DSQRT:.*]] = nn.div %[[T1]], %[[SQRT]]
// log: dy / x
// CHECK: %[[DLOG:.*]] = nn.div %[[DSQRT]], %[[EXP]]
// exp: dy * exp(x)
// CHECK: %[[DEXP:.*]] = nn.mul %[[DLOG]], %[[EXP]]
// tanh: dy * (1 - y^2)
// CHECK: %[[Y2:.*]] = nn.mul %[[TANH]], %[[TANH]]
// CHECK: %[[ONE:.*]] = nn.constant 1.000000e+00 : tensor<2x3xf32>
// CHECK: %[[OM:.*]] = nn.sub %[[ONE]], %[[Y2]]
// CHECK: %[[DTANH:.*]] = nn.mul %[[DEXP]], %[[OM]]
// sigmoid: dy * y * (1 - y)
// CHECK: %[[ONE2:.*]] = nn.constant 1.000000e+00 : tensor<2x3xf32>
// CHECK: %[[OMS:.*]] = nn.sub %[[ONE2]], %[[SIG]]
// CHECK: %[[S:.*]] = nn.mul %[[SIG]], %[[OMS]]
// CHECK: %[[DSIG:.*]] = nn.mul %[[DTANH]], %[[S]]
// CHECK: return %{{.*}}, %[[DSIG]] : tensor<f32>, tensor<2x3xf32>

// -----

// softplus: dy * sigmoid(x), the sigmoid of the input (not of the result).
nn.parameter @p : tensor<2x3xf32> {init = "ones"}

func.func @forward(%t: tensor<2x3xf32>, %wt: tensor<2xf32>)
    -> tensor<f32> attributes {nn.num_inputs = 0 : i64} {
  %p = nn.param @p : tensor<2x3xf32>
  %0 = nn.softplus %p : tensor<2x3xf32>
  %loss = nn.mse %0, %t, %wt : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// CHECK-LABEL: func.func @forward_grad(
// CHECK: %[[P:.*]] = nn.param @p
// CHECK: %[[SP:.*]] = nn.softplus %[[P]] : tensor<2x3xf32>
// CHECK: %[[DY:.*]] = nn.mse_grad %[[SP]]
// CHECK: %[[SIG:.*]] = nn.sigmoid %[[P]] : tensor<2x3xf32>
// CHECK: %[[DP:.*]] = nn.mul %[[DY]], %[[SIG]]
// CHECK: return %{{.*}}, %[[DP]] : tensor<f32>, tensor<2x3xf32>

// -----

// Transposed matmuls: the VJPs keep using transpose flags.
nn.parameter @a : tensor<4x2xf32> {init = "ones"}
nn.parameter @b : tensor<3x4xf32> {init = "ones"}

func.func @forward(%t: tensor<2x3xf32>, %wt: tensor<2xf32>)
    -> tensor<f32> attributes {nn.num_inputs = 0 : i64} {
  %a = nn.param @a : tensor<4x2xf32>
  %b = nn.param @b : tensor<3x4xf32>
  %0 = nn.matmul %a, %b {transpose_a, transpose_b} : tensor<4x2xf32>, tensor<3x4xf32> -> tensor<2x3xf32>
  %loss = nn.mse %0, %t, %wt : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// CHECK-LABEL: func.func @forward_grad(
// CHECK: %[[A:.*]] = nn.param @a
// CHECK: %[[B:.*]] = nn.param @b
// CHECK: %[[DC:.*]] = nn.mse_grad
// CHECK: %[[DA:.*]] = nn.matmul %[[B]], %[[DC]] {transpose_a, transpose_b} : tensor<3x4xf32>, tensor<2x3xf32> -> tensor<4x2xf32>
// CHECK: %[[DB:.*]] = nn.matmul %[[DC]], %[[A]] {transpose_a, transpose_b} : tensor<2x3xf32>, tensor<4x2xf32> -> tensor<3x4xf32>
// CHECK: return %{{.*}}, %[[DA]], %[[DB]] : tensor<f32>, tensor<4x2xf32>, tensor<3x4xf32>
