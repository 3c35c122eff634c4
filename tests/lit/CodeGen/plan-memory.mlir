// RUN: %nnc-opt %s --nnc-plan-memory --cse --split-input-file | FileCheck %s

// Buffers whose lives do not overlap share bytes; overlapping ones do not.
// %a (1024 B) is used by ops 0-1, %b (1024 B) by ops 1-2, %c (512 B) by op 3
// only: %a and %b overlap, %c reuses %a's range. The deallocs all sit at the
// end (as MLIR 16's buffer-deallocation leaves them) and do not count as uses.
// CHECK: module attributes {nn.workspace_bytes = 2048 : i64}
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%[[X:.*]]: memref<256xf32>, %[[WS:.*]]: memref<2048xi8>)
// CHECK: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[WS]]
// CHECK: %[[NULL:.*]] = arith.cmpi eq, %[[P]]
// CHECK: %[[BUF:.*]] = scf.if %[[NULL]] -> (memref<2048xi8>) {
// CHECK:   memref.alloc() {alignment = 64 : i64} : memref<2048xi8>
// CHECK: } else {
// CHECK:   scf.yield %[[WS]]
// CHECK-DAG: memref.view %[[BUF]][%{{.*}}][] : memref<2048xi8> to memref<256xf32>
// CHECK-DAG: memref.view %[[BUF]][%{{.*}}][] : memref<2048xi8> to memref<128xf32>
// CHECK-NOT: memref.alloc()
// CHECK-NOT: memref.dealloc {{.*}}f32
// CHECK: scf.if %[[NULL]] {
// CHECK-NEXT: memref.dealloc %[[BUF]] : memref<2048xi8>
// CHECK: return
func.func @chain(%x: memref<256xf32>) attributes {nn.workspace} {
  %a = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<128xf32>
  memref.copy %x, %a : memref<256xf32> to memref<256xf32>
  memref.copy %a, %b : memref<256xf32> to memref<256xf32>
  memref.copy %b, %x : memref<256xf32> to memref<256xf32>
  %s = memref.subview %x[0] [128] [1] : memref<256xf32> to memref<128xf32, strided<[1]>>
  memref.copy %s, %c : memref<128xf32, strided<[1]>> to memref<128xf32>
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<256xf32>
  memref.dealloc %c : memref<128xf32>
  return
}

// -----

// A use through a view counts as a use of the buffer: %a's subview is read
// at op 3, after %b's first use at op 2, so the two may not share bytes
// (without the view %a would be dead after op 1 and %b could take offset 0).
// CHECK: module attributes {nn.workspace_bytes = 2048 : i64}
// CHECK-LABEL: func.func @through_view
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %{{.*}}[%[[C0]]][] : memref<2048xi8> to memref<256xf32>
// CHECK: %[[C1024:.*]] = arith.constant 1024 : index
// CHECK: memref.view %{{.*}}[%[[C1024]]][] : memref<2048xi8> to memref<256xf32>
func.func @through_view(%x: memref<256xf32>, %y: memref<128xf32>) attributes {nn.workspace} {
  %a = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<256xf32>
  memref.copy %x, %a : memref<256xf32> to memref<256xf32>
  %v = memref.subview %a[0] [128] [1] : memref<256xf32> to memref<128xf32, strided<[1]>>
  memref.copy %x, %b : memref<256xf32> to memref<256xf32>
  memref.copy %v, %y : memref<128xf32, strided<[1]>> to memref<128xf32>
  memref.copy %b, %x : memref<256xf32> to memref<256xf32>
  memref.dealloc %a : memref<256xf32>
  memref.dealloc %b : memref<256xf32>
  return
}

// -----

// A buffer made in a parallel loop gets one slot per iteration (4 here): a
// view of the loop's slots at the buffer's offset, made ahead of the loop,
// and inside it the slot index times the buffer's aligned size. The loop
// itself names no workspace offset, so the same loop planned elsewhere is
// the same kernel (nnc-outline-kernels).
// CHECK: module attributes {nn.workspace_bytes = 256 : i64}
// CHECK-LABEL: func.func @per_iteration
// CHECK: %[[SLOTS:.*]] = memref.view %{{.*}}[%{{.*}}][] : memref<256xi8> to memref<256xi8>
// CHECK: scf.parallel (%[[I:.*]]) =
// CHECK: %[[D:.*]] = arith.subi %[[I]], %{{.*}}
// CHECK: %[[S:.*]] = arith.divui %[[D]], %{{.*}}
// CHECK: %[[O:.*]] = arith.muli %[[S]], %{{.*}}
// CHECK: memref.view %[[SLOTS]][%[[O]]][] : memref<256xi8> to memref<16xf32>
// CHECK-NOT: memref.alloc() {{.*}}memref<16xf32>
func.func @per_iteration(%x: memref<64xf32>) attributes {nn.workspace} {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%i) = (%c0) to (%c64) step (%c16) {
    %t = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
    %s = memref.subview %x[%i] [16] [1] : memref<64xf32> to memref<16xf32, strided<[1], offset: ?>>
    memref.copy %s, %t : memref<16xf32, strided<[1], offset: ?>> to memref<16xf32>
    memref.copy %t, %s : memref<16xf32> to memref<16xf32, strided<[1], offset: ?>>
    memref.dealloc %t : memref<16xf32>
    scf.yield
  }
  return
}

// -----

// Left alone: a buffer returned to the caller, one never freed, and a
// function without nn.workspace (init), which keeps its signature.
// CHECK: module attributes {nn.workspace_bytes = 0 : i64}
// CHECK-LABEL: func.func @escapes
// CHECK-SAME: (%{{.*}}: memref<64xi8>) -> memref<4xf32>
// CHECK: memref.alloc() : memref<4xf32>
// CHECK-LABEL: func.func @init
// CHECK-SAME: (%{{.*}}: memref<4xf32>)
// CHECK: memref.alloc() : memref<4xf32>
// CHECK: memref.dealloc
func.func @escapes() -> memref<4xf32> attributes {nn.workspace} {
  %a = memref.alloc() : memref<4xf32>
  return %a : memref<4xf32>
}
func.func @init(%x: memref<4xf32>) {
  %a = memref.alloc() : memref<4xf32>
  memref.copy %x, %a : memref<4xf32> to memref<4xf32>
  memref.copy %a, %x : memref<4xf32> to memref<4xf32>
  memref.dealloc %a : memref<4xf32>
  return
}
