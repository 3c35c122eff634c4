// Runs the tile loops of large matrix products on several threads.
#include "nnc/Conversion/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace nnc {
#define GEN_PASS_DEF_PARALLELIZELOOPS
#include "nnc/Conversion/Passes.h.inc"
} // namespace nnc

using namespace mlir;

namespace {

struct ParallelizeLoopsPass
    : public nnc::impl::ParallelizeLoopsBase<ParallelizeLoopsPass> {
  void runOnOperation() override {
    SmallVector<scf::ForOp> marked;
    getOperation().walk([&](scf::ForOp loop) {
      if (loop->hasAttr("nnc.parallel")) {
        loop->removeAttr("nnc.parallel");
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
      OpBuilder b(loop);
      auto par = b.create<scf::ParallelOp>(
          loop.getLoc(), ValueRange{loop.getLowerBound()}, ValueRange{loop.getUpperBound()},
          ValueRange{loop.getStep()}, [](OpBuilder &, Location, ValueRange) {});
      Block *body = par.getBody();
      IRMapping map;
      map.map(loop.getInductionVar(), body->getArgument(0));
      OpBuilder inner = OpBuilder::atBlockBegin(body);
      for (Operation &op : loop.getBody()->without_terminator())
        inner.clone(op, map);
      loop.erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> nnc::createParallelizeLoopsPass() {
  return std::make_unique<ParallelizeLoopsPass>();
}
