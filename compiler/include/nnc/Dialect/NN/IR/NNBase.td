#ifndef NN_BASE_TD
#define NN_BASE_TD

include "mlir/IR/OpBase.td"

def NN_Dialect : Dialect {
  let name = "nn";
  let summary = "Tensor-level neural network ops compiled by nnc";
  let description = [{
    The `nn` dialect holds the models of `.nn` files after name and shape
    checking: trainable parameters as module-level symbols, and pure
    tensor ops (matmul, broadcasting arithmetic, activations, softmax,
    losses) with static shapes. The batch dimension is explicit here.
    Every op knows its vector-Jacobian product through
    `VJPOpInterface`, which the `nn-generate-backward` pass uses.
  }];
  let cppNamespace = "::nnc::nn";
  // Vector-Jacobian products may place a gradient into a sequence.
  let dependentDialects = ["mlir::tensor::TensorDialect"];
  // Folders take a FoldAdaptor (the raw-attributes form is deprecated).
  let useFoldAPI = kEmitFoldAdaptorFolder;
}

class NN_Op<string mnemonic, list<Trait> traits = []>
    : Op<NN_Dialect, mnemonic, traits>;

def NN_F32Tensor : RankedTensorOf<[F32]>;
def NN_I32Tensor : RankedTensorOf<[I32]>;
def NN_F32OrI32Tensor : RankedTensorOf<[F32, I32]>;
def NN_ScalarF32Tensor : 0DTensorOf<[F32]>;

#endif
