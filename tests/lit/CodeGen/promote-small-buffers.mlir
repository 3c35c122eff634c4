// RUN: %nnc-opt %s --pass-pipeline='builtin.module(func.func(nnc-promote-small-buffers{max-bytes=1024}))' | FileCheck %s

// CHECK-LABEL: func.func @small
// CHECK-NEXT: %[[A:.*]] = memref.alloca() {alignment = 64 : i64} : memref<8x8xf32>
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
