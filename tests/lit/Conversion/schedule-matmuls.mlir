// RUN: %nnc-opt %s --pass-pipeline='builtin.module(convert-nn-to-linalg,func.func(nnc-schedule-matmuls))' | FileCheck %s
// RUN: %nnc-opt %s --pass-pipeline='builtin.module(convert-nn-to-linalg,func.func(nnc-schedule-matmuls{vector-width=8}))' | FileCheck %s --check-prefix=VW8

// A matrix product is tiled to a register block of mr rows x nr columns,
// one k at a time, and the block is vectorized. With the default vector
// width 16: mr = 8 (divides 32), nr = 2 * 16 = 32 (divides 64).
func.func @matmul(%x: tensor<32x4xf32>, %w: tensor<4x64xf32>) -> tensor<32x64xf32> {
  %0 = nn.matmul %x, %w : tensor<32x4xf32>, tensor<4x64xf32> -> tensor<32x64xf32>
  return %0 : tensor<32x64xf32>
}
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: %[[X:.*]]: tensor<32x4xf32>, %[[W:.*]]: tensor<4x64xf32>)
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: %[[INIT:.*]] = linalg.fill
// CHECK: %[[R:.*]] = scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %[[C8]] iter_args(%{{.*}} = %[[INIT]]) -> (tensor<32x64xf32>)
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %[[C32]] iter_args
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %[[C1]] iter_args(%[[ACC:.*]] = %{{.*}})
// The register block: an 8x1 column of A, a 1x32 row of B, and the 8x32
// accumulator, combined by one vector.contract per k.
// CHECK: %[[VA:.*]] = vector.transfer_read %[[X]][%[[I]], %[[K]]]{{.*}} : tensor<32x4xf32>, vector<8x1xf32>
// CHECK: %[[VB:.*]] = vector.transfer_read %[[W]][%[[K]], %[[J]]]{{.*}} : tensor<4x64xf32>, vector<1x32xf32>
// CHECK: %[[VC:.*]] = vector.transfer_read %[[ACC]][%[[I]], %[[J]]]{{.*}} : tensor<32x64xf32>, vector<8x32xf32>
// CHECK: %[[S:.*]] = vector.contract {{{.*}}iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %[[VA]], %[[VB]], %[[VC]] : vector<8x1xf32>, vector<1x32xf32> into vector<8x32xf32>
// CHECK: %[[T:.*]] = vector.transfer_write %[[S]], %[[ACC]][%[[I]], %[[J]]]
// CHECK: scf.yield %[[T]]
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]

// VW8-LABEL: func.func @matmul(
// VW8: scf.for
// VW8: scf.for
// VW8: scf.for
// AVX2 has 16 vector registers: 32 rows (few, and 4 divides them) in
// blocks of 4 rows x 2 vectors of accumulators.
// VW8: vector.contract {{.*}} : vector<4x1xf32>, vector<1x16xf32> into vector<4x16xf32>

// Many rows: blocks of 6 rows (12 accumulators), the 2 left over split off.
func.func @many_rows(%x: tensor<128x4xf32>, %w: tensor<4x16xf32>) -> tensor<128x16xf32> {
  %0 = nn.matmul %x, %w : tensor<128x4xf32>, tensor<4x16xf32> -> tensor<128x16xf32>
  return %0 : tensor<128x16xf32>
}
// VW8-LABEL: func.func @many_rows(
// VW8: vector.contract {{.*}} : vector<6x1xf32>, vector<1x16xf32> into vector<6x16xf32>
// VW8: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [126, 16]
// VW8: vector.contract {{.*}} : vector<2x1xf32>, vector<1x16xf32> into vector<2x16xf32>
// VW8: tensor.insert_slice %{{.*}} into %{{.*}}[126, 0] [2, 16]

// Rows no more than the largest candidate are taken whole; columns narrower
// than the register block are split into powers of two (3: 2 and 1), so no
// tile has a vector<3xf32> row.
func.func @small(%x: tensor<8x4xf32>, %w: tensor<4x3xf32>) -> tensor<8x3xf32> {
  %0 = nn.matmul %x, %w : tensor<8x4xf32>, tensor<4x3xf32> -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}
// CHECK-LABEL: func.func @small(
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: vector.contract {{.*}} : vector<8x1xf32>, vector<1x2xf32> into vector<8x2xf32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [8, 2]
// CHECK: vector.contract {{.*}} : vector<8x1xf32>, vector<1x1xf32> into vector<8x1xf32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 2] [8, 1]
// CHECK-NOT: linalg.generic
// CHECK: return

// A remainder after the 16-wide tiles (175 = 160 + 15) is split into 8, 4,
// 2 and 1 columns: a vector<6x15xf32> tile lowered to lane shuffles and
// stack spills (the word LSTM's dX products).
func.func @narrow_remainder(%x: tensor<12x4xf32>, %w: tensor<4x175xf32>) -> tensor<12x175xf32> {
  %0 = nn.matmul %x, %w : tensor<12x4xf32>, tensor<4x175xf32> -> tensor<12x175xf32>
  return %0 : tensor<12x175xf32>
}
// VW8-LABEL: func.func @narrow_remainder(
// VW8: vector.contract {{.*}} : vector<6x1xf32>, vector<1x16xf32> into vector<6x16xf32>
// VW8: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [12, 160]
// VW8: vector.contract {{.*}} : vector<6x1xf32>, vector<1x8xf32> into vector<6x8xf32>
// VW8: vector.contract {{.*}} : vector<6x1xf32>, vector<1x4xf32> into vector<6x4xf32>
// VW8: vector.contract {{.*}} : vector<6x1xf32>, vector<1x2xf32> into vector<6x2xf32>
// VW8: vector.contract {{.*}} : vector<6x1xf32>, vector<1x1xf32> into vector<6x1xf32>
// VW8: tensor.insert_slice %{{.*}} into %{{.*}}[0, 160] [12, 15]
// VW8-NOT: vector<1x{{(15|7|3)}}xf32>
// VW8: return

// Columns and rows the register block does not divide are split off: 48
// columns are 32 in blocks of 32 and 16 in one block, and each part's 10
// rows are 8 in blocks of 8 and 2 in one block. Every piece fills and
// writes its own slice of one fresh result (bufferized in place: no copy of
// the pieces into the result).
func.func @odd(%x: tensor<10x4xf32>, %w: tensor<4x48xf32>) -> tensor<10x48xf32> {
  %0 = nn.matmul %x, %w : tensor<10x4xf32>, tensor<4x48xf32> -> tensor<10x48xf32>
  return %0 : tensor<10x48xf32>
}
// CHECK-LABEL: func.func @odd(
// CHECK: %[[R:.*]] = bufferization.alloc_tensor() : tensor<10x48xf32>
// CHECK: %[[P:.*]] = tensor.extract_slice %[[R]][0, 0] [10, 32]
// CHECK: %[[P0:.*]] = tensor.extract_slice %[[P]][0, 0] [8, 32]
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[P0]] : tensor<8x32xf32>)
// CHECK: vector.contract {{.*}} : vector<8x1xf32>, vector<1x32xf32> into vector<8x32xf32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [8, 32]
// CHECK: vector.contract {{.*}} : vector<2x1xf32>, vector<1x32xf32> into vector<2x32xf32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[8, 0] [2, 32]
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [10, 32]
// CHECK: vector.contract {{.*}} : vector<8x1xf32>, vector<1x16xf32> into vector<8x16xf32>
// CHECK: vector.contract {{.*}} : vector<2x1xf32>, vector<1x16xf32> into vector<2x16xf32>
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 32] [10, 16]
// CHECK-NOT: linalg.generic
// CHECK: return

// A long reduction (a weight gradient over B * T rows) runs in blocks of
// at most 256: 1000 = 4 blocks of 250. Inside a block the column strips
// are the outer loop, each strip of B copied contiguously ([250, 32], one
// vector row at a time) before the row tiles pass over it; A is read where
// it lies (no packed copy: eight rows of A are eight sequential streams).
func.func @long_k(%a: tensor<16x1000xf32>, %b: tensor<1000x64xf32>) -> tensor<16x64xf32> {
  %0 = nn.matmul %a, %b : tensor<16x1000xf32>, tensor<1000x64xf32> -> tensor<16x64xf32>
  return %0 : tensor<16x64xf32>
}
// CHECK-LABEL: func.func @long_k(
// CHECK-DAG: %[[C250:.*]] = arith.constant 250 : index
// CHECK-DAG: %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C250]]
// CHECK-NOT: linalg.generic
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C32]]
// CHECK: %[[BP:.*]] = bufferization.alloc_tensor() : tensor<250x32xf32>
// CHECK: %[[B:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[BP]])
// CHECK: vector.transfer_read {{.*}} : tensor<1000x64xf32>, vector<1x32xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C8]]
// CHECK: vector.transfer_read %arg0{{.*}} : tensor<16x1000xf32>, vector<8x1xf32>
// CHECK: vector.transfer_read %[[B]]{{.*}} : tensor<250x32xf32>, vector<1x32xf32>
// CHECK: vector.contract {{.*}} : vector<8x1xf32>, vector<1x32xf32> into vector<8x32xf32>
// CHECK: return

// A transposed A is read in place (NNToLinalg gives the product the map
// (k, m)): a tile's row of A^T is contiguous. B^T is materialized first.
func.func @transposed(%a: tensor<4x8xf32>, %b: tensor<16x4xf32>) -> tensor<8x16xf32> {
  %0 = nn.matmul %a, %b {transpose_a, transpose_b} : tensor<4x8xf32>, tensor<16x4xf32> -> tensor<8x16xf32>
  return %0 : tensor<8x16xf32>
}
// CHECK-LABEL: func.func @transposed(
// CHECK-SAME: %[[A:.*]]: tensor<4x8xf32>
// CHECK-NOT: outs(%{{.*}} : tensor<8x4xf32>)
// CHECK: %[[BT:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<16x4xf32>) outs(%{{.*}} : tensor<4x16xf32>)
// CHECK: scf.for
// CHECK: vector.transfer_read %[[A]]{{.*}} : tensor<4x8xf32>, vector<1x8xf32>
// CHECK: vector.transfer_read %[[BT]]{{.*}} : tensor<4x16xf32>, vector<1x16xf32>
// CHECK: vector.contract {{.*}} : vector<1x8xf32>, vector<1x16xf32> into vector<8x16xf32>
// CHECK-NOT: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: return

// Rows that the register block does not divide split A^T by columns: 8 rows
// in a block and 2 in the remainder, each read from its columns of A.
func.func @transposed_split(%a: tensor<4x10xf32>, %b: tensor<4x16xf32>) -> tensor<10x16xf32> {
  %0 = nn.matmul %a, %b {transpose_a} : tensor<4x10xf32>, tensor<4x16xf32> -> tensor<10x16xf32>
  return %0 : tensor<10x16xf32>
}
// CHECK-LABEL: func.func @transposed_split(
// CHECK-SAME: %[[A:.*]]: tensor<4x10xf32>
// CHECK: vector.transfer_read %[[A]][%{{.*}}, %{{.*}}]{{.*}} : tensor<4x10xf32>, vector<1x8xf32>
// CHECK: vector.contract {{.*}} : vector<1x8xf32>, vector<1x16xf32> into vector<8x16xf32>
// CHECK: vector.transfer_read %[[A]][%{{.*}}, %{{.*}}]{{.*}} : tensor<4x10xf32>, vector<1x2xf32>
// CHECK: vector.contract {{.*}} : vector<1x2xf32>, vector<1x16xf32> into vector<2x16xf32>
// CHECK: return

// Elementwise generics and reductions that are not matrix products are left alone.
func.func @not_a_matmul(%a: tensor<8x3xf32>, %b: tensor<3xf32>) -> (tensor<8x3xf32>, tensor<3xf32>) {
  %0 = nn.add %a, %b : tensor<8x3xf32>, tensor<3xf32> -> tensor<8x3xf32>
  %1 = nn.sum_to %0 : tensor<8x3xf32> -> tensor<3xf32>
  return %0, %1 : tensor<8x3xf32>, tensor<3xf32>
}
// CHECK-LABEL: func.func @not_a_matmul(
// CHECK-NOT: scf.for
// CHECK-NOT: vector.
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]
// CHECK-NOT: scf.for
// CHECK: return

// layer_norm's sum of squared deviations after nnc-fuse-elementwise: MLIR
// 16 calls it a contraction, but its multiply reads (x - mean), not two
// matrices; the register tiles, which took x [16, 256, 768] for a matrix,
// made an invalid generic of it. It is left alone.
#x3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#rows = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @squared_deviations(%x: tensor<16x256x768xf32>, %mean: tensor<16x256xf32>, %acc: tensor<16x256xf32>) -> tensor<16x256xf32> {
  %0 = linalg.generic {indexing_maps = [#x3, #rows, #rows], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %mean : tensor<16x256x768xf32>, tensor<16x256xf32>) outs(%acc : tensor<16x256xf32>) {
  ^bb0(%a: f32, %m: f32, %out: f32):
    %d = arith.subf %a, %m : f32
    %sq = arith.mulf %d, %d : f32
    %s = arith.addf %out, %sq fastmath<reassoc> : f32
    linalg.yield %s : f32
  } -> tensor<16x256xf32>
  return %0 : tensor<16x256xf32>
}
// CHECK-LABEL: func.func @squared_deviations(
// CHECK-NOT: scf.for
// CHECK-NOT: vector.
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK-NOT: scf.for
// CHECK: return

// Many rows and a long reduction: rows run in blocks too (96 divides 192
// and is a multiple of the 8-row register block), inside the k blocks; the
// row-block loop is the one threads share. Every row block would copy B's
// strips again, so B is packed into panels [N / 32, K, 32] once, before the
// k blocks, and the strips are read from them.
func.func @long_k_many_rows(%a: tensor<192x1024xf32>, %b: tensor<1024x32xf32>) -> tensor<192x32xf32> {
  %0 = nn.matmul %a, %b : tensor<192x1024xf32>, tensor<1024x32xf32> -> tensor<192x32xf32>
  return %0 : tensor<192x32xf32>
}
// CHECK-LABEL: func.func @long_k_many_rows(
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[C96:.*]] = arith.constant 96 : index
// CHECK: %[[P0:.*]] = bufferization.alloc_tensor() : tensor<1x1024x32xf32>
// CHECK: %[[P:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[P0]])
// CHECK: vector.transfer_write {{.*}} : vector<32xf32>, tensor<1x1024x32xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C256]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C96]]
// CHECK-NOT: alloc_tensor
// CHECK: vector.transfer_read %arg0{{.*}} : tensor<192x1024xf32>, vector<8x1xf32>
// CHECK: vector.transfer_read %[[P]]{{.*}} : tensor<1x1024x32xf32>, vector<1x32xf32>
// CHECK: vector.contract {{.*}} : vector<8x1xf32>, vector<1x32xf32> into vector<8x32xf32>
// CHECK: } {nnc.parallel}
// CHECK: return

// B invariant in a loop around the product (a scan's weights): packed once
// before the loop into panels [N / 32, K, 32], row by row; every iteration
// reads its column strips from the panels instead of copying them.
func.func @invariant_b(%a: tensor<16x1024xf32>, %b: tensor<1024x64xf32>, %acc: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%x = %acc) -> (tensor<16x64xf32>) {
    %p = nn.matmul %a, %b : tensor<16x1024xf32>, tensor<1024x64xf32> -> tensor<16x64xf32>
    %s = nn.add %x, %p : tensor<16x64xf32>, tensor<16x64xf32> -> tensor<16x64xf32>
    scf.yield %s : tensor<16x64xf32>
  }
  return %r : tensor<16x64xf32>
}
// CHECK-LABEL: func.func @invariant_b(
// CHECK: %[[P0:.*]] = bufferization.alloc_tensor() : tensor<2x1024x32xf32>
// CHECK: %[[P:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[P0]])
// CHECK: vector.transfer_read %arg1[{{.*}}]{{.*}} : tensor<1024x64xf32>, vector<32xf32>
// CHECK: vector.transfer_write {{.*}} : vector<32xf32>, tensor<2x1024x32xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1
// CHECK-NOT: alloc_tensor() : tensor<256x32xf32>
// CHECK: vector.transfer_read %[[P]][{{.*}}]{{.*}} : tensor<2x1024x32xf32>, vector<1x32xf32>
// CHECK: vector.contract {{.*}} : vector<8x1xf32>, vector<1x32xf32> into vector<8x32xf32>
// CHECK: return

// A transposed A is read in place in a blocked reduction too: a register
// tile's row of A^T is contiguous.
func.func @long_k_transposed(%a: tensor<1024x64xf32>, %b: tensor<1024x32xf32>) -> tensor<64x32xf32> {
  %0 = nn.matmul %a, %b {transpose_a} : tensor<1024x64xf32>, tensor<1024x32xf32> -> tensor<64x32xf32>
  return %0 : tensor<64x32xf32>
}
// CHECK-LABEL: func.func @long_k_transposed(
// CHECK-NOT: linalg.generic
// CHECK: bufferization.alloc_tensor() : tensor<256x32xf32>
// CHECK: vector.transfer_read %arg0{{.*}} : tensor<1024x64xf32>, vector<1x8xf32>
// CHECK: vector.contract {{.*}} : vector<1x8xf32>, vector<1x32xf32> into vector<8x32xf32>
// CHECK: return

// A reduction of 512 runs in one piece with AVX-512's 32-column tiles (a
// [512, 32] strip of B streams from L2 fast enough), unless B's rows are a
// multiple of 4 KiB apart (2048 columns), and always in blocks with AVX2.
func.func @k512(%a: tensor<64x512xf32>, %b: tensor<512x128xf32>) -> tensor<64x128xf32> {
  %0 = nn.matmul %a, %b : tensor<64x512xf32>, tensor<512x128xf32> -> tensor<64x128xf32>
  return %0 : tensor<64x128xf32>
}
// CHECK-LABEL: func.func @k512(
// CHECK-NOT: alloc_tensor
// CHECK: vector.contract {{.*}} : vector<8x1xf32>, vector<1x32xf32> into vector<8x32xf32>
// CHECK: return
// VW8-LABEL: func.func @k512(
// VW8: bufferization.alloc_tensor() : tensor<256x16xf32>
// VW8: return
func.func @k512_wide(%a: tensor<64x512xf32>, %b: tensor<512x2048xf32>) -> tensor<64x2048xf32> {
  %0 = nn.matmul %a, %b : tensor<64x512xf32>, tensor<512x2048xf32> -> tensor<64x2048xf32>
  return %0 : tensor<64x2048xf32>
}
// CHECK-LABEL: func.func @k512_wide(
// CHECK: bufferization.alloc_tensor() : tensor<256x32xf32>
// CHECK: return

// One narrow row (batch-1 generation, fewer than 256 columns): 8 vectors of
// columns per register tile, so each row of B is read as 4 cache lines in a
// row.
func.func @one_row(%a: tensor<1x64xf32>, %b: tensor<64x128xf32>) -> tensor<1x128xf32> {
  %0 = nn.matmul %a, %b : tensor<1x64xf32>, tensor<64x128xf32> -> tensor<1x128xf32>
  return %0 : tensor<1x128xf32>
}
// CHECK-LABEL: func.func @one_row(
// CHECK: vector.contract {{.*}} : vector<1x1xf32>, vector<1x128xf32> into vector<1x128xf32>
// VW8-LABEL: func.func @one_row(
// VW8: vector.contract {{.*}} : vector<1x1xf32>, vector<1x64xf32> into vector<1x64xf32>

// A wide one-row product reads B in address order: 16 rows at a time, each
// swept across all columns one vector at a time, C's row accumulating.
func.func @one_row_stream(%a: tensor<1x64xf32>, %b: tensor<64x256xf32>) -> tensor<1x256xf32> {
  %0 = nn.matmul %a, %b : tensor<1x64xf32>, tensor<64x256xf32> -> tensor<1x256xf32>
  return %0 : tensor<1x256xf32>
}
// VW8-LABEL: func.func @one_row_stream(
// VW8: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C16:.*]] iter_args
// VW8: scf.for
// VW8: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C8:.*]] iter_args
// VW8: vector.transfer_read %arg1{{.*}} : tensor<64x256xf32>, vector<16x8xf32>
// VW8: vector.contract {{.*}} : vector<1x16xf32>, vector<16x8xf32> into vector<1x8xf32>
// VW8-NOT: nnc.parallel
// VW8: return

// From 2^16 multiply-adds (256 KB of B) a one-row product is split by rows
// of B into two halves, a loop the threads share when there are several,
// each streaming its half into its own row of partial sums; the two rows
// are added after the loop.
func.func @one_row_parallel(%a: tensor<1x256xf32>, %b: tensor<256x1024xf32>) -> tensor<1x1024xf32> {
  %0 = nn.matmul %a, %b : tensor<1x256xf32>, tensor<256x1024xf32> -> tensor<1x1024xf32>
  return %0 : tensor<1x1024xf32>
}
// VW8-LABEL: func.func @one_row_parallel(
// VW8-DAG: %[[C128:.*]] = arith.constant 128 : index
// VW8-DAG: %[[C2:.*]] = arith.constant 2 : index
// VW8: %[[P:.*]] = scf.for %[[H:.*]] = %{{.*}} to %[[C2]] step %{{.*}} iter_args(%{{.*}} = %{{.*}}) -> (tensor<2x1024xf32>)
// VW8: arith.muli %[[H]], %[[C128]]
// VW8: linalg.fill
// VW8: scf.for %{{.*}} = %{{.*}} to %[[C128]] step %{{.*}} iter_args
// VW8: vector.contract {{.*}} : vector<1x16xf32>, vector<16x8xf32> into vector<1x8xf32>
// VW8: tensor.insert_slice %{{.*}} into %{{.*}}[%[[H]], 0] [1, 1024]
// VW8: } {nnc.parallel, nnc.parallel_if_threads}
// VW8: linalg.generic {{.*}} ins(%[[P]], %[[P]] : tensor<2x1024xf32>, tensor<2x1024xf32>)
// VW8: arith.addf
// VW8: return
