// RUN: %nnc-opt %s --pass-pipeline='builtin.module(func.func(nnc-promote-small-buffers{max-bytes=1024}))' | FileCheck %s

// The buffer's bytes, viewed as its type (MLIR 16 would lower an f32
// alloca to four times its size).
// CHECK-LABEL: func.func @small
// CHECK-NEXT: %[[R:.*]] = memref.alloca() {alignment = 64 : i64} : memref<256xi8>
// CHECK-NEXT: %[[Z:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[A:.*]] = memref.view %[[R]][%[[Z]]][] : memref<256xi8> to memref<8x8xf32>
// CHECK-NEXT: memref.copy %arg0, %[[A]]
// CHECK-NOT: memref.alloc()
// CHECK-NOT: memref.dealloc
func.func @small(%x: memref<8x8xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<8x8xf32>
  memref.copy %x, %a : memref<8x8xf32> to memref<8x8xf32>
  memref.copy %a, %x : memref<8x8xf32> to memref<8x8xf32>
  memref.dealloc %a : memref<8x8xf32>
  return
}

// Larger than max-bytes: stays on the heap.
// CHECK-LABEL: func.func @large
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<512xf32>
// CHECK: memref.dealloc
func.func @large(%x: memref<512xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<512xf32>
  memref.copy %x, %a : memref<512xf32> to memref<512xf32>
  memref.dealloc %a : memref<512xf32>
  return
}

// Returned to the caller: must outlive the frame.
// CHECK-LABEL: func.func @escapes
// CHECK: memref.alloc()
func.func @escapes() -> memref<4xf32> {
  %a = memref.alloc() : memref<4xf32>
  return %a : memref<4xf32>
}

// Made in a loop that threads share (nnc.parallel): each iteration needs a
// buffer of its own, so it stays an allocation inside the loop. The one in
// the serial loop is hoisted to the frame.
// CHECK-LABEL: func.func @in_parallel_loop
// CHECK-NEXT: memref.alloca() : memref<64xi8>
// CHECK: scf.for
// CHECK: memref.alloc() : memref<8xf32>
// CHECK: memref.dealloc
// CHECK: } {nnc.parallel}
func.func @in_parallel_loop(%x: memref<8xf32>, %y: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    %a = memref.alloc() : memref<8xf32>
    memref.copy %x, %a : memref<8xf32> to memref<8xf32>
    memref.copy %a, %x : memref<8xf32> to memref<8xf32>
    memref.dealloc %a : memref<8xf32>
  } {nnc.parallel}
  scf.for %i = %c0 to %c4 step %c1 {
    %b = memref.alloc() : memref<16xf32>
    memref.copy %y, %b : memref<16xf32> to memref<16xf32>
    memref.copy %b, %y : memref<16xf32> to memref<16xf32>
    memref.dealloc %b : memref<16xf32>
  }
  return
}
