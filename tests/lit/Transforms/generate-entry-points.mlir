// RUN: %nnc-opt %s --nn-generate-backward --nn-generate-entry-points | FileCheck %s --check-prefixes=CHECK,ADAM
// RUN: %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=adam hyper=beta1=0.5,beta2=0.75,epsilon=0.125" | FileCheck %s --check-prefixes=CHECK,ADAM-OPTS
// RUN: %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=sgd" | FileCheck %s --check-prefixes=CHECK,SGD
// RUN: %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=sgd hyper=momentum=0.5" | FileCheck %s --check-prefix=SGD-MOM
// RUN: %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=rmsprop" | FileCheck %s --check-prefixes=CHECK,RMSPROP
// RUN: %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=rmsprop hyper=rho=0.5,momentum=0.25" | FileCheck %s --check-prefix=RMSPROP-OPTS
// RUN: %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=adamw hyper=weight_decay=0.125" | FileCheck %s --check-prefix=ADAMW
// RUN: %nnc-opt %s --nn-generate-backward --nn-generate-entry-points="optimizer=nesterov" | FileCheck %s --check-prefix=NESTEROV

// A 4 -> 8 -> 3 classifier with a batch of 2: P = 4*8 + 8 + 8*3 + 3 = 67
// parameters, laid out in declaration order.

nn.parameter @"h1.W" : tensor<4x8xf32> {init = "glorot_uniform", fan_in = 4 : i64, fan_out = 8 : i64}
nn.parameter @"h1.b" : tensor<8xf32> {init = "zeros"}
nn.parameter @"out.W" : tensor<8x3xf32> {init = "he_uniform", fan_in = 8 : i64, fan_out = 3 : i64}
nn.parameter @"out.b" : tensor<3xf32> {init = "constant", init_value = 0.25 : f64}

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

// The module records the sizes the runtime allocates: Adam and RMSprop keep
// two moments per parameter (2P), SGD one velocity (P).
// ADAM: module attributes {nn.num_params = 67 : i64, nn.opt_state_size = 134 : i64, nn.optimizer = "adam"}
// SGD: module attributes {nn.num_params = 67 : i64, nn.opt_state_size = 67 : i64, nn.optimizer = "sgd"}
// RMSPROP: module attributes {nn.num_params = 67 : i64, nn.opt_state_size = 134 : i64, nn.optimizer = "rmsprop"}

// @forward and @forward_grad are replaced by the entry points.
// CHECK-NOT: func.func @forward

// init writes every parameter from its initializer, with one random stream
// per parameter. Its arguments are one tensor per parameter, each marked
// with its place in the flat buffer (nnc-pack-arguments joins them after
// bufferization).
// CHECK-LABEL: func.func @init(
// CHECK-SAME: %[[W1:[a-z0-9]+]]: tensor<32xf32> {nn.pack = array<i64: 0, 0>}, %[[B1:[a-z0-9]+]]: tensor<8xf32> {nn.pack = array<i64: 0, 32>},
// CHECK-SAME: %[[W2:[a-z0-9]+]]: tensor<24xf32> {nn.pack = array<i64: 0, 40>}, %[[B2:[a-z0-9]+]]: tensor<3xf32> {nn.pack = array<i64: 0, 64>}, %[[SEED:.*]]: i64)
// CHECK-SAME: -> (tensor<32xf32>, tensor<8xf32>, tensor<24xf32>, tensor<3xf32>) attributes {nn.pack_sizes = array<i64: 67>}
// glorot_uniform: limit sqrt(6 / (4 + 8))
// CHECK: %[[R1:.*]] = nn.random_uniform %[[SEED]] {high = 0.707106769 : f32, low = -0.707106769 : f32, stream = 1 : i64} : tensor<4x8xf32>
// CHECK: %[[F1:.*]] = nn.reshape %[[R1]] : tensor<4x8xf32> -> tensor<32xf32>
// CHECK: %[[S1:.*]] = linalg.copy ins(%[[F1]] : tensor<32xf32>) outs(%[[W1]] : tensor<32xf32>)
// CHECK: %[[Z:.*]] = nn.constant 0.000000e+00 : tensor<8xf32>
// CHECK: %[[S2:.*]] = linalg.copy ins(%[[Z]] : tensor<8xf32>) outs(%[[B1]] : tensor<8xf32>)
// he_uniform: limit sqrt(6 / 8)
// CHECK: nn.random_uniform %[[SEED]] {high = 0.866025388 : f32, low = -0.866025388 : f32, stream = 3 : i64} : tensor<8x3xf32>
// CHECK: %[[S3:.*]] = linalg.copy ins(%{{.*}} : tensor<24xf32>) outs(%[[W2]] : tensor<24xf32>)
// CHECK: %[[C:.*]] = nn.constant 2.500000e-01 : tensor<3xf32>
// CHECK: %[[S4:.*]] = linalg.copy ins(%[[C]] : tensor<3xf32>) outs(%[[B2]] : tensor<3xf32>)
// CHECK: return %[[S1]], %[[S2]], %[[S3]], %[[S4]]

// predict takes the parameters, the inputs (not the targets) and the
// output buffers.
// CHECK-LABEL: func.func @predict(
// CHECK-SAME: %[[P:.*]]: tensor<67xf32>, %[[X:.*]]: tensor<2x4xf32>, %[[OUT:.*]]: tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-DAG: %[[W1F:.*]] = tensor.extract_slice %[[P]][0] [32] [1] : tensor<67xf32> to tensor<32xf32>
// CHECK-DAG: %[[W1:.*]] = nn.reshape %[[W1F]] : tensor<32xf32> -> tensor<4x8xf32>
// CHECK-DAG: %[[B1:.*]] = tensor.extract_slice %[[P]][32] [8] [1] : tensor<67xf32> to tensor<8xf32>
// CHECK-DAG: tensor.extract_slice %[[P]][40] [24] [1] : tensor<67xf32> to tensor<24xf32>
// CHECK-DAG: tensor.extract_slice %[[P]][64] [3] [1] : tensor<67xf32> to tensor<3xf32>
// CHECK: %[[MM:.*]] = nn.matmul %[[X]], %[[W1]]
// CHECK: nn.add %[[MM]], %[[B1]]
// CHECK: %[[PROBS:.*]] = nn.softmax
// No loss and no gradients in predict.
// CHECK-NOT: nn.cross_entropy
// CHECK: %[[COPY:.*]] = linalg.copy ins(%[[PROBS]] : tensor<2x3xf32>) outs(%[[OUT]] : tensor<2x3xf32>)
// CHECK: return %[[COPY]] : tensor<2x3xf32>

// eval_step: the loss as an f32 scalar, and the outputs.
// CHECK-LABEL: func.func @eval_step(
// CHECK-SAME: %{{.*}}: tensor<67xf32>, %{{.*}}: tensor<2x4xf32>, %[[Y:.*]]: tensor<2xi32>, %[[W:.*]]: tensor<2xf32>, %[[OUT:.*]]: tensor<2x3xf32>) -> (f32, tensor<2x3xf32>)
// CHECK: %[[LOSS:.*]] = nn.cross_entropy %{{.*}}, %[[Y]], %[[W]]
// CHECK-NOT: nn.cross_entropy_grad
// CHECK: %[[L:.*]] = tensor.extract %[[LOSS]][] : tensor<f32>
// CHECK: %[[COPY:.*]] = linalg.copy ins(%{{.*}} : tensor<2x3xf32>) outs(%[[OUT]] : tensor<2x3xf32>)
// CHECK: return %[[L]], %[[COPY]] : f32, tensor<2x3xf32>

// train_step: parameters, optimizer state, hyper-parameters [lr, step, ...],
// the forward arguments and the output buffers. The parameters and the
// state are one tensor per parameter (for Adam and RMSprop two state tensors
// each: state[0, P) and state[P, 2P) at the parameter's offset), each
// updated from its own gradient: no flat gradient is assembled.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[P1:[a-z0-9]+]]: tensor<32xf32> {nn.pack = array<i64: 0, 0>}, %[[P2:[a-z0-9]+]]: tensor<8xf32> {nn.pack = array<i64: 0, 32>},
// CHECK-SAME: %[[P3:[a-z0-9]+]]: tensor<24xf32> {nn.pack = array<i64: 0, 40>}, %[[P4:[a-z0-9]+]]: tensor<3xf32> {nn.pack = array<i64: 0, 64>},
// CHECK-SAME: %[[S1:[a-z0-9]+]]: tensor<32xf32> {nn.pack = array<i64: 1, 0>}, %[[S2:[a-z0-9]+]]: tensor<8xf32> {nn.pack = array<i64: 1, 32>},
// CHECK-SAME: %{{[a-z0-9]+}}: tensor<24xf32> {nn.pack = array<i64: 1, 40>}, %[[S4:[a-z0-9]+]]: tensor<3xf32> {nn.pack = array<i64: 1, 64>},
// ADAM-SAME: %[[T1:[a-z0-9]+]]: tensor<32xf32> {nn.pack = array<i64: 1, 67>}, %{{[a-z0-9]+}}: tensor<8xf32> {nn.pack = array<i64: 1, 99>},
// ADAM-SAME: %{{[a-z0-9]+}}: tensor<24xf32> {nn.pack = array<i64: 1, 107>}, %{{[a-z0-9]+}}: tensor<3xf32> {nn.pack = array<i64: 1, 131>},
// RMSPROP-SAME: %[[T1:[a-z0-9]+]]: tensor<32xf32> {nn.pack = array<i64: 1, 67>}, %{{[a-z0-9]+}}: tensor<8xf32> {nn.pack = array<i64: 1, 99>},
// RMSPROP-SAME: %{{[a-z0-9]+}}: tensor<24xf32> {nn.pack = array<i64: 1, 107>}, %{{[a-z0-9]+}}: tensor<3xf32> {nn.pack = array<i64: 1, 131>},
// CHECK-SAME: %[[H:[a-z0-9]+]]: tensor<8xf32>,
// CHECK-SAME: %{{.*}}: tensor<2x4xf32>, %{{.*}}: tensor<2xi32>, %{{.*}}: tensor<2xf32>, %{{.*}}: tensor<2x3xf32>)
// ADAM-SAME: -> (tensor<32xf32>, tensor<8xf32>, tensor<24xf32>, tensor<3xf32>, tensor<32xf32>, tensor<8xf32>, tensor<24xf32>, tensor<3xf32>, tensor<32xf32>, tensor<8xf32>, tensor<24xf32>, tensor<3xf32>, tensor<8xf32>, f32, tensor<2x3xf32>)
// ADAM-SAME: attributes {nn.pack_sizes = array<i64: 67, 134>, nn.workspace}
// SGD-SAME: -> (tensor<32xf32>, tensor<8xf32>, tensor<24xf32>, tensor<3xf32>, tensor<32xf32>, tensor<8xf32>, tensor<24xf32>, tensor<3xf32>, tensor<8xf32>, f32, tensor<2x3xf32>)
// SGD-SAME: attributes {nn.pack_sizes = array<i64: 67, 67>, nn.workspace}
// CHECK: %[[LOSS:.*]] = nn.cross_entropy
// CHECK: nn.cross_entropy_grad
// The learning rate, the step and the clipping norm come from hyper.
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[LR:.*]] = tensor.extract %[[H]][%[[C0]]] : tensor<8xf32>
// CHECK: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[STEP:.*]] = tensor.extract %[[H]][%[[C1]]] : tensor<8xf32>
// CHECK: %[[C3:.*]] = arith.constant 3 : index
// CHECK: %[[MAX:.*]] = tensor.extract %[[H]][%[[C3]]] : tensor<8xf32>
// Clipping as torch.nn.utils.clip_grad_norm_: the global norm of every
// gradient, scale = min(max_norm / (norm + 1e-6), 1) when max_norm > 0.
// CHECK: %[[NT:.*]] = nn.global_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<32xf32>, tensor<8xf32>, tensor<24xf32>, tensor<3xf32> -> tensor<f32>
// CHECK: %[[NORM:.*]] = tensor.extract %[[NT]][] : tensor<f32>
// CHECK: %[[EPS:.*]] = arith.constant 9.99999997E-7 : f32
// CHECK: %[[D:.*]] = arith.addf %[[NORM]], %[[EPS]] : f32
// CHECK: %[[Q:.*]] = arith.divf %[[MAX]], %[[D]] : f32
// CHECK: %[[COEF:.*]] = arith.minf %[[Q]], %{{.*}} : f32
// CHECK: %[[ON:.*]] = arith.cmpf ogt, %[[MAX]], %{{.*}} : f32
// CHECK: %[[SCALE:.*]] = arith.select %[[ON]], %[[COEF]], %{{.*}} : f32

// Adam: m and v of each parameter.
// ADAM: %[[NP:[a-z0-9_]+]], %[[NS:[a-z0-9_]+]]:2 = nn.optimizer_update "adam" %[[P1]], %{{.*}}, [%[[S1]], %[[T1]]], %[[LR]], %[[STEP]], %[[SCALE]] {beta1 = 0.899999976 : f32, beta2 = 9.990000e-01 : f32, epsilon = 1.000000e-07 : f32} : tensor<32xf32>, [tensor<32xf32>, tensor<32xf32>]
// ADAM: nn.optimizer_update "adam" %[[P2]], %{{.*}}, [%[[S2]], {{.*}} : tensor<8xf32>
// ADAM: nn.optimizer_update "adam" %[[P3]], {{.*}} : tensor<24xf32>
// ADAM: nn.optimizer_update "adam" %[[P4]], %{{.*}}, [%[[S4]], {{.*}} : tensor<3xf32>
// The norm before clipping goes back into hyper[4].
// ADAM: %[[C4:.*]] = arith.constant 4 : index
// ADAM: %[[NH:.*]] = tensor.insert %[[NORM]] into %[[H]][%[[C4]]] : tensor<8xf32>
// ADAM: %[[L:.*]] = tensor.extract %[[LOSS]][] : tensor<f32>
// ADAM: return %[[NP]], %{{.*}}, %{{.*}}, %{{.*}}, %[[NS]]#0, %{{.*}}, %{{.*}}, %{{.*}}, %[[NS]]#1, %{{.*}}, %{{.*}}, %{{.*}}, %[[NH]], %[[L]], %{{.*}} :
// ADAM-OPTS: nn.optimizer_update "adam" {{.*}} {beta1 = 5.000000e-01 : f32, beta2 = 7.500000e-01 : f32, epsilon = 1.250000e-01 : f32} : tensor<32xf32>

// With SGD the state is the velocity (the step count goes unused).
// SGD: %[[NP:[a-z0-9_]+]], %[[NV:[a-z0-9_]+]] = nn.optimizer_update "sgd" %[[P1]], %{{.*}}, [%[[S1]]], %[[LR]], %[[STEP]], %[[SCALE]] {momentum = 0.000000e+00 : f32} : tensor<32xf32>, [tensor<32xf32>]
// SGD: %[[L:.*]] = tensor.extract %[[LOSS]][] : tensor<f32>
// SGD: return %[[NP]], %{{.*}}, %{{.*}}, %{{.*}}, %[[NV]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[L]], %{{.*}} :
// SGD-MOM: nn.optimizer_update "sgd" {{.*}} {momentum = 5.000000e-01 : f32} : tensor<32xf32>

// RMSprop: mean square and velocity of each parameter.
// RMSPROP: %[[NP:[a-z0-9_]+]], %[[NS:[a-z0-9_]+]]:2 = nn.optimizer_update "rmsprop" %[[P1]], %{{.*}}, [%[[S1]], %[[T1]]], %[[LR]], %[[STEP]], %[[SCALE]] {epsilon = 1.000000e-07 : f32, momentum = 0.000000e+00 : f32, rho = 0.899999976 : f32} : tensor<32xf32>, [tensor<32xf32>, tensor<32xf32>]
// RMSPROP: return %[[NP]], %{{.*}}, %{{.*}}, %{{.*}}, %[[NS]]#0, %{{.*}}, %{{.*}}, %{{.*}}, %[[NS]]#1, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
// RMSPROP-OPTS: nn.optimizer_update "rmsprop" {{.*}} {epsilon = 1.000000e-07 : f32, momentum = 2.500000e-01 : f32, rho = 5.000000e-01 : f32} : tensor<32xf32>

// grad_step: forward and backward, no update. The gradient buffer is one
// packed group of num_params + 1 floats: each parameter's gradient, then
// the loss's weight (nn.loss_weight: the cross-entropy's labelled rows,
// weighted). Each gradient is scaled by that weight (the gradient of the
// weighted sum) and added to what the buffer holds; the loss returned is
// the weighted sum.
// The parameters are packed arguments as in train_step (read only).
// SGD-LABEL: func.func @grad_step(
// SGD-SAME: %{{[a-z0-9]+}}: tensor<32xf32> {nn.pack = array<i64: 0, 0>}, %{{[a-z0-9]+}}: tensor<8xf32> {nn.pack = array<i64: 0, 32>},
// SGD-SAME: %{{[a-z0-9]+}}: tensor<24xf32> {nn.pack = array<i64: 0, 40>}, %{{[a-z0-9]+}}: tensor<3xf32> {nn.pack = array<i64: 0, 64>},
// SGD-SAME: %{{[a-z0-9]+}}: tensor<8xf32>,
// SGD-SAME: %[[G1:[a-z0-9]+]]: tensor<32xf32> {nn.pack = array<i64: 1, 0>}, %{{[a-z0-9]+}}: tensor<8xf32> {nn.pack = array<i64: 1, 32>},
// SGD-SAME: %{{[a-z0-9]+}}: tensor<24xf32> {nn.pack = array<i64: 1, 40>}, %{{[a-z0-9]+}}: tensor<3xf32> {nn.pack = array<i64: 1, 64>},
// SGD-SAME: %[[GW:[a-z0-9]+]]: tensor<1xf32> {nn.pack = array<i64: 1, 67>},
// SGD-SAME: %{{.*}}: tensor<2x4xf32>, %[[GY:[a-z0-9]+]]: tensor<2xi32>, %[[GWT:[a-z0-9]+]]: tensor<2xf32>, %{{.*}}: tensor<2x3xf32>)
// SGD-SAME: -> (tensor<32xf32>, tensor<8xf32>, tensor<24xf32>, tensor<3xf32>, tensor<1xf32>, f32, tensor<2x3xf32>) attributes {nn.pack_sizes = array<i64: 67, 68>, nn.workspace}
// SGD: %[[GLOSS:.*]] = nn.cross_entropy
// SGD: nn.cross_entropy_grad
// SGD-NOT: nn.optimizer_update
// SGD: %[[LW:.*]] = nn.loss_weight %[[GWT]], %[[GY]] : tensor<2xf32>, tensor<2xi32> -> tensor<f32>
// SGD: %[[SC:.*]] = nn.mul %{{.*}}, %[[LW]] : tensor<32xf32>, tensor<f32> -> tensor<32xf32>
// SGD: %[[ACC:.*]] = nn.add %[[G1]], %[[SC]] : tensor<32xf32>, tensor<32xf32> -> tensor<32xf32>
// SGD: linalg.copy ins(%[[ACC]] : tensor<32xf32>) outs(%[[G1]] : tensor<32xf32>)
// SGD: %[[LW1:.*]] = nn.reshape %[[LW]] : tensor<f32> -> tensor<1xf32>
// SGD: nn.add %[[GW]], %[[LW1]] : tensor<1xf32>, tensor<1xf32> -> tensor<1xf32>
// SGD: nn.mul %[[GLOSS]], %[[LW]] : tensor<f32>, tensor<f32> -> tensor<f32>

// apply_step: train_step's update from a gradient buffer, each gradient
// divided by the weight at its end, through the update's scale (with the
// clipping, whose norm is the mean gradient's); hyper gets that norm.
// SGD-LABEL: func.func @apply_step(
// SGD-SAME: %[[AP1:[a-z0-9]+]]: tensor<32xf32> {nn.pack = array<i64: 0, 0>},
// SGD-SAME: %[[AS1:[a-z0-9]+]]: tensor<32xf32> {nn.pack = array<i64: 1, 0>},
// SGD-SAME: %[[AH:[a-z0-9]+]]: tensor<8xf32>, %[[AG:[a-z0-9]+]]: tensor<68xf32>)
// SGD-SAME: -> ({{.*}}, tensor<8xf32>) attributes {nn.pack_sizes = array<i64: 67, 67>, nn.workspace}
// SGD: %[[AW:.*]] = tensor.extract %[[AG]][%{{.*}}] : tensor<68xf32>
// SGD: %[[INV:.*]] = arith.divf %{{.*}}, %[[AW]] : f32
// SGD: %[[AG1:.*]] = tensor.extract_slice %[[AG]][0] [32] [1] : tensor<68xf32> to tensor<32xf32>
// SGD: %[[AN:.*]] = nn.global_norm %[[AG1]], {{.*}} -> tensor<f32>
// SGD: %[[ANS:.*]] = tensor.extract %[[AN]][] : tensor<f32>
// SGD: %[[MEAN:.*]] = arith.mulf %[[ANS]], %[[INV]] : f32
// SGD: %[[CLIP:.*]] = arith.select
// SGD: %[[ASC:.*]] = arith.mulf %[[CLIP]], %[[INV]] : f32
// SGD: nn.optimizer_update "sgd" %[[AP1]], %[[AG1]], [%[[AS1]]], %{{.*}}, %{{.*}}, %[[ASC]]
// SGD: tensor.insert %[[MEAN]] into %[[AH]][%{{.*}}] : tensor<8xf32>

// AdamW and Nesterov come from the same table: two state slots and one.
// ADAMW: module attributes {nn.num_params = 67 : i64, nn.opt_state_size = 134 : i64, nn.optimizer = "adamw"}
// ADAMW: nn.optimizer_update "adamw" {{.*}} {beta1 = 0.899999976 : f32, beta2 = 9.990000e-01 : f32, epsilon = 9.99999993E-9 : f32, weight_decay = 1.250000e-01 : f32} : tensor<32xf32>, [tensor<32xf32>, tensor<32xf32>]
// NESTEROV: module attributes {nn.num_params = 67 : i64, nn.opt_state_size = 67 : i64, nn.optimizer = "nesterov"}
// NESTEROV: nn.optimizer_update "nesterov" {{.*}} {momentum = 0.899999976 : f32} : tensor<32xf32>, [tensor<32xf32>]
