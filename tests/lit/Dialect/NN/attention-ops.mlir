// The attention shape ops (issue 4) parse and print back in their custom
// form, also through the generic form: nn.batch_matmul with both transpose
// flags, nn.transpose, and the axis of nn.concat / nn.slice / nn.slice_grad.
// RUN: %nnc-opt %s | FileCheck %s
// RUN: %nnc-opt %s | %nnc-opt | FileCheck %s
// RUN: %nnc-opt %s -mlir-print-op-generic | %nnc-opt | FileCheck %s

// CHECK-LABEL: func.func @ops(
func.func @ops(%q: tensor<8x4x16x32xf32>, %k: tensor<8x4x16x32xf32>, %x: tensor<8x6x4xf32>,
               %y: tensor<8x2x4xf32>) -> tensor<8x4x16x16xf32> {
  // CHECK: nn.batch_matmul %{{.*}}, %{{.*}} {transpose_b} : tensor<8x4x16x32xf32>, tensor<8x4x16x32xf32> -> tensor<8x4x16x16xf32>
  %s = nn.batch_matmul %q, %k {transpose_b} : tensor<8x4x16x32xf32>, tensor<8x4x16x32xf32> -> tensor<8x4x16x16xf32>
  // CHECK: nn.batch_matmul %{{.*}}, %{{.*}} {transpose_a} : tensor<8x4x16x32xf32>, tensor<8x4x16x32xf32> -> tensor<8x4x32x32xf32>
  %g = nn.batch_matmul %q, %k {transpose_a} : tensor<8x4x16x32xf32>, tensor<8x4x16x32xf32> -> tensor<8x4x32x32xf32>
  // CHECK: nn.batch_matmul %{{.*}}, %{{.*}} : tensor<8x4x16x16xf32>, tensor<8x4x16x32xf32> -> tensor<8x4x16x32xf32>
  %o = nn.batch_matmul %s, %q : tensor<8x4x16x16xf32>, tensor<8x4x16x32xf32> -> tensor<8x4x16x32xf32>
  // CHECK: nn.transpose %{{.*}} {permutation = array<i64: 0, 2, 1, 3>} : tensor<8x4x16x32xf32> -> tensor<8x16x4x32xf32>
  %t = nn.transpose %o {permutation = array<i64: 0, 2, 1, 3>} : tensor<8x4x16x32xf32> -> tensor<8x16x4x32xf32>
  // CHECK: nn.concat %{{.*}}, %{{.*}} {axis = 1 : i64} : tensor<8x6x4xf32>, tensor<8x2x4xf32> -> tensor<8x8x4xf32>
  %c = nn.concat %x, %y {axis = 1 : i64} : tensor<8x6x4xf32>, tensor<8x2x4xf32> -> tensor<8x8x4xf32>
  // CHECK: nn.slice %{{.*}} {axis = 1 : i64, begin = 6 : i64} : tensor<8x8x4xf32> -> tensor<8x2x4xf32>
  %sl = nn.slice %c {begin = 6 : i64, axis = 1 : i64} : tensor<8x8x4xf32> -> tensor<8x2x4xf32>
  // CHECK: nn.slice_grad %{{.*}} {axis = 1 : i64, begin = 6 : i64} : tensor<8x2x4xf32> -> tensor<8x8x4xf32>
  %sg = nn.slice_grad %sl {begin = 6 : i64, axis = 1 : i64} : tensor<8x2x4xf32> -> tensor<8x8x4xf32>
  return %s : tensor<8x4x16x16xf32>
}
