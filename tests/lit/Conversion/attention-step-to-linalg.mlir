// RUN: %nnc-opt %s --pass-pipeline='builtin.module(convert-nn-to-linalg,nnc-fuse-elementwise)' | FileCheck %s
// RUN: %nnc-opt %s --pass-pipeline='builtin.module(convert-nn-to-linalg,nnc-fuse-elementwise,func.func(nnc-schedule-matmuls))' | FileCheck %s --check-prefix=SCHED

// Batch-1 generation's attention: one query row per head against a key and
// a value cache of [B, T, H * D], split into heads by a reshape and a
// transpose. A product with one row per slice is one generic over all
// slices that reads its operands where they lie: the keys in (n, k) order
// without a transposed copy, and (after nnc-fuse-elementwise) the caches
// through the head-splitting permutation, with no copy at all.

// CHECK-DAG: #[[Q:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d4)>
// CHECK-DAG: #[[K:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d1, d4)>
// CHECK-DAG: #[[S:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[O:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[QIN:.*]]: tensor<1x1x64xf32>, %[[KC:.*]]: tensor<1x16x64xf32>, %[[VC:.*]]: tensor<1x16x64xf32>)
// CHECK-NOT: tensor<1x4x16x16xf32>
// CHECK: %[[KH:.*]] = tensor.expand_shape {{.*}} into tensor<1x16x4x16xf32>
// CHECK: %[[SC:.*]] = linalg.generic {indexing_maps = [#[[Q]], #[[K]], #[[S]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %[[KH]] : tensor<1x1x4x16xf32>, tensor<1x16x4x16xf32>) outs(%{{.*}} : tensor<1x4x1x16xf32>) attrs =  {nnc.read_through_permutations}
// CHECK: arith.mulf
// CHECK: arith.addf {{.*}} fastmath<reassoc>
// CHECK: %[[VH:.*]] = tensor.expand_shape {{.*}} into tensor<1x16x4x16xf32>
// CHECK: linalg.generic {indexing_maps = [#[[S]], #[[K]], #[[O]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%[[SC]], %[[VH]] : tensor<1x4x1x16xf32>, tensor<1x16x4x16xf32>) outs(%{{.*}} : tensor<1x4x1x16xf32>) attrs =  {nnc.read_through_permutations}
// CHECK-NOT: nn.

// The scores: a dot product along the head per key, summed as a tree
// (vector.reduction); the output: a broadcast weight times a row of values
// per key (vector.contract).
// SCHED-LABEL: func.func @step(
// SCHED: scf.for
// SCHED: scf.for
// SCHED: scf.for
// SCHED: scf.for
// SCHED: vector.transfer_read {{.*}} vector<1x1x1x16xf32>
// SCHED: vector.reduction <add>, %{{.*}}, %{{.*}} : vector<16xf32> into f32
// SCHED: scf.for
// SCHED: vector.transfer_read {{.*}} tensor<1x16x4x16xf32>, vector<1x16x1x16xf32>
// SCHED: vector.contract
func.func @step(%q: tensor<1x1x64xf32>, %kc: tensor<1x16x64xf32>, %vc: tensor<1x16x64xf32>) -> tensor<1x4x1x16xf32> {
  %qh = nn.reshape %q : tensor<1x1x64xf32> -> tensor<1x1x4x16xf32>
  %qt = nn.transpose %qh {permutation = array<i64: 0, 2, 1, 3>} : tensor<1x1x4x16xf32> -> tensor<1x4x1x16xf32>
  %kh = nn.reshape %kc : tensor<1x16x64xf32> -> tensor<1x16x4x16xf32>
  %kt = nn.transpose %kh {permutation = array<i64: 0, 2, 1, 3>} : tensor<1x16x4x16xf32> -> tensor<1x4x16x16xf32>
  %s = nn.batch_matmul %qt, %kt {transpose_b} : tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32> -> tensor<1x4x1x16xf32>
  %vh = nn.reshape %vc : tensor<1x16x64xf32> -> tensor<1x16x4x16xf32>
  %vt = nn.transpose %vh {permutation = array<i64: 0, 2, 1, 3>} : tensor<1x16x4x16xf32> -> tensor<1x4x16x16xf32>
  %o = nn.batch_matmul %s, %vt : tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32> -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}
