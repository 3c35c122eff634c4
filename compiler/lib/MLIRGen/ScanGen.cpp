// ScanGen.cpp: the nn.scan ops of a model: one per cell application (a
// recurrence over time) and one per repeat kept as a loop (over the copies
// of a layer, with their parameters stacked).
#include "Generator.h"

#include <set>

using namespace nnc;
using namespace nnc::mlirgen;

// One nn.scan per cell application; the body's parameters are read outside
// and captured, so their gradients leave the scan through its operands.
Value Generator::scan(const dsl::Node &n) {
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
      caps.push_back(readParam(l, bn.paramIndex));
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
  // No save_states: backpropagation through time rebuilds the scan with
  // what it keeps (nn.scan's VJP), and predict and step need none of it.
  auto op = b.create<nn::ScanOp>(l, results, inits, seqs, caps, sc.returnSequence,
                                 /*saveStates=*/false, /*reverse=*/false, /*stacked=*/false);
  Block *body = new Block();
  op.getBody().push_back(body);
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
// hands each copy its slice). In a cached step the copies' caches are
// stacked sequences too, and their updates the scan's outputs.
Value Generator::repeat(const dsl::Node &n) {
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
  unsigned P = seqs.size();
  for (int c : rp.sequences)
    seqs.push_back(swapFirstAxes(l, value(c)));
  for (int c : rp.captures)
    caps.push_back(value(c));
  SmallVector<Type> results{inits[0].getType()};
  for (int o : rp.outputs)
    results.push_back(nn::sequenceType(typeOf(rp.body[o]), rp.length, 0));
  auto op = b.create<nn::ScanOp>(l, results, inits, seqs, caps,
                                 /*returnSequence=*/!rp.outputs.empty(), /*saveStates=*/false,
                                 /*reverse=*/false, /*stacked=*/true);
  Block *body = new Block();
  op.getBody().push_back(body);
  body->addArgument(inits[0].getType(), l);
  for (Value s : seqs)
    body->addArgument(nn::stepType(s.getType(), 0), l);
  for (Value c : caps)
    body->addArgument(c.getType(), l);
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
    case OpKind::ScanInput:
      return body->getArgument(1 + P + bn.ioIndex);
    case OpKind::Param:
      return body->getArgument(1 + seqOf.at(bn.paramIndex));
    default:
      return Value();
    }
  });
  if (!ok)
    return nullptr;
  SmallVector<Value> yields{bodyVals[st.update]};
  for (int o : rp.outputs)
    yields.push_back(bodyVals[o]);
  b.create<nn::YieldOp>(l, yields);
  repeats[&n] = op;
  return op.getResult(0);
}

// A stacked cache between the step's layout, [B, N, ...] (a state is
// batch-major), and the scan's, [N, B, ...], either way: a view when B
// is 1.
Value Generator::swapFirstAxes(Location l, Value v) {
  auto t = v.getType().cast<RankedTensorType>();
  SmallVector<int64_t> shape(t.getShape());
  std::swap(shape[0], shape[1]);
  auto to = RankedTensorType::get(shape, t.getElementType());
  if (batch == 1)
    return b.create<nn::ReshapeOp>(l, to, v);
  SmallVector<int64_t> perm;
  for (int64_t i = 0; i < t.getRank(); ++i)
    perm.push_back(i < 2 ? 1 - i : i);
  return b.create<nn::TransposeOp>(l, to, v, b.getDenseI64ArrayAttr(perm));
}

// The parameters, in the graph's order; the copies of a repeat's
// parameter are one stack [N, ...] (nn.parameter with `copies`) where
// copy 0 is, so that the loop reads it whole.
void Generator::declareParameters(ModuleOp module) {
  std::map<int, std::pair<std::string, const std::vector<int> *>> stackAt; // copy 0 -> stack
  std::set<int> copies;
  for (const dsl::Scan &rp : g.repeats)
    for (const auto &[p0, all] : rp.copies) {
      const std::string &n0 = g.params[p0].name, zero = rp.name + ".0.";
      stackAt[p0] = {rp.name + ".*." + n0.substr(std::min(zero.size(), n0.size())), &all};
      copies.insert(all.begin(), all.end());
    }
  for (auto [i, p] : llvm::enumerate(g.params)) {
    auto it = stackAt.find(int(i));
    if (it == stackAt.end() && copies.count(int(i)))
      continue;
    SmallVector<int64_t> shape(p.shape.begin(), p.shape.end());
    auto op = b.create<nn::ParameterOp>(
        loc(p.loc), b.getStringAttr(it == stackAt.end() ? p.name : it->second.first),
        TypeAttr::get(tensor(shape, false)), b.getStringAttr(p.init),
        b.getF64FloatAttr(p.initValue), b.getI64IntegerAttr(p.fanIn), b.getI64IntegerAttr(p.fanOut),
        ArrayAttr(), DenseI64ArrayAttr());
    if (it == stackAt.end())
      continue;
    const std::vector<int> &all = *it->second.second;
    SmallVector<Attribute> names;
    SmallVector<int64_t> streams; // as written out: a parameter's stream is its place + 1
    for (int c : all) {
      names.push_back(b.getStringAttr(g.params[c].name));
      streams.push_back(c + 1);
    }
    shape.insert(shape.begin(), int64_t(all.size()));
    op.setTypeAttr(TypeAttr::get(tensor(shape, false)));
    op.setCopiesAttr(b.getArrayAttr(names));
    op.setStreamsAttr(b.getDenseI64ArrayAttr(streams));
  }
  findStacks(module);
}

// Where each copy of a stacked parameter lives (by its name).
void Generator::findStacks(ModuleOp module) {
  for (auto p : module.getOps<nn::ParameterOp>())
    if (auto names = p.getCopies())
      for (auto [i, n] : llvm::enumerate(*names))
        stackOf[n.cast<StringAttr>().getValue()] = {p, int64_t(i)};
}

// A parameter's value: its nn.param, or its copy's slice of a stack (a
// repeat written out, as the cached step may be, reads its copies so).
Value Generator::readParam(Location l, int index) {
  const dsl::Param &p = g.params[index];
  auto it = stackOf.find(p.name);
  if (it == stackOf.end())
    return b.create<nn::ParamOp>(l, tensor(p.shape, false), p.name);
  auto [stack, i] = it->second;
  SmallVector<int64_t> one{1};
  one.append(p.shape.begin(), p.shape.end());
  Value all = b.create<nn::ParamOp>(l, stack.getTensorType(), stack.getSymName());
  Value slice = b.create<nn::SliceOp>(l, tensor(one, false), all, b.getI64IntegerAttr(i),
                                      b.getI64IntegerAttr(0));
  return reshape(l, slice, p.shape);
}

// [N, ...]: the copies of one parameter stacked (the stack itself, or
// the copies joined where they are not one).
Value Generator::stack(Location l, ArrayRef<int> params) {
  auto first = stackOf.find(g.params[params[0]].name);
  if (first != stackOf.end() && first->second.second == 0 &&
      first->second.first.getTensorType().getDimSize(0) == int64_t(params.size()))
    return b.create<nn::ParamOp>(l, first->second.first.getTensorType(),
                                 first->second.first.getSymName());
  const std::vector<int64_t> &shape = g.params[params[0]].shape;
  SmallVector<int64_t> one{1}, all{int64_t(params.size())};
  one.append(shape.begin(), shape.end());
  all.append(shape.begin(), shape.end());
  SmallVector<Value> parts;
  for (int p : params)
    parts.push_back(reshape(l, readParam(l, p), one));
  return b.create<nn::ConcatOp>(l, RankedTensorType::get(all, b.getF32Type()), parts,
                                b.getI64IntegerAttr(0));
}
