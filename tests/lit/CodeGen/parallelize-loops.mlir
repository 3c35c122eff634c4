// RUN: %nnc-opt %s --pass-pipeline='builtin.module(func.func(nnc-parallelize-loops))' | FileCheck %s
// RUN: %nnc-opt %s --pass-pipeline='builtin.module(convert-nn-to-linalg,func.func(nnc-schedule-matmuls{vector-width=8}))' --split-input-file 2>/dev/null | FileCheck %s --check-prefix=MARK

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
