// RUN: %nnc-opt %s -split-input-file --convert-nn-to-linalg | FileCheck %s
// RUN: %nnc-opt %s -split-input-file --convert-nn-to-linalg | FileCheck %s --check-prefix=NONN
// Exercises compiler/lib/Conversion/NNToLinalg/: ScanLowering.cpp and SequenceLowering.cpp (concat, slice, embedding, dropout inside the scans).

// No nn op survives the lowering, the scan body's ops included.
// NONN-NOT: nn.

// nn.scan becomes an scf.for over the T steps. Each state starts in a copy
// of its initial value (the loop writes it in place); the step of the
// sequence is a rank-reducing tensor.extract_slice at [0, t, 0]; the body's
// ops are lowered inside the loop, reading the captures directly; the new
// state is linalg.copy'd into the carried state. An output without
// return_sequence is carried too (starting from zeros) and copied into at
// every step, so the loop leaves the last step's value.

// CHECK-LABEL: func.func @scan_last(
// CHECK-SAME: %[[H0:[a-z0-9]+]]: tensor<2x3xf32>, %[[XS:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[W:[a-z0-9]+]]: tensor<4x3xf32>)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: %[[H:.*]] = linalg.copy ins(%[[H0]] : tensor<2x3xf32>) outs(%[[E]] : tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: %[[EY:.*]] = tensor.empty() : tensor<2x3xf32>
// CHECK: %[[Y0:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EY]] : tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: %[[LOOP:.*]]:2 = scf.for %[[I:.*]] = %[[C0]] to %[[C3]] step %[[C1]] iter_args(%[[HI:.*]] = %[[H]], %[[YI:.*]] = %[[Y0]]) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
// CHECK-NEXT: %[[X:.*]] = tensor.extract_slice %[[XS]][0, %[[I]], 0] [2, 1, 4] [1, 1, 1] : tensor<2x3x4xf32> to tensor<2x4xf32>
// The product with the captured matrix, then the add of the carried state.
// CHECK: %[[M:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : tensor<2x4xf32>, tensor<4x3xf32>)
// CHECK: %[[H1:.*]] = linalg.generic {{.*}} ins(%[[HI]], %[[M]] : tensor<2x3xf32>, tensor<2x3xf32>)
// CHECK: arith.addf
// CHECK: %[[NH:.*]] = linalg.copy ins(%[[H1]] : tensor<2x3xf32>) outs(%[[HI]] : tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[NY:.*]] = linalg.copy ins(%[[H1]] : tensor<2x3xf32>) outs(%[[YI]] : tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: scf.yield %[[NH]], %[[NY]] : tensor<2x3xf32>, tensor<2x3xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return %[[LOOP]]#0, %[[LOOP]]#1 : tensor<2x3xf32>, tensor<2x3xf32>
func.func @scan_last(%h0: tensor<2x3xf32>, %xs: tensor<2x3x4xf32>, %w: tensor<4x3xf32>)
    -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %hT, %y = nn.scan inits(%h0) sequences(%xs) captures(%w)
      : (tensor<2x3xf32>, tensor<2x3x4xf32>, tensor<4x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x4xf32>, %wa: tensor<4x3xf32>):
    %m = nn.matmul %x, %wa : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
    %h1 = nn.add %h, %m : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    nn.yield %h1, %h1 : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %hT, %y : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// return_sequence: the output sequence starts as tensor.empty (every step
// is written) and each step's value is tensor.insert_slice'd at [0, t, 0].
// save_states: the state at the start of the step is inserted into its
// sequence before the step runs. residuals = 1: the last yielded value is
// inserted into its own sequence, returned last.

// CHECK-LABEL: func.func @scan_sequence_saved_residual(
// CHECK-SAME: %[[H0:[a-z0-9]+]]: tensor<2x3xf32>, %[[XS:[a-z0-9]+]]: tensor<2x3x3xf32>)
// CHECK: %[[H:.*]] = linalg.copy ins(%[[H0]] : tensor<2x3xf32>)
// CHECK: %[[YS0:.*]] = tensor.empty() : tensor<2x3x3xf32>
// CHECK: %[[HS0:.*]] = tensor.empty() : tensor<2x3x3xf32>
// CHECK: %[[RS0:.*]] = tensor.empty() : tensor<2x3x3xf32>
// CHECK-NOT: linalg.fill
// CHECK: %[[LOOP:.*]]:4 = scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[HI:.*]] = %[[H]], %[[YS:.*]] = %[[YS0]], %[[HS:.*]] = %[[HS0]], %[[RS:.*]] = %[[RS0]]) -> (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
// CHECK-NEXT: %[[SAVED:.*]] = tensor.insert_slice %[[HI]] into %[[HS]][0, %[[I]], 0] [2, 1, 3] [1, 1, 1] : tensor<2x3xf32> into tensor<2x3x3xf32>
// CHECK-NEXT: %[[X:.*]] = tensor.extract_slice %[[XS]][0, %[[I]], 0] [2, 1, 3] [1, 1, 1] : tensor<2x3x3xf32> to tensor<2x3xf32>
// CHECK: %[[S:.*]] = linalg.generic {{.*}} ins(%[[HI]], %[[X]] : tensor<2x3xf32>, tensor<2x3xf32>)
// CHECK: arith.addf
// CHECK: %[[T:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<2x3xf32>)
// CHECK: math.tanh
// CHECK: %[[NH:.*]] = linalg.copy ins(%[[T]] : tensor<2x3xf32>) outs(%[[HI]] : tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-NEXT: %[[NYS:.*]] = tensor.insert_slice %[[T]] into %[[YS]][0, %[[I]], 0] [2, 1, 3] [1, 1, 1] : tensor<2x3xf32> into tensor<2x3x3xf32>
// CHECK-NEXT: %[[NRS:.*]] = tensor.insert_slice %[[S]] into %[[RS]][0, %[[I]], 0] [2, 1, 3] [1, 1, 1] : tensor<2x3xf32> into tensor<2x3x3xf32>
// CHECK-NEXT: scf.yield %[[NH]], %[[NYS]], %[[SAVED]], %[[NRS]] : tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>
// CHECK: return %[[LOOP]]#0, %[[LOOP]]#1, %[[LOOP]]#2, %[[LOOP]]#3
func.func @scan_sequence_saved_residual(%h0: tensor<2x3xf32>, %xs: tensor<2x3x3xf32>)
    -> (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
  %r:4 = nn.scan inits(%h0) sequences(%xs) captures()
      {return_sequence, save_states, residuals = 1 : i64}
      : (tensor<2x3xf32>, tensor<2x3x3xf32>)
      -> (tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x3xf32>):
    %s = nn.add %h, %x : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %h1 = nn.tanh %s : tensor<2x3xf32>
    nn.yield %h1, %h1, %s : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %r#0, %r#1, %r#2, %r#3
      : tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>
}

// -----

// reverse: the loop still counts i = 0..T-1, the step is t = (T-1) - i and
// every slice (the sequence step, the output, the saved state, the
// residual) is taken at t; outputs stay indexed by t.

// CHECK-LABEL: func.func @scan_reverse(
// CHECK-SAME: %[[H0:[a-z0-9]+]]: tensor<2x3xf32>, %[[XS:[a-z0-9]+]]: tensor<2x5x3xf32>)
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: %[[LOOP:.*]]:4 = scf.for %[[I:.*]] = %[[C0]] to %[[C5]] step %[[C1]] iter_args(%[[HI:.*]] = %{{.*}}, %[[YS:.*]] = %{{.*}}, %[[HS:.*]] = %{{.*}}, %[[RS:.*]] = %{{.*}})
// CHECK-NEXT: %[[T:.*]] = arith.subi %[[C4]], %[[I]] : index
// CHECK-NEXT: %[[SAVED:.*]] = tensor.insert_slice %[[HI]] into %[[HS]][0, %[[T]], 0] [2, 1, 3] [1, 1, 1]
// CHECK-NEXT: %[[X:.*]] = tensor.extract_slice %[[XS]][0, %[[T]], 0] [2, 1, 3] [1, 1, 1] : tensor<2x5x3xf32> to tensor<2x3xf32>
// CHECK: linalg.copy
// CHECK-NEXT: tensor.insert_slice %{{.*}} into %[[YS]][0, %[[T]], 0] [2, 1, 3] [1, 1, 1]
// CHECK-NEXT: tensor.insert_slice %{{.*}} into %[[RS]][0, %[[T]], 0] [2, 1, 3] [1, 1, 1]
// CHECK-NEXT: scf.yield
// CHECK-NOT: %[[I]]
// CHECK: return %[[LOOP]]#0, %[[LOOP]]#1, %[[LOOP]]#2, %[[LOOP]]#3
func.func @scan_reverse(%h0: tensor<2x3xf32>, %xs: tensor<2x5x3xf32>)
    -> (tensor<2x3xf32>, tensor<2x5x3xf32>, tensor<2x5x3xf32>, tensor<2x5x3xf32>) {
  %r:4 = nn.scan inits(%h0) sequences(%xs) captures()
      {reverse, return_sequence, save_states, residuals = 1 : i64}
      : (tensor<2x3xf32>, tensor<2x5x3xf32>)
      -> (tensor<2x3xf32>, tensor<2x5x3xf32>, tensor<2x5x3xf32>, tensor<2x5x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %x: tensor<2x3xf32>):
    %s = nn.add %h, %x : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %h1 = nn.tanh %s : tensor<2x3xf32>
    nn.yield %h1, %h1, %s : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %r#0, %r#1, %r#2, %r#3
      : tensor<2x3xf32>, tensor<2x5x3xf32>, tensor<2x5x3xf32>, tensor<2x5x3xf32>
}

// -----

// Two states (h, c), two sequences, saved states without outputs: each
// state gets its own copy, both are saved before the step, and the
// iter_args are ordered states, saved states.

// CHECK-LABEL: func.func @scan_two_states(
// CHECK-SAME: %[[H0:[a-z0-9]+]]: tensor<2x3xf32>, %[[C0:[a-z0-9]+]]: tensor<2x3xf32>, %[[AS:[a-z0-9]+]]: tensor<2x3x3xf32>, %[[BS:[a-z0-9]+]]: tensor<2x3x3xf32>)
// CHECK: %[[H:.*]] = linalg.copy ins(%[[H0]] : tensor<2x3xf32>)
// CHECK: %[[C:.*]] = linalg.copy ins(%[[C0]] : tensor<2x3xf32>)
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[HI:.*]] = %[[H]], %[[CI:.*]] = %[[C]], %[[HS:.*]] = %{{.*}}, %[[CS:.*]] = %{{.*}}) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>)
// CHECK-NEXT: %[[SH:.*]] = tensor.insert_slice %[[HI]] into %[[HS]][0, %[[I]], 0]
// CHECK-NEXT: %[[SC:.*]] = tensor.insert_slice %[[CI]] into %[[CS]][0, %[[I]], 0]
// CHECK-NEXT: %[[A:.*]] = tensor.extract_slice %[[AS]][0, %[[I]], 0]
// CHECK-NEXT: %[[B:.*]] = tensor.extract_slice %[[BS]][0, %[[I]], 0]
// CHECK: %[[NH:.*]] = linalg.copy ins(%{{.*}} : tensor<2x3xf32>) outs(%[[HI]] : tensor<2x3xf32>)
// CHECK-NEXT: %[[NC:.*]] = linalg.copy ins(%{{.*}} : tensor<2x3xf32>) outs(%[[CI]] : tensor<2x3xf32>)
// CHECK-NEXT: scf.yield %[[NH]], %[[NC]], %[[SH]], %[[SC]]
func.func @scan_two_states(%h0: tensor<2x3xf32>, %c0: tensor<2x3xf32>, %as: tensor<2x3x3xf32>,
                           %bs: tensor<2x3x3xf32>)
    -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
  %r:4 = nn.scan inits(%h0, %c0) sequences(%as, %bs) captures() {save_states}
      : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>)
      -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
  ^bb0(%h: tensor<2x3xf32>, %c: tensor<2x3xf32>, %a: tensor<2x3xf32>, %b: tensor<2x3xf32>):
    %c1 = nn.add %c, %a : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    %h1 = nn.mul %h, %b : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
    nn.yield %h1, %c1 : tensor<2x3xf32>, tensor<2x3xf32>
  }
  return %r#0, %r#1, %r#2, %r#3 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3x3xf32>, tensor<2x3x3xf32>
}

// -----

// nn.concat: a tensor.empty filled by one tensor.insert_slice per operand
// at its offset along the last axis.

// CHECK-LABEL: func.func @concat(
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<2x3xf32>, %[[B:[a-z0-9]+]]: tensor<2x4xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x10xf32>
// CHECK-NEXT: %[[R1:.*]] = tensor.insert_slice %[[A]] into %[[E]][0, 0] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<2x10xf32>
// CHECK-NEXT: %[[R2:.*]] = tensor.insert_slice %[[B]] into %[[R1]][0, 3] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<2x10xf32>
// CHECK-NEXT: %[[R3:.*]] = tensor.insert_slice %[[A]] into %[[R2]][0, 7] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<2x10xf32>
// CHECK-NEXT: return %[[R3]]
func.func @concat(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<2x10xf32> {
  %0 = nn.concat %a, %b, %a : tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x3xf32> -> tensor<2x10xf32>
  return %0 : tensor<2x10xf32>
}

// -----

// CHECK-LABEL: func.func @concat_rank3(
// CHECK-SAME: %[[A:[a-z0-9]+]]: tensor<2x3x1xf32>, %[[B:[a-z0-9]+]]: tensor<2x3x2xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3x3xf32>
// CHECK-NEXT: %[[R1:.*]] = tensor.insert_slice %[[A]] into %[[E]][0, 0, 0] [2, 3, 1] [1, 1, 1]
// CHECK-NEXT: %[[R2:.*]] = tensor.insert_slice %[[B]] into %[[R1]][0, 0, 1] [2, 3, 2] [1, 1, 1]
// CHECK-NEXT: return %[[R2]]
func.func @concat_rank3(%a: tensor<2x3x1xf32>, %b: tensor<2x3x2xf32>) -> tensor<2x3x3xf32> {
  %0 = nn.concat %a, %b : tensor<2x3x1xf32>, tensor<2x3x2xf32> -> tensor<2x3x3xf32>
  return %0 : tensor<2x3x3xf32>
}

// -----

// nn.slice: a tensor.extract_slice of the range of the last axis.

// CHECK-LABEL: func.func @slice(
// CHECK-SAME: %[[G:[a-z0-9]+]]: tensor<2x12xf32>)
// CHECK-NEXT: %[[S:.*]] = tensor.extract_slice %[[G]][0, 6] [2, 3] [1, 1] : tensor<2x12xf32> to tensor<2x3xf32>
// CHECK-NEXT: return %[[S]]
func.func @slice(%g: tensor<2x12xf32>) -> tensor<2x3xf32> {
  %0 = nn.slice %g {begin = 6 : i64} : tensor<2x12xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// nn.slice_grad: zeros with the gradient tensor.insert_slice'd at the range.

// CHECK-LABEL: func.func @slice_grad(
// CHECK-SAME: %[[D:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x12xf32>
// CHECK-NEXT: %[[Z:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E]] : tensor<2x12xf32>) -> tensor<2x12xf32>
// CHECK-NEXT: %[[R:.*]] = tensor.insert_slice %[[D]] into %[[Z]][0, 9] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<2x12xf32>
// CHECK-NEXT: return %[[R]]
func.func @slice_grad(%d: tensor<2x3xf32>) -> tensor<2x12xf32> {
  %0 = nn.slice_grad %d {begin = 9 : i64} : tensor<2x3xf32> -> tensor<2x12xf32>
  return %0 : tensor<2x12xf32>
}

// -----

// A slice gradient as wide as its input folds away during the lowering.

// CHECK-LABEL: func.func @slice_grad_full(
// CHECK-SAME: %[[D:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[D]]
func.func @slice_grad_full(%d: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = nn.slice_grad %d {begin = 0 : i64} : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// nn.embedding: one generic over the result, reading the id (the result's
// map without its last dimension), clamping it into [0, V-1], extracting
// the table row at the clamped id and the column linalg.index 2, and
// selecting 0 when the id was outside the table.

// CHECK-DAG: #[[IDS:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @embedding(
// CHECK-SAME: %[[T:[a-z0-9]+]]: tensor<20x4xf32>, %[[I:[a-z0-9]+]]: tensor<2x3xi32>)
// CHECK-DAG: %[[TOP:.*]] = arith.constant 19 : i32
// CHECK-DAG: %[[LOW:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3x4xf32>
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[IDS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[I]] : tensor<2x3xi32>) outs(%[[E]] : tensor<2x3x4xf32>)
// CHECK-NEXT: ^bb0(%[[ID:.*]]: i32, %{{.*}}: f32):
// CHECK-DAG: %[[LE:.*]] = arith.cmpi sle, %[[ID]], %[[TOP]] : i32
// CHECK-DAG: %[[GE:.*]] = arith.cmpi sge, %[[ID]], %[[LOW]] : i32
// CHECK: %[[OK:.*]] = arith.andi
// CHECK: %[[MAX:.*]] = arith.maxsi %[[ID]], %[[LOW]] : i32
// CHECK: %[[MIN:.*]] = arith.minsi %[[MAX]], %[[TOP]] : i32
// CHECK: %[[ROW:.*]] = arith.index_cast %[[MIN]] : i32 to index
// CHECK: %[[COL:.*]] = linalg.index 2 : index
// CHECK: %[[X:.*]] = tensor.extract %[[T]][%[[ROW]], %[[COL]]] : tensor<20x4xf32>
// CHECK: %[[V:.*]] = arith.select %[[OK]], %[[X]], %[[ZERO]] : f32
// CHECK: linalg.yield %[[V]] : f32
// CHECK: return %[[R]]
func.func @embedding(%t: tensor<20x4xf32>, %ids: tensor<2x3xi32>) -> tensor<2x3x4xf32> {
  %0 = nn.embedding %t, %ids : tensor<20x4xf32>, tensor<2x3xi32> -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// nn.embedding_grad: ids and dy flattened to [N] and [N, E], then an
// scf.for over the N positions adding each row of dy into the row of a
// zero table at its id (a loop, since ids repeat), scaled by 0 when the id
// is outside the table.

// CHECK-LABEL: func.func @embedding_grad(
// CHECK-SAME: %[[I:[a-z0-9]+]]: tensor<2x3xi32>, %[[DY:[a-z0-9]+]]: tensor<2x3x4xf32>)
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : index
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[IDS:.*]] = tensor.collapse_shape %[[I]] {{\[}}[0, 1]] : tensor<2x3xi32> into tensor<6xi32>
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[DY]] {{\[}}[0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
// CHECK: %[[ROWS:.*]] = tensor.expand_shape %[[FLAT]] {{\[}}[0, 1]] : tensor<24xf32> into tensor<6x4xf32>
// CHECK: %[[Z:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<20x4xf32>) -> tensor<20x4xf32>
// CHECK: %[[R:.*]] = scf.for %[[N:.*]] = %{{.*}} to %[[C6]] step %{{.*}} iter_args(%[[ACC:.*]] = %[[Z]]) -> (tensor<20x4xf32>) {
// CHECK: %[[ID:.*]] = tensor.extract %[[IDS]][%[[N]]] : tensor<6xi32>
// CHECK: %[[ROW:.*]] = arith.index_cast
// CHECK: %[[SCALE:.*]] = arith.select %{{.*}}, %[[ONE]], %[[ZERO]] : f32
// CHECK: %[[G:.*]] = tensor.extract_slice %[[ROWS]][%[[N]], 0] [1, 4] [1, 1] : tensor<6x4xf32> to tensor<4xf32>
// CHECK: %[[CUR:.*]] = tensor.extract_slice %[[ACC]][%[[ROW]], 0] [1, 4] [1, 1] : tensor<20x4xf32> to tensor<4xf32>
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[CUR]], %[[G]] : tensor<4xf32>, tensor<4xf32>)
// CHECK: arith.mulf %{{.*}}, %[[SCALE]] : f32
// CHECK: arith.addf
// CHECK: %[[NEXT:.*]] = tensor.insert_slice %[[SUM]] into %[[ACC]][%[[ROW]], 0] [1, 4] [1, 1] : tensor<4xf32> into tensor<20x4xf32>
// CHECK-NEXT: scf.yield %[[NEXT]] : tensor<20x4xf32>
// CHECK: return %[[R]]
func.func @embedding_grad(%ids: tensor<2x3xi32>, %dy: tensor<2x3x4xf32>) -> tensor<20x4xf32> {
  %0 = nn.embedding_grad %ids, %dy : tensor<2x3xi32>, tensor<2x3x4xf32> -> tensor<20x4xf32>
  return %0 : tensor<20x4xf32>
}

// -----

// nn.dropout: one elementwise generic; the mask is a hash of the key and
// the element's linear index (linalg.index 0 * 4 + linalg.index 1), kept
// where the uniform value is >= rate, and kept elements are scaled by
// 1 / (1 - rate).

// The key's low 40 bits are the step (what the hash takes), the bits above
// a row offset: the linear index counts from offset * 4 (a row's elements).
// CHECK-LABEL: func.func @dropout(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x4xf32>, %[[KEY:[a-z0-9]+]]: i64)
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 1.33333337 : f32
// CHECK-DAG: %[[RATE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[LOW:.*]] = arith.constant 1099511627775 : i64
// CHECK-DAG: %[[C40:.*]] = arith.constant 40 : i64
// CHECK-DAG: %[[C4I:.*]] = arith.constant 4 : i64
// CHECK: %[[STEP:.*]] = arith.andi %[[KEY]], %[[LOW]] : i64
// CHECK: %[[OFF:.*]] = arith.shrui %[[KEY]], %[[C40]] : i64
// CHECK: %[[SHIFT:.*]] = arith.muli %[[OFF]], %[[C4I]] : i64
// CHECK: %[[R:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<2x4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[D0:.*]] = linalg.index 0 : index
// CHECK-NEXT: %[[D1:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[ROW:.*]] = arith.muli %[[D0]], %[[C4]] : index
// CHECK-NEXT: %[[LIN:.*]] = arith.addi %[[ROW]], %[[D1]] : index
// CHECK-NEXT: %[[LIN64:.*]] = arith.index_cast %[[LIN]] : index to i64
// CHECK-NEXT: arith.addi %[[LIN64]], %[[SHIFT]] : i64
// CHECK: arith.muli %[[STEP]], %{{.*}} : i64
// CHECK: %[[U:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK-NEXT: %[[KEEP:.*]] = arith.cmpf oge, %[[U]], %[[RATE]] : f32
// CHECK-NEXT: %[[SC:.*]] = arith.mulf %[[IN]], %[[SCALE]] : f32
// CHECK-NEXT: %[[V:.*]] = arith.select %[[KEEP]], %[[SC]], %[[ZERO]] : f32
// CHECK-NEXT: linalg.yield %[[V]] : f32
// CHECK: return %[[R]]
func.func @dropout(%x: tensor<2x4xf32>, %key: i64) -> tensor<2x4xf32> {
  %0 = nn.dropout %x, %key {rate = 0.25 : f32, stream = 3 : i64} : tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// Two dropouts with different streams and the same key use different
// masks: the hashes start from different constants.

// CHECK-LABEL: func.func @dropout_streams(
// CHECK: %[[A:.*]] = linalg.generic
// CHECK: arith.addi %{{.*}}, %[[S1:c-?[0-9]+_i64]] : i64
// CHECK: %[[B:.*]] = linalg.generic
// CHECK-NOT: arith.addi %{{.*}}, %[[S1]] : i64
// CHECK: return %[[A]], %[[B]]
func.func @dropout_streams(%x: tensor<2x4xf32>, %key: i64) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %0 = nn.dropout %x, %key {rate = 0.5 : f32, stream = 1 : i64} : tensor<2x4xf32>
  %1 = nn.dropout %x, %key {rate = 0.5 : f32, stream = 2 : i64} : tensor<2x4xf32>
  return %0, %1 : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// A stacked scan (repeat(N, Layer(...))) loops over the copies: each copy's
// parameters are the rank-reducing slice [i, 0, 0] of the stack, and the
// loop is marked nnc.repeat_loop (nnc-outline-kernels keeps it in the entry
// point and makes kernels of its body).
// CHECK-LABEL: func.func @stacked(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3xf32>, %[[WS:[a-z0-9]+]]: tensor<4x3x3xf32>)
// CHECK: %[[LOOP:.*]] = scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[H:.*]] = %{{.*}}) -> (tensor<2x3xf32>) {
// CHECK-NEXT: %[[W:.*]] = tensor.extract_slice %[[WS]][%[[I]], 0, 0] [1, 3, 3] [1, 1, 1] : tensor<4x3x3xf32> to tensor<3x3xf32>
// CHECK: linalg.generic {{.*}} ins(%[[H]], %[[W]] : tensor<2x3xf32>, tensor<3x3xf32>)
// CHECK: scf.yield
// CHECK-NEXT: } {nnc.repeat_loop}
// CHECK-NEXT: return %[[LOOP]] : tensor<2x3xf32>
func.func @stacked(%x: tensor<2x3xf32>, %ws: tensor<4x3x3xf32>) -> tensor<2x3xf32> {
  %y = nn.scan inits(%x) sequences(%ws) captures() {stacked}
      : (tensor<2x3xf32>, tensor<4x3x3xf32>) -> tensor<2x3xf32> {
  ^bb0(%h: tensor<2x3xf32>, %w: tensor<3x3xf32>):
    %m = nn.matmul %h, %w : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x3xf32>
    %t = nn.tanh %m : tensor<2x3xf32>
    nn.yield %t : tensor<2x3xf32>
  }
  return %y : tensor<2x3xf32>
}

// -----

// In the cached step, a stacked scan writes each copy's cache in place: the
// loop carries the stacked caches themselves (no empty tensor, no copy),
// hands the body its copy's slice from the carried value, and inserts the
// written slice back; the step's copy of the new caches into the state they
// came from (through the views between [B, N, ...] and [N, B, ...]) is the
// update itself and goes.
// CHECK-LABEL: func.func @stacked_cache(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x1x2xf32>, %[[C:[a-z0-9]+]]: tensor<1x3x4x2xf32>, %[[P:[a-z0-9]+]]: tensor<1x1xf32>)
// CHECK: %[[CS:.*]] = tensor.collapse_shape %[[C]]
// CHECK: %[[CN:.*]] = tensor.expand_shape %[[CS]]
// CHECK: %[[LOOP:.*]]:2 = scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[H:.*]] = %{{.*}}, %[[CI:.*]] = %[[CN]]) -> (tensor<1x1x2xf32>, tensor<3x1x4x2xf32>) {
// CHECK: %[[MINE:.*]] = tensor.extract_slice %[[CI]][%[[I]], 0, 0, 0] [1, 1, 4, 2] [1, 1, 1, 1] : tensor<3x1x4x2xf32> to tensor<1x4x2xf32>
// CHECK: tensor.insert_slice %{{.*}} into %[[MINE]]
// CHECK: tensor.insert_slice %{{.*}} into %[[CI]][%[[I]], 0, 0, 0]
// CHECK: } {nnc.repeat_loop}
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @stacked_cache(%x: tensor<1x1x2xf32>, %c: tensor<1x3x4x2xf32>, %p: tensor<1x1xf32>)
    -> (tensor<1x1x2xf32>, tensor<1x3x4x2xf32>) {
  %cn = nn.reshape %c : tensor<1x3x4x2xf32> -> tensor<3x1x4x2xf32>
  %y:2 = nn.scan inits(%x) sequences(%cn) captures(%p) {stacked, return_sequence}
      : (tensor<1x1x2xf32>, tensor<3x1x4x2xf32>, tensor<1x1xf32>) -> (tensor<1x1x2xf32>, tensor<3x1x4x2xf32>) {
  ^bb0(%h: tensor<1x1x2xf32>, %ci: tensor<1x4x2xf32>, %pos: tensor<1x1xf32>):
    %c0 = arith.constant 0 : index
    %f = tensor.extract %pos[%c0, %c0] : tensor<1x1xf32>
    %i = arith.fptosi %f : f32 to i64
    %w = nn.cache_write %h into %ci at %i : tensor<1x1x2xf32> into tensor<1x4x2xf32>
    nn.yield %h, %w : tensor<1x1x2xf32>, tensor<1x4x2xf32>
  }
  %back = nn.reshape %y#1 : tensor<3x1x4x2xf32> -> tensor<1x3x4x2xf32>
  %out = linalg.copy ins(%back : tensor<1x3x4x2xf32>) outs(%c : tensor<1x3x4x2xf32>) -> tensor<1x3x4x2xf32>
  return %y#0, %out : tensor<1x1x2xf32>, tensor<1x3x4x2xf32>
}
