#include "nnc/Dialect/NN/IR/NNDialect.h"
#include "nnc/Dialect/NN/IR/NNOps.h"

#include "mlir/Transforms/InliningUtils.h"

using namespace mlir;
using namespace nnc::nn;

#include "nnc/Dialect/NN/IR/NNDialect.cpp.inc"

namespace {
// nn ops are pure tensor ops: the entry-point pass inlines the forward and
// backward functions into each entry point so later passes see one body.
struct NNInlinerInterface : public DialectInlinerInterface {
  using DialectInlinerInterface::DialectInlinerInterface;
  bool isLegalToInline(Operation *, Region *, bool, IRMapping &) const final { return true; }
  bool isLegalToInline(Region *, Region *, bool, IRMapping &) const final { return true; }
};
} // namespace

void NNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "nnc/Dialect/NN/IR/NNOps.cpp.inc"
      >();
  addInterfaces<NNInlinerInterface>();
}
