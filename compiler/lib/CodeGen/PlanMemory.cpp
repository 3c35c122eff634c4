// The memory plan: every statically shaped temporary of an entry point gets
// an offset in one workspace, assigned by liveness at compile time.
//
// Without it a training step allocates and frees a few hundred buffers, and
// any the allocator's cache cannot keep are faulted in (and zeroed by the
// kernel) again on every step. With it a step allocates nothing: the caller
// passes a workspace of `nn.workspace_bytes` once per model instance, and
// every call reuses it (XLA's buffer assignment, llm.c's activation arena).
#include "nnc/Conversion/Passes.h"

#include "mlir/IR/Builders.h"

#include <algorithm>
#include <climits>

namespace nnc {
#define GEN_PASS_DEF_PLANMEMORY
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

constexpr int64_t kAlign = 64;

int64_t alignUp(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// One buffer of the plan: `slots` copies of `bytes` (one per iteration of a
// parallel loop it is made in), live over top-level ops [first, last].
struct Buffer {
  memref::AllocOp alloc;
  scf::ParallelOp perIteration; // null: one copy
  int64_t bytes = 0, slots = 1;
  int first = 0, last = 0;
  int64_t offset = -1;
  int64_t span() const { return alignUp(bytes) * slots; }
};

Operation *topLevel(Operation *op, Block &entry) { return entry.findAncestorOpInBlock(*op); }

// Trip count of a one-dimensional parallel loop with constant bounds; 0 when
// it is not one.
int64_t tripCount(scf::ParallelOp p) {
  if (p.getNumLoops() != 1)
    return 0;
  auto lb = getConstantIntValue(p.getLowerBound()[0]);
  auto ub = getConstantIntValue(p.getUpperBound()[0]);
  auto st = getConstantIntValue(p.getStep()[0]);
  if (!lb || !ub || !st || *st <= 0 || *ub <= *lb)
    return 0;
  return (*ub - *lb + *st - 1) / *st;
}

// The buffer `a` becomes in the plan, or nothing when it must stay an
// allocation of its own: a dynamic or strided shape, no dealloc (it leaves
// the function), or made inside parallel loops we cannot give each
// iteration its own slot of.
std::optional<Buffer> describe(memref::AllocOp a, Block &entry,
                               const DenseMap<Operation *, int> &pos) {
  MemRefType t = a.getType();
  if (!t.hasStaticShape() || !t.getLayout().isIdentity() || !t.getElementType().isIntOrFloat())
    return std::nullopt;
  Buffer b;
  b.alloc = a;
  b.bytes = t.getNumElements() * t.getElementTypeBitWidth() / 8;
  for (Operation *p = a->getParentOp(); p && !isa<func::FuncOp>(p); p = p->getParentOp())
    if (auto par = dyn_cast<scf::ParallelOp>(p)) {
      if (b.perIteration || !(b.slots = tripCount(par)))
        return std::nullopt;
      b.perIteration = par;
    }
  // Its life runs from the first to the last use of the buffer or of any
  // value that may alias it (a view, or any op result of memref type made
  // from it). Neither the allocation, which buffer-hoisting moved to the top
  // of the function, nor the dealloc, which MLIR 16's buffer-deallocation
  // puts at the end, says when the buffer is really in use.
  Operation *top = topLevel(a, entry);
  if (!top)
    return std::nullopt;
  b.first = INT_MAX;
  b.last = pos.lookup(top);
  bool freed = false;
  SmallVector<Value> values{a.getResult()};
  DenseSet<Value> seen;
  while (!values.empty()) {
    Value v = values.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    for (Operation *u : v.getUsers()) {
      if (isa<func::ReturnOp, scf::YieldOp>(u))
        return std::nullopt;
      if (isa<memref::DeallocOp>(u)) {
        freed = true;
        continue;
      }
      int at = pos.lookup(topLevel(u, entry));
      b.first = std::min(b.first, at);
      b.last = std::max(b.last, at);
      for (Value r : u->getResults())
        if (r.getType().isa<BaseMemRefType>())
          values.push_back(r);
    }
  }
  if (b.first == INT_MAX)
    b.first = b.last;
  if (!freed)
    return std::nullopt;
  return b;
}

// Offsets by greedy best fit, largest buffers first: each buffer takes the
// lowest gap between the buffers already placed whose lives overlap its own.
int64_t assignOffsets(std::vector<Buffer> &bufs) {
  std::vector<Buffer *> order;
  for (Buffer &b : bufs)
    order.push_back(&b);
  std::stable_sort(order.begin(), order.end(), [](Buffer *x, Buffer *y) {
    return x->span() != y->span() ? x->span() > y->span() : x->first < y->first;
  });
  std::vector<Buffer *> placed;
  int64_t total = 0;
  for (Buffer *b : order) {
    std::vector<Buffer *> live;
    for (Buffer *p : placed)
      if (p->first <= b->last && b->first <= p->last)
        live.push_back(p);
    std::sort(live.begin(), live.end(), [](Buffer *x, Buffer *y) { return x->offset < y->offset; });
    int64_t at = 0;
    for (Buffer *p : live) {
      if (p->offset - at >= b->span())
        break;
      at = std::max(at, p->offset + p->span());
    }
    b->offset = at;
    total = std::max(total, at + b->span());
    placed.push_back(b);
  }
  return total;
}

// The workspace inside the function: the caller's, or (when the caller
// passed NULL) one allocated for this call and freed before each return.
Value workspaceOf(func::FuncOp fn, BlockArgument arg, MemRefType wsType) {
  Block &entry = fn.getBody().front();
  Location loc = fn.getLoc();
  OpBuilder b = OpBuilder::atBlockBegin(&entry);
  Value ptr = b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, arg);
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value isNull = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, ptr, zero);
  auto pick = b.create<scf::IfOp>(loc, TypeRange{wsType}, isNull, /*withElseRegion=*/true);
  OpBuilder t = pick.getThenBodyBuilder();
  Value own = t.create<memref::AllocOp>(loc, wsType, t.getI64IntegerAttr(kAlign));
  t.create<scf::YieldOp>(loc, own);
  pick.getElseBodyBuilder().create<scf::YieldOp>(loc, Value(arg));
  Value ws = pick.getResult(0);
  fn.walk([&](func::ReturnOp ret) {
    OpBuilder r(ret);
    r.create<scf::IfOp>(loc, isNull, [&](OpBuilder &t, Location l) {
      t.create<memref::DeallocOp>(l, ws);
      t.create<scf::YieldOp>(l);
    });
  });
  return ws;
}

// Replaces the buffer's allocation by a view of the workspace at its offset
// (per iteration: the slot of the parallel loop's iteration).
void rewrite(Buffer &buf, Value ws) {
  memref::AllocOp a = buf.alloc;
  OpBuilder b(a);
  Location loc = a.getLoc();
  Value offset;
  if (scf::ParallelOp par = buf.perIteration) {
    // The loop's slots are one byte range, a view made ahead of the loop:
    // inside, only the slot's place in that range, so that the same loop
    // planned at another offset is the same code (nnc-outline-kernels).
    Block &entry = par->getParentOfType<func::FuncOp>().getBody().front();
    OpBuilder top(topLevel(par, entry));
    auto regionType =
        MemRefType::get({buf.span()}, ws.getType().cast<MemRefType>().getElementType());
    ws = top.create<memref::ViewOp>(
        loc, regionType, ws, top.create<arith::ConstantIndexOp>(loc, buf.offset), ValueRange{});
    Value iv = par.getInductionVars()[0];
    Value lb = par.getLowerBound()[0], step = par.getStep()[0];
    Value slot = b.create<arith::DivUIOp>(loc, b.create<arith::SubIOp>(loc, iv, lb), step);
    Value stride = b.create<arith::ConstantIndexOp>(loc, alignUp(buf.bytes));
    offset = b.create<arith::MulIOp>(loc, slot, stride);
  } else {
    // A view at a constant offset is made at the top level, ahead of the
    // loop the buffer may be made in: the loop gets a buffer, not the whole
    // workspace and an offset (nnc-outline-kernels).
    Block &entry = a->getParentOfType<func::FuncOp>().getBody().front();
    b.setInsertionPoint(topLevel(a, entry));
    offset = b.create<arith::ConstantIndexOp>(loc, buf.offset);
  }
  auto view = b.create<memref::ViewOp>(loc, a.getType(), ws, offset, ValueRange{});
  for (Operation *u : llvm::make_early_inc_range(a->getUsers()))
    if (isa<memref::DeallocOp>(u))
      u->erase();
  a.replaceAllUsesWith(view.getResult());
  a.erase();
}

// Plans one function; returns its workspace bytes.
int64_t planFunction(func::FuncOp fn) {
  Block &entry = fn.getBody().front();
  DenseMap<Operation *, int> pos;
  int i = 0;
  for (Operation &op : entry)
    pos[&op] = i++;
  std::vector<Buffer> bufs;
  fn.walk([&](memref::AllocOp a) {
    if (auto b = describe(a, entry, pos))
      bufs.push_back(*b);
  });
  int64_t total = assignOffsets(bufs);
  auto wsType =
      MemRefType::get({std::max<int64_t>(total, kAlign)}, IntegerType::get(fn.getContext(), 8));
  fn.insertArgument(fn.getNumArguments(), wsType, {}, fn.getLoc());
  if (bufs.empty())
    return 0;
  Value ws = workspaceOf(fn, fn.getArgument(fn.getNumArguments() - 1), wsType);
  for (Buffer &b : bufs)
    rewrite(b, ws);
  return total;
}

struct PlanMemoryPass : public nnc::impl::PlanMemoryBase<PlanMemoryPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t most = 0;
    for (auto fn : module.getOps<func::FuncOp>())
      if (!fn.isExternal() && fn->hasAttr("nn.workspace"))
        most = std::max(most, planFunction(fn));
    module->setAttr("nn.workspace_bytes",
                    IntegerAttr::get(IntegerType::get(&getContext(), 64), most));
  }
};

} // namespace

std::unique_ptr<Pass> nnc::createPlanMemoryPass() { return std::make_unique<PlanMemoryPass>(); }
