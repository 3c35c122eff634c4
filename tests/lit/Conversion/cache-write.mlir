// RUN: %nnc-opt %s --convert-nn-to-linalg | FileCheck %s
// RUN: %nnc-opt %s --convert-nn-to-linalg --canonicalize --eliminate-empty-tensors --empty-tensor-to-alloc-tensor --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --drop-equivalent-buffer-results | FileCheck %s --check-prefix=BUF
// Exercises compiler/lib/Conversion/NNToLinalg/: SequenceLowering.cpp (LowerCacheWrite).

// nn.cache_write is one row inserted into the cache at the position
// (clamped; out of range, the row there is written back as it was), and the
// step's copy of the new cache into its state is that insertion: after
// bufferization the row is written into the cache the step was given, and
// nothing copies the whole cache.
// CHECK-LABEL: func.func @step
// CHECK: %[[AT:.*]] = arith.minsi
// CHECK: %[[OLD:.*]] = tensor.extract_slice %[[CACHE:.*]][0, %[[AT]], 0] [2, 1, 8] [1, 1, 1]
// CHECK: %[[ROW:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[OLD]] :
// CHECK: arith.select
// CHECK: %[[NEW:.*]] = tensor.insert_slice %[[ROW]] into %[[CACHE]][0, %[[AT]], 0] [2, 1, 8] [1, 1, 1]
// CHECK-NOT: linalg.copy
// CHECK: return %[[NEW]]
// BUF: func.func @step(%[[C:[a-z0-9]+]]: memref<2x16x8xf32>
// BUF-NOT: memref.alloc() {{.*}} memref<2x16x8xf32>
// BUF-NOT: memref.copy {{.*}} memref<2x16x8xf32>
// BUF: %[[SV:.*]] = memref.subview %[[C]][0, %{{.*}}, 0] [2, 1, 8] [1, 1, 1]
// BUF: memref.copy %{{.*}}, %[[SV]]
// BUF-NOT: memref.copy {{.*}} memref<2x16x8xf32>
// BUF: return
func.func @step(%cache: tensor<2x16x8xf32>, %v: tensor<2x1x8xf32>, %pos: i64) -> tensor<2x16x8xf32> {
  %new = nn.cache_write %v into %cache at %pos : tensor<2x1x8xf32> into tensor<2x16x8xf32>
  %out = linalg.copy ins(%new : tensor<2x16x8xf32>) outs(%cache : tensor<2x16x8xf32>) -> tensor<2x16x8xf32>
  return %out : tensor<2x16x8xf32>
}
