// RUN: %nnc-opt %s --pass-pipeline='builtin.module(nnc-parallelize-loops)' | FileCheck %s
// RUN: %nnc-opt %s --pass-pipeline='builtin.module(convert-nn-to-linalg,func.func(nnc-schedule-matmuls{vector-width=8}))' --split-input-file 2>/dev/null | FileCheck %s --check-prefix=MARK

// CHECK: func.func private @omp_get_max_threads() -> i32

// A marked loop that carries nothing becomes scf.parallel over the same
// range; its body is unchanged and the mark is gone.
// CHECK-LABEL: func.func @marked
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : index
// CHECK-DAG: %[[C126:.*]] = arith.constant 126 : index
// CHECK: scf.parallel (%[[I:.*]]) = (%[[C0]]) to (%[[C126]]) step (%[[C6]])
// CHECK: memref.store %{{.*}}, %{{.*}}[%[[I]]]
// CHECK-NOT: nnc.parallel
// CHECK-NOT: scf.for
func.func @marked(%out: memref<126xf32>) {
  %c0 = arith.constant 0 : index
  %c6 = arith.constant 6 : index
  %c126 = arith.constant 126 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c126 step %c6 {
    memref.store %one, %out[%i] : memref<126xf32>
  } {nnc.parallel}
  return
}

// A loop also marked nnc.parallel_if_threads (a batch-1 product's two
// halves: microseconds of work) runs on the threads only when
// omp_get_max_threads() says there are several; with one, the loop runs as
// it was, without an OpenMP region. The runtime function is declared once
// (first in the module: see the top).
// CHECK-LABEL: func.func @if_threads
// CHECK: %[[N:.*]] = call @omp_get_max_threads() : () -> i32
// CHECK: %[[SEVERAL:.*]] = arith.cmpi sgt, %[[N]], %{{.*}} : i32
// CHECK: scf.if %[[SEVERAL]] {
// CHECK: scf.parallel
// CHECK: memref.store
// CHECK: } else {
// CHECK: scf.for
// CHECK: memref.store
// CHECK-NOT: nnc.parallel
// CHECK: return
func.func @if_threads(%out: memref<2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c2 step %c1 {
    memref.store %one, %out[%i] : memref<2xf32>
  } {nnc.parallel, nnc.parallel_if_threads}
  return
}

// Unmarked loops stay sequential.
// CHECK-LABEL: func.func @unmarked
// CHECK: scf.for
// CHECK-NOT: scf.parallel
func.func @unmarked(%out: memref<126xf32>) {
  %c0 = arith.constant 0 : index
  %c6 = arith.constant 6 : index
  %c126 = arith.constant 126 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %c126 step %c6 {
    memref.store %one, %out[%i] : memref<126xf32>
  }
  return
}

// A marked loop that still carries a value (a sum) would race: sequential,
// mark dropped.
// CHECK-LABEL: func.func @carries
// CHECK: scf.for {{.*}} iter_args
// CHECK-NOT: nnc.parallel
// CHECK-NOT: scf.parallel
func.func @carries(%x: memref<126xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c126 = arith.constant 126 : index
  %zero = arith.constant 0.0 : f32
  %s = scf.for %i = %c0 to %c126 step %c1 iter_args(%acc = %zero) -> (f32) {
    %v = memref.load %x[%i] : memref<126xf32>
    %n = arith.addf %acc, %v : f32
    scf.yield %n : f32
  } {nnc.parallel}
  return %s : f32
}

// Large elementwise ops (every loop parallel, at least 16384 elements) are
// split by rows into 8 chunks run in parallel; small ones and reductions
// stay as they are.
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%c128) step (%c16{{.*}})
// CHECK: memref.subview %{{.*}}[%[[I]], 0] [16, 150]
// CHECK: linalg.generic
// CHECK-LABEL: func.func @small_elementwise
// CHECK-NOT: scf.parallel
// Copies need 4x more elements (65536): a [4, 32, 128] transpose stays as
// it is, a [16, 32, 128] one is split.
// CHECK-LABEL: func.func @small_copy
// CHECK-NOT: scf.parallel
// CHECK-LABEL: func.func @big_copy
// CHECK: scf.parallel
// CHECK-LABEL: func.func @reduction
// CHECK-NOT: scf.parallel
// CHECK: return
// Row reductions (first loop parallel, as softmax's statistics) split by
// rows too: each chunk writes its own rows of the result.
// CHECK-LABEL: func.func @row_reduction
// CHECK: scf.parallel (%[[R:.*]]) = (%{{.*}}) to (%c128) step (%c16{{.*}})
// CHECK: memref.subview %{{.*}}[%[[R]], 0] [16, 150]
// CHECK: memref.subview %{{.*}}[%[[R]]] [16]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @elementwise(%x: memref<128x150xf32>, %y: memref<128x150xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<128x150xf32>) outs(%y : memref<128x150xf32>) {
  ^bb0(%a: f32, %b: f32):
    %t = math.tanh %a : f32
    linalg.yield %t : f32
  }
  return
}
func.func @small_elementwise(%x: memref<32x128xf32>, %y: memref<32x128xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<32x128xf32>) outs(%y : memref<32x128xf32>) {
  ^bb0(%a: f32, %b: f32):
    %t = math.tanh %a : f32
    linalg.yield %t : f32
  }
  return
}
#swap = affine_map<(d0, d1, d2) -> (d0, d2, d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @small_copy(%x: memref<4x128x32xf32>, %y: memref<4x32x128xf32>) {
  linalg.generic {indexing_maps = [#swap, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : memref<4x128x32xf32>) outs(%y : memref<4x32x128xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  }
  return
}
func.func @big_copy(%x: memref<16x128x32xf32>, %y: memref<16x32x128xf32>) {
  linalg.generic {indexing_maps = [#swap, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : memref<16x128x32xf32>) outs(%y : memref<16x32x128xf32>) {
  ^bb0(%a: f32, %b: f32):
    linalg.yield %a : f32
  }
  return
}
func.func @reduction(%x: memref<128x150xf32>, %y: memref<150xf32>) {
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<128x150xf32>) outs(%y : memref<150xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  return
}
#col = affine_map<(d0, d1) -> (d0)>
func.func @row_reduction(%x: memref<128x150xf32>, %y: memref<128xf32>) {
  linalg.generic {indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<128x150xf32>) outs(%y : memref<128xf32>) {
  ^bb0(%a: f32, %b: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  return
}

// The schedule marks the outer tile loop of products of at least 2^20
// multiply-adds (128 x 300 x 600 here, k in blocks of 150: the column tiles
// are the outer loop inside a k block) and leaves small ones unmarked.
// MARK-LABEL: func.func @big
// MARK: scf.for {{.*}} step %c150
// MARK: scf.for {{.*}} step %c16
// MARK: } {nnc.parallel}
func.func @big(%x: tensor<128x300xf32>, %w: tensor<300x600xf32>) -> tensor<128x600xf32> {
  %0 = nn.matmul %x, %w : tensor<128x300xf32>, tensor<300x600xf32> -> tensor<128x600xf32>
  return %0 : tensor<128x600xf32>
}

// -----

// MARK-LABEL: func.func @small
// MARK-NOT: nnc.parallel
// MARK: return
func.func @small(%x: tensor<8x4xf32>, %w: tensor<4x16xf32>) -> tensor<8x16xf32> {
  %0 = nn.matmul %x, %w : tensor<8x4xf32>, tensor<4x16xf32> -> tensor<8x16xf32>
  return %0 : tensor<8x16xf32>
}
