// Tensors of their own while the compiler works, views of one flat buffer
// for the caller.
//
// nn-generate-entry-points gives train_step one argument per parameter (and
// per parameter's optimizer state), marked `nn.pack = [buffer, offset]`, so
// that bufferization never sees a flat tensor assembled slice by slice. The
// C signature takes the parameters and the optimizer state as two flat
// buffers; this pass, after bufferization, puts them back: each group
// becomes one byte buffer in the place of its first member, and each member
// a `memref.view` of it at its offset.
#include "nnc/Conversion/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/BitVector.h"

#include <map>

namespace nnc {
#define GEN_PASS_DEF_PACKARGUMENTS
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

LogicalResult pack(func::FuncOp fn) {
  auto sizes = fn->getAttrOfType<DenseI64ArrayAttr>("nn.pack_sizes");
  if (!sizes)
    return success();
  if (fn.getNumResults() &&
      llvm::any_of(fn.getResultTypes(), [](Type t) { return t.isa<BaseMemRefType>(); }))
    return fn.emitError("internal error: a packed argument of '")
           << fn.getSymName() << "' is not updated in place";
  // Members of each group, in argument order: (argument, element offset).
  std::map<int64_t, SmallVector<std::pair<BlockArgument, int64_t>>> groups;
  for (BlockArgument arg : fn.getArguments())
    if (auto p = fn.getArgAttrOfType<DenseI64ArrayAttr>(arg.getArgNumber(), "nn.pack")) {
      if (p.size() != 2 || p[0] < 0 || p[0] >= sizes.size())
        return fn.emitError("internal error: malformed nn.pack on argument ") << arg.getArgNumber();
      groups[p[0]].push_back({arg, p[1]});
    }
  OpBuilder b = OpBuilder::atBlockBegin(&fn.getBody().front());
  // Last group first: inserting an argument moves only those after it.
  for (auto &[group, members] : llvm::reverse(groups)) {
    auto first = members.front().first.getType().cast<MemRefType>();
    int64_t elt = first.getElementTypeBitWidth() / 8;
    unsigned at = members.front().first.getArgNumber();
    fn.insertArgument(at, MemRefType::get({sizes[group] * elt}, b.getI8Type()), {}, fn.getLoc());
    Value flat = fn.getArgument(at);
    for (auto [old, offset] : members) {
      auto t = old.getType().cast<MemRefType>();
      Value shift = b.create<arith::ConstantIndexOp>(fn.getLoc(), offset * elt);
      old.replaceAllUsesWith(b.create<memref::ViewOp>(fn.getLoc(), t, flat, shift, ValueRange{}));
    }
  }
  llvm::BitVector erase(fn.getNumArguments());
  for (auto &[group, members] : groups)
    for (auto [old, offset] : members)
      erase.set(old.getArgNumber());
  fn.eraseArguments(erase);
  fn->removeAttr("nn.pack_sizes");
  return success();
}

struct PackArgumentsPass : public nnc::impl::PackArgumentsBase<PackArgumentsPass> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (failed(pack(fn)))
        return signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> nnc::createPackArgumentsPass() {
  return std::make_unique<PackArgumentsPass>();
}
