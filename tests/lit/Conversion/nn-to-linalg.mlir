// RUN: %nnc-opt %s --convert-nn-to-linalg | FileCheck %s
// RUN: %nnc-opt %s --convert-nn-to-linalg | FileCheck %s --check-prefix=NONN
// Exercises compiler/lib/Conversion/NNToLinalg/: ElementwiseLowering.cpp, LoweringUtils.cpp, MatmulLowering.cpp, ReductionLowering.cpp, RandomLowering.cpp, OptimizerLowering.cpp and OptimizerUpdates.cpp.

// No nn op, and no nn.parameter declaration, survives the lowering.
// NONN-NOT: nn.

// CHECK-DAG: #[[ID2:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[LAST:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[COL:.+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-DAG: #[[ROW0:.+]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-DAG: #[[MK:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[KN:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[MN:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[KM:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[TRANSPOSE:.+]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-DAG: #[[FIRST:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[ID1:.+]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[TOSCALAR:.+]] = affine_map<(d0) -> ()>
// CHECK-DAG: #[[SCALAR:.+]] = affine_map<() -> ()>
// CHECK-DAG: #[[SCALAR2:.+]] = affine_map<(d0, d1) -> ()>

// The parameter declarations are erased.
// CHECK-NOT: nn.parameter
nn.parameter @w : tensor<4x3xf32> {init = "zeros"}

// CHECK-LABEL: func.func @constant(
// CHECK: %[[C:.*]] = arith.constant dense<2.500000e+00> : tensor<2x3xf32>
// CHECK: return %[[C]]
func.func @constant() -> tensor<2x3xf32> {
  %0 = nn.constant 2.5 : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// Broadcasting is an indexing map, never a copy.
// CHECK-LABEL: func.func @add_broadcast(
// CHECK-SAME: %[[A:.*]]: tensor<8x3xf32>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<8x3xf32>
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[LAST]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[A]], %[[B]] : tensor<8x3xf32>, tensor<3xf32>) outs(%[[E]] : tensor<8x3xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[X]], %[[Y]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK: return %[[R]]
func.func @add_broadcast(%a: tensor<8x3xf32>, %b: tensor<3xf32>) -> tensor<8x3xf32> {
  %0 = nn.add %a, %b : tensor<8x3xf32>, tensor<3xf32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// CHECK-LABEL: func.func @sub_column(
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[COL]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.subf %{{.*}}, %{{.*}} : f32
func.func @sub_column(%a: tensor<8x3xf32>, %c: tensor<8x1xf32>) -> tensor<8x3xf32> {
  %0 = nn.sub %a, %c : tensor<8x3xf32>, tensor<8x1xf32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// CHECK-LABEL: func.func @mul_outer(
// CHECK: linalg.generic {indexing_maps = [#[[COL]], #[[LAST]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
func.func @mul_outer(%c: tensor<8x1xf32>, %b: tensor<3xf32>) -> tensor<8x3xf32> {
  %0 = nn.mul %c, %b : tensor<8x1xf32>, tensor<3xf32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// CHECK-LABEL: func.func @div_same(
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
func.func @div_same(%a: tensor<8x3xf32>, %b: tensor<8x3xf32>) -> tensor<8x3xf32> {
  %0 = nn.div %a, %b : tensor<8x3xf32>, tensor<8x3xf32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// One elementwise generic per op.
// CHECK-LABEL: func.func @unary(
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.negf %[[IN]] : f32
// relu
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.maxf %[[IN]], %[[ZERO]] : f32
// sigmoid = 1 / (1 + exp(-x))
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[N:.*]] = arith.negf %[[IN]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[N]] : f32
// CHECK-NEXT: %[[D:.*]] = arith.addf %[[E]], %[[ONE]] : f32
// CHECK-NEXT: arith.divf %[[ONE]], %[[D]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: math.tanh
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: math.exp
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: math.log
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT: ^bb0
// CHECK-NEXT: math.sqrt
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @unary(%x: tensor<8x3xf32>) -> tensor<8x3xf32> {
  %0 = nn.neg %x : tensor<8x3xf32>
  %1 = nn.relu %0 : tensor<8x3xf32>
  %2 = nn.sigmoid %1 : tensor<8x3xf32>
  %3 = nn.tanh %2 : tensor<8x3xf32>
  %4 = nn.exp %3 : tensor<8x3xf32>
  %5 = nn.log %4 : tensor<8x3xf32>
  %6 = nn.sqrt %5 : tensor<8x3xf32>
  return %6 : tensor<8x3xf32>
}

// softplus in its stable form, max(x, 0) + log1p(exp(-|x|)): exp never
// sees a positive argument, so it cannot overflow.
// CHECK-LABEL: func.func @softplus(
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[M:.*]] = arith.maxf %[[IN]], %[[ZERO]] : f32
// CHECK-NEXT: %[[A:.*]] = math.absf %[[IN]] : f32
// CHECK-NEXT: %[[N:.*]] = arith.negf %[[A]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[N]] : f32
// CHECK-NEXT: %[[L:.*]] = math.log1p %[[E]] : f32
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[M]], %[[L]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @softplus(%x: tensor<8x3xf32>) -> tensor<8x3xf32> {
  %0 = nn.softplus %x : tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// CHECK-LABEL: func.func @relu_grad(
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[DY:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[POS:.*]] = arith.cmpf ogt, %[[X]], %[[ZERO]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.select %[[POS]], %[[DY]], %[[ZERO]] : f32
// CHECK-NEXT: linalg.yield %[[R]]
func.func @relu_grad(%x: tensor<8x3xf32>, %dy: tensor<8x3xf32>) -> tensor<8x3xf32> {
  %0 = nn.relu_grad %x, %dy : tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// CHECK-LABEL: func.func @broadcast_to(
// CHECK: linalg.generic {indexing_maps = [#[[LAST]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%{{.*}} : tensor<3xf32>) outs(%{{.*}} : tensor<8x3xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
func.func @broadcast_to(%b: tensor<3xf32>) -> tensor<8x3xf32> {
  %0 = nn.broadcast_to %b : tensor<3xf32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// sum_to reduces the broadcast dimensions into a zero-filled result.
// CHECK-LABEL: func.func @sum_to(
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[F1:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<3xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[LAST]]], iterator_types = ["reduction", "parallel"]} ins(%{{.*}} : tensor<8x3xf32>) outs(%[[F1]] : tensor<3xf32>)
// CHECK: arith.addf
// CHECK: %[[F2:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<1x3xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ROW0]]], iterator_types = ["reduction", "parallel"]} ins(%{{.*}} : tensor<8x3xf32>) outs(%[[F2]] : tensor<1x3xf32>)
// CHECK: arith.addf
// CHECK: %[[F3:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<8x1xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[COL]]], iterator_types = ["parallel", "reduction"]} ins(%{{.*}} : tensor<8x3xf32>) outs(%[[F3]] : tensor<8x1xf32>)
// CHECK: arith.addf
func.func @sum_to(%x: tensor<8x3xf32>) -> (tensor<3xf32>, tensor<1x3xf32>, tensor<8x1xf32>) {
  %0 = nn.sum_to %x : tensor<8x3xf32> -> tensor<3xf32>
  %1 = nn.sum_to %x : tensor<8x3xf32> -> tensor<1x3xf32>
  %2 = nn.sum_to %x : tensor<8x3xf32> -> tensor<8x1xf32>
  return %0, %1, %2 : tensor<3xf32>, tensor<1x3xf32>, tensor<8x1xf32>
}

// CHECK-LABEL: func.func @reshape(
// CHECK: %[[C:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1]] : tensor<8x3xf32> into tensor<24xf32>
// CHECK: %[[E:.*]] = tensor.expand_shape %[[C]] {{\[}}[0, 1, 2]] : tensor<24xf32> into tensor<2x4x3xf32>
// CHECK: return %[[C]], %[[E]]
func.func @reshape(%x: tensor<8x3xf32>) -> (tensor<24xf32>, tensor<2x4x3xf32>) {
  %0 = nn.reshape %x : tensor<8x3xf32> -> tensor<24xf32>
  %1 = nn.reshape %0 : tensor<24xf32> -> tensor<2x4x3xf32>
  return %0, %1 : tensor<24xf32>, tensor<2x4x3xf32>
}

// matmul: loops (m, n, k), a multiply-accumulate into a zero-filled result;
// the sum may be reassociated (fastmath<reassoc>), as every reduction's.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: %[[X:.*]]: tensor<8x4xf32>, %[[W:.*]]: tensor<4x3xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[E:.*]] = tensor.empty() : tensor<8x3xf32>
// CHECK: %[[F:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E]] : tensor<8x3xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[MK]], #[[KN]], #[[MN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : tensor<8x4xf32>, tensor<4x3xf32>) outs(%[[F]] : tensor<8x3xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[A]], %[[B]] : f32
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[ACC]], %[[P]] fastmath<reassoc> : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
func.func @matmul(%x: tensor<8x4xf32>, %w: tensor<4x3xf32>) -> tensor<8x3xf32> {
  %0 = nn.matmul %x, %w : tensor<8x4xf32>, tensor<4x3xf32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// A transposed A is read in place: the product's A map is (k, m), which
// nnc-schedule-matmuls tiles with contiguous reads of A^T's rows. A
// transposed B is materialized by a transposing copy (its tile row would be
// a strided gather).
// CHECK-LABEL: func.func @matmul_transposed(
// CHECK-SAME: %[[A:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<3x4xf32>, %[[C:.*]]: tensor<8x4xf32>)
// CHECK-NOT: outs(%{{.*}} : tensor<8x4xf32>)
// CHECK: %[[BT:.*]] = linalg.generic {indexing_maps = [#[[TRANSPOSE]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[B]] : tensor<3x4xf32>) outs(%{{.*}} : tensor<4x3xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
// CHECK: %[[R0:.*]] = linalg.generic {indexing_maps = [#[[KM]], #[[KN]], #[[MN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[A]], %[[BT]] : tensor<4x8xf32>, tensor<4x3xf32>)
// CHECK: %[[BT2:.*]] = linalg.generic {indexing_maps = [#[[TRANSPOSE]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[B]] : tensor<3x4xf32>) outs(%{{.*}} : tensor<4x3xf32>)
// CHECK: %[[R1:.*]] = linalg.generic {indexing_maps = [#[[MK]], #[[KN]], #[[MN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[C]], %[[BT2]] : tensor<8x4xf32>, tensor<4x3xf32>)
// CHECK: return %[[R0]], %[[R1]]
func.func @matmul_transposed(%a: tensor<4x8xf32>, %b: tensor<3x4xf32>, %c: tensor<8x4xf32>)
    -> (tensor<8x3xf32>, tensor<8x3xf32>) {
  %0 = nn.matmul %a, %b {transpose_a, transpose_b} : tensor<4x8xf32>, tensor<3x4xf32> -> tensor<8x3xf32>
  %1 = nn.matmul %c, %b {transpose_b} : tensor<8x4xf32>, tensor<3x4xf32> -> tensor<8x3xf32>
  return %0, %1 : tensor<8x3xf32>, tensor<8x3xf32>
}

// softmax: row max, row sum of exp(x - max), then exp(x - max) / sum. The
// running max may assume no NaN (so LLVM vectorizes it), the running sum
// may be reassociated.
// CHECK-LABEL: func.func @softmax(
// CHECK-SAME: %[[X:.*]]: tensor<8x3xf32>)
// CHECK-DAG: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[MF:.*]] = linalg.fill ins(%[[NINF]] : f32) outs(%{{.*}} : tensor<8xf32>)
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[FIRST]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<8x3xf32>) outs(%[[MF]] : tensor<8xf32>)
// CHECK: arith.maxf {{.*}} fastmath<nnan> : f32
// CHECK: %[[SF:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<8xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[FIRST]], #[[FIRST]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]], %[[MAX]] : tensor<8x3xf32>, tensor<8xf32>) outs(%[[SF]] : tensor<8xf32>)
// CHECK: arith.subf
// CHECK-NEXT: math.exp
// CHECK-NEXT: arith.addf {{.*}} fastmath<reassoc> : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[FIRST]], #[[FIRST]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[MAX]], %[[SUM]] : tensor<8x3xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK: arith.subf
// CHECK-NEXT: math.exp
// CHECK-NEXT: arith.divf
func.func @softmax(%x: tensor<8x3xf32>) -> tensor<8x3xf32> {
  %0 = nn.softmax %x : tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// softmax over rows of 16k: the row max first takes 16 partial maxima per
// row (an elementwise max over vectors of 16, which LLVM vectorizes), then
// the max of those.
// CHECK-LABEL: func.func @softmax_wide(
// CHECK: tensor.expand_shape {{.*}} : tensor<128xf32> into tensor<2x4x16xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%{{.*}} : tensor<2x4x16xf32>) outs(%{{.*}} : tensor<2x16xf32>)
// CHECK: arith.maxf
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}} : tensor<2x16xf32>) outs(%{{.*}} : tensor<2xf32>)
// CHECK: arith.maxf
func.func @softmax_wide(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  %0 = nn.softmax %x : tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}

// log_softmax: x - max - log(sum).
// CHECK-LABEL: func.func @log_softmax(
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[FIRST]]], iterator_types = ["parallel", "reduction"]}
// CHECK: arith.maxf
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[FIRST]], #[[FIRST]]], iterator_types = ["parallel", "reduction"]}
// CHECK: math.exp
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[FIRST]], #[[FIRST]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%{{.*}}, %[[MAX]], %[[SUM]] :
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[M:.*]]: f32, %[[S:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[IN]], %[[M]] : f32
// CHECK-NEXT: %[[L:.*]] = math.log %[[S]] : f32
// CHECK-NEXT: arith.subf %[[D]], %[[L]] : f32
func.func @log_softmax(%x: tensor<8x3xf32>) -> tensor<8x3xf32> {
  %0 = nn.log_softmax %x : tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// softmax_grad: y * (dy - sum(dy * y)); log_softmax_grad: dy - exp(y) * sum(dy).
// CHECK-LABEL: func.func @softmax_grads(
// CHECK-SAME: %[[Y:.*]]: tensor<8x3xf32>, %[[DY:.*]]: tensor<8x3xf32>)
// CHECK: %[[DOT:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[FIRST]]], iterator_types = ["parallel", "reduction"]} ins(%[[Y]], %[[DY]] :
// CHECK: arith.mulf
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[FIRST]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[Y]], %[[DY]], %[[DOT]] :
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %[[C:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[T:.*]] = arith.subf %[[B]], %[[C]] : f32
// CHECK-NEXT: arith.mulf %[[A]], %[[T]] : f32
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[FIRST]]], iterator_types = ["parallel", "reduction"]} ins(%[[DY]] :
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[FIRST]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[Y]], %[[DY]], %[[SUM]] :
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %[[C:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[E:.*]] = math.exp %[[A]] : f32
// CHECK-NEXT: %[[T:.*]] = arith.mulf %[[E]], %[[C]] : f32
// CHECK-NEXT: arith.subf %[[B]], %[[T]] : f32
func.func @softmax_grads(%y: tensor<8x3xf32>, %dy: tensor<8x3xf32>) -> (tensor<8x3xf32>, tensor<8x3xf32>) {
  %0 = nn.softmax_grad %y, %dy : tensor<8x3xf32>
  %1 = nn.log_softmax_grad %y, %dy : tensor<8x3xf32>
  return %0, %1 : tensor<8x3xf32>, tensor<8x3xf32>
}

// cross_entropy: per-row logsumexp - picked logit, weighted mean over rows
// (the weight sum is clamped away from 0 for all-padding batches, and for
// batches in which every label is ignored).
// CHECK-LABEL: func.func @cross_entropy(
// CHECK-SAME: %[[L:.*]]: tensor<8x3xf32>, %[[Y:.*]]: tensor<8xi32>, %[[W:.*]]: tensor<8xf32>)
// CHECK-DAG: %[[TINY:.*]] = arith.constant 1.000000e-30 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[FIRST]], #[[FIRST]]], iterator_types = ["parallel", "reduction"]} ins(%[[L]], %[[Y]] : tensor<8x3xf32>, tensor<8xi32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %[[LABEL:.*]]: i32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[J:.*]] = linalg.index 1 : index
// CHECK-NEXT: %[[J32:.*]] = arith.index_cast %[[J]] : index to i32
// CHECK-NEXT: %[[HIT:.*]] = arith.cmpi eq, %[[J32]], %[[LABEL]] : i32
// CHECK-NEXT: arith.select %[[HIT]], %[[IN]], %{{.*}} : f32
// CHECK: math.log
// A negative label (ignore_index) zeroes its row's weight: the mean runs over
// the labelled rows only.
// CHECK: %[[LW:.*]] = linalg.generic {indexing_maps = [#[[ID1]], #[[ID1]], #[[ID1]]], iterator_types = ["parallel"]} ins(%[[W]], %[[Y]] : tensor<8xf32>, tensor<8xi32>)
// CHECK-NEXT: ^bb0(%[[WI:.*]]: f32, %[[YI:.*]]: i32, %{{.*}}: f32):
// CHECK-NEXT: %[[NEG:.*]] = arith.cmpi slt, %[[YI]], %{{.*}} : i32
// CHECK-NEXT: %[[SEL:.*]] = arith.select %[[NEG]], %{{.*}}, %[[WI]] : f32
// CHECK-NEXT: linalg.yield %[[SEL]] : f32
// CHECK: %[[WS:.*]] = linalg.generic {indexing_maps = [#[[ID1]], #[[TOSCALAR]]], iterator_types = ["reduction"]} ins(%[[LW]] : tensor<8xf32>)
// CHECK: %[[WSC:.*]] = linalg.generic {indexing_maps = [#[[SCALAR]]], iterator_types = []} outs(%[[WS]] : tensor<f32>)
// CHECK: arith.maxf %{{.*}}, %[[TINY]] : f32
// CHECK: %[[LOSS:.*]] = linalg.generic {indexing_maps = [#[[ID1]], #[[ID1]], #[[TOSCALAR]], #[[TOSCALAR]]], iterator_types = ["reduction"]} ins(%{{.*}}, %[[LW]], %[[WSC]] : tensor<8xf32>, tensor<8xf32>, tensor<f32>) outs(%{{.*}} : tensor<f32>)
// CHECK: return %[[LOSS]] : tensor<f32>
func.func @cross_entropy(%l: tensor<8x3xf32>, %y: tensor<8xi32>, %w: tensor<8xf32>) -> tensor<f32> {
  %0 = nn.cross_entropy %l, %y, %w : tensor<8x3xf32>, tensor<8xi32>, tensor<8xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// loss_weight: the weights summed (the labelled rows' with labels), with the
// cross-entropy's floor.
// CHECK-LABEL: func.func @loss_weight(
// CHECK-SAME: %[[Y:.*]]: tensor<8xi32>, %[[W:.*]]: tensor<8xf32>)
// CHECK: %[[LW:.*]] = linalg.generic {{.*}} ins(%[[W]], %[[Y]] : tensor<8xf32>, tensor<8xi32>)
// CHECK: arith.cmpi slt
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[LW]] : tensor<8xf32>)
// CHECK: arith.maxf
// CHECK: return
func.func @loss_weight(%y: tensor<8xi32>, %w: tensor<8xf32>) -> tensor<f32> {
  %0 = nn.loss_weight %w, %y : tensor<8xf32>, tensor<8xi32> -> tensor<f32>
  return %0 : tensor<f32>
}

// CHECK-LABEL: func.func @cross_entropy_grad(
// CHECK-SAME: %[[L:.*]]: tensor<8x3xf32>, %[[Y:.*]]: tensor<8xi32>, %[[W:.*]]: tensor<8xf32>, %[[D:.*]]: tensor<f32>)
// CHECK: %[[LW:.*]] = linalg.generic {{.*}} ins(%[[W]], %[[Y]] : tensor<8xf32>, tensor<8xi32>)
// CHECK: arith.cmpi slt
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [#[[ID2]], #[[FIRST]], #[[FIRST]], #[[FIRST]], #[[FIRST]], #[[SCALAR2]], #[[SCALAR2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[L]], %{{.*}}, %{{.*}}, %[[Y]], %[[LW]], %{{.*}}, %[[D]] :
// CHECK: math.exp
// CHECK: linalg.index 1
// CHECK: arith.cmpi eq
// CHECK: return %[[G]] : tensor<8x3xf32>
func.func @cross_entropy_grad(%l: tensor<8x3xf32>, %y: tensor<8xi32>, %w: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x3xf32> {
  %0 = nn.cross_entropy_grad %l, %y, %w, %d : tensor<8x3xf32>, tensor<8xi32>, tensor<8xf32>, tensor<f32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// mse: row mean of squared differences (/ 3 columns), weighted mean over rows.
// CHECK-LABEL: func.func @mse(
// CHECK-SAME: %[[P:.*]]: tensor<8x3xf32>, %[[T:.*]]: tensor<8x3xf32>, %[[W:.*]]: tensor<8xf32>)
// CHECK-DAG: %[[THREE:.*]] = arith.constant 3.000000e+00 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[FIRST]]], iterator_types = ["parallel", "reduction"]} ins(%[[P]], %[[T]] :
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[DIFF:.*]] = arith.subf %[[A]], %[[B]] : f32
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[DIFF]], %[[DIFF]] : f32
// CHECK-NEXT: arith.addf %[[ACC]], %[[SQ]] fastmath<reassoc> : f32
// CHECK: arith.divf %{{.*}}, %[[THREE]] : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID1]], #[[ID1]], #[[TOSCALAR]], #[[TOSCALAR]]], iterator_types = ["reduction"]} ins(%{{.*}}, %[[W]], %{{.*}} : tensor<8xf32>, tensor<8xf32>, tensor<f32>)
func.func @mse(%p: tensor<8x3xf32>, %t: tensor<8x3xf32>, %w: tensor<8xf32>) -> tensor<f32> {
  %0 = nn.mse %p, %t, %w : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8xf32> -> tensor<f32>
  return %0 : tensor<f32>
}

// mse_grad: dloss * w / sum(w) * 2 / 3 * (p - t).
// CHECK-LABEL: func.func @mse_grad(
// CHECK-SAME: %[[P:.*]]: tensor<8x3xf32>, %[[T:.*]]: tensor<8x3xf32>, %[[W:.*]]: tensor<8xf32>, %[[D:.*]]: tensor<f32>)
// CHECK-DAG: %[[TWOTHIRDS:.*]] = arith.constant 0.666666686 : f32
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ID2]], #[[FIRST]], #[[SCALAR2]], #[[SCALAR2]], #[[ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[P]], %[[T]], %[[W]], %{{.*}}, %[[D]] :
// CHECK: arith.mulf %{{.*}}, %[[TWOTHIRDS]] : f32
func.func @mse_grad(%p: tensor<8x3xf32>, %t: tensor<8x3xf32>, %w: tensor<8xf32>, %d: tensor<f32>) -> tensor<8x3xf32> {
  %0 = nn.mse_grad %p, %t, %w, %d : tensor<8x3xf32>, tensor<8x3xf32>, tensor<8xf32>, tensor<f32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// Random initializers: a counter-based hash of (seed, stream, linear index).
// CHECK-LABEL: func.func @random(
// CHECK-SAME: %[[SEED:.*]]: i64)
// CHECK: linalg.generic {indexing_maps = [#[[ID2]]], iterator_types = ["parallel", "parallel"]} outs(%{{.*}} : tensor<4x3xf32>)
// CHECK: linalg.index 0 : index
// CHECK: linalg.index 1 : index
// CHECK: arith.muli %[[SEED]], %{{.*}} : i64
// CHECK: arith.uitofp
// normal: Box-Muller
// CHECK: linalg.generic {indexing_maps = [#[[ID2]]], iterator_types = ["parallel", "parallel"]} outs(%{{.*}} : tensor<4x3xf32>)
// CHECK: math.log
// CHECK: math.sqrt
// CHECK: math.cos
func.func @random(%seed: i64) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %0 = nn.random_uniform %seed {low = -0.5 : f32, high = 0.5 : f32, stream = 3 : i64} : tensor<4x3xf32>
  %1 = nn.random_normal %seed {mean = 0.0 : f32, stddev = 0.02 : f32, stream = 4 : i64} : tensor<4x3xf32>
  return %0, %1 : tensor<4x3xf32>, tensor<4x3xf32>
}

// With stream_step, slice k of the leading axis draws from stream
// 3 + 2k: the stream's term of the hash grows with linalg.index 0, and the
// element is counted within the slice (linalg.index 1 and 2 only).
// CHECK-LABEL: func.func @random_stack(
// CHECK: linalg.generic {indexing_maps = [#{{.*}}], iterator_types = ["parallel", "parallel", "parallel"]} outs(%{{.*}} : tensor<3x4x2xf32>)
// CHECK: %[[K:.*]] = linalg.index 0 : index
// CHECK: %[[K64:.*]] = arith.index_cast %[[K]] : index to i64
// CHECK: arith.muli %[[K64]], %{{.*}} : i64
// CHECK: linalg.index 1 : index
// CHECK: linalg.index 2 : index
// CHECK-NOT: linalg.index
// CHECK: arith.uitofp
func.func @random_stack(%seed: i64) -> tensor<3x4x2xf32> {
  %0 = nn.random_uniform %seed {low = -0.5 : f32, high = 0.5 : f32, stream = 3 : i64, stream_step = 2 : i64} : tensor<3x4x2xf32>
  return %0 : tensor<3x4x2xf32>
}

// Optimizer updates: one parallel loop over the flat buffers each, the
// parameters and state as outputs (updated in place after bufferization).
// CHECK-LABEL: func.func @updates(
// CHECK-SAME: %[[P:.*]]: tensor<67xf32>, %[[G:.*]]: tensor<67xf32>, %[[M:.*]]: tensor<67xf32>, %[[V:.*]]: tensor<67xf32>, %[[LR:.*]]: f32, %[[T:.*]]: f32, %[[S:.*]]: f32)
// CHECK: %[[SGD:.*]]:2 = linalg.generic {indexing_maps = [#[[ID1]], #[[ID1]], #[[ID1]]], iterator_types = ["parallel"]} ins(%[[G]] : tensor<67xf32>) outs(%[[P]], %[[V]] : tensor<67xf32>, tensor<67xf32>)
// The gradient times its clipping scale, first in every update's body.
// CHECK-NEXT: ^bb0(%[[GI:[a-z0-9_]+]]: f32,
// CHECK-NEXT: arith.mulf %[[GI]], %[[S]] : f32
// CHECK: arith.mulf %{{.*}}, %[[LR]] : f32
// Adam's bias corrections are computed once, outside the loop.
// CHECK: math.powf %{{.*}}, %[[T]] : f32
// CHECK: math.powf %{{.*}}, %[[T]] : f32
// CHECK: %[[ADAM:.*]]:3 = linalg.generic {indexing_maps = [#[[ID1]], #[[ID1]], #[[ID1]], #[[ID1]]], iterator_types = ["parallel"]} ins(%[[G]] : tensor<67xf32>) outs(%[[SGD]]#0, %[[M]], %[[SGD]]#1 : tensor<67xf32>, tensor<67xf32>, tensor<67xf32>)
// CHECK: math.sqrt
// CHECK: %[[RMS:.*]]:3 = linalg.generic {indexing_maps = [#[[ID1]], #[[ID1]], #[[ID1]], #[[ID1]]], iterator_types = ["parallel"]} ins(%[[G]] : tensor<67xf32>) outs(%[[ADAM]]#0, %[[ADAM]]#1, %[[ADAM]]#2 : tensor<67xf32>, tensor<67xf32>, tensor<67xf32>)
// CHECK: math.sqrt
// CHECK: %[[NAG:.*]]:2 = linalg.generic {indexing_maps = [#[[ID1]], #[[ID1]], #[[ID1]]], iterator_types = ["parallel"]} ins(%[[G]] : tensor<67xf32>) outs(%[[RMS]]#0, %[[RMS]]#2 : tensor<67xf32>, tensor<67xf32>)
// CHECK: arith.mulf %[[LR]], %{{.*}} : f32
// AdamW's decay factor, step size and sqrt(1 - beta2^t), once, outside the loop.
// CHECK: %[[WD:.*]] = arith.mulf %[[LR]], %{{.*}} : f32
// CHECK: arith.subf %{{.*}}, %[[WD]] : f32
// CHECK: math.powf %{{.*}}, %[[T]] : f32
// CHECK: arith.divf %[[LR]], %{{.*}} : f32
// CHECK: math.powf %{{.*}}, %[[T]] : f32
// CHECK: math.sqrt %{{.*}} : f32
// CHECK: %[[ADAMW:.*]]:3 = linalg.generic {indexing_maps = [#[[ID1]], #[[ID1]], #[[ID1]], #[[ID1]]], iterator_types = ["parallel"]} ins(%[[G]] : tensor<67xf32>) outs(%[[NAG]]#0, %[[RMS]]#1, %[[NAG]]#1 : tensor<67xf32>, tensor<67xf32>, tensor<67xf32>)
// CHECK: math.sqrt
// CHECK: return %[[ADAMW]]#0, %[[ADAMW]]#1, %[[ADAMW]]#2
func.func @updates(%p: tensor<67xf32>, %g: tensor<67xf32>, %m: tensor<67xf32>, %v: tensor<67xf32>,
                   %lr: f32, %t: f32, %s: f32) -> (tensor<67xf32>, tensor<67xf32>, tensor<67xf32>) {
  %p1, %v1 = nn.optimizer_update "sgd" %p, %g, [%v], %lr, %t, %s {momentum = 0.9 : f32} : tensor<67xf32>, [tensor<67xf32>]
  %p2, %m2, %v2 = nn.optimizer_update "adam" %p1, %g, [%m, %v1], %lr, %t, %s {beta1 = 0.9 : f32, beta2 = 0.999 : f32, epsilon = 1.0e-07 : f32} : tensor<67xf32>, [tensor<67xf32>, tensor<67xf32>]
  %p3, %s3, %v3 = nn.optimizer_update "rmsprop" %p2, %g, [%m2, %v2], %lr, %t, %s {rho = 0.9 : f32, epsilon = 1.0e-07 : f32, momentum = 0.0 : f32} : tensor<67xf32>, [tensor<67xf32>, tensor<67xf32>]
  %p4, %b4 = nn.optimizer_update "nesterov" %p3, %g, [%v3], %lr, %t, %s {momentum = 0.9 : f32} : tensor<67xf32>, [tensor<67xf32>]
  %p5, %m5, %v5 = nn.optimizer_update "adamw" %p4, %g, [%s3, %b4], %lr, %t, %s {beta1 = 0.9 : f32, beta2 = 0.999 : f32, epsilon = 1.0e-08 : f32, weight_decay = 0.01 : f32} : tensor<67xf32>, [tensor<67xf32>, tensor<67xf32>]
  return %p5, %m5, %v5 : tensor<67xf32>, tensor<67xf32>, tensor<67xf32>
}

// The global norm: each input's sum of squares (a 2-d one read flat), their
// total, its square root.
// CHECK-LABEL: func.func @global_norm(
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1]] : tensor<4x16xf32> into tensor<64xf32>
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%{{.*}} : tensor<64xf32>) outs(%{{.*}} : tensor<f32>)
// CHECK: arith.mulf %[[X:.*]], %[[X]] : f32
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%{{.*}} : tensor<3xf32>) outs(%{{.*}} : tensor<f32>)
// CHECK: arith.mulf %[[Y:.*]], %[[Y]] : f32
// CHECK: arith.addf
// CHECK: math.sqrt
func.func @global_norm(%a: tensor<4x16xf32>, %b: tensor<3xf32>) -> tensor<f32> {
  %n = nn.global_norm %a, %b : tensor<4x16xf32>, tensor<3xf32> -> tensor<f32>
  return %n : tensor<f32>
}

// concat of token ids ([story; question]) lowers like a float one.
// CHECK-LABEL: func.func @concat_ids(
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [2, 5] [1, 1] : tensor<2x5xi32> into tensor<2x8xi32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 5] [2, 3] [1, 1] : tensor<2x3xi32> into tensor<2x8xi32>
func.func @concat_ids(%a: tensor<2x5xi32>, %b: tensor<2x3xi32>) -> tensor<2x8xi32> {
  %0 = nn.concat %a, %b {axis = 1 : i64} : tensor<2x5xi32>, tensor<2x3xi32> -> tensor<2x8xi32>
  return %0 : tensor<2x8xi32>
}
