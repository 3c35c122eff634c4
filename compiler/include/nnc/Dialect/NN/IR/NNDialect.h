#pragma once

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "nnc/Dialect/NN/IR/NNDialect.h.inc"
