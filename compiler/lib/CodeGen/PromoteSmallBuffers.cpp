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
      if (!t.hasStaticShape() || !t.getLayout().isIdentity() || !t.getElementType().isIntOrFloat())
        continue;
      int64_t bytes = t.getNumElements() * t.getElementTypeBitWidth() / 8;
      if (bytes > maxBytes || total + bytes > maxTotalBytes)
        continue;
      // A buffer made in a loop that threads share (a packed strip of a
      // matrix product) is one per thread and iteration: one buffer in the
      // frame would be shared by all threads.
      bool inParallel = false;
      for (Operation *p = a->getParentOp(); p && p != fn; p = p->getParentOp())
        inParallel |= p->hasAttr(nnc::kParallelAttr);
      if (inParallel)
        continue;
      // A buffer that leaves the function must outlive its frame.
      if (llvm::any_of(a->getUsers(), [](Operation *u) { return isa<func::ReturnOp>(u); }))
        continue;
      total += bytes;
      // Bytes on the stack, viewed as the buffer's type: MLIR 16 lowers a
      // memref.alloca<...xf32> to an llvm.alloca of its size in bytes
      // counted in f32 elements, four times the space (a train_step's 2 MiB
      // of buffers took 8 MiB of stack, the whole of a main thread's).
      auto raw = b.create<memref::AllocaOp>(a.getLoc(), MemRefType::get({bytes}, b.getI8Type()),
                                            a.getAlignmentAttr());
      Value zero = b.create<arith::ConstantIndexOp>(a.getLoc(), 0);
      auto view = b.create<memref::ViewOp>(a.getLoc(), t, raw, zero, ValueRange{});
      for (Operation *u : llvm::make_early_inc_range(a->getUsers()))
        if (isa<memref::DeallocOp>(u))
          u->erase();
      a.replaceAllUsesWith(view.getResult());
      a.erase();
    }
  }
};
} // namespace

std::unique_ptr<Pass> nnc::createPromoteSmallBuffersPass() {
  return std::make_unique<PromoteSmallBuffersPass>();
}
