// Every op of the nn dialect, a file per family: the one target of
// -gen-op-decls and -gen-op-defs (NNOps.h.inc, NNOps.cpp.inc).
#ifndef NN_OPS_TD
#define NN_OPS_TD

include "nnc/Dialect/NN/IR/NNCoreOps.td"
include "nnc/Dialect/NN/IR/NNArithmeticOps.td"
include "nnc/Dialect/NN/IR/NNLossOps.td"
include "nnc/Dialect/NN/IR/NNTrainingOps.td"
include "nnc/Dialect/NN/IR/NNSequenceOps.td"
include "nnc/Dialect/NN/IR/NNTransformerOps.td"

#endif
