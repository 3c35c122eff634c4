// RUN: %nnc-opt %s --nnc-outline-kernels --canonicalize --cse --split-input-file | FileCheck %s

// Two slices of the flat parameter buffer at different offsets, each negated
// by the same loop: the argument becomes bytes, each slice a view of them
// with the identity layout, and both loops call one kernel.
// CHECK: module attributes {nn.kernels = [1, 2]}
// CHECK: func.func private @nnc_kernel_0(%[[X:.*]]: memref<4x8xf32> {llvm.noalias}, %[[Y:.*]]: memref<4x8xf32> {llvm.noalias})
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>, nn.key = "{{[0-9a-f]+}}", passthrough = ["noinline"]
// CHECK: linalg.generic {{.*}} ins(%[[X]] : memref<4x8xf32>) outs(%[[Y]] : memref<4x8xf32>)
// CHECK-NOT: func.func private
// CHECK-LABEL: func.func @two_layers
// CHECK-SAME: (%[[P:.*]]: memref<256xi8>, %[[O:.*]]: memref<128xi8>)
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[OUT:.*]] = memref.view %[[O]][%{{.*}}][] : memref<128xi8> to memref<4x8xf32>
// CHECK-DAG: %[[B:.*]] = memref.view %[[P]][%[[C128]]][] : memref<256xi8> to memref<32xf32>
// CHECK-DAG: %[[B2:.*]] = memref.expand_shape %[[B]] {{.*}} : memref<32xf32> into memref<4x8xf32>
// CHECK: call @nnc_kernel_0(%{{.*}}, %[[OUT]])
// CHECK: call @nnc_kernel_0(%[[B2]], %[[OUT]])
#id = affine_map<(i, j) -> (i, j)>
func.func @two_layers(%p: memref<64xf32>, %out: memref<4x8xf32>) attributes {nn.workspace} {
  %s0 = memref.subview %p[0] [32] [1] : memref<64xf32> to memref<32xf32, strided<[1]>>
  %w0 = memref.expand_shape %s0 [[0, 1]] : memref<32xf32, strided<[1]>> into memref<4x8xf32>
  %s1 = memref.subview %p[32] [32] [1] : memref<64xf32> to memref<32xf32, strided<[1], offset: 32>>
  %w1 = memref.expand_shape %s1 [[0, 1]] : memref<32xf32, strided<[1], offset: 32>> into memref<4x8xf32, strided<[8, 1], offset: 32>>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%w0 : memref<4x8xf32>) outs(%out : memref<4x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%w1 : memref<4x8xf32, strided<[8, 1], offset: 32>>) outs(%out : memref<4x8xf32>) {
  ^bb0(%a: f32, %b: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  }
  return
}

// -----

// A view that is not contiguous (a column block) is made again inside the
// kernel from the buffer under it, at its offset relative to that buffer;
// a loop's scalar result comes back from the kernel; different loops are
// different kernels; init (no nn.workspace, but public: an entry point)
// calls its kernel too.
// CHECK: module attributes {nn.kernels = [3, 3]}
// CHECK: func.func private @nnc_kernel_0(%[[M:.*]]: memref<4x8xf32> {llvm.noalias}, %[[D:.*]]: memref<4x2xf32> {llvm.noalias})
// CHECK: memref.subview %[[M]][0, 2] [4, 2] [1, 1] : memref<4x8xf32> to memref<4x2xf32, strided<[8, 1], offset: 2>>
// CHECK: memref.copy
// CHECK: func.func private @nnc_kernel_1(%{{.*}}: memref<4x2xf32> {llvm.noalias}) -> f32
// CHECK: scf.for
// CHECK: return %{{.*}} : f32
// CHECK-LABEL: func.func @columns
// CHECK: call @nnc_kernel_0(
// CHECK: %[[R:.*]] = call @nnc_kernel_1(
// CHECK: return %[[R]] : f32
// CHECK: func.func private @nnc_kernel_2(
// CHECK-LABEL: func.func @init
// CHECK-SAME: (%{{.*}}: memref<128xi8>)
// CHECK: call @nnc_kernel_2(
func.func @columns(%m: memref<4x8xf32>, %d: memref<4x2xf32>) -> f32 attributes {nn.workspace} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %col = memref.subview %m[0, 2] [4, 2] [1, 1] : memref<4x8xf32> to memref<4x2xf32, strided<[8, 1], offset: 2>>
  memref.copy %col, %d : memref<4x2xf32, strided<[8, 1], offset: 2>> to memref<4x2xf32>
  %sum = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %zero) -> (f32) {
    %v = memref.load %d[%i, %c0] : memref<4x2xf32>
    %n = arith.addf %acc, %v : f32
    scf.yield %n : f32
  }
  return %sum : f32
}
func.func @init(%m: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %zero, %m[%i, %c0] : memref<4x8xf32>
  }
  return
}

// -----

// `llvm.noalias` only where no other argument of the call overlaps: the
// first loop reads and writes one buffer (its argument is passed once, so
// it is noalias); the second gets two overlapping views of the workspace;
// the third two disjoint ones. The same loop with another aliasing is
// another kernel. The workspace itself (picked by an scf.if) stays in the
// entry point.
// CHECK: module attributes {nn.kernels = [3, 3]}
// CHECK: func.func private @nnc_kernel_0(%{{.*}}: memref<8xf32> {llvm.noalias})
// CHECK: func.func private @nnc_kernel_1(%{{.*}}: memref<8xf32>, %{{.*}}: memref<8xf32>)
// CHECK: func.func private @nnc_kernel_2(%{{.*}}: memref<8xf32> {llvm.noalias}, %{{.*}}: memref<8xf32> {llvm.noalias})
// CHECK-LABEL: func.func @aliasing
// CHECK: %[[WS:.*]] = arith.select
// CHECK: memref.view %[[WS]]
// CHECK: call @nnc_kernel_0(
// CHECK: call @nnc_kernel_1(
// CHECK: call @nnc_kernel_2(
#id1 = affine_map<(i) -> (i)>
func.func @aliasing(%ws: memref<64xi8>, %c: i1) attributes {nn.workspace} {
  %own = memref.alloc() : memref<64xi8>
  %buf = scf.if %c -> (memref<64xi8>) {
    scf.yield %own : memref<64xi8>
  } else {
    scf.yield %ws : memref<64xi8>
  }
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %a = memref.view %buf[%c0][] : memref<64xi8> to memref<8xf32>
  %b = memref.view %buf[%c16][] : memref<64xi8> to memref<8xf32>
  %d = memref.view %buf[%c32][] : memref<64xi8> to memref<8xf32>
  linalg.generic {indexing_maps = [#id1], iterator_types = ["parallel"]} outs(%a : memref<8xf32>) {
  ^bb0(%x: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  }
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%a : memref<8xf32>) outs(%b : memref<8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  }
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]}
      ins(%a : memref<8xf32>) outs(%d : memref<8xf32>) {
  ^bb0(%x: f32, %y: f32):
    %n = arith.negf %x : f32
    linalg.yield %n : f32
  }
  return
}

// -----

// Constant globals are named by their content and sorted, whatever order
// bufferization made them in (it varies from run to run): two globals with
// the same value become one, and kernels that read them print the same.
// CHECK: memref.global "private" constant @__constant_[[A:[0-9a-f]+]] : memref<4xf32> = dense<2.000000e+00>
// CHECK-NOT: memref.global
// CHECK: func.func private @nnc_kernel_0(
// CHECK-NOT: func.func private @nnc_kernel_1(
// CHECK-LABEL: func.func @constants
// CHECK: %[[G:.*]] = memref.get_global @__constant_[[A]]
// CHECK: call @nnc_kernel_0(%[[G]],
// CHECK: call @nnc_kernel_0(%[[G]],
memref.global "private" constant @__constant_4xf32 : memref<4xf32> = dense<2.0> {alignment = 64 : i64}
memref.global "private" constant @__constant_4xf32_0 : memref<4xf32> = dense<2.0> {alignment = 64 : i64}
func.func @constants(%a: memref<4xf32>, %b: memref<4xf32>) attributes {nn.workspace} {
  %g = memref.get_global @__constant_4xf32 : memref<4xf32>
  memref.copy %g, %a : memref<4xf32> to memref<4xf32>
  %h = memref.get_global @__constant_4xf32_0 : memref<4xf32>
  memref.copy %h, %b : memref<4xf32> to memref<4xf32>
  return
}

// -----

// The loop over a repeated layer's copies (nnc.repeat_loop) stays in the
// entry point: each loop nest of its body is a kernel, called once per
// copy with that copy's slice of the stacked parameters (made again inside
// from the stack and the copy's index, both arguments).
// CHECK: module attributes {nn.kernels = [2, 2]}
// CHECK: func.func private @nnc_kernel_0(%[[S:.*]]: memref<3x8xf32> {llvm.noalias}, %[[I:.*]]: index, %[[X:.*]]: memref<8xf32> {llvm.noalias})
// CHECK: memref.subview %[[S]][%[[I]], 0] [1, 8] [1, 1]
// CHECK: func.func private @nnc_kernel_1(
// CHECK-LABEL: func.func @repeat
// CHECK: scf.for %[[IV:.*]] =
// CHECK-NEXT: call @nnc_kernel_0(%{{.*}}, %[[IV]], %{{.*}})
// CHECK-NEXT: call @nnc_kernel_1(
// CHECK-NEXT: } {nnc.repeat_loop}
#id2 = affine_map<(i) -> (i)>
func.func @repeat(%stack: memref<3x8xf32>, %x: memref<8xf32>) attributes {nn.workspace} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  scf.for %i = %c0 to %c3 step %c1 {
    %w = memref.subview %stack[%i, 0] [1, 8] [1, 1] : memref<3x8xf32> to memref<8xf32, strided<[1], offset: ?>>
    linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel"]}
        ins(%w : memref<8xf32, strided<[1], offset: ?>>) outs(%x : memref<8xf32>) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    }
    linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel"]} outs(%x : memref<8xf32>) {
    ^bb0(%b: f32):
      %t = math.tanh %b : f32
      linalg.yield %t : f32
    }
  } {nnc.repeat_loop}
  return
}
