// fuzz_frontend: a .nn model file through the front end and into MLIR, as
// nnc compile does before lowering: lex, parse (and print the AST), check
// and expand into the graph, then emit the nn dialect module and verify it,
// with the one-step graph of generation (models with cells and a time
// parameter, or attention caches) as nnc builds it. Imports resolve: std.*
// from dsl/std, others relative to examples/ (the input is read as if it
// were examples/fuzz-input.nn, so `import iris.iris` finds a real file).
//
// Every input must end in diagnostics or a module that verifies; an error
// from the front end must name a file:line:col; a file that is not UTF-8
// must not build.
#include "fuzz_util.h"

#include "nnc/Dialect/NN/IR/NNDialect.h"
#include "nnc/MLIRGen/MLIRGen.h"
#include "nnc/dsl/Frontend.h"
#include "nnrt/nnrt.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <memory>
#include <sstream>
#include <string>

using namespace nnc;

namespace {

const char *kFileName = NNC_SOURCE_DIR "/examples/fuzz-input.nn";

void checkDiagnostics(const dsl::DiagnosticEngine &diag, const std::string &source) {
  int lines = 1;
  for (char c : source)
    lines += c == '\n';
  for (const dsl::Diagnostic &d : diag.diagnostics()) {
    // Errors point into a file the user can open: a name, and a line and
    // column in it; only errors about the whole file ("the file defines no
    // model") have neither.
    FUZZ_CHECK(!d.loc.file.empty());
    FUZZ_CHECK(!d.message.empty());
    if (d.severity == dsl::Severity::Note)
      continue;
    FUZZ_CHECK((d.loc.line > 0 && d.loc.col > 0) || (d.loc.line == 0 && d.loc.col == 0));
    if (d.loc.file == kFileName)
      FUZZ_CHECK(d.loc.line <= lines);
  }
  (void)diag.str(); // the formatting with source line and caret
}

// The nn module of a checked graph, verified; MLIR diagnostics are kept
// quiet (the verifier's are bugs, and abort).
void emitModule(const dsl::Graph &g, const dsl::Graph *step) {
  mlir::DialectRegistry registry;
  registry.insert<nn::NNDialect, mlir::func::FuncDialect, mlir::tensor::TensorDialect,
                  mlir::arith::ArithDialect>();
  mlir::MLIRContext ctx(registry, mlir::MLIRContext::Threading::DISABLED);
  std::string errors;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic &d) {
    errors += d.str() + "\n";
    return mlir::success();
  });
  int64_t batch = g.train.present ? g.train.batch : 32;
  mlir::OwningOpRef<mlir::ModuleOp> m = generateNN(ctx, g, batch, step, 1);
  if (!m)
    return; // a construct the compiler cannot generate: reported as an error
  if (mlir::failed(mlir::verify(*m))) {
    fprintf(stderr, "the nn module of a checked graph does not verify:\n%s", errors.c_str());
    abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string source(reinterpret_cast<const char *>(data), size);
  dsl::FrontendOptions fo;
  fo.stdlibDir = NNC_STDLIB_DIR;
  {
    dsl::DiagnosticEngine diag;
    std::ostringstream ast;
    dsl::dumpASTFromSource(source, kFileName, fo, diag, ast);
    checkDiagnostics(diag, source);
  }
  dsl::DiagnosticEngine diag;
  auto g = dsl::buildGraphFromSource(source, kFileName, fo, diag);
  checkDiagnostics(diag, source);
  // a file is UTF-8 text without NUL bytes, comments and strings included
  if (nnrt_utf8_check(nullptr, source.data(), source.size(), nullptr))
    FUZZ_CHECK(!g && diag.hasErrors());
  if (!g) {
    FUZZ_CHECK(diag.hasErrors());
    return 0;
  }
  // nnc's loadStepGraph: the model again, one time step at a time
  std::optional<dsl::Graph> sg;
  bool cells = !g->scans.empty() && !g->timeParam.empty();
  if ((cells || g->usesCache) && g->inputs.size() == 1) {
    dsl::FrontendOptions so = fo;
    if (g->usesCache)
      so.cacheStep = true;
    else
      so.overrides[g->timeParam] = 1;
    dsl::DiagnosticEngine sdiag;
    sg = dsl::buildGraphFromSource(source, kFileName, so, sdiag);
    checkDiagnostics(sdiag, source);
  }
  emitModule(*g, sg ? &*sg : nullptr);
  return 0;
}
