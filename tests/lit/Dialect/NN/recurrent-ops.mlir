// The sequence ops of the nn dialect (concat, slice, slice_grad, embedding,
// embedding_grad, dropout, scan/yield) parse and print back in their custom
// form, and the printed (and the generic) form parses again to the same thing.
// RUN: %nnc-opt %s | FileCheck %s
// RUN: %nnc-opt %s | %nnc-opt | FileCheck %s
// RUN: %nnc-opt %s -mlir-print-op-generic | %nnc-opt | FileCheck %s

// CHECK-LABEL: func.func @concat_slice
// CHECK-SAME: (%[[H:.*]]: tensor<2x3xf32>, %[[X:.*]]: tensor<2x4xf32>, %[[G:.*]]: tensor<2x12xf32>, %[[S3:.*]]: tensor<2x3x5xf32>)
func.func @concat_slice(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %g: tensor<2x12xf32>,
                        %s3: tensor<2x3x5xf32>)
    -> (tensor<2x7xf32>, tensor<2x10xf32>, tensor<2x3x5xf32>, tensor<2x3xf32>,
        tensor<2x12xf32>, tensor<2x3x2xf32>, tensor<2x3x8xf32>) {
  // CHECK: %[[Z:.*]] = nn.concat %[[H]], %[[X]] : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
  %z = nn.concat %h, %x : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
  // Three operands, one of them used twice.
  // CHECK: nn.concat %[[H]], %[[X]], %[[H]] : tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x3xf32> -> tensor<2x10xf32>
  %z3 = nn.concat %h, %x, %h : tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x3xf32> -> tensor<2x10xf32>
  // One operand: a copy.
  // CHECK: nn.concat %[[S3]] : tensor<2x3x5xf32> -> tensor<2x3x5xf32>
  %z1 = nn.concat %s3 : tensor<2x3x5xf32> -> tensor<2x3x5xf32>
  // CHECK: %[[SL:.*]] = nn.slice %[[G]] {begin = 3 : i64} : tensor<2x12xf32> -> tensor<2x3xf32>
  %sl = nn.slice %g {begin = 3 : i64} : tensor<2x12xf32> -> tensor<2x3xf32>
  // CHECK: nn.slice_grad %[[SL]] {begin = 9 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  %sg = nn.slice_grad %sl {begin = 9 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  // Rank 3: the last axis is sliced.
  // CHECK: %[[SL3:.*]] = nn.slice %[[S3]] {begin = 0 : i64} : tensor<2x3x5xf32> -> tensor<2x3x2xf32>
  %sl3 = nn.slice %s3 {begin = 0 : i64} : tensor<2x3x5xf32> -> tensor<2x3x2xf32>
  // CHECK: nn.slice_grad %[[SL3]] {begin = 6 : i64} : tensor<2x3x2xf32> -> tensor<2x3x8xf32>
  %sg3 = nn.slice_grad %sl3 {begin = 6 : i64} : tensor<2x3x2xf32> -> tensor<2x3x8xf32>
  return %z, %z3, %z1, %sl, %sg, %sl3, %sg3
      : tensor<2x7xf32>, tensor<2x10xf32>, tensor<2x3x5xf32>, tensor<2x3xf32>,
        tensor<2x12xf32>, tensor<2x3x2xf32>, tensor<2x3x8xf32>
}

// CHECK-LABEL: func.func @embedding
// CHECK-SAME: (%[[T:.*]]: tensor<20x4xf32>, %[[IDS:.*]]: tensor<2x3xi32>, %[[ID1:.*]]: tensor<2xi32>, %[[DY:.*]]: tensor<2x3x4xf32>)
func.func @embedding(%table: tensor<20x4xf32>, %ids: tensor<2x3xi32>, %id1: tensor<2xi32>,
                     %dy: tensor<2x3x4xf32>)
    -> (tensor<2x3x4xf32>, tensor<2x4xf32>, tensor<20x4xf32>) {
  // CHECK: nn.embedding %[[T]], %[[IDS]] : tensor<20x4xf32>, tensor<2x3xi32> -> tensor<2x3x4xf32>
  %e = nn.embedding %table, %ids : tensor<20x4xf32>, tensor<2x3xi32> -> tensor<2x3x4xf32>
  // CHECK: nn.embedding %[[T]], %[[ID1]] : tensor<20x4xf32>, tensor<2xi32> -> tensor<2x4xf32>
  %e1 = nn.embedding %table, %id1 : tensor<20x4xf32>, tensor<2xi32> -> tensor<2x4xf32>
  // CHECK: nn.embedding_grad %[[IDS]], %[[DY]] : tensor<2x3xi32>, tensor<2x3x4xf32> -> tensor<20x4xf32>
  %dt = nn.embedding_grad %ids, %dy : tensor<2x3xi32>, tensor<2x3x4xf32> -> tensor<20x4xf32>
  return %e, %e1, %dt : tensor<2x3x4xf32>, tensor<2x4xf32>, tensor<20x4xf32>
}

// CHECK-LABEL: func.func @dropout
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>, %[[KEY:.*]]: i64)
func.func @dropout(%x: tensor<2x4xf32>, %key: i64) -> tensor<2x4xf32> {
  // CHECK: %[[D:.*]] = nn.dropout %[[X]], %[[KEY]] {rate = 2.500000e-01 : f32, stream = 1 : i64} : tensor<2x4xf32>
  %d = nn.dropout %x, %key {rate = 0.25 : f32, stream = 1 : i64} : tensor<2x4xf32>
  // CHECK: nn.dropout %[[D]], %[[KEY]] {rate = 5.000000e-01 : f32, stream = 7 : i64} : tensor<2x4xf32>
  %d2 = nn.dropout %d, %key {rate = 0.5 : f32, stream = 7 : i64} : tensor<2x4xf32>
  return %d2 : tensor<2x4xf32>
}

// An Elman step, concat(h, x) @ W, tanh: the last output only, no attributes.
// CHECK-LABEL: func.func @scan_last
// CHECK-SAME: (%[[H0:.*]]: tensor<2x3xf32>, %[[XS:.*]]: tensor<2x3x4xf32>, %[[W:.*]]: tensor<7x3xf32>)
func.func @scan_last(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %w: tensor<7x3xf32>)
    -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  // CHECK: %[[R:.*]]:2 = nn.scan inits(%[[H0]]) sequences(%[[XS]]) captures(%[[W]]) : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  // CHECK-NEXT: ^bb0(%[[H:.*]]: tensor<2x3xf32>, %[[X:.*]]: tensor<2x4xf32>, %[[WA:.*]]: tensor<7x3xf32>):
  // CHECK-NEXT: %[[Z:.*]] = nn.concat %[[H]], %[[X]] : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
  // CHECK-NEXT: %[[M:.*]] = nn.matmul %[[Z]], %[[WA]] : tensor<2x7xf32>, tensor<7x3xf32> -> tensor<2x3xf32>
  // CHECK-NEXT: %[[H1:.*]] = nn.tanh %[[M]] : tensor<2x3xf32>
  // CHECK-NEXT: nn.yield %[[H1]], %[[H1]] : tensor<2x3xf32>, tensor<2x3xf32>
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[R]]#0, %[[R]]#1 : tensor<2x3xf32>, tensor<2x3xf32>
  %hT, %y = nn.scan inits(%h0) sequences(%xs) captures(%w)
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %wa: tensor<7x3xf32>):
    %z = nn.concat %h, %x : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
    %m = nn.matmul %z, %wa : tensor<2x7xf32>, tensor<7x3xf32> -> tensor<2x3xf32>
    %h1 = nn.tanh %m : tensor<2x3xf32>
    nn.yield %h1, %h1 : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %hT, %y : tensor<2x3xf32>, tensor<2x3xf32>
}

// Every output step as a sequence [B, T, H].
// CHECK-LABEL: func.func @scan_sequence
// CHECK: nn.scan inits(%{{.*}}) sequences(%{{.*}}) captures(%{{.*}}) {return_sequence} : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>) -> (tensor<2x3xf32>, tensor<2x3x3xf32>) {
// CHECK: nn.yield %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>
func.func @scan_sequence(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %w: tensor<7x3xf32>)
    -> (tensor<2x3xf32>, tensor<2x3x3xf32>) {
  %hT, %ys = nn.scan inits(%h0) sequences(%xs) captures(%w) {return_sequence}
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>) -> (tensor<2x3xf32>, tensor<2x3x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %wa: tensor<7x3xf32>):
    %z = nn.concat %h, %x : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
    %m = nn.matmul %z, %wa : tensor<2x7xf32>, tensor<7x3xf32> -> tensor<2x3xf32>
    %h1 = nn.tanh %m : tensor<2x3xf32>
    nn.yield %h1, %h1 : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %hT, %ys : tensor<2x3xf32>, tensor<2x3x3xf32>
}

// Two states (an LSTM's h and c), the states at the start of every step
// saved, walked backwards.
// CHECK-LABEL: func.func @scan_save_reverse
// CHECK: %{{.*}}:5 = nn.scan inits(%{{.*}}, %{{.*}}) sequences(%{{.*}}) captures() {reverse, save_states} : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
// CHECK-NEXT: ^bb0(%[[H:.*]]: tensor<2x3xf32>, %[[C:.*]]: tensor<2x3xf32>, %[[X:.*]]: tensor<2x3xf32>):
// CHECK: nn.yield
func.func @scan_save_reverse(%h0: tensor<2x3xf32>, %c0: tensor<2x3xf32>, %xs: tensor<2x3x3xf32>)
    -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
  %r:5 = nn.scan inits(%h0, %c0) sequences(%xs) captures() {reverse, save_states}
      : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>)
      -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %c: tensor<2x3xf32>, %x: tensor<2x3xf32>):
    %c1 = nn.add %c, %x : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %t = nn.tanh %c1 : tensor<2x3xf32>
    %h1 = nn.mul %h, %t : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    nn.yield %h1, %c1, %h1 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %r#0, %r#1, %r#2, %r#3, %r#4
      : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>
}

// Residuals: the body yields one more value after its outputs (the product
// with the captured matrix), returned last as a sequence; with save_states
// the saved states come before it.
// CHECK-LABEL: func.func @scan_residuals
// CHECK: %[[R:.*]]:4 = nn.scan inits(%{{.*}}) sequences(%{{.*}}) captures(%{{.*}}) {residuals = 1 : i64, return_sequence, save_states} : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>) -> (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
// CHECK: %[[M:.*]] = nn.matmul
// CHECK: %[[H1:.*]] = nn.tanh %[[M]]
// CHECK: nn.yield %[[H1]], %[[H1]], %[[M]] : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
// CHECK: return %[[R]]#0, %[[R]]#1, %[[R]]#2, %[[R]]#3
func.func @scan_residuals(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %w: tensor<7x3xf32>)
    -> (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
  %hT, %ys, %hs, %ms = nn.scan inits(%h0) sequences(%xs) captures(%w)
      {return_sequence, save_states, residuals = 1 : i64}
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>)
      -> (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %wa: tensor<7x3xf32>):
    %z = nn.concat %h, %x : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
    %m = nn.matmul %z, %wa : tensor<2x7xf32>, tensor<7x3xf32> -> tensor<2x3xf32>
    %h1 = nn.tanh %m : tensor<2x3xf32>
    nn.yield %h1, %h1, %m : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %hT, %ys, %hs, %ms : tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>
}

// Two residuals of different widths, the last output only, no saved states.
// CHECK-LABEL: func.func @scan_two_residuals
// CHECK: nn.scan inits(%{{.*}}) sequences(%{{.*}}) captures(%{{.*}}, %{{.*}}) {residuals = 2 : i64} : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>, tensor<7x5xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x5xf32>) {
// CHECK: nn.yield %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x5xf32>
func.func @scan_two_residuals(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %w: tensor<7x3xf32>,
                              %v: tensor<7x5xf32>)
    -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x5xf32>) {
  %r:4 = nn.scan inits(%h0) sequences(%xs) captures(%w, %v) {residuals = 2 : i64}
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>, tensor<7x5xf32>)
      -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x5xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %wa: tensor<7x3xf32>, %va: tensor<7x5xf32>):
    %z = nn.concat %h, %x : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x7xf32>
    %m = nn.matmul %z, %wa : tensor<2x7xf32>, tensor<7x3xf32> -> tensor<2x3xf32>
    %n = nn.matmul %z, %va : tensor<2x7xf32>, tensor<7x5xf32> -> tensor<2x5xf32>
    %h1 = nn.tanh %m : tensor<2x3xf32>
    nn.yield %h1, %h1, %m, %n : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x5xf32>
  }
  return %r#0, %r#1, %r#2, %r#3 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x5xf32>
}

// `residuals = 0` is the same as none; two sequences; a state but no output.
// CHECK-LABEL: func.func @scan_no_outputs
// CHECK: nn.scan inits(%{{.*}}) sequences(%{{.*}}, %{{.*}}) captures() {residuals = 0 : i64} : (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) -> tensor<2x3xf32> {
// CHECK-NEXT: ^bb0(%[[H:.*]]: tensor<2x3xf32>, %[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<2x3xf32>):
// CHECK: nn.yield %{{.*}} : tensor<2x3xf32>
func.func @scan_no_outputs(%h0: tensor<2x3xf32>, %as: tensor<2x3x3xf32>, %bs: tensor<2x3x3xf32>)
    -> tensor<2x3xf32> {
  %hT = nn.scan inits(%h0) sequences(%as, %bs) captures() {residuals = 0 : i64}
      : (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %a: tensor<2x3xf32>, %b: tensor<2x3xf32>):
    %p = nn.mul %a, %b : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %h1 = nn.add %h, %p : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    nn.yield %h1 : tensor<2x3xf32>
  }
  return %hT : tensor<2x3xf32>
}

// A stacked scan (repeat): unbatched [N, ...] stacks scanned along axis 0,
// saved states and residuals [N, ...] as well.
// CHECK-LABEL: func.func @scan_stacked
// CHECK: nn.scan inits(%{{.*}}) sequences(%{{.*}}) captures() {residuals = 1 : i64, save_states, stacked} : (tensor<2x3xf32>, tensor<4x3x3xf32>) -> (tensor<2x3xf32>, tensor<4x2x3xf32>, tensor<4x2x3xf32>) {
// CHECK-NEXT: ^bb0(%[[H:.*]]: tensor<2x3xf32>, %[[W:.*]]: tensor<3x3xf32>):
func.func @scan_stacked(%x: tensor<2x3xf32>, %ws: tensor<4x3x3xf32>)
    -> (tensor<2x3xf32>, tensor<4x2x3xf32>, tensor<4x2x3xf32>) {
  %y:3 = nn.scan inits(%x) sequences(%ws) captures() {stacked, save_states, residuals = 1 : i64}
      : (tensor<2x3xf32>, tensor<4x3x3xf32>) -> (tensor<2x3xf32>, tensor<4x2x3xf32>, tensor<4x2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %w: tensor<3x3xf32>):
    %m = nn.matmul %h, %w : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
    %t = nn.tanh %m : tensor<2x3xf32>
    nn.yield %t, %m : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %y#0, %y#1, %y#2 : tensor<2x3xf32>, tensor<4x2x3xf32>, tensor<4x2x3xf32>
}
