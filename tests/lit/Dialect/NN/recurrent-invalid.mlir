// The verifiers of the sequence ops of the nn dialect (concat, slice,
// embedding, dropout, scan and yield in NNOps.cpp, and their ODS
// constraints) reject bad IR with their message: one case per branch.
// RUN: %nnc-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// nn.concat
//===----------------------------------------------------------------------===//

func.func @concat_no_operands() -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.concat' op needs at least one operand}}
  %0 = "nn.concat"() : () -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @concat_leading_dims(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'nn.concat' op operands must agree on every dimension but the last: [2, 3] and [4, 3]}}
  %0 = nn.concat %a, %b : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @concat_ranks(%a: tensor<2x3xf32>, %b: tensor<2x3x4xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{'nn.concat' op operands must agree on every dimension but the last: [2, 3] and [2, 3, 4]}}
  %0 = nn.concat %a, %b : tensor<2x3xf32>, tensor<2x3x4xf32> -> tensor<2x7xf32>
  return %0 : tensor<2x7xf32>
}

// -----

func.func @concat_scalar_after(%a: tensor<2xf32>, %b: tensor<f32>) -> tensor<2xf32> {
  // expected-error @+1 {{'nn.concat' op operands must have at least one dimension}}
  %0 = nn.concat %a, %b : tensor<2xf32>, tensor<f32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @concat_result_last(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'nn.concat' op result must be [2, 7]}}
  %0 = nn.concat %a, %b : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @concat_result_leading(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<3x7xf32> {
  // expected-error @+1 {{'nn.concat' op result must be [2, 7]}}
  %0 = nn.concat %a, %b : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<3x7xf32>
  return %0 : tensor<3x7xf32>
}

// -----

// Token ids may be joined (i32), but not with floats.
func.func @concat_i32(%a: tensor<2x3xi32>, %b: tensor<2x4xf32>) -> tensor<2x7xf32> {
  // expected-error @+1 {{'nn.concat' op operands and result must have one element type}}
  %0 = nn.concat %a, %b : tensor<2x3xi32>, tensor<2x4xf32> -> tensor<2x7xf32>
  return %0 : tensor<2x7xf32>
}

//===----------------------------------------------------------------------===//
// nn.slice
//===----------------------------------------------------------------------===//

// -----

func.func @slice_rank(%g: tensor<2x12xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'nn.slice' op result must have the input's shape but the last dimension}}
  %0 = nn.slice %g {begin = 0 : i64} : tensor<2x12xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @slice_leading(%g: tensor<2x12xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'nn.slice' op result must have the input's shape but the last dimension}}
  %0 = nn.slice %g {begin = 0 : i64} : tensor<2x12xf32> -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

func.func @slice_scalar(%g: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.slice' op result must have the input's shape but the last dimension}}
  %0 = nn.slice %g {begin = 0 : i64} : tensor<f32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @slice_past_end(%g: tensor<2x12xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.slice' op range [10, 13) is outside the last dimension 12}}
  %0 = nn.slice %g {begin = 10 : i64} : tensor<2x12xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @slice_missing_begin(%g: tensor<2x12xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.slice' op requires attribute 'begin'}}
  %0 = nn.slice %g : tensor<2x12xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @slice_grad_missing_begin(%g: tensor<2x3xf32>) -> tensor<2x12xf32> {
  // expected-error @+1 {{'nn.slice_grad' op requires attribute 'begin'}}
  %0 = nn.slice_grad %g : tensor<2x3xf32> -> tensor<2x12xf32>
  return %0 : tensor<2x12xf32>
}

//===----------------------------------------------------------------------===//
// nn.embedding, nn.embedding_grad
//===----------------------------------------------------------------------===//

// -----

func.func @embedding_table_rank(%t: tensor<20xf32>, %ids: tensor<2x3xi32>) -> tensor<2x3x1xf32> {
  // expected-error @+1 {{'nn.embedding' op table must be [V, E]}}
  %0 = nn.embedding %t, %ids : tensor<20xf32>, tensor<2x3xi32> -> tensor<2x3x1xf32>
  return %0 : tensor<2x3x1xf32>
}

// -----

func.func @embedding_width(%t: tensor<20x4xf32>, %ids: tensor<2x3xi32>) -> tensor<2x3x5xf32> {
  // expected-error @+1 {{'nn.embedding' op result must be [2, 3, 4]}}
  %0 = nn.embedding %t, %ids : tensor<20x4xf32>, tensor<2x3xi32> -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

func.func @embedding_ids_shape(%t: tensor<20x4xf32>, %ids: tensor<2x3xi32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'nn.embedding' op result must be [2, 3, 4]}}
  %0 = nn.embedding %t, %ids : tensor<20x4xf32>, tensor<2x3xi32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @embedding_float_ids(%t: tensor<20x4xf32>, %ids: tensor<2x3xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{'nn.embedding' op operand #1 must be ranked tensor of 32-bit signless integer values}}
  %0 = nn.embedding %t, %ids : tensor<20x4xf32>, tensor<2x3xf32> -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

func.func @embedding_grad_i64_ids(%ids: tensor<2x3xi64>, %dy: tensor<2x3x4xf32>) -> tensor<20x4xf32> {
  // expected-error @+1 {{'nn.embedding_grad' op operand #0 must be ranked tensor of 32-bit signless integer values}}
  %0 = nn.embedding_grad %ids, %dy : tensor<2x3xi64>, tensor<2x3x4xf32> -> tensor<20x4xf32>
  return %0 : tensor<20x4xf32>
}

//===----------------------------------------------------------------------===//
// nn.dropout
//===----------------------------------------------------------------------===//

// -----

func.func @dropout_types(%x: tensor<2x4xf32>, %k: i64) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.dropout' op failed to verify that all of {input, result} have same type}}
  %0 = "nn.dropout"(%x, %k) {rate = 0.5 : f32, stream = 1 : i64} : (tensor<2x4xf32>, i64) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @dropout_key_i32(%x: tensor<2x4xf32>, %k: i32) -> tensor<2x4xf32> {
  // expected-error @+1 {{'nn.dropout' op operand #1 must be 64-bit signless integer}}
  %0 = "nn.dropout"(%x, %k) {rate = 0.5 : f32, stream = 1 : i64} : (tensor<2x4xf32>, i32) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @dropout_missing_rate(%x: tensor<2x4xf32>, %k: i64) -> tensor<2x4xf32> {
  // expected-error @+1 {{'nn.dropout' op requires attribute 'rate'}}
  %0 = nn.dropout %x, %k {stream = 1 : i64} : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

//===----------------------------------------------------------------------===//
// nn.scan, nn.yield
//===----------------------------------------------------------------------===//

// -----

func.func @yield_outside_scan(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.yield' op expects parent op 'nn.scan'}}
  nn.yield %x : tensor<2x3xf32>
}

// -----

func.func @scan_no_sequence(%h0: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op needs at least one sequence to scan}}
  %0 = nn.scan inits(%h0) sequences() captures() : (tensor<2x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scan_sequence_rank(%h0: tensor<2x3xf32>, %xs: tensor<6xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op sequences must be [B, T, ...]}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<6xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<6xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scan_lengths(%h0: tensor<2x3xf32>, %as: tensor<2x3x4xf32>, %bs: tensor<2x5x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op sequences have different lengths}}
  %0 = nn.scan inits(%h0) sequences(%as, %bs) captures() : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<2x5x4xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %a: tensor<2x4xf32>, %b: tensor<2x4xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

// Gradients leave a scan through its operands only: the body must not read
// a parameter itself.
nn.parameter @w : tensor<2x3xf32> {init = "zeros"}
func.func @scan_reads_param(%h0: tensor<2x3xf32>, %xs: tensor<2x3x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op reads a parameter inside its body: read it outside and pass it as a capture}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<2x3x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x3xf32>):
    %w = nn.param @w : tensor<2x3xf32>
    %h1 = nn.mul %h, %w : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    nn.yield %h1 : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scan_too_few_args(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %w: tensor<7x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op body must take 3 arguments: states, sequence steps, captures}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures(%w) : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scan_too_many_args(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op body must take 2 arguments: states, sequence steps, captures}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %extra: tensor<2x4xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scan_state_arg(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op state #0 argument type differs from its initial value}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x4xf32>, %x: tensor<2x4xf32>):
    nn.yield %x : tensor<2x4xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

// The step of a [B, T, ...] sequence is [B, ...], not [T, ...] or [B, T, ...].
func.func @scan_step_arg(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op sequence #0 step argument must be 'tensor<2x4xf32>'}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<3x4xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scan_second_step_arg(%h0: tensor<2x3xf32>, %as: tensor<2x3x4xf32>, %bs: tensor<2x3x5x6xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op sequence #1 step argument must be 'tensor<2x5x6xf32>'}}
  %0 = nn.scan inits(%h0) sequences(%as, %bs) captures() : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<2x3x5x6xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %a: tensor<2x4xf32>, %b: tensor<2x3x5x6xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scan_capture_arg(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %w: tensor<7x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op capture #0 argument type differs}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures(%w) : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<7x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %wa: tensor<3x7xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scan_residuals_i32(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op attribute 'residuals' failed to satisfy constraint: 64-bit signless integer attribute}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures() {residuals = 1 : i32} : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

// Two states but only one value yielded.
func.func @scan_too_few_yields(%h0: tensor<2x3xf32>, %c0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.scan' op body must yield the new states, the outputs and 0 residuals}}
  %0:2 = nn.scan inits(%h0, %c0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %c: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0#0, %0#1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// One state and residuals = 2 need at least three yielded values.
func.func @scan_too_few_residual_yields(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3x3xf32>) {
  // expected-error @+1 {{'nn.scan' op body must yield the new states, the outputs and 2 residuals}}
  %0:2 = nn.scan inits(%h0) sequences(%xs) captures() {residuals = 2 : i64} : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    %t = nn.tanh %h : tensor<2x3xf32>
    nn.yield %t, %t : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %0#0, %0#1 : tensor<2x3xf32>, tensor<2x3x3xf32>
}

// -----

// Without a yield the body gets the implicit empty one, which yields no state.
func.func @scan_implicit_yield(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op body must yield the new states, the outputs and 0 residuals}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    %t = nn.tanh %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scan_new_state_type(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op new state #0 has type 'tensor<2x4xf32>'}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %x : tensor<2x4xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scan_second_new_state_type(%h0: tensor<2x3xf32>, %c0: tensor<2x4xf32>, %xs: tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>) {
  // expected-error @+1 {{'nn.scan' op new state #1 has type 'tensor<2x3xf32>'}}
  %0:2 = nn.scan inits(%h0, %c0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %c: tensor<2x4xf32>, %x: tensor<2x4xf32>):
    nn.yield %h, %h : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %0#0, %0#1 : tensor<2x3xf32>, tensor<2x4xf32>
}

// -----

// One state and one output: two results, not one.
func.func @scan_missing_output_result(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op expects 2 results}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h, %h : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

// save_states adds one [B, T, ...] result per state.
func.func @scan_missing_saved_states(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.scan' op expects 3 results}}
  %0:2 = nn.scan inits(%h0) sequences(%xs) captures() {save_states} : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h, %h : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %0#0, %0#1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Residuals are returned too: states, outputs, then one sequence per residual.
func.func @scan_missing_residual_result(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  // expected-error @+1 {{'nn.scan' op expects 3 results}}
  %0:2 = nn.scan inits(%h0) sequences(%xs) captures() {residuals = 1 : i64} : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h, %h, %h : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %0#0, %0#1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

func.func @scan_final_state_type(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3x3xf32> {
  // expected-error @+1 {{'nn.scan' op final state #0 type differs}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> tensor<2x3x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3x3xf32>
}

// -----

// Without return_sequence an output is its last step's value [B, ...].
func.func @scan_last_output_type(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3x3xf32>) {
  // expected-error @+1 {{'nn.scan' op output #0 must be 'tensor<2x3xf32>'}}
  %0:2 = nn.scan inits(%h0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h, %h : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %0#0, %0#1 : tensor<2x3xf32>, tensor<2x3x3xf32>
}

// -----

// With return_sequence it is [B, T, ...].
func.func @scan_sequence_output_type(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>) {
  // expected-error @+1 {{'nn.scan' op output #1 must be 'tensor<2x3x4xf32>'}}
  %0:3 = nn.scan inits(%h0) sequences(%xs) captures() {return_sequence} : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x4xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h, %h, %x : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x4xf32>
  }
  return %0#0, %0#2 : tensor<2x3xf32>, tensor<2x4xf32>
}

// -----

// A sequence [B, T, ...] is batch-major: [T, B, ...] is not accepted.
func.func @scan_time_major_output(%h0: tensor<2x3xf32>, %xs: tensor<2x5x4xf32>) -> tensor<5x2x3xf32> {
  // expected-error @+1 {{'nn.scan' op output #0 must be 'tensor<2x5x3xf32>'}}
  %0:2 = nn.scan inits(%h0) sequences(%xs) captures() {return_sequence} : (tensor<2x3xf32>, tensor<2x5x4xf32>) -> (tensor<2x3xf32>, tensor<5x2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h, %h : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %0#1 : tensor<5x2x3xf32>
}

// -----

func.func @scan_saved_state_type(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op saved states #0 must be 'tensor<2x3x3xf32>'}}
  %0:3 = nn.scan inits(%h0) sequences(%xs) captures() {save_states} : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h, %h : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %0#0 : tensor<2x3xf32>
}

// -----

// The second state's saved sequence has the first state's width.
func.func @scan_second_saved_state(%h0: tensor<2x3xf32>, %c0: tensor<2x5xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op saved states #1 must be 'tensor<2x3x5xf32>'}}
  %0:4 = nn.scan inits(%h0, %c0) sequences(%xs) captures() {save_states} : (tensor<2x3xf32>, tensor<2x5xf32>, tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x5xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %c: tensor<2x5xf32>, %x: tensor<2x4xf32>):
    nn.yield %h, %c : tensor<2x3xf32>, tensor<2x5xf32>
  }
  return %0#0 : tensor<2x3xf32>
}

// -----

func.func @scan_residual_type(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op residual #0 must be 'tensor<2x3x4xf32>'}}
  %0:3 = nn.scan inits(%h0) sequences(%xs) captures() {residuals = 1 : i64} : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h, %h, %x : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x4xf32>
  }
  return %0#0 : tensor<2x3xf32>
}

// -----

// A residual is always a sequence, also without return_sequence, and comes
// after the saved states.
func.func @scan_residual_not_sequence(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op residual #0 must be 'tensor<2x3x3xf32>'}}
  %0:4 = nn.scan inits(%h0) sequences(%xs) captures() {save_states, residuals = 1 : i64} : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    %t = nn.tanh %h : tensor<2x3xf32>
    nn.yield %t, %t, %t : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %0#0 : tensor<2x3xf32>
}

// -----

func.func @scan_i32_sequence(%h0: tensor<2x3xf32>, %xs: tensor<2x3xi32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op operand #1 must be ranked tensor of 32-bit float values}}
  %0 = nn.scan inits(%h0) sequences(%xs) captures() : (tensor<2x3xf32>, tensor<2x3xi32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2xi32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

func.func @concat_scalar(%a: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.concat' op operands must have at least one dimension}}
  %0 = nn.concat %a : tensor<f32> -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// (I64Attr reads back unsigned: the verifier must read begin signed.)
func.func @slice_negative_begin(%g: tensor<2x12xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.slice' op range [-1, 2) is outside the last dimension 12}}
  %0 = nn.slice %g {begin = -1 : i64} : tensor<2x12xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @slice_grad_outside(%x: tensor<2x3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'nn.slice_grad' op range [10, 13) is outside the last dimension 4}}
  %0 = nn.slice_grad %x {begin = 10 : i64} : tensor<2x3xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @slice_grad_rows(%x: tensor<2x3xf32>) -> tensor<4x6xf32> {
  // expected-error @+1 {{'nn.slice_grad' op result must have the gradient's shape but the last dimension}}
  %0 = nn.slice_grad %x {begin = 0 : i64} : tensor<2x3xf32> -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

func.func @embedding_grad_width(%ids: tensor<2x3xi32>, %dy: tensor<2x3x4xf32>) -> tensor<20x5xf32> {
  // expected-error @+1 {{'nn.embedding_grad' op gradient must be [2, 3, 5] (ids, then the row width)}}
  %0 = nn.embedding_grad %ids, %dy : tensor<2x3xi32>, tensor<2x3x4xf32> -> tensor<20x5xf32>
  return %0 : tensor<20x5xf32>
}

// -----

func.func @embedding_grad_table(%ids: tensor<2x3xi32>, %dy: tensor<2x3x4xf32>) -> tensor<80xf32> {
  // expected-error @+1 {{'nn.embedding_grad' op result must be a table [V, E]}}
  %0 = nn.embedding_grad %ids, %dy : tensor<2x3xi32>, tensor<2x3x4xf32> -> tensor<80xf32>
  return %0 : tensor<80xf32>
}

// -----

func.func @scan_scalar_output(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op step outputs and residuals must be [B, ...]}}
  %r:2 = nn.scan inits(%h0) sequences(%xs) captures() {return_sequence} : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    %s = nn.constant 1.0 : tensor<f32>
    nn.yield %h, %s : tensor<2x3xf32>, tensor<f32>
  }
  return %r#0 : tensor<2x3xf32>
}

// -----

func.func @scan_scalar_state(%h0: tensor<f32>, %xs: tensor<2x3x4xf32>) -> tensor<f32> {
  // expected-error @+1 {{'nn.scan' op saved states must be [B, ...]}}
  %r:2 = nn.scan inits(%h0) sequences(%xs) captures() {save_states} : (tensor<f32>, tensor<2x3x4xf32>) -> (tensor<f32>, tensor<2x3xf32>) {
  ^bb0(%h: tensor<f32>, %x: tensor<2x4xf32>):
    nn.yield %h : tensor<f32>
  }
  return %r#0 : tensor<f32>
}

// -----

func.func @scan_negative_residuals(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op residuals must not be negative}}
  %r = nn.scan inits(%h0) sequences(%xs) captures() {residuals = -1 : i64} : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %r : tensor<2x3xf32>
}

// -----

func.func @dropout_rate_one(%x: tensor<2x3xf32>, %key: i64) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.dropout' op rate must be in [0, 1), got 1}}
  %0 = nn.dropout %x, %key {rate = 1.0 : f32, stream = 0 : i64} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @dropout_rate_negative(%x: tensor<2x3xf32>, %key: i64) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.dropout' op rate must be in [0, 1), got -5.000000e-01}}
  %0 = nn.dropout %x, %key {rate = -0.5 : f32, stream = 0 : i64} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @scan_sequence_batch_mismatch(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %ys: tensor<5x3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op sequences must have the same batch size 2}}
  %r = nn.scan inits(%h0) sequences(%xs, %ys) captures() : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<5x3x4xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %y: tensor<5x4xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %r : tensor<2x3xf32>
}

// -----

// A stacked scan (repeat) runs over axis 0 of its stacks: every stack must
// hold the same number of copies.
func.func @stacked_lengths(%x: tensor<2x3xf32>, %w: tensor<4x3x3xf32>, %b: tensor<5x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op sequences have different lengths}}
  %0 = nn.scan inits(%x) sequences(%w, %b) captures() {stacked} : (tensor<2x3xf32>, tensor<4x3x3xf32>, tensor<5x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %wi: tensor<3x3xf32>, %bi: tensor<3xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

// Copy i of a stack [N, ...] is [...]: the body does not see a batch.
func.func @stacked_step_type(%x: tensor<2x3xf32>, %w: tensor<4x3x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'nn.scan' op sequence #0 step argument must be 'tensor<3x3xf32>'}}
  %0 = nn.scan inits(%x) sequences(%w) captures() {stacked} : (tensor<2x3xf32>, tensor<4x3x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %wi: tensor<4x3xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

// Saved states of a stacked scan are [N, ...] (the copies first).
func.func @stacked_saved(%x: tensor<2x3xf32>, %w: tensor<4x3x3xf32>) -> tensor<2x4x3xf32> {
  // expected-error @+1 {{'nn.scan' op saved states #0 must be 'tensor<4x2x3xf32>'}}
  %0:2 = nn.scan inits(%x) sequences(%w) captures() {stacked, save_states} : (tensor<2x3xf32>, tensor<4x3x3xf32>) -> (tensor<2x3xf32>, tensor<2x4x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %wi: tensor<3x3xf32>):
    nn.yield %h : tensor<2x3xf32>
  }
  return %0#1 : tensor<2x4x3xf32>
}
