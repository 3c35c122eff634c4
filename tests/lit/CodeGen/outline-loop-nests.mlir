// RUN: %nnc-opt %s --pass-pipeline='builtin.module(nnc-outline-loop-nests{min-loops=3 loops-per-part=1})' | FileCheck %s
// RUN: %nnc-opt %s --pass-pipeline='builtin.module(nnc-outline-loop-nests)' | FileCheck %s --check-prefix=WHOLE
// The parts lower under nnc's calling convention (bare pointers) to
// internal, never-inlined LLVM functions.
// RUN: %nnc-opt %s --pass-pipeline='builtin.module(nnc-outline-loop-nests{min-loops=3 loops-per-part=1},convert-scf-to-cf,expand-strided-metadata,convert-memref-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},convert-cf-to-llvm,reconcile-unrealized-casts)' | FileCheck %s --check-prefix=LLVM
// LLVM: llvm.func internal @f_part0(%arg0: !llvm.ptr<f32>, %arg1: !llvm.ptr<f32>) attributes {passthrough = ["noinline"]
// LLVM: llvm.func @f(%arg0: !llvm.ptr<f32>, %arg1: !llvm.ptr<f32>) -> f32
// LLVM: llvm.call @f_part0(%arg0, %{{.*}}) : (!llvm.ptr<f32>, !llvm.ptr<f32>) -> ()

// One loop per part. The buffer stays in the caller and is passed; the
// strided view is recomputed in the part from its base (the bare-pointer
// convention takes identity layouts only); constants are recomputed; the
// sum leaves as a result; the free follows the last part that uses it.
// CHECK-LABEL: func.func private @f_part0(%arg0: memref<8xf32>, %arg1: memref<8xf32>)
// CHECK-SAME: attributes {llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]}
// CHECK: arith.constant 0 : index
// CHECK: scf.for
// CHECK: return
// CHECK-LABEL: func.func private @f_part1(%arg0: memref<8xf32>, %arg1: memref<4x8xf32>)
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[ROW:.*]] = memref.subview %arg1[1, 0] [1, 8] [1, 1]
// CHECK: scf.for
// CHECK: arith.addf %{{.*}}, %[[ONE]]
// CHECK: memref.store %{{.*}}, %[[ROW]]
// CHECK-LABEL: func.func private @f_part2(%arg0: memref<8xf32>) -> f32
// CHECK: %[[S:.*]] = scf.for
// CHECK: return %[[S]] : f32
// CHECK-LABEL: func.func @f(
// CHECK: %[[A:.*]] = memref.alloc() : memref<8xf32>
// CHECK-NEXT: call @f_part0(%arg0, %[[A]])
// CHECK: call @f_part1(%[[A]], %arg1)
// CHECK-NEXT: %[[R:.*]] = call @f_part2(%[[A]]) : (memref<8xf32>) -> f32
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: %[[T:.*]] = arith.mulf %[[R]], %[[R]] : f32
// CHECK-NEXT: return %[[T]]

// Below min-loops (1024 by default) the function stays whole.
// WHOLE-NOT: call
// WHOLE-NOT: _part
func.func @f(%x: memref<8xf32>, %y: memref<4x8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %one = arith.constant 1.0 : f32
  %a = memref.alloc() : memref<8xf32>
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %x[%i] : memref<8xf32>
    memref.store %v, %a[%i] : memref<8xf32>
  }
  %row = memref.subview %y[1, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<8xf32, strided<[1], offset: 8>>
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %a[%i] : memref<8xf32>
    %w = arith.addf %v, %one : f32
    memref.store %w, %row[%i] : memref<8xf32, strided<[1], offset: 8>>
  }
  %s = scf.for %i = %c0 to %c8 step %c1 iter_args(%acc = %one) -> (f32) {
    %v = memref.load %a[%i] : memref<8xf32>
    %n = arith.addf %acc, %v : f32
    scf.yield %n : f32
  }
  memref.dealloc %a : memref<8xf32>
  %t = arith.mulf %s, %s : f32
  return %t : f32
}
