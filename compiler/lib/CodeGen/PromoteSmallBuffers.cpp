// Small intermediate buffers live on the stack instead of the heap.
#include "nnc/Conversion/Passes.h"

#include "mlir/IR/Builders.h"

namespace nnc {
#define GEN_PASS_DEF_PROMOTESMALLBUFFERS
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {
struct PromoteSmallBuffersPass
    : public nnc::impl::PromoteSmallBuffersBase<PromoteSmallBuffersPass> {
  using PromoteSmallBuffersBase::PromoteSmallBuffersBase;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fn.isExternal())
      return;
    SmallVector<memref::AllocOp> allocs;
    fn.walk([&](memref::AllocOp a) { allocs.push_back(a); });
    Block &entry = fn.getBody().front();
    OpBuilder b(&getContext());
    b.setInsertionPointToStart(&entry);
    int64_t total = 0;
    for (memref::AllocOp a : allocs) {
      MemRefType t = a.getType();
      if (!t.hasStaticShape() || !t.getLayout().isIdentity() ||
          !t.getElementType().isIntOrFloat())
        continue;
      int64_t bytes = t.getNumElements() * t.getElementTypeBitWidth() / 8;
      if (bytes > maxBytes || total + bytes > maxTotalBytes)
        continue;
      // A buffer made in a loop that threads share (a packed strip of a
      // matrix product) is one per thread and iteration: one buffer in the
      // frame would be shared by all threads.
      bool inParallel = false;
      for (Operation *p = a->getParentOp(); p && p != fn; p = p->getParentOp())
        inParallel |= p->hasAttr("nnc.parallel");
      if (inParallel)
        continue;
      // A buffer that leaves the function must outlive its frame.
      if (llvm::any_of(a->getUsers(),
                       [](Operation *u) { return isa<func::ReturnOp>(u); }))
        continue;
      total += bytes;
      auto alloca = b.create<memref::AllocaOp>(a.getLoc(), t, a.getAlignmentAttr());
      for (Operation *u : llvm::make_early_inc_range(a->getUsers()))
        if (isa<memref::DeallocOp>(u))
          u->erase();
      a.replaceAllUsesWith(alloca.getResult());
      a.erase();
    }
  }
};
} // namespace

std::unique_ptr<Pass> nnc::createPromoteSmallBuffersPass() {
  return std::make_unique<PromoteSmallBuffersPass>();
}
