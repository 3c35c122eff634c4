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
                           "mlir::arith::ArithDialect", "mlir::math::MathDialect",
                           "mlir::scf::SCFDialect"];
}

def ScheduleMatmuls : Pass<"nnc-schedule-matmuls", "mlir::func::FuncOp"> {
  let summary = "tiles and vectorizes matrix products for the host CPU";
  let description = [{
    Each `linalg.generic` that is a matrix product (one reduction dimension,
    multiply-accumulate body) is tiled for the caches and then to a register
    block (rows x vector width), and the register block is vectorized into
    `vector.contract`, which later lowers to broadcasts and FMAs. Tile sizes
    are chosen per shape so they divide it (the vectorizer needs that): a
    product whose shape they do not divide is split into a main part and
    remainders, the column remainders in powers of two. A may be read
    transposed (map `(k, m)`, as `nn.matmul {transpose_a}` lowers). Large
    products mark one tile loop `nnc.parallel` for nnc-parallelize-loops
    (2^20 multiply-adds; 2^18 for one-row products).

    A reduction longer than 256 runs in blocks (of rows too, past 128). With
    at least two row tiles, a block's A is packed as a contiguous A^T and
    each column strip of B is copied contiguously before the row tiles read
    it: rows a multiple of 4 KiB apart would otherwise all fall into the same
    cache sets. When B is invariant in a loop around the product (a scan's
    weights), it is packed once before that loop into panels
    `[N / nr, K, nr]` and the steps read their strips from the panels.

    A one-row product (batch-1 generation) of at least 256 columns reads B
    in address order: 16 rows at a time, each swept across all columns, the
    row of C accumulating. From 2^18 multiply-adds it is split by rows of B
    into two halves, a loop the threads share, each summing into its own row
    of partial results, added after the loop. Narrower one-row products take
    8 vectors of columns per register tile.

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
                           "mlir::tensor::TensorDialect", "mlir::linalg::LinalgDialect",
                           "mlir::bufferization::BufferizationDialect"];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", "16",
           "floats in one vector register (16 for AVX-512)">,
  ];
}

def FuseElementwise : Pass<"nnc-fuse-elementwise", "mlir::ModuleOp"> {
  let summary = "fuses chains of elementwise linalg ops, but not into matrix products";
  let description = [{
    Upstream elementwise fusion, controlled: a producer is fused into its
    consumer unless the consumer is a contraction (a matrix product). Fusing
    `relu(x @ W + b)` into the next matmul's operand would recompute the
    activation once per output column and make the product impossible to
    vectorize as a contraction; it stays a separate loop instead. A
    producer with several uses is not fused either: each consumer would
    recompute it (a transformer's residual stream, recomputed from the
    embedding in every layer norm). Nor is anything fused into an op that
    writes an entry point's argument in place (an optimizer update): a
    gradient computed there would read parameters that the updates before
    it have already overwritten.

    ```mlir
    // before: %a = linalg.generic {add} ...; %r = linalg.generic {max} ins(%a)
    // after:  %r = linalg.generic {add then max} ...
    ```
  }];
  let constructor = "nnc::createFuseElementwisePass()";
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect"];
}

def HoistLoopInvariants : Pass<"nnc-hoist-loop-invariants", "mlir::ModuleOp"> {
  let summary = "moves tensor computations that do not change between iterations out of scf.for";
  let description = [{
    A scan's body is lowered into an `scf.for`, and everything in it runs
    once per time step, including what depends only on the captured
    weights: backpropagation through time multiplies by `W^T`, which the
    lowering of `nn.matmul {transpose_b}` materialises, a strided copy of
    the whole matrix at every step. Upstream loop-invariant code motion
    leaves linalg ops in place (they do not declare themselves
    speculatable); on tensors they are pure, so this pass moves
    `linalg` ops with tensor semantics, `tensor.empty`, `tensor` slices
    and reshapes and constants out of the loop when all their operands are
    defined outside it.

    ```mlir
    // before
    scf.for %t = %c0 to %c25 step %c1 iter_args(%dh = %init) -> (tensor<8x16xf32>) {
      %e = tensor.empty() : tensor<64x20xf32>
      %wt = linalg.generic {transpose} ins(%w : tensor<20x64xf32>) outs(%e : tensor<64x20xf32>)
      ...
    }
    // after: %e and %wt are computed once, before the loop
    ```
  }];
  let constructor = "nnc::createHoistLoopInvariantsPass()";
}

def ParallelizeLoops : Pass<"nnc-parallelize-loops", "mlir::ModuleOp"> {
  let summary = "turns marked tile loops and large elementwise ops into scf.parallel loops";
  let description = [{
    `nnc-schedule-matmuls` marks the outer tile loop of a large matrix
    product with `nnc.parallel`, and `convert-nn-to-linalg` the loop over
    the slices of a batched product whose slices are small (attention's
    per-head products): its iterations write disjoint tiles of the
    result. On tensors the loop carries the result as an iteration argument;
    after bufferization it writes a buffer in place and carries nothing, and
    this pass makes it an `scf.parallel` (then `convert-scf-to-openmp` runs
    it on OpenMP threads; `OMP_NUM_THREADS` sets how many). A marked loop
    that still carries values is left sequential. Linalg ops whose first
    loop is parallel (elementwise ops, and row reductions such as softmax's
    and layer_norm's statistics) of at least 16384 elements, outside those
    loops, are tiled by rows into an `scf.parallel` of 8 chunks; copies
    (the body only yields inputs) need 65536 elements.

    A loop also marked `nnc.parallel_if_threads` (a batch-1 product split
    in two halves: a few microseconds of work) runs on the threads only
    when there are several: `scf.if` on `omp_get_max_threads() > 1`, with
    the sequential loop in the other branch, because even one thread's
    OpenMP region costs a noticeable share of such a loop.

    ```mlir
    // before
    scf.for %i = %c0 to %c126 step %c6 {
      ... writes %c[%i, ...] ...
    } {nnc.parallel}
    // after
    scf.parallel (%i) = (%c0) to (%c126) step (%c6) {
      ...
    }
    ```
  }];
  let constructor = "nnc::createParallelizeLoopsPass()";
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::AffineDialect",
                           "mlir::linalg::LinalgDialect", "mlir::memref::MemRefDialect",
                           "mlir::func::FuncDialect", "mlir::arith::ArithDialect"];
}

def PromoteSmallBuffers : Pass<"nnc-promote-small-buffers", "mlir::func::FuncOp"> {
  let summary = "moves small statically shaped buffers from the heap to the stack";
  let description = [{
    After bufferization every intermediate tensor is a `memref.alloc` freed
    at the end of the function. Small ones (up to `max-bytes` each, and
    `max-total-bytes` per function) become `memref.alloca` at the function
    entry, which removes malloc/free from every step of a small model and
    lets LLVM keep tiny buffers in registers. Buffers returned from the
    function are left alone.

    ```mlir
    // before
    %a = memref.alloc() {alignment = 64 : i64} : memref<8x8xf32>
    ...
    memref.dealloc %a : memref<8x8xf32>
    // after
    %a = memref.alloca() {alignment = 64 : i64} : memref<8x8xf32>
    ```
  }];
  let constructor = "nnc::createPromoteSmallBuffersPass()";
  let dependentDialects = ["mlir::memref::MemRefDialect"];
  let options = [
    Option<"maxBytes", "max-bytes", "int64_t", "65536", "largest buffer moved to the stack">,
    Option<"maxTotalBytes", "max-total-bytes", "int64_t", "1048576",
           "stack bytes a function may use for promoted buffers">,
  ];
}

def PlanMemory : Pass<"nnc-plan-memory", "mlir::ModuleOp"> {
  let summary = "assigns every temporary of an entry point an offset in one workspace, by liveness";
  let description = [{
    Runs after bufferization, deallocation and `nnc-parallelize-loops`, on
    the functions marked `nn.workspace`. Each statically shaped
    `memref.alloc` that is freed in its function lives from its top-level op
    to the top-level op of its last `memref.dealloc`; buffers whose lives
    overlap get disjoint byte ranges (greedy best fit, largest first, 64-byte
    aligned), the others share. A buffer made inside a one-dimensional
    `scf.parallel` with constant bounds gets one slot per iteration, so
    threads never share one. Each allocation becomes a `memref.view` of a
    new last argument, the workspace `memref<Nxi8>`, and its deallocs go.
    When the caller passes a null workspace, the function allocates one for
    the call and frees it before returning. The module gets
    `nn.workspace_bytes`: the most any entry point needs, so one workspace
    serves them all.

    ```mlir
    // before
    func.func @f(%x: memref<8x8xf32>) attributes {nn.workspace} {
      %a = memref.alloc() {alignment = 64 : i64} : memref<8x8xf32>
      ...
      memref.dealloc %a : memref<8x8xf32>
      return
    }
    // after
    func.func @f(%x: memref<8x8xf32>, %ws: memref<256xi8>) attributes {nn.workspace} {
      %p = memref.extract_aligned_pointer_as_index %ws : memref<256xi8> -> index
      %null = arith.cmpi eq, %p, %c0 : index
      %buf = scf.if %null -> (memref<256xi8>) { ... memref.alloc ... } else { scf.yield %ws }
      %a = memref.view %buf[%c0][] : memref<256xi8> to memref<8x8xf32>
      ...
      scf.if %null { memref.dealloc %buf : memref<256xi8> }
      return
    }
    ```
  }];
  let constructor = "nnc::createPlanMemoryPass()";
  let dependentDialects = ["mlir::memref::MemRefDialect", "mlir::scf::SCFDialect",
                           "mlir::arith::ArithDialect"];
}

def OutlineKernels : Pass<"nnc-outline-kernels", "mlir::ModuleOp"> {
  let summary = "makes each loop nest of an entry point a kernel function; identical kernels are one";
  let description = [{
    Runs after `nnc-plan-memory`, on the functions marked `nn.workspace`.
    First every memref argument becomes bytes (`memref<Nxi8>`, seen through
    a `memref.view` of its old type; under the bare-pointer convention the
    C signature is unchanged), and every top-level contiguous view at a
    static offset (a parameter's slice of the flat parameter buffer) becomes
    a `memref.view` of the bytes under it, with the identity layout: a
    buffer's type no longer says where it lives. Then each top-level op with
    regions (loops, linalg ops) and each `memref.copy` moves into a private,
    internal, `noinline` function `nnc_kernel_<N>` called in its place: the
    buffers, scalars and vectors it uses from outside are its arguments
    (constants and strided views are made again inside from their bases).
    Kernels that print the same (name and locations aside) are one function,
    in the whole module: the layers of a stack, and the forward pass that
    `predict`, `eval_step` and `train_step` share, are compiled once. Each
    kernel gets `nn.key`, a hash of its text and of the constant globals it
    reads (the compile cache keeps its object by that key), and constant
    globals are first named by their content and sorted, so that the same
    kernel prints the same in every run. Every public function is an entry
    point; in those without a workspace (init), scalar constants become
    arguments, so that the random fills of same-shaped parameters are one
    kernel. The module gets `nn.kernels = [distinct kernels, calls]`.

    ```mlir
    // before
    func.func @f(%p: memref<64xf32>, %y: memref<32xf32>) attributes {nn.workspace} {
      %a = memref.subview %p[0] [32] [1] : memref<64xf32> to memref<32xf32, strided<[1]>>
      %b = memref.subview %p[32] [32] [1] : memref<64xf32> to memref<32xf32, strided<[1], offset: 32>>
      linalg.generic ... ins(%a : memref<32xf32, strided<[1]>>) outs(%y : memref<32xf32>) { negf }
      linalg.generic ... ins(%b : memref<32xf32, strided<[1], offset: 32>>) outs(%y : memref<32xf32>) { negf }
      return
    }
    // after
    func.func private @nnc_kernel_0(%x: memref<32xf32>, %y: memref<32xf32>) { linalg.generic ... }
    func.func @f(%p: memref<256xi8>, %y: memref<128xi8>) attributes {nn.workspace} {
      %a = memref.view %p[%c0][] : memref<256xi8> to memref<32xf32>
      %b = memref.view %p[%c128][] : memref<256xi8> to memref<32xf32>
      %yv = memref.view %y[%c0][] : memref<128xi8> to memref<32xf32>
      call @nnc_kernel_0(%a, %yv) : (memref<32xf32>, memref<32xf32>) -> ()
      call @nnc_kernel_0(%b, %yv) : (memref<32xf32>, memref<32xf32>) -> ()
      return
    }
    ```
  }];
  let constructor = "nnc::createOutlineKernelsPass()";
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::memref::MemRefDialect",
                           "mlir::arith::ArithDialect", "mlir::LLVM::LLVMDialect"];
}

def UnshareInits : Pass<"nnc-unshare-inits", "mlir::func::FuncOp"> {
  let summary = "gives every destination its own empty tensor, fill or splat before bufferization";
  let description = [{
    After CSE, one `tensor.empty` (or one zero `linalg.fill` of one, or one
    splat `arith.constant`) serves every op that writes a result of its
    shape. One-shot bufferization then checks each of those writes against
    every other use of the shared value (compile time that grew with the
    cube of a GPT's depth) and bufferizes all but one out of place, as a copy
    of the shared buffer. Here every destination operand (linalg outs,
    `tensor.insert_slice` dest, `scf.for` initial values) that is such a
    value and is shared, defined outside the destination's block, or a
    constant gets a fresh copy right before its op, so each op can write in
    place.

    ```mlir
    // before
    %e = tensor.empty() : tensor<4xf32>
    %z = linalg.fill ins(%cst : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
    %a = linalg.generic ... outs(%z : tensor<4xf32>)
    %b = linalg.generic ... outs(%z : tensor<4xf32>)
    // after
    %e1 = tensor.empty() : tensor<4xf32>
    %z1 = linalg.fill ins(%cst : f32) outs(%e1 : tensor<4xf32>) -> tensor<4xf32>
    %a = linalg.generic ... outs(%z1 : tensor<4xf32>)
    %e2 = tensor.empty() : tensor<4xf32>
    %z2 = linalg.fill ins(%cst : f32) outs(%e2 : tensor<4xf32>) -> tensor<4xf32>
    %b = linalg.generic ... outs(%z2 : tensor<4xf32>)
    ```
  }];
  let constructor = "nnc::createUnshareInitsPass()";
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect"];
}

def PackArguments : Pass<"nnc-pack-arguments", "mlir::ModuleOp"> {
  let summary = "makes arguments marked nn.pack views of one flat buffer again";
  let description = [{
    Runs after bufferization on functions with `nn.pack_sizes = [n0, n1, ...]`
    (train_step). Their arguments marked `nn.pack = [group, offset]`, one per
    parameter and per parameter's optimizer state, were tensors of their own
    so that bufferization never saw a flat tensor assembled slice by slice.
    Each group becomes one byte buffer (`memref<n x 4 x i8>`) in the place of
    its first member, and each member a `memref.view` of it at its offset:
    the C signature's flat parameter and state buffers. A function that
    still returns a buffer (a member not updated in place) is an error.

    ```mlir
    // before
    func.func @train_step(%w: memref<4xf32> {nn.pack = array<i64: 0, 0>},
                          %b: memref<2xf32> {nn.pack = array<i64: 0, 4>})
        attributes {nn.pack_sizes = array<i64: 6>} { ... }
    // after
    func.func @train_step(%params: memref<24xi8>) {
      %w = memref.view %params[%c0][] : memref<24xi8> to memref<4xf32>
      %b = memref.view %params[%c16][] : memref<24xi8> to memref<2xf32>
      ...
    }
    ```
  }];
  let constructor = "nnc::createPackArgumentsPass()";
  let dependentDialects = ["mlir::memref::MemRefDialect", "mlir::arith::ArithDialect"];
}

def LowerVectors : Pass<"nnc-lower-vectors", "mlir::ModuleOp"> {
  let summary = "lowers the schedule's vector ops to broadcasts, FMAs and polynomials";
  let description = [{
    Vector transfers are hoisted out of the loops around them (the register
    block's accumulators stay in registers across the k loop), contractions
    become outer products (a broadcast of A and an FMA per row), transposes
    and broadcasts are lowered, and `math` transcendental functions become
    polynomial approximations, which vectorize instead of calling libm per
    element. A `memref.copy` becomes `linalg.copy`, so that a strided copy
    lowers to loops rather than a call into MLIR's runner library; one with
    short rows (up to 256 elements) becomes a loop of one vector transfer
    per row, which LLVM would otherwise turn into a memcpy call per row.

    ```mlir
    // before
    %c = vector.contract {kind = #vector.kind<add>, ...} %a, %b, %acc
        : vector<8x1xf32>, vector<1x16xf32> into vector<8x16xf32>
    // after: per row i
    %ai = vector.extract %a[i, 0] : vector<8x1xf32>
    %bi = vector.broadcast %ai : f32 to vector<16xf32>
    %ci = vector.fma %bi, %b0, %acc_i : vector<16xf32>
    ```
  }];
  let constructor = "nnc::createLowerVectorsPass()";
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::vector::VectorDialect",
                           "mlir::math::MathDialect", "mlir::scf::SCFDialect"];
}

#endif
