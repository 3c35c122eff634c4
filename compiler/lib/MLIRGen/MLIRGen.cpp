// From the checked graph of a .nn model to the nn dialect.
#include "nnc/MLIRGen/MLIRGen.h"
#include "nnc/Dialect/NN/IR/NNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace nnc;
using dsl::OpKind;

namespace {

class Generator {
public:
  Generator(MLIRContext &ctx, const dsl::Graph &g, int64_t batch)
      : ctx(ctx), g(g), batch(batch), b(&ctx) {}

  // @step_forward(inputs..., states...) -> (outputs..., new states...): the
  // model built with one time step, its cells starting from the given states
  // (the generation entry point is made from it).
  bool runStep(ModuleOp module) {
    stepMode = true;
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

  OwningOpRef<ModuleOp> run() {
    OwningOpRef<ModuleOp> module = ModuleOp::create(loc(dsl::Loc{g.file, 1, 1}));
    (*module)->setAttr("nn.model", b.getStringAttr(g.modelName));
    b.setInsertionPointToEnd(module->getBody());
    for (const dsl::Param &p : g.params)
      b.create<nn::ParameterOp>(loc(p.loc), b.getStringAttr(p.name),
                                TypeAttr::get(tensor(p.shape, false)), b.getStringAttr(p.init),
                                b.getF64FloatAttr(p.initValue), b.getI64IntegerAttr(p.fanIn),
                                b.getI64IntegerAttr(p.fanOut));

    bool dropout =
        llvm::any_of(g.nodes, [](const dsl::Node &n) { return n.op == OpKind::Dropout; });
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
    auto fn = b.create<func::FuncOp>(loc(dsl::Loc{g.file, 1, 1}), "forward",
                                     b.getFunctionType(ins, outs));
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

private:
  MLIRContext &ctx;
  const dsl::Graph &g;
  int64_t batch;
  OpBuilder b;
  Value weights, key;
  Block::BlockArgListType args;
  // The node list being emitted (the model's or a scan body's) and values.
  const std::vector<dsl::Node> *nodes = nullptr;
  std::vector<Value> *vals = nullptr;
  // Inside a scan body: what its input nodes stand for.
  std::function<Value(const dsl::Node &)> leaf;
  // Step mode: cells start from these arguments and their final states are
  // returned.
  bool stepMode = false;
  Block::BlockArgListType stateArgs;
  unsigned nextState = 0;
  SmallVector<Value> finalStates;

  Location loc(const dsl::Loc &l) { return FileLineColLoc::get(&ctx, l.file, l.line, l.col); }

  RankedTensorType tensor(ArrayRef<int64_t> shape, bool batched, dsl::DType dt = dsl::DType::F32) {
    SmallVector<int64_t> full;
    if (batched)
      full.push_back(batch);
    full.append(shape.begin(), shape.end());
    Type et = dt == dsl::DType::I32 ? Type(b.getI32Type()) : Type(b.getF32Type());
    return RankedTensorType::get(full, et);
  }

  RankedTensorType typeOf(const dsl::Node &n) { return tensor(n.shape, n.batched, n.dtype); }

  const dsl::Node &node(int i) { return (*nodes)[i]; }
  Value value(int i) { return (*vals)[i]; }

  bool emitNodes(const std::vector<dsl::Node> &ns, std::vector<Value> &vs,
                 std::function<Value(const dsl::Node &)> leafFn, bool skipLoss = false) {
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
      if (skipLoss && (ns[i].op == OpKind::Target ||
                       llvm::any_of(ns[i].operands, [&](int o) { return !vs[o]; })))
        continue;
      vs[i] = emit(ns[i]);
      ok = bool(vs[i]);
    }
    nodes = savedNodes;
    vals = savedVals;
    leaf = savedLeaf;
    return ok;
  }

  Value reshape(Location l, Value v, ArrayRef<int64_t> shape) {
    auto t = RankedTensorType::get(shape, b.getF32Type());
    if (v.getType() == t)
      return v;
    return b.create<nn::ReshapeOp>(l, t, v);
  }

  // A batched operand of lower per-example rank than the result gets unit
  // dimensions after the batch, so numpy's trailing alignment lines up the
  // per-example dimensions rather than the batch with a feature dimension.
  Value alignBatched(Location l, int i, size_t resultRank) {
    const dsl::Node &n = node(i);
    Value v = value(i);
    if (!n.batched || n.shape.size() >= resultRank)
      return v;
    SmallVector<int64_t> s{batch};
    s.append(resultRank - n.shape.size(), 1);
    s.append(n.shape.begin(), n.shape.end());
    return reshape(l, v, s);
  }

  template <typename Op> Value binary(const dsl::Node &n) {
    Location l = loc(n.loc);
    Value a = alignBatched(l, n.operands[0], n.shape.size());
    Value c = alignBatched(l, n.operands[1], n.shape.size());
    return b.create<Op>(l, typeOf(n), a, c);
  }

  template <typename Op> Value unary(const dsl::Node &n) {
    return b.create<Op>(loc(n.loc), value(n.operands[0]));
  }

  Value matmul(const dsl::Node &n) {
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
  Value rowWeights(Location l, int64_t rows) {
    if (rows == batch)
      return weights;
    Value w = reshape(l, weights, {batch, 1});
    w = b.create<nn::BroadcastToOp>(l, RankedTensorType::get({batch, rows / batch}, b.getF32Type()),
                                    w);
    return reshape(l, w, {rows});
  }

  Value crossEntropy(const dsl::Node &n) {
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

  Value mse(const dsl::Node &n) {
    Location l = loc(n.loc);
    Value p = value(n.operands[0]), t = value(n.operands[1]);
    if (!node(n.operands[0]).batched || p.getType() != t.getType()) {
      emitError(l) << "mse: prediction and target must be batched values of "
                      "the same shape";
      return nullptr;
    }
    return b.create<nn::MSEOp>(l, tensor({}, false), p, t, weights);
  }

  Value concat(const dsl::Node &n) {
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

  // Attention shape primitives (issue 4).

  // An unbatched operand of a batched op is the same for every example.
  Value batchedOperand(const dsl::Node &n, int i) {
    Value v = value(i);
    if (n.batched && !node(i).batched)
      v = b.create<nn::BroadcastToOp>(loc(n.loc), tensor(node(i).shape, true), v);
    return v;
  }

  // transpose(k) as an operand of a product is the transpose flag on k
  // itself: `q @ transpose(k)` reads k transposed instead of copying it.
  int swappedLastTwo(int i) {
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

  Value batchMatmul(const dsl::Node &n) {
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

  Value transpose(const dsl::Node &n) {
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
  Value position(Location l, int i) {
    Value p = value(i);
    Value zero = b.create<arith::ConstantIndexOp>(l, 0);
    Value f = b.create<tensor::ExtractOp>(l, p, ValueRange{zero, zero});
    return b.create<arith::FPToSIOp>(l, b.getI64Type(), f);
  }

  // Transformer primitives (issue 4).

  // The axis is stored counted from the end, the same in the per-example and
  // the batched shape; the default (-1) is left implicit.
  template <typename Op> Value softmax(const dsl::Node &n) {
    return b.create<Op>(loc(n.loc), value(n.operands[0]),
                        n.axis == -1 ? IntegerAttr() : b.getI64IntegerAttr(n.axis));
  }

  // mask(s, keep): keep broadcasts to s per example; a batched keep on an
  // unbatched s makes the result batched.
  Value mask(const dsl::Node &n) {
    Location l = loc(n.loc);
    Value s = value(n.operands[0]);
    if (n.batched && !node(n.operands[0]).batched)
      s = b.create<nn::BroadcastToOp>(l, typeOf(n), s);
    Value keep = alignBatched(l, n.operands[1], n.shape.size());
    return b.create<nn::MaskOp>(l, typeOf(n), s, keep, b.getF32FloatAttr(float(dsl::kMaskFill)));
  }

  Value dropout(const dsl::Node &n) {
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

  // One nn.scan per cell application; the body's parameters are read outside
  // and captured, so their gradients leave the scan through its operands.
  Value scan(const dsl::Node &n) {
    Location l = loc(n.loc);
    const dsl::Scan &sc = g.scans[n.scanIndex];
    SmallVector<Value> inits, seqs, caps;
    SmallVector<Type> stateTypes;
    for (const dsl::Scan::State &s : sc.states) {
      auto t = tensor(s.shape, true);
      stateTypes.push_back(t);
      if (stepMode)
        inits.push_back(stateArgs[nextState++]);
      else
        inits.push_back(b.create<nn::ConstantOp>(l, t, b.getF32FloatAttr(float(s.init))));
    }
    for (int s : sc.sequences) {
      if (!node(s).batched || node(s).shape.empty()) {
        emitError(l) << "a cell runs over a batched sequence [T, ...]";
        return nullptr;
      }
      seqs.push_back(value(s));
    }
    for (int c : sc.captures)
      caps.push_back(value(c));
    // Parameters used in the body, in order of first use.
    std::map<int, unsigned> paramCapture;
    for (const dsl::Node &bn : sc.body)
      if (bn.op == OpKind::Param && !paramCapture.count(bn.paramIndex)) {
        paramCapture[bn.paramIndex] = caps.size();
        caps.push_back(b.create<nn::ParamOp>(l, tensor(g.params[bn.paramIndex].shape, false),
                                             g.params[bn.paramIndex].name));
      }
    if (sc.output < 0 || sc.states.empty()) {
      emitError(l) << "internal error: a scan without output or state";
      return nullptr;
    }
    const dsl::Node &out = sc.body[sc.output];
    auto stepOut = typeOf(out);
    int64_t T = seqs[0].getType().cast<RankedTensorType>().getDimSize(1);
    SmallVector<Type> results(stateTypes);
    if (sc.returnSequence) {
      SmallVector<int64_t> s{batch, T};
      s.append(out.shape.begin(), out.shape.end());
      results.push_back(RankedTensorType::get(s, b.getF32Type()));
    } else {
      results.push_back(stepOut);
    }
    OperationState state(l, nn::ScanOp::getOperationName());
    state.addOperands(inits);
    state.addOperands(seqs);
    state.addOperands(caps);
    state.addAttribute(nn::ScanOp::getOperandSegmentSizesAttrName(state.name),
                       b.getDenseI32ArrayAttr(
                           {int32_t(inits.size()), int32_t(seqs.size()), int32_t(caps.size())}));
    if (sc.returnSequence)
      state.addAttribute(nn::ScanOp::getReturnSequenceAttrName(state.name), b.getUnitAttr());
    // No save_states: backpropagation through time rebuilds the scan with
    // what it keeps (nn.scan's VJP), and predict and step need none of it.
    state.addTypes(results);
    Region *region = state.addRegion();
    Block *body = new Block();
    region->push_back(body);
    for (Type t : stateTypes)
      body->addArgument(t, l);
    for (Value s : seqs) {
      auto st = s.getType().cast<RankedTensorType>();
      SmallVector<int64_t> shape{batch};
      shape.append(st.getShape().begin() + 2, st.getShape().end());
      body->addArgument(RankedTensorType::get(shape, st.getElementType()), l);
    }
    for (Value c : caps)
      body->addArgument(c.getType(), l);
    auto op = cast<nn::ScanOp>(b.create(state));

    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(body);
    unsigned S = inits.size(), N = seqs.size();
    Value savedKey = key;
    key = Value();
    std::vector<Value> bodyVals;
    bool ok = emitNodes(sc.body, bodyVals, [&](const dsl::Node &bn) -> Value {
      switch (bn.op) {
      case OpKind::ScanState:
        return body->getArgument(bn.ioIndex);
      case OpKind::ScanInput:
        return body->getArgument(S + bn.ioIndex);
      case OpKind::ScanCapture:
        return body->getArgument(S + N + bn.ioIndex);
      case OpKind::Param:
        return body->getArgument(S + N + paramCapture[bn.paramIndex]);
      default:
        return Value();
      }
    });
    key = savedKey;
    if (!ok)
      return nullptr;
    SmallVector<Value> yields;
    for (const dsl::Scan::State &st : sc.states)
      yields.push_back(bodyVals[st.update]);
    yields.push_back(bodyVals[sc.output]);
    b.create<nn::YieldOp>(l, yields);
    for (unsigned i = 0; i < S; ++i)
      finalStates.push_back(op.getResult(i));
    return op.getResult(S);
  }

  // repeat(N, Layer(...)) as one nn.scan {stacked} over the copies: each
  // parameter of the body is the stack of its N copies, [N, ...], read
  // outside (so gradients leave through the operands, and concat's VJP
  // hands each copy its slice).
  Value repeat(const dsl::Node &n) {
    Location l = loc(n.loc);
    const dsl::Scan &rp = g.repeats[n.scanIndex];
    const dsl::Scan::State &st = rp.states[0];
    SmallVector<Value> inits{value(st.initNode)}, seqs, caps;
    std::map<int, unsigned> seqOf; // copy 0's parameter -> its stack
    for (const dsl::Node &bn : rp.body)
      if (bn.op == OpKind::Param && !seqOf.count(bn.paramIndex)) {
        seqOf[bn.paramIndex] = seqs.size();
        seqs.push_back(stack(l, rp.copies.at(bn.paramIndex)));
      }
    for (int c : rp.captures)
      caps.push_back(value(c));
    OperationState state(l, nn::ScanOp::getOperationName());
    state.addOperands(inits);
    state.addOperands(seqs);
    state.addOperands(caps);
    state.addAttribute(nn::ScanOp::getOperandSegmentSizesAttrName(state.name),
                       b.getDenseI32ArrayAttr(
                           {int32_t(inits.size()), int32_t(seqs.size()), int32_t(caps.size())}));
    state.addAttribute(nn::ScanOp::getStackedAttrName(state.name), b.getUnitAttr());
    state.addTypes(inits[0].getType());
    Block *body = new Block();
    state.addRegion()->push_back(body);
    body->addArgument(inits[0].getType(), l);
    for (Value s : seqs)
      body->addArgument(nn::stepType(s.getType(), 0), l);
    for (Value c : caps)
      body->addArgument(c.getType(), l);
    auto op = cast<nn::ScanOp>(b.create(state));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(body);
    unsigned N = seqs.size();
    std::vector<Value> bodyVals;
    bool ok = emitNodes(rp.body, bodyVals, [&](const dsl::Node &bn) -> Value {
      switch (bn.op) {
      case OpKind::ScanState:
        return body->getArgument(0);
      case OpKind::ScanCapture:
        return body->getArgument(1 + N + bn.ioIndex);
      case OpKind::Param:
        return body->getArgument(1 + seqOf.at(bn.paramIndex));
      default:
        return Value();
      }
    });
    if (!ok)
      return nullptr;
    b.create<nn::YieldOp>(l, ValueRange{bodyVals[st.update]});
    return op.getResult(0);
  }

  // [N, ...]: the copies of one parameter stacked.
  Value stack(Location l, ArrayRef<int> params) {
    const std::vector<int64_t> &shape = g.params[params[0]].shape;
    SmallVector<int64_t> one{1}, all{int64_t(params.size())};
    one.append(shape.begin(), shape.end());
    all.append(shape.begin(), shape.end());
    SmallVector<Value> parts;
    for (int p : params)
      parts.push_back(
          reshape(l, b.create<nn::ParamOp>(l, tensor(shape, false), g.params[p].name), one));
    return b.create<nn::ConcatOp>(l, RankedTensorType::get(all, b.getF32Type()), parts,
                                  b.getI64IntegerAttr(0));
  }

  Value emit(const dsl::Node &n) {
    Location l = loc(n.loc);
    switch (n.op) {
    case OpKind::Param:
      if (leaf)
        if (Value v = leaf(n))
          return v;
      return b.create<nn::ParamOp>(l, typeOf(n), g.params[n.paramIndex].name);
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
      return b.create<nn::SliceOp>(l, typeOf(n), value(n.operands[0]),
                                   b.getI64IntegerAttr(n.begin));
    case OpKind::Embedding:
      return b.create<nn::EmbeddingOp>(l, typeOf(n), value(n.operands[0]), value(n.operands[1]));
    case OpKind::Dropout:
      return dropout(n);
    case OpKind::Scan:
      return scan(n);
    case OpKind::Repeat:
      return repeat(n);
    case OpKind::CacheWrite:
      return b.create<nn::CacheWriteOp>(l, value(n.operands[0]), value(n.operands[1]),
                                        position(l, n.operands[2]));
    // Transformer primitives (issue 4):
    case OpKind::LayerNorm:
      return b.create<nn::LayerNormOp>(l, typeOf(n), value(n.operands[0]),
                                       b.getF32FloatAttr(float(n.value)));
    case OpKind::CausalMask:
      return b.create<nn::CausalMaskOp>(l, typeOf(n), value(n.operands[0]),
                                        n.operands.size() > 1 ? position(l, n.operands[1])
                                                              : Value(),
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
};

} // namespace

OwningOpRef<ModuleOp> nnc::generateNN(MLIRContext &ctx, const dsl::Graph &graph, int64_t batch,
                                      const dsl::Graph *stepGraph, int64_t stepBatch) {
  ctx.loadDialect<nn::NNDialect, func::FuncDialect, tensor::TensorDialect, arith::ArithDialect>();
  OwningOpRef<ModuleOp> m = Generator(ctx, graph, batch).run();
  if (m && stepGraph && !Generator(ctx, *stepGraph, stepBatch).runStep(*m))
    return nullptr;
  return m;
}
