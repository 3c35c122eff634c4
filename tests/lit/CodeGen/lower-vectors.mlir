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
// A copy with short contiguous rows (a scan step's state into the
// concatenated [h, x]) is one vector transfer per row: as loops, LLVM made
// each row a memcpy call. Long rows and gathers stay a linalg.copy.
// CHECK-LABEL: func.func @short_rows
// CHECK: scf.for %{{.*}} = %c0 to %c128 step %c1
// CHECK: vector.transfer_read {{.*}} vector<1x150xf32>
// CHECK: vector.transfer_write {{.*}} vector<1x150xf32>, memref<1x150xf32, strided<[175, 1], offset: ?>>
// CHECK-NOT: linalg.copy
// CHECK-LABEL: func.func @long_rows
// CHECK: linalg.copy
// CHECK-LABEL: func.func @gather_rows
// CHECK: linalg.copy
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @block(%a: vector<2x1xf32>, %b: vector<1x16xf32>, %c: vector<2x16xf32>) -> vector<2x16xf32> {
  %r = vector.contract {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %a, %b, %c : vector<2x1xf32>, vector<1x16xf32> into vector<2x16xf32>
  return %r : vector<2x16xf32>
}
func.func @strided_copy(%src: memref<?x2xf32, strided<[8, 1]>>, %dst: memref<?x2xf32>) {
  memref.copy %src, %dst : memref<?x2xf32, strided<[8, 1]>> to memref<?x2xf32>
  return
}
func.func @short_rows(%src: memref<128x150xf32>, %dst: memref<128x150xf32, strided<[175, 1]>>) {
  memref.copy %src, %dst : memref<128x150xf32> to memref<128x150xf32, strided<[175, 1]>>
  return
}
func.func @long_rows(%src: memref<4x600xf32>, %dst: memref<4x600xf32, strided<[700, 1]>>) {
  memref.copy %src, %dst : memref<4x600xf32> to memref<4x600xf32, strided<[700, 1]>>
  return
}
func.func @gather_rows(%src: memref<150xf32>, %dst: memref<150xf32, strided<[2]>>) {
  memref.copy %src, %dst : memref<150xf32> to memref<150xf32, strided<[2]>>
  return
}
