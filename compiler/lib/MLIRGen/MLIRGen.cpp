// From the checked graph of a .nn model to the nn dialect.
#include "nnc/MLIRGen/MLIRGen.h"
#include "nnc/Dialect/NN/IR/NNOps.h"

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

  OwningOpRef<ModuleOp> run() {
    OwningOpRef<ModuleOp> module = ModuleOp::create(loc(dsl::Loc{g.file, 1, 1}));
    (*module)->setAttr("nn.model", b.getStringAttr(g.modelName));
    b.setInsertionPointToEnd(module->getBody());
    for (const dsl::Param &p : g.params)
      b.create<nn::ParameterOp>(
          loc(p.loc), b.getStringAttr(p.name),
          TypeAttr::get(tensor(p.shape, false)), b.getStringAttr(p.init),
          b.getF64FloatAttr(p.initValue), b.getI64IntegerAttr(p.fanIn),
          b.getI64IntegerAttr(p.fanOut));

    SmallVector<Type> ins, outs;
    for (const dsl::IO &io : g.inputs)
      ins.push_back(tensor(io.shape, true, io.dtype));
    for (const dsl::IO &io : g.targets)
      ins.push_back(tensor(io.shape, true, io.dtype));
    ins.push_back(tensor({}, true));
    outs.push_back(tensor({}, false));
    for (const dsl::IO &io : g.outputs)
      outs.push_back(type(io.node));
    auto fn = b.create<func::FuncOp>(loc(dsl::Loc{g.file, 1, 1}), "forward",
                                     b.getFunctionType(ins, outs));
    fn->setAttr("nn.num_inputs", b.getI64IntegerAttr(g.inputs.size()));
    fn->setAttr("nn.num_targets", b.getI64IntegerAttr(g.targets.size()));
    Block *entry = fn.addEntryBlock();
    b.setInsertionPointToStart(entry);
    weights = entry->getArguments().back();
    args = entry->getArguments();

    values.assign(g.nodes.size(), Value());
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      Value v = emit(g.nodes[i]);
      if (!v)
        return nullptr;
      values[i] = v;
    }
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
  std::vector<Value> values;
  Value weights;
  Block::BlockArgListType args;

  Location loc(const dsl::Loc &l) {
    return FileLineColLoc::get(&ctx, l.file, l.line, l.col);
  }

  RankedTensorType tensor(ArrayRef<int64_t> shape, bool batched,
                          dsl::DType dt = dsl::DType::F32) {
    SmallVector<int64_t> full;
    if (batched)
      full.push_back(batch);
    full.append(shape.begin(), shape.end());
    Type et = dt == dsl::DType::I32 ? Type(b.getI32Type()) : Type(b.getF32Type());
    return RankedTensorType::get(full, et);
  }

  RankedTensorType type(int node) {
    const dsl::Node &n = g.nodes[node];
    return tensor(n.shape, n.batched, n.dtype);
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
  Value alignBatched(Location l, int node, size_t resultRank) {
    const dsl::Node &n = g.nodes[node];
    Value v = values[node];
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
    return b.create<Op>(l, tensor(n.shape, n.batched), a, c);
  }

  template <typename Op> Value unary(const dsl::Node &n) {
    return b.create<Op>(loc(n.loc), values[n.operands[0]]);
  }

  Value matmul(const dsl::Node &n) {
    Location l = loc(n.loc);
    Value a = values[n.operands[0]], w = values[n.operands[1]];
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
    Value r = b.create<nn::MatMulOp>(
        l, RankedTensorType::get({rows, cols}, b.getF32Type()), a2, w);
    return reshape(l, r, type(&n - &g.nodes[0]).getShape());
  }

  // Losses average over every row of every batch element: logits [B, ..., C]
  // become [rows, C] with each example's weight repeated over its rows.
  Value rowWeights(Location l, int64_t rows) {
    if (rows == batch)
      return weights;
    Value w = reshape(l, weights, {batch, 1});
    w = b.create<nn::BroadcastToOp>(
        l, RankedTensorType::get({batch, rows / batch}, b.getF32Type()), w);
    return reshape(l, w, {rows});
  }

  Value crossEntropy(const dsl::Node &n) {
    Location l = loc(n.loc);
    Value logits = values[n.operands[0]], labels = values[n.operands[1]];
    auto lt = logits.getType().cast<RankedTensorType>();
    int64_t c = lt.getShape().back(), rows = lt.getNumElements() / c;
    if (!g.nodes[n.operands[0]].batched) {
      emitError(l) << "cross_entropy: the logits must depend on the input";
      return nullptr;
    }
    Value l2 = reshape(l, logits, {rows, c});
    auto yt = RankedTensorType::get({rows}, b.getI32Type());
    if (labels.getType() != yt)
      labels = b.create<tensor::CollapseShapeOp>(
          l, yt, labels,
          SmallVector<ReassociationIndices>{ReassociationIndices(
              llvm::to_vector(llvm::seq<int64_t>(
                  0, labels.getType().cast<RankedTensorType>().getRank())))});
    return b.create<nn::CrossEntropyOp>(l, tensor({}, false), l2, labels,
                                        rowWeights(l, rows));
  }

  Value mse(const dsl::Node &n) {
    Location l = loc(n.loc);
    Value p = values[n.operands[0]], t = values[n.operands[1]];
    if (!g.nodes[n.operands[0]].batched || p.getType() != t.getType()) {
      emitError(l) << "mse: prediction and target must be batched values of "
                      "the same shape";
      return nullptr;
    }
    return b.create<nn::MSEOp>(l, tensor({}, false), p, t, weights);
  }

  Value emit(const dsl::Node &n) {
    Location l = loc(n.loc);
    switch (n.op) {
    case OpKind::Param:
      return b.create<nn::ParamOp>(l, type(&n - &g.nodes[0]),
                                   g.params[n.paramIndex].name);
    case OpKind::Input:
      return args[n.ioIndex];
    case OpKind::Target:
      return args[g.inputs.size() + n.ioIndex];
    case OpKind::Constant:
      return b.create<nn::ConstantOp>(l, tensor(n.shape, n.batched),
                                      b.getF32FloatAttr(float(n.value)));
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
    case OpKind::Neg:
      return unary<nn::NegOp>(n);
    case OpKind::Relu:
      return unary<nn::ReluOp>(n);
    case OpKind::Sigmoid:
      return unary<nn::SigmoidOp>(n);
    case OpKind::Tanh:
      return unary<nn::TanhOp>(n);
    case OpKind::Exp:
      return unary<nn::ExpOp>(n);
    case OpKind::Log:
      return unary<nn::LogOp>(n);
    case OpKind::Sqrt:
      return unary<nn::SqrtOp>(n);
    case OpKind::Softmax:
      return unary<nn::SoftmaxOp>(n);
    case OpKind::LogSoftmax:
      return unary<nn::LogSoftmaxOp>(n);
    case OpKind::CrossEntropy:
      return crossEntropy(n);
    case OpKind::MSE:
      return mse(n);
    }
    emitError(l) << "internal error: unknown graph op";
    return nullptr;
  }
};

} // namespace

OwningOpRef<ModuleOp> nnc::generateNN(MLIRContext &ctx, const dsl::Graph &graph,
                                      int64_t batch) {
  ctx.loadDialect<nn::NNDialect, func::FuncDialect, tensor::TensorDialect>();
  return Generator(ctx, graph, batch).run();
}
