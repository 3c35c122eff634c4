// RUN: %nnc-opt %s --nnc-pack-arguments --split-input-file --verify-diagnostics | FileCheck %s

// Two parameters and their optimizer state (two groups) become the two flat
// buffers of the C signature, in the places of their first members; each
// member is a view at its offset (in bytes: 4 per element).
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[P:.*]]: memref<24xi8>, %[[S:.*]]: memref<48xi8>, %[[H:.*]]: memref<4xf32>)
// CHECK-NOT: nn.pack
// CHECK: %[[C24:.*]] = arith.constant 24 : index
// CHECK-NEXT: %[[V:.*]] = memref.view %[[S]][%[[C24]]][] : memref<48xi8> to memref<4xf32>
// CHECK: memref.view %[[P]][%{{.*}}][] : memref<24xi8> to memref<4xf32>
// CHECK-NEXT: %[[C16:.*]] = arith.constant 16 : index
// CHECK-NEXT: %[[B:.*]] = memref.view %[[P]][%[[C16]]][] : memref<24xi8> to memref<2xf32>
// CHECK: %[[SV:.*]] = memref.subview %[[V]]
// CHECK: memref.copy %[[B]], %[[SV]]
func.func @train_step(%w: memref<4xf32> {nn.pack = array<i64: 0, 0>},
                      %b: memref<2xf32> {nn.pack = array<i64: 0, 4>},
                      %mw: memref<4xf32> {nn.pack = array<i64: 1, 0>},
                      %mb: memref<2xf32> {nn.pack = array<i64: 1, 4>},
                      %vw: memref<4xf32> {nn.pack = array<i64: 1, 6>},
                      %vb: memref<2xf32> {nn.pack = array<i64: 1, 10>},
                      %hyper: memref<4xf32>) attributes {nn.pack_sizes = array<i64: 6, 12>} {
  %s = memref.subview %vw[0] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1]>>
  memref.copy %b, %s : memref<2xf32> to memref<2xf32, strided<[1]>>
  return
}

// -----

// A member that bufferization did not update in place comes back as a
// result: an internal error, not a silently stale parameter.
// expected-error @+1 {{internal error: a packed argument of 'train_step' is not updated in place}}
func.func @train_step(%w: memref<4xf32> {nn.pack = array<i64: 0, 0>}) -> memref<4xf32>
    attributes {nn.pack_sizes = array<i64: 4>} {
  %n = memref.alloc() : memref<4xf32>
  return %n : memref<4xf32>
}
