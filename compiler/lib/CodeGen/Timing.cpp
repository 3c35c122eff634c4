// The process-wide compile-time report behind NNC_TIMING.
#include "nnc/CodeGen/Timing.h"

#include <cstdlib>

namespace nnc {

mlir::TimingScope &compileTiming() {
  // MLIR's timing manager: thread-safe (LLVM's parts nest their timers from
  // their own threads) and printed as a tree when it is destroyed at exit.
  static mlir::DefaultTimingManager manager = [] {
    mlir::DefaultTimingManager m;
    m.setEnabled(std::getenv("NNC_TIMING") != nullptr);
    m.setDisplayMode(mlir::DefaultTimingManager::DisplayMode::Tree);
    return m;
  }();
  static mlir::TimingScope root = manager.getRootScope();
  return root;
}

} // namespace nnc
