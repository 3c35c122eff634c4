// Builds the generated library's entry points over one flat parameter buffer.
#include "nnc/Dialect/NN/IR/NNOps.h"
#include "nnc/Dialect/NN/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <cmath>

namespace nnc::nn {
#define GEN_PASS_DEF_GENERATEENTRYPOINTS
#include "nnc/Dialect/NN/Transforms/Passes.h.inc"
} // namespace nnc::nn

using namespace mlir;
using namespace nnc::nn;

namespace {

struct ParamSlot {
  ParameterOp op;
  int64_t offset, size;
};

struct GenerateEntryPointsPass
    : public nnc::nn::impl::GenerateEntryPointsBase<GenerateEntryPointsPass> {
  using GenerateEntryPointsBase::GenerateEntryPointsBase;

  SmallVector<ParamSlot> slots;
  int64_t numParams = 0;
  Type f32;

  RankedTensorType flat(int64_t n) { return RankedTensorType::get({n}, f32); }

  // Reads every parameter out of the flat buffer.
  llvm::StringMap<Value> sliceParams(OpBuilder &b, Location loc, Value flatParams) {
    llvm::StringMap<Value> values;
    for (ParamSlot s : slots) {
      Value v = b.create<tensor::ExtractSliceOp>(
          loc, flatParams, ArrayRef<OpFoldResult>{b.getIndexAttr(s.offset)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(s.size)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
      if (v.getType() != s.op.getType())
        v = b.create<ReshapeOp>(loc, s.op.getType(), v);
      values[s.op.getSymName()] = v;
    }
    return values;
  }

  // Clones the ops of `src` that the chosen results depend on, with the
  // function's arguments mapped and parameter reads replaced by slices.
  SmallVector<Value> inlineBody(OpBuilder &b, func::FuncOp src,
                                ArrayRef<Value> args,
                                const llvm::StringMap<Value> &params,
                                ArrayRef<unsigned> resultIndices,
                                bool training) {
    Block &body = src.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    DenseSet<Operation *> needed;
    SmallVector<Value> work;
    for (unsigned i : resultIndices)
      work.push_back(ret.getOperand(i));
    while (!work.empty()) {
      Value v = work.pop_back_val();
      Operation *def = v.getDefiningOp();
      if (!def || !needed.insert(def).second)
        continue;
      for (Value o : def->getOperands())
        work.push_back(o);
    }
    IRMapping map;
    for (auto [formal, actual] : llvm::zip(body.getArguments(), args))
      map.map(formal, actual);
    for (Operation &op : body.without_terminator()) {
      if (!needed.count(&op))
        continue;
      if (auto p = dyn_cast<ParamOp>(op)) {
        map.map(p.getResult(), params.lookup(p.getName()));
        continue;
      }
      // Dropout only acts while training.
      if (auto d = dyn_cast<DropoutOp>(op); d && !training) {
        map.map(d.getResult(), map.lookupOrDefault(d.getInput()));
        continue;
      }
      b.clone(op, map);
    }
    SmallVector<Value> results;
    for (unsigned i : resultIndices)
      results.push_back(map.lookupOrDefault(ret.getOperand(i)));
    return results;
  }

  // Copies a computed tensor into a destination argument, so that one-shot
  // bufferization makes the function write the caller's buffer (a full-size
  // tensor.insert_slice would be folded away by canonicalization).
  Value writeInto(OpBuilder &b, Location loc, Value v, Value dest) {
    return b.create<linalg::CopyOp>(loc, v, dest).getResult(0);
  }

  Value insertFlat(OpBuilder &b, Location loc, Value v, Value dest,
                   int64_t offset) {
    auto t = v.getType().cast<RankedTensorType>();
    if (t.getRank() != 1)
      v = b.create<ReshapeOp>(loc, flat(t.getNumElements()), v);
    // A slice covering the whole buffer would fold to `v` itself, and the
    // function would return a fresh tensor that bufferization rejects.
    if (dest.getType() == v.getType())
      return writeInto(b, loc, v, dest);
    return b.create<tensor::InsertSliceOp>(
        loc, v, dest, ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(t.getNumElements())},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  }

  Value sliceFlat(OpBuilder &b, Location loc, Value v, int64_t offset,
                  int64_t size) {
    return b.create<tensor::ExtractSliceOp>(
        loc, v, ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(size)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  }

  // @forward's arguments that are data (inputs, targets, weights); with
  // nn.key the last one is the dropout key, which entry points derive.
  static unsigned numDataArgs(func::FuncOp forward) {
    return forward.getNumArguments() - (forward->hasAttr("nn.key") ? 1 : 0);
  }

  int64_t stateSize() {
    if (optimizer == "adam" || optimizer == "rmsprop")
      return 2 * numParams;
    return numParams;
  }

  void buildInit(OpBuilder &b, ModuleOp module) {
    Location loc = module.getLoc();
    auto fn = b.create<func::FuncOp>(
        loc, "init",
        b.getFunctionType({flat(numParams), b.getI64Type()}, {flat(numParams)}));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    Value params = entry->getArgument(0), seed = entry->getArgument(1);
    int64_t stream = 0;
    for (ParamSlot s : slots) {
      ParameterOp p = s.op;
      Location ploc = p.getLoc();
      Type t = p.getType();
      StringRef init = p.getInit();
      double v = p.getInitValue().convertToDouble();
      ++stream;
      Value value;
      auto uniform = [&](double limit) -> Value {
        return b.create<RandomUniformOp>(
            ploc, t, seed, b.getF32FloatAttr(-limit), b.getF32FloatAttr(limit),
            b.getI64IntegerAttr(stream));
      };
      if (init == "glorot_uniform")
        value = uniform(std::sqrt(6.0 / double(p.getFanIn() + p.getFanOut())));
      else if (init == "he_uniform")
        value = uniform(std::sqrt(6.0 / double(p.getFanIn())));
      else if (init == "uniform")
        value = uniform(v);
      else if (init == "normal")
        value = b.create<RandomNormalOp>(ploc, t, seed, b.getF32FloatAttr(0),
                                         b.getF32FloatAttr(v),
                                         b.getI64IntegerAttr(stream));
      else {
        float c = init == "ones" ? 1.0f : init == "constant" ? float(v) : 0.0f;
        value = b.create<ConstantOp>(ploc, t, b.getF32FloatAttr(c));
      }
      params = insertFlat(b, ploc, value, params, s.offset);
    }
    b.create<func::ReturnOp>(loc, params);
    b.setInsertionPointAfter(fn);
  }

  void buildPredict(OpBuilder &b, func::FuncOp forward, unsigned numInputs) {
    Location loc = forward.getLoc();
    auto ft = forward.getFunctionType();
    SmallVector<Type> ins{flat(numParams)};
    for (unsigned i = 0; i < numInputs; ++i)
      ins.push_back(ft.getInput(i));
    SmallVector<Type> outs(ft.getResults().drop_front());
    ins.append(outs.begin(), outs.end());
    auto fn = b.create<func::FuncOp>(loc, "predict", b.getFunctionType(ins, outs));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    auto params = sliceParams(b, loc, entry->getArgument(0));
    SmallVector<unsigned> idx;
    for (unsigned i = 1; i < ft.getNumResults(); ++i)
      idx.push_back(i);
    SmallVector<Value> args(entry->getArguments().slice(1, numInputs));
    SmallVector<Value> results = inlineBody(b, forward, args, params, idx, false);
    SmallVector<Value> rets;
    for (unsigned i = 0; i < results.size(); ++i)
      rets.push_back(writeInto(b, loc, results[i],
                               entry->getArgument(1 + numInputs + i)));
    b.create<func::ReturnOp>(loc, rets);
    b.setInsertionPointAfter(fn);
  }

  void buildEvalStep(OpBuilder &b, func::FuncOp forward) {
    Location loc = forward.getLoc();
    auto ft = forward.getFunctionType();
    SmallVector<Type> ins{flat(numParams)};
    ins.append(ft.getInputs().begin(), ft.getInputs().begin() + numDataArgs(forward));
    SmallVector<Type> outs(ft.getResults().drop_front());
    ins.append(outs.begin(), outs.end());
    SmallVector<Type> rets{f32};
    rets.append(outs.begin(), outs.end());
    auto fn = b.create<func::FuncOp>(loc, "eval_step", b.getFunctionType(ins, rets));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    auto params = sliceParams(b, loc, entry->getArgument(0));
    SmallVector<unsigned> idx;
    for (unsigned i = 0; i < ft.getNumResults(); ++i)
      idx.push_back(i);
    unsigned nargs = numDataArgs(forward);
    SmallVector<Value> args(entry->getArguments().slice(1, nargs));
    SmallVector<Value> results = inlineBody(b, forward, args, params, idx, false);
    SmallVector<Value> values{b.create<tensor::ExtractOp>(loc, results[0])};
    for (unsigned i = 1; i < results.size(); ++i)
      values.push_back(
          writeInto(b, loc, results[i], entry->getArgument(nargs + i)));
    b.create<func::ReturnOp>(loc, values);
    b.setInsertionPointAfter(fn);
  }

  LogicalResult buildTrainStep(OpBuilder &b, func::FuncOp forward,
                               func::FuncOp grad) {
    Location loc = forward.getLoc();
    auto ft = forward.getFunctionType();
    int64_t S = stateSize();
    SmallVector<Type> ins{flat(numParams), flat(S), flat(4)};
    ins.append(ft.getInputs().begin(), ft.getInputs().begin() + numDataArgs(forward));
    SmallVector<Type> outs(ft.getResults().drop_front());
    ins.append(outs.begin(), outs.end());
    SmallVector<Type> rets{flat(numParams), flat(S), f32};
    rets.append(outs.begin(), outs.end());
    auto fn = b.create<func::FuncOp>(loc, "train_step", b.getFunctionType(ins, rets));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    Value flatParams = entry->getArgument(0), state = entry->getArgument(1),
          hyper = entry->getArgument(2);
    auto params = sliceParams(b, loc, flatParams);
    unsigned nargs = numDataArgs(forward), nres = ft.getNumResults();
    SmallVector<unsigned> idx;
    for (unsigned i = 0; i < grad.getFunctionType().getNumResults(); ++i)
      idx.push_back(i);
    SmallVector<Value> args(entry->getArguments().slice(3, nargs));
    auto c = [&](int64_t i) { return b.create<arith::ConstantIndexOp>(loc, i); };
    Value lr = b.create<tensor::ExtractOp>(loc, hyper, ValueRange{c(0)});
    Value step = b.create<tensor::ExtractOp>(loc, hyper, ValueRange{c(1)});
    // Dropout masks differ from step to step: the key is the step count.
    if (forward->hasAttr("nn.key"))
      args.push_back(b.create<arith::FPToSIOp>(loc, b.getI64Type(), step));
    SmallVector<Value> results = inlineBody(b, grad, args, params, idx, true);

    // The gradients, laid out like the parameters.
    Value g = b.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{numParams}, f32);
    for (auto [i, s] : llvm::enumerate(slots))
      g = insertFlat(b, s.op.getLoc(), results[nres + i], g, s.offset);

    Value newParams, newState;
    int64_t P = numParams;
    if (optimizer == "adam") {
      auto u = b.create<AdamUpdateOp>(
          loc, flatParams, g, sliceFlat(b, loc, state, 0, P),
          sliceFlat(b, loc, state, P, P), lr, step, b.getF32FloatAttr(beta1),
          b.getF32FloatAttr(beta2), b.getF32FloatAttr(epsilon));
      newParams = u.getNewParam();
      newState = b.create<tensor::InsertSliceOp>(
          loc, u.getNewM(), state, ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(P)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
      newState = b.create<tensor::InsertSliceOp>(
          loc, u.getNewV(), newState, ArrayRef<OpFoldResult>{b.getIndexAttr(P)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(P)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    } else if (optimizer == "rmsprop") {
      auto u = b.create<RMSPropUpdateOp>(
          loc, flatParams, g, sliceFlat(b, loc, state, 0, P),
          sliceFlat(b, loc, state, P, P), lr, b.getF32FloatAttr(rho),
          b.getF32FloatAttr(epsilon), b.getF32FloatAttr(momentum));
      newParams = u.getNewParam();
      newState = b.create<tensor::InsertSliceOp>(
          loc, u.getNewMeanSquare(), state,
          ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(P)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
      newState = b.create<tensor::InsertSliceOp>(
          loc, u.getNewVelocity(), newState,
          ArrayRef<OpFoldResult>{b.getIndexAttr(P)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(P)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    } else if (optimizer == "sgd") {
      auto u = b.create<SGDUpdateOp>(loc, flatParams, g, state, lr,
                                     b.getF32FloatAttr(momentum));
      newParams = u.getNewParam();
      newState = u.getNewVelocity();
    } else {
      return fn.emitError("unknown optimizer '") << optimizer << "'";
    }
    SmallVector<Value> values{newParams, newState,
                              b.create<tensor::ExtractOp>(loc, results[0])};
    for (unsigned i = 1; i < nres; ++i)
      values.push_back(writeInto(b, loc, results[i],
                                 entry->getArgument(3 + nargs + i - 1)));
    b.create<func::ReturnOp>(loc, values);
    b.setInsertionPointAfter(fn);
    return success();
  }

  // @step(params, inputs..., states..., outputs...): one time step; the
  // states are read and written in place, the outputs written.
  void buildStep(OpBuilder &b, func::FuncOp sf) {
    Location loc = sf.getLoc();
    auto ft = sf.getFunctionType();
    unsigned numInputs =
        sf->getAttrOfType<IntegerAttr>("nn.num_inputs").getInt();
    unsigned numStates = ft.getNumInputs() - numInputs;
    unsigned numOutputs = ft.getNumResults() - numStates;
    SmallVector<Type> ins{flat(numParams)};
    ins.append(ft.getInputs().begin(), ft.getInputs().end());
    SmallVector<Type> outs(ft.getResults().take_front(numOutputs));
    ins.append(outs.begin(), outs.end());
    SmallVector<Type> rets(ft.getInputs().drop_front(numInputs));
    rets.append(outs.begin(), outs.end());
    auto fn = b.create<func::FuncOp>(loc, "step", b.getFunctionType(ins, rets));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    auto params = sliceParams(b, loc, entry->getArgument(0));
    SmallVector<unsigned> idx;
    for (unsigned i = 0; i < ft.getNumResults(); ++i)
      idx.push_back(i);
    SmallVector<Value> args(entry->getArguments().slice(1, ft.getNumInputs()));
    SmallVector<Value> results = inlineBody(b, sf, args, params, idx, false);
    SmallVector<Value> values;
    for (unsigned i = 0; i < numStates; ++i)
      values.push_back(writeInto(b, loc, results[numOutputs + i],
                                 entry->getArgument(1 + numInputs + i)));
    for (unsigned k = 0; k < numOutputs; ++k)
      values.push_back(writeInto(b, loc, results[k],
                                 entry->getArgument(1 + ft.getNumInputs() + k)));
    b.create<func::ReturnOp>(loc, values);
    b.setInsertionPointAfter(fn);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    f32 = Float32Type::get(&getContext());
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    auto grad = module.lookupSymbol<func::FuncOp>("forward_grad");
    if (!forward || !grad) {
      module.emitError("nn-generate-entry-points needs @forward and "
                       "@forward_grad (run nn-generate-backward first)");
      return signalPassFailure();
    }
    auto numInputsAttr = forward->getAttrOfType<IntegerAttr>("nn.num_inputs");
    if (!numInputsAttr) {
      forward.emitError("@forward needs an nn.num_inputs attribute");
      return signalPassFailure();
    }
    slots.clear();
    numParams = 0;
    for (ParameterOp p : module.getOps<ParameterOp>()) {
      int64_t n = p.getTensorType().getNumElements();
      slots.push_back({p, numParams, n});
      numParams += n;
    }
    OpBuilder b(&getContext());
    b.setInsertionPointToEnd(module.getBody());
    buildInit(b, module);
    buildPredict(b, forward, numInputsAttr.getInt());
    buildEvalStep(b, forward);
    if (failed(buildTrainStep(b, forward, grad)))
      return signalPassFailure();
    if (auto sf = module.lookupSymbol<func::FuncOp>("step_forward")) {
      if (!sf->hasAttr("nn.num_inputs")) {
        sf.emitError("@step_forward needs an nn.num_inputs attribute");
        return signalPassFailure();
      }
      buildStep(b, sf);
      sf.erase();
    }
    forward.erase();
    grad.erase();
    // Every entry point but init runs on a caller's workspace (nnc-plan-memory).
    for (auto fn : module.getOps<func::FuncOp>())
      if (fn.getSymName() != "init")
        fn->setAttr("nn.workspace", b.getUnitAttr());
    module->setAttr("nn.num_params", b.getI64IntegerAttr(numParams));
    module->setAttr("nn.opt_state_size", b.getI64IntegerAttr(stateSize()));
    module->setAttr("nn.optimizer", b.getStringAttr(optimizer));
  }
};

} // namespace

std::unique_ptr<Pass> nnc::nn::createGenerateEntryPointsPass() {
  return std::make_unique<GenerateEntryPointsPass>();
}
