#pragma once

#include "mlir/IR/Dialect.h"

#include "nnc/Dialect/NN/IR/NNDialect.h.inc"
