// Sequences (concat, slice, embedding, dropout), nn.scan and the key/value
// cache.
#ifndef NN_SEQUENCE_OPS_TD
#define NN_SEQUENCE_OPS_TD

include "nnc/Dialect/NN/IR/NNBase.td"
include "nnc/Dialect/NN/IR/NNInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Sequences and recurrence
//===----------------------------------------------------------------------===//

def NN_ConcatOp : NN_Op<"concat", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "joins tensors along an axis (the last one by default)";
  let description = [{
    All operands agree on every dimension but `axis` (an axis of the full
    tensor, batch included; absent: the last one, which is what recurrent
    cells join), and on the element type (f32, or i32 for token ids).

    ```mlir
    %z = nn.concat %h, %x : tensor<8x150xf32>, tensor<8x25xf32> -> tensor<8x175xf32>
    %r = nn.concat %a, %b {axis = 1 : i64} : tensor<8x6x4xf32>, tensor<8x2x4xf32> -> tensor<8x8x4xf32>
    ```
  }];
  // i32 as well: token ids are joined ([story; question] of a BERT-style
  // model); such a concat is never differentiated (ids are not active).
  let arguments = (ins Variadic<NN_F32OrI32Tensor>:$inputs, OptionalAttr<I64Attr>:$axis);
  // Without an axis: the last one, as recurrent cells join.
  let builders = [OpBuilder<(ins "::mlir::Type":$result, "::mlir::ValueRange":$inputs), [{
    build($_builder, $_state, result, inputs, ::mlir::IntegerAttr());
  }]>];
  let results = (outs NN_F32OrI32Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    // The joined axis, non-negative (the last one when `axis` is absent).
    int64_t getJoinAxis();
  }];
}

def NN_SliceOp : NN_Op<"slice", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "a contiguous range of one axis (the last one by default)";
  let description = [{
    `axis` is an axis of the full tensor (absent: the last one); the result
    has the input's shape but on that axis.

    ```mlir
    %f = nn.slice %gates {begin = 150 : i64} : tensor<8x600xf32> -> tensor<8x150xf32>
    %g = nn.slice %r {begin = 6 : i64, axis = 1 : i64} : tensor<8x8x4xf32> -> tensor<8x2x4xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, I64Attr:$begin, OptionalAttr<I64Attr>:$axis);
  let builders = [OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input,
                                 "::mlir::IntegerAttr":$begin), [{
    build($_builder, $_state, result, input, begin, ::mlir::IntegerAttr());
  }]>];
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    // The sliced axis, non-negative (the last one when `axis` is absent).
    int64_t getSliceAxis();
  }];
}

def NN_SliceGradOp : NN_Op<"slice_grad", [Pure]> {
  let summary = "places a gradient into zeros at a range of one axis (adjoint of nn.slice)";
  let description = [{
    `axis` as for nn.slice (absent: the last one).

    ```mlir
    %dg = nn.slice_grad %df {begin = 150 : i64} : tensor<8x150xf32> -> tensor<8x600xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$grad, I64Attr:$begin, OptionalAttr<I64Attr>:$axis);
  let builders = [OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$grad,
                                 "::mlir::IntegerAttr":$begin), [{
    build($_builder, $_state, result, grad, begin, ::mlir::IntegerAttr());
  }]>];
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
  let hasFolder = 1;
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    // The sliced axis, non-negative (the last one when `axis` is absent).
    int64_t getSliceAxis();
  }];
}

def NN_EmbeddingOp : NN_Op<"embedding", [Pure,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "rows of a table selected by integer ids";
  let description = [{
    `table: [V, E]`, `ids: [...]` -> `[..., E]`. An id outside `[0, V)` reads
    zeros.

    ```mlir
    %e = nn.embedding %table, %ids : tensor<2700x25xf32>, tensor<128x25xi32> -> tensor<128x25x25xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$table, NN_I32Tensor:$ids);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$table `,` $ids attr-dict `:` type($table) `,` type($ids) `->` type($result)";
  let hasVerifier = 1;
}

def NN_EmbeddingGradOp : NN_Op<"embedding_grad", [Pure]> {
  let summary = "gradient of the table of nn.embedding: rows of dy added at their ids";
  let description = [{
    ```mlir
    %dt = nn.embedding_grad %ids, %dy : tensor<128x25xi32>, tensor<128x25x25xf32> -> tensor<2700x25xf32>
    ```
  }];
  let arguments = (ins NN_I32Tensor:$ids, NN_F32Tensor:$grad);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$ids `,` $grad attr-dict `:` type($ids) `,` type($grad) `->` type($result)";
  let hasVerifier = 1;
}

def NN_DropoutOp : NN_Op<"dropout", [Pure, AllTypesMatch<["input", "result"]>,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "inverted dropout with a mask derived from a key";
  let description = [{
    `x * mask / (1 - rate)` where `mask` keeps each element with probability
    `1 - rate`; the mask is a hash of `(key, stream, element)`, so the
    backward pass recomputes the same mask (the VJP is the same dropout of
    the gradient) and each training step gets a new one. Entry points that
    do not train replace the op by its input. The key's low 40 bits are the
    step; the bits above, a row offset: the rows of `x` (its first
    dimension, the batch) count from it, so that the parts of a batch split
    across processes draw the masks the whole batch would.

    ```mlir
    %y = nn.dropout %x, %key {rate = 2.0e-01 : f32, stream = 1 : i64} : tensor<8x150xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$input, I64:$key, F32Attr:$rate, I64Attr:$stream);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$input `,` $key attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def NN_ScanOp : NN_Op<"scan", [Pure, IsolatedFromAbove,
    AttrSizedOperandSegments, SingleBlockImplicitTerminator<"YieldOp">,
    DeclareOpInterfaceMethods<NN_VJPOpInterface>]> {
  let summary = "runs a recurrent step over the time axis, carrying state";
  let description = [{
    Operands: the initial states (`inits`, each `[B, ...]`), the sequences
    iterated over (`sequences`, each `[B, T, ...]`; the step sees `[B, ...]`)
    and values every step sees unchanged (`captures`). The body's arguments
    are the states, one step of each sequence, then the captures; it yields
    the new states and then its per-step outputs. Results: the final states,
    then each output as a sequence `[B, T, ...]` (`return_sequence`) or its
    last step's value `[B, ...]`, then, with `save_states`, the state at the
    start of every step `[B, T, ...]` (what backpropagation through time
    needs). `reverse` walks t = T-1 down to 0 (outputs still indexed by t).
    With `residuals = R`, the body yields R more values after its outputs,
    returned last as sequences `[B, T, ...]`: intermediate values of the step
    that backpropagation through time reads instead of recomputing them.

    With `stacked`, the scan runs the copies of a repeated layer
    (`repeat(N, Layer(...))`): the sequences are unbatched `[N, ...]` stacks
    of the copies' parameters, scanned along axis 0 (copy i sees `[...]`),
    and saved states, outputs and residuals are `[N, ...]` too. The states
    carry the activation from copy to copy, so a deep model is one loop.

    ```mlir
    %y = nn.scan inits(%x) sequences(%Ws) captures() {stacked}
        : (tensor<8x16xf32>, tensor<12x16x16xf32>) -> tensor<8x16xf32> {
    ^bb0(%h: tensor<8x16xf32>, %w: tensor<16x16xf32>):
      %m = nn.matmul %h, %w : tensor<8x16xf32>, tensor<16x16xf32> -> tensor<8x16xf32>
      %h1 = nn.tanh %m : tensor<8x16xf32>
      nn.yield %h1 : tensor<8x16xf32>
    }
    ```

    ```mlir
    %hT, %ys, %hs = nn.scan inits(%h0) sequences(%xs) captures(%W)
        {return_sequence, save_states}
        : (tensor<8x16xf32>, tensor<8x5x4xf32>, tensor<20x16xf32>)
        -> (tensor<8x16xf32>, tensor<8x5x16xf32>, tensor<8x5x16xf32>) {
    ^bb0(%h: tensor<8x16xf32>, %x: tensor<8x4xf32>, %w: tensor<20x16xf32>):
      %z = nn.concat %h, %x : tensor<8x16xf32>, tensor<8x4xf32> -> tensor<8x20xf32>
      %m = nn.matmul %z, %w : tensor<8x20xf32>, tensor<20x16xf32> -> tensor<8x16xf32>
      %h1 = nn.tanh %m : tensor<8x16xf32>
      nn.yield %h1, %h1 : tensor<8x16xf32>, tensor<8x16xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<NN_F32Tensor>:$inits,
                       Variadic<NN_F32Tensor>:$sequences,
                       Variadic<NN_F32Tensor>:$captures,
                       UnitAttr:$return_sequence, UnitAttr:$save_states,
                       UnitAttr:$reverse, UnitAttr:$stacked,
                       OptionalAttr<I64Attr>:$residuals);
  let results = (outs Variadic<NN_F32Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `inits` `(` $inits `)` `sequences` `(` $sequences `)` `captures` `(` $captures `)`
    attr-dict `:` functional-type(operands, results) $body
  }];
  let hasVerifier = 1;
  // The scan with an empty body region (its block is the caller's to add).
  let builders = [OpBuilder<(ins "::mlir::TypeRange":$results, "::mlir::ValueRange":$inits,
      "::mlir::ValueRange":$sequences, "::mlir::ValueRange":$captures, "bool":$returnSequence,
      "bool":$saveStates, "bool":$reverse, "bool":$stacked, CArg<"unsigned", "0">:$numResiduals),
    [{
      auto unit = [&](bool on) { return on ? $_builder.getUnitAttr() : ::mlir::UnitAttr(); };
      build($_builder, $_state, results, inits, sequences, captures, unit(returnSequence),
            unit(saveStates), unit(reverse), unit(stacked),
            numResiduals ? $_builder.getI64IntegerAttr(numResiduals) : ::mlir::IntegerAttr());
    }]>];
  let extraClassDeclaration = [{
    unsigned getNumStates() { return getInits().size(); }
    unsigned getNumResiduals() { return getResiduals() ? unsigned(*getResiduals()) : 0u; }
    // Per-step outputs: the body yields states, outputs, then residuals.
    unsigned getNumOutputs();
    int64_t getLength();
    // The axis of the sequences that is scanned: time (1, after the batch),
    // or the copies of a `stacked` scan (0).
    int64_t getScanAxis() { return getStacked() ? 0 : 1; }
    ::mlir::ValueRange getFinalStates() { return getResults().take_front(getNumStates()); }
    ::mlir::ValueRange getOutputs() {
      return getResults().slice(getNumStates(), getNumOutputs());
    }
    ::mlir::ValueRange getSavedStates() {
      return getResults().drop_front(getNumStates() + getNumOutputs())
          .drop_back(getNumResiduals());
    }
    ::mlir::ValueRange getResidualSequences() {
      return getResults().take_back(getNumResiduals());
    }
  }];
}

def NN_YieldOp : NN_Op<"yield", [Pure, Terminator, HasParent<"ScanOp">]> {
  let summary = "ends a scan step: the new states, then the step's outputs";
  let description = [{
    ```mlir
    nn.yield %h1, %c1, %h1 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
    ```
  }];
  let arguments = (ins Variadic<NN_F32Tensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ }]>];
}

//===----------------------------------------------------------------------===//
// Generation with a key/value cache (issue 4)
//===----------------------------------------------------------------------===//

def NN_CacheWriteOp : NN_Op<"cache_write", [Pure,
    AllTypesMatch<["cache", "result"]>]> {
  let summary = "writes one position into a key/value cache";
  let description = [{
    `cache: [B, N, ...]`, `value: [B, 1, ...]`: the result is the cache with
    position `position` of every row replaced by the value, the other
    positions unchanged (a position outside [0, N) changes nothing). The
    one-position `step` of a model with attention keeps the keys and values
    of earlier positions this way; it is not differentiated.

    ```mlir
    %k2 = nn.cache_write %k into %cache at %pos : tensor<1x1x128xf32> into tensor<1x128x128xf32>
    ```
  }];
  let arguments = (ins NN_F32Tensor:$value, NN_F32Tensor:$cache, I64:$position);
  let results = (outs NN_F32Tensor:$result);
  let assemblyFormat = "$value `into` $cache `at` $position attr-dict `:` type($value) `into` type($cache)";
  let hasVerifier = 1;
  let builders = [OpBuilder<(ins "::mlir::Value":$cache, "::mlir::Value":$value,
                                 "::mlir::Value":$position), [{
    build($_builder, $_state, cache.getType(), value, cache, position);
  }]>];
}

#endif
