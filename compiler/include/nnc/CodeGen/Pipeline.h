#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LogicalResult.h"
#include "nnc/dsl/Graph.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

struct nnrt_model;

namespace nnc {

// The optimizer compiled into train_step: a row of
// nnc/Optimizers/Optimizers.def and the compiled-in hyperparameters given
// (the others take the table's defaults; the learning rate is not here, it
// is given at run time).
struct OptimizerConfig {
  std::string name = "adam";
  std::map<std::string, double> args;
};

struct CodeGenOptions {
  int64_t batch = 32;
  OptimizerConfig optimizer;
  std::string targetCPU;      // empty: the host CPU and its features
  std::string targetFeatures; // with targetCPU: extra "+avx2,..."; empty: the CPU's own
  // The same model built with one time step (FrontendOptions::overrides of
  // its time parameter): when given, the library gets a `step` entry point.
  const dsl::Graph *stepGraph = nullptr;
  int64_t stepBatch = 1;
  // Stage::Object compiles each kernel apart from the entry points (one
  // unit each: splitIntoUnits), on this many threads, and returns a bundle
  // of their objects (splitObjectBundle; a single object passes through).
  unsigned codegenThreads = 1;
  // Where compiled units are kept by their content key (empty: nowhere), so
  // that a model edited in one layer recompiles only the kernels that
  // changed. Shared by every model and process that uses the directory.
  std::string objectCacheDir;
};

// What the generated nnrt_model table says, computed once from the graph so
// that the object file's table and the C header agree.
struct ModelABI {
  struct Tensor {
    std::string name;
    int role = 0, dtype = 0;
    std::vector<int64_t> shape;
    int64_t offset = 0, size = 0;
  };
  std::string name;   // model name in the .nn file
  std::string prefix; // C symbol prefix: the lower-cased model name
  int64_t batch = 0, numParams = 0, optStateSize = 0;
  // Bytes of the workspace every entry point but init runs on (the memory
  // plan's largest); known once the pipeline has run nnc-plan-memory.
  int64_t workspaceBytes = 0;
  // FLOPs of one predict and one train_step call (batch rows), counted by
  // the compiler (countFlops).
  int64_t predictFlops = 0, trainFlops = 0;
  int optimizer = 0, loss = 0;
  std::vector<Tensor> tensors; // params, inputs, targets, outputs
  bool hasStep = false;
  int64_t stepBatch = 0;
  int64_t stepContext = 0;         // positions a step's key/value cache holds; 0: no limit
  std::vector<Tensor> stepTensors; // step inputs, states, outputs
};

// The model table of an nn module (names from MLIRGen's attributes: the
// model, the parameters, @forward's and @step_forward's arguments and
// results, the loss), for any module `nnc compile --emit=nn` printed. Fails,
// with an error on the module, when it is not such a module.
mlir::FailureOr<ModelABI> describeModule(mlir::ModuleOp module, const CodeGenOptions &opts);

// The stages `nnc compile --emit=` can print, in pipeline order.
// Buffers: bufferized, scheduled and laid out in the workspace (nnc-plan-memory).
enum class Stage { NN, NNTrain, Linalg, Buffers, LLVMDialect, LLVMIR, Asm, Object };

// Runs the pipeline from the checked graph up to `stop`. For a textual stage
// the result is printed to `dump`; for Stage::Object the object file's bytes
// are stored in `object`, and `abi` (when given) receives the table the
// object holds. Errors are reported on stderr with .nn locations.
// `reuse`, when given, sees the nn module's text (Stage::NN, as --emit=nn
// prints it) before anything is lowered: returning true stops the compile
// there, successfully (a cache that holds the object for that text; `abi`
// is already set). The module is generated once whichever it returns.
mlir::LogicalResult compileModel(const dsl::Graph &graph, const CodeGenOptions &opts, Stage stop,
                                 llvm::raw_ostream *dump, llvm::SmallVectorImpl<char> *object,
                                 ModelABI *abi = nullptr,
                                 llvm::function_ref<bool(llvm::StringRef)> reuse = nullptr);
// The same from an nn module in a file (what `nnc compile --emit=nn`
// printed): its batch and the step are those of the module.
mlir::LogicalResult compileModuleFile(const std::string &path, const CodeGenOptions &opts,
                                      Stage stop, llvm::raw_ostream *dump,
                                      llvm::SmallVectorImpl<char> *object, ModelABI *abi = nullptr);

// Sets abi's predictFlops and trainFlops from the module in linalg form.
void countFlops(mlir::ModuleOp module, ModelABI &abi);

// The C header (C99 and C++) declaring the entry points of a compiled model.
std::string writeHeader(const ModelABI &abi);

// Writes a static library holding the objects of a bundle (Stage::Object):
// the entry points as `<prefix>.o`, the kernels as `<prefix>.k<i>.o`.
bool writeStaticLibrary(const std::string &path, const std::string &prefix,
                        llvm::ArrayRef<char> bundle, std::string &error);

// A compiled model loaded into this process (nnc train/predict use this; an
// app links the object instead). Keeps the code alive while it exists.
class LoadedModel {
public:
  virtual ~LoadedModel() = default;
  virtual const nnrt_model *model() const = 0;
};
// Loads one object file or a bundle of them (CodeGenOptions::codegenThreads).
std::unique_ptr<LoadedModel> loadObject(llvm::ArrayRef<char> object, const std::string &prefix,
                                        std::string &error);

// The objects of a bundle, or `blob` itself when it is a single object;
// false when a bundle is cut short or damaged.
bool splitObjectBundle(llvm::ArrayRef<char> blob, std::vector<llvm::ArrayRef<char>> &objects);

} // namespace nnc
