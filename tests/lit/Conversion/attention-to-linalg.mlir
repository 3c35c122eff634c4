// RUN: %nnc-opt %s --convert-nn-to-linalg | FileCheck %s
// RUN: %nnc-opt %s --pass-pipeline='builtin.module(convert-nn-to-linalg,func.func(nnc-schedule-matmuls{vector-width=8}))' | FileCheck %s --check-prefix=SCHED
// Exercises compiler/lib/Conversion/NNToLinalg/: MatmulLowering.cpp (batch products) and the lowering of nn.transpose.

// nn.batch_matmul: the leading dimensions [2, 3] are flattened to 6, a
// transposed operand is copied once (as for nn.matmul), and an scf.for over
// the 6 slices computes each [8, 4] x [4, 8] product as the canonical
// (m, k), (k, n), (m, n) generic that nnc-schedule-matmuls tiles and
// vectorizes (with the schedule, a vector.contract inside the loop).
// nn.transpose is one copy generic reading the input through the inverse
// of the permutation.

// CHECK-DAG: #[[SWAP:.*]] = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
// CHECK-DAG: #[[MK:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[KN:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[MN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[P4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>
// CHECK-LABEL: func.func @f(
// CHECK: %[[A:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2]] : tensor<192xf32> into tensor<6x8x4xf32>
// CHECK: %[[B:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2]] : tensor<192xf32> into tensor<6x8x4xf32>
// CHECK: %[[BT:.*]] = linalg.generic {indexing_maps = [#[[SWAP]], {{.*}}]{{.*}} ins(%[[B]] : tensor<6x8x4xf32>) outs(%{{.*}} : tensor<6x4x8xf32>)
// CHECK: %[[LOOP:.*]] = scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<6x8x8xf32>)
// CHECK: %[[AI:.*]] = tensor.extract_slice %[[A]][%[[I]], 0, 0] [1, 8, 4] [1, 1, 1] : tensor<6x8x4xf32> to tensor<8x4xf32>
// CHECK: %[[BI:.*]] = tensor.extract_slice %[[BT]][%[[I]], 0, 0] [1, 4, 8] [1, 1, 1] : tensor<6x4x8xf32> to tensor<4x8xf32>
// CHECK: %[[Z:.*]] = linalg.fill
// CHECK: %[[C:.*]] = linalg.generic {indexing_maps = [#[[MK]], #[[KN]], #[[MN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[AI]], %[[BI]] : tensor<8x4xf32>, tensor<4x8xf32>) outs(%[[Z]] : tensor<8x8xf32>)
// CHECK: tensor.insert_slice %[[C]] into %[[ACC]][%[[I]], 0, 0] [1, 8, 8] [1, 1, 1] : tensor<8x8xf32> into tensor<6x8x8xf32>
// CHECK-NOT: nnc.parallel
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2, 3]] : tensor<384xf32> into tensor<2x3x8x8xf32>
// CHECK: linalg.generic {indexing_maps = [#[[P4]], {{.*}}]{{.*}} ins(%{{.*}} : tensor<2x3x8x4xf32>) outs(%{{.*}} : tensor<2x8x3x4xf32>)
// CHECK-NOT: nn.

// SCHED-LABEL: func.func @f(
// SCHED: scf.for
// SCHED: vector.contract
func.func @f(%q: tensor<2x3x8x4xf32>, %k: tensor<2x3x8x4xf32>) -> (tensor<2x3x8x8xf32>, tensor<2x8x3x4xf32>) {
  %s = nn.batch_matmul %q, %k {transpose_b} : tensor<2x3x8x4xf32>, tensor<2x3x8x4xf32> -> tensor<2x3x8x8xf32>
  %t = nn.transpose %q {permutation = array<i64: 0, 2, 1, 3>} : tensor<2x3x8x4xf32> -> tensor<2x8x3x4xf32>
  return %s, %t : tensor<2x3x8x8xf32>, tensor<2x8x3x4xf32>
}

// Slices too small for the schedule to split (64 x 64 x 32 multiply-adds)
// that add up to at least 2^20 (16 of them): the loop over slices is marked
// for nnc-parallelize-loops; a product whose slices the schedule splits
// itself (128 x 128 x 64 each) keeps it sequential.
// CHECK-LABEL: func.func @many_slices(
// CHECK: scf.for
// CHECK: tensor.insert_slice
// CHECK: } {nnc.parallel}
// CHECK-LABEL: func.func @big_slices(
// CHECK: scf.for
// CHECK-NOT: nnc.parallel
// CHECK: return
func.func @many_slices(%q: tensor<16x64x32xf32>, %k: tensor<16x32x64xf32>) -> tensor<16x64x64xf32> {
  %s = nn.batch_matmul %q, %k : tensor<16x64x32xf32>, tensor<16x32x64xf32> -> tensor<16x64x64xf32>
  return %s : tensor<16x64x64xf32>
}
func.func @big_slices(%q: tensor<2x128x64xf32>, %k: tensor<2x64x128xf32>) -> tensor<2x128x128xf32> {
  %s = nn.batch_matmul %q, %k : tensor<2x128x64xf32>, tensor<2x64x128xf32> -> tensor<2x128x128xf32>
  return %s : tensor<2x128x128xf32>
}
