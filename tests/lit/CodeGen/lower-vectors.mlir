// RUN: nnc-opt %s --nnc-lower-vectors | FileCheck %s

// A register block's contraction becomes outer products (broadcast + FMA
// per row of A), and a strided memref.copy a linalg.copy (plain loops later,
// no call into MLIR's runner library).
// CHECK-LABEL: func.func @block
// CHECK-NOT: vector.contract
// CHECK: vector.fma
// CHECK-LABEL: func.func @strided_copy
// CHECK: linalg.copy
// CHECK-NOT: memref.copy
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @block(%a: vector<2x1xf32>, %b: vector<1x16xf32>, %c: vector<2x16xf32>) -> vector<2x16xf32> {
  %r = vector.contract {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %a, %b, %c : vector<2x1xf32>, vector<1x16xf32> into vector<2x16xf32>
  return %r : vector<2x16xf32>
}
func.func @strided_copy(%src: memref<4x2xf32, strided<[8, 1]>>, %dst: memref<4x2xf32>) {
  memref.copy %src, %dst : memref<4x2xf32, strided<[8, 1]>> to memref<4x2xf32>
  return
}
