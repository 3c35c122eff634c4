// Generator.h: the generator of MLIRGen (private to compiler/lib/MLIRGen):
// it walks the checked graph of a .nn model and builds the nn dialect,
// one method per kind of node. Scans and repeats are in ScanGen.cpp.
#pragma once

#include "nnc/Dialect/NN/IR/NNOps.h"
#include "nnc/MLIRGen/MLIRGen.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

#include <functional>
#include <map>

namespace nnc::mlirgen {

using namespace mlir;
using dsl::OpKind;

class Generator {
public:
  Generator(MLIRContext &ctx, const dsl::Graph &g, int64_t batch)
      : ctx(ctx), g(g), batch(batch), b(&ctx) {}

  // The module with @forward and the model's parameters (MLIRGen.cpp).
  OwningOpRef<ModuleOp> run();
  // @step_forward in `module`, from this (one-step) graph.
  bool runStep(ModuleOp module);

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
  // The nn.scan of each Repeat node (RepeatOutput nodes read its results).
  std::map<const dsl::Node *, nn::ScanOp> repeats;
  // The stack and index of each copy of a stacked parameter, by name.
  llvm::StringMap<std::pair<nn::ParameterOp, int64_t>> stackOf;

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
                 std::function<Value(const dsl::Node &)> leafFn, bool skipLoss = false);
  Value reshape(Location l, Value v, ArrayRef<int64_t> shape);
  Value alignBatched(Location l, int i, size_t resultRank);

  template <typename Op> Value binary(const dsl::Node &n) {
    Location l = loc(n.loc);
    Value a = alignBatched(l, n.operands[0], n.shape.size());
    Value c = alignBatched(l, n.operands[1], n.shape.size());
    return b.create<Op>(l, typeOf(n), a, c);
  }

  template <typename Op> Value unary(const dsl::Node &n) {
    return b.create<Op>(loc(n.loc), value(n.operands[0]));
  }

  Value matmul(const dsl::Node &n);
  Value rowWeights(Location l, int64_t rows);
  Value crossEntropy(const dsl::Node &n);
  Value mse(const dsl::Node &n);
  Value concat(const dsl::Node &n);

  // Attention shape primitives (issue 4).

  Value batchedOperand(const dsl::Node &n, int i);
  int swappedLastTwo(int i);
  Value batchMatmul(const dsl::Node &n);
  Value transpose(const dsl::Node &n);
  Value position(Location l, int i);

  // Transformer primitives (issue 4).

  // The axis is stored counted from the end, the same in the per-example and
  // the batched shape; the default (-1) is left implicit.
  template <typename Op> Value softmax(const dsl::Node &n) {
    return b.create<Op>(loc(n.loc), value(n.operands[0]),
                        n.axis == -1 ? IntegerAttr() : b.getI64IntegerAttr(n.axis));
  }

  Value mask(const dsl::Node &n);
  Value dropout(const dsl::Node &n);

  // Scans and repeats (ScanGen.cpp).
  Value scan(const dsl::Node &n);
  Value repeat(const dsl::Node &n);
  Value swapFirstAxes(Location l, Value v);
  void declareParameters(ModuleOp module);
  void findStacks(ModuleOp module);
  Value readParam(Location l, int index);
  Value stack(Location l, ArrayRef<int> params);
  // One node of the graph as nn ops (MLIRGen.cpp).
  Value emit(const dsl::Node &n);
};

} // namespace nnc::mlirgen
