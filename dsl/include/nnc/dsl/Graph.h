// Graph.h: the checked model, the hand-off from the front end (dsl/) to the
// compiler (MLIRGen). Layers are already expanded: every node is a primitive
// op with a known shape, and every node carries the .nn location it came
// from so diagnostics and MLIR locations point at the user's line.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nnc::dsl {

struct Loc {
  std::string file; // path as given on the command line (or std library path)
  int line = 0;     // 1-based
  int col = 0;      // 1-based
};

enum class DType { F32, I32 };

// Primitive ops of the checked graph. Each maps to one nn dialect op.
enum class OpKind {
  Param,    // a trainable parameter; attrs: none (see Graph::params[paramIndex])
  Input,    // model input (batched)
  Target,   // training target (batched)
  Constant, // scalar constant, attr "value"; shape {} and not batched
  MatMul,   // a[..., K] @ b[K, N] -> [..., N]; b is an unbatched 2-D value
  Add,
  Sub,
  Mul,
  Div, // numpy broadcasting of the per-example shapes (the
       // batch dimension always lines up with the batch)
// The elementwise functions (neg, relu, ..., gelu), one per row of Ops.def.
#define NN_UNARY_OP(Kind, name, OpClass) Kind,
#include "nnc/dsl/Ops.def"
  Softmax,      // over the last axis
  LogSoftmax,   // over the last axis
  CrossEntropy, // (logits[..., C] f32, labels[...] i32) -> scalar mean loss
  MSE,          // (pred, target same shape) -> scalar mean loss
  // Recurrent networks (issue 3):
  Concat,       // operands joined along per-example axis `axis` (the last by default)
  Slice,        // operand[..., begin : begin + size] along the last axis
  Embedding,    // (table [V, E] f32, ids [...] i32) -> [..., E]: rows of the table
  Dropout,      // x * mask / (1 - rate) while training, x otherwise; `value` = rate,
                // `seedStream` tells the masks of different dropouts apart
  Scan,         // runs Graph::scans[scanIndex] once per time step
  ScanState,    // inside a scan body: the state `ioIndex` at the start of the step
  ScanInput,    // inside a scan body: step t of the scanned operand `ioIndex`
  ScanCapture,  // inside a scan body: outer value `ioIndex` (same every step)
  Repeat,       // runs Graph::repeats[scanIndex]: the copies of a repeated layer as one loop
  RepeatOutput, // stacked output `ioIndex` of the Repeat node operands[0] (its updated caches)
  // The one-position step of a model with attention caches (issue 4); these
  // appear only in a graph built with FrontendOptions::cacheStep:
  StepState,  // Graph::stepStates[ioIndex] as the step starts (batched)
  CacheWrite, // (cache [N, ...], x [1, ...], position [1]): the cache with row
              // `position` replaced by x
  // Transformer primitives (issue 4):
  LayerNorm,  // (x - mean) / sqrt(var + eps) over the last axis, no affine part;
              // `value` = eps
  CausalMask, // s[..., T, T'] with element [i, j] set to kMaskFill where j > i
  Mask,       // (s, keep): s where keep != 0, else kMaskFill; keep broadcasts to s
  NotPadding, // int ids -> float 1 where id != 0, else 0
  Positions,  // int [T] = 0, 1, ..., T-1 (unbatched); `size` = T
  // Attention shape primitives (issue 4):
  BatchMatMul, // a[..., M, K] @ b[..., K, N] -> [..., M, N], per example, equal leading
               // dims; `transposeA` reads a as [..., K, M], `transposeB` b as [..., N, K]
  Transpose,   // per-example axes permuted: result axis i is operand axis perm[i]
  Reshape,     // the same elements in the per-example shape `shape`
};

// The value masked attention scores get: large and negative so that softmax
// gives them weight 0, but finite so that a fully masked row stays finite
// (a uniform distribution) instead of NaN.
constexpr double kMaskFill = -1e30;

struct Node {
  OpKind op;
  std::vector<int> operands;  // indices into Graph::nodes
  std::vector<int64_t> shape; // per example when `batched`, else full shape
  DType dtype = DType::F32;
  bool batched = false;        // has an implicit leading batch dimension
  double value = 0;            // Constant
  int paramIndex = -1;         // Param: index into Graph::params
  int ioIndex = -1;            // Input/Target: index into inputs/targets;
                               // ScanState/ScanInput/ScanCapture: see OpKind
  int64_t begin = 0, size = 0; // Slice
  int scanIndex = -1;          // Scan: index into Graph::scans
  int seedStream = 0;          // Dropout
  int axis = -1;               // Softmax, LogSoftmax: the axis, counted from the end
                               // (-1 = last; the same in per-example and batched shapes)
  std::string name;            // user-visible name if the value was named (may be empty)
  Loc loc;
  // Attention shape primitives (issue 4):
  int64_t concatAxis = -1;                     // Concat: per-example axis, >= 0 (-1: the last)
  std::vector<int64_t> perm;                   // Transpose: per-example permutation
  bool transposeA = false, transposeB = false; // BatchMatMul
};

struct Param {
  std::string name; // dotted path: "h1.W", "dense_1.b"
  std::vector<int64_t> shape;
  std::string
      init; // "glorot_uniform", "he_uniform", "zeros", "ones", "constant", "uniform", "normal"
  double initValue = 0; // "constant": the value; "uniform": the limit (U(-v, v)); "normal": stddev
  int64_t fanIn = 0, fanOut = 0; // for glorot/he (rows and columns of a 2-D weight)
  int node = -1;                 // its Param node (-1: a copy in Graph::repeats)
  Loc loc;
};

// One recurrent cell run over a sequence. The body is a graph of its own:
// its nodes' operands index `body`; its inputs are ScanState, ScanInput and
// ScanCapture nodes (and Param/Constant nodes, which may appear directly).
// Body shapes are per example and per step (no time dimension).
struct Scan {
  std::string name; // the cell instance: "h1"
  std::string kind; // "LSTM"
  std::vector<Node> body;
  struct State {
    std::string name; // "h1.h": also the state's name in the step ABI
    std::vector<int64_t> shape;
    double init = 0;   // initial value of every element
    int update = -1;   // body node with the state's value after a step
    int initNode = -1; // a repeat's: the outer node it starts from (else `init`)
  };
  std::vector<State> states;
  int output = -1;            // body node with the step's output
  int64_t length = 0;         // time steps T
  bool returnSequence = true; // .sequence: [T, ...] of every step; .last: the last step's
  // Outer nodes (in Graph::nodes): the scanned sequences (per example
  // [T, ...], batched) and the captured values, indexed by the body's
  // ScanInput / ScanCapture ioIndex.
  std::vector<int> sequences;
  std::vector<int> captures;
  // A repeat (Graph::repeats): the body is copy 0 of the layer, its one state
  // the activation passed from copy to copy. Each Param node of the body
  // stands for the stack of that parameter over the copies: copies[p] lists
  // the Graph::params of copies 0..N-1 of copy 0's parameter p. In a cached
  // step, `sequences` are the stacked caches of the copies ([N, ...] step
  // states, read by ScanInput nodes) and `outputs` the body nodes of their
  // updates (RepeatOutput nodes give them, stacked).
  std::map<int, std::vector<int>> copies;
  std::vector<int> outputs;
};

struct IO {
  std::string name;
  int node = -1;
  std::vector<int64_t> shape; // per example
  DType dtype = DType::F32;
  Loc loc;
};

// A value given in the train block: optimizer arguments and data options.
struct TrainValue {
  std::optional<double> number;
  std::optional<std::string> string;
  Loc loc;
};

struct TrainConfig {
  bool present = false; // the file has a train block for this model
  Loc loc;
  // data csv("path", label = "species")
  std::string dataKind; // "csv", "text" or "babi"
  std::string dataPath; // resolved relative to the .nn file's directory
  Loc dataLoc;
  // e.g. label -> "species"; text data: tokens -> "words"|"chars",
  // window -> N (number), mode -> "next"|"sequence" (always present);
  // babi data: test -> the test file's path (resolved as dataPath), if any
  std::map<std::string, TrainValue> dataArgs;
  // optimizer adam(lr = 0.01, beta1 = 0.9, ...)
  std::string optimizer = "adam"; // a row of nnc/Optimizers/Optimizers.def
  std::map<std::string, TrainValue> optimizerArgs;
  Loc optimizerLoc;
  int64_t batch = 32;
  int64_t epochs = 1;
  double testSplit = 0.0;       // fraction of rows held out for the final test
  double validationSplit = 0.0; // fraction of the training rows for per-epoch validation
  // `validation_data test`: the test set is also the per-epoch validation
  // set, as Keras's fit(..., validation_data=(x_test, y_test)).
  bool validateOnTest = false;
  Loc validationDataLoc;
  uint64_t seed = 0;
  bool scale = true; // min-max scaling fitted on the training rows
  // Text generation while training (text data): print a sample of
  // `sampleLength` tokens every `sampleEvery` epochs (0: never).
  int64_t sampleEvery = 0;
  int64_t sampleLength = 100;
  // clip_norm X: every step's gradient is scaled down to global norm X
  // when it is larger (0: no clipping).
  double clipNorm = 0;
  // schedule cosine(warmup = 100): a row of nnrt/nnrt_schedules.def and
  // its arguments by name (checked by the runtime's nnrt_schedule_set).
  std::string schedule = "constant";
  std::map<std::string, double> scheduleArgs;
  // monitor val_accuracy: what early stopping, the plateau schedule and
  // --save-best watch ("" : val_loss with validation data, else loss).
  std::string monitor;
  int64_t earlyStopping = 0; // early_stopping N: the patience in epochs
};

struct Graph {
  std::string modelName;
  std::string file;
  std::vector<Node> nodes; // topologically ordered: operands come first
  std::vector<Param> params;
  std::vector<IO> inputs;
  std::vector<IO> targets;
  std::vector<IO> outputs; // node = the value output
  int lossNode = -1;       // a scalar (shape {}, not batched) node
  // For `nnc summary`: one row per layer instance (or top-level op) in order.
  struct LayerRow {
    std::string name;                 // "h1"
    std::string kind;                 // "Dense"
    std::vector<int64_t> outputShape; // per example
    int64_t numParams = 0;
  };
  std::vector<LayerRow> layers;
  std::vector<Scan> scans; // Scan nodes refer to these (the cells)
  // repeat(N, Layer(...)) kept as a loop over the copies' stacked parameters
  // (Repeat nodes refer to these; `length` is N). The step of a model with
  // attention caches unrolls its repeats instead.
  std::vector<Scan> repeats;
  // For models with scans: the model parameter that is the time dimension of
  // the inputs (`window T = 25` -> "T"). The step function is the same model
  // built again with it set to 1 (FrontendOptions::overrides).
  std::string timeParam;
  // The model calls cache(): its `step` is the model built again with
  // FrontendOptions::cacheStep (one position, keys and values cached).
  bool usesCache = false;
  // In a cacheStep graph: the states the step reads and writes besides the
  // cells' (the caches, then the position; `update` is the node with the
  // state's value after the step), and the positions a cache holds.
  struct StepState {
    std::string name;           // "b1.attn.cache_1", "position"
    std::vector<int64_t> shape; // per example
    int node = -1;              // its StepState node
    int update = -1;
  };
  std::vector<StepState> stepStates;
  int64_t context = 0;
  TrainConfig train;
  // The one-step graph of generation, from the same parse of the file, when
  // the graph was built with FrontendOptions::buildStep and the model has
  // one (hasStep).
  std::shared_ptr<const Graph> step;
};

} // namespace nnc::dsl
