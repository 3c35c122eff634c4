#ifndef NNC_CONVERSION_PASSES_TD
#define NNC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertNNToLinalg : Pass<"convert-nn-to-linalg", "mlir::ModuleOp"> {
  let summary = "lowers nn ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Every nn op becomes one or a few `linalg.generic` ops on tensors (with
    `tensor.empty` + `linalg.fill` destinations), so that upstream fusion,
    tiling, vectorization and bufferization apply. Broadcasting becomes
    indexing maps, never materialized copies. `nn.parameter` declarations
    are erased (the entry points no longer read them).

    ```mlir
    // before
    %y = nn.add %a, %b : tensor<8x3xf32>, tensor<3xf32> -> tensor<8x3xf32>
    // after
    %e = tensor.empty() : tensor<8x3xf32>
    %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                          affine_map<(d0, d1) -> (d1)>,
                                          affine_map<(d0, d1) -> (d0, d1)>],
                         iterator_types = ["parallel", "parallel"]}
        ins(%a, %b : tensor<8x3xf32>, tensor<3xf32>) outs(%e : tensor<8x3xf32>) {...}
    ```
  }];
  let constructor = "nnc::createConvertNNToLinalgPass()";
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect", "mlir::math::MathDialect"];
}

def ScheduleMatmuls : Pass<"nnc-schedule-matmuls", "mlir::func::FuncOp"> {
  let summary = "tiles and vectorizes matrix products for the host CPU";
  let description = [{
    Each `linalg.generic` that is a matrix product (one reduction dimension,
    multiply-accumulate body) is tiled for the caches and then to a register
    block (rows x vector width), and the register block is vectorized into
    `vector.contract`, which later lowers to broadcasts and FMAs. Tile sizes
    are chosen per shape so they divide it (the vectorizer needs that).

    ```mlir
    // before: linalg.generic {... ["parallel", "parallel", "reduction"]} ins(%a, %b) outs(%c)
    // after
    scf.for %i = ... {
      scf.for %j = ... {
        scf.for %k = ... {
          %va = vector.transfer_read ...
          %r = vector.contract ... : vector<8x1xf32>, vector<1x16xf32> into vector<8x16xf32>
    ```
  }];
  let constructor = "nnc::createScheduleMatmulsPass()";
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::vector::VectorDialect",
                           "mlir::tensor::TensorDialect", "mlir::linalg::LinalgDialect"];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", "16",
           "floats in one vector register (16 for AVX-512)">,
  ];
}

#endif
