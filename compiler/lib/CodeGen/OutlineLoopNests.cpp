// Splits a function with many loop nests into parts, each its own function.
//
// A model's train_step is one function with every loop of the forward and
// backward pass in sequence: thousands of basic blocks for the tiny GPT.
// LLVM's IndVarSimplify asks ScalarEvolution, for every loop, which branch
// conditions guard its entry, and ScalarEvolution answers by walking the
// chain of predecessors back to the function entry: time quadratic in the
// number of loops. On the tiny GPT's train_step (3,960 blocks) that pass
// took 11 s of `opt -O3`, against 0.7 s for predict (1,211 blocks). In parts
// of a bounded number of loops the walks are short.
#include "nnc/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetVector.h"

namespace nnc {
#define GEN_PASS_DEF_OUTLINELOOPNESTS
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

// Ops that define buffers or views of them stay in the caller, ahead of
// the part that uses them: the stack frame and the heap blocks belong to
// the function, and a strided view is not a valid argument under the
// bare-pointer calling convention (the part rebuilds it from its base).
bool staysBefore(Operation *op) {
  return isa<memref::AllocOp, memref::AllocaOp, memref::GetGlobalOp, ViewLikeOpInterface>(op) ||
         op->hasTrait<OpTrait::ConstantLike>();
}

// Ops the part may recompute from their operands instead of receiving
// their results: constants and views.
bool clonable(Operation *op) {
  return op && staysBefore(op) && !isa<memref::AllocOp, memref::AllocaOp>(op);
}

// A value the part can take as an argument: a scalar, a vector, or a
// statically shaped buffer with the identity layout.
bool passable(Type t) {
  if (auto m = t.dyn_cast<MemRefType>())
    return m.hasStaticShape() && m.getLayout().isIdentity();
  return t.isIntOrIndexOrFloat() || t.isa<VectorType>();
}

int64_t loopsIn(Operation *op) {
  int64_t n = 0;
  op->walk([&](Operation *o) { n += o->getNumRegions() > 0; });
  return n;
}

struct OutlineLoopNestsPass
    : public nnc::impl::OutlineLoopNestsBase<OutlineLoopNestsPass> {
  using OutlineLoopNestsBase::OutlineLoopNestsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> fns;
    for (auto fn : module.getOps<func::FuncOp>())
      if (!fn.isExternal() && fn.getBody().hasOneBlock())
        fns.push_back(fn);
    for (func::FuncOp fn : fns)
      if (loopsIn(fn) >= minLoops)
        split(fn);
  }

  void split(func::FuncOp fn) {
    Block &body = fn.getBody().front();
    SmallVector<Operation *> part;
    int64_t loops = 0, count = 0;
    auto flush = [&] {
      if (!part.empty())
        outline(fn, part, count++);
      part.clear();
      loops = 0;
    };
    for (Operation &op : llvm::make_early_inc_range(body.without_terminator())) {
      bool usesPart = llvm::any_of(op.getOperands(), [&](Value v) {
        return llvm::is_contained(part, v.getDefiningOp());
      });
      if (isa<memref::DeallocOp>(op) || (staysBefore(&op) && !usesPart))
        continue; // moved around the call when the part is outlined
      if (staysBefore(&op))
        flush(); // a view of something the part computes: after its call
      part.push_back(&op);
      loops += loopsIn(&op);
      if (loops >= loopsPerPart)
        flush();
    }
    flush();
  }

  // Moves `ops` (in order, in fn's block) into a new function called where
  // the first of them was; buffers and views they use are defined before
  // the call, buffers they free are freed after it.
  void outline(func::FuncOp fn, ArrayRef<Operation *> ops, int64_t index) {
    if (llvm::none_of(ops, [](Operation *op) { return op->getNumRegions() > 0; }))
      return;
    llvm::SmallPtrSet<Operation *, 32> inPart(ops.begin(), ops.end());
    Block *block = ops.front()->getBlock();
    // Whether `op` is one of the part's ops or nested in one.
    auto inPartTree = [&](Operation *op) {
      Operation *top = block->findAncestorOpInBlock(*op);
      return top && inPart.count(top);
    };
    auto definedInPart = [&](Value v) {
      Operation *d = v.getDefiningOp();
      return inPartTree(d ? d : v.getParentBlock()->getParentOp());
    };
    // Values from outside become arguments; constants, and views that are
    // not plain buffers, are recomputed inside from their operands.
    llvm::SetVector<Value> args;
    llvm::SetVector<Operation *> clones;
    std::function<bool(Value)> capture = [&](Value v) {
      if (definedInPart(v))
        return true;
      Operation *d = v.getDefiningOp();
      if (clonable(d) && d->getNumOperands() == 0) {
        clones.insert(d);
        return true;
      }
      if (passable(v.getType())) {
        args.insert(v);
        return true;
      }
      if (!clonable(d) || !llvm::all_of(d->getOperands(), capture))
        return false;
      clones.insert(d);
      return true;
    };
    bool ok = true;
    for (Operation *op : ops)
      op->walk([&](Operation *o) {
        for (Value v : o->getOperands())
          ok &= capture(v);
      });
    // Results used after the part.
    llvm::SetVector<Value> results;
    for (Operation *op : ops)
      for (Value r : op->getResults())
        if (!llvm::all_of(r.getUsers(), inPartTree))
          results.insert(r);
    for (Value r : results)
      ok &= passable(r.getType());
    if (!ok)
      return; // left in place: correct, only slower to compile

    // The buffers and views the part reads, ahead of its first op; the
    // frees of buffers it uses, after its last.
    // `split` left only those two kinds between the part's ops.
    Operation *first = ops.front(), *last = ops.back();
    for (Operation &op : llvm::make_early_inc_range(
             llvm::make_range(first->getIterator(), last->getIterator())))
      if (!inPart.count(&op))
        isa<memref::DeallocOp>(op) ? op.moveAfter(last) : op.moveBefore(first);

    OpBuilder b(fn);
    SmallVector<Type> argTypes, resultTypes;
    for (Value v : args)
      argTypes.push_back(v.getType());
    for (Value v : results)
      resultTypes.push_back(v.getType());
    std::string name = (fn.getName() + "_part" + std::to_string(index)).str();
    auto callee = b.create<func::FuncOp>(fn.getLoc(), name,
                                         b.getFunctionType(argTypes, resultTypes));
    callee.setPrivate();
    // Internal, so that two models' parts never collide in one program; not
    // inlined, or LLVM would rebuild the long function at once.
    callee->setAttr("llvm.linkage",
                    LLVM::LinkageAttr::get(b.getContext(), LLVM::Linkage::Internal));
    callee->setAttr("passthrough", b.getArrayAttr({b.getStringAttr("noinline")}));
    Block *entry = callee.addEntryBlock();
    IRMapping map;
    for (auto [v, a] : llvm::zip(args, entry->getArguments()))
      map.map(v, a);
    OpBuilder in = OpBuilder::atBlockEnd(entry);
    // Clones in dependency order: a view's operands before the view.
    SmallVector<Operation *> ordered(clones.begin(), clones.end());
    llvm::sort(ordered, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
    for (Operation *c : ordered)
      in.clone(*c, map);
    for (Operation *op : ops)
      in.clone(*op, map);
    SmallVector<Value> returned;
    for (Value r : results)
      returned.push_back(map.lookup(r));
    in.create<func::ReturnOp>(fn.getLoc(), returned);

    OpBuilder at(first);
    auto call = at.create<func::CallOp>(first->getLoc(), callee, args.getArrayRef());
    for (auto [r, n] : llvm::zip(results, call.getResults()))
      r.replaceAllUsesWith(n);
    for (Operation *op : llvm::reverse(ops))
      op->erase();
  }
};

} // namespace

std::unique_ptr<Pass> nnc::createOutlineLoopNestsPass() {
  return std::make_unique<OutlineLoopNestsPass>();
}
