// RUN: %nnc-opt %s --convert-nn-to-linalg | FileCheck %s
// RUN: %nnc-opt %s --convert-nn-to-linalg | FileCheck %s --check-prefix=NONN
// Exercises compiler/lib/Conversion/NNToLinalg/: TransformerLowering.cpp.

// The transformer primitives (issue 4) lower to linalg.generic: row
// reductions plus one elementwise generic, masks as selects on
// linalg.index, softmax along any axis as reductions over that loop.
// NONN-NOT: nn.

// CHECK-DAG: #[[ID3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[ROW3:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[ID2:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW2:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[ID1:.+]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[KEEP:.+]] = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
// CHECK-DAG: #[[NOMID:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>

// Two-pass statistics: sum -> mean, sum of squared deviations -> rstd.
// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3x8xf32>)
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-DAG: %[[INV:.*]] = arith.constant 1.250000e-01 : f32
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ROW3]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]]
// CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} ins(%[[SUM]]
// CHECK: arith.mulf %{{.*}}, %[[INV]]
// CHECK: %[[SQ:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ROW3]], #[[ROW3]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[MEAN]]
// CHECK: arith.subf
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK: %[[RSTD:.*]] = linalg.generic {{.*}} ins(%[[SQ]]
// CHECK: arith.addf %{{.*}}, %[[EPS]]
// CHECK-NEXT: math.sqrt
// CHECK-NEXT: arith.divf
// CHECK: %[[Y:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ROW3]], #[[ROW3]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[MEAN]], %[[RSTD]]
// CHECK: return %[[Y]]
func.func @layer_norm(%x: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %y = nn.layer_norm %x {epsilon = 1.0e-05 : f32} : tensor<2x3x8xf32>
  return %y : tensor<2x3x8xf32>
}

// The gradient recomputes the statistics, reduces dy and dy * xhat, and
// ends in one elementwise generic reading all four row values.
// CHECK-LABEL: func.func @layer_norm_grad(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<3x8xf32>, %[[DY:[a-z0-9]+]]: tensor<3x8xf32>)
// CHECK: %[[MEAN:.*]] = linalg.generic {{.*}} ins(%{{[0-9]+}} : tensor<3xf32>)
// CHECK: %[[RSTD:.*]] = linalg.generic {{.*}} ins(%{{[0-9]+}} : tensor<3xf32>)
// CHECK: %[[SDY:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ROW2]]], iterator_types = ["parallel", "reduction"]} ins(%[[DY]] :
// CHECK: %[[SDYX:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[ROW2]], #[[ROW2]], #[[ROW2]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]], %[[DY]], %[[MEAN]], %[[RSTD]] :
// CHECK: %[[DX:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[ROW2]], #[[ROW2]], #[[ROW2]], #[[ROW2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[DY]], %[[MEAN]], %[[RSTD]], %[[SDY]], %[[SDYX]] :
// CHECK: return %[[DX]]
func.func @layer_norm_grad(%x: tensor<3x8xf32>, %dy: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %y = nn.layer_norm_grad %x, %dy {epsilon = 1.0e-05 : f32} : tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// CHECK-LABEL: func.func @gelu(
// CHECK-DAG: %[[C3:.*]] = arith.constant 1.341450e-01 : f32
// CHECK-DAG: %[[K:.*]] = arith.constant 0.797884583 : f32
// CHECK-DAG: %[[C:.*]] = arith.constant 4.471500e-02 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.mulf %{{.*}}, %[[C]]
// CHECK: arith.mulf %{{.*}}, %[[K]]
// CHECK-NEXT: math.tanh
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK: math.tanh
// CHECK: arith.mulf %{{.*}}, %[[C3]]
func.func @gelu(%x: tensor<3x8xf32>, %dy: tensor<3x8xf32>) -> (tensor<3x8xf32>, tensor<3x8xf32>) {
  %y = nn.gelu %x : tensor<3x8xf32>
  %dx = nn.gelu_grad %x, %dy : tensor<3x8xf32>
  return %y, %dx : tensor<3x8xf32>, tensor<3x8xf32>
}

// Element [b, i, j] is masked where j > i (+ offset).
// CHECK-LABEL: func.func @causal_mask(
// CHECK-SAME: %[[S:[a-z0-9]+]]: tensor<2x4x5xf32>, %[[POS:[a-z0-9]+]]: i64)
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[FILL:.*]] = arith.constant -1.000000e+30 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID3]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[S]]
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[I:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[I64:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK-NEXT: %[[J:.*]] = linalg.index 2 : index
// CHECK-NEXT: %[[J64:.*]] = arith.index_cast %[[J]] : index to i64
// CHECK-NEXT: %[[M:.*]] = arith.cmpi sgt, %[[J64]], %[[I64]] : i64
// CHECK-NEXT: arith.select %[[M]], %[[FILL]], %[[IN]] : f32
// CHECK: linalg.generic
// CHECK: %[[I64:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[J64:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK-NEXT: %[[IO:.*]] = arith.addi %[[I64]], %[[POS]] : i64
// CHECK-NEXT: %[[M:.*]] = arith.cmpi sgt, %[[J64]], %[[IO]] : i64
// CHECK-NEXT: arith.select %[[M]], %[[ZERO]], %{{.*}} : f32
func.func @causal_mask(%s: tensor<2x4x5xf32>, %pos: i64) -> (tensor<2x4x5xf32>, tensor<2x4x5xf32>) {
  %a = nn.causal_mask %s {fill = -1.0e+30 : f32} : tensor<2x4x5xf32>
  %b = nn.causal_mask %s offset %pos {fill = 0.0 : f32} : tensor<2x4x5xf32>
  return %a, %b : tensor<2x4x5xf32>, tensor<2x4x5xf32>
}

// keep is read broadcast (an indexing map, no copy).
// CHECK-LABEL: func.func @mask(
// CHECK-SAME: %[[S:[a-z0-9]+]]: tensor<2x4x5xf32>, %[[K:[a-z0-9]+]]: tensor<2x1x5xf32>)
// CHECK-DAG: %[[FILL:.*]] = arith.constant -1.000000e+30 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID3]], #[[KEEP]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[S]], %[[K]]
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[KV:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[KEPT:.*]] = arith.cmpf une, %[[KV]], %[[ZERO]] : f32
// CHECK-NEXT: arith.select %[[KEPT]], %[[IN]], %[[FILL]] : f32
func.func @mask(%s: tensor<2x4x5xf32>, %keep: tensor<2x1x5xf32>) -> tensor<2x4x5xf32> {
  %a = nn.mask %s, %keep {fill = -1.0e+30 : f32} : tensor<2x4x5xf32>, tensor<2x1x5xf32>
  return %a : tensor<2x4x5xf32>
}

// CHECK-LABEL: func.func @not_padding(
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<2x5xi32>) outs(%{{.*}} : tensor<2x5xf32>)
// CHECK-NEXT: ^bb0(%[[ID:.*]]: i32, %{{.*}}: f32):
// CHECK-NEXT: %[[PAD:.*]] = arith.cmpi eq, %[[ID]], %{{.*}} : i32
// CHECK-NEXT: arith.select %[[PAD]], %{{.*}}, %{{.*}} : f32
func.func @not_padding(%ids: tensor<2x5xi32>) -> tensor<2x5xf32> {
  %a = nn.not_padding %ids : tensor<2x5xi32> -> tensor<2x5xf32>
  return %a : tensor<2x5xf32>
}

// CHECK-LABEL: func.func @range(
// CHECK-SAME: %[[POS:[a-z0-9]+]]: i64)
// CHECK: linalg.generic {indexing_maps = [#[[ID1]]], iterator_types = ["parallel"]} outs(%{{.*}} : tensor<5xi32>)
// CHECK: %[[I:.*]] = linalg.index 0 : index
// CHECK-NEXT: %[[I64:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK-NEXT: %[[I32:.*]] = arith.trunci %[[I64]] : i64 to i32
// CHECK-NEXT: linalg.yield %[[I32]] : i32
// CHECK: linalg.generic {indexing_maps = [#[[ID1]]], iterator_types = ["parallel"]} outs(%{{.*}} : tensor<1xi32>)
// CHECK: arith.addi %{{.*}}, %[[POS]] : i64
func.func @range(%pos: i64) -> (tensor<5xi32>, tensor<1xi32>) {
  %a = nn.range : tensor<5xi32>
  %b = nn.range offset %pos : tensor<1xi32>
  return %a, %b : tensor<5xi32>, tensor<1xi32>
}

// softmax over axis 1 of [2, 4, 3] (and its gradient with axis -2, the
// same axis): the reductions run over d1 and the row statistics are [2, 3].
// CHECK-LABEL: func.func @softmax_axis(
// CHECK: %[[MX:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[NOMID]]], iterator_types = ["parallel", "reduction", "parallel"]} {{.*}} outs(%{{.*}} : tensor<2x3xf32>)
// CHECK: arith.maxf
// CHECK: %[[SE:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[NOMID]], #[[NOMID]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK: %[[P:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[NOMID]], #[[NOMID]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%{{.*}}, %[[MX]], %[[SE]] :
// CHECK: %[[DOT:.*]] = linalg.generic {indexing_maps = [#[[ID3]], #[[ID3]], #[[NOMID]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[P]], %{{.*}} :
// CHECK: linalg.generic {indexing_maps = [#[[ID3]], #[[ID3]], #[[NOMID]], #[[ID3]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[P]], %{{.*}}, %[[DOT]] :
func.func @softmax_axis(%x: tensor<2x4x3xf32>, %dy: tensor<2x4x3xf32>) -> (tensor<2x4x3xf32>, tensor<2x4x3xf32>) {
  %p = nn.softmax %x {axis = 1 : i64} : tensor<2x4x3xf32>
  %d = nn.softmax_grad %p, %dy {axis = -2 : i64} : tensor<2x4x3xf32>
  return %p, %d : tensor<2x4x3xf32>, tensor<2x4x3xf32>
}
