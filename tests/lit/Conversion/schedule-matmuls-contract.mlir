// The pass's documentation (Passes.td, ScheduleMatmuls) says the register
// block is vectorized into `vector.contract`, which lowerVectors() then
// lowers to outer products. With MLIR 16's linalg::vectorize the block
// becomes arith.mulf + vector.multi_reduction instead, even after
// canonicalization, so the VectorContractLowering::OuterProduct patterns
// never apply. Expected to fail until the schedule emits vector.contract
// (e.g. with vector::populateVectorReductionToContractPatterns) or the
// documentation is changed; then remove XFAIL.
// XFAIL: *
// RUN: %nnc-opt %s --pass-pipeline='builtin.module(convert-nn-to-linalg,func.func(nnc-schedule-matmuls),canonicalize,cse)' | FileCheck %s

func.func @matmul(%x: tensor<32x4xf32>, %w: tensor<4x64xf32>) -> tensor<32x64xf32> {
  %0 = nn.matmul %x, %w : tensor<32x4xf32>, tensor<4x64xf32> -> tensor<32x64xf32>
  return %0 : tensor<32x64xf32>
}
// CHECK-LABEL: func.func @matmul(
// CHECK: scf.for
// CHECK: vector.contract {{.*}} : vector<8x1xf32>, vector<1x32xf32> into vector<8x32xf32>
