// From the checked graph of a .nn model to the nn dialect (Generator.h).
#include "Generator.h"

using namespace mlir;
using namespace nnc;
using nnc::mlirgen::Generator;

// @step_forward(inputs..., states...) -> (outputs..., new states...): the
// model built with one time step, its cells starting from the given states
// (the generation entry point is made from it).
bool Generator::runStep(ModuleOp module) {
  stepMode = true;
  findStacks(module);
  b.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> ins, outs;
  for (const dsl::IO &io : g.inputs)
    ins.push_back(tensor(io.shape, true, io.dtype));
  for (const dsl::Scan &sc : g.scans)
    for (const dsl::Scan::State &st : sc.states)
      ins.push_back(tensor(st.shape, true));
  unsigned numScanStates = ins.size() - g.inputs.size();
  for (const dsl::Graph::StepState &st : g.stepStates)
    ins.push_back(tensor(st.shape, true));
  for (const dsl::IO &io : g.outputs)
    outs.push_back(typeOf(g.nodes[io.node]));
  for (const dsl::Scan &sc : g.scans)
    for (const dsl::Scan::State &st : sc.states)
      outs.push_back(tensor(st.shape, true));
  for (const dsl::Graph::StepState &st : g.stepStates)
    outs.push_back(tensor(st.shape, true));
  auto fn = b.create<func::FuncOp>(loc(dsl::Loc{g.file, 1, 1}), "step_forward",
                                   b.getFunctionType(ins, outs));
  fn->setAttr("nn.num_inputs", b.getI64IntegerAttr(g.inputs.size()));
  // What the model table needs (describeModule): names, and the context.
  unsigned a = 0;
  for (const dsl::IO &io : g.inputs)
    fn.setArgAttr(a++, "nn.name", b.getStringAttr(io.name));
  for (const dsl::Scan &sc : g.scans)
    for (const dsl::Scan::State &st : sc.states)
      fn.setArgAttr(a++, "nn.name", b.getStringAttr(st.name));
  for (const dsl::Graph::StepState &st : g.stepStates)
    fn.setArgAttr(a++, "nn.name", b.getStringAttr(st.name));
  for (auto [i, io] : llvm::enumerate(g.outputs))
    fn.setResultAttr(i, "nn.name", b.getStringAttr(io.name));
  fn->setAttr("nn.context", b.getI64IntegerAttr(g.context));
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  args = entry->getArguments();
  stateArgs = args.drop_front(g.inputs.size());
  std::vector<Value> values;
  // Only what the outputs need: no targets, no loss.
  if (!emitNodes(
          g.nodes, values,
          [&](const dsl::Node &n) -> Value {
            if (n.op == OpKind::Input)
              return args[n.ioIndex];
            if (n.op == OpKind::StepState)
              return stateArgs[numScanStates + n.ioIndex];
            return Value();
          },
          /*skipLoss=*/true))
    return false;
  SmallVector<Value> rets;
  for (const dsl::IO &io : g.outputs)
    rets.push_back(values[io.node]);
  rets.append(finalStates.begin(), finalStates.end());
  for (const dsl::Graph::StepState &st : g.stepStates) {
    if (st.update < 0 || !values[st.update]) {
      emitError(fn.getLoc()) << "internal error: step state '" << st.name << "' is not updated";
      return false;
    }
    rets.push_back(values[st.update]);
  }
  if (rets.size() != outs.size()) {
    emitError(fn.getLoc()) << "internal error: the step model's states do not match";
    return false;
  }
  b.create<func::ReturnOp>(fn.getLoc(), rets);
  return true;
}

OwningOpRef<ModuleOp> Generator::run() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc(dsl::Loc{g.file, 1, 1}));
  (*module)->setAttr("nn.model", b.getStringAttr(g.modelName));
  b.setInsertionPointToEnd(module->getBody());
  declareParameters(*module);

  bool dropout = llvm::any_of(g.nodes, [](const dsl::Node &n) { return n.op == OpKind::Dropout; });
  SmallVector<Type> ins, outs;
  for (const dsl::IO &io : g.inputs)
    ins.push_back(tensor(io.shape, true, io.dtype));
  for (const dsl::IO &io : g.targets)
    ins.push_back(tensor(io.shape, true, io.dtype));
  ins.push_back(tensor({}, true));
  if (dropout)
    ins.push_back(b.getI64Type());
  outs.push_back(tensor({}, false));
  for (const dsl::IO &io : g.outputs)
    outs.push_back(typeOf(g.nodes[io.node]));
  auto fn =
      b.create<func::FuncOp>(loc(dsl::Loc{g.file, 1, 1}), "forward", b.getFunctionType(ins, outs));
  fn->setAttr("nn.num_inputs", b.getI64IntegerAttr(g.inputs.size()));
  fn->setAttr("nn.num_targets", b.getI64IntegerAttr(g.targets.size()));
  // What the model table needs (describeModule): names and the loss.
  unsigned a = 0;
  for (const dsl::IO &io : g.inputs)
    fn.setArgAttr(a++, "nn.name", b.getStringAttr(io.name));
  for (const dsl::IO &io : g.targets)
    fn.setArgAttr(a++, "nn.name", b.getStringAttr(io.name));
  for (auto [i, io] : llvm::enumerate(g.outputs))
    fn.setResultAttr(1 + i, "nn.name", b.getStringAttr(io.name));
  OpKind lossKind = g.lossNode >= 0 ? g.nodes[g.lossNode].op : OpKind::Input;
  fn->setAttr("nn.loss", b.getStringAttr(lossKind == OpKind::CrossEntropy ? "cross_entropy"
                                         : lossKind == OpKind::MSE        ? "mse"
                                                                          : "none"));
  if (dropout)
    fn->setAttr("nn.key", b.getUnitAttr()); // the last argument: the dropout key
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  args = entry->getArguments();
  weights = args[g.inputs.size() + g.targets.size()];
  if (dropout)
    key = args.back();

  std::vector<Value> values;
  if (!emitNodes(g.nodes, values, [&](const dsl::Node &n) -> Value {
        if (n.op == OpKind::Input)
          return args[n.ioIndex];
        if (n.op == OpKind::Target)
          return args[g.inputs.size() + n.ioIndex];
        return Value();
      }))
    return nullptr;
  if (g.lossNode < 0) {
    emitError(fn.getLoc()) << "model '" << g.modelName << "' has no loss";
    return nullptr;
  }
  SmallVector<Value> rets{values[g.lossNode]};
  if (rets[0].getType() != outs[0]) {
    emitError(rets[0].getLoc()) << "the loss must be a scalar";
    return nullptr;
  }
  for (const dsl::IO &io : g.outputs)
    rets.push_back(values[io.node]);
  b.create<func::ReturnOp>(fn.getLoc(), rets);
  return module;
}

bool Generator::emitNodes(const std::vector<dsl::Node> &ns, std::vector<Value> &vs,
                          std::function<Value(const dsl::Node &)> leafFn, bool skipLoss) {
  auto savedNodes = nodes;
  auto savedVals = vals;
  auto savedLeaf = leaf;
  nodes = &ns;
  vals = &vs;
  leaf = std::move(leafFn);
  vs.assign(ns.size(), Value());
  bool ok = true;
  for (size_t i = 0; i < ns.size() && ok; ++i) {
    // The step model has no targets: what depends on them (the loss) is
    // left out.
    if (skipLoss &&
        (ns[i].op == OpKind::Target || llvm::any_of(ns[i].operands, [&](int o) { return !vs[o]; })))
      continue;
    vs[i] = emit(ns[i]);
    ok = bool(vs[i]);
  }
  nodes = savedNodes;
  vals = savedVals;
  leaf = savedLeaf;
  return ok;
}

Value Generator::reshape(Location l, Value v, ArrayRef<int64_t> shape) {
  auto t = RankedTensorType::get(shape, b.getF32Type());
  if (v.getType() == t)
    return v;
  return b.create<nn::ReshapeOp>(l, t, v);
}

// A batched operand of lower per-example rank than the result gets unit
// dimensions after the batch, so numpy's trailing alignment lines up the
// per-example dimensions rather than the batch with a feature dimension.
Value Generator::alignBatched(Location l, int i, size_t resultRank) {
  const dsl::Node &n = node(i);
  Value v = value(i);
  if (!n.batched || n.shape.size() >= resultRank)
    return v;
  SmallVector<int64_t> s{batch};
  s.append(resultRank - n.shape.size(), 1);
  s.append(n.shape.begin(), n.shape.end());
  return reshape(l, v, s);
}

Value Generator::matmul(const dsl::Node &n) {
  Location l = loc(n.loc);
  Value a = value(n.operands[0]), w = value(n.operands[1]);
  auto at = a.getType().cast<RankedTensorType>();
  auto wt = w.getType().cast<RankedTensorType>();
  if (wt.getRank() != 2) {
    emitError(l) << "matmul: the right operand must be a matrix";
    return nullptr;
  }
  int64_t k = at.getShape().back(), cols = wt.getDimSize(1);
  int64_t rows = at.getNumElements() / k;
  // [..., K] @ [K, N] is one [rows, K] @ [K, N] product.
  Value a2 = reshape(l, a, {rows, k});
  Value r = b.create<nn::MatMulOp>(l, RankedTensorType::get({rows, cols}, b.getF32Type()), a2, w);
  return reshape(l, r, typeOf(n).getShape());
}

// Losses average over every row of every batch element: logits [B, ..., C]
// become [rows, C] with each example's weight repeated over its rows.
Value Generator::rowWeights(Location l, int64_t rows) {
  if (rows == batch)
    return weights;
  Value w = reshape(l, weights, {batch, 1});
  w = b.create<nn::BroadcastToOp>(l, RankedTensorType::get({batch, rows / batch}, b.getF32Type()),
                                  w);
  return reshape(l, w, {rows});
}

Value Generator::crossEntropy(const dsl::Node &n) {
  Location l = loc(n.loc);
  Value logits = value(n.operands[0]), labels = value(n.operands[1]);
  auto lt = logits.getType().cast<RankedTensorType>();
  int64_t c = lt.getShape().back(), rows = lt.getNumElements() / c;
  if (!node(n.operands[0]).batched) {
    emitError(l) << "cross_entropy: the logits must depend on the input";
    return nullptr;
  }
  Value l2 = reshape(l, logits, {rows, c});
  auto yt = RankedTensorType::get({rows}, b.getI32Type());
  if (labels.getType() != yt)
    labels = b.create<tensor::CollapseShapeOp>(
        l, yt, labels,
        SmallVector<ReassociationIndices>{ReassociationIndices(llvm::to_vector(
            llvm::seq<int64_t>(0, labels.getType().cast<RankedTensorType>().getRank())))});
  return b.create<nn::CrossEntropyOp>(l, tensor({}, false), l2, labels, rowWeights(l, rows));
}

Value Generator::mse(const dsl::Node &n) {
  Location l = loc(n.loc);
  Value p = value(n.operands[0]), t = value(n.operands[1]);
  if (!node(n.operands[0]).batched || p.getType() != t.getType()) {
    emitError(l) << "mse: prediction and target must be batched values of "
                    "the same shape";
    return nullptr;
  }
  return b.create<nn::MSEOp>(l, tensor({}, false), p, t, weights);
}

Value Generator::concat(const dsl::Node &n) {
  SmallVector<Value> ins;
  for (int o : n.operands) {
    Value v = value(o);
    // An unbatched operand (a parameter) is the same for every example.
    if (n.batched && !node(o).batched)
      v = b.create<nn::BroadcastToOp>(loc(n.loc), tensor(node(o).shape, true), v);
    ins.push_back(v);
  }
  // The axis attribute only where it is not the last one, so the IR of
  // recurrent cells stays as it was.
  IntegerAttr axis;
  int64_t rank = int64_t(n.shape.size());
  if (n.concatAxis >= 0 && n.concatAxis != rank - 1)
    axis = b.getI64IntegerAttr(n.concatAxis + (n.batched ? 1 : 0));
  return b.create<nn::ConcatOp>(loc(n.loc), typeOf(n), ins, axis);
}

// An unbatched operand of a batched op is the same for every example.
Value Generator::batchedOperand(const dsl::Node &n, int i) {
  Value v = value(i);
  if (n.batched && !node(i).batched)
    v = b.create<nn::BroadcastToOp>(loc(n.loc), tensor(node(i).shape, true), v);
  return v;
}

// transpose(k) as an operand of a product is the transpose flag on k
// itself: `q @ transpose(k)` reads k transposed instead of copying it.
int Generator::swappedLastTwo(int i) {
  const dsl::Node &t = node(i);
  if (t.op != OpKind::Transpose || t.batched != node(t.operands[0]).batched)
    return -1;
  size_t r = t.perm.size();
  if (r < 2)
    return -1;
  for (size_t d = 0; d < r; ++d)
    if (t.perm[d] != int64_t(d < r - 2 ? d : d == r - 2 ? r - 1 : r - 2))
      return -1;
  return t.operands[0];
}

Value Generator::batchMatmul(const dsl::Node &n) {
  Location l = loc(n.loc);
  int ia = n.operands[0], ib = n.operands[1];
  bool ta = n.transposeA, tb = n.transposeB;
  if (int inner = swappedLastTwo(ia); inner >= 0)
    ia = inner, ta = !ta;
  if (int inner = swappedLastTwo(ib); inner >= 0)
    ib = inner, tb = !tb;
  Value a = batchedOperand(n, ia), c = batchedOperand(n, ib);
  auto set = [&](auto op) -> Value {
    if (ta)
      op.setTransposeA(true);
    if (tb)
      op.setTransposeB(true);
    return op;
  };
  // Unbatched 2-D operands (dot of two parameters) are one plain product.
  if (typeOf(n).getRank() == 2)
    return set(b.create<nn::MatMulOp>(l, typeOf(n), a, c));
  return set(b.create<nn::BatchMatMulOp>(l, typeOf(n), a, c));
}

Value Generator::transpose(const dsl::Node &n) {
  // The batch stays first; per-example axis p is full axis p + 1.
  SmallVector<int64_t> perm;
  if (n.batched)
    perm.push_back(0);
  for (int64_t p : n.perm)
    perm.push_back(p + (n.batched ? 1 : 0));
  return b.create<nn::TransposeOp>(loc(n.loc), typeOf(n), value(n.operands[0]),
                                   b.getDenseI64ArrayAttr(perm));
}

// The step's position (a float state [B, 1]) as the index the cache ops
// take: row 0's (generation runs every row in step).
Value Generator::position(Location l, int i) {
  Value p = value(i);
  Value zero = b.create<arith::ConstantIndexOp>(l, 0);
  Value f = b.create<tensor::ExtractOp>(l, p, ValueRange{zero, zero});
  return b.create<arith::FPToSIOp>(l, b.getI64Type(), f);
}

// mask(s, keep): keep broadcasts to s per example; a batched keep on an
// unbatched s makes the result batched.
Value Generator::mask(const dsl::Node &n) {
  Location l = loc(n.loc);
  Value s = value(n.operands[0]);
  if (n.batched && !node(n.operands[0]).batched)
    s = b.create<nn::BroadcastToOp>(l, typeOf(n), s);
  Value keep = alignBatched(l, n.operands[1], n.shape.size());
  return b.create<nn::MaskOp>(l, typeOf(n), s, keep, b.getF32FloatAttr(float(dsl::kMaskFill)));
}

Value Generator::dropout(const dsl::Node &n) {
  if (stepMode)
    return value(n.operands[0]);
  if (!key) {
    emitError(loc(n.loc)) << "dropout inside a recurrent cell is not supported";
    return nullptr;
  }
  return b.create<nn::DropoutOp>(loc(n.loc), value(n.operands[0]), key,
                                 b.getF32FloatAttr(float(n.value)),
                                 b.getI64IntegerAttr(n.seedStream));
}

Value Generator::emit(const dsl::Node &n) {
  Location l = loc(n.loc);
  switch (n.op) {
  case OpKind::Param:
    if (leaf)
      if (Value v = leaf(n))
        return v;
    return readParam(l, n.paramIndex);
  case OpKind::Input:
  case OpKind::Target:
  case OpKind::StepState:
  case OpKind::ScanState:
  case OpKind::ScanInput:
  case OpKind::ScanCapture:
    if (Value v = leaf(n))
      return v;
    emitError(l) << "internal error: an input node out of place";
    return nullptr;
  case OpKind::Constant:
    return b.create<nn::ConstantOp>(l, typeOf(n), b.getF32FloatAttr(float(n.value)));
  case OpKind::MatMul:
    return matmul(n);
  case OpKind::Add:
    return binary<nn::AddOp>(n);
  case OpKind::Sub:
    return binary<nn::SubOp>(n);
  case OpKind::Mul:
    return binary<nn::MulOp>(n);
  case OpKind::Div:
    return binary<nn::DivOp>(n);
    // The elementwise functions, one case per row of Ops.def.
#define NN_UNARY_OP(Kind, name, OpClass)                                                           \
  case OpKind::Kind:                                                                               \
    return unary<nn::OpClass>(n);
#include "nnc/dsl/Ops.def"
  case OpKind::Softmax:
    return softmax<nn::SoftmaxOp>(n);
  case OpKind::LogSoftmax:
    return softmax<nn::LogSoftmaxOp>(n);
  case OpKind::CrossEntropy:
    return crossEntropy(n);
  case OpKind::MSE:
    return mse(n);
  case OpKind::Concat:
    return concat(n);
  case OpKind::Slice:
    return b.create<nn::SliceOp>(l, typeOf(n), value(n.operands[0]), b.getI64IntegerAttr(n.begin));
  case OpKind::Embedding:
    return b.create<nn::EmbeddingOp>(l, typeOf(n), value(n.operands[0]), value(n.operands[1]));
  case OpKind::Dropout:
    return dropout(n);
  case OpKind::Scan:
    return scan(n);
  case OpKind::Repeat:
    return repeat(n);
  case OpKind::RepeatOutput:
    return swapFirstAxes(l, repeats.at(&node(n.operands[0])).getResult(1 + n.ioIndex));
  case OpKind::CacheWrite:
    return b.create<nn::CacheWriteOp>(l, value(n.operands[0]), value(n.operands[1]),
                                      position(l, n.operands[2]));
  // Transformer primitives (issue 4):
  case OpKind::LayerNorm:
    return b.create<nn::LayerNormOp>(l, typeOf(n), value(n.operands[0]),
                                     b.getF32FloatAttr(float(n.value)));
  case OpKind::CausalMask:
    return b.create<nn::CausalMaskOp>(l, typeOf(n), value(n.operands[0]),
                                      n.operands.size() > 1 ? position(l, n.operands[1]) : Value(),
                                      b.getF32FloatAttr(float(dsl::kMaskFill)));
  case OpKind::Mask:
    return mask(n);
  case OpKind::NotPadding:
    return b.create<nn::NotPaddingOp>(l, typeOf(n), value(n.operands[0]));
  case OpKind::Positions:
    return b.create<nn::RangeOp>(l, typeOf(n),
                                 n.operands.empty() ? Value() : position(l, n.operands[0]));
  // Attention shape primitives (issue 4):
  case OpKind::BatchMatMul:
    return batchMatmul(n);
  case OpKind::Transpose:
    return transpose(n);
  case OpKind::Reshape:
    return reshape(l, value(n.operands[0]), typeOf(n).getShape());
  }
  emitError(l) << "internal error: unknown graph op";
  return nullptr;
}

OwningOpRef<ModuleOp> nnc::generateNN(MLIRContext &ctx, const dsl::Graph &graph, int64_t batch,
                                      const dsl::Graph *stepGraph, int64_t stepBatch) {
  ctx.loadDialect<nn::NNDialect, func::FuncDialect, tensor::TensorDialect, arith::ArithDialect>();
  OwningOpRef<ModuleOp> m = Generator(ctx, graph, batch).run();
  if (m && stepGraph && !Generator(ctx, *stepGraph, stepBatch).runStep(*m))
    return nullptr;
  return m;
}
