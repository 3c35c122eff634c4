// RUN: %nnc-opt %s --nnc-fuse-elementwise | FileCheck %s

// The bias add and relu fuse into one loop; the relu result is not fused
// into the matmul that reads it, which stays a pure contraction.
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
// CHECK-LABEL: func.func @layer
func.func @layer(%x: tensor<8x8xf32>, %bias: tensor<8xf32>, %w: tensor<8x3xf32>) -> tensor<8x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  // CHECK: linalg.generic
  // CHECK-SAME: iterator_types = ["parallel", "parallel"]
  // CHECK: arith.addf
  // CHECK-NEXT: arith.maxf
  %s = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %bias : tensor<8x8xf32>, tensor<8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%a0: f32, %b0: f32, %o: f32):
    %v = arith.addf %a0, %b0 : f32
    linalg.yield %v : f32
  } -> tensor<8x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%a0: f32, %o: f32):
    %v = arith.maxf %a0, %zero : f32
    linalg.yield %v : f32
  } -> tensor<8x8xf32>
  %e2 = tensor.empty() : tensor<8x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e2 : tensor<8x3xf32>) -> tensor<8x3xf32>
  // CHECK: linalg.generic
  // CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
  // CHECK-NEXT: ^bb0
  // CHECK-NEXT: arith.mulf
  // CHECK-NEXT: arith.addf
  // CHECK-NEXT: linalg.yield
  %m = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%r, %w : tensor<8x8xf32>, tensor<8x3xf32>) outs(%f : tensor<8x3xf32>) {
  ^bb0(%a0: f32, %b0: f32, %c0: f32):
    %p = arith.mulf %a0, %b0 : f32
    %q = arith.addf %c0, %p : f32
    linalg.yield %q : f32
  } -> tensor<8x3xf32>
  return %m : tensor<8x3xf32>
}

// A producer read by two ops stays its own loop: fused, it would be
// recomputed in each consumer.
// CHECK-LABEL: func.func @shared
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.addf
// CHECK-NEXT: linalg.yield
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.maxf
// CHECK-NEXT: linalg.yield
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: linalg.yield
func.func @shared(%x: tensor<8x8xf32>, %y: tensor<8x8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %y : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%a0: f32, %b0: f32, %o: f32):
    %v = arith.addf %a0, %b0 : f32
    linalg.yield %v : f32
  } -> tensor<8x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%a0: f32, %o: f32):
    %v = arith.maxf %a0, %zero : f32
    linalg.yield %v : f32
  } -> tensor<8x8xf32>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%a0: f32, %o: f32):
    %v = arith.mulf %a0, %a0 : f32
    linalg.yield %v : f32
  } -> tensor<8x8xf32>
  return %r, %q : tensor<8x8xf32>, tensor<8x8xf32>
}
