// Builds the generated library's entry points over one flat parameter buffer.
#include "nnc/Dialect/NN/IR/NNOps.h"
#include "nnc/Dialect/NN/Transforms/Passes.h"
#include "nnc/Optimizers/Optimizers.h"
#include "nnrt/nnrt_abi.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
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
  // The optimizer's row and its compiled-in hyperparameters, every one
  // (the options' values over the table's defaults).
  const nnc::optim::Optimizer *opt = nullptr;
  DictionaryAttr hyperAttr;

  // Reads the `optimizer` and `hyper` options against the table.
  LogicalResult resolveOptimizer(ModuleOp module) {
    namespace op = nnc::optim;
    opt = op::findOptimizer(optimizer.getValue());
    if (!opt)
      return module.emitError("unknown optimizer '")
             << optimizer << "'; expected " << op::optimizerNames();
    std::vector<std::string> compiled;
    for (const auto &[n, v] : op::compiledValues(*opt, {}))
      compiled.push_back(n);
    std::map<std::string, double> given;
    for (StringRef item : hyper) {
      auto [name, text] = item.split('=');
      const op::Hyperparameter *h = op::findHyper(*opt, name);
      if (!h || h->when != op::When::Compiled)
        return module.emitError()
               << opt->name << " has no compiled-in hyperparameter '" << name << "'; expected "
               << (compiled.empty() ? "none" : op::joinNames(compiled))
               << (h ? " ('" + name.str() + "' is set at run time, in train_step's hyper)" : "");
      double v;
      if (text.trim().getAsDouble(v))
        return module.emitError("hyperparameter '")
               << name << "' expects a number, got '" << text << "'";
      if (const char *want = op::rangeViolation(*h, v))
        return module.emitError("hyperparameter '")
               << name << "' of " << opt->name << " must be " << want << ", got " << text;
      given[h->name] = v;
    }
    Builder b(&getContext());
    SmallVector<NamedAttribute> attrs;
    for (const auto &[n, v] : op::compiledValues(*opt, given))
      attrs.push_back(b.getNamedAttr(n, b.getF32FloatAttr(float(v))));
    hyperAttr = b.getDictionaryAttr(attrs);
    return success();
  }

  RankedTensorType flat(int64_t n) { return RankedTensorType::get({n}, f32); }

  // Reads every parameter out of the flat buffer.
  llvm::StringMap<Value> sliceParams(OpBuilder &b, Location loc, Value flatParams) {
    llvm::StringMap<Value> values;
    for (ParamSlot s : slots) {
      Value v = b.create<tensor::ExtractSliceOp>(loc, flatParams,
                                                 ArrayRef<OpFoldResult>{b.getIndexAttr(s.offset)},
                                                 ArrayRef<OpFoldResult>{b.getIndexAttr(s.size)},
                                                 ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
      if (v.getType() != s.op.getType())
        v = b.create<ReshapeOp>(loc, s.op.getType(), v);
      values[s.op.getSymName()] = v;
    }
    return values;
  }

  // Every parameter from its packed argument, the first ones of `entry`
  // (train_step's and grad_step's layout), in its declared shape.
  llvm::StringMap<Value> packedParams(OpBuilder &b, Location loc, Block *entry) {
    llvm::StringMap<Value> params;
    for (auto [i, s] : llvm::enumerate(slots)) {
      Value v = entry->getArgument(i);
      if (v.getType() != s.op.getType())
        v = b.create<ReshapeOp>(loc, s.op.getType(), v);
      params[s.op.getSymName()] = v;
    }
    return params;
  }

  // Clones the ops of `src` that the chosen results depend on, with the
  // function's arguments mapped and parameter reads replaced by slices.
  SmallVector<Value> inlineBody(OpBuilder &b, func::FuncOp src, ArrayRef<Value> args,
                                const llvm::StringMap<Value> &params,
                                ArrayRef<unsigned> resultIndices, bool training) {
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

  // @forward's arguments that are data (inputs, targets, weights); with
  // nn.key the last one is the dropout key, which entry points derive.
  static unsigned numDataArgs(func::FuncOp forward) {
    return forward.getNumArguments() - (forward->hasAttr("nn.key") ? 1 : 0);
  }

  int64_t stateSize() { return opt->stateSlots * numParams; }

  // A parameter's initial value from random stream `stream`; with `step`,
  // a stack's, copy i from stream `stream + i * step`.
  Value initialValue(OpBuilder &b, ParameterOp p, int64_t stream, IntegerAttr step, Value seed) {
    Location ploc = p.getLoc();
    Type t = p.getType();
    StringRef init = p.getInit();
    double v = p.getInitValue().convertToDouble();
    auto uniform = [&](double limit) -> Value {
      return b.create<RandomUniformOp>(ploc, t, seed, b.getF32FloatAttr(-limit),
                                       b.getF32FloatAttr(limit), b.getI64IntegerAttr(stream), step);
    };
    if (init == "glorot_uniform")
      return uniform(std::sqrt(6.0 / double(p.getFanIn() + p.getFanOut())));
    if (init == "he_uniform")
      return uniform(std::sqrt(6.0 / double(p.getFanIn())));
    if (init == "uniform")
      return uniform(v);
    if (init == "normal")
      return b.create<RandomNormalOp>(ploc, t, seed, b.getF32FloatAttr(0), b.getF32FloatAttr(v),
                                      b.getI64IntegerAttr(stream), step);
    float c = init == "ones" ? 1.0f : init == "constant" ? float(v) : 0.0f;
    return b.create<ConstantOp>(ploc, t, b.getF32FloatAttr(c));
  }

  void buildInit(OpBuilder &b, ModuleOp module) {
    Location loc = module.getLoc();
    // One argument per parameter, packed after bufferization like
    // train_step's (a flat tensor written slice by slice is a chain that
    // one-shot bufferization walks for every slice).
    SmallVector<Type> ins, rets;
    for (ParamSlot s : slots)
      ins.push_back(flat(s.size));
    rets = ins;
    ins.push_back(b.getI64Type());
    auto fn = b.create<func::FuncOp>(loc, "init", b.getFunctionType(ins, rets));
    for (auto [i, s] : llvm::enumerate(slots))
      fn.setArgAttr(i, "nn.pack", b.getDenseI64ArrayAttr({0, s.offset}));
    fn->setAttr("nn.pack_sizes", b.getDenseI64ArrayAttr({numParams}));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    Value seed = entry->getArgument(slots.size());
    SmallVector<Value> values;
    int64_t stream = 0;
    for (ParamSlot s : slots) {
      ParameterOp p = s.op;
      Location ploc = p.getLoc();
      Value value;
      if (auto streams = p.getStreams()) {
        // A stack of copies, each drawn as the parameter it is written out:
        // their streams step evenly (the verifier checks it).
        ArrayRef<int64_t> cs = *streams;
        int64_t step = cs.size() > 1 ? cs[1] - cs[0] : 1;
        value = initialValue(b, p, cs[0], b.getI64IntegerAttr(step), seed);
        stream += int64_t(cs.size());
      } else {
        value = initialValue(b, p, ++stream, IntegerAttr(), seed);
      }
      if (value.getType() != flat(s.size))
        value = b.create<ReshapeOp>(ploc, flat(s.size), value);
      values.push_back(writeInto(b, ploc, value, entry->getArgument(values.size())));
    }
    b.create<func::ReturnOp>(loc, values);
    b.setInsertionPointAfter(fn);
  }

  // @predict(params, inputs..., outputs...) and @eval_step(params, data...,
  // outputs...) -> (loss, outputs...): `forward` inlined on the sliced
  // parameters over the first `nargs` of its arguments, each output but the
  // loss written into its argument. Only eval_step (`withLoss`) computes
  // the loss, which it returns as a scalar.
  void buildInference(OpBuilder &b, func::FuncOp forward, StringRef name, unsigned nargs,
                      bool withLoss) {
    Location loc = forward.getLoc();
    auto ft = forward.getFunctionType();
    SmallVector<Type> ins{flat(numParams)};
    ins.append(ft.getInputs().begin(), ft.getInputs().begin() + nargs);
    SmallVector<Type> outs(ft.getResults().drop_front());
    ins.append(outs.begin(), outs.end());
    SmallVector<Type> rets;
    if (withLoss)
      rets.push_back(f32);
    rets.append(outs.begin(), outs.end());
    auto fn = b.create<func::FuncOp>(loc, name, b.getFunctionType(ins, rets));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    auto params = sliceParams(b, loc, entry->getArgument(0));
    SmallVector<unsigned> idx;
    for (unsigned i = withLoss ? 0 : 1; i < ft.getNumResults(); ++i)
      idx.push_back(i);
    SmallVector<Value> args(entry->getArguments().slice(1, nargs));
    SmallVector<Value> results = inlineBody(b, forward, args, params, idx, false);
    SmallVector<Value> values;
    if (withLoss)
      values.push_back(b.create<tensor::ExtractOp>(loc, results[0]));
    ArrayRef<Value> outputs = ArrayRef<Value>(results).drop_front(withLoss ? 1 : 0);
    for (auto [i, v] : llvm::enumerate(outputs))
      values.push_back(writeInto(b, loc, v, entry->getArgument(1 + nargs + i)));
    b.create<func::ReturnOp>(loc, values);
    b.setInsertionPointAfter(fn);
  }

  // Dropout masks differ from step to step and from row to row: the key
  // is the step count (hyper[1]), with the batch's first row (hyper[2], a
  // part of a batch split across processes) in the bits above 40
  // (nn.dropout).
  Value dropoutKey(OpBuilder &b, Location loc, Value hyper) {
    auto slot = [&](int64_t i) -> Value {
      return b.create<arith::FPToSIOp>(loc, b.getI64Type(), hyperSlot(b, loc, hyper, i));
    };
    Value forty = b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(40));
    return b.create<arith::OrIOp>(loc, slot(NNRT_HYPER_STEP),
                                  b.create<arith::ShLIOp>(loc, slot(NNRT_HYPER_ROW_OFFSET), forty));
  }

  // The packed arguments of the parameters and then of each optimizer state
  // copy, one per parameter (train_step's and apply_step's leading
  // arguments), and their `nn.pack` marks.
  SmallVector<Type> packedParamsAndState(SmallVectorImpl<std::pair<int64_t, int64_t>> &packs) {
    SmallVector<Type> ins;
    for (int64_t copy = 0; copy <= opt->stateSlots; ++copy)
      for (ParamSlot s : slots) {
        ins.push_back(flat(s.size));
        packs.push_back(
            {copy == 0 ? 0 : 1, copy == 0 ? s.offset : (copy - 1) * numParams + s.offset});
      }
    return ins;
  }

  Value hyperSlot(OpBuilder &b, Location loc, Value hyper, int64_t slot) {
    Value c = b.create<arith::ConstantIndexOp>(loc, slot);
    return b.create<tensor::ExtractOp>(loc, hyper, ValueRange{c});
  }

  // Each parameter's update from its gradient `gradOf(i)` times `inv` (f32,
  // or null for 1), on the packed arguments of `entry`
  // (packedParamsAndState): the new values, in argument order. The
  // gradient is clipped as torch.nn.utils.clip_grad_norm_ clips it, to the
  // global norm hyper[NNRT_HYPER_CLIP_NORM] when that is > 0; `newHyper`
  // gets `hyper` with the norm before clipping in NNRT_HYPER_GRAD_NORM
  // (the runtime's check that the gradient is finite).
  SmallVector<Value> updateAll(OpBuilder &b, Block *entry, Value hyper, Value inv,
                               function_ref<Value(size_t)> gradOf, Value &newHyper) {
    Location loc = entry->getParentOp()->getLoc();
    int64_t K = slots.size(), stateCopies = opt->stateSlots;
    SmallVector<Value> grads;
    for (auto [i, s] : llvm::enumerate(slots)) {
      Value g = gradOf(i);
      if (g.getType() != flat(s.size))
        g = b.create<ReshapeOp>(s.op.getLoc(), flat(s.size), g);
      grads.push_back(g);
    }
    Value lr = hyperSlot(b, loc, hyper, NNRT_HYPER_LR);
    Value step = hyperSlot(b, loc, hyper, NNRT_HYPER_STEP);
    Value maxNorm = hyperSlot(b, loc, hyper, NNRT_HYPER_CLIP_NORM);
    auto cf = [&](double v) { return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(v)); };
    Value norm = b.create<tensor::ExtractOp>(
        loc, b.create<GlobalNormOp>(loc, RankedTensorType::get({}, f32), grads), ValueRange{});
    if (inv)
      norm = b.create<arith::MulFOp>(loc, norm, inv);
    // clip_grad_norm_: max_norm / (norm + 1e-6), at most 1.
    Value coef = b.create<arith::MinFOp>(
        loc, b.create<arith::DivFOp>(loc, maxNorm, b.create<arith::AddFOp>(loc, norm, cf(1e-6))),
        cf(1.0));
    Value clipping = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, maxNorm, cf(0.0));
    Value scale = b.create<arith::SelectOp>(loc, clipping, coef, cf(1.0));
    if (inv)
      scale = b.create<arith::MulFOp>(loc, scale, inv);
    SmallVector<Value> values((stateCopies + 1) * K);
    for (auto [i, s] : llvm::enumerate(slots)) {
      Value p = entry->getArgument(i);
      SmallVector<Value> state;
      for (int64_t k = 1; k <= stateCopies; ++k)
        state.push_back(entry->getArgument(k * K + i));
      auto u = b.create<OptimizerUpdateOp>(s.op.getLoc(), b.getStringAttr(opt->name), p, grads[i],
                                           state, lr, step, scale, hyperAttr);
      values[i] = u.getNewParam();
      for (int64_t k = 1; k <= stateCopies; ++k)
        values[k * K + i] = u.getNewState()[k - 1];
    }
    Value at = b.create<arith::ConstantIndexOp>(loc, NNRT_HYPER_GRAD_NORM);
    newHyper = b.create<tensor::InsertOp>(loc, norm, hyper, ValueRange{at});
    return values;
  }

  // @train_step(params, optimizer state, hyper, data..., outputs...), whose
  // parameters and state are one tensor per parameter here, each marked
  // `nn.pack = [buffer, offset]`: after bufferization nnc-pack-arguments
  // makes them views of the two flat buffers of the C signature again. As
  // tensors of their own, each parameter is updated straight from its
  // gradient and returned. Through flat tensors, the gradients went into
  // one by a chain of tensor.insert_slice ops (and the updates back the same
  // way), and one-shot bufferization walked that chain for every write in
  // it: 70 s of a 12-block GPT's compile, growing with the cube of the depth.
  void buildTrainStep(OpBuilder &b, func::FuncOp forward, func::FuncOp grad) {
    Location loc = forward.getLoc();
    auto ft = forward.getFunctionType();
    int64_t P = numParams;
    SmallVector<std::pair<int64_t, int64_t>> packs; // (buffer, offset) per argument
    SmallVector<Type> ins = packedParamsAndState(packs);
    int64_t numPacked = ins.size();
    SmallVector<Type> rets(ins);
    ins.push_back(flat(NNRT_HYPER_COUNT));
    rets.push_back(flat(NNRT_HYPER_COUNT));
    ins.append(ft.getInputs().begin(), ft.getInputs().begin() + numDataArgs(forward));
    SmallVector<Type> outs(ft.getResults().drop_front());
    ins.append(outs.begin(), outs.end());
    rets.push_back(f32);
    rets.append(outs.begin(), outs.end());
    auto fn = b.create<func::FuncOp>(loc, "train_step", b.getFunctionType(ins, rets));
    for (auto [i, pk] : llvm::enumerate(packs))
      fn.setArgAttr(i, "nn.pack", b.getDenseI64ArrayAttr({pk.first, pk.second}));
    fn->setAttr("nn.pack_sizes", b.getDenseI64ArrayAttr({P, stateSize()}));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    Value hyper = entry->getArgument(numPacked);
    llvm::StringMap<Value> params = packedParams(b, loc, entry);
    unsigned nargs = numDataArgs(forward), nres = ft.getNumResults();
    SmallVector<unsigned> idx;
    for (unsigned i = 0; i < grad.getFunctionType().getNumResults(); ++i)
      idx.push_back(i);
    SmallVector<Value> args(entry->getArguments().slice(numPacked + 1, nargs));
    if (forward->hasAttr("nn.key"))
      args.push_back(dropoutKey(b, loc, hyper));
    SmallVector<Value> results = inlineBody(b, grad, args, params, idx, true);

    Value newHyper;
    SmallVector<Value> values = updateAll(
        b, entry, hyper, Value(), [&](size_t i) { return results[nres + i]; }, newHyper);
    values.push_back(newHyper);
    values.push_back(b.create<tensor::ExtractOp>(loc, results[0]));
    for (unsigned i = 1; i < nres; ++i)
      values.push_back(
          writeInto(b, loc, results[i], entry->getArgument(numPacked + 1 + nargs + i - 1)));
    b.create<func::ReturnOp>(loc, values);
    b.setInsertionPointAfter(fn);
  }

  // The loss's weight in a call (nn.loss_weight): its mean times this is
  // its weighted sum. A loss made of several (a sum of two means) is
  // weighted by the batch's example weights.
  Value lossWeight(OpBuilder &b, Location loc, Value loss, Value exampleWeights) {
    auto scalar = RankedTensorType::get({}, f32);
    if (auto ce = loss.getDefiningOp<CrossEntropyOp>())
      return b.create<LossWeightOp>(loc, scalar, ce.getWeights(), ce.getLabels());
    if (auto mse = loss.getDefiningOp<MSEOp>())
      return b.create<LossWeightOp>(loc, scalar, mse.getWeights(), Value());
    return b.create<LossWeightOp>(loc, scalar, exampleWeights, Value());
  }

  // @grad_step(params..., hyper, grads..., weight, data..., outputs...) ->
  // (grads..., weight, loss, outputs...): forward and backward without an
  // update. It adds to the gradient buffer (one packed argument per
  // parameter, then the weight at offset num_params) the gradient of the
  // loss's weighted sum over the batch, and to the weight that sum's
  // weight, and returns the weighted sum: sums over calls, batches or
  // processes then make the mean apply_step divides out.
  void buildGradStep(OpBuilder &b, func::FuncOp forward, func::FuncOp grad) {
    Location loc = forward.getLoc();
    auto ft = forward.getFunctionType();
    unsigned nargs = numDataArgs(forward), nres = ft.getNumResults();
    // Parameters as train_step takes them (one packed argument each: as
    // slices of one flat tensor, a repeat's stacked scan read them across
    // its kernels' regions), the hyperparameters, then the gradients.
    SmallVector<Type> ins;
    for (ParamSlot s : slots)
      ins.push_back(flat(s.size));
    ins.push_back(flat(NNRT_HYPER_COUNT));
    unsigned numGrads = slots.size() + 1, firstGrad = slots.size() + 1;
    for (ParamSlot s : slots)
      ins.push_back(flat(s.size));
    ins.push_back(flat(1));
    SmallVector<Type> rets(ins.begin() + firstGrad, ins.end());
    ins.append(ft.getInputs().begin(), ft.getInputs().begin() + nargs);
    SmallVector<Type> outs(ft.getResults().drop_front());
    ins.append(outs.begin(), outs.end());
    rets.push_back(f32);
    rets.append(outs.begin(), outs.end());
    auto fn = b.create<func::FuncOp>(loc, "grad_step", b.getFunctionType(ins, rets));
    for (auto [i, s] : llvm::enumerate(slots)) {
      fn.setArgAttr(i, "nn.pack", b.getDenseI64ArrayAttr({0, s.offset}));
      fn.setArgAttr(firstGrad + i, "nn.pack", b.getDenseI64ArrayAttr({1, s.offset}));
    }
    fn.setArgAttr(firstGrad + slots.size(), "nn.pack", b.getDenseI64ArrayAttr({1, numParams}));
    fn->setAttr("nn.pack_sizes", b.getDenseI64ArrayAttr({numParams, numParams + 1}));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    llvm::StringMap<Value> params = packedParams(b, loc, entry);
    Value hyper = entry->getArgument(slots.size());
    SmallVector<Value> args(entry->getArguments().slice(firstGrad + numGrads, nargs));
    Value exampleWeights = args.back();
    if (forward->hasAttr("nn.key"))
      args.push_back(dropoutKey(b, loc, hyper));
    SmallVector<unsigned> idx;
    for (unsigned i = 0; i < grad.getFunctionType().getNumResults(); ++i)
      idx.push_back(i);
    SmallVector<Value> results = inlineBody(b, grad, args, params, idx, true);
    Value weight = lossWeight(b, loc, results[0], exampleWeights);
    // grads += gradient * weight, written into the caller's buffer.
    auto addScaled = [&](Value sum, Value g, Value scale) {
      Location l = sum.getLoc();
      if (g.getType() != sum.getType())
        g = b.create<ReshapeOp>(l, sum.getType(), g);
      if (scale)
        g = b.create<MulOp>(l, g.getType(), g, scale);
      return writeInto(b, l, b.create<AddOp>(l, g.getType(), sum, g), sum);
    };
    SmallVector<Value> values;
    for (auto [i, s] : llvm::enumerate(slots))
      values.push_back(addScaled(entry->getArgument(firstGrad + i), results[nres + i], weight));
    values.push_back(addScaled(entry->getArgument(firstGrad + slots.size()), weight, Value()));
    Value sum = b.create<MulOp>(loc, weight.getType(), results[0], weight);
    values.push_back(b.create<tensor::ExtractOp>(loc, sum));
    for (unsigned i = 1; i < nres; ++i)
      values.push_back(
          writeInto(b, loc, results[i], entry->getArgument(firstGrad + numGrads + nargs + i - 1)));
    b.create<func::ReturnOp>(loc, values);
    b.setInsertionPointAfter(fn);
  }

  // @apply_step(params..., state..., hyper, grads): the optimizer update of
  // train_step from a gradient buffer as grad_step leaves it, each gradient
  // divided by the weight at its end.
  void buildApplyStep(OpBuilder &b, Location loc) {
    SmallVector<std::pair<int64_t, int64_t>> packs;
    SmallVector<Type> ins = packedParamsAndState(packs);
    int64_t numPacked = ins.size();
    SmallVector<Type> rets(ins);
    ins.push_back(flat(NNRT_HYPER_COUNT));
    rets.push_back(flat(NNRT_HYPER_COUNT));
    ins.push_back(flat(numParams + 1));
    auto fn = b.create<func::FuncOp>(loc, "apply_step", b.getFunctionType(ins, rets));
    for (auto [i, pk] : llvm::enumerate(packs))
      fn.setArgAttr(i, "nn.pack", b.getDenseI64ArrayAttr({pk.first, pk.second}));
    fn->setAttr("nn.pack_sizes", b.getDenseI64ArrayAttr({numParams, stateSize()}));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    Value hyper = entry->getArgument(numPacked), grads = entry->getArgument(numPacked + 1);
    auto slice = [&](int64_t offset, int64_t size) -> Value {
      return b.create<tensor::ExtractSliceOp>(
          loc, grads, ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(size)}, ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    };
    Value weight = b.create<tensor::ExtractOp>(
        loc, grads, ValueRange{b.create<arith::ConstantIndexOp>(loc, numParams)});
    Value inv = b.create<arith::DivFOp>(
        loc, b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(1.0f)), weight);
    Value newHyper;
    SmallVector<Value> values = updateAll(
        b, entry, hyper, inv,
        [&](size_t i) -> Value { return slice(slots[i].offset, slots[i].size); }, newHyper);
    values.push_back(newHyper);
    b.create<func::ReturnOp>(loc, values);
    b.setInsertionPointAfter(fn);
  }

  // @step(params, inputs..., states..., outputs...): one time step; the
  // states are read and written in place, the outputs written.
  void buildStep(OpBuilder &b, func::FuncOp sf) {
    Location loc = sf.getLoc();
    auto ft = sf.getFunctionType();
    unsigned numInputs = sf->getAttrOfType<IntegerAttr>("nn.num_inputs").getInt();
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
      values.push_back(
          writeInto(b, loc, results[numOutputs + i], entry->getArgument(1 + numInputs + i)));
    for (unsigned k = 0; k < numOutputs; ++k)
      values.push_back(
          writeInto(b, loc, results[k], entry->getArgument(1 + ft.getNumInputs() + k)));
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
    if (failed(resolveOptimizer(module)))
      return signalPassFailure();
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
    buildInference(b, forward, "predict", numInputsAttr.getInt(), false);
    buildInference(b, forward, "eval_step", numDataArgs(forward), true);
    buildTrainStep(b, forward, grad);
    buildGradStep(b, forward, grad);
    buildApplyStep(b, module.getLoc());
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
