#pragma once
// NNC_TIMING=1: where compile time goes, as one tree printed when nnc exits
// (front end, each MLIR pass, LLVM's -O3 per part, code generation).
#include "mlir/Support/Timing.h"

namespace nnc {

// The root of the tree; a no-op scope unless NNC_TIMING is set.
mlir::TimingScope &compileTiming();

} // namespace nnc
