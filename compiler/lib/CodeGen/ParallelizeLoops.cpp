// Runs the tile loops of large matrix products, and large elementwise ops
// split by rows, on several threads.
#include "nnc/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace nnc {
#define GEN_PASS_DEF_PARALLELIZELOOPS
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

// Elementwise ops (every loop parallel) of at least this many elements are
// split by rows between threads: an LSTM's gate arithmetic on [128, 150] is
// ~10 us, a thread wake-up a few.
constexpr int64_t kMinParallelElements = 16384;
// Copies (the body only yields its inputs: transposes, the key cache read
// as [H, D, S] in a generation step) do no arithmetic: 16384 floats move in
// about the time it takes to wake a thread, so they need more elements.
constexpr int64_t kMinParallelCopyElements = 4 * kMinParallelElements;
// Row chunks per op: enough for a static schedule to balance 2 to 8 threads.
constexpr int64_t kChunks = 8;

// Row reductions (softmax and layer_norm statistics, their gradients: the
// reduced dimensions last, the first loop parallel) split the same way: each
// chunk of rows writes its own rows of the result.
void parallelizeElementwise(func::FuncOp fn) {
  SmallVector<linalg::LinalgOp> ops;
  fn.walk([&](linalg::LinalgOp op) {
    if (!op.hasBufferSemantics() || op.getNumLoops() == 0 ||
        !linalg::isParallelIterator(op.getIteratorTypesArray()[0]) ||
        op->getParentOfType<scf::ParallelOp>())
      return;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t n = 1;
    for (int64_t r : ranges) {
      if (ShapedType::isDynamic(r))
        return;
      n *= r;
    }
    Block *body = op.getBlock();
    bool copy = llvm::hasSingleElement(*body) &&
                llvm::all_of(body->getTerminator()->getOperands(), [&](Value v) {
                  auto arg = v.dyn_cast<BlockArgument>();
                  return arg && arg.getOwner() == body &&
                         arg.getArgNumber() < unsigned(op.getNumDpsInputs());
                });
    if (n >= (copy ? kMinParallelCopyElements : kMinParallelElements) && ranges[0] >= 2)
      ops.push_back(op);
  });
  IRRewriter rw(fn.getContext());
  for (linalg::LinalgOp op : ops) {
    int64_t rows = op.getStaticLoopRanges()[0];
    SmallVector<int64_t> tiles(op.getNumLoops(), 0);
    tiles[0] = (rows + kChunks - 1) / kChunks;
    linalg::LinalgTilingOptions options;
    options.setTileSizes(tiles).setLoopType(linalg::LinalgTilingLoopType::ParallelLoops);
    rw.setInsertionPoint(op);
    if (succeeded(linalg::tileLinalgOp(rw, op, options)))
      rw.eraseOp(op);
  }
}

// `loop` as an scf.parallel in its place.
void makeParallel(scf::ForOp loop) {
  OpBuilder b(loop);
  auto par = b.create<scf::ParallelOp>(loop.getLoc(), ValueRange{loop.getLowerBound()},
                                       ValueRange{loop.getUpperBound()}, ValueRange{loop.getStep()},
                                       [](OpBuilder &, Location, ValueRange) {});
  Block *body = par.getBody();
  IRMapping map;
  map.map(loop.getInductionVar(), body->getArgument(0));
  OpBuilder inner = OpBuilder::atBlockBegin(body);
  for (Operation &op : loop.getBody()->without_terminator())
    inner.clone(op, map);
  loop.erase();
}

// `loop` on the threads when omp_get_max_threads() > 1, else as it is.
void makeParallelIfThreads(scf::ForOp loop, func::FuncOp maxThreads) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  Value n = b.create<func::CallOp>(loc, maxThreads, ValueRange{}).getResult(0);
  Value one = b.create<arith::ConstantIntOp>(loc, 1, 32);
  Value several = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, n, one);
  auto branch = b.create<scf::IfOp>(loc, several, /*withElseRegion=*/true);
  OpBuilder thenB = branch.getThenBodyBuilder();
  auto onThreads = cast<scf::ForOp>(thenB.clone(*loop.getOperation()));
  OpBuilder elseB = branch.getElseBodyBuilder();
  elseB.clone(*loop.getOperation());
  loop.erase();
  makeParallel(onThreads);
}

// The OpenMP runtime's thread count, declared once in the module.
func::FuncOp maxThreadsFunc(ModuleOp module) {
  constexpr llvm::StringLiteral name = "omp_get_max_threads";
  if (auto f = module.lookupSymbol<func::FuncOp>(name))
    return f;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto f = b.create<func::FuncOp>(module.getLoc(), name, b.getFunctionType({}, {b.getI32Type()}));
  f.setPrivate();
  return f;
}

struct ParallelizeLoopsPass : public nnc::impl::ParallelizeLoopsBase<ParallelizeLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> fns(module.getOps<func::FuncOp>());
    for (func::FuncOp fn : fns)
      if (!fn.isExternal())
        parallelizeFunction(module, fn);
  }

  void parallelizeFunction(ModuleOp module, func::FuncOp fn) {
    SmallVector<scf::ForOp> marked;
    fn.walk([&](scf::ForOp loop) {
      if (loop->hasAttr(nnc::kParallelAttr)) {
        loop->removeAttr(nnc::kParallelAttr);
        // Still carrying values (not bufferized in place): sequential.
        if (loop.getNumRegionIterArgs() == 0)
          marked.push_back(loop);
      }
    });
    for (scf::ForOp loop : marked) {
      // A marked loop nested in another marked one (never made by the
      // schedule) would start threads from threads: keep the outer.
      if (loop->getParentOfType<scf::ParallelOp>())
        continue;
      if (loop->removeAttr(nnc::kParallelIfThreadsAttr))
        makeParallelIfThreads(loop, maxThreadsFunc(module));
      else
        makeParallel(loop);
    }
    parallelizeElementwise(fn);
  }
};

} // namespace

std::unique_ptr<Pass> nnc::createParallelizeLoopsPass() {
  return std::make_unique<ParallelizeLoopsPass>();
}
